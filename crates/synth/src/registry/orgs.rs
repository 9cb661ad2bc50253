//! The organizations of the synthetic registry: which kinds of body exist and how many, their
//! invented names, legal forms and tax ids, and the bookkeeping that keeps the registry's
//! duplicate report predictable (every pair it will flag is known when the names are drawn).

use std::collections::{BTreeMap, HashSet};

use ::registry::codes::{OperatorProfile, OrganizationKind};
use ::registry::quality::{NAME_THRESHOLD, normalize_name, normalized_similarity};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The kinds of body the synthetic city has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Body {
    /// The municipality itself.
    Municipality,
    /// Its social-services department (a child of the municipality).
    SocialDept,
    /// The local health authority (AUSL).
    HealthAuthority,
    /// A health district of the authority (one per district town of the province).
    HealthDistrict,
    /// The public company for personal services (ASP) that runs residences and day centres.
    Asp,
    /// An old public charity (IPAB) with a residence.
    Ipab,
    /// A state comprehensive school.
    School,
    /// The provincial centre for adult education (Italian courses for migrants).
    Cpia,
    /// The regional employment agency's job centre.
    JobCentre,
    /// The diocesan Caritas.
    Caritas,
    /// The regional network of food banks (seated in Bologna).
    FoodBankNetwork,
    /// A consortium of social cooperatives.
    Consortium,
    /// A social cooperative of type A (care, education, health services).
    CoopA,
    /// A social cooperative of type B (work integration).
    CoopB,
    /// An association for social promotion (APS).
    Aps,
    /// A voluntary organization (ODV).
    Odv,
    /// A foundation.
    Foundation,
    /// A parish.
    Parish,
    /// A local food bank or solidarity shop (an ODV).
    FoodBank,
    /// A for-profit care group seated outside the city, parent of some care homes.
    CareGroup,
    /// A private care-home company.
    CareHome,
    /// A private nursery company.
    Nursery,
    /// A private home-care company.
    HomeCare,
}

/// How a body's tax id looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxStyle {
    /// A partita IVA (companies and cooperatives).
    Vat,
    /// A numeric codice fiscale of a non-commercial body, first digit given (8 public, 9 other).
    Numeric(u8),
    /// None of its own (a unit of a larger body).
    None,
}

/// What the generator knows about a kind of body.
pub struct BodySpec {
    pub body: Body,
    pub kind: OrganizationKind,
    pub legal_form: &'static str,
    /// How many at scale 1.
    pub count: f64,
    /// Whether the count grows with the scale (a city twice as large has twice as many
    /// associations, but one municipality).
    pub scales: bool,
    /// At least this many at any scale.
    pub min: usize,
    pub tax: TaxStyle,
    /// Years of incorporation drawn from (none for bodies whose founding date is not recorded).
    pub founded: Option<(i64, i64)>,
    /// Its own staff: profile, head count range, and whether the count grows with the city.
    pub staff: &'static [(OperatorProfile, u32, u32)],
    pub staff_scales: bool,
}

use Body::*;
use OperatorProfile as P;
use OrganizationKind as K;

/// A row of [`BODIES`] (one argument per column of the table).
#[allow(clippy::too_many_arguments)]
const fn spec(
    body: Body,
    kind: OrganizationKind,
    legal_form: &'static str,
    count: f64,
    scales: bool,
    tax: TaxStyle,
    founded: Option<(i64, i64)>,
    staff: &'static [(OperatorProfile, u32, u32)],
) -> BodySpec {
    BodySpec {
        body,
        kind,
        legal_form,
        count,
        scales,
        min: if scales { 1 } else { count as usize },
        tax,
        founded,
        staff,
        staff_scales: !scales,
    }
}

/// Every kind of body, parents before children.
pub static BODIES: &[BodySpec] = &[
    spec(
        Municipality,
        K::PublicBody,
        "ente locale (comune)",
        1.0,
        false,
        TaxStyle::Numeric(0),
        None,
        &[(P::Administrative, 40, 60)],
    ),
    spec(
        SocialDept,
        K::PublicBody,
        "settore del comune (senza personalità giuridica)",
        1.0,
        false,
        TaxStyle::None,
        None,
        &[
            (P::SocialWorker, 34, 42),
            (P::Educator, 10, 16),
            (P::Administrative, 18, 26),
            (P::Psychologist, 2, 4),
        ],
    ),
    spec(
        HealthAuthority,
        K::PublicBody,
        "azienda sanitaria locale",
        1.0,
        false,
        TaxStyle::Numeric(0),
        None,
        &[
            (P::Nurse, 60, 90),
            (P::Psychologist, 12, 20),
            (P::SocialWorker, 6, 10),
        ],
    ),
    spec(
        HealthDistrict,
        K::PublicBody,
        "distretto sanitario (articolazione dell'azienda sanitaria)",
        7.0,
        false,
        TaxStyle::None,
        None,
        &[(P::Nurse, 8, 20), (P::Administrative, 3, 6)],
    ),
    spec(
        Asp,
        K::PublicBody,
        "azienda pubblica di servizi alla persona (ASP)",
        1.0,
        false,
        TaxStyle::Numeric(9),
        Some((2008, 2010)),
        &[(P::Administrative, 12, 20), (P::SocialWorker, 3, 6)],
    ),
    spec(
        Ipab,
        K::PublicBody,
        "istituzione pubblica di assistenza e beneficenza (IPAB)",
        1.0,
        false,
        TaxStyle::Numeric(8),
        Some((1890, 1935)),
        &[(P::Administrative, 2, 5)],
    ),
    BodySpec {
        min: 2,
        ..spec(
            School,
            K::PublicBody,
            "istituzione scolastica statale",
            8.0,
            true,
            TaxStyle::Numeric(9),
            Some((2000, 2013)),
            &[(P::Educator, 4, 10), (P::Administrative, 6, 10)],
        )
    },
    spec(
        Cpia,
        K::PublicBody,
        "istituzione scolastica statale (CPIA)",
        1.0,
        false,
        TaxStyle::Numeric(9),
        Some((2014, 2015)),
        &[(P::Educator, 20, 30), (P::Administrative, 4, 6)],
    ),
    spec(
        JobCentre,
        K::PublicBody,
        "agenzia regionale (centro per l'impiego)",
        1.0,
        false,
        TaxStyle::Numeric(9),
        Some((2016, 2016)),
        &[(P::Administrative, 18, 26), (P::Other, 4, 8)],
    ),
    spec(
        Caritas,
        K::ThirdSector,
        "ente ecclesiastico civilmente riconosciuto",
        1.0,
        false,
        TaxStyle::Numeric(9),
        Some((1972, 1980)),
        &[
            (P::Volunteer, 150, 260),
            (P::SocialWorker, 2, 4),
            (P::Administrative, 2, 4),
        ],
    ),
    spec(
        FoodBankNetwork,
        K::ThirdSector,
        "organizzazione di volontariato (ODV)",
        1.0,
        false,
        TaxStyle::Numeric(9),
        Some((1990, 1998)),
        &[(P::Volunteer, 80, 140), (P::Administrative, 2, 4)],
    ),
    spec(
        Consortium,
        K::ThirdSector,
        "consorzio di cooperative sociali",
        1.0,
        false,
        TaxStyle::Vat,
        Some((1985, 1995)),
        &[(P::Administrative, 8, 14)],
    ),
    spec(
        CoopA,
        K::ThirdSector,
        "cooperativa sociale di tipo A",
        35.0,
        true,
        TaxStyle::Vat,
        Some((1975, 2020)),
        &[
            (P::OssCareWorker, 10, 160),
            (P::Educator, 5, 80),
            (P::SocialWorker, 0, 6),
            (P::Administrative, 2, 12),
        ],
    ),
    spec(
        CoopB,
        K::ThirdSector,
        "cooperativa sociale di tipo B",
        15.0,
        true,
        TaxStyle::Vat,
        Some((1985, 2021)),
        &[
            (P::Other, 12, 90),
            (P::Educator, 1, 5),
            (P::Administrative, 1, 6),
        ],
    ),
    spec(
        Aps,
        K::ThirdSector,
        "associazione di promozione sociale (APS)",
        70.0,
        true,
        TaxStyle::Numeric(9),
        Some((1970, 2023)),
        &[(P::Volunteer, 5, 60), (P::Other, 0, 3)],
    ),
    spec(
        Odv,
        K::ThirdSector,
        "organizzazione di volontariato (ODV)",
        55.0,
        true,
        TaxStyle::Numeric(9),
        Some((1975, 2023)),
        &[(P::Volunteer, 8, 90)],
    ),
    spec(
        Foundation,
        K::ThirdSector,
        "fondazione (ente del terzo settore)",
        10.0,
        true,
        TaxStyle::Numeric(9),
        Some((1950, 2019)),
        &[(P::Administrative, 2, 12), (P::Psychologist, 0, 4)],
    ),
    spec(
        Parish,
        K::ThirdSector,
        "ente ecclesiastico civilmente riconosciuto (parrocchia)",
        25.0,
        true,
        TaxStyle::Numeric(9),
        None,
        &[(P::Volunteer, 10, 70)],
    ),
    spec(
        FoodBank,
        K::ThirdSector,
        "organizzazione di volontariato (ODV)",
        6.0,
        true,
        TaxStyle::Numeric(9),
        Some((2005, 2022)),
        &[(P::Volunteer, 15, 80)],
    ),
    spec(
        CareGroup,
        K::ForProfit,
        "società per azioni",
        2.0,
        true,
        TaxStyle::Vat,
        Some((1995, 2012)),
        &[(P::Administrative, 20, 60)],
    ),
    spec(
        CareHome,
        K::ForProfit,
        "società a responsabilità limitata",
        12.0,
        true,
        TaxStyle::Vat,
        Some((1990, 2021)),
        &[
            (P::OssCareWorker, 15, 60),
            (P::Nurse, 3, 12),
            (P::Administrative, 1, 4),
        ],
    ),
    spec(
        Nursery,
        K::ForProfit,
        "società a responsabilità limitata",
        12.0,
        true,
        TaxStyle::Vat,
        Some((2000, 2022)),
        &[(P::Educator, 3, 14), (P::Other, 1, 3)],
    ),
    spec(
        HomeCare,
        K::ForProfit,
        "società a responsabilità limitata semplificata",
        8.0,
        true,
        TaxStyle::Vat,
        Some((2008, 2023)),
        &[(P::OssCareWorker, 6, 40), (P::Administrative, 1, 3)],
    ),
];

/// The towns of the health authority's districts (the city's own first).
pub const HEALTH_DISTRICT_TOWNS: [&str; 7] = [
    "Modena",
    "Carpi",
    "Mirandola",
    "Sassuolo",
    "Pavullo nel Frignano",
    "Vignola",
    "Castelfranco Emilia",
];

/// Towns outside the city where some bodies have their registered office, with the tax
/// office code of their province.
pub const OTHER_TOWNS: [(&str, &str); 4] = [
    ("Bologna", "037"),
    ("Milano", "015"),
    ("Reggio nell'Emilia", "035"),
    ("Carpi", "036"),
];

/// The tax office code of the city's province.
pub const CITY_TAX_OFFICE: &str = "036";

/// Distinctive words of invented names (nouns with their article).
static NOUNS: &[&str] = &[
    "Il Glicine",
    "La Rondine",
    "L'Aquilone",
    "Il Ponte",
    "L'Arcobaleno",
    "Il Girasole",
    "La Bussola",
    "Il Mosaico",
    "La Lanterna",
    "Il Faro",
    "La Quercia",
    "Il Melograno",
    "La Sorgente",
    "Il Germoglio",
    "La Tartaruga",
    "Il Gabbiano",
    "La Cicogna",
    "Il Tiglio",
    "La Betulla",
    "Il Mandorlo",
    "La Ginestra",
    "Il Papavero",
    "La Margherita",
    "L'Edera",
    "Il Sentiero",
    "La Zattera",
    "Il Timone",
    "La Vela",
    "L'Approdo",
    "La Barca",
    "Il Cortile",
    "Il Focolare",
    "La Tenda",
    "Il Seme",
    "La Spiga",
    "Il Grano",
    "La Vigna",
    "L'Ulivo",
    "Il Castagno",
    "La Fontana",
    "Il Mulino",
    "La Ruota",
    "Il Telaio",
    "La Trottola",
    "Il Pettirosso",
    "La Libellula",
    "Il Delfino",
    "La Balena",
    "Il Riccio",
    "La Lucciola",
    "L'Ape",
    "La Formica",
    "Il Grillo",
    "La Cometa",
    "La Stella",
    "La Luna",
    "L'Alba",
    "Il Tramonto",
    "Il Ruscello",
    "La Collina",
    "Il Bosco",
    "La Radice",
    "Il Nido",
    "Il Villaggio",
    "La Corte",
    "Il Crocevia",
    "La Staffetta",
    "Il Cammino",
    "La Strada",
    "Il Viaggio",
    "La Rotta",
    "L'Incontro",
    "Il Dialogo",
    "La Rete",
    "Il Filo",
    "L'Abbraccio",
    "Il Sorriso",
    "La Voce",
    "L'Eco",
    "Il Canto",
    "La Melodia",
    "La Tavolozza",
    "Il Quaderno",
    "La Matita",
    "Il Pennello",
    "La Chiave",
    "La Finestra",
    "Il Giardino",
    "L'Orto",
    "La Serra",
    "Il Fiume",
    "La Sponda",
    "L'Isola",
    "Il Molo",
    "La Bottega",
    "L'Officina",
    "Il Laboratorio",
    "Il Gelso",
    "La Magnolia",
    "Il Ciliegio",
    "La Camelia",
    "L'Oleandro",
    "Il Salice",
    "La Mimosa",
    "Il Pioppo",
    "La Lavanda",
    "Il Rosmarino",
    "La Civetta",
    "Il Falco",
    "La Gru",
    "Il Passero",
    "La Colomba",
    "Il Cigno",
    "La Farfalla",
    "Il Girotondo",
    "La Carovana",
    "Il Veliero",
    "La Mongolfiera",
    "Il Sestante",
    "La Meridiana",
    "Il Calendario",
    "La Clessidra",
    "Il Mappamondo",
    "L'Airone",
    "L'Allodola",
    "Il Castoro",
    "La Volpe",
    "Il Tasso",
    "La Lepre",
    "Lo Scoiattolo",
    "Il Pellicano",
    "La Rana",
    "Il Cavalluccio",
    "La Medusa",
    "Il Gufo",
    "La Cinciallegra",
    "Il Merlo",
    "La Quaglia",
    "Il Fagiano",
    "La Lontra",
    "Il Ghiro",
    "La Marmotta",
    "Il Corbezzolo",
    "La Genziana",
    "Il Ciclamino",
    "La Primula",
    "Il Biancospino",
    "La Peonia",
    "Il Gelsomino",
    "La Verbena",
    "Il Mirto",
    "La Salvia",
    "Il Timo",
    "La Malva",
    "Il Trifoglio",
    "La Felce",
    "Il Muschio",
    "La Pigna",
    "Il Frassino",
    "La Robinia",
    "Il Larice",
    "L'Abete",
    "Il Cipresso",
    "La Palma",
    "Il Carrubo",
    "L'Acero",
    "Il Noce",
    "La Nocciola",
    "Il Melo",
    "La Pesca",
    "Il Fico",
    "La Mora",
    "Il Lampione",
    "La Scala",
    "Il Balcone",
    "La Soffitta",
    "Il Portico",
    "La Loggia",
    "Il Chiostro",
    "La Torre",
    "Il Campanile",
    "La Cupola",
    "L'Arco",
    "Il Sagrato",
    "La Cascina",
    "Il Fienile",
    "La Pergola",
    "Il Pozzo",
    "La Cisterna",
    "Il Tamburo",
    "La Chitarra",
    "Il Violino",
    "La Fisarmonica",
    "Il Flauto",
    "L'Arpa",
    "Il Mandolino",
    "La Zampogna",
    "Il Cerchio",
    "La Spirale",
    "Il Prisma",
    "La Bilancia",
    "Il Compasso",
    "Il Timoniere",
    "La Sentinella",
    "Il Viandante",
    "La Pellegrina",
];

/// Invariable adjectives that make two-word names ("Il Ponte Solidale").
static ADJECTIVES: &[&str] = &[
    "Solidale", "Comune", "Gentile", "Felice", "Verde", "Blu", "Grande", "Forte", "Dolce",
    "Celeste", "Viola", "Sociale", "Ribelle", "Semplice", "Speciale", "Fragile", "Veloce",
    "Sereno", "Sottile", "Lucente",
];

/// Names made of a phrase, without an article.
static CONCEPTS: &[&str] = &[
    "Insieme",
    "Oltre",
    "Nuovi Orizzonti",
    "Altri Mondi",
    "Passo dopo Passo",
    "Mille Colori",
    "Terra e Cielo",
    "Porte Aperte",
    "Mani Unite",
    "Strade Nuove",
    "Ponti di Pace",
    "Crescere Insieme",
    "Vivere Meglio",
    "Sempre Avanti",
    "Fili d'Erba",
    "Semi di Speranza",
    "Voci Amiche",
    "Cuori Aperti",
    "Tempo Libero",
    "Buon Vicinato",
    "Sguardi Nuovi",
    "Terra Amica",
    "Casa Aperta",
    "Tavola Comune",
    "Pane e Rose",
    "Ali Spiegate",
    "Radici e Ali",
    "Piccoli Passi",
    "Orizzonte Comune",
    "Vento in Poppa",
    "Agape",
    "Koinè",
    "Humanitas",
    "Aurora",
    "Kairos",
    "Elios",
    "Zefiro",
    "Iride",
    "Arcadia",
    "Ubuntu",
    "Shalom",
    "Sinergie",
    "Prossimità",
    "Accoglienza Attiva",
    "Mondo Piccolo",
    "Terzo Tempo",
    "Filo d'Argento",
    "Arte e Mestieri",
    "Officine Solidali",
    "Mestieri in Rete",
    "Nuove Radici",
    "Domani Insieme",
    "Oltre il Muro",
    "Senza Confini",
    "Giro di Boa",
    "Punto e a Capo",
    "Passaparola",
    "Girandola",
    "Dopodomani",
    "Quadrifoglio",
];

/// Saints of the parishes.
static SAINTS: &[&str] = &[
    "San Giovanni Battista",
    "Santa Maria Assunta",
    "San Giuseppe",
    "San Pietro",
    "Sant'Antonio",
    "San Francesco",
    "Santa Teresa",
    "San Lorenzo",
    "San Biagio",
    "Santa Rita",
    "San Michele Arcangelo",
    "San Luca",
    "San Marco",
    "Santa Caterina",
    "San Bartolomeo",
    "Sant'Agnese",
    "San Domenico",
    "Santa Chiara",
    "San Giacomo",
    "San Martino",
    "Santo Stefano",
    "San Vincenzo",
    "Santa Lucia",
    "San Benedetto",
    "Santa Cecilia",
    "San Sebastiano",
    "San Rocco",
    "Sant'Andrea",
    "San Carlo",
    "Santa Croce",
    "San Nicolò",
    "San Filippo",
    "San Tommaso",
    "Santa Monica",
    "San Raffaele",
    "Sant'Ambrogio",
    "San Gregorio",
    "San Cristoforo",
];

/// A distinctive part of a name: a noun, a noun with an adjective, two nouns, a phrase, or a
/// noun with a place (the zone, when it names one).
fn core<R: Rng>(rng: &mut R, zones: &[&str]) -> (String, Option<usize>) {
    let noun = NOUNS[rng.random_range(0..NOUNS.len())];
    match rng.random_range(0..20) {
        0..=4 => (noun.to_string(), None),
        5..=10 => (
            format!(
                "{noun} {}",
                ADJECTIVES[rng.random_range(0..ADJECTIVES.len())]
            ),
            None,
        ),
        11..=14 => {
            // "Il Seme e la Spiga": the second noun's article in lower case.
            let other = NOUNS[rng.random_range(0..NOUNS.len())];
            let mut chars = other.chars();
            let lower: String = chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default();
            (format!("{noun} e {lower}"), None)
        }
        15..=17 => (
            CONCEPTS[rng.random_range(0..CONCEPTS.len())].to_string(),
            None,
        ),
        _ => {
            let z = rng.random_range(0..zones.len());
            (format!("{noun} di {}", zones[z]), Some(z))
        }
    }
}

/// The name of a building or a residential community ("Il Mandorlo").
pub fn facility_name<R: Rng>(rng: &mut R) -> &'static str {
    NOUNS[rng.random_range(0..NOUNS.len())]
}

/// A name drawn for a body, and its short name.
pub struct Drawn {
    pub name: String,
    pub alternate: Option<String>,
    /// The distinctive part (for e-mail addresses and websites).
    pub core: String,
    /// The zone the name refers to, if any (where the body is then seated).
    pub zone: Option<usize>,
}

impl Body {
    /// What such a body does, as its registry description says.
    pub fn about(self) -> &'static str {
        match self {
            Municipality => {
                "Il Comune: titolare delle funzioni socio-assistenziali, committente dei servizi"
            }
            SocialDept => {
                "Servizio sociale territoriale: accesso, presa in carico, contributi, rapporti con i gestori"
            }
            HealthAuthority => {
                "Azienda sanitaria locale: servizi sanitari e socio-sanitari del territorio provinciale"
            }
            HealthDistrict => {
                "Distretto dell'azienda sanitaria: consultori, salute mentale, integrazione socio-sanitaria"
            }
            Asp => {
                "Azienda pubblica di servizi alla persona: gestisce case residenza e centri diurni"
            }
            Ipab => {
                "Istituzione pubblica di assistenza e beneficenza con una casa residenza per anziani"
            }
            School => "Scuola statale dell'infanzia, primaria e secondaria di primo grado",
            Cpia => "Istruzione degli adulti: corsi di italiano per stranieri e licenza media",
            JobCentre => {
                "Servizi pubblici per il lavoro: stato di disoccupazione, orientamento, incontro domanda-offerta"
            }
            Caritas => "Organismo pastorale della diocesi: centri d'ascolto, mense, accoglienza",
            FoodBankNetwork => {
                "Recupero di eccedenze alimentari e distribuzione alle strutture caritative"
            }
            Consortium => {
                "Consorzio di cooperative sociali: progettazione e gestione di servizi per conto delle associate"
            }
            CoopA => "Cooperativa sociale che gestisce servizi socio-sanitari ed educativi",
            CoopB => "Cooperativa sociale per l'inserimento lavorativo di persone svantaggiate",
            Aps => {
                "Associazione di promozione sociale: attività culturali, ricreative e di sostegno per i soci e la comunità"
            }
            Odv => "Organizzazione di volontariato: attività di aiuto svolte da volontari",
            Foundation => "Fondazione: sostiene progetti di welfare e gestisce servizi",
            Parish => "Parrocchia: attività pastorali, doposcuola e aiuti alle famiglie",
            FoodBank => {
                "Emporio o dispensa solidale: distribuzione di alimenti a famiglie in difficoltà"
            }
            CareGroup => "Gruppo privato di residenze per anziani",
            CareHome => "Società privata che gestisce residenze e centri diurni per anziani",
            Nursery => "Società privata che gestisce nidi d'infanzia",
            HomeCare => "Società privata di assistenza domiciliare",
        }
    }
}

/// Draws a name for one body of a kind. `nth` counts the bodies of that kind drawn so far;
/// `zones` are the names of the city's zones.
pub fn draw_name<R: Rng>(body: Body, nth: usize, zones: &[&str], city: &str, rng: &mut R) -> Drawn {
    let pick = |rng: &mut R, forms: &[&str]| forms[rng.random_range(0..forms.len())].to_string();
    let fill = |form: String, core: &str| form.replace("{}", core);
    let fixed = |name: String, alternate: Option<&str>, core: &str| Drawn {
        name,
        alternate: alternate.map(str::to_string),
        core: core.to_string(),
        zone: None,
    };
    match body {
        Municipality => fixed(format!("Comune di {city}"), None, &format!("comune {city}")),
        SocialDept => fixed(
            format!("Settore Servizi sociali - Comune di {city}"),
            Some("Servizi sociali"),
            &format!("servizi sociali {city}"),
        ),
        HealthAuthority => fixed(
            format!("Azienda USL di {city}"),
            Some("AUSL"),
            &format!("ausl {city}"),
        ),
        HealthDistrict => {
            let town = HEALTH_DISTRICT_TOWNS[nth % HEALTH_DISTRICT_TOWNS.len()];
            fixed(
                format!("Distretto sanitario di {town}"),
                None,
                &format!("ausl {city} distretto {town}"),
            )
        }
        Asp => {
            let c = CONCEPTS[rng.random_range(0..CONCEPTS.len())];
            fixed(
                format!("ASP {c} - Azienda pubblica di servizi alla persona"),
                Some(&format!("ASP {c}")),
                &format!("asp {c}"),
            )
        }
        Ipab => {
            let c = NOUNS[rng.random_range(0..NOUNS.len())];
            fixed(
                format!("Opera Pia {c}"),
                Some("IPAB"),
                &format!("opera pia {c}"),
            )
        }
        School => {
            // Named by the short form: "Istituto comprensivo" before every zone would make all
            // schools look alike to the duplicate report. One school per zone, the zones taken
            // with a stride of 7 (prime, so every zone comes once) to spread them over the city.
            let stride = if zones.len().is_multiple_of(7) { 1 } else { 7 };
            let z = (nth * stride) % zones.len();
            Drawn {
                name: format!("I.C. {}", zones[z]),
                alternate: Some(format!("Istituto comprensivo {}", zones[z])),
                core: format!("ic {}", zones[z]),
                zone: Some(z),
            }
        }
        Cpia => fixed(
            format!("CPIA di {city} - Centro provinciale per l'istruzione degli adulti"),
            Some("CPIA"),
            &format!("cpia {city}"),
        ),
        JobCentre => fixed(
            format!("Centro per l'impiego di {city}"),
            None,
            &format!("centro impiego {city}"),
        ),
        Caritas => fixed(
            format!("Caritas diocesana di {city}"),
            Some("Caritas"),
            &format!("caritas {city}"),
        ),
        FoodBankNetwork => fixed(
            "Rete dei banchi alimentari dell'Emilia ODV".into(),
            None,
            "rete banchi alimentari emilia",
        ),
        Consortium => {
            let c = CONCEPTS[rng.random_range(0..CONCEPTS.len())];
            fixed(format!("Consorzio di cooperative sociali {c}"), None, c)
        }
        Parish => {
            // The saint first: "Parrocchia di" before every saint would make all parishes look
            // alike to the duplicate report; the usual form is the alternate name.
            let saint = SAINTS[rng.random_range(0..SAINTS.len())];
            let (title, zone) = if rng.random_bool(0.4) {
                (saint.to_string(), None)
            } else {
                let z = rng.random_range(0..zones.len());
                (format!("{saint} in {}", zones[z]), Some(z))
            };
            Drawn {
                name: format!("{title} - Parrocchia"),
                alternate: Some(format!("Parrocchia di {title}")),
                core: format!("parrocchia {title}"),
                zone,
            }
        }
        _ => {
            let (c, zone) = core(rng, zones);
            let forms: &[&str] = match body {
                CoopA | CoopB => &[
                    "{} Cooperativa Sociale",
                    "Cooperativa Sociale {}",
                    "{} Società Cooperativa Sociale Onlus",
                    "{} Soc. Coop. Sociale",
                    "{} Cooperativa Sociale a r.l.",
                ],
                Aps => &[
                    "{} APS",
                    "Associazione {} APS",
                    "Circolo {} APS",
                    "{} - Associazione di promozione sociale",
                ],
                Odv => &["{} ODV", "Volontari {} ODV", "Associazione {} ODV"],
                Foundation => &["Fondazione {} ETS", "Fondazione {} Onlus"],
                FoodBank => &["Emporio solidale {} ODV", "Dispensa solidale {} ODV"],
                CareGroup => &["Gruppo {} S.p.A."],
                CareHome => &[
                    "Residenza {} S.r.l.",
                    "Casa di riposo {} S.r.l.",
                    "{} Senior S.r.l.",
                ],
                Nursery => &["Nido {} S.r.l.", "{} Kids S.r.l.", "Asilo nido {} S.r.l.s."],
                _ => &[
                    "{} Assistenza S.r.l.",
                    "Servizi alla persona {} S.r.l.",
                    "{} Care S.r.l.s.",
                ],
            };
            let name = fill(pick(rng, forms), &c);
            let alternate = (matches!(body, CoopA | CoopB) && rng.random_bool(0.3))
                .then(|| format!("Coop. {c}"));
            Drawn {
                name,
                alternate,
                core: c,
                zone,
            }
        }
    }
}

/// The check digit of a partita IVA or numeric codice fiscale (the Luhn variant the tax
/// office uses): digits in odd positions as they are, digits in even positions doubled (minus 9
/// above 9), and the digit that brings the sum to a multiple of ten.
pub fn check_digit(digits: &[u8; 10]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                d
            } else if d * 2 > 9 {
                d * 2 - 9
            } else {
                d * 2
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// An 11-digit tax id: `lead` (a digit) or a company's serial, six more digits, the tax
/// office code, the check digit.
pub fn tax_id<R: Rng>(rng: &mut R, style: TaxStyle, office: &str) -> Option<String> {
    let lead = match style {
        TaxStyle::None => return None,
        TaxStyle::Vat => rng.random_range(0..4u8),
        TaxStyle::Numeric(d) => d,
    };
    let mut digits = [0u8; 10];
    digits[0] = lead;
    for d in digits.iter_mut().take(7).skip(1) {
        *d = rng.random_range(0..10);
    }
    for (d, c) in digits[7..].iter_mut().zip(office.bytes()) {
        *d = c.wrapping_sub(b'0') % 10;
    }
    let check = check_digit(&digits);
    let mut s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    s.push(char::from(b'0' + check));
    Some(s)
}

/// A normalized name with its byte counts.
struct Normalized {
    index: usize,
    text: String,
    counts: [u8; 128],
}

impl Normalized {
    fn new(index: usize, name: &str) -> Normalized {
        let text = normalize_name(name);
        let mut counts = [0u8; 128];
        for b in text.bytes() {
            let c = &mut counts[usize::from(b & 0x7f)];
            *c = c.saturating_add(1);
        }
        Normalized {
            index,
            text,
            counts,
        }
    }

    /// Whether the registry's similarity of the two names can reach the threshold at all. The
    /// characters Jaro matches are at most the characters the names share (`common`), so Jaro
    /// is at most `(common/|a| + common/|b| + 1) / 3`, and Winkler's bonus adds at most
    /// `0.1 * prefix * (1 - jaro)` for the common prefix (at most 4 characters). Names are ASCII
    /// once normalized, so bytes are characters.
    fn may_reach(&self, other: &Normalized, threshold: f64) -> bool {
        let (a, b) = (self.text.len() as f64, other.text.len() as f64);
        if a == 0.0 || b == 0.0 {
            return false;
        }
        let common: u32 = self
            .counts
            .iter()
            .zip(&other.counts)
            .map(|(x, y)| u32::from(*x.min(y)))
            .sum();
        let common = f64::from(common);
        let jaro = ((common / a + common / b + 1.0) / 3.0).min(1.0);
        let prefix = self
            .text
            .bytes()
            .zip(other.text.bytes())
            .take(4)
            .take_while(|(x, y)| x == y)
            .count() as f64;
        jaro + 0.1 * prefix * (1.0 - jaro) >= threshold - 1e-9
    }
}

/// The normalized names of the organizations so far, by municipality, to tell which pairs the
/// registry's duplicate report will flag.
#[derive(Default)]
pub struct Names {
    by_place: BTreeMap<String, Vec<Normalized>>,
    tax_ids: HashSet<String>,
}

impl Names {
    /// The organizations (by index) in `place` whose names the report would pair with `name`.
    pub fn similar(&self, place: &str, name: &str) -> Vec<usize> {
        let this = Normalized::new(usize::MAX, name);
        self.by_place
            .get(place)
            .map(|v| {
                v.iter()
                    .filter(|other| {
                        this.may_reach(other, NAME_THRESHOLD)
                            && normalized_similarity(&this.text, &other.text) >= NAME_THRESHOLD
                    })
                    .map(|other| other.index)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a tax id is taken.
    pub fn has_tax_id(&self, tax_id: &str) -> bool {
        self.tax_ids.contains(tax_id)
    }

    /// Records organization `index`.
    pub fn add(&mut self, index: usize, place: &str, name: &str, tax_id: Option<&str>) {
        self.by_place
            .entry(place.to_string())
            .or_default()
            .push(Normalized::new(index, name));
        if let Some(t) = tax_id.and_then(::registry::model::normalize_tax_id) {
            self.tax_ids.insert(t);
        }
    }
}

/// A name for e-mail addresses and websites: ASCII letters and digits of the words, joined by
/// dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' => 'a',
            'è' | 'é' => 'e',
            'ì' | 'í' => 'i',
            'ò' | 'ó' => 'o',
            'ù' | 'ú' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    out
}

/// How a duplicate entry differs from the body it repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Twin {
    /// Same municipality and tax id (written with the `IT` prefix), the name in capitals with
    /// its legal form abbreviated.
    LegalForm,
    /// Same tax id, another registered office and a short name.
    OtherOffice,
    /// Same municipality, no tax id, a typo in the name.
    Typo,
}

impl Twin {
    pub const ALL: [Twin; 3] = [Twin::LegalForm, Twin::OtherOffice, Twin::Typo];

    /// What the truth file says about it.
    pub fn note(self) -> &'static str {
        match self {
            Twin::LegalForm => {
                "same body entered twice: name in capitals, legal form abbreviated, tax id with the IT prefix"
            }
            Twin::OtherOffice => {
                "same body entered twice: another registered office and a short name, same tax id"
            }
            Twin::Typo => "same body entered twice: a typo in the name and no tax id",
        }
    }
}

/// The name of a duplicate entry in capitals with abbreviated legal forms.
pub fn abbreviated(name: &str) -> String {
    let mut s = name.to_string();
    for (long, short) in [
        ("Società Cooperativa Sociale Onlus", "Soc. Coop. Soc. Onlus"),
        ("Cooperativa Sociale a r.l.", "Coop. Soc. a r.l."),
        ("Cooperativa Sociale", "Coop. Sociale"),
        ("Soc. Coop. Sociale", "Società Cooperativa Sociale"),
        ("S.r.l.s.", "SRLS"),
        ("S.r.l.", "SRL"),
        ("S.p.A.", "SPA"),
        ("APS", "A.P.S."),
        ("ODV", "O.D.V."),
        ("ETS", "E.T.S."),
    ] {
        if s.contains(long) {
            s = s.replacen(long, short, 1);
            break;
        }
    }
    s.to_uppercase()
}

/// The name with one typo in its longest word: a letter dropped, doubled or swapped with the
/// next.
pub fn typo<R: Rng>(name: &str, rng: &mut R) -> String {
    let words: Vec<&str> = name.split(' ').collect();
    let Some((at, word)) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .max_by_key(|(i, w)| (w.chars().count(), std::cmp::Reverse(*i)))
    else {
        // No word to misspell: the second entry lost the name's last letter.
        let mut s = name.to_string();
        s.pop();
        return s;
    };
    let chars: Vec<char> = word.chars().collect();
    let k = rng.random_range(1..chars.len() - 2);
    let mut out: Vec<char> = chars.clone();
    match rng.random_range(0..3) {
        0 => {
            out.remove(k);
        }
        1 => out.insert(k, chars[k]),
        _ => out.swap(k, k + 1),
    }
    let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    words[at] = out.into_iter().collect();
    words.join(" ")
}

/// Picks an index with probability proportional to its weight (the last one if all are 0).
pub fn weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn check_digits_follow_the_tax_office() {
        // Published examples of the algorithm.
        let digits = |s: &str| -> [u8; 10] {
            let mut d = [0u8; 10];
            for (x, c) in d.iter_mut().zip(s.bytes()) {
                *x = c - b'0';
            }
            d
        };
        assert_eq!(check_digit(&digits("0123456789")), 7);
        assert_eq!(check_digit(&digits("0000000000")), 0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for style in [TaxStyle::Vat, TaxStyle::Numeric(9)] {
            let id = tax_id(&mut rng, style, "036").unwrap_or_default();
            assert_eq!(id.len(), 11);
            assert!(id.ends_with(&format!("036{}", &id[10..])), "{id}");
            assert_eq!(
                check_digit(&digits(&id[..10])),
                id.as_bytes()[10] - b'0',
                "{id}"
            );
        }
        assert_eq!(tax_id(&mut rng, TaxStyle::None, "036"), None);
    }

    #[test]
    fn twins_are_what_the_registry_reports() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let sim = |a: &str, b: &str| normalized_similarity(&normalize_name(a), &normalize_name(b));
        for name in [
            "Il Glicine Solidale Cooperativa Sociale",
            "Circolo La Rondine APS",
            "Residenza Il Faro S.r.l.",
            "Fondazione Insieme ETS",
        ] {
            assert_eq!(sim(name, &abbreviated(name)), 1.0, "{name}");
            let t = typo(name, &mut rng);
            assert_ne!(t, name);
        }
        assert_eq!(slug("L'Àncora di Vaciglio"), "l-ancora-di-vaciglio");
    }

    #[test]
    fn the_prefilter_never_hides_a_similar_pair() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let zones = ["Vaciglio", "Crocetta Vecchia", "San Damaso"];
        let mut names: Vec<String> = Vec::new();
        for body in [
            Body::CoopA,
            Body::Aps,
            Body::Odv,
            Body::Parish,
            Body::CareHome,
        ] {
            for nth in 0..60 {
                let name = draw_name(body, nth, &zones, "Modena", &mut rng).name;
                names.push(typo(&name, &mut rng));
                names.push(name);
            }
        }
        let normalized: Vec<Normalized> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Normalized::new(i, n))
            .collect();
        let (mut similar, mut kept) = (0, 0);
        for a in &normalized {
            for b in &normalized {
                let sim = normalized_similarity(&a.text, &b.text);
                let pass = a.may_reach(b, NAME_THRESHOLD);
                kept += pass as usize;
                if sim >= NAME_THRESHOLD {
                    similar += 1;
                    assert!(pass, "`{}` ~ `{}`: {sim}", a.text, b.text);
                }
            }
        }
        assert!(similar > normalized.len(), "typos are similar");
        assert!(kept < normalized.len() * normalized.len() / 2, "{kept}");
    }
}
