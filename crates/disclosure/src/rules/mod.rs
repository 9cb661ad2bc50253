//! Primary rules: which cells are too risky to publish as they are, and how much protection each
//! needs. One rule per file; each says what it does and why.
//!
//! A rule looks at one cell of a [`Table`] (its value, its number of contributors, its largest
//! contributions, its margins) and returns a [`Finding`] with the protection an attacker's
//! interval must keep (see [`Protection`]). A cell that several rules flag needs the largest
//! protection of them all.

mod dominance;
mod frequency;
mod group;
mod p_percent;

pub use dominance::Dominance;
pub use frequency::{Frequency, Zeros};
pub use group::Group;
pub use p_percent::PPercent;

use crate::table::{Kind, Protection, Table};
use serde::{Deserialize, Serialize};

/// A primary rule.
pub trait Rule: Send + Sync {
    /// The rule's name in release logs (`frequency`, `dominance`, `p-percent`, `group`).
    fn id(&self) -> &'static str;
    /// Whether the rule applies to tables of this kind.
    fn applies_to(&self, kind: Kind) -> bool;
    /// Whether the cell at `index` is sensitive under this rule, and the protection it needs.
    /// Never called for structural zeros.
    fn check(&self, table: &Table, index: usize) -> Option<Finding>;
}

/// Why a cell is sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    /// In words, for the output checker (no true values: the log may be read outside the lab).
    pub reason: String,
    pub protection: Protection,
}

/// A cell found sensitive by at least one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Primary {
    pub cell: usize,
    pub findings: Vec<Finding>,
    /// The largest protection over the findings.
    pub protection: Protection,
}

/// Every published cell that some rule flags, in cell order.
pub fn primary(table: &Table, rules: &[Box<dyn Rule>]) -> Vec<Primary> {
    let mut out = Vec::new();
    for (i, cell) in table.cells.iter().enumerate() {
        if cell.structural_zero || !cell.published {
            continue;
        }
        let findings: Vec<Finding> = rules
            .iter()
            .filter(|r| r.applies_to(table.kind))
            .filter_map(|r| r.check(table, i))
            .collect();
        if findings.is_empty() {
            continue;
        }
        let protection = findings
            .iter()
            .fold(Protection::default(), |acc, f| Protection {
                lower: acc.lower.max(f.protection.lower),
                upper: acc.upper.max(f.protection.upper),
            });
        out.push(Primary {
            cell: i,
            findings,
            protection,
        });
    }
    out
}

/// The lower protection never asks a non-negative cell to go below zero.
fn clamp(value: f64, lower: f64, upper: f64) -> Protection {
    Protection {
        lower: lower.min(value.max(0.0)).max(0.0),
        upper: upper.max(0.0),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::table::{Cell, Dim, Kind, Table};

    /// A one-dimensional magnitude table: a total and one cell per contributor list.
    pub fn magnitude(cells: &[&[f64]]) -> Table {
        let codes: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let mut t = Table::new("t", Kind::Magnitude, vec![Dim::flat("d", &refs)]);
        for (i, contributions) in cells.iter().enumerate() {
            let mut top = contributions.to_vec();
            top.sort_by(|a, b| b.total_cmp(a));
            t.cells[i + 1] = Cell {
                value: contributions.iter().sum(),
                freq: contributions.len() as u64,
                top,
                published: true,
                ..Cell::default()
            };
        }
        t.sum_up();
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cell, Dim};

    #[test]
    fn a_cell_flagged_twice_needs_the_larger_protection() {
        // one contributor of 100: under 3 contributors and dominated
        let mut t = testing::magnitude(&[&[100.0], &[50.0, 40.0, 30.0, 20.0]]);
        t.cells[0].top = vec![100.0, 50.0, 40.0];
        let rules: Vec<Box<dyn Rule>> = vec![
            Box::new(Frequency::new(3, Zeros::Publish, 30.0)),
            Box::new(Dominance::new(1, 75.0)),
        ];
        let found = primary(&t, &rules);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].cell, 1);
        assert_eq!(found[0].findings.len(), 2);
        // frequency: 30% of 100 = 30; dominance: 100/0.75 - 100 = 33.33
        assert!((found[0].protection.upper - 100.0 / 0.75 + 100.0).abs() < 1e-9);
        assert_eq!(found[0].protection.lower, found[0].protection.upper);
    }

    #[test]
    fn structural_zeros_and_unpublished_cells_are_never_flagged() {
        let mut t = Table::new("t", Kind::Frequency, vec![Dim::flat("d", &["a", "b", "c"])]);
        for (i, v) in [(1, 1.0), (2, 0.0), (3, 2.0)] {
            t.cells[i] = Cell {
                value: v,
                freq: v as u64,
                published: true,
                ..Cell::default()
            };
        }
        t.cells[2].structural_zero = true;
        t.cells[3].published = false;
        t.sum_up();
        let rules: Vec<Box<dyn Rule>> = vec![Box::new(Frequency::new(5, Zeros::Sensitive, 30.0))];
        let cells: Vec<usize> = primary(&t, &rules).iter().map(|p| p.cell).collect();
        assert_eq!(cells, vec![0, 1]);
    }
}
