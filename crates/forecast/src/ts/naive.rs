//! Baselines: naive (random walk), seasonal naive and the M3 benchmark Naive2.
//!
//! Intervals are those of the random walk (Hyndman & Athanasopoulos, *Forecasting: Principles
//! and Practice*, 3rd ed., section 5.5): with σ² the mean squared one-step residual, the h-step
//! standard error is σ√h for naive and σ√(⌊(h−1)/m⌋+1) for seasonal naive.

use super::decompose::{SeasonalKind, classical_decomposition, seasonality_test};
use super::{Forecast, Series, TsError, check_request, normal_interval};

/// The last value repeated, with random-walk intervals.
pub fn naive(series: &Series, horizon: usize, level: f64) -> Result<Forecast, TsError> {
    check_request(horizon, level)?;
    lag_walk(series.values(), 1, horizon, level, "Naive")
}

/// The value of the same season in the last year repeated (naive when m = 1).
pub fn seasonal_naive(series: &Series, horizon: usize, level: f64) -> Result<Forecast, TsError> {
    check_request(horizon, level)?;
    let m = series.period();
    let name = if m == 1 { "Naive" } else { "Seasonal naive" };
    lag_walk(series.values(), m, horizon, level, name)
}

/// Naive2 of the M3 competition (Makridakis & Hibon 2000): naive forecasts of the series
/// seasonally adjusted by classical multiplicative decomposition when the 90% seasonality test
/// passes (and the data are strictly positive), then reseasonalized; plain naive otherwise.
pub fn naive2(series: &Series, horizon: usize, level: f64) -> Result<Forecast, TsError> {
    check_request(horizon, level)?;
    let y = series.values();
    let m = series.period();
    if !(series.is_positive() && seasonality_test(y, m)) {
        return lag_walk(y, 1, horizon, level, "Naive2");
    }
    let dec = classical_decomposition(y, m, SeasonalKind::Multiplicative)?;
    let adjusted = dec.adjust(y);
    let f = lag_walk(&adjusted, 1, horizon, level, "Naive2")?;
    let n = y.len();
    let residuals = (1..n)
        .map(|t| y[t] - adjusted[t - 1] * dec.index(t))
        .collect();
    Ok(Forecast {
        mean: dec.reseasonalize(n, &f.mean),
        lower: dec.reseasonalize(n, &f.lower),
        upper: dec.reseasonalize(n, &f.upper),
        level,
        model: "Naive2 (seasonally adjusted)".into(),
        residuals,
    })
}

/// Forecast y_{n+h} = y_{n+h-lag·k} with k the smallest number of whole lags reaching the
/// sample; σ² = mean of squared lag differences; se_h = σ √(⌊(h−1)/lag⌋+1).
fn lag_walk(
    y: &[f64],
    lag: usize,
    horizon: usize,
    level: f64,
    model: &str,
) -> Result<Forecast, TsError> {
    let n = y.len();
    if n < lag + 1 {
        return Err(TsError::TooShort {
            method: "naive",
            needed: lag + 1,
            got: n,
        });
    }
    let residuals: Vec<f64> = (lag..n).map(|t| y[t] - y[t - lag]).collect();
    let sigma = (residuals.iter().map(|e| e * e).sum::<f64>() / residuals.len() as f64).sqrt();
    let mean: Vec<f64> = (0..horizon).map(|h| y[n - lag + h % lag]).collect();
    let se: Vec<f64> = (0..horizon)
        .map(|h| sigma * ((h / lag + 1) as f64).sqrt())
        .collect();
    let (lower, upper) = normal_interval(&mean, &se, level);
    Ok(Forecast {
        mean,
        lower,
        upper,
        level,
        model: model.into(),
        residuals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Frequency;

    #[test]
    fn naive_intervals_by_hand() {
        // y = 10, 12, 11, 14: differences 2, -1, 3, σ² = (4 + 1 + 9) / 3 = 14/3.
        // 95%: z = 1.959964; h = 1: 14 ± z √(14/3); h = 4: 14 ± z √(4·14/3).
        let s = Series::new(vec![10.0, 12.0, 11.0, 14.0], Frequency::Yearly).unwrap();
        let f = naive(&s, 4, 95.0).unwrap();
        assert_eq!(f.mean, vec![14.0; 4]);
        let z = 1.959963984540054;
        let half1 = z * (14.0f64 / 3.0).sqrt();
        let half4 = z * (4.0 * 14.0f64 / 3.0).sqrt();
        assert!(
            (f.upper[0] - (14.0 + half1)).abs() < 1e-9
                && (f.lower[0] - (14.0 - half1)).abs() < 1e-9
        );
        assert!((f.upper[3] - (14.0 + half4)).abs() < 1e-9);
        assert_eq!(f.residuals, vec![2.0, -1.0, 3.0]);
    }

    #[test]
    fn seasonal_naive_repeats_last_year_and_widens_yearly() {
        // Quarterly: last year 5, 6, 7, 8; differences with the year before all 1 → σ = 1.
        let s = Series::new(
            vec![4.0, 5.0, 6.0, 7.0, 5.0, 6.0, 7.0, 8.0],
            Frequency::Quarterly,
        )
        .unwrap();
        let f = seasonal_naive(&s, 6, 80.0).unwrap();
        assert_eq!(f.mean, vec![5.0, 6.0, 7.0, 8.0, 5.0, 6.0]);
        let z = 1.2815515655446004;
        assert!(
            (f.upper[3] - (8.0 + z)).abs() < 1e-9,
            "h=4 is still one year ahead"
        );
        assert!(
            (f.upper[4] - (5.0 + z * 2f64.sqrt())).abs() < 1e-9,
            "h=5 is two years ahead"
        );
    }

    #[test]
    fn naive2_is_naive_without_seasonality_and_refuses_too_short() {
        let s = Series::new(vec![3.0, 5.0, 4.0], Frequency::Yearly).unwrap();
        assert_eq!(naive2(&s, 2, 95.0).unwrap().mean, vec![4.0, 4.0]);
        let one = Series::new(vec![3.0], Frequency::Yearly).unwrap();
        assert!(matches!(
            naive(&one, 1, 95.0),
            Err(TsError::TooShort { .. })
        ));
        assert_eq!(naive(&s, 0, 95.0), Err(TsError::ZeroHorizon));
        assert_eq!(naive(&s, 1, 100.0), Err(TsError::Level(100.0)));
    }

    #[test]
    fn naive2_reseasonalizes_a_seasonal_series() {
        let y: Vec<f64> = (0..40)
            .map(|t| 100.0 * [1.3, 0.7, 1.1, 0.9][t % 4])
            .collect();
        let s = Series::new(y, Frequency::Quarterly).unwrap();
        let f = naive2(&s, 4, 95.0).unwrap();
        for (got, want) in f.mean.iter().zip([130.0, 70.0, 110.0, 90.0]) {
            assert!((got - want).abs() < 1e-6, "{:?}", f.mean);
        }
    }
}
