//! Reading the cube to compare territories (benchmarking) and to relate needs and supply.

use crate::benchmark::{Basis, Comparison, Unit, compare};
use model::{Direction, Hierarchy, Indicator};
use serde::Serialize;
use std::collections::BTreeMap;

/// One total cell of the cube (breakdown empty) for one indicator and period.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub territory: String,
    pub level: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
}

/// A territory compared with its reference (the territory above it at `against`).
#[derive(Debug, Clone, Serialize)]
pub struct Benchmarked {
    pub territory: String,
    pub name: String,
    pub reference: String,
    pub reference_value: f64,
    #[serde(flatten)]
    pub comparison: Comparison,
    pub numerator: f64,
    pub denominator: f64,
}

/// Why territories cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    #[error("no territory level `{0}` (levels: {1})")]
    NoLevel(String, String),
    #[error("`{against}` is not above `{level}` in the hierarchy")]
    NotAbove { level: String, against: String },
    #[error("indicator `{0}` has no denominator: funnel plots need one (compare values instead)")]
    NoDenominator(String),
}

/// Compares the territories of `level` on an indicator, each against the territory containing
/// it at level `against` (default: the level just above): ranks within each reference, the
/// difference from the reference's value, funnel-plot limits at 95% and 99.8% and a flag.
/// Proportions (factor 100) use binomial limits, other rates Poisson limits.
pub fn benchmark(
    ind: &Indicator,
    h: &Hierarchy,
    cells: &[Cell],
    level: &str,
    against: Option<&str>,
) -> Result<Vec<Benchmarked>, CompareError> {
    let lvl = h
        .level_index(level)
        .ok_or_else(|| CompareError::NoLevel(level.into(), h.levels.join(", ")))?;
    let reference_level = match against {
        Some(a) => h
            .level_index(a)
            .ok_or_else(|| CompareError::NoLevel(a.into(), h.levels.join(", ")))?,
        None => lvl.saturating_sub(1),
    };
    if reference_level >= lvl {
        return Err(CompareError::NotAbove {
            level: level.into(),
            against: against.unwrap_or_default().into(),
        });
    }
    if !matches!(
        &ind.definition,
        model::Definition::Ratio {
            denominator: Some(_),
            ..
        }
    ) {
        return Err(CompareError::NoDenominator(ind.id.clone()));
    }
    // Ancestor at the reference level of every territory of `level`.
    let mut ancestor: BTreeMap<&str, &str> = BTreeMap::new();
    for t in h.at(lvl) {
        let mut cur = t;
        while cur.level > reference_level {
            let Some(p) = cur.parent.as_deref().and_then(|p| h.get(cur.level - 1, p)) else {
                break;
            };
            cur = p;
        }
        if cur.level == reference_level {
            ancestor.insert(t.code.as_str(), cur.code.as_str());
        }
    }
    let reference_name = &h.levels[reference_level];
    let refs: BTreeMap<&str, f64> = cells
        .iter()
        .filter(|c| &c.level == reference_name)
        .filter_map(|c| c.value.map(|v| (c.territory.as_str(), v)))
        .collect();
    let mut groups: BTreeMap<&str, Vec<&Cell>> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.level == level) {
        if let Some(a) = ancestor.get(c.territory.as_str()) {
            groups.entry(a).or_default().push(c);
        }
    }
    let basis = if ind.factor == 100.0 {
        Basis::Proportion
    } else {
        Basis::Rate
    };
    let better = match ind.direction {
        Direction::HigherIsBetter => Some(true),
        Direction::LowerIsBetter => Some(false),
        Direction::Neutral => None,
    };
    let mut out = Vec::new();
    for (reference, members) in groups {
        let Some(&rv) = refs.get(reference) else {
            continue;
        };
        let units: Vec<Unit> = members
            .iter()
            .map(|c| Unit {
                territory: c.territory.clone(),
                numerator: c.numerator.unwrap_or(0.0),
                denominator: c.denominator.unwrap_or(0.0),
                value: c.value.unwrap_or(f64::NAN),
            })
            .collect();
        for comparison in compare(&units, rv, ind.factor, basis, better) {
            let Some(u) = units.iter().find(|u| u.territory == comparison.territory) else {
                continue;
            };
            let name = h
                .get(lvl, &u.territory)
                .map_or(u.territory.clone(), |t| t.name.clone());
            out.push(Benchmarked {
                territory: u.territory.clone(),
                name,
                reference: reference.to_string(),
                reference_value: rv,
                numerator: u.numerator,
                denominator: u.denominator,
                comparison,
            });
        }
    }
    Ok(out)
}
