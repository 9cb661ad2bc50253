//! Benchmark of the public map's search and of the HSDS round trip.
//!
//! ```text
//! cargo bench -p datalab-registry --bench search [-- --registry PATH | --csv DIR]
//!     [--services N] [--rounds R] [--save-sqlite PATH] [--save-csv DIR]
//! ```
//!
//! The registry is an SQLite registry file (`--registry`), a plain-CSV registry folder imported
//! into memory (`--csv`), or else one of `--services` services (default 3000) made up by a
//! deterministic generator from word lists (invented names, no real person or organization).
//! It builds the search index, runs a fixed mix of queries (text, text with filters, filters
//! only, open now, prefixes as typed) `--rounds` times (default 5) after a warm-up round and
//! prints latency percentiles and throughput; then times completions, and the HSDS round trips
//! (datapackage and JSON: export, import into a new in-memory registry, export again), which
//! must give byte-identical output. `--save-sqlite` and `--save-csv` keep the registry used
//! (e.g. the generated one) for later runs with `--registry` or `--csv`.

use std::collections::BTreeMap;
use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use datalab_registry::codes::{LocationType, OrganizationKind, SocialRisk, Status, TargetGroup};
use datalab_registry::search::{Query, SearchIndex};
use datalab_registry::{
    Address, Location, Organization, Registry, Schedule, Service, ServiceAtLocation,
};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: search [--registry PATH | --csv DIR] [--services N] [--rounds R] \
                     [--save-sqlite PATH] [--save-csv DIR]";

struct Args {
    registry: Option<PathBuf>,
    csv: Option<PathBuf>,
    services: usize,
    rounds: usize,
    save_sqlite: Option<PathBuf>,
    save_csv: Option<PathBuf>,
}

fn args() -> BenchResult<Args> {
    let mut args = Args {
        registry: None,
        csv: None,
        services: 3000,
        rounds: 5,
        save_sqlite: None,
        save_csv: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg}: missing value\n{USAGE}"))
        };
        match arg.as_str() {
            "--registry" => args.registry = Some(value()?.into()),
            "--csv" => args.csv = Some(value()?.into()),
            "--services" => args.services = value()?.parse()?,
            "--rounds" => args.rounds = value()?.parse::<usize>()?.max(1),
            "--save-sqlite" => args.save_sqlite = Some(value()?.into()),
            "--save-csv" => args.save_csv = Some(value()?.into()),
            // Cargo passes `--bench` to benchmarks.
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    Ok(args)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run() -> BenchResult<()> {
    let args = args()?;
    let t = Instant::now();
    let (reg, source) = match (&args.registry, &args.csv) {
        (Some(path), _) => {
            // Opening a missing file would create an empty registry.
            if !path.is_file() {
                return Err(format!("{}: no such registry file", path.display()).into());
            }
            (Registry::open(path)?, format!("{}", path.display()))
        }
        (None, Some(dir)) => {
            let mut reg = Registry::open_in_memory()?;
            reg.import_csv(dir, "bench")?;
            (reg, format!("plain CSV {}", dir.display()))
        }
        (None, None) => (
            generate(args.services)?,
            format!("generated, {} services", args.services),
        ),
    };
    println!("registry: {source} (loaded in {})", ms(t.elapsed()));
    if let Some(path) = &args.save_sqlite {
        let path = path
            .to_str()
            .ok_or("--save-sqlite: the path is not UTF-8")?;
        reg.connection().execute("VACUUM INTO ?1", [path])?;
        println!("saved to {path}");
    }
    if let Some(dir) = &args.save_csv {
        reg.export_csv(dir)?;
        println!("saved as plain CSV to {}", dir.display());
    }

    let t = Instant::now();
    let index = SearchIndex::build(&reg)?;
    println!(
        "index: {} documents, {} terms, {} zones, built in {}",
        index.len(),
        index.terms(),
        index.zones().len(),
        ms(t.elapsed())
    );

    let mix = query_mix(&index);
    for q in &mix {
        black_box(index.search(&q.1));
    }
    // samples[i]: the times of query i, one per round.
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(args.rounds); mix.len()];
    let mut hits = 0usize;
    let all = Instant::now();
    for _ in 0..args.rounds {
        for (i, (_, q)) in mix.iter().enumerate() {
            let t = Instant::now();
            let found = black_box(index.search(black_box(q)));
            samples[i].push(t.elapsed());
            hits += found.len();
        }
    }
    let total = all.elapsed();
    let n = mix.len() * args.rounds;
    println!(
        "search: {} queries x {} rounds, {:.1} hits per query",
        mix.len(),
        args.rounds,
        hits as f64 / n as f64
    );
    // Every sample, and each query's best round: on a shared machine the tail of the first
    // is mostly the query being descheduled, the second is the search's own cost.
    for (title, best) in [("every run", false), ("best of the rounds", true)] {
        println!("  {title}:");
        println!(
            "  {:<14} {:>6} {:>9} {:>9} {:>9}",
            "kind", "n", "p50 µs", "p99 µs", "max µs"
        );
        let mut by_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        for ((kind, _), s) in mix.iter().zip(&samples) {
            let entry = by_kind.entry(kind).or_default();
            match s.iter().min() {
                Some(min) if best => entry.push(*min),
                _ => entry.extend(s),
            }
        }
        let mut every: Vec<Duration> = by_kind.values().flatten().copied().collect();
        for (kind, t) in &mut by_kind {
            print_latency(kind, t);
        }
        print_latency("all", &mut every);
    }
    println!(
        "  throughput: {:.0} queries/s (one thread)",
        n as f64 / total.as_secs_f64()
    );
    let mut slowest: Vec<(Duration, usize)> = samples
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.iter().min().map(|m| (*m, i)))
        .collect();
    slowest.sort_unstable_by(|a, b| b.cmp(a));
    for (t, i) in slowest.iter().take(3) {
        let (kind, q) = &mix[*i];
        println!(
            "  slowest: {:.1} µs {kind} {:?} risks {:?} zones {:?} open_at {:?}",
            t.as_secs_f64() * 1e6,
            q.text.as_deref().unwrap_or(""),
            q.risks,
            q.zones,
            q.open_at
        );
    }

    let prefixes = [
        "a", "as", "assis", "dop", "centro d", "mens", "spor", "anz", "casa", "lav", "psic", "non",
    ];
    let mut suggest: Vec<Duration> = Vec::new();
    for _ in 0..args.rounds * 20 {
        for p in prefixes {
            let t = Instant::now();
            black_box(index.suggest(black_box(p), 8));
            suggest.push(t.elapsed());
        }
    }
    print_latency("suggest", &mut suggest);
    println!("  e.g. `centro d` -> {:?}", index.suggest("centro d", 3));

    round_trips(&reg)
}

fn print_latency(kind: &str, times: &mut [Duration]) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1e6
    };
    println!(
        "  {:<14} {:>6} {:>9.1} {:>9.1} {:>9.1}",
        kind,
        times.len(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

/// The HSDS round trips: export, import into a new registry, export again, same bytes.
fn round_trips(reg: &Registry) -> BenchResult<()> {
    let tmp = tempfile::tempdir()?;
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let t = Instant::now();
    reg.export_datapackage(&a)?;
    let export = t.elapsed();
    let t = Instant::now();
    let mut copy = Registry::open_in_memory()?;
    copy.import_datapackage(&a, "bench")?;
    let import = t.elapsed();
    let t = Instant::now();
    copy.export_datapackage(&b)?;
    let again = t.elapsed();
    let (fa, fb) = (files(&a)?, files(&b)?);
    if fa != fb {
        return Err("datapackage round trip: the second export differs from the first".into());
    }
    let bytes: usize = fa.values().map(Vec::len).sum();
    println!(
        "datapackage round trip: export {}, import {}, export {}; {} files, {} bytes, identical",
        ms(export),
        ms(import),
        ms(again),
        fa.len(),
        bytes
    );

    let t = Instant::now();
    let first = reg.hsds_json()?;
    let export = t.elapsed();
    let t = Instant::now();
    let mut copy = Registry::open_in_memory()?;
    copy.import_hsds_json_str(&first, "bench.json", "bench")?;
    let import = t.elapsed();
    let t = Instant::now();
    let second = copy.hsds_json()?;
    let again = t.elapsed();
    if first != second {
        if let Ok(dir) = std::env::var("BENCH_DUMP") {
            std::fs::write(Path::new(&dir).join("first.json"), &first)?;
            std::fs::write(Path::new(&dir).join("second.json"), &second)?;
        }
        return Err("hsds json round trip: the second export differs from the first".into());
    }
    println!(
        "hsds json round trip: export {}, import {}, export {}; {} bytes, identical",
        ms(export),
        ms(import),
        ms(again),
        first.len()
    );
    Ok(())
}

fn files(dir: &Path) -> BenchResult<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        out.insert(
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path())?,
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// A deterministic pseudo-random sequence (xorshift64*), so that every run is the same.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------------------------
// The query mix.

const TEXTS: &[&str] = &[
    "assistenza domiciliare anziani",
    "mensa",
    "doposcuola",
    "sportello lavoro stranieri",
    "centro diurno",
    "accoglienza notturna",
    "senza dimora",
    "trasporto disabili",
    "asilo nido",
    "consulenza psicologica",
    "affido familiare",
    "corsi di italiano per stranieri",
    "orientamento al lavoro",
    "emergenza abitativa",
    "pasti a domicilio",
    "sostegno alla genitorialità",
    "telesoccorso",
    "centro di ascolto",
    "distribuzione pacchi alimentari",
    "ludoteca bambini",
    "educativa domiciliare minori",
    "segretariato sociale",
    "casa rifugio donne",
    "inserimento lavorativo persone con disabilità",
    "assistensa domicilare",
    "doposcula",
    "anziano solo",
    "attivita ricreative",
    "mediazione culturale",
    "contributo affitto",
    "centro per le famiglie",
    "dormitorio",
    "servizi per anziani non autosufficienti",
    "aiuto compiti",
    "sportello casa",
];

const PREFIXES: &[&str] = &[
    "domicil",
    "dopos",
    "spor",
    "assist",
    "accogl",
    "anzi",
    "media",
    "centro di",
    "orient",
    "lavor",
    "mens",
    "psico",
    "assistenza dom",
    "casa rif",
];

/// At least 1,200 queries of five kinds, the same every run for the same index.
fn query_mix(index: &SearchIndex) -> Vec<(&'static str, Query)> {
    let mut rng = Rng(0x0005_eed0_fda7_a1ab);
    let zones = index.zones();
    let mut mix = Vec::new();
    let moment = |rng: &mut Rng| -> NaiveDateTime {
        // A moment in the week of Monday 2024-03-04, in half hours from 07:00 to 22:30.
        let day = NaiveDate::from_ymd_opt(2024, 3, 4 + rng.below(7) as u32).unwrap_or_default();
        let half = 14 + rng.below(32) as u32;
        day.and_time(NaiveTime::from_hms_opt(half / 2, 30 * (half % 2), 0).unwrap_or_default())
    };
    for i in 0..1200 {
        let mut q = Query::default();
        let kind = match i % 5 {
            0 => {
                q.text = Some(rng.pick(TEXTS).to_string());
                "text"
            }
            1 => {
                q.text = Some(rng.pick(TEXTS).to_string());
                if rng.chance(50) && !zones.is_empty() {
                    q.zones = vec![rng.pick(zones).clone()];
                }
                if rng.chance(40) {
                    q.risks = vec![*rng.pick(SocialRisk::ALL)];
                }
                if rng.chance(30) {
                    q.age = Some(rng.below(90) as u32);
                }
                if rng.chance(30) {
                    q.free_only = true;
                }
                if rng.chance(30) {
                    q.near = Some((44.45 + rng.unit() * 0.1, 11.28 + rng.unit() * 0.12));
                }
                "text+filters"
            }
            2 => {
                q.risks = vec![*rng.pick(SocialRisk::ALL)];
                if rng.chance(50) {
                    q.target_groups = vec![*rng.pick(TargetGroup::ALL)];
                }
                if rng.chance(60) && !zones.is_empty() {
                    q.zones = vec![rng.pick(zones).clone(), rng.pick(zones).clone()];
                }
                if rng.chance(30) {
                    q.age = Some(rng.below(90) as u32);
                }
                "filters"
            }
            3 => {
                q.open_at = Some(moment(&mut rng));
                if rng.chance(50) {
                    q.text = Some(rng.pick(TEXTS).to_string());
                } else {
                    q.risks = vec![*rng.pick(SocialRisk::ALL)];
                }
                "open-now"
            }
            _ => {
                q.text = Some(rng.pick(PREFIXES).to_string());
                "prefix"
            }
        };
        if rng.chance(10) {
            q.offset = 20;
        }
        mix.push((kind, q));
    }
    mix
}

// ---------------------------------------------------------------------------------------------
// The generator: a made-up province of three municipalities and thirty statistical zones.

/// Kinds of service: name, description fragments, risks, target groups, age range.
struct Kind {
    name: &'static str,
    about: &'static str,
    risks: &'static [SocialRisk],
    groups: &'static [TargetGroup],
    ages: (Option<u32>, Option<u32>),
}

const KINDS: &[Kind] = {
    use SocialRisk as R;
    use TargetGroup as G;
    &[
        Kind {
            name: "Assistenza domiciliare anziani",
            about: "Aiuto a casa per l'igiene personale, i pasti e la compagnia dell'anziano non autosufficiente.",
            risks: &[R::NonSelfSufficiency],
            groups: &[G::Elderly],
            ages: (Some(65), None),
        },
        Kind {
            name: "Centro diurno per anziani",
            about: "Attività ricreative, pranzo e riabilitazione durante il giorno.",
            risks: &[R::NonSelfSufficiency, R::Health],
            groups: &[G::Elderly],
            ages: (Some(65), None),
        },
        Kind {
            name: "Mensa solidale",
            about: "Pasti caldi gratuiti per persone in difficoltà economica.",
            risks: &[R::Poverty],
            groups: &[G::Homeless, G::All],
            ages: (None, None),
        },
        Kind {
            name: "Accoglienza notturna",
            about: "Posti letto, doccia e colazione per persone senza dimora.",
            risks: &[R::Housing, R::Poverty],
            groups: &[G::Homeless],
            ages: (Some(18), None),
        },
        Kind {
            name: "Doposcuola",
            about: "Aiuto compiti e sostegno allo studio per ragazzi delle scuole medie.",
            risks: &[R::Education],
            groups: &[G::Minors],
            ages: (Some(11), Some(14)),
        },
        Kind {
            name: "Sportello lavoro stranieri",
            about: "Orientamento al lavoro, curriculum e bilancio di competenze per cittadini stranieri.",
            risks: &[R::Work, R::Migration],
            groups: &[G::Migrants, G::Unemployed],
            ages: (Some(18), None),
        },
        Kind {
            name: "Corsi di italiano",
            about: "Lezioni di lingua italiana e mediazione culturale per adulti stranieri.",
            risks: &[R::Migration, R::Education],
            groups: &[G::Migrants],
            ages: (Some(16), None),
        },
        Kind {
            name: "Asilo nido",
            about: "Educazione e cura dei bambini da tre mesi a tre anni.",
            risks: &[R::Childcare],
            groups: &[G::Minors, G::Families],
            ages: (Some(0), Some(3)),
        },
        Kind {
            name: "Centro per le famiglie",
            about: "Sostegno alla genitorialità, mediazione familiare, affido.",
            risks: &[R::Childcare],
            groups: &[G::Families],
            ages: (None, None),
        },
        Kind {
            name: "Trasporto disabili",
            about: "Accompagnamento con mezzi attrezzati verso scuole, centri e visite.",
            risks: &[R::Disability],
            groups: &[G::Disabled],
            ages: (None, None),
        },
        Kind {
            name: "Inserimento lavorativo",
            about: "Tirocini e borse lavoro per persone con disabilità o svantaggio.",
            risks: &[R::Work, R::Disability],
            groups: &[G::Disabled, G::Unemployed],
            ages: (Some(18), Some(65)),
        },
        Kind {
            name: "Consulenza psicologica",
            about: "Colloqui di sostegno psicologico individuali e di gruppo.",
            risks: &[R::Health],
            groups: &[G::All],
            ages: (None, None),
        },
        Kind {
            name: "Emergenza abitativa",
            about: "Alloggi temporanei e contributo affitto per famiglie sfrattate.",
            risks: &[R::Housing],
            groups: &[G::Families],
            ages: (None, None),
        },
        Kind {
            name: "Centro di ascolto",
            about: "Ascolto, orientamento ai servizi e distribuzione di pacchi alimentari.",
            risks: &[R::Poverty],
            groups: &[G::All],
            ages: (None, None),
        },
        Kind {
            name: "Casa rifugio",
            about: "Protezione e accoglienza per donne vittime di violenza e i loro figli.",
            risks: &[R::Housing, R::Health],
            groups: &[G::Women],
            ages: (Some(18), None),
        },
        Kind {
            name: "Telesoccorso",
            about: "Un pulsante per chiamare aiuto a ogni ora, per chi vive solo.",
            risks: &[R::NonSelfSufficiency],
            groups: &[G::Elderly, G::Disabled],
            ages: (None, None),
        },
        Kind {
            name: "Educativa domiciliare",
            about: "Educatori a casa per minori e famiglie in difficoltà.",
            risks: &[R::Childcare, R::Education],
            groups: &[G::Minors, G::Families],
            ages: (Some(0), Some(17)),
        },
        Kind {
            name: "Ludoteca",
            about: "Gioco libero e laboratori per bambini e genitori.",
            risks: &[R::Childcare],
            groups: &[G::Minors],
            ages: (Some(3), Some(12)),
        },
        Kind {
            name: "Segretariato sociale",
            about: "Informazioni, prima accoglienza e accesso ai servizi sociali del comune.",
            risks: &[R::Poverty, R::Housing],
            groups: &[G::All],
            ages: (None, None),
        },
        Kind {
            name: "Spazio giovani",
            about: "Sala prove, laboratori e consulenza per ragazzi e ragazze.",
            risks: &[R::Education, R::Health],
            groups: &[G::Youth],
            ages: (Some(14), Some(29)),
        },
    ]
};

const NAMES: &[&str] = &[
    "Arcobaleno",
    "Girasole",
    "Aquilone",
    "Melograno",
    "Ginestra",
    "Quercia",
    "Libeccio",
    "Tramontana",
    "Sorgente",
    "Approdo",
    "Germoglio",
    "Orizzonte",
    "Sentiero",
    "Radici",
    "Lanterna",
    "Bussola",
    "Alveare",
    "Pettirosso",
    "Mongolfiera",
    "Gelsomino",
];
const QUALIFIERS: &[&str] = &[
    "Insieme",
    "Aperto",
    "Solidale",
    "del Borgo",
    "di Quartiere",
    "Nuovo",
    "Sereno",
    "Verde",
];
const FORMS: &[(&str, OrganizationKind)] = &[
    ("Cooperativa Sociale", OrganizationKind::ThirdSector),
    ("Associazione", OrganizationKind::ThirdSector),
    ("Fondazione", OrganizationKind::ThirdSector),
    ("ODV", OrganizationKind::ThirdSector),
    ("APS", OrganizationKind::ThirdSector),
    ("Servizi", OrganizationKind::ForProfit),
];
const TOWNS: &[&str] = &["Borgoalto", "Valdifiume", "Pianaverde"];
const STREETS: &[&str] = &[
    "Via dei Tigli",
    "Via delle Rose",
    "Via del Mulino",
    "Piazza della Fontana",
    "Via dei Gelsi",
    "Viale dei Pini",
    "Via della Stazione",
    "Vicolo del Forno",
    "Via dei Campi",
    "Via del Castello",
];
const PLACES: &[&str] = &[
    "Casa di quartiere",
    "Centro civico",
    "Sede",
    "Polo sociale",
    "Spazio comune",
    "Villa",
];
const DAYS: &[&str] = &[
    "MO,TU,WE,TH,FR",
    "MO,WE,FR",
    "TU,TH",
    "MO,TU,WE,TH,FR,SA",
    "SA,SU",
];
const HOURS: &[(&str, &str)] = &[
    ("08:00", "14:00"),
    ("09:00", "13:00"),
    ("14:30", "18:30"),
    ("08:30", "17:00"),
    ("17:00", "20:00"),
    ("19:00", "21:30"),
    ("20:00", "08:00"),
];

fn time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

/// A registry of about `services` services, always the same for the same number.
fn generate(services: usize) -> BenchResult<Registry> {
    let mut rng = Rng(0x00c0_ffee_d00d_f00d);
    let mut reg = Registry::open_in_memory()?;
    let n_orgs = (services / 12).max(3);
    let n_locations = (services / 5).max(3);
    reg.edit("bench", |e| {
        for t in TOWNS {
            e.insert(&Organization {
                id: format!("o-comune-{}", t.to_lowercase()),
                name: format!("Comune di {t}"),
                kind: Some(OrganizationKind::PublicBody),
                municipality: Some(t.to_string()),
                ..Organization::default()
            })?;
        }
        let mut orgs: Vec<String> = TOWNS
            .iter()
            .map(|t| format!("o-comune-{}", t.to_lowercase()))
            .collect();
        for i in 0..n_orgs {
            let (form, kind) = *rng.pick(FORMS);
            let id = format!("o{i:05}");
            e.insert(&Organization {
                id: id.clone(),
                name: format!("{form} {} {}", rng.pick(NAMES), rng.pick(QUALIFIERS)),
                kind: Some(kind),
                municipality: Some(rng.pick(TOWNS).to_string()),
                status: if rng.chance(2) {
                    Status::Inactive
                } else {
                    Status::Active
                },
                ..Organization::default()
            })?;
            orgs.push(id);
        }
        for i in 0..n_locations {
            let id = format!("l{i:05}");
            let zone = rng.below(30);
            e.insert(&Location {
                id: id.clone(),
                location_type: LocationType::Physical,
                name: Some(format!("{} {}", rng.pick(PLACES), rng.pick(NAMES))),
                latitude: Some(44.45 + rng.unit() * 0.1),
                longitude: Some(11.28 + rng.unit() * 0.12),
                municipality: Some(TOWNS[zone % TOWNS.len()].to_string()),
                zone: Some(format!("Z{:02}", zone + 1)),
                ..Location::default()
            })?;
            e.insert(&Address {
                id: format!("a{i:05}"),
                location_id: id.clone(),
                address_1: format!("{} {}", rng.pick(STREETS), 1 + rng.below(120)),
                city: TOWNS[zone % TOWNS.len()].to_string(),
                state_province: "XX".into(),
                postal_code: format!("{:05}", 40100 + zone),
                country: "IT".into(),
                address_type: LocationType::Physical,
                ..Address::default()
            })?;
            if rng.chance(60) {
                let (opens, closes) = *rng.pick(&HOURS[..4]);
                e.insert(&Schedule {
                    id: format!("h-{id}"),
                    location_id: Some(id),
                    freq: Some("WEEKLY".into()),
                    byday: Some(rng.pick(DAYS).to_string()),
                    opens_at: time(opens),
                    closes_at: time(closes),
                    ..Schedule::default()
                })?;
            }
        }
        for i in 0..services {
            let kind = rng.pick(KINDS);
            let id = format!("s{i:05}");
            let name = if rng.chance(60) {
                format!("{} {}", kind.name, rng.pick(NAMES))
            } else {
                kind.name.to_string()
            };
            e.insert(&Service {
                id: id.clone(),
                organization_id: rng.pick(&orgs).clone(),
                name,
                description: Some(format!(
                    "{} Servizio {} con operatori qualificati.",
                    kind.about,
                    rng.pick(QUALIFIERS).to_lowercase()
                )),
                status: match rng.below(100) {
                    0 | 1 => Status::Defunct,
                    2 => Status::Inactive,
                    3 | 4 => Status::TemporarilyClosed,
                    _ => Status::Active,
                },
                minimum_age: kind.ages.0,
                maximum_age: kind.ages.1,
                risks: kind.risks.to_vec(),
                target_groups: kind.groups[..1 + rng.below(kind.groups.len())].to_vec(),
                free: Some(rng.chance(60)),
                ..Service::default()
            })?;
            if rng.chance(70) {
                let (opens, closes) = *rng.pick(HOURS);
                e.insert(&Schedule {
                    id: format!("h-{id}"),
                    service_id: Some(id.clone()),
                    freq: Some("WEEKLY".into()),
                    byday: Some(rng.pick(DAYS).to_string()),
                    opens_at: time(opens),
                    closes_at: time(closes),
                    ..Schedule::default()
                })?;
            }
            // Most services at one place, some at two or three, a few nowhere in particular.
            let places = match rng.below(20) {
                0 => 0,
                1..=12 => 1,
                13..=17 => 2,
                _ => 3,
            };
            let mut used = Vec::new();
            for _ in 0..places {
                let l = format!("l{:05}", rng.below(n_locations));
                if used.contains(&l) {
                    continue;
                }
                let sal = format!("sal-{id}-{l}");
                e.insert(&ServiceAtLocation {
                    id: sal.clone(),
                    service_id: id.clone(),
                    location_id: l.clone(),
                    description: None,
                })?;
                if rng.chance(15) {
                    let (opens, closes) = *rng.pick(HOURS);
                    e.insert(&Schedule {
                        id: format!("h-{sal}"),
                        service_at_location_id: Some(sal),
                        freq: Some("WEEKLY".into()),
                        byday: Some(rng.pick(DAYS).to_string()),
                        opens_at: time(opens),
                        closes_at: time(closes),
                        ..Schedule::default()
                    })?;
                }
                used.push(l);
            }
        }
        Ok(())
    })?;
    Ok(reg)
}
