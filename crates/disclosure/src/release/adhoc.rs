//! The gate for tables that an analysis computes itself, outside a release spec (a
//! microsimulation's winners and losers by decile and zone, its cost by zone): the same primary
//! rules as a release (the project's `[disclosure]` policy), secondary suppression, and the
//! attacker's check, returning [`Protected`] values that the caller may print for people
//! outside the lab. Hidden cells carry the rules that hid them; their true values never leave
//! this module.

use super::Protected;
use crate::attack::{self, Knowledge};
use crate::rules::{self, Rule};
use crate::table::{Kind, Protection, Table};
use crate::{DisclosureError, suppress};
use project::release::Policy;
use serde::Serialize;

/// The primary rules of a policy, as releases apply them: minimum frequency, (n,k) dominance,
/// p%, and group disclosure on `attributes` (dimensions whose categories describe the units,
/// not where they are) when the policy asks for it.
pub fn policy_rules(policy: &Policy, attributes: Vec<String>) -> Vec<Box<dyn Rule>> {
    let zeros = if policy.zeros == "sensitive" {
        rules::Zeros::Sensitive
    } else {
        rules::Zeros::Publish
    };
    let mut r: Vec<Box<dyn Rule>> = vec![
        Box::new(rules::Frequency::new(policy.threshold, zeros, policy.range)),
        Box::new(rules::Dominance::new(
            policy.dominance.n,
            policy.dominance.k,
        )),
        Box::new(rules::PPercent::new(policy.p)),
    ];
    if policy.group && !attributes.is_empty() {
        r.push(Box::new(rules::Group::new(attributes)));
    }
    r
}

/// One cell as it may be shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownCell {
    /// The cell's code on each dimension, in the table's dimension order.
    pub codes: Vec<String>,
    /// The value, or `None` when the gate hid it.
    pub value: Option<f64>,
    /// `suppressed` for a hidden cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The rules that hid the cell (`frequency`, `dominance`, `p-percent`, `group`), or
    /// `secondary` for a cell hidden to protect another one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// A table that passed the gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownTable {
    pub name: String,
    pub kind: Kind,
    /// Dimension names, in order.
    pub dims: Vec<String>,
    pub cells: Vec<ShownCell>,
    pub primary: usize,
    pub secondary: usize,
}

impl ShownTable {
    /// The cell at these codes.
    pub fn cell(&self, codes: &[&str]) -> Option<&ShownCell> {
        self.cells
            .iter()
            .find(|c| c.codes.iter().map(String::as_str).eq(codes.iter().copied()))
    }
}

/// Protects one table by suppression: primary rules of `policy` (group disclosure on the
/// dimensions named in `attributes`), secondary suppression over every margin of the table,
/// then the attacker's check of the pattern (an error if any sensitive cell stays
/// recalculable).
///
/// # Errors
/// As [`suppress::secondary`] and [`attack::check`]; [`DisclosureError::Solver`] when the
/// attacker finds a breach.
pub fn protect_table(
    table: &Table,
    attributes: &[&str],
    policy: &Policy,
) -> Result<Protected<ShownTable>, DisclosureError> {
    let rules = policy_rules(policy, attributes.iter().map(|a| a.to_string()).collect());
    let primary = rules::primary(table, &rules);
    let sensitive: Vec<(usize, Protection)> =
        primary.iter().map(|p| (p.cell, p.protection)).collect();
    let secondary = if primary.is_empty() {
        Vec::new()
    } else {
        suppress::secondary(table, &sensitive, &suppress::Options::default())?.secondary
    };
    let n = table.cells.len();
    let mut hidden: Vec<Option<Vec<String>>> = vec![None; n];
    for p in &primary {
        hidden[p.cell] = Some(p.findings.iter().map(|f| f.rule.clone()).collect());
    }
    for &s in &secondary {
        hidden[s] = Some(vec!["secondary".into()]);
    }
    let known: Vec<bool> = (0..n)
        .map(|i| table.cells[i].published && hidden[i].is_none())
        .collect();
    let k = Knowledge::from_table(table, &known);
    let checked: Vec<(usize, f64, Protection)> = primary
        .iter()
        .map(|p| (p.cell, table.cells[p.cell].value, p.protection))
        .collect();
    let breaches = attack::check(&k, &checked)?;
    if !breaches.is_empty() {
        return Err(DisclosureError::Solver(format!(
            "table {}: the suppression pattern leaves {} cells recalculable",
            table.name,
            breaches.len()
        )));
    }
    let cells = (0..n)
        .filter(|&i| table.cells[i].published)
        .map(|i| ShownCell {
            codes: table.codes(i).iter().map(|c| c.to_string()).collect(),
            value: match hidden[i] {
                Some(_) => None,
                None => Some(table.cells[i].value),
            },
            flag: hidden[i].as_ref().map(|_| "suppressed".to_string()),
            rules: hidden[i].clone().unwrap_or_default(),
        })
        .collect();
    Ok(Protected::new(ShownTable {
        name: table.name.clone(),
        kind: table.kind,
        dims: table.dims.iter().map(|d| d.name.clone()).collect(),
        cells,
        primary: primary.len(),
        secondary: secondary.len(),
    }))
}

/// A statistic of a whole population (a poverty rate, a Gini coefficient) as it may be shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownStatistic {
    pub name: String,
    /// The value, or `None` when the population is too small.
    pub value: Option<f64>,
    /// Units (households) it was computed on.
    pub units: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A population statistic passes when it rests on at least the policy's minimum sample
/// (`min_sample`, the rule releases apply to survey estimates): a Gini or a poverty rate of
/// a handful of households says too much about each of them.
pub fn protect_statistic(
    name: &str,
    value: Option<f64>,
    units: u64,
    policy: &Policy,
) -> Protected<ShownStatistic> {
    let small = units < policy.min_sample;
    Protected::new(ShownStatistic {
        name: name.into(),
        value: if small { None } else { value },
        units,
        flag: small.then(|| "suppressed".into()),
        rule: small.then(|| "min-sample".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cell, Dim};

    fn policy() -> Policy {
        Policy::resolve(&Default::default(), &Default::default())
    }

    #[test]
    fn a_small_cell_is_hidden_with_its_rule_and_a_partner_cell() {
        // counts 1, 10, 12: the 1 is under the threshold of 5; hiding it alone would let
        // anyone recompute it from the total (23 - 10 - 12), so one more cell goes
        let mut t = Table::new("t", Kind::Frequency, vec![Dim::flat("d", &["a", "b", "c"])]);
        for (i, v) in [(1, 1.0), (2, 10.0), (3, 12.0)] {
            t.cells[i] = Cell {
                value: v,
                freq: v as u64,
                published: true,
                ..Cell::default()
            };
        }
        t.sum_up();
        let shown = protect_table(&t, &[], &policy()).unwrap();
        let s = shown.get();
        assert_eq!(s.cell(&["a"]).unwrap().value, None);
        assert_eq!(s.cell(&["a"]).unwrap().rules, vec!["frequency".to_string()]);
        assert_eq!(s.cell(&["b"]).unwrap().value, None);
        assert_eq!(s.cell(&["b"]).unwrap().rules, vec!["secondary".to_string()]);
        assert_eq!(s.cell(&["c"]).unwrap().value, Some(12.0));
        assert_eq!(s.cell(&["Total"]).unwrap().value, Some(23.0));
        assert_eq!((s.primary, s.secondary), (1, 1));
    }

    #[test]
    fn a_statistic_of_few_units_is_hidden() {
        let p = policy();
        let small = protect_statistic("gini", Some(0.3), p.min_sample - 1, &p);
        assert_eq!(small.get().value, None);
        assert_eq!(small.get().rule.as_deref(), Some("min-sample"));
        let big = protect_statistic("gini", Some(0.3), p.min_sample, &p);
        assert_eq!(big.get().value, Some(0.3));
    }
}
