//! The synthetic city's territory: 4 districts (`Q1..Q4`), 40 statistical zones (`Z01..Z40`),
//! their social profiles, streets and boundaries.
//!
//! The territory does not depend on the seed: every synthetic population lives in the same
//! city. Boundaries come from a jittered vertex grid: each grid cell belongs to one zone, so
//! zones tile the city with no gaps or overlaps, neighbouring zones share identical vertices,
//! and a district's outline is traced from the union of its zones' cells.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::names::STREETS;

pub const MUNICIPALITY_CODE: &str = "036023";
pub const MUNICIPALITY_NAME: &str = "Modena";
pub const PROVINCE_CODE: &str = "036";
pub const PROVINCE_NAME: &str = "Modena";
pub const REGION_CODE: &str = "08";
pub const REGION_NAME: &str = "Emilia-Romagna";

const NX: usize = 32;
const NY: usize = 30;
/// South-west corner of the grid and cell size, in micro-degrees.
const LON0: i64 = 10_845_000;
const LAT0: i64 = 44_585_000;
const DLON: i64 = 4_500;
const DLAT: i64 = 4_000;
/// Cell size in km (at latitude 44.65).
const CELL_X_KM: f64 = 0.356;
const CELL_Y_KM: f64 = 0.445;

pub struct District {
    pub code: &'static str,
    /// Compass direction from the centre and a place name, e.g. "Nord - Borgo Panaro".
    pub name: String,
}

pub const DISTRICT_CODES: [&str; 4] = ["Q1", "Q2", "Q3", "Q4"];
const DISTRICT_PLACES: [&str; 4] = [
    "Centro Storico",
    "Borgo Panaro",
    "San Vito",
    "Quattro Torri",
];
const COMPASS: [&str; 8] = [
    "Est",
    "Nord-Est",
    "Nord",
    "Nord-Ovest",
    "Ovest",
    "Sud-Ovest",
    "Sud",
    "Sud-Est",
];

static ZONE_NAMES: [&str; 40] = [
    // Q1
    "Duomo",
    "Porta Bologna",
    "San Francesco",
    "Borgo Castello",
    "Sant'Eufemia",
    "Giardini Ducali",
    // Q2
    "Borgo Ferrovia",
    "Villaggio Giardino",
    "Sacca Nuova",
    "Tre Olmi",
    "Ponte Secchia",
    "Madonnina Est",
    "Canaletto",
    "Navicello",
    "Fossalta Nuova",
    "Albareto Vecchio",
    "Torre Maina",
    "Prati di San Lazzaro",
    // Q3
    "Crocetta Vecchia",
    "Vaciglio",
    "Casa Rossa",
    "San Damaso",
    "Collegara Est",
    "Paganine",
    "Stradello Bianco",
    "Villa Fiorita",
    "Gherbella",
    "Mulino Vecchio",
    "Saliceto Alto",
    // Q4
    "Quattro Ville",
    "Cognento Nuovo",
    "Ca' Bianca",
    "Marzaglia Nuova",
    "Cittanova Ovest",
    "Bruciata",
    "Tre Case",
    "Lesignana",
    "Ganaceto",
    "Campo Sportivo",
    "Pozzo Rosso",
];

pub struct Zone {
    pub code: String,
    pub name: &'static str,
    pub district: usize,
    /// Share of the city's households living here.
    pub weight: f64,
    /// Older population (-1 young families .. +1 old).
    pub old: f64,
    /// Poorer population (-1 well off .. +1 poor).
    pub poverty: f64,
    /// Multiplier of the probability that a household is foreign.
    pub foreign: f64,
    /// Streets (indices into [`STREETS`]) and their highest civic number.
    pub streets: Vec<(u16, u16)>,
}

pub struct Territory {
    pub districts: Vec<District>,
    pub zones: Vec<Zone>,
    /// Zone of each grid cell (`u8::MAX` outside the city).
    cells: Vec<u8>,
    /// Grid vertices in micro-degrees (lon, lat), `(NX + 1) * (NY + 1)`.
    vertices: Vec<(i64, i64)>,
}

fn cell(i: usize, j: usize) -> usize {
    j * NX + i
}

impl Territory {
    /// Builds the city (deterministic, independent of any seed).
    pub fn build() -> Territory {
        // Try layouts in a fixed order until one has clean topology.
        for attempt in 0..200u64 {
            if let Some(t) = Self::attempt(attempt) {
                return t;
            }
        }
        unreachable!("no clean territory layout found")
    }

    fn attempt(attempt: u64) -> Option<Territory> {
        let mut rng =
            ChaCha8Rng::seed_from_u64(0x4d4f_4445_4e41 ^ attempt.wrapping_mul(0x9e37_79b9));
        let phase: [f64; 3] = [
            rng.random::<f64>() * std::f64::consts::TAU,
            rng.random::<f64>() * std::f64::consts::TAU,
            rng.random::<f64>() * std::f64::consts::TAU,
        ];
        let radius = |theta: f64| {
            5.0 * (1.0
                + 0.12 * (3.0 * theta + phase[0]).sin()
                + 0.07 * (5.0 * theta + phase[1]).sin()
                + 0.05 * (2.0 * theta + phase[2]).sin())
        };
        let centre = |i: usize, j: usize| {
            (
                (i as f64 + 0.5 - NX as f64 / 2.0) * CELL_X_KM,
                (j as f64 + 0.5 - NY as f64 / 2.0) * CELL_Y_KM,
            )
        };
        let mut inside = vec![false; NX * NY];
        for j in 0..NY {
            for i in 0..NX {
                let (x, y) = centre(i, j);
                let r = (x * x + y * y).sqrt();
                inside[cell(i, j)] = r < radius(y.atan2(x));
            }
        }
        // Seeds: 6 central ones (district 1), an inner ring of 13 and an outer ring of 21.
        let mut seeds: Vec<(f64, f64)> = vec![(0.0, 0.0)];
        for k in 0..5 {
            let a = k as f64 * std::f64::consts::TAU / 5.0 + 0.2;
            seeds.push((1.15 * a.cos(), 1.15 * a.sin()));
        }
        for (n, frac) in [(13usize, 0.50), (21, 0.80)] {
            let offset = rng.random::<f64>();
            for k in 0..n {
                let a = (k as f64 + offset + (rng.random::<f64>() - 0.5) * 0.4)
                    * std::f64::consts::TAU
                    / n as f64;
                let r = radius(a) * (frac + (rng.random::<f64>() - 0.5) * 0.08);
                seeds.push((r * a.cos(), r * a.sin()));
            }
        }
        let mut owner = vec![u8::MAX; NX * NY];
        for j in 0..NY {
            for i in 0..NX {
                if !inside[cell(i, j)] {
                    continue;
                }
                let (x, y) = centre(i, j);
                let mut best = (f64::MAX, 0usize);
                for (s, &(sx, sy)) in seeds.iter().enumerate() {
                    let d = (x - sx).powi(2) + (y - sy).powi(2);
                    if d < best.0 {
                        best = (d, s);
                    }
                }
                owner[cell(i, j)] = best.1 as u8;
            }
        }
        // Districts: seeds 0..6 are the centre; the rings are split in three angular sectors.
        let sector_start = rng.random::<f64>() * std::f64::consts::TAU;
        let district_of_seed = |s: usize| -> usize {
            if s < 6 {
                return 0;
            }
            let (x, y) = seeds[s];
            let a = (y.atan2(x) - sector_start).rem_euclid(std::f64::consts::TAU);
            1 + ((a / (std::f64::consts::TAU / 3.0)) as usize).min(2)
        };
        // Order zones by district, then angle: Z01.. in Q1, and so on.
        let mut order: Vec<usize> = (0..seeds.len()).collect();
        let angle = |s: usize| {
            let (x, y) = seeds[s];
            (y.atan2(x) - sector_start).rem_euclid(std::f64::consts::TAU)
        };
        order.sort_by(|&a, &b| {
            (district_of_seed(a), s_radius_class(a))
                .cmp(&(district_of_seed(b), s_radius_class(b)))
                .then(angle(a).partial_cmp(&angle(b)).unwrap())
        });
        let counts =
            [0, 1, 2, 3].map(|d| order.iter().filter(|&&s| district_of_seed(s) == d).count());
        if counts != [6, 12, 11, 11] {
            return None;
        }
        let mut rank = vec![0u8; seeds.len()];
        for (z, &s) in order.iter().enumerate() {
            rank[s] = z as u8;
        }
        for o in owner.iter_mut() {
            if *o != u8::MAX {
                *o = rank[*o as usize];
            }
        }
        // Topology checks: every zone and district and the city is one ring, no pinches.
        let zone_district: Vec<usize> = order.iter().map(|&s| district_of_seed(s)).collect();
        for z in 0..40u8 {
            let n = owner.iter().filter(|&&o| o == z).count();
            if n < 4 {
                return None;
            }
            if !clean(&|i, j| owner[cell(i, j)] == z) {
                return None;
            }
        }
        for d in 0..4 {
            if !clean(&|i, j| {
                owner[cell(i, j)] != u8::MAX && zone_district[owner[cell(i, j)] as usize] == d
            }) {
                return None;
            }
        }
        if !clean(&|i, j| owner[cell(i, j)] != u8::MAX) {
            return None;
        }
        // Vertices: a jittered grid.
        let mut vrng = ChaCha8Rng::seed_from_u64(0x5645_5254 ^ attempt);
        let mut vertices = Vec::with_capacity((NX + 1) * (NY + 1));
        for j in 0..=NY {
            for i in 0..=NX {
                let jx = ((vrng.random::<f64>() - 0.5) * 0.55 * DLON as f64) as i64;
                let jy = ((vrng.random::<f64>() - 0.5) * 0.55 * DLAT as f64) as i64;
                vertices.push((LON0 + i as i64 * DLON + jx, LAT0 + j as i64 * DLAT + jy));
            }
        }
        // Profiles.
        let mut prng = ChaCha8Rng::seed_from_u64(0x5052_4f46 ^ attempt);
        let mut zones = Vec::with_capacity(40);
        let mut street_order: Vec<u16> = (0..STREETS.len() as u16).collect();
        shuffle(&mut street_order, &mut prng);
        for z in 0..40usize {
            let s = order[z];
            let (sx, sy) = seeds[s];
            let ncells = owner.iter().filter(|&&o| o as usize == z).count() as f64;
            let ring = s_radius_class(s);
            let d = zone_district[z];
            let noise = |r: &mut ChaCha8Rng| (r.random::<f64>() - 0.5) * 2.0;
            let density = [2.6, 1.35, 0.65][ring] * (0.8 + 0.4 * prng.random::<f64>());
            let north = sy / 5.0;
            let east = sx / 5.0;
            let old = match ring {
                0 => 0.55 + 0.2 * noise(&mut prng),
                1 => 0.15 + 0.35 * noise(&mut prng),
                _ => -0.35 + 0.45 * noise(&mut prng),
            }
            .clamp(-1.0, 1.0);
            let poverty = (0.55 * north + 0.15 * east + 0.35 * noise(&mut prng)
                - if ring == 0 { 0.25 } else { 0.0 })
            .clamp(-1.0, 1.0);
            let foreign =
                (1.05 * poverty + 0.25 * noise(&mut prng) + if ring == 0 { 0.2 } else { 0.0 })
                    .exp();
            let streets = street_order[z * 3..z * 3 + 3]
                .iter()
                .map(|&st| (st, 20 + prng.random_range(0..140u16)))
                .collect();
            zones.push(Zone {
                code: format!("Z{:02}", z + 1),
                name: ZONE_NAMES[z],
                district: d,
                weight: ncells * density,
                old,
                poverty,
                foreign,
                streets,
            });
        }
        // Spare streets go to the most populous zones.
        let mut by_weight: Vec<usize> = (0..40).collect();
        by_weight.sort_by(|&a, &b| {
            zones[b]
                .weight
                .partial_cmp(&zones[a].weight)
                .unwrap()
                .then(a.cmp(&b))
        });
        for (k, &st) in street_order[120..].iter().enumerate() {
            let top = prng.random_range(20..160u16);
            zones[by_weight[k % 40]].streets.push((st, top));
        }
        let total: f64 = zones.iter().map(|z| z.weight).sum();
        for z in zones.iter_mut() {
            z.weight /= total;
        }
        // District names follow where they lie.
        let mut sums = [(0.0f64, 0.0f64, 0usize); 4];
        for j in 0..NY {
            for i in 0..NX {
                let o = owner[cell(i, j)];
                if o != u8::MAX {
                    let (x, y) = centre(i, j);
                    let s = &mut sums[zone_district[o as usize]];
                    s.0 += x;
                    s.1 += y;
                    s.2 += 1;
                }
            }
        }
        let districts = (0..4)
            .map(|d| {
                let name = if d == 0 {
                    DISTRICT_PLACES[0].to_string()
                } else {
                    let (x, y, n) = sums[d];
                    let a = (y / n as f64)
                        .atan2(x / n as f64)
                        .to_degrees()
                        .rem_euclid(360.0);
                    let dir = COMPASS[((a + 22.5) / 45.0) as usize % 8];
                    format!("{dir} - {}", DISTRICT_PLACES[d])
                };
                District {
                    code: DISTRICT_CODES[d],
                    name,
                }
            })
            .collect();
        Some(Territory {
            districts,
            zones,
            cells: owner,
            vertices,
        })
    }

    /// Boundary rings of a zone, as micro-degree coordinates (closed: first = last).
    pub fn zone_rings(&self, zone: usize) -> Vec<Vec<(i64, i64)>> {
        self.rings(&|i, j| self.cells[cell(i, j)] as usize == zone)
    }

    /// A point drawn inside a zone, as micro-degrees (lon, lat): a grid cell of the zone, then a
    /// point well inside that cell's (jittered) quadrilateral, so it lies inside the zone's
    /// boundary as `zones.geojson` draws it.
    pub fn point_in_zone<R: Rng>(&self, zone: usize, rng: &mut R) -> (i64, i64) {
        let cells: Vec<usize> = (0..self.cells.len())
            .filter(|&c| self.cells[c] as usize == zone)
            .collect();
        let c = cells[rng.random_range(0..cells.len())];
        let (i, j) = (c % NX, c / NX);
        let at = |i: usize, j: usize| {
            let (x, y) = self.vertices[j * (NX + 1) + i];
            (x as f64, y as f64)
        };
        let (u, v): (f64, f64) = (rng.random_range(0.15..0.85), rng.random_range(0.15..0.85));
        let corners = [
            (at(i, j), (1.0 - u) * (1.0 - v)),
            (at(i + 1, j), u * (1.0 - v)),
            (at(i, j + 1), (1.0 - u) * v),
            (at(i + 1, j + 1), u * v),
        ];
        let (x, y) = corners
            .iter()
            .fold((0.0, 0.0), |(x, y), ((cx, cy), w)| (x + cx * w, y + cy * w));
        (x.round() as i64, y.round() as i64)
    }

    /// Boundary rings of a district.
    pub fn district_rings(&self, district: usize) -> Vec<Vec<(i64, i64)>> {
        self.rings(&|i, j| {
            let z = self.cells[cell(i, j)];
            z != u8::MAX && self.zones[z as usize].district == district
        })
    }

    /// Boundary rings of the whole city.
    #[cfg(test)]
    pub fn city_rings(&self) -> Vec<Vec<(i64, i64)>> {
        self.rings(&|i, j| self.cells[cell(i, j)] != u8::MAX)
    }

    fn rings(&self, inside: &dyn Fn(usize, usize) -> bool) -> Vec<Vec<(i64, i64)>> {
        trace(inside)
            .into_iter()
            .map(|ring| {
                ring.into_iter()
                    .map(|(i, j)| self.vertices[j * (NX + 1) + i])
                    .collect()
            })
            .collect()
    }

    /// The postcode (CAP) of a zone, by a fixed rule: the historic centre (district Q1) is
    /// 41121; every other zone takes one of 41122..=41126 by the angle of its centroid seen
    /// from the city centre, counter-clockwise from due east, in five 72-degree sectors
    /// (0-72: 41122, 72-144: 41123, 144-216: 41124, 216-288: 41125, 288-360: 41126).
    /// Postcodes cut across districts, as real ones do.
    pub fn postcode(&self, zone: usize) -> &'static str {
        const CAPS: [&str; 6] = ["41121", "41122", "41123", "41124", "41125", "41126"];
        if self.zones[zone].district == 0 {
            return CAPS[0];
        }
        let (mut x, mut y, mut n) = (0.0, 0.0, 0usize);
        for j in 0..NY {
            for i in 0..NX {
                if self.cells[cell(i, j)] as usize == zone {
                    x += (i as f64 + 0.5 - NX as f64 / 2.0) * CELL_X_KM;
                    y += (j as f64 + 0.5 - NY as f64 / 2.0) * CELL_Y_KM;
                    n += 1;
                }
            }
        }
        let bearing = (y / n as f64)
            .atan2(x / n as f64)
            .to_degrees()
            .rem_euclid(360.0);
        CAPS[1 + ((bearing / 72.0) as usize).min(4)]
    }

    /// `custodian/stradario.csv`, the street table a custodian generalizes addresses with:
    /// every street of the city lies wholly in one zone, so the civic-number range and parity
    /// are left empty.
    pub fn streets_csv(&self) -> String {
        let mut rows: Vec<(&str, usize)> = Vec::with_capacity(STREETS.len());
        for (z, zone) in self.zones.iter().enumerate() {
            for &(street, _) in &zone.streets {
                rows.push((STREETS[street as usize], z));
            }
        }
        rows.sort();
        let mut s = String::from("street,number_from,number_to,parity,zone,postcode\n");
        for (street, z) in rows {
            let _ = writeln!(
                s,
                "{},,,,{},{}",
                csv_text(street),
                self.zones[z].code,
                self.postcode(z)
            );
        }
        s
    }

    /// `territories/zones.csv`: the codelist of the whole hierarchy, one row per zone, the zone
    /// code first (region > province > municipality > district > zone).
    pub fn zones_csv(&self) -> String {
        let mut s = String::from(
            "zone_code,zone_name,district_code,district_name,municipality_code,municipality_name,\
             province_code,province_name,region_code,region_name\n",
        );
        for z in &self.zones {
            let d = &self.districts[z.district];
            let _ = writeln!(
                s,
                "{},{},{},{},{MUNICIPALITY_CODE},{MUNICIPALITY_NAME},{PROVINCE_CODE},{PROVINCE_NAME},\
                 {REGION_CODE},{REGION_NAME}",
                z.code,
                csv_text(z.name),
                d.code,
                csv_text(&d.name),
            );
        }
        s
    }

    /// `territories/zones.geojson`.
    pub fn zones_geojson(&self) -> String {
        let features: Vec<String> = self
            .zones
            .iter()
            .enumerate()
            .map(|(k, z)| {
                let props = format!(
                    "\"code\":\"{}\",\"name\":{},\"district_code\":\"{}\",\"municipality_code\":\"{}\"",
                    z.code,
                    json_str(z.name),
                    DISTRICT_CODES[z.district],
                    MUNICIPALITY_CODE
                );
                feature(&props, &self.zone_rings(k))
            })
            .collect();
        collection(&features)
    }

    /// `territories/districts.geojson`.
    pub fn districts_geojson(&self) -> String {
        let features: Vec<String> = self
            .districts
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let props = format!(
                    "\"code\":\"{}\",\"name\":{},\"municipality_code\":\"{}\",\"province_code\":\"{}\",\"region_code\":\"{}\"",
                    d.code,
                    json_str(&d.name),
                    MUNICIPALITY_CODE,
                    PROVINCE_CODE,
                    REGION_CODE
                );
                feature(&props, &self.district_rings(k))
            })
            .collect();
        collection(&features)
    }
}

fn s_radius_class(s: usize) -> usize {
    if s < 6 {
        0
    } else if s < 19 {
        1
    } else {
        2
    }
}

fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// Whether a cell set traces to exactly one ring with no vertex visited twice.
fn clean(inside: &dyn Fn(usize, usize) -> bool) -> bool {
    let edges = boundary_edges(inside);
    let mut out_degree: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (a, _) in &edges {
        *out_degree.entry(*a).or_default() += 1;
    }
    if out_degree.values().any(|&d| d != 1) {
        return false;
    }
    trace(inside).len() == 1
}

/// Directed boundary edges with the interior on the left (counter-clockwise outer rings).
fn boundary_edges(inside: &dyn Fn(usize, usize) -> bool) -> Vec<((usize, usize), (usize, usize))> {
    let at = |i: isize, j: isize| {
        i >= 0 && j >= 0 && (i as usize) < NX && (j as usize) < NY && inside(i as usize, j as usize)
    };
    let mut edges = Vec::new();
    for j in 0..NY {
        for i in 0..NX {
            if !inside(i, j) {
                continue;
            }
            let (ii, jj) = (i as isize, j as isize);
            if !at(ii, jj - 1) {
                edges.push(((i, j), (i + 1, j)));
            }
            if !at(ii + 1, jj) {
                edges.push(((i + 1, j), (i + 1, j + 1)));
            }
            if !at(ii, jj + 1) {
                edges.push(((i + 1, j + 1), (i, j + 1)));
            }
            if !at(ii - 1, jj) {
                edges.push(((i, j + 1), (i, j)));
            }
        }
    }
    edges
}

/// Links boundary edges into closed rings of grid vertices (first vertex repeated at the end).
/// Each ring starts at its lowest-then-leftmost vertex.
fn trace(inside: &dyn Fn(usize, usize) -> bool) -> Vec<Vec<(usize, usize)>> {
    let mut next: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
    for (a, b) in boundary_edges(inside) {
        next.entry((a.1, a.0)).or_default().push((b.1, b.0));
    }
    let mut rings = Vec::new();
    while let Some((&start, _)) = next.iter().next() {
        let mut ring = vec![(start.1, start.0)];
        let mut cur = start;
        loop {
            let outs = next
                .get_mut(&cur)
                .expect("boundary edges form closed rings");
            let nxt = outs.remove(0);
            if outs.is_empty() {
                next.remove(&cur);
            }
            ring.push((nxt.1, nxt.0));
            cur = nxt;
            if cur == start {
                break;
            }
        }
        rings.push(ring);
    }
    rings
}

fn feature(props: &str, rings: &[Vec<(i64, i64)>]) -> String {
    let mut s = format!(
        "{{\"type\":\"Feature\",\"properties\":{{{props}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":["
    );
    for (k, ring) in rings.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push('[');
        for (n, &(x, y)) in ring.iter().enumerate() {
            if n > 0 {
                s.push(',');
            }
            let _ = write!(s, "[{},{}]", micro(x), micro(y));
        }
        s.push(']');
    }
    s.push_str("]}}");
    s
}

fn collection(features: &[String]) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (k, f) in features.iter().enumerate() {
        s.push_str(f);
        s.push_str(if k + 1 < features.len() { ",\n" } else { "\n" });
    }
    s.push_str("]}\n");
    s
}

/// Micro-degrees as a decimal string with 6 decimals.
fn micro(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn csv_text(s: &str) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Twice the signed area of a closed ring (shoelace), exact in micro-degree units.
#[cfg(test)]
pub fn ring_area2(ring: &[(i64, i64)]) -> i128 {
    ring.windows(2)
        .map(|w| w[0].0 as i128 * w[1].1 as i128 - w[1].0 as i128 * w[0].1 as i128)
        .sum()
}

/// Whether a point lies inside a closed ring (even-odd rule).
#[cfg(test)]
pub fn inside(ring: &[(i64, i64)], (x, y): (i64, i64)) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if (y0 > y) != (y1 > y) {
            let cross = x0 as f64 + (y - y0) as f64 * (x1 - x0) as f64 / (y1 - y0) as f64;
            if (x as f64) < cross {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn edges(rings: &[Vec<(i64, i64)>]) -> Vec<((i64, i64), (i64, i64))> {
        rings
            .iter()
            .flat_map(|r| r.windows(2).map(|w| (w[0], w[1])))
            .collect()
    }

    #[test]
    fn zones_tile_the_city() {
        let t = Territory::build();
        assert_eq!(t.zones.len(), 40);
        let city = t.city_rings();
        assert_eq!(city.len(), 1);
        let city_area = ring_area2(&city[0]);
        assert!(city_area > 0, "outer rings are counter-clockwise");
        let mut zone_sum = 0i128;
        let mut zone_edges = BTreeSet::new();
        for z in 0..40 {
            let rings = t.zone_rings(z);
            assert_eq!(rings.len(), 1, "zone {z} is one simple polygon");
            let a = ring_area2(&rings[0]);
            assert!(a > 0);
            zone_sum += a;
            for e in edges(&rings) {
                assert!(
                    zone_edges.insert(e),
                    "edge used twice in the same direction"
                );
            }
        }
        assert_eq!(zone_sum, city_area, "zone areas sum to the city area");
        // Every zone edge is either shared (reversed, identical vertices) or on the city outline.
        let outline: BTreeSet<_> = edges(&city).into_iter().collect();
        for &(a, b) in &zone_edges {
            assert!(
                zone_edges.contains(&(b, a)) ^ outline.contains(&(a, b)),
                "{a:?}-{b:?}"
            );
        }
        // Districts: exact union outlines of their zones.
        let mut district_sum = 0i128;
        for d in 0..4 {
            let rings = t.district_rings(d);
            assert_eq!(rings.len(), 1, "district {d} is one simple polygon");
            let a = ring_area2(&rings[0]);
            let zones: Vec<usize> = (0..40).filter(|&z| t.zones[z].district == d).collect();
            let zsum: i128 = zones.iter().map(|&z| ring_area2(&t.zone_rings(z)[0])).sum();
            assert_eq!(a, zsum);
            district_sum += a;
            let inner: BTreeSet<_> = zones
                .iter()
                .flat_map(|&z| edges(&t.zone_rings(z)))
                .collect();
            let expected: BTreeSet<_> = inner
                .iter()
                .copied()
                .filter(|&(a, b)| !inner.contains(&(b, a)))
                .collect();
            let got: BTreeSet<_> = edges(&rings).into_iter().collect();
            assert_eq!(got, expected);
        }
        assert_eq!(district_sum, city_area);
        assert_eq!(
            (0..4)
                .map(|d| t.zones.iter().filter(|z| z.district == d).count())
                .collect::<Vec<_>>(),
            vec![6, 12, 11, 11]
        );
        // Around Modena.
        let (x, y) = city[0][0];
        assert!((10_800_000..11_000_000).contains(&x) && (44_550_000..44_750_000).contains(&y));
    }

    #[test]
    fn zone_files_are_well_formed() {
        let t = Territory::build();
        let csv = t.zones_csv();
        assert_eq!(csv.lines().count(), 41);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "zone_code,zone_name,district_code,district_name,municipality_code,municipality_name,\
                 province_code,province_name,region_code,region_name"
            )
        );
        let first = lines.next().unwrap_or_default();
        assert!(first.starts_with("Z01,"), "{first}");
        assert!(
            first.ends_with(",036023,Modena,036,Modena,08,Emilia-Romagna"),
            "{first}"
        );
        let v: serde_json::Value = serde_json::from_str(&t.zones_geojson()).unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 40);
        let v: serde_json::Value = serde_json::from_str(&t.districts_geojson()).unwrap();
        assert_eq!(v["features"][0]["properties"]["code"], "Q1");
        let w: f64 = t.zones.iter().map(|z| z.weight).sum();
        assert!((w - 1.0).abs() < 1e-9);
    }

    #[test]
    fn points_drawn_in_a_zone_lie_inside_its_boundary() {
        let t = Territory::build();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for z in 0..t.zones.len() {
            let ring = &t.zone_rings(z)[0];
            for _ in 0..50 {
                let p = t.point_in_zone(z, &mut rng);
                assert!(inside(ring, p), "zone {z}: {p:?}");
            }
        }
    }

    #[test]
    fn every_street_has_one_zone_and_one_postcode() {
        let t = Territory::build();
        let mut zone_of = vec![None; STREETS.len()];
        for (z, zone) in t.zones.iter().enumerate() {
            for &(s, _) in &zone.streets {
                assert!(
                    zone_of[s as usize].replace(z).is_none(),
                    "{}",
                    STREETS[s as usize]
                );
            }
        }
        assert!(
            zone_of.iter().all(Option::is_some),
            "a street lies in no zone"
        );
        let mut used = BTreeSet::new();
        for (z, zone) in t.zones.iter().enumerate() {
            let cap = t.postcode(z);
            assert_eq!(cap == "41121", zone.district == 0, "{}", zone.code);
            used.insert(cap);
        }
        assert_eq!(used.len(), 6, "{used:?}");
        let csv = t.streets_csv();
        assert_eq!(csv.lines().count(), STREETS.len() + 1);
        assert!(csv.contains("\nVIA ROMA,,,,Z"));
    }
}
