//! `datalab user`: local accounts of the server (the password from a pipe, the terminal or
//! `DATALAB_PASSWORD`).

use model::Role;
use server::store::Store;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account.
    Add(AddArgs),
    /// List the accounts.
    List(ListArgs),
    /// Set a new password (read like `add`'s); the account's sessions end.
    Password(NameArgs),
    /// Disable an account; its sessions end and its API tokens stop working.
    Disable(NameArgs),
    /// Enable a disabled account.
    Enable(NameArgs),
    /// Create an API token for an account (printed once, on stdout).
    Token(TokenArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    /// The account's name (letters, digits, `.`, `_`, `-`, `@`).
    pub name: String,
    /// partner, analyst, checker (output checker) or admin.
    #[arg(long)]
    pub role: String,
    /// For partners: the body they belong to (as in the sources' `holder`).
    #[arg(long)]
    pub organization: Option<String>,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub project: crate::ProjectArg,
}

#[derive(clap::Args)]
pub struct NameArgs {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    pub name: String,
}

#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    pub name: String,
    /// What the token is for.
    #[arg(long)]
    pub label: String,
}

fn store(
    project: &crate::ProjectArg,
) -> anyhow::Result<(project::Project, server::store::SqliteStore)> {
    let p = super::load_project(&project.project)?;
    let s = server::project_store(&p)?;
    Ok((p, s))
}

fn usage(e: server::store::StoreError) -> anyhow::Error {
    match e {
        server::store::StoreError::Conflict(m) => super::UsageError(m).into(),
        e => e.into(),
    }
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let now = server::auth::rfc3339(chrono::Utc::now());
    let actor = crate::env::user(None);
    match args.command {
        Command::Add(a) => {
            let role = Role::parse(&a.role).ok_or_else(|| {
                super::UsageError(format!(
                    "role `{}`: use partner, analyst, checker or admin",
                    a.role
                ))
            })?;
            let (_, s) = store(&a.project)?;
            let password = crate::env::password(&format!("the new account `{}`", a.name))?;
            let u = server::auth::add_user(
                &s,
                &a.name,
                role,
                a.organization.as_deref(),
                &password,
                &now,
            )
            .map_err(usage)?;
            crate::audit::record(
                &s,
                &actor,
                server::audit::Action::UserAdded,
                &u.name,
                serde_json::json!({"role": u.role}),
            )?;
            if !quiet {
                eprintln!("added {} ({})", u.name, u.role);
            }
        }
        Command::List(a) => {
            let (_, s) = store(&a.project)?;
            for u in s.users()? {
                out!(
                    "{:<24} {:<8} {:<24} {}{}",
                    u.name,
                    u.role,
                    u.organization.as_deref().unwrap_or("-"),
                    u.created,
                    if u.disabled { "  disabled" } else { "" }
                );
            }
        }
        Command::Password(a) => {
            let (_, s) = store(&a.project)?;
            let password = crate::env::password(&format!("`{}`", a.name))?;
            server::auth::check_new_account(&a.name, &password).map_err(super::UsageError)?;
            s.update_user(
                &a.name,
                Some(&server::auth::hash_password(&password)),
                None,
                None,
            )
            .map_err(usage)?;
            s.delete_sessions_of(&a.name)?;
            crate::audit::record(
                &s,
                &actor,
                server::audit::Action::UserChanged,
                &a.name,
                serde_json::json!({"password": true}),
            )?;
        }
        Command::Disable(a) => set_disabled(&a, true, &actor)?,
        Command::Enable(a) => set_disabled(&a, false, &actor)?,
        Command::Token(a) => {
            let (_, s) = store(&a.project)?;
            if s.user(&a.name)?.is_none() {
                return Err(super::UsageError(format!("no user `{}`", a.name)).into());
            }
            let (secret, record) = server::auth::new_api_token(&a.name, &a.label, &now);
            s.add_token(&record)?;
            crate::audit::record(
                &s,
                &actor,
                server::audit::Action::TokenCreated,
                &record.id,
                serde_json::json!({"user": a.name, "label": a.label}),
            )?;
            out!("{secret}");
            if !quiet {
                eprintln!(
                    "token {} for {}: send it as `Authorization: Bearer TOKEN`; it is shown only now",
                    record.id, a.name
                );
            }
        }
    }
    Ok(())
}

fn set_disabled(a: &NameArgs, disabled: bool, actor: &str) -> anyhow::Result<()> {
    let (_, s) = store(&a.project)?;
    s.update_user(&a.name, None, None, Some(disabled))
        .map_err(usage)?;
    s.delete_sessions_of(&a.name)?;
    crate::audit::record(
        &s,
        actor,
        server::audit::Action::UserChanged,
        &a.name,
        serde_json::json!({"disabled": disabled}),
    )?;
    Ok(())
}
