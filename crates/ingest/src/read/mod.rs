//! Readers: each turns one input file into rows of [`Cell`]s in the spec's column order,
//! with the physical line each row starts on. A reader fails the whole file (with file, line
//! and byte) only when the file cannot be read as declared; a bad row is passed on with its
//! problem so that validation can quarantine it.

mod csv;
mod jsonl;
mod parquet;
mod xlsx;

use crate::error::IngestError;
use chrono::{NaiveDate, NaiveDateTime};
use model::Format;
use project::SourceSpec;
use std::borrow::Cow;
use std::path::Path;

/// One value as the file holds it, before conversion to the column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    /// Text, converted with the spec's decimal separator and date formats.
    Text(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

impl Cell<'_> {
    /// The value as a person would read it (for quarantine records).
    pub fn raw(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Text(s) => Some(s.to_string()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(f.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
            Cell::DateTime(d) => Some(d.format("%Y-%m-%dT%H:%M:%S").to_string()),
        }
    }
}

/// A row handed to the [`Sink`].
pub struct Row<'r, 'a> {
    /// 1-based physical line (CSV, JSONL), sheet row (XLSX) or row number (Parquet).
    pub line: u64,
    /// One cell per spec column, in spec order.
    pub cells: &'r [Cell<'a>],
    /// A problem with the row as a whole (wrong number of fields, not a JSON object).
    pub problem: Option<String>,
}

/// Receives rows and progress from a reader.
pub trait Sink {
    /// The file's column names, in file order, once the header is read. When the spec has no
    /// columns ("whole table" mode, used by the identifier scan), rows then hold one cell per
    /// name; JSON lines may call this again when a later object brings a new key.
    fn header(&mut self, _names: &[String]) {}
    fn row(&mut self, row: &Row<'_, '_>) -> Result<(), IngestError>;
    /// Bytes of the file consumed so far.
    fn progress(&mut self, _bytes: u64) {}
}

/// Reads `path` as `spec` declares it, feeding every data row to `sink`.
pub fn read_file(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    sniff(spec, path)?;
    match spec.format {
        Format::Csv => csv::read(spec, path, sink),
        Format::Xlsx => xlsx::read(spec, path, sink),
        Format::Parquet => parquet::read(spec, path, sink),
        Format::Jsonl => jsonl::read(spec, path, sink),
    }
}

/// Rejects a file whose first bytes say it is not in the declared format.
fn sniff(spec: &SourceSpec, path: &Path) -> Result<(), IngestError> {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(IngestError::io(path, &e)),
        }
    }
    let head = &head[..n];
    let looks = if head.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive (an XLSX workbook?)")
    } else if head.starts_with(b"PAR1") {
        Some("a Parquet file")
    } else if head.starts_with(b"\xD0\xCF\x11\xE0") {
        Some("an old Excel (.xls) or other OLE document")
    } else if head.starts_with(b"%PDF") {
        Some("a PDF document")
    } else if head.contains(&0) {
        Some("binary data")
    } else {
        None
    };
    let declared_ok = match spec.format {
        Format::Csv | Format::Jsonl => looks.is_none(),
        Format::Xlsx => head.starts_with(b"PK\x03\x04"),
        Format::Parquet => head.starts_with(b"PAR1"),
    };
    if declared_ok {
        return Ok(());
    }
    let what = looks.unwrap_or("text");
    let suggestion = match what {
        w if w.starts_with("a ZIP") => Some("xlsx"),
        w if w.starts_with("a Parquet") => Some("parquet"),
        "text" => Some("csv"),
        _ => None,
    };
    let mut err = IngestError::file(
        path,
        0,
        format!("not a {} file: it looks like {what}", spec.format),
    )
    .at_byte(0);
    if let Some(s) = suggestion {
        err = err.with_hint(format!(
            "set format = \"{s}\" in {} or check the file",
            spec.spec_file.display()
        ));
    }
    Err(err)
}

/// Positions of the spec's columns in a file's header, matched case-insensitively after
/// trimming. A missing column fails the file: the holder changed the export, or the spec is
/// wrong. A spec without columns reads the whole table.
pub(crate) fn map_header(
    spec: &SourceSpec,
    path: &Path,
    line: u64,
    header: &[String],
) -> Result<Vec<usize>, IngestError> {
    if spec.columns.is_empty() {
        return Ok((0..header.len()).collect());
    }
    let norm: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let mut out = Vec::with_capacity(spec.columns.len());
    let mut missing = Vec::new();
    for c in &spec.columns {
        match norm.iter().position(|h| *h == c.from.to_lowercase()) {
            Some(i) => out.push(i),
            None => missing.push(c),
        }
    }
    if let Some(first) = missing.first() {
        let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        let close = names
            .iter()
            .map(|h| {
                (
                    strsim::jaro_winkler(&h.to_lowercase(), &first.from.to_lowercase()),
                    *h,
                )
            })
            .filter(|(s, _)| *s > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, h)| h);
        let list: Vec<String> = missing
            .iter()
            .map(|c| format!("`{}` (for `{}`)", c.from, c.name))
            .collect();
        let hint = match close {
            Some(h) => format!(
                "the header has `{h}`: did the holder rename it? set `from = \"{h}\"` for column `{}`",
                first.name
            ),
            None => format!(
                "the header (line {line}) is: {}; check `header_row` and `from` in {}",
                names.join(", "),
                spec.spec_file.display()
            ),
        };
        return Err(IngestError::file(
            path,
            line,
            format!("column {} not found in the header", list.join(", ")),
        )
        .with_hint(hint));
    }
    Ok(out)
}
