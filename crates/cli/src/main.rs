//! The `datalab` binary: argument parsing and wiring. The work lives in the library crates.
//!
//! Exit codes: 0 success; 1 the work failed or found a problem (a machine or datalab failure);
//! 2 usage or input error (bad arguments, a mistake in the project, an unreadable input file,
//! a wrong query).

mod audit;
mod cmd;
mod custodian;
mod env;
mod fmt;
mod guard;
mod progress;
mod registry_step;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// datalab: a welfare data lab. It turns a city's scattered administrative records into a
/// privacy-safe knowledge base for welfare policy.
///
/// A lab is a project folder (`datalab.toml`, `sources/*.toml`, ...). Start with
/// `datalab demo` to see the whole pipeline on a synthetic city, or `datalab init DIR`
/// to create your own project.
#[derive(Parser)]
#[command(
    name = "datalab",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// Print only results and errors: no progress bars, no summaries (for scripts).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new lab project folder with a sample source that builds at once.
    Init(cmd::init::Args),
    /// Generate the synthetic city: raw sources with identifiers (custodian/), pseudonymized by
    /// the custodian step into a lab project (lab/), and the truth behind them (truth/).
    Synth(cmd::synth::Args),
    /// Ingest every source whose files or spec changed into new warehouse snapshots.
    Build(cmd::build::Args),
    /// Show sources, their current snapshots, row and quarantine counts, and what is stale.
    Status(cmd::status::Args),
    /// Run SQL over the current snapshots (tables are named after sources; rejected rows are
    /// in `quarantine.SOURCE`).
    Query(cmd::query::Args),
    /// Run the whole pipeline on a freshly generated synthetic city and show what it found.
    Demo(cmd::demo::Args),
    /// Custodian: make, rotate, inspect and share the pseudonymization key.
    Key(cmd::key::Args),
    /// Custodian: turn a raw source into pseudonymized Parquet for the lab, keeping the lookup
    /// table (pseudonym -> identifier) at the custodian.
    Pseudonymize(cmd::pseudonymize::Args),
    /// Custodian: turn the lab's outreach list of pseudonyms into people to contact (needs the
    /// key and the lookup tables; every run is audited).
    Reidentify(cmd::reidentify::Args),
    /// Indicators: list them, compare territories (benchmark), needs vs supply.
    Indicators(cmd::indicators::Args),
    /// Forecast an indicator series of the cube (ETS, Theta, naive; intervals; backtests).
    Forecast(cmd::forecast::Args),
    /// Look for direct identifiers in files (exit code 1 when found).
    Scan(cmd::scan::Args),
    /// Lab: write a list of pseudonyms selected by SQL, with its purpose, for the custodian.
    Outreach(cmd::outreach::Args),
    /// Population projection by single age, sex and zone (cohort-component) for a scenario
    /// (`projections/NAME.toml`), with its components of change and projected demand.
    Projection(cmd::projection::Args),
    /// Run the disclosure gate over a release (`releases/NAME.toml`) and write what may leave
    /// the lab to `releases/NAME/`, with its log; approve outputs as an output checker.
    Release(cmd::release::Args),
    /// Attack released folders together: the interval an outsider can derive for every
    /// suppressed cell (exit code 1 when a protection fails).
    Attack(cmd::attack::Args),
    /// The registry of providers and services, programmes and projects: import, export,
    /// checks, classification tables, network, overlaps, needs vs supply.
    Registry(cmd::registry::Args),
    /// Publications from released outputs only: open data (CSV, JSON, SDMX-CSV, DCAT-AP_IT).
    Export(cmd::export::Args),
    /// A report from the project's templates (`reports/`), rendered from public releases to
    /// PDF or HTML, in Italian or English.
    Report(cmd::report::Args),
    /// The static dissemination site from released outputs only: indicators with charts and
    /// maps, territory profiles, the map of services, reports and open data, in Italian and
    /// English, working from disk.
    Site(cmd::site::Args),
    /// Microsimulation of benefit rules (`simulations/`) on the household microdata: a
    /// scenario against its baseline, through the disclosure gate; a household's trace
    /// (lab-side); the non-take-up list for the custodian.
    Simulate(cmd::simulate::Args),
    /// Serve the HTTP API (OpenAPI at /api/openapi.json) and the dashboard over a project.
    Serve(cmd::serve::Args),
    /// The server's local accounts: add, list, password, disable, enable, API tokens.
    User(cmd::user::Args),
    /// The hash-chained audit trail: verify it (exit code 1 when broken) or show it.
    Audit(cmd::audit::Args),
    /// List the environment variables datalab reads.
    Env,
}

/// Where a project is, for commands that work on one.
#[derive(clap::Args, Clone)]
pub struct ProjectArg {
    /// The lab project folder.
    #[arg(short, long, env = "DATALAB_PROJECT", default_value = ".")]
    pub project: PathBuf,
}

/// Output format for data printed to stdout.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for people.
    Text,
    /// CSV with a header row.
    Csv,
    /// JSON.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Init(a) => cmd::init::run(a, quiet),
        Command::Synth(a) => cmd::synth::run(a, quiet),
        Command::Build(a) => cmd::build::run(a, quiet),
        Command::Status(a) => cmd::status::run(a),
        Command::Query(a) => cmd::query::run(a),
        Command::Demo(a) => cmd::demo::run(a, quiet),
        Command::Key(a) => cmd::key::run(a, quiet),
        Command::Pseudonymize(a) => cmd::pseudonymize::run(a, quiet),
        Command::Reidentify(a) => cmd::reidentify::run(a, quiet),
        Command::Indicators(a) => cmd::indicators::run(a),
        Command::Forecast(a) => cmd::forecast::run(a, quiet),
        Command::Scan(a) => cmd::scan::run(a, quiet),
        Command::Outreach(a) => cmd::outreach::run(a, quiet),
        Command::Projection(a) => cmd::projection::run(a, quiet),
        Command::Release(a) => cmd::release::run(a, quiet),
        Command::Attack(a) => cmd::attack::run(a, quiet),
        Command::Registry(a) => cmd::registry::run(a, quiet),
        Command::Export(a) => cmd::export::run(a, quiet),
        Command::Report(a) => cmd::report::run(a, quiet),
        Command::Site(a) => cmd::site::run(a, quiet),
        Command::Simulate(a) => cmd::simulate::run(a, quiet),
        Command::Serve(a) => cmd::serve::run(a, quiet),
        Command::User(a) => cmd::user::run(a, quiet),
        Command::Audit(a) => cmd::audit::run(a, quiet),
        Command::Env => {
            for v in env::ALL {
                println!("{:<18} {}", v.name, v.doc);
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 when the user's input is at fault, 1 otherwise.
fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<project::ProjectError>().is_some() {
            return 2;
        }
        if let Some(i) = cause.downcast_ref::<ingest::IngestError>() {
            return if i.is_input_error() { 2 } else { 1 };
        }
        if let Some(engine::EngineError::Query(_)) = cause.downcast_ref::<engine::EngineError>() {
            return 2;
        }
        if let Some(r) = cause.downcast_ref::<disclosure::release::ReleaseError>() {
            return if r.is_input() { 2 } else { 1 };
        }
        if let Some(r) = cause.downcast_ref::<report::ReportError>() {
            return if r.is_input() { 2 } else { 1 };
        }
        if let Some(r) = cause.downcast_ref::<registry::RegistryError>() {
            return if r.is_input() { 2 } else { 1 };
        }
        if let Some(r) = cause.downcast_ref::<registry::programme::ProgrammeError>() {
            return if r.is_input() { 2 } else { 1 };
        }
        if let Some(p) = cause.downcast_ref::<forecast::projection::ProjectionError>() {
            return if p.is_input() { 2 } else { 1 };
        }
        if cause.downcast_ref::<cmd::UsageError>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<pseudo::keys::KeyError>().is_some() {
            return 2;
        }
    }
    1
}
