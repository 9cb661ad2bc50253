//! Birth places and citizenships: Italian municipalities with their Belfiore (cadastral) codes
//! and foreign countries with the `Z` codes the tax office uses for people born abroad.

/// Where an Italian municipality sits relative to the synthetic city.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Area {
    City,
    Province,
    Region,
    North,
    Centre,
    South,
}

/// An Italian municipality.
pub struct Municipality {
    pub belfiore: &'static str,
    pub name: &'static str,
    pub area: Area,
}

/// The city itself is always index 0.
pub const CITY: usize = 0;

pub static MUNICIPALITIES: &[Municipality] = &[
    m("F257", "MODENA", Area::City),
    m("B819", "CARPI", Area::Province),
    m("I462", "SASSUOLO", Area::Province),
    m("D711", "FORMIGINE", Area::Province),
    m("C107", "CASTELFRANCO EMILIA", Area::Province),
    m("L885", "VIGNOLA", Area::Province),
    m("F240", "MIRANDOLA", Area::Province),
    m("G393", "PAVULLO NEL FRIGNANO", Area::Province),
    m("E904", "MARANELLO", Area::Province),
    m("A944", "BOLOGNA", Area::Region),
    m("H223", "REGGIO NELL'EMILIA", Area::Region),
    m("G337", "PARMA", Area::Region),
    m("D548", "FERRARA", Area::Region),
    m("H199", "RAVENNA", Area::Region),
    m("H294", "RIMINI", Area::Region),
    m("G535", "PIACENZA", Area::Region),
    m("D704", "FORLÌ", Area::Region),
    m("F205", "MILANO", Area::North),
    m("L219", "TORINO", Area::North),
    m("L781", "VERONA", Area::North),
    m("E897", "MANTOVA", Area::North),
    m("D969", "GENOVA", Area::North),
    m("L736", "VENEZIA", Area::North),
    m("G224", "PADOVA", Area::North),
    m("A794", "BERGAMO", Area::North),
    m("B157", "BRESCIA", Area::North),
    m("D150", "CREMONA", Area::North),
    m("H620", "ROVIGO", Area::North),
    m("H501", "ROMA", Area::Centre),
    m("D612", "FIRENZE", Area::Centre),
    m("G482", "PESCARA", Area::Centre),
    m("F839", "NAPOLI", Area::South),
    m("G273", "PALERMO", Area::South),
    m("A662", "BARI", Area::South),
    m("D643", "FOGGIA", Area::South),
    m("H224", "REGGIO DI CALABRIA", Area::South),
    m("C351", "CATANIA", Area::South),
    m("H703", "SALERNO", Area::South),
    m("B963", "CASERTA", Area::South),
    m("D086", "COSENZA", Area::South),
    m("D122", "CROTONE", Area::South),
    m("A089", "AGRIGENTO", Area::South),
    m("E506", "LECCE", Area::South),
    m("L049", "TARANTO", Area::South),
    m("G942", "POTENZA", Area::South),
    m("F158", "MESSINA", Area::South),
    m("A509", "AVELLINO", Area::South),
    m("A783", "BENEVENTO", Area::South),
    m("L331", "TRAPANI", Area::South),
    m("I754", "SIRACUSA", Area::South),
    m("B180", "BRINDISI", Area::South),
    m("F052", "MATERA", Area::South),
    m("B519", "CAMPOBASSO", Area::South),
    m("C352", "CATANZARO", Area::South),
    m("B354", "CAGLIARI", Area::South),
    m("I452", "SASSARI", Area::South),
    m("B429", "CALTANISSETTA", Area::South),
];

const fn m(belfiore: &'static str, name: &'static str, area: Area) -> Municipality {
    Municipality {
        belfiore,
        name,
        area,
    }
}

/// A country of citizenship or birth.
pub struct Country {
    /// ISO 3166-1 alpha-3 (the citizenship code written in the register).
    pub iso3: &'static str,
    /// Italian name, uppercase (the birth place written in the register).
    pub name: &'static str,
    /// Cadastral code used in tax codes for people born there (`Z...`).
    pub z: &'static str,
    /// Naming tradition, an index into [`crate::names::TRADITIONS`].
    pub names: usize,
    /// Share of the city's foreign residents holding this citizenship.
    pub share: f64,
    /// Total fertility rate of women of this citizenship.
    pub tfr: f64,
}

/// Italy is index 0.
pub const ITALY: usize = 0;

pub static COUNTRIES: &[Country] = &[
    c("ITA", "ITALIA", "", 0, 0.0, 1.22),
    c("ROU", "ROMANIA", "Z129", 1, 0.15, 1.55),
    c("MAR", "MAROCCO", "Z330", 2, 0.12, 2.3),
    c("ALB", "ALBANIA", "Z100", 3, 0.09, 1.9),
    c("UKR", "UCRAINA", "Z138", 4, 0.08, 1.2),
    c("GHA", "GHANA", "Z318", 5, 0.075, 2.6),
    c("NGA", "NIGERIA", "Z335", 6, 0.06, 2.8),
    c("PAK", "PAKISTAN", "Z236", 8, 0.05, 2.9),
    c("CHN", "CINA", "Z210", 10, 0.05, 1.6),
    c("PHL", "FILIPPINE", "Z216", 11, 0.065, 1.5),
    c("TUN", "TUNISIA", "Z352", 2, 0.05, 2.3),
    c("MDA", "MOLDAVIA", "Z140", 1, 0.06, 1.5),
    c("IND", "INDIA", "Z222", 9, 0.035, 2.1),
    c("SEN", "SENEGAL", "Z343", 7, 0.02, 2.5),
    c("EGY", "EGITTO", "Z336", 2, 0.02, 2.6),
    c("BGD", "BANGLADESH", "Z249", 8, 0.02, 2.4),
    c("LKA", "SRI LANKA", "Z209", 12, 0.02, 1.8),
    c("PER", "PERÙ", "Z611", 13, 0.015, 1.7),
    c("BRA", "BRASILE", "Z602", 13, 0.01, 1.4),
    c("RUS", "RUSSIA", "Z154", 4, 0.01, 1.3),
    // Countries where Italians were born (emigrant families who came back).
    c("DEU", "GERMANIA", "Z112", 0, 0.0, 1.4),
    c("CHE", "SVIZZERA", "Z133", 0, 0.0, 1.4),
    c("FRA", "FRANCIA", "Z110", 0, 0.0, 1.4),
    c("BEL", "BELGIO", "Z103", 0, 0.0, 1.4),
    c("ARG", "ARGENTINA", "Z600", 0, 0.0, 1.4),
    c("VEN", "VENEZUELA", "Z614", 0, 0.0, 1.4),
];

/// First country where Italians were born abroad (Germany).
pub const FIRST_EMIGRANT_COUNTRY: usize = 20;

const fn c(
    iso3: &'static str,
    name: &'static str,
    z: &'static str,
    names: usize,
    share: f64,
    tfr: f64,
) -> Country {
    Country {
        iso3,
        name,
        z,
        names,
        share,
        tfr,
    }
}

/// A birth place: an index into the municipalities, then the countries.
pub fn place_of_country(country: usize) -> u16 {
    (MUNICIPALITIES.len() + country) as u16
}

/// Code (Belfiore or Z) and name of a birth place.
pub fn place(idx: u16) -> (&'static str, &'static str) {
    let i = idx as usize;
    if i < MUNICIPALITIES.len() {
        (MUNICIPALITIES[i].belfiore, MUNICIPALITIES[i].name)
    } else {
        let c = &COUNTRIES[i - MUNICIPALITIES.len()];
        (c.z, c.name)
    }
}

/// Municipalities of an area, as place indices.
pub fn places_in(area: Area) -> Vec<u16> {
    MUNICIPALITIES
        .iter()
        .enumerate()
        .filter(|(_, m)| m.area == area)
        .map(|(i, _)| i as u16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_shares_sum_to_one() {
        for m in MUNICIPALITIES {
            let b = m.belfiore.as_bytes();
            assert!(
                b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
            );
        }
        for c in &COUNTRIES[1..] {
            assert!(c.z.len() == 4 && c.z.starts_with('Z'), "{}", c.iso3);
        }
        let total: f64 = COUNTRIES.iter().map(|c| c.share).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        assert_eq!(COUNTRIES[FIRST_EMIGRANT_COUNTRY].iso3, "DEU");
    }
}
