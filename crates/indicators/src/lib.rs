//! Indicators: from warehouse tables to the cube of values by territory, period and breakdown.
//!
//! `indicators` owns two build steps and what reads their result:
//! - [`Models`]: the project's `models/*.sql`, each a query over sources, link tables and other
//!   models, materialized as a derived snapshot (person- and household-level tables such as
//!   `residents`), recomputed only when its SQL or an input snapshot changed;
//! - [`Cube`]: every indicator of `indicators/*.toml` for every territory level, period and
//!   breakdown into the `cube` table (plus the `indicators` and `territories` metadata
//!   tables). Each indicator is stored as its own file keyed by a fingerprint of its
//!   definition and inputs, so editing one indicator recomputes only that one, and an
//!   incremental build gives the same bytes as a full one;
//!   With `[forecast]` in `datalab.toml`, the cube also holds forecasts of its series for the
//!   periods after the last observed one, flagged (`forecast` is true, `model` names the model)
//!   and coherent across the territory hierarchy where the observations are ([`forecast`]; the
//!   methods are plugged in by the binary as a [`Forecaster`]);
//! - [`benchmark`] (ranks, funnel-plot limits) and needs vs supply read the cube.
//!
//! It must not know how sources are read (that is `ingest`) or how pseudonyms are made; it never
//! decides what may leave the lab (that is `disclosure`): the cube is lab-side data.
//!
//! Extension points: aggregate functions for indicator SQL live in [`udaf`]; statistical
//! formulas in [`stats`], each with its reference and a test.

pub mod benchmark;
pub mod compare;
mod cube;
pub mod forecast;
mod models;
pub mod stats;
pub mod udaf;

pub use cube::{CUBE, CUBE_VERSION, Cube, INDICATORS, TERRITORIES, Timing};
pub use forecast::Forecaster;
pub use models::{MODELS_VERSION, Models, Skipped, table_references};

use ingest::IngestError;

/// A build-step error; `input` says whether the project (a definition) is at fault.
pub(crate) fn step_err(step: &str, input: bool, message: impl std::fmt::Display) -> IngestError {
    IngestError::Step {
        step: step.into(),
        message: message.to_string(),
        input,
    }
}

/// A tokio runtime for a build step (DataFusion is async).
pub(crate) fn runtime(step: &str) -> Result<tokio::runtime::Runtime, IngestError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| step_err(step, false, e))
}

/// Writes a stream of batches as one Parquet file (an empty result still gets the schema).
pub(crate) async fn write_stream(
    path: &std::path::Path,
    mut stream: datafusion::physical_plan::SendableRecordBatchStream,
    step: &str,
) -> Result<u64, IngestError> {
    use futures::StreamExt;
    let file = std::fs::File::create(path)
        .map_err(|e| step_err(step, false, format!("{}: {e}", path.display())))?;
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, stream.schema(), Some(props()))
        .map_err(|e| step_err(step, false, e))?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| step_err(step, true, e))?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(|e| step_err(step, false, e))?;
    }
    writer.close().map_err(|e| step_err(step, false, e))?;
    Ok(rows)
}

/// Writes batches as one Parquet file.
pub(crate) fn write_batches(
    path: &std::path::Path,
    schema: arrow::datatypes::SchemaRef,
    batches: &[arrow::record_batch::RecordBatch],
    step: &str,
) -> Result<(), IngestError> {
    let file = std::fs::File::create(path)
        .map_err(|e| step_err(step, false, format!("{}: {e}", path.display())))?;
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, Some(props()))
        .map_err(|e| step_err(step, false, e))?;
    for b in batches {
        writer.write(b).map_err(|e| step_err(step, false, e))?;
    }
    writer.close().map_err(|e| step_err(step, false, e))?;
    Ok(())
}

fn props() -> parquet::file::properties::WriterProperties {
    parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_created_by("datalab".into())
        .build()
}

/// blake3 hex of the parts, separated so that ("ab","c") and ("a","bc") differ.
pub(crate) fn hash(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}
