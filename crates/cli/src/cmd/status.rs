use crate::{Format, ProjectArg};
use ingest::SourceState;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let lines = ingest::status(&project)?;
    let last_build = engine::Warehouse::open_existing(&project.data_dir())?
        .map(|w| w.last_build())
        .transpose()?
        .flatten();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "project": project.config.name,
                "root": project.root,
                "last_build": last_build.as_ref().map(|b| serde_json::json!({"id": b.id, "finished_at": b.finished_at})),
                "sources": lines,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Csv => {
            println!(
                "source,state,snapshot_id,rows_in,rows_loaded,rows_quarantined,period_min,period_max"
            );
            for s in &lines {
                println!(
                    "{},{},{},{},{},{},{},{}",
                    s.source,
                    state_word(&s.state),
                    s.snapshot_id.as_deref().unwrap_or(""),
                    s.rows_in,
                    s.rows_loaded,
                    s.rows_quarantined,
                    s.period_min.as_deref().unwrap_or(""),
                    s.period_max.as_deref().unwrap_or("")
                );
            }
        }
        Format::Text => {
            println!(
                "project {} ({})",
                project.config.name,
                project.root.display()
            );
            match &last_build {
                Some(b) => println!("last build #{} at {}", b.id, b.finished_at),
                None => println!("never built: run `datalab build`"),
            }
            println!(
                "\n{:<16} {:<11} {:<20} {:>11} {:>11} {:>11}  period",
                "source", "state", "snapshot", "rows in", "loaded", "quarantined"
            );
            for s in &lines {
                let period = match (&s.period_min, &s.period_max) {
                    (Some(a), Some(b)) if a == b => a.clone(),
                    (Some(a), Some(b)) => format!("{a} .. {b}"),
                    _ => String::new(),
                };
                println!(
                    "{:<16} {:<11} {:<20} {:>11} {:>11} {:>11}  {}",
                    s.source,
                    state_word(&s.state),
                    s.snapshot_id.as_deref().unwrap_or("-"),
                    crate::fmt::int(s.rows_in),
                    crate::fmt::int(s.rows_loaded),
                    crate::fmt::int(s.rows_quarantined),
                    period
                );
                match &s.state {
                    SourceState::Stale(why) | SourceState::Broken(why) => {
                        println!("{:<16} {}", "", why.lines().next().unwrap_or(""))
                    }
                    _ => {}
                }
                if !s.quarantine_reasons.is_empty() {
                    let r: Vec<String> = s
                        .quarantine_reasons
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect();
                    println!("{:<16} quarantine by rule: {}", "", r.join(", "));
                }
            }
        }
    }
    Ok(())
}

fn state_word(s: &SourceState) -> &'static str {
    match s {
        SourceState::UpToDate => "up to date",
        SourceState::NeverBuilt => "never built",
        SourceState::Stale(_) => "stale",
        SourceState::Broken(_) => "broken",
        SourceState::Orphan => "orphan",
    }
}
