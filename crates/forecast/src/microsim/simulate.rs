//! Evaluating a scenario's rules for every household, with the trace of each result.

use crate::microsim::MicrosimError;
use crate::microsim::expr::{Expr, to_dynamic};
use crate::microsim::rules::{AMOUNT_PREFIX, BenefitRule, Located, RuleSet, Scenario};
use rhai::Scope;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A household variable's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Num(f64),
    Bool(bool),
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Num(x) => write!(f, "{}", fmt_num(*x)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => write!(f, "\"{s}\""),
        }
    }
}

/// A number as a person writes it: no trailing `.0`, at most 6 decimals.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One household as the simulation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    /// The household's pseudonym (never an identifier).
    pub id: String,
    pub zone: String,
    pub district: String,
    /// Members: the weight of the household in person-based statistics.
    pub persons: f64,
    /// OECD-modified equivalence scale.
    pub oecd_scale: f64,
    /// Yearly household income before the simulated benefits (the ISEE's ISR).
    pub income: f64,
    /// Every variable rules may read (including the fields above under their names).
    pub vars: BTreeMap<String, Value>,
}

/// One evaluated expression: what it says, what it read, what it gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceStep {
    pub name: String,
    /// `file:line`.
    pub at: String,
    pub expression: String,
    /// (name, value) of every variable, parameter or earlier step it read.
    pub operands: Vec<(String, String)>,
    pub result: String,
}

/// How one rule treated one household.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub name: String,
    /// `from 2024-01-01 to 2024-12-31`.
    pub validity: String,
    pub in_force: bool,
    pub conditions: Vec<TraceStep>,
    pub eligible: bool,
    pub steps: Vec<TraceStep>,
    pub amount: Option<TraceStep>,
    /// The yearly amount, rounded to the cent (0 when not in force, not eligible, or the
    /// formula gives less than 0).
    pub value: f64,
    /// Whether the data say the household receives the benefit (rules with `received`).
    pub received: Option<bool>,
    pub notes: Vec<String>,
}

/// A household's result under one scenario, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub household: String,
    pub scenario: String,
    pub date: String,
    pub rules: Vec<RuleTrace>,
    pub total: f64,
}

/// A household's result under one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Amount per rule id, in the scenario's order.
    pub amounts: Vec<(String, f64)>,
    pub total: f64,
    /// Rule ids the household is eligible for (in force and every condition true).
    pub eligible: Vec<String>,
    /// Rule ids the data say the household receives.
    pub received: Vec<String>,
}

fn located(rule: &BenefitRule, at: &Located) -> String {
    format!("{}:{}", rule.file.display(), at.line)
}

fn eval_err(rule: &BenefitRule, at: &Located, h: &Household, message: String) -> MicrosimError {
    MicrosimError::Eval {
        file: rule.file.display().to_string(),
        line: at.line,
        key: at.key.clone(),
        household: h.id.clone(),
        message,
    }
}

/// Evaluates the expression at `at` for household `h`; errors name the rule's file and line.
fn eval_at(
    rule: &BenefitRule,
    at: &Located,
    scope: &mut Scope,
    h: &Household,
) -> Result<Value, MicrosimError> {
    at.expr.eval(scope).map_err(|m| eval_err(rule, at, h, m))
}

/// Evaluates an expression that must be true or false (`what` names it in the error).
fn eval_bool(
    rule: &BenefitRule,
    at: &Located,
    scope: &mut Scope,
    h: &Household,
    what: &str,
) -> Result<bool, MicrosimError> {
    match eval_at(rule, at, scope, h)? {
        Value::Bool(b) => Ok(b),
        got => Err(eval_err(
            rule,
            at,
            h,
            format!("{what} must be true or false, got {got}"),
        )),
    }
}

fn operands(expr: &Expr, scope: &Scope) -> Vec<(String, String)> {
    expr.names
        .iter()
        .map(|n| {
            let v = scope
                .get(n)
                .and_then(|d| crate::microsim::expr::to_value(d.clone()).ok())
                .map_or("?".to_string(), |v| v.to_string());
            (n.clone(), v)
        })
        .collect()
}

/// Evaluates one household under a scenario; `trace` asks for the step-by-step account.
pub fn evaluate(
    set: &RuleSet,
    scenario: &Scenario,
    h: &Household,
    trace: bool,
) -> Result<(Outcome, Option<Trace>), MicrosimError> {
    let mut scope = Scope::new();
    for (k, v) in &h.vars {
        scope.push_dynamic(k.clone(), to_dynamic(v));
    }
    let mut outcome = Outcome {
        amounts: Vec::new(),
        total: 0.0,
        eligible: Vec::new(),
        received: Vec::new(),
    };
    let mut traces = Vec::new();
    for id in &scenario.rules {
        let rule = set
            .rules
            .get(id)
            .ok_or_else(|| MicrosimError::NotFound(format!("no rule `{id}`")))?;
        let in_force = rule.in_force(scenario.date);
        let mut rt = RuleTrace {
            rule: id.clone(),
            name: rule.name.clone(),
            validity: match rule.valid_to {
                Some(to) => format!("from {} to {to}", rule.valid_from),
                None => format!("from {}", rule.valid_from),
            },
            in_force,
            conditions: Vec::new(),
            eligible: false,
            steps: Vec::new(),
            amount: None,
            value: 0.0,
            received: None,
            notes: Vec::new(),
        };
        if let Some(r) = &rule.received {
            let b = eval_bool(rule, r, &mut scope, h, "`received`")?;
            rt.received = Some(b);
            if b {
                outcome.received.push(id.clone());
            }
        }
        let mut local = scope.clone();
        for (k, v) in set.parameters(scenario, rule) {
            local.push_dynamic(k, rhai::Dynamic::from_float(v));
        }
        if !in_force {
            rt.notes.push(format!(
                "not in force on {} (valid {})",
                scenario.date, rt.validity
            ));
        } else {
            let mut eligible = true;
            for c in &rule.conditions {
                let b = eval_bool(rule, &c.at, &mut local, h, "a condition")?;
                eligible &= b;
                if trace {
                    rt.conditions.push(TraceStep {
                        name: c.name.clone(),
                        at: located(rule, &c.at),
                        expression: c.at.expr.text.clone(),
                        operands: operands(&c.at.expr, &local),
                        result: b.to_string(),
                    });
                }
            }
            rt.eligible = eligible;
            if eligible {
                outcome.eligible.push(id.clone());
                for s in &rule.steps {
                    let got = eval_at(rule, &s.at, &mut local, h)?;
                    if trace {
                        rt.steps.push(TraceStep {
                            name: s.name.clone(),
                            at: located(rule, &s.at),
                            expression: s.at.expr.text.clone(),
                            operands: operands(&s.at.expr, &local),
                            result: got.to_string(),
                        });
                    }
                    local.push_dynamic(s.name.clone(), to_dynamic(&got));
                }
                let a = &rule.amount;
                let got = eval_at(rule, a, &mut local, h)?;
                let Value::Num(x) = got else {
                    return Err(eval_err(
                        rule,
                        a,
                        h,
                        format!("an amount must be a number, got {got}"),
                    ));
                };
                if !x.is_finite() {
                    return Err(eval_err(rule, a, h, format!("the amount is {x}")));
                }
                if trace {
                    rt.amount = Some(TraceStep {
                        name: "amount".into(),
                        at: located(rule, a),
                        expression: a.expr.text.clone(),
                        operands: operands(&a.expr, &local),
                        result: fmt_num(x),
                    });
                }
                if x < 0.0 {
                    rt.notes
                        .push(format!("the formula gives {}: no benefit (0)", fmt_num(x)));
                }
                // benefits are paid in cents: 6500 x 1.15 is 7474.999... in binary
                rt.value = ((x * 100.0).round() / 100.0).max(0.0);
            } else {
                rt.notes.push("not eligible: a condition is false".into());
            }
        }
        outcome.amounts.push((id.clone(), rt.value));
        outcome.total += rt.value;
        scope.push_dynamic(
            format!("{AMOUNT_PREFIX}{id}"),
            rhai::Dynamic::from_float(rt.value),
        );
        traces.push(rt);
    }
    let t = trace.then(|| Trace {
        household: h.id.clone(),
        scenario: scenario.name.clone(),
        date: scenario.date.to_string(),
        total: outcome.total,
        rules: traces,
    });
    Ok((outcome, t))
}

/// Every household's outcome under `scenario`, in the order of `households`; `progress` is
/// called after each household.
pub fn run_scenario(
    set: &RuleSet,
    scenario: &Scenario,
    households: &[Household],
    progress: &dyn Fn(),
) -> Result<Vec<Outcome>, MicrosimError> {
    households
        .iter()
        .map(|h| {
            let r = evaluate(set, scenario, h, false).map(|(o, _)| o);
            progress();
            r
        })
        .collect()
}

impl Trace {
    /// The trace as text for people, one line per condition and step.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "household {} under scenario `{}` on {}\n",
            self.household, self.scenario, self.date
        );
        let step = |out: &mut String, kind: &str, s: &TraceStep| {
            let ops: Vec<String> = s
                .operands
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            out.push_str(&format!(
                "    {kind} {}: {}  [{}]\n      with {}\n      = {}\n",
                s.name,
                s.expression.trim(),
                s.at,
                if ops.is_empty() {
                    "no operand".into()
                } else {
                    ops.join(", ")
                },
                s.result
            ));
        };
        for r in &self.rules {
            out.push_str(&format!(
                "  rule {} ({}), valid {}\n",
                r.rule, r.name, r.validity
            ));
            for c in &r.conditions {
                step(&mut out, "condition", c);
            }
            if r.in_force {
                out.push_str(&format!("    eligible: {}\n", r.eligible));
            }
            for s in &r.steps {
                step(&mut out, "step", s);
            }
            if let Some(a) = &r.amount {
                step(&mut out, "formula", a);
            }
            for n in &r.notes {
                out.push_str(&format!("    note: {n}\n"));
            }
            if let Some(b) = r.received {
                out.push_str(&format!("    received according to the data: {b}\n"));
            }
            out.push_str(&format!("    => {} euro a year\n", fmt_num(r.value)));
        }
        out.push_str(&format!("total: {} euro a year\n", fmt_num(self.total)));
        out
    }
}
