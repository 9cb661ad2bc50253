//! Forecasts of indicator series: baselines (naive, seasonal naive, Naive2), exponential
//! smoothing in the state-space framework of Hyndman et al. (2008), the Theta method,
//! prediction intervals, rolling-origin backtests (MASE, sMAPE), an automatic choice among
//! them, and reconciliation of forecasts across a territory hierarchy.
//!
//! Everything here is pure: a [`Series`] of numbers with a [`Frequency`] goes in, a
//! [`Forecast`] comes out. Reading series from the cube and writing forecasts back belong to the
//! cube step ([`Methods`] is what the build plugs into it) and to the binary; this module knows
//! nothing of files, territories' codes or the warehouse.

mod accuracy;
mod auto;
mod cube;
mod decompose;
mod ets;
mod hierarchy;
mod linalg;
mod naive;
mod optim;
mod theta;

pub use accuracy::{Backtest, backtest, mase, smape};
pub use auto::{AutoChoice, auto_forecast};
pub use cube::{METHODS_VERSION, Methods};
pub use decompose::{Decomposition, SeasonalKind, classical_decomposition, seasonality_test};
pub use ets::{ErrorKind, Ets, EtsSpec, SeasonKind, TrendKind};
pub use hierarchy::{Hierarchy, RatioReconciliation, Reconciliation, reconcile, reconcile_ratio};
pub use naive::{naive, naive2, seasonal_naive};
pub use theta::theta;

use serde::Serialize;

/// Errors of the forecasting algorithms; every variant says what was wrong with the input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TsError {
    /// The series has no observation.
    #[error("the series is empty")]
    Empty,
    /// A value is NaN or infinite.
    #[error("value {index} of the series is not a finite number")]
    NonFinite { index: usize },
    /// The method needs more observations than the series has.
    #[error("{method} needs at least {needed} observations, the series has {got}")]
    TooShort {
        method: &'static str,
        needed: usize,
        got: usize,
    },
    /// The horizon is zero.
    #[error("the horizon must be at least one period")]
    ZeroHorizon,
    /// The interval level is not strictly between 0 and 100.
    #[error("the interval level {0} is not between 0 and 100 (exclusive)")]
    Level(f64),
    /// A multiplicative model was asked for data that are not strictly positive.
    #[error("model {0} is multiplicative and needs strictly positive data")]
    NotPositive(String),
    /// The in-sample seasonal-naive errors are all zero: MASE is undefined.
    #[error("the in-sample naive errors are all zero: MASE is undefined for this series")]
    ZeroScale,
    /// Actual and forecast values have different lengths.
    #[error("{what}: {left} values against {right}")]
    Length {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// The hierarchy is malformed.
    #[error("hierarchy: {0}")]
    Hierarchy(String),
    /// No candidate model could be fitted.
    #[error("no {0} model could be fitted to the series")]
    NoModel(&'static str),
}

/// How often a series is observed; its period `m` is the number of observations per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// One value per year (m = 1).
    Yearly,
    /// One value per quarter (m = 4).
    Quarterly,
    /// One value per month (m = 12).
    Monthly,
}

impl Frequency {
    /// The frequency with `n` observations a year (1, 4 or 12).
    pub fn per_year(n: usize) -> Option<Frequency> {
        [Frequency::Yearly, Frequency::Quarterly, Frequency::Monthly]
            .into_iter()
            .find(|f| f.period() == n)
    }

    /// Observations per year: the seasonal period.
    pub fn period(self) -> usize {
        match self {
            Frequency::Yearly => 1,
            Frequency::Quarterly => 4,
            Frequency::Monthly => 12,
        }
    }
}

/// A regularly spaced series of observations, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    values: Vec<f64>,
    frequency: Frequency,
}

impl Series {
    /// A series of finite values; empty or non-finite input is refused.
    pub fn new(values: Vec<f64>, frequency: Frequency) -> Result<Self, TsError> {
        if values.is_empty() {
            return Err(TsError::Empty);
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(TsError::NonFinite { index });
        }
        Ok(Series { values, frequency })
    }

    /// The observations, oldest first.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// How often the series is observed.
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// The seasonal period m.
    pub fn period(&self) -> usize {
        self.frequency.period()
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: a series has at least one value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The first `n` observations as a series of the same frequency (used by backtests).
    pub(crate) fn head(&self, n: usize) -> Series {
        Series {
            values: self.values[..n].to_vec(),
            frequency: self.frequency,
        }
    }

    /// True when every value is strictly positive (multiplicative models are allowed).
    pub fn is_positive(&self) -> bool {
        self.values.iter().all(|v| *v > 0.0)
    }
}

/// A forecasting method a user can ask for (the names are the project's and the command line's).
pub use model::ForecastMethod as Method;

/// Point forecasts with a prediction interval, and the model that produced them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// Point forecasts for horizons 1..=h.
    pub mean: Vec<f64>,
    /// Lower bounds of the interval.
    pub lower: Vec<f64>,
    /// Upper bounds of the interval.
    pub upper: Vec<f64>,
    /// Nominal coverage of the interval, in percent.
    pub level: f64,
    /// The fitted model, e.g. `ETS(A,Ad,N)`, `Theta`, `Naive`.
    pub model: String,
    /// One-step in-sample residuals on the scale of the data (y - fitted), used by MinT.
    #[serde(skip)]
    pub residuals: Vec<f64>,
}

/// Forecast `series` `horizon` periods ahead with `method`, with an interval at `level` percent.
pub fn forecast(
    series: &Series,
    method: Method,
    horizon: usize,
    level: f64,
) -> Result<Forecast, TsError> {
    check_request(horizon, level)?;
    match method {
        Method::Naive => naive(series, horizon, level),
        Method::SeasonalNaive => seasonal_naive(series, horizon, level),
        Method::Naive2 => naive2(series, horizon, level),
        Method::Ets => Ets::auto(series)?.forecast(horizon, level),
        Method::Theta => theta(series, horizon, level),
        Method::Auto => Ok(auto_forecast(series, horizon, level)?.forecast),
    }
}

/// Refuse a zero horizon or a level outside (0, 100).
pub(crate) fn check_request(horizon: usize, level: f64) -> Result<(), TsError> {
    if horizon == 0 {
        return Err(TsError::ZeroHorizon);
    }
    if !(level > 0.0 && level < 100.0) {
        return Err(TsError::Level(level));
    }
    Ok(())
}

/// The standard normal quantile for a two-sided interval at `level` percent.
pub(crate) fn z_value(level: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(0.5 + level / 200.0)
}

/// Symmetric normal interval around `mean` with standard errors `se`.
pub(crate) fn normal_interval(mean: &[f64], se: &[f64], level: f64) -> (Vec<f64>, Vec<f64>) {
    let z = z_value(level);
    let lower = mean.iter().zip(se).map(|(m, s)| m - z * s).collect();
    let upper = mean.iter().zip(se).map(|(m, s)| m + z * s).collect();
    (lower, upper)
}
