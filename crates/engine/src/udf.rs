//! Scalar functions datalab adds to SQL. One per type, each with a test against a reference.
//!
//! - `year(date)`: the calendar year of a date, as BIGINT. Welfare indicators compute ages and
//!   periods from dates on every row; DataFusion's general `date_part` converts through
//!   timestamps and costs about as much as the rest of a register group-by, this is integer
//!   arithmetic. Same name and meaning as DuckDB's `year()`.

use arrow::array::{Array, AsArray, Int64Array};
use arrow::datatypes::{DataType, Date32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// Every function of this module, ready to register.
pub fn all() -> Vec<ScalarUDF> {
    vec![ScalarUDF::from(Year::new())]
}

/// `year(date) -> BIGINT`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Year {
    signature: Signature,
}

impl Year {
    pub fn new() -> Year {
        Year {
            signature: Signature::exact(vec![DataType::Date32], Volatility::Immutable),
        }
    }
}

impl Default for Year {
    fn default() -> Self {
        Year::new()
    }
}

impl ScalarUDFImpl for Year {
    fn name(&self) -> &str {
        "year"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].clone().into_array(args.number_rows)?;
        let dates = array.as_primitive::<Date32Type>();
        let years: Int64Array = dates.unary(|d| year_of_days(d) as i64);
        Ok(ColumnarValue::Array(Arc::new(years) as Arc<dyn Array>))
    }
}

/// The proleptic Gregorian year of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn year_of_days(days: i32) -> i32 {
    let z = days as i64 + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn year_matches_chrono_on_every_day_from_1800_to_2200() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let from = (NaiveDate::from_ymd_opt(1800, 1, 1).expect("date") - epoch).num_days() as i32;
        let to = (NaiveDate::from_ymd_opt(2200, 12, 31).expect("date") - epoch).num_days() as i32;
        for d in from..=to {
            let expect = (epoch + chrono::Duration::days(d as i64)).year();
            assert_eq!(year_of_days(d), expect, "day {d}");
        }
    }

    #[tokio::test]
    async fn year_works_in_sql_with_nulls() {
        let ctx = datafusion::prelude::SessionContext::new();
        for f in all() {
            ctx.register_udf(f);
        }
        let df = ctx
            .sql("SELECT year(d) AS y FROM (VALUES (DATE '2024-12-31'), (DATE '1900-03-01'), (NULL)) AS t(d) ORDER BY y")
            .await
            .expect("plan");
        let batches = df.collect().await.expect("run");
        let col = batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(col.value(0), 1900);
        assert_eq!(col.value(1), 2024);
        assert!(col.is_null(2));
    }
}
