//! The identifier guard's hook: before a file's rows are loaded, every column of the file (mapped
//! or not) is shown to a [`Guard`], which says whether it holds direct identifiers. A file with
//! a finding is refused as a whole: nothing of it reaches the warehouse or the quarantine.
//!
//! `ingest` only reads; what counts as an identifier is decided by the implementation the
//! binary passes in (the `pseudo` crate's scanner), so that this crate stays below it.

use crate::error::IngestError;
use crate::read::{Cell, Row, Sink, read_file};
use project::SourceSpec;
use serde::Serialize;
use std::path::Path;

/// Decides which columns of a table hold direct identifiers.
pub trait Guard: Send + Sync {
    /// Starts looking at a table with these columns; `pseudonyms[i]` says whether the spec
    /// declares column `i` a pseudonym (its values must then all be pseudonyms).
    fn table(&self, columns: &[String], pseudonyms: &[bool]) -> Box<dyn TableGuard>;
}

/// Looks at one table, row by row.
pub trait TableGuard {
    /// The table gained columns (JSON lines): the new list, a prefix-extension of the old one.
    fn columns(&mut self, columns: &[String], pseudonyms: &[bool]);
    /// One row, a value per column (`None` for empty cells and non-text values).
    fn observe(&mut self, row: &[Option<&str>]);
    /// What was found.
    fn finish(self: Box<Self>) -> Vec<Finding>;
}

/// A column holding direct identifiers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub column: String,
    /// What was found: `tax_code`, `name`, `address`, `phone`, `email`, `iban`, or
    /// `not_a_pseudonym` (a column declared a pseudonym holding something else).
    pub kind: String,
    /// Values found (0 when only the column's name gave it away).
    pub count: u64,
    /// Non-empty values looked at in the column.
    pub scanned: u64,
    /// Whether the column's name says it holds identifiers.
    pub by_name: bool,
    /// Up to three examples, masked.
    pub examples: Vec<String>,
}

/// Shows every column and row of `path`, read with `spec`'s reading options, to `guard`.
/// Columns the spec maps with `pseudonym = true` are flagged as pseudonym columns.
pub fn scan_file(
    spec: &SourceSpec,
    path: &Path,
    guard: &dyn Guard,
) -> Result<Vec<Finding>, IngestError> {
    let mut whole = spec.clone();
    whole.columns.clear();
    whole.unique.clear();
    whole.period = None;
    let mut sink = GuardSink {
        spec,
        guard,
        table: None,
        columns: Vec::new(),
        values: Vec::new(),
    };
    read_file(&whole, path, &mut sink)?;
    Ok(sink.table.map(|t| t.finish()).unwrap_or_default())
}

/// Refuses `path` when `guard` finds identifiers in it: the error lists each column, what was
/// found and masked examples.
pub(crate) fn check_file(
    spec: &SourceSpec,
    path: &Path,
    guard: &dyn Guard,
) -> Result<(), IngestError> {
    let findings = scan_file(spec, path, guard)?;
    if findings.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = findings
        .iter()
        .map(|f| {
            let what = if f.count > 0 {
                format!("{} {} value(s) of {}", f.count, f.kind, f.scanned)
            } else {
                format!("named like a {} column", f.kind)
            };
            let eg = if f.examples.is_empty() {
                String::new()
            } else {
                format!(", e.g. {}", f.examples.join(", "))
            };
            format!("`{}` ({what}{eg})", f.column)
        })
        .collect();
    Err(IngestError::file(
        path,
        0,
        format!(
            "refused by the identifier guard: direct identifiers in column {}",
            list.join("; ")
        ),
    )
    .with_hint(format!(
        "identifiers never enter the lab: the custodian runs `datalab pseudonymize` on this file; a column that already holds pseudonyms is marked `pseudonym = true` in {}",
        spec.spec_file.display()
    )))
}

struct GuardSink<'a> {
    spec: &'a SourceSpec,
    guard: &'a dyn Guard,
    table: Option<Box<dyn TableGuard>>,
    columns: Vec<String>,
    values: Vec<Option<String>>,
}

impl GuardSink<'_> {
    fn pseudonym_flags(&self) -> Vec<bool> {
        self.columns
            .iter()
            .map(|name| {
                let name = name.trim().trim_start_matches('\u{feff}');
                self.spec
                    .columns
                    .iter()
                    .any(|c| c.pseudonym && c.from.eq_ignore_ascii_case(name))
            })
            .collect()
    }
}

impl Sink for GuardSink<'_> {
    fn header(&mut self, names: &[String]) {
        // A column without a name (a title block above the header, a blank header cell) is
        // still scanned, under its position.
        self.columns = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if n.trim().is_empty() {
                    format!("column_{}", i + 1)
                } else {
                    n.clone()
                }
            })
            .collect();
        let flags = self.pseudonym_flags();
        match &mut self.table {
            Some(t) => t.columns(&self.columns, &flags),
            None => self.table = Some(self.guard.table(&self.columns, &flags)),
        }
    }

    fn row(&mut self, row: &Row<'_, '_>) -> Result<(), IngestError> {
        let Some(table) = &mut self.table else {
            return Ok(());
        };
        // Text is borrowed; integers (a phone number in a JSON number, say) are formatted into
        // reused buffers; other types hold no identifier.
        use std::fmt::Write;
        let mut n = 0;
        for c in row.cells {
            if let Cell::Int(i) = c {
                if self.values.len() <= n {
                    self.values.push(Some(String::new()));
                }
                if let Some(buf) = &mut self.values[n] {
                    buf.clear();
                    let _ = write!(buf, "{i}");
                }
                n += 1;
            }
        }
        let mut ints = self.values.iter();
        let refs: Vec<Option<&str>> = row
            .cells
            .iter()
            .map(|c| match c {
                Cell::Text(t) => Some(t.as_ref()),
                Cell::Int(_) => ints.next().and_then(|b| b.as_deref()),
                _ => None,
            })
            .collect();
        table.observe(&refs);
        Ok(())
    }
}
