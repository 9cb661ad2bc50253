//! Individual re-identification risk of a record, from its class in the extract.
//!
//! Without weights the extract is the population, and the risk of a record in a class of `f`
//! records is `1/f`. With sampling weights, the population size of the class is estimated by the
//! sum of the class's weights `F` (at least `f`), and the risk is the Benedetti–Franconi
//! estimate `E(1/F_k | f_k)` under a negative-binomial model for the unseen population, in the
//! approximation of sdcMicro's `indivRisk(method = "approx")`. With `p = f/F`:
//!
//! | class size | risk |
//! |---|---|
//! | `f = 1` | `p/(1-p) · ln(1/p)` |
//! | `f = 2` | `p/(1-p) − (p/(1-p))² · ln(1/p)` |
//! | `f ≥ 3` | `p / (f − (1 − p))` |
//!
//! At `p = 1` (the class is the whole population) the three cases tend to `1/f`, the
//! unweighted risk; near `p = 1` the first two are evaluated by their series in `1 − p`.

/// The individual risk of a record whose class has `f` records of total weight `weight`
/// (`None`: the extract is the population).
pub(super) fn individual(f: u64, weight: Option<f64>) -> f64 {
    let fk = f as f64;
    let Some(big) = weight else {
        return 1.0 / fk;
    };
    let big = big.max(fk);
    let q = (big - fk) / big; // 1 - p, computed without cancellation
    let p = fk / big;
    if q < 1e-4 {
        // series in q around p = 1
        return match f {
            1 => p * (1.0 + q / 2.0 + q * q / 3.0 + q * q * q / 4.0),
            2 => p - p * p * (0.5 + q / 3.0 + q * q / 4.0),
            _ => p / (fk - q),
        };
    }
    let ln_inv_p = -(-q).ln_1p();
    let odds = p / q;
    match f {
        1 => odds * ln_inv_p,
        2 => odds - odds * odds * ln_inv_p,
        _ => p / (fk - q),
    }
}

#[cfg(test)]
mod tests {
    use super::individual;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn benedetti_franconi_by_hand() {
        // f = 1, F = 4: p = 1/4, p/(1-p) = 1/3, ln 4 = 1.3862943611
        assert!(close(
            individual(1, Some(4.0)),
            1.386_294_361_119_890_6 / 3.0
        ));
        // f = 2, F = 8: p = 1/4: 1/3 - (1/9)·ln 4
        assert!(close(
            individual(2, Some(8.0)),
            1.0 / 3.0 - 1.386_294_361_119_890_6 / 9.0
        ));
        // f = 3, F = 12: p = 1/4: 0.25 / (3 - 0.75) = 1/9
        assert!(close(individual(3, Some(12.0)), 1.0 / 9.0));
        // f = 1, F = 2: p = 1/2: ln 2
        assert!(close(individual(1, Some(2.0)), std::f64::consts::LN_2));
    }

    #[test]
    fn full_population_limits_to_one_over_f() {
        for f in 1..6 {
            assert!(close(individual(f, None), 1.0 / f as f64));
            assert!(close(individual(f, Some(f as f64)), 1.0 / f as f64));
            // weights below 1 cannot make a class bigger in the population than in the sample
            assert!(close(individual(f, Some(0.5 * f as f64)), 1.0 / f as f64));
            // the series and the closed form agree either side of the switch
            let near = individual(f, Some(f as f64 / (1.0 - 0.99e-4)));
            let far = individual(f, Some(f as f64 / (1.0 - 1.01e-4)));
            assert!((near - far).abs() < 1e-5, "f={f}: {near} vs {far}");
        }
    }

    #[test]
    fn risk_falls_as_the_population_grows() {
        for f in 1..5 {
            let mut last = f64::INFINITY;
            for big in [1.0, 2.0, 5.0, 10.0, 100.0, 1000.0] {
                let r = individual(f, Some(big * f as f64));
                assert!(r < last + 1e-12 && r > 0.0, "f={f} F={big}: {r}");
                last = r;
            }
        }
    }
}
