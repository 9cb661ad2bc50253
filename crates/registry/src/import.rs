//! What every import shares: records read from a file with their position, and one atomic
//! change that writes them all or nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::codes::{fixed_taxonomies, fixed_terms};
use crate::error::{RegistryError, Result};
use crate::model::{TABLES, check_row};
use crate::record::{Invalid, Row, TableDef, to_row};
use crate::store::{Mode, Registry};

/// Where a record was read: a file, the CSV line where it starts or the JSON path of its object,
/// and whether fields are named as in HSDS or as our columns.
#[derive(Debug, Clone)]
pub(crate) struct Pos {
    pub file: String,
    pub line: Option<u64>,
    pub path: Option<String>,
    pub hsds: bool,
}

impl Pos {
    /// The name of a column of `def` as the file shows it.
    pub fn field(&self, def: &TableDef, column: &str) -> String {
        let name = if self.hsds {
            match def.column(column) {
                Some(c) => c.hsds_name().unwrap_or_else(|| "attributes".to_string()),
                None => column.to_string(),
            }
        } else {
            column.to_string()
        };
        self.raw_field(&name)
    }

    /// A field name as the file shows it, prefixed with the JSON path if any.
    pub fn raw_field(&self, name: &str) -> String {
        match &self.path {
            Some(p) if name.is_empty() => p.clone(),
            Some(p) => format!("{p}.{name}"),
            None => name.to_string(),
        }
    }

    pub fn error(&self, field: String, message: impl Into<String>) -> RegistryError {
        RegistryError::Input {
            file: self.file.clone(),
            line: self.line,
            field,
            message: message.into(),
        }
    }

    pub fn invalid(&self, def: &TableDef, e: Invalid) -> RegistryError {
        self.error(self.field(def, &e.field), e.message)
    }
}

/// A record read from a file.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub def: &'static TableDef,
    pub row: Row,
    pub pos: Pos,
}

/// What an import wrote: records per table (a record given twice counts once).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub counts: BTreeMap<String, usize>,
}

impl Imported {
    /// Records written in all.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// Drops repeated records (the same object nested in several places) and refuses conflicting
/// ones.
pub(crate) fn dedupe(items: Vec<Item>) -> Result<Vec<Item>> {
    let mut seen: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut out: Vec<Item> = Vec::new();
    for item in items {
        let id = item
            .row
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match seen.get(&(item.def.table, id.clone())) {
            Some(&i) if out[i].row == item.row => {}
            Some(&i) => {
                let first = &out[i].pos;
                let place = match (&first.path, first.line) {
                    (Some(p), _) => p.clone(),
                    (None, Some(l)) => format!("{}:{l}", first.file),
                    (None, None) => first.file.clone(),
                };
                let object = item
                    .def
                    .object
                    .strip_prefix("x_")
                    .unwrap_or(item.def.object);
                return Err(item.pos.error(
                    item.pos.raw_field(""),
                    format!("{object} `{id}` differs from its other copy at {place}"),
                ));
            }
            None => {
                seen.insert((item.def.table, id), out.len());
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// Writes the items in one change by `by`: every record is checked against the model's rules,
/// then written, then every reference checked; any error undoes the whole import. The fixed
/// datalab taxonomies are left as they are (a file may repeat them, not change them).
pub(crate) fn apply(reg: &mut Registry, by: &str, items: Vec<Item>) -> Result<Imported> {
    let items = dedupe(items)?;
    let mut fixed: BTreeMap<(&str, String), Row> = BTreeMap::new();
    for t in fixed_taxonomies() {
        fixed.insert(("taxonomies", t.id.clone()), fixed_row(&t)?);
    }
    for t in fixed_terms() {
        fixed.insert(("taxonomy_terms", t.id.clone()), fixed_row(&t)?);
    }
    reg.edit(by, |e| {
        e.defer_foreign_keys()?;
        let mut imported = Imported::default();
        let mut written = Vec::new();
        for item in &items {
            let id = item
                .row
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(seed) = fixed.get(&(item.def.table, id.to_string())) {
                if *seed != item.row {
                    return Err(item.pos.error(
                        item.pos.field(item.def, "id"),
                        format!(
                            "`{id}` belongs to datalab's fixed taxonomies and cannot be changed"
                        ),
                    ));
                }
                continue;
            }
            check_row(item.def, &item.row).map_err(|err| item.pos.invalid(item.def, err))?;
            e.write_row(item.def, &item.row, Mode::Upsert)?;
            *imported
                .counts
                .entry(item.def.table.to_string())
                .or_default() += 1;
            written.push(item);
        }
        // References are checked once everything is written: a file may list children first.
        for def in TABLES {
            for item in written.iter().filter(|i| i.def.table == def.table) {
                e.check_refs(item.def, &item.row)
                    .map_err(|err| item.pos.invalid(item.def, err))?;
            }
        }
        Ok(imported)
    })
}

fn fixed_row<T: crate::record::Record>(record: &T) -> Result<Row> {
    to_row(record).map_err(|e| RegistryError::Storage(format!("fixed taxonomy: {}", e.message)))
}
