//! The embedded DataFusion session over the current snapshots, and result formatting.

use crate::error::EngineError;
use crate::warehouse::Warehouse;
use arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::io::Write;
use std::sync::Arc;

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// An aligned text table for people.
    Table,
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// A DataFusion session with every current snapshot registered: source `NAME` as table `NAME`,
/// its quarantine as `quarantine.NAME`.
pub struct Engine {
    ctx: SessionContext,
    tables: Vec<String>,
}

impl Engine {
    /// Registers the warehouse's current snapshots.
    pub async fn open(warehouse: &Warehouse) -> Result<Engine, EngineError> {
        Engine::over(&warehouse.current()?).await
    }

    /// Registers the given snapshots (a build step reads the snapshots it is about to commit).
    pub async fn over(snapshots: &[crate::SnapshotInfo]) -> Result<Engine, EngineError> {
        Engine::over_with(snapshots, None).await
    }

    /// [`Engine::over`] with `partitions` parallel partitions per query (default: the number
    /// of cores). One partition makes floating-point aggregates (`avg`, `sum` of floats)
    /// reproducible to the last bit: rows are always combined in the same order.
    pub async fn over_with(
        snapshots: &[crate::SnapshotInfo],
        partitions: Option<usize>,
    ) -> Result<Engine, EngineError> {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_batch_size(32_768);
        if let Some(n) = partitions {
            config = config.with_target_partitions(n.max(1));
        }
        let ctx = SessionContext::new_with_config(config);
        for f in crate::udf::all() {
            ctx.register_udf(f);
        }
        let quarantine = Arc::new(MemorySchemaProvider::new());
        let mut tables = Vec::new();
        for snap in snapshots {
            let table =
                listing_table(&ctx, &format!("{}/", snap.data_dir().to_string_lossy())).await?;
            ctx.register_table(snap.source.as_str(), table)
                .map_err(|e| {
                    EngineError::Internal(format!("cannot register {}: {e}", snap.source))
                })?;
            if !snap.manifest.quarantine.is_empty() {
                let table = listing_table(
                    &ctx,
                    &format!("{}/", snap.quarantine_dir().to_string_lossy()),
                )
                .await?;
                quarantine
                    .register_table(snap.source.clone(), table)
                    .map_err(|e| {
                        EngineError::Internal(format!(
                            "cannot register quarantine of {}: {e}",
                            snap.source
                        ))
                    })?;
            }
            tables.push(snap.source.clone());
        }
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| EngineError::Internal("default catalog missing".into()))?;
        catalog
            .register_schema("quarantine", quarantine)
            .map_err(|e| {
                EngineError::Internal(format!("cannot register the quarantine schema: {e}"))
            })?;
        Ok(Engine { ctx, tables })
    }

    /// Names of the registered source tables.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// The underlying session, for crates that register more (indicators, views).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs one SQL statement and streams its result batch by batch (for results too big to
    /// collect).
    pub async fn stream(
        &self,
        sql: &str,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream, EngineError> {
        let df = self
            .ctx
            .sql(sql)
            .await
            .map_err(|e| EngineError::Query(clean(&e)))?;
        df.execute_stream()
            .await
            .map_err(|e| EngineError::Query(clean(&e)))
    }

    /// Runs one query and collects its result, refusing anything but a query: no DDL
    /// (`CREATE`, `DROP`), no DML (`INSERT`, `COPY`), no statements (`SET`, `BEGIN`). What
    /// analysts run through the server goes here.
    pub async fn sql_read_only(&self, sql: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let options = datafusion::execution::context::SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = self
            .ctx
            .sql_with_options(sql, options)
            .await
            .map_err(|e| EngineError::Query(clean(&e)))?;
        df.collect()
            .await
            .map_err(|e| EngineError::Query(clean(&e)))
    }

    /// Runs one SQL statement and collects its result.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let df = self
            .ctx
            .sql(sql)
            .await
            .map_err(|e| EngineError::Query(clean(&e)))?;
        df.collect()
            .await
            .map_err(|e| EngineError::Query(clean(&e)))
    }
}

async fn listing_table(ctx: &SessionContext, path: &str) -> Result<Arc<ListingTable>, EngineError> {
    let url = ListingTableUrl::parse(path)
        .map_err(|e| EngineError::Internal(format!("bad path {path}: {e}")))?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let state = ctx.state();
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .infer_schema(&state)
        .await
        .map_err(|e| EngineError::Internal(format!("cannot read snapshot {path}: {e}")))?;
    let table = ListingTable::try_new(config)
        .map_err(|e| EngineError::Internal(format!("cannot open snapshot {path}: {e}")))?;
    Ok(Arc::new(table))
}

fn clean(e: &datafusion::error::DataFusionError) -> String {
    let s = e.to_string();
    let s = s
        .trim_start_matches("Error during planning: ")
        .trim_start_matches("SQL error: ")
        .trim_start_matches("Schema error: ");
    s.to_string()
}

/// Writes query results to `out` in the chosen format.
pub fn write_batches(
    batches: &[RecordBatch],
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), EngineError> {
    let io = |e: std::io::Error| EngineError::io("<stdout>", &e);
    match format {
        OutputFormat::Table => {
            let table = arrow::util::pretty::pretty_format_batches(batches)
                .map_err(|e| EngineError::Internal(format!("cannot format the result: {e}")))?;
            writeln!(out, "{table}").map_err(io)?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            writeln!(out, "{rows} row{}", if rows == 1 { "" } else { "s" }).map_err(io)?;
        }
        OutputFormat::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            for b in batches {
                writer
                    .write(b)
                    .map_err(|e| EngineError::Internal(format!("cannot write csv: {e}")))?;
            }
        }
        OutputFormat::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut *out);
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            writer
                .write_batches(&refs)
                .map_err(|e| EngineError::Internal(format!("cannot write json: {e}")))?;
            writer
                .finish()
                .map_err(|e| EngineError::Internal(format!("cannot write json: {e}")))?;
            writeln!(out).map_err(io)?;
        }
    }
    Ok(())
}
