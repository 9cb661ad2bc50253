use crate::{Format, ProjectArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Re-ingest every source, even unchanged ones.
    #[arg(long)]
    pub force: bool,
    /// Sources ingested in parallel (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the build report to stdout in this format (text goes to stderr).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let report = build(&project, args.force, args.jobs, quiet)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => {
            println!("source,action,snapshot_id,rows_in,rows_loaded,rows_quarantined,seconds");
            for s in &report.sources {
                println!(
                    "{},{},{},{},{},{},{:.3}",
                    s.source,
                    serde_json::to_value(s.action)?.as_str().unwrap_or_default(),
                    s.snapshot_id,
                    s.rows_in,
                    s.rows_loaded,
                    s.rows_quarantined,
                    s.seconds
                );
            }
        }
        Format::Text => {}
    }
    Ok(())
}

/// Builds with progress bars and prints the accounting to stderr.
pub fn build(
    project: &project::Project,
    force: bool,
    jobs: Option<usize>,
    quiet: bool,
) -> anyhow::Result<ingest::BuildReport> {
    let models = std::sync::Arc::new(indicators::Models::new(project, force));
    let cube = std::sync::Arc::new(
        indicators::Cube::new(project, force)
            .with_forecaster(std::sync::Arc::new(forecast::ts::Methods)),
    );
    let mut opts = ingest::BuildOptions {
        force,
        guard: Some(std::sync::Arc::new(crate::guard::ScanGuard)),
        derive: vec![
            std::sync::Arc::new(crate::registry_step::RegistryTables::new(&project.root)),
            std::sync::Arc::new(link::Linker::new(project)),
            models.clone(),
            cube.clone(),
        ],
        ..Default::default()
    };
    if let Some(j) = jobs {
        opts.jobs = j.max(1);
    }
    let bars = crate::progress::BuildBars::new(quiet);
    let report = ingest::build(project, &opts, &bars)?;
    let skipped: Vec<indicators::Skipped> =
        models.skipped().into_iter().chain(cube.skipped()).collect();
    if !skipped.is_empty() {
        let mut missing: Vec<&str> = skipped
            .iter()
            .flat_map(|s| s.missing.iter().map(|m| m.as_str()))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        eprintln!(
            "note: {} model and indicator definitions wait for tables not in the warehouse: {} (declare these sources)",
            skipped.len(),
            missing.join(", ")
        );
        if !quiet {
            for s in skipped.iter().take(8) {
                eprintln!("  {}: needs {}", s.file, s.missing.join(", "));
            }
            if skipped.len() > 8 {
                eprintln!("  ... and {} more", skipped.len() - 8);
            }
        }
    }
    if !quiet {
        let sources: Vec<&ingest::SourceReport> =
            report.sources.iter().filter(|s| !s.derived).collect();
        let derived: Vec<&ingest::SourceReport> =
            report.sources.iter().filter(|s| s.derived).collect();
        let (i, l, q) = sources.iter().fold((0, 0, 0), |(i, l, q), s| {
            (i + s.rows_in, l + s.rows_loaded, q + s.rows_quarantined)
        });
        let built = sources
            .iter()
            .filter(|s| s.action == ingest::Action::Built)
            .count();
        let mut links = String::new();
        for (what, tables) in [
            (
                "link tables",
                vec![link::RECORDS, link::HOUSEHOLDS, link::QUALITY],
            ),
            (
                "models",
                project.models.iter().map(|m| m.name.as_str()).collect(),
            ),
            ("cube", vec![indicators::CUBE]),
        ] {
            let done: Vec<&&ingest::SourceReport> = derived
                .iter()
                .filter(|s| tables.contains(&s.source.as_str()))
                .collect();
            if done.is_empty() {
                continue;
            }
            let built = done
                .iter()
                .filter(|s| s.action == ingest::Action::Built)
                .count();
            links.push_str(&match (what, built) {
                (_, 0) => format!("; {what} unchanged"),
                ("models", n) => format!("; {n} of {} models recomputed", done.len()),
                (_, _) => format!("; {what} recomputed"),
            });
        }
        eprintln!(
            "{} source{}, {} built: {} rows in = {} loaded + {} quarantined{links} ({:.2}s){}",
            sources.len(),
            if sources.len() == 1 { "" } else { "s" },
            built,
            crate::fmt::int(i),
            crate::fmt::int(l),
            crate::fmt::int(q),
            report.seconds,
            if report.build_id.is_none() {
                "; nothing changed"
            } else {
                ""
            }
        );
    }
    Ok(report)
}
