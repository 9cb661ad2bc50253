//! Conversion of raw cells to typed values and the validation rules of a source spec.
//!
//! A row either converts and passes every rule of every column (and the unique key), or it
//! fails with every reason found; nothing is coerced silently: `3,5` is not an integer,
//! `31/02/2021` is not a date, `12.5` with `.` as thousands separator is not a number.

use crate::read::{Cell, Row};
use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate, Timelike};
use model::ColumnType;
use project::{Bound, SourceSpec};
use regex::Regex;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use xxhash_rust::xxh3::Xxh3;

/// A typed value ready for the column builders.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'r> {
    Null,
    Str(Cow<'r, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i32),
}

/// Why a row was rejected: the column (if one), the rule kind and a message for people.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub column: Option<String>,
    pub rule: &'static str,
    pub message: String,
}

struct ColumnRules {
    name: String,
    ty: ColumnType,
    required: bool,
    min: Option<Bound>,
    max: Option<Bound>,
    allowed: HashSet<String>,
    allowed_list: String,
    codelist: Option<(String, BTreeSet<String>)>,
    regex: Option<(String, Regex)>,
    reference: Option<(String, Arc<HashSet<String>>)>,
}

/// Validates the rows of one source (across all its files: the unique key spans them).
pub(crate) struct Validator {
    columns: Vec<ColumnRules>,
    null_values: Vec<String>,
    decimal: char,
    thousands: Option<char>,
    date_formats: Vec<(String, Vec<Item<'static>>)>,
    unique: Vec<usize>,
    seen: HashSet<u128, KeyHash>,
}

use model::KeyHash;

/// The epoch of Arrow's Date32.
pub(crate) fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Validator {
    /// `references` gives, per column name, the set of values of the referenced column.
    pub(crate) fn new(
        spec: &SourceSpec,
        references: &[(String, Arc<HashSet<String>>)],
    ) -> Validator {
        let columns = spec
            .columns
            .iter()
            .map(|c| ColumnRules {
                name: c.name.clone(),
                ty: c.ty,
                required: c.required,
                min: c.min,
                max: c.max,
                allowed: c.allowed.iter().cloned().collect(),
                allowed_list: c.allowed.join(", "),
                codelist: c
                    .codelist
                    .as_ref()
                    .map(|cl| (cl.path.clone(), cl.codes.clone())),
                // Specs were validated at load: the pattern compiles.
                regex: c
                    .regex
                    .as_ref()
                    .and_then(|r| Regex::new(r).ok().map(|re| (r.clone(), re))),
                reference: c.references.as_ref().and_then(|r| {
                    references
                        .iter()
                        .find(|(col, _)| *col == c.name)
                        .map(|(_, set)| (format!("{}.{}", r.source, r.column), set.clone()))
                }),
            })
            .collect();
        let date_formats = spec
            .date_formats
            .iter()
            .map(|f| {
                let items: Vec<Item<'static>> =
                    StrftimeItems::new(f).map(|i| i.to_owned()).collect();
                (f.clone(), items)
            })
            .collect();
        Validator {
            columns,
            null_values: spec.null_values.clone(),
            decimal: spec.decimal,
            thousands: spec.thousands,
            date_formats,
            unique: spec
                .unique
                .iter()
                .filter_map(|u| spec.columns.iter().position(|c| &c.name == u))
                .collect(),
            seen: HashSet::with_hasher(KeyHash),
        }
    }

    /// Whether any unique key was seen by more than one of these validators. Consumes their key
    /// sets (merging them into the largest, so the peak memory is about one union).
    pub(crate) fn keys_overlap(validators: &mut [Validator]) -> bool {
        let Some(largest) = (0..validators.len()).max_by_key(|&i| validators[i].seen.len()) else {
            return false;
        };
        let mut all = std::mem::take(&mut validators[largest].seen);
        for v in validators.iter_mut() {
            for k in std::mem::take(&mut v.seen) {
                if !all.insert(k) {
                    return true;
                }
            }
        }
        false
    }

    /// Converts and checks a row. On success the values are in spec column order.
    pub(crate) fn check<'r>(
        &mut self,
        row: &'r Row<'_, '_>,
    ) -> Result<Vec<Value<'r>>, Vec<Failure>> {
        let mut failures = Vec::new();
        if let Some(p) = &row.problem {
            failures.push(Failure {
                column: None,
                rule: "row",
                message: p.clone(),
            });
        }
        let mut values = Vec::with_capacity(self.columns.len());
        for (col, cell) in self.columns.iter().zip(row.cells.iter()) {
            match self.convert(col, cell) {
                Ok(v) => {
                    if let Err(f) = self.rules(col, &v) {
                        failures.push(f);
                    }
                    values.push(v);
                }
                Err(message) => {
                    failures.push(Failure {
                        column: Some(col.name.clone()),
                        rule: "type",
                        message,
                    });
                    values.push(Value::Null);
                }
            }
        }
        if !failures.is_empty() {
            return Err(failures);
        }
        if !self.unique.is_empty() {
            let mut h = Xxh3::new();
            for &i in &self.unique {
                match &values[i] {
                    Value::Null => {
                        return Err(vec![Failure {
                            column: Some(self.columns[i].name.clone()),
                            rule: "unique",
                            message: "missing value in a unique-key column".into(),
                        }]);
                    }
                    v => hash_value(&mut h, v),
                }
            }
            if !self.seen.insert(h.digest128()) {
                let names: Vec<&str> = self
                    .unique
                    .iter()
                    .map(|&i| self.columns[i].name.as_str())
                    .collect();
                let vals: Vec<String> = self.unique.iter().map(|&i| display(&values[i])).collect();
                return Err(vec![Failure {
                    column: None,
                    rule: "unique",
                    message: format!(
                        "duplicate key ({}) = ({}): an earlier row with this key was loaded",
                        names.join(", "),
                        vals.join(", ")
                    ),
                }]);
            }
        }
        Ok(values)
    }

    fn is_null(&self, s: &str) -> bool {
        let t = s.trim();
        self.null_values.iter().any(|n| n == t)
            || (t.is_empty() && self.null_values.iter().any(|n| n.trim().is_empty()))
    }

    fn convert<'r>(&self, col: &ColumnRules, cell: &'r Cell<'_>) -> Result<Value<'r>, String> {
        let text = match cell {
            Cell::Null => return Ok(Value::Null),
            Cell::Text(s) if self.is_null(s) => return Ok(Value::Null),
            Cell::Text(s) => s.trim(),
            typed => return convert_typed(col.ty, typed),
        };
        match col.ty {
            ColumnType::String => Ok(Value::Str(Cow::Borrowed(text))),
            ColumnType::Integer => {
                let cleaned = self
                    .clean_number(text)
                    .ok_or_else(|| format!("`{text}` is not a number"))?;
                cleaned
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("`{text}` is not an integer"))
            }
            ColumnType::Float => {
                let cleaned = self
                    .clean_number(text)
                    .ok_or_else(|| format!("`{text}` is not a number"))?;
                match cleaned.parse::<f64>() {
                    Ok(f) if f.is_finite() => Ok(Value::Float(f)),
                    _ => Err(format!("`{text}` is not a number")),
                }
            }
            ColumnType::Boolean => parse_bool(text).map(Value::Bool).ok_or_else(|| {
                format!("`{text}` is not a boolean (expected true/false, si/no, 1/0)")
            }),
            ColumnType::Date => self
                .parse_date(text)
                .map(|d| Value::Date((d - epoch()).num_days() as i32))
                .ok_or_else(|| {
                    let formats: Vec<&str> =
                        self.date_formats.iter().map(|(f, _)| f.as_str()).collect();
                    format!(
                        "`{text}` is not a valid date (formats: {})",
                        formats.join(", ")
                    )
                }),
        }
    }

    /// Removes grouping separators (checking the groups are of three digits) and normalizes
    /// the decimal separator to `.`. `None` when the text is not a number in this notation.
    fn clean_number<'t>(&self, text: &'t str) -> Option<Cow<'t, str>> {
        let body = text.strip_prefix(['-', '+']).unwrap_or(text);
        if body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        {
            return None;
        }
        let (int_part, frac) = match body.split_once(self.decimal) {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        if let Some(f) = frac
            && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let int_clean: Cow<'_, str> = match self.thousands {
            Some(t) if int_part.contains(t) => {
                let mut groups = int_part.split(t);
                let first = groups.next()?;
                if first.is_empty() || first.len() > 3 {
                    return None;
                }
                let mut s = first.to_string();
                for g in groups {
                    if g.len() != 3 {
                        return None;
                    }
                    s.push_str(g);
                }
                Cow::Owned(s)
            }
            _ => Cow::Borrowed(int_part),
        };
        if int_clean.is_empty() || !int_clean.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sign = if text.starts_with('-') { "-" } else { "" };
        Some(match frac {
            None if sign.is_empty() && matches!(int_clean, Cow::Borrowed(_)) => {
                Cow::Borrowed(text.trim_start_matches('+'))
            }
            None => Cow::Owned(format!("{sign}{int_clean}")),
            Some(f) => Cow::Owned(format!("{sign}{int_clean}.{f}")),
        })
    }

    fn parse_date(&self, text: &str) -> Option<NaiveDate> {
        for (pattern, items) in &self.date_formats {
            // The two patterns nearly every export uses, without chrono's general parser (a
            // third of the cost of a register row); the result is the same.
            let fast = match pattern.as_str() {
                "%d/%m/%Y" => fixed_date(text, [6, 3, 0], b'/'),
                "%Y-%m-%d" => fixed_date(text, [0, 5, 8], b'-'),
                _ => None,
            };
            if let Some(d) = fast {
                return d;
            }
            let mut parsed = Parsed::new();
            if chrono::format::parse(&mut parsed, text, items.iter()).is_ok()
                && let Ok(d) = parsed.to_naive_date()
            {
                return Some(d);
            }
        }
        None
    }

    fn rules(&self, col: &ColumnRules, v: &Value<'_>) -> Result<(), Failure> {
        let fail = |rule: &'static str, message: String| Failure {
            column: Some(col.name.clone()),
            rule,
            message,
        };
        if matches!(v, Value::Null) {
            return if col.required {
                Err(fail("required", "missing required value".into()))
            } else {
                Ok(())
            };
        }
        if let Some(lo) = col.min
            && below(v, lo)
        {
            return Err(fail(
                "range",
                format!("`{}` is below the minimum {}", display(v), bound_str(lo)),
            ));
        }
        if let Some(hi) = col.max
            && below_or_above(v, hi)
        {
            return Err(fail(
                "range",
                format!("`{}` is above the maximum {}", display(v), bound_str(hi)),
            ));
        }
        if !col.allowed.is_empty()
            || col.codelist.is_some()
            || col.regex.is_some()
            || col.reference.is_some()
        {
            let s = display(v);
            if !col.allowed.is_empty() && !col.allowed.contains(&*s) {
                return Err(fail(
                    "allowed",
                    format!("`{s}` is not one of: {}", col.allowed_list),
                ));
            }
            if let Some((path, codes)) = &col.codelist
                && !codes.contains(&*s)
            {
                return Err(fail(
                    "codelist",
                    format!("`{s}` is not in the codelist {path}"),
                ));
            }
            if let Some((pattern, re)) = &col.regex
                && !re.is_match(&s)
            {
                return Err(fail("regex", format!("`{s}` does not match {pattern}")));
            }
            if let Some((target, set)) = &col.reference
                && !set.contains(&*s)
            {
                return Err(fail("reference", format!("`{s}` is not found in {target}")));
            }
        }
        Ok(())
    }
}

fn convert_typed<'r>(ty: ColumnType, cell: &Cell<'_>) -> Result<Value<'r>, String> {
    let raw = cell.raw().unwrap_or_default();
    match (ty, cell) {
        (ColumnType::String, Cell::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Ok(Value::Str(Cow::Owned(format!("{}", *f as i64))))
        }
        (ColumnType::String, _) => Ok(Value::Str(Cow::Owned(raw))),
        (ColumnType::Integer, Cell::Int(i)) => Ok(Value::Int(*i)),
        (ColumnType::Integer, Cell::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Ok(Value::Int(*f as i64))
        }
        (ColumnType::Float, Cell::Int(i)) => Ok(Value::Float(*i as f64)),
        (ColumnType::Float, Cell::Float(f)) if f.is_finite() => Ok(Value::Float(*f)),
        (ColumnType::Boolean, Cell::Bool(b)) => Ok(Value::Bool(*b)),
        (ColumnType::Boolean, Cell::Int(i @ (0 | 1))) => Ok(Value::Bool(*i == 1)),
        (ColumnType::Date, Cell::Date(d)) => Ok(Value::Date((*d - epoch()).num_days() as i32)),
        (ColumnType::Date, Cell::DateTime(dt)) if dt.time().num_seconds_from_midnight() == 0 => {
            Ok(Value::Date((dt.date() - epoch()).num_days() as i32))
        }
        (ColumnType::Date, Cell::DateTime(_)) => {
            Err(format!("`{raw}` has a time of day, expected a date"))
        }
        (ty, _) => Err(format!("`{raw}` is not a valid {ty}")),
    }
}

/// `Some(result)` when `text` has the exact shape `dd/mm/yyyy` or `yyyy-mm-dd` (positions of year,
/// month, day); `None` when it does not, so the general parser decides.
fn fixed_date(text: &str, [y, m, d]: [usize; 3], sep: u8) -> Option<Option<NaiveDate>> {
    let b = text.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let seps = if y == 0 { [4, 7] } else { [2, 5] };
    if b[seps[0]] != sep || b[seps[1]] != sep {
        return None;
    }
    let num = |at: usize, len: usize| -> Option<u32> {
        b[at..at + len].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (yy, mm, dd) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    Some(NaiveDate::from_ymd_opt(yy as i32, mm, dd))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "true" | "1" | "si" | "sì" | "s" | "yes" | "y" | "vero" => Some(true),
        "false" | "0" | "no" | "n" | "falso" => Some(false),
        _ => None,
    }
}

fn below(v: &Value<'_>, b: Bound) -> bool {
    match (v, b) {
        (Value::Int(i), Bound::Number(n)) => (*i as f64) < n,
        (Value::Float(f), Bound::Number(n)) => *f < n,
        (Value::Date(d), Bound::Date(n)) => *d < (n - epoch()).num_days() as i32,
        _ => false,
    }
}

fn below_or_above(v: &Value<'_>, b: Bound) -> bool {
    match (v, b) {
        (Value::Int(i), Bound::Number(n)) => (*i as f64) > n,
        (Value::Float(f), Bound::Number(n)) => *f > n,
        (Value::Date(d), Bound::Date(n)) => *d > (n - epoch()).num_days() as i32,
        _ => false,
    }
}

fn bound_str(b: Bound) -> String {
    match b {
        Bound::Number(n) => n.to_string(),
        Bound::Date(d) => d.format("%Y-%m-%d").to_string(),
    }
}

/// The canonical text of a typed value: what codelists, references and messages compare.
pub(crate) fn display(v: &Value<'_>) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => date_string(*d),
    }
}

pub(crate) fn date_string(days: i32) -> String {
    let d = epoch() + chrono::Duration::days(days as i64);
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

fn hash_value(h: &mut Xxh3, v: &Value<'_>) {
    match v {
        Value::Null => h.update(&[0]),
        Value::Str(s) => {
            h.update(&[1]);
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Value::Int(i) => {
            h.update(&[2]);
            h.update(&i.to_le_bytes());
        }
        Value::Float(f) => {
            h.update(&[3]);
            h.update(&f.to_bits().to_le_bytes());
        }
        Value::Bool(b) => h.update(&[4, *b as u8]),
        Value::Date(d) => {
            h.update(&[5]);
            h.update(&d.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use project::{ColumnSpec, SourceSpec};

    fn spec(decimal: char, thousands: Option<char>, ty: ColumnType) -> SourceSpec {
        SourceSpec {
            name: "t".into(),
            spec_file: "sources/t.toml".into(),
            title: String::new(),
            holder: String::new(),
            description: String::new(),
            files: vec!["t.csv".into()],
            format: model::Format::Csv,
            encoding: model::Encoding::Utf8,
            delimiter: b';',
            quote: b'"',
            decimal,
            thousands,
            header_row: 1,
            sheet: None,
            date_formats: vec!["%d/%m/%Y".into(), "%Y-%m-%d".into()],
            null_values: vec!["".into(), "NA".into()],
            unique: vec![],
            period: None,
            columns: vec![ColumnSpec {
                name: "v".into(),
                from: "V".into(),
                ty,
                required: false,
                pseudonym: false,
                min: None,
                max: None,
                allowed: vec![],
                codelist: None,
                regex: None,
                references: None,
            }],
        }
    }

    /// Converts one text cell; `Ok(display)` or `Err(rule)`.
    fn check(
        decimal: char,
        thousands: Option<char>,
        ty: ColumnType,
        input: &str,
        expect: Result<&str, &str>,
    ) {
        let spec = spec(decimal, thousands, ty);
        let mut v = Validator::new(&spec, &[]);
        let cells = [Cell::Text(Cow::Borrowed(input))];
        let row = Row {
            line: 2,
            cells: &cells,
            problem: None,
        };
        let got = v
            .check(&row)
            .map(|vals| display(&vals[0]))
            .map_err(|f| f[0].rule);
        assert_eq!(
            got.as_deref().map_err(|e| *e),
            expect,
            "{ty} `{input}` with decimal {decimal:?} thousands {thousands:?}"
        );
    }

    #[test]
    fn italian_numbers_convert_exactly() {
        use ColumnType::{Float, Integer};
        check(',', Some('.'), Float, "12.345,67", Ok("12345.67"));
        check(',', Some('.'), Float, "-1.000.000,5", Ok("-1000000.5"));
        check(',', Some('.'), Float, "345,6", Ok("345.6"));
        check(',', Some('.'), Float, "12.5", Err("type")); // a bad group, not 125
        check(',', Some('.'), Float, "1.2345,00", Err("type"));
        check(',', None, Float, "3.5", Err("type")); // `.` is not the decimal separator here
        check('.', None, Float, "3.5", Ok("3.5"));
        check('.', None, Float, "1e5", Err("type"));
        check('.', None, Float, "NaN", Err("type"));
        check(',', Some('.'), Integer, "3,5", Err("type"));
        check(',', Some('.'), Integer, "1.234", Ok("1234"));
        check('.', None, Integer, "+42", Ok("42"));
        check('.', None, Integer, "NA", Ok(""));
    }

    #[test]
    fn dates_must_exist() {
        use ColumnType::Date;
        check('.', None, Date, "29/02/2024", Ok("2024-02-29"));
        check('.', None, Date, "29/02/2023", Err("type"));
        check('.', None, Date, "31/02/2021", Err("type"));
        check('.', None, Date, "2021-12-31", Ok("2021-12-31"));
        check('.', None, Date, "31-12-2021", Err("type"));
    }

    #[test]
    fn booleans_in_italian_and_english() {
        use ColumnType::Boolean;
        check('.', None, Boolean, "Sì", Ok("true"));
        check('.', None, Boolean, "no", Ok("false"));
        check('.', None, Boolean, "forse", Err("type"));
    }

    #[test]
    fn typed_cells_convert_without_loss_only() {
        assert_eq!(
            convert_typed(ColumnType::Integer, &Cell::Float(12.0)),
            Ok(Value::Int(12))
        );
        assert!(convert_typed(ColumnType::Integer, &Cell::Float(12.5)).is_err());
        assert_eq!(
            convert_typed(ColumnType::String, &Cell::Float(12345.0)),
            Ok(Value::Str(Cow::Owned("12345".into())))
        );
        let midnight = NaiveDate::from_ymd_opt(2024, 3, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date");
        assert_eq!(
            convert_typed(ColumnType::Date, &Cell::DateTime(midnight)),
            Ok(Value::Date(19783))
        );
        let noon = NaiveDate::from_ymd_opt(2024, 3, 1)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("date");
        assert!(convert_typed(ColumnType::Date, &Cell::DateTime(noon)).is_err());
    }

    #[test]
    fn a_repeated_key_is_rejected_after_the_first() {
        let mut s = spec('.', None, ColumnType::String);
        s.unique = vec!["v".into()];
        let mut v = Validator::new(&s, &[]);
        let cells = [Cell::Text(Cow::Borrowed("A1"))];
        let row = Row {
            line: 2,
            cells: &cells,
            problem: None,
        };
        assert!(v.check(&row).is_ok());
        let err = v.check(&row).expect_err("duplicate");
        assert_eq!(err[0].rule, "unique");
        assert!(err[0].message.contains("(v) = (A1)"), "{}", err[0].message);
    }
}
