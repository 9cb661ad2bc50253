//! Indicator definitions: what `indicators/*.toml` declares, once parsed and validated.
//!
//! An indicator is either a ratio of two measures computed from warehouse tables (a numerator
//! over a denominator, times a factor) or an estimate that a partner delivers already
//! aggregated (a survey prevalence with its interval), taken as it is.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A label in the product's two languages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub it: String,
    pub en: String,
}

impl Text {
    /// The label in `lang` ("it" or "en"; anything else falls back to Italian).
    pub fn get(&self, lang: &str) -> &str {
        if lang == "en" && !self.en.is_empty() {
            &self.en
        } else {
            &self.it
        }
    }
}

/// What an indicator measures (the logic model of a policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// What services deliver (users, places, spending).
    Output,
    /// What changes for people (poverty, health, autonomy).
    Outcome,
}

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Context (population, dependency ratio): neither is better.
    Neutral,
}

/// The period an indicator value refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorPeriod {
    /// `2024`.
    Year,
    /// `2024-Q3`.
    Quarter,
    /// `2024-07`.
    Month,
    /// A point in time, `2024-12-31` (stocks such as residents on a reference date).
    Point,
}

impl IndicatorPeriod {
    pub fn name(self) -> &'static str {
        match self {
            IndicatorPeriod::Year => "year",
            IndicatorPeriod::Quarter => "quarter",
            IndicatorPeriod::Month => "month",
            IndicatorPeriod::Point => "point",
        }
    }
}

/// Topics an indicator can be tagged with.
pub const TOPICS: [&str; 11] = [
    "population",
    "poverty",
    "housing",
    "health",
    "work",
    "disability",
    "elderly",
    "children",
    "migrants",
    "families",
    "social_services",
];

/// One side of a ratio: an aggregate over the rows of a warehouse table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// A table of the warehouse (a source, a link table or a model).
    pub table: String,
    /// An SQL aggregate expression over the table's columns, e.g. `count(*)`,
    /// `sum(amount)`, `count(DISTINCT person)`, `median(isee)`.
    pub value: String,
    /// An SQL boolean expression selecting the rows, e.g. `age >= 65`.
    pub filter: Option<String>,
    /// The date column the period comes from; without it the table must have an integer `year`
    /// column (yearly indicators only).
    pub date: Option<String>,
    /// The column holding the code of the territory at the finest level of the hierarchy
    /// (default: the finest level's name, e.g. `zone`).
    pub territory: Option<String>,
}

/// An estimate delivered already aggregated by a partner (e.g. a survey prevalence with its
/// confidence interval): it enters the cube as it is, at the territory it was given for, and is
/// never divided below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub table: String,
    /// Column (or SQL expression) with the point estimate, already in the indicator's unit.
    pub value: String,
    pub lower: String,
    pub upper: String,
    /// Column with the sample size, when known.
    pub sample_size: Option<String>,
    pub filter: Option<String>,
    /// The integer column with the (last) year the estimate refers to.
    pub year: String,
    /// The column naming the area the estimate is for.
    pub area: String,
    /// Area value in the table → territory code in the hierarchy (its level follows).
    pub areas: BTreeMap<String, String>,
    /// The column naming the breakdown variable (e.g. `breakdown`), if any.
    pub breakdown: Option<String>,
    /// The column with the breakdown category (e.g. `breakdown_value`).
    pub breakdown_value: Option<String>,
    /// The breakdown value meaning "everyone" (e.g. `totale`).
    pub total: Option<String>,
    /// Breakdown variable in the table → dimension name in the cube (e.g. `sesso` → `sex`);
    /// variables not listed keep their own name.
    pub dimensions: BTreeMap<String, String>,
}

/// How an indicator is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum Definition {
    /// value = numerator / denominator × factor (numerator × factor without a denominator).
    Ratio {
        numerator: Measure,
        denominator: Option<Measure>,
    },
    /// Taken as delivered.
    Estimate(Estimate),
}

/// The numerator counts a population in need; `supply` measures what serves it. The cube gets
/// two more series: `ID:coverage` (supply per 100 in need) and `ID:gap` (the supply missing to
/// reach `standard` units per person in need; negative when there is more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Need {
    pub supply: Measure,
    /// Supply units a person in need should have (e.g. 0.1 places per person).
    pub standard: f64,
    /// What a supply unit is (e.g. "posti" / "places").
    pub supply_unit: Text,
}

/// A declared indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// The file stem of `indicators/ID.toml`; `[a-z0-9_]+`.
    pub id: String,
    pub name: Text,
    pub description: Text,
    /// The unit of the value, e.g. "per 1.000 residenti" / "per 1,000 residents".
    pub unit: Text,
    /// value = numerator / denominator × factor (100 for per cent, 1000 per thousand).
    pub factor: f64,
    pub kind: IndicatorKind,
    pub direction: Direction,
    pub topics: Vec<String>,
    pub period: IndicatorPeriod,
    pub source_notes: Text,
    /// Breakdowns computed besides the total; each is one or more column names (crossed).
    pub breakdowns: Vec<Vec<String>>,
    /// Territory levels computed (default: every level of the hierarchy).
    pub levels: Vec<String>,
    pub definition: Definition,
    pub need: Option<Need>,
    /// The file it was read from, relative to the project (for error messages).
    pub file: String,
    /// Line of each top-level key in the file, for errors found after loading (e.g. a column
    /// that the table does not have): `numerator.value` → 12.
    pub lines: BTreeMap<String, usize>,
}

impl Indicator {
    /// The 1-based line of `key` in the indicator's file, 0 when unknown.
    pub fn line(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(0)
    }

    /// Whether the value is a ratio of two measures (not a count or an estimate).
    pub fn has_denominator(&self) -> bool {
        matches!(
            &self.definition,
            Definition::Ratio {
                denominator: Some(_),
                ..
            }
        )
    }

    /// The tables the indicator reads.
    pub fn tables(&self) -> Vec<&str> {
        let mut t: Vec<&str> = match &self.definition {
            Definition::Ratio {
                numerator,
                denominator,
            } => std::iter::once(numerator.table.as_str())
                .chain(denominator.iter().map(|d| d.table.as_str()))
                .collect(),
            Definition::Estimate(e) => vec![e.table.as_str()],
        };
        if let Some(n) = &self.need {
            t.push(n.supply.table.as_str());
        }
        t.sort_unstable();
        t.dedup();
        t
    }
}

/// The canonical text key of a breakdown cell: `dimension=value` pairs sorted by dimension and
/// joined with `|`; the empty string for the total.
pub fn breakdown_key(pairs: &[(&str, &str)]) -> String {
    let mut p: Vec<&(&str, &str)> = pairs.iter().collect();
    p.sort_by(|a, b| a.0.cmp(b.0));
    p.iter()
        .map(|(d, v)| format!("{d}={v}"))
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_keys_sort_dimensions_and_are_empty_for_the_total() {
        assert_eq!(breakdown_key(&[]), "");
        assert_eq!(
            breakdown_key(&[("sex", "F"), ("age_band", "65-74")]),
            "age_band=65-74|sex=F"
        );
    }

    #[test]
    fn text_falls_back_to_italian() {
        let t = Text {
            it: "residenti".into(),
            en: String::new(),
        };
        assert_eq!(t.get("en"), "residenti");
        let t = Text {
            it: "residenti".into(),
            en: "residents".into(),
        };
        assert_eq!(t.get("en"), "residents");
        assert_eq!(t.get("fr"), "residenti");
    }
}
