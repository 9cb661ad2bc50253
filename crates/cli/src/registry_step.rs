//! The registry as warehouse tables (the adapter between `registry` and `ingest`, like the guard
//! adapter): a build step that copies every table of the project's
//! registry (`registry.sqlite`: providers, services, locations, capacity, operators,
//! contracts, programmes, projects, partners, interventions …) into a derived snapshot named
//! `registry_<table>`, so that `datalab query`, the project's models and the need indicators
//! (`[need.supply] table = "registry_supply"`) read the registry like any other table.
//!
//! Each table's snapshot id is a hash of its content: an unchanged table is reused, an edited
//! one is copied again.
//!
//! The copy is for analysis and keeps lab tables free of anything that reads as a direct
//! identifier (the lab's invariant, checked by `datalab scan`): contact details stay in
//! `registry.sqlite` (the tables `contacts`, `phones`, `addresses`, the e-mail columns, and
//! `registry_history`, whose rows carry them), and a `name` column is copied as
//! `<object>_name` (`organization_name`, `service_name`, ...), the name of a body or a service
//! rather than of a person.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use engine::{BuildLock, Derived, SnapshotInfo, Warehouse};
use ingest::{Action, IngestError};
use rusqlite::types::ValueRef;

fn step_err(input: bool, message: impl std::fmt::Display) -> IngestError {
    IngestError::Step {
        step: STEP.into(),
        message: message.to_string(),
        input,
    }
}

/// Writes one batch as a Parquet file (Snappy, like the warehouse's other snapshots).
fn write_batch(path: &Path, batch: &RecordBatch) -> Result<(), IngestError> {
    let file = std::fs::File::create(path)
        .map_err(|e| step_err(false, format!("{}: {e}", path.display())))?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_created_by("datalab".into())
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props))
        .map_err(|e| step_err(false, e))?;
    writer.write(batch).map_err(|e| step_err(false, e))?;
    writer.close().map_err(|e| step_err(false, e))?;
    Ok(())
}

/// blake3 hex of the parts, length-prefixed so that ("ab","c") and ("a","bc") differ.
fn hash(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

const STEP: &str = "registry";
/// Bumped when the copy changes shape (column types, names).
pub const REGISTRY_STEP_VERSION: &str = "1";
pub use registry::REGISTRY_FILE;
/// The prefix of the registry's tables in the warehouse.
pub const PREFIX: &str = "registry_";

/// The build step; does nothing when the project has no registry.
pub struct RegistryTables {
    path: PathBuf,
}

impl RegistryTables {
    /// The step for the project rooted at `root` (its registry is `root/registry.sqlite`).
    pub fn new(root: &Path) -> RegistryTables {
        RegistryTables {
            path: root.join(REGISTRY_FILE),
        }
    }
}

impl ingest::Derive for RegistryTables {
    fn derive(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        _sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Vec<(SnapshotInfo, Action)>, IngestError> {
        if !self.path.is_file() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let reg = registry::Registry::open(&self.path)
            .map_err(|e| step_err(e.is_input(), format!("{}: {e}", self.path.display())))?;
        let tables = read_tables(reg.connection())
            .map_err(|e| step_err(true, format!("{}: {e}", self.path.display())))?;
        let mut out = Vec::new();
        for t in tables {
            let name = format!("{PREFIX}{}", t.name);
            let fp = hash(&[STEP, REGISTRY_STEP_VERSION, &name, &t.content]);
            let id = fp[..20].to_string();
            if let Some(s) = wh.snapshot(&id)? {
                out.push((s, Action::Reused));
                continue;
            }
            let staging = wh.staging(lock, &name)?;
            write_batch(&staging.dir.join("data/part-00000.parquet"), &t.batch)?;
            let info = wh.store_derived(
                staging,
                Derived {
                    id,
                    table: name,
                    fingerprint: fp,
                    references: BTreeMap::new(),
                    seconds: started.elapsed().as_secs_f64(),
                },
            )?;
            out.push((info, Action::Built));
        }
        Ok(out)
    }
}

/// One registry table read into Arrow, with a digest of its content.
pub struct TableCopy {
    pub name: String,
    pub batch: RecordBatch,
    pub content: String,
}

/// Every table of a registry database (but SQLite's own and the session table), in name order,
/// typed by the declared column type: INTEGER as Int64, REAL as Float64, anything else as text.
///
/// # Errors
/// A SQLite error, or a value that does not fit its declared type.
pub fn read_tables(conn: &rusqlite::Connection) -> Result<Vec<TableCopy>, String> {
    let names: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .map_err(|e| e.to_string())?;
        stmt.query_map([], |r| r.get(0))
            .map_err(|e| e.to_string())?
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    };
    names
        .into_iter()
        .filter(|n| !LEFT_OUT_TABLES.contains(&n.as_str()))
        .map(|n| read_table(conn, &n))
        .collect()
}

/// Tables that stay in `registry.sqlite`: contact details, the history (its rows carry them)
/// and the session of a change in progress.
pub const LEFT_OUT_TABLES: &[&str] = &[
    "addresses",
    "contacts",
    "phones",
    "registry_history",
    "registry_session",
];

/// Columns that stay in `registry.sqlite` (contact details).
pub const LEFT_OUT_COLUMNS: &[&str] = &["email", "assurer_email"];

/// The warehouse name of a column: `name` becomes `<object>_name` (`organizations` ->
/// `organization_name`, `taxonomies` -> `taxonomy_name`).
fn column_name(table: &str, column: &str) -> String {
    if column != "name" {
        return column.to_string();
    }
    let object = match table.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => table.strip_suffix('s').unwrap_or(table).to_string(),
    };
    format!("{object}_name")
}

enum Col {
    Int(Int64Builder),
    Real(Float64Builder),
    Text(StringBuilder),
}

fn read_table(conn: &rusqlite::Connection, table: &str) -> Result<TableCopy, String> {
    let columns: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info(\"{table}\")"))
            .map_err(|e| e.to_string())?;
        stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(|e| e.to_string())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(name, _)| !LEFT_OUT_COLUMNS.contains(&name.as_str()))
            .collect()
    };
    let mut cols: Vec<Col> = columns
        .iter()
        .map(|(_, ty)| match ty.to_ascii_uppercase().as_str() {
            "INTEGER" => Col::Int(Int64Builder::new()),
            "REAL" => Col::Real(Float64Builder::new()),
            _ => Col::Text(StringBuilder::new()),
        })
        .collect();
    let order = if columns.iter().any(|(n, _)| n == "id") {
        "id"
    } else {
        "rowid"
    };
    let mut digest = blake3::Hasher::new();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM \"{table}\" ORDER BY {order}",
            columns
                .iter()
                .map(|(c, _)| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        for (i, col) in cols.iter_mut().enumerate() {
            let v = row.get_ref(i).map_err(|e| e.to_string())?;
            let bad = |what: &str| {
                format!(
                    "table {table}, column {}: {what} in a column declared {}",
                    columns[i].0, columns[i].1
                )
            };
            digest.update(format!("{i}:{v:?}\u{1f}").as_bytes());
            match (col, v) {
                (Col::Int(b), ValueRef::Null) => b.append_null(),
                (Col::Int(b), ValueRef::Integer(x)) => b.append_value(x),
                (Col::Int(_), _) => return Err(bad("a non-integer value")),
                (Col::Real(b), ValueRef::Null) => b.append_null(),
                (Col::Real(b), ValueRef::Real(x)) => b.append_value(x),
                (Col::Real(b), ValueRef::Integer(x)) => b.append_value(x as f64),
                (Col::Real(_), _) => return Err(bad("a non-numeric value")),
                (Col::Text(b), ValueRef::Null) => b.append_null(),
                (Col::Text(b), ValueRef::Text(t)) => {
                    b.append_value(std::str::from_utf8(t).map_err(|_| bad("invalid UTF-8"))?)
                }
                (Col::Text(b), ValueRef::Integer(x)) => b.append_value(x.to_string()),
                (Col::Text(b), ValueRef::Real(x)) => b.append_value(x.to_string()),
                (Col::Text(_), ValueRef::Blob(_)) => return Err(bad("a blob")),
            }
        }
        digest.update(b"\x1e");
    }
    let fields: Vec<Field> = columns
        .iter()
        .zip(&cols)
        .map(|((name, _), c)| {
            let ty = match c {
                Col::Int(_) => DataType::Int64,
                Col::Real(_) => DataType::Float64,
                Col::Text(_) => DataType::Utf8,
            };
            Field::new(column_name(table, name), ty, true)
        })
        .collect();
    let arrays: Vec<ArrayRef> = cols
        .into_iter()
        .map(|c| -> ArrayRef {
            match c {
                Col::Int(mut b) => Arc::new(b.finish()),
                Col::Real(mut b) => Arc::new(b.finish()),
                Col::Text(mut b) => Arc::new(b.finish()),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| format!("table {table}: {e}"))?;
    Ok(TableCopy {
        name: table.to_string(),
        batch,
        content: digest.finalize().to_hex().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_keep_their_types_rows_and_a_content_digest() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE places (id TEXT PRIMARY KEY, n INTEGER, share REAL, note TEXT);
             INSERT INTO places VALUES ('b', 2, 0.5, NULL), ('a', NULL, 3, 'x');
             CREATE TABLE registry_session (key TEXT, value TEXT);
             CREATE TABLE contacts (id TEXT, name TEXT, email TEXT);
             CREATE TABLE taxonomies (id TEXT, name TEXT, email TEXT);",
        )
        .unwrap();
        let t = read_tables(&conn).unwrap();
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["places", "taxonomies"], "no session, no contacts");
        let tax = t[1].batch.schema();
        let columns: Vec<&str> = tax.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            columns,
            ["id", "taxonomy_name"],
            "no e-mail; the name says whose"
        );
        let b = &t[0].batch;
        assert_eq!(b.num_rows(), 2);
        let schema = b.schema();
        let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
        assert_eq!(
            types,
            [
                &DataType::Utf8,
                &DataType::Int64,
                &DataType::Float64,
                &DataType::Utf8
            ]
        );
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        assert_eq!((ids.value(0), ids.value(1)), ("a", "b"), "ordered by id");
        let share = b
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .unwrap();
        assert_eq!(
            share.value(0),
            3.0,
            "an integer in a REAL column is a float"
        );

        let before = t[0].content.clone();
        conn.execute("UPDATE places SET n = 3 WHERE id = 'b'", [])
            .unwrap();
        assert_ne!(read_tables(&conn).unwrap()[0].content, before);
    }

    #[test]
    fn a_value_of_the_wrong_type_names_the_table_and_column() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id TEXT, n INTEGER); INSERT INTO t VALUES ('a', 'x');")
            .unwrap();
        let err = read_tables(&conn).err().unwrap();
        assert!(err.contains("table t, column n"), "{err}");
    }
}
