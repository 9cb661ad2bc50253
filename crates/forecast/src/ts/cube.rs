//! These methods as the cube's [`indicators::Forecaster`]: the build plugs [`Methods`] into
//! `indicators::Cube`, which decides what to forecast and how territories fit together.

use super::{Frequency, Hierarchy, Method, Reconciliation, Series, forecast, reconcile};
use indicators::forecast::SeriesForecast;
use model::Reconcile;

/// Bumped when a change to the methods can change a forecast: the cube recomputes them.
pub const METHODS_VERSION: u32 = 1;

/// The forecasting methods of this module.
#[derive(Debug, Clone, Copy, Default)]
pub struct Methods;

impl indicators::Forecaster for Methods {
    fn version(&self) -> String {
        format!("datalab-forecast methods {METHODS_VERSION}")
    }

    fn forecast(
        &self,
        values: &[f64],
        per_year: usize,
        horizon: usize,
        level: f64,
        method: Method,
    ) -> Result<SeriesForecast, String> {
        let frequency = Frequency::per_year(per_year)
            .ok_or_else(|| format!("{per_year} observations a year are not supported"))?;
        let series = Series::new(values.to_vec(), frequency).map_err(|e| e.to_string())?;
        let f = forecast(&series, method, horizon, level).map_err(|e| e.to_string())?;
        Ok(SeriesForecast {
            mean: f.mean,
            lower: f.lower,
            upper: f.upper,
            model: f.model,
            residuals: f.residuals,
        })
    }

    fn reconcile(
        &self,
        parents: &[Option<usize>],
        base: &[Vec<f64>],
        residuals: &[Vec<f64>],
        how: Reconcile,
    ) -> Result<Vec<Vec<f64>>, String> {
        let tree = Hierarchy::new(parents.to_vec()).map_err(|e| e.to_string())?;
        let method = match how {
            Reconcile::Wls => Reconciliation::WlsStructural,
            Reconcile::BottomUp => Reconciliation::BottomUp,
            Reconcile::Mint => Reconciliation::MintShrink {
                residuals: residuals.to_vec(),
            },
            Reconcile::None => return Ok(base.to_vec()),
        };
        reconcile(&tree, base, &method).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicators::Forecaster;

    #[test]
    fn plugs_the_methods_in() {
        let f = Methods
            .forecast(&[1.0, 2.0, 3.0], 1, 2, 95.0, Method::Naive)
            .unwrap();
        assert_eq!(f.mean, [3.0, 3.0]);
        assert_eq!(f.model, "Naive");
        assert!(Methods.forecast(&[1.0], 7, 1, 95.0, Method::Naive).is_err());
        // City (0) of two zones, WLS weights 2, 1, 1, base forecasts 10, 4, 5. By hand: the
        // zones b = (SᵀW⁻¹S)⁻¹ SᵀW⁻¹ŷ with SᵀW⁻¹S = [[1.5, .5], [.5, 1.5]] and
        // SᵀW⁻¹ŷ = [9, 10]: b = [4.25, 5.25], the city 9.5.
        let r = Methods
            .reconcile(
                &[None, Some(0), Some(0)],
                &[vec![10.0], vec![4.0], vec![5.0]],
                &[],
                Reconcile::Wls,
            )
            .unwrap();
        assert!((r[1][0] - 4.25).abs() < 1e-12 && (r[2][0] - 5.25).abs() < 1e-12);
        assert!((r[0][0] - 9.5).abs() < 1e-12);
        let none = Methods
            .reconcile(
                &[None, Some(0)],
                &[vec![3.0], vec![1.0]],
                &[],
                Reconcile::None,
            )
            .unwrap();
        assert_eq!(none, [vec![3.0], vec![1.0]]);
    }
}
