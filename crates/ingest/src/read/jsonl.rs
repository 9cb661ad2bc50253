//! JSON lines: one object per line; keys are the holder's column names.

use super::{Cell, Row, Sink};
use crate::error::IngestError;
use project::SourceSpec;
use serde_json::Value;
use std::borrow::Cow;
use std::io::{BufRead, BufReader};
use std::path::Path;

pub(super) fn read(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    let len = file
        .metadata()
        .map_err(|e| IngestError::io(path, &e))?
        .len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut offset = 0u64;
    let mut seen_object = false;
    // Whole-table mode (a spec without columns): every key seen so far, in order of appearance.
    let whole = spec.columns.is_empty();
    let mut keys: Vec<String> = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| IngestError::io(path, &e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let start = offset;
        offset += n as u64;
        let complete = buf.ends_with(b"\n");
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim_start_matches('\u{feff}').trim(),
            Err(e) => {
                return Err(IngestError::file(
                    path,
                    line,
                    "invalid UTF-8: JSON lines must be UTF-8",
                )
                .at_byte(start + e.valid_up_to() as u64));
            }
        };
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
            Ok(obj) => {
                seen_object = true;
                if whole && obj.keys().any(|k| !keys.contains(k)) {
                    for k in obj.keys() {
                        if !keys.contains(k) {
                            keys.push(k.clone());
                        }
                    }
                    sink.header(&keys);
                }
                let cells: Vec<Cell<'_>> = if whole {
                    keys.iter()
                        .map(|k| obj.get(k).map_or(Cell::Null, cell))
                        .collect()
                } else {
                    spec.columns
                        .iter()
                        .map(|c| lookup(&obj, &c.from).map_or(Cell::Null, cell))
                        .collect()
                };
                sink.row(&Row {
                    line,
                    cells: &cells,
                    problem: None,
                })?;
            }
            Err(e) if !seen_object => {
                return Err(IngestError::file(
                    path,
                    line,
                    format!("not JSON lines: {}", e.to_string().to_lowercase()),
                )
                .at_byte(start)
                .with_hint("each line must hold one JSON object"));
            }
            Err(e) if !complete => {
                return Err(IngestError::file(
                    path,
                    line,
                    format!("the last line is not complete JSON and has no newline: the file looks truncated ({})", e.to_string().to_lowercase()),
                )
                .at_byte(start));
            }
            Err(e) => {
                let width = if whole {
                    keys.len()
                } else {
                    spec.columns.len()
                };
                let cells: Vec<Cell<'_>> = (0..width).map(|_| Cell::Null).collect();
                sink.row(&Row {
                    line,
                    cells: &cells,
                    problem: Some(format!(
                        "not a JSON object: {}",
                        e.to_string().to_lowercase()
                    )),
                })?;
            }
        }
        if line.is_multiple_of(65_536) {
            sink.progress(offset);
        }
    }
    sink.progress(len);
    Ok(())
}

fn lookup<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn cell(v: &Value) -> Cell<'_> {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cell::Text(Cow::Borrowed(s.as_str())),
        other => Cell::Text(Cow::Owned(other.to_string())),
    }
}
