//! Aggregate functions indicators need and DataFusion lacks, each a thin wrapper over
//! [`crate::stats`] (where the formulas and their references live):
//!
//! - `gini(x)`: Gini coefficient of the values (0..1);
//! - `gini_w(x, w)`: weighted Gini (persons weights, Eurostat EU-SILC definition);
//! - `quantile_w(x, w, q)`: weighted quantile `q` (0..1) of `x` with weights `w`.
//!
//! The accumulators keep the values (these are not streaming statistics) and exchange them as
//! lists between partial and final aggregation.

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray};
use arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, AggregateUDF, Volatility, create_udaf};
use datafusion::prelude::SessionContext;
use std::sync::Arc;

/// Registers every function of this module.
pub fn register(ctx: &SessionContext) {
    for f in all() {
        ctx.register_udaf(f);
    }
}

/// Every function of this module.
pub fn all() -> Vec<AggregateUDF> {
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)));
    vec![
        create_udaf(
            "gini",
            vec![DataType::Float64],
            Arc::new(DataType::Float64),
            Volatility::Immutable,
            Arc::new(|_| Ok(Box::new(Values::new(Kind::Gini)))),
            Arc::new(vec![list.clone()]),
        ),
        create_udaf(
            "gini_w",
            vec![DataType::Float64, DataType::Float64],
            Arc::new(DataType::Float64),
            Volatility::Immutable,
            Arc::new(|_| Ok(Box::new(Values::new(Kind::GiniWeighted)))),
            Arc::new(vec![list.clone(), list.clone()]),
        ),
        create_udaf(
            "quantile_w",
            vec![DataType::Float64, DataType::Float64, DataType::Float64],
            Arc::new(DataType::Float64),
            Volatility::Immutable,
            Arc::new(|_| Ok(Box::new(Values::new(Kind::Quantile)))),
            Arc::new(vec![list.clone(), list, DataType::Float64]),
        ),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Gini,
    GiniWeighted,
    Quantile,
}

/// Collects (value, weight) pairs; rows with a null value or weight are skipped.
#[derive(Debug)]
struct Values {
    kind: Kind,
    x: Vec<f64>,
    w: Vec<f64>,
    q: Option<f64>,
}

impl Values {
    fn new(kind: Kind) -> Values {
        Values {
            kind,
            x: Vec::new(),
            w: Vec::new(),
            q: None,
        }
    }

    fn weighted(&self) -> bool {
        !matches!(self.kind, Kind::Gini)
    }

    /// The pairs in a total order (value, then weight): the result does not depend on the
    /// order in which partitions delivered them, to the last bit.
    fn pairs(&self) -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = self.x.iter().copied().zip(self.w.iter().copied()).collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        p
    }
}

fn floats(a: &ArrayRef) -> &Float64Array {
    a.as_primitive::<Float64Type>()
}

fn list_of(values: &[f64]) -> ScalarValue {
    let arr = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![Some(
        values.iter().map(|v| Some(*v)),
    )]);
    ScalarValue::List(Arc::new(arr))
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = floats(&values[0]);
        let w = self.weighted().then(|| floats(&values[1]));
        if let Kind::Quantile = self.kind
            && self.q.is_none()
        {
            let q = floats(&values[2]);
            self.q = (0..q.len()).find(|&i| q.is_valid(i)).map(|i| q.value(i));
        }
        for i in 0..x.len() {
            if x.is_null(i) {
                continue;
            }
            let weight = match w {
                Some(w) if w.is_null(i) => continue,
                Some(w) => w.value(i),
                None => 1.0,
            };
            self.x.push(x.value(i));
            self.w.push(weight);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let v = match self.kind {
            Kind::Gini => {
                let mut x = self.x.clone();
                x.sort_by(f64::total_cmp);
                crate::stats::gini(&x)
            }
            Kind::GiniWeighted => crate::stats::gini_weighted(&self.pairs()),
            Kind::Quantile => self
                .q
                .and_then(|q| crate::stats::weighted_quantile(&self.pairs(), q)),
        };
        Ok(ScalarValue::Float64(v))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + 8 * (self.x.capacity() + self.w.capacity())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut s = vec![list_of(&self.x)];
        if self.weighted() {
            s.push(list_of(&self.w));
        }
        if let Kind::Quantile = self.kind {
            s.push(ScalarValue::Float64(self.q));
        }
        Ok(s)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let xs = states[0].as_list::<i32>();
        let ws = self.weighted().then(|| states[1].as_list::<i32>());
        if let Kind::Quantile = self.kind
            && self.q.is_none()
        {
            let q = floats(&states[2]);
            self.q = (0..q.len()).find(|&i| q.is_valid(i)).map(|i| q.value(i));
        }
        for i in 0..xs.len() {
            if xs.is_null(i) {
                continue;
            }
            let x = xs.value(i);
            let x = floats(&x);
            self.x.extend(x.values().iter().copied());
            match ws {
                Some(ws) => {
                    let w = ws.value(i);
                    self.w.extend(floats(&w).values().iter().copied());
                }
                None => self.w.extend(std::iter::repeat_n(1.0, x.len())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;

    fn run(sql: &str) -> Option<f64> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let ctx = SessionContext::new();
            register(&ctx);
            let batches = ctx
                .sql(sql)
                .await
                .expect("plans")
                .collect()
                .await
                .expect("runs");
            let col = batches[0].column(0);
            let a = col.as_any().downcast_ref::<Float64Array>().expect("float");
            a.is_valid(0).then(|| a.value(0))
        })
    }

    #[test]
    fn gini_in_sql_equals_the_formula() {
        // 0,0,0,1: G = Σ(2i-n-1)x / (n Σx) = (2·4-4-1)·1 / 4 = 0.75
        let g = run("SELECT gini(x) FROM (VALUES (0.0),(0.0),(0.0),(1.0)) t(x)");
        assert!((g.expect("value") - 0.75).abs() < 1e-12);
        // Integer input is coerced; nulls are skipped.
        let g = run("SELECT gini(x) FROM (VALUES (1),(1),(NULL),(1)) t(x)");
        assert!(g.expect("value").abs() < 1e-12);
    }

    #[test]
    fn weighted_gini_equals_the_replicated_sample() {
        let w = run("SELECT gini_w(x, w) FROM (VALUES (1.0, 2.0),(5.0, 1.0),(2.0, 3.0)) t(x, w)");
        let r = run("SELECT gini(x) FROM (VALUES (1.0),(1.0),(5.0),(2.0),(2.0),(2.0)) t(x)");
        assert!((w.expect("w") - r.expect("r")).abs() < 1e-12);
    }

    #[test]
    fn weighted_median_by_group_survives_repartitioning() {
        let m = run(
            "SELECT quantile_w(x, w, 0.5) FROM (VALUES (1.0, 1.0),(2.0, 1.0),(10.0, 5.0)) t(x, w)",
        );
        assert_eq!(m, Some(10.0));
    }
}
