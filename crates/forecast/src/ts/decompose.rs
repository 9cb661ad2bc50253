//! Classical decomposition by moving averages and the seasonality test of the M3 Theta method.

use super::TsError;

/// Additive (y = trend + season + rest) or multiplicative (y = trend × season × rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeasonalKind {
    /// Seasonal effects add to the trend; indices sum to zero over a year.
    Additive,
    /// Seasonal effects scale the trend; indices average one over a year.
    Multiplicative,
}

/// Seasonal indices of a classical decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// One index per position in the year, position 0 being the season of the first observation.
    pub figure: Vec<f64>,
    /// How the indices combine with the rest of the series.
    pub kind: SeasonalKind,
}

impl Decomposition {
    /// The seasonal index of observation `t` (0-based, counted from the first observation).
    pub fn index(&self, t: usize) -> f64 {
        self.figure[t % self.figure.len()]
    }

    /// The series with the seasonal effect removed.
    pub fn adjust(&self, y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(t, v)| match self.kind {
                SeasonalKind::Additive => v - self.index(t),
                SeasonalKind::Multiplicative => v / self.index(t),
            })
            .collect()
    }

    /// Put the seasonal effect back on values that follow the first `start` observations.
    pub fn reseasonalize(&self, start: usize, values: &[f64]) -> Vec<f64> {
        values
            .iter()
            .enumerate()
            .map(|(h, v)| match self.kind {
                SeasonalKind::Additive => v + self.index(start + h),
                SeasonalKind::Multiplicative => v * self.index(start + h),
            })
            .collect()
    }
}

/// Classical decomposition with period `m`, as R's `decompose`: a centred moving average
/// (2×m for even m) estimates the trend, the detrended values are averaged by position in the
/// year, and the averages are centred (sum zero, or mean one for the multiplicative kind).
pub fn classical_decomposition(
    y: &[f64],
    m: usize,
    kind: SeasonalKind,
) -> Result<Decomposition, TsError> {
    if m < 2 || y.len() < 2 * m {
        return Err(TsError::TooShort {
            method: "classical decomposition",
            needed: 2 * m.max(2),
            got: y.len(),
        });
    }
    let weights: Vec<f64> = if m.is_multiple_of(2) {
        let mut w = vec![1.0 / m as f64; m + 1];
        w[0] = 0.5 / m as f64;
        w[m] = 0.5 / m as f64;
        w
    } else {
        vec![1.0 / m as f64; m]
    };
    let half = weights.len() / 2;
    let n = y.len();
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(half) {
        let trend: f64 = weights
            .iter()
            .enumerate()
            .map(|(k, w)| w * y[t + k - half])
            .sum();
        let detrended = match kind {
            SeasonalKind::Additive => y[t] - trend,
            SeasonalKind::Multiplicative => {
                if trend == 0.0 {
                    return Err(TsError::NotPositive(
                        "classical multiplicative decomposition".into(),
                    ));
                }
                y[t] / trend
            }
        };
        sums[t % m] += detrended;
        counts[t % m] += 1;
    }
    let mut figure: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| s / *c as f64)
        .collect();
    let mean = figure.iter().sum::<f64>() / m as f64;
    for f in &mut figure {
        match kind {
            SeasonalKind::Additive => *f -= mean,
            SeasonalKind::Multiplicative => *f /= mean,
        }
    }
    Ok(Decomposition { figure, kind })
}

/// Sample autocorrelations r_1..=r_max (denominator: the total sum of squares, as R's `acf`).
pub(crate) fn acf(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let denom: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|k| {
            if k >= n || denom == 0.0 {
                return 0.0;
            }
            (0..n - k)
                .map(|t| (y[t] - mean) * (y[t + k] - mean))
                .sum::<f64>()
                / denom
        })
        .collect()
}

/// The seasonality test of the M3 Theta method (Assimakopoulos & Nikolopoulos 2000, as in R's
/// `forecast::thetaf`): seasonal when |r_m| > 1.645 √((1 + 2 Σ_{k<m} r_k²) / n), a two-sided test
/// at 90%. Only applied when m > 1, the series is not constant and n > 2m; otherwise false.
pub fn seasonality_test(y: &[f64], m: usize) -> bool {
    let n = y.len();
    if m < 2 || n <= 2 * m || y.iter().all(|v| *v == y[0]) {
        return false;
    }
    let r = acf(y, m);
    let stat = ((1.0 + 2.0 * r[..m - 1].iter().map(|v| v * v).sum::<f64>()) / n as f64).sqrt();
    r[m - 1].abs() / stat > super::z_value(90.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarterly_additive_indices_by_hand() {
        // Two years of a quarterly series with a flat level 10 and effects +2, -1, 0, -1.
        // The 2×4 moving average is 10 wherever it exists (t = 2..=5), so the detrended values
        // are the effects themselves: positions 2,3 (t=2,3), 0,1 (t=4,5).
        let y = [12.0, 9.0, 10.0, 9.0, 12.0, 9.0, 10.0, 9.0];
        let d = classical_decomposition(&y, 4, SeasonalKind::Additive).unwrap();
        let expect = [2.0, -1.0, 0.0, -1.0];
        for (f, e) in d.figure.iter().zip(expect) {
            assert!((f - e).abs() < 1e-12, "{:?}", d.figure);
        }
        assert_eq!(d.adjust(&y), vec![10.0; 8]);
        assert_eq!(d.reseasonalize(8, &[10.0, 10.0]), vec![12.0, 9.0]);
    }

    #[test]
    fn multiplicative_indices_average_one() {
        let y: Vec<f64> = (0..24)
            .map(|t| (100.0 + t as f64) * [1.2, 0.8, 1.0, 1.0][t % 4])
            .collect();
        let d = classical_decomposition(&y, 4, SeasonalKind::Multiplicative).unwrap();
        assert!((d.figure.iter().sum::<f64>() / 4.0 - 1.0).abs() < 1e-12);
        assert!(
            (d.figure[0] - 1.2).abs() < 0.01 && (d.figure[1] - 0.8).abs() < 0.01,
            "{:?}",
            d.figure
        );
    }

    #[test]
    fn acf_by_hand() {
        // y = 1,2,3,4: mean 2.5, deviations -1.5,-.5,.5,1.5, total SS 5;
        // lag 1: (.75 - .25 + .75) / 5 = 0.25; lag 2: (-.75 - .75) / 5 = -0.3.
        let r = acf(&[1.0, 2.0, 3.0, 4.0], 2);
        assert!((r[0] - 0.25).abs() < 1e-12 && (r[1] + 0.3).abs() < 1e-12);
    }

    #[test]
    fn seasonality_test_separates_seasonal_from_trend() {
        let seasonal: Vec<f64> = (0..48)
            .map(|t| 100.0 + [10.0, -5.0, 3.0, -8.0][t % 4] + (t as f64 * 0.37).sin())
            .collect();
        assert!(seasonality_test(&seasonal, 4));
        // Independent draws (seeded) have no yearly pattern.
        use rand::SeedableRng;
        use rand_distr::Distribution;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let normal = rand_distr::Normal::new(100.0, 5.0).unwrap();
        let noise: Vec<f64> = (0..48).map(|_| normal.sample(&mut rng)).collect();
        assert!(!seasonality_test(&noise, 4));
        assert!(!seasonality_test(&seasonal, 1));
        assert!(!seasonality_test(&seasonal[..8], 4), "n must exceed 2m");
    }
}
