//! `datalab.toml`: the project's name, territory hierarchy, periods and source defaults.

use crate::error::{ConfigError, ProjectError};
use crate::text::{error_at, from_toml_error};
use model::{Encoding, ForecastMethod, Horizon, PeriodType, Reconcile};
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

/// The version of the project file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The parsed `datalab.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectConfig {
    pub name: String,
    pub title: String,
    pub languages: Vec<String>,
    pub territory: TerritoryConfig,
    pub periods: PeriodsConfig,
    pub defaults: Defaults,
    pub linkage: LinkageConfig,
    /// The disclosure policy every release starts from (`[disclosure]`).
    pub disclosure: crate::release::PolicyConfig,
    /// Forecasts the build writes into the cube (`[forecast]`); none without the table.
    pub forecast: Option<ForecastConfig>,
}

/// `[forecast]`: every build forecasts the cube's series and stores the forecasts in the cube,
/// flagged, beside the observed values.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ForecastConfig {
    /// How far beyond the last observed period (`3y`, `8q`, `12m`, or a number of periods).
    pub horizon: Horizon,
    pub method: ForecastMethod,
    /// Nominal coverage of the prediction intervals, in percent.
    pub level: f64,
    /// How the territories' forecasts are made to add up.
    pub reconcile: Reconcile,
    /// Whether each breakdown's series is forecast too (the totals always are).
    pub breakdowns: bool,
    /// Only these indicators (every one when empty); checked against `indicators/`.
    pub indicators: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForecast {
    horizon: Spanned<RawHorizon>,
    #[serde(default = "default_method")]
    method: ForecastMethod,
    #[serde(default = "default_level")]
    level: Spanned<f64>,
    #[serde(default = "default_reconcile")]
    reconcile: Reconcile,
    #[serde(default)]
    breakdowns: bool,
    #[serde(default)]
    indicators: Vec<String>,
}

/// `horizon = "3y"` or `horizon = 3` (periods).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawHorizon {
    Periods(u32),
    Text(String),
}

fn default_method() -> ForecastMethod {
    ForecastMethod::Auto
}
fn default_level() -> Spanned<f64> {
    Spanned::new(0..0, 95.0)
}
fn default_reconcile() -> Reconcile {
    Reconcile::Wls
}

/// Record linkage: which source lists the residents and which pseudonym columns identify a
/// person or a household. Columns with the same name in different sources hold the same kind of
/// pseudonym and link.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkageConfig {
    /// The source listing the residents at each period (the population register).
    pub spine: Option<String>,
    /// Pseudonym columns that identify a person, strongest first (a weak pseudonym, from name,
    /// birth date and sex, links only when it points at one person).
    #[serde(default)]
    pub person_keys: Vec<String>,
    /// The spine's pseudonym column of the household.
    pub household_key: Option<String>,
}

/// The territory hierarchy: level names from the largest to the smallest, the codelist of the
/// smallest units, their boundaries and earlier versions (read by `Project::load` into
/// [`model::Hierarchy`]).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TerritoryConfig {
    #[serde(default)]
    pub levels: Vec<String>,
    /// CSV in the project with one row per smallest unit and, for every level `L`, the columns
    /// `L_code` (required) and `L_name` (optional); the smallest level's code comes first.
    pub codelist: Option<String>,
    /// GeoJSON files with the boundaries, one per level.
    #[serde(default)]
    pub boundaries: Vec<String>,
    /// Earlier versions of the smallest units (`[[territory.history]]`), oldest first.
    #[serde(default)]
    pub history: Vec<HistoryConfig>,
}

/// An earlier version of the smallest units and the crosswalk onto the current ones.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// A name for the version, e.g. "zone 2019-2021".
    pub version: String,
    /// Last year in which data carry the old codes.
    pub until: i32,
    /// CSV in the project with columns `old_code,new_code,weight`.
    pub crosswalk: String,
}

/// The periods the lab reports on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodsConfig {
    #[serde(rename = "type", default = "default_period_type")]
    pub period_type: PeriodType,
    pub first: Option<i32>,
    pub last: Option<i32>,
}

fn default_period_type() -> PeriodType {
    PeriodType::Year
}

impl Default for PeriodsConfig {
    fn default() -> Self {
        PeriodsConfig {
            period_type: PeriodType::Year,
            first: None,
            last: None,
        }
    }
}

/// Defaults applied to every source spec that does not set the key itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "default_encoding")]
    pub encoding: Encoding,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    #[serde(default = "default_quote")]
    pub quote: String,
    #[serde(default = "default_decimal")]
    pub decimal: String,
    #[serde(default)]
    pub thousands: Option<String>,
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<String>,
    #[serde(default = "default_null_values")]
    pub null_values: Vec<String>,
}

fn default_encoding() -> Encoding {
    Encoding::Utf8
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_quote() -> String {
    "\"".into()
}
fn default_decimal() -> String {
    ".".into()
}
fn default_date_formats() -> Vec<String> {
    vec!["%Y-%m-%d".into()]
}
fn default_null_values() -> Vec<String> {
    vec![String::new()]
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            encoding: default_encoding(),
            delimiter: default_delimiter(),
            quote: default_quote(),
            decimal: default_decimal(),
            thousands: None,
            date_formats: default_date_formats(),
            null_values: default_null_values(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    format_version: Spanned<u32>,
    name: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    territory: TerritoryConfig,
    periods: Option<Spanned<PeriodsConfig>>,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    linkage: LinkageConfig,
    #[serde(default)]
    disclosure: crate::release::PolicyConfig,
    forecast: Option<Spanned<RawForecast>>,
}

pub(crate) fn parse(file: &Path, text: &str) -> Result<ProjectConfig, ProjectError> {
    let raw: RawConfig = toml::from_str(text)
        .map_err(|e| ProjectError::Config(vec![from_toml_error(file, text, &e)]))?;
    let mut errors: Vec<ConfigError> = Vec::new();
    check_format_version(file, text, &raw.format_version, &mut errors);
    let name = raw.name.get_ref().clone();
    if !is_identifier(&name.replace('-', "_")) {
        errors.push(error_at(
            file,
            text,
            Some(raw.name.span()),
            "name",
            format!("`{name}` is not a valid project name"),
            Some("use lowercase letters, digits, `-` and `_`, starting with a letter".into()),
        ));
    }
    let periods = raw
        .periods
        .as_ref()
        .map(|p| p.get_ref().clone())
        .unwrap_or_default();
    if let (Some(first), Some(last)) = (periods.first, periods.last)
        && first > last
    {
        errors.push(error_at(
            file,
            text,
            raw.periods.as_ref().map(|p| p.span()),
            "periods",
            format!("first period {first} is after last period {last}"),
            None,
        ));
    }
    let forecast = raw
        .forecast
        .map(|f| forecast_config(file, text, f.into_inner(), &mut errors));
    if !errors.is_empty() {
        return Err(ProjectError::Config(errors));
    }
    Ok(ProjectConfig {
        title: raw.title.unwrap_or_else(|| name.clone()),
        name,
        languages: if raw.languages.is_empty() {
            vec!["it".into(), "en".into()]
        } else {
            raw.languages
        },
        territory: raw.territory,
        periods,
        defaults: raw.defaults,
        linkage: raw.linkage,
        disclosure: raw.disclosure,
        forecast,
    })
}

fn forecast_config(
    file: &Path,
    text: &str,
    raw: RawForecast,
    errors: &mut Vec<ConfigError>,
) -> ForecastConfig {
    let parsed = match raw.horizon.get_ref() {
        RawHorizon::Periods(n) => Horizon::parse(&n.to_string()),
        RawHorizon::Text(t) => Horizon::parse(t),
    };
    let horizon = match parsed {
        Ok(h) => h,
        Err(message) => {
            errors.push(error_at(
                file,
                text,
                Some(raw.horizon.span()),
                "forecast.horizon",
                message,
                Some(
                    "e.g. `horizon = \"3y\"` (years), \"8q\", \"12m\" or a number of periods"
                        .into(),
                ),
            ));
            Horizon::Periods(1)
        }
    };
    let level = *raw.level.get_ref();
    if !(level > 0.0 && level < 100.0) {
        errors.push(error_at(
            file,
            text,
            Some(raw.level.span()),
            "forecast.level",
            format!("{level} is not a coverage in per cent between 0 and 100 (exclusive)"),
            Some("e.g. `level = 95`".into()),
        ));
    }
    ForecastConfig {
        horizon,
        method: raw.method,
        level,
        reconcile: raw.reconcile,
        breakdowns: raw.breakdowns,
        indicators: raw.indicators,
    }
}

pub(crate) fn check_format_version(
    file: &Path,
    text: &str,
    version: &Spanned<u32>,
    errors: &mut Vec<ConfigError>,
) {
    let v = *version.get_ref();
    if v != FORMAT_VERSION {
        errors.push(error_at(
            file,
            text,
            Some(version.span()),
            "format_version",
            format!("format version {v} is not supported by this datalab (it reads version {FORMAT_VERSION})"),
            Some(if v > FORMAT_VERSION {
                "the file was written by a newer datalab: upgrade datalab".into()
            } else {
                format!("set `format_version = {FORMAT_VERSION}`")
            }),
        ));
    }
}

/// `[a-z][a-z0-9_]*`: the shape of project, source and column names.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use crate::testing::{PROJECT, check, load};
    use model::{ForecastMethod, Horizon, Reconcile};

    const INDICATOR: &str = r#"format_version = 1
name = { it = "Residenti", en = "Residents" }
description = { it = "Residenti", en = "Residents" }
unit = { it = "persone", en = "people" }
kind = "outcome"
direction = "lower_is_better"
topics = ["population"]
period = "year"
source_notes = { it = "Anagrafe", en = "Population register" }

[numerator]
table = "residents"
value = "count(*)"
date = "reference_date"
territory = "zone"
"#;

    fn with(forecast: &str) -> String {
        format!("{PROJECT}\n[forecast]\n{forecast}")
    }

    #[test]
    fn forecasts_are_read_with_their_defaults() {
        assert_eq!(load(&[]).config.forecast, None);
        let p = load(&[("datalab.toml", &with("horizon = \"3y\"\n"))]);
        let f = p.config.forecast.expect("a [forecast] table");
        assert_eq!(f.horizon, Horizon::Months(36));
        assert_eq!(f.method, ForecastMethod::Auto);
        assert_eq!(f.level, 95.0);
        assert_eq!(f.reconcile, Reconcile::Wls);
        assert!(!f.breakdowns && f.indicators.is_empty());
        let p = load(&[
            (
                "datalab.toml",
                &with(
                    "horizon = 4\nmethod = \"theta\"\nlevel = 80\nreconcile = \"bottom-up\"\nbreakdowns = true\nindicators = [\"people\"]\n",
                ),
            ),
            ("indicators/people.toml", INDICATOR),
        ]);
        let f = p.config.forecast.expect("a [forecast] table");
        assert_eq!(
            (f.horizon, f.method, f.level, f.reconcile, f.breakdowns),
            (
                Horizon::Periods(4),
                ForecastMethod::Theta,
                80.0,
                Reconcile::BottomUp,
                true
            )
        );
        assert_eq!(f.indicators, ["people"]);
    }

    #[test]
    fn bad_forecast_settings_are_located() {
        let line = PROJECT.lines().count() + 3;
        check(
            &[("datalab.toml", &with("horizon = \"soon\"\nlevel = 100\n"))],
            &[
                (
                    "datalab.toml",
                    line,
                    "forecast.horizon",
                    "`soon`: expected",
                    "3y",
                ),
                ("datalab.toml", line + 1, "forecast.level", "100 is not", ""),
            ],
        );
        check(
            &[(
                "datalab.toml",
                &with("horizon = \"3y\"\nmethod = \"arima\"\n"),
            )],
            &[(
                "datalab.toml",
                line + 1,
                "method",
                "unknown variant `arima`",
                "",
            )],
        );
        check(
            &[
                (
                    "datalab.toml",
                    &with("horizon = \"3y\"\nindicators = [\"peple\"]\n"),
                ),
                ("indicators/people.toml", INDICATOR),
            ],
            &[(
                "datalab.toml",
                line + 1,
                "forecast.indicators",
                "no indicator `peple`",
                "did you mean `people`?",
            )],
        );
    }
}
