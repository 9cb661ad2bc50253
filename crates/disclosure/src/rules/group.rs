//! # Group disclosure (a cell equal to its margin)
//!
//! **What it does.** Flags a non-empty cell of a frequency table that holds everybody of its
//! margin along an attribute dimension: all the minimum-income recipients of zone 7 are foreign
//! citizens, all the users of a service in a district are over 80.
//!
//! **Why.** No count is small, yet everyone counted in the margin is revealed to have the
//! attribute: whoever knows that a neighbour receives the benefit now knows their citizenship
//! (Hundepool et al., *Statistical Disclosure Control*, 2012, §4.2.4, "group disclosure").
//! Territorial dimensions are not attributes (a district of one zone discloses nothing), so the
//! rule looks only at the dimensions it is given.
//!
//! **Protection.** The attacker must not be able to exclude that at least one person of the
//! margin lacks the attribute: a lower protection of 1.

use super::{Finding, Rule};
use crate::table::{Kind, Protection, Table};

/// The group-disclosure rule over the named attribute dimensions.
#[derive(Debug, Clone)]
pub struct Group {
    dims: Vec<String>,
}

impl Group {
    pub fn new(dims: Vec<String>) -> Group {
        Group { dims }
    }
}

impl Rule for Group {
    fn id(&self) -> &'static str {
        "group"
    }

    fn applies_to(&self, kind: Kind) -> bool {
        kind == Kind::Frequency
    }

    fn check(&self, table: &Table, index: usize) -> Option<Finding> {
        let cell = &table.cells[index];
        if cell.value <= 0.0 {
            return None;
        }
        for (k, dim) in table.dims.iter().enumerate() {
            if !self.dims.contains(&dim.name) {
                continue;
            }
            let code = table.coords(index)[k];
            let Some(margin) = table.margin_of(index, k) else {
                continue;
            };
            let parent = dim.parent[code].expect("a cell with a margin has a parent");
            if dim.children(parent).len() < 2 || table.cells[margin].value != cell.value {
                continue;
            }
            return Some(Finding {
                rule: self.id().into(),
                reason: format!(
                    "everyone in the margin has {} = {}",
                    dim.name, dim.codes[code]
                ),
                protection: Protection {
                    lower: 1.0,
                    upper: 0.0,
                },
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Dim, Kind, Table};

    #[test]
    fn flags_a_cell_holding_its_whole_row_on_attribute_dimensions_only() {
        let zones = Dim::tree(
            "zone",
            &[("Q1".into(), None), ("Z1".into(), Some("Q1".into()))],
        );
        let mut t = Table::new(
            "t",
            Kind::Frequency,
            vec![zones, Dim::flat("citizenship", &["IT", "other"])],
        );
        for (codes, v) in [(["Z1", "IT"], 0.0), (["Z1", "other"], 12.0)] {
            let i = t.find(&codes).unwrap();
            t.cells[i].value = v;
            t.cells[i].freq = v as u64;
        }
        t.sum_up();
        let rule = Group::new(vec!["citizenship".into()]);
        let other = t.find(&["Z1", "other"]).unwrap();
        let f = rule.check(&t, other).expect("all of Z1 is foreign");
        assert_eq!(f.protection.lower, 1.0);
        assert!(f.reason.contains("citizenship = other"));
        // Z1 = Q1 = Total along the zone dimension: not an attribute, not flagged
        let z1_total = t.find(&["Z1", "Total"]).unwrap();
        assert!(rule.check(&t, z1_total).is_none());
        // the empty cell is not flagged
        assert!(rule.check(&t, t.find(&["Z1", "IT"]).unwrap()).is_none());
    }
}
