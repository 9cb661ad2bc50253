//! The automatic choice of a method for one series.
//!
//! Rule: the candidates are ETS (model by AICc), Theta and the naive baseline (seasonal naive
//! when m > 1). When the series leaves room for three rolling origins with a training window of
//! at least max(8, 3m) observations, each candidate is backtested (horizon: the requested one,
//! shortened to what the series allows) and the one with the smallest MASE wins (sMAPE when MASE
//! is undefined; ties go to the simpler method, naive before Theta before ETS). Shorter series
//! get ETS by AICc when it can be fitted, and the naive baseline otherwise.

use serde::Serialize;

use super::accuracy::{Backtest, backtest};
use super::{Forecast, Method, Series, TsError, check_request, forecast};

/// Origins used by the automatic choice.
pub const AUTO_ORIGINS: usize = 3;

/// What [`auto_forecast`] chose and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoChoice {
    /// The chosen method's forecast.
    pub forecast: Forecast,
    /// The chosen method.
    pub chosen: Method,
    /// The backtests that decided (empty when the series was too short for them).
    pub backtests: Vec<Backtest>,
}

/// Choose a method by the rule of this module and forecast with it.
pub fn auto_forecast(series: &Series, horizon: usize, level: f64) -> Result<AutoChoice, TsError> {
    check_request(horizon, level)?;
    let m = series.period();
    let baseline = if m > 1 {
        Method::SeasonalNaive
    } else {
        Method::Naive
    };
    let n = series.len();
    let min_train = 8.max(3 * m);
    let room = n.saturating_sub(min_train + AUTO_ORIGINS - 1);
    if room >= 1 {
        let h = horizon.min(room);
        let mut backtests = Vec::new();
        for method in [baseline, Method::Theta, Method::Ets] {
            if let Ok(b) = backtest(series, method, h, AUTO_ORIGINS) {
                backtests.push(b);
            }
        }
        let all_mase = backtests.iter().all(|b| b.mase.is_some());
        let score = |b: &Backtest| {
            if all_mase {
                b.mase.unwrap_or(f64::INFINITY)
            } else {
                b.smape
            }
        };
        let best = backtests
            .iter()
            .fold(None::<&Backtest>, |best, b| match best {
                Some(x) if score(x) <= score(b) => Some(x),
                _ => Some(b),
            });
        if let Some(best) = best {
            let chosen = best.method;
            let forecast = forecast(series, chosen, horizon, level)?;
            return Ok(AutoChoice {
                forecast,
                chosen,
                backtests,
            });
        }
    }
    match forecast(series, Method::Ets, horizon, level) {
        Ok(f) => Ok(AutoChoice {
            forecast: f,
            chosen: Method::Ets,
            backtests: Vec::new(),
        }),
        Err(_) => {
            let f = forecast(series, baseline, horizon, level)
                .or_else(|_| forecast(series, Method::Naive, horizon, level))?;
            Ok(AutoChoice {
                forecast: f,
                chosen: baseline,
                backtests: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Frequency;

    #[test]
    fn a_trend_is_not_left_to_naive_and_the_lowest_mase_wins() {
        // A trending line: naive lags behind, ETS/Theta continue it: naive must lose.
        let y: Vec<f64> = (0..30)
            .map(|t| 50.0 + 4.0 * t as f64 + [0.3, -0.2, 0.1][t % 3])
            .collect();
        let s = Series::new(y, Frequency::Yearly).unwrap();
        let c = auto_forecast(&s, 3, 95.0).unwrap();
        assert_eq!(c.backtests.len(), 3);
        assert_ne!(c.chosen, Method::Naive, "{:?}", c.backtests);
        let best = c
            .backtests
            .iter()
            .map(|b| b.mase.unwrap())
            .fold(f64::INFINITY, f64::min);
        let chosen = c.backtests.iter().find(|b| b.method == c.chosen).unwrap();
        assert_eq!(chosen.mase.unwrap(), best);
    }

    #[test]
    fn short_series_fall_back_without_backtests() {
        let s = Series::new(vec![3.0, 4.0, 3.5], Frequency::Yearly).unwrap();
        let c = auto_forecast(&s, 2, 95.0).unwrap();
        assert!(c.backtests.is_empty());
        assert_eq!(c.chosen, Method::Naive);
        assert_eq!(c.forecast.mean, vec![3.5, 3.5]);
    }
}
