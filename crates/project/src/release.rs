//! The disclosure policy (`[disclosure]` in `datalab.toml`) and release specs
//! (`releases/NAME.toml`): what a release gathers and how each output is protected.
//!
//! Only the shape is checked here (keys, names, SQL syntax, territory levels); the release
//! itself runs in the `disclosure` crate.

use crate::config::is_identifier;
use crate::error::{ConfigError, ProjectError};
use crate::text::{error_at, from_toml_error};
use serde::{Deserialize, Serialize};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;

/// Folder of release specs (`releases/NAME.toml`) and released outputs (`releases/NAME/`).
pub const RELEASES_DIR: &str = "releases";

/// How an output is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Primary and secondary cell suppression.
    #[default]
    Suppress,
    /// Unbiased random rounding to the policy's base.
    Round,
    /// Controlled rounding: margins stay additive.
    ControlledRound,
    /// The cell-key method (consistent perturbation).
    Cellkey,
    /// Differentially private counts (discrete Laplace).
    Dp,
}

/// The (n,k) dominance rule's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DominanceConfig {
    pub n: usize,
    /// Percent.
    pub k: f64,
}

/// The cell-key method's perturbation table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellKeyConfig {
    pub max_noise: u32,
    pub variance: f64,
    /// Values 1..=js are never published.
    #[serde(default)]
    pub js: u32,
}

/// A disclosure policy: every key optional; a release's `[policy]` overrides the project's
/// `[disclosure]`, which overrides the defaults ([`Policy::resolve`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Minimum number of contributors of a published cell.
    pub threshold: Option<u64>,
    /// `publish` or `sensitive`.
    pub zeros: Option<String>,
    /// Safety range (percent) for magnitude cells with too few contributors.
    pub range: Option<f64>,
    pub dominance: Option<DominanceConfig>,
    /// The p% rule's p.
    pub p: Option<f64>,
    /// Whether to flag cells equal to their margin on attribute dimensions.
    pub group: Option<bool>,
    pub method: Option<Method>,
    pub rounding_base: Option<u32>,
    pub cellkey: Option<CellKeyConfig>,
    /// Differential privacy: total ε of one release, shared equally by its DP outputs.
    pub epsilon: Option<f64>,
    /// Microdata: k-anonymity.
    pub k: Option<usize>,
    /// Microdata: distinct l-diversity of sensitive columns.
    pub l: Option<usize>,
    /// Microdata: share of records whose quasi-identifiers may be locally suppressed.
    pub max_suppressed: Option<f64>,
    /// Minimum unweighted sample size of a published survey estimate.
    pub min_sample: Option<u64>,
}

/// A policy with every value decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub threshold: u64,
    pub zeros: String,
    pub range: f64,
    pub dominance: DominanceConfig,
    pub p: f64,
    pub group: bool,
    pub method: Method,
    pub rounding_base: u32,
    pub cellkey: CellKeyConfig,
    pub epsilon: f64,
    pub k: usize,
    pub l: usize,
    pub max_suppressed: f64,
    pub min_sample: u64,
}

impl Policy {
    /// The defaults, overridden by the project's then the release's settings.
    pub fn resolve(project: &PolicyConfig, release: &PolicyConfig) -> Policy {
        let pick =
            |f: fn(&PolicyConfig) -> Option<f64>, d: f64| f(release).or(f(project)).unwrap_or(d);
        Policy {
            threshold: release.threshold.or(project.threshold).unwrap_or(5),
            zeros: release
                .zeros
                .clone()
                .or(project.zeros.clone())
                .unwrap_or_else(|| "publish".into()),
            range: pick(|c| c.range, 20.0),
            dominance: release
                .dominance
                .or(project.dominance)
                .unwrap_or(DominanceConfig { n: 2, k: 85.0 }),
            p: pick(|c| c.p, 10.0),
            group: release.group.or(project.group).unwrap_or(true),
            method: release.method.or(project.method).unwrap_or_default(),
            rounding_base: release.rounding_base.or(project.rounding_base).unwrap_or(5),
            cellkey: release
                .cellkey
                .or(project.cellkey)
                .unwrap_or(CellKeyConfig {
                    max_noise: 2,
                    variance: 1.0,
                    js: 0,
                }),
            epsilon: pick(|c| c.epsilon, 1.0),
            k: release.k.or(project.k).unwrap_or(5),
            l: release.l.or(project.l).unwrap_or(1),
            max_suppressed: pick(|c| c.max_suppressed, 0.05),
            min_sample: release.min_sample.or(project.min_sample).unwrap_or(30),
        }
    }
}

/// Who the release is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Anyone: the site, open data.
    #[default]
    Public,
    /// Named partners (health authority, labour agency, researchers).
    Partners,
    /// The steering committee and district planners.
    Steering,
}

/// A table computed from microdata: one row per record of `query`, counted (or `measure`
/// summed) by territory and dimensions, with the contributors' statistics the rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOutput {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    pub query: String,
    /// The column identifying a contributor (a person's or household's pseudonym).
    pub unit: String,
    /// The column with territory codes (any level of the hierarchy).
    #[serde(default)]
    pub territory: Option<String>,
    /// Territory levels shown (default: every level from the largest holding all rows down).
    #[serde(default)]
    pub levels: Vec<String>,
    /// Other dimensions (columns), crossed.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// A numeric column to sum (a magnitude table); none counts contributors.
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub method: Option<Method>,
    /// Combinations that cannot occur, e.g. `{ age_band = "0-17", household_type = "pensioner" }`.
    #[serde(default)]
    pub structural_zeros: Vec<BTreeMap<String, String>>,
}

/// Indicator values from the cube, with their numerators and denominators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorOutput {
    pub name: String,
    pub indicator: String,
    /// Periods (as in the cube: `2023`, `2023-Q1`); none = all.
    #[serde(default)]
    pub periods: Vec<String>,
    /// Territory levels; none = all.
    #[serde(default)]
    pub levels: Vec<String>,
    /// Breakdown columns shown (crossed); none = totals only.
    #[serde(default)]
    pub breakdowns: Vec<String>,
    #[serde(default)]
    pub method: Option<Method>,
    /// Whether the numerator counts people or households (default: only for `count(...)`);
    /// a numerator that sums amounts needs an output checker's approval.
    #[serde(default)]
    pub counts: Option<bool>,
}

/// How one quasi-identifier may be generalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuasiConfig {
    pub column: String,
    /// Numeric bands, one width per generalization level (e.g. `[5, 10, 20]` for age).
    #[serde(default)]
    pub bands: Vec<u32>,
    /// Codes of the territory hierarchy, generalized one level up at a time.
    #[serde(default)]
    pub territory: bool,
    /// Explicit recodings, one map per level.
    #[serde(default)]
    pub levels: Vec<BTreeMap<String, String>>,
}

/// A pseudonymized extract for a partner or a researcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MicrodataOutput {
    pub name: String,
    pub query: String,
    pub quasi: Vec<QuasiConfig>,
    #[serde(default)]
    pub sensitive: Vec<String>,
    #[serde(default)]
    pub weight: Option<String>,
    pub k: Option<usize>,
    pub l: Option<usize>,
    pub max_suppressed: Option<f64>,
}

/// An analyst's table no automatic rule covers: it waits for an output checker's approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdhocOutput {
    pub name: String,
    pub query: String,
    /// What it is and why it is safe, for the output checker.
    pub description: String,
}

/// A parsed `releases/NAME.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseSpec {
    pub name: String,
    /// Relative to the project root.
    pub file: String,
    pub title: String,
    pub audience: Audience,
    pub purpose: Option<String>,
    pub policy: PolicyConfig,
    pub tables: Vec<TableOutput>,
    pub indicators: Vec<IndicatorOutput>,
    pub microdata: Vec<MicrodataOutput>,
    pub adhoc: Vec<AdhocOutput>,
    /// Line of each output by name (for errors found when the release runs).
    pub lines: BTreeMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    format_version: Spanned<u32>,
    title: String,
    #[serde(default)]
    audience: Audience,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    policy: PolicyConfig,
    #[serde(default)]
    table: Vec<Spanned<TableOutput>>,
    #[serde(default)]
    indicator: Vec<Spanned<IndicatorOutput>>,
    #[serde(default)]
    microdata: Vec<Spanned<MicrodataOutput>>,
    #[serde(default)]
    adhoc: Vec<Spanned<AdhocOutput>>,
}

/// Reads `releases/NAME.toml` of the project at `root`; `levels` are the hierarchy's level
/// names, `indicators` the declared indicator ids.
pub fn load(
    root: &Path,
    name: &str,
    levels: &[String],
    indicators: &[&str],
) -> Result<ReleaseSpec, ProjectError> {
    let rel = format!("{RELEASES_DIR}/{name}.toml");
    let path = root.join(&rel);
    if !path.is_file() {
        let known = list(root)?;
        return Err(ProjectError::Config(vec![ConfigError {
            file: path,
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("no release named `{name}`"),
            hint: Some(if known.is_empty() {
                format!("write its spec in {RELEASES_DIR}/{name}.toml (see RELEASES.md)")
            } else {
                format!("releases of this project: {}", known.join(", "))
            }),
        }]));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, &e))?;
    parse(&path, &rel, name, &text, levels, indicators).map_err(ProjectError::Config)
}

/// Names of the release specs of the project, sorted.
pub fn list(root: &Path) -> Result<Vec<String>, ProjectError> {
    let dir = root.join(RELEASES_DIR);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries {
            let e = e.map_err(|e| ProjectError::io(&dir, &e))?;
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml")
                && let Some(stem) = p.file_stem()
            {
                out.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn parse(
    path: &Path,
    rel: &str,
    name: &str,
    text: &str,
    levels: &[String],
    indicators: &[&str],
) -> Result<ReleaseSpec, Vec<ConfigError>> {
    let raw: RawRelease =
        toml::from_str(text).map_err(|e| vec![from_toml_error(path, text, &e)])?;
    let mut errors = Vec::new();
    let at = |span: std::ops::Range<usize>, key: String, message: String, hint: Option<String>| {
        error_at(path, text, Some(span), key, message, hint)
    };
    if *raw.format_version.get_ref() != 1 {
        errors.push(at(
            raw.format_version.span(),
            "format_version".into(),
            format!(
                "format version {} is not supported (this datalab reads 1)",
                raw.format_version.get_ref()
            ),
            None,
        ));
    }
    if !is_identifier(&name.replace('-', "_")) {
        errors.push(error_at(
            path,
            text,
            None,
            "",
            format!("`{name}` is not a valid release name"),
            Some("use lowercase letters, digits, `-` and `_`, starting with a letter".into()),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut lines = BTreeMap::new();
    let mut check_name = |kind: &str,
                          i: usize,
                          n: &str,
                          span: std::ops::Range<usize>,
                          errors: &mut Vec<ConfigError>| {
        let key = format!("{kind}[{i}].name");
        if !is_identifier(&n.replace('-', "_")) {
            errors.push(at(
                span.clone(),
                key,
                format!("`{n}` is not a valid output name (it becomes a file name)"),
                Some("lowercase letters, digits, `-` and `_`".into()),
            ));
        } else if !seen.insert(n.to_string()) {
            errors.push(at(
                span.clone(),
                key,
                format!("two outputs named `{n}`"),
                None,
            ));
        }
        lines.insert(n.to_string(), crate::text::line_col(text, span.start).0);
    };
    let check_sql = |kind: &str,
                     i: usize,
                     sql: &str,
                     span: std::ops::Range<usize>,
                     errors: &mut Vec<ConfigError>| {
        if let Err(e) = Parser::parse_sql(&GenericDialect, sql) {
            errors.push(at(
                span,
                format!("{kind}[{i}].query"),
                format!("the query does not parse: {e}"),
                None,
            ));
        }
    };
    let check_levels = |kind: &str,
                        i: usize,
                        ls: &[String],
                        span: std::ops::Range<usize>,
                        errors: &mut Vec<ConfigError>| {
        for l in ls {
            if !levels.contains(l) {
                errors.push(at(
                    span.clone(),
                    format!("{kind}[{i}].levels"),
                    format!("no territory level `{l}`"),
                    Some(format!("levels of this project: {}", levels.join(", "))),
                ));
            }
        }
    };
    for (i, t) in raw.table.iter().enumerate() {
        let (span, t) = (t.span(), t.get_ref());
        check_name("table", i, &t.name, span.clone(), &mut errors);
        check_sql("table", i, &t.query, span.clone(), &mut errors);
        check_levels("table", i, &t.levels, span.clone(), &mut errors);
        if !t.levels.is_empty() && t.territory.is_none() {
            errors.push(at(
                span.clone(),
                format!("table[{i}].levels"),
                "levels need a territory column".into(),
                Some("add `territory = \"zone\"` (the column holding territory codes)".into()),
            ));
        }
        if t.territory.is_none() && t.dimensions.is_empty() {
            errors.push(at(
                span.clone(),
                format!("table[{i}]"),
                "a table needs a territory or at least one dimension".into(),
                None,
            ));
        }
        let dims: BTreeSet<&str> = t
            .dimensions
            .iter()
            .map(String::as_str)
            .chain(t.territory.as_deref())
            .collect();
        for z in &t.structural_zeros {
            for k in z.keys() {
                if !dims.contains(k.as_str()) {
                    errors.push(at(
                        span.clone(),
                        format!("table[{i}].structural_zeros"),
                        format!("`{k}` is not a dimension of this table"),
                        None,
                    ));
                }
            }
        }
    }
    for (i, o) in raw.indicator.iter().enumerate() {
        let (span, o) = (o.span(), o.get_ref());
        check_name("indicator", i, &o.name, span.clone(), &mut errors);
        check_levels("indicator", i, &o.levels, span.clone(), &mut errors);
        if !indicators.contains(&o.indicator.as_str()) {
            errors.push(at(
                span.clone(),
                format!("indicator[{i}].indicator"),
                format!("no indicator `{}`", o.indicator),
                crate::text::closest(&o.indicator, indicators)
                    .map(|c| format!("did you mean `{c}`?")),
            ));
        }
    }
    for (i, m) in raw.microdata.iter().enumerate() {
        let (span, m) = (m.span(), m.get_ref());
        check_name("microdata", i, &m.name, span.clone(), &mut errors);
        check_sql("microdata", i, &m.query, span.clone(), &mut errors);
        if m.quasi.is_empty() {
            errors.push(at(
                span.clone(),
                format!("microdata[{i}].quasi"),
                "declare the quasi-identifiers (columns an outsider could know)".into(),
                None,
            ));
        }
        for (j, q) in m.quasi.iter().enumerate() {
            let ways = [!q.bands.is_empty(), q.territory, !q.levels.is_empty()];
            if ways.iter().filter(|w| **w).count() > 1 {
                errors.push(at(
                    span.clone(),
                    format!("microdata[{i}].quasi[{j}]"),
                    "give one of `bands`, `territory` or `levels`".into(),
                    None,
                ));
            }
        }
    }
    for (i, a) in raw.adhoc.iter().enumerate() {
        let (span, a) = (a.span(), a.get_ref());
        check_name("adhoc", i, &a.name, span.clone(), &mut errors);
        check_sql("adhoc", i, &a.query, span.clone(), &mut errors);
    }
    if raw.table.is_empty()
        && raw.indicator.is_empty()
        && raw.microdata.is_empty()
        && raw.adhoc.is_empty()
    {
        errors.push(error_at(
            path,
            text,
            None,
            "",
            "the release has no outputs",
            Some("add [[table]], [[indicator]], [[microdata]] or [[adhoc]] sections".into()),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ReleaseSpec {
        name: name.to_string(),
        file: rel.to_string(),
        title: raw.title,
        audience: raw.audience,
        purpose: raw.purpose,
        policy: raw.policy,
        tables: raw.table.into_iter().map(Spanned::into_inner).collect(),
        indicators: raw.indicator.into_iter().map(Spanned::into_inner).collect(),
        microdata: raw.microdata.into_iter().map(Spanned::into_inner).collect(),
        adhoc: raw.adhoc.into_iter().map(Spanned::into_inner).collect(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<ReleaseSpec, Vec<ConfigError>> {
        let levels = vec!["municipality".to_string(), "zone".to_string()];
        parse(
            Path::new("releases/r.toml"),
            "releases/r.toml",
            "r",
            text,
            &levels,
            &["population"],
        )
    }

    #[test]
    fn a_release_with_every_kind_of_output() {
        let spec = check(
            r#"format_version = 1
title = "Annual"
audience = "public"
[policy]
threshold = 10
[[table]]
name = "recipients"
query = "SELECT household, zone, age_band FROM min_income_households"
unit = "household"
territory = "zone"
dimensions = ["age_band"]
structural_zeros = [{ age_band = "0-17" }]
[[indicator]]
name = "pop"
indicator = "population"
levels = ["zone"]
[[microdata]]
name = "extract"
query = "SELECT * FROM residents"
quasi = [{ column = "age", bands = [5, 10] }, { column = "zone", territory = true }]
sensitive = ["measure"]
[[adhoc]]
name = "model"
query = "SELECT 1"
description = "coefficients"
"#,
        )
        .unwrap();
        assert_eq!(spec.tables[0].unit, "household");
        assert_eq!(spec.policy.threshold, Some(10));
        assert_eq!(spec.lines["pop"], 13);
        let p = Policy::resolve(
            &PolicyConfig {
                threshold: Some(3),
                p: Some(15.0),
                ..PolicyConfig::default()
            },
            &spec.policy,
        );
        assert_eq!((p.threshold, p.p, p.k), (10, 15.0, 5));
    }

    #[test]
    fn mistakes_name_the_line_and_key() {
        let errors = check(
            r#"format_version = 1
title = "x"
[[table]]
name = "a b"
query = "SELEC x"
unit = "u"
levels = ["district"]
[[indicator]]
name = "i"
indicator = "populaton"
"#,
        )
        .unwrap_err();
        let keys: Vec<(&str, usize)> = errors.iter().map(|e| (e.key.as_str(), e.line)).collect();
        assert!(keys.contains(&("table[0].name", 3)), "{keys:?}");
        assert!(keys.contains(&("table[0].query", 3)), "{keys:?}");
        assert!(keys.contains(&("table[0].levels", 3)), "{keys:?}");
        let typo = errors
            .iter()
            .find(|e| e.key == "indicator[0].indicator")
            .unwrap();
        assert_eq!(typo.hint.as_deref(), Some("did you mean `population`?"));
        let unknown = check("format_version = 1\ntitle = \"x\"\nthreshold = 3\n").unwrap_err();
        assert_eq!(unknown[0].line, 3);
    }
}
