//! The simulation's tables as the disclosure gate sees them, and their protection.
//!
//! Everything printed for use outside the lab comes from here as
//! [`disclosure::release::Protected`] values: winners, losers and unchanged households by
//! decile and by zone (frequency tables), the gains and losses in euro (magnitude tables, so
//! the dominance and p% rules apply), and cost and beneficiaries by zone for each scenario;
//! the whole-city figures are these tables' totals. Poverty rate, poverty line and Gini pass
//! when they rest on at least the policy's minimum sample.

use crate::microsim::MicrosimError;
use crate::microsim::results::{Change, Summary};
use crate::microsim::simulate::{Household, Outcome};
use disclosure::release::Protected;
use disclosure::release::adhoc::{ShownStatistic, ShownTable, protect_statistic, protect_table};
use disclosure::{Dim, Kind, Table};
use project::release::Policy;
use std::collections::BTreeMap;

/// How many of a cell's largest contributions the rules see.
const TOP: usize = 5;

/// Builds a table from contributions: `leaf(h)` gives the leaf code index on each dimension of
/// household `h`'s cell, or `None` to leave it out; `value(h)` its contribution. Every cell
/// (margins included) gets its value, contributor count and largest contributions directly
/// from the households in it.
fn table(
    name: &str,
    kind: Kind,
    dims: Vec<Dim>,
    n: usize,
    leaf: &dyn Fn(usize) -> Option<Vec<usize>>,
    value: &dyn Fn(usize) -> f64,
) -> Table {
    let mut t = Table::new(name, kind, dims);
    let mut contributions: Vec<Vec<f64>> = vec![Vec::new(); t.cells.len()];
    for h in 0..n {
        let Some(codes) = leaf(h) else { continue };
        // every combination of the codes' ancestors (themselves included)
        let chains: Vec<Vec<usize>> = codes
            .iter()
            .zip(&t.dims)
            .map(|(&c, d)| {
                let mut chain = vec![c];
                let mut at = c;
                while let Some(p) = d.parent[at] {
                    chain.push(p);
                    at = p;
                }
                chain
            })
            .collect();
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for chain in &chains {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    chain.iter().map(move |&x| {
                        let mut c = c.clone();
                        c.push(x);
                        c
                    })
                })
                .collect();
        }
        let v = value(h);
        for c in combos {
            contributions[t.index(&c)].push(v);
        }
    }
    for (cell, mut c) in t.cells.iter_mut().zip(contributions) {
        c.sort_by(|a, b| b.total_cmp(a));
        cell.freq = c.len() as u64;
        cell.value = match kind {
            Kind::Frequency => c.len() as f64,
            // + 0.0: an empty sum of floats is -0.0
            Kind::Magnitude => c.iter().sum::<f64>() + 0.0,
        };
        if kind == Kind::Magnitude {
            c.truncate(TOP);
            cell.top = c;
        }
    }
    t
}

/// Everything the simulation shows, protected.
#[derive(Debug, Clone)]
pub struct Gated {
    pub tables: BTreeMap<String, Protected<ShownTable>>,
    pub statistics: BTreeMap<String, Protected<ShownStatistic>>,
}

/// The zone dimension (zones within districts) of these households.
fn zone_dim(households: &[Household]) -> Dim {
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for h in households {
        pairs.entry(h.zone.clone()).or_insert(h.district.clone());
    }
    let districts: std::collections::BTreeSet<&String> = pairs.values().collect();
    let mut nodes: Vec<(String, Option<String>)> =
        districts.iter().map(|d| ((*d).clone(), None)).collect();
    nodes.extend(pairs.iter().map(|(z, d)| (z.clone(), Some(d.clone()))));
    Dim::tree("zone", &nodes)
}

/// Builds the simulation's tables and passes them and the statistics through the gate.
pub fn protect(
    households: &[Household],
    deciles: &[u8],
    baseline: (&[Outcome], &Summary),
    scenario: (&[Outcome], &Summary),
    policy: &Policy,
) -> Result<Gated, MicrosimError> {
    let n = households.len();
    let decile_codes: Vec<String> = (1..=10).map(|d| d.to_string()).collect();
    let refs: Vec<&str> = decile_codes.iter().map(String::as_str).collect();
    let decile = Dim::flat("decile", &refs);
    let outcome = Dim::flat("outcome", &["winners", "losers", "unchanged"]);
    let zone = zone_dim(households);
    let zone_of = |h: usize| zone.position(&households[h].zone).unwrap_or(0);
    let change: Vec<Change> = (0..n)
        .map(|h| Change::of(baseline.0[h].total, scenario.0[h].total))
        .collect();
    let diff = |h: usize| scenario.0[h].total - baseline.0[h].total;
    let out_code = |h: usize| match change[h] {
        Change::Winner => 1,
        Change::Loser => 2,
        Change::Unchanged => 3,
    };
    let mut tables = Vec::new();
    for (by, dim, at) in [
        (
            "decile",
            decile.clone(),
            &(|h: usize| deciles[h] as usize) as &dyn Fn(usize) -> usize,
        ),
        ("zone", zone.clone(), &zone_of as &dyn Fn(usize) -> usize),
    ] {
        tables.push(table(
            &format!("outcome_by_{by}"),
            Kind::Frequency,
            vec![dim.clone(), outcome.clone()],
            n,
            &|h| Some(vec![at(h), out_code(h)]),
            &|_| 1.0,
        ));
        tables.push(table(
            &format!("gains_by_{by}"),
            Kind::Magnitude,
            vec![dim.clone()],
            n,
            &|h| (change[h] == Change::Winner).then(|| vec![at(h)]),
            &diff,
        ));
        tables.push(table(
            &format!("losses_by_{by}"),
            Kind::Magnitude,
            vec![dim.clone()],
            n,
            &|h| (change[h] == Change::Loser).then(|| vec![at(h)]),
            &|h| -diff(h),
        ));
    }
    for (which, outcomes) in [("baseline", baseline.0), ("scenario", scenario.0)] {
        tables.push(table(
            &format!("cost_by_zone_{which}"),
            Kind::Magnitude,
            vec![zone.clone()],
            n,
            &|h| (outcomes[h].total > 0.0).then(|| vec![zone_of(h)]),
            &|h| outcomes[h].total,
        ));
        tables.push(table(
            &format!("beneficiaries_by_zone_{which}"),
            Kind::Frequency,
            vec![zone.clone()],
            n,
            &|h| (outcomes[h].total > 0.0).then(|| vec![zone_of(h)]),
            &|_| 1.0,
        ));
        tables.push(table(
            &format!("beneficiary_persons_by_zone_{which}"),
            Kind::Magnitude,
            vec![zone.clone()],
            n,
            &|h| (outcomes[h].total > 0.0).then(|| vec![zone_of(h)]),
            &|h| households[h].persons,
        ));
    }
    let mut gated = Gated {
        tables: BTreeMap::new(),
        statistics: BTreeMap::new(),
    };
    for t in &tables {
        gated
            .tables
            .insert(t.name.clone(), protect_table(t, &[], policy)?);
    }
    for (which, s) in [("baseline", baseline.1), ("scenario", scenario.1)] {
        let units = s.households as u64;
        for (name, v) in [
            ("poverty_rate", s.poverty_rate),
            ("poverty_line", s.poverty_line),
            ("gini", s.gini),
        ] {
            let key = format!("{name}_{which}");
            gated
                .statistics
                .insert(key.clone(), protect_statistic(&key, v, units, policy));
        }
    }
    Ok(gated)
}
