//! Social-service case records (cartella sociale): one row per intervention.
//! UTF-8 with a byte-order mark, `,`-delimited, text fields quoted, ISO dates, decimal point,
//! and a free-text note that may hold quotes and line breaks. About 4% of the records, all
//! of foreign-born people, carry no tax code: the beneficiary reached the services before
//! having one, and only name, birth date and sex identify them.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, YearView};
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::{Line, Manifest, Sink, amount_dot};
use crate::places::{ITALY, MUNICIPALITIES};
use crate::population::{EntryKind, Person, Relation, Status, World, age_on};
use crate::{SynthError, taxcode};

pub const FILE: &str = "custodian/sociale/cartella_sociale.csv";
pub const HEADER: &str = "\u{feff}ID_INTERVENTO,CF_BENEFICIARIO,COGNOME,NOME,DATA_NASCITA,SESSO,AREA,TIPO_INTERVENTO,DATA_INIZIO,DATA_FINE,IMPORTO_EURO,ZONA,NOTE\n";
pub const AREAS: [&str; 6] = [
    "anziani",
    "minori",
    "famiglie",
    "disabili",
    "adulti",
    "immigrati",
];

struct IType {
    area: usize,
    name: &'static str,
    weight: f64,
    /// Duration range in days; (0, 0) for one-off measures.
    days: (i64, i64),
    amount: Option<(f64, f64)>,
    p_amount: f64,
}

const fn t(
    area: usize,
    name: &'static str,
    weight: f64,
    days: (i64, i64),
    amount: Option<(f64, f64)>,
    p_amount: f64,
) -> IType {
    IType {
        area,
        name,
        weight,
        days,
        amount,
        p_amount,
    }
}

static TYPES: &[IType] = &[
    t(
        0,
        "assistenza domiciliare",
        0.30,
        (90, 900),
        Some((1500.0, 9000.0)),
        0.6,
    ),
    t(
        0,
        "pasti a domicilio",
        0.15,
        (60, 720),
        Some((400.0, 2500.0)),
        0.7,
    ),
    t(0, "telesoccorso", 0.12, (365, 1800), None, 0.0),
    t(
        0,
        "centro diurno",
        0.10,
        (180, 1500),
        Some((3000.0, 9000.0)),
        0.8,
    ),
    t(
        0,
        "inserimento in struttura",
        0.08,
        (300, 2500),
        Some((12000.0, 30000.0)),
        0.9,
    ),
    t(0, "trasporto sociale", 0.10, (30, 365), None, 0.0),
    t(
        0,
        "assegno di cura",
        0.15,
        (180, 720),
        Some((1200.0, 5000.0)),
        1.0,
    ),
    t(
        1,
        "educativa domiciliare",
        0.35,
        (180, 720),
        Some((2000.0, 8000.0)),
        0.5,
    ),
    t(
        1,
        "centro educativo pomeridiano",
        0.25,
        (240, 300),
        None,
        0.0,
    ),
    t(
        1,
        "affido familiare",
        0.08,
        (365, 1500),
        Some((3000.0, 7000.0)),
        1.0,
    ),
    t(
        1,
        "inserimento in comunità",
        0.07,
        (180, 900),
        Some((20000.0, 60000.0)),
        1.0,
    ),
    t(1, "sostegno scolastico", 0.25, (240, 300), None, 0.0),
    t(
        2,
        "contributo economico",
        0.50,
        (0, 0),
        Some((200.0, 3000.0)),
        1.0,
    ),
    t(
        2,
        "contributo affitto",
        0.25,
        (0, 0),
        Some((600.0, 3600.0)),
        1.0,
    ),
    t(2, "sostegno alla genitorialità", 0.15, (90, 365), None, 0.0),
    t(2, "buoni spesa", 0.10, (0, 0), Some((100.0, 500.0)), 1.0),
    t(
        3,
        "centro diurno",
        0.30,
        (365, 2000),
        Some((5000.0, 15000.0)),
        0.8,
    ),
    t(3, "trasporto", 0.20, (180, 1000), None, 0.0),
    t(
        3,
        "assistenza domiciliare",
        0.20,
        (180, 1000),
        Some((2000.0, 9000.0)),
        0.6,
    ),
    t(
        3,
        "inserimento lavorativo",
        0.20,
        (180, 720),
        Some((1000.0, 4000.0)),
        0.5,
    ),
    t(
        3,
        "contributo economico",
        0.10,
        (0, 0),
        Some((300.0, 3000.0)),
        1.0,
    ),
    t(
        4,
        "contributo economico",
        0.45,
        (0, 0),
        Some((200.0, 2500.0)),
        1.0,
    ),
    t(
        4,
        "tirocinio di inclusione",
        0.20,
        (120, 365),
        Some((1800.0, 4800.0)),
        0.9,
    ),
    t(
        4,
        "accoglienza abitativa temporanea",
        0.10,
        (60, 365),
        Some((1500.0, 9000.0)),
        0.7,
    ),
    t(
        4,
        "contributo affitto",
        0.25,
        (0, 0),
        Some((600.0, 3600.0)),
        1.0,
    ),
    t(5, "mediazione culturale", 0.40, (30, 180), None, 0.0),
    t(5, "corso di lingua italiana", 0.30, (90, 180), None, 0.0),
    t(5, "orientamento ai servizi", 0.30, (0, 0), None, 0.0),
];

/// Intervention types, for the lab spec's closed list.
pub fn type_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = TYPES.iter().map(|t| t.name).collect();
    v.sort();
    v.dedup();
    v
}

/// Every (area, intervention type) pair the records can hold, in the table's order: the kinds
/// of service the synthetic registry must list.
pub fn kinds() -> Vec<(&'static str, &'static str)> {
    TYPES.iter().map(|t| (AREAS[t.area], t.name)).collect()
}

const DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.001),
    (Kind::InvalidDate, 0.0005),
    (Kind::NonNumeric, 0.0004),
    (Kind::OutOfRange, 0.0003),
    (Kind::UnknownZone, 0.0005),
    (Kind::MissingRequired, 0.0004),
    (Kind::InvalidValue, 0.0003),
    (Kind::InvalidTaxCode, 0.0005),
    (Kind::NameTypo, 0.015),
    (Kind::MissingOptional, 0.002),
];

/// Share of the records without a tax code.
const NO_TAX_CODE: f64 = 0.04;

/// Weight of a record in the draw of the records without a tax code: only foreign-born,
/// foreign-origin people qualify, three times as likely within a year of their arrival.
fn no_tax_code_weight(p: &Person, start: NaiveDate) -> f64 {
    let abroad = p.birth_place as usize >= MUNICIPALITIES.len();
    if !abroad || p.citizenship_orig as usize == ITALY {
        0.0
    } else if p.entry_kind == EntryKind::Immigration && (start - p.entry).num_days() < 365 {
        3.0
    } else {
        1.0
    }
}

const NOTES: &[&str] = &[
    "Segnalazione del medico di medicina generale.",
    "Presa in carico congiunta con il servizio sanitario.",
    "Utente seguito anche dal CSM.\nVerifica a 6 mesi.",
    "Il figlio riferisce \"difficoltà a gestire le spese\".",
    "Richiesto ISEE aggiornato; in attesa di documentazione.",
    "Colloquio in sede: situazione stabile,\nsi conferma il progetto.",
    "Rete familiare presente, ma \"fragile\".\nValutare sostegno educativo.",
    "Nota operatore: contattare l'assistente sociale di zona.",
    "Rinnovo concordato con l'utente, firma del \"patto\" il giorno stesso.",
    "Accesso spontaneo allo sportello sociale.",
    "Segnalazione della scuola, \"assenze frequenti\".\nIncontro con i genitori fissato.",
    "Richiesta di proroga\nin valutazione.",
];

struct Case {
    person: u32,
    kind: u8,
    start: NaiveDate,
    planned_end: NaiveDate,
    amount: Option<f64>,
    zone: u8,
}

pub struct Social {
    rng: ChaCha8Rng,
    cases: Vec<Case>,
}

fn pick_type<R: Rng>(rng: &mut R, area: usize) -> u8 {
    let idx: Vec<usize> = (0..TYPES.len())
        .filter(|&i| TYPES[i].area == area)
        .collect();
    let total: f64 = idx.iter().map(|&i| TYPES[i].weight).sum();
    let mut u = rng.random::<f64>() * total;
    for &i in &idx {
        if u < TYPES[i].weight {
            return i as u8;
        }
        u -= TYPES[i].weight;
    }
    *idx.last().expect("areas have types") as u8
}

impl Social {
    pub fn new(ctx: &Ctx) -> Social {
        Social {
            rng: crate::rng::stream(ctx.seed, "social"),
            cases: Vec::new(),
        }
    }

    /// Opens the cases of the view's year; returns new cases per zone.
    pub fn year(&mut self, world: &World, view: &YearView) -> Vec<u32> {
        let rng = &mut self.rng;
        let mut new: Vec<(u32, usize)> = Vec::new();
        for (i, p) in world.persons.iter().enumerate() {
            if p.status != Status::Resident {
                continue;
            }
            let age = age_on(p.birth, view.end);
            let hh = &world.households[p.household as usize];
            let isee = view.isee[p.household as usize]
                .map(|x| x.value)
                .unwrap_or(0.0);
            let low = isee < super::isee::LOW_ISEE;
            let alone = hh.members.len() == 1;
            let mut chances: [(usize, f64); 5] = [(0, 0.0); 5];
            if age >= 65 {
                let pr = 0.02
                    * if age >= 80 { 2.0 } else { 1.0 }
                    * if alone { 1.6 } else { 1.0 }
                    * if p.disabled { 1.8 } else { 1.0 }
                    * if low { 1.5 } else { 1.0 };
                chances[0] = (0, pr);
            } else if age < 18 {
                let single_parent = !hh.members.iter().any(|&m| {
                    matches!(
                        world.persons[m as usize].relation,
                        Relation::Spouse | Relation::Partner
                    )
                });
                chances[0] = (
                    1,
                    0.006 * if low { 3.0 } else { 1.0 } * if single_parent { 1.5 } else { 1.0 },
                );
            } else {
                if p.disabled {
                    chances[1] = (3, 0.05);
                } else if low {
                    chances[1] = (4, 0.03 * if p.unemployed { 1.5 } else { 1.0 });
                }
                let recent =
                    p.entry_kind == EntryKind::Immigration && (view.end - p.entry).num_days() < 730;
                if p.citizenship != 0 && recent {
                    chances[2] = (5, 0.04);
                }
            }
            if p.relation == Relation::Head {
                let minors = view.isee[p.household as usize]
                    .map(|x| x.minors)
                    .unwrap_or(0);
                if minors > 0 {
                    let pr = if low {
                        0.08
                    } else if isee < 15_000.0 {
                        0.02
                    } else {
                        0.0
                    };
                    chances[3] = (2, pr);
                }
            }
            for &(area, pr) in &chances {
                if pr > 0.0 && rng.random_bool(pr.min(1.0)) {
                    new.push((i as u32, area));
                }
            }
        }
        let mut per_zone = vec![0u32; world.territory.zones.len()];
        let first = self.cases.len();
        for (person, area) in new {
            let p = &world.persons[person as usize];
            let from = if p.entry.year() == view.year {
                p.entry.ordinal()
            } else {
                1
            };
            let day = rng.random_range(from..=view.end.ordinal());
            let start = NaiveDate::from_yo_opt(view.year, day).expect("day within year");
            let kind = pick_type(rng, area);
            let ty = &TYPES[kind as usize];
            let planned_end = if ty.days.1 == 0 {
                start
            } else {
                start + chrono::Duration::days(rng.random_range(ty.days.0..=ty.days.1))
            };
            let amount = match ty.amount {
                Some((lo, hi)) if rng.random_bool(ty.p_amount) => {
                    let v: f64 = rng.random_range(lo..hi);
                    Some(if ty.days.1 == 0 {
                        (v / 50.0).round() * 50.0
                    } else {
                        (v * 100.0).round() / 100.0
                    })
                }
                _ => None,
            };
            let zone = world.households[p.household as usize].zone;
            per_zone[zone as usize] += 1;
            self.cases.push(Case {
                person,
                kind,
                start,
                planned_end,
                amount,
                zone,
            });
        }
        self.cases[first..].sort_by_key(|c| (c.start, c.person, c.kind));
        per_zone
    }

    /// The cases in progress on `day` (started, and ended on `day` or later) with the ends
    /// the file shows (cut at the person's exit): zone, area and intervention type of each.
    pub fn in_progress<'a>(
        &'a self,
        world: &'a World,
        day: NaiveDate,
    ) -> impl Iterator<Item = (u8, &'static str, &'static str)> + 'a {
        self.cases.iter().filter_map(move |c| {
            let mut end = c.planned_end;
            if let Some(exit) = world.persons[c.person as usize].exit {
                end = end.min(exit);
            }
            let ty = &TYPES[c.kind as usize];
            (c.start <= day && end >= day).then_some((c.zone, AREAS[ty.area], ty.name))
        })
    }

    pub fn write(
        self,
        ctx: &Ctx,
        world: &World,
        truth: &mut Truth,
        manifest: &mut Manifest,
    ) -> Result<(), SynthError> {
        let mut sink = Sink::create(ctx.root, FILE)?;
        sink.header(HEADER.as_bytes())?;
        let mut rng = crate::rng::stream(ctx.seed, "social rows");
        let mut rng_cf = crate::rng::stream(ctx.seed, "social tax codes");
        let weights: f64 = self
            .cases
            .iter()
            .map(|c| no_tax_code_weight(&world.persons[c.person as usize], c.start))
            .sum();
        let per_weight = if weights > 0.0 {
            NO_TAX_CODE * self.cases.len() as f64 / weights
        } else {
            0.0
        };
        let mut line = Line::new(b',');
        let mut seq_year = (0, 0u64);
        let data_end = ctx.data_end();
        for c in &self.cases {
            if c.start.year() != seq_year.0 {
                seq_year = (c.start.year(), 0);
            }
            seq_year.1 += 1;
            let id = format!("CS{}{:06}", c.start.year(), seq_year.1);
            let person = &world.persons[c.person as usize];
            let ty = &TYPES[c.kind as usize];
            let mut end = c.planned_end;
            if let Some(exit) = person.exit {
                end = end.min(exit);
            }
            let end = if end > data_end { None } else { Some(end) };
            let mut defect = draw(&mut rng, DIRT);
            if defect == Some(Kind::MissingOptional) && c.amount.is_none() {
                defect = None;
            }
            let weight = no_tax_code_weight(person, c.start);
            let no_tax_code = weight > 0.0 && rng_cf.random_bool((weight * per_weight).min(1.0));
            if no_tax_code && defect == Some(Kind::InvalidTaxCode) {
                defect = None;
            }
            let mut column = "case_id";
            let l = &mut line;
            l.clear();
            l.quoted(&id);
            if no_tax_code {
                l.empty();
            } else if defect == Some(Kind::InvalidTaxCode) {
                l.quoted(taxcode::as_str(&taxcode::wrong_check(
                    &person.cf,
                    rng.random(),
                )));
                column = "tax_code";
            } else {
                l.quoted(taxcode::as_str(&person.cf));
            }
            let mut surname = world.surname(c.person).to_string();
            let mut name = world.given_name(c.person).to_string();
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
            l.quoted(&surname)
                .quoted(&name)
                .iso(person.birth)
                .quoted(if person.female { "F" } else { "M" });
            match defect {
                Some(Kind::MissingRequired) => {
                    l.empty();
                    column = "area";
                }
                Some(Kind::InvalidValue) => {
                    l.quoted(
                        ["varie", "n.d.", "altro", "anziani/disabili"][rng.random_range(0..4)],
                    );
                    column = "area";
                }
                _ => {
                    l.quoted(AREAS[ty.area]);
                }
            }
            l.quoted(ty.name);
            if defect == Some(Kind::InvalidDate) {
                l.text(&dirty::impossible_iso(&mut rng, c.start.year()));
                column = "start_date";
            } else {
                l.iso(c.start);
            }
            match end {
                Some(e) => l.iso(e),
                None => l.empty(),
            };
            match defect {
                Some(Kind::NonNumeric) => {
                    l.quoted(["1.200,00", "€ 350", "300 euro", "n.d."][rng.random_range(0..4)]);
                    column = "amount";
                }
                Some(Kind::OutOfRange) => {
                    l.text(["350000.00", "-120.00", "1250000.00"][rng.random_range(0..3)]);
                    column = "amount";
                }
                Some(Kind::MissingOptional) => {
                    l.empty();
                    column = "amount";
                }
                _ => {
                    match c.amount {
                        Some(a) => l.text(&amount_dot(a)),
                        None => l.empty(),
                    };
                }
            }
            if defect == Some(Kind::UnknownZone) {
                l.quoted(dirty::unknown_zone(&mut rng));
                column = "zone";
            } else {
                l.quoted(&format!("Z{:02}", c.zone + 1));
            }
            if rng.random_bool(0.45) {
                l.empty();
            } else if end.is_some() && end != Some(c.planned_end) && rng.random_bool(0.5) {
                l.quoted(if person.status == Status::Dead {
                    "Chiuso per decesso."
                } else {
                    "Caso chiuso per trasferimento."
                });
            } else {
                l.quoted(NOTES[rng.random_range(0..NOTES.len())]);
            }
            let bytes = l.end().to_vec();
            let line_no = sink.next_line();
            sink.row(&bytes)?;
            truth.link("social_cases", FILE, line_no, &id, c.person)?;
            if no_tax_code {
                truth.defect("social_cases", FILE, line_no, "tax_code", Kind::NoTaxCode)?;
            }
            if let Some(k) = defect {
                if k == Kind::DuplicateRow {
                    let again = sink.next_line();
                    sink.row(&bytes)?;
                    truth.link("social_cases", FILE, again, &id, c.person)?;
                    truth.defect("social_cases", FILE, again, column, k)?;
                    if no_tax_code {
                        truth.defect("social_cases", FILE, again, "tax_code", Kind::NoTaxCode)?;
                    }
                } else {
                    truth.defect("social_cases", FILE, line_no, column, k)?;
                }
            }
        }
        sink.finish(manifest)
    }
}
