//! `indicators/ID.toml`: one indicator per file, either a ratio of two measures over warehouse
//! tables or an estimate delivered already aggregated.
//!
//! Only the file itself is checked here (keys, SQL syntax, identifiers, territory levels and
//! codes); whether the tables and columns exist is the build's job, which reports it at the
//! lines kept in [`Indicator::lines`].

use crate::config::{check_format_version, is_identifier};
use crate::error::ConfigError;
use crate::text::{closest, error_at, from_toml_error, line_col};
use model::{
    Definition, Direction, Estimate, Hierarchy, Indicator, IndicatorKind, IndicatorPeriod, Measure,
    Need, TOPICS, Text,
};
use serde::Deserialize;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    format_version: Option<Spanned<u32>>,
    id: Option<Spanned<String>>,
    name: Spanned<RawText>,
    description: Spanned<RawText>,
    unit: Spanned<RawText>,
    factor: Option<Spanned<f64>>,
    kind: Spanned<IndicatorKind>,
    direction: Spanned<Direction>,
    topics: Spanned<Vec<Spanned<String>>>,
    period: Option<Spanned<IndicatorPeriod>>,
    source_notes: Option<Spanned<RawText>>,
    breakdowns: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    levels: Option<Spanned<Vec<Spanned<String>>>>,
    numerator: Option<Spanned<RawMeasure>>,
    denominator: Option<Spanned<RawMeasure>>,
    estimate: Option<Spanned<RawEstimate>>,
    need: Option<Spanned<RawNeed>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    it: Option<Spanned<String>>,
    en: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    table: Spanned<String>,
    value: Spanned<String>,
    filter: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    territory: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEstimate {
    table: Spanned<String>,
    value: Spanned<String>,
    lower: Spanned<String>,
    upper: Spanned<String>,
    sample_size: Option<Spanned<String>>,
    filter: Option<Spanned<String>>,
    year: Spanned<String>,
    area: Spanned<String>,
    areas: Spanned<BTreeMap<String, Spanned<String>>>,
    breakdown: Option<Spanned<String>>,
    breakdown_value: Option<Spanned<String>>,
    total: Option<Spanned<String>>,
    dimensions: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeed {
    standard: Spanned<f64>,
    supply_unit: Spanned<RawText>,
    supply: Spanned<RawMeasure>,
}

/// Checks of one file: errors located in its text, and the line of every key read.
struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
    lines: BTreeMap<String, usize>,
}

impl Checker<'_> {
    fn error(
        &mut self,
        span: Option<Range<usize>>,
        key: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.errors
            .push(error_at(self.file, self.text, span, key, message, hint));
    }

    /// Records the line of `key` and gives back its value.
    fn read<'v, T>(&mut self, key: &str, v: &'v Spanned<T>) -> &'v T {
        self.lines
            .insert(key.to_string(), line_col(self.text, v.span().start).0);
        v.get_ref()
    }

    fn text(&mut self, key: &str, v: &Spanned<RawText>, required: bool) -> Text {
        let raw = self.read(key, v);
        let mut lang = |lang: &str, name: &str, t: &Option<Spanned<String>>| -> String {
            let k = format!("{key}.{lang}");
            match t {
                Some(t) => {
                    let s = self.read(&k, t).trim().to_string();
                    if s.is_empty() && required {
                        self.error(
                            Some(t.span()),
                            &k,
                            format!("the {name} text is empty"),
                            None,
                        );
                    }
                    s
                }
                None => {
                    if required {
                        self.error(
                            Some(v.span()),
                            &k,
                            format!("no {name} text"),
                            Some(format!("write `{key} = {{ it = \"...\", en = \"...\" }}`")),
                        );
                    }
                    String::new()
                }
            }
        };
        Text {
            it: lang("it", "Italian", &raw.it),
            en: lang("en", "English", &raw.en),
        }
    }

    fn identifier(&mut self, key: &str, v: &Spanned<String>, what: &str) -> String {
        let s = self.read(key, v).trim().to_string();
        if !is_identifier(&s) {
            self.error(
                Some(v.span()),
                key,
                format!("`{s}` is not a valid {what} name"),
                Some("use lowercase letters, digits and `_`, starting with a letter".into()),
            );
        }
        s
    }

    fn sql(&mut self, key: &str, v: &Spanned<String>) -> String {
        let s = self.read(key, v).trim().to_string();
        if let Err((message, hint)) = check_expr(&s) {
            self.error(
                Some(v.span()),
                key,
                format!("`{s}` is not an SQL expression: {message}"),
                hint,
            );
        }
        s
    }

    fn measure(&mut self, key: &str, m: &Spanned<RawMeasure>) -> Measure {
        let raw = self.read(key, m);
        let k = |f: &str| format!("{key}.{f}");
        Measure {
            table: self.identifier(&k("table"), &raw.table, "table"),
            value: self.sql(&k("value"), &raw.value),
            filter: raw.filter.as_ref().map(|f| self.sql(&k("filter"), f)),
            date: raw
                .date
                .as_ref()
                .map(|d| self.identifier(&k("date"), d, "column")),
            territory: raw
                .territory
                .as_ref()
                .map(|t| self.identifier(&k("territory"), t, "column")),
        }
    }

    fn estimate(&mut self, e: &Spanned<RawEstimate>, hierarchy: Option<&Hierarchy>) -> Estimate {
        let raw = self.read("estimate", e);
        let k = |f: &str| format!("estimate.{f}");
        let areas_raw = self.read("estimate.areas", &raw.areas);
        if areas_raw.is_empty() {
            self.error(
                Some(raw.areas.span()),
                "estimate.areas",
                "no areas declared".into(),
                Some("map each value of the area column to a territory code, e.g. { \"Comune di Modena\" = \"036023\" }".into()),
            );
        }
        let mut areas = BTreeMap::new();
        for (name, code) in areas_raw {
            let c = code.get_ref().trim().to_string();
            if let Some(h) = hierarchy
                && !h.nodes.iter().any(|t| t.code == c)
            {
                let codes: Vec<&str> = h.nodes.iter().map(|t| t.code.as_str()).collect();
                self.error(
                    Some(code.span()),
                    "estimate.areas",
                    format!("`{name}` maps to `{c}`, which is not a code of the territory hierarchy"),
                    closest(&c, &codes)
                        .map(|x| format!("did you mean `{x}`?"))
                        .or_else(|| Some("codes are those of the codelist in `territory.codelist`, at any level".into())),
                );
            }
            areas.insert(name.clone(), c);
        }
        let mut dimensions = BTreeMap::new();
        if let Some(d) = &raw.dimensions {
            for (from, to) in self.read("estimate.dimensions", d) {
                let to = to.get_ref().trim().to_string();
                if !is_identifier(&to) {
                    self.error(
                        Some(d.get_ref()[from].span()),
                        "estimate.dimensions",
                        format!("`{to}` is not a valid dimension name"),
                        Some("use lowercase letters, digits and `_`, e.g. \"age_band\"".into()),
                    );
                }
                dimensions.insert(from.clone(), to);
            }
        }
        let breakdown = raw
            .breakdown
            .as_ref()
            .map(|b| self.identifier(&k("breakdown"), b, "column"));
        let breakdown_value = raw
            .breakdown_value
            .as_ref()
            .map(|b| self.identifier(&k("breakdown_value"), b, "column"));
        let total = raw
            .total
            .as_ref()
            .map(|t| self.read(&k("total"), t).clone());
        match &raw.breakdown {
            Some(b) => {
                for (missing, name) in [
                    (breakdown_value.is_none(), "breakdown_value"),
                    (total.is_none(), "total"),
                ] {
                    if missing {
                        self.error(
                            Some(b.span()),
                            &k(name),
                            format!("`estimate.breakdown` needs `estimate.{name}`"),
                            Some(if name == "total" {
                                "name the breakdown value meaning everyone, e.g. total = \"totale\""
                                    .into()
                            } else {
                                "name the column with the breakdown category".into()
                            }),
                        );
                    }
                }
            }
            None => {
                for (v, name) in [
                    (&raw.breakdown_value, "breakdown_value"),
                    (&raw.total, "total"),
                ] {
                    if let Some(v) = v {
                        self.error(
                            Some(v.span()),
                            &k(name),
                            format!("`estimate.{name}` applies only with `estimate.breakdown`"),
                            None,
                        );
                    }
                }
            }
        }
        if raw.dimensions.is_some() && raw.breakdown.is_none() {
            let span = raw.dimensions.as_ref().map(|d| d.span());
            self.error(
                span,
                "estimate.dimensions",
                "`estimate.dimensions` applies only with `estimate.breakdown`".into(),
                None,
            );
        }
        Estimate {
            table: self.identifier(&k("table"), &raw.table, "table"),
            value: self.sql(&k("value"), &raw.value),
            lower: self.sql(&k("lower"), &raw.lower),
            upper: self.sql(&k("upper"), &raw.upper),
            sample_size: raw
                .sample_size
                .as_ref()
                .map(|s| self.sql(&k("sample_size"), s)),
            filter: raw.filter.as_ref().map(|f| self.sql(&k("filter"), f)),
            year: self.identifier(&k("year"), &raw.year, "column"),
            area: self.identifier(&k("area"), &raw.area, "column"),
            areas,
            breakdown,
            breakdown_value,
            total,
            dimensions,
        }
    }
}

/// Parses and checks one indicator file. `rel` is the path relative to the project root;
/// `hierarchy` is `None` when the project's territory could not be read (its levels and codes
/// are then not checked).
pub(crate) fn parse(
    root: &Path,
    rel: &Path,
    text: &str,
    hierarchy: Option<&Hierarchy>,
) -> Result<Indicator, Vec<ConfigError>> {
    let file = root.join(rel);
    let raw: RawIndicator = toml::from_str(text).map_err(|e| vec![toml_error(&file, text, &e)])?;
    let mut c = Checker {
        file: &file,
        text,
        errors: Vec::new(),
        lines: BTreeMap::new(),
    };

    let id = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_identifier(&id) {
        c.error(
            None,
            "",
            format!("`{id}` is not a valid indicator id (the file name gives it)"),
            Some(
                "rename the file: lowercase letters, digits and `_`, starting with a letter".into(),
            ),
        );
    }
    if let Some(v) = &raw.format_version {
        c.read("format_version", v);
        check_format_version(&file, text, v, &mut c.errors);
    }
    if let Some(given) = &raw.id
        && c.read("id", given) != &id
    {
        c.error(
            Some(given.span()),
            "id",
            format!(
                "`id = \"{}\"` differs from the file name `{id}`",
                given.get_ref()
            ),
            Some("the id is the file name; remove the `id` key or rename the file".into()),
        );
    }
    let name = c.text("name", &raw.name, true);
    let description = c.text("description", &raw.description, true);
    let unit = c.text("unit", &raw.unit, true);
    let factor = match &raw.factor {
        None => 1.0,
        Some(f) => {
            let v = *c.read("factor", f);
            if !(v.is_finite() && v > 0.0) {
                c.error(
                    Some(f.span()),
                    "factor",
                    format!("factor {v} is not a positive number"),
                    Some("e.g. 100 for per cent, 1000 per thousand".into()),
                );
            }
            v
        }
    };
    let kind = *c.read("kind", &raw.kind);
    let direction = *c.read("direction", &raw.direction);
    let period = raw
        .period
        .as_ref()
        .map_or(IndicatorPeriod::Year, |p| *c.read("period", p));
    let source_notes = raw
        .source_notes
        .as_ref()
        .map(|t| c.text("source_notes", t, false))
        .unwrap_or_default();

    let mut topics = Vec::new();
    if c.read("topics", &raw.topics).is_empty() {
        c.error(
            Some(raw.topics.span()),
            "topics",
            "no topics".into(),
            Some(format!(
                "tag the indicator with one or more of: {}",
                TOPICS.join(", ")
            )),
        );
    }
    for t in raw.topics.get_ref() {
        let topic = t.get_ref().trim();
        if !TOPICS.contains(&topic) {
            c.error(
                Some(t.span()),
                "topics",
                format!("`{topic}` is not a topic"),
                closest(topic, &TOPICS)
                    .map(|x| format!("did you mean `{x}`?"))
                    .or_else(|| Some(format!("the topics are: {}", TOPICS.join(", ")))),
            );
        } else if topics.iter().any(|x| x == topic) {
            c.error(
                Some(t.span()),
                "topics",
                format!("topic `{topic}` is listed twice"),
                None,
            );
        }
        topics.push(topic.to_string());
    }

    let mut breakdowns: Vec<Vec<String>> = Vec::new();
    if let Some(b) = &raw.breakdowns {
        for entry in c.read("breakdowns", b) {
            let columns: Vec<&str> = match entry.get_ref() {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(a) if !a.is_empty() && a.iter().all(|v| v.is_str()) => {
                    a.iter().filter_map(|v| v.as_str()).collect()
                }
                other => {
                    c.error(
                        Some(entry.span()),
                        "breakdowns",
                        format!("`{other}` is not a breakdown"),
                        Some("a breakdown is a column name, or a list of names to cross: \"sex\" or [\"sex\", \"age_band\"]".into()),
                    );
                    continue;
                }
            };
            let mut out: Vec<String> = Vec::new();
            for col in columns {
                if !is_identifier(col) {
                    c.error(
                        Some(entry.span()),
                        "breakdowns",
                        format!("`{col}` is not a valid column name"),
                        Some(
                            "use lowercase letters, digits and `_`, starting with a letter".into(),
                        ),
                    );
                } else if out.iter().any(|x| x == col) {
                    c.error(
                        Some(entry.span()),
                        "breakdowns",
                        format!("`{col}` is crossed with itself"),
                        None,
                    );
                }
                out.push(col.to_string());
            }
            let mut sorted = out.clone();
            sorted.sort();
            if breakdowns.iter().any(|x| {
                let mut s = x.clone();
                s.sort();
                s == sorted
            }) {
                c.error(
                    Some(entry.span()),
                    "breakdowns",
                    format!("breakdown `{}` is listed twice", out.join(" × ")),
                    None,
                );
            }
            breakdowns.push(out);
        }
    }

    let levels = match (&raw.levels, hierarchy) {
        (None, Some(h)) => h.levels.clone(),
        (None, None) => Vec::new(),
        (Some(l), h) => {
            let list = c.read("levels", l);
            if list.is_empty() {
                c.error(
                    Some(l.span()),
                    "levels",
                    "no levels".into(),
                    Some("remove `levels` to compute every level of the hierarchy".into()),
                );
            }
            let mut out: Vec<String> = Vec::new();
            if h.is_some_and(|h| h.levels.is_empty()) && !list.is_empty() {
                c.error(
                    Some(l.span()),
                    "levels",
                    "the project has no territory hierarchy".into(),
                    Some("declare `territory.levels` and `territory.codelist` in datalab.toml, or remove `levels`".into()),
                );
            }
            for level in list
                .iter()
                .filter(|_| h.is_none_or(|h| !h.levels.is_empty()))
            {
                let name = level.get_ref().trim().to_string();
                if let Some(h) = h
                    && h.level_index(&name).is_none()
                {
                    let known: Vec<&str> = h.levels.iter().map(String::as_str).collect();
                    c.error(
                        Some(level.span()),
                        "levels",
                        format!("`{name}` is not a territory level"),
                        closest(&name, &known)
                            .map(|x| format!("did you mean `{x}`?"))
                            .or_else(|| Some(format!("the levels are: {}", known.join(", ")))),
                    );
                } else if out.contains(&name) {
                    c.error(
                        Some(level.span()),
                        "levels",
                        format!("level `{name}` is listed twice"),
                        None,
                    );
                }
                out.push(name);
            }
            out
        }
    };

    let definition = match (&raw.numerator, &raw.estimate) {
        (Some(n), None) => Some(Definition::Ratio {
            numerator: c.measure("numerator", n),
            denominator: raw
                .denominator
                .as_ref()
                .map(|d| c.measure("denominator", d)),
        }),
        (None, Some(e)) => {
            if let Some(d) = &raw.denominator {
                c.error(
                    Some(d.span()),
                    "denominator",
                    "an estimate has no denominator".into(),
                    Some("use either [numerator] (and [denominator]) or [estimate]".into()),
                );
            }
            Some(Definition::Estimate(c.estimate(e, hierarchy)))
        }
        (Some(_), Some(e)) => {
            c.error(
                Some(e.span()),
                "estimate",
                "an indicator has either [numerator] or [estimate], not both".into(),
                Some("[numerator] computes it from tables, [estimate] takes a partner's estimate as it is".into()),
            );
            None
        }
        (None, None) => {
            c.error(
                raw.denominator.as_ref().map(|d| d.span()),
                "numerator",
                "no [numerator] and no [estimate]".into(),
                Some("add [numerator] (table, value) or [estimate]".into()),
            );
            None
        }
    };

    let need = raw.need.as_ref().and_then(|n| {
        let rn = c.read("need", n);
        if raw.numerator.is_none() {
            c.error(
                Some(n.span()),
                "need",
                "[need] applies to indicators with a [numerator]".into(),
                Some("the numerator counts the population in need".into()),
            );
            return None;
        }
        let standard = *c.read("need.standard", &rn.standard);
        if !(standard.is_finite() && standard > 0.0) {
            c.error(
                Some(rn.standard.span()),
                "need.standard",
                format!("standard {standard} is not a positive number"),
                Some("supply units per person in need, e.g. 0.1 places".into()),
            );
        }
        Some(Need {
            supply_unit: c.text("need.supply_unit", &rn.supply_unit, true),
            supply: c.measure("need.supply", &rn.supply),
            standard,
        })
    });

    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let Some(definition) = definition else {
        return Err(c.errors);
    };
    Ok(Indicator {
        id,
        name,
        description,
        unit,
        factor,
        kind,
        direction,
        topics,
        period,
        source_notes,
        breakdowns,
        levels,
        definition,
        need,
        file: rel.to_string_lossy().replace('\\', "/"),
        lines: c.lines,
    })
}

/// A toml error whose key is the dotted path (`numerator.valu`, `name.fr`), not just the name.
fn toml_error(file: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let mut e = from_toml_error(file, text, err);
    let message = err.message();
    let field = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|r| r.split('`').next());
    if let (Some(field), Some(span)) = (field, err.span()) {
        let prefix = if span.is_empty() && span.start == 0 {
            String::new()
        } else {
            table_at(text, span.start)
        };
        e.key = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
    }
    e
}

/// The dotted name of the table holding byte `offset`: the last `[header]` up to its line,
/// followed by the key of an inline table (`name = { ... }`) the offset is inside.
fn table_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let mut parts: Vec<String> = Vec::new();
    let header = regex::Regex::new(r#"^\s*\[\[?\s*([A-Za-z0-9_.\- "]+?)\s*\]\]?\s*(#.*)?$"#)
        .ok()
        .and_then(|re| {
            text[..line_end]
                .lines()
                .rev()
                .find_map(|l| re.captures(l).map(|c| c[1].replace(['"', ' '], "")))
        });
    parts.extend(header);
    if let Some((key, rest)) = text[line_start..offset].split_once('=')
        && rest.contains('{')
    {
        parts.push(key.trim().trim_matches('"').to_string());
    }
    parts.join(".")
}

/// Checks that `s` is one SQL expression and nothing more.
fn check_expr(s: &str) -> Result<(), (String, Option<String>)> {
    let mut parser = Parser::new(&GenericDialect)
        .try_with_sql(s)
        .map_err(|e| (parser_message(&e), None))?;
    parser
        .parse_expr()
        .map_err(|e| (parser_message(&e), None))?;
    let next = parser.peek_token();
    match next.token {
        Token::EOF => Ok(()),
        Token::SemiColon => Err((
            "`;` is not allowed".into(),
            Some("write a single expression, not a statement".into()),
        )),
        t => Err((
            format!(
                "unexpected `{t}` after the expression at column {}",
                next.span.start.column
            ),
            Some("write a single expression, e.g. `count(*)` or `age >= 65`".into()),
        )),
    }
}

/// sqlparser's message with the location written for a one-line fragment.
fn parser_message(e: &ParserError) -> String {
    let (message, at) = crate::models::parser_error(e);
    match at {
        Some((1, col)) => format!("{message} at column {col}"),
        Some((line, col)) => format!("{message} at line {line}, column {col}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, load};
    use model::{Definition, Direction, IndicatorKind, IndicatorPeriod, Measure};

    const RATIO: &str = r#"format_version = 1
name = { it = "Anziani soli", en = "Older people living alone" }
description = { it = "Residenti di 65 anni e più che vivono soli", en = "Residents aged 65 and over living alone" }
unit = { it = "per 100 residenti 65+", en = "per 100 residents 65+" }
factor = 100
kind = "outcome"
direction = "lower_is_better"
topics = ["elderly", "families"]
period = "point"
source_notes = { it = "Anagrafe", en = "Population register" }
breakdowns = ["sex", ["sex", "age_band"]]
levels = ["municipality", "zone"]

[numerator]
table = "residents"
value = "count(*)"
filter = "age >= 65 AND household_size = 1"
date = "reference_date"
territory = "zone"

[denominator]
table = "residents"
value = "count(*)"
filter = "age >= 65"

[need]
standard = 0.1
supply_unit = { it = "posti", en = "places" }

[need.supply]
table = "services_supply"
value = "sum(places)"
"#;

    const ESTIMATE: &str = r#"name = { it = "Fumatori", en = "Smokers" }
description = { it = "Quota di fumatori", en = "Share of smokers" }
unit = { it = "%", en = "%" }
kind = "outcome"
direction = "lower_is_better"
topics = ["health"]

[estimate]
table = "health_survey"
value = "prevalence"
lower = "ci_lower"
upper = "ci_upper"
sample_size = "sample_size"
filter = "indicator = 'fumo'"
year = "year"
area = "area"
areas = { "Comune di Modena" = "036023", "Quartiere Centro" = "Q1" }
breakdown = "breakdown"
breakdown_value = "breakdown_value"
total = "totale"
dimensions = { "sesso" = "sex", "classe di età" = "age_band" }
"#;

    const FILE: &str = "indicators/alone.toml";

    /// The project with [`FILE`] holding `RATIO` with `from` replaced by `to`.
    fn ratio_with(from: &str, to: &str) -> String {
        assert!(RATIO.contains(from), "{from}");
        RATIO.replacen(from, to, 1)
    }

    fn estimate_with(from: &str, to: &str) -> String {
        assert!(ESTIMATE.contains(from), "{from}");
        ESTIMATE.replacen(from, to, 1)
    }

    #[test]
    fn a_full_ratio_indicator_loads() {
        let p = load(&[(FILE, RATIO)]);
        let i = p.indicator("alone").expect("loaded");
        assert_eq!(i.file, FILE);
        assert_eq!(i.name.en, "Older people living alone");
        assert_eq!(i.unit.it, "per 100 residenti 65+");
        assert_eq!(i.source_notes.en, "Population register");
        assert_eq!(i.factor, 100.0);
        assert_eq!(i.kind, IndicatorKind::Outcome);
        assert_eq!(i.direction, Direction::LowerIsBetter);
        assert_eq!(i.period, IndicatorPeriod::Point);
        assert_eq!(i.topics, ["elderly", "families"]);
        assert_eq!(i.breakdowns, [vec!["sex"], vec!["sex", "age_band"]]);
        assert_eq!(i.levels, ["municipality", "zone"]);
        assert_eq!(
            i.definition,
            Definition::Ratio {
                numerator: Measure {
                    table: "residents".into(),
                    value: "count(*)".into(),
                    filter: Some("age >= 65 AND household_size = 1".into()),
                    date: Some("reference_date".into()),
                    territory: Some("zone".into()),
                },
                denominator: Some(Measure {
                    table: "residents".into(),
                    value: "count(*)".into(),
                    filter: Some("age >= 65".into()),
                    date: None,
                    territory: None,
                }),
            }
        );
        let need = i.need.as_ref().expect("need");
        assert_eq!(need.standard, 0.1);
        assert_eq!(need.supply_unit.en, "places");
        assert_eq!(need.supply.table, "services_supply");
        assert_eq!(i.tables(), ["residents", "services_supply"]);
        for (key, line) in [
            ("format_version", 1),
            ("name", 2),
            ("name.en", 2),
            ("unit", 4),
            ("factor", 5),
            ("topics", 8),
            ("breakdowns", 11),
            ("levels", 12),
            ("numerator", 14),
            ("numerator.table", 15),
            ("numerator.value", 16),
            ("numerator.filter", 17),
            ("numerator.date", 18),
            ("numerator.territory", 19),
            ("denominator", 21),
            ("denominator.filter", 24),
            ("need", 26),
            ("need.standard", 27),
            ("need.supply_unit", 28),
            ("need.supply", 30),
            ("need.supply.table", 31),
            ("need.supply.value", 32),
        ] {
            assert_eq!(i.line(key), line, "{key}");
        }
    }

    #[test]
    fn a_full_estimate_loads() {
        let p = load(&[("indicators/smokers.toml", ESTIMATE)]);
        let i = &p.indicators[0];
        assert_eq!((i.id.as_str(), i.factor), ("smokers", 1.0));
        assert_eq!(i.period, IndicatorPeriod::Year);
        assert_eq!(
            i.levels,
            ["municipality", "district", "zone"],
            "every level by default"
        );
        assert!(i.need.is_none() && i.breakdowns.is_empty());
        let Definition::Estimate(e) = &i.definition else {
            panic!("an estimate")
        };
        assert_eq!(e.table, "health_survey");
        assert_eq!(e.sample_size.as_deref(), Some("sample_size"));
        assert_eq!(e.filter.as_deref(), Some("indicator = 'fumo'"));
        assert_eq!(e.areas["Comune di Modena"], "036023");
        assert_eq!(e.areas["Quartiere Centro"], "Q1");
        assert_eq!(e.total.as_deref(), Some("totale"));
        assert_eq!(e.dimensions["classe di età"], "age_band");
        for (key, line) in [
            ("estimate", 8),
            ("estimate.value", 10),
            ("estimate.upper", 12),
            ("estimate.areas", 17),
            ("estimate.total", 20),
            ("estimate.dimensions", 21),
        ] {
            assert_eq!(i.line(key), line, "{key}");
        }
    }

    #[test]
    fn indicators_are_sorted_by_id_and_other_files_ignored() {
        let p = load(&[
            ("indicators/b.toml", ESTIMATE),
            ("indicators/a.toml", ESTIMATE),
            ("indicators/README.md", "# notes"),
        ]);
        let ids: Vec<&str> = p.indicators.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn unknown_keys_name_their_table_and_the_closest_key() {
        let cases = [
            (
                ratio_with("date =", "dat ="),
                18,
                "numerator.dat",
                "unknown field `dat`",
                "did you mean `date`?",
            ),
            (
                ratio_with("topics =", "topic ="),
                8,
                "topic",
                "unknown field `topic`",
                "did you mean `topics`?",
            ),
            (
                ratio_with("en = \"Older", "eng = \"Older"),
                2,
                "name.eng",
                "unknown field `eng`",
                "did you mean `en`?",
            ),
            (
                ratio_with("value = \"sum(places)\"\n", ""),
                30,
                "need.supply.value",
                "missing field `value`",
                "",
            ),
            (
                ratio_with("kind = \"outcome\"", "kind = \"impact\""),
                6,
                "kind",
                "unknown variant `impact`",
                "output, outcome",
            ),
            (
                ratio_with("kind = \"outcome\"\n", ""),
                1,
                "kind",
                "missing field `kind`",
                "",
            ),
        ];
        for (text, line, key, message, hint) in cases {
            check(&[(FILE, &text)], &[(FILE, line, key, message, hint)]);
        }
    }

    #[test]
    fn sql_fragments_must_be_one_expression() {
        let cases = [
            (
                "filter = \"age >= 65 AND household_size = 1\"",
                "filter = \"age >= \"",
                17,
                "numerator.filter",
                "`age >=` is not an SQL expression: expected: an expression, found: EOF",
                "",
            ),
            (
                "value = \"sum(places)\"",
                "value = \"sum(places\"",
                32,
                "need.supply.value",
                "expected: ), found: EOF",
                "",
            ),
            (
                "value = \"count(*)\"",
                "value = \"count(*); DROP TABLE x\"",
                16,
                "numerator.value",
                "`;` is not allowed",
                "not a statement",
            ),
            (
                "filter = \"age >= 65\"",
                "filter = \"DROP TABLE residents\"",
                24,
                "denominator.filter",
                "unexpected `TABLE` after the expression at column 6",
                "",
            ),
            (
                "filter = \"age >= 65\"",
                "filter = \"name = 'x\"",
                24,
                "denominator.filter",
                "unterminated string literal at column 8",
                "",
            ),
        ];
        for (from, to, line, key, message, hint) in cases {
            check(
                &[(FILE, &ratio_with(from, to))],
                &[(FILE, line, key, message, hint)],
            );
        }
    }

    #[test]
    fn every_mistake_of_an_indicator_is_reported() {
        let text = ratio_with(
            "format_version = 1\n",
            "format_version = 2\nid = \"lonely\"\n",
        )
        .replace("en = \"Older people living alone\"", "en = \" \"")
        .replace("factor = 100", "factor = -1")
        .replace(
            "[\"elderly\", \"families\"]",
            "[\"elderly\", \"elderli\", \"elderly\"]",
        )
        .replace(
            "[\"sex\", [\"sex\", \"age_band\"]]",
            "[\"Sex\", 3, [\"age_band\", \"age_band\"], []]",
        )
        .replace("[\"municipality\", \"zone\"]", "[\"zones\"]")
        .replace("table = \"residents\"", "table = \"Residents\"")
        .replace("date = \"reference_date\"", "date = \"reference date\"")
        .replace("standard = 0.1", "standard = 0");
        check(
            &[(FILE, &text)],
            &[
                (
                    FILE,
                    1,
                    "format_version",
                    "format version 2 is not supported",
                    "upgrade datalab",
                ),
                (
                    FILE,
                    2,
                    "id",
                    "`id = \"lonely\"` differs from the file name `alone`",
                    "remove the `id` key",
                ),
                (FILE, 3, "name.en", "the English text is empty", ""),
                (FILE, 6, "factor", "factor -1 is not a positive number", ""),
                (
                    FILE,
                    9,
                    "topics",
                    "`elderli` is not a topic",
                    "did you mean `elderly`?",
                ),
                (FILE, 9, "topics", "topic `elderly` is listed twice", ""),
                (
                    FILE,
                    12,
                    "breakdowns",
                    "`Sex` is not a valid column name",
                    "",
                ),
                (
                    FILE,
                    12,
                    "breakdowns",
                    "`3` is not a breakdown",
                    "a list of names to cross",
                ),
                (
                    FILE,
                    12,
                    "breakdowns",
                    "`age_band` is crossed with itself",
                    "",
                ),
                (FILE, 12, "breakdowns", "`[]` is not a breakdown", ""),
                (
                    FILE,
                    13,
                    "levels",
                    "`zones` is not a territory level",
                    "did you mean `zone`?",
                ),
                (
                    FILE,
                    16,
                    "numerator.table",
                    "`Residents` is not a valid table name",
                    "",
                ),
                (
                    FILE,
                    19,
                    "numerator.date",
                    "`reference date` is not a valid column name",
                    "",
                ),
                (
                    FILE,
                    23,
                    "denominator.table",
                    "`Residents` is not a valid table name",
                    "",
                ),
                (
                    FILE,
                    28,
                    "need.standard",
                    "standard 0 is not a positive number",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn the_file_name_is_the_id() {
        check(
            &[("indicators/Old-Alone.toml", RATIO)],
            &[(
                "indicators/Old-Alone.toml",
                0,
                "",
                "`Old-Alone` is not a valid indicator id",
                "rename the file",
            )],
        );
    }

    #[test]
    fn an_indicator_is_a_ratio_or_an_estimate() {
        let both = format!("{ESTIMATE}\n[numerator]\ntable = \"t\"\nvalue = \"count(*)\"\n");
        check(
            &[(FILE, &both)],
            &[(
                FILE,
                8,
                "estimate",
                "either [numerator] or [estimate], not both",
                "",
            )],
        );
        let neither = ESTIMATE
            .split("[estimate]")
            .next()
            .unwrap_or("")
            .to_string();
        check(
            &[(FILE, &neither)],
            &[(FILE, 0, "numerator", "no [numerator] and no [estimate]", "")],
        );
        let extra = format!(
            "{ESTIMATE}\n[denominator]\ntable = \"t\"\nvalue = \"count(*)\"\n\n[need]\nstandard = 1\nsupply_unit = {{ it = \"posti\", en = \"places\" }}\n[need.supply]\ntable = \"s\"\nvalue = \"sum(p)\"\n"
        );
        check(
            &[(FILE, &extra)],
            &[
                (
                    FILE,
                    23,
                    "denominator",
                    "an estimate has no denominator",
                    "",
                ),
                (
                    FILE,
                    27,
                    "need",
                    "[need] applies to indicators with a [numerator]",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn estimate_areas_are_territory_codes_and_breakdowns_come_whole() {
        let text = estimate_with("\"Q1\"", "\"Q9\"")
            .replace("total = \"totale\"\n", "")
            .replace("\"age_band\"", "\"Age band\"");
        check(
            &[(FILE, &text)],
            &[
                (
                    FILE,
                    17,
                    "estimate.areas",
                    "`Quartiere Centro` maps to `Q9`, which is not a code of the territory hierarchy",
                    "codes are those of the codelist",
                ),
                (
                    FILE,
                    20,
                    "estimate.dimensions",
                    "`Age band` is not a valid dimension name",
                    "",
                ),
                (
                    FILE,
                    18,
                    "estimate.total",
                    "`estimate.breakdown` needs `estimate.total`",
                    "totale",
                ),
            ],
        );
        let text = estimate_with("breakdown = \"breakdown\"\n", "");
        check(
            &[(FILE, &text)],
            &[
                (
                    FILE,
                    18,
                    "estimate.breakdown_value",
                    "applies only with `estimate.breakdown`",
                    "",
                ),
                (
                    FILE,
                    19,
                    "estimate.total",
                    "applies only with `estimate.breakdown`",
                    "",
                ),
                (
                    FILE,
                    20,
                    "estimate.dimensions",
                    "applies only with `estimate.breakdown`",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn levels_need_a_hierarchy() {
        check(
            &[
                ("datalab.toml", "format_version = 1\nname = \"t\"\n"),
                (FILE, RATIO),
            ],
            &[(
                FILE,
                12,
                "levels",
                "the project has no territory hierarchy",
                "remove `levels`",
            )],
        );
    }

    #[test]
    fn table_at_names_headers_and_inline_tables() {
        let t = "a = 1\n[need.supply]\nx = 1\nname = { it = \"a\", e = \"b\" }\n";
        assert_eq!(super::table_at(t, 2), "");
        assert_eq!(
            super::table_at(t, t.find("x =").unwrap_or(0)),
            "need.supply"
        );
        assert_eq!(
            super::table_at(t, t.find("e = \"b\"").unwrap_or(0)),
            "need.supply.name"
        );
    }
}
