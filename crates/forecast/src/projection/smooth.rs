//! Smoothing for small numbers: empirical-Bayes shrinkage of zone ratios towards the city, and
//! the Kannisto model for mortality at old ages.

/// The outcome of [`poisson_gamma`]: the prior and each zone's shrunk ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct Shrinkage {
    /// The city ratio `m = ΣO / ΣE` (the prior mean).
    pub mean: f64,
    /// The between-zone variance of the ratios beyond Poisson noise; 0 when the zones differ
    /// no more than chance would make them (then every zone gets `mean`).
    pub variance: f64,
    /// Shrunk ratio of each zone: posterior mean `(O + α) / (E + β)`.
    pub ratios: Vec<f64>,
}

/// Poisson–gamma empirical-Bayes estimates of zone ratios `O / E` (observed over expected
/// events, e.g. an SMR), shrunk towards the city ratio.
///
/// Model: `O_i ~ Poisson(θ_i E_i)`, `θ_i ~ Gamma(α, β)` (mean `α/β`, variance `α/β²`); the
/// posterior mean is `(O_i + α) / (E_i + β)` (Clayton & Kaldor 1987, "Empirical Bayes estimates
/// of age-standardized relative risks for use in disease mapping", *Biometrics* 43:671–681).
/// The prior is fitted by Marshall's global moment estimator (Marshall 1991, "Mapping disease
/// and mortality rates using empirical Bayes estimators", *Applied Statistics* 40:283–294):
/// `m = ΣO / ΣE`, `s² = Σ E_i (O_i/E_i − m)² / ΣE_i`, `A = s² − m / Ē` with `Ē` the mean of
/// `E_i` over the `n` zones with `E_i > 0`; `α = m²/A`, `β = m/A`. When `A ≤ 0` the zones
/// differ no more than Poisson noise would make them and every ratio is `m`. A zone with no
/// exposure (`E_i = 0`) gets the prior mean `m`: the city's rates. With no events at all
/// (`ΣE = 0`) every ratio is 1.
pub fn poisson_gamma(observed: &[f64], expected: &[f64]) -> Shrinkage {
    assert_eq!(observed.len(), expected.len(), "one expected per observed");
    let sum_o: f64 = observed.iter().sum();
    let sum_e: f64 = expected.iter().sum();
    if sum_e <= 0.0 {
        return Shrinkage {
            mean: 1.0,
            variance: 0.0,
            ratios: vec![1.0; observed.len()],
        };
    }
    let m = sum_o / sum_e;
    let n = expected.iter().filter(|&&e| e > 0.0).count() as f64;
    let s2 = observed
        .iter()
        .zip(expected)
        .filter(|(_, e)| **e > 0.0)
        .map(|(o, e)| e * (o / e - m).powi(2))
        .sum::<f64>()
        / sum_e;
    let a = s2 - m / (sum_e / n);
    if a <= 0.0 || m <= 0.0 {
        return Shrinkage {
            mean: m,
            variance: 0.0,
            ratios: vec![m; observed.len()],
        };
    }
    let alpha = m * m / a;
    let beta = m / a;
    Shrinkage {
        mean: m,
        variance: a,
        ratios: observed
            .iter()
            .zip(expected)
            .map(|(o, e)| (o + alpha) / (e + beta))
            .collect(),
    }
}

/// The Kannisto model of the force of mortality at old ages,
/// `μ(x) = a·e^{b(x−x₀)} / (1 + a·e^{b(x−x₀)})` (a logistic in age), with `x₀ = 80`.
///
/// Thatcher, Kannisto & Vaupel (1998), *The Force of Mortality at Ages 80 to 120*, Odense
/// University Press, found it the best of the simple models at these ages; the Human Mortality
/// Database fits it by Poisson maximum likelihood to ages 80 and over and uses the fitted rates
/// at the oldest ages (Wilmoth et al., *Methods Protocol for the Human Mortality Database*,
/// v6, 2021, §6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kannisto {
    pub a: f64,
    pub b: f64,
}

/// The age the Kannisto model is centred on.
pub const KANNISTO_X0: f64 = 80.0;

impl Kannisto {
    /// The rate at age `x`.
    pub fn rate(&self, x: f64) -> f64 {
        let e = self.a * (self.b * (x - KANNISTO_X0)).exp();
        e / (1.0 + e)
    }

    /// Poisson maximum-likelihood fit to `(age, deaths, exposure)` triples: maximises
    /// `Σ D ln μ(x) − R μ(x)` by Fisher scoring on `(ln a, b)`. `None` when there are fewer than
    /// two ages with exposure, no deaths, or the iteration does not converge.
    pub fn fit(points: &[(f64, f64, f64)]) -> Option<Kannisto> {
        let pts: Vec<_> = points.iter().filter(|p| p.2 > 0.0).copied().collect();
        let deaths: f64 = pts.iter().map(|p| p.1).sum();
        if pts.len() < 2 || deaths <= 0.0 {
            return None;
        }
        // start from typical human values (a = 0.05, b = 0.1); Fisher scoring is robust from there
        let (mut c, mut b) = ((0.05f64).ln(), 0.1);
        for _ in 0..200 {
            let (mut g0, mut g1, mut i00, mut i01, mut i11) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for &(x, d, r) in &pts {
                let t = x - KANNISTO_X0;
                let eta = c + b * t;
                let mu = 1.0 / (1.0 + (-eta).exp());
                // dℓ/dη = (D − Rμ)(1 − μ); expected information Rμ(1 − μ)²
                let score = (d - r * mu) * (1.0 - mu);
                let info = r * mu * (1.0 - mu) * (1.0 - mu);
                g0 += score;
                g1 += score * t;
                i00 += info;
                i01 += info * t;
                i11 += info * t * t;
            }
            let det = i00 * i11 - i01 * i01;
            if det.abs() < f64::MIN_POSITIVE {
                return None;
            }
            let dc = (i11 * g0 - i01 * g1) / det;
            let db = (i00 * g1 - i01 * g0) / det;
            c += dc;
            b += db;
            if !c.is_finite() || !b.is_finite() {
                return None;
            }
            if dc.abs() < 1e-12 && db.abs() < 1e-12 {
                return Some(Kannisto { a: c.exp(), b });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} != {b}");
    }

    #[test]
    fn marshall_moment_estimator_by_hand() {
        // O = 10, 0, 30; E = 20, 5, 15: m = 40/40 = 1, SMRs 0.5, 0, 2;
        // s² = (20·0.25 + 5·1 + 15·1)/40 = 0.625, Ē = 40/3, A = 0.625 − 3/40 = 0.55,
        // α = β = 1/0.55 = 20/11.
        let s = poisson_gamma(&[10.0, 0.0, 30.0], &[20.0, 5.0, 15.0]);
        close(s.mean, 1.0, 1e-12);
        close(s.variance, 0.55, 1e-12);
        // (10 + 20/11)/(20 + 20/11) = 130/240; (20/11)/(5 + 20/11) = 20/75;
        // (30 + 20/11)/(15 + 20/11) = 350/185
        close(s.ratios[0], 130.0 / 240.0, 1e-12);
        close(s.ratios[1], 20.0 / 75.0, 1e-12);
        close(s.ratios[2], 350.0 / 185.0, 1e-12);
    }

    #[test]
    fn shrinkage_pulls_small_zones_harder() {
        // Two zones with the same crude ratio 2 but 10 times different exposure: the small one
        // is pulled further towards the city mean.
        let s = poisson_gamma(&[2.0, 20.0, 100.0], &[1.0, 10.0, 150.0]);
        assert!(s.variance > 0.0);
        assert!(s.ratios[0] < s.ratios[1] && s.ratios[1] < 2.0);
        assert!(s.ratios[0] > s.mean);
    }

    #[test]
    fn zone_without_exposure_gets_the_city_ratio() {
        let s = poisson_gamma(&[10.0, 0.0, 30.0, 0.0], &[20.0, 5.0, 15.0, 0.0]);
        close(s.ratios[3], s.mean, 1e-12);
    }

    #[test]
    fn no_extra_poisson_variation_means_full_shrinkage() {
        // ratios 1, 1.1, 0.9 on small exposures: within Poisson noise, so A ≤ 0
        let s = poisson_gamma(&[10.0, 11.0, 9.0], &[10.0, 10.0, 10.0]);
        assert_eq!(s.variance, 0.0);
        for r in &s.ratios {
            close(*r, 1.0, 1e-12);
        }
    }

    #[test]
    fn nothing_observed_gives_ratio_one() {
        let s = poisson_gamma(&[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!(s.ratios, vec![1.0, 1.0]);
    }

    #[test]
    fn kannisto_rate_by_hand() {
        // a = 0.05, b = 0.1 at 90: 0.05·e / (1 + 0.05·e)
        let k = Kannisto { a: 0.05, b: 0.1 };
        let e = 0.05 * 1f64.exp();
        close(k.rate(90.0), e / (1.0 + e), 1e-15);
        close(k.rate(80.0), 0.05 / 1.05, 1e-15);
    }

    #[test]
    fn kannisto_fit_recovers_exact_data() {
        // deaths equal to their expectation: the score is zero at the true parameters
        let truth = Kannisto { a: 0.06, b: 0.11 };
        let pts: Vec<_> = (80..100)
            .map(|x| {
                let r = 1000.0 - 30.0 * f64::from(x - 80);
                (f64::from(x), r * truth.rate(f64::from(x)), r)
            })
            .collect();
        let k = Kannisto::fit(&pts).expect("converges");
        close(k.a, 0.06, 1e-9);
        close(k.b, 0.11, 1e-9);
    }

    #[test]
    fn kannisto_fit_needs_two_ages_and_deaths() {
        assert!(Kannisto::fit(&[(85.0, 3.0, 10.0)]).is_none());
        assert!(Kannisto::fit(&[(85.0, 0.0, 10.0), (86.0, 0.0, 10.0)]).is_none());
    }
}
