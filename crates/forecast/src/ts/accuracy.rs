//! Accuracy measures and rolling-origin backtests.
//!
//! MASE: Hyndman & Koehler (2006), "Another look at measures of forecast accuracy", IJF 22(4):
//! mean absolute error scaled by the in-sample mean absolute error of the seasonal naive
//! method (lag m; lag 1 for yearly data). sMAPE: the M3 definition (Makridakis & Hibon 2000),
//! mean of 200 |y − f| / (|y| + |f|), a pair with y = f = 0 counting 0.

use serde::Serialize;

use super::{Method, Series, TsError, forecast};

/// sMAPE in percent (0–200) of `forecast` against `actual`.
pub fn smape(actual: &[f64], forecast: &[f64]) -> Result<f64, TsError> {
    same_length(actual, forecast)?;
    let sum: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| {
            let d = y.abs() + f.abs();
            if d == 0.0 {
                0.0
            } else {
                200.0 * (y - f).abs() / d
            }
        })
        .sum();
    Ok(sum / actual.len() as f64)
}

/// MASE of `forecast` against `actual`, scaled by the in-sample seasonal-naive MAE of `train`
/// with period `m`.
pub fn mase(train: &[f64], m: usize, actual: &[f64], forecast: &[f64]) -> Result<f64, TsError> {
    same_length(actual, forecast)?;
    let lag = m.max(1);
    if train.len() <= lag {
        return Err(TsError::TooShort {
            method: "MASE scaling",
            needed: lag + 1,
            got: train.len(),
        });
    }
    let scale = (lag..train.len())
        .map(|t| (train[t] - train[t - lag]).abs())
        .sum::<f64>()
        / (train.len() - lag) as f64;
    if scale == 0.0 {
        return Err(TsError::ZeroScale);
    }
    let mae = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| (y - f).abs())
        .sum::<f64>()
        / actual.len() as f64;
    Ok(mae / scale)
}

fn same_length(actual: &[f64], forecast: &[f64]) -> Result<(), TsError> {
    if actual.len() != forecast.len() {
        return Err(TsError::Length {
            what: "actual and forecast values",
            left: actual.len(),
            right: forecast.len(),
        });
    }
    if actual.is_empty() {
        return Err(TsError::Empty);
    }
    Ok(())
}

/// Accuracy of one method over a rolling origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// The method evaluated.
    pub method: Method,
    /// Forecast origins evaluated.
    pub origins: usize,
    /// Horizon forecast from each origin.
    pub horizon: usize,
    /// Mean over origins of the MASE of each origin's forecasts; `None` when a training
    /// window is constant (MASE undefined).
    pub mase: Option<f64>,
    /// Mean sMAPE over every forecast made.
    pub smape: f64,
}

/// Rolling-origin evaluation (Tashman 2000): for each of the last `origins` origins, fit on the
/// observations before it and forecast `horizon` periods; the last origin leaves exactly
/// `horizon` observations to compare with.
pub fn backtest(
    series: &Series,
    method: Method,
    horizon: usize,
    origins: usize,
) -> Result<Backtest, TsError> {
    if horizon == 0 || origins == 0 {
        return Err(TsError::ZeroHorizon);
    }
    let n = series.len();
    let needed = horizon + origins + 1;
    if n < needed {
        return Err(TsError::TooShort {
            method: "backtest",
            needed,
            got: n,
        });
    }
    let y = series.values();
    let mut mases = Vec::with_capacity(origins);
    let mut mase_defined = true;
    let mut smape_sum = 0.0;
    for k in 0..origins {
        let t = n - horizon - (origins - 1 - k);
        let train = series.head(t);
        let f = forecast(&train, method, horizon, 95.0)?;
        let actual = &y[t..t + horizon];
        smape_sum += smape(actual, &f.mean)?;
        match mase(train.values(), series.period(), actual, &f.mean) {
            Ok(v) => mases.push(v),
            Err(TsError::ZeroScale | TsError::TooShort { .. }) => mase_defined = false,
            Err(e) => return Err(e),
        }
    }
    Ok(Backtest {
        method,
        origins,
        horizon,
        mase: mase_defined.then(|| mases.iter().sum::<f64>() / origins as f64),
        smape: smape_sum / origins as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Frequency;

    #[test]
    fn smape_by_hand() {
        // |100 − 110| → 200·10/210 = 9.5238…; |50 − 40| → 200·10/90 = 22.222…; 0 vs 0 → 0.
        let v = smape(&[100.0, 50.0, 0.0], &[110.0, 40.0, 0.0]).unwrap();
        assert!((v - (2000.0 / 210.0 + 2000.0 / 90.0) / 3.0).abs() < 1e-12);
        assert!(matches!(
            smape(&[1.0], &[1.0, 2.0]),
            Err(TsError::Length { .. })
        ));
    }

    #[test]
    fn mase_by_hand() {
        // Train 1, 3, 2, 5 (m = 1): naive MAE = (2 + 1 + 3) / 3 = 2. Errors 1 and 3: MAE 2.
        assert_eq!(
            mase(&[1.0, 3.0, 2.0, 5.0], 1, &[6.0, 8.0], &[5.0, 5.0]).unwrap(),
            1.0
        );
        // Quarterly scaling uses lag 4: train 1..=6 → |5−1| = |6−2| = 4; error 2 → 0.5.
        assert_eq!(
            mase(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 4, &[9.0], &[7.0]).unwrap(),
            0.5
        );
        assert_eq!(
            mase(&[2.0, 2.0], 1, &[1.0], &[1.0]),
            Err(TsError::ZeroScale)
        );
    }

    #[test]
    fn rolling_origin_of_naive_by_hand() {
        // y = 1, 2, 4, 7, 11; h = 1, 2 origins: train 1,2,4 → 4 vs 7; train 1,2,4,7 → 7 vs 11.
        // MASE: 3 / mean(1,2) = 2, 4 / mean(1,2,3) = 2 → 2. sMAPE: 200·3/11 and 200·4/18.
        let s = Series::new(vec![1.0, 2.0, 4.0, 7.0, 11.0], Frequency::Yearly).unwrap();
        let b = backtest(&s, Method::Naive, 1, 2).unwrap();
        assert_eq!(b.mase, Some(2.0));
        assert!((b.smape - (600.0 / 11.0 + 800.0 / 18.0) / 2.0).abs() < 1e-12);
        assert!(matches!(
            backtest(&s, Method::Naive, 3, 3),
            Err(TsError::TooShort { .. })
        ));
    }
}
