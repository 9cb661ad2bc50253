//! Data packs for district planning (Piani di Zona): per district, what the lab published about
//! it, as files a planning office opens in a spreadsheet.
//!
//! [`export`] writes one folder per district (`<code>-<slug of the name>`) with
//! - `indicatori.csv`: every released indicator value for the district, its zones and the
//!   territories above it (the municipality, for comparison);
//! - `tabelle/<release>__<output>.csv`: the released frequency and magnitude tables, restricted to
//!   the same territories;
//! - `bisogni_offerta.csv`: for each released indicator that declares a need, the people in need
//!   (its released numerator) against the registry's supply in each zone: places, operators,
//!   places and operators per 1,000 people in need, coverage, the places the standard asks for
//!   and the gap;
//! - `servizi.csv`, `organizzazioni.csv`, `sedi.csv`: the registry's active services located in
//!   the district's zones, who runs them and where (organizations and places only: never a
//!   contact person, a phone number or an e-mail address);
//! - `dati.xlsx`: the same tables, one sheet each, after a `LEGGIMI` sheet with the key facts;
//! - `datapackage.json`: a Frictionless tabular data package describing every CSV;
//! - `README.md`, in Italian: sources, disclosure rules, how to read each column, licence.
//!
//! Numbers come only from [`Publication::load`] (public releases, hash-checked by the gate) and
//! from the registry of providers, which is about organizations, not people. A hidden value stays
//! empty with its flag, and nothing derived from it is computed. Same inputs, same bytes.

mod text;
mod xlsx;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use model::{Hierarchy, Indicator, Territory};
use registry::codes::{OrganizationKind, SocialRisk, Status, TargetGroup};
use registry::supply::{SupplyFilter, SupplyPoint, ZoneNeed, needs_vs_supply};
use registry::{Address, Capacity, Location, Organization, Registry, Service, ServiceAtLocation};

use crate::ReportError;
use crate::released::{Obs, Publication, Table};

pub use registry::REGISTRY_FILE;

/// What to pack.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Releases to draw on (default: every public release of the project).
    pub releases: Vec<String>,
    /// District codes to pack (default: every district).
    pub districts: Vec<String>,
    /// Which registry services count as supply for a need indicator, by indicator id; an
    /// indicator not listed gets [`supply_filter`] of its topics.
    pub supply: BTreeMap<String, SupplyFilter>,
}

/// One district's pack.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pack {
    pub district: String,
    pub name: String,
    /// The folder, relative to the output folder.
    pub folder: String,
    /// Every file written, relative to the pack's folder.
    pub files: Vec<String>,
    /// Rows of `indicatori.csv`.
    pub indicator_rows: usize,
    /// Rows of `servizi.csv` (0 without a registry).
    pub services: usize,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exported {
    pub packs: Vec<Pack>,
    /// (release, why) of the releases left out.
    pub skipped: Vec<(String, String)>,
    /// The registry's date (its latest verification or capacity record), `None` without a
    /// registry.
    pub registry: Option<String>,
    /// `true` when the project has a registry.
    pub has_registry: bool,
}

/// Writes a data pack per district of `project` into `out` (replaced whole), from its public
/// releases and its registry (`PROJECT/registry.sqlite`, left out when absent).
///
/// # Errors
/// [`ReportError::Release`] for a missing or tampered release, [`ReportError::Input`] for a
/// named release that is not public, a project without public releases or districts, or an
/// unknown district, [`ReportError::Registry`] when the registry cannot be read, and
/// [`ReportError::Io`] when writing fails.
pub fn export(
    project: &project::Project,
    out: &Path,
    opts: &Options,
) -> Result<Exported, ReportError> {
    let publication = Publication::load(project, &opts.releases)?;
    let path = project.root.join(REGISTRY_FILE);
    let registry = if path.is_file() {
        Some(Registry::open(&path)?)
    } else {
        None
    };
    let inputs = Inputs {
        title: &project.config.title,
        name: &project.config.name,
        hierarchy: &project.hierarchy,
        indicators: &project.indicators,
        publication: &publication,
        registry: registry.as_ref(),
    };
    let (files, exported) = build(&inputs, opts)?;
    crate::folder::write_folder(out, &files)?;
    Ok(exported)
}

/// Everything a pack is made of, without I/O.
struct Inputs<'a> {
    /// The project's title (who publishes) and name.
    title: &'a str,
    name: &'a str,
    hierarchy: &'a Hierarchy,
    indicators: &'a [Indicator],
    publication: &'a Publication,
    registry: Option<&'a Registry>,
}

/// Files to write: (path relative to the output folder, bytes).
type Files = Vec<(String, Vec<u8>)>;

/// The files of every pack and what they hold.
fn build(inputs: &Inputs, opts: &Options) -> Result<(Files, Exported), ReportError> {
    let publication = inputs.publication;
    if publication.releases.is_empty() {
        return Err(ReportError::Input(
            "no public release to pack: run `datalab release NAME` first".into(),
        ));
    }
    let districts = districts(inputs.hierarchy, &opts.districts)?;
    let needs = need_indicators(inputs, opts);
    let view = inputs
        .registry
        .map(|r| RegistryView::read(r, &needs))
        .transpose()?;
    let mut files = Vec::new();
    let mut packs = Vec::new();
    for d in &districts {
        let place = Place::of(inputs.hierarchy, d);
        let folder = folder_name(d);
        let mut sheets = vec![indicator_sheet(inputs, &place)];
        if let Some(view) = &view {
            sheets.push(needs_sheet(inputs, &place, &needs, view));
            sheets.extend(registry_sheets(&place, view));
        }
        sheets.extend(table_sheets(publication, &place));
        let pack = text::Pack {
            project_title: inputs.title,
            project_name: inputs.name,
            folder: &folder,
            place: &place,
            publication,
            sheets: &sheets,
            needs: &needs,
            registry: view.as_ref().map(|v| v.as_of.as_deref().unwrap_or("")),
        };
        let mut written = Vec::new();
        for s in &sheets {
            written.push((s.path.clone(), s.csv()?));
        }
        let created = text::created(publication);
        written.push((
            "dati.xlsx".into(),
            xlsx::workbook(&pack.title(), &pack.facts(), &sheets, &created)?,
        ));
        written.push(("datapackage.json".into(), pack.datapackage()?));
        written.push(("README.md".into(), pack.readme().into_bytes()));
        packs.push(Pack {
            district: d.code.clone(),
            name: d.name.clone(),
            folder: folder.clone(),
            files: written.iter().map(|(p, _)| p.clone()).collect(),
            indicator_rows: sheets[0].rows.len(),
            services: sheets
                .iter()
                .find(|s| s.path == "servizi.csv")
                .map_or(0, |s| s.rows.len()),
        });
        files.extend(
            written
                .into_iter()
                .map(|(p, bytes)| (format!("{folder}/{p}"), bytes)),
        );
    }
    let exported = Exported {
        packs,
        skipped: publication.skipped.clone(),
        registry: view.as_ref().and_then(|v| v.as_of.clone()),
        has_registry: view.is_some(),
    };
    Ok((files, exported))
}

// ---------------------------------------------------------------------------------------------
// territory

/// The level packs are made for: `district`, else the one just above the finest.
fn district_level(h: &Hierarchy) -> Result<usize, ReportError> {
    if let Some(l) = h.level_index("district") {
        return Ok(l);
    }
    h.levels.len().checked_sub(2).ok_or_else(|| {
        ReportError::Input(format!(
            "the territory hierarchy has {} level(s): a data pack needs districts and the zones \
             inside them (declare `[territory] levels` in datalab.toml)",
            h.levels.len()
        ))
    })
}

/// The districts to pack, in codelist order.
fn districts<'a>(h: &'a Hierarchy, wanted: &[String]) -> Result<Vec<&'a Territory>, ReportError> {
    let level = district_level(h)?;
    let all: Vec<&Territory> = h.at(level).collect();
    for w in wanted {
        if !all.iter().any(|t| &t.code == w) {
            let known: Vec<&str> = all.iter().map(|t| t.code.as_str()).collect();
            return Err(ReportError::Input(format!(
                "no {} `{w}` in the territory codelist (there are: {})",
                h.levels[level],
                known.join(", ")
            )));
        }
    }
    Ok(all
        .into_iter()
        .filter(|t| wanted.is_empty() || wanted.contains(&t.code))
        .collect())
}

/// A district with the territories its pack shows.
struct Place<'a> {
    district: &'a Territory,
    level: &'a str,
    /// The territories above it with their level, the largest first (the municipality).
    above: Vec<(&'a str, &'a Territory)>,
    /// The finest units inside it (the zones), in codelist order.
    zones: Vec<&'a Territory>,
    /// (level name, code) of every territory the pack shows: above, the district, below.
    shown: BTreeSet<(String, String)>,
    names: BTreeMap<String, String>,
}

impl<'a> Place<'a> {
    fn of(h: &'a Hierarchy, district: &'a Territory) -> Place<'a> {
        let mut above = Vec::new();
        let mut cur = district;
        while let (Some(p), Some(l)) = (&cur.parent, cur.level.checked_sub(1)) {
            let Some(parent) = h.get(l, p) else { break };
            above.push((h.levels[l].as_str(), parent));
            cur = parent;
        }
        above.reverse();
        let mut below: BTreeSet<(usize, &str)> = BTreeSet::new();
        let paths = h.paths();
        for path in paths.values() {
            if path.get(district.level) == Some(&district.code) {
                for (l, code) in path.iter().enumerate().skip(district.level + 1) {
                    below.insert((l, code.as_str()));
                }
            }
        }
        let finest = h.levels.len().saturating_sub(1);
        let zones: Vec<&Territory> = h
            .at(finest)
            .filter(|t| below.contains(&(finest, t.code.as_str())))
            .collect();
        let mut shown = BTreeSet::new();
        let mut names = BTreeMap::new();
        for t in h.nodes.iter().filter(|t| {
            below.contains(&(t.level, t.code.as_str()))
                || std::ptr::eq(*t, district)
                || above.iter().any(|(_, a)| std::ptr::eq(*a, *t))
        }) {
            shown.insert((h.levels[t.level].clone(), t.code.clone()));
            names.insert(t.code.clone(), t.name.clone());
        }
        Place {
            district,
            level: &h.levels[district.level],
            above,
            zones,
            shown,
            names,
        }
    }

    fn shows(&self, level: &str, code: &str) -> bool {
        self.shown.contains(&(level.to_string(), code.to_string()))
    }

    fn shows_code(&self, code: &str) -> bool {
        self.shown.iter().any(|(_, c)| c == code)
    }

    fn name(&self, code: &str) -> &str {
        self.names.get(code).map_or("", String::as_str)
    }
}

/// `<code>-<slug of the name>`: `Q1-centro-storico`.
fn folder_name(t: &Territory) -> String {
    let code: String = t
        .code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug(&t.name);
    if slug.is_empty() || t.name == t.code {
        code
    } else {
        format!("{code}-{slug}")
    }
}

/// Lower-case ASCII words joined by `-`: `Sant'Agnese – San Damaso` → `sant-agnese-san-damaso`.
pub fn slug(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_lowercase();
    let mut out = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

// ---------------------------------------------------------------------------------------------
// sheets

/// How a column's cells are typed in the data package and shown in the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Number,
    /// A number that is a share (0.2 = 20%), shown as a percentage in the workbook.
    Share,
    /// Degrees of latitude or longitude, shown with six decimals in the workbook.
    Degrees,
}

impl Kind {
    fn frictionless(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Integer => "integer",
            Kind::Number | Kind::Share | Kind::Degrees => "number",
        }
    }
}

/// A column: machine name, type, Italian title and description.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: Kind,
    title: String,
    description: String,
}

fn field(name: &str, kind: Kind, title: &str, description: &str) -> Field {
    Field {
        name: name.into(),
        kind,
        title: title.into(),
        description: description.into(),
    }
}

/// One CSV of a pack, which is also a sheet of the workbook and a resource of the data package.
#[derive(Debug, Clone)]
struct Sheet {
    /// Relative to the pack's folder.
    path: String,
    /// The workbook's sheet name (31 characters at most).
    sheet: String,
    title: String,
    description: String,
    fields: Vec<Field>,
    rows: Vec<Vec<String>>,
    /// Columns that identify a row.
    key: Vec<String>,
}

impl Sheet {
    fn header(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }

    fn csv(&self) -> Result<Vec<u8>, ReportError> {
        let err = |e: csv::Error| ReportError::Input(format!("{}: {e}", self.path));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.header()).map_err(err)?;
        for r in &self.rows {
            w.write_record(r).map_err(err)?;
        }
        w.into_inner()
            .map_err(|e| ReportError::Input(format!("{}: {e}", self.path)))
    }
}

/// A number as the gate writes it: integers without a decimal point, others in their shortest
/// round-trip form.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// `v` rounded to `digits` decimals, as text.
fn rounded(v: f64, digits: i32) -> String {
    let f = 10f64.powi(digits);
    num((v * f).round() / f)
}

/// Released columns described once, for `indicatori.csv` and the released tables.
fn released_field(name: &str) -> Field {
    let (kind, title, description) = match name {
        "release" => (
            Kind::Text,
            "Rilascio",
            "Il rilascio pubblico da cui viene la riga (`releases/<rilascio>/` nel laboratorio).",
        ),
        "output" => (
            Kind::Text,
            "Output del rilascio",
            "Il file del rilascio da cui viene la riga (`releases/<rilascio>/<output>.csv`).",
        ),
        "indicator" => (
            Kind::Text,
            "Codice dell'indicatore",
            "Il codice dell'indicatore.",
        ),
        "indicator_name" => (Kind::Text, "Indicatore", "Il nome dell'indicatore."),
        "unit" => (
            Kind::Text,
            "Unità di misura",
            "L'unità di misura del valore.",
        ),
        "territory_level" => (
            Kind::Text,
            "Livello territoriale",
            "Il livello del territorio nella gerarchia del progetto (ad esempio `municipality` = comune, `district` = distretto, `zone` = zona).",
        ),
        "territory" => (
            Kind::Text,
            "Codice del territorio",
            "Il codice del territorio.",
        ),
        "territory_name" | "zone_name" => (Kind::Text, "Territorio", "Il nome del territorio."),
        "period" => (
            Kind::Text,
            "Periodo",
            "Anno (`2024`), trimestre (`2024-Q3`), mese (`2024-07`) o data di riferimento.",
        ),
        "breakdown" => (
            Kind::Text,
            "Disaggregazione",
            "Vuota per il totale; altrimenti `variabile=valore` (più variabili separate da `|`), ad esempio `sex=F`.",
        ),
        "value" => (
            Kind::Number,
            "Valore",
            "Il valore pubblicato; vuoto se la cella è oscurata (vedi `flag`).",
        ),
        "lower" => (
            Kind::Number,
            "Limite inferiore",
            "Il limite inferiore dell'intervallo di confidenza, quando pubblicato.",
        ),
        "upper" => (
            Kind::Number,
            "Limite superiore",
            "Il limite superiore dell'intervallo di confidenza, quando pubblicato.",
        ),
        "numerator" => (
            Kind::Number,
            "Numeratore",
            "Il conteggio al numeratore (persone, famiglie, ...), quando pubblicato; vuoto se oscurato.",
        ),
        "denominator" => (
            Kind::Number,
            "Denominatore",
            "La popolazione di riferimento al denominatore, quando pubblicata.",
        ),
        "flag" => (
            Kind::Text,
            "Stato della cella",
            "Vuoto: valore pubblicato così com'è; `suppressed`: cella oscurata; `rounded`: valore arrotondato; `perturbed`: valore perturbato (metodo cell key); `noisy`: valore con rumore (privacy differenziale).",
        ),
        "rule" => (
            Kind::Text,
            "Regola di riservatezza",
            "La regola che ha agito sulla cella: `frequency` (sotto la soglia minima), `secondary` (oscurata per proteggerne un'altra), `dominance`, `p-percent`, `sample-size`, `random rounding to base 5`, ...",
        ),
        other => {
            return Field {
                name: other.into(),
                kind: Kind::Text,
                title: format!("Dimensione `{other}`"),
                description: format!(
                    "La categoria di `{other}`; `{}` indica il totale.",
                    disclosure::TOTAL
                ),
            };
        }
    };
    field(name, kind, title, description)
}

const INDICATOR_COLUMNS: &[&str] = &[
    "release",
    "output",
    "indicator",
    "indicator_name",
    "unit",
    "territory_level",
    "territory",
    "territory_name",
    "period",
    "breakdown",
    "value",
    "lower",
    "upper",
    "numerator",
    "denominator",
    "flag",
    "rule",
];

/// Every released indicator value for the place's territories.
fn indicator_sheet(inputs: &Inputs, place: &Place) -> Sheet {
    let mut rows = Vec::new();
    for s in &inputs.publication.series {
        let ind = inputs.indicators.iter().find(|i| i.id == s.indicator);
        let name = ind.map_or("", |i| i.name.get("it"));
        let unit = ind.map_or("", |i| i.unit.get("it"));
        for o in s.obs.iter().filter(|o| place.shows(&o.level, &o.territory)) {
            let territory_name = if o.territory_name.is_empty() {
                place.name(&o.territory).to_string()
            } else {
                o.territory_name.clone()
            };
            rows.push(vec![
                s.release.clone(),
                s.output.clone(),
                s.indicator.clone(),
                name.to_string(),
                unit.to_string(),
                o.level.clone(),
                o.territory.clone(),
                territory_name,
                o.period.clone(),
                o.breakdown.clone(),
                opt(o.value),
                opt(o.lower),
                opt(o.upper),
                opt(o.numerator),
                opt(o.denominator),
                o.flag.clone(),
                o.rule.clone(),
            ]);
        }
    }
    Sheet {
        path: "indicatori.csv".into(),
        sheet: "indicatori".into(),
        title: "Indicatori".into(),
        description: "Ogni valore degli indicatori rilasciato per il distretto, le sue zone e \
                      il comune (per confronto)."
            .into(),
        fields: INDICATOR_COLUMNS
            .iter()
            .map(|c| released_field(c))
            .collect(),
        rows,
        key: [
            "release",
            "output",
            "territory_level",
            "territory",
            "period",
            "breakdown",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// The released tables (kind `table`) restricted to the place's territories.
fn table_sheets(publication: &Publication, place: &Place) -> Vec<Sheet> {
    let mut used = BTreeSet::new();
    let mut out = Vec::new();
    for t in publication.tables.iter().filter(|t| t.kind == "table") {
        let Some(territory) = t.col("territory") else {
            continue;
        };
        let level = t.col("territory_level");
        let rows: Vec<Vec<String>> = t
            .rows
            .iter()
            .filter(|r| match level {
                Some(l) => place.shows(&r[l], &r[territory]),
                None => place.shows_code(&r[territory]),
            })
            .cloned()
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push(table_sheet(t, rows, &mut used));
    }
    out
}

fn table_sheet(t: &Table, rows: Vec<Vec<String>>, used: &mut BTreeSet<String>) -> Sheet {
    let id = format!("{}__{}", t.release, t.output);
    let fields = t.header.iter().map(|h| released_field(h)).collect();
    let mut base: String = format!("t_{}", t.output)
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
        .collect();
    base = base.chars().take(31).collect();
    let mut sheet = base.clone();
    let mut n = 2;
    while !used.insert(sheet.clone()) {
        let suffix = format!("~{n}");
        sheet = base.chars().take(31 - suffix.len()).collect::<String>() + &suffix;
        n += 1;
    }
    Sheet {
        path: format!("tabelle/{id}.csv"),
        sheet,
        title: format!("Tabella `{}` del rilascio `{}`", t.output, t.release),
        description: format!(
            "Le righe della tabella `{}` del rilascio `{}` per il distretto, le sue zone e il \
             comune, come rilasciate.",
            t.output, t.release
        ),
        fields,
        rows,
        key: t.dims.iter().map(|&i| t.header[i].clone()).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// needs and supply

/// A released indicator that declares a need, with the registry services counted as its supply.
struct NeedIndicator<'a> {
    indicator: &'a Indicator,
    filter: SupplyFilter,
    /// The latest released period.
    period: String,
}

/// Which registry services serve the need an indicator counts, from its topics: the social
/// risks (`elderly` → `non_self_sufficiency`, `children` → `childcare`, `disability`,
/// `poverty`, `housing`, `work`, `migrants` → `migration`, `health`) and the target groups
/// (`elderly`, `children` → `minors`, `families`, `disability` → `disabled`, `migrants`,
/// `work` → `unemployed`). `None` when its topics name no risk.
pub fn supply_filter(indicator: &Indicator) -> Option<SupplyFilter> {
    let mut risks = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for t in &indicator.topics {
        let (r, g): (Option<SocialRisk>, Option<TargetGroup>) = match t.as_str() {
            "elderly" => (
                Some(SocialRisk::NonSelfSufficiency),
                Some(TargetGroup::Elderly),
            ),
            "children" => (Some(SocialRisk::Childcare), Some(TargetGroup::Minors)),
            "families" => (None, Some(TargetGroup::Families)),
            "disability" => (Some(SocialRisk::Disability), Some(TargetGroup::Disabled)),
            "poverty" => (Some(SocialRisk::Poverty), None),
            "housing" => (Some(SocialRisk::Housing), None),
            "work" => (Some(SocialRisk::Work), Some(TargetGroup::Unemployed)),
            "migrants" => (Some(SocialRisk::Migration), Some(TargetGroup::Migrants)),
            "health" => (Some(SocialRisk::Health), None),
            _ => (None, None),
        };
        risks.extend(r);
        groups.extend(g);
    }
    (!risks.is_empty()).then(|| SupplyFilter {
        risks: risks.into_iter().collect(),
        target_groups: groups.into_iter().collect(),
        as_of: None,
    })
}

/// The released indicators with a need and a supply filter, by id.
fn need_indicators<'a>(inputs: &Inputs<'a>, opts: &Options) -> Vec<NeedIndicator<'a>> {
    let mut out = Vec::new();
    for id in inputs.publication.indicators() {
        let Some(ind) = inputs.indicators.iter().find(|i| i.id == id) else {
            continue;
        };
        if ind.need.is_none() {
            continue;
        }
        let Some(filter) = opts.supply.get(id).cloned().or_else(|| supply_filter(ind)) else {
            continue;
        };
        let Some(period) = inputs.publication.periods(id).pop() else {
            continue;
        };
        out.push(NeedIndicator {
            indicator: ind,
            filter,
            period,
        });
    }
    out
}

/// The released value of an indicator's total for one territory and period (the latest
/// release holding it).
fn released<'p>(
    p: &'p Publication,
    indicator: &'p str,
    level: &str,
    code: &str,
    period: &str,
) -> Option<&'p Obs> {
    p.series_of(indicator)
        .flat_map(|s| &s.obs)
        .filter(|o| {
            o.level == level && o.territory == code && o.period == period && o.breakdown.is_empty()
        })
        .last()
}

/// The people in need an observation shows: its numerator, or for an indicator without a
/// denominator its value over its factor; `None` when hidden or not released.
pub fn in_need(ind: &Indicator, o: &Obs) -> Option<f64> {
    if o.flag == "suppressed" {
        return None;
    }
    if o.numerator.is_some() {
        return o.numerator;
    }
    let no_denominator = matches!(
        &ind.definition,
        model::Definition::Ratio {
            denominator: None,
            ..
        }
    );
    match (no_denominator, o.value) {
        (true, Some(v)) if ind.factor != 0.0 => Some(v / ind.factor),
        _ => None,
    }
}

#[rustfmt::skip]
const NEEDS_COLUMNS: &[(&str, Kind, &str, &str)] = &[
    ("indicator", Kind::Text, "Codice dell'indicatore", "L'indicatore che conta le persone con bisogno."),
    ("indicator_name", Kind::Text, "Indicatore", "Il nome dell'indicatore."),
    ("period", Kind::Text, "Periodo del bisogno", "Il periodo più recente rilasciato per l'indicatore."),
    ("territory_level", Kind::Text, "Livello territoriale", "`district` per il distretto intero, il livello più fine (`zone`) per le sue zone."),
    ("territory", Kind::Text, "Codice del territorio", "Il codice del distretto o della zona."),
    ("territory_name", Kind::Text, "Territorio", "Il nome del distretto o della zona."),
    ("in_need", Kind::Number, "Persone con bisogno", "Il numeratore rilasciato dell'indicatore (le persone con bisogno potenziale); vuoto se oscurato o non pubblicato."),
    ("flag", Kind::Text, "Stato della cella del bisogno", "Lo stato della cella rilasciata da cui viene `in_need` (vedi `indicatori.csv`): se è oscurata, anche le colonne calcolate da essa sono vuote."),
    ("rule", Kind::Text, "Regola di riservatezza", "La regola che ha agito sulla cella del bisogno."),
    ("supply_risks", Kind::Text, "Rischi sociali dell'offerta", "I rischi sociali dei servizi del registro contati come offerta (basta uno)."),
    ("supply_target_groups", Kind::Text, "Destinatari dell'offerta", "I gruppi di destinatari dei servizi contati (basta uno; i servizi per tutti contano sempre); vuoto: tutti."),
    ("services", Kind::Integer, "Punti di offerta", "I servizi attivi del registro, per sede, che si trovano nel territorio."),
    ("places", Kind::Integer, "Posti", "I posti di quei servizi (l'ultima capienza registrata per sede)."),
    ("operators", Kind::Number, "Operatori", "Gli operatori dei servizi attribuiti alle sedi del territorio (in proporzione ai posti se ogni sede ha i posti, in parti uguali altrimenti)."),
    ("places_per_1000", Kind::Number, "Posti ogni 1.000 persone con bisogno", "posti / persone con bisogno × 1.000; vuoto se il bisogno è oscurato o zero."),
    ("operators_per_1000", Kind::Number, "Operatori ogni 1.000 persone con bisogno", "operatori / persone con bisogno × 1.000."),
    ("coverage", Kind::Share, "Copertura", "posti / persone con bisogno (0,2 = 20 posti ogni 100 persone)."),
    ("standard", Kind::Number, "Standard", "I posti per persona con bisogno che lo standard dell'indicatore chiede."),
    ("required", Kind::Number, "Posti richiesti", "standard × persone con bisogno."),
    ("gap", Kind::Number, "Posti mancanti", "posti richiesti − posti, se positivo; 0 se lo standard è raggiunto."),
];

/// Need against supply for the district and each of its zones.
fn needs_sheet(
    inputs: &Inputs,
    place: &Place,
    needs: &[NeedIndicator],
    view: &RegistryView,
) -> Sheet {
    let finest = inputs.hierarchy.finest();
    let zone_codes: BTreeSet<&str> = place.zones.iter().map(|z| z.code.as_str()).collect();
    let mut rows = Vec::new();
    for n in needs {
        let ind = n.indicator;
        let standard = ind.need.as_ref().map_or(0.0, |x| x.standard);
        let points = &view.need_points[&ind.id];
        let risks = n
            .filter
            .risks
            .iter()
            .map(|r| r.label_it())
            .collect::<Vec<_>>()
            .join("; ");
        let groups = n
            .filter
            .target_groups
            .iter()
            .map(|g| g.label_it())
            .collect::<Vec<_>>()
            .join("; ");
        let territories = std::iter::once((place.level, place.district))
            .chain(place.zones.iter().map(|z| (finest, *z)));
        for (level, t) in territories {
            let Some(o) = released(inputs.publication, &ind.id, level, &t.code, &n.period) else {
                continue;
            };
            // supply in the territory: the zone's points, or every point of the district's zones
            let here: Vec<SupplyPoint> = points
                .iter()
                .filter(|p| match p.zone.as_deref() {
                    Some(z) if std::ptr::eq(t, place.district) => zone_codes.contains(z),
                    Some(z) => z == t.code,
                    None => false,
                })
                .map(|p| SupplyPoint {
                    zone: Some(t.code.clone()),
                    ..p.clone()
                })
                .collect();
            let need = in_need(ind, o);
            let c = &needs_vs_supply(
                &[ZoneNeed {
                    zone: t.code.clone(),
                    in_need: need.unwrap_or(0.0),
                    centroid: None,
                }],
                &here,
                standard,
                0.0,
            )[0];
            let derived = |v: Option<f64>, digits: i32| match need {
                Some(_) => v.map(|v| rounded(v, digits)).unwrap_or_default(),
                None => String::new(),
            };
            rows.push(vec![
                ind.id.clone(),
                ind.name.get("it").to_string(),
                n.period.clone(),
                level.to_string(),
                t.code.clone(),
                if o.territory_name.is_empty() {
                    t.name.clone()
                } else {
                    o.territory_name.clone()
                },
                opt(need),
                o.flag.clone(),
                o.rule.clone(),
                risks.clone(),
                groups.clone(),
                c.services.to_string(),
                num(c.places),
                rounded(c.operators, 2),
                derived(c.places_per_1000, 2),
                derived(c.operators_per_1000, 2),
                derived(c.coverage, 4),
                num(standard),
                derived(Some(c.required), 2),
                derived(Some(c.gap), 2),
            ]);
        }
    }
    Sheet {
        path: "bisogni_offerta.csv".into(),
        sheet: "bisogni_offerta".into(),
        title: "Bisogni e offerta".into(),
        description: "Per ogni indicatore di bisogno rilasciato: le persone con bisogno nel \
                      distretto e in ogni zona contro i posti e gli operatori dei servizi del \
                      registro che vi si trovano."
            .into(),
        fields: NEEDS_COLUMNS
            .iter()
            .map(|(n, k, t, d)| field(n, *k, t, d))
            .collect(),
        rows,
        key: ["indicator", "territory_level", "territory"]
            .map(String::from)
            .to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------
// registry

/// The registry as the packs read it: active services at their locations, who runs them and
/// where, with supply per need indicator. Contacts, phones and e-mails are never read.
struct RegistryView {
    /// The latest verification or capacity date.
    as_of: Option<String>,
    organizations: BTreeMap<String, Organization>,
    services: BTreeMap<String, Service>,
    locations: BTreeMap<String, Location>,
    /// The address of each location: its physical one, else its first.
    addresses: BTreeMap<String, Address>,
    sals: Vec<ServiceAtLocation>,
    /// Every point of supply by service-at-location id.
    points: BTreeMap<String, SupplyPoint>,
    /// Points of supply per need indicator.
    need_points: BTreeMap<String, Vec<SupplyPoint>>,
}

impl RegistryView {
    fn read(reg: &Registry, needs: &[NeedIndicator]) -> Result<RegistryView, ReportError> {
        let organizations: BTreeMap<String, Organization> = reg
            .list::<Organization>()?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let services: BTreeMap<String, Service> = reg
            .list::<Service>()?
            .into_iter()
            .filter(|s| s.status == Status::Active)
            .map(|s| (s.id.clone(), s))
            .collect();
        let locations = reg
            .list::<Location>()?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
        let mut addresses: BTreeMap<String, Address> = BTreeMap::new();
        let mut all = reg.list::<Address>()?;
        all.sort_by(|a, b| {
            (
                a.address_type != registry::codes::LocationType::Physical,
                &a.id,
            )
                .cmp(&(
                    b.address_type != registry::codes::LocationType::Physical,
                    &b.id,
                ))
        });
        for a in all {
            addresses.entry(a.location_id.clone()).or_insert(a);
        }
        let sals = reg
            .list::<ServiceAtLocation>()?
            .into_iter()
            .filter(|x| services.contains_key(&x.service_id))
            .collect();
        let points = reg
            .supply(&SupplyFilter::default())?
            .into_iter()
            .map(|p| (p.service_at_location_id.clone(), p))
            .collect();
        let mut need_points = BTreeMap::new();
        for n in needs {
            need_points.insert(n.indicator.id.clone(), reg.supply(&n.filter)?);
        }
        let dates = reg
            .list::<Capacity>()?
            .into_iter()
            .map(|c| c.as_of)
            .chain(organizations.values().filter_map(|o| o.verified_at))
            .chain(services.values().filter_map(|s| s.assured_date));
        let as_of = dates.max().map(|d| d.to_string());
        Ok(RegistryView {
            as_of,
            organizations,
            services,
            locations,
            addresses,
            sals,
            points,
            need_points,
        })
    }
}

fn sector(kind: Option<OrganizationKind>) -> &'static str {
    match kind {
        Some(OrganizationKind::PublicBody) => "pubblico",
        Some(OrganizationKind::ThirdSector) => "terzo settore",
        Some(OrganizationKind::ForProfit) => "privato",
        None => "",
    }
}

fn address_line(a: Option<&Address>) -> String {
    a.map(|a| match &a.address_2 {
        Some(x) if !x.is_empty() => format!("{}, {x}", a.address_1),
        _ => a.address_1.clone(),
    })
    .unwrap_or_default()
}

#[rustfmt::skip]
const SERVICE_COLUMNS: &[(&str, Kind, &str, &str)] = &[
    ("service_at_location_id", Kind::Text, "Codice servizio-sede", "Il codice del servizio in quella sede nel registro."),
    ("service_id", Kind::Text, "Codice del servizio", "Il codice del servizio nel registro."),
    ("service", Kind::Text, "Servizio", "Il nome del servizio."),
    ("organization_id", Kind::Text, "Codice dell'organizzazione", "Il codice dell'ente gestore nel registro (vedi `organizzazioni.csv`)."),
    ("organization", Kind::Text, "Ente gestore", "Il nome dell'organizzazione che gestisce il servizio."),
    ("sector", Kind::Text, "Settore", "`pubblico`, `terzo settore` o `privato`."),
    ("risks", Kind::Text, "Rischi sociali", "I rischi sociali a cui il servizio risponde, separati da `;`."),
    ("target_groups", Kind::Text, "Destinatari", "I gruppi a cui il servizio si rivolge, separati da `;` (vuoto: non indicati)."),
    ("minimum_age", Kind::Integer, "Età minima", "L'età minima per accedere, se indicata."),
    ("maximum_age", Kind::Integer, "Età massima", "L'età massima per accedere, se indicata."),
    ("free", Kind::Text, "Gratuito", "`sì` se il servizio è gratuito, `no` se a pagamento, vuoto se non indicato."),
    ("zone", Kind::Text, "Zona", "Il codice della zona della sede."),
    ("zone_name", Kind::Text, "Nome della zona", "Il nome della zona della sede."),
    ("location_id", Kind::Text, "Codice della sede", "Il codice della sede nel registro (vedi `sedi.csv`)."),
    ("location", Kind::Text, "Sede", "Il nome della sede."),
    ("address", Kind::Text, "Indirizzo", "L'indirizzo della sede."),
    ("places", Kind::Integer, "Posti", "I posti del servizio nella sede (l'ultima capienza registrata)."),
    ("operators", Kind::Number, "Operatori", "Gli operatori del servizio attribuiti alla sede (in proporzione ai posti se ogni sede ha i posti, in parti uguali altrimenti)."),
    ("fte", Kind::Number, "Operatori equivalenti a tempo pieno", "Gli stessi operatori in equivalenti a tempo pieno."),
];

#[rustfmt::skip]
const ORGANIZATION_COLUMNS: &[(&str, Kind, &str, &str)] = &[
    ("organization_id", Kind::Text, "Codice dell'organizzazione", "Il codice dell'organizzazione nel registro."),
    ("organization", Kind::Text, "Organizzazione", "Il nome dell'organizzazione."),
    ("sector", Kind::Text, "Settore", "`pubblico`, `terzo settore` o `privato`."),
    ("legal_form", Kind::Text, "Forma giuridica", "La forma giuridica (ad esempio cooperativa sociale di tipo A)."),
    ("municipality", Kind::Text, "Comune della sede legale", "Il comune della sede legale."),
    ("website", Kind::Text, "Sito web", "Il sito web dell'organizzazione."),
    ("services", Kind::Integer, "Servizi nel distretto", "I servizi attivi che l'organizzazione gestisce nelle sedi del distretto (per sede)."),
    ("places", Kind::Integer, "Posti nel distretto", "I posti di quei servizi."),
    ("operators", Kind::Number, "Operatori nel distretto", "Gli operatori di quei servizi attribuiti alle sedi del distretto."),
];

#[rustfmt::skip]
const LOCATION_COLUMNS: &[(&str, Kind, &str, &str)] = &[
    ("location_id", Kind::Text, "Codice della sede", "Il codice della sede nel registro."),
    ("location", Kind::Text, "Sede", "Il nome della sede."),
    ("organization_id", Kind::Text, "Codice dell'organizzazione", "Il codice dell'organizzazione a cui la sede appartiene, se indicata."),
    ("organization", Kind::Text, "Organizzazione", "Il nome di quell'organizzazione."),
    ("zone", Kind::Text, "Zona", "Il codice della zona."),
    ("zone_name", Kind::Text, "Nome della zona", "Il nome della zona."),
    ("address", Kind::Text, "Indirizzo", "Via e numero civico."),
    ("postal_code", Kind::Text, "CAP", "Il codice di avviamento postale."),
    ("city", Kind::Text, "Comune", "Il comune dell'indirizzo."),
    ("latitude", Kind::Degrees, "Latitudine", "La latitudine (WGS 84), se indicata."),
    ("longitude", Kind::Degrees, "Longitudine", "La longitudine (WGS 84), se indicata."),
    ("services", Kind::Integer, "Servizi", "I servizi attivi offerti nella sede."),
    ("places", Kind::Integer, "Posti", "I posti di quei servizi nella sede."),
];

fn fields(cols: &[(&str, Kind, &str, &str)]) -> Vec<Field> {
    cols.iter().map(|(n, k, t, d)| field(n, *k, t, d)).collect()
}

/// `servizi.csv`, `organizzazioni.csv` and `sedi.csv` for the services located in the place's
/// zones.
fn registry_sheets(place: &Place, view: &RegistryView) -> Vec<Sheet> {
    let zones: BTreeMap<&str, &str> = place
        .zones
        .iter()
        .map(|z| (z.code.as_str(), z.name.as_str()))
        .collect();
    let mut services = Vec::new();
    // per organization and per location: (services, places, operators)
    let mut by_org: BTreeMap<&str, (usize, f64, f64)> = BTreeMap::new();
    let mut by_loc: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    let mut sals: Vec<&ServiceAtLocation> = view.sals.iter().collect();
    sals.sort_by(|a, b| a.id.cmp(&b.id));
    for x in sals {
        let Some(loc) = view.locations.get(&x.location_id) else {
            continue;
        };
        let Some((zone, zone_name)) = loc
            .zone
            .as_deref()
            .and_then(|z| zones.get_key_value(z))
            .map(|(z, n)| (*z, *n))
        else {
            continue;
        };
        let Some(s) = view.services.get(&x.service_id) else {
            continue;
        };
        let org = view.organizations.get(&s.organization_id);
        let point = view.points.get(&x.id);
        let places = point.and_then(|p| p.places);
        let operators = point.map_or(0.0, |p| p.operators);
        let e = by_org.entry(s.organization_id.as_str()).or_default();
        e.0 += 1;
        e.1 += places.map_or(0.0, f64::from);
        e.2 += operators;
        let e = by_loc.entry(loc.id.as_str()).or_default();
        e.0 += 1;
        e.1 += places.map_or(0.0, f64::from);
        services.push(vec![
            x.id.clone(),
            s.id.clone(),
            s.name.clone(),
            s.organization_id.clone(),
            org.map(|o| o.name.clone()).unwrap_or_default(),
            sector(org.and_then(|o| o.kind)).to_string(),
            s.risks
                .iter()
                .map(|r| r.label_it())
                .collect::<Vec<_>>()
                .join("; "),
            s.target_groups
                .iter()
                .map(|g| g.label_it())
                .collect::<Vec<_>>()
                .join("; "),
            s.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            s.maximum_age.map(|a| a.to_string()).unwrap_or_default(),
            match s.free {
                Some(true) => "sì",
                Some(false) => "no",
                None => "",
            }
            .to_string(),
            zone.to_string(),
            zone_name.to_string(),
            loc.id.clone(),
            loc.name.clone().unwrap_or_default(),
            address_line(view.addresses.get(&loc.id)),
            places.map(|p| p.to_string()).unwrap_or_default(),
            rounded(operators, 2),
            rounded(point.map_or(0.0, |p| p.fte), 2),
        ]);
    }
    let organizations = by_org
        .iter()
        .map(|(id, (n, places, ops))| {
            let o = view.organizations.get(*id);
            vec![
                id.to_string(),
                o.map(|o| o.name.clone()).unwrap_or_default(),
                sector(o.and_then(|o| o.kind)).to_string(),
                o.and_then(|o| o.legal_form.clone()).unwrap_or_default(),
                o.and_then(|o| o.municipality.clone()).unwrap_or_default(),
                o.and_then(|o| o.website.clone()).unwrap_or_default(),
                n.to_string(),
                num(*places),
                rounded(*ops, 2),
            ]
        })
        .collect();
    let locations = by_loc
        .iter()
        .map(|(id, (n, places))| {
            let l = &view.locations[*id];
            let a = view.addresses.get(*id);
            let org = l
                .organization_id
                .as_ref()
                .and_then(|o| view.organizations.get(o));
            let zone = l.zone.clone().unwrap_or_default();
            vec![
                id.to_string(),
                l.name.clone().unwrap_or_default(),
                l.organization_id.clone().unwrap_or_default(),
                org.map(|o| o.name.clone()).unwrap_or_default(),
                zone.clone(),
                zones.get(zone.as_str()).copied().unwrap_or("").to_string(),
                address_line(a),
                a.map(|a| a.postal_code.clone()).unwrap_or_default(),
                a.map(|a| a.city.clone()).unwrap_or_default(),
                opt(l.latitude),
                opt(l.longitude),
                n.to_string(),
                num(*places),
            ]
        })
        .collect();
    vec![
        Sheet {
            path: "servizi.csv".into(),
            sheet: "servizi".into(),
            title: "Servizi".into(),
            description: "I servizi attivi del registro nelle sedi delle zone del distretto, uno \
                          per sede, con posti e operatori."
                .into(),
            fields: fields(SERVICE_COLUMNS),
            rows: services,
            key: vec!["service_at_location_id".into()],
        },
        Sheet {
            path: "organizzazioni.csv".into(),
            sheet: "organizzazioni".into(),
            title: "Organizzazioni".into(),
            description: "Le organizzazioni che gestiscono i servizi di `servizi.csv`.".into(),
            fields: fields(ORGANIZATION_COLUMNS),
            rows: organizations,
            key: vec!["organization_id".into()],
        },
        Sheet {
            path: "sedi.csv".into(),
            sheet: "sedi".into(),
            title: "Sedi".into(),
            description: "Le sedi dei servizi di `servizi.csv`.".into(),
            fields: fields(LOCATION_COLUMNS),
            rows: locations,
            key: vec!["location_id".into()],
        },
    ]
}

#[cfg(test)]
mod tests;
