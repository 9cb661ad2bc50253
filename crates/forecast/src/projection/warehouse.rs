//! Reading the projection's inputs from the lab's warehouse, through `engine` (DataFusion SQL
//! over the current snapshots): the `residents` model (the register's 31 December snapshots)
//! and the `demographic_events` model (births, deaths, immigration, emigration, moves between
//! zones). Only counts leave the queries; no pseudonym reaches the projection.
//!
//! Ages and sexes of events come from the people's register records (`residents`: sex and
//! birth year); an event of someone never listed on a 31 December (born and dead, or arrived
//! and gone, within one year) has none, and is spread over ages and sexes in proportion to the
//! known events of its zone, year and kind ([`super::rates::allocate`]).
//!
//! The register has no link from a newborn to the mother. A birth is given to the women aged
//! 15–49 in the newborn's register household at the end of the birth year: the head, spouse or
//! partner when the child is a son or daughter of the head (`FIGLIO/A`), a daughter of the head
//! when it is a grandchild (`NIPOTE`), any of them otherwise; shared equally when several
//! qualify. Births with no such woman are left out of the age pattern but kept in the level.

use super::demand::StatusShares;
use super::rates::{Observed, Transition, allocate};
use super::scenario::DemandSpec;
use super::{ByAge, FERTILE_AGES, OPEN_AGE, ProjectionError, Sex};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use engine::{Engine, RecordBatch};
use std::collections::{BTreeMap, BTreeSet};

/// A birth with its possible mothers: year, zone, the child's relation to the head, and the
/// women aged 15-49 of the household (relation, cohort age).
type Birth = (i32, String, String, Vec<(String, usize)>);

/// What the projection reads from the warehouse.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The observed years before and including the base year, for the rates.
    pub observed: Observed,
    pub base_year: i32,
    /// The register on 31 December of the base year, by zone (ages 100+ in the open interval).
    pub base: Vec<ByAge>,
    /// Years the register has a snapshot for.
    pub register_years: Vec<i32>,
    /// Events whose person's age and sex were unknown, spread over the known ones.
    pub spread_events: f64,
    /// Of those, events that could not be spread (nothing known to spread them over).
    pub unspread_events: f64,
}

async fn query(
    engine: &Engine,
    what: &str,
    sql: &str,
) -> Result<Vec<RecordBatch>, ProjectionError> {
    engine.sql(sql).await.map_err(|e| ProjectionError::Query {
        what: what.into(),
        message: e.to_string(),
    })
}

/// A column as text (null as `None`).
fn texts(b: &RecordBatch, i: usize) -> Result<Vec<Option<String>>, ProjectionError> {
    let a = arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(internal)?;
    let a = a.as_string::<i32>();
    Ok((0..a.len())
        .map(|k| (!a.is_null(k)).then(|| a.value(k).to_string()))
        .collect())
}

/// A column as integers (null as `None`).
fn ints(b: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>, ProjectionError> {
    let a = arrow::compute::cast(b.column(i), &DataType::Int64).map_err(internal)?;
    let a = a.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|k| (!a.is_null(k)).then(|| a.value(k)))
        .collect())
}

fn internal(e: arrow::error::ArrowError) -> ProjectionError {
    ProjectionError::Query {
        what: "a result column".into(),
        message: e.to_string(),
    }
}

fn age_index(age: i64) -> Option<usize> {
    (age >= 0).then(|| (age as usize).min(OPEN_AGE))
}

/// Reads the base population and the observed transitions. `base_year` defaults to the
/// register's last year; the rates pool the last `estimation_years` years up to it.
pub async fn read(
    engine: &Engine,
    base_year: Option<i32>,
    estimation_years: usize,
) -> Result<Inputs, ProjectionError> {
    for t in ["residents", "demographic_events"] {
        if !engine.tables().iter().any(|n| n == t) {
            return Err(ProjectionError::Input(format!(
                "the warehouse has no `{t}` model: the projection reads `residents` and `demographic_events` (see models/ of the synthetic city)"
            )));
        }
    }
    // population by year, zone, sex and age
    let mut pop: BTreeMap<(i32, String), ByAge> = BTreeMap::new();
    let mut zones = BTreeSet::new();
    for b in query(
        engine,
        "the register population",
        "SELECT CAST(year AS BIGINT), CAST(zone AS VARCHAR), CAST(sex AS VARCHAR), \
         CAST(age AS BIGINT), CAST(count(*) AS BIGINT) FROM residents GROUP BY 1, 2, 3, 4",
    )
    .await?
    {
        let (y, z, s, a, n) = (
            ints(&b, 0)?,
            texts(&b, 1)?,
            texts(&b, 2)?,
            ints(&b, 3)?,
            ints(&b, 4)?,
        );
        for k in 0..b.num_rows() {
            let (Some(y), Some(z), Some(n)) = (y[k], z[k].clone(), n[k]) else {
                return Err(ProjectionError::Input(
                    "`residents` has a row with no year or zone".into(),
                ));
            };
            let sex = s[k].as_deref().and_then(Sex::from_code);
            let age = a[k].and_then(age_index);
            let (Some(sex), Some(age)) = (sex, age) else {
                return Err(ProjectionError::Input(format!(
                    "`residents` has {n} people in {y}, zone {z}, with sex {:?} and age {:?}: the projection needs M or F and an age of 0 or more",
                    s[k], a[k]
                )));
            };
            zones.insert(z.clone());
            pop.entry((y as i32, z))
                .or_default()
                .add(sex, age, n as f64);
        }
    }
    let register_years: Vec<i32> = pop
        .keys()
        .map(|k| k.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let Some(&last) = register_years.last() else {
        return Err(ProjectionError::Input("`residents` is empty".into()));
    };
    let base_year = base_year.unwrap_or(last);
    if !register_years.contains(&base_year) {
        return Err(ProjectionError::Input(format!(
            "the register has no snapshot for the base year {base_year} (it has {})",
            register_years
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut years: Vec<i32> = register_years
        .iter()
        .copied()
        .filter(|&y| y <= base_year && register_years.contains(&(y - 1)))
        .collect();
    if years.is_empty() {
        return Err(ProjectionError::Input(format!(
            "no two consecutive register years up to {base_year}: rates need the population of the year before"
        )));
    }
    if years.len() > estimation_years {
        years.drain(..years.len() - estimation_years);
    }

    // events by year, zone, kind, sex and cohort age (unknown sex or age: None)
    type Key = (i32, String, String);
    let mut known: BTreeMap<Key, ByAge> = BTreeMap::new();
    let mut unknown: BTreeMap<Key, f64> = BTreeMap::new();
    for b in query(
        engine,
        "the demographic events",
        "WITH p AS (SELECT person, max(sex) AS sex, max(birth_year) AS birth_year FROM residents GROUP BY person) \
         SELECT CAST(e.year AS BIGINT), CAST(e.zone AS VARCHAR), CAST(e.event AS VARCHAR), CAST(p.sex AS VARCHAR), \
         CAST(e.year - p.birth_year AS BIGINT), CAST(count(*) AS BIGINT) \
         FROM demographic_events e LEFT JOIN p ON p.person = e.person \
         WHERE e.event IN ('nascita', 'decesso', 'immigrazione', 'emigrazione', 'trasferimento in uscita') \
         GROUP BY 1, 2, 3, 4, 5",
    )
    .await?
    {
        let (y, z, e, s, a, n) = (ints(&b, 0)?, texts(&b, 1)?, texts(&b, 2)?, texts(&b, 3)?, ints(&b, 4)?, ints(&b, 5)?);
        for k in 0..b.num_rows() {
            let (Some(y), Some(z), Some(e), Some(n)) = (y[k], z[k].clone(), e[k].clone(), n[k]) else {
                continue;
            };
            let y = y as i32;
            if !years.contains(&y) {
                continue;
            }
            zones.insert(z.clone());
            let sex = s[k].as_deref().and_then(Sex::from_code);
            let age = a[k].and_then(age_index);
            match (sex, age) {
                (Some(sex), Some(age)) => known.entry((y, z, e)).or_default().add(sex, age, n as f64),
                _ => *unknown.entry((y, z, e)).or_default() += n as f64,
            }
        }
    }
    let zones: Vec<String> = zones.into_iter().collect();
    let zi = |z: &str| zones.binary_search_by(|c| c.as_str().cmp(z)).ok();
    let nz = zones.len();
    let mut transitions: Vec<Transition> =
        years.iter().map(|&y| Transition::empty(y, nz)).collect();
    let ti = |y: i32| years.iter().position(|&v| v == y);
    for (t, &y) in transitions.iter_mut().zip(&years) {
        for (z, zone) in zones.iter().enumerate() {
            if let Some(p) = pop.get(&(y - 1, zone.clone())) {
                t.start[z] = p.clone();
            }
        }
    }
    // spread the unknown over the known of the same zone, year and kind (or of the city)
    let mut spread = 0.0;
    let mut unspread = 0.0;
    for ((y, z, e), n) in &unknown {
        let mut city = ByAge::default();
        for zone in &zones {
            if let Some(b) = known.get(&(*y, zone.clone(), e.clone())) {
                for s in Sex::ALL {
                    for x in 0..=OPEN_AGE {
                        city.add(s, x, b.get(s, x));
                    }
                }
            }
        }
        let entry = known.entry((*y, z.clone(), e.clone())).or_default();
        let left = allocate(entry, *n, &city);
        spread += n - left;
        unspread += left;
    }
    for ((y, z, e), b) in known {
        let (Some(t), Some(z)) = (ti(y), zi(&z)) else {
            continue;
        };
        let t = &mut transitions[t];
        match e.as_str() {
            "nascita" => {
                t.births[z] = [b.total_of(Sex::Male), b.total_of(Sex::Female)];
            }
            "decesso" => t.deaths[z] = b,
            "immigrazione" => t.immigrants[z] = b,
            "emigrazione" => t.emigrants[z] = b,
            _ => t.out_moves[z] = b,
        }
    }

    // moves between zones: origin and destination of each move
    for b in query(
        engine,
        "the moves between zones",
        "SELECT CAST(a.year AS BIGINT), CAST(o.zone AS VARCHAR), CAST(a.zone AS VARCHAR), CAST(count(*) AS BIGINT) \
         FROM demographic_events a JOIN demographic_events o ON o.event_id = a.event_id \
         WHERE a.event = 'trasferimento in entrata' AND o.event = 'trasferimento in uscita' \
         GROUP BY 1, 2, 3",
    )
    .await?
    {
        let (y, from, to, n) = (ints(&b, 0)?, texts(&b, 1)?, texts(&b, 2)?, ints(&b, 3)?);
        for k in 0..b.num_rows() {
            let (Some(y), Some(f), Some(to), Some(n)) = (y[k], &from[k], &to[k], n[k]) else {
                continue;
            };
            if let (Some(t), Some(f), Some(to)) = (ti(y as i32), zi(f), zi(to)) {
                transitions[t].moves[f][to] += n as f64;
            }
        }
    }

    // mothers: women 15-49 of the newborn's household at the end of the birth year
    let mut candidates: BTreeMap<String, Birth> = BTreeMap::new();
    for b in query(
        engine,
        "the newborns' mothers",
        &format!(
            "WITH b AS (SELECT e.year, e.event_id, e.zone, r.household, r.relation FROM demographic_events e \
             JOIN residents r ON r.person = e.person AND r.year = e.year WHERE e.event = 'nascita') \
             SELECT CAST(b.event_id AS VARCHAR), CAST(b.year AS BIGINT), CAST(b.zone AS VARCHAR), \
             CAST(b.relation AS VARCHAR), CAST(m.relation AS VARCHAR), CAST(m.age AS BIGINT) \
             FROM b JOIN residents m ON m.year = b.year AND m.household = b.household \
             WHERE m.sex = 'F' AND m.age BETWEEN {} AND {}",
            FERTILE_AGES.start(),
            FERTILE_AGES.end()
        ),
    )
    .await?
    {
        let (id, y, z, child, mrel, mage) =
            (texts(&b, 0)?, ints(&b, 1)?, texts(&b, 2)?, texts(&b, 3)?, texts(&b, 4)?, ints(&b, 5)?);
        for k in 0..b.num_rows() {
            let (Some(id), Some(y), Some(z), Some(age)) = (id[k].clone(), y[k], z[k].clone(), mage[k]) else {
                continue;
            };
            let entry = candidates
                .entry(id)
                .or_insert_with(|| (y as i32, z, child[k].clone().unwrap_or_default(), Vec::new()));
            entry.3.push((mrel[k].clone().unwrap_or_default(), age as usize));
        }
    }
    for (y, z, child, cands) in candidates.into_values() {
        let (Some(t), Some(z)) = (ti(y), zi(&z)) else {
            continue;
        };
        for (age, w) in mothers(&child, &cands) {
            transitions[t].births_by_mother_age[z][age] += w;
        }
    }

    let base = zones
        .iter()
        .map(|z| {
            pop.get(&(base_year, z.clone()))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    Ok(Inputs {
        observed: Observed { zones, transitions },
        base_year,
        base,
        register_years,
        spread_events: spread,
        unspread_events: unspread,
    })
}

/// The newborn's likely mothers among the women of the household (relation, age), with their
/// weights (see the module doc).
pub fn mothers(child_relation: &str, candidates: &[(String, usize)]) -> Vec<(usize, f64)> {
    let preferred: &[&str] = match child_relation {
        "FIGLIO/A" => &["INTESTATARIO", "CONIUGE", "CONVIVENTE"],
        "NIPOTE" => &["FIGLIO/A"],
        _ => &[],
    };
    let chosen: Vec<usize> = {
        let p: Vec<usize> = candidates
            .iter()
            .filter(|(r, _)| preferred.contains(&r.as_str()))
            .map(|c| c.1)
            .collect();
        if p.is_empty() {
            candidates.iter().map(|c| c.1).collect()
        } else {
            p
        }
    };
    let w = 1.0 / chosen.len().max(1) as f64;
    chosen.into_iter().map(|a| (a, w)).collect()
}

/// Counts in the base year by zone (in `zones` order): everyone, and those for whom the
/// demand's status holds.
pub async fn read_status(
    engine: &Engine,
    base_year: i32,
    zones: &[String],
    spec: &DemandSpec,
) -> Result<StatusShares, ProjectionError> {
    let what = match spec.line {
        0 => format!("the status of demand `{}`", spec.name),
        line => format!("the status of demand `{}` (line {line})", spec.name),
    };
    let sql = format!(
        "SELECT CAST(zone AS VARCHAR), CAST(sex AS VARCHAR), CAST(age AS BIGINT), CAST(count(*) AS BIGINT), \
         CAST(sum(CASE WHEN ({}) THEN 1 ELSE 0 END) AS BIGINT) FROM residents WHERE year = {base_year} GROUP BY 1, 2, 3",
        spec.status
    );
    let mut people = vec![ByAge::default(); zones.len()];
    let mut with = vec![ByAge::default(); zones.len()];
    for b in query(engine, &what, &sql).await? {
        let (z, s, a, n, k) = (
            texts(&b, 0)?,
            texts(&b, 1)?,
            ints(&b, 2)?,
            ints(&b, 3)?,
            ints(&b, 4)?,
        );
        for i in 0..b.num_rows() {
            let zone = z[i]
                .as_deref()
                .and_then(|z| zones.iter().position(|c| c == z));
            let sex = s[i].as_deref().and_then(Sex::from_code);
            let age = a[i].and_then(age_index);
            if let (Some(zone), Some(sex), Some(age)) = (zone, sex, age) {
                people[zone].add(sex, age, n[i].unwrap_or(0) as f64);
                with[zone].add(sex, age, k[i].unwrap_or(0) as f64);
            }
        }
    }
    Ok(StatusShares::from_counts(spec, &people, &with))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(rel: &str, age: usize) -> (String, usize) {
        (rel.into(), age)
    }

    #[test]
    fn mother_of_a_child_of_the_head() {
        let cands = [c("INTESTATARIO", 34), c("FIGLIO/A", 17)];
        assert_eq!(mothers("FIGLIO/A", &cands), vec![(34, 1.0)]);
    }

    #[test]
    fn mother_of_a_grandchild_is_a_daughter() {
        let cands = [c("CONIUGE", 47), c("FIGLIO/A", 22)];
        assert_eq!(mothers("NIPOTE", &cands), vec![(22, 1.0)]);
    }

    #[test]
    fn several_possible_mothers_share_the_birth() {
        let cands = [c("ALTRO", 30), c("ALTRO", 40)];
        assert_eq!(mothers("ALTRO", &cands), vec![(30, 0.5), (40, 0.5)]);
        // no preferred relation present: every woman shares it
        assert_eq!(mothers("FIGLIO/A", &cands), vec![(30, 0.5), (40, 0.5)]);
    }
}
