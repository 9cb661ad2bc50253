//! # The p% rule
//!
//! **What it does.** Flags a magnitude cell in which the second-largest contributor, knowing its
//! own value, could estimate the largest one to within `p` percent: `X − x₁ − x₂ < p/100 · x₁`.
//!
//! **Why.** The rule models the most dangerous attacker, a competitor inside the cell, and is
//! the one recommended for business and provider data (Hundepool et al., *Statistical
//! Disclosure Control*, 2012, §4.2.3; the rule τ-ARGUS and sdcTable use by default).
//!
//! **Protection.** The attacker's interval must reach `p/100 · x₁ − (X − x₁ − x₂)` on each side:
//! the uncertainty missing for the largest contribution to stay `p` percent uncertain.

use super::{Finding, Rule, clamp};
use crate::table::{Kind, Table};

/// The p% rule.
#[derive(Debug, Clone)]
pub struct PPercent {
    p: f64,
}

impl PPercent {
    /// `p` percent.
    pub fn new(p: f64) -> PPercent {
        PPercent { p }
    }
}

impl Rule for PPercent {
    fn id(&self) -> &'static str {
        "p-percent"
    }

    fn applies_to(&self, kind: Kind) -> bool {
        kind == Kind::Magnitude
    }

    fn check(&self, table: &Table, index: usize) -> Option<Finding> {
        let cell = &table.cells[index];
        if cell.freq == 0 || cell.value <= 0.0 {
            return None;
        }
        // without contribution details, one contributor holds it all (the safe assumption)
        let x1 = cell.top.first().copied().unwrap_or(cell.value);
        let x2 = cell.top.get(1).copied().unwrap_or(0.0);
        let rest = cell.value - x1 - x2;
        let needed = self.p / 100.0 * x1 - rest;
        if needed <= 0.0 {
            return None;
        }
        Some(Finding {
            rule: self.id().into(),
            reason: format!(
                "the second-largest contributor could estimate the largest within {}%",
                self.p
            ),
            protection: clamp(cell.value, needed, needed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::magnitude;

    #[test]
    fn hand_computed_cases() {
        // p = 10: X=100, x1=80, x2=15 -> rest 5 < 8 -> protection 8 - 5 = 3
        // X=100, x1=50, x2=30 -> rest 20 >= 5 -> safe
        // two contributors 70 + 30: rest 0 < 7 -> protection 7
        let t = magnitude(&[&[80.0, 15.0, 3.0, 2.0], &[50.0, 30.0, 20.0], &[70.0, 30.0]]);
        let rule = PPercent::new(10.0);
        let f = rule.check(&t, 1).expect("sensitive");
        assert!((f.protection.upper - 3.0).abs() < 1e-12);
        assert!(rule.check(&t, 2).is_none());
        assert!((rule.check(&t, 3).expect("sensitive").protection.upper - 7.0).abs() < 1e-12);
    }

    #[test]
    fn does_not_apply_to_counts() {
        assert!(!PPercent::new(10.0).applies_to(Kind::Frequency));
    }
}
