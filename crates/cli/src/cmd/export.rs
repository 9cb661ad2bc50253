//! `datalab export ...`: publications built from released outputs only.

use std::path::PathBuf;

use crate::ProjectArg;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// The public releases as open data: CSV, JSON and SDMX-CSV per output, the SDMX structure
    /// (codelists, data structures, dataflows) and a DCAT-AP_IT catalogue for a CKAN portal.
    Opendata(OpendataArgs),
    /// Data packs for district planning (Piani di Zona): per district, the released indicators
    /// and tables of the district, its zones and the municipality, needs against the registry's
    /// supply, the registry's services there, as CSV, XLSX and a Frictionless data package with
    /// a README in Italian.
    Datapacks(DatapacksArgs),
}

#[derive(clap::Args)]
pub struct OpendataArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The folder to write (replaced whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Releases to publish (repeatable; default: every public release).
    #[arg(long = "release")]
    pub releases: Vec<String>,
    /// The publishing body (default: the project's title).
    #[arg(long)]
    pub publisher: Option<String>,
    /// The publisher's identifier, e.g. its IPA code (default: the project's name).
    #[arg(long)]
    pub publisher_id: Option<String>,
    /// Where the files will be served (default: IRIs relative to the catalogue).
    #[arg(long)]
    pub base_url: Option<String>,
    /// The contact point's e-mail (an office's address).
    #[arg(long)]
    pub contact_email: Option<String>,
}

#[derive(clap::Args)]
pub struct DatapacksArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The folder to write, one subfolder per district (replaced whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Releases to draw on (repeatable; default: every public release).
    #[arg(long = "release")]
    pub releases: Vec<String>,
    /// Districts to pack, by code (repeatable; default: every district).
    #[arg(long = "district")]
    pub districts: Vec<String>,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        Command::Opendata(a) => opendata(a, quiet),
        Command::Datapacks(a) => datapacks(a, quiet),
    }
}

fn datapacks(a: DatapacksArgs, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let opts = report::datapack::Options {
        releases: a.releases,
        districts: a.districts,
        ..Default::default()
    };
    let done = report::datapack::export(&project, &a.out, &opts)?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Export,
        "datapacks",
        serde_json::json!({"out": a.out.display().to_string(), "packs": done.packs.len()}),
    )?;
    if !quiet {
        for (what, why) in &done.skipped {
            eprintln!("skipped {what}: {why}");
        }
        for p in &done.packs {
            eprintln!(
                "{}: {} indicator values, {} services",
                p.folder, p.indicator_rows, p.services
            );
        }
        let registry = match (&done.registry, done.has_registry) {
            (Some(date), _) => format!("registry as of {date}"),
            (None, true) => "registry without dates".to_string(),
            (None, false) => format!(
                "no registry ({}): supply and registry extracts left out",
                project.root.join(report::datapack::REGISTRY_FILE).display()
            ),
        };
        eprintln!(
            "{} data packs written to {} (CSV, dati.xlsx, datapackage.json, README.md); {registry}",
            done.packs.len(),
            a.out.display()
        );
    }
    Ok(())
}

fn opendata(a: OpendataArgs, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let base_url = a
        .base_url
        .map(|b| if b.ends_with('/') { b } else { format!("{b}/") });
    let opts = report::opendata::Options {
        releases: a.releases,
        publisher: a.publisher.unwrap_or_else(|| project.config.title.clone()),
        publisher_id: a
            .publisher_id
            .unwrap_or_else(|| project.config.name.clone()),
        base_url,
        contact_email: a.contact_email,
    };
    let done = report::opendata::export(&project, &a.out, &opts)?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Export,
        "opendata",
        serde_json::json!({"out": a.out.display().to_string(), "datasets": done.datasets.len()}),
    )?;
    if !quiet {
        for (what, why) in &done.skipped {
            eprintln!("skipped {what}: {why}");
        }
        eprintln!(
            "{} datasets ({} rows) written to {}: csv/, json/, sdmx/ (with structure.xml), \
             catalog.jsonld",
            done.datasets.len(),
            done.datasets.iter().map(|d| d.rows).sum::<usize>(),
            a.out.display()
        );
    }
    Ok(())
}
