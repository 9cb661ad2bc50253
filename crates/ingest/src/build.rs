//! `datalab build` for sources: fingerprint, skip what is unchanged, ingest the rest in
//! parallel (respecting references), store snapshots, commit all at once.

use crate::error::IngestError;
use crate::read::{Row, Sink, read_file};
use crate::validate::{Failure, Validator, Value, date_string, display};
use crate::writer::{DataWriter, QuarantineWriter};
use engine::{DataFile, InputFile, MANIFEST_VERSION, Manifest, SnapshotInfo, Staging, Warehouse};
use model::ColumnType;
use project::{Project, SourceSpec};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

/// Bumped when a change to ingestion can change the loaded data: every snapshot is rebuilt.
pub const INGEST_VERSION: u32 = 1;

/// Options of a build.
#[derive(Clone)]
pub struct BuildOptions {
    /// Sources ingested at the same time (at least 1).
    pub jobs: usize,
    /// Re-ingest every source even if unchanged.
    pub force: bool,
    /// The identifier guard every input file must pass before it is loaded (the binary always
    /// sets it; a library user who leaves it out takes the responsibility).
    pub guard: Option<std::sync::Arc<dyn crate::Guard>>,
    /// Steps computing tables from the built sources (record linkage), committed with them.
    pub derive: Vec<std::sync::Arc<dyn Derive>>,
}

/// A build step that computes tables from the sources' snapshots (the binary plugs in record
/// linkage). Its snapshots become current in the same commit as the sources they came from.
pub trait Derive: Send + Sync {
    /// Stores the derived snapshots for `sources` (the built sources and the tables of the
    /// steps before this one) in `wh`, or finds them already stored, and returns them with
    /// what was done.
    fn derive(
        &self,
        wh: &Warehouse,
        lock: &engine::BuildLock,
        sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Vec<(SnapshotInfo, Action)>, IngestError>;
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            force: false,
            guard: None,
            derive: Vec::new(),
        }
    }
}

/// Receives build progress (the CLI draws bars with it; scripts pass [`NoProgress`]).
pub trait Progress: Sync {
    /// A source starts ingesting `total_bytes` of input.
    fn started(&self, _source: &str, _total_bytes: u64) {}
    /// `bytes` of the source's input have been read so far.
    fn advanced(&self, _source: &str, _bytes: u64) {}
    /// A source is done (built, unchanged or reused).
    fn finished(&self, _report: &SourceReport) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What the build did with a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Ingested now.
    Built,
    /// Inputs unchanged: the current snapshot stays.
    Unchanged,
    /// An earlier snapshot with exactly these inputs existed and became current again.
    Reused,
}

/// The accounting of one source in a build.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub action: Action,
    pub snapshot_id: String,
    pub files: usize,
    pub bytes_in: u64,
    pub rows_in: u64,
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
    pub quarantine_reasons: BTreeMap<String, u64>,
    pub seconds: f64,
    /// A table computed by a build step (record linkage), not a declared source.
    pub derived: bool,
}

impl SourceReport {
    fn from_snapshot(s: &SnapshotInfo, action: Action) -> SourceReport {
        let m = &s.manifest;
        SourceReport {
            source: s.source.clone(),
            action,
            snapshot_id: s.id.clone(),
            files: m.inputs.len(),
            bytes_in: m.inputs.iter().map(|f| f.bytes).sum(),
            rows_in: m.rows_in,
            rows_loaded: m.rows_loaded,
            rows_quarantined: m.rows_quarantined,
            quarantine_reasons: m.quarantine_reasons.clone(),
            seconds: if action == Action::Built {
                m.seconds
            } else {
                0.0
            },
            derived: m.derived,
        }
    }
}

/// The result of a build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub sources: Vec<SourceReport>,
    /// The catalog's build id, or `None` when nothing changed and nothing was committed.
    pub build_id: Option<i64>,
    pub seconds: f64,
}

/// An input file resolved from a spec's globs.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub rel: String,
    pub abs: PathBuf,
    pub bytes: u64,
    pub hash: String,
}

/// Expands a spec's globs (relative to the project root), sorted, and hashes each file
/// (through the warehouse's cache).
pub(crate) fn resolve_inputs(
    project: &Project,
    spec: &SourceSpec,
    wh: &Warehouse,
) -> Result<Vec<Input>, IngestError> {
    let mut out: Vec<Input> = Vec::new();
    for pattern in &spec.files {
        let full = project.root.join(pattern);
        let full_s = full.to_string_lossy().into_owned();
        let paths = glob::glob(&full_s).map_err(|e| {
            IngestError::file(
                project.root.join(&spec.spec_file),
                0,
                format!("key `files`: bad glob `{pattern}`: {e}"),
            )
        })?;
        let mut matched: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(IngestError::NoFiles {
                source_name: spec.name.clone(),
                pattern: pattern.clone(),
                root: project.root.clone(),
                spec: project.root.join(&spec.spec_file),
            });
        }
        matched.sort();
        for abs in matched {
            let rel = abs
                .strip_prefix(&project.root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| abs.to_string_lossy().into_owned());
            if out.iter().any(|i| i.abs == abs) {
                continue;
            }
            let (bytes, hash) = wh.file_hash(&abs)?;
            out.push(Input {
                rel,
                abs,
                bytes,
                hash,
            });
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct FingerprintInput<'a> {
    ingest_version: u32,
    spec: &'a SourceSpec,
    inputs: Vec<(&'a str, &'a str)>,
    references: &'a BTreeMap<String, String>,
}

/// (fingerprint, spec hash) of a source given its inputs and the snapshots it references.
pub(crate) fn fingerprint(
    spec: &SourceSpec,
    inputs: &[Input],
    references: &BTreeMap<String, String>,
) -> (String, String) {
    let spec_json = serde_json::to_vec(spec).unwrap_or_default();
    let spec_hash = blake3::hash(&spec_json).to_hex().to_string();
    let fi = FingerprintInput {
        ingest_version: INGEST_VERSION,
        spec,
        inputs: inputs
            .iter()
            .map(|i| (i.rel.as_str(), i.hash.as_str()))
            .collect(),
        references,
    };
    let json = serde_json::to_vec(&fi).unwrap_or_default();
    (blake3::hash(&json).to_hex().to_string(), spec_hash)
}

/// The snapshot id for a fingerprint.
pub(crate) fn snapshot_id(fingerprint: &str) -> String {
    fingerprint[..20].to_string()
}

struct Job<'p> {
    spec: &'p SourceSpec,
    inputs: Vec<Input>,
    references: BTreeMap<String, String>,
    reference_sets: Vec<(String, Arc<HashSet<String>>)>,
    fingerprint: String,
    spec_hash: String,
    staging: Staging,
    guard: Option<Arc<dyn crate::Guard>>,
}

/// Builds every source of the project that changed, and commits the new current set.
pub fn build(
    project: &Project,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, IngestError> {
    let started = Instant::now();
    let started_at = engine::now();
    let mut wh = Warehouse::open(&project.data_dir())?;
    let lock = wh.lock()?;
    let current: BTreeMap<String, SnapshotInfo> = wh
        .current()?
        .into_iter()
        .map(|s| (s.source.clone(), s))
        .collect();
    let mut chosen: BTreeMap<String, SnapshotInfo> = BTreeMap::new();
    let mut reports: Vec<SourceReport> = Vec::new();
    let mut changed = false;

    for level in project.build_order()? {
        let mut jobs = Vec::new();
        for spec in level {
            let inputs = resolve_inputs(project, spec, &wh)?;
            let references: BTreeMap<String, String> = spec
                .dependencies()
                .iter()
                .filter_map(|d| chosen.get(*d).map(|s| (d.to_string(), s.id.clone())))
                .collect();
            let (fp, spec_hash) = fingerprint(spec, &inputs, &references);
            if !opts.force {
                if let Some(cur) = current.get(&spec.name)
                    && cur.manifest.fingerprint == fp
                {
                    let r = SourceReport::from_snapshot(cur, Action::Unchanged);
                    progress.finished(&r);
                    reports.push(r);
                    chosen.insert(spec.name.clone(), cur.clone());
                    continue;
                }
                if let Some(old) = wh.snapshot(&snapshot_id(&fp))? {
                    let r = SourceReport::from_snapshot(&old, Action::Reused);
                    progress.finished(&r);
                    reports.push(r);
                    chosen.insert(spec.name.clone(), old);
                    changed = true;
                    continue;
                }
            }
            let mut reference_sets = Vec::new();
            for c in &spec.columns {
                if let Some(r) = &c.references {
                    let snap = chosen.get(&r.source).ok_or_else(|| {
                        IngestError::Internal(format!("{} built before {}", spec.name, r.source))
                    })?;
                    reference_sets
                        .push((c.name.clone(), Arc::new(column_values(snap, &r.column)?)));
                }
            }
            let staging = wh.staging(&lock, &spec.name)?;
            jobs.push(Job {
                spec,
                inputs,
                references,
                reference_sets,
                fingerprint: fp,
                spec_hash,
                staging,
                guard: opts.guard.clone(),
            });
        }
        if jobs.is_empty() {
            continue;
        }
        let results = run_parallel(jobs, opts.jobs.max(1), progress);
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok((staging, manifest)) => {
                    let info = wh.store(staging, &manifest)?;
                    let r = SourceReport::from_snapshot(&info, Action::Built);
                    progress.finished(&r);
                    reports.push(r);
                    chosen.insert(info.source.clone(), info);
                    changed = true;
                }
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            0 => {}
            1 => return Err(errors.remove(0)),
            _ => return Err(IngestError::Many(errors)),
        }
    }
    for step in &opts.derive {
        // Each step sees the sources and what the steps before it computed.
        let sources = chosen.clone();
        for (info, action) in step.derive(&wh, &lock, &sources)? {
            let action = match current.get(&info.source) {
                Some(c) if c.id == info.id => Action::Unchanged,
                _ => action,
            };
            changed |= action != Action::Unchanged;
            let r = SourceReport::from_snapshot(&info, action);
            progress.finished(&r);
            reports.push(r);
            chosen.insert(info.source.clone(), info);
        }
    }
    changed |= opts.force || chosen.keys().ne(current.keys());
    let build_id = if changed {
        let new_current: Vec<(String, String)> = chosen
            .iter()
            .map(|(k, v)| (k.clone(), v.id.clone()))
            .collect();
        let summary = serde_json::to_value(&reports).unwrap_or_default();
        Some(wh.commit(&lock, &new_current, &started_at, &summary)?)
    } else {
        None
    };
    reports.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(BuildReport {
        sources: reports,
        build_id,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn run_parallel(
    jobs: Vec<Job<'_>>,
    threads: usize,
    progress: &dyn Progress,
) -> Vec<Result<(Staging, Manifest), IngestError>> {
    parallel_map(jobs, threads, |_, job| {
        ingest_source(job, threads, progress)
    })
}

/// Runs `f(index, item)` on every item with at most `threads` threads, returning the results in
/// item order (so what is written does not depend on which thread finished first).
fn parallel_map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(usize, T) -> Result<R, IngestError> + Sync,
) -> Vec<Result<R, IngestError>> {
    let n = items.len();
    let slots: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|t| std::sync::Mutex::new(Some(t)))
        .collect();
    let results: Vec<std::sync::Mutex<Option<Result<R, IngestError>>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    if let Some(item) = slots[i].lock().ok().and_then(|mut g| g.take()) {
                        let r = f(i, item);
                        if let Ok(mut g) = results[i].lock() {
                            *g = Some(r);
                        }
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(IngestError::Internal("an ingest thread panicked".into())))
        })
        .collect()
}

/// The distinct values of a column of a stored snapshot, as canonical text.
fn column_values(snap: &SnapshotInfo, column: &str) -> Result<HashSet<String>, IngestError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut set = HashSet::new();
    for f in &snap.manifest.data {
        let path = snap.dir.join(&f.path);
        let file = std::fs::File::open(&path).map_err(|e| IngestError::io(&path, &e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| IngestError::Internal(format!("snapshot file {}: {e}", path.display())))?;
        let idx = builder.schema().index_of(column).map_err(|_| {
            IngestError::Internal(format!("snapshot {} has no column {column}", snap.id))
        })?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [idx]);
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(|e| IngestError::Internal(format!("snapshot file {}: {e}", path.display())))?;
        for batch in reader {
            let batch = batch.map_err(|e| {
                IngestError::Internal(format!("snapshot file {}: {e}", path.display()))
            })?;
            let a = batch.column(0);
            for r in 0..a.len() {
                if a.is_null(r) {
                    continue;
                }
                let v = match a.data_type() {
                    DataType::Utf8 => a.as_string::<i32>().value(r).to_string(),
                    DataType::Int64 => a.as_primitive::<Int64Type>().value(r).to_string(),
                    DataType::Float64 => a.as_primitive::<Float64Type>().value(r).to_string(),
                    DataType::Date32 => date_string(a.as_primitive::<Date32Type>().value(r)),
                    DataType::Boolean => a.as_boolean().value(r).to_string(),
                    _ => continue,
                };
                set.insert(v);
            }
        }
    }
    Ok(set)
}

/// Accumulates the min and max of the period column.
#[derive(Default)]
struct PeriodRange {
    min: Option<Value<'static>>,
    max: Option<Value<'static>>,
}

impl PeriodRange {
    fn merge(&mut self, other: &PeriodRange) {
        for v in other.min.iter().chain(other.max.iter()) {
            self.add(v);
        }
    }

    fn add(&mut self, v: &Value<'_>) {
        let owned = match v {
            Value::Null => return,
            Value::Str(s) => Value::Str(std::borrow::Cow::Owned(s.to_string())),
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::Bool(b) => Value::Bool(*b),
            Value::Date(d) => Value::Date(*d),
        };
        let less = |a: &Value<'_>, b: &Value<'_>| match (a, b) {
            (Value::Int(x), Value::Int(y)) => x < y,
            (Value::Date(x), Value::Date(y)) => x < y,
            (Value::Str(x), Value::Str(y)) => x < y,
            (Value::Float(x), Value::Float(y)) => x < y,
            _ => false,
        };
        if self.min.as_ref().is_none_or(|m| less(&owned, m)) {
            self.min = Some(owned.clone());
        }
        if self.max.as_ref().is_none_or(|m| less(m, &owned)) {
            self.max = Some(owned);
        }
    }
}

struct SourceSink<'a> {
    validator: &'a mut Validator,
    data: DataWriter,
    quarantine: QuarantineWriter,
    spec: &'a SourceSpec,
    file: String,
    period: Option<usize>,
    range: PeriodRange,
    reasons: BTreeMap<String, u64>,
    rows_in: u64,
    loaded: u64,
    quarantined: u64,
    bytes: &'a AtomicU64,
    last_bytes: u64,
    progress: &'a dyn Progress,
}

impl Sink for SourceSink<'_> {
    fn row(&mut self, row: &Row<'_, '_>) -> Result<(), IngestError> {
        self.rows_in += 1;
        match self.validator.check(row) {
            Ok(values) => {
                if let Some(p) = self.period {
                    self.range.add(&values[p]);
                }
                self.data.append(&values, &self.file, row.line)?;
                self.loaded += 1;
            }
            Err(failures) => {
                self.quarantine.append(
                    &self.file,
                    row.line,
                    &failures,
                    &raw_json(self.spec, row),
                )?;
                tally(&mut self.reasons, &failures);
                self.quarantined += 1;
            }
        }
        Ok(())
    }

    fn progress(&mut self, bytes: u64) {
        let delta = bytes.saturating_sub(self.last_bytes);
        self.last_bytes = bytes;
        let total = self.bytes.fetch_add(delta, Ordering::Relaxed) + delta;
        self.progress.advanced(&self.spec.name, total);
    }
}

fn tally(reasons: &mut BTreeMap<String, u64>, failures: &[Failure]) {
    if let Some(f) = failures.first() {
        *reasons.entry(f.rule.to_string()).or_default() += 1;
    }
}

/// The raw values of the spec's columns (never the holder's unmapped columns, which may hold
/// identifiers) as a JSON object.
fn raw_json(spec: &SourceSpec, row: &Row<'_, '_>) -> String {
    let mut map = serde_json::Map::new();
    for (c, cell) in spec.columns.iter().zip(row.cells.iter()) {
        map.insert(
            c.from.clone(),
            cell.raw()
                .map_or(serde_json::Value::Null, serde_json::Value::String),
        );
    }
    serde_json::Value::Object(map).to_string()
}

/// What ingesting one input file produced.
struct FileResult {
    input: InputFile,
    reasons: BTreeMap<String, u64>,
    range: PeriodRange,
    data: DataFile,
    quarantine: DataFile,
}

/// Ingests one input file into `data/part-NNNNN.parquet` and `quarantine/part-NNNNN.parquet`
/// of the staging folder, validating with `validator` (whose unique-key memory spans every file
/// it has seen).
fn ingest_file(
    job: &Job<'_>,
    index: usize,
    validator: &mut Validator,
    bytes: &AtomicU64,
    progress: &dyn Progress,
) -> Result<FileResult, IngestError> {
    let (spec, input, dir) = (job.spec, &job.inputs[index], job.staging.dir.as_path());
    if let Some(g) = job.guard.as_deref() {
        crate::guard::check_file(spec, &input.abs, g)?;
    }
    let data_rel = format!("data/part-{index:05}.parquet");
    let quarantine_rel = format!("quarantine/part-{index:05}.parquet");
    let mut sink = SourceSink {
        validator,
        data: DataWriter::create(&dir.join(&data_rel), spec)?,
        quarantine: QuarantineWriter::create(&dir.join(&quarantine_rel))?,
        spec,
        file: input.rel.clone(),
        period: spec
            .period
            .as_ref()
            .and_then(|p| spec.columns.iter().position(|c| &c.name == p)),
        range: PeriodRange::default(),
        reasons: BTreeMap::new(),
        rows_in: 0,
        loaded: 0,
        quarantined: 0,
        bytes,
        last_bytes: 0,
        progress,
    };
    read_file(spec, &input.abs, &mut sink)?;
    let SourceSink {
        data,
        quarantine,
        rows_in,
        loaded,
        quarantined,
        reasons,
        range,
        ..
    } = sink;
    let data_rows = data.finish()?;
    let q_rows = quarantine.finish()?;
    if rows_in != loaded + quarantined || data_rows != loaded || q_rows != quarantined {
        return Err(IngestError::Internal(format!(
            "accounting of {} ({}) does not balance: {rows_in} in, {loaded} loaded ({data_rows} written), {quarantined} quarantined ({q_rows} written)",
            spec.name, input.rel
        )));
    }
    Ok(FileResult {
        input: InputFile {
            path: input.rel.clone(),
            bytes: input.bytes,
            hash: input.hash.clone(),
            rows_in,
            rows_loaded: loaded,
            rows_quarantined: quarantined,
        },
        reasons,
        range,
        data: data_file(dir, &data_rel, data_rows)?,
        quarantine: data_file(dir, &quarantine_rel, q_rows)?,
    })
}

/// Ingests a source's files, several at a time when it has several. Each file gets its own
/// validator; if a unique key then turns out to repeat across files (which only a shared
/// validator can attribute to the right, first, row), the source is ingested again one file
/// after the other with one validator. The output is the same either way: one part per file,
/// in file order.
fn ingest_files(
    job: &Job<'_>,
    threads: usize,
    progress: &dyn Progress,
) -> Result<Vec<FileResult>, IngestError> {
    let spec = job.spec;
    let bytes = AtomicU64::new(0);
    let n = job.inputs.len();
    if threads > 1 && n > 1 {
        let slots = parallel_map((0..n).collect(), threads, |i, _| {
            let mut v = Validator::new(spec, &job.reference_sets);
            ingest_file(job, i, &mut v, &bytes, progress).map(|f| (f, v))
        });
        let mut results = Vec::with_capacity(n);
        let mut validators = Vec::with_capacity(n);
        for slot in slots {
            let (f, v) = slot?;
            results.push(f);
            validators.push(v);
        }
        if !Validator::keys_overlap(&mut validators) {
            return Ok(results);
        }
        for sub in ["data", "quarantine"] {
            let d = job.staging.dir.join(sub);
            std::fs::remove_dir_all(&d)
                .and_then(|_| std::fs::create_dir_all(&d))
                .map_err(|e| IngestError::io(&d, &e))?;
        }
        bytes.store(0, Ordering::Relaxed);
    }
    let mut v = Validator::new(spec, &job.reference_sets);
    (0..n)
        .map(|i| ingest_file(job, i, &mut v, &bytes, progress))
        .collect()
}

fn ingest_source(
    job: Job<'_>,
    threads: usize,
    progress: &dyn Progress,
) -> Result<(Staging, Manifest), IngestError> {
    let started = Instant::now();
    let spec = job.spec;
    let total: u64 = job.inputs.iter().map(|i| i.bytes).sum();
    progress.started(&spec.name, total);
    let files = ingest_files(&job, threads, progress)?;
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut range = PeriodRange::default();
    for f in &files {
        for (k, v) in &f.reasons {
            *reasons.entry(k.clone()).or_default() += v;
        }
        range.merge(&f.range);
    }
    let (rows_in, loaded, quarantined) = files.iter().fold((0, 0, 0), |(i, l, q), f| {
        (
            i + f.input.rows_in,
            l + f.input.rows_loaded,
            q + f.input.rows_quarantined,
        )
    });
    let period_str = |v: &Option<Value<'static>>| v.as_ref().map(display);
    let manifest = Manifest {
        format_version: MANIFEST_VERSION,
        snapshot_id: snapshot_id(&job.fingerprint),
        source: spec.name.clone(),
        fingerprint: job.fingerprint.clone(),
        spec_hash: job.spec_hash.clone(),
        created_at: engine::now(),
        datalab_version: env!("CARGO_PKG_VERSION").to_string(),
        rows_in,
        rows_loaded: loaded,
        rows_quarantined: quarantined,
        quarantine_reasons: reasons,
        columns: spec
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.name().to_string()))
            .chain([
                (
                    crate::writer::FILE_COLUMN.to_string(),
                    ColumnType::String.name().to_string(),
                ),
                (
                    crate::writer::LINE_COLUMN.to_string(),
                    ColumnType::Integer.name().to_string(),
                ),
            ])
            .collect(),
        period_min: period_str(&range.min),
        period_max: period_str(&range.max),
        references: job.references.clone(),
        inputs: files.iter().map(|f| f.input.clone()).collect(),
        data: files.iter().map(|f| f.data.clone()).collect(),
        quarantine: files.iter().map(|f| f.quarantine.clone()).collect(),
        seconds: started.elapsed().as_secs_f64(),
        derived: false,
    };
    Ok((job.staging, manifest))
}

fn data_file(dir: &Path, rel: &str, rows: u64) -> Result<DataFile, IngestError> {
    let path = dir.join(rel);
    let bytes = std::fs::metadata(&path)
        .map_err(|e| IngestError::io(&path, &e))?
        .len();
    let hash = engine::hash_file(&path)?;
    Ok(DataFile {
        path: rel.to_string(),
        bytes,
        rows,
        hash,
    })
}
