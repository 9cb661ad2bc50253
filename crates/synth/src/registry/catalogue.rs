//! What the synthetic registry offers: the facilities of the supply table seen as registry
//! services, the services behind every kind of social-service case, and the ordinary offer of
//! the third sector; with who may run each, whom it is for, when it is open and what it costs.

use ::registry::codes::{OperatorProfile, RelationKind, SocialRisk, TargetGroup};
use rand::Rng;

use super::orgs::Body::{self, *};

use OperatorProfile as P;
use RelationKind as C;
use SocialRisk as R;
use TargetGroup as G;

/// When a service is open: a set of weekly (or monthly) sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hours {
    /// Weekday mornings, two afternoons.
    Office,
    /// Weekday mornings and Saturday morning.
    OfficeSaturday,
    /// Weekdays 8 to 18.
    DayCentre,
    /// Weekdays 7:30 to 16:30.
    Nursery,
    /// Weekday afternoons.
    AfterSchool,
    /// Always open (residences, alarms).
    AllDay,
    /// Night shelter: 20:00 to 8:00 the next morning.
    Night,
    /// Home visits, Monday to Saturday.
    HomeCare,
    /// Meal delivery around lunchtime, Monday to Saturday.
    Meals,
    /// Lunch every day, dinner on weekdays.
    SoupKitchen,
    /// Two weekday afternoons and Saturday morning.
    FoodBank,
    /// Two or three half days a week, drawn per service.
    Desk,
    /// A weekly evening and a monthly meeting on the first Monday.
    Monthly,
    /// Two or three evenings a week.
    Evening,
}

/// One opening session: weekly days (or a monthly `1MO`-style rule), opening and closing time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub monthly: bool,
    pub byday: String,
    pub opens: (u32, u32),
    pub closes: (u32, u32),
    pub description: String,
}

fn session(byday: &str, opens: (u32, u32), closes: (u32, u32), description: &str) -> Session {
    Session {
        monthly: false,
        byday: byday.to_string(),
        opens,
        closes,
        description: description.to_string(),
    }
}

const WEEKDAYS: [&str; 5] = ["MO", "TU", "WE", "TH", "FR"];
const GIORNI: [&str; 5] = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì"];

/// `n` distinct weekdays in week order, as `byday` and as Italian words.
fn some_weekdays<R: Rng>(rng: &mut R, n: usize) -> (String, String) {
    let mut days: Vec<usize> = (0..5).collect();
    while days.len() > n {
        days.remove(rng.random_range(0..days.len()));
    }
    let byday: Vec<&str> = days.iter().map(|&d| WEEKDAYS[d]).collect();
    let words: Vec<&str> = days.iter().map(|&d| GIORNI[d]).collect();
    (byday.join(","), words.join(", "))
}

impl Hours {
    /// The sessions of one service at one location.
    pub fn sessions<R: Rng>(self, rng: &mut R) -> Vec<Session> {
        const WEEK: &str = "MO,TU,WE,TH,FR";
        match self {
            Hours::Office => vec![
                session(WEEK, (8, 30), (13, 0), "Da lunedì a venerdì 8:30-13:00"),
                session("TU,TH", (14, 30), (17, 30), "Martedì e giovedì 14:30-17:30"),
            ],
            Hours::OfficeSaturday => vec![
                session(WEEK, (8, 30), (13, 0), "Da lunedì a venerdì 8:30-13:00"),
                session("SA", (9, 0), (12, 0), "Sabato 9:00-12:00"),
            ],
            Hours::DayCentre => vec![session(
                WEEK,
                (8, 0),
                (18, 0),
                "Da lunedì a venerdì 8:00-18:00",
            )],
            Hours::Nursery => vec![session(
                WEEK,
                (7, 30),
                (16, 30),
                "Da lunedì a venerdì 7:30-16:30",
            )],
            Hours::AfterSchool => vec![session(
                WEEK,
                (14, 30),
                (18, 30),
                "Da lunedì a venerdì 14:30-18:30",
            )],
            Hours::AllDay => vec![session(
                "MO,TU,WE,TH,FR,SA,SU",
                (0, 0),
                (0, 0),
                "Aperto tutti i giorni, 24 ore su 24",
            )],
            Hours::Night => vec![session(
                "MO,TU,WE,TH,FR,SA,SU",
                (20, 0),
                (8, 0),
                "Tutte le sere dalle 20:00 alle 8:00 del mattino",
            )],
            Hours::HomeCare => vec![session(
                "MO,TU,WE,TH,FR,SA",
                (7, 0),
                (20, 0),
                "Interventi a domicilio da lunedì a sabato 7:00-20:00",
            )],
            Hours::Meals => vec![session(
                "MO,TU,WE,TH,FR,SA",
                (11, 0),
                (13, 30),
                "Consegna dei pasti da lunedì a sabato 11:00-13:30",
            )],
            Hours::SoupKitchen => vec![
                session(
                    "MO,TU,WE,TH,FR,SA,SU",
                    (11, 45),
                    (13, 30),
                    "Pranzo tutti i giorni 11:45-13:30",
                ),
                session(
                    WEEK,
                    (19, 0),
                    (20, 30),
                    "Cena da lunedì a venerdì 19:00-20:30",
                ),
            ],
            Hours::FoodBank => vec![
                session("TU,FR", (15, 0), (18, 30), "Martedì e venerdì 15:00-18:30"),
                session("SA", (9, 0), (12, 0), "Sabato 9:00-12:00"),
            ],
            Hours::Desk => {
                let n = rng.random_range(2..=3);
                let (byday, words) = some_weekdays(rng, n);
                let mut v = if rng.random_bool(0.5) {
                    vec![session(
                        &byday,
                        (9, 0),
                        (12, 30),
                        &format!("{words} 9:00-12:30"),
                    )]
                } else {
                    vec![session(
                        &byday,
                        (15, 0),
                        (18, 30),
                        &format!("{words} 15:00-18:30"),
                    )]
                };
                if rng.random_bool(0.3) {
                    v.push(session("SA", (9, 30), (12, 0), "Sabato 9:30-12:00"));
                }
                v
            }
            Hours::Monthly => vec![
                session("WE", (16, 0), (19, 0), "Mercoledì 16:00-19:00"),
                Session {
                    monthly: true,
                    byday: "1MO".into(),
                    opens: (18, 0),
                    closes: (20, 0),
                    description: "Incontro di gruppo il primo lunedì del mese 18:00-20:00".into(),
                },
            ],
            Hours::Evening => {
                let n = rng.random_range(2..=3);
                let (byday, words) = some_weekdays(rng, n);
                vec![session(
                    &byday,
                    (20, 30),
                    (22, 30),
                    &format!("{words} 20:30-22:30"),
                )]
            }
        }
    }
}

/// What a service costs its users.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fee {
    /// Share of the services of this kind that charge (the others are free).
    pub share: f64,
    /// What the amount is for, e.g. "al giorno".
    pub per: &'static str,
    /// Range of the full amount in euro.
    pub range: (f64, f64),
    /// Whether the amount is reduced by ISEE band (a reduced option is listed too).
    pub by_isee: bool,
}

/// No fee.
pub const FREE: Fee = Fee {
    share: 0.0,
    per: "",
    range: (0.0, 0.0),
    by_isee: false,
};

const fn fee(share: f64, per: &'static str, lo: f64, hi: f64, by_isee: bool) -> Fee {
    Fee {
        share,
        per,
        range: (lo, hi),
        by_isee,
    }
}

/// A service of the supply table (`services.rs`) as the registry describes it.
pub struct FacilityKind {
    /// The supply table's service name.
    pub service: &'static str,
    /// The registry service's name, before the facility's own name.
    pub label: &'static str,
    /// The building's name, before the facility's own name (none for home care, named after
    /// its zone).
    pub place: Option<&'static str>,
    pub description: &'static str,
    /// Who may run it, by the supply table's provider type (pubblico, terzo settore, privato).
    pub runners: [&'static [Body]; 3],
    /// The municipality's contract with a provider of that type (none when it runs it itself).
    pub contract: [Option<RelationKind>; 3],
    pub risks: &'static [SocialRisk],
    pub groups: &'static [TargetGroup],
    pub ages: (Option<u32>, Option<u32>),
    pub hours: Hours,
    pub fee: Fee,
    /// Shares of the operators by profile (summing to 1).
    pub staff: &'static [(OperatorProfile, f64)],
    /// What a place costs the commissioner a year, in euro.
    pub cost_per_place: f64,
}

/// The supply table's services, by the name the table uses.
pub static FACILITIES: &[FacilityKind] = &[
    FacilityKind {
        service: "assistenza domiciliare",
        label: "Assistenza domiciliare",
        place: None,
        description: "Assistenza socio-assistenziale a domicilio per anziani e persone con disabilità: igiene personale, aiuto nella vita quotidiana, sostegno ai familiari.",
        runners: [&[SocialDept], &[CoopA], &[HomeCare]],
        contract: [None, Some(C::Accreditation), Some(C::Accreditation)],
        risks: &[R::NonSelfSufficiency, R::Disability],
        groups: &[G::Elderly, G::Disabled],
        ages: (Some(18), None),
        hours: Hours::HomeCare,
        fee: fee(1.0, "per ora di assistenza", 4.0, 17.0, true),
        staff: &[
            (P::OssCareWorker, 0.85),
            (P::SocialWorker, 0.05),
            (P::Administrative, 0.1),
        ],
        cost_per_place: 6_500.0,
    },
    FacilityKind {
        service: "centro diurno anziani",
        label: "Centro diurno per anziani",
        place: Some("Centro diurno"),
        description: "Accoglienza diurna di anziani parzialmente non autosufficienti: assistenza, attività di animazione e riabilitazione, pasto.",
        runners: [&[Asp, SocialDept], &[CoopA], &[CareHome]],
        contract: [None, Some(C::Accreditation), Some(C::Accreditation)],
        risks: &[R::NonSelfSufficiency],
        groups: &[G::Elderly],
        ages: (Some(65), None),
        hours: Hours::DayCentre,
        fee: fee(1.0, "al giorno", 18.0, 36.0, true),
        staff: &[
            (P::OssCareWorker, 0.7),
            (P::Nurse, 0.1),
            (P::Educator, 0.1),
            (P::Other, 0.1),
        ],
        cost_per_place: 14_000.0,
    },
    FacilityKind {
        service: "struttura residenziale anziani",
        label: "Casa residenza per anziani non autosufficienti",
        place: Some("Casa residenza"),
        description: "Residenza per anziani non autosufficienti con assistenza socio-sanitaria continuativa.",
        runners: [&[Asp, Ipab], &[CoopA], &[CareHome]],
        contract: [None, Some(C::Accreditation), Some(C::Accreditation)],
        risks: &[R::NonSelfSufficiency, R::Health],
        groups: &[G::Elderly],
        ages: (Some(65), None),
        hours: Hours::AllDay,
        fee: fee(1.0, "al giorno, quota sociale", 52.0, 95.0, false),
        staff: &[
            (P::OssCareWorker, 0.65),
            (P::Nurse, 0.15),
            (P::Administrative, 0.05),
            (P::Other, 0.15),
        ],
        cost_per_place: 22_000.0,
    },
    FacilityKind {
        service: "centro diurno disabili",
        label: "Centro socio-riabilitativo diurno per persone con disabilità",
        place: Some("Centro socio-riabilitativo"),
        description: "Centro diurno per adulti con disabilità: attività educative, riabilitative e di socializzazione.",
        runners: [&[Asp, SocialDept], &[CoopA], &[CoopA]],
        contract: [None, Some(C::Accreditation), Some(C::Accreditation)],
        risks: &[R::Disability],
        groups: &[G::Disabled],
        ages: (Some(18), Some(64)),
        hours: Hours::DayCentre,
        fee: fee(1.0, "al giorno", 5.0, 20.0, true),
        staff: &[
            (P::Educator, 0.6),
            (P::OssCareWorker, 0.3),
            (P::Psychologist, 0.05),
            (P::Other, 0.05),
        ],
        cost_per_place: 28_000.0,
    },
    FacilityKind {
        service: "nido d'infanzia",
        label: "Nido d'infanzia",
        place: Some("Nido"),
        description: "Servizio educativo per bambini da 3 a 36 mesi.",
        runners: [&[Municipality], &[CoopA], &[Nursery]],
        contract: [None, Some(C::Procurement), Some(C::Agreement)],
        risks: &[R::Childcare, R::Education],
        groups: &[G::Minors, G::Families],
        ages: (Some(0), Some(2)),
        hours: Hours::Nursery,
        fee: fee(1.0, "al mese", 320.0, 560.0, true),
        staff: &[(P::Educator, 0.8), (P::Other, 0.2)],
        cost_per_place: 9_000.0,
    },
    FacilityKind {
        service: "centro educativo pomeridiano",
        label: "Centro educativo pomeridiano",
        place: Some("Centro educativo"),
        description: "Sostegno allo studio e attività educative di gruppo per bambini e ragazzi segnalati dai servizi o dalle scuole.",
        runners: [&[SocialDept], &[CoopA, Aps], &[CoopA]],
        contract: [None, Some(C::CoDesignAgreement), Some(C::Procurement)],
        risks: &[R::Education, R::Childcare],
        groups: &[G::Minors],
        ages: (Some(6), Some(13)),
        hours: Hours::AfterSchool,
        fee: FREE,
        staff: &[(P::Educator, 0.9), (P::Other, 0.1)],
        cost_per_place: 3_000.0,
    },
    FacilityKind {
        service: "accoglienza abitativa temporanea",
        label: "Accoglienza abitativa temporanea",
        place: Some("Alloggi di transizione"),
        description: "Alloggi temporanei con accompagnamento educativo per persone e nuclei senza casa, in attesa di una soluzione stabile.",
        runners: [&[SocialDept], &[CoopA, Odv, Caritas], &[CoopA]],
        contract: [None, Some(C::CoDesignAgreement), Some(C::Procurement)],
        risks: &[R::Housing, R::Poverty],
        groups: &[G::Homeless, G::Families],
        ages: (Some(18), None),
        hours: Hours::AllDay,
        fee: FREE,
        staff: &[(P::Educator, 0.5), (P::SocialWorker, 0.3), (P::Other, 0.2)],
        cost_per_place: 9_000.0,
    },
];

/// How many of a service there are, and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// One for the whole city, at its runner's seat.
    City,
    /// One per district of the city.
    Districts,
    /// This many, whatever the scale.
    Count(usize),
    /// This many at scale 1 (growing with the city), in zones drawn with a bias towards the
    /// poorer ones.
    Zones(f64),
}

/// A service of the catalogue (not of the supply table).
pub struct Offer {
    pub name: &'static str,
    pub description: &'static str,
    /// The social-case (area, intervention type) pairs it serves.
    pub cases: &'static [(&'static str, &'static str)],
    /// Who may run it (earlier ones more often).
    pub runners: &'static [Body],
    pub spread: Spread,
    pub risks: &'static [SocialRisk],
    pub groups: &'static [TargetGroup],
    pub ages: (Option<u32>, Option<u32>),
    pub hours: Hours,
    pub fee: Fee,
    /// The municipality's contract with a runner that is not the municipality, and its yearly
    /// value range in euro; for the ordinary offer, the share of services that have one.
    pub contract: Option<(RelationKind, f64, f64, f64)>,
}

/// An entry of the catalogue, free and without contract (one argument per column of the
/// tables below).
#[allow(clippy::too_many_arguments)]
const fn offer(
    name: &'static str,
    description: &'static str,
    cases: &'static [(&'static str, &'static str)],
    runners: &'static [Body],
    spread: Spread,
    risks: &'static [SocialRisk],
    groups: &'static [TargetGroup],
    ages: (Option<u32>, Option<u32>),
    hours: Hours,
) -> Offer {
    Offer {
        name,
        description,
        cases,
        runners,
        spread,
        risks,
        groups,
        ages,
        hours,
        fee: FREE,
        contract: None,
    }
}

/// The municipality's and the health authority's own services and those they contract out,
/// covering every kind of case of the cartella sociale that the supply table does not.
pub static OFFERS: &[Offer] = &[
    offer(
        "Segretariato sociale",
        "Primo accesso ai servizi sociali: informazione, orientamento, presa in carico.",
        &[],
        &[SocialDept],
        Spread::Districts,
        &[R::Poverty, R::Housing, R::NonSelfSufficiency],
        &[G::All],
        (None, None),
        Hours::Office,
    ),
    offer(
        "Contributi economici",
        "Contributi economici una tantum o periodici a persone e famiglie in difficoltà, su progetto del servizio sociale.",
        &[
            ("famiglie", "contributo economico"),
            ("disabili", "contributo economico"),
            ("adulti", "contributo economico"),
        ],
        &[SocialDept],
        Spread::City,
        &[R::Poverty],
        &[G::Families, G::Disabled, G::Unemployed],
        (Some(18), None),
        Hours::Office,
    ),
    offer(
        "Contributo per l'affitto",
        "Contributo al pagamento del canone di locazione per famiglie con ISEE basso.",
        &[
            ("famiglie", "contributo affitto"),
            ("adulti", "contributo affitto"),
        ],
        &[SocialDept],
        Spread::City,
        &[R::Housing, R::Poverty],
        &[G::Families],
        (Some(18), None),
        Hours::Office,
    ),
    offer(
        "Buoni spesa",
        "Buoni per l'acquisto di generi alimentari e di prima necessità.",
        &[("famiglie", "buoni spesa")],
        &[SocialDept],
        Spread::City,
        &[R::Poverty],
        &[G::Families],
        (Some(18), None),
        Hours::Office,
    ),
    offer(
        "Assegno di cura",
        "Contributo alle famiglie che assistono a casa un anziano non autosufficiente.",
        &[("anziani", "assegno di cura")],
        &[SocialDept],
        Spread::City,
        &[R::NonSelfSufficiency],
        &[G::Elderly, G::Families],
        (Some(65), None),
        Hours::Office,
    ),
    offer(
        "Affido familiare",
        "Promozione, selezione e accompagnamento delle famiglie affidatarie; progetti di affido per minori.",
        &[("minori", "affido familiare")],
        &[SocialDept],
        Spread::City,
        &[R::Childcare],
        &[G::Minors, G::Families],
        (None, Some(17)),
        Hours::Office,
    ),
    offer(
        "Tirocini di inclusione sociale",
        "Tirocini con indennità per persone seguite dai servizi sociali, in aziende e cooperative del territorio.",
        &[("adulti", "tirocinio di inclusione")],
        &[SocialDept],
        Spread::City,
        &[R::Work, R::Poverty],
        &[G::Unemployed],
        (Some(18), Some(64)),
        Hours::Office,
    ),
    offer(
        "Sportello informativo per cittadini stranieri",
        "Orientamento ai servizi, pratiche di soggiorno, informazioni su lavoro, casa e scuola.",
        &[("immigrati", "orientamento ai servizi")],
        &[SocialDept],
        Spread::City,
        &[R::Migration],
        &[G::Migrants],
        (None, None),
        Hours::OfficeSaturday,
    ),
    offer(
        "Centro per le famiglie",
        "Sostegno alla genitorialità: consulenza educativa, mediazione familiare, gruppi di genitori.",
        &[("famiglie", "sostegno alla genitorialità")],
        &[SocialDept],
        Spread::City,
        &[R::Childcare],
        &[G::Families],
        (None, None),
        Hours::Monthly,
    ),
    Offer {
        fee: fee(1.0, "a pasto", 4.0, 7.5, true),
        contract: Some((C::Procurement, 250_000.0, 450_000.0, 1.0)),
        ..offer(
            "Pasti a domicilio",
            "Consegna a domicilio di pasti caldi per anziani soli o non autosufficienti.",
            &[("anziani", "pasti a domicilio")],
            &[CoopB, CoopA],
            Spread::City,
            &[R::NonSelfSufficiency],
            &[G::Elderly],
            (Some(65), None),
            Hours::Meals,
        )
    },
    Offer {
        fee: fee(1.0, "al mese", 10.0, 22.0, true),
        contract: Some((C::Procurement, 60_000.0, 140_000.0, 1.0)),
        ..offer(
            "Telesoccorso e teleassistenza",
            "Dispositivo di allarme collegato a una centrale operativa attiva giorno e notte.",
            &[("anziani", "telesoccorso")],
            &[CoopA, HomeCare],
            Spread::City,
            &[R::NonSelfSufficiency],
            &[G::Elderly],
            (Some(65), None),
            Hours::AllDay,
        )
    },
    Offer {
        contract: Some((C::Agreement, 15_000.0, 45_000.0, 1.0)),
        ..offer(
            "Trasporto sociale",
            "Accompagnamento con mezzi attrezzati a visite, terapie e centri diurni, svolto da volontari.",
            &[("anziani", "trasporto sociale")],
            &[Odv],
            Spread::Districts,
            &[R::NonSelfSufficiency, R::Disability],
            &[G::Elderly, G::Disabled],
            (None, None),
            Hours::Office,
        )
    },
    Offer {
        contract: Some((C::Procurement, 120_000.0, 260_000.0, 1.0)),
        ..offer(
            "Trasporto per persone con disabilità",
            "Trasporto verso scuole, centri diurni e luoghi di lavoro per persone con disabilità.",
            &[("disabili", "trasporto")],
            &[CoopA, Odv],
            Spread::City,
            &[R::Disability],
            &[G::Disabled],
            (None, None),
            Hours::Office,
        )
    },
    Offer {
        contract: Some((C::Accreditation, 150_000.0, 320_000.0, 1.0)),
        ..offer(
            "Educativa domiciliare",
            "Interventi educativi a casa per minori e famiglie seguiti dal servizio sociale.",
            &[("minori", "educativa domiciliare")],
            &[CoopA],
            Spread::Districts,
            &[R::Childcare, R::Education],
            &[G::Minors, G::Families],
            (None, Some(17)),
            Hours::Office,
        )
    },
    Offer {
        contract: Some((C::Accreditation, 250_000.0, 600_000.0, 1.0)),
        ..offer(
            "Comunità educativa per minori",
            "Comunità residenziale per minori allontanati dalla famiglia su provvedimento dell'autorità giudiziaria.",
            &[("minori", "inserimento in comunità")],
            &[CoopA, Foundation],
            Spread::Count(3),
            &[R::Childcare],
            &[G::Minors],
            (None, Some(17)),
            Hours::AllDay,
        )
    },
    Offer {
        contract: Some((C::Procurement, 300_000.0, 700_000.0, 1.0)),
        ..offer(
            "Sostegno scolastico ed educativo",
            "Educatori a scuola per alunni con disabilità o in situazione di svantaggio.",
            &[("minori", "sostegno scolastico")],
            &[CoopA],
            Spread::Districts,
            &[R::Education, R::Disability],
            &[G::Minors, G::Disabled],
            (Some(3), Some(17)),
            Hours::Office,
        )
    },
    Offer {
        contract: Some((C::Agreement, 40_000.0, 120_000.0, 1.0)),
        ..offer(
            "Inserimento lavorativo di persone con disabilità",
            "Percorsi di inserimento al lavoro in cooperativa sociale di tipo B, con tutor.",
            &[("disabili", "inserimento lavorativo")],
            &[CoopB],
            Spread::Districts,
            &[R::Work, R::Disability],
            &[G::Disabled],
            (Some(18), Some(64)),
            Hours::Office,
        )
    },
    Offer {
        contract: Some((C::Procurement, 80_000.0, 180_000.0, 1.0)),
        ..offer(
            "Mediazione linguistico-culturale",
            "Mediatori linguistico-culturali nei servizi sociali, sanitari e nelle scuole.",
            &[("immigrati", "mediazione culturale")],
            &[CoopA, Aps],
            Spread::City,
            &[R::Migration],
            &[G::Migrants],
            (None, None),
            Hours::Office,
        )
    },
    offer(
        "Corsi di lingua italiana per adulti stranieri",
        "Corsi di italiano dal livello pre-A1 al B1 e percorsi di licenza media per adulti.",
        &[("immigrati", "corso di lingua italiana")],
        &[Cpia],
        Spread::City,
        &[R::Migration, R::Education],
        &[G::Migrants],
        (Some(16), None),
        Hours::Evening,
    ),
    offer(
        "Servizi per il lavoro",
        "Iscrizione allo stato di disoccupazione, patto di servizio, orientamento e offerte di lavoro.",
        &[],
        &[JobCentre],
        Spread::City,
        &[R::Work],
        &[G::Unemployed, G::Youth],
        (Some(16), None),
        Hours::OfficeSaturday,
    ),
    offer(
        "Consultorio familiare",
        "Salute della donna, gravidanza, contraccezione, spazio giovani, consulenza di coppia.",
        &[],
        &[HealthAuthority],
        Spread::Districts,
        &[R::Health, R::Childcare],
        &[G::Women, G::Families, G::Youth],
        (None, None),
        Hours::Office,
    ),
    offer(
        "Centro di salute mentale",
        "Cura e riabilitazione dei disturbi psichici degli adulti.",
        &[],
        &[HealthAuthority],
        Spread::Count(2),
        &[R::Health],
        &[G::All],
        (Some(18), None),
        Hours::Office,
    ),
    Offer {
        contract: Some((C::CoDesignAgreement, 60_000.0, 150_000.0, 1.0)),
        ..offer(
            "Centro antiviolenza",
            "Ascolto, consulenza legale e psicologica, ospitalità protetta per donne che subiscono violenza.",
            &[],
            &[Aps, Odv],
            Spread::Count(1),
            &[R::Health, R::Housing],
            &[G::Women],
            (Some(18), None),
            Hours::AllDay,
        )
    },
    Offer {
        contract: Some((C::CoDesignAgreement, 90_000.0, 220_000.0, 1.0)),
        ..offer(
            "Accoglienza notturna per persone senza dimora",
            "Posti letto per la notte, doccia e colazione; orientamento ai servizi.",
            &[],
            &[Caritas, Odv, CoopA],
            Spread::Count(2),
            &[R::Housing, R::Poverty],
            &[G::Homeless],
            (Some(18), None),
            Hours::Night,
        )
    },
];

/// The ordinary offer of the third sector, spread over the zones and growing with the city.
pub static ORDINARY: &[Offer] = &[
    Offer {
        contract: Some((C::Grant, 3_000.0, 15_000.0, 0.5)),
        ..offer(
            "Emporio solidale",
            "Distribuzione gratuita di alimenti e prodotti di prima necessità a famiglie segnalate dai servizi o dai centri d'ascolto.",
            &[],
            &[FoodBank, Caritas, Parish, Odv],
            Spread::Zones(10.0),
            &[R::Poverty],
            &[G::Families],
            (None, None),
            Hours::FoodBank,
        )
    },
    Offer {
        contract: Some((C::CoDesignAgreement, 20_000.0, 60_000.0, 0.5)),
        ..offer(
            "Mensa solidale",
            "Pasti gratuiti per persone senza dimora o in grave difficoltà.",
            &[],
            &[Caritas, Parish, Odv],
            Spread::Zones(4.0),
            &[R::Poverty, R::Housing],
            &[G::Homeless, G::All],
            (None, None),
            Hours::SoupKitchen,
        )
    },
    Offer {
        fee: fee(0.3, "al mese", 15.0, 50.0, false),
        contract: Some((C::Grant, 2_000.0, 8_000.0, 0.3)),
        ..offer(
            "Doposcuola",
            "Aiuto nei compiti e attività ricreative per bambini e ragazzi.",
            &[],
            &[Parish, Aps, Odv, CoopA],
            Spread::Zones(30.0),
            &[R::Education, R::Childcare],
            &[G::Minors],
            (Some(6), Some(14)),
            Hours::AfterSchool,
        )
    },
    Offer {
        contract: Some((C::Grant, 2_000.0, 10_000.0, 0.25)),
        ..offer(
            "Sportello lavoro",
            "Aiuto nella scrittura del curriculum, ricerca di offerte, orientamento alla formazione.",
            &[],
            &[Aps, CoopB, Odv],
            Spread::Zones(12.0),
            &[R::Work],
            &[G::Unemployed, G::Youth],
            (Some(16), None),
            Hours::Desk,
        )
    },
    Offer {
        contract: Some((C::Grant, 2_000.0, 8_000.0, 0.25)),
        ..offer(
            "Sportello di orientamento per migranti",
            "Informazioni su permessi, servizi, casa e lavoro; accompagnamento agli uffici.",
            &[("immigrati", "orientamento ai servizi")],
            &[Aps, Odv, Caritas],
            Spread::Zones(12.0),
            &[R::Migration],
            &[G::Migrants],
            (None, None),
            Hours::Desk,
        )
    },
    offer(
        "Centro d'ascolto",
        "Ascolto delle persone in difficoltà, aiuti materiali, accompagnamento ai servizi.",
        &[],
        &[Parish, Caritas],
        Spread::Zones(18.0),
        &[R::Poverty],
        &[G::All],
        (None, None),
        Hours::Desk,
    ),
    Offer {
        fee: fee(0.4, "a colloquio", 20.0, 45.0, false),
        ..offer(
            "Consulenza psicologica",
            "Colloqui di sostegno psicologico a prezzo calmierato per singoli, coppie e famiglie.",
            &[],
            &[Aps, Foundation, CoopA],
            Spread::Zones(12.0),
            &[R::Health],
            &[G::Families, G::Youth],
            (None, None),
            Hours::Monthly,
        )
    },
    Offer {
        contract: Some((C::Grant, 1_500.0, 6_000.0, 0.3)),
        ..offer(
            "Scuola di italiano",
            "Corsi di italiano gratuiti tenuti da volontari, con baby-sitting durante le lezioni.",
            &[("immigrati", "corso di lingua italiana")],
            &[Aps, Odv, Parish],
            Spread::Zones(14.0),
            &[R::Migration, R::Education],
            &[G::Migrants],
            (Some(16), None),
            Hours::Evening,
        )
    },
    offer(
        "Guardaroba solidale",
        "Distribuzione gratuita di abiti, scarpe e biancheria.",
        &[],
        &[Caritas, Parish, Odv],
        Spread::Zones(8.0),
        &[R::Poverty],
        &[G::Families, G::Homeless],
        (None, None),
        Hours::FoodBank,
    ),
    Offer {
        contract: Some((C::CoDesignAgreement, 10_000.0, 40_000.0, 0.3)),
        ..offer(
            "Centro di aggregazione giovanile",
            "Spazio per ragazzi con attività musicali, sportive e laboratori, con educatori.",
            &[],
            &[Aps, CoopA, Parish],
            Spread::Zones(10.0),
            &[R::Education],
            &[G::Youth],
            (Some(11), Some(24)),
            Hours::AfterSchool,
        )
    },
    Offer {
        fee: fee(0.7, "all'anno (tessera associativa)", 10.0, 30.0, false),
        ..offer(
            "Centro sociale anziani",
            "Attività ricreative, ginnastica dolce, gite e corsi per anziani.",
            &[],
            &[Aps],
            Spread::Zones(15.0),
            &[R::NonSelfSufficiency, R::Health],
            &[G::Elderly],
            (Some(60), None),
            Hours::OfficeSaturday,
        )
    },
    offer(
        "Gruppo di auto mutuo aiuto",
        "Gruppi di persone che condividono lo stesso problema (lutto, dipendenze, caregiver) con un facilitatore.",
        &[],
        &[Odv, Aps],
        Spread::Zones(8.0),
        &[R::Health],
        &[G::All],
        (Some(18), None),
        Hours::Monthly,
    ),
];

/// The facility kind of a supply service name.
pub fn facility(service: &str) -> Option<&'static FacilityKind> {
    FACILITIES.iter().find(|f| f.service == service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{services, social};
    use rand::SeedableRng;

    #[test]
    fn every_supply_service_and_case_kind_has_a_description() {
        for name in services::service_names() {
            let f = facility(name).unwrap_or_else(|| panic!("no facility kind for {name}"));
            let shares: f64 = f.staff.iter().map(|(_, s)| s).sum();
            assert!((shares - 1.0).abs() < 1e-9, "{name}");
        }
        assert_eq!(FACILITIES.len(), services::service_names().len());
        for (area, kind) in social::kinds() {
            let by_supply = FACILITIES
                .iter()
                .any(|f| services::cases_of(f.service).contains(&(area, kind)));
            let by_offer = OFFERS.iter().any(|o| o.cases.contains(&(area, kind)));
            assert!(by_supply || by_offer, "nothing serves {area}/{kind}");
            assert!(!(by_supply && by_offer), "{area}/{kind} served twice");
        }
        for o in OFFERS.iter().chain(ORDINARY) {
            for case in o.cases {
                assert!(social::kinds().contains(case), "{}: {case:?}", o.name);
            }
            assert!(!o.risks.is_empty() && !o.runners.is_empty(), "{}", o.name);
        }
    }

    #[test]
    fn sessions_are_valid_schedules() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for hours in [
            Hours::Office,
            Hours::OfficeSaturday,
            Hours::DayCentre,
            Hours::Nursery,
            Hours::AfterSchool,
            Hours::AllDay,
            Hours::Night,
            Hours::HomeCare,
            Hours::Meals,
            Hours::SoupKitchen,
            Hours::FoodBank,
            Hours::Desk,
            Hours::Monthly,
            Hours::Evening,
        ] {
            for s in hours.sessions(&mut rng) {
                assert!(
                    !s.byday.is_empty() && !s.description.is_empty(),
                    "{hours:?}"
                );
                assert!(s.opens.0 < 24 && s.closes.0 < 24, "{hours:?}");
            }
        }
    }
}
