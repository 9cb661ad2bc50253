//! Forecasts of the cube's series, coherent across the territory hierarchy.
//!
//! The methods live in a crate above this one (`forecast`); the binary plugs them in as a
//! [`Forecaster`]. What is decided here is what to forecast and how the territories' forecasts
//! fit together:
//!
//! - a series whose observations add up across the tree (every parent's numerator, and
//!   denominator if any, equals the sum of its children's in every period) is forecast through
//!   its additive parts: the numerators (and denominators) of every territory are forecast, made
//!   to add up by the chosen reconciliation (WLS, MinT, bottom-up), and the value is
//!   numerator / denominator × factor (or numerator × factor), so zones add up to districts and
//!   to the city;
//! - any other series (medians, distinct counts, survey estimates, codes that count only at a
//!   coarser level, cells missing in some period) is forecast territory by territory.
//!
//! A reconciled forecast keeps the width of its territory's own prediction interval, moved with
//! the point forecast (the interval of the value series' own model, or of the numerator's for a
//! count). Series that never go below zero get no negative bounds or forecasts: a reconciled
//! count that would be negative at a finest territory is set to zero and the territories above
//! are summed again, so the forecasts still add up.

use model::{ForecastMethod, Hierarchy, IndicatorPeriod, Reconcile};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// The forecasting methods, plugged in by the binary.
pub trait Forecaster: Send + Sync {
    /// The methods' name and version: part of the cube's fingerprint, so that new methods
    /// recompute the forecasts.
    fn version(&self) -> String;

    /// Forecasts `values` (oldest first, `per_year` observations a year) `horizon` periods
    /// ahead with an interval at `level` percent.
    fn forecast(
        &self,
        values: &[f64],
        per_year: usize,
        horizon: usize,
        level: f64,
        method: ForecastMethod,
    ) -> Result<SeriesForecast, String>;

    /// Reconciles base forecasts `base[node][h]` over the tree given by each node's parent;
    /// `residuals[node]` are the base models' in-sample one-step errors (for MinT).
    fn reconcile(
        &self,
        parents: &[Option<usize>],
        base: &[Vec<f64>],
        residuals: &[Vec<f64>],
        how: Reconcile,
    ) -> Result<Vec<Vec<f64>>, String>;
}

/// One series' forecasts.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesForecast {
    pub mean: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The fitted model, e.g. `ETS(A,Ad,N)`.
    pub model: String,
    /// In-sample one-step errors.
    pub residuals: Vec<f64>,
}

/// What to forecast and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub horizon: usize,
    pub method: ForecastMethod,
    pub level: f64,
    pub reconcile: Reconcile,
}

/// One territory's observed series, one entry per period of its group, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSeries {
    /// Index of the parent territory among the group's nodes.
    pub parent: Option<usize>,
    pub numerator: Vec<Option<f64>>,
    /// `None` when the series has no denominator (a count).
    pub denominator: Option<Vec<Option<f64>>>,
    pub value: Vec<Option<f64>>,
}

/// One territory's forecasts for horizons 1..=h.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeForecast {
    /// `None` where the forecast denominator is not positive.
    pub value: Vec<Option<f64>>,
    pub lower: Vec<Option<f64>>,
    pub upper: Vec<Option<f64>>,
    /// Reconciled numerators and denominators (`None` when forecast territory by territory).
    pub numerator: Vec<Option<f64>>,
    pub denominator: Vec<Option<f64>>,
    pub model: String,
    /// Whether the forecast was reconciled across the tree.
    pub reconciled: bool,
}

/// One observed cell of a group: a territory's value in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed<'a> {
    /// Index of the territory's level in the hierarchy.
    pub level: usize,
    pub territory: &'a str,
    pub period: &'a str,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
}

/// What a group of series is: its periods, its factor and whether it is a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group {
    pub period: IndicatorPeriod,
    /// value = numerator / denominator × factor (or numerator × factor).
    pub factor: f64,
    /// Whether the series has a denominator.
    pub ratio: bool,
}

/// One territory's forecasts with their periods.
#[derive(Debug, Clone, PartialEq)]
pub struct TerritoryForecast {
    pub level: usize,
    pub territory: String,
    /// The periods after the group's last observed one.
    pub periods: Vec<String>,
    pub forecast: NodeForecast,
}

/// Forecasts one series (an indicator's total, or one breakdown) at every territory where it is
/// observed: the periods run from the group's first to its last observed one (a territory with
/// a missing period gets no forecast), and a territory's parent is its nearest ancestor in the
/// group (an indicator computed at zones and the city only has zones under the city).
pub fn forecast_group(
    f: &dyn Forecaster,
    s: &Settings,
    group: &Group,
    h: &Hierarchy,
    observed: &[Observed],
) -> Result<Vec<TerritoryForecast>, String> {
    let kind = group.period;
    // territory (level, code) → period index → cell.
    let mut cells: BTreeMap<(usize, &str), BTreeMap<i64, &Observed>> = BTreeMap::new();
    for o in observed {
        let t = kind
            .index(o.period)
            .ok_or_else(|| format!("period `{}` is not a {} period", o.period, kind.name()))?;
        cells
            .entry((o.level, o.territory))
            .or_default()
            .insert(t, o);
    }
    let indices = || cells.values().flat_map(|p| p.keys().copied());
    let (Some(first), Some(last)) = (indices().min(), indices().max()) else {
        return Ok(Vec::new());
    };
    let last_label = cells
        .values()
        .find_map(|p| p.get(&last))
        .map(|o| o.period)
        .unwrap_or_default();
    let periods = kind
        .after(last_label, s.horizon)
        .ok_or_else(|| format!("period `{last_label}` is not a {} period", kind.name()))?;
    let parent_of: HashMap<(usize, &str), &str> = h
        .nodes
        .iter()
        .filter_map(|t| Some(((t.level, t.code.as_str()), t.parent.as_deref()?)))
        .collect();
    let keys: Vec<(usize, &str)> = cells.keys().copied().collect();
    let index: HashMap<(usize, &str), usize> =
        keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let parent = |(mut level, mut code): (usize, &str)| -> Option<usize> {
        while level > 0 {
            code = parent_of.get(&(level, code))?;
            level -= 1;
            if let Some(i) = index.get(&(level, code)) {
                return Some(*i);
            }
        }
        None
    };
    let nodes: Vec<NodeSeries> = keys
        .iter()
        .map(|k| {
            let series = &cells[k];
            let at = |get: fn(&Observed) -> Option<f64>| -> Vec<Option<f64>> {
                (first..=last)
                    .map(|t| series.get(&t).and_then(|o| get(o)))
                    .collect()
            };
            NodeSeries {
                parent: parent(*k),
                numerator: at(|o| o.numerator),
                denominator: group.ratio.then(|| at(|o| o.denominator)),
                value: at(|o| o.value),
            }
        })
        .collect();
    let forecasts = forecast_tree(f, s, kind.per_year(), group.factor, &nodes);
    Ok(keys
        .into_iter()
        .zip(forecasts)
        .filter_map(|((level, territory), fc)| {
            Some(TerritoryForecast {
                level,
                territory: territory.to_string(),
                periods: periods.clone(),
                forecast: fc?,
            })
        })
        .collect())
}

/// Forecasts every territory of a group (one indicator series and breakdown); `None` for a
/// territory whose series cannot be forecast (a missing value, too short).
pub fn forecast_tree(
    f: &dyn Forecaster,
    s: &Settings,
    per_year: usize,
    factor: f64,
    nodes: &[NodeSeries],
) -> Vec<Option<NodeForecast>> {
    if s.reconcile != Reconcile::None
        && additive(nodes)
        && let Some(out) = reconciled(f, s, per_year, factor, nodes)
    {
        return out.into_iter().map(Some).collect();
    }
    nodes
        .par_iter()
        .map(|n| {
            let values = complete(&n.value)?;
            let b = f
                .forecast(&values, per_year, s.horizon, s.level, s.method)
                .ok()?;
            let floor = floor_of(&values);
            Some(NodeForecast {
                value: b.mean.iter().map(|v| Some(floor(*v))).collect(),
                lower: b.lower.iter().map(|v| Some(floor(*v))).collect(),
                upper: b.upper.iter().map(|v| Some(floor(*v))).collect(),
                numerator: vec![None; s.horizon],
                denominator: vec![None; s.horizon],
                model: b.model,
                reconciled: false,
            })
        })
        .collect()
}

/// Every value present, or `None`.
fn complete(v: &[Option<f64>]) -> Option<Vec<f64>> {
    v.iter().copied().collect()
}

/// Clips at zero when the observations never went below it.
fn floor_of(observed: &[f64]) -> impl Fn(f64) -> f64 + use<> {
    let non_negative = observed.iter().all(|v| *v >= 0.0);
    move |v| if non_negative { v.max(0.0) } else { v }
}

/// Whether numerators (and denominators) are complete and every parent equals the sum of its
/// children in every period.
fn additive(nodes: &[NodeSeries]) -> bool {
    let parts = |n: &NodeSeries| -> Option<(Vec<f64>, Option<Vec<f64>>)> {
        let num = complete(&n.numerator)?;
        let den = match &n.denominator {
            None => None,
            Some(d) => Some(complete(d)?),
        };
        Some((num, den))
    };
    let Some(all): Option<Vec<_>> = nodes.iter().map(parts).collect() else {
        return false;
    };
    if all.iter().any(|(_, d)| d.is_some()) && all.iter().any(|(_, d)| d.is_none()) {
        return false;
    }
    let periods = all.first().map_or(0, |(n, _)| n.len());
    if all.iter().any(|(n, _)| n.len() != periods) {
        return false;
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    for (p, _) in nodes.iter().enumerate() {
        let children: Vec<usize> = (0..nodes.len())
            .filter(|c| nodes[*c].parent == Some(p))
            .collect();
        if children.is_empty() {
            continue;
        }
        for t in 0..periods {
            if !close(all[p].0[t], children.iter().map(|c| all[*c].0[t]).sum()) {
                return false;
            }
            if let Some(d) = &all[p].1
                && !close(
                    d[t],
                    children
                        .iter()
                        .map(|c| all[*c].1.as_ref().map_or(0.0, |d| d[t]))
                        .sum(),
                )
            {
                return false;
            }
        }
    }
    true
}

/// Base forecasts of one additive part at every node: the asked method, else the naive one (a
/// node's part may be too short or constant for the method); `None` if a node has neither.
fn base_forecasts(
    f: &dyn Forecaster,
    s: &Settings,
    per_year: usize,
    parts: &[Vec<f64>],
) -> Option<Vec<SeriesForecast>> {
    parts
        .par_iter()
        .map(|v| {
            f.forecast(v, per_year, s.horizon, s.level, s.method)
                .or_else(|_| f.forecast(v, per_year, s.horizon, s.level, ForecastMethod::Naive))
                .ok()
        })
        .collect()
}

/// Coherent forecasts of a part that was never negative, kept so: the finest territories'
/// negative forecasts are set to zero and every territory is again the sum of the finest ones
/// under it (coherent forecasts are already such sums, so nothing else changes).
fn non_negative(
    parents: &[Option<usize>],
    mut coherent: Vec<Vec<f64>>,
    observed: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let negative = coherent.iter().flatten().any(|v| *v < 0.0);
    if !negative || observed.iter().flatten().any(|v| *v < 0.0) {
        return coherent;
    }
    let n = parents.len();
    let horizon = coherent.first().map_or(0, Vec::len);
    let mut has_child = vec![false; n];
    for p in parents.iter().flatten() {
        has_child[*p] = true;
    }
    let mut sums = vec![vec![0.0; horizon]; n];
    for leaf in (0..n).filter(|i| !has_child[*i]) {
        let values: Vec<f64> = coherent[leaf].iter().map(|v| v.max(0.0)).collect();
        let mut at = Some(leaf);
        while let Some(i) = at {
            for (s, v) in sums[i].iter_mut().zip(&values) {
                *s += v;
            }
            at = parents[i];
        }
    }
    coherent.clone_from(&sums);
    coherent
}

fn reconciled(
    f: &dyn Forecaster,
    s: &Settings,
    per_year: usize,
    factor: f64,
    nodes: &[NodeSeries],
) -> Option<Vec<NodeForecast>> {
    let parents: Vec<Option<usize>> = nodes.iter().map(|n| n.parent).collect();
    let nums: Vec<Vec<f64>> = nodes
        .iter()
        .map(|n| complete(&n.numerator))
        .collect::<Option<_>>()?;
    let num_base = base_forecasts(f, s, per_year, &nums)?;
    let reconcile = |base: &[SeriesForecast]| -> Option<Vec<Vec<f64>>> {
        let means: Vec<Vec<f64>> = base.iter().map(|b| b.mean.clone()).collect();
        let residuals: Vec<Vec<f64>> = base.iter().map(|b| b.residuals.clone()).collect();
        f.reconcile(&parents, &means, &residuals, s.reconcile).ok()
    };
    let num_rec = non_negative(&parents, reconcile(&num_base)?, &nums);
    let with_den = nodes.iter().all(|n| n.denominator.is_some());
    let (den_base, den_rec) = if with_den {
        let dens: Vec<Vec<f64>> = nodes
            .iter()
            .map(|n| n.denominator.as_deref().and_then(complete))
            .collect::<Option<_>>()?;
        let base = base_forecasts(f, s, per_year, &dens)?;
        let rec = non_negative(&parents, reconcile(&base)?, &dens);
        (Some(base), Some(rec))
    } else {
        (None, None)
    };
    let out = nodes.par_iter().enumerate().map(|(i, node)| {
        let numerator: Vec<f64> = num_rec[i].clone();
        let denominator: Option<Vec<f64>> = den_rec.as_ref().map(|d| d[i].clone());
        let value: Vec<Option<f64>> = (0..s.horizon)
            .map(|h| match &denominator {
                None => Some(numerator[h] * factor),
                Some(d) if d[h] > 0.0 => Some(numerator[h] / d[h] * factor),
                Some(_) => None,
            })
            .collect();
        // The interval: the value series' own model (a rate), or the numerator's (a count),
        // moved with the point forecast.
        let observed = complete(&node.value);
        let (band, model) = match &den_base {
            None => (
                Some((
                    num_base[i]
                        .mean
                        .iter()
                        .map(|m| m * factor)
                        .collect::<Vec<_>>(),
                    num_base[i]
                        .lower
                        .iter()
                        .map(|m| m * factor)
                        .collect::<Vec<_>>(),
                    num_base[i]
                        .upper
                        .iter()
                        .map(|m| m * factor)
                        .collect::<Vec<_>>(),
                )),
                format!("{} · {}", num_base[i].model, s.reconcile.name()),
            ),
            Some(den) => (
                observed
                    .as_ref()
                    .and_then(|v| f.forecast(v, per_year, s.horizon, s.level, s.method).ok())
                    .map(|b| (b.mean, b.lower, b.upper)),
                format!(
                    "{} / {} · {}",
                    num_base[i].model,
                    den[i].model,
                    s.reconcile.name()
                ),
            ),
        };
        let floor = floor_of(observed.as_deref().unwrap_or(&[]));
        let shifted = |bound: &Vec<f64>, mean: &Vec<f64>| -> Vec<Option<f64>> {
            (0..s.horizon)
                .map(|h| value[h].map(|v| floor(bound[h] + v - mean[h])))
                .collect()
        };
        let (lower, upper) = match &band {
            Some((mean, lo, up)) => (shifted(lo, mean), shifted(up, mean)),
            None => (vec![None; s.horizon], vec![None; s.horizon]),
        };
        NodeForecast {
            value,
            lower,
            upper,
            numerator: numerator.into_iter().map(Some).collect(),
            denominator: match denominator {
                Some(d) => d.into_iter().map(Some).collect(),
                None => vec![None; s.horizon],
            },
            model,
            reconciled: true,
        }
    });
    Some(out.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A forecaster computed by hand: the mean of the series, an interval ± the series' range,
    /// and bottom-up reconciliation (leaves summed up the tree).
    struct Mean;

    impl Forecaster for Mean {
        fn version(&self) -> String {
            "mean".into()
        }
        fn forecast(
            &self,
            values: &[f64],
            _per_year: usize,
            horizon: usize,
            _level: f64,
            method: ForecastMethod,
        ) -> Result<SeriesForecast, String> {
            if values.len() < 2 && method != ForecastMethod::Naive {
                return Err("too short".into());
            }
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let (lo, hi) = values
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
            let r = hi - lo;
            Ok(SeriesForecast {
                mean: vec![m; horizon],
                lower: vec![m - r; horizon],
                upper: vec![m + r; horizon],
                model: method.name().to_string(),
                residuals: values.iter().map(|v| v - m).collect(),
            })
        }
        fn reconcile(
            &self,
            parents: &[Option<usize>],
            base: &[Vec<f64>],
            _residuals: &[Vec<f64>],
            how: Reconcile,
        ) -> Result<Vec<Vec<f64>>, String> {
            assert_eq!(how, Reconcile::BottomUp);
            let n = parents.len();
            let mut out: Vec<Vec<f64>> = vec![vec![0.0; base[0].len()]; n];
            let leaf = |i: usize| !parents.contains(&Some(i));
            for i in (0..n).filter(|i| leaf(*i)) {
                let mut at = Some(i);
                while let Some(a) = at {
                    for (o, b) in out[a].iter_mut().zip(&base[i]) {
                        *o += b;
                    }
                    at = parents[a];
                }
            }
            Ok(out)
        }
    }

    fn settings(reconcile: Reconcile) -> Settings {
        Settings {
            horizon: 2,
            method: ForecastMethod::Auto,
            level: 95.0,
            reconcile,
        }
    }

    fn node(parent: Option<usize>, num: &[f64], den: Option<&[f64]>, factor: f64) -> NodeSeries {
        NodeSeries {
            parent,
            numerator: num.iter().map(|v| Some(*v)).collect(),
            denominator: den.map(|d| d.iter().map(|v| Some(*v)).collect()),
            value: num
                .iter()
                .enumerate()
                .map(|(t, n)| match den {
                    None => Some(n * factor),
                    Some(d) => (d[t] != 0.0).then(|| n / d[t] * factor),
                })
                .collect(),
        }
    }

    /// A city (0) of two zones (1, 2) with a rate per 100.
    fn city() -> Vec<NodeSeries> {
        vec![
            node(None, &[30.0, 34.0], Some(&[300.0, 400.0]), 100.0),
            node(Some(0), &[10.0, 14.0], Some(&[100.0, 200.0]), 100.0),
            node(Some(0), &[20.0, 20.0], Some(&[200.0, 200.0]), 100.0),
        ]
    }

    #[test]
    fn additive_rates_are_forecast_through_their_parts() {
        let out = forecast_tree(&Mean, &settings(Reconcile::BottomUp), 1, 100.0, &city());
        let z1 = out[1].as_ref().unwrap();
        let z2 = out[2].as_ref().unwrap();
        let c = out[0].as_ref().unwrap();
        // Zone 1: numerator mean 12, denominator mean 150: 8 per 100 (the mean of its own
        // rates 10 and 7 would be 8.5).
        assert_eq!(z1.numerator, [Some(12.0), Some(12.0)]);
        assert_eq!(z1.denominator, [Some(150.0), Some(150.0)]);
        assert_eq!(z1.value, [Some(8.0), Some(8.0)]);
        // The city is the sum of the zones' parts: (12 + 20) / (150 + 200), not the mean of
        // its own rates (10 and 8.5).
        assert_eq!(c.numerator, [Some(32.0), Some(32.0)]);
        assert_eq!(c.denominator, [Some(350.0), Some(350.0)]);
        assert!((c.value[0].unwrap() - 3200.0 / 350.0).abs() < 1e-12);
        assert_eq!(z2.value, [Some(10.0), Some(10.0)]);
        assert!(c.reconciled && z1.reconciled);
        assert_eq!(z1.model, "auto / auto · bottom-up");
        // Zone 1's rates 10, 7: its own interval 8.5 ± 3, moved to the reconciled 8.
        assert_eq!(z1.lower, [Some(5.0), Some(5.0)]);
        assert_eq!(z1.upper, [Some(11.0), Some(11.0)]);
        // Zone 2's rate is constant: a zero-width interval at 10.
        assert_eq!(z2.lower, [Some(10.0), Some(10.0)]);
    }

    #[test]
    fn counts_take_the_numerators_interval() {
        let nodes = vec![
            node(None, &[5.0, 9.0], None, 1.0),
            node(Some(0), &[1.0, 5.0], None, 1.0),
            node(Some(0), &[4.0, 4.0], None, 1.0),
        ];
        let out = forecast_tree(&Mean, &settings(Reconcile::BottomUp), 1, 1.0, &nodes);
        let c = out[0].as_ref().unwrap();
        // Bottom-up: 3 + 4 = 7 (the city's own mean would be 7 too; its interval ± 4).
        assert_eq!(c.value, [Some(7.0), Some(7.0)]);
        assert_eq!(c.lower, [Some(3.0), Some(3.0)]);
        let z1 = out[1].as_ref().unwrap();
        // 3 ± 4, never below zero.
        assert_eq!(z1.lower, [Some(0.0), Some(0.0)]);
        assert_eq!(z1.upper, [Some(7.0), Some(7.0)]);
        assert_eq!(z1.model, "auto · bottom-up");
    }

    #[test]
    fn series_that_do_not_add_up_are_forecast_one_by_one() {
        let mut nodes = city();
        // The city counts a row coded at its own level: 31 is not 10 + 20.
        nodes[0] = node(None, &[31.0, 34.0], Some(&[300.0, 400.0]), 100.0);
        let out = forecast_tree(&Mean, &settings(Reconcile::BottomUp), 1, 100.0, &nodes);
        let c = out[0].as_ref().unwrap();
        assert!(!c.reconciled);
        assert_eq!(c.numerator, [None, None]);
        // The mean of its own rates: (10.333 + 8.5) / 2.
        assert!((c.value[0].unwrap() - (31.0 / 3.0 + 8.5) / 2.0).abs() < 1e-12);
        // `none` never reconciles, even when the series add up.
        let out = forecast_tree(&Mean, &settings(Reconcile::None), 1, 100.0, &city());
        assert!(out.iter().all(|o| !o.as_ref().unwrap().reconciled));
    }

    #[test]
    fn a_gap_leaves_that_territory_without_forecasts() {
        let mut nodes = city();
        nodes[2].numerator[0] = None;
        nodes[2].value[0] = None;
        let out = forecast_tree(&Mean, &settings(Reconcile::BottomUp), 1, 100.0, &nodes);
        assert!(out[2].is_none());
        assert!(out[1].is_some() && !out[1].as_ref().unwrap().reconciled);
    }

    #[test]
    fn a_short_part_falls_back_to_naive() {
        let nodes = vec![
            node(None, &[5.0], None, 1.0),
            node(Some(0), &[2.0], None, 1.0),
            node(Some(0), &[3.0], None, 1.0),
        ];
        let out = forecast_tree(&Mean, &settings(Reconcile::BottomUp), 1, 1.0, &nodes);
        assert_eq!(out[0].as_ref().unwrap().model, "naive · bottom-up");
        assert_eq!(out[0].as_ref().unwrap().value, [Some(5.0), Some(5.0)]);
    }

    /// A city (C) with one district (D) of two zones (Z1, Z2).
    fn hierarchy() -> Hierarchy {
        let t = |code: &str, level, parent: Option<&str>| model::Territory {
            code: code.into(),
            name: code.into(),
            level,
            parent: parent.map(str::to_string),
        };
        Hierarchy {
            levels: vec!["municipality".into(), "district".into(), "zone".into()],
            nodes: vec![
                t("C", 0, None),
                t("D", 1, Some("C")),
                t("Z1", 2, Some("D")),
                t("Z2", 2, Some("D")),
            ],
            history: Vec::new(),
        }
    }

    #[test]
    fn a_group_skips_levels_it_is_not_computed_at() {
        // Counts at the city and its zones only (no district level): the zones' parent is
        // the city, and 5 + 7 = 12 in both years, so the forecasts add up.
        let cell = |level, territory, period, n: f64| Observed {
            level,
            territory,
            period,
            numerator: Some(n),
            denominator: None,
            value: Some(n),
        };
        let observed = [
            cell(0, "C", "2023", 12.0),
            cell(0, "C", "2024", 12.0),
            cell(2, "Z1", "2023", 4.0),
            cell(2, "Z1", "2024", 6.0),
            cell(2, "Z2", "2023", 8.0),
            cell(2, "Z2", "2024", 6.0),
        ];
        let group = Group {
            period: IndicatorPeriod::Year,
            factor: 1.0,
            ratio: false,
        };
        let out = forecast_group(
            &Mean,
            &settings(Reconcile::BottomUp),
            &group,
            &hierarchy(),
            &observed,
        )
        .unwrap();
        let names: Vec<&str> = out.iter().map(|t| t.territory.as_str()).collect();
        assert_eq!(names, ["C", "Z1", "Z2"]);
        assert_eq!(out[0].periods, ["2025", "2026"]);
        assert!(out.iter().all(|t| t.forecast.reconciled));
        assert_eq!(out[0].forecast.value, [Some(12.0), Some(12.0)]);
        assert_eq!(out[1].forecast.value, [Some(5.0), Some(5.0)]);
        // A period that is not a year is refused with its label.
        let bad = [cell(0, "C", "2024-Q1", 1.0)];
        let e = forecast_group(&Mean, &settings(Reconcile::Wls), &group, &hierarchy(), &bad);
        assert!(e.unwrap_err().contains("`2024-Q1`"));
        // A zone missing the first year: no forecast for it, and no reconciliation.
        let out = forecast_group(
            &Mean,
            &settings(Reconcile::BottomUp),
            &group,
            &hierarchy(),
            &observed[1..],
        )
        .unwrap();
        let names: Vec<&str> = out.iter().map(|t| t.territory.as_str()).collect();
        assert_eq!(names, ["Z1", "Z2"]);
        assert!(out.iter().all(|t| !t.forecast.reconciled));
    }

    #[test]
    fn negative_finest_forecasts_are_zeroed_and_summed_again() {
        // A city (0) of two zones; reconciliation gave zone 2 a negative count.
        let parents = [None, Some(0), Some(0)];
        let coherent = vec![vec![3.0, 1.0], vec![4.0, 2.0], vec![-1.0, -1.0]];
        let counts = vec![vec![3.0], vec![2.0], vec![1.0]];
        let out = non_negative(&parents, coherent.clone(), &counts);
        assert_eq!(out, [vec![4.0, 2.0], vec![4.0, 2.0], vec![0.0, 0.0]]);
        // Data that go below zero (a balance) keep their negative forecasts.
        let balance = vec![vec![3.0], vec![-2.0], vec![5.0]];
        assert_eq!(non_negative(&parents, coherent.clone(), &balance), coherent);
    }
}
