//! A thin wrapper over the `microlp` solver: the only place that knows its API.
//!
//! The attacker and the secondary suppression both solve small linear programs with real
//! variables, equality rows and one direction. This module gives them dense variable indices,
//! merges repeated terms (microlp panics on a variable repeated in a row) and turns the
//! solver's outcomes into three answers: an optimum with its point, infeasible, unbounded.

use crate::DisclosureError;
use microlp::{ComparisonOp, OptimizationDirection, Problem};

/// Minimise or maximise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sense {
    Minimize,
    Maximize,
}

/// What a solve found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Solved {
    /// An optimal point: the objective and every variable's value, in creation order.
    Optimal {
        objective: f64,
        x: Vec<f64>,
    },
    Infeasible,
    Unbounded,
}

/// A linear program under construction: real variables with bounds and equality rows.
pub(crate) struct Lp {
    problem: Problem,
    vars: Vec<microlp::Variable>,
}

impl Lp {
    pub(crate) fn new(sense: Sense) -> Lp {
        let direction = match sense {
            Sense::Minimize => OptimizationDirection::Minimize,
            Sense::Maximize => OptimizationDirection::Maximize,
        };
        Lp {
            problem: Problem::new(direction),
            vars: Vec::new(),
        }
    }

    /// A new variable with its objective coefficient and bounds (infinite bounds allowed);
    /// returns its index.
    pub(crate) fn var(&mut self, cost: f64, lower: f64, upper: f64) -> usize {
        self.vars.push(self.problem.add_var(cost, (lower, upper)));
        self.vars.len() - 1
    }

    /// The row `sum(coef * x[var]) = rhs`; repeated variables are merged and zero terms
    /// dropped.
    pub(crate) fn eq(&mut self, terms: &[(usize, f64)], rhs: f64) {
        self.row(terms, ComparisonOp::Eq, rhs);
    }

    /// The row `sum(coef * x[var]) <= rhs`, merged like [`Lp::eq`].
    pub(crate) fn le(&mut self, terms: &[(usize, f64)], rhs: f64) {
        self.row(terms, ComparisonOp::Le, rhs);
    }

    fn row(&mut self, terms: &[(usize, f64)], op: ComparisonOp, rhs: f64) {
        let mut merged: Vec<(usize, f64)> = terms.to_vec();
        merged.sort_by_key(|&(v, _)| v);
        merged.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 += b.1;
                true
            } else {
                false
            }
        });
        let row: Vec<(microlp::Variable, f64)> = merged
            .into_iter()
            .filter(|&(_, c)| c != 0.0)
            .map(|(v, c)| (self.vars[v], c))
            .collect();
        self.problem.add_constraint(row, op, rhs);
    }

    pub(crate) fn solve(&self) -> Result<Solved, DisclosureError> {
        match self.problem.solve() {
            Ok(outcome) => {
                let solution = outcome
                    .into_solution()
                    .map_err(|e| DisclosureError::Solver(format!("interrupted: {e:?}")))?;
                let x = self.vars.iter().map(|&v| solution.var_value(v)).collect();
                Ok(Solved::Optimal {
                    objective: solution.objective(),
                    x,
                })
            }
            Err(microlp::Error::Infeasible) => Ok(Solved::Infeasible),
            Err(microlp::Error::Unbounded) => Ok(Solved::Unbounded),
            Err(e) => Err(DisclosureError::Solver(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimum_infeasible_and_unbounded() {
        // max x + y, x + y = 3 with a repeated term (x + x - x), 0 <= x <= 1
        let mut lp = Lp::new(Sense::Maximize);
        let x = lp.var(1.0, 0.0, 1.0);
        let y = lp.var(0.0, 0.0, f64::INFINITY);
        lp.eq(&[(x, 1.0), (y, 1.0), (x, 1.0), (x, -1.0)], 3.0);
        let Solved::Optimal {
            objective,
            x: point,
        } = lp.solve().unwrap()
        else {
            panic!("expected an optimum");
        };
        assert!((objective - 1.0).abs() < 1e-9);
        assert!((point[0] - 1.0).abs() < 1e-9 && (point[1] - 2.0).abs() < 1e-9);

        let mut lp = Lp::new(Sense::Minimize);
        let x = lp.var(1.0, 0.0, 1.0);
        lp.eq(&[(x, 1.0)], 2.0);
        assert_eq!(lp.solve().unwrap(), Solved::Infeasible);

        let mut lp = Lp::new(Sense::Maximize);
        let x = lp.var(1.0, 0.0, f64::INFINITY);
        let y = lp.var(0.0, 0.0, f64::INFINITY);
        lp.eq(&[(x, 1.0), (y, -1.0)], 1.0);
        assert_eq!(lp.solve().unwrap(), Solved::Unbounded);

        // max x, x - y <= 2, y <= 3 gives 5
        let mut lp = Lp::new(Sense::Maximize);
        let x = lp.var(1.0, 0.0, f64::INFINITY);
        let y = lp.var(0.0, 0.0, 3.0);
        lp.le(&[(x, 1.0), (y, -1.0)], 2.0);
        let Solved::Optimal { objective, .. } = lp.solve().unwrap() else {
            panic!("expected an optimum");
        };
        assert!((objective - 5.0).abs() < 1e-9);
    }
}
