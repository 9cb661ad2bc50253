//! The social-services department's yearly table of service supply per statistical zone
//! (offerta dei servizi): places, users on 31 December, staff and waiting lists of seven
//! services. Aggregated: no person-level records.
//!
//! Home care is organised in every zone; facilities exist only in some zones and serve the
//! zones of their district that have none (the catchment). Places follow the catchment's
//! target population (home care every year, a facility at its first year and then by an
//! occasional expansion or cut), times a per-facility factor that leaves some zones short.
//! Demand is the larger of the cases the social services have in progress for that service in
//! the catchment on 31 December (the cartella sociale) and a need drawn from the target
//! population; users are the demand up to the usable places, the rest waits.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use super::isee::LOW_ISEE;
use super::social::Social;
use super::{Ctx, YearView};
use crate::SynthError;
use crate::dirty::{self, Kind, Truth};
use crate::out::{Line, Manifest, Sink, ymd};
use crate::population::{Status, World, age_on};
use crate::territory::Territory;

pub const FILE: &str = "custodian/sociale/offerta_servizi.csv";
pub const TRUTH_FILE: &str = "truth/services_supply.csv";
pub const HEADER: &str =
    "ANNO;ZONA;SERVIZIO;TIPO_GESTORE;POSTI;UTENTI;OPERATORI;FTE;LISTA_ATTESA\n";
pub const PROVIDERS: [&str; 3] = ["pubblico", "terzo settore", "privato"];

/// Whom a service is for, counted per zone on 31 December.
#[derive(Clone, Copy)]
enum Target {
    /// Residents aged 80 and over.
    Aged80,
    /// Residents aged 65 and over.
    Aged65,
    /// Children aged 0-2.
    Infants,
    /// Children aged 6-13.
    Children,
    /// Residents aged 18-64 with a disability.
    DisabledAdults,
    /// Households with an ISEE below 9,360 euro.
    PoorHouseholds,
}

const TARGETS: usize = 6;

/// Which zones have the service.
#[derive(Clone, Copy)]
enum Layout {
    /// Every zone.
    Everywhere,
    /// Each zone with probability `base + poverty * zone poverty` (at least one per district).
    Share { base: f64, poverty: f64 },
    /// One facility per `zones` zones of each district (at least one), placed in zones drawn
    /// with weight `1.2 + lean * zone age profile + (1 - lean) * zone poverty`.
    Hubs { zones: f64, lean: f64 },
}

struct Service {
    name: &'static str,
    target: Target,
    layout: Layout,
    /// Places per person of the target population, city-wide.
    places: f64,
    /// Spread of places between facilities (standard deviation of the log factor).
    spread: f64,
    /// Demand per person of the target population.
    need: f64,
    /// Users the places may hold where the provider overbooks (home-care slots, nursery
    /// places: not every user is there every day).
    overbook: f64,
    /// A building with a fixed capacity (as opposed to home care).
    building: bool,
    /// Operators per place.
    staff: f64,
    /// Weights of the provider types.
    providers: [f64; 3],
    /// Share of the places usable and of the demand in 2020 (closures, distancing).
    covid: (f64, f64),
    /// Social-case (area, intervention type) that are users of the service.
    cases: &'static [(&'static str, &'static str)],
}

const SERVICES: [Service; 7] = [
    Service {
        name: "assistenza domiciliare",
        target: Target::Aged80,
        layout: Layout::Everywhere,
        places: 0.045,
        spread: 0.25,
        need: 0.048,
        overbook: 1.08,
        building: false,
        staff: 0.2,
        providers: [0.2, 0.7, 0.1],
        covid: (1.0, 1.0),
        cases: &[
            ("anziani", "assistenza domiciliare"),
            ("disabili", "assistenza domiciliare"),
        ],
    },
    Service {
        name: "centro diurno anziani",
        target: Target::Aged65,
        layout: Layout::Hubs {
            zones: 4.0,
            lean: 1.0,
        },
        places: 0.009,
        spread: 0.3,
        need: 0.0095,
        overbook: 1.0,
        building: true,
        staff: 0.22,
        providers: [0.3, 0.5, 0.2],
        covid: (0.6, 1.0),
        cases: &[("anziani", "centro diurno")],
    },
    Service {
        name: "struttura residenziale anziani",
        target: Target::Aged80,
        layout: Layout::Hubs {
            zones: 5.0,
            lean: 1.0,
        },
        places: 0.052,
        spread: 0.3,
        need: 0.058,
        overbook: 1.0,
        building: true,
        staff: 0.62,
        providers: [0.25, 0.35, 0.4],
        covid: (0.92, 1.0),
        cases: &[("anziani", "inserimento in struttura")],
    },
    Service {
        name: "centro diurno disabili",
        target: Target::DisabledAdults,
        layout: Layout::Hubs {
            zones: 8.0,
            lean: 0.5,
        },
        places: 0.05,
        spread: 0.3,
        need: 0.055,
        overbook: 1.0,
        building: true,
        staff: 0.45,
        providers: [0.3, 0.7, 0.0],
        covid: (0.75, 1.0),
        cases: &[("disabili", "centro diurno")],
    },
    Service {
        name: "nido d'infanzia",
        target: Target::Infants,
        layout: Layout::Share {
            base: 0.72,
            poverty: -0.3,
        },
        places: 0.30,
        spread: 0.45,
        need: 0.36,
        overbook: 1.08,
        building: true,
        staff: 0.2,
        providers: [0.55, 0.25, 0.2],
        covid: (1.0, 0.85),
        cases: &[],
    },
    Service {
        name: "centro educativo pomeridiano",
        target: Target::Children,
        layout: Layout::Share {
            base: 0.45,
            poverty: 0.25,
        },
        places: 0.03,
        spread: 0.4,
        need: 0.034,
        overbook: 1.0,
        building: true,
        staff: 0.12,
        providers: [0.2, 0.8, 0.0],
        covid: (1.0, 0.7),
        cases: &[("minori", "centro educativo pomeridiano")],
    },
    Service {
        name: "accoglienza abitativa temporanea",
        target: Target::PoorHouseholds,
        layout: Layout::Hubs {
            zones: 8.0,
            lean: 0.0,
        },
        places: 0.004,
        spread: 0.3,
        need: 0.0045,
        overbook: 1.0,
        building: true,
        staff: 0.1,
        providers: [0.3, 0.7, 0.0],
        covid: (1.0, 1.0),
        cases: &[("adulti", "accoglienza abitativa temporanea")],
    },
];

/// The services, for the lab spec's closed list.
pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

/// The social-case (area, intervention type) pairs whose cases are users of a service of the
/// table (empty for an unknown name): the registry lists the service under those case kinds.
pub fn cases_of(service: &str) -> &'static [(&'static str, &'static str)] {
    SERVICES
        .iter()
        .find(|s| s.name == service)
        .map_or(&[], |s| s.cases)
}

/// One row of the table in the last simulated year, with its true values (before any injected
/// defect): what the synthetic registry lists as a service at a location.
#[derive(Clone, Debug, PartialEq)]
pub struct Provision {
    /// Index of the zone in the territory.
    pub zone: usize,
    pub service: &'static str,
    /// One of [`PROVIDERS`].
    pub provider: &'static str,
    pub places: u64,
    pub users: u64,
    pub operators: u64,
    /// Full-time equivalents, one decimal.
    pub fte: f64,
    pub waiting_list: u64,
    /// The zones its places serve, its own first.
    pub catchment: Vec<usize>,
}

/// One zone's row of a service, fixed over the years.
struct Facility {
    zone: usize,
    service: usize,
    /// The zones it serves, its own first.
    catchment: Vec<usize>,
    provider: &'static str,
    /// Places relative to the city-wide rate.
    factor: f64,
    /// Users per place at most.
    overbook: f64,
    /// FTE per operator.
    part_time: f64,
    /// Current capacity of a building.
    capacity: u64,
}

/// Per simulated year and zone: the target populations, and the social cases in progress on
/// 31 December that use each service.
pub struct Supply {
    years: Vec<(i32, Vec<[u32; TARGETS]>)>,
    cases: Vec<Vec<[u32; SERVICES.len()]>>,
}

impl Supply {
    pub fn new(_ctx: &Ctx) -> Supply {
        Supply {
            years: Vec::new(),
            cases: Vec::new(),
        }
    }

    /// Counts the year's target populations per zone.
    pub fn year(&mut self, world: &World, view: &YearView) {
        let mut zones = vec![[0u32; TARGETS]; world.territory.zones.len()];
        for p in &world.persons {
            if p.status != Status::Resident {
                continue;
            }
            let t = &mut zones[world.households[p.household as usize].zone as usize];
            let age = age_on(p.birth, view.end);
            t[Target::Aged80 as usize] += (age >= 80) as u32;
            t[Target::Aged65 as usize] += (age >= 65) as u32;
            t[Target::Infants as usize] += (age <= 2) as u32;
            t[Target::Children as usize] += (6..=13).contains(&age) as u32;
            t[Target::DisabledAdults as usize] += ((18..=64).contains(&age) && p.disabled) as u32;
        }
        for (h, hh) in world.households.iter().enumerate() {
            if view.isee[h].is_some_and(|i| i.value < LOW_ISEE) {
                zones[hh.zone as usize][Target::PoorHouseholds as usize] += 1;
            }
        }
        self.years.push((view.year, zones));
    }

    /// Counts the social cases in progress at the end of each simulated year (the cases'
    /// ends are known once the simulation is over).
    pub fn count_cases(&mut self, world: &World, social: &Social) {
        self.cases = self
            .years
            .iter()
            .map(|&(year, _)| in_progress(social, world, year))
            .collect();
    }

    /// Writes the table and its truth; returns the true rows of the last year.
    pub fn write(
        self,
        ctx: &Ctx,
        world: &World,
        truth: &mut Truth,
        manifest: &mut Manifest,
    ) -> Result<Vec<Provision>, SynthError> {
        assert_eq!(
            self.cases.len(),
            self.years.len(),
            "cases counted before writing"
        );
        let territory = world.territory;
        let mut rng: ChaCha8Rng = crate::rng::stream(ctx.seed, "services supply");
        let mut facilities = layout(territory, &mut rng);
        if let Some((_, targets)) = self.years.first() {
            calibrate(&mut facilities, targets);
        }
        let rows = self.years.len() * facilities.len();
        // One negative count of places and one unknown zone code, on two different rows.
        let bad = rng.random_range(0..rows);
        let unknown = (bad + rng.random_range(1..rows.max(2))) % rows;
        let unknown_code = dirty::unknown_zone(&mut rng);

        let mut sink = Sink::create(ctx.root, FILE)?;
        sink.header(HEADER.as_bytes())?;
        let mut tsink = Sink::create(ctx.root, TRUTH_FILE)?;
        tsink.header(
            b"year,zone_code,service,provider_type,places,users,operators,fte,waiting_list,\
catchment,target_population,social_cases,demand\n",
        )?;
        let mut line = Line::new(b';');
        let mut tline = Line::new(b',');
        let mut k = 0;
        let mut last = Vec::new();
        for (i, ((year, targets), cases)) in self.years.iter().zip(&self.cases).enumerate() {
            let year = *year;
            for f in &mut facilities {
                let s = &SERVICES[f.service];
                let target: u64 = f
                    .catchment
                    .iter()
                    .map(|&z| targets[z][s.target as usize] as u64)
                    .sum();
                let in_charge: u64 = f
                    .catchment
                    .iter()
                    .map(|&z| cases[z][f.service] as u64)
                    .sum();
                let ideal = s.places * f.factor * target as f64;
                let places = if !s.building {
                    (ideal * rng.random_range(0.95..1.05)).round().max(1.0) as u64
                } else if i == 0 {
                    ideal.round().max(1.0) as u64
                } else if rng.random_bool(0.12) {
                    // A section opened or closed.
                    (f.capacity as f64 * rng.random_range(0.85..1.3))
                        .round()
                        .max(1.0) as u64
                } else {
                    f.capacity
                };
                f.capacity = places;
                let (usable, wanting) = if year == 2020 { s.covid } else { (1.0, 1.0) };
                let need = poisson(&mut rng, s.need * wanting * target as f64);
                let demand = need.max(in_charge);
                let users = demand.min((places as f64 * f.overbook * usable).floor() as u64);
                let waiting = demand - users;
                let operators = (places as f64 * s.staff * rng.random_range(0.9..1.1))
                    .round()
                    .max(1.0) as u64;
                let fte = (operators as f64 * f.part_time * rng.random_range(0.97..1.03) * 10.0)
                    .round()
                    .min(operators as f64 * 10.0)
                    / 10.0;
                let zone = &territory.zones[f.zone].code;

                let l = &mut line;
                l.clear();
                l.int(year as u64)
                    .text(if k == unknown { unknown_code } else { zone })
                    .text(s.name)
                    .text(f.provider);
                if k == bad {
                    l.text(&format!("-{places}"));
                } else {
                    l.int(places);
                }
                l.int(users)
                    .int(operators)
                    .text(&format!("{fte:.1}").replace('.', ","))
                    .int(waiting);
                let bytes = l.end().to_vec();
                let line_no = sink.next_line();
                sink.row(&bytes)?;
                if k == bad {
                    truth.defect("services_supply", FILE, line_no, "places", Kind::OutOfRange)?;
                }
                if k == unknown {
                    truth.defect("services_supply", FILE, line_no, "zone", Kind::UnknownZone)?;
                }

                let catchment: Vec<&str> = f
                    .catchment
                    .iter()
                    .map(|&z| territory.zones[z].code.as_str())
                    .collect();
                let t = &mut tline;
                t.clear();
                t.int(year as u64)
                    .text(zone)
                    .text(s.name)
                    .text(f.provider)
                    .int(places)
                    .int(users)
                    .int(operators)
                    .text(&format!("{fte:.1}"))
                    .int(waiting)
                    .text(&catchment.join(" "))
                    .int(target)
                    .int(in_charge)
                    .int(demand);
                let tb = t.end().to_vec();
                tsink.row(&tb)?;
                if year == ctx.last {
                    last.push(Provision {
                        zone: f.zone,
                        service: s.name,
                        provider: f.provider,
                        places,
                        users,
                        operators,
                        fte,
                        waiting_list: waiting,
                        catchment: f.catchment.clone(),
                    });
                }
                k += 1;
            }
        }
        sink.finish(manifest)?;
        tsink.finish(manifest)?;
        Ok(last)
    }
}

/// Social cases in progress on 31 December of `year`, per zone and service.
fn in_progress(social: &Social, world: &World, year: i32) -> Vec<[u32; SERVICES.len()]> {
    let mut out = vec![[0u32; SERVICES.len()]; world.territory.zones.len()];
    for (zone, area, kind) in social.in_progress(world, ymd(year, 12, 31)) {
        if let Some(s) = SERVICES
            .iter()
            .position(|s| s.cases.contains(&(area, kind)))
        {
            out[zone as usize][s] += 1;
        }
    }
    out
}

/// Scales each service's facility factors so that the city's places match its rate at the
/// first year: the factors move places between zones, not in or out of the city.
fn calibrate(facilities: &mut [Facility], targets: &[[u32; TARGETS]]) {
    for (si, s) in SERVICES.iter().enumerate() {
        let (mut weighted, mut total) = (0.0, 0.0);
        for f in facilities.iter().filter(|f| f.service == si) {
            let t: f64 = f
                .catchment
                .iter()
                .map(|&z| targets[z][s.target as usize] as f64)
                .sum();
            weighted += f.factor * t;
            total += t;
        }
        if weighted > 0.0 {
            for f in facilities.iter_mut().filter(|f| f.service == si) {
                f.factor *= total / weighted;
            }
        }
    }
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda).expect("valid poisson").sample(rng) as u64
}

/// Where each service is, whom it serves and who runs it; rows sorted by zone, then service.
fn layout(territory: &Territory, rng: &mut ChaCha8Rng) -> Vec<Facility> {
    let mut facilities = Vec::new();
    for (si, s) in SERVICES.iter().enumerate() {
        for d in 0..territory.districts.len() {
            let zones: Vec<usize> = (0..territory.zones.len())
                .filter(|&z| territory.zones[z].district == d)
                .collect();
            if zones.is_empty() {
                continue;
            }
            let mut hubs: Vec<usize> = match s.layout {
                Layout::Everywhere => zones.clone(),
                Layout::Share { base, poverty } => zones
                    .iter()
                    .copied()
                    .filter(|&z| {
                        let p = base + poverty * territory.zones[z].poverty;
                        rng.random_bool(p.clamp(0.0, 1.0))
                    })
                    .collect(),
                Layout::Hubs { zones: per, lean } => {
                    let n = ((zones.len() as f64 / per).round() as usize).clamp(1, zones.len());
                    let mut left = zones.clone();
                    let mut picked = Vec::new();
                    for _ in 0..n {
                        let w: Vec<f64> = left
                            .iter()
                            .map(|&z| {
                                let zone = &territory.zones[z];
                                1.2 + lean * zone.old + (1.0 - lean) * zone.poverty
                            })
                            .collect();
                        let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
                        let mut at = left.len() - 1;
                        for (j, wj) in w.iter().enumerate() {
                            if u < *wj {
                                at = j;
                                break;
                            }
                            u -= wj;
                        }
                        picked.push(left.remove(at));
                    }
                    picked.sort_unstable();
                    picked
                }
            };
            if hubs.is_empty() {
                hubs.push(zones[rng.random_range(0..zones.len())]);
            }
            let mut catchments: Vec<Vec<usize>> = hubs.iter().map(|&h| vec![h]).collect();
            for &z in &zones {
                if !hubs.contains(&z) {
                    catchments[rng.random_range(0..hubs.len())].push(z);
                }
            }
            let factor = LogNormal::new(-s.spread * s.spread / 2.0, s.spread).expect("valid");
            for (&zone, catchment) in hubs.iter().zip(catchments) {
                let total: f64 = s.providers.iter().sum();
                let mut u = rng.random::<f64>() * total;
                let mut provider = PROVIDERS[0];
                for (p, w) in PROVIDERS.iter().zip(s.providers) {
                    if u < w {
                        provider = p;
                        break;
                    }
                    u -= w;
                }
                facilities.push(Facility {
                    zone,
                    service: si,
                    catchment,
                    provider,
                    // Bounded: no facility is a tenth or ten times what the rates call for.
                    factor: factor.sample(rng).clamp(0.4, 1.8),
                    overbook: if s.overbook > 1.0 && rng.random_bool(0.3) {
                        s.overbook
                    } else {
                        1.0
                    },
                    part_time: rng.random_range(0.72..0.95),
                    capacity: 0,
                });
            }
        }
    }
    facilities.sort_by_key(|f| (f.zone, f.service));
    facilities
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_case_type_exists_in_the_social_cases() {
        let types = super::super::social::type_names();
        for s in &SERVICES {
            for (area, kind) in s.cases {
                assert!(super::super::social::AREAS.contains(area), "{area}");
                assert!(types.contains(kind), "{kind}");
            }
            let w: f64 = s.providers.iter().sum();
            assert!(w > 0.0 && s.spread > 0.0 && s.staff > 0.0, "{}", s.name);
        }
    }
}
