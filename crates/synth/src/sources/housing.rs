//! Public-housing (ERP) applications: an XLSX workbook whose header is on row 4 (a title, an
//! extraction date and a blank row come first), dates stored as real Excel dates.

use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::{Ctx, YearView};
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::Manifest;
use crate::population::{Relation, World, age_on};
use crate::{SynthError, taxcode};

pub const FILE: &str = "custodian/casa/domande_erp.xlsx";
pub const SHEET: &str = "Domande ERP";
pub const HEADER_ROW: u32 = 4;
pub const COLUMNS: [&str; 10] = [
    "NUMERO_DOMANDA",
    "CF_RICHIEDENTE",
    "COGNOME",
    "NOME",
    "DATA_DOMANDA",
    "NUM_COMPONENTI",
    "ISEE",
    "PUNTEGGIO",
    "ESITO",
    "ZONA",
];
pub const OUTCOMES: [&str; 6] = [
    "IN GRADUATORIA",
    "ASSEGNATA",
    "ESCLUSA",
    "RINUNCIA",
    "DECADUTA",
    "IN ISTRUTTORIA",
];
/// Emilia-Romagna ISEE ceiling for public housing (euro).
const ERP_LIMIT: f64 = 17_154.0;

const DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.0015),
    (Kind::InvalidDate, 0.0008),
    (Kind::OutOfRange, 0.0008),
    (Kind::NonNumeric, 0.0004),
    (Kind::UnknownZone, 0.0008),
    (Kind::MissingRequired, 0.0007),
    (Kind::InvalidTaxCode, 0.001),
    (Kind::NameTypo, 0.02),
    (Kind::MissingOptional, 0.005),
];

struct App {
    person: u32,
    date: chrono::NaiveDate,
    members: u32,
    isee: f64,
    score: f64,
    zone: u8,
    eligible: bool,
}

pub struct Housing {
    rng: ChaCha8Rng,
    apps: Vec<App>,
}

impl Housing {
    pub fn new(ctx: &Ctx) -> Housing {
        Housing {
            rng: crate::rng::stream(ctx.seed, "housing"),
            apps: Vec::new(),
        }
    }

    pub fn year(&mut self, world: &World, view: &YearView) {
        let rng = &mut self.rng;
        let first = self.apps.len();
        for (h, isee) in view.isee.iter().enumerate() {
            let Some(isee) = isee else { continue };
            let hh = &world.households[h];
            if !hh.renter {
                continue;
            }
            let v = isee.value;
            let p = if v < ERP_LIMIT {
                0.10
            } else if v < 30_000.0 {
                0.01
            } else {
                0.0
            };
            if p == 0.0 || !rng.random_bool(p) {
                continue;
            }
            let mut score: f64 = if v < 3_000.0 {
                10.0
            } else if v < 6_000.0 {
                8.0
            } else if v < 9_360.0 {
                6.0
            } else if v < 13_000.0 {
                4.0
            } else {
                2.0
            };
            if isee.members >= 4 {
                score += 3.0;
            }
            let members = hh.members.iter().map(|&m| &world.persons[m as usize]);
            if members.clone().any(|p| age_on(p.birth, view.end) >= 65) {
                score += 3.0;
            }
            if members.clone().any(|p| p.disabled) {
                score += 4.0;
            }
            let partner = members
                .clone()
                .any(|p| matches!(p.relation, Relation::Spouse | Relation::Partner));
            if !partner && isee.minors > 0 {
                score += 3.0;
            }
            if rng.random_bool(0.06) {
                score += 6.0;
            }
            score += (rng.random_range(0.0..3.0f64) * 2.0).round() / 2.0;
            let day = rng.random_range(1..=view.end.ordinal());
            self.apps.push(App {
                person: hh.members[0],
                date: chrono::NaiveDate::from_yo_opt(view.year, day).expect("day within year"),
                members: isee.members,
                isee: v,
                score,
                zone: hh.zone,
                eligible: v < ERP_LIMIT,
            });
        }
        self.apps[first..].sort_by_key(|a| (a.date, a.person));
    }

    pub fn write(
        self,
        ctx: &Ctx,
        world: &World,
        truth: &mut Truth,
        manifest: &mut Manifest,
    ) -> Result<(), SynthError> {
        let path = ctx.root.join(FILE);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
        }
        let xerr = |e: XlsxError| SynthError::Xlsx {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut rng = crate::rng::stream(ctx.seed, "housing rows");
        let mut wb = Workbook::new();
        let e = ctx.extraction;
        let created = ExcelDateTime::from_ymd(e.year() as u16, e.month() as u8, e.day() as u8)
            .map_err(xerr)?;
        let props = DocProperties::new()
            .set_title("Domande di assegnazione alloggi ERP")
            .set_author("Comune di Modena - Settore Politiche abitative")
            .set_creation_datetime(&created);
        wb.set_properties(&props);
        let ws = wb.add_worksheet();
        ws.set_name(SHEET).map_err(xerr)?;
        let bold = Format::new().set_bold();
        let date_fmt = Format::new().set_num_format("dd/mm/yyyy");
        let money = Format::new().set_num_format("#,##0.00");
        let score_fmt = Format::new().set_num_format("0.0");
        ws.write_string_with_format(
            0,
            0,
            "Comune di Modena - Settore Politiche abitative - Domande di assegnazione alloggi ERP",
            &bold,
        )
        .map_err(xerr)?;
        ws.write_string(1, 0, format!("Data estrazione: {}", crate::out::dmy(e)))
            .map_err(xerr)?;
        for (c, name) in COLUMNS.iter().enumerate() {
            ws.write_string_with_format(HEADER_ROW - 1, c as u16, *name, &bold)
                .map_err(xerr)?;
        }
        for (c, w) in [16.0, 19.0, 18.0, 16.0, 13.0, 15.0, 12.0, 11.0, 16.0, 7.0]
            .iter()
            .enumerate()
        {
            ws.set_column_width(c as u16, *w).map_err(xerr)?;
        }
        let mut row = HEADER_ROW; // 0-based index of the first data row (sheet row 5)
        let mut seq = (0, 0u32);
        let last = ctx.last;
        for a in &self.apps {
            let year = a.date.year();
            if year != seq.0 {
                seq = (year, 0);
            }
            seq.1 += 1;
            let number = format!("ERP/{year}/{:05}", seq.1);
            let person = &world.persons[a.person as usize];
            let outcome = if !a.eligible || rng.random_bool(0.04) {
                "ESCLUSA"
            } else if person.exit.is_some() && rng.random_bool(0.8) {
                "DECADUTA"
            } else if rng.random_bool(0.02) {
                "RINUNCIA"
            } else if year == last && a.date.month() >= 11 {
                "IN ISTRUTTORIA"
            } else {
                let waited = (last - year) as f64;
                let p = ((0.02 + 0.008 * a.score) * (1.0 + waited)).min(0.8);
                if rng.random_bool(p) {
                    "ASSEGNATA"
                } else if waited >= 3.0 && rng.random_bool(0.3) {
                    "DECADUTA"
                } else {
                    "IN GRADUATORIA"
                }
            };
            let mut defect = draw(&mut rng, DIRT);
            let mut column = "application_id";
            let mut surname = world.surname(a.person).to_uppercase();
            let mut name = world.given_name(a.person).to_string();
            if defect == Some(Kind::NameTypo) {
                if let Some(t) = dirty::typo(&mut rng, &surname) {
                    surname = t;
                    column = "surname";
                } else if let Some(t) = dirty::typo(&mut rng, &name) {
                    name = t;
                    column = "first_name";
                } else {
                    defect = None;
                }
            }
            let cf = if defect == Some(Kind::InvalidTaxCode) {
                column = "tax_code";
                taxcode::wrong_check(&person.cf, rng.random())
            } else {
                person.cf
            };
            let date_bad = if defect == Some(Kind::InvalidDate) {
                column = "application_date";
                Some(dirty::impossible_dmy(&mut rng, year))
            } else {
                None
            };
            let mut isee_cell = Cell::Money(a.isee);
            let mut score_cell = a.score;
            match defect {
                Some(Kind::OutOfRange) => {
                    if rng.random_bool(0.5) {
                        isee_cell = Cell::Money(-a.isee.max(150.0));
                        column = "isee";
                    } else {
                        score_cell = 150.0 + a.score;
                        column = "score";
                    }
                }
                Some(Kind::NonNumeric) => {
                    isee_cell = Cell::Text("n.d.");
                    column = "isee";
                }
                Some(Kind::MissingOptional) => {
                    isee_cell = Cell::Blank;
                    column = "isee";
                }
                _ => {}
            }
            let outcome = if defect == Some(Kind::MissingRequired) {
                column = "outcome";
                ""
            } else {
                outcome
            };
            let zone = if defect == Some(Kind::UnknownZone) {
                column = "zone";
                dirty::unknown_zone(&mut rng).to_string()
            } else {
                format!("Z{:02}", a.zone + 1)
            };
            let copies = if defect == Some(Kind::DuplicateRow) {
                2
            } else {
                1
            };
            for copy in 0..copies {
                let write = |ws: &mut Worksheet| -> Result<(), XlsxError> {
                    ws.write_string(row, 0, &number)?;
                    ws.write_string(row, 1, taxcode::as_str(&cf))?;
                    ws.write_string(row, 2, &surname)?;
                    ws.write_string(row, 3, &name)?;
                    match &date_bad {
                        Some(s) => ws.write_string(row, 4, s)?,
                        None => ws.write_datetime_with_format(
                            row,
                            4,
                            ExcelDateTime::from_ymd(
                                year as u16,
                                a.date.month() as u8,
                                a.date.day() as u8,
                            )?,
                            &date_fmt,
                        )?,
                    };
                    ws.write_number(row, 5, a.members as f64)?;
                    match isee_cell {
                        Cell::Money(v) => ws.write_number_with_format(
                            row,
                            6,
                            (v * 100.0).round() / 100.0,
                            &money,
                        )?,
                        Cell::Text(s) => ws.write_string(row, 6, s)?,
                        Cell::Blank => ws,
                    };
                    ws.write_number_with_format(row, 7, score_cell, &score_fmt)?;
                    if !outcome.is_empty() {
                        ws.write_string(row, 8, outcome)?;
                    }
                    ws.write_string(row, 9, &zone)?;
                    Ok(())
                };
                write(ws).map_err(xerr)?;
                let sheet_row = row as u64 + 1;
                truth.link("housing", FILE, sheet_row, &number, a.person)?;
                if let Some(k) = defect
                    && (k != Kind::DuplicateRow || copy == 1)
                {
                    truth.defect("housing", FILE, sheet_row, column, k)?;
                }
                row += 1;
            }
        }
        let rows = (row - HEADER_ROW) as u64;
        crate::out::count_rows(rows);
        wb.save(&path).map_err(xerr)?;
        let bytes = std::fs::metadata(&path)
            .map_err(|e| SynthError::io(&path, e))?
            .len();
        manifest.files.push((FILE.into(), rows, bytes));
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Cell {
    Money(f64),
    Text(&'static str),
    Blank,
}
