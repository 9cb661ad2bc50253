//! `dati.xlsx`: the pack's tables as one workbook, after a `LEGGIMI` sheet.
//!
//! Every sheet has its header in bold and frozen, numbers as numbers (`#,##0` for whole numbers,
//! `#,##0.0##` for others, `0.0%` for shares, six decimals for coordinates: a spreadsheet set to Italian shows `1.234` and
//! `12,5`), hidden cells empty beside their flag, and column widths from the contents. The
//! document's creation time is the release's, so the bytes depend only on the inputs.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{Kind, Sheet};
use crate::ReportError;

const FILE: &str = "dati.xlsx";

fn err(e: XlsxError) -> ReportError {
    ReportError::Io {
        path: FILE.into(),
        message: e.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS...` as an Excel date-time (1970-01-01 when it is not one).
fn datetime(at: &str) -> Result<ExcelDateTime, XlsxError> {
    let part = |a: usize, b: usize| at.get(a..b).and_then(|s| s.parse::<u16>().ok());
    match (
        part(0, 4),
        part(5, 7),
        part(8, 10),
        part(11, 13),
        part(14, 16),
        part(17, 19),
    ) {
        (Some(y), Some(mo), Some(d), h, mi, s) => ExcelDateTime::from_ymd(y, mo as u8, d as u8)?
            .and_hms(
                h.unwrap_or(0),
                mi.unwrap_or(0) as u8,
                f64::from(s.unwrap_or(0)),
            ),
        _ => ExcelDateTime::from_ymd(1970, 1, 1),
    }
}

/// Column width in characters for these texts: the longest, within 6 and 60.
fn width<'a>(cells: impl Iterator<Item = &'a str>) -> f64 {
    let longest = cells.map(|c| c.chars().count()).max().unwrap_or(0);
    (longest + 2).clamp(6, 60) as f64
}

/// The workbook titled `title`: `LEGGIMI` with `facts`, then one sheet per CSV.
pub(super) fn workbook(
    title: &str,
    facts: &[(String, String)],
    sheets: &[Sheet],
    created: &str,
) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let props = DocProperties::new()
        .set_title(title)
        .set_author("datalab")
        .set_creation_datetime(&datetime(created).map_err(err)?);
    wb.set_properties(&props);
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let integer = Format::new().set_num_format("#,##0");
    let decimal = Format::new().set_num_format("#,##0.0##");
    let share = Format::new().set_num_format("0.0%");
    let degrees = Format::new().set_num_format("0.000000");

    let ws = wb.add_worksheet();
    ws.set_name("LEGGIMI").map_err(err)?;
    ws.write_string_with_format(0, 0, "voce", &bold)
        .map_err(err)?;
    ws.write_string_with_format(0, 1, "valore", &bold)
        .map_err(err)?;
    for (i, (k, v)) in facts.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string_with_format(row, 0, k, &bold).map_err(err)?;
        ws.write_string_with_format(row, 1, v, &wrap).map_err(err)?;
    }
    ws.set_column_width(0, width(facts.iter().map(|(k, _)| k.as_str())))
        .map_err(err)?;
    ws.set_column_width(1, 100).map_err(err)?;
    ws.set_freeze_panes(1, 0).map_err(err)?;

    for s in sheets {
        let ws: &mut Worksheet = wb.add_worksheet();
        ws.set_name(&s.sheet).map_err(err)?;
        for (c, f) in s.fields.iter().enumerate() {
            let col = c as u16;
            ws.write_string_with_format(0, col, &f.name, &bold)
                .map_err(err)?;
            let w =
                width(std::iter::once(f.name.as_str()).chain(s.rows.iter().map(|r| r[c].as_str())));
            ws.set_column_width(col, w).map_err(err)?;
        }
        for (i, r) in s.rows.iter().enumerate() {
            let row = i as u32 + 1;
            for (c, (cell, f)) in r.iter().zip(&s.fields).enumerate() {
                let col = c as u16;
                if cell.is_empty() {
                    continue;
                }
                let number = match f.kind {
                    Kind::Text => None,
                    _ => cell.parse::<f64>().ok().filter(|v| v.is_finite()),
                };
                match number {
                    Some(v) => {
                        let format = match f.kind {
                            Kind::Share => &share,
                            Kind::Degrees => &degrees,
                            _ if v.fract() == 0.0 => &integer,
                            _ => &decimal,
                        };
                        ws.write_number_with_format(row, col, v, format)
                            .map_err(err)?;
                    }
                    None => {
                        ws.write_string(row, col, cell).map_err(err)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}
