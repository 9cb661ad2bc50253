//! Projection scenarios declared in the project: `projections/NAME.toml`.
//!
//! ```toml
//! format_version = 1
//! title = "Fecondità bassa"
//! base_year = 2024          # optional: default the register's last year
//! horizon = 2035            # optional: default base year + 11; `--to` overrides
//! estimation_years = 5      # optional: observed years pooled for the rates (default 5)
//!
//! [fertility]
//! tfr = 1.1                 # a target total fertility rate, or `multiplier = 0.9`
//! [mortality]
//! multiplier = 0.95
//! [immigration]
//! annual = 1500             # immigrants per year in the city, or `multiplier = 1.2`
//! [emigration]
//! multiplier = 1.0
//! [internal]
//! multiplier = 1.0          # moves between zones
//!
//! [[demand]]
//! name = "elderly_80_alone"
//! title = "Persone di 80 anni e più che vivono sole"
//! status = "lives_alone"    # a condition on the columns of the `residents` model
//! age_groups = ["80-84", "85-89", "90+"]
//! ```
//!
//! Every section is optional; an absent one keeps the observed rates. Mistakes are reported
//! together, each as `file:line:col: key `...`: message`.

use super::model::Assumptions;
use super::rates::Rates;
use super::{OPEN_AGE, ProjectionError};
use project::ConfigError;
use project::text::{error_at, from_toml_error};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The folder of projection scenarios.
pub const PROJECTIONS_DIR: &str = "projections";
/// The scenario used when none is named: `projections/baseline.toml` or, without it, the
/// built-in [`Scenario::baseline`].
pub const BASELINE: &str = "baseline";
/// Default number of observed years pooled.
pub const DEFAULT_ESTIMATION_YEARS: usize = 5;
/// Default length of the projection when neither the scenario nor the command sets a horizon.
pub const DEFAULT_HORIZON_YEARS: i32 = 11;

/// The fertility assumption.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fertility {
    /// Multiplies the observed rates.
    Multiplier(f64),
    /// Scales the observed rates to this total fertility rate.
    Tfr(f64),
}

/// The immigration assumption.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Immigration {
    /// Multiplies the observed annual counts.
    Multiplier(f64),
    /// Immigrants per year in the whole city, spread as observed.
    Annual(f64),
}

/// A status whose future is projected with shares observed in the base year.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandSpec {
    /// Identifier (lowercase, digits, `_`, `-`): `--demand NAME`.
    pub name: String,
    pub title: String,
    /// A SQL condition on the columns of the `residents` model.
    pub status: String,
    /// Age groups, inclusive (`OPEN_AGE` closes an open group like `90+`).
    pub age_groups: Vec<(usize, usize)>,
    /// Line of the `[[demand]]` entry (0 for the built-in one).
    pub line: usize,
}

impl DemandSpec {
    /// People aged 80 and over living alone: the issue's example, the built-in demand.
    pub fn elderly_80_alone() -> DemandSpec {
        DemandSpec {
            name: "elderly_80_alone".into(),
            title: "Persone di 80 anni e più che vivono sole".into(),
            status: "lives_alone".into(),
            age_groups: vec![(80, 84), (85, 89), (90, OPEN_AGE)],
            line: 0,
        }
    }

    /// The groups written back (`80-84`, `90+`).
    pub fn group_label(group: (usize, usize)) -> String {
        if group.1 >= OPEN_AGE {
            format!("{}+", group.0)
        } else {
            format!("{}-{}", group.0, group.1)
        }
    }
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    /// Relative to the project root; none for the built-in baseline.
    pub file: Option<String>,
    pub base_year: Option<i32>,
    pub horizon: Option<i32>,
    pub estimation_years: usize,
    pub fertility: Fertility,
    pub mortality: f64,
    pub immigration: Immigration,
    pub emigration: f64,
    pub internal: f64,
    pub demand: Vec<DemandSpec>,
}

impl Scenario {
    /// The built-in baseline: observed rates kept, the base year the register's last, eleven
    /// years ahead, the elderly-living-alone demand.
    pub fn baseline() -> Scenario {
        Scenario {
            name: BASELINE.into(),
            title: "Scenario base: tassi osservati".into(),
            file: None,
            base_year: None,
            horizon: None,
            estimation_years: DEFAULT_ESTIMATION_YEARS,
            fertility: Fertility::Multiplier(1.0),
            mortality: 1.0,
            immigration: Immigration::Multiplier(1.0),
            emigration: 1.0,
            internal: 1.0,
            demand: vec![DemandSpec::elderly_80_alone()],
        }
    }

    /// The multipliers to apply to `rates`.
    pub fn assumptions(&self, rates: &Rates) -> Assumptions {
        let fertility = match self.fertility {
            Fertility::Multiplier(m) => m,
            Fertility::Tfr(target) => {
                let tfr = rates.tfr();
                if tfr > 0.0 { target / tfr } else { 0.0 }
            }
        };
        let immigration = match self.immigration {
            Immigration::Multiplier(m) => m,
            Immigration::Annual(n) => {
                let observed: f64 = rates.immigrants.iter().map(|b| b.total()).sum();
                if observed > 0.0 { n / observed } else { 0.0 }
            }
        };
        Assumptions {
            fertility,
            mortality: self.mortality,
            emigration: self.emigration,
            immigration,
            internal: self.internal,
        }
    }

    /// The demand of that name.
    pub fn demand(&self, name: &str) -> Option<&DemandSpec> {
        self.demand.iter().find(|d| d.name == name)
    }
}

/// Names of the scenarios declared in the project at `root`, sorted.
pub fn list(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join(PROJECTIONS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

/// Loads scenario `name` of the project at `root`; with no name, `projections/baseline.toml`
/// if it exists, else the built-in [`Scenario::baseline`].
pub fn load(root: &Path, name: Option<&str>) -> Result<Scenario, ProjectionError> {
    let wanted = name.unwrap_or(BASELINE);
    let rel = format!("{PROJECTIONS_DIR}/{wanted}.toml");
    let path = root.join(&rel);
    if !path.is_file() {
        if name.is_none() {
            return Ok(Scenario::baseline());
        }
        let known = list(root);
        return Err(ProjectionError::Config(vec![ConfigError {
            file: path,
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("no projection scenario named `{wanted}`"),
            hint: Some(if known.is_empty() {
                format!("declare it in {rel}, or run without a scenario for the baseline")
            } else {
                format!("scenarios of this project: {}", known.join(", "))
            }),
        }]));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ProjectionError::Io {
        path: path.clone(),
        message: e.to_string().to_lowercase(),
    })?;
    parse(&path, &rel, wanted, &text).map_err(ProjectionError::Config)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    format_version: Spanned<u32>,
    title: String,
    #[serde(default)]
    base_year: Option<Spanned<i32>>,
    #[serde(default)]
    horizon: Option<Spanned<i32>>,
    #[serde(default)]
    estimation_years: Option<Spanned<i64>>,
    #[serde(default)]
    fertility: Option<Spanned<RawFertility>>,
    #[serde(default)]
    mortality: Option<RawMultiplier>,
    #[serde(default)]
    immigration: Option<Spanned<RawImmigration>>,
    #[serde(default)]
    emigration: Option<RawMultiplier>,
    #[serde(default)]
    internal: Option<RawMultiplier>,
    #[serde(default)]
    demand: Vec<Spanned<RawDemand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMultiplier {
    multiplier: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFertility {
    multiplier: Option<Spanned<f64>>,
    tfr: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImmigration {
    multiplier: Option<Spanned<f64>>,
    annual: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemand {
    name: Spanned<String>,
    #[serde(default)]
    title: Option<String>,
    status: Spanned<String>,
    age_groups: Spanned<Vec<Spanned<String>>>,
}

/// Parses the text of a scenario file; `path` is what errors name, `rel` what the scenario
/// records.
pub fn parse(path: &Path, rel: &str, name: &str, text: &str) -> Result<Scenario, Vec<ConfigError>> {
    let raw: Raw = toml::from_str(text).map_err(|e| vec![from_toml_error(path, text, &e)])?;
    let mut errors = Vec::new();
    let at = |span: Range<usize>, key: &str, message: String, hint: Option<&str>| {
        error_at(
            path,
            text,
            Some(span),
            key,
            message,
            hint.map(str::to_string),
        )
    };
    if *raw.format_version.get_ref() != 1 {
        errors.push(at(
            raw.format_version.span(),
            "format_version",
            format!(
                "format version {} is not supported (this datalab reads 1)",
                raw.format_version.get_ref()
            ),
            None,
        ));
    }
    let multiplier = |v: &Spanned<f64>, key: &str, errors: &mut Vec<ConfigError>| -> f64 {
        let m = *v.get_ref();
        if !(m.is_finite() && m >= 0.0) {
            errors.push(at(
                v.span(),
                key,
                format!("{m} is not a multiplier: it must be a finite number, 0 or more"),
                Some("1 keeps the observed rates, 0.9 lowers them by 10%"),
            ));
        }
        m
    };
    let fertility = match &raw.fertility {
        None => Fertility::Multiplier(1.0),
        Some(f) => match (&f.get_ref().multiplier, &f.get_ref().tfr) {
            (Some(m), None) => {
                Fertility::Multiplier(multiplier(m, "fertility.multiplier", &mut errors))
            }
            (None, Some(t)) => {
                let v = *t.get_ref();
                if !(v.is_finite() && v > 0.0 && v < 10.0) {
                    errors.push(at(
                        t.span(),
                        "fertility.tfr",
                        format!("{v} is not a total fertility rate"),
                        Some("children per woman, e.g. 1.25"),
                    ));
                }
                Fertility::Tfr(v)
            }
            _ => {
                errors.push(at(
                    f.span(),
                    "fertility",
                    "give either `multiplier` or `tfr`".into(),
                    None,
                ));
                Fertility::Multiplier(1.0)
            }
        },
    };
    let immigration = match &raw.immigration {
        None => Immigration::Multiplier(1.0),
        Some(i) => match (&i.get_ref().multiplier, &i.get_ref().annual) {
            (Some(m), None) => {
                Immigration::Multiplier(multiplier(m, "immigration.multiplier", &mut errors))
            }
            (None, Some(a)) => {
                let v = *a.get_ref();
                if !(v.is_finite() && v >= 0.0) {
                    errors.push(at(
                        a.span(),
                        "immigration.annual",
                        format!("{v} is not a number of immigrants per year"),
                        None,
                    ));
                }
                Immigration::Annual(v)
            }
            _ => {
                errors.push(at(
                    i.span(),
                    "immigration",
                    "give either `multiplier` or `annual`".into(),
                    None,
                ));
                Immigration::Multiplier(1.0)
            }
        },
    };
    let mut simple = |m: &Option<RawMultiplier>, key: &str| {
        m.as_ref()
            .map_or(1.0, |m| multiplier(&m.multiplier, key, &mut errors))
    };
    let mortality = simple(&raw.mortality, "mortality.multiplier");
    let emigration = simple(&raw.emigration, "emigration.multiplier");
    let internal = simple(&raw.internal, "internal.multiplier");
    let estimation_years = match &raw.estimation_years {
        None => DEFAULT_ESTIMATION_YEARS,
        Some(n) if (1..=50).contains(n.get_ref()) => *n.get_ref() as usize,
        Some(n) => {
            errors.push(at(
                n.span(),
                "estimation_years",
                format!("{} observed years cannot be pooled", n.get_ref()),
                Some("a number from 1 to 50"),
            ));
            DEFAULT_ESTIMATION_YEARS
        }
    };
    if let (Some(b), Some(h)) = (&raw.base_year, &raw.horizon)
        && h.get_ref() <= b.get_ref()
    {
        errors.push(at(
            h.span(),
            "horizon",
            format!(
                "the horizon {} must come after the base year {}",
                h.get_ref(),
                b.get_ref()
            ),
            None,
        ));
    }
    let mut demand = Vec::new();
    let mut names = BTreeSet::new();
    for (i, d) in raw.demand.iter().enumerate() {
        let line = project::text::line_col(text, d.span().start).0;
        let d = d.get_ref();
        let n = d.name.get_ref();
        let key = |k: &str| format!("demand[{i}].{k}");
        if !is_name(n) {
            errors.push(at(
                d.name.span(),
                &key("name"),
                format!("`{n}` is not a valid demand name"),
                Some("lowercase letters, digits, `_` and `-`, starting with a letter"),
            ));
        } else if !names.insert(n.clone()) {
            errors.push(at(
                d.name.span(),
                &key("name"),
                format!("two demands named `{n}`"),
                None,
            ));
        }
        let status = d.status.get_ref();
        let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect)
            .try_with_sql(status)
            .and_then(|mut p| {
                let e = p.parse_expr()?;
                p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
                Ok(e)
            });
        if let Err(e) = parsed {
            errors.push(at(
                d.status.span(),
                &key("status"),
                format!("the status is not a SQL condition: {e}"),
                Some("a condition on the columns of `residents`, e.g. `lives_alone` or `household_type = 'persona sola'`"),
            ));
        }
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for g in d.age_groups.get_ref() {
            match parse_group(g.get_ref()) {
                Some(range) => {
                    if groups.last().is_some_and(|last| last.1 >= range.0) {
                        errors.push(at(
                            g.span(),
                            &key("age_groups"),
                            format!(
                                "age group `{}` overlaps or precedes the one before",
                                g.get_ref()
                            ),
                            Some("list groups in increasing, non-overlapping order"),
                        ));
                    }
                    groups.push(range);
                }
                None => errors.push(at(
                    g.span(),
                    &key("age_groups"),
                    format!("`{}` is not an age group", g.get_ref()),
                    Some("write `80-84` (inclusive) or `90+`, ages 0 to 100"),
                )),
            }
        }
        if d.age_groups.get_ref().is_empty() {
            errors.push(at(
                d.age_groups.span(),
                &key("age_groups"),
                "at least one age group is needed".into(),
                Some("e.g. `age_groups = [\"80+\"]`"),
            ));
        }
        demand.push(DemandSpec {
            name: n.clone(),
            title: d.title.clone().unwrap_or_else(|| n.clone()),
            status: status.clone(),
            age_groups: groups,
            line,
        });
    }
    if raw.demand.is_empty() {
        demand.push(DemandSpec::elderly_80_alone());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Scenario {
        name: name.into(),
        title: raw.title,
        file: Some(rel.into()),
        base_year: raw.base_year.map(|b| *b.get_ref()),
        horizon: raw.horizon.map(|h| *h.get_ref()),
        estimation_years,
        fertility,
        mortality,
        immigration,
        emigration,
        internal,
        demand,
    })
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `80-84` → (80, 84), `90+` → (90, OPEN_AGE); `None` for anything else.
fn parse_group(s: &str) -> Option<(usize, usize)> {
    let s = s.trim();
    if let Some(lo) = s.strip_suffix('+') {
        let lo: usize = lo.trim().parse().ok()?;
        return (lo <= OPEN_AGE).then_some((lo, OPEN_AGE));
    }
    let (lo, hi) = s.split_once('-')?;
    let (lo, hi): (usize, usize) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (lo <= hi && hi < OPEN_AGE).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Scenario {
        parse(
            Path::new("projections/s.toml"),
            "projections/s.toml",
            "s",
            text,
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// Parses `text` and expects exactly these errors as `line:col: key: message-fragment`.
    fn check(text: &str, expect: &[(usize, usize, &str, &str)]) {
        let errors = parse(
            Path::new("projections/s.toml"),
            "projections/s.toml",
            "s",
            text,
        )
        .expect_err("the scenario is refused");
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
        for (e, (line, col, key, fragment)) in errors.iter().zip(expect) {
            assert_eq!(e.file, Path::new("projections/s.toml"));
            assert_eq!(
                (e.line, e.column, e.key.as_str()),
                (*line, *col, *key),
                "{e}"
            );
            assert!(e.message.contains(fragment), "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("projections/s.toml:{line}:{col}: key `{key}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn full_scenario() {
        let s = parse_ok(
            "format_version = 1\ntitle = \"Bassa\"\nbase_year = 2023\nhorizon = 2030\n\
             estimation_years = 3\n[fertility]\ntfr = 1.1\n[mortality]\nmultiplier = 0.9\n\
             [immigration]\nannual = 1500\n[emigration]\nmultiplier = 1.2\n[internal]\nmultiplier = 0\n\
             [[demand]]\nname = \"alone_75\"\nstatus = \"household_type = 'persona sola'\"\n\
             age_groups = [\"75-79\", \"80+\"]\n",
        );
        assert_eq!(s.base_year, Some(2023));
        assert_eq!(s.horizon, Some(2030));
        assert_eq!(s.estimation_years, 3);
        assert_eq!(s.fertility, Fertility::Tfr(1.1));
        assert_eq!(s.mortality, 0.9);
        assert_eq!(s.immigration, Immigration::Annual(1500.0));
        assert_eq!(s.emigration, 1.2);
        assert_eq!(s.internal, 0.0);
        assert_eq!(s.demand.len(), 1);
        assert_eq!(s.demand[0].age_groups, vec![(75, 79), (80, OPEN_AGE)]);
        assert_eq!(s.demand[0].line, 16);
        assert_eq!(s.file.as_deref(), Some("projections/s.toml"));
    }

    #[test]
    fn minimal_scenario_keeps_observed_rates_and_the_default_demand() {
        let s = parse_ok("format_version = 1\ntitle = \"t\"\n");
        assert_eq!(s.fertility, Fertility::Multiplier(1.0));
        assert_eq!(s.immigration, Immigration::Multiplier(1.0));
        assert_eq!(s.estimation_years, DEFAULT_ESTIMATION_YEARS);
        assert_eq!(s.demand, vec![DemandSpec::elderly_80_alone()]);
    }

    #[test]
    fn errors_name_line_column_and_key() {
        check(
            "format_version = 1\ntitle = \"t\"\n[mortality]\nmultiplier = -1\n",
            &[(4, 14, "mortality.multiplier", "is not a multiplier")],
        );
        check(
            "format_version = 1\ntitle = \"t\"\n[fertility]\nmultiplier = 1\ntfr = 1.2\n",
            &[(3, 1, "fertility", "either `multiplier` or `tfr`")],
        );
        check(
            "format_version = 2\ntitle = \"t\"\nbase_year = 2024\nhorizon = 2020\n",
            &[
                (1, 18, "format_version", "not supported"),
                (4, 11, "horizon", "must come after"),
            ],
        );
        check(
            "format_version = 1\ntitle = \"t\"\n[[demand]]\nname = \"x\"\nstatus = \"age >\"\nage_groups = [\"80-70\", \"90+\"]\n",
            &[
                (5, 10, "demand[0].status", "not a SQL condition"),
                (6, 15, "demand[0].age_groups", "is not an age group"),
            ],
        );
        check(
            "format_version = 1\ntitle = \"t\"\n[[demand]]\nname = \"a\"\nstatus = \"lives_alone\"\nage_groups = [\"80+\", \"85-89\"]\n\
             [[demand]]\nname = \"a\"\nstatus = \"lives_alone\"\nage_groups = []\n",
            &[
                (6, 22, "demand[0].age_groups", "overlaps"),
                (8, 8, "demand[1].name", "two demands"),
                (10, 14, "demand[1].age_groups", "at least one"),
            ],
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let errors = parse(
            Path::new("projections/s.toml"),
            "projections/s.toml",
            "s",
            "format_version = 1\ntitle = \"t\"\n[mortality]\nmultiplyer = 0.9\n",
        )
        .expect_err("refused");
        assert_eq!(errors[0].line, 4, "{}", errors[0]);
        assert!(
            errors[0].to_string().contains("multiplyer"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn missing_scenario_lists_the_declared_ones() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join(PROJECTIONS_DIR)).expect("mkdir");
        std::fs::write(
            dir.path().join("projections/low.toml"),
            "format_version = 1\ntitle = \"t\"\n",
        )
        .expect("write");
        let err = load(dir.path(), Some("high")).expect_err("no such scenario");
        let text = err.to_string();
        assert!(
            text.contains("no projection scenario named `high`"),
            "{text}"
        );
        assert!(text.contains("scenarios of this project: low"), "{text}");
        assert_eq!(
            load(dir.path(), None).expect("baseline"),
            Scenario::baseline()
        );
        assert_eq!(load(dir.path(), Some("low")).expect("low").name, "low");
    }

    #[test]
    fn age_groups() {
        assert_eq!(parse_group("80-84"), Some((80, 84)));
        assert_eq!(parse_group("90+"), Some((90, OPEN_AGE)));
        assert_eq!(parse_group("100+"), Some((100, OPEN_AGE)));
        assert_eq!(parse_group("95-100"), None);
        assert_eq!(parse_group("85"), None);
        assert_eq!(parse_group("a-b"), None);
    }
}
