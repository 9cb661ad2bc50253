//! Tables as files: the HSDS 3.0 tabular datapackage and plain CSV.
//!
//! The datapackage is one CSV per HSDS object with HSDS file and field names
//! (`organizations.csv`, `service_at_location.csv`, ...), our extension fields as `x_` columns
//! after the HSDS ones, our extension objects as `x_operators.csv`, `x_capacities.csv` and
//! `x_relations.csv`, and a Frictionless `datapackage.json` listing every resource with its
//! fields, types, constraints and keys. A service's social risks and target groups are rows of
//! `attributes.csv`.
//!
//! Plain CSV is one `<table>.csv` per SQL table with the SQL column names: what the registry
//! stores, nothing renamed.
//!
//! Both are written deterministically (rows by id, `\n` line ends, numbers in their shortest
//! form) and read all or nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::codes::{FixedTerm, fixed_term};
use crate::error::{RegistryError, Result};
use crate::hsds::{Data, fold_terms, text};
use crate::import::{Imported, Item, Pos, apply};
use crate::model::{SERVICES, TABLES, table_def};
use crate::record::{ColType, Hsds, Row, TableDef, canon, cell, sorted};
use crate::schema::FORMAT_VERSION;
use crate::store::Registry;

/// The descriptor file of the datapackage.
pub const DESCRIPTOR: &str = "datapackage.json";

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let csv_err = |e: csv::Error| RegistryError::Io {
        path: path.display().to_string(),
        message: e.to_string().to_lowercase(),
    };
    w.write_record(header).map_err(csv_err)?;
    for row in rows {
        w.write_record(row).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| RegistryError::Io {
        path: path.display().to_string(),
        message: e.to_string().to_lowercase(),
    })?;
    std::fs::write(path, bytes).map_err(|e| RegistryError::io(path, &e))
}

/// A CSV file: its header and its records with the line each starts on.
struct CsvFile {
    name: String,
    header: Vec<String>,
    records: Vec<(u64, Vec<String>)>,
}

fn read_csv(path: &Path) -> Result<CsvFile> {
    let name = path.display().to_string();
    let input_err = |e: csv::Error| RegistryError::Input {
        file: name.clone(),
        line: e.position().map(|p| p.line()),
        field: "(csv)".into(),
        message: e.to_string().to_lowercase(),
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| RegistryError::Io {
            path: name.clone(),
            message: e.to_string().to_lowercase(),
        })?;
    let mut header: Vec<String> = r
        .headers()
        .map_err(input_err)?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(first) = header.first_mut()
        && let Some(rest) = first.strip_prefix('\u{feff}')
    {
        *first = rest.to_string();
    }
    let mut records = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(input_err)?;
        let line = rec.position().map_or(0, |p| p.line());
        records.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(CsvFile {
        name,
        header,
        records,
    })
}

impl CsvFile {
    fn pos(&self, line: u64, hsds: bool) -> Pos {
        Pos {
            file: self.name.clone(),
            line: Some(line),
            path: None,
            hsds,
        }
    }

    /// The canonical rows of the file; `columns[i]` is the column of header field `i` (`None`:
    /// ignored).
    fn rows(
        &self,
        def: &'static TableDef,
        columns: &[Option<&'static str>],
        hsds: bool,
    ) -> Result<Vec<Item>> {
        if !columns.contains(&Some("id")) {
            return Err(self.pos(1, hsds).error("id".into(), "missing column"));
        }
        let mut items = Vec::new();
        for (line, values) in &self.records {
            let pos = self.pos(*line, hsds);
            let mut row = Row::new();
            for c in def.columns {
                row.insert(c.name.to_string(), c.or_default(Value::Null));
            }
            for (column, value) in columns.iter().zip(values) {
                let Some(column) = column else { continue };
                let Some(c) = def.column(column) else {
                    continue;
                };
                let v = canon(c.ty, &Value::String(value.clone()))
                    .map_err(|m| pos.error(pos.field(def, c.name), m))?;
                row.insert(c.name.to_string(), c.or_default(v));
            }
            for c in def.columns {
                let omitted = hsds && c.hsds == Hsds::Omitted;
                if c.required && !omitted && row.get(c.name).is_none_or(Value::is_null) {
                    return Err(pos.error(pos.field(def, c.name), "missing required field"));
                }
            }
            items.push(Item { def, row, pos });
        }
        Ok(items)
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| RegistryError::io(dir, &e))
}

fn description(def: &TableDef) -> Option<&'static str> {
    match def.table {
        "services" => Some(
            "HSDS service. Its social risks and target groups are rows of attributes.csv with terms of the datalab-social-risk and datalab-target-group taxonomies.",
        ),
        "operators" => Some(
            "datalab extension: operators of an organization or a service (head count, full-time equivalents, profile).",
        ),
        "capacities" => Some(
            "datalab extension: places, current users and waiting list of a service at a location on a date.",
        ),
        "relations" => Some(
            "datalab extension: contracts and relations between organizations (procurement, accreditation, co-design agreement, grant, agreement), value in euro.",
        ),
        _ => None,
    }
}

/// The Frictionless descriptor of the datapackage.
fn descriptor() -> Value {
    let resources: Vec<Value> = TABLES
        .iter()
        .map(|def| {
            let fields: Vec<Value> = def
                .hsds_columns()
                .into_iter()
                .map(|(c, name)| {
                    let mut f = Map::new();
                    f.insert("name".into(), Value::String(name));
                    f.insert("type".into(), Value::String(c.ty.frictionless().into()));
                    let mut constraints = Map::new();
                    if c.required {
                        constraints.insert("required".into(), Value::Bool(true));
                    }
                    if c.name == "id" {
                        constraints.insert("unique".into(), Value::Bool(true));
                    }
                    if let ColType::Code(codes) = c.ty {
                        constraints.insert("enum".into(), json!(codes));
                    }
                    if !constraints.is_empty() {
                        f.insert("constraints".into(), Value::Object(constraints));
                    }
                    Value::Object(f)
                })
                .collect();
            let foreign: Vec<Value> = def
                .hsds_columns()
                .into_iter()
                .filter_map(|(c, name)| {
                    let target = table_def(c.refers?)?;
                    Some(json!({"fields": name, "reference": {"resource": target.object, "fields": "id"}}))
                })
                .collect();
            let mut schema = Map::new();
            schema.insert("fields".into(), Value::Array(fields));
            schema.insert("primaryKey".into(), json!("id"));
            if !foreign.is_empty() {
                schema.insert("foreignKeys".into(), Value::Array(foreign));
            }
            let mut r = Map::new();
            r.insert("name".into(), json!(def.object));
            r.insert("path".into(), json!(def.hsds_path));
            r.insert("profile".into(), json!("tabular-data-resource"));
            r.insert("format".into(), json!("csv"));
            r.insert("mediatype".into(), json!("text/csv"));
            r.insert("encoding".into(), json!("utf-8"));
            if let Some(d) = description(def) {
                r.insert("description".into(), json!(d));
            }
            r.insert("schema".into(), Value::Object(schema));
            Value::Object(r)
        })
        .collect();
    json!({
        "name": "datalab-registry",
        "title": "datalab registry of welfare providers and services (HSDS 3.0 with datalab extensions)",
        "profile": "tabular-data-package",
        "x_hsds_version": "3.0",
        "x_registry_format": FORMAT_VERSION,
        "resources": resources,
    })
}

impl Registry {
    /// Writes the HSDS tabular datapackage into a folder (created if needed): one CSV per
    /// object and `datapackage.json`. Returns the files written.
    pub fn export_datapackage(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        create_dir(dir)?;
        let data = Data::load(self)?;
        let mut written = Vec::new();
        for def in TABLES {
            let columns = def.hsds_columns();
            let header: Vec<String> = columns.iter().map(|(_, n)| n.clone()).collect();
            let rows: Vec<Row> = if def.table == "attributes" {
                data.all_attributes()
            } else {
                data.all(def.table).to_vec()
            };
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|(c, _)| cell(c, r.get(c.name).unwrap_or(&Value::Null)))
                        .collect()
                })
                .collect();
            let path = dir.join(def.hsds_path);
            write_csv(&path, &header, &cells)?;
            written.push(path);
        }
        let path = dir.join(DESCRIPTOR);
        let mut text = serde_json::to_string_pretty(&sorted(descriptor()))
            .map_err(|e| RegistryError::Storage(format!("datapackage: {e}")))?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| RegistryError::io(&path, &e))?;
        written.push(path);
        Ok(written)
    }

    /// Imports an HSDS tabular datapackage from a folder, all or nothing. Resources are found
    /// by name in `datapackage.json` (if any), else by their HSDS file names; missing files are
    /// empty; columns this registry does not model are ignored.
    pub fn import_datapackage(&mut self, dir: &Path, by: &str) -> Result<Imported> {
        let paths = resource_paths(dir)?;
        let mut items = Vec::new();
        let mut folded: BTreeMap<String, (Vec<FixedTerm>, Pos)> = BTreeMap::new();
        for def in TABLES {
            let rel = paths.get(def.object).map_or(def.hsds_path, String::as_str);
            let path = dir.join(rel);
            if !path.is_file() {
                continue;
            }
            let file = read_csv(&path)?;
            let columns: Vec<Option<&'static str>> = file
                .header
                .iter()
                .map(|h| {
                    def.columns
                        .iter()
                        .find(|c| c.hsds_name().as_deref() == Some(h.as_str()))
                        .map(|c| c.name)
                })
                .collect();
            for item in file.rows(def, &columns, true)? {
                if def.table == "attributes"
                    && let Some(term) = text(&item.row, "taxonomy_term_id").and_then(fixed_term)
                {
                    if text(&item.row, "link_entity") != Some("service") {
                        return Err(item.pos.error(
                            "link_entity".into(),
                            "social risks and target groups are attributes of services only",
                        ));
                    }
                    let service = text(&item.row, "link_id").unwrap_or_default().to_string();
                    folded
                        .entry(service)
                        .or_insert_with(|| (Vec::new(), item.pos.clone()))
                        .0
                        .push(term);
                    continue;
                }
                items.push(item);
            }
        }
        for item in items.iter_mut().filter(|i| i.def.table == SERVICES.table) {
            let id = text(&item.row, "id").unwrap_or_default().to_string();
            let terms = folded.remove(&id).map(|(t, _)| t).unwrap_or_default();
            fold_terms(&mut item.row, &terms)
                .map_err(|m| item.pos.error("attributes".into(), m))?;
            if item.row.get("risks").is_none_or(Value::is_null) {
                return Err(item.pos.error(
                    "attributes".into(),
                    format!(
                        "service `{id}` needs at least one row in attributes.csv with a term of the datalab-social-risk taxonomy"
                    ),
                ));
            }
        }
        if let Some((service, (_, pos))) = folded.into_iter().next() {
            return Err(pos.error(
                "link_id".into(),
                format!(
                    "service `{service}` is not in services.csv: social risks and target groups are imported with their service"
                ),
            ));
        }
        apply(self, by, items)
    }

    /// Writes one CSV per table into a folder (created if needed), with the SQL column names.
    /// Returns the files written.
    pub fn export_csv(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        create_dir(dir)?;
        let mut written = Vec::new();
        for def in TABLES {
            let header: Vec<String> = def.columns.iter().map(|c| c.name.to_string()).collect();
            let cells: Vec<Vec<String>> = self
                .rows(def)?
                .iter()
                .map(|r| {
                    def.columns
                        .iter()
                        .map(|c| cell(c, r.get(c.name).unwrap_or(&Value::Null)))
                        .collect()
                })
                .collect();
            let path = dir.join(format!("{}.csv", def.table));
            write_csv(&path, &header, &cells)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Imports the plain CSV files of a folder (`<table>.csv`, SQL column names), all or
    /// nothing. Missing files are empty; an unknown column is an error.
    pub fn import_csv(&mut self, dir: &Path, by: &str) -> Result<Imported> {
        let mut items = Vec::new();
        for def in TABLES {
            let path = dir.join(format!("{}.csv", def.table));
            if !path.is_file() {
                continue;
            }
            let file = read_csv(&path)?;
            let mut columns = Vec::new();
            for h in &file.header {
                match def.column(h) {
                    Some(c) => columns.push(Some(c.name)),
                    None => {
                        let known: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
                        return Err(file.pos(1, false).error(
                            h.clone(),
                            format!("unknown column; expected some of: {}", known.join(", ")),
                        ));
                    }
                }
            }
            items.extend(file.rows(def, &columns, false)?);
        }
        apply(self, by, items)
    }
}

/// Resource name to file path, from `datapackage.json` if the folder has one.
fn resource_paths(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(DESCRIPTOR);
    let mut out = BTreeMap::new();
    if !path.is_file() {
        return Ok(out);
    }
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| RegistryError::io(&path, &e))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| RegistryError::Input {
        file: file.clone(),
        line: Some(e.line() as u64),
        field: "(json)".into(),
        message: e.to_string().to_lowercase(),
    })?;
    let Some(resources) = value.get("resources").and_then(Value::as_array) else {
        return Err(RegistryError::Input {
            file,
            line: None,
            field: "$.resources".into(),
            message: "expected an array of resources".into(),
        });
    };
    for (i, r) in resources.iter().enumerate() {
        match (
            r.get("name").and_then(Value::as_str),
            r.get("path").and_then(Value::as_str),
        ) {
            (Some(name), Some(p)) => {
                if Path::new(p).is_absolute() || p.split(['/', '\\']).any(|s| s == "..") {
                    return Err(RegistryError::Input {
                        file,
                        line: None,
                        field: format!("$.resources[{i}].path"),
                        message: format!("`{p}` is outside the package folder"),
                    });
                }
                out.insert(name.to_string(), p.to_string());
            }
            _ => {
                return Err(RegistryError::Input {
                    file,
                    line: None,
                    field: format!("$.resources[{i}]"),
                    message: "expected a name and a path".into(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Organization, Service};
    use crate::testutil::registry;

    /// Every file of a folder, by name.
    fn files(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn datapackage_round_trip_is_byte_identical() {
        let reg = registry();
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        reg.export_datapackage(&a).unwrap();
        let mut copy = Registry::open_in_memory().unwrap();
        copy.import_datapackage(&a, "test").unwrap();
        copy.export_datapackage(&b).unwrap();
        let (fa, fb) = (files(&a), files(&b));
        assert_eq!(fa.len(), TABLES.len() + 1);
        assert_eq!(fa, fb);
        // The datapackage holds everything, organizations without services included.
        for def in TABLES {
            assert_eq!(
                copy.rows(def).unwrap(),
                reg.rows(def).unwrap(),
                "{}",
                def.table
            );
        }
    }

    #[test]
    fn datapackage_files_use_hsds_names() {
        let reg = registry();
        let tmp = tempfile::tempdir().unwrap();
        reg.export_datapackage(tmp.path()).unwrap();
        let f = files(tmp.path());
        let orgs = &f["organizations.csv"];
        assert!(orgs.starts_with(
            "id,name,legal_status,tax_id,alternate_name,description,email,website,year_incorporated,parent_organization_id,x_kind,x_municipality,x_status,x_verified_at\n"
        ), "{orgs}");
        let attrs = &f["attributes.csv"];
        assert!(attrs.contains(
            "s-day-centre/datalab-target-group:elderly,s-day-centre,datalab-target-group:elderly,target_group,service,\n"
        ), "{attrs}");
        assert!(f["cost_options.csv"].contains(",120.5,per month\n"));
        assert!(f["x_relations.csv"].starts_with("id,kind,commissioner_id,provider_id,"));
        let dp: Value = serde_json::from_str(&f[DESCRIPTOR]).unwrap();
        assert_eq!(dp["profile"], "tabular-data-package");
        let services = dp["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "service")
            .unwrap();
        assert_eq!(services["path"], "services.csv");
        assert_eq!(
            services["schema"]["foreignKeys"][0],
            json!({"fields": "organization_id", "reference": {"resource": "organization", "fields": "id"}})
        );
        let status = services["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "status")
            .unwrap();
        assert_eq!(status["constraints"]["enum"][3], "temporarily closed");
    }

    #[test]
    fn plain_csv_round_trip_is_byte_identical() {
        let reg = registry();
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        reg.export_csv(&a).unwrap();
        let mut copy = Registry::open_in_memory().unwrap();
        copy.import_csv(&a, "test").unwrap();
        copy.export_csv(&b).unwrap();
        assert_eq!(files(&a), files(&b));
        let services = &files(&a)["services.csv"];
        assert!(
            services.contains(",\"poverty,housing\",all,true\n"),
            "{services}"
        );
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// Imports a folder holding `files` into the fixture registry and expects an error; the
    /// registry must be unchanged.
    fn check_error(hsds: bool, files: &[(&str, &str)], expect: &str) {
        let tmp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            write(tmp.path(), name, text);
        }
        let mut reg = registry();
        let before = reg.list::<Organization>().unwrap();
        let e = if hsds {
            reg.import_datapackage(tmp.path(), "test")
        } else {
            reg.import_csv(tmp.path(), "test")
        }
        .unwrap_err();
        let msg = e
            .to_string()
            .replace(&format!("{}/", tmp.path().display()), "");
        assert_eq!(msg, expect);
        assert_eq!(reg.list::<Organization>().unwrap(), before);
    }

    #[test]
    fn csv_errors_name_file_line_and_field() {
        check_error(
            false,
            &[(
                "organizations.csv",
                "id,name,year_incorporated\nn1,Nuova APS,2001\nn2,Altra APS,duemila\n",
            )],
            "organizations.csv:3: year_incorporated: expected a whole number, found `duemila`",
        );
        check_error(
            false,
            &[("organizations.csv", "id,name,colour\nn1,Nuova APS,red\n")],
            "organizations.csv:1: colour: unknown column; expected some of: id, name, kind, legal_form, tax_id, alternate_name, description, email, website, year_incorporated, parent_organization_id, municipality, status, verified_at",
        );
        check_error(
            false,
            &[
                ("organizations.csv", "id,name\nn1,Nuova APS\n"),
                (
                    "services.csv",
                    "id,organization_id,name,status,risks\ns9,n1,Mensa,active,poverty\ns10,ghost,Doposcuola,active,education\n",
                ),
            ],
            "services.csv:3: organization_id: no organization with id `ghost`",
        );
        check_error(
            false,
            &[(
                "services.csv",
                "id,organization_id,name,status\ns9,o-faro,Mensa,active\n",
            )],
            "services.csv:2: risks: missing required field",
        );
        check_error(
            true,
            &[(
                "services.csv",
                "id,organization_id,name,status\ns9,o-faro,Mensa,open\n",
            )],
            "services.csv:2: status: unknown code `open`, expected one of: active, inactive, defunct, temporarily closed",
        );
        check_error(
            true,
            &[(
                "services.csv",
                "id,organization_id,name,status\ns9,o-faro,Mensa,active\n",
            )],
            "services.csv:2: attributes: service `s9` needs at least one row in attributes.csv with a term of the datalab-social-risk taxonomy",
        );
        check_error(
            true,
            &[(
                "attributes.csv",
                "id,link_id,taxonomy_term_id,link_entity\nx,s-shelter,datalab-social-risk:work,service\n",
            )],
            "attributes.csv:2: link_id: service `s-shelter` is not in services.csv: social risks and target groups are imported with their service",
        );
        check_error(
            true,
            &[(
                "locations.csv",
                "id,location_type,x_zone,latitude\nl9,physical,Z9,44.1\n",
            )],
            "locations.csv:2: longitude: latitude given without longitude",
        );
    }

    #[test]
    fn foreign_datapackage_with_other_file_names() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            DESCRIPTOR,
            r#"{"resources": [{"name": "organization", "path": "orgs.csv"}, {"name": "service", "path": "svc.csv"}]}"#,
        );
        write(
            tmp.path(),
            "orgs.csv",
            "\u{feff}id,name,logo\nf1,Fondazione Esempio,https://x.example/l.png\n",
        );
        write(
            tmp.path(),
            "svc.csv",
            "id,organization_id,name,status\nfs1,f1,Borse di studio,active\n",
        );
        write(
            tmp.path(),
            "attributes.csv",
            "id,link_id,taxonomy_term_id,link_entity,link_type\nq1,fs1,datalab-social-risk:education,service,social_risk\n",
        );
        let mut reg = Registry::open_in_memory().unwrap();
        let imported = reg.import_datapackage(tmp.path(), "test").unwrap();
        assert_eq!(imported.total(), 2);
        let s = reg.get::<Service>("fs1").unwrap().unwrap();
        assert_eq!(s.risks, vec![crate::codes::SocialRisk::Education]);
        assert_eq!(
            reg.get::<Organization>("f1").unwrap().unwrap().name,
            "Fondazione Esempio"
        );
    }
}
