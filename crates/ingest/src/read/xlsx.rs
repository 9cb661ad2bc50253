//! Excel workbooks: typed cells (numbers, dates, text), header on any row.

use super::{Cell, Row, Sink, map_header};
use crate::error::IngestError;
use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use project::SourceSpec;
use std::borrow::Cow;
use std::path::Path;

pub(super) fn read(spec: &SourceSpec, path: &Path, sink: &mut dyn Sink) -> Result<(), IngestError> {
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|e: calamine::XlsxError| {
        IngestError::file(path, 0, format!("not a readable xlsx workbook: {}", e.to_string().to_lowercase()))
            .with_hint("the file may be truncated or in another format (old .xls is not supported: save it as .xlsx)")
    })?;
    let sheets = wb.sheet_names();
    let sheet = match &spec.sheet {
        Some(s) => {
            if !sheets.iter().any(|n| n == s) {
                return Err(IngestError::file(path, 0, format!("no sheet named `{s}`"))
                    .with_hint(format!("the workbook has: {}", sheets.join(", "))));
            }
            s.clone()
        }
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| IngestError::file(path, 0, "the workbook has no sheets"))?,
    };
    let range = wb.worksheet_range(&sheet).map_err(|e| {
        IngestError::file(
            path,
            0,
            format!(
                "cannot read sheet `{sheet}`: {}",
                e.to_string().to_lowercase()
            ),
        )
    })?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let header_abs = spec.header_row as u64 - 1;
    if header_abs < first_row {
        return Err(IngestError::file(
            path,
            spec.header_row as u64,
            format!(
                "row {} of sheet `{sheet}` is empty, expected the header",
                spec.header_row
            ),
        )
        .with_hint(format!(
            "the sheet's data starts on row {}: check `header_row`",
            first_row + 1
        )));
    }
    let mut rows = range
        .rows()
        .enumerate()
        .skip((header_abs - first_row) as usize);
    let Some((_, header_cells)) = rows.next() else {
        return Err(IngestError::file(
            path,
            spec.header_row as u64,
            format!("sheet `{sheet}` ends before the header row"),
        ));
    };
    // Columns left of the range's first column are empty: pad so positions are absolute.
    let names: Vec<String> = std::iter::repeat_n(String::new(), first_col)
        .chain(header_cells.iter().map(|c| text_of(c).unwrap_or_default()))
        .collect();
    let positions = map_header(spec, path, header_abs + 1, &names)?;
    sink.header(&names);
    for (i, row) in rows {
        let line = first_row + i as u64 + 1;
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut cells = Vec::with_capacity(positions.len());
        let mut problem = None;
        for &p in &positions {
            let cell = match p.checked_sub(first_col).and_then(|i| row.get(i)) {
                None | Some(Data::Empty) => Cell::Null,
                Some(Data::String(s)) => Cell::Text(Cow::Borrowed(s.as_str())),
                Some(Data::Int(i)) => Cell::Int(*i),
                Some(Data::Float(f)) => Cell::Float(*f),
                Some(Data::Bool(b)) => Cell::Bool(*b),
                Some(Data::DateTime(d)) if d.is_datetime() => {
                    let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
                    match NaiveDate::from_ymd_opt(y as i32, m as u32, day as u32)
                        .zip(NaiveTime::from_hms_opt(h as u32, min as u32, s as u32))
                    {
                        Some((date, time)) => Cell::DateTime(NaiveDateTime::new(date, time)),
                        None => Cell::Text(Cow::Owned(d.as_f64().to_string())),
                    }
                }
                Some(Data::DateTime(d)) => Cell::Float(d.as_f64()),
                Some(Data::DateTimeIso(s)) | Some(Data::DurationIso(s)) => {
                    Cell::Text(Cow::Borrowed(s.as_str()))
                }
                Some(Data::Error(e)) => {
                    problem = Some(format!("the cell holds the Excel error {e}"));
                    Cell::Text(Cow::Owned(format!("{e}")))
                }
            };
            cells.push(cell);
        }
        sink.row(&Row {
            line,
            cells: &cells,
            problem,
        })?;
    }
    Ok(())
}

fn text_of(c: &Data) -> Option<String> {
    match c {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
