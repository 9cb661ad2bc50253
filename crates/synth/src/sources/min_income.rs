//! Minimum-income benefit spells as INPS lists them: SIA (to 2017), REI (2018 to March 2019),
//! Reddito / Pensione di cittadinanza (April 2019 to 2023), Supporto formazione e lavoro
//! (from September 2023) and Assegno di inclusione (from 2024). One row per spell; a spell
//! lasts at most 18 months (12 for SFL), then a renewal is a new row.
//! UTF-8, `;`, decimal comma, dates `dd/mm/yyyy`.

use std::collections::{BTreeMap, BTreeSet};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Ctx, YearView};
use crate::dirty::{self, Kind, Truth, draw};
use crate::out::{Line, Manifest, Sink, amount_it, month_end, ymd};
use crate::places::ITALY;
use crate::population::{Isee, Status, World, age_on};
use crate::{SynthError, taxcode};

pub const FILE: &str = "custodian/inps/reddito_minimo.csv";
pub const HEADER: &str = "ID_DOMANDA;CF_RICHIEDENTE;COGNOME;NOME;MISURA;DECORRENZA;DATA_FINE;IMPORTO_MENSILE;NUM_COMPONENTI;STATO\n";
pub const MEASURES: [&str; 6] = ["SIA", "REI", "RdC", "PdC", "ADI", "SFL"];
pub const STATUSES: [&str; 5] = [
    "IN PAGAMENTO",
    "SOSPESA",
    "TERMINATA",
    "DECADUTA",
    "REVOCATA",
];
const SIA: u8 = 0;
const REI: u8 = 1;
const RDC: u8 = 2;
const PDC: u8 = 3;
const ADI: u8 = 4;
const SFL: u8 = 5;

const DIRT: &[(Kind, f64)] = &[
    (Kind::DuplicateRow, 0.0015),
    (Kind::InvalidDate, 0.0008),
    (Kind::NonNumeric, 0.0006),
    (Kind::OutOfRange, 0.0008),
    (Kind::InvalidValue, 0.0004),
    (Kind::MissingRequired, 0.0004),
    (Kind::InvalidTaxCode, 0.001),
    (Kind::NameTypo, 0.02),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Lapsed,
    Completed,
}

struct Spell {
    household: u32,
    person: u32,
    measure: u8,
    /// Months as `year * 12 + month - 1`.
    start: i32,
    end: Option<(i32, End)>,
    amount: f64,
    members: u32,
}

/// What a household is, for the benefit rules.
struct Profile {
    isee: Isee,
    all_old: bool,
    /// No minors, no disabled member, nobody aged 60 or more.
    employable: bool,
    foreign: bool,
    renter: bool,
    disabled: bool,
    adult_18_59: Option<u32>,
}

pub struct MinIncome {
    rng: ChaCha8Rng,
    spells: Vec<Spell>,
    active: BTreeMap<u32, usize>,
    touched: BTreeSet<u32>,
}

fn month(y: i32, m: u32) -> i32 {
    y * 12 + m as i32 - 1
}

/// The measure a household can claim in a month, if any.
fn measure_at(ym: i32, p: &Profile) -> Option<u8> {
    // Income and movable-assets tests on top of the ISEE ceiling.
    if p.isee.isr / p.isee.scale > 7_500.0 || p.isee.isp > 20_000.0 {
        return None;
    }
    let v = p.isee.value;
    if ym < month(2018, 1) {
        (v < 3_000.0 && p.isee.minors > 0).then_some(SIA)
    } else if ym < month(2019, 4) {
        (v < 6_000.0).then_some(REI)
    } else if ym < month(2024, 1) {
        if v >= 9_360.0 || p.isee.isp > 30_000.0 {
            None
        } else if p.all_old {
            Some(PDC)
        } else if p.employable && ym > month(2023, 6) {
            None
        } else {
            Some(RDC)
        }
    } else {
        (v < 9_360.0 && p.isee.isp < 30_000.0 && !p.employable).then_some(ADI)
    }
}

/// The last month a spell of a measure started in `start` may run.
fn last_month(measure: u8, start: i32, p: &Profile) -> i32 {
    let limit = start + if measure == SFL { 11 } else { 17 };
    let regime_end = match measure {
        SIA => month(2017, 12),
        REI => month(2019, 3),
        RDC | PDC => {
            if p.employable {
                month(2023, 7)
            } else {
                month(2023, 12)
            }
        }
        _ => i32::MAX,
    };
    limit.min(regime_end)
}

fn amount(measure: u8, p: &Profile) -> f64 {
    let i = &p.isee;
    let adults = i.members.saturating_sub(i.minors).max(1) as f64;
    let minors = i.minors as f64;
    let income = i.isr / 12.0 * 0.3;
    let v = match measure {
        SIA => 80.0 * (i.members as f64).min(5.0),
        REI => 187.5 * (1.0 + 0.4 * (adults - 1.0) + 0.2 * minors).min(2.04) - income * 0.3,
        RDC => {
            let scale =
                (1.0 + 0.4 * (adults - 1.0) + 0.2 * minors).min(if p.disabled { 2.2 } else { 2.1 });
            500.0 * scale - income + if p.renter { 280.0 } else { 0.0 }
        }
        PDC => {
            630.0 * (1.0 + 0.4 * (adults - 1.0)).min(2.1) - income
                + if p.renter { 150.0 } else { 0.0 }
        }
        ADI => {
            let scale = (1.0 + 0.4 * (adults - 1.0) + 0.15 * minors).min(2.3);
            500.0 * scale - income + if p.renter { 280.0 } else { 0.0 }
        }
        _ => 350.0,
    };
    (v.clamp(40.0, 1_800.0) * 100.0).round() / 100.0
}

impl MinIncome {
    pub fn new(ctx: &Ctx) -> MinIncome {
        MinIncome {
            rng: crate::rng::stream(ctx.seed, "min income"),
            spells: Vec::new(),
            active: BTreeMap::new(),
            touched: BTreeSet::new(),
        }
    }

    /// Households that received a benefit during the last processed year.
    pub fn active_households(&self) -> &BTreeSet<u32> {
        &self.touched
    }

    fn profile(world: &World, view: &YearView, h: u32) -> Option<Profile> {
        let isee = view.isee[h as usize]?;
        let hh = &world.households[h as usize];
        let mut all_old = true;
        let mut employable = isee.minors == 0;
        let mut disabled = false;
        let mut adult = None;
        for &m in &hh.members {
            let p = &world.persons[m as usize];
            let age = age_on(p.birth, view.end);
            all_old &= age >= 67;
            if p.disabled {
                employable = false;
                disabled = true;
            }
            if age >= 60 {
                employable = false;
            }
            if (18..=59).contains(&age) && adult.is_none() {
                adult = Some(m);
            }
        }
        Some(Profile {
            isee,
            all_old,
            employable,
            foreign: world.persons[hh.members[0] as usize].citizenship as usize != ITALY,
            renter: hh.renter,
            disabled,
            adult_18_59: adult,
        })
    }

    /// Advances every household's benefit history through the view's year; returns the
    /// households that received a benefit during the year, per zone.
    pub fn year(&mut self, world: &World, view: &YearView) -> Vec<u32> {
        let y = view.year;
        let (first, last) = (month(y, 1), month(y, 12));
        self.touched.clear();
        // Running spells: stop, continue or renew.
        let running: Vec<(u32, usize)> = self.active.iter().map(|(&h, &s)| (h, s)).collect();
        for (h, s) in running {
            self.active.remove(&h);
            let head_ok = world.households[h as usize].active
                && world.persons[self.spells[s].person as usize].status == Status::Resident
                && world.persons[self.spells[s].person as usize].household == h;
            let profile = if head_ok {
                Self::profile(world, view, h)
            } else {
                None
            };
            let still = profile.as_ref().and_then(|p| {
                if self.spells[s].measure == SFL {
                    (p.isee.value < 9_360.0).then_some(SFL)
                } else {
                    measure_at(first, p)
                }
            });
            match (profile, still) {
                (Some(p), Some(_)) => {
                    self.touched.insert(h);
                    self.run_spell(h, s, &p, last, world);
                }
                _ => {
                    let start = self.spells[s].start;
                    let m = self.rng.random_range(first.max(start)..=last);
                    self.spells[s].end = Some((m, End::Lapsed));
                    self.touched.insert(h);
                }
            }
        }
        // New claims.
        for h in 0..world.households.len() as u32 {
            if self.active.contains_key(&h) || view.isee[h as usize].is_none() {
                continue;
            }
            let Some(p) = Self::profile(world, view, h) else {
                continue;
            };
            if p.isee.value >= 9_360.0 {
                continue;
            }
            // First month of the year in which a measure is available.
            let Some(start) = (first..=last).find(|&m| measure_at(m, &p).is_some()) else {
                continue;
            };
            let measure = measure_at(start, &p).expect("found above");
            let take_up = match measure {
                SIA | REI => 0.3,
                RDC | PDC if p.foreign => 0.25,
                _ => 0.4,
            };
            if !self.rng.random_bool(take_up) {
                continue;
            }
            let start = self.rng.random_range(start..=last);
            let Some(measure) = measure_at(start, &p) else {
                continue;
            };
            let person = world.households[h as usize].members[0];
            let s = self.push(h, person, measure, start, &p);
            self.touched.insert(h);
            self.run_spell(h, s, &p, last, world);
        }
        let mut per_zone = vec![0u32; world.territory.zones.len()];
        for &h in &self.touched {
            per_zone[world.households[h as usize].zone as usize] += 1;
        }
        per_zone
    }

    fn push(&mut self, h: u32, person: u32, measure: u8, start: i32, p: &Profile) -> usize {
        self.spells.push(Spell {
            household: h,
            person,
            measure,
            start,
            end: None,
            amount: amount(measure, p),
            members: p.isee.members,
        });
        self.spells.len() - 1
    }

    /// Ends and renews a spell as its limits fall within the year ending in `last`.
    fn run_spell(&mut self, h: u32, mut s: usize, p: &Profile, last: i32, world: &World) {
        loop {
            let sp = &self.spells[s];
            let stop = last_month(sp.measure, sp.start, p);
            if stop > last {
                self.active.insert(h, s);
                return;
            }
            self.spells[s].end = Some((stop, End::Completed));
            let measure = self.spells[s].measure;
            // What comes next: a renewal after a month's pause, the next regime, or SFL.
            let next = if measure == RDC && p.employable && stop == month(2023, 7) {
                match p.adult_18_59 {
                    Some(a) if self.rng.random_bool(0.3) => Some((month(2023, 9), SFL, a)),
                    _ => None,
                }
            } else {
                let m = stop
                    + if measure_at(stop + 1, p) == Some(measure) {
                        2
                    } else {
                        1
                    };
                measure_at(m, p)
                    .filter(|_| self.rng.random_bool(0.85))
                    .map(|ms| (m, ms, world.households[h as usize].members[0]))
            };
            match next {
                Some((m, measure, person)) => {
                    s = self.push(h, person, measure, m, p);
                    if m > last {
                        // Starts next year: picked up by next year's pass.
                        self.active.insert(h, s);
                        return;
                    }
                }
                None => return,
            }
        }
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
        let mut rng = crate::rng::stream(ctx.seed, "min income rows");
        let mut line = Line::new(b';');
        let horizon = month(ctx.last, 12);
        for (seq, sp) in self.spells.iter().enumerate() {
            if sp.start > horizon {
                continue;
            }
            let _ = sp.household;
            let sy = sp.start.div_euclid(12);
            let sm = (sp.start.rem_euclid(12) + 1) as u32;
            let id = format!(
                "{}-{sy}-{:07}",
                MEASURES[sp.measure as usize].to_uppercase(),
                seq + 1
            );
            let status = match sp.end {
                None => {
                    if rng.random_bool(0.03) {
                        "SOSPESA"
                    } else {
                        "IN PAGAMENTO"
                    }
                }
                Some((_, End::Completed)) => "TERMINATA",
                Some((_, End::Lapsed)) => {
                    if rng.random_bool(0.05) {
                        "REVOCATA"
                    } else {
                        "DECADUTA"
                    }
                }
            };
            let person = &world.persons[sp.person as usize];
            let mut defect = draw(&mut rng, DIRT);
            let mut column = "application_id";
            let l = &mut line;
            l.clear();
            l.text(&id);
            if defect == Some(Kind::InvalidTaxCode) {
                l.text(taxcode::as_str(&taxcode::wrong_check(
                    &person.cf,
                    rng.random(),
                )));
                column = "tax_code";
            } else {
                l.bytes(&person.cf);
            }
            let mut surname = world.surname(sp.person).to_uppercase();
            let mut name = world.given_name(sp.person).to_uppercase();
            if defect == Some(Kind::NameTypo) {
                if let Some(t) = dirty::typo(&mut rng, &name) {
                    name = t;
                    column = "first_name";
                } else if let Some(t) = dirty::typo(&mut rng, &surname) {
                    surname = t;
                    column = "surname";
                } else {
                    defect = None;
                }
            }
            l.text(&surname).text(&name);
            if defect == Some(Kind::InvalidValue) {
                l.text(["R.d.C.", "REDDITO", "ADI 2024", "PDC "][rng.random_range(0..4)]);
                column = "measure";
            } else {
                l.text(MEASURES[sp.measure as usize]);
            }
            if defect == Some(Kind::InvalidDate) {
                l.text(&dirty::impossible_dmy(&mut rng, sy));
                column = "start_month";
            } else {
                l.dmy(ymd(sy, sm, 1));
            }
            match sp.end {
                Some((m, _)) => l.dmy(month_end(m.div_euclid(12), (m.rem_euclid(12) + 1) as u32)),
                None => l.empty(),
            };
            match defect {
                Some(Kind::NonNumeric) => {
                    l.text(["#N/D", "n.d.", "456,7O", "€ 400"][rng.random_range(0..4)]);
                    column = "monthly_amount";
                }
                Some(Kind::OutOfRange) => {
                    l.text(if rng.random_bool(0.5) {
                        "25000,00"
                    } else {
                        "-150,00"
                    });
                    column = "monthly_amount";
                }
                _ => {
                    l.text(&amount_it(sp.amount, false));
                }
            }
            l.int(sp.members as u64);
            if defect == Some(Kind::MissingRequired) {
                l.empty();
                column = "status";
            } else {
                l.text(status);
            }
            let bytes = l.end().to_vec();
            let line_no = sink.next_line();
            sink.row(&bytes)?;
            truth.link("min_income", FILE, line_no, &id, sp.person)?;
            if let Some(k) = defect {
                if k == Kind::DuplicateRow {
                    let again = sink.next_line();
                    sink.row(&bytes)?;
                    truth.link("min_income", FILE, again, &id, sp.person)?;
                    truth.defect("min_income", FILE, again, column, k)?;
                } else {
                    truth.defect("min_income", FILE, line_no, column, k)?;
                }
            }
        }
        sink.finish(manifest)
    }
}
