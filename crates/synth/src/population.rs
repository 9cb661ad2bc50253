//! The population model: persons and households, the initial population and the yearly
//! dynamics (births, deaths, moves, immigration, emigration, household formation and
//! dissolution, naturalisation, income changes).
//!
//! Persons keep their index (and so their register id) for life. Events are emitted in date
//! order within a year; the register writer turns them into `eventi.csv` rows.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::SynthError;
use crate::names::{ITALIAN, NameBank};
use crate::out::ymd;
use crate::places::{self, Area, COUNTRIES, FIRST_EMIGRANT_COUNTRY, ITALY};
use crate::taxcode;
use crate::territory::Territory;

pub const NO_ZONE: u8 = u8::MAX;
pub const NO_HOUSEHOLD: u32 = u32::MAX;
const PERSON_ID_BASE: u64 = 1_000_001;
const HOUSEHOLD_ID_BASE: u64 = 5_000_001;

/// Register id of a person: `A` + 8 digits.
pub fn register_id(p: u32) -> String {
    format!("A{:08}", p as u64 + PERSON_ID_BASE)
}

pub fn register_number(p: u32) -> u64 {
    p as u64 + PERSON_ID_BASE
}

/// Register number of a household (written as `F` + 8 digits).
pub fn household_number(h: u32) -> u64 {
    h as u64 + HOUSEHOLD_ID_BASE
}

/// Relation to the head of the household, as the register writes it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Relation {
    Head,
    Spouse,
    Partner,
    Child,
    Parent,
    Sibling,
    Grandchild,
    Other,
}

impl Relation {
    pub const LABELS: [&'static str; 8] = [
        "INTESTATARIO",
        "CONIUGE",
        "CONVIVENTE",
        "FIGLIO/A",
        "GENITORE",
        "FRATELLO/SORELLA",
        "NIPOTE",
        "ALTRO",
    ];

    pub fn label(self) -> &'static str {
        Self::LABELS[self as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Resident,
    Dead,
    Emigrated,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EntryKind {
    Initial,
    Birth,
    Immigration,
}

pub struct Person {
    pub birth: NaiveDate,
    pub entry: NaiveDate,
    pub exit: Option<NaiveDate>,
    pub household: u32,
    pub surname: u16,
    pub name: u16,
    pub birth_place: u16,
    pub cf: [u8; 16],
    pub omocodia: u8,
    pub female: bool,
    pub citizenship: u8,
    pub citizenship_orig: u8,
    pub naturalised: u16,
    pub relation: Relation,
    pub status: Status,
    pub entry_kind: EntryKind,
    /// 0 none/primary, 1 lower secondary, 2 upper secondary, 3 degree.
    pub education: u8,
    pub disabled: bool,
    pub unemployed: bool,
}

pub struct Household {
    /// Members, head first.
    pub members: Vec<u32>,
    pub zone: u8,
    pub street: u16,
    pub number: u16,
    /// Equivalised ISEE income (ISR divided by the equivalence scale), euro per year.
    pub eq_income: f64,
    /// ISEE assets (ISP), euro.
    pub assets: f64,
    pub renter: bool,
    pub active: bool,
}

/// Register events.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EventKind {
    Birth,
    Death,
    Move,
    Immigration,
    Emigration,
}

impl EventKind {
    pub const LABELS: [&'static str; 5] = [
        "NASCITA",
        "MORTE",
        "CAMBIO_ABITAZIONE",
        "IMMIGRAZIONE",
        "EMIGRAZIONE",
    ];

    pub fn label(self) -> &'static str {
        Self::LABELS[self as usize]
    }
}

pub struct Event {
    pub person: u32,
    pub kind: EventKind,
    pub date: NaiveDate,
    pub from: Option<u8>,
    pub to: Option<u8>,
}

/// Demographic counters of one zone in the current year.
#[derive(Clone, Default)]
pub struct ZoneYear {
    pub births: u32,
    pub deaths: u32,
    pub immigrations: u32,
    pub emigrations: u32,
    pub moves_in: u32,
    pub moves_out: u32,
}

/// ISEE of a household.
#[derive(Clone, Copy, Debug)]
pub struct Isee {
    pub members: u32,
    pub minors: u32,
    pub scale: f64,
    pub isr: f64,
    pub isp: f64,
    pub value: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Resident,
    Immigrant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum HhType {
    One,
    Couple,
    CoupleKids,
    SingleParent,
    Other,
}

struct Spec {
    age: i32,
    female: bool,
    rel: Relation,
    /// Index of the member whose surname this one carries (itself: its own).
    surname_of: usize,
}

enum Intent {
    Death(u32),
    Birth(u32),
    EmigrateHousehold(u32),
    EmigratePerson(u32),
    Move(u32),
    LeaveHome(u32),
    Union(u32, u32),
    Separate(u32),
    Immigrate,
}

pub struct World<'t> {
    pub persons: Vec<Person>,
    pub households: Vec<Household>,
    pub bank: NameBank,
    pub territory: &'t Territory,
    /// Zone and household of every person at each past 31 December (`NO_ZONE` if absent).
    pub history: Vec<(Vec<u8>, Vec<u32>)>,
    pub zone_year: Vec<ZoneYear>,
    cf_taken: HashSet<[u8; 16]>,
    rng: ChaCha8Rng,
}

pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut a = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

fn days_in_year(y: i32) -> u32 {
    if NaiveDate::from_ymd_opt(y, 2, 29).is_some() {
        366
    } else {
        365
    }
}

fn day_of(y: i32, d: u32) -> NaiveDate {
    NaiveDate::from_yo_opt(y, d + 1).expect("day within year")
}

fn weighted<R: Rng>(rng: &mut R, w: &[f64]) -> usize {
    let total: f64 = w.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, &x) in w.iter().enumerate() {
        if u < x {
            return i;
        }
        u -= x;
    }
    w.len() - 1
}

fn band<R: Rng>(rng: &mut R, bands: &[(i32, i32, f64)]) -> i32 {
    let w: Vec<f64> = bands.iter().map(|b| b.2).collect();
    let (lo, hi, _) = bands[weighted(rng, &w)];
    rng.random_range(lo..=hi)
}

fn triangular<R: Rng>(rng: &mut R, lo: f64, mode: f64, hi: f64) -> i32 {
    let u: f64 = rng.random();
    let c = (mode - lo) / (hi - lo);
    let x = if u < c {
        lo + (u * (hi - lo) * (mode - lo)).sqrt()
    } else {
        hi - ((1.0 - u) * (hi - lo) * (hi - mode)).sqrt()
    };
    x.round() as i32
}

fn normal<R: Rng>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    Normal::new(mean, sd).expect("valid normal").sample(rng)
}

/// Annual probability of death.
fn mortality(age: i32, female: bool, year: i32) -> f64 {
    let a = age as f64;
    let base = if age == 0 {
        0.0028
    } else if age < 40 {
        0.0003
    } else {
        0.0
    };
    let g = if female { 0.95e-5 } else { 1.7e-5 } * (0.098 * a).exp();
    let q = (base + g).min(0.55);
    match year {
        2020 => q * 1.16,
        2021 => q * 1.05,
        _ => q,
    }
}

/// Annual probability of giving birth for a woman of a given age and fertility.
fn fertility(age: i32, tfr: f64, foreign: bool) -> f64 {
    if !(15..=49).contains(&age) {
        return 0.0;
    }
    let mean = if foreign { 29.5 } else { 32.0 };
    let sd = 5.5;
    let z = (age as f64 - mean) / sd;
    tfr * (-0.5 * z * z).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt())
}

fn female_share_of_migrants(country: usize) -> f64 {
    match COUNTRIES[country].iso3 {
        "UKR" | "MDA" | "RUS" => 0.78,
        "ROU" | "PHL" | "PER" | "BRA" => 0.62,
        "PAK" | "BGD" | "SEN" | "EGY" | "IND" | "GHA" => 0.3,
        _ => 0.45,
    }
}

impl<'t> World<'t> {
    pub fn new(territory: &'t Territory, seed: u64) -> World<'t> {
        World {
            persons: Vec::new(),
            households: Vec::new(),
            bank: NameBank::new(),
            territory,
            history: Vec::new(),
            zone_year: vec![ZoneYear::default(); territory.zones.len()],
            cf_taken: HashSet::new(),
            rng: crate::rng::stream(seed, "population"),
        }
    }

    pub fn is_resident(&self, p: u32) -> bool {
        self.persons[p as usize].status == Status::Resident
    }

    pub fn zone_of(&self, p: u32) -> u8 {
        let h = self.persons[p as usize].household;
        if h == NO_HOUSEHOLD {
            NO_ZONE
        } else {
            self.households[h as usize].zone
        }
    }

    pub fn surname(&self, p: u32) -> &'static str {
        self.bank.surnames[self.persons[p as usize].surname as usize]
    }

    pub fn given_name(&self, p: u32) -> &'static str {
        self.bank.given[self.persons[p as usize].name as usize]
    }

    /// ISEE of a household on a date, from its income, assets and composition.
    pub fn isee(&self, h: u32, on: NaiveDate) -> Isee {
        let hh = &self.households[h as usize];
        let members = hh.members.len() as u32;
        let minors = hh
            .members
            .iter()
            .filter(|&&p| age_on(self.persons[p as usize].birth, on) < 18)
            .count() as u32;
        let mut scale = match members {
            0 | 1 => 1.0,
            2 => 1.57,
            3 => 2.04,
            4 => 2.46,
            5 => 2.85,
            n => 2.85 + 0.35 * (n - 5) as f64,
        };
        if minors >= 3 {
            scale += 0.2;
        }
        let isr = (hh.eq_income * scale * 100.0).round() / 100.0;
        let isp = (hh.assets * 100.0).round() / 100.0;
        let value = ((isr + 0.2 * isp) / scale * 100.0).round() / 100.0;
        Isee {
            members,
            minors,
            scale,
            isr,
            isp,
            value,
        }
    }

    // ----- initial population -----------------------------------------------------------

    /// Builds the population living in the city on `ref_date` (a 31 December).
    pub fn populate(&mut self, households: usize, ref_date: NaiveDate) {
        let weights: Vec<f64> = self.territory.zones.iter().map(|z| z.weight).collect();
        // Largest-remainder allocation of households to zones.
        let exact: Vec<f64> = weights.iter().map(|w| w * households as f64).collect();
        let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
        let mut rest: Vec<(usize, f64)> = exact
            .iter()
            .enumerate()
            .map(|(i, x)| (i, x - x.floor()))
            .collect();
        rest.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
        let missing = households - counts.iter().sum::<usize>();
        for &(i, _) in rest.iter().take(missing) {
            counts[i] += 1;
        }
        for (zone, &n) in counts.iter().enumerate() {
            for _ in 0..n {
                self.make_household(zone, Origin::Resident, ref_date);
            }
        }
    }

    fn pick_country(&mut self) -> usize {
        let shares: Vec<f64> = COUNTRIES.iter().map(|c| c.share).collect();
        weighted(&mut self.rng, &shares)
    }

    /// Creates a household of the given origin in a zone; returns it.
    fn make_household(&mut self, zone: usize, origin: Origin, date: NaiveDate) -> u32 {
        let z = &self.territory.zones[zone];
        let (old, poverty, fmult) = (z.old, z.poverty, z.foreign);
        let p_foreign = match origin {
            Origin::Resident => (0.115 * fmult).clamp(0.02, 0.5),
            Origin::Immigrant => 0.36,
        };
        let rng = &mut self.rng;
        let country = if rng.random_bool(p_foreign) {
            self.pick_country()
        } else {
            ITALY
        };
        let rng = &mut self.rng;
        let foreign = country != ITALY;
        let types = [
            HhType::One,
            HhType::Couple,
            HhType::CoupleKids,
            HhType::SingleParent,
            HhType::Other,
        ];
        let w: [f64; 5] = match (origin, foreign) {
            (Origin::Immigrant, _) => [0.42, 0.15, 0.31, 0.07, 0.05],
            (Origin::Resident, true) => [0.30, 0.09, 0.43, 0.10, 0.08],
            (Origin::Resident, false) => [
                0.375 + 0.06 * old,
                0.20 + 0.03 * old,
                0.285 - 0.09 * old,
                0.10,
                0.04,
            ],
        };
        let ty = types[weighted(rng, &w)];
        let mut specs: Vec<Spec> = Vec::new();
        let fshare = if foreign {
            female_share_of_migrants(country)
        } else {
            0.45
        };
        let oldw = 1.0 + 0.5 * old;
        match ty {
            HhType::One => {
                let age = match (origin, foreign) {
                    (Origin::Immigrant, _) => band(
                        rng,
                        &[
                            (19, 29, 0.45),
                            (30, 39, 0.32),
                            (40, 54, 0.18),
                            (55, 70, 0.05),
                        ],
                    ),
                    (_, true) => band(
                        rng,
                        &[
                            (20, 34, 0.38),
                            (35, 49, 0.34),
                            (50, 64, 0.24),
                            (65, 85, 0.04),
                        ],
                    ),
                    _ => band(
                        rng,
                        &[
                            (20, 34, 0.11),
                            (35, 49, 0.12),
                            (50, 64, 0.19),
                            (65, 79, 0.37 * oldw),
                            (80, 99, 0.25 * oldw),
                        ],
                    ),
                };
                let female = rng.random_bool(if !foreign && age >= 65 { 0.72 } else { fshare });
                specs.push(Spec {
                    age,
                    female,
                    rel: Relation::Head,
                    surname_of: 0,
                });
            }
            HhType::Couple => {
                let age = match (origin, foreign) {
                    (Origin::Immigrant, _) | (_, true) => {
                        band(rng, &[(22, 34, 0.45), (35, 49, 0.35), (50, 70, 0.2)])
                    }
                    _ => band(
                        rng,
                        &[
                            (24, 39, 0.11),
                            (40, 54, 0.06),
                            (55, 64, 0.20),
                            (65, 79, 0.55 * oldw),
                            (80, 95, 0.16 * oldw),
                        ],
                    ),
                };
                let head_female = rng.random_bool(0.2);
                let delta = normal(rng, 2.5, 3.5);
                let other = if head_female {
                    age as f64 + delta
                } else {
                    age as f64 - delta
                };
                let other = (other.round() as i32).clamp(19, 100);
                let rel = if rng.random_bool(if age < 40 { 0.45 } else { 0.8 }) {
                    Relation::Spouse
                } else {
                    Relation::Partner
                };
                specs.push(Spec {
                    age,
                    female: head_female,
                    rel: Relation::Head,
                    surname_of: 0,
                });
                specs.push(Spec {
                    age: other,
                    female: !head_female,
                    rel,
                    surname_of: 1,
                });
            }
            HhType::CoupleKids => {
                let age = match (origin, foreign) {
                    (Origin::Immigrant, _) => triangular(rng, 24.0, 35.0, 50.0),
                    (_, true) => triangular(rng, 24.0, 38.0, 58.0),
                    _ => triangular(rng, 28.0, 52.0, 76.0),
                };
                let head_female = rng.random_bool(0.12);
                let delta = normal(rng, 2.5, 3.0);
                let other = if head_female {
                    age as f64 + delta
                } else {
                    age as f64 - delta
                };
                let other = (other.round() as i32).clamp(19, 90);
                let mother_age = if head_female { age } else { other };
                let father = if head_female { 1 } else { 0 };
                let rel = if rng.random_bool(0.78) {
                    Relation::Spouse
                } else {
                    Relation::Partner
                };
                specs.push(Spec {
                    age,
                    female: head_female,
                    rel: Relation::Head,
                    surname_of: 0,
                });
                specs.push(Spec {
                    age: other,
                    female: !head_female,
                    rel,
                    surname_of: 1,
                });
                let kw: [f64; 4] = if foreign {
                    [0.34, 0.38, 0.20, 0.08]
                } else {
                    [0.44, 0.43, 0.11, 0.02]
                };
                let nkids = 1 + weighted(rng, &kw);
                let max_kid = match (origin, foreign) {
                    (Origin::Immigrant, _) => 17,
                    (_, true) => 25,
                    _ => 35,
                }
                .min(mother_age - 19)
                .max(0);
                let min_kid = (mother_age - 45).clamp(0, max_kid);
                for _ in 0..nkids {
                    let a = rng.random_range(min_kid..=max_kid);
                    specs.push(Spec {
                        age: a,
                        female: rng.random_bool(0.487),
                        rel: Relation::Child,
                        surname_of: father,
                    });
                }
            }
            HhType::SingleParent => {
                let old_variant = rng.random_bool(if foreign || origin == Origin::Immigrant {
                    0.08
                } else {
                    0.3
                });
                let female = rng.random_bool(0.82);
                if old_variant {
                    let age = rng.random_range(66..=93);
                    let kid = rng.random_range(30..=(age - 20).min(65));
                    specs.push(Spec {
                        age,
                        female,
                        rel: Relation::Head,
                        surname_of: 0,
                    });
                    specs.push(Spec {
                        age: kid,
                        female: rng.random_bool(0.45),
                        rel: Relation::Child,
                        surname_of: 0,
                    });
                } else {
                    let age = triangular(rng, 24.0, 48.0, 64.0);
                    specs.push(Spec {
                        age,
                        female,
                        rel: Relation::Head,
                        surname_of: 0,
                    });
                    let n = 1 + weighted(rng, &[0.6, 0.3, 0.1]);
                    let max_kid =
                        (age - 19).clamp(0, if origin == Origin::Immigrant { 17 } else { 32 });
                    let min_kid = (age - 45).clamp(0, max_kid);
                    for _ in 0..n {
                        let a = rng.random_range(min_kid..=max_kid);
                        specs.push(Spec {
                            age: a,
                            female: rng.random_bool(0.487),
                            rel: Relation::Child,
                            surname_of: 0,
                        });
                    }
                }
            }
            HhType::Other => {
                let variant = if foreign {
                    weighted(rng, &[0.1, 0.1, 0.8])
                } else {
                    weighted(rng, &[0.45, 0.3, 0.25])
                };
                match variant {
                    0 => {
                        let age = rng.random_range(42..=65);
                        let female = rng.random_bool(0.5);
                        let pa = rng.random_range(age + 20..=(age + 35).min(99));
                        let pf = rng.random_bool(0.75);
                        specs.push(Spec {
                            age,
                            female,
                            rel: Relation::Head,
                            surname_of: 0,
                        });
                        specs.push(Spec {
                            age: pa,
                            female: pf,
                            rel: Relation::Parent,
                            surname_of: if pf { 1 } else { 0 },
                        });
                    }
                    1 => {
                        let age = rng.random_range(40..=85);
                        specs.push(Spec {
                            age,
                            female: rng.random_bool(0.55),
                            rel: Relation::Head,
                            surname_of: 0,
                        });
                        let other = (age + rng.random_range(-8..=8)).clamp(30, 95);
                        specs.push(Spec {
                            age: other,
                            female: rng.random_bool(0.55),
                            rel: Relation::Sibling,
                            surname_of: 0,
                        });
                    }
                    _ => {
                        let age = rng.random_range(22..=55);
                        specs.push(Spec {
                            age,
                            female: rng.random_bool(fshare),
                            rel: Relation::Head,
                            surname_of: 0,
                        });
                        let n = 1 + weighted(rng, &[0.6, 0.3, 0.1]);
                        for k in 0..n {
                            let a = rng.random_range(20..=50);
                            specs.push(Spec {
                                age: a,
                                female: rng.random_bool(fshare),
                                rel: Relation::Other,
                                surname_of: k + 1,
                            });
                        }
                    }
                }
            }
        }
        // Household economics.
        let head_age = specs[0].age;
        let size = specs.len();
        let mut ln_median = 17_000f64.ln() - 0.35 * poverty;
        if foreign {
            ln_median -= 0.5;
        }
        if ty == HhType::One && head_age >= 65 {
            ln_median -= 0.15;
        }
        if ty == HhType::SingleParent && head_age < 60 {
            ln_median -= 0.3;
        }
        if size >= 5 {
            ln_median -= 0.2;
        }
        let eq_income = (ln_median + normal(rng, 0.0, 0.55)).exp();
        let p_zero = (0.3 + if foreign { 0.35 } else { 0.0 } + 0.15 * poverty.max(0.0)
            - if head_age >= 60 { 0.15 } else { 0.0 })
        .clamp(0.05, 0.9);
        let mut assets = if rng.random_bool(p_zero) {
            0.0
        } else {
            (30_000f64.ln()
                + 0.012 * (head_age - 45) as f64
                + 0.4 * (eq_income / 17_000.0).ln()
                + normal(rng, 0.0, 1.0))
            .exp()
        };
        let p_rent = if foreign {
            0.75
        } else {
            (0.18 + 0.15 * poverty.max(0.0) + if head_age < 35 { 0.35 } else { 0.0 }
                - if head_age >= 65 { 0.08 } else { 0.0 })
            .clamp(0.03, 0.9)
        };
        let renter = rng.random_bool(p_rent);
        if renter {
            assets *= 0.4;
        }
        let h = self.new_household(zone, eq_income, assets, renter);
        // Surnames: each member either draws one or carries another member's.
        let tradition = COUNTRIES[country].names;
        let mut surnames = vec![0u16; specs.len()];
        for (k, spec) in specs.iter().enumerate() {
            if spec.surname_of == k {
                surnames[k] = self.bank.surname(&mut self.rng, tradition);
            }
        }
        for (k, spec) in specs.iter().enumerate() {
            if spec.surname_of != k {
                surnames[k] = surnames[spec.surname_of];
            }
        }
        let kind = match origin {
            Origin::Resident => EntryKind::Initial,
            Origin::Immigrant => EntryKind::Immigration,
        };
        for (k, spec) in specs.iter().enumerate() {
            let p = self.new_person(
                spec.age,
                spec.female,
                country,
                surnames[k],
                origin,
                date,
                kind,
                poverty,
            );
            self.persons[p as usize].relation = spec.rel;
            self.persons[p as usize].household = h;
            self.households[h as usize].members.push(p);
        }
        h
    }

    fn new_household(&mut self, zone: usize, eq_income: f64, assets: f64, renter: bool) -> u32 {
        let (street, number) = self.address(zone);
        self.households.push(Household {
            members: Vec::new(),
            zone: zone as u8,
            street,
            number,
            eq_income,
            assets,
            renter,
            active: true,
        });
        (self.households.len() - 1) as u32
    }

    fn address(&mut self, zone: usize) -> (u16, u16) {
        let streets = &self.territory.zones[zone].streets;
        let (s, top) = streets[self.rng.random_range(0..streets.len())];
        (s, self.rng.random_range(1..=top))
    }

    #[allow(clippy::too_many_arguments)]
    fn new_person(
        &mut self,
        age: i32,
        female: bool,
        country: usize,
        surname: u16,
        origin: Origin,
        date: NaiveDate,
        kind: EntryKind,
        poverty: f64,
    ) -> u32 {
        let rng = &mut self.rng;
        // Birth date: `age` completed years on `date`.
        let birth = {
            let back = age as i64 * 365 + (age as i64) / 4 + rng.random_range(1..=364) as i64;
            let b = date - chrono::Duration::days(back);
            if age_on(b, date) != age {
                // Adjust by a day or two around anniversaries.
                let mut b2 = b;
                for _ in 0..4 {
                    if age_on(b2, date) > age {
                        b2 += chrono::Duration::days(1);
                    } else if age_on(b2, date) < age {
                        b2 -= chrono::Duration::days(1);
                    } else {
                        break;
                    }
                }
                b2
            } else {
                b
            }
        };
        let foreign = country != ITALY;
        let immigrant = origin == Origin::Immigrant;
        let birth_place = if foreign {
            let born_here = !immigrant
                && ((age < 12 && rng.random_bool(0.55))
                    || (age < 18 && rng.random_bool(0.25))
                    || (age < 25 && rng.random_bool(0.05)));
            if born_here {
                places::CITY as u16
            } else {
                places::place_of_country(country)
            }
        } else {
            let p_city = if immigrant {
                0.0
            } else if age < 20 {
                0.8
            } else if age < 45 {
                0.62
            } else {
                0.45
            };
            if rng.random_bool(p_city) {
                places::CITY as u16
            } else {
                let areas = [
                    Area::Province,
                    Area::Region,
                    Area::North,
                    Area::Centre,
                    Area::South,
                ];
                let w = if immigrant {
                    [0.25, 0.25, 0.1, 0.05, 0.33, 0.02]
                } else {
                    [0.2, 0.18, 0.12, 0.07, 0.38, 0.05]
                };
                let k = weighted(rng, &w);
                if k == 5 {
                    let c = FIRST_EMIGRANT_COUNTRY
                        + rng.random_range(0..COUNTRIES.len() - FIRST_EMIGRANT_COUNTRY);
                    places::place_of_country(c)
                } else {
                    let list = places::places_in(areas[k]);
                    list[rng.random_range(0..list.len())]
                }
            }
        };
        let mut tradition = COUNTRIES[country].names;
        if foreign && birth_place == places::CITY as u16 && rng.random_bool(0.25) {
            tradition = ITALIAN;
        }
        let name = self
            .bank
            .given(&mut self.rng, tradition, female, birth.year());
        let rng = &mut self.rng;
        let by = birth.year();
        let edu_w: [f64; 4] = if foreign {
            [0.12, 0.38, 0.37, 0.13]
        } else if by < 1950 {
            [0.42, 0.32, 0.18, 0.08]
        } else if by < 1970 {
            [0.12, 0.38, 0.35, 0.15]
        } else if by < 1990 {
            [0.03, 0.25, 0.45, 0.27]
        } else {
            [0.01, 0.17, 0.46, 0.36]
        };
        let mut education = weighted(rng, &edu_w) as i32;
        if rng.random_bool((0.25 * poverty).clamp(0.0, 1.0)) {
            education -= 1;
        } else if rng.random_bool((-0.2 * poverty).clamp(0.0, 1.0)) {
            education += 1;
        }
        let p_dis = match age {
            0..=17 => 0.01,
            18..=64 => 0.025,
            65..=79 => 0.08,
            _ => 0.2,
        };
        let disabled = rng.random_bool(p_dis);
        let idx = self.persons.len() as u32;
        self.persons.push(Person {
            birth,
            entry: date,
            exit: None,
            household: NO_HOUSEHOLD,
            surname,
            name,
            birth_place,
            cf: [0; 16],
            omocodia: 0,
            female,
            citizenship: country as u8,
            citizenship_orig: country as u8,
            naturalised: 0,
            relation: Relation::Head,
            status: Status::Resident,
            entry_kind: kind,
            education: education.clamp(0, 3) as u8,
            disabled,
            unemployed: false,
        });
        self.assign_cf(idx);
        idx
    }

    fn assign_cf(&mut self, p: u32) {
        let person = &self.persons[p as usize];
        let (code, _) = places::place(person.birth_place);
        let base = taxcode::encode(
            self.bank.surnames[person.surname as usize],
            self.bank.given[person.name as usize],
            person.female,
            person.birth.year(),
            person.birth.month(),
            person.birth.day(),
            code,
        );
        let mut level = if self.rng.random_bool(0.005) {
            1 + weighted(&mut self.rng, &[0.8, 0.15, 0.05])
        } else {
            0
        };
        let mut cf = taxcode::omocodia(&base, level);
        while self.cf_taken.contains(&cf) && level < 7 {
            level += 1;
            cf = taxcode::omocodia(&base, level);
        }
        debug_assert!(taxcode::is_valid(taxcode::as_str(&cf)));
        self.cf_taken.insert(cf);
        let person = &mut self.persons[p as usize];
        person.cf = cf;
        person.omocodia = level as u8;
    }

    // ----- household bookkeeping ---------------------------------------------------------

    fn remove_member(&mut self, p: u32) {
        let h = self.persons[p as usize].household;
        if h == NO_HOUSEHOLD {
            return;
        }
        self.persons[p as usize].household = NO_HOUSEHOLD;
        let members = &mut self.households[h as usize].members;
        let pos = members
            .iter()
            .position(|&m| m == p)
            .expect("member of its household");
        members.remove(pos);
        if members.is_empty() {
            self.households[h as usize].active = false;
            return;
        }
        if pos == 0 {
            self.new_head(h);
        }
    }

    /// Picks a new head after the old one left and rewrites relations from their viewpoint.
    fn new_head(&mut self, h: u32) {
        let members = self.households[h as usize].members.clone();
        let pick = members
            .iter()
            .position(|&m| {
                matches!(
                    self.persons[m as usize].relation,
                    Relation::Spouse | Relation::Partner
                )
            })
            .unwrap_or_else(|| {
                // The oldest member.
                let mut best = 0;
                for (k, &m) in members.iter().enumerate() {
                    if self.persons[m as usize].birth < self.persons[members[best] as usize].birth {
                        best = k;
                    }
                }
                best
            });
        let head = members[pick];
        let head_rel = self.persons[head as usize].relation;
        for &m in &members {
            let r = self.persons[m as usize].relation;
            let new = if m == head {
                Relation::Head
            } else {
                match (head_rel, r) {
                    (
                        Relation::Spouse | Relation::Partner,
                        Relation::Child | Relation::Grandchild,
                    ) => r,
                    (Relation::Child, Relation::Child) => Relation::Sibling,
                    (Relation::Child, Relation::Spouse | Relation::Partner) => Relation::Parent,
                    (Relation::Child, Relation::Grandchild) => Relation::Grandchild,
                    (Relation::Parent, Relation::Child) => Relation::Grandchild,
                    (Relation::Sibling, Relation::Sibling) => Relation::Sibling,
                    _ => Relation::Other,
                }
            };
            self.persons[m as usize].relation = new;
        }
        let hh = &mut self.households[h as usize];
        hh.members.retain(|&m| m != head);
        hh.members.insert(0, head);
    }

    fn add_member(&mut self, h: u32, p: u32, rel: Relation) {
        self.persons[p as usize].household = h;
        self.persons[p as usize].relation = rel;
        self.households[h as usize].members.push(p);
    }

    fn pick_zone(&mut self, foreign: bool, poor: bool) -> usize {
        let w: Vec<f64> = self
            .territory
            .zones
            .iter()
            .map(|z| {
                z.weight
                    * if foreign { z.foreign } else { 1.0 }
                    * if poor { (0.8 * z.poverty).exp() } else { 1.0 }
            })
            .collect();
        weighted(&mut self.rng, &w)
    }

    // ----- yearly dynamics ---------------------------------------------------------------

    /// Simulates one calendar year, calling `emit` for each register event in date order.
    pub fn simulate_year(
        &mut self,
        year: i32,
        emit: &mut dyn FnMut(&Event) -> Result<(), SynthError>,
    ) -> Result<(), SynthError> {
        for z in self.zone_year.iter_mut() {
            *z = ZoneYear::default();
        }
        let jan1 = ymd(year, 1, 1);
        self.start_of_year(year, jan1);
        let ndays = days_in_year(year);
        let mut intents: Vec<(u32, u32, Intent)> = Vec::new();
        let mut seq = 0u32;
        let mut push = |day: u32, i: Intent, v: &mut Vec<(u32, u32, Intent)>| {
            v.push((day, seq, i));
            seq += 1;
        };
        let rng = &mut self.rng;
        let mut residents = 0u64;
        // Person-level intents.
        let mut pool: Vec<Vec<u32>> = vec![Vec::new(); 2 * 12 * 2];
        for (i, p) in self.persons.iter().enumerate() {
            if p.status != Status::Resident {
                continue;
            }
            residents += 1;
            let i = i as u32;
            let age = age_on(p.birth, jan1);
            let q = mortality(age, p.female, year);
            if rng.random_bool(q.min(1.0)) {
                // In 2020 a share of deaths falls in March and April.
                let day = if year == 2020 && rng.random_bool(0.25) {
                    rng.random_range(60..121)
                } else {
                    rng.random_range(0..ndays)
                };
                push(day, Intent::Death(i), &mut intents);
            }
            if p.female && (15..=49).contains(&age) {
                let foreign = p.citizenship as usize != ITALY;
                let tfr = COUNTRIES[p.citizenship_orig as usize].tfr;
                let mult = match p.relation {
                    Relation::Spouse | Relation::Partner => 1.3,
                    Relation::Head => {
                        let h = &self.households[p.household as usize];
                        if h.members.iter().any(|&m| {
                            matches!(
                                self.persons[m as usize].relation,
                                Relation::Spouse | Relation::Partner
                            )
                        }) {
                            1.3
                        } else {
                            0.3
                        }
                    }
                    Relation::Child => 0.12,
                    _ => 0.3,
                };
                if rng.random_bool((fertility(age, tfr, foreign) * mult).min(0.9)) {
                    push(rng.random_range(0..ndays), Intent::Birth(i), &mut intents);
                }
            }
            if p.relation == Relation::Child && (20..=40).contains(&age) {
                let mut pl = match age {
                    20..=24 => 0.025,
                    25..=29 => 0.06,
                    30..=34 => 0.08,
                    _ => 0.05,
                };
                if p.citizenship as usize != ITALY {
                    pl *= 0.7;
                }
                let u: f64 = rng.random();
                if u < pl {
                    push(
                        rng.random_range(0..ndays),
                        Intent::LeaveHome(i),
                        &mut intents,
                    );
                } else if u < pl + if age < 35 { 0.012 } else { 0.0 } {
                    push(
                        rng.random_range(0..ndays),
                        Intent::EmigratePerson(i),
                        &mut intents,
                    );
                }
            }
            // Union pool: people living alone or with their parents.
            let alone = p.relation == Relation::Head
                && self.households[p.household as usize].members.len() == 1;
            if (alone && (24..=55).contains(&age))
                || (p.relation == Relation::Child && (24..=45).contains(&age))
            {
                let band = ((age - 24) / 3).min(11) as usize;
                let italian = (p.citizenship as usize == ITALY) as usize;
                pool[(p.female as usize * 12 + band) * 2 + italian].push(i);
            }
        }
        // Unions: each pool member starts one with a small probability.
        let mut matched: HashSet<u32> = HashSet::new();
        for female in [false, true] {
            for band in 0..12usize {
                for italian in 0..2usize {
                    let key = (female as usize * 12 + band) * 2 + italian;
                    for k in 0..pool[key].len() {
                        let a = pool[key][k];
                        if matched.contains(&a) || !rng.random_bool(0.08) {
                            continue;
                        }
                        let other_band =
                            (band as i32 + if female { 1 } else { -1 } + rng.random_range(-1..=1))
                                .clamp(0, 11) as usize;
                        let other_it = if rng.random_bool(0.92) {
                            italian
                        } else {
                            1 - italian
                        };
                        let okey = ((!female) as usize * 12 + other_band) * 2 + other_it;
                        let cands = &pool[okey];
                        if cands.is_empty() {
                            continue;
                        }
                        let b = cands[rng.random_range(0..cands.len())];
                        if matched.contains(&b)
                            || self.persons[a as usize].household
                                == self.persons[b as usize].household
                        {
                            continue;
                        }
                        matched.insert(a);
                        matched.insert(b);
                        push(
                            rng.random_range(0..ndays),
                            Intent::Union(a, b),
                            &mut intents,
                        );
                    }
                }
            }
        }
        // Household-level intents.
        for (h, hh) in self.households.iter().enumerate() {
            if !hh.active {
                continue;
            }
            let head = &self.persons[hh.members[0] as usize];
            let age = age_on(head.birth, jan1);
            let foreign = head.citizenship as usize != ITALY;
            let p_emig = if foreign {
                0.075
            } else if age < 35 {
                0.07
            } else if age >= 65 {
                0.006
            } else {
                0.016
            };
            let p_move =
                0.045 + if hh.renter { 0.04 } else { 0.0 } + if age < 35 { 0.04 } else { 0.0 };
            let has_partner = hh.members.iter().any(|&m| {
                matches!(
                    self.persons[m as usize].relation,
                    Relation::Spouse | Relation::Partner
                )
            });
            let p_sep = if has_partner && (28..=65).contains(&age) {
                0.007
            } else {
                0.0
            };
            let u: f64 = rng.random();
            let day = rng.random_range(0..ndays);
            if u < p_emig {
                push(day, Intent::EmigrateHousehold(h as u32), &mut intents);
            } else if u < p_emig + p_move {
                push(day, Intent::Move(h as u32), &mut intents);
            } else if u < p_emig + p_move + p_sep {
                push(day, Intent::Separate(h as u32), &mut intents);
            }
        }
        // Immigration: about 3.1% of residents a year (less during the 2020 lockdowns).
        let rate = if year == 2020 { 0.025 } else { 0.031 };
        let expected = residents as f64 * rate / 2.0;
        let n = expected.floor() as u64 + rng.random_bool(expected.fract()) as u64;
        for _ in 0..n {
            push(rng.random_range(0..ndays), Intent::Immigrate, &mut intents);
        }
        intents.sort_by_key(|&(d, s, _)| (d, s));
        for (day, _, intent) in intents {
            let date = day_of(year, day);
            self.apply(intent, date, emit)?;
        }
        Ok(())
    }

    fn start_of_year(&mut self, year: i32, jan1: NaiveDate) {
        let rng = &mut self.rng;
        for hh in self.households.iter_mut() {
            if !hh.active {
                continue;
            }
            hh.eq_income *= normal(rng, 0.015, 0.10).exp();
            hh.assets *= normal(rng, 0.01, 0.08).exp();
        }
        for i in 0..self.persons.len() {
            let p = &self.persons[i];
            if p.status != Status::Resident {
                continue;
            }
            let age = age_on(p.birth, jan1);
            let h = &self.households[p.household as usize];
            if (18..=64).contains(&age) {
                let base = if h.eq_income < 9_000.0 {
                    0.14
                } else if h.eq_income < 15_000.0 {
                    0.07
                } else {
                    0.03
                };
                let base: f64 = base
                    * if p.citizenship as usize != ITALY {
                        1.6
                    } else {
                        1.0
                    };
                let stay = p.unemployed && rng.random_bool(0.55);
                let unemployed = stay || rng.random_bool(base.min(0.9));
                self.persons[i].unemployed = unemployed;
            } else {
                self.persons[i].unemployed = false;
            }
            let p = &self.persons[i];
            if !p.disabled {
                let pd = if age >= 65 {
                    0.015
                } else if age >= 18 {
                    0.002
                } else {
                    0.0005
                };
                if rng.random_bool(pd) {
                    self.persons[i].disabled = true;
                }
            }
        }
        // Naturalisation: a share of long-resident foreign households become Italian.
        let cutoff = ymd(year - 5, 1, 1);
        for h in 0..self.households.len() {
            let hh = &self.households[h];
            if !hh.active {
                continue;
            }
            let head = &self.persons[hh.members[0] as usize];
            let c = head.citizenship;
            if c as usize == ITALY || head.entry > cutoff && head.entry_kind != EntryKind::Initial {
                continue;
            }
            if !rng.random_bool(0.035) {
                continue;
            }
            for &m in &self.households[h].members {
                let p = &mut self.persons[m as usize];
                if p.citizenship == c {
                    p.citizenship = ITALY as u8;
                    p.naturalised = year as u16;
                }
            }
        }
    }

    fn apply(
        &mut self,
        intent: Intent,
        date: NaiveDate,
        emit: &mut dyn FnMut(&Event) -> Result<(), SynthError>,
    ) -> Result<(), SynthError> {
        match intent {
            Intent::Death(p) => {
                if !self.is_resident(p) {
                    return Ok(());
                }
                let zone = self.zone_of(p);
                emit(&Event {
                    person: p,
                    kind: EventKind::Death,
                    date,
                    from: Some(zone),
                    to: None,
                })?;
                self.zone_year[zone as usize].deaths += 1;
                self.remove_member(p);
                let person = &mut self.persons[p as usize];
                person.status = Status::Dead;
                person.exit = Some(date);
            }
            Intent::Birth(mother) => {
                if !self.is_resident(mother) {
                    return Ok(());
                }
                self.birth(mother, date, emit)?;
            }
            Intent::EmigrateHousehold(h) => {
                if !self.households[h as usize].active {
                    return Ok(());
                }
                let members = self.households[h as usize].members.clone();
                let zone = self.households[h as usize].zone;
                for p in members {
                    emit(&Event {
                        person: p,
                        kind: EventKind::Emigration,
                        date,
                        from: Some(zone),
                        to: None,
                    })?;
                    self.zone_year[zone as usize].emigrations += 1;
                    let person = &mut self.persons[p as usize];
                    person.status = Status::Emigrated;
                    person.exit = Some(date);
                    person.household = NO_HOUSEHOLD;
                }
                let hh = &mut self.households[h as usize];
                hh.members.clear();
                hh.active = false;
            }
            Intent::EmigratePerson(p) => {
                if !self.is_resident(p) || self.persons[p as usize].relation != Relation::Child {
                    return Ok(());
                }
                let zone = self.zone_of(p);
                emit(&Event {
                    person: p,
                    kind: EventKind::Emigration,
                    date,
                    from: Some(zone),
                    to: None,
                })?;
                self.zone_year[zone as usize].emigrations += 1;
                self.remove_member(p);
                let person = &mut self.persons[p as usize];
                person.status = Status::Emigrated;
                person.exit = Some(date);
            }
            Intent::Move(h) => {
                if !self.households[h as usize].active {
                    return Ok(());
                }
                let from = self.households[h as usize].zone;
                let foreign = self.persons[self.households[h as usize].members[0] as usize]
                    .citizenship as usize
                    != ITALY;
                let poor = self.households[h as usize].eq_income < 12_000.0;
                let to = if self.rng.random_bool(0.5) {
                    from as usize
                } else {
                    self.pick_zone(foreign, poor)
                };
                let (street, number) = self.address(to);
                let hh = &mut self.households[h as usize];
                hh.zone = to as u8;
                hh.street = street;
                hh.number = number;
                let members = hh.members.clone();
                for p in members {
                    emit(&Event {
                        person: p,
                        kind: EventKind::Move,
                        date,
                        from: Some(from),
                        to: Some(to as u8),
                    })?;
                    if to as u8 != from {
                        self.zone_year[from as usize].moves_out += 1;
                        self.zone_year[to].moves_in += 1;
                    }
                }
            }
            Intent::LeaveHome(p) => {
                if !self.is_resident(p) || self.persons[p as usize].relation != Relation::Child {
                    return Ok(());
                }
                let old = self.persons[p as usize].household;
                let from = self.households[old as usize].zone;
                let foreign = self.persons[p as usize].citizenship as usize != ITALY;
                let to = if self.rng.random_bool(0.6) {
                    from as usize
                } else {
                    self.pick_zone(foreign, false)
                };
                let income = self.households[old as usize].eq_income
                    * normal(&mut self.rng, -0.05, 0.4).exp();
                let assets = if self.rng.random_bool(0.5) {
                    0.0
                } else {
                    8_000.0 * normal(&mut self.rng, 0.0, 0.8).exp()
                };
                let renter = self.rng.random_bool(0.75);
                self.remove_member(p);
                let h = self.new_household(to, income, assets, renter);
                self.add_member(h, p, Relation::Head);
                emit(&Event {
                    person: p,
                    kind: EventKind::Move,
                    date,
                    from: Some(from),
                    to: Some(to as u8),
                })?;
                if to as u8 != from {
                    self.zone_year[from as usize].moves_out += 1;
                    self.zone_year[to].moves_in += 1;
                }
            }
            Intent::Union(a, b) => self.union(a, b, date, emit)?,
            Intent::Separate(h) => self.separate(h, date, emit)?,
            Intent::Immigrate => {
                let foreign_bias = self.rng.random_bool(0.4);
                let zone = self.pick_zone(foreign_bias, false);
                let h = self.make_household(zone, Origin::Immigrant, date);
                let members = self.households[h as usize].members.clone();
                for p in members {
                    emit(&Event {
                        person: p,
                        kind: EventKind::Immigration,
                        date,
                        from: None,
                        to: Some(zone as u8),
                    })?;
                    self.zone_year[zone].immigrations += 1;
                }
            }
        }
        Ok(())
    }

    fn birth(
        &mut self,
        mother: u32,
        date: NaiveDate,
        emit: &mut dyn FnMut(&Event) -> Result<(), SynthError>,
    ) -> Result<(), SynthError> {
        let h = self.persons[mother as usize].household;
        let mrel = self.persons[mother as usize].relation;
        let members = self.households[h as usize].members.clone();
        // The father: the mother's male partner in the household, if any.
        let father = match mrel {
            Relation::Head => members.iter().copied().find(|&m| {
                matches!(
                    self.persons[m as usize].relation,
                    Relation::Spouse | Relation::Partner
                ) && !self.persons[m as usize].female
            }),
            Relation::Spouse | Relation::Partner => {
                Some(members[0]).filter(|&m| !self.persons[m as usize].female)
            }
            _ => None,
        };
        let m = &self.persons[mother as usize];
        let mut country = m.citizenship as usize;
        if let Some(f) = father
            && self.persons[f as usize].citizenship as usize == ITALY
        {
            country = ITALY;
        }
        let surname = father
            .map(|f| self.persons[f as usize].surname)
            .unwrap_or(m.surname);
        let rel = match mrel {
            Relation::Head | Relation::Spouse | Relation::Partner => Relation::Child,
            Relation::Child => Relation::Grandchild,
            _ => Relation::Other,
        };
        let female = self.rng.random_bool(0.487);
        let poverty = self.territory.zones[self.households[h as usize].zone as usize].poverty;
        // Born on `date`: age 0, birth place forced below.
        let p = self.new_person(
            0,
            female,
            country,
            surname,
            Origin::Resident,
            date,
            EntryKind::Birth,
            poverty,
        );
        {
            let place = if self.rng.random_bool(0.93) {
                places::CITY as u16
            } else {
                let list = places::places_in(Area::Province);
                list[self.rng.random_range(0..list.len())]
            };
            let person = &mut self.persons[p as usize];
            person.birth = date;
            person.birth_place = place;
            person.disabled = self.rng.random_bool(0.004);
            let tradition = if country == ITALY || self.rng.random_bool(0.25) {
                ITALIAN
            } else {
                COUNTRIES[country].names
            };
            let name = self
                .bank
                .given(&mut self.rng, tradition, female, date.year());
            self.persons[p as usize].name = name;
            // Recompute the tax code for the real birth date and place.
            let old = self.persons[p as usize].cf;
            self.cf_taken.remove(&old);
            self.assign_cf(p);
        }
        self.add_member(h, p, rel);
        let zone = self.households[h as usize].zone;
        emit(&Event {
            person: p,
            kind: EventKind::Birth,
            date,
            from: None,
            to: Some(zone),
        })?;
        self.zone_year[zone as usize].births += 1;
        Ok(())
    }

    fn single(&self, p: u32) -> bool {
        let person = &self.persons[p as usize];
        person.status == Status::Resident
            && (person.relation == Relation::Child
                || (person.relation == Relation::Head
                    && self.households[person.household as usize].members.len() == 1))
    }

    fn union(
        &mut self,
        a: u32,
        b: u32,
        date: NaiveDate,
        emit: &mut dyn FnMut(&Event) -> Result<(), SynthError>,
    ) -> Result<(), SynthError> {
        if !self.single(a)
            || !self.single(b)
            || self.persons[a as usize].household == self.persons[b as usize].household
        {
            return Ok(());
        }
        let rel = if self.rng.random_bool(0.5) {
            Relation::Spouse
        } else {
            Relation::Partner
        };
        let ha = self.persons[a as usize].household;
        let hb = self.persons[b as usize].household;
        let ia = self.households[ha as usize].eq_income;
        let ib = self.households[hb as usize].eq_income;
        let joint = (ia + ib) / 1.57;
        let a_alone = self.persons[a as usize].relation == Relation::Head;
        let b_alone = self.persons[b as usize].relation == Relation::Head;
        // Who moves where.
        let (host, movers): (u32, Vec<u32>) = if a_alone {
            (ha, vec![b])
        } else if b_alone {
            (hb, vec![a])
        } else {
            let from = self.households[ha as usize].zone as usize;
            let zone = if self.rng.random_bool(0.5) {
                from
            } else {
                self.pick_zone(false, false)
            };
            let renter = self.rng.random_bool(0.6);
            let assets = if renter {
                5_000.0
            } else {
                60_000.0 * normal(&mut self.rng, 0.0, 0.6).exp()
            };
            let h = self.new_household(zone, joint, assets, renter);
            (h, vec![a, b])
        };
        let to = self.households[host as usize].zone;
        let host_assets = self.households[host as usize].assets;
        for (k, &p) in movers.iter().enumerate() {
            let old = self.persons[p as usize].household;
            let from = self.households[old as usize].zone;
            let old_assets = if self.households[old as usize].members.len() == 1 {
                self.households[old as usize].assets
            } else {
                0.0
            };
            self.remove_member(p);
            let r = if movers.len() == 2 && k == 0 {
                Relation::Head
            } else {
                rel
            };
            if r == Relation::Head {
                self.persons[p as usize].household = host;
                self.persons[p as usize].relation = Relation::Head;
                self.households[host as usize].members.insert(0, p);
            } else {
                self.add_member(host, p, r);
            }
            self.households[host as usize].assets = host_assets + old_assets;
            emit(&Event {
                person: p,
                kind: EventKind::Move,
                date,
                from: Some(from),
                to: Some(to),
            })?;
            if from != to {
                self.zone_year[from as usize].moves_out += 1;
                self.zone_year[to as usize].moves_in += 1;
            }
        }
        self.households[host as usize].eq_income = joint;
        Ok(())
    }

    fn separate(
        &mut self,
        h: u32,
        date: NaiveDate,
        emit: &mut dyn FnMut(&Event) -> Result<(), SynthError>,
    ) -> Result<(), SynthError> {
        if !self.households[h as usize].active {
            return Ok(());
        }
        let members = self.households[h as usize].members.clone();
        let partner = members.iter().copied().find(|&m| {
            matches!(
                self.persons[m as usize].relation,
                Relation::Spouse | Relation::Partner
            )
        });
        let Some(partner) = partner else {
            return Ok(());
        };
        let head = members[0];
        // The man leaves; the children stay with their mother.
        let leaver = if self.persons[head as usize].female {
            partner
        } else {
            head
        };
        let from = self.households[h as usize].zone;
        let to = if self.rng.random_bool(0.5) {
            from as usize
        } else {
            self.pick_zone(false, false)
        };
        let income = self.households[h as usize].eq_income;
        self.households[h as usize].eq_income = income * 0.75;
        self.remove_member(leaver);
        let nh = self.new_household(to, income * 1.1, 0.0, true);
        self.add_member(nh, leaver, Relation::Head);
        emit(&Event {
            person: leaver,
            kind: EventKind::Move,
            date,
            from: Some(from),
            to: Some(to as u8),
        })?;
        if to as u8 != from {
            self.zone_year[from as usize].moves_out += 1;
            self.zone_year[to].moves_in += 1;
        }
        Ok(())
    }

    /// Records every person's zone and household at the end of the current year.
    pub fn record_history(&mut self) {
        let mut zones = Vec::with_capacity(self.persons.len());
        let mut hhs = Vec::with_capacity(self.persons.len());
        for p in &self.persons {
            if p.status == Status::Resident {
                zones.push(self.households[p.household as usize].zone);
                hhs.push(p.household);
            } else {
                zones.push(NO_ZONE);
                hhs.push(NO_HOUSEHOLD);
            }
        }
        self.history.push((zones, hhs));
    }
}
