//! `sources/NAME.toml`: how one holder's table is read, mapped to canonical columns and validated.

use crate::config::{Defaults, check_format_version, is_identifier};
use crate::error::ProjectError;
use crate::text::{closest, error_at, from_toml_error};
use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};
use model::{ColumnType, Encoding, Format};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A validated source spec with the project defaults applied. Serializing it gives the canonical
/// form that the build fingerprints: any change that can change the loaded data changes it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceSpec {
    /// Table name in the warehouse: the spec's file stem.
    pub name: String,
    /// The spec file, relative to the project root.
    pub spec_file: PathBuf,
    pub title: String,
    pub holder: String,
    pub description: String,
    /// Globs, relative to the project root.
    pub files: Vec<String>,
    pub format: Format,
    pub encoding: Encoding,
    pub delimiter: u8,
    pub quote: u8,
    /// `.` or `,`.
    pub decimal: char,
    pub thousands: Option<char>,
    /// 1-based line (CSV) or row (XLSX) holding the column names.
    pub header_row: usize,
    pub sheet: Option<String>,
    pub date_formats: Vec<String>,
    pub null_values: Vec<String>,
    /// Canonical columns forming a unique key; empty when none is declared.
    pub unique: Vec<String>,
    /// Canonical column holding the period.
    pub period: Option<String>,
    pub columns: Vec<ColumnSpec>,
}

impl SourceSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Sources this one references (through `references`), without duplicates.
    pub fn dependencies(&self) -> Vec<&str> {
        let mut deps: Vec<&str> = self
            .columns
            .iter()
            .filter_map(|c| c.references.as_ref().map(|r| r.source.as_str()))
            .collect();
        deps.sort_unstable();
        deps.dedup();
        deps
    }
}

/// One canonical column and the rules its values must pass.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSpec {
    pub name: String,
    /// The holder's column name (CSV/XLSX header, JSON key, Parquet field).
    pub from: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub required: bool,
    pub pseudonym: bool,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    /// Allowed values (empty: any).
    pub allowed: Vec<String>,
    pub codelist: Option<Codelist>,
    pub regex: Option<String>,
    pub references: Option<Reference>,
}

/// A `min` or `max` bound, typed like its column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Number(f64),
    Date(NaiveDate),
}

impl Serialize for Bound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Bound::Number(n) => s.serialize_f64(*n),
            Bound::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// Codes read from a project file (first column of a CSV with a header row).
#[derive(Debug, Clone, Serialize)]
pub struct Codelist {
    pub path: String,
    pub codes: BTreeSet<String>,
}

/// A reference to another source's column: every non-null value must occur there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub source: String,
    pub column: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    format_version: Spanned<u32>,
    title: Option<String>,
    holder: Option<String>,
    description: Option<String>,
    files: Spanned<Vec<String>>,
    format: Format,
    encoding: Option<Encoding>,
    delimiter: Option<Spanned<String>>,
    quote: Option<Spanned<String>>,
    decimal: Option<Spanned<String>>,
    thousands: Option<Spanned<String>>,
    header_row: Option<Spanned<i64>>,
    sheet: Option<Spanned<String>>,
    date_formats: Option<Vec<Spanned<String>>>,
    null_values: Option<Vec<String>>,
    #[serde(default)]
    unique: Vec<Spanned<String>>,
    period: Option<Spanned<String>>,
    columns: Spanned<Vec<RawColumn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    name: Spanned<String>,
    from: Option<String>,
    #[serde(rename = "type")]
    ty: ColumnType,
    #[serde(default)]
    required: bool,
    pseudonym: Option<Spanned<bool>>,
    min: Option<Spanned<toml::Value>>,
    max: Option<Spanned<toml::Value>>,
    allowed: Option<Spanned<Vec<String>>>,
    codelist: Option<Spanned<String>>,
    regex: Option<Spanned<String>>,
    references: Option<Spanned<String>>,
}

/// Parses and checks one spec file on its own. References to other sources are checked by
/// [`crate::Project::load`], which sees them all.
pub(crate) fn parse(
    root: &Path,
    rel_file: &Path,
    text: &str,
    defaults: &Defaults,
) -> Result<(SourceSpec, Vec<Spanned<String>>), ProjectError> {
    let file = rel_file;
    let raw: RawSpec = toml::from_str(text)
        .map_err(|e| ProjectError::Config(vec![from_toml_error(file, text, &e)]))?;
    let mut errors = Vec::new();
    let mut err =
        |span: Option<std::ops::Range<usize>>, key: String, msg: String, hint: Option<String>| {
            errors.push(error_at(file, text, span, key, msg, hint));
        };

    let name = rel_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_identifier(&name) {
        err(
            None,
            String::new(),
            format!("`{name}` is not a valid source name (it becomes a table name)"),
            Some(
                "rename the file: lowercase letters, digits and `_`, starting with a letter".into(),
            ),
        );
    }
    let mut version_errors = Vec::new();
    check_format_version(file, text, &raw.format_version, &mut version_errors);
    for e in version_errors {
        err(Some(raw.format_version.span()), e.key, e.message, e.hint);
    }
    if raw.files.get_ref().is_empty() {
        err(
            Some(raw.files.span()),
            "files".into(),
            "no files declared".into(),
            Some("list the file(s) or globs, relative to the project folder".into()),
        );
    }

    let delimiter = single_byte(
        raw.delimiter.as_ref(),
        &defaults.delimiter,
        "delimiter",
        &mut err,
    );
    let quote = single_byte(raw.quote.as_ref(), &defaults.quote, "quote", &mut err);
    let decimal_s = raw
        .decimal
        .as_ref()
        .map_or(defaults.decimal.clone(), |d| d.get_ref().clone());
    let decimal = match decimal_s.as_str() {
        "." => '.',
        "," => ',',
        other => {
            err(
                raw.decimal.as_ref().map(|d| d.span()),
                "decimal".into(),
                format!("decimal separator must be `.` or `,`, not `{other}`"),
                None,
            );
            '.'
        }
    };
    let thousands_s = raw
        .thousands
        .as_ref()
        .map(|t| t.get_ref().clone())
        .or_else(|| defaults.thousands.clone());
    let thousands = match thousands_s.as_deref() {
        None | Some("") => None,
        Some(t) if t.chars().count() == 1 => {
            let c = t.chars().next().unwrap_or('.');
            if c == decimal {
                err(
                    raw.thousands.as_ref().map(|d| d.span()),
                    "thousands".into(),
                    "the thousands separator equals the decimal separator".into(),
                    None,
                );
            }
            Some(c)
        }
        Some(t) => {
            err(
                raw.thousands.as_ref().map(|d| d.span()),
                "thousands".into(),
                format!("thousands separator must be one character, not `{t}`"),
                None,
            );
            None
        }
    };
    let header_row = match raw.header_row.as_ref() {
        None => 1,
        Some(h) if *h.get_ref() >= 1 => *h.get_ref() as usize,
        Some(h) => {
            err(
                Some(h.span()),
                "header_row".into(),
                format!("header_row is 1-based, {} is not a row", h.get_ref()),
                Some("the first line of the file is header_row = 1".into()),
            );
            1
        }
    };
    if let Some(sheet) = &raw.sheet
        && raw.format != Format::Xlsx
    {
        err(
            Some(sheet.span()),
            "sheet".into(),
            format!(
                "`sheet` applies to xlsx sources, this one is {}",
                raw.format
            ),
            None,
        );
    }
    let date_formats: Vec<String> = match &raw.date_formats {
        None => defaults.date_formats.clone(),
        Some(list) => {
            for f in list {
                if StrftimeItems::new(f.get_ref()).any(|i| matches!(i, Item::Error)) {
                    err(
                        Some(f.span()),
                        "date_formats".into(),
                        format!("`{}` is not a valid date pattern", f.get_ref()),
                        Some("use strftime patterns such as \"%d/%m/%Y\" or \"%Y-%m-%d\"".into()),
                    );
                }
            }
            list.iter().map(|f| f.get_ref().clone()).collect()
        }
    };

    let mut columns = Vec::new();
    let mut seen_names = HashSet::new();
    let mut seen_from = HashSet::new();
    let mut references = Vec::new();
    if raw.columns.get_ref().is_empty() {
        err(
            Some(raw.columns.span()),
            "columns".into(),
            "no columns declared".into(),
            Some("add [[columns]] tables with name, from and type".into()),
        );
    }
    for (i, c) in raw.columns.get_ref().iter().enumerate() {
        let key = |k: &str| format!("columns[{i}].{k}");
        let cname = c.name.get_ref().clone();
        if !is_identifier(&cname) {
            err(
                Some(c.name.span()),
                key("name"),
                format!("`{cname}` is not a valid column name"),
                Some(format!(
                    "use lowercase snake_case, e.g. `{}`",
                    to_snake(&cname)
                )),
            );
        }
        if !seen_names.insert(cname.clone()) {
            err(
                Some(c.name.span()),
                key("name"),
                format!("column `{cname}` is declared twice"),
                None,
            );
        }
        let from = c.from.clone().unwrap_or_else(|| cname.clone());
        if !seen_from.insert(from.to_lowercase()) {
            err(
                Some(c.name.span()),
                key("from"),
                format!("holder column `{from}` is mapped twice"),
                None,
            );
        }
        let min = c
            .min
            .as_ref()
            .and_then(|v| bound(v, c.ty, &key("min"), &mut err));
        let max = c
            .max
            .as_ref()
            .and_then(|v| bound(v, c.ty, &key("max"), &mut err));
        if let (Some(lo), Some(hi)) = (min, max) {
            let inverted = match (lo, hi) {
                (Bound::Number(a), Bound::Number(b)) => a > b,
                (Bound::Date(a), Bound::Date(b)) => a > b,
                _ => false,
            };
            if inverted {
                err(
                    c.max.as_ref().map(|m| m.span()),
                    key("max"),
                    "max is smaller than min".into(),
                    None,
                );
            }
        }
        let allowed = match &c.allowed {
            Some(a) if a.get_ref().is_empty() => {
                err(
                    Some(a.span()),
                    key("allowed"),
                    "the list of allowed values is empty".into(),
                    None,
                );
                Vec::new()
            }
            Some(a) => a.get_ref().clone(),
            None => Vec::new(),
        };
        if let Some(r) = &c.regex
            && let Err(e) = regex::Regex::new(r.get_ref())
        {
            let msg = e.to_string();
            // The last line of regex's message reads "error: unclosed character class"; drop
            // its "error:" so the message does not say it twice (regression: the CLI printed
            // "invalid regular expression: error: ..."; guarded by the cli test
            // `config::invalid_regex`).
            let last = msg
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .trim_start_matches("error:")
                .trim()
                .to_string();
            err(
                Some(r.span()),
                key("regex"),
                format!("invalid regular expression: {}", last.to_lowercase()),
                None,
            );
        }
        let codelist = c.codelist.as_ref().and_then(|p| match read_codelist(root, p.get_ref()) {
            Ok(codes) => Some(Codelist {
                path: p.get_ref().clone(),
                codes,
            }),
            Err(msg) => {
                err(Some(p.span()), key("codelist"), msg, Some("the path is relative to the project folder; its first column holds the codes".into()));
                None
            }
        });
        let pseudonym = c.pseudonym.as_ref().is_some_and(|p| *p.get_ref());
        if pseudonym && c.ty != ColumnType::String {
            err(
                c.pseudonym.as_ref().map(|p| p.span()),
                key("pseudonym"),
                format!(
                    "a pseudonym column must be of type string, `{cname}` is {}",
                    c.ty
                ),
                None,
            );
        }
        let reference = c
            .references
            .as_ref()
            .and_then(|r| match r.get_ref().split_once('.') {
                Some((s, col)) if !s.is_empty() && !col.is_empty() => {
                    references.push(r.clone());
                    Some(Reference {
                        source: s.to_string(),
                        column: col.to_string(),
                    })
                }
                _ => {
                    err(
                        Some(r.span()),
                        key("references"),
                        format!("`{}` is not of the form source.column", r.get_ref()),
                        Some("e.g. references = \"register.household_id\"".into()),
                    );
                    None
                }
            });
        columns.push(ColumnSpec {
            name: cname,
            from,
            ty: c.ty,
            required: c.required,
            pseudonym,
            min,
            max,
            allowed,
            codelist,
            regex: c.regex.as_ref().map(|r| r.get_ref().clone()),
            references: reference,
        });
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut unique = Vec::new();
    for u in &raw.unique {
        if !names.contains(&u.get_ref().as_str()) {
            err(
                Some(u.span()),
                "unique".into(),
                format!("`{}` is not a declared column", u.get_ref()),
                closest(u.get_ref(), &names).map(|c| format!("did you mean `{c}`?")),
            );
        }
        unique.push(u.get_ref().clone());
    }
    if let Some(p) = &raw.period {
        match columns.iter().find(|c| &c.name == p.get_ref()) {
            None => err(
                Some(p.span()),
                "period".into(),
                format!("`{}` is not a declared column", p.get_ref()),
                closest(p.get_ref(), &names).map(|c| format!("did you mean `{c}`?")),
            ),
            Some(c)
                if !matches!(
                    c.ty,
                    ColumnType::Date | ColumnType::Integer | ColumnType::String
                ) =>
            {
                err(
                    Some(p.span()),
                    "period".into(),
                    format!(
                        "the period column `{}` is {}, expected a date, an integer year or a string like 2024-Q1",
                        c.name, c.ty
                    ),
                    None,
                )
            }
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(ProjectError::Config(errors));
    }
    let spec = SourceSpec {
        name,
        spec_file: rel_file.to_path_buf(),
        title: raw.title.unwrap_or_default(),
        holder: raw.holder.unwrap_or_default(),
        description: raw.description.unwrap_or_default(),
        files: raw.files.into_inner(),
        format: raw.format,
        encoding: raw.encoding.unwrap_or(defaults.encoding),
        delimiter,
        quote,
        decimal,
        thousands,
        header_row,
        sheet: raw.sheet.map(|s| s.into_inner()),
        date_formats,
        null_values: raw
            .null_values
            .unwrap_or_else(|| defaults.null_values.clone()),
        unique,
        period: raw.period.map(|p| p.into_inner()),
        columns,
    };
    Ok((spec, references))
}

fn single_byte(
    value: Option<&Spanned<String>>,
    default: &str,
    key: &str,
    err: &mut impl FnMut(Option<std::ops::Range<usize>>, String, String, Option<String>),
) -> u8 {
    let s = value.map_or(default, |v| v.get_ref().as_str());
    let s = match s {
        "tab" | "\\t" => "\t",
        other => other,
    };
    if s.len() == 1 && s.is_ascii() {
        s.as_bytes()[0]
    } else {
        err(
            value.map(|v| v.span()),
            key.into(),
            format!("{key} must be a single ASCII character, not `{s}`"),
            Some("common choices: \",\", \";\", \"tab\", \"|\"".into()),
        );
        b','
    }
}

fn bound(
    v: &Spanned<toml::Value>,
    ty: ColumnType,
    key: &str,
    err: &mut impl FnMut(Option<std::ops::Range<usize>>, String, String, Option<String>),
) -> Option<Bound> {
    let out = match (ty, v.get_ref()) {
        (ColumnType::Integer | ColumnType::Float, toml::Value::Integer(i)) => {
            Some(Bound::Number(*i as f64))
        }
        (ColumnType::Integer | ColumnType::Float, toml::Value::Float(f)) => Some(Bound::Number(*f)),
        (ColumnType::Date, toml::Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Bound::Date),
        (ColumnType::Date, toml::Value::Datetime(d)) => d
            .date
            .and_then(|d| NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32))
            .map(Bound::Date),
        _ => None,
    };
    if out.is_none() {
        let hint = match ty {
            ColumnType::Date => Some("write dates as \"YYYY-MM-DD\"".to_string()),
            ColumnType::Integer | ColumnType::Float => Some("write a number".to_string()),
            _ => Some("min and max apply to integer, float and date columns".to_string()),
        };
        err(
            Some(v.span()),
            key.into(),
            format!("`{}` is not a valid bound for a {ty} column", v.get_ref()),
            hint,
        );
    }
    out
}

fn read_codelist(root: &Path, rel: &str) -> Result<BTreeSet<String>, String> {
    let path = root.join(rel);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| {
            format!(
                "cannot read codelist {rel}: {}",
                e.to_string().to_lowercase()
            )
        })?;
    let mut codes = BTreeSet::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| {
            format!(
                "codelist {rel} line {}: {}",
                i + 2,
                e.to_string().to_lowercase()
            )
        })?;
        if let Some(code) = rec.get(0).map(str::trim).filter(|c| !c.is_empty()) {
            codes.insert(code.to_string());
        }
    }
    if codes.is_empty() {
        return Err(format!("codelist {rel} holds no codes"));
    }
    Ok(codes)
}

fn to_snake(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}
