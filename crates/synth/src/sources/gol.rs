//! Labour-agency measures of the GOL programme (Garanzia di occupabilità dei lavoratori, from
//! 2022), as JSON lines. Unemployed residents enter a pathway (percorso 1..5) and go through
//! one to three measures; finishing one may end in a job.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, YearView};
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::{Manifest, Sink, iso};
use crate::places::ITALY;
use crate::population::{Status, World, age_on};
use crate::{SynthError, taxcode};

pub const FILE: &str = "custodian/lavoro/gol_misure.jsonl";
pub const OUTCOMES: [&str; 4] = ["occupato", "in corso", "interrotto", "concluso"];
pub const FIRST_YEAR: i32 = 2022;

/// Measures of each pathway (index 0 = percorso 1).
const MEASURES: [&[&str]; 5] = [
    &[
        "orientamento di base",
        "orientamento specialistico",
        "accompagnamento al lavoro",
        "incontro domanda-offerta",
    ],
    &[
        "orientamento specialistico",
        "formazione breve (upskilling)",
        "accompagnamento al lavoro",
        "tirocinio extracurricolare",
    ],
    &[
        "formazione lunga (reskilling)",
        "orientamento specialistico",
        "tirocinio extracurricolare",
    ],
    &[
        "presa in carico integrata",
        "orientamento specialistico",
        "tirocinio di inclusione",
        "formazione breve (upskilling)",
    ],
    &["outplacement", "formazione lunga (reskilling)"],
];
const P_JOB: [f64; 5] = [0.45, 0.35, 0.3, 0.2, 0.4];

const DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.002),
    (Kind::InvalidDate, 0.001),
    (Kind::OutOfRange, 0.001),
    (Kind::InvalidValue, 0.0005),
    (Kind::MissingRequired, 0.0005),
    (Kind::InvalidTaxCode, 0.001),
];

struct Row {
    person: u32,
    pathway: u8,
    measure: &'static str,
    start: NaiveDate,
    end: Option<NaiveDate>,
    outcome: &'static str,
}

pub struct Gol {
    sink: Sink,
    rng: ChaCha8Rng,
    data_end: NaiveDate,
    seq: u64,
}

impl Gol {
    pub fn new(ctx: &Ctx) -> Result<Gol, SynthError> {
        Ok(Gol {
            sink: Sink::create(ctx.root, FILE)?,
            rng: crate::rng::stream(ctx.seed, "gol"),
            data_end: ctx.data_end(),
            seq: 0,
        })
    }

    /// Writes the measures started in the view's year; people who find a job leave
    /// unemployment in the world.
    pub fn year(
        &mut self,
        world: &mut World,
        view: &YearView,
        benefit_households: &BTreeSet<u32>,
        truth: &mut Truth,
    ) -> Result<(), SynthError> {
        if view.year < FIRST_YEAR {
            return Ok(());
        }
        let rng = &mut self.rng;
        let mut rows: Vec<Row> = Vec::new();
        let mut employed: Vec<u32> = Vec::new();
        let open = if view.year == FIRST_YEAR { 152 } else { 1 };
        for (i, p) in world.persons.iter().enumerate() {
            if p.status != Status::Resident {
                continue;
            }
            let age = age_on(p.birth, view.end);
            if !(18..=64).contains(&age) {
                continue;
            }
            let on_benefit = benefit_households.contains(&p.household) && age < 60;
            let pr = if on_benefit && p.unemployed {
                0.35
            } else if p.unemployed {
                0.15
            } else if on_benefit {
                0.08
            } else {
                0.0
            };
            if pr == 0.0 || !rng.random_bool(pr) {
                continue;
            }
            let pathway = if on_benefit {
                if rng.random_bool(0.6) { 4 } else { 1 }
            } else if age >= 50 {
                [1, 2, 2, 3, 5][rng.random_range(0..5)]
            } else if p.education <= 1 {
                [1, 3, 3, 4][rng.random_range(0..4)]
            } else if age < 30 || p.citizenship as usize != ITALY {
                [1, 1, 2][rng.random_range(0..3)]
            } else {
                [1, 1, 2, 3][rng.random_range(0..4)]
            };
            let n = 1 + rng.random_range(0..3usize);
            let mut start =
                NaiveDate::from_yo_opt(view.year, rng.random_range(open..=view.end.ordinal()))
                    .expect("day within year");
            let list = MEASURES[pathway as usize - 1];
            for k in 0..n {
                let measure = list[(k + rng.random_range(0..list.len())) % list.len()];
                let end = start + chrono::Duration::days(rng.random_range(20..180));
                let last = k + 1 == n;
                let (end, outcome) = if end > self.data_end {
                    (None, "in corso")
                } else if rng.random_bool(0.12) {
                    (Some(end), "interrotto")
                } else if last && rng.random_bool(P_JOB[pathway as usize - 1]) {
                    employed.push(i as u32);
                    (Some(end), "occupato")
                } else {
                    (Some(end), "concluso")
                };
                rows.push(Row {
                    person: i as u32,
                    pathway,
                    measure,
                    start,
                    end,
                    outcome,
                });
                match end {
                    Some(e) if outcome == "concluso" => {
                        start = e + chrono::Duration::days(rng.random_range(0..30))
                    }
                    _ => break,
                }
                if start > self.data_end {
                    break;
                }
            }
        }
        for p in employed {
            world.persons[p as usize].unemployed = false;
        }
        rows.sort_by_key(|r| (r.start, r.person));
        for r in rows {
            self.seq += 1;
            let id = format!("GOL-{}-{:07}", r.start.year(), self.seq);
            let person = &world.persons[r.person as usize];
            let defect = draw(rng, DIRT);
            let mut column = "measure_id";
            let cf = if defect == Some(Kind::InvalidTaxCode) {
                column = "tax_code";
                taxcode::wrong_check(&person.cf, rng.random())
            } else {
                person.cf
            };
            let pathway = if defect == Some(Kind::OutOfRange) {
                column = "pathway";
                serde_json::json!([0, 6, 7, 9][rng.random_range(0..4)])
            } else {
                serde_json::json!(r.pathway)
            };
            let measure = if defect == Some(Kind::MissingRequired) {
                column = "measure";
                serde_json::Value::Null
            } else {
                serde_json::json!(r.measure)
            };
            let start = if defect == Some(Kind::InvalidDate) {
                column = "start_date";
                dirty::impossible_iso(rng, r.start.year())
            } else {
                iso(r.start)
            };
            let outcome = if defect == Some(Kind::InvalidValue) {
                column = "outcome";
                ["OK", "assunto", "n.d.", "sospeso"][rng.random_range(0..4)]
            } else {
                r.outcome
            };
            // Keys in a fixed order (serde_json's map is sorted; write by hand instead).
            let line = format!(
                "{{\"id_misura\":{},\"cf\":{},\"percorso\":{},\"misura\":{},\"data_inizio\":{},\"data_fine\":{},\"esito\":{}}}\n",
                serde_json::json!(id),
                serde_json::json!(taxcode::as_str(&cf)),
                pathway,
                measure,
                serde_json::json!(start),
                r.end
                    .map(|e| serde_json::json!(iso(e)))
                    .unwrap_or(serde_json::Value::Null),
                serde_json::json!(outcome),
            );
            let line_no = self.sink.next_line();
            self.sink.row(line.as_bytes())?;
            truth.link("gol", FILE, line_no, &id, r.person)?;
            if let Some(k) = defect {
                if k == Kind::DuplicateRow {
                    let again = self.sink.next_line();
                    self.sink.row(line.as_bytes())?;
                    truth.link("gol", FILE, again, &id, r.person)?;
                    truth.defect("gol", FILE, again, column, k)?;
                } else {
                    truth.defect("gol", FILE, line_no, column, k)?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(self, manifest: &mut Manifest) -> Result<(), SynthError> {
        self.sink.finish(manifest)
    }
}
