//! Rule and scenario files, read with their locations so that every mistake names file, line
//! and key.
//!
//! `simulations/rules/ID.toml`, one benefit per file (the id is the file name):
//!
//! ```toml
//! format_version = 1
//! name = "Assegno di inclusione (modello semplificato)"
//! valid_from = 2024-01-01          # first day the rule applies
//! valid_to = 2024-12-31            # last day (optional: still in force)
//! received = 'min_income_measure == "ADI"'   # optional: the data say the household gets it
//! [parameters]
//! isee_max = 9360
//! [[conditions]]                   # all must hold (eligibility)
//! name = "isee"
//! when = "isee <= isee_max"
//! [[steps]]                        # named intermediate values, in order
//! name = "scale"
//! formula = "min(2.2, 1 + 0.15 * minors)"
//! [amount]                         # yearly amount in euro, for an eligible household
//! formula = "max(0, 6000 * scale - isr)"
//! ```
//!
//! `simulations/scenarios/NAME.toml`: `date` (rules are applied as in force on that day, to
//! the household data of its year), `rules` (ids, in order of evaluation), and for a reform
//! `baseline` (the scenario it is compared with; its rules are inherited unless listed) and
//! `[parameters.RULE]` overrides.

use crate::microsim::MicrosimError;
use crate::microsim::expr::Expr;
use project::ConfigError;
use project::text::{closest, error_at, from_toml_error, line_col};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where rule files live in a project.
pub const RULES_DIR: &str = "simulations/rules";
/// Where scenario files live in a project.
pub const SCENARIOS_DIR: &str = "simulations/scenarios";
/// The prefix of the variables that hold the amount of a rule evaluated earlier in the same
/// scenario (`amount_adi`).
pub const AMOUNT_PREFIX: &str = "amount_";

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An expression of a rule with where it was written.
#[derive(Debug, Clone)]
pub struct Located {
    pub key: String,
    pub line: usize,
    pub expr: Expr,
}

/// A named expression (a condition or a step).
#[derive(Debug, Clone)]
pub struct Named {
    pub name: String,
    pub at: Located,
}

/// One benefit's rule.
#[derive(Debug, Clone)]
pub struct BenefitRule {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The file, as found under the project.
    pub file: PathBuf,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub parameters: BTreeMap<String, f64>,
    pub conditions: Vec<Named>,
    pub steps: Vec<Named>,
    pub amount: Located,
    pub received: Option<Located>,
}

impl BenefitRule {
    /// Whether the rule is in force on `date`.
    pub fn in_force(&self, date: Date) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// A baseline or a reform.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    pub file: PathBuf,
    pub date: Date,
    /// The scenario it is compared with (none for a baseline).
    pub baseline: Option<String>,
    /// Rule ids, in order of evaluation.
    pub rules: Vec<String>,
    /// Parameter overrides: rule id -> parameter -> value.
    pub overrides: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Every rule and scenario of a project, validated together.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: BTreeMap<String, BenefitRule>,
    pub scenarios: BTreeMap<String, Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    format_version: Spanned<u32>,
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    valid_from: Spanned<toml::value::Datetime>,
    valid_to: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    parameters: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    conditions: Vec<RawNamed>,
    #[serde(default)]
    steps: Vec<RawNamed>,
    amount: RawAmount,
    received: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamed {
    name: Spanned<String>,
    #[serde(alias = "formula")]
    when: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAmount {
    formula: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    format_version: Spanned<u32>,
    title: Spanned<String>,
    #[serde(default)]
    description: String,
    date: Spanned<toml::value::Datetime>,
    baseline: Option<Spanned<String>>,
    rules: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    parameters: BTreeMap<String, Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

/// Collects located errors of one file.
struct Errors<'a> {
    file: &'a Path,
    text: &'a str,
    list: Vec<ConfigError>,
}

impl Errors<'_> {
    fn at(&mut self, span: Option<std::ops::Range<usize>>, key: &str, message: String) {
        self.list
            .push(error_at(self.file, self.text, span, key, message, None));
    }

    fn hint(
        &mut self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.list
            .push(error_at(self.file, self.text, span, key, message, hint));
    }
}

fn date_of(d: &Spanned<toml::value::Datetime>, key: &str, e: &mut Errors) -> Option<Date> {
    let v = d.get_ref();
    match (v.date, v.time) {
        (Some(date), None) => Some(Date {
            year: date.year as i32,
            month: date.month,
            day: date.day,
        }),
        _ => {
            e.at(
                Some(d.span()),
                key,
                "expected a date like 2024-01-01 (no time of day)".into(),
            );
            None
        }
    }
}

fn number_of(v: &Spanned<toml::Value>, key: &str, e: &mut Errors) -> Option<f64> {
    match v.get_ref() {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        other => {
            e.at(
                Some(v.span()),
                key,
                format!("expected a number, found {}", other.type_str()),
            );
            None
        }
    }
}

/// A rule or scenario file in its raw form, with the errors list started by its format version.
fn read_raw<'a, R: serde::de::DeserializeOwned>(
    file: &'a Path,
    text: &'a str,
    version_of: impl Fn(&R) -> &Spanned<u32>,
) -> Result<(R, Errors<'a>), Vec<ConfigError>> {
    let raw: R = toml::from_str(text).map_err(|err| vec![from_toml_error(file, text, &err)])?;
    let mut e = Errors {
        file,
        text,
        list: Vec::new(),
    };
    version(version_of(&raw), &mut e);
    Ok((raw, e))
}

fn version(v: &Spanned<u32>, e: &mut Errors) {
    if *v.get_ref() != 1 {
        e.hint(
            Some(v.span()),
            "format_version",
            format!("unsupported format version {}", v.get_ref()),
            Some("this datalab reads format_version = 1".into()),
        );
    }
}

/// Compiles an expression written at `s`, checking that it reads only `allowed` names (or
/// amounts of other rules).
fn compile(s: &Spanned<String>, key: &str, allowed: &[&str], e: &mut Errors) -> Option<Located> {
    let (line, _) = line_col(e.text, s.span().start);
    // a multi-line string starts on the line after its opening quotes
    let opening = &e.text[s.span().start..];
    let skip = usize::from(
        (opening.starts_with("\"\"\"\n") || opening.starts_with("'''\n"))
            || (opening.starts_with("\"\"\"\r\n") || opening.starts_with("'''\r\n")),
    );
    match Expr::compile(s.get_ref()) {
        Err((message, at)) => {
            let line = at.map_or(line, |(l, _)| line + skip + l - 1);
            e.list.push(ConfigError {
                file: e.file.to_path_buf(),
                line,
                column: at.map_or(1, |a| a.1),
                key: key.into(),
                message: format!("cannot parse `{}`: {message}", s.get_ref().trim()),
                hint: None,
            });
            None
        }
        Ok(expr) => {
            for name in &expr.names {
                if allowed.contains(&name.as_str()) || name.starts_with(AMOUNT_PREFIX) {
                    continue;
                }
                let hint = closest(name, allowed).map(|c| format!("did you mean `{c}`?"));
                e.hint(
                    Some(s.span()),
                    key,
                    format!("unknown name `{name}`: not a household variable, a parameter of the rule or an earlier step"),
                    hint.or_else(|| Some("`datalab simulate --variables` lists the household variables".into())),
                );
            }
            Some(Located {
                key: key.into(),
                line,
                expr,
            })
        }
    }
}

/// Parses one rule file; `variables` are the household variables expressions may read.
pub fn parse_rule(
    file: &Path,
    text: &str,
    variables: &[&str],
) -> Result<BenefitRule, Vec<ConfigError>> {
    let (raw, mut e) = read_raw(file, text, |r: &RawRule| &r.format_version)?;
    let id = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || id.is_empty()
    {
        e.at(
            None,
            "",
            format!("the file name `{id}` is the rule's id: use lowercase letters, digits and `_`"),
        );
    }
    let valid_from = date_of(&raw.valid_from, "valid_from", &mut e);
    let valid_to = raw
        .valid_to
        .as_ref()
        .and_then(|d| date_of(d, "valid_to", &mut e));
    if let (Some(f), Some(t), Some(s)) = (valid_from, valid_to, raw.valid_to.as_ref())
        && t < f
    {
        e.at(
            Some(s.span()),
            "valid_to",
            format!("valid_to {t} is before valid_from {f}"),
        );
    }
    let mut parameters = BTreeMap::new();
    for (k, v) in &raw.parameters {
        if variables.contains(&k.as_str()) {
            e.at(
                Some(v.span()),
                &format!("parameters.{k}"),
                format!("parameter `{k}` has the name of a household variable"),
            );
        }
        if let Some(x) = number_of(v, &format!("parameters.{k}"), &mut e) {
            parameters.insert(k.clone(), x);
        }
    }
    let mut allowed: Vec<&str> = variables.to_vec();
    allowed.extend(raw.parameters.keys().map(String::as_str));
    let mut conditions = Vec::new();
    for (i, c) in raw.conditions.iter().enumerate() {
        let key = format!("conditions[{i}].when");
        if let Some(at) = compile(&c.when, &key, &allowed, &mut e) {
            conditions.push(Named {
                name: c.name.get_ref().clone(),
                at,
            });
        }
    }
    let mut steps = Vec::new();
    let step_names: Vec<String> = raw.steps.iter().map(|s| s.name.get_ref().clone()).collect();
    for (i, s) in raw.steps.iter().enumerate() {
        let name = s.name.get_ref();
        if allowed.contains(&name.as_str()) {
            e.at(
                Some(s.name.span()),
                &format!("steps[{i}].name"),
                format!("step `{name}` has the name of a variable, a parameter or an earlier step"),
            );
        }
        let key = format!("steps[{i}].formula");
        if let Some(at) = compile(&s.when, &key, &allowed, &mut e) {
            steps.push(Named {
                name: name.clone(),
                at,
            });
        }
        allowed.push(&step_names[i]);
    }
    let amount = compile(&raw.amount.formula, "amount.formula", &allowed, &mut e);
    let received = raw
        .received
        .as_ref()
        .and_then(|r| compile(r, "received", variables, &mut e));
    match (e.list.is_empty(), valid_from, amount) {
        (true, Some(valid_from), Some(amount)) => Ok(BenefitRule {
            id,
            name: raw.name.into_inner(),
            description: raw.description,
            file: file.to_path_buf(),
            valid_from,
            valid_to,
            parameters,
            conditions,
            steps,
            amount,
            received,
        }),
        _ => Err(e.list),
    }
}

struct ParsedScenario {
    scenario: Scenario,
    raw: RawScenario,
    text: String,
}

fn parse_scenario(file: &Path, text: &str) -> Result<ParsedScenario, Vec<ConfigError>> {
    let (raw, mut e) = read_raw(file, text, |r: &RawScenario| &r.format_version)?;
    let date = date_of(&raw.date, "date", &mut e);
    let mut overrides = BTreeMap::new();
    for (rule, params) in &raw.parameters {
        let mut m = BTreeMap::new();
        for (k, v) in params.get_ref() {
            if let Some(x) = number_of(v, &format!("parameters.{rule}.{k}"), &mut e) {
                m.insert(k.clone(), x);
            }
        }
        overrides.insert(rule.clone(), m);
    }
    let name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    match (e.list.is_empty(), date) {
        (true, Some(date)) => Ok(ParsedScenario {
            scenario: Scenario {
                name,
                title: raw.title.get_ref().clone(),
                description: raw.description.clone(),
                file: file.to_path_buf(),
                date,
                baseline: raw.baseline.as_ref().map(|b| b.get_ref().clone()),
                rules: raw
                    .rules
                    .as_ref()
                    .map(|r| r.get_ref().iter().map(|s| s.get_ref().clone()).collect())
                    .unwrap_or_default(),
                overrides,
            },
            raw,
            text: text.to_string(),
        }),
        _ => Err(e.list),
    }
}

impl RuleSet {
    /// Reads `simulations/rules/*.toml` and `simulations/scenarios/*.toml` under `root`
    /// (paths in errors are relative to `root`'s parent as given).
    pub fn load(root: &Path, variables: &[&str]) -> Result<RuleSet, MicrosimError> {
        let read = |dir: &str| -> Result<Vec<(PathBuf, String)>, MicrosimError> {
            let d = root.join(dir);
            let mut out = Vec::new();
            let entries = match std::fs::read_dir(&d) {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
                Err(e) => {
                    return Err(MicrosimError::Io {
                        path: d,
                        message: e.to_string().to_lowercase(),
                    });
                }
            };
            for entry in entries.flatten() {
                let p = entry.path();
                if p.extension().is_some_and(|x| x == "toml") {
                    let text = std::fs::read_to_string(&p).map_err(|e| MicrosimError::Io {
                        path: p.clone(),
                        message: e.to_string().to_lowercase(),
                    })?;
                    out.push((p, text));
                }
            }
            out.sort();
            Ok(out)
        };
        let rules = read(RULES_DIR)?;
        let scenarios = read(SCENARIOS_DIR)?;
        let r: Vec<(&Path, &str)> = rules
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        let s: Vec<(&Path, &str)> = scenarios
            .iter()
            .map(|(p, t)| (p.as_path(), t.as_str()))
            .collect();
        RuleSet::parse(&r, &s, variables)
    }

    /// Parses and cross-checks rule and scenario files given as (path, text).
    pub fn parse(
        rules: &[(&Path, &str)],
        scenarios: &[(&Path, &str)],
        variables: &[&str],
    ) -> Result<RuleSet, MicrosimError> {
        let mut errors = Vec::new();
        let mut set = RuleSet::default();
        for (path, text) in rules {
            match parse_rule(path, text, variables) {
                Ok(r) => {
                    set.rules.insert(r.id.clone(), r);
                }
                Err(e) => errors.extend(e),
            }
        }
        let mut parsed = Vec::new();
        for (path, text) in scenarios {
            match parse_scenario(path, text) {
                Ok(p) => parsed.push(p),
                Err(e) => errors.extend(e),
            }
        }
        let baselines: BTreeMap<String, Vec<String>> = parsed
            .iter()
            .filter(|p| p.scenario.baseline.is_none())
            .map(|p| (p.scenario.name.clone(), p.scenario.rules.clone()))
            .collect();
        let rule_ids: Vec<&str> = set.rules.keys().map(String::as_str).collect();
        let all_rule_files: Vec<String> = rules
            .iter()
            .filter_map(|(p, _)| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
            .collect();
        let baseline_names: Vec<&str> = baselines.keys().map(String::as_str).collect();
        for mut p in parsed {
            let file = p.scenario.file.clone();
            let mut e = Errors {
                file: &file,
                text: &p.text,
                list: Vec::new(),
            };
            if let Some(b) = &p.raw.baseline {
                match baselines.get(b.get_ref()) {
                    Some(rules) if p.raw.rules.is_none() => p.scenario.rules = rules.clone(),
                    Some(_) => {}
                    None => e.hint(
                        Some(b.span()),
                        "baseline",
                        format!("no baseline scenario `{}`", b.get_ref()),
                        closest(b.get_ref(), &baseline_names)
                            .map(|c| format!("did you mean `{c}`?"))
                            .or(Some("a baseline is a scenario without `baseline`".into())),
                    ),
                }
            } else if p.raw.rules.is_none() {
                e.at(
                    None,
                    "rules",
                    "a baseline must list its rules (`rules = [\"...\"]`)".into(),
                );
            }
            let listed: Vec<(String, Option<std::ops::Range<usize>>)> = match &p.raw.rules {
                Some(r) => r
                    .get_ref()
                    .iter()
                    .map(|s| (s.get_ref().clone(), Some(s.span())))
                    .collect(),
                None => p.scenario.rules.iter().map(|r| (r.clone(), None)).collect(),
            };
            for (i, (id, span)) in listed.iter().enumerate() {
                let Some(rule) = set.rules.get(id) else {
                    // a rule whose file has errors is reported there
                    if !all_rule_files.contains(id) {
                        e.hint(
                            span.clone(),
                            "rules",
                            format!("no rule `{id}` in {RULES_DIR}/"),
                            closest(id, &rule_ids).map(|c| format!("did you mean `{c}`?")),
                        );
                    }
                    continue;
                };
                let earlier: Vec<&str> = listed[..i].iter().map(|(r, _)| r.as_str()).collect();
                let exprs = rule
                    .conditions
                    .iter()
                    .chain(&rule.steps)
                    .map(|n| &n.at)
                    .chain(std::iter::once(&rule.amount));
                for at in exprs {
                    for name in &at.expr.names {
                        if let Some(other) = name.strip_prefix(AMOUNT_PREFIX)
                            && !earlier.contains(&other)
                            && !rule.parameters.contains_key(name)
                        {
                            e.at(
                                span.clone(),
                                "rules",
                                format!(
                                    "rule `{id}` reads `{name}` ({}:{}) but rule `{other}` is not evaluated before it in this scenario",
                                    rule.file.display(),
                                    at.line
                                ),
                            );
                        }
                    }
                }
            }
            for (rule, params) in &p.raw.parameters {
                let Some(r) = set.rules.get(rule) else {
                    e.hint(
                        Some(params.span()),
                        &format!("parameters.{rule}"),
                        format!("no rule `{rule}` to override"),
                        closest(rule, &rule_ids).map(|c| format!("did you mean `{c}`?")),
                    );
                    continue;
                };
                if !listed.iter().any(|(l, _)| l == rule) {
                    e.at(
                        Some(params.span()),
                        &format!("parameters.{rule}"),
                        format!("rule `{rule}` is not among the scenario's rules"),
                    );
                }
                let names: Vec<&str> = r.parameters.keys().map(String::as_str).collect();
                for (k, v) in params.get_ref() {
                    if !r.parameters.contains_key(k) {
                        e.hint(
                            Some(v.span()),
                            &format!("parameters.{rule}.{k}"),
                            format!("rule `{rule}` has no parameter `{k}`"),
                            closest(k, &names)
                                .map(|c| format!("did you mean `{c}`?"))
                                .or(Some(format!("its parameters are: {}", names.join(", ")))),
                        );
                    }
                }
            }
            errors.extend(e.list);
            set.scenarios.insert(p.scenario.name.clone(), p.scenario);
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(MicrosimError::Config(errors))
        }
    }

    /// A scenario by name, with a hint when it does not exist.
    pub fn scenario(&self, name: &str) -> Result<&Scenario, MicrosimError> {
        self.scenarios.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.scenarios.keys().map(String::as_str).collect();
            let hint = match closest(name, &names) {
                Some(c) => format!(" (did you mean `{c}`?)"),
                None if names.is_empty() => format!(" (there is none in {SCENARIOS_DIR}/)"),
                None => format!(" (scenarios: {})", names.join(", ")),
            };
            MicrosimError::NotFound(format!("no scenario `{name}`{hint}"))
        })
    }

    /// The parameters of `rule` in `scenario`: the rule's, overridden by the scenario's.
    pub fn parameters(&self, scenario: &Scenario, rule: &BenefitRule) -> BTreeMap<String, f64> {
        let mut p = rule.parameters.clone();
        if let Some(o) = scenario.overrides.get(&rule.id) {
            p.extend(o.iter().map(|(k, v)| (k.clone(), *v)));
        }
        p
    }
}
