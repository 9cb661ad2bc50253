//! Tables as data: every registry object declares its columns once ([`TableDef`]), and the store,
//! the CSV and HSDS formats and the history all work from that declaration.
//!
//! A record travels in three shapes: the Rust struct; its *row*, a JSON object keyed by column
//! name whose values are what SQLite stores (text, integers, reals, null; booleans as 0/1, code
//! lists as `a,b` text); and text cells in CSV files. [`canon`] turns any accepted input for a
//! column into its canonical row value, so that every path produces the same bytes.

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A record as stored: column name to canonical row value.
pub type Row = Map<String, Value>;

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColType {
    /// Free text.
    Text,
    /// A whole number.
    Integer,
    /// A whole number, zero or more.
    Count,
    /// A decimal number.
    Real,
    /// `true` or `false` (stored as 1 or 0).
    Bool,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A time of day, `HH:MM:SS` (input may be `HH:MM` and carry a zone suffix, which is dropped).
    Time,
    /// An instant, RFC 3339 in UTC.
    DateTime,
    /// One code out of a fixed list.
    Code(&'static [&'static str]),
    /// Zero or more codes out of a fixed list, stored comma separated in the list's order.
    Codes(&'static [&'static str]),
}

impl ColType {
    /// The SQLite type of the column.
    pub fn sql(self) -> &'static str {
        match self {
            ColType::Integer | ColType::Count | ColType::Bool => "INTEGER",
            ColType::Real => "REAL",
            _ => "TEXT",
        }
    }

    /// The Frictionless Table Schema type of the column.
    pub fn frictionless(self) -> &'static str {
        match self {
            ColType::Integer | ColType::Count => "integer",
            ColType::Real => "number",
            ColType::Bool => "boolean",
            ColType::Date => "date",
            ColType::Time => "time",
            ColType::DateTime => "datetime",
            _ => "string",
        }
    }
}

/// How a column appears in the HSDS formats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hsds {
    /// An HSDS field of the same name.
    Same,
    /// An HSDS field with another name.
    Renamed(&'static str),
    /// Our extension: the HSDS field is the column's name prefixed with `x_`.
    Extension,
    /// Represented otherwise (service taxonomy codes become HSDS `attributes`).
    Omitted,
}

/// A column of a registry table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub required: bool,
    /// The table whose `id` this column refers to.
    pub refers: Option<&'static str>,
    pub hsds: Hsds,
    /// The value of a required column when an input leaves it out (as the SQL default).
    pub default: Option<&'static str>,
}

impl Column {
    pub(crate) const fn new(name: &'static str, ty: ColType) -> Column {
        Column {
            name,
            ty,
            required: false,
            refers: None,
            hsds: Hsds::Same,
            default: None,
        }
    }
    pub(crate) const fn text(name: &'static str) -> Column {
        Column::new(name, ColType::Text)
    }
    pub(crate) const fn required(mut self) -> Column {
        self.required = true;
        self
    }
    pub(crate) const fn default(mut self, value: &'static str) -> Column {
        self.default = Some(value);
        self
    }
    pub(crate) const fn refers(mut self, table: &'static str) -> Column {
        self.refers = Some(table);
        self
    }
    pub(crate) const fn ext(mut self) -> Column {
        self.hsds = Hsds::Extension;
        self
    }
    pub(crate) const fn hsds_as(mut self, name: &'static str) -> Column {
        self.hsds = Hsds::Renamed(name);
        self
    }
    pub(crate) const fn not_hsds(mut self) -> Column {
        self.hsds = Hsds::Omitted;
        self
    }

    /// Replaces a missing value with the column's default, if it has one.
    pub(crate) fn or_default(&self, v: Value) -> Value {
        match (v, self.default) {
            (Value::Null, Some(d)) => Value::String(d.to_string()),
            (v, _) => v,
        }
    }

    /// The field name in the HSDS formats, if the column appears there.
    pub fn hsds_name(&self) -> Option<String> {
        match self.hsds {
            Hsds::Same => Some(self.name.to_string()),
            Hsds::Renamed(name) => Some(name.to_string()),
            Hsds::Extension => Some(format!("x_{}", self.name)),
            Hsds::Omitted => None,
        }
    }
}

/// A registry table: its SQL name, its HSDS object and its columns (the first is always `id`).
#[derive(Debug)]
pub struct TableDef {
    /// SQL table name, also the plain CSV file stem.
    pub table: &'static str,
    /// The object's name: the HSDS object (`organization`) or our extension (`x_operator`).
    pub object: &'static str,
    /// The file in the HSDS datapackage.
    pub hsds_path: &'static str,
    pub columns: &'static [Column],
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether the object is one of ours rather than HSDS's.
    pub fn is_extension(&self) -> bool {
        self.object.starts_with("x_")
    }

    /// The columns in HSDS order: HSDS fields first, then extension fields.
    pub fn hsds_columns(&self) -> Vec<(&Column, String)> {
        let mut out: Vec<(&Column, String)> = Vec::new();
        for ext in [false, true] {
            for c in self.columns {
                if (c.hsds == Hsds::Extension) == ext
                    && let Some(name) = c.hsds_name()
                {
                    out.push((c, name));
                }
            }
        }
        out
    }
}

/// A rule of the model broken by one field of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Invalid {
        Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// An object stored in the registry. Implemented by every model type; sealed.
pub trait Record: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Sealed {
    /// The table that stores it.
    const DEF: &'static TableDef;
    /// Its identifier.
    fn id(&self) -> &str;
    /// The model's rules beyond the column types (ranges, consistency between fields).
    fn check(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

/// Turns a record into its row.
pub(crate) fn to_row<T: Record>(record: &T) -> Result<Row, Invalid> {
    let value =
        serde_json::to_value(record).map_err(|e| Invalid::new("(record)", e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(Invalid::new("(record)", "not an object"));
    };
    canon_row(T::DEF, &map)
}

/// Turns a row back into a record.
pub(crate) fn from_row<T: Record>(row: &Row) -> Result<T, Invalid> {
    let mut map = Map::new();
    for c in T::DEF.columns {
        let v = row.get(c.name).cloned().unwrap_or(Value::Null);
        map.insert(c.name.to_string(), to_record_value(c, v));
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| Invalid::new("(record)", e.to_string()))
}

/// Canonicalizes a whole input map (keys are column names; absent keys are null), checking
/// required columns. Keys that are not columns are ignored.
pub(crate) fn canon_row(def: &TableDef, input: &Map<String, Value>) -> Result<Row, Invalid> {
    let mut row = Row::new();
    for c in def.columns {
        let v = input.get(c.name).unwrap_or(&Value::Null);
        let v = c.or_default(canon(c.ty, v).map_err(|m| Invalid::new(c.name, m))?);
        if c.required && v.is_null() {
            return Err(Invalid::new(c.name, "missing required field"));
        }
        row.insert(c.name.to_string(), v);
    }
    Ok(row)
}

/// The canonical row value for an input value of a column (a JSON value of any reasonable type,
/// or text from a CSV cell). Empty text is null.
pub fn canon(ty: ColType, v: &Value) -> Result<Value, String> {
    if v.is_null() || v.as_str().is_some_and(str::is_empty) {
        return Ok(Value::Null);
    }
    if let Value::Array(items) = v {
        let ColType::Codes(allowed) = ty else {
            return Err("expected a single value, found a list".into());
        };
        let mut codes = Vec::new();
        for item in items {
            let Some(s) = item.as_str() else {
                return Err(format!("expected a list of codes, found `{item}`"));
            };
            codes.push(s.to_string());
        }
        return canon_codes(allowed, codes.iter().map(String::as_str));
    }
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err(format!("expected a value, found `{v}`")),
    };
    let text = text.as_str();
    match ty {
        ColType::Text => Ok(Value::String(text.to_string())),
        ColType::Integer => match v {
            Value::Number(n) if n.is_i64() => Ok(v.clone()),
            _ => parse_whole(text)
                .map(Value::from)
                .ok_or_else(|| format!("expected a whole number, found `{text}`")),
        },
        ColType::Count => match parse_whole(text) {
            Some(n) if n >= 0 => Ok(Value::from(n)),
            _ => Err(format!(
                "expected a whole number of zero or more, found `{text}`"
            )),
        },
        ColType::Real => {
            let x: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("expected a number, found `{text}`"))?;
            if !x.is_finite() {
                return Err(format!("expected a finite number, found `{text}`"));
            }
            serde_json::Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| format!("expected a number, found `{text}`"))
        }
        ColType::Bool => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Value::from(1)),
            "false" | "0" => Ok(Value::from(0)),
            _ => Err(format!("expected true or false, found `{text}`")),
        },
        ColType::Date => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| format!("expected a date YYYY-MM-DD, found `{text}`")),
        ColType::Time => parse_time(text)
            .map(|t| Value::String(t.format("%H:%M:%S").to_string()))
            .ok_or_else(|| format!("expected a time HH:MM or HH:MM:SS, found `{text}`")),
        ColType::DateTime => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| {
                Value::String(
                    t.with_timezone(&Utc)
                        .to_rfc3339_opts(SecondsFormat::AutoSi, true),
                )
            })
            .map_err(|_| format!("expected a date and time (RFC 3339), found `{text}`")),
        ColType::Code(allowed) => {
            if allowed.contains(&text) {
                Ok(Value::String(text.to_string()))
            } else {
                Err(format!(
                    "unknown code `{text}`, expected one of: {}",
                    allowed.join(", ")
                ))
            }
        }
        ColType::Codes(allowed) => canon_codes(allowed, text.split(',').map(str::trim)),
    }
}

fn parse_whole(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    // "12.0" from a spreadsheet or a JSON number written as a float.
    let x: f64 = t.parse().ok()?;
    (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
}

/// Parses `HH:MM`, `HH:MM:SS`, optionally followed by `Z` or a UTC offset (which is dropped:
/// the registry keeps the city's wall-clock times).
pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    let t = match t.get(5..).and_then(|rest| rest.find(['+', '-'])) {
        Some(i) => &t[..5 + i],
        None => t,
    };
    NaiveTime::parse_from_str(t, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

fn canon_codes<'a>(
    allowed: &[&str],
    codes: impl Iterator<Item = &'a str>,
) -> Result<Value, String> {
    let mut positions = Vec::new();
    for code in codes.filter(|c| !c.is_empty()) {
        match allowed.iter().position(|a| *a == code) {
            Some(i) => positions.push(i),
            None => {
                return Err(format!(
                    "unknown code `{code}`, expected one of: {}",
                    allowed.join(", ")
                ));
            }
        }
    }
    positions.sort_unstable();
    positions.dedup();
    if positions.is_empty() {
        return Ok(Value::Null);
    }
    let codes: Vec<&str> = positions.iter().map(|&i| allowed[i]).collect();
    Ok(Value::String(codes.join(",")))
}

/// The serde value of a canonical row value (booleans and code lists change shape).
pub(crate) fn to_record_value(c: &Column, v: Value) -> Value {
    match c.ty {
        ColType::Bool => match v {
            Value::Null => Value::Null,
            other => Value::Bool(other.as_i64().is_some_and(|n| n != 0)),
        },
        ColType::Codes(_) => match v {
            Value::String(s) => Value::Array(
                s.split(',')
                    .filter(|c| !c.is_empty())
                    .map(|c| Value::String(c.to_string()))
                    .collect(),
            ),
            _ => Value::Array(Vec::new()),
        },
        _ => v,
    }
}

/// The CSV cell for a canonical row value.
pub(crate) fn cell(c: &Column, v: &Value) -> String {
    match (c.ty, v) {
        (_, Value::Null) => String::new(),
        (ColType::Bool, v) => (v.as_i64().is_some_and(|n| n != 0)).to_string(),
        (ColType::Real, Value::Number(n)) => match n.as_f64() {
            Some(x) => format!("{x}"),
            None => n.to_string(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// Rebuilds a JSON value with every object's keys in sorted order, so that its text does not
/// depend on how `serde_json` was built.
pub(crate) fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CODES: &[&str] = &["poverty", "disability", "housing"];

    fn check(ty: ColType, input: Value, expect: Result<Value, &str>) {
        let got = canon(ty, &input);
        match expect {
            Ok(v) => assert_eq!(got, Ok(v), "{ty:?} {input}"),
            Err(m) => {
                let e = got.expect_err(&format!("{ty:?} {input} should fail"));
                assert!(e.contains(m), "{e} should contain {m}");
            }
        }
    }

    #[test]
    fn canonical_values() {
        check(ColType::Text, json!(""), Ok(Value::Null));
        check(ColType::Text, json!(12), Ok(json!("12")));
        check(ColType::Integer, json!("12"), Ok(json!(12)));
        check(ColType::Integer, json!(12.0), Ok(json!(12)));
        check(
            ColType::Integer,
            json!("twelve"),
            Err("expected a whole number"),
        );
        check(ColType::Count, json!(-1), Err("zero or more"));
        check(ColType::Real, json!("45.50"), Ok(json!(45.5)));
        check(ColType::Real, json!(3), Ok(json!(3.0)));
        check(ColType::Real, json!("NaN"), Err("finite"));
        check(ColType::Bool, json!(true), Ok(json!(1)));
        check(ColType::Bool, json!("FALSE"), Ok(json!(0)));
        check(ColType::Bool, json!("si"), Err("true or false"));
        check(ColType::Date, json!("2024-02-29"), Ok(json!("2024-02-29")));
        check(ColType::Date, json!("2023-02-29"), Err("YYYY-MM-DD"));
        check(ColType::Time, json!("09:00"), Ok(json!("09:00:00")));
        check(ColType::Time, json!("09:30Z"), Ok(json!("09:30:00")));
        check(ColType::Time, json!("18:00-05:00"), Ok(json!("18:00:00")));
        check(ColType::Time, json!("25:00"), Err("HH:MM"));
        check(
            ColType::DateTime,
            json!("2024-03-01T10:00:00+01:00"),
            Ok(json!("2024-03-01T09:00:00Z")),
        );
        check(ColType::Code(CODES), json!("housing"), Ok(json!("housing")));
        check(
            ColType::Code(CODES),
            json!("food"),
            Err("unknown code `food`"),
        );
        check(
            ColType::Codes(CODES),
            json!("housing, poverty,housing"),
            Ok(json!("poverty,housing")),
        );
        check(
            ColType::Codes(CODES),
            json!(["disability", "poverty"]),
            Ok(json!("poverty,disability")),
        );
        check(ColType::Codes(CODES), json!([]), Ok(Value::Null));
        check(ColType::Text, json!(["a"]), Err("single value"));
    }

    #[test]
    fn cells_and_record_values() {
        let real = Column::new("amount", ColType::Real);
        assert_eq!(cell(&real, &json!(45.0)), "45");
        assert_eq!(cell(&real, &json!(0.1)), "0.1");
        let flag = Column::new("free", ColType::Bool);
        assert_eq!(cell(&flag, &json!(1)), "true");
        assert_eq!(to_record_value(&flag, json!(0)), json!(false));
        let codes = Column::new("risks", ColType::Codes(CODES));
        assert_eq!(
            to_record_value(&codes, json!("poverty,housing")),
            json!(["poverty", "housing"])
        );
        assert_eq!(to_record_value(&codes, Value::Null), json!([]));
    }

    #[test]
    fn sorted_orders_keys_recursively() {
        let v = sorted(json!({"b": 1, "a": [{"d": 1, "c": 2}]}));
        assert_eq!(v.to_string(), r#"{"a":[{"c":2,"d":1}],"b":1}"#);
    }
}
