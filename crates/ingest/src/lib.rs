//! Ingestion: from the files a holder exports to validated, immutable warehouse snapshots.
//!
//! `ingest` owns the readers (CSV as Italian public administrations export it: `;`, decimal
//! commas, `dd/mm/yyyy`, Windows-1252 or UTF-8 with or without BOM, quoted newlines; XLSX with
//! the header on any row; Parquet; JSON lines), the conversion of raw cells to canonical types,
//! the validation rules of a source spec, the quarantine, and the incremental build of sources:
//! fingerprints, what is stale, parallel ingest, the accounting `rows in = loaded + quarantined`.
//!
//! It must not know about indicators, disclosure or HTTP, and it never keeps a holder column
//! the spec does not map (data minimisation: unmapped columns are not read into the lab).
//!
//! Extension points: a new input format is a module in `read/` that feeds rows to a
//! [`read::Sink`]; a new rule is a check in `validate.rs` with its own `rule` name, which the
//! quarantine records.

mod build;
mod error;
mod guard;
pub mod read;
mod status;
mod validate;
mod writer;

pub use build::{
    Action, BuildOptions, BuildReport, Derive, INGEST_VERSION, NoProgress, Progress, SourceReport,
    build,
};
pub use error::IngestError;
pub use guard::{Finding, Guard, TableGuard, scan_file};
pub use status::{SourceState, SourceStatus, status};
pub use writer::{FILE_COLUMN, LINE_COLUMN};
