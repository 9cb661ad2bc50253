//! The typed rows of the programme tables, and the partial ISO dates they use.
//!
//! Each type validates itself ([`Programme::validate`] and friends) before it is written, so a
//! bad value is refused with the object and the field it sits in, whoever the caller is.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};

use super::ProgrammeError;

/// A day, month, quarter or year, written as a partial ISO date: `2021`, `2021-Q3`, `2021-06`
/// or `2021-06-30`.
///
/// Programmes and projects often only know years ("2017–2021"), monitoring data comes by month
/// or quarter, contracts have exact deadlines: one type covers them all. A period is compared and
/// placed on the time line by its last day (a value for `2020` is taken as measured on 31
/// December 2020; a deadline of `2021` is met by 31 December 2021).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Period {
    text: String,
    first: NaiveDate,
    last: NaiveDate,
}

impl Period {
    /// Parses `YYYY`, `YYYY-Qn`, `YYYY-MM` or `YYYY-MM-DD`; anything else is refused with a
    /// message saying which forms are accepted.
    pub fn parse(text: &str) -> Result<Period, String> {
        let bad =
            || format!("'{text}' is not a period (expected YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD)");
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = text.split('-').collect();
        let year_text = parts.first().copied().unwrap_or_default();
        if year_text.len() != 4 || !digits(year_text) {
            return Err(bad());
        }
        let year: i32 = year_text.parse().map_err(|_| bad())?;
        let month_span = |from: u32, to: u32| -> Option<(NaiveDate, NaiveDate)> {
            let first = NaiveDate::from_ymd_opt(year, from, 1)?;
            let last = last_day_of_month(year, to)?;
            Some((first, last))
        };
        let (first, last) = match parts.as_slice() {
            [_] => month_span(1, 12),
            [_, q] if q.len() == 2 && q.starts_with('Q') => match &q[1..] {
                "1" => month_span(1, 3),
                "2" => month_span(4, 6),
                "3" => month_span(7, 9),
                "4" => month_span(10, 12),
                _ => None,
            },
            [_, m] if m.len() == 2 && digits(m) => {
                let month: u32 = m.parse().map_err(|_| bad())?;
                month_span(month, month)
            }
            [_, m, d] if m.len() == 2 && d.len() == 2 && digits(m) && digits(d) => {
                let month: u32 = m.parse().map_err(|_| bad())?;
                let day: u32 = d.parse().map_err(|_| bad())?;
                NaiveDate::from_ymd_opt(year, month, day).map(|date| (date, date))
            }
            _ => None,
        }
        .ok_or_else(bad)?;
        Ok(Period {
            text: text.to_string(),
            first,
            last,
        })
    }

    /// The period as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first day of the period.
    pub fn first_day(&self) -> NaiveDate {
        self.first
    }

    /// The last day of the period: where the period sits on the time line.
    pub fn last_day(&self) -> NaiveDate {
        self.last
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ToSql for Period {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.text.as_str()))
    }
}

impl FromSql for Period {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Period::parse(value.as_str()?).map_err(|e| FromSqlError::Other(e.into()))
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Period::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Declares a closed set of snake_case codes stored as TEXT, with parsing and serde.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// Reads a stored code; the error lists the accepted ones.
            pub fn parse(code: &str) -> Result<Self, String> {
                match code {
                    $($code => Ok($name::$variant),)+
                    other => Err(format!(
                        "'{other}' is not one of {}",
                        [$($code),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                $name::parse(value.as_str()?).map_err(|e| FromSqlError::Other(e.into()))
            }
        }
    };
}

code_enum! {
    /// The role of an organization in a project.
    PartnerRole {
        /// The organization that leads the partnership and answers to the funder.
        Lead => "lead",
        /// A body that manages social-assistance services in the project's territory.
        ManagingBody => "managing_body",
        /// Any other partner.
        Partner => "partner",
    }
}

code_enum! {
    /// Whether an intervention is social innovation in the strict sense or territorial welfare.
    ///
    /// After the Piedmont research institute's reading of WeCaRe: social innovation answers a
    /// collective need, innovates in technology or in the relations between actors, and can at
    /// least potentially sustain itself after the pilot; anything else is territorial welfare.
    InnovationClass {
        SocialInnovation => "social_innovation",
        TerritorialWelfare => "territorial_welfare",
    }
}

code_enum! {
    /// How an intervention acts: a service delivered to people, or another action (networks,
    /// information, planning).
    Instrument {
        Service => "service",
        Action => "action",
    }
}

code_enum! {
    /// Whether a higher or a lower value of an indicator is the better one.
    Direction {
        HigherIsBetter => "higher_is_better",
        LowerIsBetter => "lower_is_better",
    }
}

/// A funder's programme: the frame that finances projects (a regional measure, a call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Programme {
    pub id: String,
    pub name: String,
    /// Who finances it (`Regione Piemonte`).
    pub funder: Option<String>,
    /// The funds it draws on, as published (`ESF, ERDF`).
    pub funding_sources: Option<String>,
    pub start: Option<Period>,
    pub end: Option<Period>,
    pub budget_eur: Option<f64>,
    /// The budget is a published approximation ("about 6.5 million"), not an accounted total.
    pub budget_approximate: bool,
    /// Where the record comes from.
    pub source: Option<String>,
}

/// A project financed by a programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub programme_id: String,
    /// The short code the programme uses (`AL`, `TO`); unique within the programme.
    pub code: String,
    pub title: String,
    pub lead_municipality: Option<String>,
    /// Residents of the territory the project serves.
    pub population_served: Option<u64>,
    /// The territory covered, as a code or name (a district, a zone).
    pub area: Option<String>,
    /// The programme's grouping of territories (WeCaRe's four quadrants).
    pub quadrant: Option<String>,
    pub start: Option<Period>,
    pub end: Option<Period>,
    pub budget_eur: Option<f64>,
}

/// An organization taking part in a project, in one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPartner {
    pub project_id: String,
    pub organization_id: String,
    pub role: PartnerRole,
    /// The part of the project's territory the organization answers for (WeCaRe's areas 1-30).
    pub territorial_area: Option<String>,
}

/// One intervention of a project: a category of work, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    pub id: String,
    pub project_id: String,
    pub category: String,
    pub innovation_class: Option<InnovationClass>,
    pub instrument: Option<Instrument>,
    pub thematic_area: Option<String>,
    pub description: Option<String>,
}

/// A thematic area a project is read under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectThematicArea {
    pub project_id: String,
    pub thematic_area: String,
}

/// What an indicator measures: a whole project or one of its interventions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorSubject {
    Project(String),
    Intervention(String),
}

/// A monitoring indicator with its baseline and target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub id: String,
    pub subject: IndicatorSubject,
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    /// When the baseline was measured; needed to project a trend from it.
    pub baseline_period: Option<Period>,
    pub target: Option<f64>,
    pub direction: Direction,
}

/// One measured value of an indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorValue {
    pub indicator_id: String,
    pub period: Period,
    pub value: f64,
}

/// A term of an outcome-based contract: pay `payment_eur` if the indicator reaches `target` by
/// `deadline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeTerm {
    pub id: String,
    pub indicator_id: String,
    /// The threshold to reach (at least it, or at most it for a lower-is-better indicator).
    pub target: f64,
    pub deadline: Period,
    pub payment_eur: f64,
    pub description: Option<String>,
}

fn required(object: &str, field: &'static str, value: &str) -> Result<(), ProgrammeError> {
    if value.trim().is_empty() {
        return Err(ProgrammeError::invalid(object, field, "must not be empty"));
    }
    Ok(())
}

fn optional_text(
    object: &str,
    field: &'static str,
    value: Option<&str>,
) -> Result<(), ProgrammeError> {
    match value {
        Some(v) => required(object, field, v),
        None => Ok(()),
    }
}

fn finite(object: &str, field: &'static str, value: Option<f64>) -> Result<(), ProgrammeError> {
    match value {
        Some(v) if !v.is_finite() => Err(ProgrammeError::invalid(
            object,
            field,
            format!("{v} is not a finite number"),
        )),
        _ => Ok(()),
    }
}

fn amount(object: &str, field: &'static str, value: Option<f64>) -> Result<(), ProgrammeError> {
    finite(object, field, value)?;
    match value {
        Some(v) if v < 0.0 => Err(ProgrammeError::invalid(
            object,
            field,
            format!("{v} is negative"),
        )),
        _ => Ok(()),
    }
}

fn span(object: &str, start: Option<&Period>, end: Option<&Period>) -> Result<(), ProgrammeError> {
    if let (Some(start), Some(end)) = (start, end)
        && end.last_day() < start.first_day()
    {
        return Err(ProgrammeError::invalid(
            object,
            "end",
            format!("{end} ends before the start {start}"),
        ));
    }
    Ok(())
}

impl Programme {
    /// How error messages name this programme.
    pub fn object(&self) -> String {
        format!("programme '{}'", self.id)
    }

    /// Refuses empty ids and names, negative or non-finite budgets and an end before the start.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "id", &self.id)?;
        required(&object, "name", &self.name)?;
        optional_text(&object, "funder", self.funder.as_deref())?;
        optional_text(&object, "funding_sources", self.funding_sources.as_deref())?;
        amount(&object, "budget_eur", self.budget_eur)?;
        if self.budget_approximate && self.budget_eur.is_none() {
            return Err(ProgrammeError::invalid(
                &object,
                "budget_approximate",
                "is set but there is no budget",
            ));
        }
        span(&object, self.start.as_ref(), self.end.as_ref())
    }
}

impl Project {
    /// How error messages name this project.
    pub fn object(&self) -> String {
        format!("project '{}'", self.id)
    }

    /// Refuses empty ids, codes and titles, negative budgets and an end before the start.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "id", &self.id)?;
        required(&object, "programme_id", &self.programme_id)?;
        required(&object, "code", &self.code)?;
        required(&object, "title", &self.title)?;
        optional_text(
            &object,
            "lead_municipality",
            self.lead_municipality.as_deref(),
        )?;
        optional_text(&object, "area", self.area.as_deref())?;
        optional_text(&object, "quadrant", self.quadrant.as_deref())?;
        if let Some(population) = self.population_served
            && i64::try_from(population).is_err()
        {
            return Err(ProgrammeError::invalid(
                &object,
                "population_served",
                format!("{population} is too large"),
            ));
        }
        amount(&object, "budget_eur", self.budget_eur)?;
        span(&object, self.start.as_ref(), self.end.as_ref())
    }
}

impl ProjectPartner {
    /// How error messages name this link.
    pub fn object(&self) -> String {
        format!(
            "partner '{}' of project '{}' as {}",
            self.organization_id, self.project_id, self.role
        )
    }

    /// Refuses empty keys and an empty territorial area.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "project_id", &self.project_id)?;
        required(&object, "organization_id", &self.organization_id)?;
        optional_text(
            &object,
            "territorial_area",
            self.territorial_area.as_deref(),
        )
    }
}

impl Intervention {
    /// How error messages name this intervention.
    pub fn object(&self) -> String {
        format!("intervention '{}'", self.id)
    }

    /// Refuses empty ids, project ids and categories.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "id", &self.id)?;
        required(&object, "project_id", &self.project_id)?;
        required(&object, "category", &self.category)?;
        optional_text(&object, "thematic_area", self.thematic_area.as_deref())?;
        optional_text(&object, "description", self.description.as_deref())
    }
}

impl ProjectThematicArea {
    /// How error messages name this link.
    pub fn object(&self) -> String {
        format!(
            "thematic area '{}' of project '{}'",
            self.thematic_area, self.project_id
        )
    }

    /// Refuses empty keys.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "project_id", &self.project_id)?;
        required(&object, "thematic_area", &self.thematic_area)
    }
}

impl Indicator {
    /// How error messages name this indicator.
    pub fn object(&self) -> String {
        format!("indicator '{}'", self.id)
    }

    /// Refuses empty ids, names and units, non-finite numbers, and a baseline period without a
    /// baseline.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "id", &self.id)?;
        match &self.subject {
            IndicatorSubject::Project(id) => required(&object, "project_id", id)?,
            IndicatorSubject::Intervention(id) => required(&object, "intervention_id", id)?,
        }
        required(&object, "name", &self.name)?;
        required(&object, "unit", &self.unit)?;
        finite(&object, "baseline", self.baseline)?;
        finite(&object, "target", self.target)?;
        if self.baseline_period.is_some() && self.baseline.is_none() {
            return Err(ProgrammeError::invalid(
                &object,
                "baseline_period",
                "is set but there is no baseline",
            ));
        }
        Ok(())
    }
}

impl IndicatorValue {
    /// How error messages name this value.
    pub fn object(&self) -> String {
        format!(
            "value of indicator '{}' for {}",
            self.indicator_id, self.period
        )
    }

    /// Refuses an empty indicator id and a non-finite value.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "indicator_id", &self.indicator_id)?;
        finite(&object, "value", Some(self.value))
    }
}

impl OutcomeTerm {
    /// How error messages name this term.
    pub fn object(&self) -> String {
        format!("outcome term '{}'", self.id)
    }

    /// Refuses empty ids, a non-finite target and a negative or non-finite payment.
    pub fn validate(&self) -> Result<(), ProgrammeError> {
        let object = self.object();
        required(&object, "id", &self.id)?;
        required(&object, "indicator_id", &self.indicator_id)?;
        finite(&object, "target", Some(self.target))?;
        amount(&object, "payment_eur", Some(self.payment_eur))?;
        optional_text(&object, "description", self.description.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_period(text: &str, first: &str, last: &str) {
        let period = Period::parse(text).unwrap();
        assert_eq!(period.first_day().to_string(), first, "{text}");
        assert_eq!(period.last_day().to_string(), last, "{text}");
        assert_eq!(period.as_str(), text);
    }

    #[test]
    fn periods_span_their_days() {
        check_period("2021", "2021-01-01", "2021-12-31");
        check_period("2020-Q1", "2020-01-01", "2020-03-31");
        check_period("2021-Q4", "2021-10-01", "2021-12-31");
        check_period("2020-02", "2020-02-01", "2020-02-29");
        check_period("2021-02", "2021-02-01", "2021-02-28");
        check_period("2021-06-30", "2021-06-30", "2021-06-30");
    }

    #[test]
    fn malformed_periods_are_refused() {
        for text in [
            "",
            "21",
            "2021-",
            "2021-Q5",
            "2021-Q0",
            "2021-13",
            "2021-6",
            "2021-02-30",
            "2021/06",
            "30/06/2021",
            " 2021",
            "2021-06-30T00",
        ] {
            let err = Period::parse(text).unwrap_err();
            assert!(err.contains("is not a period"), "{text}: {err}");
        }
    }

    #[test]
    fn periods_round_trip_through_serde() {
        let period: Period = serde_json::from_str("\"2020-Q3\"").unwrap();
        assert_eq!(period.last_day().to_string(), "2020-09-30");
        assert_eq!(serde_json::to_string(&period).unwrap(), "\"2020-Q3\"");
        assert!(serde_json::from_str::<Period>("\"2020-Q9\"").is_err());
    }

    #[test]
    fn codes_parse_and_print() {
        for role in PartnerRole::ALL {
            assert_eq!(PartnerRole::parse(role.as_str()), Ok(*role));
        }
        assert_eq!(
            InnovationClass::parse("innovation"),
            Err("'innovation' is not one of social_innovation, territorial_welfare".to_string())
        );
        assert_eq!(
            serde_json::to_string(&Instrument::Service).unwrap(),
            "\"service\""
        );
    }

    #[test]
    fn validation_names_object_and_field() {
        let project = Project {
            id: "p1".into(),
            programme_id: "prog".into(),
            code: "P1".into(),
            title: " ".into(),
            lead_municipality: None,
            population_served: None,
            area: None,
            quadrant: None,
            start: None,
            end: None,
            budget_eur: None,
        };
        assert_eq!(
            project.validate().unwrap_err().to_string(),
            "project 'p1': title: must not be empty"
        );
        let programme = Programme {
            id: "prog".into(),
            name: "Programme".into(),
            funder: None,
            funding_sources: None,
            start: Some(Period::parse("2021").unwrap()),
            end: Some(Period::parse("2020-12").unwrap()),
            budget_eur: Some(-1.0),
            budget_approximate: false,
            source: None,
        };
        assert_eq!(
            programme.validate().unwrap_err().to_string(),
            "programme 'prog': budget_eur: -1 is negative"
        );
        let programme = Programme {
            budget_eur: None,
            ..programme
        };
        assert_eq!(
            programme.validate().unwrap_err().to_string(),
            "programme 'prog': end: 2020-12 ends before the start 2021"
        );
        let term = OutcomeTerm {
            id: "t".into(),
            indicator_id: "i".into(),
            target: f64::NAN,
            deadline: Period::parse("2022").unwrap(),
            payment_eur: 10.0,
            description: None,
        };
        assert_eq!(
            term.validate().unwrap_err().to_string(),
            "outcome term 't': target: NaN is not a finite number"
        );
    }
}
