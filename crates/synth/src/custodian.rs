//! The custodians' side of pseudonymization: one custodian spec per lab source
//! (`custodian/specs/<source>.toml`), the street table addresses are generalized with
//! (`custodian/stradario.csv`), and the list of pseudonymization jobs ([`custodian_jobs`]).
//!
//! A custodian spec tells `datalab pseudonymize` how to read a raw file and what to do with
//! each raw column: replace an identifier by a keyed pseudonym, derive birth year, sex and
//! birth country from a tax code, generalize a date or an address, keep it, or drop it. Its
//! output (`lab/data/<source>/<raw file stem>.parquet`) is all the lab ever reads: the lab
//! specs in `project.rs` map exactly the output columns named here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::SynthError;
use crate::out::{Manifest, write_file};
use crate::project::{list, q, source_specs};
use crate::sources::{
    Ctx, anagrafe, gol, housing, inail, isee, min_income, passi, services, social,
};
use crate::territory::Territory;

/// The custodian specs' folder, relative to the output folder.
pub const CUSTODIAN_SPECS_DIR: &str = "custodian/specs";
/// The street table, relative to the output folder.
pub const STREETS_FILE: &str = "custodian/stradario.csv";
/// Where the lab reads the pseudonymized data, relative to the output folder.
pub const LAB_DATA_DIR: &str = "lab/data";

/// Whose key pseudonymizes a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyHolder {
    /// The city's key: its own registers and tables, and the files the city receives from INPS
    /// and the AUSL, or INAIL (aggregates need no key, but they go through the same run).
    City,
    /// The regional labour agency's key (GOL measures).
    LabourAgency,
}

/// One run of `datalab pseudonymize`: a custodian spec and the raw files it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustodianJob {
    /// The lab source the output feeds.
    pub source: String,
    /// The custodian spec, relative to the output folder.
    pub spec: PathBuf,
    /// The raw files, relative to the output folder, sorted.
    pub inputs: Vec<PathBuf>,
    pub holder_key: KeyHolder,
}

impl CustodianJob {
    /// The folder the pseudonymized Parquet goes to, relative to the output folder
    /// (`lab/data/<source>`, one `<raw file stem>.parquet` per input).
    pub fn out_dir(&self) -> PathBuf {
        Path::new(LAB_DATA_DIR).join(&self.source)
    }
}

/// The pseudonymization jobs of a generated city in `out`, one per lab source, in the order
/// of the lab sources. Inputs are the raw files found on disk, sorted (the register has one
/// snapshot per simulated year); a source whose files are missing has no inputs.
pub fn custodian_jobs(out: &Path) -> Vec<CustodianJob> {
    custodian_specs()
        .into_iter()
        .map(|spec| CustodianJob {
            source: spec.source.to_string(),
            spec: spec_path(spec.source),
            inputs: expand(out, spec.raw),
            holder_key: spec.key,
        })
        .collect()
}

fn spec_path(source: &str) -> PathBuf {
    Path::new(CUSTODIAN_SPECS_DIR).join(format!("{source}.toml"))
}

/// The files matching `pattern` (relative to `out`, at most one `*`, in the file name only).
fn expand(out: &Path, pattern: &str) -> Vec<PathBuf> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    let Some((pre, post)) = name.split_once('*') else {
        return if out.join(pattern).is_file() {
            vec![PathBuf::from(pattern)]
        } else {
            Vec::new()
        };
    };
    let Ok(entries) = std::fs::read_dir(out.join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() >= pre.len() + post.len() && n.starts_with(pre) && n.ends_with(post))
        .map(|n| Path::new(dir).join(n))
        .collect();
    files.sort();
    files
}

/// What the pseudonymizer does with a raw column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Pseudonym,
    Generalize,
    Keep,
    Drop,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Pseudonym => "pseudonym",
            Action::Generalize => "generalize",
            Action::Keep => "keep",
            Action::Drop => "drop",
        }
    }
}

/// One `[[columns]]` entry of a custodian spec.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The raw column, or the four raw columns of a `name_birth` pseudonym.
    pub from: Vec<&'static str>,
    pub action: Action,
    pub kind: Option<&'static str>,
    pub name: Option<&'static str>,
    pub derive: Vec<&'static str>,
    pub fallback: Vec<&'static str>,
    /// Generalization target.
    pub to: Option<&'static str>,
    /// Whether the generalization uses the street table.
    pub streets: bool,
}

fn entry(from: &'static str, action: Action, name: Option<&'static str>) -> Entry {
    Entry {
        from: vec![from],
        action,
        kind: None,
        name,
        derive: Vec::new(),
        fallback: Vec::new(),
        to: None,
        streets: false,
    }
}

fn keep(from: &'static str, name: &'static str) -> Entry {
    entry(from, Action::Keep, Some(name))
}

fn dropped(from: &'static str) -> Entry {
    entry(from, Action::Drop, None)
}

fn pseudonym(from: &'static str, kind: &'static str, name: &'static str) -> Entry {
    Entry {
        kind: Some(kind),
        ..entry(from, Action::Pseudonym, Some(name))
    }
}

/// A tax code as `person_pid`, with what the lab may know from it.
fn tax_code(from: &'static str) -> Entry {
    Entry {
        derive: vec!["birth_year", "sex", "born_in_italy"],
        ..pseudonym(from, "tax_code", "person_pid")
    }
}

fn generalize(from: &'static str, to: &'static str, name: &'static str) -> Entry {
    Entry {
        to: Some(to),
        ..entry(from, Action::Generalize, Some(name))
    }
}

/// Surname, first name, birth date and sex: the weak identity of a person without a code.
const NAME_BIRTH: [&str; 4] = ["COGNOME", "NOME", "DATA_NASCITA", "SESSO"];

/// How a custodian reads one raw source and what it writes.
#[derive(Clone, Debug)]
pub struct CustodianSpec {
    /// The lab source it feeds.
    pub source: &'static str,
    /// The raw files, relative to the output folder (at most one `*`).
    pub raw: &'static str,
    pub key: KeyHolder,
    pub format: &'static str,
    pub encoding: &'static str,
    pub delimiter: Option<&'static str>,
    pub header_row: Option<u32>,
    pub sheet: Option<&'static str>,
    pub date_formats: Vec<&'static str>,
    pub null_values: Vec<&'static str>,
    /// Youngest age of the people in the file (declarants, applicants): it settles the century
    /// of a tax code's two-digit birth year.
    pub min_age: Option<u32>,
    pub columns: Vec<Entry>,
}

/// The custodian specs, one per lab source, in the lab sources' order.
pub fn custodian_specs() -> Vec<CustodianSpec> {
    let csv = |source, raw, delimiter, date_format| CustodianSpec {
        source,
        raw,
        key: KeyHolder::City,
        format: "csv",
        encoding: "utf-8",
        delimiter: Some(delimiter),
        header_row: Some(1),
        sheet: None,
        date_formats: vec![date_format],
        null_values: vec![""],
        min_age: None,
        columns: Vec::new(),
    };
    let weak = Entry {
        from: NAME_BIRTH.to_vec(),
        kind: Some("name_birth"),
        ..entry("", Action::Pseudonym, Some("person_wpid"))
    };
    vec![
        CustodianSpec {
            columns: vec![
                pseudonym("ID_INDIVIDUO", "register_person", "register_pid"),
                pseudonym("CODICE_FISCALE", "tax_code", "person_pid"),
                weak,
                dropped("COGNOME"),
                dropped("NOME"),
                Entry {
                    streets: true,
                    ..generalize("INDIRIZZO", "postcode", "postcode")
                },
                keep("SESSO", "sex"),
                generalize("DATA_NASCITA", "month", "birth_month"),
                generalize("DATA_NASCITA", "year", "birth_year"),
                keep("LUOGO_NASCITA", "birth_place"),
                keep("CITTADINANZA", "citizenship"),
                keep("ZONA_STAT", "zone"),
                keep("QUARTIERE", "district"),
                pseudonym("ID_FAMIGLIA", "household", "household_pid"),
                keep("RELAZIONE_PARENTELA", "relation"),
                keep("DATA_RIFERIMENTO", "ref_date"),
            ],
            ..csv(
                "register",
                "custodian/anagrafe/anagrafe_*.csv",
                ";",
                "%d/%m/%Y",
            )
        },
        CustodianSpec {
            columns: vec![
                keep("ID_EVENTO", "event_id"),
                pseudonym("ID_INDIVIDUO", "register_person", "register_pid"),
                keep("TIPO_EVENTO", "event_type"),
                keep("DATA_EVENTO", "event_date"),
                keep("ZONA_DA", "zone_from"),
                keep("ZONA_A", "zone_to"),
                keep("DATA_REGISTRAZIONE", "registration_date"),
            ],
            ..csv("register_events", anagrafe::EVENTS_FILE, ";", "%d/%m/%Y")
        },
        CustodianSpec {
            encoding: "windows-1252",
            min_age: Some(18),
            columns: vec![
                keep("PROTOCOLLO_DSU", "protocol"),
                tax_code("CF_DICHIARANTE"),
                dropped("COGNOME"),
                dropped("NOME"),
                keep("DATA_PRESENTAZIONE", "submission_date"),
                keep("NUMERO_COMPONENTI", "members"),
                keep("VALORE_ISEE", "isee"),
                keep("VALORE_ISR", "isr"),
                keep("VALORE_ISP", "isp"),
                keep("SCALA_EQUIVALENZA", "equivalence_scale"),
                keep("TIPO_ISEE", "isee_type"),
            ],
            ..csv("isee", isee::FILE, ";", "%d/%m/%Y")
        },
        CustodianSpec {
            columns: vec![
                keep("ID_INTERVENTO", "case_id"),
                Entry {
                    fallback: NAME_BIRTH.to_vec(),
                    ..pseudonym("CF_BENEFICIARIO", "tax_code", "person_pid")
                },
                dropped("COGNOME"),
                dropped("NOME"),
                keep("SESSO", "sex"),
                generalize("DATA_NASCITA", "year", "birth_year"),
                keep("AREA", "area"),
                keep("TIPO_INTERVENTO", "intervention_type"),
                keep("DATA_INIZIO", "start_date"),
                keep("DATA_FINE", "end_date"),
                keep("IMPORTO_EURO", "amount"),
                keep("ZONA", "zone"),
                dropped("NOTE"),
            ],
            ..csv("social_cases", social::FILE, ",", "%Y-%m-%d")
        },
        CustodianSpec {
            format: "xlsx",
            delimiter: None,
            header_row: Some(housing::HEADER_ROW),
            sheet: Some(housing::SHEET),
            min_age: Some(18),
            columns: vec![
                keep("NUMERO_DOMANDA", "application_id"),
                tax_code("CF_RICHIEDENTE"),
                dropped("COGNOME"),
                dropped("NOME"),
                keep("DATA_DOMANDA", "application_date"),
                keep("NUM_COMPONENTI", "members"),
                keep("ISEE", "isee"),
                keep("PUNTEGGIO", "score"),
                keep("ESITO", "outcome"),
                keep("ZONA", "zone"),
            ],
            ..csv("housing", housing::FILE, "", "%d/%m/%Y")
        },
        CustodianSpec {
            min_age: Some(18),
            columns: vec![
                keep("ID_DOMANDA", "application_id"),
                tax_code("CF_RICHIEDENTE"),
                dropped("COGNOME"),
                dropped("NOME"),
                keep("MISURA", "measure"),
                keep("DECORRENZA", "start_month"),
                keep("DATA_FINE", "end_date"),
                keep("IMPORTO_MENSILE", "monthly_amount"),
                keep("NUM_COMPONENTI", "members"),
                keep("STATO", "status"),
            ],
            ..csv("min_income", min_income::FILE, ";", "%d/%m/%Y")
        },
        CustodianSpec {
            key: KeyHolder::LabourAgency,
            format: "jsonl",
            min_age: Some(16),
            delimiter: None,
            header_row: None,
            columns: vec![
                keep("id_misura", "measure_id"),
                tax_code("cf"),
                keep("percorso", "pathway"),
                keep("misura", "measure"),
                keep("data_inizio", "start_date"),
                keep("data_fine", "end_date"),
                keep("esito", "outcome"),
            ],
            ..csv("gol", gol::FILE, "", "%Y-%m-%d")
        },
        CustodianSpec {
            null_values: vec!["", "NA"],
            columns: vec![
                keep("INDICATORE", "indicator"),
                keep("AREA", "area"),
                keep("PERIODO", "period_label"),
                keep("ANNO_FINE", "year"),
                keep("VARIABILE", "breakdown"),
                keep("MODALITA", "breakdown_value"),
                keep("N", "sample_size"),
                keep("PREVALENZA", "prevalence"),
                keep("IC95_INF", "ci_lower"),
                keep("IC95_SUP", "ci_upper"),
            ],
            ..csv("health_survey", passi::FILE, ";", "%d/%m/%Y")
        },
        CustodianSpec {
            columns: vec![
                keep("ANNO", "year"),
                keep("TERRITORIO", "territory"),
                keep("SEZIONE_ATECO", "ateco_section"),
                keep("DESCRIZIONE_SETTORE", "sector"),
                keep("DENUNCE", "reported"),
                keep("RICONOSCIUTE", "recognised"),
                keep("MORTALI", "fatal"),
            ],
            ..csv("accidents", inail::FILE, ";", "%d/%m/%Y")
        },
        CustodianSpec {
            columns: vec![
                keep("ANNO", "year"),
                keep("ZONA", "zone"),
                keep("SERVIZIO", "service"),
                keep("TIPO_GESTORE", "provider_type"),
                keep("POSTI", "places"),
                keep("UTENTI", "users"),
                keep("OPERATORI", "operators"),
                keep("FTE", "fte"),
                keep("LISTA_ATTESA", "waiting_list"),
            ],
            ..csv("services_supply", services::FILE, ";", "%d/%m/%Y")
        },
    ]
}

/// Renders a custodian spec; `title` and `holder` are the lab spec's.
pub fn render(spec: &CustodianSpec, title: &str, holder: &str, reference_year: i32) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "format_version = 1");
    let _ = writeln!(s, "title = {}", q(title));
    let _ = writeln!(s, "holder = {}", q(holder));
    let _ = writeln!(s, "source = {}", q(spec.source));
    let _ = writeln!(s, "format = {}", q(spec.format));
    let _ = writeln!(s, "encoding = {}", q(spec.encoding));
    if let Some(d) = spec.delimiter {
        let _ = writeln!(s, "delimiter = {}", q(d));
        let _ = writeln!(s, "quote = {}", q("\""));
    }
    if let Some(h) = spec.header_row {
        let _ = writeln!(s, "header_row = {h}");
    }
    if let Some(sh) = spec.sheet {
        let _ = writeln!(s, "sheet = {}", q(sh));
    }
    let _ = writeln!(s, "date_formats = {}", list(&spec.date_formats));
    let _ = writeln!(s, "null_values = {}", list(&spec.null_values));
    let _ = writeln!(s, "reference_year = {reference_year}");
    if let Some(a) = spec.min_age {
        let _ = writeln!(s, "min_age = {a}");
    }
    for c in &spec.columns {
        s.push_str("\n[[columns]]\n");
        if c.from.len() == 1 {
            let _ = writeln!(s, "from = {}", q(c.from[0]));
        } else {
            let _ = writeln!(s, "from = {}", list(&c.from));
        }
        let _ = writeln!(s, "action = {}", q(c.action.name()));
        if let Some(k) = c.kind {
            let _ = writeln!(s, "kind = {}", q(k));
        }
        if let Some(n) = c.name {
            let _ = writeln!(s, "name = {}", q(n));
        }
        if !c.derive.is_empty() {
            let _ = writeln!(s, "derive = {}", list(&c.derive));
        }
        if !c.fallback.is_empty() {
            let _ = writeln!(s, "fallback = {}", list(&c.fallback));
        }
        if let Some(to) = c.to {
            let _ = writeln!(s, "to = {}", q(to));
        }
        if c.streets {
            // Relative to the spec file.
            let _ = writeln!(s, "streets = {}", q("../stradario.csv"));
        }
    }
    s
}

/// Writes the street table and the custodian specs.
pub fn write(ctx: &Ctx, territory: &Territory, manifest: &mut Manifest) -> Result<(), SynthError> {
    let streets = territory.streets_csv();
    let rows = streets.lines().count().saturating_sub(1) as u64;
    write_file(ctx.root, STREETS_FILE, &streets, rows, manifest)?;
    let labs = source_specs(ctx.first, ctx.last);
    for spec in custodian_specs() {
        let lab = labs
            .iter()
            .find(|l| l.name == spec.source)
            .expect("every custodian spec feeds a lab source");
        write_file(
            ctx.root,
            &format!("{CUSTODIAN_SPECS_DIR}/{}.toml", spec.source),
            &render(&spec, lab.title, lab.holder, ctx.last),
            0,
            manifest,
        )?;
    }
    Ok(())
}
