//! The cohort-component projection: yearly steps from the base year's population, with the
//! accounting identity checked for every zone and the city at every step.

use super::rates::{Rates, at_risk};
use super::{AGES, ByAge, FERTILE_AGES, ProjectionError, Sex};

/// Multipliers a scenario applies to the estimated rates (1 = as observed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// Multiplies every age-specific fertility rate.
    pub fertility: f64,
    /// Multiplies every death rate.
    pub mortality: f64,
    /// Multiplies every emigration rate.
    pub emigration: f64,
    /// Multiplies the annual immigrant counts.
    pub immigration: f64,
    /// Multiplies every rate of moving to another zone.
    pub internal: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            fertility: 1.0,
            mortality: 1.0,
            emigration: 1.0,
            immigration: 1.0,
            internal: 1.0,
        }
    }
}

/// The events of one projected year in one zone, by sex and cohort age.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZoneComponents {
    /// Births by the newborn's sex.
    pub births: [f64; 2],
    pub deaths: ByAge,
    pub immigrants: ByAge,
    pub emigrants: ByAge,
    /// Arrivals from other zones of the city.
    pub in_moves: ByAge,
    /// Departures to other zones of the city.
    pub out_moves: ByAge,
}

impl ZoneComponents {
    /// Births − deaths + immigrants − emigrants + in-moves − out-moves.
    pub fn net(&self) -> f64 {
        self.births[0] + self.births[1] - self.deaths.total() + self.immigrants.total()
            - self.emigrants.total()
            + self.in_moves.total()
            - self.out_moves.total()
    }
}

/// A projection: population on 31 December of each year and the events of each year.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub zones: Vec<String>,
    pub base_year: i32,
    /// `population[k][z]`: zone `z` on 31 December of `base_year + k` (`k = 0` is the base).
    pub population: Vec<Vec<ByAge>>,
    /// `components[k][z]`: the events of year `base_year + k + 1` in zone `z`.
    pub components: Vec<Vec<ZoneComponents>>,
}

impl Projection {
    /// The projected years, base year first.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        (0..self.population.len()).map(|k| self.base_year + k as i32)
    }
}

/// Relative tolerance of the balance check (sums of floating-point parts).
const BALANCE_TOL: f64 = 1e-9;

/// `P(t+1) − P(t) − (births − deaths + immigrants − emigrants + in − out)` for one zone: zero
/// when the components account for the change.
pub fn residual(before: &ByAge, after: &ByAge, c: &ZoneComponents) -> f64 {
    after.total() - before.total() - c.net()
}

/// One year of the projection from the population `pop` (31 December `t`, by zone).
#[allow(clippy::needless_range_loop)] // zones index several parallel vectors
pub fn step(pop: &[ByAge], rates: &Rates, a: &Assumptions) -> (Vec<ByAge>, Vec<ZoneComponents>) {
    let nz = pop.len();
    let mut comps: Vec<ZoneComponents> = Vec::with_capacity(nz);
    let mut aged: Vec<ByAge> = Vec::with_capacity(nz);
    for z in 0..nz {
        let start = pop[z].aged();
        let mut imm = rates.immigrants[z].clone();
        imm.0.iter_mut().flatten().for_each(|v| *v *= a.immigration);
        // births: women at risk (aged, plus half the female immigrants) times the rates
        let births: f64 = FERTILE_AGES
            .map(|x| {
                let women = start.get(Sex::Female, x) + 0.5 * imm.get(Sex::Female, x);
                rates.fertility[z][x] * a.fertility * women
            })
            .sum();
        let births = [births * rates.male_share, births * (1.0 - rates.male_share)];
        let risk = at_risk(&pop[z], births, &imm);
        let mut c = ZoneComponents {
            births,
            immigrants: imm,
            ..ZoneComponents::default()
        };
        for s in 0..2 {
            for x in 0..AGES {
                let mut d = rates.death[z].0[s][x] * a.mortality;
                let mut e = rates.emigration[z].0[s][x] * a.emigration;
                let mut o = rates.out_move[z].0[s][x] * a.internal;
                let exits = d + e + o;
                if exits > 1.0 {
                    d /= exits;
                    e /= exits;
                    o /= exits;
                }
                let r = risk.0[s][x];
                c.deaths.0[s][x] = d * r;
                c.emigrants.0[s][x] = e * r;
                c.out_moves.0[s][x] = o * r;
            }
        }
        comps.push(c);
        aged.push(start);
    }
    // moves: each zone's departures spread over destinations
    for from in 0..nz {
        for to in 0..nz {
            let share = rates.destination[from][to];
            if share == 0.0 {
                continue;
            }
            let out = comps[from].out_moves.clone();
            for s in 0..2 {
                for x in 0..AGES {
                    comps[to].in_moves.0[s][x] += share * out.0[s][x];
                }
            }
        }
    }
    let next = (0..nz)
        .map(|z| {
            let c = &comps[z];
            let mut p = aged[z].clone();
            for s in 0..2 {
                p.0[s][0] += c.births[s];
                for x in 0..AGES {
                    p.0[s][x] += c.immigrants.0[s][x] - c.deaths.0[s][x] - c.emigrants.0[s][x]
                        + c.in_moves.0[s][x]
                        - c.out_moves.0[s][x];
                }
            }
            p
        })
        .collect();
    (next, comps)
}

/// Checks the accounting identity of one step, for every zone and for the city (where moves
/// between zones cancel out).
pub fn check_balance(
    year: i32,
    zones: &[String],
    before: &[ByAge],
    after: &[ByAge],
    comps: &[ZoneComponents],
) -> Result<(), ProjectionError> {
    let tol = |scale: f64| BALANCE_TOL * scale.max(1.0);
    for z in 0..zones.len() {
        let r = residual(&before[z], &after[z], &comps[z]);
        if r.abs() > tol(after[z].total()) {
            return Err(ProjectionError::Unbalanced {
                year,
                zone: zones[z].clone(),
                residual: r,
            });
        }
    }
    let moves_in: f64 = comps.iter().map(|c| c.in_moves.total()).sum();
    let moves_out: f64 = comps.iter().map(|c| c.out_moves.total()).sum();
    let city_after: f64 = after.iter().map(ByAge::total).sum();
    let city_before: f64 = before.iter().map(ByAge::total).sum();
    let city_net: f64 = comps
        .iter()
        .map(|c| c.net() - c.in_moves.total() + c.out_moves.total())
        .sum();
    let r = (moves_in - moves_out).abs() + (city_after - city_before - city_net).abs();
    if r > tol(city_after) {
        return Err(ProjectionError::Unbalanced {
            year,
            zone: "city".into(),
            residual: r,
        });
    }
    Ok(())
}

/// Projects `base` (31 December `base_year`, by zone in `rates.zones` order) to 31 December
/// `to`, calling `on_year` after each projected year.
pub fn project(
    base: Vec<ByAge>,
    base_year: i32,
    to: i32,
    rates: &Rates,
    assumptions: &Assumptions,
    on_year: &mut dyn FnMut(i32),
) -> Result<Projection, ProjectionError> {
    if to <= base_year {
        return Err(ProjectionError::Input(format!(
            "the horizon {to} must come after the base year {base_year}"
        )));
    }
    if base.len() != rates.zones.len() {
        return Err(ProjectionError::Input(format!(
            "the base population has {} zones, the rates {}",
            base.len(),
            rates.zones.len()
        )));
    }
    let mut population = vec![base];
    let mut components = Vec::new();
    for year in base_year + 1..=to {
        let before = population.last().expect("the base is there");
        let (after, comps) = step(before, rates, assumptions);
        check_balance(year, &rates.zones, before, &after, &comps)?;
        population.push(after);
        components.push(comps);
        on_year(year);
    }
    Ok(Projection {
        zones: rates.zones.clone(),
        base_year,
        population,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::rates::CityRates;
    use crate::projection::{OPEN_AGE, Sex::*};

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
    }

    fn zero_rates(nz: usize) -> Rates {
        Rates {
            zones: (0..nz).map(|z| format!("Z{z}")).collect(),
            years: vec![2024],
            death: vec![ByAge::default(); nz],
            emigration: vec![ByAge::default(); nz],
            out_move: vec![ByAge::default(); nz],
            fertility: vec![[0.0; AGES]; nz],
            male_share: 0.5,
            immigrants: vec![ByAge::default(); nz],
            destination: (0..nz)
                .map(|i| {
                    (0..nz)
                        .map(|j| if i == j { 0.0 } else { 1.0 / (nz - 1) as f64 })
                        .collect()
                })
                .collect(),
            city: CityRates {
                death: ByAge::default(),
                emigration: ByAge::default(),
                out_move: ByAge::default(),
                fertility: [0.0; AGES],
                kannisto: [None, None],
            },
            shrinkage: Vec::new(),
        }
    }

    /// Zone A: 100 women aged 29 and 10 boys aged 0; zone B: 10 women aged 99 and 4 men of
    /// 100+. Every component by hand.
    fn tiny() -> (Vec<ByAge>, Rates) {
        let mut a = ByAge::default();
        a.add(Female, 29, 100.0);
        a.add(Male, 0, 10.0);
        let mut b = ByAge::default();
        b.add(Female, 99, 10.0);
        b.add(Male, OPEN_AGE, 4.0);
        let mut r = zero_rates(2);
        r.fertility[0][30] = 0.1;
        r.immigrants[0].add(Female, 30, 20.0);
        r.death[0].add(Male, 1, 0.1);
        r.death[1].add(Female, OPEN_AGE, 0.5);
        r.death[1].add(Male, OPEN_AGE, 0.5);
        r.emigration[0].add(Female, 30, 0.05);
        r.out_move[0].add(Female, 30, 0.1);
        (vec![a, b], r)
    }

    #[test]
    fn two_zones_by_hand() {
        let (base, rates) = tiny();
        let p = project(
            base,
            2024,
            2025,
            &rates,
            &Assumptions::default(),
            &mut |_| {},
        )
        .expect("projects");
        let (a, b) = (&p.population[1][0], &p.population[1][1]);
        let (ca, cb) = (&p.components[0][0], &p.components[0][1]);
        // A: women at risk at 30 = 100 + 20/2 = 110; births 0.1·110 = 11, half boys
        assert_eq!(ca.births, [5.5, 5.5]);
        // deaths of boys now 1: 0.1·10; emigrants 0.05·110; out-moves 0.1·110, all to B
        close(ca.deaths.get(Male, 1), 1.0);
        close(ca.emigrants.get(Female, 30), 5.5);
        close(ca.out_moves.get(Female, 30), 11.0);
        close(cb.in_moves.get(Female, 30), 11.0);
        // A: women 30 = 100 + 20 − 5.5 − 11 = 103.5; boys 1 = 10 − 1; newborns 5.5 + 5.5
        close(a.get(Female, 30), 103.5);
        close(a.get(Male, 1), 9.0);
        close(a.get(Male, 0), 5.5);
        close(a.get(Female, 0), 5.5);
        close(a.total(), 123.5);
        // B: the 99-year-olds join the open interval; half of each die: 10 → 5, 4 → 2; 11 arrive
        close(cb.deaths.get(Female, OPEN_AGE), 5.0);
        close(b.get(Female, OPEN_AGE), 5.0);
        close(b.get(Male, OPEN_AGE), 2.0);
        close(b.get(Female, 30), 11.0);
        close(b.total(), 18.0);
        // components: A 110 → 123.5 = +11 − 1 + 20 − 5.5 + 0 − 11; B 14 → 18 = −7 + 11
        close(ca.net(), 13.5);
        close(cb.net(), 4.0);
    }

    #[test]
    fn scenario_multipliers_by_hand() {
        let (base, rates) = tiny();
        let a = Assumptions {
            fertility: 2.0,
            mortality: 0.5,
            emigration: 0.0,
            immigration: 0.5,
            internal: 0.0,
        };
        let p = project(base, 2024, 2025, &rates, &a, &mut |_| {}).expect("projects");
        let c = &p.components[0][0];
        // women at risk 100 + 10/2 = 105; births 0.2·105 = 21
        close(c.births[0] + c.births[1], 21.0);
        close(c.immigrants.total(), 10.0);
        close(c.deaths.get(Male, 1), 0.5);
        close(c.emigrants.total() + c.out_moves.total(), 0.0);
        close(p.population[1][1].get(Female, OPEN_AGE), 7.5);
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn components_balance_every_year_and_zone() {
        // a richer case: every rate non-zero, three zones, twenty years
        let mut r = zero_rates(3);
        let mut base = vec![ByAge::default(); 3];
        for z in 0..3 {
            for x in 0..AGES {
                for s in Sex::ALL {
                    base[z].add(s, x, (10 + (x * 7 + z * 13) % 50) as f64);
                    r.death[z].add(
                        s,
                        x,
                        0.001 * (1.0 + x as f64 / 10.0).powi(2) / (1 + z) as f64,
                    );
                    r.emigration[z].add(s, x, 0.01);
                    r.out_move[z].add(s, x, 0.02 * (z + 1) as f64);
                    r.immigrants[z].add(s, x, 0.5);
                }
            }
            for x in crate::projection::FERTILE_AGES {
                r.fertility[z][x] = 0.04;
            }
            r.destination[z] = (0..3)
                .map(|j| {
                    if j == z {
                        0.0
                    } else if j < z {
                        0.3
                    } else {
                        0.7
                    }
                })
                .collect();
            let row: f64 = r.destination[z].iter().sum();
            r.destination[z].iter_mut().for_each(|v| *v /= row);
        }
        let mut years = Vec::new();
        let p = project(base, 2024, 2044, &r, &Assumptions::default(), &mut |y| {
            years.push(y)
        })
        .expect("balanced");
        assert_eq!(years, (2025..=2044).collect::<Vec<_>>());
        for k in 0..p.components.len() {
            let ins: f64 = p.components[k].iter().map(|c| c.in_moves.total()).sum();
            let outs: f64 = p.components[k].iter().map(|c| c.out_moves.total()).sum();
            assert!((ins - outs).abs() < 1e-9 * outs);
            for z in 0..3 {
                let res = residual(
                    &p.population[k][z],
                    &p.population[k + 1][z],
                    &p.components[k][z],
                );
                assert!(res.abs() < 1e-9 * p.population[k + 1][z].total(), "{res}");
                // and by age: nobody negative
                assert!(p.population[k + 1][z].0.iter().flatten().all(|v| *v >= 0.0));
            }
        }
    }

    #[test]
    fn an_imbalance_is_caught() {
        let (base, rates) = tiny();
        let (mut after, comps) = step(&base, &rates, &Assumptions::default());
        check_balance(2025, &rates.zones, &base, &after, &comps).expect("balanced");
        after[1].add(Female, 50, 1.0);
        let e = check_balance(2025, &rates.zones, &base, &after, &comps).expect_err("caught");
        assert!(e.to_string().contains("zone Z1"), "{e}");
        assert!(!e.is_input());
    }

    #[test]
    fn exits_never_exceed_people_at_risk() {
        let (base, mut rates) = tiny();
        rates.death[0].add(Female, 30, 0.9);
        rates.emigration[0].add(Female, 30, 0.5);
        let p = project(
            base,
            2024,
            2026,
            &rates,
            &Assumptions {
                mortality: 3.0,
                ..Default::default()
            },
            &mut |_| {},
        )
        .expect("projects");
        for pop in &p.population {
            assert!(
                pop.iter()
                    .flat_map(|b| b.0.iter().flatten())
                    .all(|v| *v >= 0.0)
            );
        }
    }

    #[test]
    fn horizon_must_follow_the_base_year() {
        let (base, rates) = tiny();
        assert!(
            project(
                base,
                2024,
                2024,
                &rates,
                &Assumptions::default(),
                &mut |_| {}
            )
            .is_err()
        );
    }
}
