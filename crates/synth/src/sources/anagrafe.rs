//! The population register (anagrafe): a snapshot at every 31 December and the event log.
//! UTF-8, `;`-delimited, dates `dd/mm/yyyy`, names uppercase.

use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Ctx;
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::{Line, Manifest, Progress, Sink};
use crate::places;
use crate::population::{Event, Status, World, household_number, register_number};
use crate::territory::DISTRICT_CODES;
use crate::{SynthError, taxcode};

pub const SNAPSHOT_HEADER: &str = "ID_INDIVIDUO;CODICE_FISCALE;COGNOME;NOME;SESSO;DATA_NASCITA;LUOGO_NASCITA;CITTADINANZA;INDIRIZZO;ZONA_STAT;QUARTIERE;ID_FAMIGLIA;RELAZIONE_PARENTELA;DATA_RIFERIMENTO\n";
pub const EVENTS_HEADER: &str =
    "ID_EVENTO;ID_INDIVIDUO;TIPO_EVENTO;DATA_EVENTO;ZONA_DA;ZONA_A;DATA_REGISTRAZIONE\n";
pub const EVENTS_FILE: &str = "custodian/anagrafe/eventi.csv";

const SNAPSHOT_DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.0005),
    (Kind::InvalidDate, 0.0004),
    (Kind::OutOfRange, 0.0003),
    (Kind::UnknownZone, 0.0004),
    (Kind::InvalidValue, 0.0003),
    (Kind::MissingRequired, 0.0003),
    (Kind::InvalidTaxCode, 0.0003),
    (Kind::MissingOptional, 0.003),
];

const EVENT_DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.001),
    (Kind::InvalidDate, 0.001),
    (Kind::UnknownZone, 0.0008),
    (Kind::InvalidValue, 0.0005),
    (Kind::MissingRequired, 0.0005),
    (Kind::LateRegistration, 0.015),
];

pub struct Register {
    root: std::path::PathBuf,
    events: Sink,
    line: Line,
    rng_events: ChaCha8Rng,
    rng_snapshots: ChaCha8Rng,
    next_event: u64,
    upper_surnames: Vec<String>,
    upper_given: Vec<String>,
    manifest: Manifest,
}

impl Register {
    pub fn new(ctx: &Ctx) -> Result<Register, SynthError> {
        let mut events = Sink::create(ctx.root, EVENTS_FILE)?;
        events.header(EVENTS_HEADER.as_bytes())?;
        let bank = crate::names::NameBank::new();
        Ok(Register {
            root: ctx.root.to_path_buf(),
            events,
            line: Line::new(b';'),
            rng_events: crate::rng::stream(ctx.seed, "register events"),
            rng_snapshots: crate::rng::stream(ctx.seed, "register snapshots"),
            next_event: 1,
            upper_surnames: bank.surnames.iter().map(|s| s.to_uppercase()).collect(),
            upper_given: bank.given.iter().map(|s| s.to_uppercase()).collect(),
            manifest: Manifest::default(),
        })
    }

    /// Writes one event row (called by the simulation in date order).
    pub fn event(&mut self, e: &Event, truth: &mut Truth) -> Result<(), SynthError> {
        let rng = &mut self.rng_events;
        let defect = draw(rng, EVENT_DIRT);
        let id = self.next_event;
        self.next_event += 1;
        let zone = |z: Option<u8>| z.map(|z| format!("Z{:02}", z + 1)).unwrap_or_default();
        let mut from = zone(e.from);
        let mut to = zone(e.to);
        let l = &mut self.line;
        l.clear();
        l.id("E", id, 9).id("A", register_number(e.person), 8);
        let mut column = "event_id";
        match defect {
            Some(Kind::InvalidValue) => {
                l.text(
                    ["TRASFERIMENTO", "VARIAZIONE", "DECESSO", "NASCITA_"][rng.random_range(0..4)],
                );
                column = "event_type";
            }
            Some(Kind::MissingRequired) => {
                l.empty();
                column = "event_type";
            }
            _ => {
                l.text(e.kind.label());
            }
        }
        if defect == Some(Kind::InvalidDate) {
            l.text(&dirty::impossible_dmy(rng, e.date.year()));
            column = "event_date";
        } else {
            l.dmy(e.date);
        }
        if defect == Some(Kind::UnknownZone) {
            let bad = dirty::unknown_zone(rng).to_string();
            if !to.is_empty() {
                to = bad;
                column = "zone_to";
            } else {
                from = bad;
                column = "zone_from";
            }
        }
        l.text(&from).text(&to);
        let late = defect == Some(Kind::LateRegistration);
        let delay = if late {
            rng.random_range(60..400)
        } else {
            rng.random_range(0..12)
        };
        l.dmy(e.date + chrono::Duration::days(delay));
        if late {
            column = "registration_date";
        }
        let bytes = l.end().to_vec();
        let line_no = self.events.next_line();
        self.events.row(&bytes)?;
        let key = format!("E{id:09}");
        truth.link("register_events", EVENTS_FILE, line_no, &key, e.person)?;
        if let Some(k) = defect {
            if k == Kind::DuplicateRow {
                let again = self.events.next_line();
                self.events.row(&bytes)?;
                truth.link("register_events", EVENTS_FILE, again, &key, e.person)?;
                truth.defect("register_events", EVENTS_FILE, again, column, k)?;
            } else {
                truth.defect("register_events", EVENTS_FILE, line_no, column, k)?;
            }
        }
        Ok(())
    }

    /// Writes `anagrafe_YYYY.csv`: every resident on 31 December of `year`.
    pub fn snapshot(
        &mut self,
        world: &World,
        year: i32,
        truth: &mut Truth,
        prog: &mut Progress,
    ) -> Result<(), SynthError> {
        let rel = format!("custodian/anagrafe/anagrafe_{year}.csv");
        let mut sink = Sink::create(&self.root, &rel)?;
        sink.header(SNAPSHOT_HEADER.as_bytes())?;
        let territory = world.territory;
        let mut ref_date = Vec::new();
        crate::out::push_dmy(&mut ref_date, crate::out::ymd(year, 12, 31));
        let rng = &mut self.rng_snapshots;
        let l = &mut self.line;
        let mut key = Vec::with_capacity(9);
        let mut pending = 0u64;
        for (i, p) in world.persons.iter().enumerate() {
            if p.status != Status::Resident {
                continue;
            }
            let i = i as u32;
            let hh = &world.households[p.household as usize];
            let zone = &territory.zones[hh.zone as usize];
            let defect = draw(rng, SNAPSHOT_DIRT);
            let mut column = "register_pid";
            l.clear();
            l.id("A", register_number(i), 8);
            if defect == Some(Kind::InvalidTaxCode) {
                let bad = taxcode::wrong_check(&p.cf, rng.random());
                l.text(taxcode::as_str(&bad));
                column = "tax_code";
            } else {
                l.bytes(&p.cf);
            }
            l.text(&self.upper_surnames[p.surname as usize])
                .text(&self.upper_given[p.name as usize]);
            if defect == Some(Kind::InvalidValue) {
                l.text(["X", "0", "U", "MF"][rng.random_range(0..4)]);
                column = "sex";
            } else {
                l.text(if p.female { "F" } else { "M" });
            }
            match defect {
                Some(Kind::InvalidDate) => {
                    l.text(&dirty::impossible_dmy(rng, p.birth.year()));
                    column = "birth_date";
                }
                Some(Kind::OutOfRange) => {
                    let y = [1850, 1872, 1889, 1895][rng.random_range(0..4)];
                    l.text(&format!(
                        "{:02}/{:02}/{y}",
                        rng.random_range(1..=28),
                        rng.random_range(1..=12)
                    ));
                    column = "birth_date";
                }
                _ => {
                    l.dmy(p.birth);
                }
            }
            let missing_place = defect == Some(Kind::MissingOptional) && rng.random_bool(0.6);
            let missing_citizenship = defect == Some(Kind::MissingOptional) && !missing_place;
            if missing_place {
                l.empty();
                column = "birth_place";
            } else {
                l.text(places::place(p.birth_place).1);
            }
            if missing_citizenship {
                l.empty();
                column = "citizenship";
            } else {
                l.text(places::COUNTRIES[p.citizenship as usize].iso3);
            }
            l.text(crate::names::STREETS[hh.street as usize]);
            l.buf.extend_from_slice(b", ");
            crate::out::push_uint(&mut l.buf, hh.number as u64, 1);
            if defect == Some(Kind::UnknownZone) {
                l.text(dirty::unknown_zone(rng));
                column = "zone";
            } else {
                l.text(&zone.code);
            }
            l.text(DISTRICT_CODES[zone.district]);
            if defect == Some(Kind::MissingRequired) {
                l.empty();
                column = "household_pid";
            } else {
                l.id("F", household_number(p.household), 8);
            }
            l.text(p.relation.label()).bytes(&ref_date);
            let bytes = l.end();
            let line_no = sink.next_line();
            sink.row(bytes)?;
            key.clear();
            key.push(b'A');
            crate::out::push_uint(&mut key, register_number(i), 8);
            let key_str = std::str::from_utf8(&key).expect("ascii");
            truth.link("register", &rel, line_no, key_str, i)?;
            if let Some(k) = defect {
                if k == Kind::DuplicateRow {
                    let again = sink.next_line();
                    let bytes = l.buf.clone();
                    sink.row(&bytes)?;
                    truth.link("register", &rel, again, key_str, i)?;
                    truth.defect("register", &rel, again, column, k)?;
                } else {
                    truth.defect("register", &rel, line_no, column, k)?;
                }
            }
            pending += 1;
            if pending.is_multiple_of(10_000) {
                prog.poll();
            }
        }
        prog.poll();
        sink.finish(&mut self.manifest)
    }

    pub fn finish(self, manifest: &mut Manifest) -> Result<(), SynthError> {
        manifest.files.extend(self.manifest.files);
        self.events.finish(manifest)
    }
}
