//! `datalab attack DIR...`: the attacker over released folders (exit code 1 on any breach).

use crate::Format;
use disclosure::release;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Release folders (`PROJECT/releases/NAME`), attacked together.
    #[arg(required = true)]
    pub releases: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// The attacker broke the protection of at least one cell.
#[derive(Debug)]
pub struct Breached(pub usize);

impl std::fmt::Display for Breached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the attacker narrowed {} suppressed cells below their required protection",
            self.0
        )
    }
}

impl std::error::Error for Breached {}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let report = release::attack(&args.releases)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv | Format::Text => {
            for b in &report.breaches {
                let codes: Vec<String> = b.codes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "breach\t{}\t{}\t[{}, {}]{}",
                    b.frame,
                    codes.join(","),
                    b.interval.lower,
                    b.interval.upper,
                    match (b.value, b.required) {
                        (Some(v), Some(r)) =>
                            format!("\tvalue {v}, needs [{}, {}]", v - r.lower, v + r.upper),
                        _ => String::new(),
                    }
                );
            }
        }
    }
    if !quiet {
        eprintln!(
            "attacked {} ({} frames, {} suppressed cells{}): {} breaches",
            report.releases.join(" + "),
            report.frames,
            report.suppressed_cells,
            if report.lab_side {
                ", with the lab-side records"
            } else {
                ", published files only"
            },
            report.breaches.len()
        );
    }
    if report.breaches.is_empty() {
        Ok(())
    } else {
        Err(Breached(report.breaches.len()).into())
    }
}
