//! INPS ISEE declarations (DSU): Windows-1252, `;`, decimal commas with `.` thousands,
//! dates `dd/mm/yyyy`. INPS does not know the register's household id: records link by the
//! declarant's tax code only.

use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, YearView};
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::{Encoding, Line, Manifest, Sink, amount_it};
use crate::population::{Isee, Relation, World, age_on};
use crate::{SynthError, taxcode};

pub const FILE: &str = "custodian/inps/isee_dsu.csv";
pub const HEADER: &str = "PROTOCOLLO_DSU;CF_DICHIARANTE;COGNOME;NOME;DATA_PRESENTAZIONE;NUMERO_COMPONENTI;VALORE_ISEE;VALORE_ISR;VALORE_ISP;SCALA_EQUIVALENZA;TIPO_ISEE\n";
pub const TYPES: [&str; 5] = [
    "ORDINARIO",
    "MINORENNI",
    "SOCIOSANITARIO",
    "CORRENTE",
    "UNIVERSITARIO",
];

const DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.001),
    (Kind::InvalidDate, 0.0005),
    (Kind::NonNumeric, 0.0005),
    (Kind::OutOfRange, 0.0005),
    (Kind::MissingRequired, 0.0004),
    (Kind::InvalidTaxCode, 0.0005),
    (Kind::NameTypo, 0.02),
    (Kind::MissingOptional, 0.003),
];

/// The threshold used in the truth's poverty indicator (euro).
pub const LOW_ISEE: f64 = 9_360.0;

struct Decl {
    date: chrono::NaiveDate,
    household: u32,
    declarant: u32,
    isee: Isee,
    kind: usize,
    correction: bool,
}

pub struct IseeSource {
    sink: Sink,
    rng: ChaCha8Rng,
    line: Line,
    number: u64,
}

impl IseeSource {
    pub fn new(ctx: &Ctx) -> Result<IseeSource, SynthError> {
        let mut sink = Sink::create(ctx.root, FILE)?.with_encoding(Encoding::Windows1252);
        sink.header(HEADER.as_bytes())?;
        Ok(IseeSource {
            sink,
            rng: crate::rng::stream(ctx.seed, "isee"),
            line: Line::new(b';'),
            number: 1_000_000,
        })
    }

    /// Writes the declarations submitted in the view's year; returns declaring households per zone.
    pub fn year(
        &mut self,
        world: &World,
        view: &YearView,
        truth: &mut Truth,
    ) -> Result<Vec<u32>, SynthError> {
        let year = view.year;
        let rng = &mut self.rng;
        let mut per_zone = vec![0u32; world.territory.zones.len()];
        let mut decls = Vec::new();
        let ndays = view.end.ordinal();
        for (h, isee) in view.isee.iter().enumerate() {
            let Some(isee) = isee else { continue };
            let hh = &world.households[h];
            let v = isee.value;
            let f = if v < LOW_ISEE {
                0.7
            } else if v < 15_000.0 {
                0.45
            } else if v < 25_000.0 {
                0.25
            } else if v < 40_000.0 {
                0.12
            } else {
                0.05
            };
            let mut p: f64 = f * if year >= 2022 { 1.0 } else { 0.75 };
            if year >= 2022 && isee.minors > 0 {
                p = (p + 0.5).min(0.95);
            }
            if !rng.random_bool(p) {
                continue;
            }
            per_zone[hh.zone as usize] += 1;
            let day = if rng.random_bool(0.55) {
                rng.random_range(1..=90)
            } else {
                rng.random_range(1..=ndays)
            };
            let date = chrono::NaiveDate::from_yo_opt(year, day).expect("day within year");
            let head = hh.members[0];
            let spouse = hh.members.iter().copied().find(|&m| {
                matches!(
                    world.persons[m as usize].relation,
                    Relation::Spouse | Relation::Partner
                )
            });
            let declarant = match spouse {
                Some(s) if rng.random_bool(0.25) => s,
                _ => head,
            };
            let elderly_disabled = hh.members.iter().any(|&m| {
                let p = &world.persons[m as usize];
                p.disabled && age_on(p.birth, view.end) >= 65
            });
            let student = hh
                .members
                .iter()
                .any(|&m| (19..=25).contains(&age_on(world.persons[m as usize].birth, view.end)));
            let kind = if elderly_disabled && rng.random_bool(0.6) {
                2
            } else if isee.minors > 0 && rng.random_bool(0.3) {
                1
            } else if student && rng.random_bool(0.3) {
                4
            } else if rng.random_bool(0.03) {
                3
            } else {
                0
            };
            decls.push(Decl {
                date,
                household: h as u32,
                declarant,
                isee: *isee,
                kind,
                correction: false,
            });
            if rng.random_bool(0.02) {
                let later = (date + chrono::Duration::days(rng.random_range(15..90))).min(view.end);
                let mut fixed = *isee;
                if rng.random_bool(0.5) {
                    fixed.isp = (fixed.isp * rng.random_range(0.6..1.4) * 100.0).round() / 100.0;
                } else {
                    fixed.isr = (fixed.isr * rng.random_range(0.9..1.1) * 100.0).round() / 100.0;
                }
                fixed.value = ((fixed.isr + 0.2 * fixed.isp) / fixed.scale * 100.0).round() / 100.0;
                decls.push(Decl {
                    date: later,
                    household: h as u32,
                    declarant,
                    isee: fixed,
                    kind,
                    correction: true,
                });
            }
        }
        decls.sort_by_key(|d| (d.date, d.household, d.correction));
        for d in decls {
            self.number += rng.random_range(1..40u64);
            let letter = (b'A' + (self.number % 26) as u8) as char;
            let protocol = format!("INPS-ISEE-{year}-{:08}{letter}-00", self.number);
            let mut defect = if d.correction {
                Some(Kind::Correction)
            } else {
                draw(rng, DIRT)
            };
            let mut column = "protocol";
            let person = &world.persons[d.declarant as usize];
            let l = &mut self.line;
            l.clear();
            l.text(&protocol);
            if defect == Some(Kind::InvalidTaxCode) {
                l.text(taxcode::as_str(&taxcode::wrong_check(
                    &person.cf,
                    rng.random(),
                )));
                column = "tax_code";
            } else {
                l.bytes(&person.cf);
            }
            let mut surname = world.surname(d.declarant).to_uppercase();
            let mut name = world.given_name(d.declarant).to_uppercase();
            if defect == Some(Kind::NameTypo) {
                if rng.random_bool(0.5)
                    && let Some(t) = dirty::typo(rng, &surname)
                {
                    surname = t;
                    column = "surname";
                }
                if column != "surname"
                    && let Some(t) = dirty::typo(rng, &name)
                {
                    name = t;
                    column = "first_name";
                }
                if column == "protocol" {
                    defect = None;
                }
            }
            l.text(&surname).text(&name);
            if defect == Some(Kind::InvalidDate) {
                l.text(&dirty::impossible_dmy(rng, year));
                column = "submission_date";
            } else {
                l.dmy(d.date);
            }
            if defect == Some(Kind::MissingRequired) {
                l.empty();
                column = "members";
            } else {
                l.int(d.isee.members as u64);
            }
            match defect {
                Some(Kind::NonNumeric) => {
                    l.text(["#VALORE!", "n.d.", "12.3a4,00", "ERR"][rng.random_range(0..4)]);
                    column = "isee";
                }
                Some(Kind::OutOfRange) => {
                    if rng.random_bool(0.5) {
                        l.text(&amount_it(-d.isee.value.max(100.0), true));
                    } else {
                        l.text("999.999.999,00");
                    }
                    column = "isee";
                }
                _ => {
                    l.text(&amount_it(d.isee.value, true));
                }
            }
            l.text(&amount_it(d.isee.isr, true));
            let missing_isp = defect == Some(Kind::MissingOptional) && rng.random_bool(0.5);
            if missing_isp {
                l.empty();
                column = "isp";
            } else {
                l.text(&amount_it(d.isee.isp, true));
            }
            l.text(&amount_it(d.isee.scale, false));
            if defect == Some(Kind::MissingOptional) && !missing_isp {
                l.empty();
                column = "isee_type";
            } else {
                l.text(TYPES[d.kind]);
            }
            if d.correction {
                column = "isee";
            }
            let bytes = l.end().to_vec();
            let line_no = self.sink.next_line();
            self.sink.row(&bytes)?;
            truth.link("isee", FILE, line_no, &protocol, d.declarant)?;
            if let Some(k) = defect {
                if k == Kind::DuplicateRow {
                    let again = self.sink.next_line();
                    self.sink.row(&bytes)?;
                    truth.link("isee", FILE, again, &protocol, d.declarant)?;
                    truth.defect("isee", FILE, again, column, k)?;
                } else {
                    truth.defect("isee", FILE, line_no, column, k)?;
                }
            }
        }
        Ok(per_zone)
    }

    pub fn finish(self, manifest: &mut Manifest) -> Result<(), SynthError> {
        self.sink.finish(manifest)
    }
}
