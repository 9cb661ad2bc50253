use crate::{Format, ProjectArg};
use engine::{Engine, OutputFormat, Warehouse};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The SQL statement, e.g. "SELECT zone, COUNT(*) FROM register GROUP BY zone".
    pub sql: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let batches = query(&project, &args.sql)?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Query,
        &blake3::hash(args.sql.as_bytes()).to_hex()[..16],
        serde_json::json!({"sql": args.sql}),
    )?;
    let format = match args.format {
        Format::Text => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
    };
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::new(stdout.lock());
    engine::write_batches(&batches, format, &mut lock)?;
    Ok(())
}

/// Runs SQL over the project's current snapshots.
/// The project's warehouse, or a usage error telling to build it first.
pub fn built_warehouse(project: &project::Project) -> anyhow::Result<Warehouse> {
    Warehouse::open_existing(&project.data_dir())?.ok_or_else(|| {
        super::UsageError(format!(
            "{} has never been built: run `datalab build --project {}` first",
            project.root.display(),
            project.root.display()
        ))
        .into()
    })
}

pub fn query(
    project: &project::Project,
    sql: &str,
) -> anyhow::Result<Vec<arrow_batch::RecordBatch>> {
    let wh = built_warehouse(project)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let engine = Engine::open(&wh).await?;
        indicators::udaf::register(engine.context());
        Ok(engine.sql(sql).await?)
    })
}

pub mod arrow_batch {
    pub use engine::RecordBatch;
}
