//! # Minimum frequency (threshold rule)
//!
//! **What it does.** Flags a cell with fewer than `threshold` contributors (but at least one).
//! With [`Zeros::Sensitive`] an empty cell is flagged too.
//!
//! **Why.** A count of 1 or 2 people in a zone, an age band and a citizenship points at
//! somebody a neighbour can recognise; a total of benefits paid to two households lets each
//! subtract its own amount and learn the other's. Most statistical offices use a threshold of
//! 3, 5 or 10 (Hundepool et al., *Statistical Disclosure Control*, 2012, §4.2.2).
//!
//! **Protection.** In a frequency table the attacker's interval must reach from 0 to
//! `threshold`: the published numbers must not rule out that the cell is empty, nor that it holds
//! a safe count. In a magnitude table it must stay `range` percent of the value away on both
//! sides (the "safety range" of τ-ARGUS). An empty cell flagged under [`Zeros::Sensitive`] must
//! be able to reach `threshold`.

use super::{Finding, Rule, clamp};
use crate::table::{Kind, Table};
use serde::{Deserialize, Serialize};

/// How empty cells are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Zeros {
    /// Zeros are published: "nobody" is not a person (but see the group rule).
    #[default]
    Publish,
    /// Zeros are protected like small counts (the absence itself is sensitive, e.g. "no
    /// foreign resident receives this benefit in zone 7").
    Sensitive,
}

/// The minimum frequency rule.
#[derive(Debug, Clone)]
pub struct Frequency {
    threshold: u64,
    zeros: Zeros,
    range: f64,
}

impl Frequency {
    /// `threshold` contributors at least; `range` percent protection for magnitude cells.
    pub fn new(threshold: u64, zeros: Zeros, range: f64) -> Frequency {
        Frequency {
            threshold,
            zeros,
            range,
        }
    }
}

impl Rule for Frequency {
    fn id(&self) -> &'static str {
        "frequency"
    }

    fn applies_to(&self, _kind: Kind) -> bool {
        true
    }

    fn check(&self, table: &Table, index: usize) -> Option<Finding> {
        let cell = &table.cells[index];
        let t = self.threshold;
        match table.kind {
            Kind::Frequency => {
                let x = cell.value;
                if cell.freq == 0 && x == 0.0 {
                    if self.zeros != Zeros::Sensitive {
                        return None;
                    }
                    return Some(Finding {
                        rule: self.id().into(),
                        reason: "empty cell (zeros are sensitive in this policy)".into(),
                        protection: clamp(x, 0.0, t as f64),
                    });
                }
                if cell.freq >= t {
                    return None;
                }
                Some(Finding {
                    rule: self.id().into(),
                    reason: format!("fewer than {t} units"),
                    protection: clamp(x, x, (t as f64 - x).max(1.0)),
                })
            }
            Kind::Magnitude => {
                if cell.freq == 0 || cell.freq >= t {
                    return None;
                }
                let p = self.range / 100.0 * cell.value.abs();
                Some(Finding {
                    rule: self.id().into(),
                    reason: format!("fewer than {t} contributors"),
                    protection: clamp(cell.value, p, p),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::magnitude;
    use crate::table::{Cell, Dim, Protection};

    fn counts(values: &[u64]) -> Table {
        let codes: Vec<String> = (0..values.len()).map(|i| format!("c{i}")).collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let mut t = Table::new("t", Kind::Frequency, vec![Dim::flat("d", &refs)]);
        for (i, &v) in values.iter().enumerate() {
            t.cells[i + 1] = Cell {
                value: v as f64,
                freq: v,
                published: true,
                ..Cell::default()
            };
        }
        t.sum_up();
        t
    }

    fn check(rule: &Frequency, t: &Table, i: usize) -> Option<Protection> {
        rule.check(t, i).map(|f| f.protection)
    }

    #[test]
    fn counts_below_the_threshold_must_look_possibly_empty_or_safe() {
        let t = counts(&[0, 1, 4, 5, 12]);
        let rule = Frequency::new(5, Zeros::Publish, 30.0);
        assert_eq!(check(&rule, &t, 1), None, "zero published");
        assert_eq!(
            check(&rule, &t, 2),
            Some(Protection {
                lower: 1.0,
                upper: 4.0
            })
        );
        assert_eq!(
            check(&rule, &t, 3),
            Some(Protection {
                lower: 4.0,
                upper: 1.0
            })
        );
        assert_eq!(check(&rule, &t, 4), None, "5 is at the threshold");
        assert_eq!(check(&rule, &t, 0), None, "total of 22");
    }

    #[test]
    fn sensitive_zeros_must_be_able_to_reach_the_threshold() {
        let t = counts(&[0, 7]);
        let rule = Frequency::new(3, Zeros::Sensitive, 30.0);
        assert_eq!(
            check(&rule, &t, 1),
            Some(Protection {
                lower: 0.0,
                upper: 3.0
            })
        );
    }

    #[test]
    fn magnitude_cells_with_few_contributors_get_a_safety_range() {
        let t = magnitude(&[&[1000.0, 200.0], &[10.0, 10.0, 10.0]]);
        let rule = Frequency::new(3, Zeros::Publish, 20.0);
        assert_eq!(
            check(&rule, &t, 1),
            Some(Protection {
                lower: 240.0,
                upper: 240.0
            })
        );
        assert_eq!(check(&rule, &t, 2), None);
    }
}
