//! What a scenario does to the population: cost, beneficiaries, poverty and inequality after
//! transfers, winners and losers against the baseline, and non-take-up.

use crate::microsim::rules::RuleSet;
use crate::microsim::simulate::{Household, Outcome};
use indicators::stats;

/// A gain or loss below one cent a year is no change.
pub const TOLERANCE: f64 = 0.005;

/// A scenario's totals over the population.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Households simulated.
    pub households: usize,
    /// Yearly cost: the sum of every household's benefits.
    pub cost: f64,
    /// Households with a benefit above zero.
    pub beneficiary_households: usize,
    /// Members of those households.
    pub beneficiary_persons: f64,
    /// 60% of the persons-weighted median of equivalised income after transfers.
    pub poverty_line: Option<f64>,
    /// Share of persons below that line.
    pub poverty_rate: Option<f64>,
    /// Persons-weighted Gini of equivalised income after transfers.
    pub gini: Option<f64>,
}

/// Equivalised income after the scenario's transfers, with the household's persons.
pub fn equivalised_after(households: &[Household], outcomes: &[Outcome]) -> Vec<(f64, f64)> {
    households
        .iter()
        .zip(outcomes)
        .map(|(h, o)| ((h.income + o.total) / h.oecd_scale, h.persons))
        .collect()
}

/// Totals, poverty rate (Eurostat's at-risk-of-poverty definition, [`stats::poverty_rate`])
/// and Gini ([`stats::gini_weighted`]) after transfers.
pub fn summarize(households: &[Household], outcomes: &[Outcome]) -> Summary {
    let incomes = equivalised_after(households, outcomes);
    let poverty = stats::poverty_rate(&incomes, 0.6);
    let paid: Vec<(&Household, &Outcome)> = households
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.total > 0.0)
        .collect();
    Summary {
        households: households.len(),
        cost: outcomes.iter().map(|o| o.total).sum(),
        beneficiary_households: paid.len(),
        beneficiary_persons: paid.iter().map(|(h, _)| h.persons).sum(),
        poverty_line: poverty.map(|p| p.0),
        poverty_rate: poverty.map(|p| p.1),
        gini: stats::gini_weighted(&incomes),
    }
}

/// Each household's decile (1 to 10) of equivalised income before the simulated transfers,
/// persons-weighted: cut points are the weighted quantiles 0.1, ..., 0.9
/// ([`stats::weighted_quantile`]); a household at a cut point belongs to the lower decile.
pub fn deciles(households: &[Household]) -> Vec<u8> {
    let incomes: Vec<(f64, f64)> = households
        .iter()
        .map(|h| (h.income / h.oecd_scale, h.persons))
        .collect();
    let cuts: Vec<f64> = (1..10)
        .filter_map(|k| stats::weighted_quantile(&incomes, k as f64 / 10.0))
        .collect();
    incomes
        .iter()
        .map(|(x, _)| 1 + cuts.iter().filter(|c| *x > **c).count() as u8)
        .collect()
}

/// Whether a household wins, loses or is unchanged going from baseline to scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Winner,
    Loser,
    Unchanged,
}

impl Change {
    pub fn of(baseline: f64, scenario: f64) -> Change {
        let d = scenario - baseline;
        if d > TOLERANCE {
            Change::Winner
        } else if d < -TOLERANCE {
            Change::Loser
        } else {
            Change::Unchanged
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Change::Winner => "winners",
            Change::Loser => "losers",
            Change::Unchanged => "unchanged",
        }
    }
}

/// Households eligible under the scenario for a benefit whose rule says how to see receipt
/// (`received`) but that the data say they do not receive: their pseudonyms, sorted, unique.
pub fn non_take_up(set: &RuleSet, households: &[Household], outcomes: &[Outcome]) -> Vec<String> {
    let mut out: Vec<String> = households
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| {
            o.eligible.iter().any(|r| {
                o.amounts.iter().any(|(id, a)| id == r && *a > 0.0)
                    && set.rules.get(r).is_some_and(|rule| rule.received.is_some())
                    && !o.received.contains(r)
            })
        })
        .map(|(h, _)| h.id.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}
