//! The status of outcome-based contract terms, computed from the indicator's values.
//!
//! A term pays when its indicator reaches the target by the deadline. On a given day (`as_of`)
//! its status is decided from the values measured up to that day and not after the deadline
//! (a value sits on the last day of its period):
//!
//! 1. no such value: [`OutcomeStatus::NoData`];
//! 2. the latest value reaches the target: [`OutcomeStatus::Met`];
//! 3. the deadline has passed (`as_of` is after its last day): [`OutcomeStatus::NotMet`];
//! 4. otherwise the trend is projected linearly to the deadline, through the baseline (when
//!    its period is known and earlier than the latest value) or else the earliest value, and
//!    the latest value; the projection reaches the target: [`OutcomeStatus::OnTrack`], falls
//!    short: [`OutcomeStatus::AtRisk`]. With a single point and no dated baseline there is no
//!    trend: the projection is the latest value itself, which falls short, so the term is at
//!    risk.
//!
//! "Reaches" means at least the target for a higher-is-better indicator, at most for a
//! lower-is-better one, with a tolerance of one billionth of the target (at least 1e-9) so that
//! a projection landing exactly on the target by arithmetic is not lost to rounding.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::ProgrammeError;
use super::model::{Direction, Indicator, IndicatorValue, OutcomeTerm, Period};
use super::store::{list_indicator_values, list_indicators, list_outcome_terms};
use super::tables::{Cell, Table};

/// Where an outcome term stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The latest value reaches the target (before or at the deadline).
    Met,
    /// The deadline has passed and the last value before it falls short.
    NotMet,
    /// Not reached yet, but the projected trend reaches the target by the deadline.
    OnTrack,
    /// Not reached yet, and the projected trend falls short at the deadline.
    AtRisk,
    /// No value measured up to the day of the assessment and the deadline.
    NoData,
}

impl OutcomeStatus {
    /// The code used in tables and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Met => "met",
            OutcomeStatus::NotMet => "not_met",
            OutcomeStatus::OnTrack => "on_track",
            OutcomeStatus::AtRisk => "at_risk",
            OutcomeStatus::NoData => "no_data",
        }
    }
}

/// A term, the evidence used and the status that follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeAssessment {
    pub term_id: String,
    pub indicator_id: String,
    pub direction: Direction,
    pub target: f64,
    pub deadline: Period,
    pub payment_eur: f64,
    /// The latest value used, with its period.
    pub latest: Option<(Period, f64)>,
    /// The value projected at the deadline, when a projection was needed.
    pub projected: Option<f64>,
    pub status: OutcomeStatus,
}

fn reaches(value: f64, target: f64, direction: Direction) -> bool {
    let tolerance = 1e-9 * target.abs().max(1.0);
    match direction {
        Direction::HigherIsBetter => value >= target - tolerance,
        Direction::LowerIsBetter => value <= target + tolerance,
    }
}

fn day_number(date: NaiveDate) -> f64 {
    f64::from(chrono::Datelike::num_days_from_ce(&date))
}

/// Assesses one term on the day `as_of` from its indicator and the indicator's values (in any
/// order; values of other indicators are ignored). The rules are in the module documentation.
pub fn assess(
    term: &OutcomeTerm,
    indicator: &Indicator,
    values: &[IndicatorValue],
    as_of: NaiveDate,
) -> OutcomeAssessment {
    let deadline = term.deadline.last_day();
    let horizon = as_of.min(deadline);
    let mut seen: Vec<&IndicatorValue> = values
        .iter()
        .filter(|v| v.indicator_id == term.indicator_id && v.period.last_day() <= horizon)
        .collect();
    seen.sort_by_key(|v| (v.period.last_day(), v.period.first_day()));
    let mut assessment = OutcomeAssessment {
        term_id: term.id.clone(),
        indicator_id: term.indicator_id.clone(),
        direction: indicator.direction,
        target: term.target,
        deadline: term.deadline.clone(),
        payment_eur: term.payment_eur,
        latest: None,
        projected: None,
        status: OutcomeStatus::NoData,
    };
    let Some(latest) = seen.last() else {
        return assessment;
    };
    assessment.latest = Some((latest.period.clone(), latest.value));
    let latest_day = latest.period.last_day();
    assessment.status = if reaches(latest.value, term.target, indicator.direction) {
        OutcomeStatus::Met
    } else if as_of > deadline {
        OutcomeStatus::NotMet
    } else {
        let dated_baseline = match (indicator.baseline, &indicator.baseline_period) {
            (Some(value), Some(period)) if period.last_day() < latest_day => {
                Some((period.last_day(), value))
            }
            _ => None,
        };
        let earliest = seen
            .first()
            .filter(|v| v.period.last_day() < latest_day)
            .map(|v| (v.period.last_day(), v.value));
        let projected = match dated_baseline.or(earliest) {
            Some((start_day, start_value)) => {
                let slope =
                    (latest.value - start_value) / (day_number(latest_day) - day_number(start_day));
                latest.value + slope * (day_number(deadline) - day_number(latest_day))
            }
            None => latest.value,
        };
        assessment.projected = Some(projected);
        if reaches(projected, term.target, indicator.direction) {
            OutcomeStatus::OnTrack
        } else {
            OutcomeStatus::AtRisk
        }
    };
    assessment
}

/// Assesses every outcome term of a programme on the day `as_of`, by term id.
pub fn assess_outcome_terms(
    conn: &Connection,
    programme_id: &str,
    as_of: NaiveDate,
) -> Result<Vec<OutcomeAssessment>, ProgrammeError> {
    let indicators: HashMap<String, Indicator> = list_indicators(conn, programme_id)?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut values: HashMap<String, Vec<IndicatorValue>> = HashMap::new();
    let mut out = Vec::new();
    for term in list_outcome_terms(conn, programme_id)? {
        let indicator = indicators.get(&term.indicator_id).ok_or_else(|| {
            ProgrammeError::Internal(format!(
                "outcome term '{}' was listed but its indicator '{}' was not",
                term.id, term.indicator_id
            ))
        })?;
        if !values.contains_key(&term.indicator_id) {
            let list = list_indicator_values(conn, &term.indicator_id)?;
            values.insert(term.indicator_id.clone(), list);
        }
        let series = values
            .get(&term.indicator_id)
            .map_or(&[][..], Vec::as_slice);
        out.push(assess(&term, indicator, series, as_of));
    }
    Ok(out)
}

/// The assessments of [`assess_outcome_terms`] as a table for reports.
pub fn outcome_table(
    conn: &Connection,
    programme_id: &str,
    as_of: NaiveDate,
) -> Result<Table, ProgrammeError> {
    let rows = assess_outcome_terms(conn, programme_id, as_of)?
        .into_iter()
        .map(|a| {
            let (latest_period, latest_value) = match a.latest {
                Some((period, value)) => (Cell::from(period.to_string()), Cell::Real(value)),
                None => (Cell::Null, Cell::Null),
            };
            vec![
                Cell::from(a.term_id),
                Cell::from(a.indicator_id),
                Cell::from(a.direction.as_str()),
                Cell::Real(a.target),
                Cell::from(a.deadline.to_string()),
                Cell::Real(a.payment_eur),
                latest_period,
                latest_value,
                Cell::from(a.projected.map(|p| (p * 1000.0).round() / 1000.0)),
                Cell::from(a.status.as_str()),
            ]
        })
        .collect();
    Ok(Table {
        key: "outcome_terms".into(),
        title: format!("Outcome terms as of {as_of}"),
        columns: [
            "term",
            "indicator",
            "direction",
            "target",
            "deadline",
            "payment_eur",
            "latest_period",
            "latest_value",
            "projected_value",
            "status",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::model::IndicatorSubject;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn indicator(direction: Direction, baseline: Option<(&str, f64)>) -> Indicator {
        Indicator {
            id: "ind".into(),
            subject: IndicatorSubject::Project("p".into()),
            name: "n".into(),
            unit: "u".into(),
            baseline: baseline.map(|(_, v)| v),
            baseline_period: baseline.map(|(p, _)| Period::parse(p).unwrap()),
            target: None,
            direction,
        }
    }

    fn values(points: &[(&str, f64)]) -> Vec<IndicatorValue> {
        points
            .iter()
            .map(|(period, value)| IndicatorValue {
                indicator_id: "ind".into(),
                period: Period::parse(period).unwrap(),
                value: *value,
            })
            .collect()
    }

    /// Assesses a term (target, deadline) on `as_of` and checks status and projection.
    fn check(
        indicator: Indicator,
        points: &[(&str, f64)],
        (target, deadline): (f64, &str),
        as_of: &str,
        expect: (OutcomeStatus, Option<f64>),
    ) {
        let term = OutcomeTerm {
            id: "t".into(),
            indicator_id: "ind".into(),
            target,
            deadline: Period::parse(deadline).unwrap(),
            payment_eur: 100.0,
            description: None,
        };
        let got = assess(&term, &indicator, &values(points), date(as_of));
        assert_eq!(got.status, expect.0, "{got:?}");
        match (got.projected, expect.1) {
            (Some(p), Some(e)) => assert!((p - e).abs() < 1e-6, "projected {p}, expected {e}"),
            (p, e) => assert_eq!(p, e),
        }
    }

    const HIGHER: Direction = Direction::HigherIsBetter;
    const LOWER: Direction = Direction::LowerIsBetter;

    #[test]
    fn no_value_is_no_data() {
        check(
            indicator(HIGHER, Some(("2020-01-31", 10.0))),
            &[],
            (20.0, "2021-12-31"),
            "2021-06-01",
            (OutcomeStatus::NoData, None),
        );
        // A value after the day of the assessment is not known yet.
        check(
            indicator(HIGHER, None),
            &[("2021-07", 25.0)],
            (20.0, "2021-12-31"),
            "2021-06-01",
            (OutcomeStatus::NoData, None),
        );
    }

    #[test]
    fn reaching_the_target_is_met_before_or_after_the_deadline() {
        check(
            indicator(HIGHER, None),
            &[("2021-03", 12.0), ("2021-05", 20.0)],
            (20.0, "2021-12-31"),
            "2021-06-15",
            (OutcomeStatus::Met, None),
        );
        check(
            indicator(LOWER, None),
            &[("2021", 4.0)],
            (5.0, "2021"),
            "2023-01-01",
            (OutcomeStatus::Met, None),
        );
    }

    #[test]
    fn a_passed_deadline_short_of_the_target_is_not_met() {
        // 2022's value came after the deadline and does not count.
        check(
            indicator(HIGHER, None),
            &[("2020", 10.0), ("2021", 18.0), ("2022", 30.0)],
            (20.0, "2021"),
            "2022-06-30",
            (OutcomeStatus::NotMet, None),
        );
    }

    #[test]
    fn the_trend_from_the_dated_baseline_decides_on_track_or_at_risk() {
        // Baseline 10 on 2020-12-31, 15 on 2021-06-30 (181 days later): 5/181 a day. The
        // deadline 2021-12-31 is 184 days after the latest value: 15 + 5 * 184 / 181.
        let projected = 15.0 + 5.0 * 184.0 / 181.0;
        check(
            indicator(HIGHER, Some(("2020", 10.0))),
            &[("2021-06", 15.0)],
            (20.0, "2021"),
            "2021-07-10",
            (OutcomeStatus::OnTrack, Some(projected)),
        );
        check(
            indicator(HIGHER, Some(("2020", 10.0))),
            &[("2021-06", 15.0)],
            (20.5, "2021"),
            "2021-07-10",
            (OutcomeStatus::AtRisk, Some(projected)),
        );
    }

    #[test]
    fn without_a_dated_baseline_the_earliest_value_starts_the_trend() {
        // 100 waiting on 2021-01-31, 80 on 2021-03-31 (59 days): -20/59 a day; 275 more days
        // to 2021-12-31 would bring it well under 40.
        let projected = 80.0 - 20.0 * 275.0 / 59.0;
        check(
            indicator(LOWER, Some(("2019", 120.0))).with_undated_baseline(),
            &[("2021-01", 100.0), ("2021-03", 80.0)],
            (40.0, "2021-12-31"),
            "2021-04-02",
            (OutcomeStatus::OnTrack, Some(projected)),
        );
    }

    #[test]
    fn a_single_point_without_trend_is_at_risk() {
        check(
            indicator(HIGHER, None),
            &[("2021-Q1", 12.0)],
            (20.0, "2021-12-31"),
            "2021-04-30",
            (OutcomeStatus::AtRisk, Some(12.0)),
        );
        // A baseline dated at the latest value's period gives no trend either.
        check(
            indicator(HIGHER, Some(("2021-Q1", 12.0))),
            &[("2021-Q1", 12.0)],
            (20.0, "2021-12-31"),
            "2021-04-30",
            (OutcomeStatus::AtRisk, Some(12.0)),
        );
    }

    #[test]
    fn a_projection_landing_on_the_target_is_on_track() {
        // 10 at the end of 2020, 15 at the end of 2021 (365 days), deadline end of 2022
        // (365 days): exactly 20.
        check(
            indicator(HIGHER, Some(("2020", 10.0))),
            &[("2021", 15.0)],
            (20.0, "2022"),
            "2022-01-15",
            (OutcomeStatus::OnTrack, Some(20.0)),
        );
    }

    impl Indicator {
        fn with_undated_baseline(mut self) -> Self {
            self.baseline_period = None;
            self
        }
    }

    #[test]
    fn terms_are_assessed_from_the_database() {
        use crate::programme::store::tests::{database, programme, project};
        use crate::programme::store::{
            insert_indicator, insert_indicator_value, insert_outcome_term, insert_programme,
            insert_project,
        };
        let mut conn = database();
        let tx = conn.transaction().unwrap();
        insert_programme(&tx, &programme("prog")).unwrap();
        insert_project(&tx, &project("prog", "A")).unwrap();
        let mut ind = indicator(HIGHER, Some(("2020", 10.0)));
        ind.subject = IndicatorSubject::Project("prog/A".into());
        insert_indicator(&tx, &ind).unwrap();
        for value in values(&[("2021", 15.0)]) {
            insert_indicator_value(&tx, &value).unwrap();
        }
        for (id, target, deadline) in [
            ("t1", 20.0, "2022"),
            ("t2", 25.0, "2022"),
            ("t3", 5.0, "2023"),
        ] {
            let term = OutcomeTerm {
                id: id.into(),
                indicator_id: "ind".into(),
                target,
                deadline: Period::parse(deadline).unwrap(),
                payment_eur: 1000.0,
                description: None,
            };
            insert_outcome_term(&tx, &term).unwrap();
        }
        tx.commit().unwrap();
        let statuses: Vec<OutcomeStatus> = assess_outcome_terms(&conn, "prog", date("2022-01-15"))
            .unwrap()
            .into_iter()
            .map(|a| a.status)
            .collect();
        assert_eq!(
            statuses,
            [
                OutcomeStatus::OnTrack,
                OutcomeStatus::AtRisk,
                OutcomeStatus::Met
            ]
        );
        let table = outcome_table(&conn, "prog", date("2023-06-30")).unwrap();
        assert_eq!(
            table.to_string().trim_end(),
            "
Outcome terms as of 2023-06-30
term  indicator  direction         target  deadline  payment_eur  latest_period  latest_value  projected_value  status
----  ---------  ----------------  ------  --------  -----------  -------------  ------------  ---------------  -------
t1    ind        higher_is_better    20.0  2022           1000.0  2021                   15.0                   not_met
t2    ind        higher_is_better    25.0  2022           1000.0  2021                   15.0                   not_met
t3    ind        higher_is_better     5.0  2023           1000.0  2021                   15.0                   met"
                .trim()
        );
    }
}
