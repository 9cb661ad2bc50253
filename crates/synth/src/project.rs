//! The lab project wired to the pseudonymized data: `datalab.toml`, `territories/`, one
//! `sources/<name>.toml` per source, and empty `indicators/` and `reports/`.
//!
//! Data minimisation: the lab specs read only the pseudonymized Parquet the custodians write
//! into `lab/data/<source>/` (see `custodian.rs`), never the raw custodian files. Direct
//! identifiers (tax codes, names, addresses, free text) do not reach the lab: it sees keyed
//! pseudonyms, generalized dates and places, and the columns the custodian keeps as raw text
//! (hence `decimal`, `thousands` and `date_formats` still describe the holders' formats).
//! Every column's `from` is the custodian's output column of the same name. The rules are
//! tuned so that exactly the injected invalid rows the custodian lets through fail.

use std::fmt::Write as _;

use crate::SynthError;
use crate::out::{Manifest, write_file};
use crate::population::{EventKind, Relation};
use crate::sources::{Ctx, gol, housing, inail, min_income, passi, services, social};
use crate::territory::{DISTRICT_CODES, Territory};

pub const CODELIST: &str = "territories/zones.csv";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Float,
    Boolean,
    Date,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Float => "float",
            Type::Boolean => "boolean",
            Type::Date => "date",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    Num(f64),
    Date(String),
}

/// One lab column; it reads the custodian's output column of the same name.
#[derive(Clone, Debug)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub pseudonym: bool,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    pub allowed: Vec<String>,
    pub codelist: bool,
    pub regex: Option<&'static str>,
}

fn col(name: &'static str, ty: Type, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required,
        pseudonym: false,
        min: None,
        max: None,
        allowed: Vec::new(),
        codelist: false,
        regex: None,
    }
}

/// A keyed pseudonym written by the custodian.
fn pid(name: &'static str, required: bool) -> ColumnSpec {
    ColumnSpec {
        pseudonym: true,
        ..col(name, Type::String, required)
    }
}

/// What the custodian derives from a valid tax code (2-digit birth year pivoted on the last
/// simulated year, so no bounds).
fn from_tax_code() -> [ColumnSpec; 3] {
    [
        col("birth_year", Type::Integer, false),
        col("sex", Type::String, false).allowed(&["M", "F"]),
        col("born_in_italy", Type::Boolean, false),
    ]
}

impl ColumnSpec {
    fn min(mut self, b: Bound) -> Self {
        self.min = Some(b);
        self
    }
    fn max(mut self, b: Bound) -> Self {
        self.max = Some(b);
        self
    }
    fn allowed<S: ToString>(mut self, values: &[S]) -> Self {
        self.allowed = values.iter().map(|v| v.to_string()).collect();
        self
    }
    fn codelist(mut self) -> Self {
        self.codelist = true;
        self
    }
    fn regex(mut self, r: &'static str) -> Self {
        self.regex = Some(r);
        self
    }
}

#[derive(Clone, Debug)]
pub struct SourceSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub holder: &'static str,
    pub decimal: Option<&'static str>,
    pub thousands: Option<&'static str>,
    pub date_formats: Vec<&'static str>,
    pub null_values: Vec<&'static str>,
    pub unique: Vec<&'static str>,
    pub period: &'static str,
    pub columns: Vec<ColumnSpec>,
}

impl SourceSpec {
    /// The pseudonymized Parquet files, relative to the lab folder.
    pub fn files(&self) -> String {
        format!("data/{}/*.parquet", self.name)
    }
}

fn date(s: String) -> Bound {
    Bound::Date(s)
}

/// The lab's source specs for a run covering `first..=last`.
pub fn source_specs(first: i32, last: i32) -> Vec<SourceSpec> {
    use Type::*;
    let y0 = format!("{first}-01-01");
    let y1 = format!("{last}-12-31");
    let zone_codes = |name: &'static str, required: bool| col(name, String, required).codelist();
    let base = |name, title, holder, decimal| SourceSpec {
        name,
        title,
        holder,
        decimal,
        thousands: None,
        date_formats: vec!["%d/%m/%Y"],
        null_values: vec![""],
        unique: Vec::new(),
        period: "",
        columns: Vec::new(),
    };
    let relations: Vec<&str> = Relation::LABELS.to_vec();
    let [birth_year, sex, born_in_italy] = from_tax_code();
    let derived = [birth_year, sex, born_in_italy];
    let with = |mut head: Vec<ColumnSpec>, tail: Vec<ColumnSpec>| {
        head.extend(derived.iter().cloned());
        head.extend(tail);
        head
    };
    vec![
        SourceSpec {
            unique: vec!["register_pid", "ref_date"],
            period: "ref_date",
            columns: vec![
                pid("register_pid", true),
                pid("person_pid", true),
                pid("person_wpid", false),
                col("postcode", String, false).regex("^[0-9]{5}$"),
                col("sex", String, true).allowed(&["M", "F"]),
                col("birth_month", Date, true)
                    .min(date("1900-01-01".into()))
                    .max(date(y1.clone())),
                col("birth_year", Integer, true)
                    .min(Bound::Num(1900.0))
                    .max(Bound::Num(last as f64)),
                col("birth_place", String, false),
                col("citizenship", String, false).regex("^[A-Z]{3}$"),
                zone_codes("zone", true),
                col("district", String, true).allowed(&DISTRICT_CODES),
                pid("household_pid", true),
                col("relation", String, true).allowed(&relations),
                col("ref_date", Date, true)
                    .min(date(format!("{first}-12-31")))
                    .max(date(y1.clone())),
            ],
            ..base(
                "register",
                "Anagrafe della popolazione residente (istantanee annuali)",
                "Comune di Modena - Servizi demografici",
                Some(","),
            )
        },
        SourceSpec {
            unique: vec!["event_id"],
            period: "event_date",
            columns: vec![
                col("event_id", String, true).regex("^E[0-9]{9}$"),
                pid("register_pid", true),
                col("event_type", String, true).allowed(&EventKind::LABELS),
                col("event_date", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                zone_codes("zone_from", false),
                zone_codes("zone_to", false),
                col("registration_date", Date, true).min(date(y0.clone())),
            ],
            ..base(
                "register_events",
                "Anagrafe: eventi demografici (nascite, decessi, cambi di abitazione, iscrizioni, cancellazioni)",
                "Comune di Modena - Servizi demografici",
                Some(","),
            )
        },
        SourceSpec {
            thousands: Some("."),
            unique: vec!["protocol"],
            period: "submission_date",
            columns: with(
                vec![
                    col("protocol", String, true)
                        .regex("^INPS-ISEE-[0-9]{4}-[0-9]{8}[A-Z]-[0-9]{2}$"),
                    pid("person_pid", true),
                ],
                vec![
                    col("submission_date", Date, true)
                        .min(date(y0.clone()))
                        .max(date(y1.clone())),
                    col("members", Integer, true)
                        .min(Bound::Num(1.0))
                        .max(Bound::Num(20.0)),
                    col("isee", Float, true)
                        .min(Bound::Num(0.0))
                        .max(Bound::Num(5_000_000.0)),
                    col("isr", Float, true).min(Bound::Num(0.0)),
                    col("isp", Float, false).min(Bound::Num(0.0)),
                    col("equivalence_scale", Float, true)
                        .min(Bound::Num(1.0))
                        .max(Bound::Num(10.0)),
                    col("isee_type", String, false).allowed(&crate::sources::isee::TYPES),
                ],
            ),
            ..base(
                "isee",
                "INPS: dichiarazioni ISEE (DSU) dei residenti",
                "INPS - Direzione provinciale di Modena",
                Some(","),
            )
        },
        SourceSpec {
            date_formats: vec!["%Y-%m-%d"],
            unique: vec!["case_id"],
            period: "start_date",
            columns: vec![
                col("case_id", String, true).regex("^CS[0-9]{10}$"),
                pid("person_pid", true),
                col("sex", String, true).allowed(&["M", "F"]),
                col("birth_year", Integer, true)
                    .min(Bound::Num(1900.0))
                    .max(Bound::Num(last as f64)),
                col("area", String, true).allowed(&social::AREAS),
                col("intervention_type", String, true).allowed(&social::type_names()),
                col("start_date", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("end_date", Date, false)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("amount", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100_000.0)),
                zone_codes("zone", true),
            ],
            ..base(
                "social_cases",
                "Cartella sociale: interventi dei servizi sociali",
                "Comune di Modena - Settore Servizi sociali",
                Some("."),
            )
        },
        SourceSpec {
            // XLSX cells the custodian keeps arrive as text: numbers as plain decimals
            // ("4250.35"), Excel dates as ISO dates; text typed into a date cell stays as typed.
            date_formats: vec!["%Y-%m-%d", "%d/%m/%Y"],
            unique: vec!["application_id"],
            period: "application_date",
            columns: with(
                vec![
                    col("application_id", String, true).regex("^ERP/[0-9]{4}/[0-9]{5}$"),
                    pid("person_pid", true),
                ],
                vec![
                    col("application_date", Date, true)
                        .min(date(y0.clone()))
                        .max(date(y1.clone())),
                    col("members", Integer, true)
                        .min(Bound::Num(1.0))
                        .max(Bound::Num(20.0)),
                    col("isee", Float, false)
                        .min(Bound::Num(0.0))
                        .max(Bound::Num(1_000_000.0)),
                    col("score", Float, true)
                        .min(Bound::Num(0.0))
                        .max(Bound::Num(100.0)),
                    col("outcome", String, true).allowed(&housing::OUTCOMES),
                    zone_codes("zone", true),
                ],
            ),
            ..base(
                "housing",
                "Domande di assegnazione alloggi di edilizia residenziale pubblica (ERP)",
                "Comune di Modena - Settore Politiche abitative",
                Some("."),
            )
        },
        SourceSpec {
            unique: vec!["application_id"],
            period: "start_month",
            columns: with(
                vec![
                    col("application_id", String, true)
                        .regex("^(SIA|REI|RDC|PDC|ADI|SFL)-[0-9]{4}-[0-9]{7}$"),
                    pid("person_pid", true),
                ],
                vec![
                    col("measure", String, true).allowed(&min_income::MEASURES),
                    col("start_month", Date, true)
                        .min(date("2016-01-01".into()))
                        .max(date(y1.clone())),
                    col("end_date", Date, false)
                        .min(date("2016-01-01".into()))
                        .max(date(y1.clone())),
                    col("monthly_amount", Float, true)
                        .min(Bound::Num(0.0))
                        .max(Bound::Num(2_500.0)),
                    col("members", Integer, true)
                        .min(Bound::Num(1.0))
                        .max(Bound::Num(20.0)),
                    col("status", String, true).allowed(&min_income::STATUSES),
                ],
            ),
            ..base(
                "min_income",
                "INPS: misure di reddito minimo (RdC/PdC fino al 2023, SFL e ADI dal 2023-2024)",
                "INPS - Direzione provinciale di Modena",
                Some(","),
            )
        },
        SourceSpec {
            date_formats: vec!["%Y-%m-%d"],
            unique: vec!["measure_id"],
            period: "start_date",
            columns: with(
                vec![
                    col("measure_id", String, true).regex("^GOL-[0-9]{4}-[0-9]{7}$"),
                    pid("person_pid", true),
                ],
                vec![
                    col("pathway", Integer, true)
                        .min(Bound::Num(1.0))
                        .max(Bound::Num(5.0)),
                    col("measure", String, true),
                    col("start_date", Date, true)
                        .min(date(format!("{}-01-01", gol::FIRST_YEAR.min(first))))
                        .max(date(y1.clone())),
                    col("end_date", Date, false),
                    col("outcome", String, true).allowed(&gol::OUTCOMES),
                ],
            ),
            ..base(
                "gol",
                "Centro per l'impiego: misure del programma GOL",
                "Agenzia regionale per il lavoro - Centro per l'impiego di Modena",
                None,
            )
        },
        SourceSpec {
            null_values: vec!["", "NA"],
            unique: vec![
                "indicator",
                "area",
                "period_label",
                "breakdown",
                "breakdown_value",
            ],
            period: "year",
            columns: vec![
                col("indicator", String, true).allowed(&passi::INDICATORS),
                col("area", String, true).allowed(&passi::AREAS),
                col("period_label", String, true).regex("^[0-9]{4}-[0-9]{4}$"),
                col("year", Integer, true)
                    .min(Bound::Num(first as f64))
                    .max(Bound::Num(last as f64)),
                col("breakdown", String, true).allowed(&passi::VARIABLES),
                col("breakdown_value", String, true),
                col("sample_size", Integer, true).min(Bound::Num(0.0)),
                col("prevalence", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
                col("ci_lower", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
                col("ci_upper", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
            ],
            ..base(
                "health_survey",
                "Sorveglianza PASSI: prevalenze aggregate (nessun microdato)",
                "AUSL di Modena - Epidemiologia",
                Some(","),
            )
        },
        SourceSpec {
            unique: vec!["year", "ateco_section"],
            period: "year",
            columns: vec![
                col("year", Integer, true)
                    .min(Bound::Num(first as f64))
                    .max(Bound::Num(last as f64)),
                col("territory", String, true),
                col("ateco_section", String, true)
                    .allowed(&inail::SECTIONS.iter().map(|s| s.0).collect::<Vec<_>>()),
                col("sector", String, false),
                col("reported", Integer, true).min(Bound::Num(0.0)),
                col("recognised", Integer, true).min(Bound::Num(0.0)),
                col("fatal", Integer, true).min(Bound::Num(0.0)),
            ],
            ..base(
                "accidents",
                "INAIL: infortuni sul lavoro per settore ATECO (dati aggregati)",
                "INAIL - Sede di Modena",
                Some(","),
            )
        },
        SourceSpec {
            unique: vec!["year", "zone", "service"],
            period: "year",
            columns: vec![
                col("year", Integer, true)
                    .min(Bound::Num(first as f64))
                    .max(Bound::Num(last as f64)),
                zone_codes("zone", true),
                col("service", String, true).allowed(&services::service_names()),
                col("provider_type", String, true).allowed(&services::PROVIDERS),
                col("places", Integer, true).min(Bound::Num(0.0)),
                col("users", Integer, false).min(Bound::Num(0.0)),
                col("operators", Integer, false).min(Bound::Num(0.0)),
                col("fte", Float, false).min(Bound::Num(0.0)),
                col("waiting_list", Integer, false).min(Bound::Num(0.0)),
            ],
            ..base(
                "services_supply",
                "Servizi sociali: offerta per zona (posti, utenti, operatori, liste d'attesa)",
                "Comune di Modena - Settore Servizi sociali",
                Some(","),
            )
        },
    ]
}

/// A TOML basic string.
pub(crate) fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn list(items: &[&str]) -> String {
    let v: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", v.join(", "))
}

fn bound(b: &Bound) -> String {
    match b {
        Bound::Num(x) if x.fract() == 0.0 => format!("{}", *x as i64),
        Bound::Num(x) => format!("{x}"),
        Bound::Date(d) => q(d),
    }
}

/// Renders a source spec as `sources/<name>.toml`.
pub fn render(spec: &SourceSpec) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "format_version = 1");
    let _ = writeln!(s, "title = {}", q(spec.title));
    let _ = writeln!(s, "holder = {}", q(spec.holder));
    let _ = writeln!(s, "files = [{}]", q(&spec.files()));
    let _ = writeln!(s, "format = {}", q("parquet"));
    if let Some(d) = spec.decimal {
        let _ = writeln!(s, "decimal = {}", q(d));
    }
    if let Some(t) = spec.thousands {
        let _ = writeln!(s, "thousands = {}", q(t));
    }
    let _ = writeln!(s, "date_formats = {}", list(&spec.date_formats));
    let _ = writeln!(s, "null_values = {}", list(&spec.null_values));
    let _ = writeln!(s, "unique = {}", list(&spec.unique));
    let _ = writeln!(s, "period = {}", q(spec.period));
    for c in &spec.columns {
        s.push_str("\n[[columns]]\n");
        let _ = writeln!(s, "name = {}", q(c.name));
        let _ = writeln!(s, "from = {}", q(c.name));
        let _ = writeln!(s, "type = {}", q(c.ty.name()));
        let _ = writeln!(s, "required = {}", c.required);
        let _ = writeln!(s, "pseudonym = {}", c.pseudonym);
        if let Some(b) = &c.min {
            let _ = writeln!(s, "min = {}", bound(b));
        }
        if let Some(b) = &c.max {
            let _ = writeln!(s, "max = {}", bound(b));
        }
        if !c.allowed.is_empty() {
            let v: Vec<&str> = c.allowed.iter().map(|x| x.as_str()).collect();
            let _ = writeln!(s, "allowed = {}", list(&v));
        }
        if c.codelist {
            let _ = writeln!(s, "codelist = {}", q(CODELIST));
        }
        if let Some(r) = c.regex {
            let _ = writeln!(s, "regex = {}", q(r));
        }
    }
    s
}

/// Writes the lab project folder.
pub fn write(ctx: &Ctx, territory: &Territory, manifest: &mut Manifest) -> Result<(), SynthError> {
    let toml = format!(
        "format_version = 1
name = \"modena-synthetic\"
title = \"Comune di Modena (città sintetica)\"
languages = [\"it\", \"en\"]

[territory]
levels = [\"region\", \"province\", \"municipality\", \"district\", \"zone\"]
codelist = \"territories/zones.csv\"
boundaries = [\"territories/districts.geojson\", \"territories/zones.geojson\"]

[periods]
type = \"year\"
first = {first}
last = {last}

[defaults]
encoding = \"utf-8\"
delimiter = \",\"
decimal = \".\"
date_formats = [\"%Y-%m-%d\"]
null_values = [\"\", \"NA\"]

# Record linkage: the register lists the residents of each year; records of every source link
# to them through these pseudonyms (tax code, register id, then the weak name-and-birth one).
[linkage]
spine = \"register\"
person_keys = [\"person_pid\", \"register_pid\", \"person_wpid\"]
household_key = \"household_pid\"

# Forecasts in the cube: every indicator's totals three years past the last observed year,
# flagged (`forecast` is true, `model` names the model), zones adding up to districts and to
# the city wherever the observations do.
[forecast]
horizon = \"3y\"
method = \"auto\"
level = 95
reconcile = \"wls\"
",
        first = ctx.first,
        last = ctx.last
    );
    write_file(ctx.root, "lab/datalab.toml", &toml, 0, manifest)?;
    write_file(
        ctx.root,
        "lab/territories/zones.csv",
        &territory.zones_csv(),
        territory.zones.len() as u64,
        manifest,
    )?;
    write_file(
        ctx.root,
        "lab/territories/zones.geojson",
        &territory.zones_geojson(),
        territory.zones.len() as u64,
        manifest,
    )?;
    write_file(
        ctx.root,
        "lab/territories/districts.geojson",
        &territory.districts_geojson(),
        DISTRICT_CODES.len() as u64,
        manifest,
    )?;
    for spec in source_specs(ctx.first, ctx.last) {
        write_file(
            ctx.root,
            &format!("lab/sources/{}.toml", spec.name),
            &render(&spec),
            0,
            manifest,
        )?;
    }
    write_file(
        ctx.root,
        "lab/indicators/README.md",
        "Indicator definitions (`<name>.toml`: numerator, denominator, filters, breakdowns) go here.\n",
        0,
        manifest,
    )?;
    for (file, text) in release_specs(ctx.first, ctx.last) {
        write_file(ctx.root, &file, &text, 0, manifest)?;
    }
    for (file, text) in REPORTS {
        write_file(ctx.root, &format!("lab/reports/{file}"), text, 0, manifest)?;
    }
    for (file, text) in SIMULATIONS {
        write_file(
            ctx.root,
            &format!("lab/simulations/{file}"),
            text,
            0,
            manifest,
        )?;
    }
    Ok(())
}

/// The benefit rules and scenarios of the synthetic city (`datalab simulate`): the Assegno di
/// inclusione with its 2024 and 2025 rules (simplified models), a hypothetical municipal
/// contribution, a baseline and a reform.
const SIMULATIONS: &[(&str, &str)] = &[
    (
        "rules/adi_2024.toml",
        include_str!("../../forecast/simulations/rules/adi_2024.toml"),
    ),
    (
        "rules/adi_2025.toml",
        include_str!("../../forecast/simulations/rules/adi_2025.toml"),
    ),
    (
        "rules/contributo_minori.toml",
        include_str!("../../forecast/simulations/rules/contributo_minori.toml"),
    ),
    (
        "scenarios/baseline.toml",
        include_str!("../../forecast/simulations/scenarios/baseline.toml"),
    ),
    (
        "scenarios/adi_soglie_2025.toml",
        include_str!("../../forecast/simulations/scenarios/adi_soglie_2025.toml"),
    ),
];

/// The report templates of the synthetic city (`datalab report NAME`): the annual report, a
/// thematic report on older people and a district profile, each in Italian and English.
const REPORTS: &[(&str, &str)] = &[
    ("README.md", include_str!("../../report/REPORTS.md")),
    ("annual.toml", include_str!("../reports/annual.toml")),
    ("annual.it.md", include_str!("../reports/annual.it.md")),
    ("annual.en.md", include_str!("../reports/annual.en.md")),
    ("elderly.toml", include_str!("../reports/elderly.toml")),
    ("elderly.it.md", include_str!("../reports/elderly.it.md")),
    ("elderly.en.md", include_str!("../reports/elderly.en.md")),
    (
        "district_profile.toml",
        include_str!("../reports/district_profile.toml"),
    ),
    (
        "district_profile.it.md",
        include_str!("../reports/district_profile.it.md"),
    ),
    (
        "district_profile.en.md",
        include_str!("../reports/district_profile.en.md"),
    ),
];

/// Indicators of the annual release besides the two above: (id, numerator counts people or
/// households).
const RELEASED_SERIES: &[(&str, bool)] = &[
    ("share_elderly_65", true),
    ("share_elderly_80", true),
    ("elderly_75_living_alone", true),
    ("share_foreign_residents", true),
    ("share_minors", true),
    ("one_person_households", true),
    ("at_risk_of_poverty_isee", true),
    ("min_income_households_rate", true),
    ("housing_waiting_list", true),
    ("social_service_users", true),
    ("home_care_users_65", true),
    ("children_in_care", true),
    ("elderly_80_alone_home_care_need", true),
    ("smoking", false),
];

/// The synthetic city's releases: an annual public release (linked frequency tables, a
/// magnitude table, indicators from the cube) and an extract for a research partner (k-anonymous
/// microdata and an ad-hoc table that waits for an output checker). The annual release carries
/// the indicator series the annual report, the data packs and the site show.
fn release_specs(first: i32, year: i32) -> Vec<(String, String)> {
    let periods = (first..=year)
        .map(|y| format!("\"{y}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let series: String = RELEASED_SERIES
        .iter()
        .map(|(id, counts)| {
            format!(
                "\n[[indicator]]\nname = \"{id}\"\nindicator = \"{id}\"\nperiods = [{periods}]\n\
                 levels = [\"municipality\", \"district\", \"zone\"]\n{}",
                if *counts { "counts = true\n" } else { "" }
            )
        })
        .collect();
    let annual = format!(
        r#"# The annual public release: everything here passes the disclosure gate automatically.
format_version = 1
title = "Rapporto annuale {year}: reddito minimo e popolazione"
audience = "public"
purpose = "annual welfare report and open data"

[policy]
threshold = 5

# Members of households receiving a minimum-income benefit, by district within the city, age
# band and citizenship; the same people by sex (the two tables share their margins and are
# protected together).
[[table]]
name = "min_income_people_by_age_citizenship"
title = "Persone in nuclei con reddito minimo per zona, età e cittadinanza, {year}"
query = """
SELECT r.person, r.zone, r.age_band, r.citizenship_group, r.sex
FROM residents r
JOIN min_income_households m ON m.year = r.year AND m.household = r.household
WHERE r.year = {year}
"""
unit = "person"
territory = "zone"
levels = ["municipality", "district"]
dimensions = ["age_band", "citizenship_group"]

[[table]]
name = "min_income_people_by_sex"
query = """
SELECT r.person, r.zone, r.age_band, r.citizenship_group, r.sex
FROM residents r
JOIN min_income_households m ON m.year = r.year AND m.household = r.household
WHERE r.year = {year}
"""
unit = "person"
territory = "zone"
levels = ["municipality", "district"]
dimensions = ["sex"]

# Amounts paid: a magnitude table (dominance and p% rules on each household's amount).
[[table]]
name = "min_income_paid_by_measure"
title = "Importi erogati per zona e misura, {year}"
query = "SELECT household, zone, measure, paid_in_year FROM min_income_households WHERE year = {year}"
unit = "household"
territory = "zone"
levels = ["municipality", "district", "zone"]
dimensions = ["measure"]
measure = "paid_in_year"

# From the cube: residents by zone and sex, rounded to base 5 for open data.
[[indicator]]
name = "population_by_sex"
indicator = "population"
periods = [{periods}]
levels = ["municipality", "district", "zone"]
breakdowns = ["sex"]
method = "round"
counts = true

[[indicator]]
name = "min_income_recipients"
indicator = "min_income_recipients"
periods = [{periods}]
levels = ["municipality", "district", "zone"]
counts = true

# The series of the annual report (every year, every level; count numerators protected by
# suppression, survey estimates by their sample size).
{series}"#
    );
    let partner = format!(
        r#"# An extract for the university's research team, and a table only an output checker can pass.
format_version = 1
title = "Estratto per la ricerca sul reddito minimo, {year}"
audience = "partners"
purpose = "evaluation of the minimum-income measures (research agreement with the university)"

[[microdata]]
name = "min_income_extract"
query = """
SELECT r.person, r.age, r.sex, r.zone, r.citizenship_group, r.household_type, m.measure
FROM residents r
JOIN min_income_households m ON m.year = r.year AND m.household = r.household
WHERE r.year = {year}
"""
quasi = [
    {{ column = "age", bands = [5, 10, 20] }},
    {{ column = "zone", territory = true }},
    {{ column = "sex" }},
    {{ column = "citizenship_group" }},
]
sensitive = ["household_type"]
k = 5
l = 2
max_suppressed = 0.1

[[adhoc]]
name = "mean_paid_by_measure"
query = "SELECT measure, count(*) AS households, round(avg(paid_in_year), 0) AS mean_paid FROM min_income_households WHERE year = {year} GROUP BY measure ORDER BY measure"
description = "mean amount paid per household by measure; every group has hundreds of households"
"#
    );
    vec![
        ("lab/releases/annual.toml".into(), annual),
        ("lab/releases/partner.toml".into(), partner),
    ]
}
