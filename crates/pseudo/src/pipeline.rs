//! The streaming pseudonymizer: raw rows in, pseudonymized Parquet, the custodian's lookup table
//! and the custodian's quarantine out.
//!
//! A [`Run`] covers one `datalab pseudonymize` invocation (one or more input files of one spec).
//! Rows are fed one at a time by a reader (the binary uses `ingest`'s readers), so memory stays
//! bounded: one Parquet row group of output, plus the set of pseudonyms already written to the
//! lookup (16 bytes per distinct identifier). Every output file and the lookup are written to a
//! temporary file and renamed into place only when complete.

use crate::generalize::{to_month, to_year};
use crate::keys::KeyRing;
use crate::normalize;
use crate::pseudonym::Pseudonymizer;
use crate::spec::{Action, CustodianSpec, Derived, IdKind, Target};
use crate::taxcode::{self, TaxCode};
use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::NaiveDate;
use model::ColumnType;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The column that carries the holder's line number into the pseudonymized file.
pub const LINE_COLUMN: &str = model::LINE_COLUMN;
/// The lookup table's header.
pub const LOOKUP_HEADER: [&str; 4] = ["pseudonym", "kind", "key_version", "identifier"];
const BATCH_ROWS: usize = 32_768;

/// Why a run failed (bad rows are not failures: they go to the quarantine).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: cannot write parquet: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
}

impl RunError {
    fn io(path: &Path, e: &dyn std::fmt::Display) -> RunError {
        RunError::Io {
            path: path.to_path_buf(),
            message: e.to_string().to_lowercase(),
        }
    }
}

/// The accounting of a run: rows in = rows pseudonymized + rows quarantined.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Accounting {
    pub rows_in: u64,
    pub rows_pseudonymized: u64,
    pub rows_quarantined: u64,
    /// Quarantined rows per rule (`tax_code`, `date`, `age`, `row`).
    pub quarantine_rules: BTreeMap<String, u64>,
    /// Pseudonyms written, per output column.
    pub pseudonyms: BTreeMap<String, u64>,
    /// Weak pseudonyms (from name, birth date and sex), per output column.
    pub weak: BTreeMap<String, u64>,
    /// Values left empty because they could not be generalized (an address not in the street
    /// table), per output column.
    pub not_generalized: BTreeMap<String, u64>,
    /// Distinct identifiers in the lookup table.
    pub lookup_entries: u64,
    /// Raw columns present in the file(s) but not named by the spec: never read.
    pub unread_columns: Vec<String>,
    /// Output files written.
    pub files: Vec<FileAccounting>,
    /// Direct identifiers the lab's guard would find in the output (it must be empty: the
    /// caller deletes the output otherwise).
    pub findings: Vec<crate::scan::Finding>,
}

/// One output file.
#[derive(Debug, Clone, Serialize)]
pub struct FileAccounting {
    pub input: String,
    pub output: String,
    pub rows_in: u64,
    pub rows_pseudonymized: u64,
    pub rows_quarantined: u64,
    pub bytes_in: u64,
}

/// One `datalab pseudonymize` invocation.
pub struct Run<'s> {
    spec: &'s CustodianSpec,
    makers: Vec<Makers>,
    key_version: u32,
    lookup: Lookup,
    quarantine: csv::Writer<tempfile::NamedTempFile>,
    quarantine_path: PathBuf,
    acc: Accounting,
    /// The output's text columns as the lab's guard will see them, scanned as they are written.
    scan: crate::scan::TableScan,
    /// Per output column, its index in `scan` (pseudonyms, numbers and dates are not scanned).
    scanned: Vec<Option<usize>>,
    /// Per output: pseudonyms, weak pseudonyms, values not generalized (names added at the end).
    counts: Vec<Counts>,
}

/// What one output did, counted row by row, and the addresses it already located.
#[derive(Default, Clone)]
struct Counts {
    pseudonyms: u64,
    weak: u64,
    not_generalized: u64,
    /// Address -> (zone, postcode), or `None` when the street table does not know it. The same
    /// address comes back every year; the memo stops growing at [`PLACES_MEMO`] addresses.
    places: HashMap<Box<str>, Option<(Box<str>, Option<Box<str>>)>>,
}

/// Most addresses remembered per output (about 100 bytes each).
const PLACES_MEMO: usize = 500_000;

/// The pseudonymizers of one output.
struct Makers {
    strong: Option<Pseudonymizer>,
    weak: Option<Pseudonymizer>,
}

struct Lookup {
    path: PathBuf,
    writer: csv::Writer<tempfile::NamedTempFile>,
    /// xxh3-128 of every pseudonym written (16 bytes per distinct identifier).
    seen: Seen,
}

type Seen = HashSet<u128, model::KeyHash>;

/// A lookup entry waiting for its row to succeed: (hash, pseudonym, kind, identifier).
type Pending = Vec<(u128, String, String, String)>;

/// Queues a lookup entry unless the pseudonym is already in the lookup (the identifier is built
/// only for new ones).
fn remember(pending: &mut Pending, seen: &Seen, p: &str, kind: &str, id: impl FnOnce() -> String) {
    let h = xxhash_rust::xxh3::xxh3_128(p.as_bytes());
    if !seen.contains(&h) && !pending.iter().any(|e| e.0 == h) {
        pending.push((h, p.to_string(), kind.to_string(), id()));
    }
}

impl<'s> Run<'s> {
    /// Starts a run: the lookup and quarantine files are created next to their destinations
    /// and appear there only when [`Run::finish`] succeeds.
    pub fn new(
        spec: &'s CustodianSpec,
        key: &KeyRing,
        lookup_path: &Path,
        quarantine_path: &Path,
    ) -> Result<Run<'s>, RunError> {
        let makers = spec
            .outputs
            .iter()
            .map(|o| match &o.action {
                Action::Pseudonym { kind, fallback, .. } => Makers {
                    strong: Some(key.pseudonymizer(kind.name(), *kind == IdKind::NameBirth)),
                    weak: fallback.map(|_| key.pseudonymizer(IdKind::NameBirth.name(), true)),
                },
                _ => Makers {
                    strong: None,
                    weak: None,
                },
            })
            .collect();
        let mut lookup = csv::Writer::from_writer(temp_beside(lookup_path)?);
        lookup
            .write_record(LOOKUP_HEADER)
            .map_err(|e| RunError::io(lookup_path, &e))?;
        let mut quarantine = csv::Writer::from_writer(temp_beside(quarantine_path)?);
        quarantine
            .write_record(["file", "line", "column", "rule", "reason", "value"])
            .map_err(|e| RunError::io(quarantine_path, &e))?;
        let mut names = Vec::new();
        let mut scanned = Vec::new();
        for o in &spec.outputs {
            let pseudonym = matches!(o.action, Action::Pseudonym { .. });
            for (i, (name, ty)) in o.columns().into_iter().enumerate() {
                if ty == ColumnType::String && !(pseudonym && i == 0) {
                    scanned.push(Some(names.len()));
                    names.push(name);
                } else {
                    scanned.push(None);
                }
            }
        }
        Ok(Run {
            counts: vec![Counts::default(); spec.outputs.len()],
            scan: crate::scan::TableScan::new(names),
            scanned,
            spec,
            makers,
            key_version: key.current_version(),
            lookup: Lookup {
                path: lookup_path.to_path_buf(),
                writer: lookup,
                seen: HashSet::default(),
            },
            quarantine,
            quarantine_path: quarantine_path.to_path_buf(),
            acc: Accounting::default(),
        })
    }

    /// Starts the output file for one input; feed it rows, then [`FileRun::finish`].
    pub fn file(
        &mut self,
        input: &str,
        bytes_in: u64,
        out: &Path,
    ) -> Result<FileRun<'_, 's>, RunError> {
        let columns = self.spec.output_columns();
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|(n, t)| Field::new(n, arrow_type(*t), true))
            .collect();
        fields.push(Field::new(LINE_COLUMN, DataType::Int64, false));
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(BATCH_ROWS * 4))
            .build();
        let tmp = temp_beside(out)?;
        let file = tmp.reopen().map_err(|e| RunError::io(out, &e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| {
            RunError::Parquet {
                path: out.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        Ok(FileRun {
            builders: columns.iter().map(|(_, t)| Builder::new(*t)).collect(),
            lines: Int64Builder::with_capacity(BATCH_ROWS),
            run: self,
            schema,
            writer,
            tmp,
            out: out.to_path_buf(),
            acc: FileAccounting {
                input: input.to_string(),
                output: out.display().to_string(),
                rows_in: 0,
                rows_pseudonymized: 0,
                rows_quarantined: 0,
                bytes_in,
            },
            pending: Vec::new(),
            buf: String::with_capacity(256),
        })
    }

    /// Records raw columns the file has and the spec does not read.
    pub fn header(&mut self, names: &[String]) {
        let read = &self.spec.read.columns;
        for n in names {
            let n = n.trim().trim_start_matches('\u{feff}');
            if n.is_empty() {
                continue;
            }
            let named = read.iter().any(|c| c.from.eq_ignore_ascii_case(n))
                || self.spec.dropped.iter().any(|d| d.eq_ignore_ascii_case(n));
            if !named && !self.acc.unread_columns.iter().any(|u| u == n) {
                self.acc.unread_columns.push(n.to_string());
            }
        }
    }

    /// Writes the lookup and the quarantine into place and returns the accounting.
    pub fn finish(self) -> Result<Accounting, RunError> {
        let Run {
            lookup,
            quarantine,
            quarantine_path,
            mut acc,
            scan,
            counts,
            spec,
            ..
        } = self;
        let counts = counts.into_iter();
        for (o, c) in spec.outputs.iter().zip(counts) {
            for (map, n) in [
                (&mut acc.pseudonyms, c.pseudonyms),
                (&mut acc.weak, c.weak),
                (&mut acc.not_generalized, c.not_generalized),
            ] {
                if n > 0 {
                    *map.entry(o.name.clone()).or_default() += n;
                }
            }
        }
        acc.lookup_entries = lookup.seen.len() as u64;
        acc.findings = scan.finish();
        persist(lookup.writer, &lookup.path)?;
        persist(quarantine, &quarantine_path)?;
        Ok(acc)
    }

    /// The accounting so far.
    pub fn accounting(&self) -> &Accounting {
        &self.acc
    }
}

fn persist(w: csv::Writer<tempfile::NamedTempFile>, dest: &Path) -> Result<(), RunError> {
    let tmp = w.into_inner().map_err(|e| RunError::io(dest, &e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| RunError::io(dest, &e))?;
    tmp.persist(dest)
        .map_err(|e| RunError::io(dest, &e.error))?;
    Ok(())
}

fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, RunError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, &e))?;
    tempfile::Builder::new()
        .prefix(".datalab-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| RunError::io(dir, &e))
}

fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Integer => DataType::Int64,
        ColumnType::Date => DataType::Date32,
        ColumnType::Boolean => DataType::Boolean,
        _ => DataType::Utf8,
    }
}

enum Builder {
    Str(StringBuilder),
    Int(Int64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(t: ColumnType) -> Builder {
        match arrow_type(t) {
            DataType::Int64 => Builder::Int(Int64Builder::with_capacity(BATCH_ROWS)),
            DataType::Date32 => Builder::Date(Date32Builder::with_capacity(BATCH_ROWS)),
            DataType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(BATCH_ROWS)),
            _ => Builder::Str(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
        }
    }

    fn push(&mut self, v: &Value<'_>, buf: &str) {
        match (self, v) {
            (Builder::Str(b), Value::Buf(from, to)) => b.append_value(&buf[*from..*to]),
            (Builder::Str(b), Value::Str(s)) => b.append_value(s),
            (Builder::Str(b), Value::Owned(s)) => b.append_value(s),
            (Builder::Int(b), Value::Int(i)) => b.append_value(*i),
            (Builder::Date(b), Value::Date(d)) => b.append_value(days(*d)),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Builder::Str(b), _) => b.append_null(),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Date(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// One computed output value.
enum Value<'a> {
    Null,
    /// A range of the row's pseudonym buffer.
    Buf(usize, usize),
    Str(&'a str),
    Owned(String),
    Int(i64),
    Date(NaiveDate),
    Bool(bool),
}

/// A row that cannot be pseudonymized.
struct Reject {
    column: String,
    rule: &'static str,
    reason: String,
    value: String,
}

/// Writing one output file.
pub struct FileRun<'r, 's> {
    run: &'r mut Run<'s>,
    schema: Arc<Schema>,
    builders: Vec<Builder>,
    lines: Int64Builder,
    writer: ArrowWriter<std::fs::File>,
    tmp: tempfile::NamedTempFile,
    out: PathBuf,
    acc: FileAccounting,
    /// Lookup entries of the current row: (pseudonym, kind, identifier).
    pending: Pending,
    /// The current row's pseudonyms, end to end ([`Value::Buf`] points into it).
    buf: String,
}

impl FileRun<'_, '_> {
    /// The raw file's header (to report columns the spec does not read).
    pub fn header(&mut self, names: &[String]) {
        self.run.header(names);
    }

    /// One raw row: `cells` holds one value per raw column of the spec's `read` columns;
    /// `problem` is set when the reader found the row malformed.
    pub fn row(
        &mut self,
        line: u64,
        cells: &[Option<&str>],
        problem: Option<&str>,
    ) -> Result<(), RunError> {
        self.acc.rows_in += 1;
        self.run.acc.rows_in += 1;
        if let Some(p) = problem {
            return self.reject(
                line,
                Reject {
                    column: String::new(),
                    rule: "row",
                    reason: p.to_string(),
                    value: String::new(),
                },
            );
        }
        self.pending.clear();
        let mut values: Vec<Value<'_>> = Vec::with_capacity(self.builders.len());
        let spec = self.run.spec;
        self.buf.clear();
        for ((o, makers), counts) in spec
            .outputs
            .iter()
            .zip(&self.run.makers)
            .zip(self.run.counts.iter_mut())
        {
            let result = compute(
                spec,
                o,
                makers,
                cells,
                &mut values,
                &mut self.pending,
                &self.run.lookup.seen,
                counts,
                &mut self.buf,
            );
            if let Err(r) = result {
                return self.reject(line, r);
            }
        }
        for ((b, v), slot) in self.builders.iter_mut().zip(&values).zip(&self.run.scanned) {
            b.push(v, &self.buf);
            if let Some(i) = *slot {
                match v {
                    Value::Str(s) => self.run.scan.observe_value(i, s),
                    Value::Owned(s) => self.run.scan.observe_value(i, s),
                    Value::Buf(a, z) => self.run.scan.observe_value(i, &self.buf[*a..*z]),
                    _ => self.run.scan.observe_null(i),
                }
            }
        }
        self.lines.append_value(line as i64);
        for (h, p, kind, id) in self.pending.drain(..) {
            self.run.lookup.seen.insert(h);
            let v = self.run.key_version.to_string();
            self.run
                .lookup
                .writer
                .write_record([p.as_str(), kind.as_str(), v.as_str(), id.as_str()])
                .map_err(|e| RunError::io(&self.run.lookup.path, &e))?;
        }
        self.acc.rows_pseudonymized += 1;
        self.run.acc.rows_pseudonymized += 1;
        if self.lines.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn reject(&mut self, line: u64, r: Reject) -> Result<(), RunError> {
        self.acc.rows_quarantined += 1;
        self.run.acc.rows_quarantined += 1;
        *self
            .run
            .acc
            .quarantine_rules
            .entry(r.rule.to_string())
            .or_default() += 1;
        let line = line.to_string();
        self.run
            .quarantine
            .write_record([
                self.acc.input.as_str(),
                line.as_str(),
                r.column.as_str(),
                r.rule,
                r.reason.as_str(),
                r.value.as_str(),
            ])
            .map_err(|e| RunError::io(&self.run.quarantine_path, &e))
    }

    fn flush(&mut self) -> Result<(), RunError> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        arrays.push(Arc::new(self.lines.finish()));
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| RunError::Parquet {
                path: self.out.clone(),
                message: e.to_string(),
            })?;
        self.writer.write(&batch).map_err(|e| RunError::Parquet {
            path: self.out.clone(),
            message: e.to_string(),
        })
    }

    /// Completes the output file and renames it into place.
    pub fn finish(mut self) -> Result<FileAccounting, RunError> {
        self.flush()?;
        let out = self.out.clone();
        self.writer.close().map_err(|e| RunError::Parquet {
            path: out.clone(),
            message: e.to_string(),
        })?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| RunError::io(&out, &e))?;
        self.tmp
            .persist(&out)
            .map_err(|e| RunError::io(&out, &e.error))?;
        self.run.acc.files.push(self.acc.clone());
        Ok(self.acc)
    }
}

/// Computes one output's values (pushing them onto `values`), or says why the row is rejected.
fn compute<'c>(
    spec: &CustodianSpec,
    o: &crate::spec::Output,
    makers: &Makers,
    cells: &[Option<&'c str>],
    values: &mut Vec<Value<'c>>,
    pending: &mut Pending,
    seen: &Seen,
    counts: &mut Counts,
    buf: &mut String,
) -> Result<(), Reject> {
    let cell = |read_index: usize| cells.get(read_index).copied().flatten();
    let input = |i: usize| cell(o.inputs[i]);
    let raw_name = |i: usize| spec.read.columns[o.inputs[i]].from.clone();
    match &o.action {
        Action::Keep => values.push(input(0).map_or(Value::Null, Value::Str)),
        Action::Pseudonym {
            kind,
            derive,
            fallback,
        } => {
            let strong = makers.strong.as_ref();
            match kind {
                IdKind::TaxCode => match input(0) {
                    Some(raw) => {
                        let tc = parse_tax_code(raw, &raw_name(0))?;
                        let v = make(strong, tc.code(), buf);
                        remember(pending, seen, v.text(buf), kind.name(), || {
                            tc.code().to_string()
                        });
                        counts.pseudonyms += 1;
                        values.push(v);
                        push_derived(spec, derive, Some(&tc), values);
                    }
                    None => {
                        let weak = fallback.and_then(|f| {
                            weak_identifier(spec, cell(f[0]), cell(f[1]), cell(f[2]), cell(f[3]))
                        });
                        match (weak, makers.weak.as_ref()) {
                            (Some(id), Some(w)) => {
                                let v = make(Some(w), &id, buf);
                                remember(
                                    pending,
                                    seen,
                                    v.text(buf),
                                    IdKind::NameBirth.name(),
                                    || id,
                                );
                                counts.pseudonyms += 1;
                                counts.weak += 1;
                                values.push(v);
                            }
                            _ => values.push(Value::Null),
                        }
                        push_derived(spec, derive, None, values);
                    }
                },
                IdKind::NameBirth => {
                    match weak_identifier(spec, input(0), input(1), input(2), input(3)) {
                        Some(id) => {
                            let v = make(strong, &id, buf);
                            remember(pending, seen, v.text(buf), kind.name(), || id);
                            counts.pseudonyms += 1;
                            counts.weak += 1;
                            values.push(v);
                        }
                        None => values.push(Value::Null),
                    }
                }
                IdKind::Plain(_) => match input(0).map(str::trim).filter(|s| !s.is_empty()) {
                    Some(raw) => {
                        let id = raw.to_uppercase();
                        let v = make(strong, &id, buf);
                        remember(pending, seen, v.text(buf), kind.name(), || id);
                        counts.pseudonyms += 1;
                        values.push(v);
                    }
                    None => values.push(Value::Null),
                },
            }
        }
        Action::Derive { derive } => {
            let tc = match input(0) {
                Some(raw) => Some(parse_tax_code(raw, &raw_name(0))?),
                None => None,
            };
            push_derived(spec, derive, tc.as_ref(), values);
        }
        Action::Generalize(target) => {
            let Some(raw) = input(0).map(str::trim).filter(|s| !s.is_empty()) else {
                values.push(Value::Null);
                return Ok(());
            };
            let v = match target {
                Target::Month | Target::Year => {
                    let d = parse_date(raw, &spec.read.date_formats).ok_or_else(|| Reject {
                        column: raw_name(0),
                        rule: "date",
                        reason: format!(
                            "`{raw}` is not a date in {}",
                            spec.read.date_formats.join(" or ")
                        ),
                        value: raw.to_string(),
                    })?;
                    if matches!(target, Target::Month) {
                        Value::Date(to_month(d))
                    } else {
                        Value::Int(to_year(d) as i64)
                    }
                }
                Target::AgeBand(bands) => {
                    let age: u32 = raw.parse().map_err(|_| Reject {
                        column: raw_name(0),
                        rule: "age",
                        reason: format!("`{raw}` is not an age in whole years"),
                        value: raw.to_string(),
                    })?;
                    Value::Owned(bands.label(age).to_string())
                }
                Target::Zone(t) | Target::Postcode(t) => {
                    let place = match counts.places.get(raw) {
                        Some(p) => p.clone(),
                        None => {
                            let p = t.locate(raw).ok().map(|e| {
                                (
                                    e.zone.as_str().into(),
                                    e.postcode.as_deref().map(Into::into),
                                )
                            });
                            if counts.places.len() < PLACES_MEMO {
                                counts.places.insert(raw.into(), p.clone());
                            }
                            p
                        }
                    };
                    match place {
                        Some((zone, _)) if matches!(target, Target::Zone(_)) => {
                            Value::Owned(zone.into())
                        }
                        Some((_, postcode)) => {
                            postcode.map_or(Value::Null, |p| Value::Owned(p.into()))
                        }
                        None => {
                            counts.not_generalized += 1;
                            Value::Null
                        }
                    }
                }
                Target::PostcodeArea => match crate::generalize::postcode_area(raw) {
                    Some(a) => Value::Owned(a),
                    None => {
                        counts.not_generalized += 1;
                        Value::Null
                    }
                },
            };
            values.push(v);
        }
    }
    Ok(())
}

/// Appends the pseudonym of `id` to the row buffer.
fn make(p: Option<&Pseudonymizer>, id: &str, buf: &mut String) -> Value<'static> {
    let from = buf.len();
    if let Some(p) = p {
        p.write(id, buf);
    }
    Value::Buf(from, buf.len())
}

impl Value<'_> {
    /// The text of a buffer value (empty for others).
    fn text<'b>(&self, buf: &'b str) -> &'b str {
        match self {
            Value::Buf(a, z) => &buf[*a..*z],
            _ => "",
        }
    }
}

fn parse_tax_code(raw: &str, column: &str) -> Result<TaxCode, Reject> {
    taxcode::parse(raw).map_err(|e| Reject {
        column: column.to_string(),
        rule: "tax_code",
        reason: format!("invalid tax code: {e}"),
        value: raw.to_string(),
    })
}

fn push_derived(
    spec: &CustodianSpec,
    derive: &[(Derived, String)],
    tc: Option<&TaxCode>,
    values: &mut Vec<Value<'_>>,
) {
    for (d, _) in derive {
        let Some(tc) = tc else {
            values.push(Value::Null);
            continue;
        };
        values.push(match d {
            Derived::BirthYear => Value::Int(birth_year(
                tc.birth_year_2(),
                spec.reference_year - spec.min_age as i32,
            ) as i64),
            Derived::BirthMonth => Value::Int(tc.birth_month() as i64),
            Derived::Sex => Value::Owned(tc.sex().to_string()),
            Derived::BirthPlaceCode => Value::Owned(tc.birth_place_code()),
            Derived::BornInItaly => Value::Bool(tc.born_in_italy()),
        });
    }
}

/// The latest year ending in `yy` that is not after `cap` (the reference year minus the
/// youngest age in the file).
fn birth_year(yy: u8, cap: i32) -> i32 {
    cap - (cap - i32::from(yy)).rem_euclid(100)
}

fn weak_identifier(
    spec: &CustodianSpec,
    surname: Option<&str>,
    first: Option<&str>,
    birth: Option<&str>,
    sex: Option<&str>,
) -> Option<String> {
    let date = parse_date(birth?.trim(), &spec.read.date_formats)?;
    let sex = normalize::sex(sex?)?;
    let (s, f) = (surname?.trim(), first?.trim());
    if s.is_empty() || f.is_empty() {
        return None;
    }
    Some(normalize::weak_identifier(s, f, date, sex))
}

/// Parses a date with the spec's formats, then ISO 8601 (an XLSX date cell arrives as ISO).
/// `dd/mm/yyyy` and `yyyy-mm-dd`, by far the most common, skip chrono's format interpreter.
pub fn parse_date(text: &str, formats: &[String]) -> Option<NaiveDate> {
    formats
        .iter()
        .map(String::as_str)
        .chain(["%Y-%m-%d"])
        .find_map(|f| {
            match f {
                "%d/%m/%Y" => fixed_date(text, b'/', [6, 3, 0]),
                "%Y-%m-%d" => fixed_date(text, b'-', [0, 5, 8]),
                _ => None,
            }
            .or_else(|| NaiveDate::parse_from_str(text, f).ok())
        })
}

/// A 10-character date with `sep` at the two places between its parts; `at` gives where the
/// year, the month and the day start.
fn fixed_date(text: &str, sep: u8, at: [usize; 3]) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let seps = if at[0] == 0 { [4, 7] } else { [2, 5] };
    if b[seps[0]] != sep || b[seps[1]] != sep {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        b[from..from + len].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(at[0], 4)? as i32, num(at[1], 2)?, num(at[2], 2)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Int64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    const SPEC: &str = "format_version = 1
source = \"social_cases\"
format = \"csv\"
delimiter = \";\"
date_formats = [\"%d/%m/%Y\"]
reference_year = 2024

[[columns]]
from = \"CF\"
action = \"pseudonym\"
kind = \"tax_code\"
name = \"person_pid\"
derive = [\"birth_year\", \"sex\", \"born_in_italy\"]
fallback = [\"COGNOME\", \"NOME\", \"NASCITA\", \"SESSO\"]

[[columns]]
from = [\"COGNOME\", \"NOME\", \"NASCITA\", \"SESSO\"]
action = \"pseudonym\"
kind = \"name_birth\"
name = \"person_wpid\"

[[columns]]
from = \"NASCITA\"
action = \"generalize\"
to = \"month\"
name = \"birth_month\"

[[columns]]
from = \"AREA\"
action = \"keep\"
name = \"area\"
";

    struct Out {
        acc: Accounting,
        batch: RecordBatch,
        lookup: String,
        quarantine: String,
        key: KeyRing,
    }

    /// Rows are (CF, COGNOME, NOME, NASCITA, SESSO, AREA).
    fn run(rows: &[[Option<&str>; 6]]) -> Out {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec_path = dir.path().join("spec.toml");
        std::fs::write(&spec_path, SPEC).expect("spec");
        let spec = CustodianSpec::load(&spec_path).expect("valid spec");
        let raw: Vec<&str> = spec.read.columns.iter().map(|c| c.from.as_str()).collect();
        assert_eq!(raw, ["CF", "COGNOME", "NOME", "NASCITA", "SESSO", "AREA"]);
        let key = KeyRing::generate("test-lab", "city").expect("key");
        let lookup = dir.path().join("lookup.csv");
        let quarantine = dir.path().join("q.csv");
        let out = dir.path().join("out.parquet");
        let mut run = Run::new(&spec, &key, &lookup, &quarantine).expect("run");
        let mut file = run.file("raw.csv", 0, &out).expect("file");
        for (i, r) in rows.iter().enumerate() {
            file.row(i as u64 + 2, r, None).expect("row");
        }
        file.finish().expect("finish");
        let acc = run.finish().expect("accounting");
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&out).expect("out"))
                .expect("parquet")
                .build()
                .expect("reader");
        let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
        Out {
            acc,
            batch,
            lookup: std::fs::read_to_string(lookup).expect("lookup"),
            quarantine: std::fs::read_to_string(quarantine).expect("quarantine"),
            key,
        }
    }

    fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a ArrayRef {
        b.column_by_name(name).expect(name)
    }

    #[test]
    fn rows_are_pseudonymized_derived_generalized_or_quarantined() {
        let out = run(&[
            // A valid code (lower case, spaces): strong pseudonym, derived values.
            [
                Some("rssmra85t10 a562s"),
                Some("Rossi"),
                Some("Mario"),
                Some("10/12/1985"),
                Some("M"),
                Some("anziani"),
            ],
            // The same person again: one lookup entry.
            [
                Some("RSSMRA85T10A562S"),
                Some("ROSSI"),
                Some("MARIO"),
                Some("10/12/1985"),
                Some("M"),
                Some("adulti"),
            ],
            // Wrong check character: quarantined, never through.
            [
                Some("RSSMRA85T10A562T"),
                Some("Rossi"),
                Some("Mario"),
                Some("10/12/1985"),
                Some("M"),
                Some("adulti"),
            ],
            // No code: a weak pseudonym from name, birth date and sex.
            [
                None,
                Some("D'Angelo"),
                Some("Anna"),
                Some("01/02/1990"),
                Some("F"),
                Some("famiglie"),
            ],
            // An impossible date cannot be generalized: quarantined.
            [
                None,
                Some("Bianchi"),
                Some("Luca"),
                Some("31/02/1990"),
                Some("M"),
                Some("minori"),
            ],
        ]);
        let a = &out.acc;
        assert_eq!(
            (a.rows_in, a.rows_pseudonymized, a.rows_quarantined),
            (5, 3, 2)
        );
        assert_eq!(a.quarantine_rules.get("tax_code"), Some(&1));
        assert_eq!(a.quarantine_rules.get("date"), Some(&1));
        assert_eq!(a.weak.get("person_pid"), Some(&1));

        let b = &out.batch;
        assert_eq!(b.num_rows(), 3);
        let pid = col(b, "person_pid").as_string::<i32>();
        let strong = out
            .key
            .pseudonymizer("tax_code", false)
            .pseudonym("RSSMRA85T10A562S");
        assert_eq!(pid.value(0), strong);
        assert_eq!(pid.value(1), strong);
        let weak = out
            .key
            .pseudonymizer("name_birth", true)
            .pseudonym("DANGELO|ANNA|1990-02-01|F");
        assert_eq!(pid.value(2), weak);
        assert!(weak.starts_with("w1."));
        // The composite weak column gives the same weak pseudonym: records link.
        assert_eq!(col(b, "person_wpid").as_string::<i32>().value(2), weak);
        let by = col(b, "birth_year").as_primitive::<Int64Type>();
        assert_eq!(by.value(0), 1985);
        assert!(by.is_null(2));
        assert_eq!(col(b, "sex").as_string::<i32>().value(0), "M");
        assert!(col(b, "born_in_italy").as_boolean().value(0));
        let month = col(b, "birth_month").as_primitive::<Date32Type>().value(2);
        let first = NaiveDate::from_ymd_opt(1990, 2, 1).expect("date");
        assert_eq!(month, days(first));
        assert_eq!(col(b, "area").as_string::<i32>().value(2), "famiglie");
        let lines = col(b, LINE_COLUMN).as_primitive::<Int64Type>();
        assert_eq!((lines.value(0), lines.value(2)), (2, 5));

        // Lookup: strong code once, weak identifiers, no duplicates.
        let lookup: Vec<&str> = out.lookup.lines().collect();
        assert_eq!(lookup[0], "pseudonym,kind,key_version,identifier");
        assert_eq!(
            lookup
                .iter()
                .filter(|l| l.ends_with(",RSSMRA85T10A562S"))
                .count(),
            1,
            "{lookup:?}"
        );
        assert!(
            lookup.contains(&format!("{weak},name_birth,1,DANGELO|ANNA|1990-02-01|F").as_str())
        );
        assert_eq!(a.lookup_entries as usize, lookup.len() - 1);

        // Quarantine: file, line, raw column, rule and the reason.
        assert!(
            out.quarantine.contains("raw.csv,4,CF,tax_code,"),
            "{}",
            out.quarantine
        );
        assert!(
            out.quarantine.contains("check character"),
            "{}",
            out.quarantine
        );
        assert!(
            out.quarantine.contains("raw.csv,6,NASCITA,date,"),
            "{}",
            out.quarantine
        );
    }

    #[test]
    fn fast_dates_agree_with_chrono() {
        let f = |s: &str| vec![s.to_string()];
        for (text, fmt) in [
            ("31/12/2024", "%d/%m/%Y"),
            ("29/02/2024", "%d/%m/%Y"),
            ("29/02/2023", "%d/%m/%Y"),
            ("31/02/2021", "%d/%m/%Y"),
            ("1/2/2021", "%d/%m/%Y"),
            ("2024-12-31", "%Y-%m-%d"),
            ("2024-13-01", "%Y-%m-%d"),
            ("2024/12/31", "%Y-%m-%d"),
            ("12/31/2024", "%d/%m/%Y"),
        ] {
            let chrono = NaiveDate::parse_from_str(text, fmt).ok();
            let iso = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            assert_eq!(parse_date(text, &f(fmt)), chrono.or(iso), "{text} {fmt}");
        }
    }

    #[test]
    fn a_birth_year_is_the_latest_that_leaves_the_person_old_enough() {
        // Reference 2024, anyone: 24 -> 2024, 25 -> 1925.
        assert_eq!((birth_year(24, 2024), birth_year(25, 2024)), (2024, 1925));
        // Adults only (2024 - 18 = 2006): 06 -> 2006, 07 -> 1907.
        assert_eq!(birth_year(6, 2006), 2006);
        assert_eq!(birth_year(7, 2006), 1907);
        // A declarant with code year 23 is born in 1923, not 2023.
        assert_eq!(birth_year(23, 2006), 1923);
        assert_eq!(birth_year(0, 2006), 2000);
    }

    #[test]
    fn a_malformed_row_is_quarantined_with_the_readers_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec_path = dir.path().join("spec.toml");
        std::fs::write(&spec_path, SPEC).expect("spec");
        let spec = CustodianSpec::load(&spec_path).expect("spec");
        let key = KeyRing::generate("lab", "city").expect("key");
        let mut run = Run::new(
            &spec,
            &key,
            &dir.path().join("l.csv"),
            &dir.path().join("q.csv"),
        )
        .expect("run");
        let mut f = run
            .file("raw.csv", 0, &dir.path().join("o.parquet"))
            .expect("file");
        f.row(7, &[None; 6], Some("expected 6 fields, found 9"))
            .expect("row");
        f.finish().expect("finish");
        let acc = run.finish().expect("acc");
        assert_eq!((acc.rows_in, acc.rows_quarantined), (1, 1));
        let q = std::fs::read_to_string(dir.path().join("q.csv")).expect("q");
        assert!(
            q.contains("raw.csv,7,,row,\"expected 6 fields, found 9\""),
            "{q}"
        );
    }
}
