//! Minimization by Nelder–Mead (argmin), with restarts from the best point found.

use argmin::core::{CostFunction, Error, Executor};
use argmin::solver::neldermead::NelderMead;

/// Cost returned for parameters outside the admissible region (finite so that the simplex can
/// still be ordered).
pub(crate) const PENALTY: f64 = 1e15;

struct Problem<'a, F: Fn(&[f64]) -> f64> {
    f: &'a F,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for Problem<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> Result<f64, Error> {
        let v = (self.f)(p);
        Ok(if v.is_finite() {
            v.min(PENALTY)
        } else {
            PENALTY
        })
    }
}

/// Minimize `f` from `x0`, with an initial simplex of `x0` and `x0 + step_i e_i`; the search is
/// restarted from its best point (a fresh simplex avoids a collapsed one) `restarts` times.
/// Returns the best point and its cost.
pub(crate) fn minimize<F: Fn(&[f64]) -> f64>(
    f: &F,
    x0: Vec<f64>,
    steps: &[f64],
    max_iters: u64,
    restarts: usize,
) -> (Vec<f64>, f64) {
    let mut best = x0;
    let mut best_cost = {
        let c = f(&best);
        if c.is_finite() { c } else { PENALTY }
    };
    for _ in 0..=restarts {
        let mut simplex = vec![best.clone()];
        for (i, step) in steps.iter().enumerate() {
            let mut v = best.clone();
            v[i] += step;
            simplex.push(v);
        }
        let solver = match NelderMead::new(simplex).with_sd_tolerance(1e-10) {
            Ok(s) => s,
            Err(_) => break,
        };
        let run = Executor::new(Problem { f }, solver)
            .configure(|s| s.max_iters(max_iters))
            .run();
        let Ok(result) = run else { break };
        let state = result.state;
        if let Some(p) = state.best_param
            && state.best_cost < best_cost
        {
            let improved = best_cost - state.best_cost > 1e-9 * best_cost.abs().max(1.0);
            best = p;
            best_cost = state.best_cost;
            if !improved {
                break;
            }
        } else {
            break;
        }
    }
    (best, best_cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_quadratic_and_respects_penalties() {
        let f = |p: &[f64]| (p[0] - 3.0).powi(2) + 2.0 * (p[1] + 1.0).powi(2);
        let (x, c) = minimize(&f, vec![0.0, 0.0], &[0.5, 0.5], 2000, 2);
        assert!(
            (x[0] - 3.0).abs() < 1e-4 && (x[1] + 1.0).abs() < 1e-4 && c < 1e-8,
            "{x:?}"
        );
        // Constrained to p <= 1 by a penalty: the minimum sits on the bound.
        let g = |p: &[f64]| {
            if p[0] > 1.0 {
                f64::INFINITY
            } else {
                (p[0] - 3.0).powi(2)
            }
        };
        let (x, _) = minimize(&g, vec![0.0], &[0.1], 2000, 2);
        assert!(x[0] <= 1.0 && x[0] > 0.999, "{x:?}");
    }
}
