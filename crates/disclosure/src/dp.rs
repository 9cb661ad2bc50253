//! Differentially private counts: every cell of a frequency table gets independent integer noise
//! calibrated to how much one person can change the table, so that whatever an attacker knows,
//! the release barely depends on whether any one person is in the data (Dwork, McSherry, Nissim
//! & Smith 2006, "Calibrating noise to sensitivity in private data analysis").
//!
//! - **Mechanisms** ([`Mechanism`]): the *discrete Laplace* (two-sided geometric) mechanism,
//!   `P(x) ∝ exp(−|x|/b)` with scale `b = Δ1/ε`, gives pure ε-differential privacy (Ghosh,
//!   Roughgarden & Sundararajan 2009); the *discrete Gaussian*, `P(x) ∝ exp(−x²/(2σ²))` with
//!   `σ² = Δ2²/(2ρ)`, gives ρ-zero-concentrated differential privacy (Bun & Steinke 2016;
//!   Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy", NeurIPS).
//! - **Sampling** is exact, with integer arithmetic only: no floating-point Laplace noise, whose
//!   rounding leaks the true value (Mironov 2012, "On significance of the least significant bits
//!   for differential privacy", CCS). [`bernoulli_exp`], [`DiscreteLaplace`] and
//!   [`DiscreteGaussian`] are Algorithms 1, 2 and 3 of Canonne, Kamath & Steinke, on rational
//!   parameters ([`Rational`]). The privacy parameters arrive as `f64`; the scale `Δ1/ε` and the
//!   variance `Δ2²/(2ρ)` are converted to a rational just *above* them, with 24 significant
//!   bits ([`Rational::at_least`]), so the noise is never smaller than the guarantee needs (the
//!   privacy loss is at most the declared ε or ρ).
//! - **Sensitivity** ([`sensitivity`]): one person counts in one leaf cell and in every margin
//!   above it, so adding or removing one person changes `Δ1 = ∏(depth + 1)` cells by 1 each
//!   (`Δ2 = √Δ1`).
//! - **Post-processing** keeps the guarantee: negative noisy counts are set to 0, which only
//!   brings them closer to the truth; structural zeros stay 0 (they are public knowledge). The
//!   result is not additive.
//! - **Accuracy** ([`accuracy`]): the noise's standard deviation and a 95% margin of error per
//!   cell, for the release log.
//! - **Budget** ([`Budget`]): a release declares its total ε (or ρ); every noisy table charges
//!   its cost, sequential composition adds them up, and overspending is refused.

use crate::{DisclosureError, Kind, Table};
use rand::Rng;
use serde::Serialize;

/// A non-negative rational number `num / den`, `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rational {
    num: u64,
    den: u64,
}

/// Bounds of [`Rational::at_least`].
const AT_LEAST_MIN: f64 = 1.0 / 65_536.0;
const AT_LEAST_MAX: f64 = (1u64 << 40) as f64;
/// Significant bits of [`Rational::at_least`].
const AT_LEAST_BITS: i32 = 24;

impl Rational {
    /// `num / den`.
    ///
    /// # Errors
    /// [`DisclosureError::Input`] if `den` is 0.
    pub fn new(num: u64, den: u64) -> Result<Rational, DisclosureError> {
        if den == 0 {
            return Err(DisclosureError::Input(format!(
                "rational {num}/{den} has a zero denominator"
            )));
        }
        Ok(Rational { num, den })
    }

    pub fn num(&self) -> u64 {
        self.num
    }

    pub fn den(&self) -> u64 {
        self.den
    }

    pub fn to_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// A rational `r > x` with `r − x ≤ 2^−23·x`: for `x < 2^24`, `den = 2^k` with the least `k`
    /// such that `x·2^k ≥ 2^24` and `num = ceil(x·2^k) + 1` (exact in floating point, since
    /// multiplying by a power of two is); for larger `x`, `den = 1` and `num = ceil(x) + 1`.
    /// The `+ 1` absorbs any rounding in computing `x` (e.g. `Δ1/ε`), whose relative error is
    /// far below `2^−24`.
    ///
    /// # Errors
    /// [`DisclosureError::Input`] unless `x` is in `[2^−16, 2^40]` (the range in which the
    /// samplers' integer arithmetic cannot overflow).
    pub fn at_least(x: f64) -> Result<Rational, DisclosureError> {
        if !(AT_LEAST_MIN..=AT_LEAST_MAX).contains(&x) {
            return Err(DisclosureError::Input(format!(
                "noise parameter {x} is outside [2^-16, 2^40]"
            )));
        }
        let target = f64::from(1u32 << AT_LEAST_BITS);
        let mut den = 1u64;
        while x * (den as f64) < target {
            den <<= 1;
        }
        Ok(Rational {
            num: (x * den as f64).ceil() as u64 + 1,
            den,
        })
    }
}

/// A uniform integer in `0..d` (`d > 0`), exactly: rejection from the smallest power of two.
fn uniform_below(rng: &mut impl Rng, d: u128) -> u128 {
    let bits = 128 - (d - 1).leading_zeros();
    let mask = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    loop {
        let x = if bits <= 32 {
            u128::from(rng.random::<u32>())
        } else if bits <= 64 {
            u128::from(rng.random::<u64>())
        } else {
            rng.random::<u128>()
        } & mask;
        if x < d {
            return x;
        }
    }
}

/// Bernoulli(n/d), exactly (certain outcomes draw nothing).
fn bernoulli(rng: &mut impl Rng, n: u128, d: u128) -> bool {
    if n == 0 {
        false
    } else if n >= d {
        true
    } else {
        uniform_below(rng, d) < n
    }
}

/// Bernoulli(exp(−n/d)), Algorithm 1 of Canonne, Kamath & Steinke (2020).
fn bernoulli_exp_ratio(rng: &mut impl Rng, n: u128, d: u128) -> bool {
    if n <= d {
        // γ ≤ 1: count successes of Bernoulli(γ/k) for k = 1, 2, ... until the first failure;
        // P(the failure comes at an odd k) = exp(−γ). Bernoulli(γ/k) is Bernoulli(γ) and
        // Bernoulli(1/k) together, which keeps the numbers small.
        let mut k: u128 = 1;
        while bernoulli(rng, n, d) && bernoulli(rng, 1, k) {
            k += 1;
        }
        k % 2 == 1
    } else {
        // exp(−γ) = exp(−1)^floor(γ) · exp(−(γ − floor(γ)))
        let whole = n / d;
        let mut i = 0;
        while i < whole {
            if !bernoulli_exp_ratio(rng, 1, 1) {
                return false;
            }
            i += 1;
        }
        bernoulli_exp_ratio(rng, n % d, d)
    }
}

/// A draw from Bernoulli(exp(−γ)) for a rational `γ ≥ 0`, exactly (Canonne, Kamath & Steinke
/// 2020, Algorithm 1).
pub fn bernoulli_exp(rng: &mut impl Rng, gamma: Rational) -> bool {
    bernoulli_exp_ratio(rng, u128::from(gamma.num), u128::from(gamma.den))
}

/// The discrete Laplace distribution `P(x) ∝ exp(−|x|/scale)` on the integers, sampled exactly
/// (Canonne, Kamath & Steinke 2020, Algorithm 2, with `scale = t/s`).
///
/// Its variance is `2q/(1 − q)²` with `q = exp(−1/scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteLaplace {
    t: u64,
    s: u64,
}

impl DiscreteLaplace {
    /// # Errors
    /// [`DisclosureError::Input`] if the scale is 0.
    pub fn new(scale: Rational) -> Result<DiscreteLaplace, DisclosureError> {
        if scale.num == 0 {
            return Err(DisclosureError::Input(
                "discrete Laplace scale must be positive".into(),
            ));
        }
        Ok(DiscreteLaplace {
            t: scale.num,
            s: scale.den,
        })
    }

    pub fn sample(&self, rng: &mut impl Rng) -> i64 {
        let (t, s) = (u128::from(self.t), u128::from(self.s));
        loop {
            // X = U + t·V is geometric with parameter 1 − exp(−1/t), split into its remainder
            // U (uniform, accepted with probability exp(−U/t)) and quotient V by t.
            let u = uniform_below(rng, t);
            if !bernoulli_exp_ratio(rng, u, t) {
                continue;
            }
            let mut v: u128 = 0;
            while bernoulli_exp_ratio(rng, 1, 1) {
                v += 1;
            }
            // Y = floor(X / s) is geometric with parameter 1 − exp(−s/t)
            let y = (u + t * v) / s;
            let negative = rng.random::<bool>();
            if negative && y == 0 {
                continue;
            }
            let y = i64::try_from(y).unwrap_or(i64::MAX);
            return if negative { -y } else { y };
        }
    }
}

/// The discrete Gaussian distribution `P(x) ∝ exp(−x²/(2σ²))` on the integers, sampled exactly
/// by rejection from a discrete Laplace (Canonne, Kamath & Steinke 2020, Algorithm 3).
///
/// Its variance is at most `σ²`, and equal to it up to `~e^(−2π²σ²)` for `σ ≥ 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteGaussian {
    /// σ² = n/d
    n: u128,
    d: u128,
    /// floor(σ) + 1, the scale of the proposal
    t: u64,
    /// 2·n·d·t², the denominator of the rejection exponent
    den: u128,
}

impl DiscreteGaussian {
    /// # Errors
    /// [`DisclosureError::Input`] if `σ²` is 0 or above `2^40`, or its numerator and
    /// denominator are so large that `2·num·den·(floor(σ) + 1)²` overflows 128 bits
    /// ([`Rational::at_least`] never gives such values).
    pub fn new(sigma2: Rational) -> Result<DiscreteGaussian, DisclosureError> {
        if sigma2.num == 0 || sigma2.to_f64() > AT_LEAST_MAX {
            return Err(DisclosureError::Input(format!(
                "discrete Gaussian variance {}/{} must be in (0, 2^40]",
                sigma2.num, sigma2.den
            )));
        }
        let t = (sigma2.num / sigma2.den).isqrt() + 1;
        let (n, d) = (u128::from(sigma2.num), u128::from(sigma2.den));
        let den = (2 * n)
            .checked_mul(d)
            .and_then(|x| x.checked_mul(u128::from(t) * u128::from(t)))
            .ok_or_else(|| {
                DisclosureError::Input(format!(
                    "discrete Gaussian variance {}/{} has too large a numerator or denominator",
                    sigma2.num, sigma2.den
                ))
            })?;
        Ok(DiscreteGaussian { n, d, t, den })
    }

    /// A draw. The rejection exponent `(|Y| − σ²/t)²/(2σ²)` is computed exactly as
    /// `(|Y|·d·t − n)² / (2·n·d·t²)`; a proposal for which that numerator would overflow 128
    /// bits is rejected outright. For σ² within [2^−16, 2^40] and 24-bit parameters (those of
    /// [`Rational::at_least`]) such a proposal has an exponent above 2^40, an acceptance
    /// probability below `exp(−2^40)`.
    pub fn sample(&self, rng: &mut impl Rng) -> i64 {
        let proposal = DiscreteLaplace { t: self.t, s: 1 };
        let t = u128::from(self.t);
        loop {
            let y = proposal.sample(rng);
            let Some(a) = u128::from(y.unsigned_abs())
                .checked_mul(self.d)
                .and_then(|x| x.checked_mul(t))
            else {
                continue;
            };
            let diff = a.abs_diff(self.n);
            let Some(num) = diff.checked_mul(diff) else {
                continue;
            };
            if bernoulli_exp_ratio(rng, num, self.den) {
                return y;
            }
        }
    }
}

/// How noise is calibrated: pure ε-differential privacy or ρ-zero-concentrated differential
/// privacy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mechanism", rename_all = "lowercase")]
pub enum Mechanism {
    /// Discrete Laplace noise with scale `Δ1/ε`: ε-DP.
    Laplace { epsilon: f64 },
    /// Discrete Gaussian noise with variance `Δ2²/(2ρ)`: ρ-zCDP.
    Gaussian { rho: f64 },
}

impl Mechanism {
    /// What one use costs in a budget of the given kind: ε for pure DP; under zCDP, ρ, or
    /// `ε²/2` for an ε-DP mechanism (Bun & Steinke 2016, Proposition 1.4).
    ///
    /// # Errors
    /// [`DisclosureError::Input`] when a zCDP mechanism is charged to a pure-DP budget (zCDP
    /// does not imply pure DP).
    pub fn cost(&self, accounting: Accounting) -> Result<f64, DisclosureError> {
        match (*self, accounting) {
            (Mechanism::Laplace { epsilon }, Accounting::Pure) => Ok(epsilon),
            (Mechanism::Laplace { epsilon }, Accounting::Zcdp) => Ok(epsilon * epsilon / 2.0),
            (Mechanism::Gaussian { rho }, Accounting::Zcdp) => Ok(rho),
            (Mechanism::Gaussian { rho }, Accounting::Pure) => {
                Err(DisclosureError::Input(format!(
                    "the Gaussian mechanism (rho = {rho}) gives zCDP, not pure differential \
                     privacy; declare the release's budget as rho (zCDP) or use Laplace noise"
                )))
            }
        }
    }
}

/// The unit of a privacy budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accounting {
    /// Pure differential privacy: the budget is an ε.
    Pure,
    /// Zero-concentrated differential privacy: the budget is a ρ.
    Zcdp,
}

/// Relative slack when comparing spending with the budget (so that three spends of 0.1 fit in
/// 0.3 despite floating point).
const BUDGET_SLACK: f64 = 1e-9;

/// A release's declared privacy budget and what has been spent from it, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    accounting: Accounting,
    total: f64,
    spent: Vec<Spend>,
}

/// One charge to a [`Budget`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spend {
    /// What spent it (a table's name).
    pub name: String,
    pub amount: f64,
}

impl Budget {
    /// A budget of `total` ε (pure DP) or ρ (zCDP).
    ///
    /// # Errors
    /// [`DisclosureError::Input`] unless `total` is positive and finite.
    pub fn new(accounting: Accounting, total: f64) -> Result<Budget, DisclosureError> {
        if !(total.is_finite() && total > 0.0) {
            return Err(DisclosureError::Input(format!(
                "privacy budget must be positive and finite, got {total}"
            )));
        }
        Ok(Budget {
            accounting,
            total,
            spent: Vec::new(),
        })
    }

    pub fn accounting(&self) -> Accounting {
        self.accounting
    }

    pub fn total(&self) -> f64 {
        self.total
    }

    /// The sum of all spends (sequential composition).
    pub fn spent(&self) -> f64 {
        self.spent.iter().map(|s| s.amount).sum()
    }

    pub fn remaining(&self) -> f64 {
        (self.total - self.spent()).max(0.0)
    }

    /// Every spend, in order.
    pub fn spends(&self) -> &[Spend] {
        &self.spent
    }

    /// Spend `amount` (in the budget's unit) on `name`.
    ///
    /// # Errors
    /// [`DisclosureError::Input`] if `amount` is negative or not finite, or if it would take
    /// the spending above the total; nothing is recorded then.
    pub fn spend(&mut self, name: &str, amount: f64) -> Result<(), DisclosureError> {
        if !(amount.is_finite() && amount >= 0.0) {
            return Err(DisclosureError::Input(format!(
                "{name} asks for privacy budget {amount}, which is not a non-negative number"
            )));
        }
        let after = self.spent() + amount;
        if after > self.total * (1.0 + BUDGET_SLACK) {
            let unit = match self.accounting {
                Accounting::Pure => "epsilon",
                Accounting::Zcdp => "rho",
            };
            return Err(DisclosureError::Input(format!(
                "{name} needs {unit} = {amount} but only {} of the release's {} is left; \
                 hint: raise the declared budget, publish fewer noisy tables or give each less",
                self.remaining(),
                self.total
            )));
        }
        self.spent.push(Spend {
            name: name.to_string(),
            amount,
        });
        Ok(())
    }

    /// Spend what one use of `mechanism` costs ([`Mechanism::cost`]).
    ///
    /// # Errors
    /// As [`Mechanism::cost`] and [`Budget::spend`].
    pub fn charge(&mut self, name: &str, mechanism: Mechanism) -> Result<(), DisclosureError> {
        let amount = mechanism.cost(self.accounting)?;
        self.spend(name, amount)
    }
}

/// The L1 and L2 sensitivity of a frequency table to one person: a person counts in one leaf
/// cell and in every margin above it, i.e. in `∏ (depth of the leaf code + 1)` cells over the
/// dimensions (the maximum over leaves for a ragged hierarchy), each changing by 1.
/// `L2 = √L1`.
pub fn sensitivity(table: &Table) -> (f64, f64) {
    let l1: f64 = table
        .dims
        .iter()
        .map(|dim| {
            (0..dim.len())
                .filter(|&i| dim.is_leaf(i))
                .map(|i| dim.depth(i) + 1)
                .max()
                .unwrap_or(1) as f64
        })
        .product();
    (l1, l1.sqrt())
}

/// The noise distribution of a calibrated mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "noise", rename_all = "lowercase")]
pub enum Noise {
    /// Discrete Laplace with this scale.
    Laplace { scale: Rational },
    /// Discrete Gaussian with this variance parameter σ².
    Gaussian { sigma2: Rational },
}

/// How much noise a mechanism puts on a table's cells, for the release log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub mechanism: Mechanism,
    /// The table's sensitivity ([`sensitivity`]).
    pub l1: f64,
    pub l2: f64,
    pub noise: Noise,
    /// The standard deviation of the noise on one cell.
    pub std_dev: f64,
    /// With probability at least 95%, the noise on a cell lies within `±margin_95` (the
    /// smallest such integer). Clamping at 0 only brings a count closer to the truth, so the
    /// margin holds for the published counts too.
    pub margin_95: f64,
}

impl Accuracy {
    /// The 95% margin of error of every cell: [`Accuracy::margin_95`], 0 for structural zeros.
    pub fn per_cell(&self, table: &Table) -> Vec<f64> {
        table
            .cells
            .iter()
            .map(|c| {
                if c.structural_zero {
                    0.0
                } else {
                    self.margin_95
                }
            })
            .collect()
    }
}

/// Calibrate `mechanism` to `table`'s sensitivity and describe the resulting noise.
///
/// # Errors
/// [`DisclosureError::Input`] if ε or ρ is not positive and finite or gives a noise parameter
/// outside [`Rational::at_least`]'s range.
pub fn accuracy(table: &Table, mechanism: Mechanism) -> Result<Accuracy, DisclosureError> {
    let (l1, l2) = sensitivity(table);
    let (noise, std_dev, margin_95) = match mechanism {
        Mechanism::Laplace { epsilon } => {
            if !(epsilon.is_finite() && epsilon > 0.0) {
                return Err(DisclosureError::Input(format!(
                    "epsilon must be positive and finite, got {epsilon}"
                )));
            }
            let scale = Rational::at_least(l1 / epsilon).map_err(|e| {
                DisclosureError::Input(format!("epsilon {epsilon} for table {}: {e}", table.name))
            })?;
            let (sd, margin) = laplace_accuracy(scale.to_f64());
            (Noise::Laplace { scale }, sd, margin)
        }
        Mechanism::Gaussian { rho } => {
            if !(rho.is_finite() && rho > 0.0) {
                return Err(DisclosureError::Input(format!(
                    "rho must be positive and finite, got {rho}"
                )));
            }
            // Δ2² = Δ1 exactly (every affected cell changes by 1)
            let sigma2 = Rational::at_least(l1 / (2.0 * rho)).map_err(|e| {
                DisclosureError::Input(format!("rho {rho} for table {}: {e}", table.name))
            })?;
            let (sd, margin) = gaussian_accuracy(sigma2.to_f64());
            (Noise::Gaussian { sigma2 }, sd, margin)
        }
    };
    Ok(Accuracy {
        mechanism,
        l1,
        l2,
        noise,
        std_dev,
        margin_95,
    })
}

/// Standard deviation and 95% margin of discrete Laplace noise with this scale:
/// `P(|X| > m) = 2q^(m+1)/(1 + q)`, `q = exp(−1/scale)`.
fn laplace_accuracy(scale: f64) -> (f64, f64) {
    let q = (-1.0 / scale).exp();
    let var = 2.0 * q / ((1.0 - q) * (1.0 - q));
    let tail = |m: f64| 2.0 * q.powf(m + 1.0) / (1.0 + q);
    let guess = ((0.025 * (1.0 + q)).ln() / q.ln()).ceil() - 1.0;
    let mut m = if guess.is_finite() {
        guess.max(0.0)
    } else {
        0.0
    };
    while tail(m) > 0.05 {
        m += 1.0;
    }
    while m > 0.0 && tail(m - 1.0) <= 0.05 {
        m -= 1.0;
    }
    (var.sqrt(), m)
}

/// Standard deviation and 95% margin of discrete Gaussian noise with parameter σ², by summing
/// its probabilities (for σ > 10⁴ the continuous approximation, exact to far below a unit).
fn gaussian_accuracy(sigma2: f64) -> (f64, f64) {
    let sigma = sigma2.sqrt();
    if sigma > 1e4 {
        return (sigma, (1.959_963_984_540_054 * sigma - 0.5).ceil());
    }
    let reach = (38.0 * sigma).ceil() as i64 + 1;
    let weight = |x: i64| (-((x * x) as f64) / (2.0 * sigma2)).exp();
    let z: f64 = 1.0 + 2.0 * (1..=reach).map(weight).sum::<f64>();
    let var = 2.0 * (1..=reach).map(|x| (x * x) as f64 * weight(x)).sum::<f64>() / z;
    let mut inside = 1.0 / z;
    let mut m = 0;
    while inside < 0.95 {
        m += 1;
        inside += 2.0 * weight(m) / z;
    }
    (var.sqrt(), m as f64)
}

/// Noisy counts for every cell of a frequency table: count + independent noise calibrated to the
/// table's sensitivity ([`accuracy`] describes it), then clamped at 0. Structural zeros stay 0.
/// The caller charges the mechanism to the release's [`Budget`].
///
/// # Errors
/// [`DisclosureError::Input`] for a magnitude table (its sensitivity depends on bounding each
/// person's contribution, which this function does not do), a count that is not a non-negative
/// integer below 2^53, or a mechanism that [`accuracy`] refuses.
pub fn noisy_counts(
    table: &Table,
    mechanism: Mechanism,
    rng: &mut impl Rng,
) -> Result<Vec<f64>, DisclosureError> {
    if table.kind != Kind::Frequency {
        return Err(DisclosureError::Input(format!(
            "differentially private counts need a frequency table; table {} is a magnitude table",
            table.name
        )));
    }
    for (index, cell) in table.cells.iter().enumerate() {
        let v = cell.value;
        // non-negative integers that a double holds exactly (below 2^53)
        let count = (0.0..9_007_199_254_740_992.0).contains(&v) && v.fract() == 0.0;
        if !cell.structural_zero && !count {
            return Err(DisclosureError::Input(format!(
                "cell ({}) of table {} has count {v}, not a non-negative integer",
                table.codes(index).join(", "),
                table.name
            )));
        }
    }
    let accuracy = accuracy(table, mechanism)?;
    enum Sampler {
        Laplace(DiscreteLaplace),
        Gaussian(DiscreteGaussian),
    }
    let sampler = match accuracy.noise {
        Noise::Laplace { scale } => Sampler::Laplace(DiscreteLaplace::new(scale)?),
        Noise::Gaussian { sigma2 } => Sampler::Gaussian(DiscreteGaussian::new(sigma2)?),
    };
    Ok(table
        .cells
        .iter()
        .map(|cell| {
            if cell.structural_zero {
                return 0.0;
            }
            let noise = match &sampler {
                Sampler::Laplace(s) => s.sample(rng),
                Sampler::Gaussian(s) => s.sample(rng),
            };
            (cell.value as i64).saturating_add(noise).max(0) as f64
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dim;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const DRAWS: usize = 200_000;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    fn ratio(num: u64, den: u64) -> Rational {
        Rational::new(num, den).unwrap()
    }

    /// Exact mean-zero moments (variance, fourth moment) of a symmetric distribution on the
    /// integers with unnormalised weights `w(|x|)`.
    fn moments(w: impl Fn(f64) -> f64, reach: i64) -> (f64, f64) {
        let (mut z, mut m2, mut m4) = (w(0.0), 0.0, 0.0);
        for x in 1..=reach {
            let (x, p) = (x as f64, 2.0 * w(x as f64));
            z += p;
            m2 += p * x * x;
            m4 += p * x * x * x * x;
        }
        (m2 / z, m4 / z)
    }

    /// Mean and variance of draws match a mean-zero distribution with variance `var` and fourth
    /// moment `m4`, within 5 standard errors.
    fn check_draws(draws: &[i64], var: f64, m4: f64) {
        let n = draws.len() as f64;
        let mean = draws.iter().map(|&x| x as f64).sum::<f64>() / n;
        let second = draws.iter().map(|&x| (x * x) as f64).sum::<f64>() / n;
        assert!(
            mean.abs() < 5.0 * (var / n).sqrt(),
            "mean {mean}, var {var}"
        );
        let se = ((m4 - var * var) / n).sqrt();
        assert!(
            (second - var).abs() < 5.0 * se,
            "variance {second} vs {var} (se {se})"
        );
    }

    #[test]
    fn bernoulli_exp_has_probability_exp_minus_gamma() {
        let mut r = rng(1);
        for (n, d) in [(1, 2), (1, 1), (3, 2), (7, 3), (1, 10)] {
            let p = (-(n as f64) / d as f64).exp();
            let hits = (0..DRAWS)
                .filter(|_| bernoulli_exp(&mut r, ratio(n, d)))
                .count();
            let freq = hits as f64 / DRAWS as f64;
            let se = (p * (1.0 - p) / DRAWS as f64).sqrt();
            assert!((freq - p).abs() < 5.0 * se, "γ = {n}/{d}: {freq} vs {p}");
        }
        assert!((0..1000).all(|_| bernoulli_exp(&mut r, ratio(0, 1))));
    }

    #[test]
    fn discrete_laplace_has_mean_zero_and_its_variance() {
        let mut r = rng(2);
        for (num, den) in [(1, 1), (3, 2), (1, 3), (10, 1)] {
            let scale = num as f64 / den as f64;
            let q = (-1.0 / scale).exp();
            let closed_form = 2.0 * q / ((1.0 - q) * (1.0 - q));
            let (var, m4) = moments(|x| q.powf(x), 2000);
            assert!((var - closed_form).abs() < 1e-9 * closed_form);
            let lap = DiscreteLaplace::new(ratio(num, den)).unwrap();
            let draws: Vec<i64> = (0..DRAWS).map(|_| lap.sample(&mut r)).collect();
            check_draws(&draws, var, m4);
            // and P(0) = (1 − q)/(1 + q)
            let p0 = (1.0 - q) / (1.0 + q);
            let f0 = draws.iter().filter(|&&x| x == 0).count() as f64 / DRAWS as f64;
            assert!((f0 - p0).abs() < 5.0 * (p0 * (1.0 - p0) / DRAWS as f64).sqrt());
        }
    }

    #[test]
    fn discrete_gaussian_has_mean_zero_and_its_variance() {
        let mut r = rng(3);
        for (num, den) in [(1, 1), (5, 2), (1, 4), (100, 1)] {
            let sigma2 = num as f64 / den as f64;
            let (var, m4) = moments(|x| (-x * x / (2.0 * sigma2)).exp(), 400);
            assert!(var <= sigma2 * (1.0 + 1e-12));
            if sigma2 >= 1.0 {
                assert!(var > sigma2 * (1.0 - 1e-6), "σ² = {sigma2}: variance {var}");
            } else {
                assert!(var < sigma2 * 0.9, "σ² = {sigma2}: variance {var}");
            }
            let g = DiscreteGaussian::new(ratio(num, den)).unwrap();
            let draws: Vec<i64> = (0..DRAWS).map(|_| g.sample(&mut r)).collect();
            check_draws(&draws, var, m4);
        }
    }

    #[test]
    fn samplers_are_reproducible_from_a_seed() {
        let lap = DiscreteLaplace::new(ratio(5, 2)).unwrap();
        let a: Vec<i64> = (0..100).map(|_| lap.sample(&mut rng(9))).collect();
        let b: Vec<i64> = (0..100).map(|_| lap.sample(&mut rng(9))).collect();
        assert_eq!(a, b);
        let mut r = rng(9);
        let c: Vec<i64> = (0..100).map(|_| lap.sample(&mut r)).collect();
        assert!(c.iter().any(|&x| x != c[0]));
    }

    #[test]
    fn at_least_rounds_up_with_24_bits() {
        for x in [
            1.0 / 65_536.0,
            0.1,
            1.0 / 3.0,
            6.0,
            60.000_1,
            12_345_678.9,
            1e12,
        ] {
            let r = Rational::at_least(x).unwrap();
            let y = r.num() as f64 / r.den() as f64;
            assert!(
                y > x && (y - x) / x <= 2f64.powi(-23),
                "{x}: {}/{}",
                r.num(),
                r.den()
            );
        }
        for x in [0.0, -1.0, 1e-6, 1e13, f64::NAN, f64::INFINITY] {
            assert!(Rational::at_least(x).is_err(), "{x}");
        }
    }

    #[test]
    fn budget_refuses_to_overspend() {
        let mut b = Budget::new(Accounting::Pure, 1.0).unwrap();
        b.spend("t1", 0.5).unwrap();
        b.charge("t2", Mechanism::Laplace { epsilon: 0.3 }).unwrap();
        let err = b.spend("t3", 0.3).unwrap_err();
        assert!(matches!(err, DisclosureError::Input(_)), "{err}");
        assert!(err.to_string().contains("t3"), "{err}");
        assert_eq!(b.spends().len(), 2);
        assert_eq!(b.spends()[1].name, "t2");
        assert!((b.remaining() - 0.2).abs() < 1e-12);
        b.spend("t4", 0.2).unwrap();
        assert!(b.spend("t5", 1e-6).is_err());
        assert!(b.spend("t6", -0.1).is_err());
        assert!(b.charge("t7", Mechanism::Gaussian { rho: 0.01 }).is_err());
        // float sums at the edge still fit: 3 x 0.1 in 0.3
        let mut b = Budget::new(Accounting::Pure, 0.3).unwrap();
        for t in ["a", "b", "c"] {
            b.spend(t, 0.1).unwrap();
        }
        assert!(Budget::new(Accounting::Pure, 0.0).is_err());
    }

    #[test]
    fn zcdp_budget_charges_laplace_at_half_epsilon_squared() {
        let mut b = Budget::new(Accounting::Zcdp, 0.5).unwrap();
        b.charge("a", Mechanism::Laplace { epsilon: 0.6 }).unwrap();
        assert!((b.spent() - 0.18).abs() < 1e-12);
        b.charge("b", Mechanism::Gaussian { rho: 0.32 }).unwrap();
        assert!(b.charge("c", Mechanism::Gaussian { rho: 0.01 }).is_err());
    }

    fn zone_by_sex() -> Table {
        let zones = Dim::tree(
            "zone",
            &[
                ("D1".into(), None),
                ("D2".into(), None),
                ("Z1".into(), Some("D1".into())),
                ("Z2".into(), Some("D1".into())),
                ("Z3".into(), Some("D2".into())),
            ],
        );
        let mut t = Table::new(
            "t",
            Kind::Frequency,
            vec![zones, Dim::flat("sex", &["F", "M"])],
        );
        for (z, s, v) in [("Z1", "F", 3.0), ("Z1", "M", 0.0), ("Z2", "F", 40.0)] {
            let i = t.find(&[z, s]).unwrap();
            t.cells[i].value = v;
        }
        for s in ["F", "M"] {
            let i = t.find(&["Z3", s]).unwrap();
            t.cells[i].value = 1000.0;
        }
        t.sum_up();
        t
    }

    #[test]
    fn sensitivity_counts_every_margin_above_a_leaf() {
        let (l1, l2) = sensitivity(&zone_by_sex());
        assert_eq!(l1, 6.0);
        assert!((l2 - 6f64.sqrt()).abs() < 1e-12);
        let cube = Table::new(
            "c",
            Kind::Frequency,
            ["a", "b", "c"].map(|n| Dim::flat(n, &["x", "y"])).to_vec(),
        );
        assert_eq!(sensitivity(&cube).0, 8.0);
    }

    #[test]
    fn noisy_counts_keep_structural_zeros_and_are_reproducible() {
        let mut t = zone_by_sex();
        let sz = t.find(&["Z1", "M"]).unwrap();
        t.cells[sz].structural_zero = true;
        for mechanism in [
            Mechanism::Laplace { epsilon: 1.0 },
            Mechanism::Gaussian { rho: 0.5 },
        ] {
            let a = noisy_counts(&t, mechanism, &mut rng(4)).unwrap();
            assert_eq!(a, noisy_counts(&t, mechanism, &mut rng(4)).unwrap());
            assert_ne!(a, noisy_counts(&t, mechanism, &mut rng(5)).unwrap());
            assert_eq!(a[sz], 0.0);
            assert!(a.iter().all(|&x| x >= 0.0 && x.fract() == 0.0));
            let acc = accuracy(&t, mechanism).unwrap();
            assert_eq!(acc.per_cell(&t)[sz], 0.0);
            assert!(acc.per_cell(&t)[0] > 0.0);
        }
        let mut m = zone_by_sex();
        m.kind = Kind::Magnitude;
        let err = noisy_counts(&m, Mechanism::Laplace { epsilon: 1.0 }, &mut rng(1));
        assert!(matches!(err, Err(DisclosureError::Input(_))));
        let err = noisy_counts(&t, Mechanism::Laplace { epsilon: 0.0 }, &mut rng(1));
        assert!(matches!(err, Err(DisclosureError::Input(_))));
    }

    #[test]
    fn accuracy_states_the_calibrated_noise() {
        let t = zone_by_sex();
        // Laplace: scale 6/ε = 12, margin m is the least with P(|X| > m) ≤ 5%
        let acc = accuracy(&t, Mechanism::Laplace { epsilon: 0.5 }).unwrap();
        let Noise::Laplace { scale } = acc.noise else {
            panic!("{acc:?}")
        };
        assert!(scale.to_f64() > 12.0 && scale.to_f64() < 12.0 * (1.0 + 1e-6));
        let q = (-1.0 / scale.to_f64()).exp();
        let beyond = |m: f64| 2.0 * q.powf(m + 1.0) / (1.0 + q);
        assert!(beyond(acc.margin_95) <= 0.05 && beyond(acc.margin_95 - 1.0) > 0.05);
        assert!((acc.std_dev - (2.0 * q).sqrt() / (1.0 - q)).abs() < 1e-9);
        // Gaussian: σ² = 6/(2ρ) = 30, margin near 1.96σ
        let acc = accuracy(&t, Mechanism::Gaussian { rho: 0.1 }).unwrap();
        let Noise::Gaussian { sigma2 } = acc.noise else {
            panic!("{acc:?}")
        };
        assert!(sigma2.to_f64() > 30.0 && sigma2.to_f64() < 30.0 * (1.0 + 1e-6));
        assert!((acc.std_dev - 30f64.sqrt()).abs() < 1e-6);
        assert!(
            (acc.margin_95 - 1.96 * 30f64.sqrt()).abs() <= 1.0,
            "{}",
            acc.margin_95
        );
    }

    #[test]
    fn margin_of_error_covers_95_percent_of_cells() {
        let codes: Vec<String> = (0..4000).map(|i| format!("c{i}")).collect();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        let mut t = Table::new("wide", Kind::Frequency, vec![Dim::flat("c", &codes)]);
        for c in t.cells.iter_mut().skip(1) {
            c.value = 500.0;
        }
        t.sum_up();
        for mechanism in [
            Mechanism::Laplace { epsilon: 0.5 },
            Mechanism::Gaussian { rho: 0.05 },
        ] {
            let acc = accuracy(&t, mechanism).unwrap();
            let noisy = noisy_counts(&t, mechanism, &mut rng(6)).unwrap();
            let errors: Vec<f64> = t.cells[1..]
                .iter()
                .zip(&noisy[1..])
                .map(|(c, x)| x - c.value)
                .collect();
            let n = errors.len() as f64;
            let inside = errors.iter().filter(|e| e.abs() <= acc.margin_95).count() as f64 / n;
            assert!(
                inside >= 0.95 - 5.0 * (0.05 * 0.95 / n).sqrt(),
                "{mechanism:?}: {inside}"
            );
            let sd = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
            assert!((sd / acc.std_dev - 1.0).abs() < 0.1, "{mechanism:?}: {sd}");
        }
    }
}
