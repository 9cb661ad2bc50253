//! The lab project wired to the custodian files: `datalab.toml`, `territories/`, one
//! `sources/<name>.toml` per custodian file, and empty `indicators/` and `reports/`.
//!
//! Data minimisation: the specs map no direct identifier (tax codes, names, addresses, free
//! text); unmapped holder columns are dropped by the loader. Their rules are tuned so that
//! exactly the injected invalid rows fail.

use std::fmt::Write as _;

use crate::SynthError;
use crate::out::{Manifest, write_file};
use crate::population::{EventKind, Relation};
use crate::sources::{Ctx, gol, housing, inail, min_income, passi, social};
use crate::territory::{DISTRICT_CODES, Territory};

pub const CODELIST: &str = "territories/zones.csv";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Float,
    Date,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Float => "float",
            Type::Date => "date",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    Num(f64),
    Date(String),
}

#[derive(Clone, Debug)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub from: &'static str,
    pub ty: Type,
    pub required: bool,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    pub allowed: Vec<String>,
    pub codelist: bool,
    pub regex: Option<&'static str>,
}

fn col(name: &'static str, from: &'static str, ty: Type, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        from,
        ty,
        required,
        min: None,
        max: None,
        allowed: Vec::new(),
        codelist: false,
        regex: None,
    }
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
    pub files: &'static str,
    pub format: &'static str,
    pub encoding: &'static str,
    pub delimiter: Option<&'static str>,
    pub decimal: Option<&'static str>,
    pub thousands: Option<&'static str>,
    pub header_row: Option<u32>,
    pub sheet: Option<&'static str>,
    pub date_formats: Vec<&'static str>,
    pub null_values: Vec<&'static str>,
    pub unique: Vec<&'static str>,
    pub period: &'static str,
    pub columns: Vec<ColumnSpec>,
}

fn date(s: String) -> Bound {
    Bound::Date(s)
}

/// The lab's source specs for a run covering `first..=last`.
pub fn source_specs(first: i32, last: i32) -> Vec<SourceSpec> {
    use Type::*;
    let y0 = format!("{first}-01-01");
    let y1 = format!("{last}-12-31");
    let zone_codes = |name: &'static str, from: &'static str, required: bool| {
        col(name, from, String, required).codelist()
    };
    let csv = |name, title, holder, files, delimiter, decimal| SourceSpec {
        name,
        title,
        holder,
        files,
        format: "csv",
        encoding: "utf-8",
        delimiter: Some(delimiter),
        decimal: Some(decimal),
        thousands: None,
        header_row: Some(1),
        sheet: None,
        date_formats: vec!["%d/%m/%Y"],
        null_values: vec![""],
        unique: Vec::new(),
        period: "",
        columns: Vec::new(),
    };
    let relations: Vec<&str> = Relation::LABELS.to_vec();
    vec![
        SourceSpec {
            unique: vec!["person_id", "ref_date"],
            period: "ref_date",
            columns: vec![
                col("person_id", "ID_INDIVIDUO", String, true).regex("^A[0-9]{8}$"),
                col("sex", "SESSO", String, true).allowed(&["M", "F"]),
                col("birth_date", "DATA_NASCITA", Date, true)
                    .min(date("1900-01-01".into()))
                    .max(date(y1.clone())),
                col("birth_place", "LUOGO_NASCITA", String, false),
                col("citizenship", "CITTADINANZA", String, false).regex("^[A-Z]{3}$"),
                zone_codes("zone", "ZONA_STAT", true),
                col("district", "QUARTIERE", String, true).allowed(&DISTRICT_CODES),
                col("household_id", "ID_FAMIGLIA", String, true).regex("^F[0-9]{8}$"),
                col("relation", "RELAZIONE_PARENTELA", String, true).allowed(&relations),
                col("ref_date", "DATA_RIFERIMENTO", Date, true)
                    .min(date(format!("{first}-12-31")))
                    .max(date(y1.clone())),
            ],
            ..csv(
                "register",
                "Anagrafe della popolazione residente (istantanee annuali)",
                "Comune di Modena - Servizi demografici",
                "../custodian/anagrafe/anagrafe_*.csv",
                ";",
                ",",
            )
        },
        SourceSpec {
            unique: vec!["event_id"],
            period: "event_date",
            columns: vec![
                col("event_id", "ID_EVENTO", String, true).regex("^E[0-9]{9}$"),
                col("person_id", "ID_INDIVIDUO", String, true).regex("^A[0-9]{8}$"),
                col("event_type", "TIPO_EVENTO", String, true).allowed(&EventKind::LABELS),
                col("event_date", "DATA_EVENTO", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                zone_codes("zone_from", "ZONA_DA", false),
                zone_codes("zone_to", "ZONA_A", false),
                col("registration_date", "DATA_REGISTRAZIONE", Date, true).min(date(y0.clone())),
            ],
            ..csv(
                "register_events",
                "Anagrafe: eventi demografici (nascite, decessi, cambi di abitazione, iscrizioni, cancellazioni)",
                "Comune di Modena - Servizi demografici",
                "../custodian/anagrafe/eventi.csv",
                ";",
                ",",
            )
        },
        SourceSpec {
            encoding: "windows-1252",
            thousands: Some("."),
            unique: vec!["protocol"],
            period: "submission_date",
            columns: vec![
                col("protocol", "PROTOCOLLO_DSU", String, true)
                    .regex("^INPS-ISEE-[0-9]{4}-[0-9]{8}[A-Z]-[0-9]{2}$"),
                col("submission_date", "DATA_PRESENTAZIONE", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("members", "NUMERO_COMPONENTI", Integer, true)
                    .min(Bound::Num(1.0))
                    .max(Bound::Num(20.0)),
                col("isee", "VALORE_ISEE", Float, true)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(5_000_000.0)),
                col("isr", "VALORE_ISR", Float, true).min(Bound::Num(0.0)),
                col("isp", "VALORE_ISP", Float, false).min(Bound::Num(0.0)),
                col("equivalence_scale", "SCALA_EQUIVALENZA", Float, true)
                    .min(Bound::Num(1.0))
                    .max(Bound::Num(10.0)),
                col("isee_type", "TIPO_ISEE", String, false).allowed(&crate::sources::isee::TYPES),
            ],
            ..csv(
                "isee",
                "INPS: dichiarazioni ISEE (DSU) dei residenti",
                "INPS - Direzione provinciale di Modena",
                "../custodian/inps/isee_dsu.csv",
                ";",
                ",",
            )
        },
        SourceSpec {
            date_formats: vec!["%Y-%m-%d"],
            unique: vec!["case_id"],
            period: "start_date",
            columns: vec![
                col("case_id", "ID_INTERVENTO", String, true).regex("^CS[0-9]{10}$"),
                col("area", "AREA", String, true).allowed(&social::AREAS),
                col("intervention_type", "TIPO_INTERVENTO", String, true)
                    .allowed(&social::type_names()),
                col("start_date", "DATA_INIZIO", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("end_date", "DATA_FINE", Date, false)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("amount", "IMPORTO_EURO", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100_000.0)),
                zone_codes("zone", "ZONA", true),
            ],
            ..csv(
                "social_cases",
                "Cartella sociale: interventi dei servizi sociali",
                "Comune di Modena - Settore Servizi sociali",
                "../custodian/sociale/cartella_sociale.csv",
                ",",
                ".",
            )
        },
        SourceSpec {
            format: "xlsx",
            delimiter: None,
            decimal: None,
            header_row: Some(housing::HEADER_ROW),
            sheet: Some(housing::SHEET),
            unique: vec!["application_id"],
            period: "application_date",
            columns: vec![
                col("application_id", "NUMERO_DOMANDA", String, true)
                    .regex("^ERP/[0-9]{4}/[0-9]{5}$"),
                col("application_date", "DATA_DOMANDA", Date, true)
                    .min(date(y0.clone()))
                    .max(date(y1.clone())),
                col("members", "NUM_COMPONENTI", Integer, true)
                    .min(Bound::Num(1.0))
                    .max(Bound::Num(20.0)),
                col("isee", "ISEE", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(1_000_000.0)),
                col("score", "PUNTEGGIO", Float, true)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
                col("outcome", "ESITO", String, true).allowed(&housing::OUTCOMES),
                zone_codes("zone", "ZONA", true),
            ],
            ..csv(
                "housing",
                "Domande di assegnazione alloggi di edilizia residenziale pubblica (ERP)",
                "Comune di Modena - Settore Politiche abitative",
                "../custodian/casa/domande_erp.xlsx",
                "",
                "",
            )
        },
        SourceSpec {
            unique: vec!["application_id"],
            period: "start_month",
            columns: vec![
                col("application_id", "ID_DOMANDA", String, true)
                    .regex("^(SIA|REI|RDC|PDC|ADI|SFL)-[0-9]{4}-[0-9]{7}$"),
                col("measure", "MISURA", String, true).allowed(&min_income::MEASURES),
                col("start_month", "DECORRENZA", Date, true)
                    .min(date("2016-01-01".into()))
                    .max(date(y1.clone())),
                col("end_date", "DATA_FINE", Date, false)
                    .min(date("2016-01-01".into()))
                    .max(date(y1.clone())),
                col("monthly_amount", "IMPORTO_MENSILE", Float, true)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(2_500.0)),
                col("members", "NUM_COMPONENTI", Integer, true)
                    .min(Bound::Num(1.0))
                    .max(Bound::Num(20.0)),
                col("status", "STATO", String, true).allowed(&min_income::STATUSES),
            ],
            ..csv(
                "min_income",
                "INPS: misure di reddito minimo (RdC/PdC fino al 2023, SFL e ADI dal 2023-2024)",
                "INPS - Direzione provinciale di Modena",
                "../custodian/inps/reddito_minimo.csv",
                ";",
                ",",
            )
        },
        SourceSpec {
            format: "jsonl",
            delimiter: None,
            decimal: None,
            header_row: None,
            date_formats: vec!["%Y-%m-%d"],
            unique: vec!["measure_id"],
            period: "start_date",
            columns: vec![
                col("measure_id", "id_misura", String, true).regex("^GOL-[0-9]{4}-[0-9]{7}$"),
                col("pathway", "percorso", Integer, true)
                    .min(Bound::Num(1.0))
                    .max(Bound::Num(5.0)),
                col("measure", "misura", String, true),
                col("start_date", "data_inizio", Date, true)
                    .min(date(format!("{}-01-01", gol::FIRST_YEAR.min(first))))
                    .max(date(y1.clone())),
                col("end_date", "data_fine", Date, false),
                col("outcome", "esito", String, true).allowed(&gol::OUTCOMES),
            ],
            ..csv(
                "gol",
                "Centro per l'impiego: misure del programma GOL",
                "Agenzia regionale per il lavoro - Centro per l'impiego di Modena",
                "../custodian/lavoro/gol_misure.jsonl",
                "",
                "",
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
                col("indicator", "INDICATORE", String, true).allowed(&passi::INDICATORS),
                col("area", "AREA", String, true).allowed(&passi::AREAS),
                col("period_label", "PERIODO", String, true).regex("^[0-9]{4}-[0-9]{4}$"),
                col("year", "ANNO_FINE", Integer, true)
                    .min(Bound::Num(first as f64))
                    .max(Bound::Num(last as f64)),
                col("breakdown", "VARIABILE", String, true).allowed(&passi::VARIABLES),
                col("breakdown_value", "MODALITA", String, true),
                col("sample_size", "N", Integer, true).min(Bound::Num(0.0)),
                col("prevalence", "PREVALENZA", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
                col("ci_lower", "IC95_INF", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
                col("ci_upper", "IC95_SUP", Float, false)
                    .min(Bound::Num(0.0))
                    .max(Bound::Num(100.0)),
            ],
            ..csv(
                "health_survey",
                "Sorveglianza PASSI: prevalenze aggregate (nessun microdato)",
                "AUSL di Modena - Epidemiologia",
                "../custodian/ausl/passi_prevalenze.csv",
                ";",
                ",",
            )
        },
        SourceSpec {
            unique: vec!["year", "ateco_section"],
            period: "year",
            columns: vec![
                col("year", "ANNO", Integer, true)
                    .min(Bound::Num(first as f64))
                    .max(Bound::Num(last as f64)),
                col("territory", "TERRITORIO", String, true),
                col("ateco_section", "SEZIONE_ATECO", String, true)
                    .allowed(&inail::SECTIONS.iter().map(|s| s.0).collect::<Vec<_>>()),
                col("sector", "DESCRIZIONE_SETTORE", String, false),
                col("reported", "DENUNCE", Integer, true).min(Bound::Num(0.0)),
                col("recognised", "RICONOSCIUTE", Integer, true).min(Bound::Num(0.0)),
                col("fatal", "MORTALI", Integer, true).min(Bound::Num(0.0)),
            ],
            ..csv(
                "accidents",
                "INAIL: infortuni sul lavoro per settore ATECO (dati aggregati)",
                "INAIL - Sede di Modena",
                "../custodian/inail/infortuni.csv",
                ";",
                ",",
            )
        },
    ]
}

/// A TOML basic string.
fn q(s: &str) -> String {
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

fn list(items: &[&str]) -> String {
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
    let _ = writeln!(s, "files = [{}]", q(spec.files));
    let _ = writeln!(s, "format = {}", q(spec.format));
    let _ = writeln!(s, "encoding = {}", q(spec.encoding));
    if let Some(d) = spec.delimiter {
        let _ = writeln!(s, "delimiter = {}", q(d));
        let _ = writeln!(s, "quote = {}", q("\""));
    }
    if let Some(d) = spec.decimal {
        let _ = writeln!(s, "decimal = {}", q(d));
    }
    if let Some(t) = spec.thousands {
        let _ = writeln!(s, "thousands = {}", q(t));
    }
    if let Some(h) = spec.header_row {
        let _ = writeln!(s, "header_row = {h}");
    }
    if let Some(sh) = spec.sheet {
        let _ = writeln!(s, "sheet = {}", q(sh));
    }
    let _ = writeln!(s, "date_formats = {}", list(&spec.date_formats));
    let _ = writeln!(s, "null_values = {}", list(&spec.null_values));
    let _ = writeln!(s, "unique = {}", list(&spec.unique));
    let _ = writeln!(s, "period = {}", q(spec.period));
    for c in &spec.columns {
        s.push_str("\n[[columns]]\n");
        let _ = writeln!(s, "name = {}", q(c.name));
        let _ = writeln!(s, "from = {}", q(c.from));
        let _ = writeln!(s, "type = {}", q(c.ty.name()));
        let _ = writeln!(s, "required = {}", c.required);
        let _ = writeln!(s, "pseudonym = false");
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
    write_file(
        ctx.root,
        "lab/reports/README.md",
        "Report definitions and templates (HTML/PDF outputs built from disclosure-checked indicators) go here.\n",
        0,
        manifest,
    )?;
    Ok(())
}
