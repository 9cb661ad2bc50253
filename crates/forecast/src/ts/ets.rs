//! Exponential smoothing in the innovations state-space framework of Hyndman, Koehler, Ord &
//! Snyder, *Forecasting with Exponential Smoothing* (Springer, 2008), the models of R's
//! `forecast::ets`.
//!
//! Error additive or multiplicative, trend none, additive or additive damped, season none,
//! additive or multiplicative. The recursions are those of the error-correction form (HKOS
//! table 2.1, as in R's `etscalc`): point forecasts and state updates do not depend on the
//! error type, the likelihood does. Parameters and initial states are estimated together by
//! maximum likelihood with Nelder–Mead (argmin), starting from R's heuristic initial states,
//! within the "usual" region 1e-4 ≤ α ≤ 0.9999, 1e-4 ≤ β ≤ α, 1e-4 ≤ γ ≤ 1 − α,
//! 0.8 ≤ φ ≤ 0.98 (β and γ as in R, i.e. β = αβ*). The admissible region's eigenvalue
//! conditions are not checked separately: for the non-seasonal models the usual region lies
//! inside it. The model is chosen by AICc among the models the series can support (n ≥ k + 3
//! for k estimated parameters and initial states, so that AICc is defined); models with additive error and multiplicative
//! season (infinite forecast variance) are not candidates, multiplicative ones only for strictly
//! positive data, seasonal ones only when m > 1 and n ≥ 3m.
//!
//! Intervals: the analytic variance of the linear class (HKOS table 6.1, class 1: additive
//! error, no multiplicative component), v_h = σ² (1 + Σ_{j<h} c_j²) with
//! c_j = α + β·(j, or φ + … + φ^j when damped) + γ·[j mod m = 0]; for models with a
//! multiplicative component, quantiles of 5000 simulated sample paths (seeded, so reproducible).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::decompose::{SeasonalKind, classical_decomposition};
use super::optim::{PENALTY, minimize};
use super::{Forecast, Series, TsError, check_request};

/// Additive or multiplicative errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// y = μ + ε.
    Additive,
    /// y = μ (1 + ε).
    Multiplicative,
}

/// The trend component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrendKind {
    /// No trend.
    None,
    /// Additive (linear) trend.
    Additive,
    /// Additive trend damped by φ.
    Damped,
}

/// The seasonal component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeasonKind {
    /// No season.
    None,
    /// Seasonal effects added.
    Additive,
    /// Seasonal effects multiplied.
    Multiplicative,
}

/// One ETS model: error, trend and season.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EtsSpec {
    /// The error type.
    pub error: ErrorKind,
    /// The trend type.
    pub trend: TrendKind,
    /// The season type.
    pub season: SeasonKind,
}

impl EtsSpec {
    /// The usual label, e.g. `ETS(M,Ad,N)`.
    pub fn name(&self) -> String {
        let e = match self.error {
            ErrorKind::Additive => "A",
            ErrorKind::Multiplicative => "M",
        };
        let t = match self.trend {
            TrendKind::None => "N",
            TrendKind::Additive => "A",
            TrendKind::Damped => "Ad",
        };
        let s = match self.season {
            SeasonKind::None => "N",
            SeasonKind::Additive => "A",
            SeasonKind::Multiplicative => "M",
        };
        format!("ETS({e},{t},{s})")
    }

    /// True when some component is multiplicative (data must be strictly positive).
    pub fn is_multiplicative(&self) -> bool {
        self.error == ErrorKind::Multiplicative || self.season == SeasonKind::Multiplicative
    }

    /// Class 1 of HKOS (2008) ch. 6: linear, with an analytic forecast variance.
    pub fn is_linear(&self) -> bool {
        !self.is_multiplicative()
    }

    fn has_trend(&self) -> bool {
        self.trend != TrendKind::None
    }

    fn has_season(&self) -> bool {
        self.season != SeasonKind::None
    }

    /// The candidate models for a series of period `m`: restricted as R's `ets` does by default.
    pub fn candidates(m: usize, seasonal: bool, positive: bool) -> Vec<EtsSpec> {
        let mut out = Vec::new();
        for error in [ErrorKind::Additive, ErrorKind::Multiplicative] {
            for trend in [TrendKind::None, TrendKind::Additive, TrendKind::Damped] {
                for season in [
                    SeasonKind::None,
                    SeasonKind::Additive,
                    SeasonKind::Multiplicative,
                ] {
                    let spec = EtsSpec {
                        error,
                        trend,
                        season,
                    };
                    if spec.has_season() && !(seasonal && m > 1) {
                        continue;
                    }
                    if error == ErrorKind::Additive && season == SeasonKind::Multiplicative {
                        continue;
                    }
                    if spec.is_multiplicative() && !positive {
                        continue;
                    }
                    out.push(spec);
                }
            }
        }
        out
    }
}

/// Smoothing parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

/// States: level, growth, seasonal states with `s[0]` the most recent and `s[m-1]` the one
/// that applies at the next period.
#[derive(Debug, Clone, PartialEq)]
struct States {
    l: f64,
    b: f64,
    s: Vec<f64>,
}

/// A fitted ETS model.
#[derive(Debug, Clone, PartialEq)]
pub struct Ets {
    /// The model.
    pub spec: EtsSpec,
    /// Level smoothing α.
    pub alpha: f64,
    /// Trend smoothing β (R's parameterization, β = αβ*); 0 without trend.
    pub beta: f64,
    /// Seasonal smoothing γ; 0 without season.
    pub gamma: f64,
    /// Damping φ; 1 without damping.
    pub phi: f64,
    /// Log-likelihood (Gaussian innovations, constants included).
    pub loglik: f64,
    /// Akaike information criterion.
    pub aic: f64,
    /// AIC corrected for small samples.
    pub aicc: f64,
    /// Innovation variance: SSE / (n − k), relative errors for multiplicative error.
    pub sigma2: f64,
    m: usize,
    n: usize,
    scale: f64,
    last: States,
    initial: States,
    residuals: Vec<f64>,
}

/// One step of the recursion: the one-step forecast from `st`, then the updated states.
fn one_step(spec: &EtsSpec, p: &Params, m: usize, st: &States) -> f64 {
    let mut f = st.l;
    match spec.trend {
        TrendKind::None => {}
        TrendKind::Additive => f += st.b,
        TrendKind::Damped => f += p.phi * st.b,
    }
    match spec.season {
        SeasonKind::None => f,
        SeasonKind::Additive => f + st.s[m - 1],
        SeasonKind::Multiplicative => f * st.s[m - 1],
    }
}

fn update(spec: &EtsSpec, p: &Params, m: usize, st: &mut States, y: f64) {
    let (q, phib) = match spec.trend {
        TrendKind::None => (st.l, 0.0),
        TrendKind::Additive => (st.l + st.b, st.b),
        TrendKind::Damped => (st.l + p.phi * st.b, p.phi * st.b),
    };
    let p_obs = match spec.season {
        SeasonKind::None => y,
        SeasonKind::Additive => y - st.s[m - 1],
        SeasonKind::Multiplicative => y / st.s[m - 1],
    };
    let old_l = st.l;
    st.l = q + p.alpha * (p_obs - q);
    if spec.has_trend() {
        st.b = phib + (p.beta / p.alpha) * (st.l - old_l - phib);
    }
    if spec.has_season() {
        let t = match spec.season {
            SeasonKind::Additive => y - q,
            _ => y / q,
        };
        let old = st.s[m - 1];
        st.s.rotate_right(1);
        st.s[0] = old + p.gamma * (t - old);
    }
}

/// Point forecasts 1..=h from states `st`.
fn point_forecasts(spec: &EtsSpec, p: &Params, m: usize, st: &States, h: usize) -> Vec<f64> {
    let mut damp = 0.0;
    (1..=h)
        .map(|k| {
            damp += p.phi.powi(k as i32);
            let mut f = st.l;
            match spec.trend {
                TrendKind::None => {}
                TrendKind::Additive => f += k as f64 * st.b,
                TrendKind::Damped => f += damp * st.b,
            }
            let season = if spec.has_season() {
                st.s[m - 1 - (k - 1) % m]
            } else {
                0.0
            };
            match spec.season {
                SeasonKind::None => f,
                SeasonKind::Additive => f + season,
                SeasonKind::Multiplicative => f * season,
            }
        })
        .collect()
}

/// Run the model through `y`: the objective n log(SSE) (+ 2 Σ log|ŷ| for multiplicative error),
/// the errors, the one-step forecasts and the final states. `None` when a one-step forecast is
/// not positive in a model with a multiplicative component.
struct Pass {
    objective: f64,
    fitted: Vec<f64>,
    sse: f64,
    sum_log_f: f64,
    last: States,
}

fn pass(spec: &EtsSpec, p: &Params, m: usize, init: &States, y: &[f64]) -> Option<Pass> {
    let mut st = init.clone();
    let mut sse = 0.0;
    let mut sum_log_f = 0.0;
    let mut fitted = Vec::with_capacity(y.len());
    for &obs in y {
        let f = one_step(spec, p, m, &st);
        if !f.is_finite() || (spec.is_multiplicative() && f <= 1e-10) {
            return None;
        }
        let e = match spec.error {
            ErrorKind::Additive => obs - f,
            ErrorKind::Multiplicative => (obs - f) / f,
        };
        sse += e * e;
        sum_log_f += f.abs().ln();
        fitted.push(f);
        update(spec, p, m, &mut st, obs);
        if spec.season == SeasonKind::Multiplicative && st.s[0] <= 1e-10 {
            return None;
        }
    }
    let n = y.len() as f64;
    let mut objective = n * sse.max(1e-300).ln();
    if spec.error == ErrorKind::Multiplicative {
        objective += 2.0 * sum_log_f;
    }
    Some(Pass {
        objective,
        fitted,
        sse,
        sum_log_f,
        last: st,
    })
}

/// R's heuristic initial states (`forecast:::initstate`): seasonal indices from a classical
/// decomposition of the first 3m observations; level (and slope) from the mean (or a least
/// squares line) of the first max(10, 2m) seasonally adjusted observations.
fn heuristic_states(spec: &EtsSpec, y: &[f64], m: usize) -> Result<States, TsError> {
    let (y_sa, s) = if spec.has_season() {
        let kind = match spec.season {
            SeasonKind::Additive => SeasonalKind::Additive,
            _ => SeasonalKind::Multiplicative,
        };
        let dec = classical_decomposition(&y[..3 * m], m, kind)?;
        let s: Vec<f64> = (0..m).map(|j| dec.figure[m - 1 - j]).collect();
        (dec.adjust(&y[..3 * m]), s)
    } else {
        (y.to_vec(), Vec::new())
    };
    let maxn = 10.max(2 * m).min(y_sa.len());
    let head = &y_sa[..maxn];
    let (l, b) = if spec.has_trend() {
        let (intercept, slope) = least_squares(head);
        // R regresses on t = 1..maxn, so the level at t = 0 is the intercept.
        let (mut l0, mut b0) = (intercept, slope);
        if (l0 + b0).abs() < 1e-8 {
            l0 *= 1.0 + 1e-3;
            b0 *= 1.0 - 1e-3;
        }
        (l0, b0)
    } else {
        (head.iter().sum::<f64>() / maxn as f64, 0.0)
    };
    Ok(States { l, b, s })
}

/// Intercept and slope of the least-squares line through (t, y_t), t = 1..=n.
pub(crate) fn least_squares(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let tbar = (n + 1.0) / 2.0;
    let ybar = y.iter().sum::<f64>() / n;
    let sxy: f64 = y
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0 - tbar) * (v - ybar))
        .sum();
    let sxx: f64 = (1..=y.len()).map(|t| (t as f64 - tbar).powi(2)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (ybar - slope * tbar, slope)
}

const LOWER: f64 = 1e-4;
const UPPER: f64 = 0.9999;
const PHI_LOWER: f64 = 0.8;
const PHI_UPPER: f64 = 0.98;

/// Split the optimizer's vector into parameters and initial states; `None` outside the region.
fn unpack(spec: &EtsSpec, m: usize, x: &[f64]) -> Option<(Params, States)> {
    let mut i = 0;
    let mut next = || {
        let v = x[i];
        i += 1;
        v
    };
    let alpha = next();
    let beta = if spec.has_trend() { next() } else { 0.0 };
    let gamma = if spec.has_season() { next() } else { 0.0 };
    let phi = if spec.trend == TrendKind::Damped {
        next()
    } else {
        1.0
    };
    if !(LOWER..=UPPER).contains(&alpha) {
        return None;
    }
    if spec.has_trend() && !(LOWER..=alpha).contains(&beta) {
        return None;
    }
    if spec.has_season() && !(LOWER..=1.0 - alpha).contains(&gamma) {
        return None;
    }
    if spec.trend == TrendKind::Damped && !(PHI_LOWER..=PHI_UPPER).contains(&phi) {
        return None;
    }
    let l = next();
    let b = if spec.has_trend() { next() } else { 0.0 };
    let mut s = Vec::new();
    if spec.has_season() {
        for _ in 0..m - 1 {
            s.push(next());
        }
        let sum: f64 = s.iter().sum();
        let last = match spec.season {
            SeasonKind::Additive => -sum,
            _ => m as f64 - sum,
        };
        s.push(last);
        if spec.season == SeasonKind::Multiplicative && s.iter().any(|v| *v <= 0.0) {
            return None;
        }
    }
    if spec.is_multiplicative() && l <= 0.0 {
        return None;
    }
    Some((
        Params {
            alpha,
            beta,
            gamma,
            phi,
        },
        States { l, b, s },
    ))
}

impl Ets {
    /// Fit one model to `series` by maximum likelihood.
    pub fn fit(series: &Series, spec: EtsSpec) -> Result<Ets, TsError> {
        let y = series.values();
        let m = if spec.has_season() {
            series.period()
        } else {
            1
        };
        let n = y.len();
        if spec.has_season() && (m < 2 || n < 3 * m) {
            return Err(TsError::TooShort {
                method: "seasonal exponential smoothing",
                needed: 3 * m.max(2),
                got: n,
            });
        }
        if spec.is_multiplicative() && !series.is_positive() {
            return Err(TsError::NotPositive(spec.name()));
        }
        let n_smoothing = 1
            + usize::from(spec.has_trend())
            + usize::from(spec.has_season())
            + usize::from(spec.trend == TrendKind::Damped);
        let n_states =
            1 + usize::from(spec.has_trend()) + if spec.has_season() { m - 1 } else { 0 };
        let k = n_smoothing + n_states;
        // AICc needs n − (k + 1) − 1 ≥ 1 (k + 1 parameters counting σ).
        if n < k + 3 {
            return Err(TsError::TooShort {
                method: "exponential smoothing",
                needed: k + 3,
                got: n,
            });
        }
        // Fit on data divided by their mean absolute value so that steps suit every series.
        let scale = {
            let s = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
            if s > 0.0 { s } else { 1.0 }
        };
        let ys: Vec<f64> = y.iter().map(|v| v / scale).collect();
        let init = heuristic_states(&spec, &ys, m)?;
        let alpha0 = LOWER + 0.2 * (UPPER - LOWER) / m as f64;
        let mut x0 = vec![alpha0];
        let mut steps = vec![0.1];
        if spec.has_trend() {
            x0.push(LOWER + 0.1 * (alpha0 - LOWER));
            steps.push(0.01);
        }
        if spec.has_season() {
            x0.push(LOWER + 0.05 * (1.0 - alpha0 - LOWER));
            steps.push(0.03);
        }
        if spec.trend == TrendKind::Damped {
            x0.push(PHI_LOWER + 0.99 * (PHI_UPPER - PHI_LOWER));
            steps.push(-0.05);
        }
        x0.push(init.l);
        steps.push(0.1 * init.l.abs().max(0.1));
        if spec.has_trend() {
            x0.push(init.b);
            steps.push(0.1 * init.b.abs().max(0.01));
        }
        if spec.has_season() {
            x0.extend_from_slice(&init.s[..m - 1]);
            steps.extend(std::iter::repeat_n(0.05, m - 1));
        }
        let objective = |x: &[f64]| match unpack(&spec, m, x) {
            Some((p, st)) => pass(&spec, &p, m, &st, &ys).map_or(PENALTY, |r| r.objective),
            None => PENALTY,
        };
        let (x, cost) = minimize(&objective, x0, &steps, 2000, 3);
        if cost >= PENALTY {
            return Err(TsError::NoModel("exponential smoothing"));
        }
        let (p, initial) = unpack(&spec, m, &x).ok_or(TsError::NoModel("exponential smoothing"))?;
        let run =
            pass(&spec, &p, m, &initial, &ys).ok_or(TsError::NoModel("exponential smoothing"))?;
        let nf = n as f64;
        // Gaussian log-likelihood on the original scale (the scale adds −n log(scale) to both error types).
        let mut loglik =
            -0.5 * nf * ((2.0 * std::f64::consts::PI * run.sse / nf).ln() + 1.0) - nf * scale.ln();
        if spec.error == ErrorKind::Multiplicative {
            loglik -= run.sum_log_f;
        }
        let np = (k + 1) as f64;
        let aic = -2.0 * loglik + 2.0 * np;
        let aicc = aic + 2.0 * np * (np + 1.0) / (nf - np - 1.0);
        let sigma2 = match spec.error {
            ErrorKind::Additive => run.sse / (nf - k as f64) * scale * scale,
            ErrorKind::Multiplicative => run.sse / (nf - k as f64),
        };
        let residuals = y
            .iter()
            .zip(&run.fitted)
            .map(|(v, f)| v - f * scale)
            .collect();
        Ok(Ets {
            spec,
            alpha: p.alpha,
            beta: p.beta,
            gamma: p.gamma,
            phi: p.phi,
            loglik,
            aic,
            aicc,
            sigma2,
            m,
            n,
            scale,
            last: run.last,
            initial,
            residuals,
        })
    }

    /// Fit every candidate model and keep the one with the smallest AICc.
    pub fn auto(series: &Series) -> Result<Ets, TsError> {
        let m = series.period();
        let seasonal = m > 1 && series.len() >= 3 * m;
        let mut best: Option<Ets> = None;
        let mut first_error = None;
        for spec in EtsSpec::candidates(m, seasonal, series.is_positive()) {
            match Ets::fit(series, spec) {
                Ok(fit) => {
                    if best.as_ref().is_none_or(|b| fit.aicc < b.aicc) {
                        best = Some(fit);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        best.ok_or_else(|| first_error.unwrap_or(TsError::NoModel("exponential smoothing")))
    }

    /// Number of observations the model was fitted to.
    pub fn nobs(&self) -> usize {
        self.n
    }

    /// One-step in-sample residuals y − ŷ on the scale of the data.
    pub fn residuals(&self) -> &[f64] {
        &self.residuals
    }

    /// The estimated initial level (at time 0), on the scale of the data.
    pub fn initial_level(&self) -> f64 {
        self.initial.l * self.scale
    }

    fn params(&self) -> Params {
        Params {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
            phi: self.phi,
        }
    }

    /// Point forecasts and an interval at `level` percent, `horizon` periods ahead.
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast, TsError> {
        check_request(horizon, level)?;
        let p = self.params();
        let mean: Vec<f64> = point_forecasts(&self.spec, &p, self.m, &self.last, horizon)
            .into_iter()
            .map(|v| v * self.scale)
            .collect();
        let (lower, upper) = if self.spec.is_linear() {
            let se: Vec<f64> = self
                .linear_variance(horizon)
                .into_iter()
                .map(f64::sqrt)
                .collect();
            super::normal_interval(&mean, &se, level)
        } else {
            self.simulated_interval(horizon, level)
        };
        Ok(Forecast {
            mean,
            lower,
            upper,
            level,
            model: self.spec.name(),
            residuals: self.residuals.clone(),
        })
    }

    /// v_h = σ² (1 + Σ_{j=1}^{h−1} c_j²), HKOS (2008) table 6.1, class 1.
    fn linear_variance(&self, horizon: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(horizon);
        let mut acc = 1.0;
        let mut damp = 0.0;
        for h in 1..=horizon {
            out.push(self.sigma2 * acc);
            let j = h;
            damp += self.phi.powi(j as i32);
            let mut c = self.alpha;
            match self.spec.trend {
                TrendKind::None => {}
                TrendKind::Additive => c += self.beta * j as f64,
                TrendKind::Damped => c += self.beta * damp,
            }
            if self.spec.has_season() && j % self.m == 0 {
                c += self.gamma;
            }
            acc += c * c;
        }
        out
    }

    /// Percentile interval from 5000 simulated sample paths (seeded: the same input gives the
    /// same bounds).
    fn simulated_interval(&self, horizon: usize, level: f64) -> (Vec<f64>, Vec<f64>) {
        const PATHS: usize = 5000;
        let p = self.params();
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_f0ca);
        let normal =
            Normal::new(0.0, self.sigma2.sqrt().max(0.0)).expect("finite standard deviation");
        let sigma_scaled = match self.spec.error {
            ErrorKind::Additive => 1.0 / self.scale,
            ErrorKind::Multiplicative => 1.0,
        };
        let mut paths = vec![Vec::with_capacity(PATHS); horizon];
        for _ in 0..PATHS {
            let mut st = self.last.clone();
            for slot in paths.iter_mut() {
                let mu = one_step(&self.spec, &p, self.m, &st);
                let e = normal.sample(&mut rng) * sigma_scaled;
                let y = match self.spec.error {
                    ErrorKind::Additive => mu + e,
                    ErrorKind::Multiplicative => mu * (1.0 + e),
                };
                slot.push(y * self.scale);
                update(&self.spec, &p, self.m, &mut st, y);
            }
        }
        let lo_q = 0.5 - level / 200.0;
        let hi_q = 0.5 + level / 200.0;
        let mut lower = Vec::with_capacity(horizon);
        let mut upper = Vec::with_capacity(horizon);
        for mut draws in paths {
            draws.retain(|v| v.is_finite());
            draws.sort_by(f64::total_cmp);
            lower.push(quantile(&draws, lo_q));
            upper.push(quantile(&draws, hi_q));
        }
        (lower, upper)
    }
}

/// Sample quantile of sorted values, linear interpolation (R's type 7).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::Frequency;

    const ANN: EtsSpec = EtsSpec {
        error: ErrorKind::Additive,
        trend: TrendKind::None,
        season: SeasonKind::None,
    };
    const AAN: EtsSpec = EtsSpec {
        error: ErrorKind::Additive,
        trend: TrendKind::Additive,
        season: SeasonKind::None,
    };

    #[test]
    fn ses_recursion_by_hand() {
        // SES with α = 0.5, ℓ0 = 10 on y = 12, 11, 13, 12, 14:
        // ℓ1 = 11, ℓ2 = 11, ℓ3 = 12, ℓ4 = 12, ℓ5 = 13; fitted 10, 11, 11, 12, 12;
        // errors 2, 0, 2, 0, 2: SSE = 12.
        let p = Params {
            alpha: 0.5,
            beta: 0.0,
            gamma: 0.0,
            phi: 1.0,
        };
        let init = States {
            l: 10.0,
            b: 0.0,
            s: vec![],
        };
        let r = pass(&ANN, &p, 1, &init, &[12.0, 11.0, 13.0, 12.0, 14.0]).unwrap();
        assert_eq!(r.fitted, vec![10.0, 11.0, 11.0, 12.0, 12.0]);
        assert_eq!(r.sse, 12.0);
        assert_eq!(r.last.l, 13.0);
        assert!((r.objective - 5.0 * 12f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn holt_recursion_by_hand() {
        // Holt with α = 0.5, β = 0.25 (β* = 0.5), ℓ0 = 10, b0 = 1 on y = 11, 13, 14, 16, 17:
        // t1: f = 11, e = 0, ℓ = 11, b = 1.    t2: f = 12, e = 1, ℓ = 12.5, b = 1.25.
        // t3: f = 13.75, e = 0.25, ℓ = 13.875, b = 1.3125.
        // t4: f = 15.1875, e = 0.8125, ℓ = 15.59375, b = 1.515625.
        // t5: f = 17.109375, e = -0.109375, ℓ = 17.0546875, b = 1.48828125.
        let p = Params {
            alpha: 0.5,
            beta: 0.25,
            gamma: 0.0,
            phi: 1.0,
        };
        let init = States {
            l: 10.0,
            b: 1.0,
            s: vec![],
        };
        let r = pass(&AAN, &p, 1, &init, &[11.0, 13.0, 14.0, 16.0, 17.0]).unwrap();
        assert_eq!(r.fitted, vec![11.0, 12.0, 13.75, 15.1875, 17.109375]);
        assert_eq!((r.last.l, r.last.b), (17.0546875, 1.48828125));
        let f = point_forecasts(&AAN, &p, 1, &r.last, 2);
        assert_eq!(f, vec![18.54296875, 20.03125]);
    }

    #[test]
    fn seasonal_recursion_by_hand() {
        // ETS(A,N,A), m = 2, α = 0.5, γ = 0.25, ℓ0 = 10, seasonal states (s[0] most recent)
        // [-1, 1]: the next period has effect +1.  y1 = 12: f = 11, ℓ = 10 + .5(11 − 10) = 10.5,
        // new s = 1 + .25(12 − 10 − 1) = 1.25 → states [1.25, -1].  y2 = 9: f = 9.5,
        // ℓ = 10.5 + .5(10 − 10.5) = 10.25, new s = −1 + .25(9 − 10.5 + 1) = −1.125.
        let spec = EtsSpec {
            error: ErrorKind::Additive,
            trend: TrendKind::None,
            season: SeasonKind::Additive,
        };
        let p = Params {
            alpha: 0.5,
            beta: 0.0,
            gamma: 0.25,
            phi: 1.0,
        };
        let init = States {
            l: 10.0,
            b: 0.0,
            s: vec![-1.0, 1.0],
        };
        let r = pass(&spec, &p, 2, &init, &[12.0, 9.0]).unwrap();
        assert_eq!(r.fitted, vec![11.0, 9.5]);
        assert_eq!(
            r.last,
            States {
                l: 10.25,
                b: 0.0,
                s: vec![-1.125, 1.25]
            }
        );
        assert_eq!(
            point_forecasts(&spec, &p, 2, &r.last, 3),
            vec![11.5, 9.125, 11.5]
        );
    }

    #[test]
    fn linear_variance_by_hand() {
        // ETS(A,A,N) with α = 0.5, β = 0.2, σ² = 2: c1 = 0.7, c2 = 0.9;
        // v1 = 2, v2 = 2(1 + .49) = 2.98, v3 = 2(1 + .49 + .81) = 4.6.
        let e = Ets {
            spec: AAN,
            alpha: 0.5,
            beta: 0.2,
            gamma: 0.0,
            phi: 1.0,
            loglik: 0.0,
            aic: 0.0,
            aicc: 0.0,
            sigma2: 2.0,
            m: 1,
            n: 10,
            scale: 1.0,
            last: States {
                l: 0.0,
                b: 0.0,
                s: vec![],
            },
            initial: States {
                l: 0.0,
                b: 0.0,
                s: vec![],
            },
            residuals: vec![],
        };
        let v = e.linear_variance(3);
        assert!(
            (v[0] - 2.0).abs() < 1e-12 && (v[1] - 2.98).abs() < 1e-12 && (v[2] - 4.6).abs() < 1e-12,
            "{v:?}"
        );
    }

    #[test]
    fn maximum_likelihood_recovers_a_straight_line_and_a_level() {
        let line: Vec<f64> = (0..20).map(|t| 5.0 + 2.0 * t as f64).collect();
        let s = Series::new(line, Frequency::Yearly).unwrap();
        let fit = Ets::fit(&s, AAN).unwrap();
        let f = fit.forecast(3, 95.0).unwrap();
        for (h, v) in f.mean.iter().enumerate() {
            assert!((v - (45.0 + 2.0 * h as f64)).abs() < 1e-3, "{:?}", f.mean);
        }
        // A series that only moves randomly around 100 gets a small α.
        let flat: Vec<f64> = (0..40)
            .map(|t| 100.0 + [1.0, -1.0, 0.5, -0.5, 0.0][t % 5] * ((t * 37 % 11) as f64 / 5.0))
            .collect();
        let fit = Ets::fit(&Series::new(flat, Frequency::Yearly).unwrap(), ANN).unwrap();
        assert!(fit.alpha < 0.2, "alpha {}", fit.alpha);
        assert!((fit.forecast(1, 95.0).unwrap().mean[0] - 100.0).abs() < 1.0);
    }

    #[test]
    fn candidates_follow_the_restrictions() {
        assert_eq!(EtsSpec::candidates(1, false, true).len(), 6);
        assert_eq!(EtsSpec::candidates(1, false, false).len(), 3);
        // 3 trends × (A error: N, A season; M error: N, A, M season) = 15.
        assert_eq!(EtsSpec::candidates(12, true, true).len(), 15);
        assert!(
            EtsSpec::candidates(12, true, true).iter().all(
                |s| !(s.error == ErrorKind::Additive && s.season == SeasonKind::Multiplicative)
            )
        );
    }

    #[test]
    fn multiplicative_models_refuse_non_positive_data() {
        let s = Series::new(
            vec![1.0, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            Frequency::Yearly,
        )
        .unwrap();
        let mnn = EtsSpec {
            error: ErrorKind::Multiplicative,
            ..ANN
        };
        assert_eq!(
            Ets::fit(&s, mnn).unwrap_err(),
            TsError::NotPositive("ETS(M,N,N)".into())
        );
        assert!(!Ets::auto(&s).unwrap().spec.is_multiplicative());
    }

    #[test]
    fn simulated_intervals_bracket_the_point_forecast() {
        let y: Vec<f64> = (0..48)
            .map(|t| {
                (100.0 + 2.0 * t as f64)
                    * [1.2, 0.8, 1.1, 0.9][t % 4]
                    * (1.0 + 0.02 * ((t * 7 % 5) as f64 - 2.0))
            })
            .collect();
        let s = Series::new(y, Frequency::Quarterly).unwrap();
        let spec = EtsSpec {
            error: ErrorKind::Multiplicative,
            trend: TrendKind::Additive,
            season: SeasonKind::Multiplicative,
        };
        let fit = Ets::fit(&s, spec).unwrap();
        let f = fit.forecast(8, 90.0).unwrap();
        for h in 0..8 {
            assert!(
                f.lower[h] < f.mean[h] && f.mean[h] < f.upper[h],
                "h={h} {f:?}"
            );
        }
        // Same season one year later: the interval is wider.
        assert!(f.upper[4] - f.lower[4] > f.upper[0] - f.lower[0]);
        assert_eq!(
            f,
            fit.forecast(8, 90.0).unwrap(),
            "seeded simulation is reproducible"
        );
    }
}
