//! Loads the WeCaRe Measure 1 programme (Regione Piemonte, 2017–2021) from its four CSV files,
//! as they are published in the lab's data folder.
//!
//! | file | rows become |
//! | --- | --- |
//! | `projects.csv` | [`Project`]s of the programme [`PROGRAMME_ID`], id `wecare-m1/<code>` |
//! | `managing_bodies.csv` | organizations (kind `public_body`) and `managing_body` partner links |
//! | `interventions.csv` | [`Intervention`]s, id `wecare-m1/<code>/<category>` |
//! | `thematic_areas.csv` | [`ProjectThematicArea`] links |
//!
//! Managing bodies are deduplicated by [`normalize_name`]: a body listed in several projects
//! becomes one organization with id [`organization_id`], stable across imports. Nothing in the
//! files says which body leads a project, so the `lead` role is given only where the data
//! settles it: the project's only managing body (the README: each partnership was led by a
//! managing body), or else the one body whose name contains the lead municipality's name; any
//! other project is reported without a lead rather than guessed.
//!
//! Rows that cannot be loaded (an unknown project, a population that is not a whole number, an
//! unknown class, a duplicate) are rejected with file, line, field and reason; for every file
//! rows read = rows loaded + rows rejected. A file that cannot be read at all (missing, not
//! UTF-8, a required column absent) fails the import, which then writes nothing.
//!
//! Importing again gives the same state: the programme, its projects and interventions are
//! upserted, their partner and thematic links rewritten, rows no longer in the files removed
//! (refused while indicators measure them), organizations reused.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::programme::{
    self, InnovationClass, Instrument, Intervention, PartnerRole, Period, Programme,
    ProgrammeError, Project, ProjectPartner, ProjectThematicArea,
};

/// The id of the programme in the registry.
pub const PROGRAMME_ID: &str = "wecare-m1";

/// The four files of the data folder, in the order they are read.
pub const FILES: [&str; 4] = [
    "projects.csv",
    "managing_bodies.csv",
    "interventions.csv",
    "thematic_areas.csv",
];

/// WeCaRe's territorial areas are the 30 social-cohesion districts of Piedmont.
const TERRITORIAL_AREAS: std::ops::RangeInclusive<u32> = 1..=30;

/// The programme record, from the data folder's README: WeCaRe Measure 1, financed by the
/// Piedmont Region with the ESF and the ERDF, 2017–2021, about 6.5 million euro.
pub fn programme() -> Result<Programme, ProgrammeError> {
    let period = |text: &str| {
        Period::parse(text).map_err(|e| ProgrammeError::Internal(format!("wecare period: {e}")))
    };
    Ok(Programme {
        id: PROGRAMME_ID.to_string(),
        name: "WeCaRe Measure 1".to_string(),
        funder: Some("Regione Piemonte".to_string()),
        funding_sources: Some("ESF, ERDF".to_string()),
        start: Some(period("2017")?),
        end: Some(period("2021")?),
        budget_eur: Some(6_500_000.0),
        budget_approximate: true,
        source: Some(
            "IRES Piemonte implementation analysis (2020, tables 1.1-1.5) and the strategic \
             report of the design-led support programme (2021)"
                .to_string(),
        ),
    })
}

/// The form of a name used to recognise the same body written differently: ASCII (accents
/// dropped), lower case, dots and apostrophes removed (`C.I.S.S.` is `ciss`), every other run
/// of non-alphanumeric characters a single space.
pub fn normalize_name(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    let mut gap = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else if c != '.' && c != '\'' {
            gap = true;
        }
    }
    out
}

/// The organization id of a body: `org-` and its normalized name with dashes (`CSSM Mondovì`
/// is `org-cssm-mondovi`); `None` for a name with no letter or digit.
pub fn organization_id(name: &str) -> Option<String> {
    let normalized = normalize_name(name);
    (!normalized.is_empty()).then(|| format!("org-{}", normalized.replace(' ', "-")))
}

/// A row that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// The accounting of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub file: String,
    pub rows_read: usize,
    pub rows_loaded: usize,
    pub rejected: Vec<Rejected>,
    /// Columns present in the file that the loader does not use.
    pub ignored_columns: Vec<String>,
}

/// How the lead of a project was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadBasis {
    /// The project has a single managing body.
    OnlyManagingBody,
    /// Of several managing bodies, exactly one is named after the lead municipality.
    NamedAfterLeadMunicipality,
}

/// A project's lead, with the reason it was recognised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeadAssignment {
    pub project_id: String,
    pub organization_id: String,
    pub basis: LeadBasis,
}

/// A project left without a lead, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingLead {
    pub project_id: String,
    pub reason: String,
}

/// One organization made of several rows: listed in several projects or spelt in several ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedBody {
    pub organization_id: String,
    pub names: Vec<String>,
    pub projects: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub programme_id: String,
    pub files: Vec<FileReport>,
    pub projects: usize,
    /// Distinct managing bodies after deduplication.
    pub organizations: usize,
    /// Of which new to the registry (the others were there from an earlier import or source).
    pub organizations_created: usize,
    pub merged_bodies: Vec<MergedBody>,
    pub managing_body_links: usize,
    pub leads: Vec<LeadAssignment>,
    pub projects_without_lead: Vec<MissingLead>,
    pub interventions: usize,
    pub thematic_area_links: usize,
    /// Projects and interventions of an earlier import that are no longer in the files.
    pub removed: Vec<String>,
}

impl ImportReport {
    /// Rows rejected over all files.
    pub fn rejected(&self) -> usize {
        self.files.iter().map(|f| f.rejected.len()).sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "programme {}", self.programme_id)?;
        for file in &self.files {
            writeln!(
                f,
                "  {}: {} rows read, {} loaded, {} rejected",
                file.file,
                file.rows_read,
                file.rows_loaded,
                file.rejected.len()
            )?;
            for r in &file.rejected {
                writeln!(
                    f,
                    "    {}:{}: {}: '{}': {}",
                    file.file, r.line, r.field, r.value, r.reason
                )?;
            }
        }
        writeln!(
            f,
            "  {} projects, {} organizations ({} new), {} managing-body links, {} leads, \
             {} interventions, {} thematic-area links",
            self.projects,
            self.organizations,
            self.organizations_created,
            self.managing_body_links,
            self.leads.len(),
            self.interventions,
            self.thematic_area_links
        )?;
        for missing in &self.projects_without_lead {
            writeln!(
                f,
                "  no lead for {}: {}",
                missing.project_id, missing.reason
            )?;
        }
        for removed in &self.removed {
            writeln!(f, "  removed {removed} (no longer in the files)")?;
        }
        Ok(())
    }
}

/// One data row: its line and the required columns' values, trimmed, in the order asked.
struct Line {
    number: u64,
    fields: Vec<String>,
}

/// Reads a whole file; fails it if it cannot be opened or decoded or lacks a required column.
/// A row with the wrong number of fields is rejected, not fatal.
fn read_csv(
    dir: &Path,
    file: &str,
    required: &[&str],
    report: &mut FileReport,
) -> Result<Vec<Line>, ProgrammeError> {
    let path = dir.join(file);
    let source = |line: Option<u64>, field: Option<&str>, message: String| ProgrammeError::Source {
        file: path.clone(),
        line,
        field: field.map(String::from),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .map_err(|e| source(None, None, csv_message(&e)))?;
    let header = reader
        .headers()
        .map_err(|e| source(Some(1), None, csv_message(&e)))?
        .clone();
    let names: Vec<&str> = header.iter().map(str::trim).collect();
    let mut positions = Vec::with_capacity(required.len());
    for column in required {
        let position = names.iter().position(|n| n == column).ok_or_else(|| {
            source(
                Some(1),
                Some(column),
                format!("required column missing (found: {})", names.join(", ")),
            )
        })?;
        positions.push(position);
    }
    report.ignored_columns = names
        .iter()
        .filter(|n| !required.contains(n))
        .map(|n| n.to_string())
        .collect();
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            source(line, None, csv_message(&e))
        })?;
        let number = record.position().map_or(0, |p| p.line());
        report.rows_read += 1;
        if record.len() != header.len() {
            report.rejected.push(Rejected {
                line: number,
                field: "*".into(),
                value: record.iter().collect::<Vec<_>>().join(","),
                reason: format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            });
            continue;
        }
        let fields = positions
            .iter()
            .map(|&i| record.get(i).unwrap_or_default().trim().to_string())
            .collect();
        lines.push(Line { number, fields });
    }
    Ok(lines)
}

fn csv_message(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("not valid UTF-8 (field {}): {err}", err.field() + 1)
        }
        _ => err.to_string().to_lowercase(),
    }
}

impl FileReport {
    fn new(file: &str) -> Self {
        FileReport {
            file: file.to_string(),
            rows_read: 0,
            rows_loaded: 0,
            rejected: Vec::new(),
            ignored_columns: Vec::new(),
        }
    }

    fn reject(&mut self, line: &Line, field: &str, index: usize, reason: impl Into<String>) {
        self.rejected.push(Rejected {
            line: line.number,
            field: field.to_string(),
            value: line.fields.get(index).cloned().unwrap_or_default(),
            reason: reason.into(),
        });
    }

    fn balance(&self) -> Result<(), ProgrammeError> {
        if self.rows_read != self.rows_loaded + self.rejected.len() {
            return Err(ProgrammeError::Internal(format!(
                "{}: {} rows read but {} loaded and {} rejected",
                self.file,
                self.rows_read,
                self.rows_loaded,
                self.rejected.len()
            )));
        }
        Ok(())
    }
}

/// Rejects the row if a required field is empty; true if all are present.
fn present(report: &mut FileReport, line: &Line, columns: &[&str]) -> bool {
    match line.fields.iter().position(String::is_empty) {
        Some(i) => {
            report.reject(line, columns.get(i).copied().unwrap_or("?"), i, "is empty");
            false
        }
        None => true,
    }
}

/// A managing body row that was accepted.
struct BodyRow {
    project_code: String,
    organization_id: String,
    name: String,
    area: String,
}

/// Everything read from the folder, validated, before anything is written.
struct Parsed {
    projects: Vec<Project>,
    bodies: Vec<BodyRow>,
    interventions: Vec<Intervention>,
    areas: Vec<ProjectThematicArea>,
    files: Vec<FileReport>,
}

fn project_id(code: &str) -> String {
    format!("{PROGRAMME_ID}/{code}")
}

fn parse(dir: &Path) -> Result<Parsed, ProgrammeError> {
    // projects.csv
    let columns = [
        "project_id",
        "lead_municipality",
        "population",
        "title",
        "quadrant",
    ];
    let mut report = FileReport::new(FILES[0]);
    let mut projects: Vec<Project> = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for line in read_csv(dir, FILES[0], &columns, &mut report)? {
        if !present(&mut report, &line, &columns) {
            continue;
        }
        let [code, municipality, population, title, quadrant] = &line.fields[..] else {
            return Err(ProgrammeError::Internal("projects.csv: row width".into()));
        };
        if let Some(first) = first_line.get(code) {
            report.reject(&line, "project_id", 0, format!("duplicate of line {first}"));
            continue;
        }
        if !population.bytes().all(|b| b.is_ascii_digit()) {
            report.reject(
                &line,
                "population",
                2,
                "not a whole number of residents (digits only)",
            );
            continue;
        }
        let Ok(population) = population.parse::<u64>() else {
            report.reject(&line, "population", 2, "too large");
            continue;
        };
        first_line.insert(code.clone(), line.number);
        projects.push(Project {
            id: project_id(code),
            programme_id: PROGRAMME_ID.to_string(),
            code: code.clone(),
            title: title.clone(),
            lead_municipality: Some(municipality.clone()),
            population_served: Some(population),
            area: None,
            quadrant: Some(quadrant.clone()),
            start: None,
            end: None,
            budget_eur: None,
        });
        report.rows_loaded += 1;
    }
    let mut files = vec![report];
    let known = |report: &mut FileReport, line: &Line| -> bool {
        let code = &line.fields[0];
        if first_line.contains_key(code) {
            true
        } else {
            report.reject(
                line,
                "project_id",
                0,
                format!("no project '{code}' was loaded from projects.csv"),
            );
            false
        }
    };

    // managing_bodies.csv
    let columns = ["project_id", "territorial_area", "managing_body"];
    let mut report = FileReport::new(FILES[1]);
    let mut bodies = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for line in read_csv(dir, FILES[1], &columns, &mut report)? {
        if !present(&mut report, &line, &columns) || !known(&mut report, &line) {
            continue;
        }
        let [code, area, name] = &line.fields[..] else {
            return Err(ProgrammeError::Internal(
                "managing_bodies.csv: row width".into(),
            ));
        };
        match area.parse::<u32>() {
            Ok(n) if TERRITORIAL_AREAS.contains(&n) && area.bytes().all(|b| b.is_ascii_digit()) => {
            }
            _ => {
                report.reject(
                    &line,
                    "territorial_area",
                    1,
                    "not a territorial area number from 1 to 30",
                );
                continue;
            }
        }
        let Some(organization_id) = organization_id(name) else {
            report.reject(&line, "managing_body", 2, "has no letter or digit");
            continue;
        };
        let key = (code.clone(), organization_id.clone());
        if let Some(first) = seen.get(&key) {
            report.reject(
                &line,
                "managing_body",
                2,
                format!("the same body ({organization_id}) is already listed for project {code} on line {first}"),
            );
            continue;
        }
        seen.insert(key, line.number);
        bodies.push(BodyRow {
            project_code: code.clone(),
            organization_id,
            name: name.clone(),
            area: area.clone(),
        });
        report.rows_loaded += 1;
    }
    files.push(report);

    // interventions.csv
    let columns = ["project_id", "innovation_class", "instrument", "category"];
    let mut report = FileReport::new(FILES[2]);
    let mut interventions: Vec<Intervention> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for line in read_csv(dir, FILES[2], &columns, &mut report)? {
        if !present(&mut report, &line, &columns) || !known(&mut report, &line) {
            continue;
        }
        let [code, class, instrument, category] = &line.fields[..] else {
            return Err(ProgrammeError::Internal(
                "interventions.csv: row width".into(),
            ));
        };
        let class = match InnovationClass::parse(class) {
            Ok(class) => class,
            Err(reason) => {
                report.reject(&line, "innovation_class", 1, reason);
                continue;
            }
        };
        let instrument = match Instrument::parse(instrument) {
            Ok(instrument) => instrument,
            Err(reason) => {
                report.reject(&line, "instrument", 2, reason);
                continue;
            }
        };
        let id = format!("{}/{category}", project_id(code));
        if let Some(first) = seen.get(&id) {
            report.reject(
                &line,
                "category",
                3,
                format!("project {code} already has this category on line {first}"),
            );
            continue;
        }
        seen.insert(id.clone(), line.number);
        interventions.push(Intervention {
            id,
            project_id: project_id(code),
            category: category.clone(),
            innovation_class: Some(class),
            instrument: Some(instrument),
            thematic_area: None,
            description: None,
        });
        report.rows_loaded += 1;
    }
    files.push(report);

    // thematic_areas.csv
    let columns = ["project_id", "thematic_area"];
    let mut report = FileReport::new(FILES[3]);
    let mut areas: Vec<ProjectThematicArea> = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    for line in read_csv(dir, FILES[3], &columns, &mut report)? {
        if !present(&mut report, &line, &columns) || !known(&mut report, &line) {
            continue;
        }
        let [code, area] = &line.fields[..] else {
            return Err(ProgrammeError::Internal(
                "thematic_areas.csv: row width".into(),
            ));
        };
        let key = (code.clone(), area.clone());
        if let Some(first) = seen.get(&key) {
            report.reject(
                &line,
                "thematic_area",
                1,
                format!("duplicate of line {first}"),
            );
            continue;
        }
        seen.insert(key, line.number);
        areas.push(ProjectThematicArea {
            project_id: project_id(code),
            thematic_area: area.clone(),
        });
        report.rows_loaded += 1;
    }
    files.push(report);

    for file in &mut files {
        file.rejected.sort_by_key(|r| r.line);
        file.balance()?;
    }
    Ok(Parsed {
        projects,
        bodies,
        interventions,
        areas,
        files,
    })
}

/// Whether the words of `municipality` appear, in order and side by side, in `body`'s name.
fn named_after(body: &str, municipality: &str) -> bool {
    let body = normalize_name(body);
    let town = normalize_name(municipality);
    let body: Vec<&str> = body.split(' ').collect();
    let town: Vec<&str> = town.split(' ').collect();
    !town.is_empty() && !town[0].is_empty() && body.windows(town.len()).any(|w| w == town)
}

/// Finds each project's lead among its managing bodies (see the module documentation).
fn leads(
    projects: &[Project],
    bodies: &[BodyRow],
) -> (Vec<(LeadAssignment, String)>, Vec<MissingLead>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for project in projects {
        let own: Vec<&BodyRow> = bodies
            .iter()
            .filter(|b| b.project_code == project.code)
            .collect();
        let municipality = project.lead_municipality.as_deref().unwrap_or_default();
        let named: Vec<&&BodyRow> = own
            .iter()
            .filter(|b| named_after(&b.name, municipality))
            .collect();
        let (lead, basis) = match (own.as_slice(), named.as_slice()) {
            ([only], _) => (*only, LeadBasis::OnlyManagingBody),
            (_, [one]) => (**one, LeadBasis::NamedAfterLeadMunicipality),
            ([], _) => {
                missing.push(MissingLead {
                    project_id: project.id.clone(),
                    reason: "no managing body was loaded for it".into(),
                });
                continue;
            }
            (_, none_or_many) => {
                missing.push(MissingLead {
                    project_id: project.id.clone(),
                    reason: format!(
                        "{} managing bodies, {} of them named after the lead municipality \
                         '{municipality}'",
                        own.len(),
                        none_or_many.len()
                    ),
                });
                continue;
            }
        };
        found.push((
            LeadAssignment {
                project_id: project.id.clone(),
                organization_id: lead.organization_id.clone(),
                basis,
            },
            lead.area.clone(),
        ));
    }
    (found, missing)
}

/// Adds the organization if its id is new; reuses it if its name normalizes the same; refuses
/// an id taken by a differently named organization. Returns whether it was created.
fn ensure_organization(tx: &Transaction, id: &str, name: &str) -> Result<bool, ProgrammeError> {
    let object = format!("organization '{id}'");
    let existing: Option<String> = tx
        .query_row(
            "SELECT name FROM organizations WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .optional()
        .map_err(ProgrammeError::db(format!("looking up {object}")))?;
    match existing {
        Some(existing) if normalize_name(&existing) == normalize_name(name) => Ok(false),
        Some(existing) => Err(ProgrammeError::invalid(
            object,
            "name",
            format!("the id is taken by '{existing}', which is not the same body as '{name}'"),
        )),
        None => {
            tx.execute(
                "INSERT INTO organizations (id, name, kind, legal_form, tax_id)
                 VALUES (?1, ?2, ?3, NULL, NULL)",
                (id, name, crate::codes::OrganizationKind::PublicBody.code()),
            )
            .map_err(ProgrammeError::db(format!("writing {object}")))?;
            Ok(true)
        }
    }
}

/// Loads the WeCaRe folder `dir` into the registry in one transaction and says what it did.
///
/// The programme tables must exist ([`programme::init`]), and so must the `organizations`
/// table of the providers half. See the module documentation for the rules.
pub fn import(conn: &mut Connection, dir: &Path) -> Result<ImportReport, ProgrammeError> {
    let parsed = parse(dir)?;
    let programme = programme()?;
    let (leads, projects_without_lead) = leads(&parsed.projects, &parsed.bodies);

    let mut names: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for body in &parsed.bodies {
        let entry = names.entry(body.organization_id.clone()).or_default();
        entry.0.insert(body.name.clone());
        entry.1.insert(project_id(&body.project_code));
    }
    let merged_bodies = names
        .iter()
        .filter(|(_, (spellings, projects))| spellings.len() > 1 || projects.len() > 1)
        .map(|(id, (spellings, projects))| MergedBody {
            organization_id: id.clone(),
            names: spellings.iter().cloned().collect(),
            projects: projects.iter().cloned().collect(),
        })
        .collect();

    let tx = conn
        .transaction()
        .map_err(ProgrammeError::db("starting the wecare import"))?;
    programme::upsert_programme(&tx, &programme)?;

    let mut removed = Vec::new();
    let wanted: BTreeSet<&str> = parsed.projects.iter().map(|p| p.id.as_str()).collect();
    for old in programme::list_projects(&tx, PROGRAMME_ID)? {
        if !wanted.contains(old.id.as_str()) {
            programme::delete_project(&tx, &old.id)?;
            removed.push(old.id);
        }
    }
    for project in &parsed.projects {
        programme::upsert_project(&tx, project)?;
        programme::clear_project_links(&tx, &project.id)?;
    }
    let wanted: BTreeSet<&str> = parsed.interventions.iter().map(|i| i.id.as_str()).collect();
    for old in programme::list_interventions(&tx, PROGRAMME_ID)? {
        if !wanted.contains(old.id.as_str()) {
            programme::delete_intervention(&tx, &old.id)?;
            removed.push(old.id);
        }
    }
    for intervention in &parsed.interventions {
        programme::upsert_intervention(&tx, intervention)?;
    }

    let mut organizations_created = 0;
    let mut first_name: HashMap<&str, &str> = HashMap::new();
    for body in &parsed.bodies {
        first_name
            .entry(body.organization_id.as_str())
            .or_insert(body.name.as_str());
    }
    for id in names.keys() {
        let name = first_name.get(id.as_str()).copied().unwrap_or(id.as_str());
        if ensure_organization(&tx, id, name)? {
            organizations_created += 1;
        }
    }
    for body in &parsed.bodies {
        programme::insert_project_partner(
            &tx,
            &ProjectPartner {
                project_id: project_id(&body.project_code),
                organization_id: body.organization_id.clone(),
                role: PartnerRole::ManagingBody,
                territorial_area: Some(body.area.clone()),
            },
        )?;
    }
    for (lead, area) in &leads {
        programme::insert_project_partner(
            &tx,
            &ProjectPartner {
                project_id: lead.project_id.clone(),
                organization_id: lead.organization_id.clone(),
                role: PartnerRole::Lead,
                territorial_area: Some(area.clone()),
            },
        )?;
    }
    for area in &parsed.areas {
        programme::insert_project_thematic_area(&tx, area)?;
    }
    tx.commit()
        .map_err(ProgrammeError::db("committing the wecare import"))?;

    Ok(ImportReport {
        programme_id: PROGRAMME_ID.to_string(),
        projects: parsed.projects.len(),
        organizations: names.len(),
        organizations_created,
        merged_bodies,
        managing_body_links: parsed.bodies.len(),
        leads: leads.into_iter().map(|(lead, _)| lead).collect(),
        projects_without_lead,
        interventions: parsed.interventions.len(),
        thematic_area_links: parsed.areas.len(),
        removed,
        files: parsed.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::IndicatorSubject;
    use crate::programme::store::tests::{database, indicator};

    const PROJECTS: &str = "project_id,lead_municipality,population,title,quadrant
P1,Pinerolo,134770,Uno,Torino e provincia
P2,Mondovì,86130,\"Due, con virgola\",Cuneo
P3,Bra,65788,Tre,Cuneo
P4,Alba,105.475,Quattro,Cuneo
P1,Pinerolo,1,Doppio,Torino e provincia
";
    const BODIES: &str = "project_id,territorial_area,managing_body
P1,20,CISS Pinerolo
P2,9,CSSM Mondovi\u{300}
P2,9,Unione Montana Ceva
P3,11,C.I.S.S. pinerolo
P3,11,Convenzione Comune Bra Sud
P3,11,Comune di Bra
P4,10,CSA Alba
P1,31,Fuori area
P1,20,ciss  PINEROLO
P1,20
";
    const INTERVENTIONS: &str = "project_id,innovation_class,instrument,category
P1,social_innovation,service,mutual_aid
P2,territorial_welfare,action,networks
P3,social_innovation,service,mutual_aid
P3,territorial_welfare,service,mutual_aid
P9,territorial_welfare,service,housing
P2,welfare,service,housing
";
    const AREAS: &str = "project_id,thematic_area,note
P1,elderly,x
P2,elderly,y
P2,elderly,z
P3,,w
";

    fn folder(files: [&str; 4]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in FILES.iter().zip(files) {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn check_rejected(report: &FileReport, expect: &[&str]) {
        let got: Vec<String> = report
            .rejected
            .iter()
            .map(|r| format!("{}: {}: '{}': {}", r.line, r.field, r.value, r.reason))
            .collect();
        assert_eq!(got, expect, "{}", report.file);
        assert_eq!(report.rows_read, report.rows_loaded + report.rejected.len());
    }

    /// Every row of every table this module writes, as text, in a fixed order.
    fn dump(conn: &Connection) -> Vec<String> {
        let tables = [
            "organizations",
            "programmes",
            "projects",
            "project_partners",
            "interventions",
            "project_thematic_areas",
        ];
        let mut out = Vec::new();
        for table in tables {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))
                .unwrap();
            let width = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    let cells: Vec<String> = (0..width)
                        .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                        .collect();
                    Ok(format!("{table}: {}", cells.join(" | ")))
                })
                .unwrap();
            out.extend(rows.map(Result::unwrap));
        }
        out
    }

    #[test]
    fn names_normalize_to_stable_ids() {
        assert_eq!(normalize_name("CSSM Mondovì"), "cssm mondovi");
        assert_eq!(normalize_name(" C.I.S.S. -- Pinerolo "), "ciss pinerolo");
        assert_eq!(normalize_name("Unione dell'Ossola"), "unione dellossola");
        assert_eq!(
            organization_id("CISAP Grugliasco-Rivoli").as_deref(),
            Some("org-cisap-grugliasco-rivoli")
        );
        assert_eq!(organization_id(" . - "), None);
        assert!(named_after("CISAP Grugliasco-Rivoli", "Rivoli"));
        assert!(named_after(
            "CISAS Castelletto Ticino",
            "Castelletto Ticino"
        ));
        assert!(!named_after("CISA Asti Sud Nizza Monferrato", "Nizza Sud"));
        assert!(!named_after("Convenzione Comune Bra", "Brà Sud"));
    }

    #[test]
    fn rows_are_loaded_or_rejected_with_line_field_and_reason() {
        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        let mut conn = database();
        let report = import(&mut conn, dir.path()).unwrap();
        check_rejected(
            &report.files[0],
            &[
                "5: population: '105.475': not a whole number of residents (digits only)",
                "6: project_id: 'P1': duplicate of line 2",
            ],
        );
        check_rejected(
            &report.files[1],
            &[
                "8: project_id: 'P4': no project 'P4' was loaded from projects.csv",
                "9: territorial_area: '31': not a territorial area number from 1 to 30",
                "10: managing_body: 'ciss  PINEROLO': the same body (org-ciss-pinerolo) is \
                 already listed for project P1 on line 2",
                "11: *: 'P1,20': 2 fields where the header has 3",
            ],
        );
        check_rejected(
            &report.files[2],
            &[
                "5: category: 'mutual_aid': project P3 already has this category on line 4",
                "6: project_id: 'P9': no project 'P9' was loaded from projects.csv",
                "7: innovation_class: 'welfare': 'welfare' is not one of social_innovation, \
                 territorial_welfare",
            ],
        );
        check_rejected(
            &report.files[3],
            &[
                "4: thematic_area: 'elderly': duplicate of line 3",
                "5: thematic_area: '': is empty",
            ],
        );
        assert_eq!(report.files[3].ignored_columns, ["note"]);
        assert_eq!(report.rejected(), 11);

        // P1's and P3's "CISS Pinerolo" are one body; P3 has two bodies named after Bra.
        assert_eq!(report.organizations, 5);
        assert_eq!(report.organizations_created, 5);
        assert_eq!(
            report.merged_bodies,
            [MergedBody {
                organization_id: "org-ciss-pinerolo".into(),
                names: vec!["C.I.S.S. pinerolo".into(), "CISS Pinerolo".into()],
                projects: vec!["wecare-m1/P1".into(), "wecare-m1/P3".into()],
            }]
        );
        assert_eq!(
            report.leads,
            [
                LeadAssignment {
                    project_id: "wecare-m1/P1".into(),
                    organization_id: "org-ciss-pinerolo".into(),
                    basis: LeadBasis::OnlyManagingBody,
                },
                LeadAssignment {
                    project_id: "wecare-m1/P2".into(),
                    organization_id: "org-cssm-mondovi".into(),
                    basis: LeadBasis::NamedAfterLeadMunicipality,
                },
            ]
        );
        assert_eq!(
            report.projects_without_lead,
            [MissingLead {
                project_id: "wecare-m1/P3".into(),
                reason: "3 managing bodies, 2 of them named after the lead municipality 'Bra'"
                    .into(),
            }]
        );

        let partners = programme::list_project_partners(&conn, PROGRAMME_ID).unwrap();
        let partners: Vec<String> = partners
            .iter()
            .map(|p| {
                format!(
                    "{} {} {} {}",
                    p.project_id,
                    p.role,
                    p.organization_id,
                    p.territorial_area.as_deref().unwrap_or("-")
                )
            })
            .collect();
        assert_eq!(
            partners,
            [
                "wecare-m1/P1 lead org-ciss-pinerolo 20",
                "wecare-m1/P1 managing_body org-ciss-pinerolo 20",
                "wecare-m1/P2 lead org-cssm-mondovi 9",
                "wecare-m1/P2 managing_body org-cssm-mondovi 9",
                "wecare-m1/P2 managing_body org-unione-montana-ceva 9",
                "wecare-m1/P3 managing_body org-ciss-pinerolo 11",
                "wecare-m1/P3 managing_body org-comune-di-bra 11",
                "wecare-m1/P3 managing_body org-convenzione-comune-bra-sud 11",
            ]
        );
        let name: String = conn
            .query_row(
                "SELECT name || ' ' || kind FROM organizations WHERE id = 'org-ciss-pinerolo'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            name, "CISS Pinerolo public_body",
            "the first spelling is kept"
        );
        let projects = programme::list_projects(&conn, PROGRAMME_ID).unwrap();
        assert_eq!(projects.len(), 3);
        assert_eq!(projects[1].title, "Due, con virgola");
        assert_eq!(projects[1].population_served, Some(86130));
        assert_eq!(
            programme::list_interventions(&conn, PROGRAMME_ID)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(report.thematic_area_links, 2);
        let text = report.to_string();
        assert!(
            text.contains("  projects.csv: 5 rows read, 3 loaded, 2 rejected\n"),
            "{text}"
        );
        assert!(
            text.contains("no lead for wecare-m1/P3: 3 managing bodies"),
            "{text}"
        );
    }

    #[test]
    fn importing_twice_gives_the_same_state() {
        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        let mut conn = database();
        let first = import(&mut conn, dir.path()).unwrap();
        let state = dump(&conn);
        let second = import(&mut conn, dir.path()).unwrap();
        assert_eq!(dump(&conn), state);
        assert_eq!(second.organizations_created, 0);
        assert_eq!(
            ImportReport {
                organizations_created: first.organizations_created,
                ..second
            },
            first
        );
    }

    #[test]
    fn rows_gone_from_the_files_are_removed_unless_measured() {
        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        let mut conn = database();
        import(&mut conn, dir.path()).unwrap();
        let fewer = folder([
            "project_id,lead_municipality,population,title,quadrant\nP1,Pinerolo,1,Uno,T\n",
            "project_id,territorial_area,managing_body\nP1,20,CISS Pinerolo\n",
            "project_id,innovation_class,instrument,category\n",
            "project_id,thematic_area\n",
        ]);
        // An indicator on P2's intervention blocks the removal; nothing changes.
        {
            let tx = conn.transaction().unwrap();
            let measure = indicator(
                "ind",
                IndicatorSubject::Intervention("wecare-m1/P2/networks".into()),
            );
            programme::insert_indicator(&tx, &measure).unwrap();
            tx.commit().unwrap();
        }
        let before = dump(&conn);
        let err = import(&mut conn, fewer.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("project 'wecare-m1/P2': 1 indicator(s) measure it"),
            "{err}"
        );
        assert_eq!(dump(&conn), before);
        conn.execute("DELETE FROM indicators", []).unwrap();
        let report = import(&mut conn, fewer.path()).unwrap();
        assert_eq!(
            report.removed,
            ["wecare-m1/P2", "wecare-m1/P3", "wecare-m1/P1/mutual_aid"]
        );
        assert_eq!(
            programme::list_projects(&conn, PROGRAMME_ID).unwrap()[0].population_served,
            Some(1)
        );
        assert!(
            programme::list_interventions(&conn, PROGRAMME_ID)
                .unwrap()
                .is_empty()
        );
        // Organizations are the providers half's: they stay.
        let organizations: i64 = conn
            .query_row("SELECT COUNT(*) FROM organizations", [], |row| row.get(0))
            .unwrap();
        assert_eq!(organizations, 5);
    }

    #[test]
    fn unreadable_files_fail_the_import_naming_file_line_and_field() {
        let mut conn = database();
        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        std::fs::remove_file(dir.path().join("thematic_areas.csv")).unwrap();
        let err = import(&mut conn, dir.path()).unwrap_err();
        assert!(
            matches!(&err, ProgrammeError::Source { file, line: None, .. }
                if file.ends_with("thematic_areas.csv")),
            "{err}"
        );

        let dir = folder([
            "project_id,lead,population,title,quadrant\n",
            BODIES,
            INTERVENTIONS,
            AREAS,
        ]);
        let err = import(&mut conn, dir.path()).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "projects.csv:1: lead_municipality: required column missing (found: \
                 project_id, lead, population, title, quadrant)"
            ),
            "{err}"
        );

        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        let mut bytes = b"project_id,thematic_area\nP1,elderly\nP2,".to_vec();
        bytes.extend([0xff, 0xfe, b'\n']);
        std::fs::write(dir.path().join("thematic_areas.csv"), bytes).unwrap();
        let err = import(&mut conn, dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("thematic_areas.csv:3: not valid UTF-8 (field 2)"),
            "{err}"
        );
        assert!(dump(&conn).is_empty(), "a failed import writes nothing");
    }

    #[test]
    fn an_organization_id_taken_by_another_body_is_refused() {
        let mut conn = database();
        conn.execute(
            "INSERT INTO organizations (id, name) VALUES ('org-ciss-pinerolo', 'Something else')",
            [],
        )
        .unwrap();
        let dir = folder([PROJECTS, BODIES, INTERVENTIONS, AREAS]);
        assert_eq!(
            import(&mut conn, dir.path()).unwrap_err().to_string(),
            "organization 'org-ciss-pinerolo': name: the id is taken by 'Something else', which \
             is not the same body as 'CISS Pinerolo'"
        );
        assert!(programme::list_programmes(&conn).unwrap().is_empty());
    }

    #[test]
    fn an_existing_organization_with_the_same_name_is_reused() {
        let mut conn = database();
        conn.execute(
            "INSERT INTO organizations (id, name, kind) VALUES ('org-csa-alba', 'C.S.A. Alba', NULL)",
            [],
        )
        .unwrap();
        let dir = folder([
            "project_id,lead_municipality,population,title,quadrant\nALB,Alba,1,T,Cuneo\n",
            "project_id,territorial_area,managing_body\nALB,10,CSA Alba\n",
            "project_id,innovation_class,instrument,category\n",
            "project_id,thematic_area\n",
        ]);
        let report = import(&mut conn, dir.path()).unwrap();
        assert_eq!((report.organizations, report.organizations_created), (1, 0));
        let row: (String, Option<String>) = conn
            .query_row("SELECT name, kind FROM organizations", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            row,
            ("C.S.A. Alba".to_string(), None),
            "left as the other half wrote it"
        );
    }
}
