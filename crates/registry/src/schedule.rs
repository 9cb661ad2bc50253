//! "Open now": reading HSDS schedules (the subset of RFC 5545 that HSDS uses: weekly and monthly
//! rules by day, validity dates, opening and closing times).

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use crate::codes::{Status, WEEKDAYS};
use crate::error::Result;
use crate::model::{Schedule, Service, ServiceAtLocation};
use crate::store::Registry;

/// Parses one `byday` part: `MO`, or with an occurrence in the month, `2MO`, `-1FR`.
pub(crate) fn parse_byday(part: &str) -> Option<(Option<i32>, Weekday)> {
    let split = part.len().checked_sub(2)?;
    let (nth, day) = (part.get(..split)?, part.get(split..)?);
    let index = WEEKDAYS.iter().position(|d| *d == day)?;
    let weekday = Weekday::try_from(index as u8).ok()?;
    if nth.is_empty() {
        return Some((None, weekday));
    }
    let n: i32 = nth.strip_prefix('+').unwrap_or(nth).parse().ok()?;
    (n != 0 && (-5..=5).contains(&n)).then_some((Some(n), weekday))
}

fn days_in_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).unwrap_or(d);
    match first.checked_add_months(Months::new(1)) {
        Some(next) => next.signed_duration_since(first).num_days() as u32,
        None => 31,
    }
}

impl Schedule {
    /// Whether the schedule says "open" at a wall-clock date and time of the city. A schedule
    /// without opening times says nothing and is never open; a closing time before the opening
    /// time runs past midnight; equal times mean the whole day.
    pub fn is_open_at(&self, at: NaiveDateTime) -> bool {
        let (Some(open), Some(close)) = (self.opens_at, self.closes_at) else {
            return false;
        };
        let (day, time) = (at.date(), at.time());
        if open < close {
            self.runs_on(day) && open <= time && time < close
        } else if open == close {
            self.runs_on(day)
        } else {
            (self.runs_on(day) && time >= open)
                || (day
                    .checked_sub_days(Days::new(1))
                    .is_some_and(|prev| self.runs_on(prev))
                    && time < close)
        }
    }

    /// Whether the schedule has a session starting on a date.
    pub fn runs_on(&self, day: NaiveDate) -> bool {
        if self.valid_from.is_some_and(|d| day < d)
            || self.valid_to.is_some_and(|d| day > d)
            || self.dtstart.is_some_and(|d| day < d)
            || self.until.is_some_and(|d| day > d)
        {
            return false;
        }
        // Iterators rather than vectors: the search checks thousands of schedules per query.
        let byday = || {
            self.byday
                .iter()
                .flat_map(|s| s.split(','))
                .filter_map(|p| parse_byday(p.trim()))
        };
        let interval = i64::from(self.interval.unwrap_or(1).max(1));
        match self.freq.as_deref() {
            Some("MONTHLY") => {
                if let Some(start) = self.dtstart {
                    let months = i64::from(day.year() - start.year()) * 12
                        + i64::from(day.month() as i32 - start.month() as i32);
                    if months % interval != 0 {
                        return false;
                    }
                }
                let dim = days_in_month(day) as i32;
                let dom = day.day() as i32;
                let by_day_ok = byday().next().is_none()
                    || byday().any(|(nth, wd)| {
                        wd == day.weekday()
                            && match nth {
                                None => true,
                                Some(n) if n > 0 => (dom - 1) / 7 + 1 == n,
                                Some(n) => -((dim - dom) / 7 + 1) == n,
                            }
                    });
                let monthdays = || {
                    self.bymonthday
                        .iter()
                        .flat_map(|s| s.split(','))
                        .filter_map(|p| p.trim().parse::<i32>().ok())
                };
                let by_month_day_ok = monthdays().next().is_none()
                    || monthdays().any(|n| if n > 0 { n == dom } else { dim + 1 + n == dom });
                by_day_ok && by_month_day_ok
            }
            freq => {
                if let Some(start) = self.dtstart {
                    let week_start = self
                        .wkst
                        .as_deref()
                        .and_then(parse_byday)
                        .map_or(Weekday::Mon, |(_, w)| w);
                    let first = start.week(week_start).first_day();
                    let this = day.week(week_start).first_day();
                    let weeks = this.signed_duration_since(first).num_days() / 7;
                    if weeks % interval != 0 {
                        return false;
                    }
                    if byday().next().is_none() && freq == Some("WEEKLY") {
                        return day.weekday() == start.weekday();
                    }
                }
                byday().next().is_none() || byday().any(|(_, wd)| wd == day.weekday())
            }
        }
    }
}

/// A schedule prepared for many "open at" checks (the search checks thousands per query):
/// weekly rules without a start date, the common case, become a weekday mask and date bounds;
/// other rules keep the schedule and ask [`Schedule::is_open_at`]. Either way the answer is
/// the schedule's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OpeningHours {
    /// No opening times: never open.
    Never,
    /// Open from `opens` to `closes` on the days of `days` (bit 0 Monday; 0 every day) between
    /// the dates, if any.
    Weekly {
        days: u8,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        opens: NaiveTime,
        closes: NaiveTime,
    },
    Rule(Box<Schedule>),
}

impl OpeningHours {
    pub(crate) fn new(s: &Schedule) -> OpeningHours {
        let (Some(opens), Some(closes)) = (s.opens_at, s.closes_at) else {
            return OpeningHours::Never;
        };
        if s.freq.as_deref() == Some("MONTHLY") || s.dtstart.is_some() {
            return OpeningHours::Rule(Box::new(s.clone()));
        }
        let days = s
            .byday
            .iter()
            .flat_map(|b| b.split(','))
            .filter_map(|p| parse_byday(p.trim()))
            .fold(0u8, |m, (_, wd)| m | (1 << wd.num_days_from_monday()));
        let to = match (s.valid_to, s.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        OpeningHours::Weekly {
            days,
            from: s.valid_from,
            to,
            opens,
            closes,
        }
    }

    /// [`Schedule::is_open_at`].
    pub(crate) fn is_open_at(&self, at: NaiveDateTime) -> bool {
        let OpeningHours::Weekly {
            days,
            from,
            to,
            opens,
            closes,
        } = self
        else {
            return match self {
                OpeningHours::Rule(s) => s.is_open_at(at),
                _ => false,
            };
        };
        let runs_on = |day: NaiveDate| {
            from.is_none_or(|f| day >= f)
                && to.is_none_or(|t| day <= t)
                && (*days == 0 || days & (1 << day.weekday().num_days_from_monday()) != 0)
        };
        let (day, time) = (at.date(), at.time());
        if opens < closes {
            runs_on(day) && *opens <= time && time < *closes
        } else if opens == closes {
            runs_on(day)
        } else {
            (runs_on(day) && time >= *opens)
                || (day.checked_sub_days(Days::new(1)).is_some_and(runs_on) && time < *closes)
        }
    }
}

/// A service open at a given time, and the schedule that says so.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenService {
    pub service_id: String,
    pub service_at_location_id: Option<String>,
    pub schedule_id: String,
}

impl Registry {
    /// The active services with a schedule (their own, or of one of their service-at-locations)
    /// open at a wall-clock date and time of the city, ordered by service, then
    /// service-at-location, then schedule.
    pub fn open_at(&self, at: NaiveDateTime) -> Result<Vec<OpenService>> {
        let services = self.list::<Service>()?;
        let sals = self.list::<ServiceAtLocation>()?;
        let mut open = Vec::new();
        for schedule in self.list::<Schedule>()? {
            if !schedule.is_open_at(at) {
                continue;
            }
            let (service_id, sal_id) =
                match (&schedule.service_at_location_id, &schedule.service_id) {
                    (Some(sal), _) => match sals.iter().find(|s| &s.id == sal) {
                        Some(s) => (s.service_id.clone(), Some(sal.clone())),
                        None => continue,
                    },
                    (None, Some(service)) => (service.clone(), None),
                    (None, None) => continue,
                };
            let active = services
                .iter()
                .any(|s| s.id == service_id && s.status == Status::Active);
            if active {
                open.push(OpenService {
                    service_id,
                    service_at_location_id: sal_id,
                    schedule_id: schedule.id,
                });
            }
        }
        open.sort_by(|a, b| {
            (&a.service_id, &a.service_at_location_id, &a.schedule_id).cmp(&(
                &b.service_id,
                &b.service_at_location_id,
                &b.schedule_id,
            ))
        });
        Ok(open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn schedule(freq: Option<&str>, byday: Option<&str>, opens: &str, closes: &str) -> Schedule {
        Schedule {
            id: "sch".into(),
            service_id: Some("s".into()),
            freq: freq.map(Into::into),
            byday: byday.map(Into::into),
            opens_at: NaiveTime::parse_from_str(opens, "%H:%M").ok(),
            closes_at: NaiveTime::parse_from_str(closes, "%H:%M").ok(),
            ..Schedule::default()
        }
    }

    /// `cases`: (date and time, expected open).
    fn check(s: &Schedule, cases: &[(&str, bool)]) {
        for (when, expect) in cases {
            assert_eq!(s.is_open_at(at(when)), *expect, "{when} with {s:?}");
        }
    }

    #[test]
    fn weekly_by_day() {
        // 2024-03-04 is a Monday.
        let s = schedule(Some("WEEKLY"), Some("MO,WE"), "09:00", "13:00");
        check(
            &s,
            &[
                ("2024-03-04 09:00", true),
                ("2024-03-04 12:59", true),
                ("2024-03-04 13:00", false),
                ("2024-03-04 08:59", false),
                ("2024-03-05 10:00", false),
                ("2024-03-06 10:00", true),
            ],
        );
    }

    #[test]
    fn validity_and_fortnightly() {
        let mut s = schedule(Some("WEEKLY"), Some("TU"), "14:00", "18:00");
        s.valid_from = NaiveDate::from_ymd_opt(2024, 3, 1);
        s.valid_to = NaiveDate::from_ymd_opt(2024, 6, 30);
        check(
            &s,
            &[("2024-02-27 15:00", false), ("2024-03-05 15:00", true)],
        );
        check(&s, &[("2024-07-02 15:00", false)]);
        s.dtstart = NaiveDate::from_ymd_opt(2024, 3, 5);
        s.interval = Some(2);
        check(
            &s,
            &[
                ("2024-03-05 15:00", true),
                ("2024-03-12 15:00", false),
                ("2024-03-19 15:00", true),
            ],
        );
    }

    #[test]
    fn monthly_nth_weekday_and_month_days() {
        // March 2024: Fridays 1, 8, 15, 22, 29; Mondays 4, 11, 18, 25.
        let s = schedule(Some("MONTHLY"), Some("-1FR,2MO"), "10:00", "12:00");
        check(
            &s,
            &[
                ("2024-03-29 10:30", true),
                ("2024-03-22 10:30", false),
                ("2024-03-11 10:30", true),
                ("2024-03-04 10:30", false),
            ],
        );
        let mut s = schedule(Some("MONTHLY"), None, "10:00", "12:00");
        s.bymonthday = Some("1,-1".into());
        check(
            &s,
            &[
                ("2024-02-01 11:00", true),
                ("2024-02-29 11:00", true),
                ("2024-02-28 11:00", false),
            ],
        );
    }

    #[test]
    fn overnight_and_whole_day() {
        // A night shelter open Friday 20:00 to Saturday 08:00.
        let s = schedule(Some("WEEKLY"), Some("FR"), "20:00", "08:00");
        check(
            &s,
            &[
                ("2024-03-08 21:00", true),
                ("2024-03-09 07:59", true),
                ("2024-03-09 08:00", false),
                ("2024-03-08 07:00", false),
            ],
        );
        let s = schedule(None, None, "00:00", "00:00");
        check(&s, &[("2024-03-08 03:00", true)]);
        let s = schedule(None, None, "", "");
        check(&s, &[("2024-03-08 03:00", false)]);
    }

    /// The prepared form answers as the schedule does, every half hour of six weeks, for
    /// weekly, daily, monthly, dated, fortnightly, overnight, whole-day and empty schedules.
    #[test]
    fn opening_hours_agree_with_the_schedule() {
        let mut cases = vec![
            schedule(Some("WEEKLY"), Some("MO,WE"), "09:00", "13:00"),
            schedule(Some("WEEKLY"), Some("FR"), "20:00", "08:00"),
            schedule(Some("WEEKLY"), Some("SA, SU"), "00:00", "00:00"),
            schedule(Some("WEEKLY"), None, "10:00", "12:00"),
            schedule(None, None, "19:00", "21:30"),
            schedule(None, Some("TU,XX"), "08:00", "14:00"),
            schedule(Some("MONTHLY"), Some("-1FR,2MO"), "10:00", "12:00"),
            schedule(None, None, "", ""),
        ];
        let mut dated = schedule(Some("WEEKLY"), Some("TU,TH"), "22:00", "02:00");
        dated.valid_from = NaiveDate::from_ymd_opt(2024, 3, 5);
        dated.valid_to = NaiveDate::from_ymd_opt(2024, 3, 28);
        dated.until = NaiveDate::from_ymd_opt(2024, 3, 21);
        cases.push(dated);
        let mut fortnightly = schedule(Some("WEEKLY"), Some("TU"), "14:00", "18:00");
        fortnightly.dtstart = NaiveDate::from_ymd_opt(2024, 3, 5);
        fortnightly.interval = Some(2);
        cases.push(fortnightly);
        let start = at("2024-02-26 00:00");
        for s in &cases {
            let hours = OpeningHours::new(s);
            for step in 0..(6 * 7 * 48) {
                let when = start + chrono::Duration::minutes(30 * step);
                assert_eq!(hours.is_open_at(when), s.is_open_at(when), "{when} {s:?}");
            }
        }
        assert!(matches!(
            OpeningHours::new(&cases[0]),
            OpeningHours::Weekly { days: 0b101, .. }
        ));
    }

    #[test]
    fn byday_parts() {
        assert_eq!(parse_byday("MO"), Some((None, Weekday::Mon)));
        assert_eq!(parse_byday("-1FR"), Some((Some(-1), Weekday::Fri)));
        assert_eq!(parse_byday("+2SU"), Some((Some(2), Weekday::Sun)));
        assert_eq!(parse_byday("0MO"), None);
        assert_eq!(parse_byday("M"), None);
        assert_eq!(parse_byday("XX"), None);
    }

    #[test]
    fn registry_lists_open_services() {
        let reg = crate::testutil::registry();
        // The fixture's day centre is open Monday to Friday 08:30-17:00 (2024-03-04 is a Monday).
        let open = reg.open_at(at("2024-03-04 10:00")).unwrap();
        let ids: Vec<&str> = open.iter().map(|o| o.service_id.as_str()).collect();
        assert!(ids.contains(&"s-day-centre"), "{open:?}");
        let open = reg.open_at(at("2024-03-10 10:00")).unwrap();
        assert!(
            open.iter().all(|o| o.service_id != "s-day-centre"),
            "{open:?}"
        );
    }
}
