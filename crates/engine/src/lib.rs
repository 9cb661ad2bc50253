//! The engine: where loaded data lives and how it is queried.
//!
//! `engine` owns the warehouse under a project's `.datalab/` folder: immutable, content-addressed
//! snapshots of Parquet files (one folder per snapshot, never modified once published), the
//! SQLite catalog that says which snapshot of each source is current, the build lock, the cache
//! of input-file hashes, and the embedded DataFusion session where the current snapshots are
//! registered as tables (and their quarantines in the `quarantine` schema).
//!
//! It must not know how a source is read or validated (that is `ingest`), nor what a project
//! file looks like (that is `project`): it stores and serves what it is given.
//!
//! Atomicity: a snapshot is written in `.datalab/tmp/`, renamed into `.datalab/snapshots/` and
//! becomes current only when the whole build commits in one SQLite transaction
//! ([`Warehouse::commit`]). A process killed at any point leaves the previous current set.

mod error;
mod query;
pub mod udf;
mod warehouse;

pub use arrow::record_batch::RecordBatch;
pub use error::EngineError;
pub use query::{Engine, OutputFormat, write_batches};
pub use warehouse::{
    BuildLock, BuildRecord, DataFile, Derived, InputFile, MANIFEST_VERSION, Manifest, SnapshotInfo,
    Staging, Warehouse, hash_file, now,
};
