//! # Dominance, the (n,k) rule
//!
//! **What it does.** Flags a magnitude cell whose `n` largest contributions add up to more than
//! `k` percent of the cell's total.
//!
//! **Why.** When one provider receives 90% of the money spent on home care in a district, the
//! published total is practically that provider's contract value; its competitors learn it
//! within 10% (Hundepool et al., *Statistical Disclosure Control*, 2012, §4.2.3; Cox 1981).
//!
//! **Protection.** The attacker's interval must reach `100/k · (x₁ + … + xₙ) − X` on each side:
//! the amount by which the total would have to grow for the rule to pass (the standard protection
//! level of the rule, as in τ-ARGUS).

use super::{Finding, Rule, clamp};
use crate::table::{Kind, Table};

/// The (n,k) dominance rule.
#[derive(Debug, Clone)]
pub struct Dominance {
    n: usize,
    k: f64,
}

impl Dominance {
    /// `n` largest contributors, `k` percent.
    pub fn new(n: usize, k: f64) -> Dominance {
        Dominance { n, k }
    }
}

impl Rule for Dominance {
    fn id(&self) -> &'static str {
        "dominance"
    }

    fn applies_to(&self, kind: Kind) -> bool {
        kind == Kind::Magnitude
    }

    fn check(&self, table: &Table, index: usize) -> Option<Finding> {
        let cell = &table.cells[index];
        if cell.freq == 0 || cell.value <= 0.0 {
            return None;
        }
        let top: f64 = cell.top.iter().take(self.n).sum();
        let share = self.k / 100.0;
        if top <= share * cell.value {
            return None;
        }
        let p = top / share - cell.value;
        Some(Finding {
            rule: self.id().into(),
            reason: format!(
                "the {} largest contributors hold more than {}% of the total",
                self.n, self.k
            ),
            protection: clamp(cell.value, p, p),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::magnitude;

    #[test]
    fn hand_computed_cases() {
        // (2, 85): 60 + 30 = 90 of 100 > 85 -> protection 90/0.85 - 100 = 5.882...
        // 50 + 20 = 70 of 100 -> safe; 85 of 100 exactly -> safe (strictly more is needed)
        let t = magnitude(&[
            &[60.0, 30.0, 10.0],
            &[50.0, 20.0, 20.0, 10.0],
            &[45.0, 40.0, 15.0],
        ]);
        let rule = Dominance::new(2, 85.0);
        let f = rule.check(&t, 1).expect("dominated");
        assert!((f.protection.upper - (90.0 / 0.85 - 100.0)).abs() < 1e-12);
        assert_eq!(f.protection.lower, f.protection.upper);
        assert!(rule.check(&t, 2).is_none());
        assert!(rule.check(&t, 3).is_none());
    }

    #[test]
    fn a_single_contributor_is_always_dominant() {
        let t = magnitude(&[&[500.0]]);
        let f = Dominance::new(1, 90.0).check(&t, 1).expect("dominated");
        // 500/0.9 - 500 = 55.55...
        assert!((f.protection.upper - 500.0 / 9.0).abs() < 1e-9);
    }
}
