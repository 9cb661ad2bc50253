//! The custodian spec: how one holder's raw table becomes a pseudonymized table.
//!
//! A custodian spec is a TOML file kept at the custodian (never in the lab project). It declares
//! how the raw file is read (the same reading keys as a lab source spec) and, per output column,
//! one action: `pseudonym`, `derive`, `generalize`, `keep` or `drop`. Raw columns the spec does
//! not name are not read at all. The format is documented in `crates/pseudo/SPEC.md`.

use crate::generalize::{AgeBands, StreetTable};
use model::{ColumnType, Encoding, Format};
use project::text::{error_at, from_toml_error};
use project::{ColumnSpec, ConfigError, SourceSpec};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// The only custodian spec format this datalab reads.
pub const SPEC_FORMAT_VERSION: u32 = 1;

/// Why a custodian spec could not be loaded: every mistake, located.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<ConfigError>),
}

/// A validated custodian spec.
#[derive(Debug, Clone)]
pub struct CustodianSpec {
    /// The spec file, as given.
    pub file: PathBuf,
    pub title: String,
    pub holder: String,
    /// The lab source the output feeds.
    pub source: String,
    /// Reading options, with one string column per raw column the outputs use (in
    /// [`Output::inputs`] order of first use): hand it to a reader.
    pub read: SourceSpec,
    /// Pivot year for two-digit tax-code birth years.
    pub reference_year: i32,
    /// Youngest age of the people in the file: a tax code's birth year is the latest year with
    /// its two digits that is at least `min_age` years before `reference_year`.
    pub min_age: u32,
    pub outputs: Vec<Output>,
    /// Raw columns explicitly dropped.
    pub dropped: Vec<String>,
}

/// One output of the spec (a `pseudonym` output may add derived columns).
#[derive(Debug, Clone)]
pub struct Output {
    /// Output column name (for `derive`, empty: only the derived columns are written).
    pub name: String,
    pub action: Action,
    /// Indexes into `read.columns` of the raw columns this output reads.
    pub inputs: Vec<usize>,
}

/// What an output does with its raw column(s).
#[derive(Debug, Clone)]
pub enum Action {
    /// A keyed pseudonym of the normalized identifier.
    Pseudonym {
        kind: IdKind,
        derive: Vec<(Derived, String)>,
        /// For tax codes: indexes (surname, first name, birth date, sex) for a weak pseudonym
        /// when the code is empty.
        fallback: Option<[usize; 4]>,
    },
    /// Values derived from a tax code; the code itself is dropped.
    Derive {
        derive: Vec<(Derived, String)>,
    },
    Generalize(Target),
    Keep,
}

/// The kind of identifier a pseudonym is made from; it is part of the HMAC domain, so that
/// pseudonyms of different kinds never join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdKind {
    /// An Italian tax code, validated and normalized.
    TaxCode,
    /// Surname, first name, birth date and sex: a weak pseudonym.
    NameBirth,
    /// Any other identifier (a register id, a household id), trimmed and upper-cased.
    Plain(String),
}

impl IdKind {
    /// The name used in the HMAC domain and in the lookup table.
    pub fn name(&self) -> &str {
        match self {
            IdKind::TaxCode => "tax_code",
            IdKind::NameBirth => "name_birth",
            IdKind::Plain(k) => k,
        }
    }
}

/// A value derived from a tax code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    BirthYear,
    BirthMonth,
    Sex,
    BirthPlaceCode,
    BornInItaly,
}

impl Derived {
    const ALL: [(&'static str, Derived); 5] = [
        ("birth_year", Derived::BirthYear),
        ("birth_month", Derived::BirthMonth),
        ("sex", Derived::Sex),
        ("birth_place_code", Derived::BirthPlaceCode),
        ("born_in_italy", Derived::BornInItaly),
    ];

    fn from_name(s: &str) -> Option<Derived> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, d)| *d)
    }

    /// The column type of the derived value.
    pub fn column_type(self) -> ColumnType {
        match self {
            Derived::BirthYear | Derived::BirthMonth => ColumnType::Integer,
            Derived::Sex | Derived::BirthPlaceCode => ColumnType::String,
            Derived::BornInItaly => ColumnType::Boolean,
        }
    }
}

/// A generalization target.
#[derive(Debug, Clone)]
pub enum Target {
    /// A date to the first day of its month.
    Month,
    /// A date to its year.
    Year,
    /// An age in years to its band.
    AgeBand(Arc<AgeBands>),
    /// An address to its statistical zone, through the street table.
    Zone(Arc<StreetTable>),
    /// An address to its postcode, through the street table.
    Postcode(Arc<StreetTable>),
    /// A postcode to its first three digits (`41121` → `411xx`).
    PostcodeArea,
}

impl Output {
    /// The columns this output writes, with their types.
    pub fn columns(&self) -> Vec<(String, ColumnType)> {
        let derived = |d: &[(Derived, String)]| {
            d.iter()
                .map(|(k, n)| (n.clone(), k.column_type()))
                .collect::<Vec<_>>()
        };
        match &self.action {
            Action::Pseudonym { derive, .. } => {
                let mut v = vec![(self.name.clone(), ColumnType::String)];
                v.extend(derived(derive));
                v
            }
            Action::Derive { derive } => derived(derive),
            Action::Generalize(Target::Month) => vec![(self.name.clone(), ColumnType::Date)],
            Action::Generalize(Target::Year) => vec![(self.name.clone(), ColumnType::Integer)],
            Action::Generalize(_) | Action::Keep => vec![(self.name.clone(), ColumnType::String)],
        }
    }
}

impl CustodianSpec {
    /// Every output column, in order.
    pub fn output_columns(&self) -> Vec<(String, ColumnType)> {
        self.outputs.iter().flat_map(|o| o.columns()).collect()
    }

    /// Reads and validates a custodian spec; every mistake is reported with file, line and key.
    pub fn load(path: &Path) -> Result<CustodianSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            path: path.to_path_buf(),
            message: e.to_string().to_lowercase(),
        })?;
        parse(path, &text)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    format_version: Spanned<u32>,
    title: Option<String>,
    holder: Option<String>,
    source: Spanned<String>,
    format: Format,
    encoding: Option<Encoding>,
    delimiter: Option<Spanned<String>>,
    quote: Option<Spanned<String>>,
    decimal: Option<Spanned<String>>,
    header_row: Option<Spanned<usize>>,
    sheet: Option<String>,
    date_formats: Option<Vec<String>>,
    null_values: Option<Vec<String>>,
    reference_year: Option<Spanned<i32>>,
    min_age: Option<u32>,
    columns: Spanned<Vec<Spanned<RawColumn>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    from: Spanned<From>,
    action: Spanned<String>,
    name: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    derive: Option<Spanned<DeriveSpec>>,
    fallback: Option<Spanned<Vec<String>>>,
    to: Option<Spanned<String>>,
    streets: Option<Spanned<String>>,
    band_width: Option<Spanned<u32>>,
    band_top: Option<Spanned<u32>>,
    bands: Option<Spanned<Vec<u32>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum From {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DeriveSpec {
    List(Vec<String>),
    Renamed(BTreeMap<String, String>),
}

const ACTIONS: &[&str] = &["pseudonym", "derive", "generalize", "keep", "drop"];
const TARGETS: &[&str] = &[
    "month",
    "year",
    "age_band",
    "zone",
    "postcode",
    "postcode_area",
];

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn err(&mut self, span: std::ops::Range<usize>, key: String, msg: String, hint: Option<&str>) {
        self.errors.push(error_at(
            self.file,
            self.text,
            Some(span),
            key,
            msg,
            hint.map(str::to_string),
        ));
    }
}

fn parse(path: &Path, text: &str) -> Result<CustodianSpec, SpecError> {
    let raw: RawSpec = toml::from_str(text)
        .map_err(|e| SpecError::Config(vec![from_toml_error(path, text, &e)]))?;
    let mut cx = Ctx {
        file: path,
        text,
        errors: Vec::new(),
    };
    if *raw.format_version.get_ref() != SPEC_FORMAT_VERSION {
        cx.err(
            raw.format_version.span(),
            "format_version".into(),
            format!(
                "format_version {} is not supported (this datalab reads {SPEC_FORMAT_VERSION})",
                raw.format_version.get_ref()
            ),
            None,
        );
    }
    let format = raw.format;
    let encoding = raw.encoding.unwrap_or(Encoding::Utf8);
    let byte = |cx: &mut Ctx, v: &Option<Spanned<String>>, key: &str, default: u8| match v {
        None => default,
        Some(s) if s.get_ref().len() == 1 => s.get_ref().as_bytes()[0],
        Some(s) => {
            cx.err(
                s.span(),
                key.into(),
                format!("`{}` must be a single ASCII character", s.get_ref()),
                None,
            );
            default
        }
    };
    let delimiter = byte(&mut cx, &raw.delimiter, "delimiter", b',');
    let quote = byte(&mut cx, &raw.quote, "quote", b'"');
    let decimal = byte(&mut cx, &raw.decimal, "decimal", b'.') as char;
    let source = raw.source.get_ref().clone();
    if !is_name(&source) {
        cx.err(
            raw.source.span(),
            "source".into(),
            format!("`{source}` is not a lab source name"),
            Some("use lowercase letters, digits and `_`, e.g. `register`"),
        );
    }
    let date_formats = raw
        .date_formats
        .clone()
        .unwrap_or_else(|| vec!["%Y-%m-%d".into()]);
    let reference_year = raw
        .reference_year
        .as_ref()
        .map_or_else(current_year, |y| *y.get_ref());
    let spec_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();

    let mut read_columns: Vec<String> = Vec::new();
    let mut index_of = |name: &str| -> usize {
        match read_columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
        {
            Some(i) => i,
            None => {
                read_columns.push(name.to_string());
                read_columns.len() - 1
            }
        }
    };
    let mut outputs = Vec::new();
    let mut dropped = Vec::new();
    let mut streets: BTreeMap<String, Arc<StreetTable>> = BTreeMap::new();
    let columns_span = raw.columns.span();
    for (i, col) in raw.columns.into_inner().into_iter().enumerate() {
        let key = |k: &str| format!("columns[{i}].{k}");
        let span = col.span();
        let col = col.into_inner();
        let action = col.action.get_ref().as_str();
        if !ACTIONS.contains(&action) {
            cx.err(
                col.action.span(),
                key("action"),
                format!("unknown action `{action}`"),
                Some("one of: pseudonym, derive, generalize, keep, drop"),
            );
            continue;
        }
        let froms: Vec<String> = match col.from.get_ref() {
            From::One(s) => vec![s.clone()],
            From::Many(v) => v.clone(),
        };
        let kind = col.kind.as_ref().map(|k| k.get_ref().as_str());
        let composite = kind == Some("name_birth");
        if froms.is_empty() || (froms.len() > 1 && !composite) || (composite && froms.len() != 4) {
            cx.err(
                col.from.span(),
                key("from"),
                "`from` names one raw column (four, in the order surname, first name, birth date, sex, for kind = \"name_birth\")".into(),
                None,
            );
            continue;
        }
        if action == "drop" {
            dropped.extend(froms);
            continue;
        }
        let default_name = froms[0].to_lowercase();
        let name = col
            .name
            .as_ref()
            .map_or(default_name, |n| n.get_ref().clone());
        if action != "derive" && !is_name(&name) {
            let s = col.name.as_ref().map_or(col.from.span(), |n| n.span());
            cx.err(
                s,
                key("name"),
                format!("`{name}` is not a valid output column name"),
                Some("use lowercase letters, digits and `_`"),
            );
        }
        let inputs: Vec<usize> = froms.iter().map(|f| index_of(f)).collect();
        let only = |cx: &mut Ctx, present: bool, k: &str, s: std::ops::Range<usize>, why: &str| {
            if present {
                cx.err(s, key(k), format!("`{k}` {why}"), None);
            }
        };
        let derive = match &col.derive {
            None => Vec::new(),
            Some(d) => {
                let pairs: Vec<(String, String)> = match d.get_ref() {
                    DeriveSpec::List(v) => v.iter().map(|n| (n.clone(), n.clone())).collect(),
                    DeriveSpec::Renamed(m) => {
                        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                    }
                };
                let mut out = Vec::new();
                for (what, as_name) in pairs {
                    match Derived::from_name(&what) {
                        Some(k) => out.push((k, as_name)),
                        None => cx.err(
                            d.span(),
                            key("derive"),
                            format!("cannot derive `{what}` from a tax code"),
                            Some("one of: birth_year, birth_month, sex, birth_place_code, born_in_italy"),
                        ),
                    }
                }
                out
            }
        };
        let is_tax = kind == Some("tax_code");
        if !derive.is_empty() && !is_tax {
            let s = col
                .derive
                .as_ref()
                .map(|d| d.span())
                .unwrap_or(span.clone());
            cx.err(
                s,
                key("derive"),
                "values can be derived only from a tax code".into(),
                Some("set kind = \"tax_code\""),
            );
        }
        let fallback = match &col.fallback {
            None => None,
            Some(f) if is_tax && action == "pseudonym" && f.get_ref().len() == 4 => {
                let v: Vec<usize> = f.get_ref().iter().map(|n| index_of(n)).collect();
                Some([v[0], v[1], v[2], v[3]])
            }
            Some(f) => {
                cx.err(
                    f.span(),
                    key("fallback"),
                    "`fallback` lists four raw columns (surname, first name, birth date, sex) and applies to a tax-code pseudonym".into(),
                    None,
                );
                None
            }
        };
        if action != "generalize" {
            for (k, present, s) in [
                ("to", col.to.is_some(), col.to.as_ref().map(|x| x.span())),
                (
                    "streets",
                    col.streets.is_some(),
                    col.streets.as_ref().map(|x| x.span()),
                ),
                (
                    "bands",
                    col.bands.is_some(),
                    col.bands.as_ref().map(|x| x.span()),
                ),
                (
                    "band_width",
                    col.band_width.is_some(),
                    col.band_width.as_ref().map(|x| x.span()),
                ),
            ] {
                only(
                    &mut cx,
                    present,
                    k,
                    s.unwrap_or(span.clone()),
                    "applies to action = \"generalize\"",
                );
            }
        }
        let action = match action {
            "pseudonym" => {
                let Some(k) = kind else {
                    cx.err(
                        span.clone(),
                        key("kind"),
                        "a pseudonym needs the identifier's `kind`".into(),
                        Some("e.g. kind = \"tax_code\", \"name_birth\", or a word such as \"household\""),
                    );
                    continue;
                };
                let kind = match k {
                    "tax_code" => IdKind::TaxCode,
                    "name_birth" => IdKind::NameBirth,
                    other if is_name(other) => IdKind::Plain(other.to_string()),
                    other => {
                        let s = col.kind.as_ref().map_or(span.clone(), |x| x.span());
                        cx.err(
                            s,
                            key("kind"),
                            format!("`{other}` is not a valid identifier kind"),
                            Some("use lowercase letters, digits and `_`"),
                        );
                        continue;
                    }
                };
                Action::Pseudonym {
                    kind,
                    derive,
                    fallback,
                }
            }
            "derive" => {
                if !is_tax || derive.is_empty() {
                    cx.err(
                        span.clone(),
                        key("derive"),
                        "action = \"derive\" needs kind = \"tax_code\" and a `derive` list".into(),
                        None,
                    );
                    continue;
                }
                Action::Derive { derive }
            }
            "keep" => Action::Keep,
            _ => {
                let Some(to) = &col.to else {
                    cx.err(
                        span.clone(),
                        key("to"),
                        "generalize needs `to`".into(),
                        Some("one of: month, year, age_band, zone, postcode, postcode_area"),
                    );
                    continue;
                };
                let target = match to.get_ref().as_str() {
                    "month" => Target::Month,
                    "year" => Target::Year,
                    "postcode_area" => Target::PostcodeArea,
                    "age_band" => {
                        let bands = match (&col.bands, &col.band_width) {
                            (Some(b), None) => AgeBands::edges(b.get_ref().clone()).map_err(|e| {
                                (b.span(), "bands", e.to_string())
                            }),
                            (None, Some(w)) => {
                                let top = col.band_top.as_ref().map_or(85, |t| *t.get_ref());
                                if *w.get_ref() == 0 || top == 0 || top % w.get_ref() != 0 {
                                    Err((w.span(), "band_width", format!("band_width {} must divide band_top {top}", w.get_ref())))
                                } else {
                                    Ok(AgeBands::width(*w.get_ref(), top))
                                }
                            }
                            _ => Err((to.span(), "bands", "age bands need either `bands = [0, 18, 65, 80]` or `band_width` (with optional `band_top`)".to_string())),
                        };
                        match bands {
                            Ok(b) => Target::AgeBand(Arc::new(b)),
                            Err((s, k, m)) => {
                                cx.err(s, key(k), m, None);
                                continue;
                            }
                        }
                    }
                    t @ ("zone" | "postcode") => {
                        let Some(st) = &col.streets else {
                            cx.err(
                                to.span(),
                                key("streets"),
                                format!("generalizing an address to a {t} needs the street table"),
                                Some("streets = \"stradario.csv\" (relative to this spec)"),
                            );
                            continue;
                        };
                        let p = spec_dir.join(st.get_ref());
                        let key_path = p.display().to_string();
                        let table = match streets.get(&key_path) {
                            Some(t) => t.clone(),
                            None => match StreetTable::load(&p) {
                                Ok(t) => {
                                    let t = Arc::new(t);
                                    streets.insert(key_path, t.clone());
                                    t
                                }
                                Err(e) => {
                                    cx.err(st.span(), key("streets"), e.to_string(), None);
                                    continue;
                                }
                            },
                        };
                        if t == "zone" {
                            Target::Zone(table)
                        } else {
                            Target::Postcode(table)
                        }
                    }
                    other => {
                        cx.err(
                            to.span(),
                            key("to"),
                            format!("cannot generalize to `{other}`"),
                            Some("one of: month, year, age_band, zone, postcode, postcode_area"),
                        );
                        let _ = TARGETS;
                        continue;
                    }
                };
                Action::Generalize(target)
            }
        };
        outputs.push(Output {
            name: if matches!(action, Action::Derive { .. }) {
                String::new()
            } else {
                name
            },
            action,
            inputs,
        });
    }
    if outputs.is_empty() && cx.errors.is_empty() {
        cx.err(
            columns_span,
            "columns".into(),
            "the spec writes no column".into(),
            Some("declare at least one column with action pseudonym, derive, generalize or keep"),
        );
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outputs {
        for (c, _) in o.columns() {
            *seen.entry(c).or_default() += 1;
        }
    }
    for (c, n) in seen {
        if n > 1 {
            cx.errors.push(error_at(
                path,
                text,
                None,
                "columns",
                format!("output column `{c}` is written {n} times"),
                Some("give each output a distinct `name` (derive accepts a table to rename: derive = { sex = \"cf_sex\" })".into()),
            ));
        }
    }
    if !cx.errors.is_empty() {
        return Err(SpecError::Config(cx.errors));
    }
    let read = SourceSpec {
        name: source.clone(),
        spec_file: path.to_path_buf(),
        title: raw.title.clone().unwrap_or_default(),
        holder: raw.holder.clone().unwrap_or_default(),
        description: String::new(),
        files: Vec::new(),
        format,
        encoding,
        delimiter,
        quote,
        decimal,
        thousands: None,
        header_row: raw.header_row.as_ref().map_or(1, |h| *h.get_ref()),
        sheet: raw.sheet.clone(),
        date_formats,
        null_values: raw
            .null_values
            .clone()
            .unwrap_or_else(|| vec![String::new()]),
        unique: Vec::new(),
        period: None,
        columns: read_columns
            .iter()
            .map(|c| ColumnSpec {
                name: c.to_lowercase(),
                from: c.clone(),
                ty: ColumnType::String,
                required: false,
                pseudonym: false,
                min: None,
                max: None,
                allowed: Vec::new(),
                codelist: None,
                regex: None,
                references: None,
            })
            .collect(),
    };
    Ok(CustodianSpec {
        file: path.to_path_buf(),
        title: raw.title.unwrap_or_default(),
        holder: raw.holder.unwrap_or_default(),
        source,
        read,
        reference_year,
        min_age: raw.min_age.unwrap_or(0),
        outputs,
        dropped,
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Local::now().year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<CustodianSpec, SpecError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("register.toml");
        std::fs::write(&p, text).expect("write");
        CustodianSpec::load(&p)
    }

    const HEAD: &str = "format_version = 1\nsource = \"register\"\nformat = \"csv\"\ndelimiter = \";\"\ndate_formats = [\"%d/%m/%Y\"]\nreference_year = 2024\n";

    #[test]
    fn a_full_spec_reads_each_raw_column_once() {
        let s = load(&format!(
            "{HEAD}
[[columns]]
from = \"CF\"
action = \"pseudonym\"
kind = \"tax_code\"
name = \"person_pid\"
derive = [\"birth_year\", \"sex\"]
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
from = \"ETA\"
action = \"generalize\"
to = \"age_band\"
bands = [0, 18, 65]

[[columns]]
from = \"ZONA\"
action = \"keep\"

[[columns]]
from = \"NOTE\"
action = \"drop\"
"
        ))
        .expect("valid");
        let raw: Vec<&str> = s.read.columns.iter().map(|c| c.from.as_str()).collect();
        assert_eq!(
            raw,
            ["CF", "COGNOME", "NOME", "NASCITA", "SESSO", "ETA", "ZONA"]
        );
        let out: Vec<String> = s.output_columns().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            out,
            [
                "person_pid",
                "birth_year",
                "sex",
                "person_wpid",
                "birth_month",
                "eta",
                "zona"
            ]
        );
        assert_eq!(s.dropped, ["NOTE"]);
        assert_eq!(s.reference_year, 2024);
        assert_eq!(s.read.delimiter, b';');
    }

    #[test]
    fn mistakes_are_located_and_all_reported() {
        let err = load(&format!(
            "{HEAD}
[[columns]]
from = \"CF\"
action = \"pseudonymise\"

[[columns]]
from = \"ID\"
action = \"pseudonym\"
kind = \"household\"
derive = [\"sex\"]

[[columns]]
from = \"A\"
action = \"keep\"
name = \"x\"

[[columns]]
from = \"B\"
action = \"keep\"
name = \"x\"
"
        ))
        .expect_err("invalid")
        .to_string();
        assert!(err.contains("register.toml:10:"), "{err}");
        assert!(err.contains("unknown action `pseudonymise`"), "{err}");
        assert!(err.contains("columns[1].derive"), "{err}");
        assert!(
            err.contains("values can be derived only from a tax code"),
            "{err}"
        );
        assert!(
            err.contains("output column `x` is written 2 times"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_generalizations_are_refused() {
        let err = load(&format!(
            "{HEAD}colour = 1\n[[columns]]\nfrom = \"A\"\naction = \"keep\"\n"
        ))
        .expect_err("unknown key")
        .to_string();
        assert!(err.contains("colour"), "{err}");
        let err = load(&format!(
            "{HEAD}[[columns]]\nfrom = \"A\"\naction = \"generalize\"\nto = \"decade\"\n"
        ))
        .expect_err("bad target")
        .to_string();
        assert!(err.contains("cannot generalize to `decade`"), "{err}");
        let err = load(&format!(
            "{HEAD}[[columns]]\nfrom = \"A\"\naction = \"generalize\"\nto = \"zone\"\n"
        ))
        .expect_err("no street table")
        .to_string();
        assert!(err.contains("needs the street table"), "{err}");
    }
}
