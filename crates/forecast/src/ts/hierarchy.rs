//! Coherent forecasts across a territory hierarchy (zones within districts within the city).
//!
//! Base forecasts of every node are reconciled so that each parent equals the sum of its
//! children: ỹ = S (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ ŷ, S the summing matrix (Hyndman et al. 2011;
//! Wickramasuriya, Athanasopoulos & Hyndman 2019, "Optimal forecast reconciliation for
//! hierarchical and grouped time series through trace minimization", JASA 114(526)). W is:
//! bottom-up (only the leaves' forecasts count), WLS with structural scaling (W = diag(S 1),
//! the number of leaves under each node) or MinT with shrinkage (W = λ diag(Ŵ) + (1 − λ) Ŵ,
//! Ŵ the covariance of the one-step in-sample residuals and λ the Schäfer–Strimmer intensity,
//! as in R's `hts:::shrink.estim`).
//!
//! Ratios (rates) are not additive: [`reconcile_ratio`] reconciles the numerators and the
//! denominators, each an additive count, and divides the coherent results.

use super::TsError;
use super::linalg::{Matrix, cholesky, cholesky_solve};

/// A tree of nodes given by each node's parent (`None` for a root).
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    parents: Vec<Option<usize>>,
    leaves: Vec<usize>,
    /// `summing[i][j]` is 1 when leaf `leaves[j]` lies under node `i` (or is node `i`).
    summing: Vec<Vec<f64>>,
}

impl Hierarchy {
    /// A hierarchy from each node's parent; refuses parents out of range and cycles.
    pub fn new(parents: Vec<Option<usize>>) -> Result<Hierarchy, TsError> {
        let n = parents.len();
        if n == 0 {
            return Err(TsError::Hierarchy("no node".into()));
        }
        for (i, p) in parents.iter().enumerate() {
            if let Some(p) = *p
                && p >= n
            {
                return Err(TsError::Hierarchy(format!(
                    "node {i} has parent {p}, but there are only {n} nodes"
                )));
            }
        }
        for start in 0..n {
            let mut node = parents[start];
            let mut steps = 0;
            while let Some(i) = node {
                steps += 1;
                if steps > n {
                    return Err(TsError::Hierarchy(format!(
                        "node {start} is in a cycle of parents"
                    )));
                }
                node = parents[i];
            }
        }
        let mut has_child = vec![false; n];
        for p in parents.iter().flatten() {
            has_child[*p] = true;
        }
        let leaves: Vec<usize> = (0..n).filter(|i| !has_child[*i]).collect();
        let mut summing = vec![vec![0.0; leaves.len()]; n];
        for (j, &leaf) in leaves.iter().enumerate() {
            let mut node = Some(leaf);
            while let Some(i) = node {
                summing[i][j] = 1.0;
                node = parents[i];
            }
        }
        Ok(Hierarchy {
            parents,
            leaves,
            summing,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// False: a hierarchy has at least one node.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// The nodes without children, in index order.
    pub fn leaves(&self) -> &[usize] {
        &self.leaves
    }

    /// The parent of node `i`.
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parents[i]
    }

    /// Node `i`'s value as the sum of leaf values `bottom`.
    fn aggregate(&self, i: usize, bottom: &[f64]) -> f64 {
        self.summing[i].iter().zip(bottom).map(|(s, b)| s * b).sum()
    }
}

/// How base forecasts are combined.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciliation {
    /// Leaves' forecasts summed up the tree.
    BottomUp,
    /// Weighted least squares with W = diag(number of leaves under each node).
    WlsStructural,
    /// MinT with a shrunk residual covariance; one residual series per node, aligned at the end
    /// (the last T values of every series are used, T the shortest length).
    MintShrink {
        /// In-sample one-step residuals of each node's base model.
        residuals: Vec<Vec<f64>>,
    },
}

/// Reconcile base forecasts `base[node][h]`; the result has the same shape and adds up exactly
/// (up to floating point) at every horizon.
pub fn reconcile(
    hierarchy: &Hierarchy,
    base: &[Vec<f64>],
    method: &Reconciliation,
) -> Result<Vec<Vec<f64>>, TsError> {
    let n = hierarchy.len();
    if base.len() != n {
        return Err(TsError::Length {
            what: "base forecasts and hierarchy nodes",
            left: base.len(),
            right: n,
        });
    }
    let horizon = base[0].len();
    if let Some(bad) = base.iter().position(|b| b.len() != horizon) {
        return Err(TsError::Hierarchy(format!(
            "node {bad} has {} forecasts, node 0 has {horizon}",
            base[bad].len()
        )));
    }
    let leaves = hierarchy.leaves();
    let bottom: Vec<Vec<f64>> = match method {
        Reconciliation::BottomUp => (0..horizon)
            .map(|h| leaves.iter().map(|&l| base[l][h]).collect())
            .collect(),
        Reconciliation::WlsStructural => {
            let w: Vec<f64> = (0..n).map(|i| hierarchy.summing[i].iter().sum()).collect();
            let w_inv_s: Matrix = (0..n)
                .map(|i| hierarchy.summing[i].iter().map(|s| s / w[i]).collect())
                .collect();
            gls(hierarchy, &w_inv_s, base, horizon)?
        }
        Reconciliation::MintShrink { residuals } => {
            let w = shrunk_covariance(residuals, n)?;
            let l = cholesky(&w)
                .ok_or_else(|| TsError::Hierarchy("the residual covariance is singular".into()))?;
            // W⁻¹ S, one column of S at a time.
            let nb = leaves.len();
            let columns: Vec<Vec<f64>> = (0..nb)
                .map(|j| {
                    cholesky_solve(
                        &l,
                        &(0..n).map(|i| hierarchy.summing[i][j]).collect::<Vec<_>>(),
                    )
                })
                .collect();
            let w_inv_s: Matrix = (0..n)
                .map(|i| columns.iter().map(|c| c[i]).collect())
                .collect();
            gls(hierarchy, &w_inv_s, base, horizon)?
        }
    };
    Ok((0..n)
        .map(|i| {
            (0..horizon)
                .map(|h| hierarchy.aggregate(i, &bottom[h]))
                .collect()
        })
        .collect())
}

/// Leaf values b = (Sᵀ W⁻¹ S)⁻¹ (W⁻¹ S)ᵀ ŷ for each horizon, given W⁻¹ S.
fn gls(
    hierarchy: &Hierarchy,
    w_inv_s: &Matrix,
    base: &[Vec<f64>],
    horizon: usize,
) -> Result<Vec<Vec<f64>>, TsError> {
    let n = hierarchy.len();
    let nb = hierarchy.leaves().len();
    let a: Matrix = (0..nb)
        .map(|p| {
            (0..nb)
                .map(|q| {
                    (0..n)
                        .map(|i| hierarchy.summing[i][p] * w_inv_s[i][q])
                        .sum()
                })
                .collect()
        })
        .collect();
    let l = cholesky(&a)
        .ok_or_else(|| TsError::Hierarchy("the reconciliation system is singular".into()))?;
    Ok((0..horizon)
        .map(|h| {
            let rhs: Vec<f64> = (0..nb)
                .map(|q| (0..n).map(|i| w_inv_s[i][q] * base[i][h]).sum())
                .collect();
            cholesky_solve(&l, &rhs)
        })
        .collect())
}

/// λ diag(Ŵ) + (1 − λ) Ŵ with Ŵ = EᵀE / T (uncentred, as `hts`) and the Schäfer–Strimmer λ.
fn shrunk_covariance(residuals: &[Vec<f64>], n: usize) -> Result<Matrix, TsError> {
    if residuals.len() != n {
        return Err(TsError::Length {
            what: "residual series and hierarchy nodes",
            left: residuals.len(),
            right: n,
        });
    }
    let t = residuals.iter().map(Vec::len).min().unwrap_or(0);
    if t < 3 {
        return Err(TsError::TooShort {
            method: "MinT reconciliation (residuals)",
            needed: 3,
            got: t,
        });
    }
    let e: Vec<&[f64]> = residuals.iter().map(|r| &r[r.len() - t..]).collect();
    let tf = t as f64;
    let cov: Matrix = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..t).map(|k| e[i][k] * e[j][k]).sum::<f64>() / tf)
                .collect()
        })
        .collect();
    if let Some(i) = (0..n).find(|&i| cov[i][i] <= 0.0) {
        return Err(TsError::Hierarchy(format!(
            "node {i} has residuals that are all zero"
        )));
    }
    let sd: Vec<f64> = (0..n).map(|i| cov[i][i].sqrt()).collect();
    let xs: Vec<Vec<f64>> = (0..n)
        .map(|i| e[i].iter().map(|v| v / sd[i]).collect())
        .collect();
    let mut num = 0.0;
    let mut den = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let prod: Vec<f64> = (0..t).map(|k| xs[i][k] * xs[j][k]).collect();
            let mean = prod.iter().sum::<f64>() / tf;
            let sum_sq: f64 = prod.iter().map(|p| p * p).sum();
            // Estimated variance of r_ij: (Σ w² − T w̄²) / (T (T − 1)), w the products of
            // standardized residuals (hts: crossprod(xs²) − crossprod(xs)² / T).
            num += (sum_sq - tf * mean * mean) / (tf * (tf - 1.0));
            let r = cov[i][j] / (sd[i] * sd[j]);
            den += r * r;
        }
    }
    let lambda = if den > 0.0 {
        (num / den).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Ok((0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        cov[i][i]
                    } else {
                        (1.0 - lambda) * cov[i][j]
                    }
                })
                .collect()
        })
        .collect())
}

/// Coherent numerators, denominators and the rates they give.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioReconciliation {
    /// Reconciled numerators `[node][h]`.
    pub numerators: Vec<Vec<f64>>,
    /// Reconciled denominators `[node][h]`.
    pub denominators: Vec<Vec<f64>>,
    /// numerator / denominator, `None` where the denominator is not positive.
    pub rates: Vec<Vec<Option<f64>>>,
}

/// Reconcile a rate through its additive parts: numerators and denominators are reconciled
/// separately (each with its own method: MinT needs each part's residuals) and divided.
pub fn reconcile_ratio(
    hierarchy: &Hierarchy,
    numerators: &[Vec<f64>],
    numerator_method: &Reconciliation,
    denominators: &[Vec<f64>],
    denominator_method: &Reconciliation,
) -> Result<RatioReconciliation, TsError> {
    let num = reconcile(hierarchy, numerators, numerator_method)?;
    let den = reconcile(hierarchy, denominators, denominator_method)?;
    let rates = num
        .iter()
        .zip(&den)
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (*y > 0.0).then(|| x / y))
                .collect()
        })
        .collect();
    Ok(RatioReconciliation {
        numerators: num,
        denominators: den,
        rates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// City (0) with two zones (1, 2).
    fn three() -> Hierarchy {
        Hierarchy::new(vec![None, Some(0), Some(0)]).unwrap()
    }

    fn assert_coherent(h: &Hierarchy, y: &[Vec<f64>]) {
        for (i, row) in y.iter().enumerate() {
            let children: Vec<usize> = (0..h.len()).filter(|c| h.parent(*c) == Some(i)).collect();
            if children.is_empty() {
                continue;
            }
            for t in 0..row.len() {
                let sum: f64 = children.iter().map(|c| y[*c][t]).sum();
                assert!(
                    (row[t] - sum).abs() < 1e-9 * row[t].abs().max(1.0),
                    "node {i} h {t}: {} vs {sum}",
                    row[t]
                );
            }
        }
    }

    #[test]
    fn bottom_up_and_wls_on_three_nodes_by_hand() {
        // Base: city 100, zones 40 and 50 (10 short). Bottom-up: 90, 40, 50.
        let h = three();
        let base = vec![vec![100.0], vec![40.0], vec![50.0]];
        assert_eq!(
            reconcile(&h, &base, &Reconciliation::BottomUp).unwrap(),
            vec![vec![90.0], vec![40.0], vec![50.0]]
        );
        // WLS with W = diag(2, 1, 1): minimise (100 − a − b)²/2 + (40 − a)² + (50 − b)²:
        // a = 40 + d, b = 50 + d with d = (100 − 90 − 2d)/2 → d = 2.5: 95, 42.5, 52.5.
        let r = reconcile(&h, &base, &Reconciliation::WlsStructural).unwrap();
        let want = [95.0, 42.5, 52.5];
        for (row, w) in r.iter().zip(want) {
            assert!((row[0] - w).abs() < 1e-12, "{r:?}");
        }
        assert_coherent(&h, &r);
    }

    #[test]
    fn mint_adds_up_and_favours_the_precise_node() {
        let h = three();
        // Zone 1 forecasts badly (large residuals), zone 2 and the city well.
        let residuals = vec![
            vec![1.0, -1.0, 0.5, -0.5, 1.0, -1.0, 0.2, -0.2],
            vec![8.0, -7.0, 9.0, -8.0, 7.0, -9.0, 8.0, -8.0],
            vec![-1.0, 1.0, -0.5, 0.5, -1.0, 1.0, -0.3, 0.3],
        ];
        let base = vec![vec![100.0, 110.0], vec![40.0, 45.0], vec![50.0, 55.0]];
        let r = reconcile(&h, &base, &Reconciliation::MintShrink { residuals }).unwrap();
        assert_coherent(&h, &r);
        // The 10-unit gap is absorbed mostly by the imprecise zone 1.
        assert!(
            r[1][0] - 40.0 > 7.0 && (r[2][0] - 50.0).abs() < 2.0,
            "{r:?}"
        );
    }

    #[test]
    fn deeper_trees_add_up_with_every_method() {
        // City 0; districts 1, 2; zones 3, 4 in 1 and 5, 6, 7 in 2.
        let h = Hierarchy::new(vec![
            None,
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(2),
            Some(2),
            Some(2),
        ])
        .unwrap();
        assert_eq!(h.leaves(), &[3, 4, 5, 6, 7]);
        let base: Vec<Vec<f64>> = [300.0, 120.0, 170.0, 50.0, 60.0, 40.0, 60.0, 75.0]
            .iter()
            .map(|v| vec![*v, v * 1.1])
            .collect();
        let residuals: Vec<Vec<f64>> = (0..8)
            .map(|i| {
                (0..12)
                    .map(|t| ((t * 7 + i * 3) % 5) as f64 - 2.0 + 0.1 * i as f64)
                    .collect()
            })
            .collect();
        for method in [
            Reconciliation::BottomUp,
            Reconciliation::WlsStructural,
            Reconciliation::MintShrink { residuals },
        ] {
            let r = reconcile(&h, &base, &method).unwrap();
            assert_coherent(&h, &r);
        }
    }

    #[test]
    fn rates_are_reconciled_through_numerators_and_denominators() {
        let h = three();
        let num = vec![vec![30.0], vec![10.0], vec![15.0]];
        let den = vec![vec![200.0], vec![100.0], vec![100.0]];
        let r = reconcile_ratio(
            &h,
            &num,
            &Reconciliation::WlsStructural,
            &den,
            &Reconciliation::BottomUp,
        )
        .unwrap();
        assert_coherent(&h, &r.numerators);
        assert_coherent(&h, &r.denominators);
        // Numerators by WLS: gap 5 → d = 1.25: 27.5, 11.25, 16.25; denominators 200, 100, 100.
        assert!((r.rates[0][0].unwrap() - 27.5 / 200.0).abs() < 1e-12);
        assert!((r.rates[1][0].unwrap() - 0.1125).abs() < 1e-12);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(matches!(
            Hierarchy::new(vec![Some(1), Some(0)]),
            Err(TsError::Hierarchy(_))
        ));
        assert!(matches!(
            Hierarchy::new(vec![None, Some(5)]),
            Err(TsError::Hierarchy(_))
        ));
        let h = three();
        assert!(matches!(
            reconcile(&h, &[vec![1.0]], &Reconciliation::BottomUp),
            Err(TsError::Length { .. })
        ));
    }
}
