//! Comparing territories on one indicator: rank, gap to the parent territory, z-score and
//! funnel-plot flags.
//!
//! Each territory (a [`Unit`]) is compared with a reference value, normally its parent
//! territory's value (the city's rate for its districts). Whether a gap is more than chance is
//! judged with funnel-plot control limits (Spiegelhalter 2005, "Funnel plots for comparing
//! institutional performance", Stat Med 24:1185–1202) computed at each unit's own denominator by
//! [`crate::stats::funnel_limits`]: small units get wide limits, large ones narrow limits, so a
//! small district is not flagged for a gap that its size makes likely.
//!
//! Flags say where a value lies, not whether that is good: [`Flag::Above`] is bad for a poverty
//! rate and good for an employment rate. Only the rank uses the indicator's direction.

use serde::{Deserialize, Serialize};

use crate::stats::{self, FunnelKind};

/// One territory's value of the indicator: `value = numerator / denominator · factor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub territory: String,
    /// Events, or persons with the attribute (households at risk of poverty, claimants, …).
    pub numerator: f64,
    /// Persons (proportions) or exposure (rates) the numerator relates to.
    pub denominator: f64,
    /// The indicator's value in its unit (percent, per 1,000, …). It is what is ranked, compared
    /// and flagged; it should equal `numerator / denominator · factor`.
    pub value: f64,
}

/// How a unit's count varies by chance around the reference, i.e. which funnel to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The numerator is a subset of the denominator (persons at risk of poverty among
    /// residents): binomial limits.
    Proportion,
    /// The numerator counts events over an exposure (claims per inhabitant): Poisson limits.
    Rate,
}

/// Where a unit's value lies relative to the funnel around the reference value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Above the 99.8 % upper limit (about 3 standard deviations).
    AboveHigh,
    /// Above the 95 % upper limit (about 2 standard deviations), within the 99.8 % one.
    Above,
    /// Within the 95 % limits, or not comparable (no denominator).
    Within,
    /// Below the 95 % lower limit, within the 99.8 % one.
    Below,
    /// Below the 99.8 % lower limit.
    BelowLow,
}

/// One unit compared with the reference value. Limits are in the indicator's unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub territory: String,
    pub value: f64,
    /// 1 = best; ties share the lower rank ("1224" competition ranking).
    pub rank: usize,
    /// `value − reference_value`, in the indicator's unit.
    pub difference: f64,
    /// `(observed − expected) / sd` on the proportion or rate scale.
    pub z: f64,
    pub lower95: f64,
    pub upper95: f64,
    pub lower998: f64,
    pub upper998: f64,
    pub flag: Flag,
}

/// Compares `units` with `reference_value` (normally the parent territory's value), all in the
/// indicator's unit: `value = numerator / denominator · factor`.
///
/// For each unit, in input order:
///
/// - **Limits**: [`stats::funnel_limits`] at 95 % and 99.8 % around the expected proportion or
///   rate `reference_value / factor`, with the unit's denominator as size (binomial for
///   [`Basis::Proportion`], Poisson for [`Basis::Rate`], exact with Spiegelhalter's
///   interpolation), multiplied back by `factor`.
/// - **Flag**: strictly beyond a limit: `value > upper998` → [`Flag::AboveHigh`],
///   `value > upper95` → [`Flag::Above`], `value < lower998` → [`Flag::BelowLow`],
///   `value < lower95` → [`Flag::Below`], otherwise [`Flag::Within`].
/// - **z**: `(y − θ) / sd` with `y = value / factor`, `θ = reference_value / factor`,
///   `sd = sqrt(θ (1 − θ) / n)` for proportions and `sqrt(θ / E)` for rates (Spiegelhalter 2005,
///   table I). With `sd = 0` (a reference of 0 % or 100 %) z is 0 on target and ±∞ off it.
/// - **Rank**: 1 = best; `higher_is_better = Some(true)` or `None` ranks by value descending,
///   `Some(false)` ascending. Equal values share the lower rank (competition ranking: 1, 2, 2, 4).
///
/// Units that cannot be compared, with a denominator that is zero, negative or not finite, get
/// `NaN` limits and z, flag [`Flag::Within`] ("no evidence of a difference"), and are ranked
/// last, all sharing the rank after the last comparable unit. A unit with a non-finite value is
/// also ranked last (its limits are still computed).
///
/// A reference value outside the basis' domain (a proportion above 100 % of `factor`, a
/// negative rate) gives `NaN` limits and z for every unit.
pub fn compare(
    units: &[Unit],
    reference_value: f64,
    factor: f64,
    basis: Basis,
    higher_is_better: Option<bool>,
) -> Vec<Comparison> {
    let kind = match basis {
        Basis::Proportion => FunnelKind::Proportion,
        Basis::Rate => FunnelKind::Rate,
    };
    let expected = reference_value / factor;
    let ranks = competition_ranks(units, higher_is_better.unwrap_or(true));
    units
        .iter()
        .zip(ranks)
        .map(|(unit, rank)| {
            let (lower95, upper95, lower998, upper998, z) = if has_denominator(unit) {
                let (l95, u95) = stats::funnel_limits(expected, unit.denominator, kind, 0.95);
                let (l998, u998) = stats::funnel_limits(expected, unit.denominator, kind, 0.998);
                let z = z_score(unit.value / factor, expected, unit.denominator, kind);
                (l95 * factor, u95 * factor, l998 * factor, u998 * factor, z)
            } else {
                (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
            };
            let flag = if unit.value > upper998 {
                Flag::AboveHigh
            } else if unit.value > upper95 {
                Flag::Above
            } else if unit.value < lower998 {
                Flag::BelowLow
            } else if unit.value < lower95 {
                Flag::Below
            } else {
                Flag::Within
            };
            Comparison {
                territory: unit.territory.clone(),
                value: unit.value,
                rank,
                difference: unit.value - reference_value,
                z,
                lower95,
                upper95,
                lower998,
                upper998,
                flag,
            }
        })
        .collect()
}

fn has_denominator(unit: &Unit) -> bool {
    unit.denominator.is_finite() && unit.denominator > 0.0
}

/// `(observed − expected) / sd` under the binomial or Poisson model at the given size.
fn z_score(observed: f64, expected: f64, size: f64, kind: FunnelKind) -> f64 {
    let variance = match kind {
        FunnelKind::Proportion if (0.0..=1.0).contains(&expected) => {
            expected * (1.0 - expected) / size
        }
        FunnelKind::Rate if expected >= 0.0 => expected / size,
        _ => return f64::NAN,
    };
    let gap = observed - expected;
    if variance > 0.0 {
        gap / variance.sqrt()
    } else if gap == 0.0 {
        0.0
    } else {
        // Off a target that admits no variation (NaN gaps stay NaN).
        gap.signum() * f64::INFINITY
    }
}

/// Competition ranks ("1224") in input order: comparable units (positive finite denominator,
/// finite value) by value, descending or ascending; the others share the rank after them.
fn competition_ranks(units: &[Unit], descending: bool) -> Vec<usize> {
    let comparable = |unit: &Unit| has_denominator(unit) && unit.value.is_finite();
    let mut order: Vec<usize> = (0..units.len())
        .filter(|&i| comparable(&units[i]))
        .collect();
    order.sort_by(|&a, &b| {
        let ordering = units[a].value.total_cmp(&units[b].value);
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    let last = order.len() + 1;
    let mut ranks = vec![last; units.len()];
    for (position, &i) in order.iter().enumerate() {
        ranks[i] = match position {
            0 => 1,
            _ if units[order[position - 1]].value == units[i].value => ranks[order[position - 1]],
            _ => position + 1,
        };
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(territory: &str, numerator: f64, denominator: f64, factor: f64) -> Unit {
        Unit {
            territory: territory.to_string(),
            numerator,
            denominator,
            value: numerator / denominator * factor,
        }
    }

    #[track_caller]
    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-9 * expected.abs().max(1e-3),
            "got {actual}, expected {expected}"
        );
    }

    /// Districts of a city where 15 % of persons are at risk of poverty, 200 persons each.
    /// Limits around 15 % at n = 200 (scipy, see tests/data/reference_expected.csv,
    /// `funnel_proportion/0.15/200/…`): 95 % [9.9777, 19.8701], 99.8 % [7.5037, 23.0055].
    fn districts() -> Vec<Comparison> {
        let units = [
            unit("A", 50.0, 200.0, 100.0), // 25 %
            unit("B", 42.0, 200.0, 100.0), // 21 %
            unit("C", 30.0, 200.0, 100.0), // 15 %
            unit("D", 18.0, 200.0, 100.0), // 9 %
            unit("E", 12.0, 200.0, 100.0), // 6 %
            unit("F", 0.0, 0.0, 100.0),    // no residents: NaN
        ];
        compare(&units, 15.0, 100.0, Basis::Proportion, Some(false))
    }

    #[test]
    fn proportion_limits_and_flags() {
        let result = districts();
        let flags: Vec<Flag> = result.iter().map(|c| c.flag).collect();
        use Flag::*;
        assert_eq!(flags, [AboveHigh, Above, Within, Below, BelowLow, Within]);
        for c in &result[..5] {
            close(c.lower95, 9.977653888286481);
            close(c.upper95, 19.87006372553741);
            close(c.lower998, 7.50374301817066);
            close(c.upper998, 23.005529650145376);
        }
        close(result[0].difference, 10.0);
        close(result[3].difference, -6.0);
        // z = (0.25 − 0.15) / sqrt(0.15 · 0.85 / 200) = 0.1 / 0.0252488 = 3.96059.
        close(result[0].z, 0.1 / (0.15_f64 * 0.85 / 200.0).sqrt());
        assert_eq!(result[2].z, 0.0);
        let f = &result[5];
        assert!(f.lower95.is_nan() && f.upper998.is_nan() && f.z.is_nan());
    }

    #[test]
    fn rank_follows_direction_and_puts_empty_units_last() {
        // Lower poverty is better: E (6 %) first, A (25 %) fifth, F (no denominator) last.
        let ranks: Vec<usize> = districts().iter().map(|c| c.rank).collect();
        assert_eq!(ranks, [5, 4, 3, 2, 1, 6]);
    }

    #[test]
    fn ties_share_the_lower_rank() {
        let units = [
            unit("a", 10.0, 100.0, 100.0),
            unit("b", 30.0, 100.0, 100.0),
            unit("c", 20.0, 100.0, 100.0),
            unit("d", 20.0, 100.0, 100.0),
            unit("e", 0.0, 0.0, 100.0),
            unit("f", 5.0, 0.0, 100.0),
        ];
        let ranks = |better| -> Vec<usize> {
            compare(&units, 20.0, 100.0, Basis::Proportion, better)
                .iter()
                .map(|c| c.rank)
                .collect()
        };
        // Descending (None = higher is better): 30 → 1, 20, 20 → 2, 2, 10 → 4, empty → 5.
        assert_eq!(ranks(None), [4, 1, 2, 2, 5, 5]);
        assert_eq!(ranks(Some(true)), [4, 1, 2, 2, 5, 5]);
        // Ascending: 10 → 1, 20, 20 → 2, 2, 30 → 4.
        assert_eq!(ranks(Some(false)), [1, 4, 2, 2, 5, 5]);
        assert!(compare(&[], 1.0, 1.0, Basis::Rate, None).is_empty());
    }

    #[test]
    fn rate_limits_in_the_indicator_unit() {
        // 2 claims per 100 inhabitants city-wide; districts of 1,000 inhabitants.
        // Poisson limits for 0.02 per person at exposure 1000 (scipy): 95 % [0.011205, 0.028746],
        // 99.8 % [0.0071692, 0.0347135] per person, i.e. ×100 per 100 inhabitants.
        let units = [
            unit("x", 36.0, 1000.0, 100.0),
            unit("y", 20.0, 1000.0, 100.0),
        ];
        let result = compare(&units, 2.0, 100.0, Basis::Rate, Some(false));
        close(result[0].lower95, 1.1205001038448842);
        close(result[0].upper95, 2.8745768670040268);
        close(result[0].lower998, 0.7169187107770422);
        close(result[0].upper998, 3.471352857379849);
        assert_eq!(result[0].flag, Flag::AboveHigh); // 3.6 > 3.47
        assert_eq!(result[1].flag, Flag::Within);
        // z = (0.036 − 0.02) / sqrt(0.02 / 1000) = 0.016 / 0.0044721 = 3.5777.
        close(result[0].z, 0.016 / (0.02_f64 / 1000.0).sqrt());
        assert_eq!(result.iter().map(|c| c.rank).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn degenerate_reference_has_no_spread() {
        let units = [unit("a", 0.0, 50.0, 100.0), unit("b", 1.0, 50.0, 100.0)];
        let result = compare(&units, 0.0, 100.0, Basis::Proportion, Some(false));
        assert_eq!((result[0].flag, result[0].z), (Flag::Within, 0.0));
        assert_eq!(
            (result[1].flag, result[1].z),
            (Flag::AboveHigh, f64::INFINITY)
        );
        // A reference proportion above 100 % makes no sense: NaN limits, flag Within.
        let result = compare(&units, 120.0, 100.0, Basis::Proportion, None);
        assert!(result[0].upper95.is_nan() && result[0].z.is_nan());
        assert_eq!(result[1].flag, Flag::Within);
    }

    #[test]
    fn serializes_flags_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Flag::AboveHigh).unwrap(),
            r#""above_high""#
        );
        assert_eq!(
            serde_json::to_string(&Flag::BelowLow).unwrap(),
            r#""below_low""#
        );
        assert_eq!(serde_json::to_string(&Basis::Rate).unwrap(), r#""rate""#);
        let json = serde_json::to_value(&districts()[5]).unwrap();
        assert_eq!(json["flag"], "within");
        assert_eq!(json["rank"], 6);
        assert!(json["lower95"].is_null()); // NaN
        let unit = serde_json::to_value(unit("A", 1.0, 4.0, 100.0)).unwrap();
        assert_eq!(unit["value"], 25.0);
    }
}
