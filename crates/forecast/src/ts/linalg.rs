//! The little dense linear algebra reconciliation needs: Cholesky factorization and solves of
//! symmetric positive definite systems (matrices are small: one row per territory).

/// Row-major square matrix.
pub(crate) type Matrix = Vec<Vec<f64>>;

/// Lower-triangular L with A = L Lᵀ; `None` when A is not (numerically) positive definite.
pub(crate) fn cholesky(a: &Matrix) -> Option<Matrix> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s <= 1e-12 * a[i][i].abs().max(1e-300) {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solve L Lᵀ x = b for one right-hand side.
pub(crate) fn cholesky_solve(l: &Matrix, b: &[f64]) -> Vec<f64> {
    let n = l.len();
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (y[i] - (i + 1..n).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_and_solve_by_hand() {
        // A = [[4, 2], [2, 3]]: L = [[2, 0], [1, √2]]; A x = (2, 1) gives x = (0.5, 0).
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let l = cholesky(&a).unwrap();
        assert_eq!(l[0], vec![2.0, 0.0]);
        assert!((l[1][0] - 1.0).abs() < 1e-15 && (l[1][1] - 2f64.sqrt()).abs() < 1e-15);
        let x = cholesky_solve(&l, &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15);
        assert!(
            cholesky(&vec![vec![1.0, 2.0], vec![2.0, 1.0]]).is_none(),
            "indefinite"
        );
    }
}
