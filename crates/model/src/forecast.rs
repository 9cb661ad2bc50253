//! The vocabulary of forecasts: the methods a user can ask for, how forecasts are made coherent
//! across the territory hierarchy, horizons (`3y`, `8q`, `12m`, `5`) and the arithmetic of
//! the cube's period labels (`2024`, `2024-Q3`, `2024-07`, `2024-12-31`).
//!
//! The methods themselves live in the `forecast` crate; the project file (`[forecast]` in
//! `datalab.toml`), the cube and the command line share these names.

use crate::IndicatorPeriod;
use serde::{Deserialize, Serialize};

/// A forecasting method a user can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ForecastMethod {
    /// The last value, repeated.
    #[serde(rename = "naive")]
    Naive,
    /// The value of the same season one year before, repeated.
    #[serde(rename = "snaive")]
    SeasonalNaive,
    /// Naive on seasonally adjusted data, reseasonalized (the M3 benchmark "Naive2").
    #[serde(rename = "naive2")]
    Naive2,
    /// Exponential smoothing, model chosen by AICc.
    #[serde(rename = "ets")]
    Ets,
    /// The Theta method (SES with drift on seasonally adjusted data).
    #[serde(rename = "theta")]
    Theta,
    /// A choice among the above by rolling-origin backtest, or ETS by AICc on short series.
    #[serde(rename = "auto")]
    Auto,
}

impl ForecastMethod {
    /// Every method, in the order reports list them.
    pub const ALL: [ForecastMethod; 6] = [
        ForecastMethod::Naive,
        ForecastMethod::SeasonalNaive,
        ForecastMethod::Naive2,
        ForecastMethod::Ets,
        ForecastMethod::Theta,
        ForecastMethod::Auto,
    ];

    /// The name users type and read.
    pub fn name(self) -> &'static str {
        match self {
            ForecastMethod::Naive => "naive",
            ForecastMethod::SeasonalNaive => "snaive",
            ForecastMethod::Naive2 => "naive2",
            ForecastMethod::Ets => "ets",
            ForecastMethod::Theta => "theta",
            ForecastMethod::Auto => "auto",
        }
    }

    /// The method with this name, if any.
    pub fn parse(name: &str) -> Option<ForecastMethod> {
        ForecastMethod::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How the forecasts of the territories of one series are made to add up (zones to districts
/// to the city).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reconcile {
    /// Weighted least squares, each territory weighted by the number of finest units under it.
    #[serde(rename = "wls")]
    Wls,
    /// MinT: generalized least squares with the shrunk covariance of the in-sample errors.
    #[serde(rename = "mint")]
    Mint,
    /// The finest territories' forecasts, summed up the tree.
    #[serde(rename = "bottom-up")]
    BottomUp,
    /// Each territory forecast on its own (the forecasts need not add up).
    #[serde(rename = "none")]
    None,
}

impl Reconcile {
    pub const ALL: [Reconcile; 4] = [
        Reconcile::Wls,
        Reconcile::Mint,
        Reconcile::BottomUp,
        Reconcile::None,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reconcile::Wls => "wls",
            Reconcile::Mint => "mint",
            Reconcile::BottomUp => "bottom-up",
            Reconcile::None => "none",
        }
    }

    pub fn parse(name: &str) -> Option<Reconcile> {
        Reconcile::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How far ahead: a number of periods of the series, or a span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Horizon {
    /// `5`: five periods of whatever the series' frequency is.
    Periods(usize),
    /// `3y` (36), `8q` (24), `12m` (12): a span in months.
    Months(usize),
}

impl Horizon {
    /// Reads `Ny` years, `Nq` quarters, `Nm` months or a plain number of periods.
    pub fn parse(text: &str) -> Result<Horizon, String> {
        let bad = || {
            format!(
                "`{text}`: expected a number of periods or years/quarters/months, e.g. 3y, 8q, 12m, 5"
            )
        };
        let t = text.trim().to_ascii_lowercase();
        let (digits, unit) = match t.chars().last() {
            Some('y') => (&t[..t.len() - 1], Some(12)),
            Some('q') => (&t[..t.len() - 1], Some(3)),
            Some('m') => (&t[..t.len() - 1], Some(1)),
            _ => (t.as_str(), None),
        };
        let count: usize = digits.parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("`{text}`: must be at least one period"));
        }
        Ok(match unit {
            None => Horizon::Periods(count),
            Some(u) => Horizon::Months(count * u),
        })
    }

    /// The number of periods of a series of `kind`; a span that is not a whole number of
    /// periods (6 quarters of a yearly series) is refused.
    pub fn periods(self, kind: IndicatorPeriod) -> Result<usize, String> {
        match self {
            Horizon::Periods(n) => Ok(n),
            Horizon::Months(months) => {
                let per_period = 12 / kind.per_year();
                if months % per_period != 0 {
                    return Err(format!(
                        "{months} months are not a whole number of periods of a {} series",
                        kind.name()
                    ));
                }
                Ok(months / per_period)
            }
        }
    }
}

impl IndicatorPeriod {
    /// Observations per year: 1, 4 or 12 (a point in time is observed once a year).
    pub fn per_year(self) -> usize {
        match self {
            IndicatorPeriod::Year | IndicatorPeriod::Point => 1,
            IndicatorPeriod::Quarter => 4,
            IndicatorPeriod::Month => 12,
        }
    }

    /// A period label as a count of periods since year 0 (years, quarters or months); `None`
    /// when the label is not a period of this kind.
    pub fn index(self, p: &str) -> Option<i64> {
        let year: i64 = p.get(..4)?.parse().ok()?;
        match self {
            IndicatorPeriod::Year => (p.len() == 4).then_some(year),
            IndicatorPeriod::Point => (p.len() == 10).then_some(year),
            IndicatorPeriod::Quarter => {
                let q: i64 = p.strip_prefix(&format!("{year}-Q"))?.parse().ok()?;
                (1..=4).contains(&q).then_some(year * 4 + q - 1)
            }
            IndicatorPeriod::Month => {
                let m: i64 = p.strip_prefix(&format!("{year}-"))?.parse().ok()?;
                (1..=12).contains(&m).then_some(year * 12 + m - 1)
            }
        }
    }

    /// The `count` period labels after `last` (a point in time keeps its day of the year).
    pub fn after(self, last: &str, count: usize) -> Option<Vec<String>> {
        let index = self.index(last)?;
        let day = if self == IndicatorPeriod::Point {
            last.get(4..).unwrap_or("")
        } else {
            ""
        };
        Some(
            (1..=count as i64)
                .map(|h| {
                    let i = index + h;
                    match self {
                        IndicatorPeriod::Year => format!("{i}"),
                        IndicatorPeriod::Point => format!("{i}{day}"),
                        IndicatorPeriod::Quarter => {
                            format!("{}-Q{}", i.div_euclid(4), i.rem_euclid(4) + 1)
                        }
                        IndicatorPeriod::Month => {
                            format!("{}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
                        }
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons() {
        let p = |t: &str, k| Horizon::parse(t).and_then(|h| h.periods(k));
        assert_eq!(p("3y", IndicatorPeriod::Year), Ok(3));
        assert_eq!(p("3y", IndicatorPeriod::Month), Ok(36));
        assert_eq!(p("8q", IndicatorPeriod::Year), Ok(2));
        assert_eq!(p("8q", IndicatorPeriod::Quarter), Ok(8));
        assert_eq!(p("12m", IndicatorPeriod::Quarter), Ok(4));
        assert_eq!(p("5", IndicatorPeriod::Month), Ok(5));
        assert_eq!(p(" 2Y ", IndicatorPeriod::Point), Ok(2));
        assert!(p("6q", IndicatorPeriod::Year).is_err());
        assert!(p("0y", IndicatorPeriod::Year).is_err());
        assert!(p("soon", IndicatorPeriod::Year).is_err());
        assert!(p("y", IndicatorPeriod::Year).is_err());
    }

    #[test]
    fn periods_after() {
        let a = |k: IndicatorPeriod, last, n| k.after(last, n).unwrap();
        assert_eq!(a(IndicatorPeriod::Year, "2024", 2), ["2025", "2026"]);
        assert_eq!(
            a(IndicatorPeriod::Quarter, "2024-Q3", 3),
            ["2024-Q4", "2025-Q1", "2025-Q2"]
        );
        assert_eq!(
            a(IndicatorPeriod::Month, "2024-11", 3),
            ["2024-12", "2025-01", "2025-02"]
        );
        assert_eq!(a(IndicatorPeriod::Point, "2024-12-31", 1), ["2025-12-31"]);
        assert!(IndicatorPeriod::Month.after("2024-13", 1).is_none());
        assert!(IndicatorPeriod::Year.after("2024-Q1", 1).is_none());
        assert_eq!(IndicatorPeriod::Quarter.index("2024-Q1"), Some(2024 * 4));
        assert_eq!(
            IndicatorPeriod::Month.index("2024-12"),
            Some(2024 * 12 + 11)
        );
    }

    #[test]
    fn names_round_trip() {
        for m in ForecastMethod::ALL {
            assert_eq!(ForecastMethod::parse(m.name()), Some(m));
        }
        for r in Reconcile::ALL {
            assert_eq!(Reconcile::parse(r.name()), Some(r));
        }
        assert_eq!(ForecastMethod::parse("arima"), None);
    }
}
