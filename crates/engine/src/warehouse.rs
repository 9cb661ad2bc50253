//! The warehouse: snapshot folders, the SQLite catalog, the build lock and the file-hash cache.

use crate::error::EngineError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Version of the manifest format written next to every snapshot.
pub const MANIFEST_VERSION: u32 = 1;
const SCHEMA_VERSION: i64 = 1;

/// One input file of a snapshot and its accounting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputFile {
    /// As written in the spec's glob expansion, relative to the project root.
    pub path: String,
    pub bytes: u64,
    /// blake3 of the file content.
    pub hash: String,
    pub rows_in: u64,
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
}

/// A Parquet file of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataFile {
    /// Relative to the snapshot folder.
    pub path: String,
    pub bytes: u64,
    pub rows: u64,
    /// blake3 of the file content.
    pub hash: String,
}

/// What a snapshot holds and how it was made; stored as `manifest.json` in the snapshot folder
/// and in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub snapshot_id: String,
    pub source: String,
    /// blake3 over the resolved spec, the input files' hashes and referenced snapshots.
    pub fingerprint: String,
    /// blake3 of the resolved spec alone (tells a spec change from a data change).
    pub spec_hash: String,
    pub created_at: String,
    pub datalab_version: String,
    pub inputs: Vec<InputFile>,
    pub rows_in: u64,
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
    /// Quarantined rows per reason kind (e.g. `invalid date`, `duplicate key`).
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Canonical columns and their types.
    pub columns: Vec<(String, String)>,
    /// Data parts under `data/`, one per input file, in input order.
    pub data: Vec<DataFile>,
    /// Quarantine parts under `quarantine/`, one per input file, in input order.
    pub quarantine: Vec<DataFile>,
    pub period_min: Option<String>,
    pub period_max: Option<String>,
    /// Snapshot ids of the sources this one was validated against.
    pub references: BTreeMap<String, String>,
    /// Wall time of the ingest, in seconds.
    pub seconds: f64,
    /// Computed from other snapshots by a build step (record linkage), not read from files:
    /// `references` lists the snapshots it was computed from.
    #[serde(default)]
    pub derived: bool,
}

/// A published snapshot as the catalog knows it.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    pub id: String,
    pub source: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl SnapshotInfo {
    /// The folder holding the data Parquet files.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
    /// The folder holding the quarantine Parquet files.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.dir.join("quarantine")
    }
}

/// A build as recorded in the catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildRecord {
    pub id: i64,
    pub started_at: String,
    pub finished_at: String,
    pub status: String,
    pub summary: serde_json::Value,
}

/// The canonical name of a column type in manifests (as source specs name them).
fn canonical_type(t: &arrow::datatypes::DataType) -> String {
    use arrow::datatypes::DataType as T;
    match t {
        T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 => {
            "integer".into()
        }
        T::Float16 | T::Float32 | T::Float64 | T::Decimal128(..) | T::Decimal256(..) => {
            "float".into()
        }
        T::Boolean => "boolean".into(),
        T::Date32 | T::Date64 => "date".into(),
        T::Utf8 | T::LargeUtf8 | T::Utf8View => "string".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// What a build step says about a snapshot it computed (see [`Warehouse::store_derived`]).
#[derive(Debug, Clone)]
pub struct Derived {
    pub id: String,
    /// The table name it is registered under.
    pub table: String,
    /// Hash of everything the content depends on (step version, definitions, input snapshots).
    pub fingerprint: String,
    /// Snapshot ids of the tables it was computed from.
    pub references: BTreeMap<String, String>,
    pub seconds: f64,
}

/// A temporary folder for a snapshot being written; removed on drop unless stored.
#[derive(Debug)]
pub struct Staging {
    pub dir: PathBuf,
    stored: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.stored {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Held while a build runs; released when dropped or when the process dies.
#[derive(Debug)]
pub struct BuildLock {
    _file: File,
}

/// The warehouse of one project.
pub struct Warehouse {
    dir: PathBuf,
    catalog_path: PathBuf,
    conn: Connection,
}

impl Warehouse {
    /// Opens (creating if needed) the warehouse in `data_dir` (a project's `.datalab/`).
    pub fn open(data_dir: &Path) -> Result<Warehouse, EngineError> {
        for sub in ["", "snapshots", "tmp"] {
            let d = data_dir.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| EngineError::io(&d, &e))?;
        }
        let catalog_path = data_dir.join("catalog.sqlite");
        let conn = Connection::open(&catalog_path).map_err(|e| catalog_err(&catalog_path, e))?;
        let wh = Warehouse {
            dir: data_dir.to_path_buf(),
            catalog_path,
            conn,
        };
        wh.migrate()?;
        Ok(wh)
    }

    /// Opens the warehouse only if it exists (for read-only commands on a project never built).
    pub fn open_existing(data_dir: &Path) -> Result<Option<Warehouse>, EngineError> {
        if data_dir.join("catalog.sqlite").is_file() {
            Warehouse::open(data_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn migrate(&self) -> Result<(), EngineError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS snapshots(
                    id TEXT PRIMARY KEY, source TEXT NOT NULL, fingerprint TEXT NOT NULL,
                    created_at TEXT NOT NULL, rows_in INTEGER NOT NULL, rows_loaded INTEGER NOT NULL,
                    rows_quarantined INTEGER NOT NULL, manifest TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS builds(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,
                    finished_at TEXT NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS current(
                    source TEXT PRIMARY KEY, snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
                    build_id INTEGER NOT NULL REFERENCES builds(id));
                 CREATE TABLE IF NOT EXISTS file_hashes(
                    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                    hash TEXT NOT NULL);",
            )
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        match version.as_deref().map(str::parse::<i64>) {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                        [SCHEMA_VERSION.to_string()],
                    )
                    .map_err(|e| catalog_err(&self.catalog_path, e))?;
            }
            Some(Ok(SCHEMA_VERSION)) => {}
            Some(other) => {
                return Err(EngineError::Catalog {
                    path: self.catalog_path.clone(),
                    message: format!(
                        "schema version {other:?} is not supported (this datalab reads {SCHEMA_VERSION}); hint: upgrade datalab"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Takes the build lock, or fails at once if another build holds it. Also clears staging
    /// folders left by an interrupted build.
    pub fn lock(&self) -> Result<BuildLock, EngineError> {
        let path = self.dir.join("build.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| EngineError::io(&path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(EngineError::Locked(path)),
            Err(std::fs::TryLockError::Error(e)) => return Err(EngineError::io(&path, &e)),
        }
        let tmp = self.dir.join("tmp");
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(BuildLock { _file: file })
    }

    /// A fresh staging folder for a snapshot of `source`.
    pub fn staging(&self, _lock: &BuildLock, source: &str) -> Result<Staging, EngineError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = self
            .dir
            .join("tmp")
            .join(format!("{source}-{}-{nanos}", std::process::id()));
        for sub in ["data", "quarantine"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| EngineError::io(&dir, &e))?;
        }
        Ok(Staging { dir, stored: false })
    }

    /// The folder a snapshot lives in once stored.
    pub fn snapshot_dir(&self, source: &str, id: &str) -> PathBuf {
        self.dir.join("snapshots").join(source).join(id)
    }

    /// Whether a snapshot with this id is already stored and cataloged (content-addressed: the
    /// same inputs give the same id, so it can be reused instead of rebuilt).
    pub fn snapshot(&self, id: &str) -> Result<Option<SnapshotInfo>, EngineError> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT source, manifest FROM snapshots WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        match row {
            None => Ok(None),
            Some((source, manifest)) => {
                let info = self.info(id, &source, &manifest)?;
                Ok(info.dir.join("manifest.json").is_file().then_some(info))
            }
        }
    }

    fn info(&self, id: &str, source: &str, manifest: &str) -> Result<SnapshotInfo, EngineError> {
        let manifest: Manifest = serde_json::from_str(manifest).map_err(|e| {
            EngineError::Internal(format!("manifest of snapshot {id} is unreadable: {e}"))
        })?;
        Ok(SnapshotInfo {
            id: id.to_string(),
            source: source.to_string(),
            dir: self.snapshot_dir(source, id),
            manifest,
        })
    }

    /// Moves a finished staging folder into the snapshot store and catalogs it (not yet
    /// current). The manifest is written into the folder first, so a stored folder is complete.
    pub fn store(
        &self,
        mut staging: Staging,
        manifest: &Manifest,
    ) -> Result<SnapshotInfo, EngineError> {
        let json = serde_json::to_string_pretty(manifest)
            .map_err(|e| EngineError::Internal(format!("cannot serialize manifest: {e}")))?;
        let mpath = staging.dir.join("manifest.json");
        std::fs::write(&mpath, &json).map_err(|e| EngineError::io(&mpath, &e))?;
        sync_dir(&staging.dir.join("data"));
        sync_dir(&staging.dir.join("quarantine"));
        sync_dir(&staging.dir);
        let target = self.snapshot_dir(&manifest.source, &manifest.snapshot_id);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EngineError::io(parent, &e))?;
        }
        if target.exists() {
            // Left by a build killed after the rename and before the catalog insert, or by an
            // earlier build with the same inputs: same id, same content. Replace it atomically
            // enough: remove the old copy, then rename ours in.
            std::fs::remove_dir_all(&target).map_err(|e| EngineError::io(&target, &e))?;
        }
        std::fs::rename(&staging.dir, &target).map_err(|e| EngineError::io(&target, &e))?;
        staging.stored = true;
        if let Some(parent) = target.parent() {
            sync_dir(parent);
        }
        self.conn
            .execute(
                "INSERT OR REPLACE INTO snapshots(id, source, fingerprint, created_at, rows_in, rows_loaded, rows_quarantined, manifest)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    manifest.snapshot_id,
                    manifest.source,
                    manifest.fingerprint,
                    manifest.created_at,
                    manifest.rows_in as i64,
                    manifest.rows_loaded as i64,
                    manifest.rows_quarantined as i64,
                    json
                ],
            )
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        Ok(SnapshotInfo {
            id: manifest.snapshot_id.clone(),
            source: manifest.source.clone(),
            dir: target,
            manifest: manifest.clone(),
        })
    }

    /// Stores a snapshot computed by a build step from other snapshots: every Parquet file the
    /// step wrote under `staging/data/` is listed (sorted by name) with its rows and hash, the
    /// columns come from the first file's schema.
    pub fn store_derived(
        &self,
        staging: Staging,
        derived: Derived,
    ) -> Result<SnapshotInfo, EngineError> {
        let data = staging.dir.join("data");
        let mut names: Vec<String> = std::fs::read_dir(&data)
            .map_err(|e| EngineError::io(&data, &e))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".parquet"))
            .collect();
        names.sort();
        let mut files = Vec::new();
        let mut columns = Vec::new();
        let mut rows = 0u64;
        for name in names {
            let path = data.join(&name);
            let file = File::open(&path).map_err(|e| EngineError::io(&path, &e))?;
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| {
                        EngineError::Internal(format!("{}: not parquet: {e}", path.display()))
                    })?;
            let n = reader.metadata().file_metadata().num_rows().max(0) as u64;
            if columns.is_empty() {
                columns = reader
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), canonical_type(f.data_type())))
                    .collect();
            }
            files.push(DataFile {
                path: format!("data/{name}"),
                bytes: std::fs::metadata(&path)
                    .map_err(|e| EngineError::io(&path, &e))?
                    .len(),
                rows: n,
                hash: hash_file(&path)?,
            });
            rows += n;
        }
        let manifest = Manifest {
            format_version: MANIFEST_VERSION,
            snapshot_id: derived.id,
            source: derived.table,
            fingerprint: derived.fingerprint.clone(),
            spec_hash: derived.fingerprint,
            created_at: now(),
            datalab_version: env!("CARGO_PKG_VERSION").to_string(),
            inputs: Vec::new(),
            rows_in: rows,
            rows_loaded: rows,
            rows_quarantined: 0,
            quarantine_reasons: BTreeMap::new(),
            columns,
            data: files,
            quarantine: Vec::new(),
            period_min: None,
            period_max: None,
            references: derived.references,
            seconds: derived.seconds,
            derived: true,
        };
        self.store(staging, &manifest)
    }

    /// Makes `current` the current snapshot set (sources not listed stop being current) and
    /// records the build, in one transaction: all or nothing.
    pub fn commit(
        &mut self,
        _lock: &BuildLock,
        current: &[(String, String)],
        started_at: &str,
        summary: &serde_json::Value,
    ) -> Result<i64, EngineError> {
        let path = self.catalog_path.clone();
        let tx = self.conn.transaction().map_err(|e| catalog_err(&path, e))?;
        tx.execute(
            "INSERT INTO builds(started_at, finished_at, status, summary) VALUES (?1, ?2, 'ok', ?3)",
            params![started_at, now(), summary.to_string()],
        )
        .map_err(|e| catalog_err(&path, e))?;
        let build_id = tx.last_insert_rowid();
        tx.execute("DELETE FROM current", [])
            .map_err(|e| catalog_err(&path, e))?;
        for (source, id) in current {
            tx.execute(
                "INSERT INTO current(source, snapshot_id, build_id) VALUES (?1, ?2, ?3)",
                params![source, id, build_id],
            )
            .map_err(|e| catalog_err(&path, e))?;
        }
        tx.commit().map_err(|e| catalog_err(&path, e))?;
        Ok(build_id)
    }

    /// The current snapshot of every source, sorted by source name.
    pub fn current(&self) -> Result<Vec<SnapshotInfo>, EngineError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.source, s.manifest FROM current c JOIN snapshots s ON s.id = c.snapshot_id ORDER BY c.source",
            )
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, source, manifest) = row.map_err(|e| catalog_err(&self.catalog_path, e))?;
            out.push(self.info(&id, &source, &manifest)?);
        }
        Ok(out)
    }

    /// The last successful build, if any.
    pub fn last_build(&self) -> Result<Option<BuildRecord>, EngineError> {
        self.conn
            .query_row(
                "SELECT id, started_at, finished_at, status, summary FROM builds ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    let summary: String = r.get(4)?;
                    Ok(BuildRecord {
                        id: r.get(0)?,
                        started_at: r.get(1)?,
                        finished_at: r.get(2)?,
                        status: r.get(3)?,
                        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
                    })
                },
            )
            .optional()
            .map_err(|e| catalog_err(&self.catalog_path, e))
    }

    /// blake3 of a file's content, from the cache when its size and mtime are unchanged.
    pub fn file_hash(&self, path: &Path) -> Result<(u64, String), EngineError> {
        let meta = std::fs::metadata(path).map_err(|e| EngineError::io(path, &e))?;
        let size = meta.len();
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        let key = path.to_string_lossy();
        let cached: Option<(i64, i64, String)> = self
            .conn
            .query_row(
                "SELECT size, mtime_ns, hash FROM file_hashes WHERE path = ?1",
                [key.as_ref()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        if let Some((s, m, h)) = cached
            && s as u64 == size
            && m == mtime
        {
            return Ok((size, h));
        }
        let hash = hash_file(path)?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO file_hashes(path, size, mtime_ns, hash) VALUES (?1, ?2, ?3, ?4)",
                params![key.as_ref(), size as i64, mtime, hash],
            )
            .map_err(|e| catalog_err(&self.catalog_path, e))?;
        Ok((size, hash))
    }
}

/// blake3 of a file, streamed.
pub fn hash_file(path: &Path) -> Result<String, EngineError> {
    let mut hasher = blake3::Hasher::new();
    let mut file = File::open(path).map_err(|e| EngineError::io(path, &e))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| EngineError::io(path, &e))?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// The current time as RFC 3339 UTC.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

fn catalog_err(path: &Path, e: rusqlite::Error) -> EngineError {
    EngineError::Catalog {
        path: path.to_path_buf(),
        message: e.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(source: &str, id: &str) -> Manifest {
        Manifest {
            format_version: MANIFEST_VERSION,
            snapshot_id: id.into(),
            source: source.into(),
            fingerprint: format!("{id}-fp"),
            spec_hash: "h".into(),
            created_at: now(),
            datalab_version: "test".into(),
            inputs: vec![],
            rows_in: 3,
            rows_loaded: 2,
            rows_quarantined: 1,
            quarantine_reasons: BTreeMap::new(),
            columns: vec![],
            data: vec![],
            quarantine: vec![],
            period_min: None,
            period_max: None,
            references: BTreeMap::new(),
            seconds: 0.0,
            derived: false,
        }
    }

    #[test]
    fn snapshots_become_current_only_on_commit() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut wh = Warehouse::open(tmp.path()).expect("open");
        let lock = wh.lock().expect("lock");
        let staging = wh.staging(&lock, "a").expect("staging");
        let staged_dir = staging.dir.clone();
        let info = wh.store(staging, &manifest("a", "id1")).expect("store");
        assert!(!staged_dir.exists(), "staging moved into place");
        assert!(info.dir.join("manifest.json").is_file());
        assert!(
            wh.current().expect("current").is_empty(),
            "stored is not yet current"
        );
        wh.commit(
            &lock,
            &[("a".into(), "id1".into())],
            &now(),
            &serde_json::json!([]),
        )
        .expect("commit");
        let cur = wh.current().expect("current");
        assert_eq!(cur.len(), 1);
        assert_eq!(cur[0].manifest.rows_in, 3);
        assert!(wh.snapshot("id1").expect("lookup").is_some());
        assert!(wh.last_build().expect("last build").is_some());
    }

    #[test]
    fn a_dropped_staging_folder_is_removed_and_the_lock_is_exclusive() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let wh = Warehouse::open(tmp.path()).expect("open");
        let lock = wh.lock().expect("lock");
        let staging = wh.staging(&lock, "a").expect("staging");
        let dir = staging.dir.clone();
        drop(staging);
        assert!(!dir.exists());
        let other = Warehouse::open(tmp.path()).expect("open again");
        assert!(matches!(other.lock(), Err(EngineError::Locked(_))));
        drop(lock);
        assert!(other.lock().is_ok(), "the lock is released with its holder");
    }

    #[test]
    fn file_hashes_are_cached_by_size_and_mtime() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let wh = Warehouse::open(&tmp.path().join(".datalab")).expect("open");
        let f = tmp.path().join("x.csv");
        std::fs::write(&f, "a\n1\n").expect("write");
        let (size, h1) = wh.file_hash(&f).expect("hash");
        assert_eq!(size, 4);
        assert_eq!(h1, blake3::hash(b"a\n1\n").to_hex().to_string());
        std::fs::write(&f, "a\n22\n").expect("rewrite");
        let (_, h2) = wh.file_hash(&f).expect("hash");
        assert_ne!(h1, h2, "a changed file is re-hashed");
    }
}
