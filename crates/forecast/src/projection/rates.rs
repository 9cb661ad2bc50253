//! Rates estimated from the register's observed transitions (pure: counts in, rates out).
//!
//! A transition is one calendar year `t`: the population on 31 December `t − 1` and the events
//! of year `t`, all by zone, sex and cohort age (`t − birth_year`). Years are pooled: every
//! rate is a sum of events over a sum of people at risk. People at risk of an event in year
//! `t` at cohort age `x` (`R`) are those of age `x − 1` on 31 December `t − 1` (the open
//! interval keeps its own), plus the year's births at age 0, plus half the year's immigrants
//! (who arrive, on average, in mid-year). Deaths, emigrations and moves out of the zone are
//! rates on `R`; births are rates on women at risk aged 15–49; immigrants are counts.
//!
//! Smoothing, for zones too small for their own schedules:
//! - each component's age–sex schedule is the city's, pooled over the years; mortality above
//!   [`KANNISTO_FROM`] is replaced by a Kannisto model fitted to ages 80–99 of the city
//!   (see [`smooth::Kannisto`]);
//! - a zone's level is the city schedule times the zone's ratio of observed to expected events
//!   (an SMR, and its analogues for births, emigration and moves), shrunk towards the city's
//!   by [`smooth::poisson_gamma`]: a zone with no exposure gets exactly the city's rates;
//! - immigrants are the mean annual count by zone, sex and age; moves between zones go to
//!   destinations in the proportions observed from the zone of departure (or, for a zone with
//!   no observed move, in the proportions of all moves' arrivals), so city totals do not
//!   depend on internal moves.

use super::smooth::{self, Kannisto, Shrinkage};
use super::{AGES, ByAge, FERTILE_AGES, OPEN_AGE, ProjectionError, Sex};

/// Ages at and above this take their death rates from the Kannisto model (when it can be fitted).
pub const KANNISTO_FROM: usize = 90;
/// The Kannisto model is fitted on these cohort ages.
pub const KANNISTO_FIT: std::ops::RangeInclusive<usize> = 80..=99;
/// Fewest deaths (per sex) over [`KANNISTO_FIT`] for the fit to be used: below this the
/// observed rates are kept (a model fitted on a handful of deaths is no better than them).
pub const KANNISTO_MIN_DEATHS: f64 = 50.0;

/// One observed year: the population on 31 December of the year before and the year's events.
/// Vectors are indexed by zone, in [`Observed::zones`] order.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    /// The year of the events.
    pub year: i32,
    /// Population on 31 December `year − 1`, by the age it had then.
    pub start: Vec<ByAge>,
    /// Births by zone and the newborn's sex.
    pub births: Vec<[f64; 2]>,
    /// Births whose mother was found, by zone and the mother's cohort age (fractions when a
    /// birth is shared among several possible mothers). Their total may be below the births'.
    pub births_by_mother_age: Vec<[f64; AGES]>,
    pub deaths: Vec<ByAge>,
    pub immigrants: Vec<ByAge>,
    pub emigrants: Vec<ByAge>,
    /// Moves out of the zone to another zone of the city.
    pub out_moves: Vec<ByAge>,
    /// Moves between zones, `moves[from][to]` (the diagonal is unused).
    pub moves: Vec<Vec<f64>>,
}

impl Transition {
    /// An empty transition for `zones` zones.
    pub fn empty(year: i32, zones: usize) -> Transition {
        Transition {
            year,
            start: vec![ByAge::default(); zones],
            births: vec![[0.0; 2]; zones],
            births_by_mother_age: vec![[0.0; AGES]; zones],
            deaths: vec![ByAge::default(); zones],
            immigrants: vec![ByAge::default(); zones],
            emigrants: vec![ByAge::default(); zones],
            out_moves: vec![ByAge::default(); zones],
            moves: vec![vec![0.0; zones]; zones],
        }
    }

    /// People at risk of an event in this year, in zone `z` (see the module doc).
    pub fn at_risk(&self, z: usize) -> ByAge {
        at_risk(&self.start[z], self.births[z], &self.immigrants[z])
    }
}

/// People at risk in a year: the start population aged one year, the births at age 0, and half
/// the immigrants.
pub fn at_risk(start: &ByAge, births: [f64; 2], immigrants: &ByAge) -> ByAge {
    let mut r = start.aged();
    for s in Sex::ALL {
        r.add(s, 0, births[s.index()]);
        for x in 0..AGES {
            r.add(s, x, 0.5 * immigrants.get(s, x));
        }
    }
    r
}

/// The register's observations the rates are estimated from.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Zone codes, sorted.
    pub zones: Vec<String>,
    /// Observed years, oldest first.
    pub transitions: Vec<Transition>,
}

/// City-wide schedules, before zones are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct CityRates {
    pub death: ByAge,
    pub emigration: ByAge,
    pub out_move: ByAge,
    /// Births per woman at risk, by cohort age (zero outside [`FERTILE_AGES`]).
    pub fertility: [f64; AGES],
    /// The Kannisto model used for old-age mortality, per sex (none when not fitted).
    pub kannisto: [Option<Kannisto>; 2],
}

/// Rates for the projection, per zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    pub zones: Vec<String>,
    /// The observed years pooled.
    pub years: Vec<i32>,
    /// Deaths per person at risk.
    pub death: Vec<ByAge>,
    /// Emigrations per person at risk.
    pub emigration: Vec<ByAge>,
    /// Moves to another zone per person at risk.
    pub out_move: Vec<ByAge>,
    /// Births per woman at risk, by her cohort age.
    pub fertility: Vec<[f64; AGES]>,
    /// Share of boys among births.
    pub male_share: f64,
    /// Immigrants per year, by zone, sex and age.
    pub immigrants: Vec<ByAge>,
    /// `destination[from][to]`: where a zone's movers go (rows add up to 1; the diagonal is 0).
    pub destination: Vec<Vec<f64>>,
    pub city: CityRates,
    /// The empirical-Bayes shrinkage of each component: `death`, `fertility`, `emigration`,
    /// `out_move`.
    pub shrinkage: Vec<(&'static str, Shrinkage)>,
}

impl Rates {
    /// Total fertility rate of the city: the sum of its age-specific rates.
    pub fn tfr(&self) -> f64 {
        self.city.fertility.iter().sum()
    }
}

/// Spreads `unknown` events over ages and sexes in proportion to `known` (or to `fallback` when
/// `known` has none), adding them to `known`; returns what could not be spread (when both are
/// empty). Used for events of people the register never listed on a 31 December (born and
/// dead, or arrived and gone, within one year), whose age and sex are unknown.
pub fn allocate(known: &mut ByAge, unknown: f64, fallback: &ByAge) -> f64 {
    if unknown == 0.0 {
        return 0.0;
    }
    let basis = if known.total() > 0.0 {
        known.clone()
    } else if fallback.total() > 0.0 {
        fallback.clone()
    } else {
        return unknown;
    };
    let total = basis.total();
    for s in Sex::ALL {
        for x in 0..AGES {
            known.add(s, x, unknown * basis.get(s, x) / total);
        }
    }
    0.0
}

fn sum(items: impl Iterator<Item = ByAge>) -> ByAge {
    let mut out = ByAge::default();
    for b in items {
        for s in 0..2 {
            for x in 0..AGES {
                out.0[s][x] += b.0[s][x];
            }
        }
    }
    out
}

fn ratio(num: &ByAge, den: &ByAge) -> ByAge {
    let mut out = ByAge::default();
    for s in 0..2 {
        for x in 0..AGES {
            if den.0[s][x] > 0.0 {
                out.0[s][x] = num.0[s][x] / den.0[s][x];
            }
        }
    }
    out
}

fn totals(b: &[ByAge]) -> Vec<f64> {
    b.iter().map(ByAge::total).collect()
}

/// Zone schedules: the city schedule times each zone's shrunk ratio of observed to expected.
fn by_zone(observed: &[f64], risk: &[ByAge], city: &ByAge) -> (Vec<ByAge>, Shrinkage) {
    let expected: Vec<f64> = risk
        .iter()
        .map(|r| {
            (0..2)
                .flat_map(|s| (0..AGES).map(move |x| (s, x)))
                .map(|(s, x)| r.0[s][x] * city.0[s][x])
                .sum()
        })
        .collect();
    let shrink = smooth::poisson_gamma(observed, &expected);
    let rates = shrink
        .ratios
        .iter()
        .map(|&k| {
            let mut z = city.clone();
            z.0.iter_mut().flatten().for_each(|v| *v *= k);
            z
        })
        .collect();
    (rates, shrink)
}

/// Estimates the projection's rates from observed transitions (see the module doc).
#[allow(clippy::needless_range_loop)] // zones index several parallel vectors
pub fn estimate(obs: &Observed) -> Result<Rates, ProjectionError> {
    let nz = obs.zones.len();
    if obs.transitions.is_empty() {
        return Err(ProjectionError::Input(
            "no observed year to estimate rates from: the register needs at least two years".into(),
        ));
    }
    if nz == 0 {
        return Err(ProjectionError::Input("the register lists no zone".into()));
    }
    let ts = &obs.transitions;
    let per_zone = |f: &dyn Fn(&Transition, usize) -> ByAge| -> Vec<ByAge> {
        (0..nz).map(|z| sum(ts.iter().map(|t| f(t, z)))).collect()
    };
    let risk = per_zone(&|t, z| t.at_risk(z));
    let deaths = per_zone(&|t, z| t.deaths[z].clone());
    let emigrants = per_zone(&|t, z| t.emigrants[z].clone());
    let out_moves = per_zone(&|t, z| t.out_moves[z].clone());
    let immigrants = per_zone(&|t, z| t.immigrants[z].clone());
    let city_risk = sum(risk.iter().cloned());

    // mortality: the city's pooled rates, closed by Kannisto at old ages
    let mut city_death = ratio(&sum(deaths.iter().cloned()), &city_risk);
    let city_deaths = sum(deaths.iter().cloned());
    let mut kannisto = [None, None];
    for s in Sex::ALL {
        let points: Vec<(f64, f64, f64)> = KANNISTO_FIT
            .map(|x| (x as f64, city_deaths.get(s, x), city_risk.get(s, x)))
            .collect();
        let d: f64 = points.iter().map(|p| p.1).sum();
        if d < KANNISTO_MIN_DEATHS {
            continue;
        }
        if let Some(k) = Kannisto::fit(&points) {
            for x in KANNISTO_FROM..=OPEN_AGE {
                city_death.0[s.index()][x] = k.rate(x as f64);
            }
            kannisto[s.index()] = Some(k);
        }
    }
    let city_emig = ratio(&sum(emigrants.iter().cloned()), &city_risk);
    let city_out = if nz > 1 {
        ratio(&sum(out_moves.iter().cloned()), &city_risk)
    } else {
        ByAge::default()
    };

    // fertility: the age pattern from births whose mother was found, the level from all births
    let mut mothers = [0.0; AGES];
    let mut all_births = vec![0.0; nz];
    let mut boys = 0.0;
    for t in ts {
        for z in 0..nz {
            for x in FERTILE_AGES {
                mothers[x] += t.births_by_mother_age[z][x];
            }
            all_births[z] += t.births[z][0] + t.births[z][1];
            boys += t.births[z][0];
        }
    }
    let total_births: f64 = all_births.iter().sum();
    let matched: f64 = mothers.iter().sum();
    if total_births > 0.0 && matched <= 0.0 {
        return Err(ProjectionError::Input(format!(
            "{total_births} births but no mother aged {}-{} found in the newborns' households",
            FERTILE_AGES.start(),
            FERTILE_AGES.end()
        )));
    }
    let mut city_fert = [0.0; AGES];
    for x in FERTILE_AGES {
        let women = city_risk.get(Sex::Female, x);
        if women > 0.0 {
            city_fert[x] = mothers[x] / women * (total_births / matched);
        }
    }
    let female_risk: Vec<ByAge> = risk
        .iter()
        .map(|r| {
            let mut w = ByAge::default();
            for x in FERTILE_AGES {
                w.add(Sex::Female, x, r.get(Sex::Female, x));
            }
            w
        })
        .collect();
    let mut fert_schedule = ByAge::default();
    fert_schedule.0[Sex::Female.index()] = city_fert;
    let (fert_zone, fert_shrink) = by_zone(&all_births, &female_risk, &fert_schedule);
    let fertility = fert_zone.iter().map(|f| f.0[Sex::Female.index()]).collect();

    let (mut death, death_shrink) = by_zone(&totals(&deaths), &risk, &city_death);
    let (mut emigration, emig_shrink) = by_zone(&totals(&emigrants), &risk, &city_emig);
    let (mut out_move, out_shrink) = by_zone(&totals(&out_moves), &risk, &city_out);
    // exits cannot exceed the people at risk
    for z in 0..nz {
        for s in 0..2 {
            for x in 0..AGES {
                let total = death[z].0[s][x] + emigration[z].0[s][x] + out_move[z].0[s][x];
                if total > 1.0 {
                    death[z].0[s][x] /= total;
                    emigration[z].0[s][x] /= total;
                    out_move[z].0[s][x] /= total;
                }
            }
        }
    }

    let years = ts.iter().map(|t| t.year).collect::<Vec<_>>();
    let n = ts.len() as f64;
    let immigrants = immigrants
        .into_iter()
        .map(|mut b| {
            b.0.iter_mut().flatten().for_each(|v| *v /= n);
            b
        })
        .collect();

    Ok(Rates {
        zones: obs.zones.clone(),
        years,
        death,
        emigration,
        out_move,
        fertility,
        male_share: if total_births > 0.0 {
            boys / total_births
        } else {
            0.5
        },
        immigrants,
        destination: destinations(ts, nz),
        city: CityRates {
            death: city_death,
            emigration: city_emig,
            out_move: city_out,
            fertility: city_fert,
            kannisto,
        },
        shrinkage: vec![
            ("death", death_shrink),
            ("fertility", fert_shrink),
            ("emigration", emig_shrink),
            ("out_move", out_shrink),
        ],
    })
}

/// Where each zone's movers go: the observed proportions from the zone, or the proportions of
/// all arrivals (other than in the zone itself) for a zone with no observed move, or equal
/// shares when the city saw no move at all.
#[allow(clippy::needless_range_loop)] // an origin-destination matrix
fn destinations(ts: &[Transition], nz: usize) -> Vec<Vec<f64>> {
    let mut od = vec![vec![0.0; nz]; nz];
    for t in ts {
        for i in 0..nz {
            for j in 0..nz {
                if i != j {
                    od[i][j] += t.moves[i][j];
                }
            }
        }
    }
    let arrivals: Vec<f64> = (0..nz).map(|j| (0..nz).map(|i| od[i][j]).sum()).collect();
    (0..nz)
        .map(|i| {
            let row_sum: f64 = od[i].iter().sum();
            let others: f64 = (0..nz).filter(|&j| j != i).map(|j| arrivals[j]).sum();
            (0..nz)
                .map(|j| {
                    if j == i {
                        0.0
                    } else if row_sum > 0.0 {
                        od[i][j] / row_sum
                    } else if others > 0.0 {
                        arrivals[j] / others
                    } else {
                        1.0 / (nz - 1) as f64
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
    }

    /// Zones A, B and C (C empty), one year observed twice (pooled): every rate by hand.
    fn observed() -> Observed {
        let mut t = Transition::empty(2023, 3);
        t.start[0].add(Sex::Female, 29, 100.0);
        t.start[0].add(Sex::Male, 59, 50.0);
        t.start[1].add(Sex::Female, 29, 50.0);
        t.start[1].add(Sex::Male, 59, 50.0);
        t.births[0] = [3.0, 2.0];
        t.births[1] = [1.0, 1.0];
        t.births_by_mother_age[0][30] = 4.0; // one of A's five births has no mother found
        t.births_by_mother_age[1][30] = 2.0;
        t.deaths[0].add(Sex::Male, 60, 2.0);
        t.deaths[1].add(Sex::Male, 60, 1.0);
        t.immigrants[0].add(Sex::Female, 30, 10.0);
        t.out_moves[0].add(Sex::Female, 30, 3.0);
        t.moves[0][1] = 3.0;
        let mut u = t.clone();
        u.year = 2024;
        Observed {
            zones: vec!["A".into(), "B".into(), "C".into()],
            transitions: vec![t, u],
        }
    }

    #[test]
    fn people_at_risk_by_hand() {
        let o = observed();
        let r = o.transitions[0].at_risk(0);
        // 100 women aged 29 → 30, plus half of 10 immigrants
        close(r.get(Sex::Female, 30), 105.0);
        close(r.get(Sex::Male, 60), 50.0);
        close(r.get(Sex::Male, 0), 3.0);
        close(r.get(Sex::Female, 0), 2.0);
        close(r.total(), 160.0);
    }

    #[test]
    fn rates_by_hand() {
        let r = estimate(&observed()).expect("rates");
        // deaths at 60: (2 + 1)·2 / (50 + 50)·2; O = 4, 2, E = 3, 3: the zones differ no more
        // than chance (A = 1/9 − 1/3 < 0), so every zone gets the city's rate
        close(r.city.death.get(Sex::Male, 60), 0.03);
        for z in 0..3 {
            close(r.death[z].get(Sex::Male, 60), 0.03);
        }
        assert_eq!(r.shrinkage[0].1.variance, 0.0);
        // fertility at 30: 12 matched births over 310 women, scaled by 14 births / 12 matched
        close(r.city.fertility[30], 14.0 / 310.0);
        close(r.tfr(), 14.0 / 310.0);
        close(r.male_share, 8.0 / 14.0);
        // immigrants: the mean of the two years
        close(r.immigrants[0].get(Sex::Female, 30), 10.0);
        // moves out at 30: 6 / 310 for the city; zones O = 6, 0, 0, E = 126/31, 60/31, 0:
        // s² = 10/21, A = 1/7, α = β = 7; A: 13/(126/31 + 7) = 403/343, B: 7/(60/31 + 7) = 217/277
        let city = 6.0 / 310.0;
        close(r.city.out_move.get(Sex::Female, 30), city);
        close(r.out_move[0].get(Sex::Female, 30), city * 403.0 / 343.0);
        close(r.out_move[1].get(Sex::Female, 30), city * 217.0 / 277.0);
        // C saw nothing: it gets the city's rates
        close(r.out_move[2].get(Sex::Female, 30), city);
        close(r.fertility[2][30], r.city.fertility[30]);
        // destinations: A's movers all went to B; B saw none (arrivals elsewhere: none, so
        // equal shares); C saw none (arrivals: all in B)
        assert_eq!(r.destination[0], vec![0.0, 1.0, 0.0]);
        assert_eq!(r.destination[1], vec![0.5, 0.0, 0.5]);
        assert_eq!(r.destination[2], vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn a_zone_with_no_events_gets_the_city_rates() {
        // B has people but no event of any kind; A has them all, with heterogeneity so that
        // shrinkage is partial; C has nobody: exactly the city's rates
        let mut o = observed();
        for t in &mut o.transitions {
            t.deaths[1] = ByAge::default();
            t.births[1] = [0.0, 0.0];
            t.births_by_mother_age[1] = [0.0; AGES];
        }
        let r = estimate(&o).expect("rates");
        for x in 0..AGES {
            for s in Sex::ALL {
                close(r.death[2].get(s, x), r.city.death.get(s, x));
                close(r.emigration[2].get(s, x), r.city.emigration.get(s, x));
                close(r.out_move[2].get(s, x), r.city.out_move.get(s, x));
            }
            close(r.fertility[2][x], r.city.fertility[x]);
        }
        // B, with exposure and no deaths, is pulled below the city but not to zero
        let b = r.death[1].get(Sex::Male, 60);
        assert!(b > 0.0 && b <= r.city.death.get(Sex::Male, 60), "{b}");
    }

    #[test]
    fn births_without_any_mother_are_an_input_error() {
        let mut o = observed();
        for t in &mut o.transitions {
            t.births_by_mother_age = vec![[0.0; AGES]; 3];
        }
        let e = estimate(&o).expect_err("no mothers");
        assert!(e.to_string().contains("no mother aged 15-49"), "{e}");
    }

    #[test]
    fn kannisto_closes_old_age_mortality() {
        // a city with enough old-age deaths, following a known Kannisto curve exactly
        let k = Kannisto { a: 0.07, b: 0.1 };
        let mut t = Transition::empty(2024, 1);
        for x in 79..=99usize {
            t.start[0].add(Sex::Female, x, 1000.0);
            t.deaths[0].add(Sex::Female, x + 1, 1000.0 * k.rate((x + 1) as f64));
        }
        let r = estimate(&Observed {
            zones: vec!["A".into()],
            transitions: vec![t],
        })
        .expect("rates");
        let fitted = r.city.kannisto[Sex::Female.index()].expect("fitted");
        assert!((fitted.a - 0.07).abs() < 1e-9 && (fitted.b - 0.1).abs() < 1e-9);
        close(r.death[0].get(Sex::Female, 100), k.rate(100.0));
        // men have no deaths: no model, observed (zero) rates kept
        assert!(r.city.kannisto[Sex::Male.index()].is_none());
    }

    #[test]
    fn allocate_spreads_in_proportion() {
        let mut known = ByAge::default();
        known.add(Sex::Male, 0, 3.0);
        known.add(Sex::Female, 0, 1.0);
        assert_eq!(allocate(&mut known, 2.0, &ByAge::default()), 0.0);
        close(known.get(Sex::Male, 0), 4.5);
        close(known.get(Sex::Female, 0), 1.5);
        let mut empty = ByAge::default();
        assert_eq!(allocate(&mut empty, 2.0, &known), 0.0);
        close(empty.get(Sex::Male, 0), 1.5);
        let mut nothing = ByAge::default();
        assert_eq!(allocate(&mut nothing, 2.0, &ByAge::default()), 2.0);
    }
}
