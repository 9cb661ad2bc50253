//! `datalab site ...`: the static dissemination site, built from released outputs only.

use std::path::PathBuf;

use clap::ValueEnum;
use report::site::Lang;

use crate::ProjectArg;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Build the site: home, indicator pages with charts and tables, territory profiles, the
    /// map of services, reports and open data; static files that work from disk, offline.
    Build(BuildArgs),
}

/// The languages of the site.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LangArg {
    /// Italian only.
    It,
    /// English only.
    En,
    /// Italian at the root, English under `en/`.
    Both,
}

#[derive(clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The folder to write (replaced whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Releases to publish (repeatable; default: every public release).
    #[arg(long = "release")]
    pub releases: Vec<String>,
    /// Languages (default: the project's `languages`, the first at the root).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// The publishing body, for the open data catalogue (default: the project's title).
    #[arg(long)]
    pub publisher: Option<String>,
    /// The publisher's identifier, e.g. its IPA code (default: the project's name).
    #[arg(long)]
    pub publisher_id: Option<String>,
    /// The year of the reports (default: the latest year released).
    #[arg(long)]
    pub year: Option<i32>,
    /// Leave the reports out (the reports page says there are none).
    #[arg(long)]
    pub no_reports: bool,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        Command::Build(a) => build(a, quiet),
    }
}

fn build(a: BuildArgs, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let languages = match a.lang {
        None => Vec::new(),
        Some(LangArg::It) => vec![Lang::It],
        Some(LangArg::En) => vec![Lang::En],
        Some(LangArg::Both) => vec![Lang::It, Lang::En],
    };
    let reports = if a.no_reports {
        Vec::new()
    } else {
        let started = std::time::Instant::now();
        let langs = report::site::languages(&project, &languages);
        let reports = report::site::render_reports(&project, &langs, a.year)?;
        if !quiet {
            eprintln!(
                "{} reports rendered ({} files) in {:.1} s",
                reports.len(),
                reports.iter().map(|r| r.files.len()).sum::<usize>(),
                started.elapsed().as_secs_f64()
            );
        }
        reports
    };
    let opts = report::site::Options {
        releases: a.releases,
        languages,
        reports,
        publisher: a.publisher.unwrap_or_default(),
        publisher_id: a.publisher_id.unwrap_or_default(),
    };
    let built = report::site::build(&project, &a.out, &opts)?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Export,
        "site",
        serde_json::json!({"out": a.out.display().to_string(), "pages": built.pages}),
    )?;
    if !quiet {
        for (what, why) in &built.skipped {
            eprintln!("skipped {what}: {why}");
        }
        eprintln!(
            "site written to {} ({}): {} pages for {} indicators and {} territories, {}; \
             {} open datasets; {} files, {} in all ({} of pages and style, the largest {} with {})",
            a.out.display(),
            built.languages.join(", "),
            built.pages,
            built.indicators,
            built.territories,
            match built.services {
                Some(n) => format!("{n} services on the map"),
                None => "no registry of services".into(),
            },
            built.datasets,
            built.files,
            kb(built.bytes),
            kb(built.page_bytes),
            built.largest_page.0,
            kb(built.largest_page.1),
        );
    }
    Ok(())
}

/// A size in kB (1 kB = 1000 bytes).
fn kb(bytes: u64) -> String {
    format!("{:.0} kB", bytes as f64 / 1000.0)
}
