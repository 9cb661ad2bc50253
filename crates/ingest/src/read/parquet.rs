//! Parquet: typed columns, read in batches. A file written by `datalab pseudonymize` carries the
//! holder's original line numbers in a `_line` column: rows then report those lines, so that
//! quarantine and errors point at the line of the holder's own file.

use super::{Cell, Row, Sink, map_header};
use crate::error::IngestError;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float32Type, Float64Type, Int32Type, Int64Type};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use project::SourceSpec;
use std::borrow::Cow;
use std::path::Path;

pub(super) fn read(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let file = std::fs::File::open(path).map_err(|e| IngestError::io(path, &e))?;
    let bad = |e: &dyn std::fmt::Display| {
        IngestError::file(
            path,
            0,
            format!(
                "not a readable parquet file: {}",
                e.to_string().to_lowercase()
            ),
        )
        .with_hint("the file may be truncated: ask the holder for the complete file")
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(&e))?;
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let origin = names.iter().position(|n| n == crate::writer::LINE_COLUMN);
    let visible: Vec<String> = names
        .iter()
        .filter(|n| n.as_str() != crate::writer::LINE_COLUMN)
        .cloned()
        .collect();
    let positions: Vec<usize> = map_header(spec, path, 0, &visible)?
        .into_iter()
        .map(|p| match origin {
            Some(o) if p >= o => p + 1,
            _ => p,
        })
        .collect();
    sink.header(&visible);
    let reader = builder.with_batch_size(8192).build().map_err(|e| bad(&e))?;
    let mut line = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let origin_lines = match origin {
            Some(o) => {
                Some(arrow::compute::cast(batch.column(o), &DataType::Int64).map_err(|e| bad(&e))?)
            }
            None => None,
        };
        let cols: Vec<std::sync::Arc<dyn Array>> = positions
            .iter()
            .map(|&p| {
                let c = batch.column(p).clone();
                match c.data_type() {
                    DataType::Utf8
                    | DataType::Int64
                    | DataType::Int32
                    | DataType::Float64
                    | DataType::Float32
                    | DataType::Boolean
                    | DataType::Date32 => Ok(c),
                    _ => arrow::compute::cast(&c, &DataType::Utf8).map_err(|e| bad(&e)),
                }
            })
            .collect::<Result<_, _>>()?;
        for r in 0..batch.num_rows() {
            line += 1;
            let line = match &origin_lines {
                Some(a) if !a.is_null(r) => a.as_primitive::<Int64Type>().value(r).max(0) as u64,
                _ => line,
            };
            let cells: Vec<Cell<'_>> = cols.iter().map(|c| value(c.as_ref(), r)).collect();
            sink.row(&Row {
                line,
                cells: &cells,
                problem: None,
            })?;
        }
    }
    Ok(())
}

fn value(a: &dyn Array, r: usize) -> Cell<'_> {
    if a.is_null(r) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Cell::Text(Cow::Borrowed(a.as_string::<i32>().value(r))),
        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::Int32 => Cell::Int(a.as_primitive::<Int32Type>().value(r) as i64),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(r)),
        DataType::Float32 => Cell::Float(a.as_primitive::<Float32Type>().value(r) as f64),
        DataType::Boolean => Cell::Bool(a.as_boolean().value(r)),
        DataType::Date32 => {
            let days = a.as_primitive::<Date32Type>().value(r);
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(days as i64)))
                .map_or(Cell::Null, Cell::Date)
        }
        _ => Cell::Null,
    }
}
