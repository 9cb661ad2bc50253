//! The Theta method of Assimakopoulos & Nikolopoulos (2000), "The theta model: a decomposition
//! approach to forecasting", IJF 16(4), as used in the M3 competition, in the form shown by
//! Hyndman & Billah (2003), "Unmasking the Theta method", IJF 19(2): simple exponential
//! smoothing with a drift equal to half the slope of the least-squares line.
//!
//! As in the M3 Theta and R's `forecast::thetaf`: when the seasonality test at 90% passes
//! (see [`seasonality_test`](super::seasonality_test)) the series is adjusted by classical
//! multiplicative decomposition and the forecasts reseasonalized. SES (α and ℓ0) is fitted by
//! maximum likelihood as ETS(A,N,N); the forecast is
//! ŷ_{n+h} = ℓ_n + (b/2) ((h − 1) + (1 − (1 − α)^n)/α), b the slope of the line through the
//! (adjusted) series. Intervals are those of SES, se_h = σ √(1 + (h − 1) α²), centred on the
//! Theta forecast (as `thetaf`), then reseasonalized.

use super::decompose::{SeasonalKind, classical_decomposition, seasonality_test};
use super::ets::{ErrorKind, Ets, EtsSpec, SeasonKind, TrendKind, least_squares};
use super::{Forecast, Series, TsError, check_request, normal_interval};

/// Theta forecasts `horizon` periods ahead with an interval at `level` percent.
pub fn theta(series: &Series, horizon: usize, level: f64) -> Result<Forecast, TsError> {
    check_request(horizon, level)?;
    let y = series.values();
    let n = y.len();
    let m = series.period();
    let dec = if series.is_positive() && seasonality_test(y, m) {
        Some(classical_decomposition(y, m, SeasonalKind::Multiplicative)?)
    } else {
        None
    };
    let adjusted = match &dec {
        Some(d) => d.adjust(y),
        None => y.to_vec(),
    };
    let ses_spec = EtsSpec {
        error: ErrorKind::Additive,
        trend: TrendKind::None,
        season: SeasonKind::None,
    };
    let sa = Series::new(adjusted.clone(), series.frequency())?;
    let ses = Ets::fit(&sa, ses_spec).map_err(|e| match e {
        TsError::TooShort { needed, got, .. } => TsError::TooShort {
            method: "theta",
            needed,
            got,
        },
        other => other,
    })?;
    let alpha = ses.alpha.max(1e-10);
    let ses_fc = ses.forecast(horizon, level)?;
    let (_, slope) = least_squares(&adjusted);
    let drift = slope / 2.0;
    let mean: Vec<f64> = (0..horizon)
        .map(|h| ses_fc.mean[h] + drift * (h as f64 + (1.0 - (1.0 - alpha).powi(n as i32)) / alpha))
        .collect();
    let sigma = ses.sigma2.sqrt();
    let se: Vec<f64> = (0..horizon)
        .map(|h| sigma * (1.0 + h as f64 * alpha * alpha).sqrt())
        .collect();
    let (lower, upper) = normal_interval(&mean, &se, level);
    let residuals: Vec<f64> = match &dec {
        Some(d) => ses
            .residuals()
            .iter()
            .enumerate()
            .map(|(t, e)| e * d.index(t))
            .collect(),
        None => ses.residuals().to_vec(),
    };
    Ok(match dec {
        Some(d) => Forecast {
            mean: d.reseasonalize(n, &mean),
            lower: d.reseasonalize(n, &lower),
            upper: d.reseasonalize(n, &upper),
            level,
            model: "Theta (seasonally adjusted)".into(),
            residuals,
        },
        None => Forecast {
            mean,
            lower,
            upper,
            level,
            model: "Theta".into(),
            residuals,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Frequency;

    #[test]
    fn half_the_slope_on_a_straight_line() {
        // On an exact line y_t = 10 + 3t (t = 0..29) SES has α at its bound 0.9999 and level
        // y_n = 97 (to 1e-3), and (1 − (1 − α)^n)/α ≈ 1, so Theta gives 97 + 1.5 h: the
        // average of the theta-0 line (slope b) and the theta-2 line's SES (flat), as Hyndman &
        // Billah (2003) show.
        let y: Vec<f64> = (0..30).map(|t| 10.0 + 3.0 * t as f64).collect();
        let s = Series::new(y, Frequency::Yearly).unwrap();
        let f = theta(&s, 3, 95.0).unwrap();
        assert_eq!(f.model, "Theta");
        for (h, v) in f.mean.iter().enumerate() {
            let want = 97.0 + 1.5 * (h + 1) as f64;
            assert!((v - want).abs() < 0.01, "h={h}: {v} vs {want}");
        }
    }

    #[test]
    fn drift_formula_by_hand() {
        // A constant series: slope 0, so Theta equals SES, which equals the constant.
        let s = Series::new(vec![7.0; 12], Frequency::Yearly).unwrap();
        let f = theta(&s, 2, 80.0).unwrap();
        for v in &f.mean {
            assert!((v - 7.0).abs() < 1e-6);
        }
    }

    #[test]
    fn seasonal_series_are_adjusted() {
        let y: Vec<f64> = (0..36)
            .map(|t| 100.0 * [1.3, 0.7, 1.1, 0.9][t % 4])
            .collect();
        let s = Series::new(y, Frequency::Quarterly).unwrap();
        let f = theta(&s, 4, 95.0).unwrap();
        assert_eq!(f.model, "Theta (seasonally adjusted)");
        for (got, want) in f.mean.iter().zip([130.0, 70.0, 110.0, 90.0]) {
            assert!((got - want).abs() < 0.5, "{:?}", f.mean);
        }
    }
}
