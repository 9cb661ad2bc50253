//! `datalab audit`: the server's hash-chained audit trail.

use server::store::Store;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check the chain: exit code 1 and where it breaks when an entry was edited, deleted,
    /// inserted or reordered, or the newest entries were cut off.
    Verify(ShowArgs),
    /// Print the trail (oldest first).
    Show(ShowArgs),
}

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::Format,
}

/// The audit trail is broken (exit code 1).
#[derive(Debug)]
pub struct Broken(pub String);

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Broken {}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        Command::Verify(a) => {
            let p = super::load_project(&a.project.project)?;
            let s = server::project_store(&p)?;
            let entries = server::store::all_entries(&s)?;
            match server::audit::verify(&entries, s.head()?.as_ref()) {
                Ok(v) => {
                    match a.format {
                        crate::Format::Json => out!("{}", serde_json::to_string(&v)?),
                        _ => out!("ok: {} entries, head {}", v.entries, v.head),
                    }
                    Ok(())
                }
                Err(b) => Err(Broken(format!("the audit trail is broken: {b}")).into()),
            }
        }
        Command::Show(a) => {
            let p = super::load_project(&a.project.project)?;
            let s = server::project_store(&p)?;
            let entries = server::store::all_entries(&s)?;
            match a.format {
                crate::Format::Json => out!("{}", serde_json::to_string_pretty(&entries)?),
                crate::Format::Csv => {
                    let mut w = csv::Writer::from_writer(std::io::stdout());
                    w.write_record([
                        "seq", "at", "actor", "role", "action", "target", "detail", "hash",
                    ])?;
                    for e in &entries {
                        w.write_record([
                            e.seq.to_string().as_str(),
                            &e.at,
                            &e.actor,
                            &e.role,
                            &e.action,
                            &e.target,
                            &e.detail.to_string(),
                            &e.hash,
                        ])?;
                    }
                    w.flush()?;
                }
                crate::Format::Text => {
                    for e in &entries {
                        out!(
                            "{:>6} {} {:<16} {:<8} {:<24} {}",
                            e.seq,
                            e.at,
                            e.actor,
                            e.role,
                            e.action,
                            e.target
                        );
                    }
                    if !quiet && entries.is_empty() {
                        eprintln!("the audit trail is empty");
                    }
                }
            }
            Ok(())
        }
    }
}
