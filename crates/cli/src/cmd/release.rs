//! `datalab release NAME`: run the disclosure gate over a release's outputs; approve what waits
//! for an output checker.

use crate::ProjectArg;
use disclosure::release::{self, Options, Status};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The release (its spec is `releases/NAME.toml`); omit it to list the releases.
    pub name: Option<String>,
    /// Approve this output of the release as an output checker (its content as last staged).
    #[arg(long, value_name = "OUTPUT", requires = "name")]
    pub approve: Option<String>,
    /// A note kept with the approval.
    #[arg(long, requires = "approve")]
    pub note: Option<String>,
    /// Who releases or approves (default: DATALAB_USER, then USER).
    #[arg(long)]
    pub by: Option<String>,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let Some(name) = args.name else {
        for n in project::release::list(&project.root)? {
            let state = if project
                .root
                .join("releases")
                .join(&n)
                .join("release.json")
                .is_file()
            {
                "released"
            } else {
                "not released"
            };
            println!("{n:<30} {state}");
        }
        return Ok(());
    };
    let by = crate::env::user(args.by);
    let at = engine::now();
    if let Some(output) = args.approve {
        let a = release::approve(&project, &name, &output, &by, args.note.as_deref(), &at)?;
        crate::audit::record_in(
            &project,
            &by,
            server::audit::Action::Approval,
            &format!("{name}/{}", a.output),
            serde_json::json!({"content": a.content, "note": a.note}),
        )?;
        if !quiet {
            eprintln!(
                "approved `{}` of release `{name}` (content {}) by {}; run `datalab release {name}` to release it",
                a.output,
                &a.content[..12],
                a.checker
            );
        }
        return Ok(());
    }
    let report = release::run(
        &project,
        &name,
        &Options {
            released_by: by.clone(),
            at,
        },
    )?;
    let (status, pending) = match &report.status {
        Status::Released => ("released", Vec::new()),
        Status::Waiting(p) => ("waiting", p.iter().map(|p| p.output.clone()).collect()),
    };
    crate::audit::record_in(
        &project,
        &by,
        server::audit::Action::Release,
        &name,
        serde_json::json!({"status": status, "pending": pending}),
    )?;
    match report.status {
        Status::Released => {
            if !quiet {
                let log = &report.log;
                for o in &log.outputs {
                    eprintln!(
                        "  {:<28} {:>7} rows  {:<12} {}{}",
                        o.name,
                        o.rows,
                        o.method,
                        if o.primary + o.secondary > 0 {
                            format!(
                                "{} primary, {} secondary suppressions",
                                o.primary, o.secondary
                            )
                        } else {
                            String::new()
                        },
                        if o.checked == "approved" {
                            format!(
                                "approved by {}",
                                o.approval.as_ref().map_or("", |a| a.checker.as_str())
                            )
                        } else {
                            String::new()
                        }
                    );
                }
                eprintln!(
                    "attacker: {} suppressed cells in {} frames, {} breaches",
                    log.attack.suppressed_cells, log.attack.frames, log.attack.breaches
                );
                eprintln!("released to {}", report.dir.display());
            }
            println!("{}", report.dir.display());
            Ok(())
        }
        Status::Waiting(pending) => {
            let mut msg =
                format!("release `{name}` waits for an output checker; nothing was released:");
            for p in &pending {
                msg.push_str(&format!(
                    "\n  {}: {}\n    review {} then run `datalab release {name} --approve {}`",
                    p.output,
                    p.reason,
                    p.staged.display(),
                    p.output
                ));
            }
            Err(anyhow::anyhow!(msg))
        }
    }
}
