//! The synthetic registry of providers and services: who runs which welfare service where in
//! the synthetic city, written as the city's registry export in the registry crate's plain-CSV
//! format (`registry/`, next to `custodian/` and `lab/`; `datalab registry import` loads it into
//! the lab's `registry.sqlite`), with the records its quality reports should flag listed in the truth
//! folder (`truth/registry.csv`).
//!
//! It is consistent with the rest of the city: every row of the supply table's last year is a
//! service at a location in that zone, run by an organization of the table's provider type,
//! with the row's places, users, waiting list, operators and FTE; every kind of case of the
//! cartella sociale is served by a listed service (both linked through two taxonomies of the
//! city, [`SUPPLY_TAXONOMY`] and [`CASES_TAXONOMY`]); locations lie inside their zone and on its
//! streets. Around them: the public bodies, the third sector and for-profit providers (their
//! number grows with the scale), the ordinary third-sector offer (more of it in poorer zones),
//! schedules, fees, contracts with the municipality, funding and staff. A few organizations are
//! entered twice and some records were not verified for a long time, as in a real registry.
//!
//! The registry is built through the registry crate's API in memory and exported with its own
//! `export_csv`, so the files are in the registry's format by construction. Everything is drawn
//! from the `registry` random stream: same seed, same bytes.

mod catalogue;
mod orgs;

use std::fmt::Write as _;
use std::path::PathBuf;

use ::registry::codes::{
    LinkEntity, LocationType, OperatorProfile, OrganizationKind, RelationKind, SocialRisk, Status,
    TargetGroup,
};
use ::registry::model::{
    Address, Attribute, Capacity, Contact, CostOption, Funding, Location, Operator, Organization,
    OrganizationIdentifier, Phone, Relation, Schedule, Service, ServiceArea, ServiceAtLocation,
    TABLES, Taxonomy, TaxonomyTerm,
};
use ::registry::{Registry, RegistryError};
use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::SynthError;
use crate::names::STREETS;
use crate::out::{Manifest, count_rows, write_file};
use crate::sources::services::{self, PROVIDERS, Provision};
use crate::sources::{Ctx, social};
use crate::territory::{MUNICIPALITY_NAME, REGION_NAME, Territory};
use catalogue::{Fee, Hours, OFFERS, ORDINARY, Offer, Spread};
use orgs::{BODIES, Body, BodySpec, Names, Twin};

/// The registry's plain-CSV folder, relative to the output folder.
pub const DIR: &str = "registry";
/// The planted duplicates and stale records.
pub const TRUTH_FILE: &str = "truth/registry.csv";
/// Records verified more than this many months before the registry's date are stale.
pub const STALE_MONTHS: u32 = 12;
/// The taxonomy whose terms are the services of the supply table (`offerta_servizi.csv`).
pub const SUPPLY_TAXONOMY: &str = "offerta-servizi";
/// The taxonomy whose terms are the areas and intervention types of the cartella sociale.
pub const CASES_TAXONOMY: &str = "cartella-sociale";
/// The province of the city, as addresses write it.
const PROVINCE: &str = "MO";
/// Candidate names drawn for an organization before one that no other name resembles is given
/// up on (the pair is then recorded as a false alarm of the duplicate report).
const NAME_ATTEMPTS: usize = 8;

/// The term of a supply-table service.
pub fn supply_term(service: &str) -> String {
    format!("{SUPPLY_TAXONOMY}:{}", orgs::slug(service))
}

/// The term of an area of the cartella sociale.
pub fn area_term(area: &str) -> String {
    format!("{CASES_TAXONOMY}:{}", orgs::slug(area))
}

/// The term of an intervention type of the cartella sociale within its area.
pub fn case_term(area: &str, kind: &str) -> String {
    format!("{}:{}", area_term(area), orgs::slug(kind))
}

/// One line of the truth file: a pair the duplicate report flags, or a stale record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TruthRow {
    /// `duplicates` or `stale`.
    pub report: &'static str,
    /// `organizations` or `services`.
    pub table: &'static str,
    pub id: String,
    /// The other organization of a duplicate pair (empty for stale records).
    pub other_id: String,
    /// `same_tax_id`, `similar_name`, `never_verified` or `verified_before`.
    pub reason: &'static str,
    /// Whether the record was planted (false: two distinct bodies whose names the report
    /// confuses).
    pub planted: bool,
    pub note: String,
}

/// The synthetic registry, as of 31 December of the last simulated year, and what its quality
/// reports should find.
pub struct Synthetic {
    pub registry: Registry,
    /// Sorted.
    pub truth: Vec<TruthRow>,
}

/// Builds the registry of a city of `scale` whose supply table's last year (`year`) is
/// `provisions`.
pub fn build(
    territory: &Territory,
    provisions: &[Provision],
    seed: u64,
    scale: f64,
    year: i32,
) -> Result<Synthetic, SynthError> {
    let mut b = Builder::new(territory, seed, scale, year);
    b.taxonomies();
    b.organizations();
    b.plant_duplicates();
    b.seats();
    for p in provisions {
        b.facility(p)?;
    }
    for offer in OFFERS.iter().chain(ORDINARY) {
        b.offer(offer);
    }
    b.agreements();
    b.staff_and_contacts();
    b.verification();
    b.finish()
}

/// Builds the registry and writes its CSV folder and the truth file.
pub fn write(
    ctx: &Ctx,
    territory: &Territory,
    provisions: &[Provision],
    manifest: &mut Manifest,
) -> Result<(), SynthError> {
    let built = build(territory, provisions, ctx.seed, ctx.scale, ctx.last)?;
    let dir = ctx.root.join(DIR);
    built.registry.export_csv(&dir).map_err(registry_error)?;
    for def in TABLES {
        let rel = format!("{DIR}/{}.csv", def.table);
        let path = ctx.root.join(&rel);
        let bytes = std::fs::metadata(&path)
            .map_err(|e| SynthError::io(&path, e))?
            .len();
        let rows: i64 = built
            .registry
            .connection()
            .query_row(
                &format!("SELECT count(*) FROM \"{}\"", def.table),
                [],
                |r| r.get(0),
            )
            .map_err(|e| SynthError::Registry(format!("counting {}: {e}", def.table)))?;
        let rows = rows.max(0) as u64;
        count_rows(rows);
        manifest.files.push((PathBuf::from(rel), rows, bytes));
    }
    let mut text = String::from("report,table,id,other_id,reason,planted,note\n");
    for t in &built.truth {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},\"{}\"",
            t.report,
            t.table,
            t.id,
            t.other_id,
            t.reason,
            t.planted,
            t.note.replace('"', "\"\"")
        );
    }
    write_file(
        ctx.root,
        TRUTH_FILE,
        &text,
        built.truth.len() as u64,
        manifest,
    )
}

fn registry_error(e: RegistryError) -> SynthError {
    SynthError::Registry(e.to_string())
}

/// An organization being built.
struct Org {
    rec: Organization,
    spec: &'static BodySpec,
    /// The distinctive part of its name (for e-mail addresses).
    core: String,
    /// The zone of its seat, for those seated in the city.
    zone: Option<usize>,
    /// The location of its seat.
    seat: Option<String>,
    /// The organization this entry repeats, for planted duplicates.
    twin_of: Option<usize>,
    /// Services it runs.
    services: u32,
}

impl Org {
    fn body(&self) -> Body {
        self.spec.body
    }
}

/// Every record other than organizations, in the order they are inserted.
#[derive(Default)]
struct Records {
    taxonomies: Vec<Taxonomy>,
    terms: Vec<TaxonomyTerm>,
    identifiers: Vec<OrganizationIdentifier>,
    services: Vec<Service>,
    locations: Vec<Location>,
    addresses: Vec<Address>,
    sals: Vec<ServiceAtLocation>,
    schedules: Vec<Schedule>,
    costs: Vec<CostOption>,
    funding: Vec<Funding>,
    areas: Vec<ServiceArea>,
    contacts: Vec<Contact>,
    phones: Vec<Phone>,
    attributes: Vec<Attribute>,
    operators: Vec<Operator>,
    capacities: Vec<Capacity>,
    relations: Vec<Relation>,
}

/// What a new service is.
struct Draft<'a> {
    runner: usize,
    name: String,
    description: &'a str,
    risks: &'a [SocialRisk],
    groups: &'a [TargetGroup],
    ages: (Option<u32>, Option<u32>),
    fee: Fee,
    access: &'a str,
    accreditation: bool,
}

struct Builder<'a> {
    t: &'a Territory,
    rng: ChaCha8Rng,
    scale: f64,
    year: i32,
    as_of: NaiveDate,
    zone_names: Vec<&'static str>,
    orgs: Vec<Org>,
    names: Names,
    /// The social-services department's office in each district.
    poles: Vec<String>,
    r: Records,
    truth: Vec<TruthRow>,
}

fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n:05}")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn before(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days)).unwrap_or(d)
}

fn time((h, m): (u32, u32)) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A street name of the street table as an address writes it: "VIA DELL'INDUSTRIA" is
/// "Via dell'Industria", "CORSO VITTORIO EMANUELE II" keeps its numeral.
fn street_name(street: &str) -> String {
    const SMALL: &[&str] = &[
        "di", "del", "della", "dei", "degli", "delle", "e", "da", "in", "per", "al", "alla",
        "dell", "d",
    ];
    let cap = |w: &str| -> String {
        let lower = w.to_lowercase();
        let mut c = lower.chars();
        match c.next() {
            Some(f) => f.to_uppercase().chain(c).collect(),
            None => String::new(),
        }
    };
    street
        .split(' ')
        .enumerate()
        .map(|(i, w)| {
            if w.len() <= 4 && w.chars().all(|c| "IVXL".contains(c)) {
                return w.to_string();
            }
            let word = |part: &str, first: bool| {
                if !first && SMALL.contains(&part.to_lowercase().as_str()) {
                    part.to_lowercase()
                } else {
                    cap(part)
                }
            };
            match w.split_once('\'') {
                Some((head, tail)) => format!("{}'{}", word(head, i == 0), cap(tail)),
                None => word(w, i == 0),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "da 18 a 64 anni; destinatari: anziani, persone con disabilità".
fn eligibility(ages: (Option<u32>, Option<u32>), groups: &[TargetGroup]) -> String {
    let age = match ages {
        (Some(0), Some(b)) => format!("fino a {b} anni"),
        (Some(a), Some(b)) => format!("da {a} a {b} anni"),
        (Some(a), None) => format!("da {a} anni"),
        (None, Some(b)) => format!("fino a {b} anni"),
        (None, None) => "nessun limite di età".to_string(),
    };
    let who: Vec<String> = groups.iter().map(|g| g.label_it().to_lowercase()).collect();
    format!("Destinatari: {}; {age}", who.join(", "))
}

impl<'a> Builder<'a> {
    fn new(t: &'a Territory, seed: u64, scale: f64, year: i32) -> Builder<'a> {
        Builder {
            t,
            rng: crate::rng::stream(seed, "registry"),
            scale,
            year,
            as_of: day(year, 12, 31),
            zone_names: t.zones.iter().map(|z| z.name).collect(),
            orgs: Vec::new(),
            names: Names::default(),
            poles: Vec::new(),
            r: Records::default(),
            truth: Vec::new(),
        }
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi > lo {
            self.rng.random_range(lo..hi)
        } else {
            lo
        }
    }

    /// The first organization of a body (the municipality, the department, ...).
    fn first(&self, body: Body) -> Option<usize> {
        self.orgs.iter().position(|o| o.body() == body)
    }

    /// The municipality, which commissions contracts.
    fn municipality(&self) -> usize {
        self.first(Body::Municipality).unwrap_or(0)
    }

    /// A zone drawn by population, leaning towards poorer zones (`lean` > 0) or richer ones.
    fn draw_zone(&mut self, lean: f64, district: Option<usize>) -> usize {
        let weights: Vec<f64> = self
            .t
            .zones
            .iter()
            .map(|z| {
                if district.is_some_and(|d| d != z.district) {
                    0.0
                } else {
                    z.weight * (lean * z.poverty).exp()
                }
            })
            .collect();
        orgs::weighted(&mut self.rng, &weights)
    }

    // -----------------------------------------------------------------------------------------
    // taxonomies

    fn taxonomies(&mut self) {
        self.r.taxonomies = vec![
            Taxonomy {
                id: SUPPLY_TAXONOMY.into(),
                name: "Offerta dei servizi sociali".into(),
                description: format!(
                    "The services of the social-services department's yearly supply table per zone ({})",
                    services::FILE
                ),
                uri: None,
                version: Some("1".into()),
            },
            Taxonomy {
                id: CASES_TAXONOMY.into(),
                name: "Interventi della cartella sociale".into(),
                description: format!(
                    "Areas and intervention types of the social-service case records ({})",
                    social::FILE
                ),
                uri: None,
                version: Some("1".into()),
            },
        ];
        for name in services::service_names() {
            self.r.terms.push(TaxonomyTerm {
                id: supply_term(name),
                code: Some(name.into()),
                name: name.into(),
                description: format!("Servizio della tabella dell'offerta: {name}"),
                taxonomy: Some("Offerta dei servizi sociali".into()),
                language: Some("it".into()),
                taxonomy_id: Some(SUPPLY_TAXONOMY.into()),
                ..TaxonomyTerm::default()
            });
        }
        for area in social::AREAS {
            self.r.terms.push(TaxonomyTerm {
                id: area_term(area),
                code: Some(area.into()),
                name: area.into(),
                description: format!("Area della cartella sociale: {area}"),
                taxonomy: Some("Interventi della cartella sociale".into()),
                language: Some("it".into()),
                taxonomy_id: Some(CASES_TAXONOMY.into()),
                ..TaxonomyTerm::default()
            });
        }
        for (area, kind) in social::kinds() {
            self.r.terms.push(TaxonomyTerm {
                id: case_term(area, kind),
                code: Some(kind.into()),
                name: kind.into(),
                description: format!("Cartella sociale, area {area}: {kind}"),
                parent_id: Some(area_term(area)),
                taxonomy: Some("Interventi della cartella sociale".into()),
                language: Some("it".into()),
                taxonomy_id: Some(CASES_TAXONOMY.into()),
                ..TaxonomyTerm::default()
            });
        }
    }

    fn link(&mut self, service: &str, term: String, link_type: &str) {
        let n = self.r.attributes.len() + 1;
        self.r.attributes.push(Attribute {
            id: id("att", n),
            link_id: service.to_string(),
            taxonomy_term_id: term,
            link_type: Some(link_type.into()),
            link_entity: LinkEntity::Service,
            value: None,
        });
    }

    // -----------------------------------------------------------------------------------------
    // organizations

    fn organizations(&mut self) {
        for spec in BODIES {
            let mut n = if spec.scales {
                ((spec.count * self.scale).round() as usize).max(spec.min)
            } else {
                spec.count as usize
            };
            if spec.body == Body::School {
                n = n.min(self.t.zones.len());
            }
            for nth in 0..n {
                self.add_org(spec, nth);
            }
        }
    }

    fn add_org(&mut self, spec: &'static BodySpec, nth: usize) {
        let city = MUNICIPALITY_NAME;
        let place: &str = match spec.body {
            Body::HealthDistrict => {
                orgs::HEALTH_DISTRICT_TOWNS[nth % orgs::HEALTH_DISTRICT_TOWNS.len()]
            }
            Body::FoodBankNetwork => orgs::OTHER_TOWNS[0].0,
            Body::CareGroup => orgs::OTHER_TOWNS[nth % 2].0,
            _ => city,
        };
        let office = orgs::OTHER_TOWNS
            .iter()
            .find(|(town, _)| *town == place)
            .map_or(orgs::CITY_TAX_OFFICE, |(_, office)| office);
        let index = self.orgs.len();
        let org_id = id("org", index + 1);
        let mut drawn = orgs::draw_name(spec.body, nth, &self.zone_names, city, &mut self.rng);
        let mut similar = self.names.similar(place, &drawn.name);
        for _ in 1..NAME_ATTEMPTS {
            if similar.is_empty() {
                break;
            }
            drawn = orgs::draw_name(spec.body, nth, &self.zone_names, city, &mut self.rng);
            similar = self.names.similar(place, &drawn.name);
        }
        for other in similar {
            self.truth.push(TruthRow {
                report: "duplicates",
                table: "organizations",
                id: self.orgs[other].rec.id.clone(),
                other_id: org_id.clone(),
                reason: "similar_name",
                planted: false,
                note: "distinct bodies whose names differ little once legal forms are left out"
                    .into(),
            });
        }
        let mut tax_id = orgs::tax_id(&mut self.rng, spec.tax, office);
        while let Some(t) = &tax_id {
            if !self.names.has_tax_id(t) {
                break;
            }
            tax_id = orgs::tax_id(&mut self.rng, spec.tax, office);
        }
        let parent = match spec.body {
            Body::SocialDept => self.first(Body::Municipality),
            Body::HealthDistrict => self.first(Body::HealthAuthority),
            Body::CareHome if self.rng.random_bool(0.4) => {
                let groups: Vec<usize> = (0..self.orgs.len())
                    .filter(|&i| self.orgs[i].body() == Body::CareGroup)
                    .collect();
                (!groups.is_empty()).then(|| groups[self.rng.random_range(0..groups.len())])
            }
            _ => None,
        };
        let zone = if place != city {
            None
        } else {
            match spec.body {
                Body::Municipality | Body::SocialDept => Some(0),
                _ => Some(match drawn.zone {
                    Some(z) => z,
                    None => {
                        let lean = match spec.kind {
                            OrganizationKind::ThirdSector => 0.6,
                            OrganizationKind::ForProfit => -0.6,
                            OrganizationKind::PublicBody => 0.0,
                        };
                        self.draw_zone(lean, None)
                    }
                }),
            }
        };
        let founded = spec.founded.map(|(lo, hi)| self.rng.random_range(lo..=hi));
        let slug = orgs::slug(&drawn.core);
        let rec = Organization {
            id: org_id,
            name: drawn.name.clone(),
            kind: Some(spec.kind),
            legal_form: Some(spec.legal_form.into()),
            tax_id,
            alternate_name: drawn.alternate,
            description: Some(spec.body.about().into()),
            email: Some(format!("info@{slug}.example")),
            website: Some(format!("https://www.{slug}.example")),
            year_incorporated: founded,
            parent_organization_id: parent.map(|p| self.orgs[p].rec.id.clone()),
            municipality: Some(place.into()),
            status: Status::Active,
            verified_at: None,
        };
        self.names
            .add(index, place, &rec.name, rec.tax_id.as_deref());
        self.orgs.push(Org {
            rec,
            spec,
            core: drawn.core,
            zone,
            seat: None,
            twin_of: None,
            services: 0,
        });
    }

    /// Enters some third-sector and for-profit bodies a second time, each in one of the ways
    /// of [`Twin`].
    fn plant_duplicates(&mut self) {
        let wanted = ((8.0 * self.scale).round() as usize).max(3);
        let mut candidates: Vec<usize> = (0..self.orgs.len())
            .filter(|&i| {
                let o = &self.orgs[i];
                o.spec.kind != OrganizationKind::PublicBody
                    && o.rec.municipality.as_deref() == Some(MUNICIPALITY_NAME)
                    && o.rec.tax_id.is_some()
            })
            .collect();
        let mut planted = 0;
        while planted < wanted && !candidates.is_empty() {
            let original = candidates.remove(self.rng.random_range(0..candidates.len()));
            let twin = Twin::ALL[planted % Twin::ALL.len()];
            if self.plant(original, twin) {
                planted += 1;
            }
        }
    }

    /// Adds a duplicate entry of `original`; false if this one would not be reported as one.
    fn plant(&mut self, original: usize, twin: Twin) -> bool {
        let o = &self.orgs[original];
        let Some(tax) = o.rec.tax_id.clone() else {
            return false;
        };
        let (name, place, tax_id) = match twin {
            Twin::LegalForm => (
                orgs::abbreviated(&o.rec.name),
                MUNICIPALITY_NAME.to_string(),
                Some(format!("IT{tax}")),
            ),
            Twin::OtherOffice => {
                let town = orgs::OTHER_TOWNS[self.rng.random_range(0..orgs::OTHER_TOWNS.len())].0;
                let short = o
                    .rec
                    .alternate_name
                    .clone()
                    .unwrap_or_else(|| o.core.clone());
                (short, town.to_string(), Some(tax))
            }
            Twin::Typo => {
                // The typo falls in the distinctive part of the name where it can.
                let typed = orgs::typo(&o.core, &mut self.rng);
                let mut name = o.rec.name.replacen(&o.core, &typed, 1);
                if name == o.rec.name {
                    name = orgs::typo(&o.rec.name, &mut self.rng);
                }
                (name, MUNICIPALITY_NAME.to_string(), None)
            }
        };
        let similar = self.names.similar(&place, &name);
        let expected = match twin {
            Twin::LegalForm | Twin::Typo => similar == [original],
            Twin::OtherOffice => similar.is_empty(),
        };
        if !expected {
            return false;
        }
        let index = self.orgs.len();
        let dup_id = id("org", index + 1);
        let o = &self.orgs[original];
        let mut rec = Organization {
            id: dup_id.clone(),
            name,
            tax_id,
            alternate_name: None,
            municipality: Some(place.clone()),
            verified_at: None,
            ..o.rec.clone()
        };
        if twin == Twin::OtherOffice {
            rec.parent_organization_id = None;
        }
        let (spec, core, original_id) = (o.spec, o.core.clone(), o.rec.id.clone());
        let reasons: &[&'static str] = match twin {
            Twin::LegalForm => &["same_tax_id", "similar_name"],
            Twin::OtherOffice => &["same_tax_id"],
            Twin::Typo => &["similar_name"],
        };
        for reason in reasons {
            self.truth.push(TruthRow {
                report: "duplicates",
                table: "organizations",
                id: original_id.clone(),
                other_id: dup_id.clone(),
                reason,
                planted: true,
                note: twin.note().into(),
            });
        }
        self.names
            .add(index, &place, &rec.name, rec.tax_id.as_deref());
        self.orgs.push(Org {
            rec,
            spec,
            core,
            zone: None,
            seat: None,
            twin_of: Some(original),
            services: 0,
        });
        true
    }

    // -----------------------------------------------------------------------------------------
    // locations

    /// A location (with its address) of `owner` in a zone.
    fn add_location(&mut self, owner: usize, zone: usize, name: String) -> String {
        let n = self.r.locations.len() + 1;
        let loc_id = id("loc", n);
        let (lon, lat) = self.t.point_in_zone(zone, &mut self.rng);
        let z = &self.t.zones[zone];
        let (street, top) = z.streets[self.rng.random_range(0..z.streets.len())];
        let number = self.rng.random_range(1..=top.max(1));
        self.r.locations.push(Location {
            id: loc_id.clone(),
            location_type: LocationType::Physical,
            organization_id: Some(self.orgs[owner].rec.id.clone()),
            name: Some(name),
            latitude: Some(lat as f64 / 1e6),
            longitude: Some(lon as f64 / 1e6),
            municipality: Some(MUNICIPALITY_NAME.into()),
            zone: Some(z.code.clone()),
            ..Location::default()
        });
        self.r.addresses.push(Address {
            id: id("adr", n),
            location_id: loc_id.clone(),
            address_1: format!("{} {number}", street_name(STREETS[street as usize])),
            city: MUNICIPALITY_NAME.into(),
            region: Some(REGION_NAME.into()),
            state_province: PROVINCE.into(),
            postal_code: self.t.postcode(zone).into(),
            country: "IT".into(),
            address_type: LocationType::Physical,
            ..Address::default()
        });
        loc_id
    }

    /// The seat of every organization based in the city, and the department's district offices.
    fn seats(&mut self) {
        for i in 0..self.orgs.len() {
            let (Some(zone), None) = (self.orgs[i].zone, self.orgs[i].twin_of) else {
                continue;
            };
            let name = match self.orgs[i].body() {
                Body::Municipality => "Municipio".to_string(),
                _ => format!("Sede - {}", self.orgs[i].rec.name),
            };
            let seat = self.add_location(i, zone, name);
            self.orgs[i].seat = Some(seat);
        }
        let dept = self.first(Body::SocialDept).unwrap_or(0);
        for d in 0..self.t.districts.len() {
            let zone = self.draw_zone(0.8, Some(d));
            let district = &self.t.districts[d];
            let name = format!(
                "Polo sociale territoriale {} - {}",
                district.code, district.name
            );
            let pole = self.add_location(dept, zone, name);
            self.poles.push(pole);
        }
    }

    // -----------------------------------------------------------------------------------------
    // services

    /// An organization of one of `bodies` to run a service: the first body is preferred, and
    /// among organizations of a body the first ones (`concentrate`: a few providers run most of
    /// the facilities) or the idle ones; those seated in `zone` or its district more often.
    fn runner(&mut self, bodies: &[Body], zone: Option<usize>, concentrate: bool) -> usize {
        let district = zone.map(|z| self.t.zones[z].district);
        let mut rank = vec![0usize; bodies.len()];
        let weights: Vec<f64> = self
            .orgs
            .iter()
            .map(|o| {
                let Some(b) = bodies.iter().position(|&b| b == o.body()) else {
                    return 0.0;
                };
                if o.twin_of.is_some() {
                    return 0.0;
                }
                rank[b] += 1;
                let mut w = if b == 0 { 3.0 } else { 1.0 };
                if concentrate {
                    w /= rank[b] as f64;
                } else {
                    w /= 1.0 + f64::from(o.services);
                }
                if o.zone.is_some() && o.zone == zone {
                    w *= 3.0;
                } else if o.zone.is_some() && o.zone.map(|z| self.t.zones[z].district) == district {
                    w *= 1.5;
                }
                w
            })
            .collect();
        if weights.iter().all(|&w| w == 0.0) {
            return self.first(Body::SocialDept).unwrap_or(0);
        }
        orgs::weighted(&mut self.rng, &weights)
    }

    fn add_service(&mut self, d: Draft) -> String {
        let n = self.r.services.len() + 1;
        let svc_id = id("svc", n);
        let paid = d.fee.share > 0.0 && self.rng.random_bool(d.fee.share.min(1.0));
        let migrants = d.risks.contains(&SocialRisk::Migration);
        self.r.services.push(Service {
            id: svc_id.clone(),
            organization_id: self.orgs[d.runner].rec.id.clone(),
            name: d.name,
            description: Some(d.description.into()),
            status: Status::Active,
            interpretation_services: migrants.then(|| {
                "Mediazione linguistica in arabo, inglese, francese, urdu e cinese".into()
            }),
            application_process: Some(d.access.into()),
            fees_description: Some(if paid {
                let per = d.fee.per;
                if d.fee.by_isee {
                    format!("A pagamento ({per}), con tariffe ridotte secondo l'ISEE")
                } else {
                    format!("A pagamento ({per})")
                }
            } else {
                "Gratuito".into()
            }),
            accreditations: d
                .accreditation
                .then(|| "Accreditamento socio-sanitario regionale".into()),
            eligibility_description: Some(eligibility(d.ages, d.groups)),
            minimum_age: d.ages.0,
            maximum_age: d.ages.1,
            risks: d.risks.to_vec(),
            target_groups: d.groups.to_vec(),
            free: Some(!paid),
            ..Service::default()
        });
        if paid {
            let (lo, hi) = d.fee.range;
            let full = (self.uniform(lo, hi) * 2.0).round() / 2.0;
            let mut options = vec![("Tariffa piena".to_string(), full)];
            if d.fee.by_isee {
                let reduced = (self.uniform(0.15, 0.45) * full * 2.0).round() / 2.0;
                options.push(("ISEE fino a 10.000 euro".into(), reduced));
            }
            for (option, amount) in options {
                let k = self.r.costs.len() + 1;
                self.r.costs.push(CostOption {
                    id: id("cost", k),
                    service_id: svc_id.clone(),
                    valid_from: Some(day(self.year, 1, 1)),
                    valid_to: Some(day(self.year, 12, 31)),
                    option: Some(option),
                    currency: Some("EUR".into()),
                    amount: Some(amount),
                    amount_description: Some(d.fee.per.into()),
                });
            }
        }
        self.orgs[d.runner].services += 1;
        svc_id
    }

    /// A service at a location, with its opening hours.
    fn add_sal(&mut self, service: &str, location: &str, hours: Hours) -> String {
        let n = self.r.sals.len() + 1;
        let sal = id("sal", n);
        self.r.sals.push(ServiceAtLocation {
            id: sal.clone(),
            service_id: service.to_string(),
            location_id: location.to_string(),
            description: None,
        });
        for s in hours.sessions(&mut self.rng) {
            let k = self.r.schedules.len() + 1;
            self.r.schedules.push(Schedule {
                id: id("sch", k),
                service_at_location_id: Some(sal.clone()),
                valid_from: Some(day(self.year, 1, 1)),
                wkst: Some("MO".into()),
                freq: Some(if s.monthly { "MONTHLY" } else { "WEEKLY" }.into()),
                byday: Some(s.byday),
                description: Some(s.description),
                opens_at: time(s.opens),
                closes_at: time(s.closes),
                attending_type: Some("in_person".into()),
                ..Schedule::default()
            });
        }
        sal
    }

    fn add_area(&mut self, service: &str, name: String, zones: &[usize]) {
        let codes: Vec<&str> = zones
            .iter()
            .map(|&z| self.t.zones[z].code.as_str())
            .collect();
        let n = self.r.areas.len() + 1;
        self.r.areas.push(ServiceArea {
            id: id("area", n),
            service_id: service.to_string(),
            name: Some(name),
            description: Some(format!("Zone statistiche servite: {}", codes.join(" "))),
            extent: Some(codes.join(" ")),
            extent_type: Some("text".into()),
            uri: None,
        });
    }

    /// A contract of `commissioner` with `provider`, starting in the last four years, worth
    /// `yearly` euro a year (none for agreements without money).
    fn contract(
        &mut self,
        kind: RelationKind,
        (commissioner, provider): (usize, usize),
        service: Option<&str>,
        yearly: Option<f64>,
        description: String,
    ) {
        if commissioner == provider {
            return;
        }
        let years: u32 = match kind {
            RelationKind::Grant => 1,
            RelationKind::Accreditation => 5,
            RelationKind::Procurement | RelationKind::CoDesignAgreement => {
                self.rng.random_range(2..=4)
            }
            RelationKind::Agreement => self.rng.random_range(3..=5),
        };
        let back = if kind == RelationKind::Grant {
            0
        } else {
            self.rng.random_range(0..years.min(4) as i32)
        };
        let month = if kind == RelationKind::Grant {
            self.rng.random_range(1..=6)
        } else {
            [1, 1, 4, 7, 9][self.rng.random_range(0..5)]
        };
        let start = day(self.year - back, month, 1);
        let end = start
            .checked_add_months(Months::new(12 * years))
            .and_then(|d| d.pred_opt());
        let act = self.rng.random_range(100..2600);
        let reference = match kind {
            RelationKind::Procurement => {
                let cig: String = (0..10)
                    .map(|_| char::from(b"0123456789ABCDEF"[self.rng.random_range(0..16)]))
                    .collect();
                format!("CIG {cig}")
            }
            RelationKind::Accreditation => format!("Det. dir. n. {act}/{}", start.year()),
            RelationKind::CoDesignAgreement => {
                format!(
                    "Accordo di collaborazione n. {}/{}",
                    act % 90 + 1,
                    start.year()
                )
            }
            RelationKind::Grant => format!("Delibera di Giunta n. {}/{}", act % 600, start.year()),
            RelationKind::Agreement => format!("Convenzione rep. n. {}", 40_000 + act * 7),
        };
        let value = yearly.map(|v| (v * f64::from(years) / 100.0).round() * 100.0);
        let n = self.r.relations.len() + 1;
        self.r.relations.push(Relation {
            id: id("rel", n),
            kind,
            commissioner_id: self.orgs[commissioner].rec.id.clone(),
            provider_id: self.orgs[provider].rec.id.clone(),
            service_id: service.map(str::to_string),
            value_eur: value,
            start_date: Some(start),
            end_date: end,
            reference: Some(reference),
            description: Some(description),
        });
    }

    fn fund(&mut self, org: Option<usize>, service: Option<&str>, source: String, amount: f64) {
        let n = self.r.funding.len() + 1;
        self.r.funding.push(Funding {
            id: id("fund", n),
            organization_id: org.map(|o| self.orgs[o].rec.id.clone()),
            service_id: service.map(str::to_string),
            source: Some(source),
            amount: Some((amount / 100.0).round().max(1.0) * 100.0),
            year: Some(i64::from(self.year)),
        });
    }

    /// One row of the supply table: a service at a location in its zone, with the row's
    /// capacity, operators and catchment.
    fn facility(&mut self, p: &Provision) -> Result<(), SynthError> {
        let kind = catalogue::facility(p.service).ok_or_else(|| {
            SynthError::Registry(format!(
                "the supply table's service `{}` has no description",
                p.service
            ))
        })?;
        let provider = PROVIDERS.iter().position(|&x| x == p.provider).unwrap_or(0);
        let runner = self.runner(kind.runners[provider], Some(p.zone), true);
        let zone_name = self.t.zones[p.zone].name;
        let own = orgs::facility_name(&mut self.rng);
        let (service_name, place_name) = match kind.place {
            Some(place) => (format!("{} {own}", kind.label), format!("{place} {own}")),
            None => (
                format!("{} - zona {zone_name}", kind.label),
                format!("Assistenza domiciliare - punto di {zone_name}"),
            ),
        };
        let accredited = kind.contract[provider] == Some(RelationKind::Accreditation);
        let access = if p.service == "nido d'infanzia" {
            "Domanda di iscrizione al Comune nei periodi indicati dal bando annuale"
        } else {
            "Su progetto del servizio sociale territoriale: domanda allo sportello sociale"
        };
        let service = self.add_service(Draft {
            runner,
            name: service_name,
            description: kind.description,
            risks: kind.risks,
            groups: kind.groups,
            ages: kind.ages,
            fee: kind.fee,
            access,
            accreditation: accredited,
        });
        let location = self.add_location(runner, p.zone, place_name);
        let sal = self.add_sal(&service, &location, kind.hours);
        let n = self.r.capacities.len() + 1;
        let count = |v: u64| Some(u32::try_from(v).unwrap_or(u32::MAX));
        self.r.capacities.push(Capacity {
            id: id("cap", n),
            service_at_location_id: sal,
            places: count(p.places),
            current_users: count(p.users),
            waiting_list: count(p.waiting_list),
            as_of: self.as_of,
        });
        self.split_staff(&service, p.operators, p.fte, kind.staff);
        self.add_area(&service, "Bacino di utenza".into(), &p.catchment);
        self.link(&service, supply_term(p.service), "offerta_servizi");
        for (area, case) in services::cases_of(p.service) {
            self.link(&service, case_term(area, case), "cartella_sociale");
        }
        let places = p.places as f64;
        let body = self.orgs[runner].body();
        let public = self.orgs[runner].spec.kind == OrganizationKind::PublicBody;
        if let (Some(kind_of), false) = (kind.contract[provider], public) {
            let yearly = places * kind.cost_per_place * self.uniform(0.9, 1.1);
            let what = format!("{} ({})", kind.label, zone_name);
            let commissioner = self.municipality();
            self.contract(
                kind_of,
                (commissioner, runner),
                Some(&service),
                Some(yearly),
                what,
            );
            let health_share = matches!(
                p.service,
                "struttura residenziale anziani"
                    | "centro diurno anziani"
                    | "centro diurno disabili"
            );
            if let (true, Some(asl)) = (health_share, self.first(Body::HealthAuthority)) {
                let yearly = places * kind.cost_per_place * self.uniform(0.35, 0.5);
                self.contract(
                    RelationKind::Accreditation,
                    (asl, runner),
                    Some(&service),
                    Some(yearly),
                    format!(
                        "Accreditamento socio-sanitario: quota sanitaria, {}",
                        kind.label
                    ),
                );
            }
        } else if public {
            let source = match p.service {
                "nido d'infanzia" | "centro educativo pomeridiano" => "Bilancio comunale",
                "accoglienza abitativa temporanea" => "Fondo povertà - quota servizi",
                _ => "Fondo regionale per la non autosufficienza (FRNA)",
            };
            let amount = places * kind.cost_per_place * self.uniform(0.3, 0.6);
            self.fund(None, Some(&service), source.into(), amount);
        }
        if body == Body::HomeCare || body == Body::CareHome {
            let amount = places * kind.cost_per_place * self.uniform(0.1, 0.2);
            self.fund(
                None,
                Some(&service),
                "Rette a carico degli utenti".into(),
                amount,
            );
        }
        Ok(())
    }

    /// Splits a facility's operators and FTE between profiles so that they add up exactly.
    fn split_staff(
        &mut self,
        service: &str,
        operators: u64,
        fte: f64,
        shares: &[(OperatorProfile, f64)],
    ) {
        let mut counts: Vec<u64> = shares
            .iter()
            .map(|(_, s)| (operators as f64 * s).floor() as u64)
            .collect();
        let mut left = operators.saturating_sub(counts.iter().sum());
        let (mut k, len) = (0, counts.len());
        while left > 0 && len > 0 {
            counts[k % len] += 1;
            left -= 1;
            k += 1;
        }
        let tenths = (fte * 10.0).round() as u64;
        let mut given = 0u64;
        let last = counts.iter().rposition(|&c| c > 0);
        for (i, ((profile, _), &c)) in shares.iter().zip(&counts).enumerate() {
            if c == 0 {
                continue;
            }
            let t = if Some(i) == last {
                tenths.saturating_sub(given)
            } else {
                (tenths as f64 * c as f64 / operators.max(1) as f64).round() as u64
            };
            let t = t.min(tenths.saturating_sub(given));
            given += t;
            let n = self.r.operators.len() + 1;
            self.r.operators.push(Operator {
                id: id("opr", n),
                organization_id: None,
                service_id: Some(service.to_string()),
                profile: *profile,
                count: u32::try_from(c).unwrap_or(u32::MAX),
                fte: Some(t as f64 / 10.0),
                as_of: Some(self.as_of),
                note: None,
            });
        }
    }

    /// The services of one entry of the catalogue.
    fn offer(&mut self, offer: &Offer) {
        let districts = self.t.districts.len();
        let instances: Vec<(Option<usize>, Option<usize>)> = match offer.spread {
            Spread::City => vec![(None, None)],
            Spread::Districts => (0..districts).map(|d| (Some(d), None)).collect(),
            Spread::Count(n) => vec![(None, None); n],
            Spread::Zones(per) => {
                let n = ((per * self.scale).round() as usize).max(1);
                (0..n)
                    .map(|_| (None, Some(self.draw_zone(0.9, None))))
                    .collect()
            }
        };
        for (district, zone) in instances {
            let hint = zone.or_else(|| district.map(|d| self.draw_zone(0.5, Some(d))));
            let spread = matches!(offer.spread, Spread::Zones(_));
            let runner = self.runner(offer.runners, hint, !spread);
            let dept = self.orgs[runner].body() == Body::SocialDept;
            let name = match (district, zone) {
                (Some(d), _) => format!("{} - Quartiere {}", offer.name, self.t.districts[d].code),
                (None, Some(z)) => format!("{} - {}", offer.name, self.t.zones[z].name),
                (None, None) if matches!(offer.spread, Spread::Count(_)) => {
                    format!("{} {}", offer.name, orgs::facility_name(&mut self.rng))
                }
                (None, None) => offer.name.to_string(),
            };
            let public = self.orgs[runner].spec.kind == OrganizationKind::PublicBody;
            let access = if public {
                "Su appuntamento allo sportello, o su invio di un altro servizio"
            } else {
                "Accesso libero negli orari di apertura, o su invio dei servizi sociali"
            };
            let accredited = matches!(offer.contract, Some((RelationKind::Accreditation, ..)));
            let service = self.add_service(Draft {
                runner,
                name,
                description: offer.description,
                risks: offer.risks,
                groups: offer.groups,
                ages: offer.ages,
                fee: offer.fee,
                access,
                accreditation: accredited && !public,
            });
            if spread
                && self.rng.random_bool(0.03)
                && let Some(s) = self.r.services.last_mut()
            {
                s.status = Status::TemporarilyClosed;
                s.alert = Some("Chiuso temporaneamente: riapertura prevista in primavera".into());
            }
            // Where: the department's district office, the runner's seat when it is in the
            // right place, or a new location.
            let seat = self.orgs[runner].seat.clone();
            let seat_zone = self.orgs[runner].zone;
            let location = match (district, zone, seat) {
                (Some(d), _, _) if dept => self.poles[d].clone(),
                (Some(d), _, Some(seat))
                    if seat_zone.is_some_and(|z| self.t.zones[z].district == d) =>
                {
                    seat
                }
                (None, Some(z), Some(seat)) if seat_zone == Some(z) => seat,
                (None, None, Some(seat)) if !matches!(offer.spread, Spread::Count(_)) => seat,
                _ => {
                    let z = hint.unwrap_or_else(|| self.draw_zone(0.5, None));
                    let label = format!("{} - {}", offer.name, self.t.zones[z].name);
                    self.add_location(runner, z, label)
                }
            };
            self.add_sal(&service, &location, offer.hours);
            match district {
                Some(d) => {
                    let zones: Vec<usize> = (0..self.t.zones.len())
                        .filter(|&z| self.t.zones[z].district == d)
                        .collect();
                    let name = format!("Quartiere {}", self.t.districts[d].code);
                    self.add_area(&service, name, &zones);
                }
                None if !spread => {
                    let zones: Vec<usize> = (0..self.t.zones.len()).collect();
                    self.add_area(&service, format!("Comune di {MUNICIPALITY_NAME}"), &zones);
                }
                None => {}
            }
            for (area, case) in offer.cases {
                self.link(&service, case_term(area, case), "cartella_sociale");
            }
            self.offer_money(offer, runner, &service, public, spread);
        }
    }

    /// The contract, grant or other funding of a catalogue service.
    fn offer_money(
        &mut self,
        offer: &Offer,
        runner: usize,
        service: &str,
        public: bool,
        spread: bool,
    ) {
        let body = self.orgs[runner].body();
        let contracted = match offer.contract {
            Some((kind, lo, hi, share)) if !public && self.rng.random_bool(share.min(1.0)) => {
                let yearly = self.uniform(lo, hi);
                let commissioner = self.municipality();
                self.contract(
                    kind,
                    (commissioner, runner),
                    Some(service),
                    Some(yearly),
                    offer.name.to_string(),
                );
                true
            }
            _ => false,
        };
        if public {
            let source = if offer.risks.contains(&SocialRisk::Poverty) {
                "Fondo povertà - quota servizi"
            } else if offer.risks.contains(&SocialRisk::Health) {
                "Fondo sanitario regionale"
            } else {
                "Fondo nazionale politiche sociali (FNPS)"
            };
            let amount = self.uniform(40_000.0, 400_000.0) * self.scale.max(0.05);
            self.fund(None, Some(service), source.into(), amount);
        } else if spread && !contracted && self.rng.random_bool(0.45) {
            let foundations: Vec<usize> = (0..self.orgs.len())
                .filter(|&i| {
                    self.orgs[i].body() == Body::Foundation && self.orgs[i].twin_of.is_none()
                })
                .collect();
            let source = match body {
                Body::Parish | Body::Caritas => "8 per mille alla Chiesa cattolica".to_string(),
                _ if !foundations.is_empty() && self.rng.random_bool(0.6) => {
                    let f = foundations[self.rng.random_range(0..foundations.len())];
                    format!("{} - bando welfare di comunità", self.orgs[f].rec.name)
                }
                _ => "5 per mille".to_string(),
            };
            let amount = self.uniform(1_000.0, 25_000.0);
            self.fund(None, Some(service), source, amount);
        }
        if spread && self.rng.random_bool(0.5) {
            let n = self.r.operators.len() + 1;
            let count = self.rng.random_range(3..=25);
            self.r.operators.push(Operator {
                id: id("opr", n),
                organization_id: None,
                service_id: Some(service.to_string()),
                profile: OperatorProfile::Volunteer,
                count,
                fte: None,
                as_of: Some(self.as_of),
                note: Some("volontari attivi nel servizio".into()),
            });
        }
    }

    // -----------------------------------------------------------------------------------------
    // relations between bodies, staff, contacts

    /// The municipality's agreements with other public bodies and the consortium, and the
    /// foundations' grants.
    fn agreements(&mut self) {
        let commune = self.municipality();
        // The other party, the kind of relation, its yearly value range, what it is for.
        type Deal = (Body, RelationKind, Option<(f64, f64)>, &'static str);
        let deals: [Deal; 7] = [
            (
                Body::HealthAuthority,
                RelationKind::Agreement,
                None,
                "Accordo di programma per l'integrazione socio-sanitaria",
            ),
            (
                Body::Asp,
                RelationKind::Agreement,
                Some((3_000_000.0, 6_000_000.0)),
                "Contratto di servizio per i servizi residenziali e semiresidenziali",
            ),
            (
                Body::Ipab,
                RelationKind::Agreement,
                Some((200_000.0, 600_000.0)),
                "Convenzione per i posti in casa residenza",
            ),
            (
                Body::Cpia,
                RelationKind::Agreement,
                Some((20_000.0, 60_000.0)),
                "Protocollo d'intesa per i corsi di italiano per adulti stranieri",
            ),
            (
                Body::JobCentre,
                RelationKind::Agreement,
                None,
                "Protocollo per i patti di inclusione e i percorsi di inserimento lavorativo",
            ),
            (
                Body::Consortium,
                RelationKind::Agreement,
                None,
                "Convenzione quadro per gli inserimenti lavorativi nelle cooperative di tipo B",
            ),
            (
                Body::FoodBankNetwork,
                RelationKind::Grant,
                Some((15_000.0, 40_000.0)),
                "Contributo alla raccolta e distribuzione di eccedenze alimentari",
            ),
        ];
        for (body, kind, value, what) in deals {
            if let Some(other) = self.first(body) {
                let yearly = value.map(|(lo, hi)| self.uniform(lo, hi) * self.scale.max(0.05));
                self.contract(kind, (commune, other), None, yearly, what.into());
            }
        }
        let schools: Vec<usize> = (0..self.orgs.len())
            .filter(|&i| self.orgs[i].body() == Body::School)
            .collect();
        for s in schools {
            let yearly = self.uniform(20_000.0, 90_000.0);
            self.contract(
                RelationKind::Agreement,
                (commune, s),
                None,
                Some(yearly),
                "Convenzione per il diritto allo studio e l'inclusione scolastica".into(),
            );
        }
        let foundations: Vec<usize> = (0..self.orgs.len())
            .filter(|&i| self.orgs[i].body() == Body::Foundation && self.orgs[i].twin_of.is_none())
            .collect();
        let grantees: Vec<usize> = (0..self.orgs.len())
            .filter(|&i| {
                let o = &self.orgs[i];
                o.twin_of.is_none()
                    && matches!(o.body(), Body::Aps | Body::Odv | Body::CoopA | Body::CoopB)
            })
            .collect();
        if grantees.is_empty() {
            return;
        }
        for f in foundations {
            for _ in 0..self.rng.random_range(1..=3) {
                let g = grantees[self.rng.random_range(0..grantees.len())];
                let yearly = self.uniform(5_000.0, 60_000.0);
                self.contract(
                    RelationKind::Grant,
                    (f, g),
                    None,
                    Some(yearly),
                    "Bando welfare di comunità".into(),
                );
            }
        }
    }

    /// Each body's own staff, a contact point, a phone number and its register numbers.
    fn staff_and_contacts(&mut self) {
        for i in 0..self.orgs.len() {
            if self.orgs[i].twin_of.is_some() {
                continue;
            }
            let spec = self.orgs[i].spec;
            let org_id = self.orgs[i].rec.id.clone();
            for &(profile, lo, hi) in spec.staff {
                let mut count = f64::from(self.rng.random_range(lo..=hi));
                if spec.staff_scales {
                    count *= self.scale;
                }
                let count = count.round() as u32;
                if count == 0 {
                    continue;
                }
                let fte = (profile != OperatorProfile::Volunteer)
                    .then(|| (f64::from(count) * self.uniform(0.72, 0.95) * 10.0).round() / 10.0);
                let n = self.r.operators.len() + 1;
                self.r.operators.push(Operator {
                    id: id("opr", n),
                    organization_id: Some(org_id.clone()),
                    service_id: None,
                    profile,
                    count,
                    fte,
                    as_of: Some(self.as_of),
                    note: None,
                });
            }
            let slug = orgs::slug(&self.orgs[i].core);
            let (title, mailbox) = match spec.kind {
                OrganizationKind::PublicBody => ("Ufficio relazioni con il pubblico", "urp"),
                OrganizationKind::ThirdSector => ("Segreteria", "segreteria"),
                OrganizationKind::ForProfit => ("Ufficio accoglienza", "accoglienza"),
            };
            let n = self.r.contacts.len() + 1;
            self.r.contacts.push(Contact {
                id: id("con", n),
                organization_id: Some(org_id.clone()),
                title: Some(title.into()),
                email: Some(format!("{mailbox}@{slug}.example")),
                ..Contact::default()
            });
            let area = match self.orgs[i].rec.municipality.as_deref() {
                Some("Bologna") => "051",
                Some("Milano") => "02",
                Some("Reggio nell'Emilia") => "0522",
                _ => "059",
            };
            let n = self.r.phones.len() + 1;
            let number = self.rng.random_range(0..1_000_000);
            self.r.phones.push(Phone {
                id: id("tel", n),
                organization_id: Some(org_id.clone()),
                number: format!("+39 {area} 0{number:06}"),
                kind: Some("voice".into()),
                description: Some(title.into()),
                ..Phone::default()
            });
            let serial = self.rng.random_range(100_000..1_000_000);
            let identifier = match spec.body {
                Body::SocialDept | Body::HealthDistrict | Body::Parish => None,
                _ => match spec.kind {
                    OrganizationKind::PublicBody => Some(("IPA", format!("ipa_{serial}"))),
                    OrganizationKind::ThirdSector => Some(("RUNTS", format!("{serial}"))),
                    OrganizationKind::ForProfit => Some(("REA", format!("{PROVINCE}-{serial}"))),
                },
            };
            if let Some((kind, value)) = identifier {
                let n = self.r.identifiers.len() + 1;
                self.r.identifiers.push(OrganizationIdentifier {
                    id: id("oid", n),
                    organization_id: org_id,
                    identifier_scheme: None,
                    identifier_type: kind.into(),
                    identifier: value,
                });
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // verification and the truth

    /// When each organization and service was last checked: most within the last year, some
    /// long ago or never (the planted stale records), and every duplicate entry long ago or
    /// never; then the truth of the stale report.
    fn verification(&mut self) {
        for i in 0..self.orgs.len() {
            let u: f64 = self.rng.random();
            let twin = self.orgs[i].twin_of.is_some();
            let public = self.orgs[i].spec.kind == OrganizationKind::PublicBody;
            let verified = if twin {
                (u < 0.5).then(|| before(self.as_of, self.rng.random_range(800..2500)))
            } else if public || u >= 0.10 {
                Some(before(self.as_of, self.rng.random_range(0..330)))
            } else if u < 0.03 {
                None
            } else {
                Some(before(self.as_of, self.rng.random_range(430..1500)))
            };
            self.orgs[i].rec.verified_at = verified;
        }
        for k in 0..self.r.services.len() {
            let u: f64 = self.rng.random();
            let assured = if u < 0.03 {
                None
            } else if u < 0.11 {
                Some(before(self.as_of, self.rng.random_range(430..1500)))
            } else {
                Some(before(self.as_of, self.rng.random_range(0..300)))
            };
            let changed =
                assured.unwrap_or_else(|| before(self.as_of, self.rng.random_range(400..1500)));
            let minute = self.rng.random_range(0..600);
            let s = &mut self.r.services[k];
            s.assured_date = assured;
            s.last_modified = changed
                .and_hms_opt(8 + minute / 60, minute % 60, 0)
                .map(|t| t.and_utc());
        }
        let cutoff = self
            .as_of
            .checked_sub_months(Months::new(STALE_MONTHS))
            .unwrap_or(NaiveDate::MIN);
        let judge = |d: Option<NaiveDate>| match d {
            None => Some(("never_verified", "never verified".to_string())),
            Some(d) if d < cutoff => Some(("verified_before", format!("last verified on {d}"))),
            Some(_) => None,
        };
        for o in &self.orgs {
            if let Some((reason, note)) = judge(o.rec.verified_at) {
                let note = match o.twin_of {
                    Some(_) => format!("{note} (a duplicate entry)"),
                    None => note,
                };
                self.truth.push(TruthRow {
                    report: "stale",
                    table: "organizations",
                    id: o.rec.id.clone(),
                    other_id: String::new(),
                    reason,
                    planted: true,
                    note,
                });
            }
        }
        for s in &self.r.services {
            if let Some((reason, note)) = judge(s.assured_date) {
                self.truth.push(TruthRow {
                    report: "stale",
                    table: "services",
                    id: s.id.clone(),
                    other_id: String::new(),
                    reason,
                    planted: true,
                    note,
                });
            }
        }
    }

    /// Inserts everything into a registry in memory, as one change made on the registry's date.
    fn finish(self) -> Result<Synthetic, SynthError> {
        let mut registry = Registry::open_in_memory().map_err(registry_error)?;
        let at = self
            .as_of
            .and_hms_opt(18, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(chrono::DateTime::UNIX_EPOCH);
        let r = &self.r;
        let orgs = &self.orgs;
        registry
            .edit_at("datalab synth", at, |e| {
                for t in &r.taxonomies {
                    e.insert(t)?;
                }
                for t in &r.terms {
                    e.insert(t)?;
                }
                for o in orgs {
                    e.insert(&o.rec)?;
                }
                for x in &r.identifiers {
                    e.insert(x)?;
                }
                for x in &r.services {
                    e.insert(x)?;
                }
                for x in &r.locations {
                    e.insert(x)?;
                }
                for x in &r.addresses {
                    e.insert(x)?;
                }
                for x in &r.sals {
                    e.insert(x)?;
                }
                for x in &r.schedules {
                    e.insert(x)?;
                }
                for x in &r.costs {
                    e.insert(x)?;
                }
                for x in &r.funding {
                    e.insert(x)?;
                }
                for x in &r.areas {
                    e.insert(x)?;
                }
                for x in &r.contacts {
                    e.insert(x)?;
                }
                for x in &r.phones {
                    e.insert(x)?;
                }
                for x in &r.attributes {
                    e.insert(x)?;
                }
                for x in &r.operators {
                    e.insert(x)?;
                }
                for x in &r.capacities {
                    e.insert(x)?;
                }
                for x in &r.relations {
                    e.insert(x)?;
                }
                Ok(())
            })
            .map_err(registry_error)?;
        let mut truth = self.truth;
        truth.sort();
        Ok(Synthetic { registry, truth })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn street_names_read_as_addresses() {
        assert_eq!(street_name("VIA DELL'INDUSTRIA"), "Via dell'Industria");
        assert_eq!(
            street_name("CORSO VITTORIO EMANUELE II"),
            "Corso Vittorio Emanuele II"
        );
        assert_eq!(street_name("STRADA SANT'ANNA"), "Strada Sant'Anna");
        assert_eq!(street_name("VIA DEI MILLE"), "Via dei Mille");
        assert_eq!(street_name("VIA GIOSUÈ CARDUCCI"), "Via Giosuè Carducci");
        assert_eq!(street_name("VIA XX SETTEMBRE"), "Via XX Settembre");
    }

    #[test]
    fn eligibility_reads_well() {
        assert_eq!(
            eligibility((Some(65), None), &[TargetGroup::Elderly]),
            "Destinatari: anziani; da 65 anni"
        );
        assert_eq!(
            eligibility((Some(0), Some(2)), &[TargetGroup::Minors]),
            "Destinatari: minori; fino a 2 anni"
        );
    }
}
