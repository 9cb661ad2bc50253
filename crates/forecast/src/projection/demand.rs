//! Demand from projected people: the share of each zone, sex and age group with a status (living
//! alone, say) observed in the base year, applied to the projected population of the group.
//!
//! This is the headship-rate method of household projections (United Nations, *Manual VII:
//! Methods of Projecting Households and Families*, 1973; the ONS and Istat household projections
//! keep shares by age and sex constant or trend them): shares are held at their base-year level,
//! so the projected demand changes only with the size and age structure of the population. In
//! the base year the projected demand equals the observed count exactly. A zone, sex and group
//! with nobody in the base year takes the city's share (people may arrive there later).

use super::model::Projection;
use super::scenario::DemandSpec;
use super::{ByAge, Sex};

/// Base-year shares of one status by zone, sex and age group.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusShares {
    pub spec: DemandSpec,
    /// `shares[z][sex][group]`.
    pub shares: Vec<[Vec<f64>; 2]>,
    /// `city[sex][group]`.
    pub city: [Vec<f64>; 2],
}

fn group_sum(b: &ByAge, s: Sex, g: (usize, usize)) -> f64 {
    (g.0..=g.1).map(|x| b.get(s, x)).sum()
}

impl StatusShares {
    /// Shares from base-year counts by zone: everyone (`people`) and those with the status.
    pub fn from_counts(spec: &DemandSpec, people: &[ByAge], with_status: &[ByAge]) -> StatusShares {
        let groups = &spec.age_groups;
        let city: [Vec<f64>; 2] = Sex::ALL.map(|s| {
            groups
                .iter()
                .map(|&g| {
                    let n: f64 = people.iter().map(|b| group_sum(b, s, g)).sum();
                    let k: f64 = with_status.iter().map(|b| group_sum(b, s, g)).sum();
                    if n > 0.0 { k / n } else { 0.0 }
                })
                .collect()
        });
        let shares = people
            .iter()
            .zip(with_status)
            .map(|(p, k)| {
                Sex::ALL.map(|s| {
                    groups
                        .iter()
                        .enumerate()
                        .map(|(i, &g)| {
                            let n = group_sum(p, s, g);
                            if n > 0.0 {
                                group_sum(k, s, g) / n
                            } else {
                                city[s.index()][i]
                            }
                        })
                        .collect()
                })
            })
            .collect();
        StatusShares {
            spec: spec.clone(),
            shares,
            city,
        }
    }

    /// Demand in each zone for a population by zone.
    pub fn apply(&self, pop: &[ByAge]) -> Vec<f64> {
        pop.iter()
            .zip(&self.shares)
            .map(|(p, sh)| {
                Sex::ALL
                    .iter()
                    .flat_map(|&s| {
                        self.spec
                            .age_groups
                            .iter()
                            .enumerate()
                            .map(move |(i, &g)| sh[s.index()][i] * group_sum(p, s, g))
                    })
                    .sum()
            })
            .collect()
    }
}

/// A projected demand: people with the status by year and zone.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandProjection {
    pub name: String,
    pub title: String,
    pub zones: Vec<String>,
    pub years: Vec<i32>,
    /// `values[year][zone]`.
    pub values: Vec<Vec<f64>>,
}

/// Applies the shares to every year of a projection.
pub fn project_demand(shares: &StatusShares, projection: &Projection) -> DemandProjection {
    DemandProjection {
        name: shares.spec.name.clone(),
        title: shares.spec.title.clone(),
        zones: projection.zones.clone(),
        years: projection.years().collect(),
        values: projection
            .population
            .iter()
            .map(|p| shares.apply(p))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::OPEN_AGE;

    fn spec() -> DemandSpec {
        DemandSpec {
            name: "d".into(),
            title: "d".into(),
            status: "lives_alone".into(),
            age_groups: vec![(80, 84), (85, OPEN_AGE)],
            line: 0,
        }
    }

    #[test]
    fn shares_by_hand_and_base_year_reproduced() {
        // zone A: women 80-84: 10 people, 4 alone; women 85+: 5 (at 85 and 100+), 3 alone;
        // men 80-84: 8, 2 alone. Zone B: women 80-84: 0 people; men 80-84: 2, 2 alone.
        let mut pa = ByAge::default();
        let mut ka = ByAge::default();
        pa.add(Sex::Female, 82, 10.0);
        ka.add(Sex::Female, 82, 4.0);
        pa.add(Sex::Female, 85, 3.0);
        pa.add(Sex::Female, 100, 2.0);
        ka.add(Sex::Female, 100, 3.0);
        pa.add(Sex::Male, 80, 8.0);
        ka.add(Sex::Male, 80, 2.0);
        let mut pb = ByAge::default();
        let mut kb = ByAge::default();
        pb.add(Sex::Male, 84, 2.0);
        kb.add(Sex::Male, 84, 2.0);
        let s = StatusShares::from_counts(&spec(), &[pa.clone(), pb.clone()], &[ka, kb]);
        assert_eq!(s.shares[0][Sex::Female.index()], vec![0.4, 0.6]);
        assert_eq!(s.shares[0][Sex::Male.index()], vec![0.25, 0.0]);
        // city men 80-84: (2 + 2) / (8 + 2)
        assert_eq!(s.city[Sex::Male.index()][0], 0.4);
        assert_eq!(s.shares[1][Sex::Male.index()][0], 1.0);
        // zone B has no women 80-84: the city's 4/10
        assert_eq!(s.shares[1][Sex::Female.index()][0], 0.4);
        // base year: the observed counts, 4 + 3 + 2 = 9 and 2
        assert_eq!(s.apply(&[pa.clone(), pb.clone()]), vec![9.0, 2.0]);
        // twice the women of 80-84 in B next year: 2·10·0.4 = 8 more
        let mut pb2 = pb;
        pb2.add(Sex::Female, 83, 20.0);
        assert_eq!(s.apply(&[pa, pb2]), vec![9.0, 10.0]);
    }
}
