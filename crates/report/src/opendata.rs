//! Open data: the project's public releases as files for a portal.
//!
//! For every output of every public release (tables, indicator values, approved ad-hoc tables;
//! never microdata extracts) [`export`] writes
//! - `csv/RELEASE__OUTPUT.csv`: the released file, byte for byte;
//! - `json/RELEASE__OUTPUT.json`: the same rows as JSON objects, numbers as numbers and hidden
//!   values as `null`;
//! - `sdmx/RELEASE__OUTPUT.csv`: SDMX-CSV 2.0 (`STRUCTURE,STRUCTURE_ID,ACTION`, the dimensions,
//!   `OBS_VALUE`, then the attributes): territory as `REF_AREA`, period as `TIME_PERIOD`, totals as
//!   `_T`, suppressed cells empty with `CONF_STATUS` `C` (primary) or `D` (secondary), rounded or
//!   perturbed values with `OBS_STATUS` `E` (estimated);
//! - `sdmx/structure.xml`: the SDMX-ML 2.1 structure message (codelists, concepts, one data
//!   structure and one dataflow per output);
//! - `catalog.jsonld`: the catalogue in DCAT-AP_IT (the Italian profile of DCAT-AP) as JSON-LD,
//!   one dataset per output with its three distributions, ready for a CKAN harvester.
//!
//! Files are read through `disclosure::release::released_with_log`, which checks each against
//! the hash the gate recorded; releases for partners or the steering committee are refused.
//! The folder is written next to `out` and swapped in whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use disclosure::release::{self, ReleaseLog};
use project::release::Audience;
use serde_json::{Value, json};

use crate::ReportError;
use crate::folder::{Files, write_folder};
use crate::released::{LABEL, MEASURE, Table};

/// Who publishes, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// Releases to publish (default: every public release of the project).
    pub releases: Vec<String>,
    /// The publishing body (`Comune di Modena`).
    pub publisher: String,
    /// Its identifier: the IPA code for an Italian administration (`c_f257`).
    pub publisher_id: String,
    /// Where the files will be served, ending with `/`; without it, the catalogue's IRIs are
    /// relative to where `catalog.jsonld` is published.
    pub base_url: Option<String>,
    /// The contact point's e-mail (an office, not a person).
    pub contact_email: Option<String>,
}

/// One published dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dataset {
    pub id: String,
    pub release: String,
    pub output: String,
    pub rows: usize,
    pub files: Vec<String>,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exported {
    pub datasets: Vec<Dataset>,
    /// (release, why) of the releases left out.
    pub skipped: Vec<(String, String)>,
}

const ATTRIBUTES: &[(&str, &str)] = &[
    ("lower", "LOWER_BOUND"),
    ("upper", "UPPER_BOUND"),
    ("numerator", "NUMERATOR"),
    ("denominator", "DENOMINATOR"),
];

/// EU vocabularies used by DCAT-AP_IT.
const THEME_SOCIETY: &str = "http://publications.europa.eu/resource/authority/data-theme/SOCI";
const FREQUENCY_ANNUAL: &str = "http://publications.europa.eu/resource/authority/frequency/ANNUAL";
const LANGUAGE_ITA: &str = "http://publications.europa.eu/resource/authority/language/ITA";
const FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
const LICENCE_CC_BY_4: &str = "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40";

/// Writes the open data of `project`'s public releases into `out` (replaced whole).
///
/// # Errors
/// [`ReportError::Release`] for a missing or tampered release, [`ReportError::Input`] for a
/// named release that is not public or a released file that is not a table, and
/// [`ReportError::Io`] when writing fails.
pub fn export(
    project: &project::Project,
    out: &Path,
    opts: &Options,
) -> Result<Exported, ReportError> {
    let (exported, files) = files(project, opts)?;
    write_folder(out, &files)?;
    Ok(exported)
}

/// The open data files (path relative to the folder, content) and what they hold, without
/// writing anything: [`export`] writes them, the site includes them.
pub(crate) fn files(
    project: &project::Project,
    opts: &Options,
) -> Result<(Exported, Files), ReportError> {
    let names = if opts.releases.is_empty() {
        release::release_names(&project.root)
    } else {
        opts.releases.clone()
    };
    let agency = sdmx_id(&opts.publisher_id).to_uppercase();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut datasets = Vec::new();
    let mut skipped = Vec::new();
    let mut tables: Vec<(String, ReleaseLog, Table)> = Vec::new();
    for name in &names {
        let (log, released) = release::released_with_log(&project.root, name)?;
        if log.audience != Audience::Public {
            let why = format!(
                "release `{name}` is for {:?}, not the public: open data only publishes \
                 public releases",
                log.audience
            )
            .to_lowercase();
            if opts.releases.is_empty() {
                skipped.push((name.clone(), why));
                continue;
            }
            return Err(ReportError::Input(why));
        }
        for file in released {
            let f = file.get();
            if f.kind == "microdata" {
                skipped.push((
                    format!("{name}/{}", f.output),
                    "microdata extracts are never open data".into(),
                ));
                continue;
            }
            let id = format!("{}__{}", f.release, f.output);
            let table = Table::parse(&f.path, &f.bytes)?;
            let stem = sdmx_id(&id);
            files.push((format!("csv/{id}.csv"), f.bytes.clone()));
            files.push((format!("json/{id}.json"), table.json()?));
            files.push((format!("sdmx/{id}.csv"), table.sdmx_csv(&agency, &stem)?));
            datasets.push(Dataset {
                id: id.clone(),
                release: f.release.clone(),
                output: f.output.clone(),
                rows: table.rows.len(),
                files: vec![
                    format!("csv/{id}.csv"),
                    format!("json/{id}.json"),
                    format!("sdmx/{id}.csv"),
                ],
            });
            tables.push((id, log.clone(), table));
        }
    }
    files.push((
        "sdmx/structure.xml".into(),
        structure_xml(&agency, &tables).into_bytes(),
    ));
    let catalog = catalog(project, opts, &tables, &files);
    files.push((
        "catalog.jsonld".into(),
        serde_json::to_vec_pretty(&catalog).map_err(|e| ReportError::Input(e.to_string()))?,
    ));
    Ok((Exported { datasets, skipped }, files))
}

/// A released table: its header, dimension columns and rows.
impl Table {
    /// Rows as JSON objects: numeric columns as numbers, empty cells as null.
    fn json(&self) -> Result<Vec<u8>, ReportError> {
        let numeric: BTreeSet<usize> = std::iter::once(MEASURE)
            .chain(ATTRIBUTES.iter().map(|(c, _)| *c))
            .filter_map(|c| self.col(c))
            .collect();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let obj: serde_json::Map<String, Value> = self
                    .header
                    .iter()
                    .zip(r)
                    .enumerate()
                    .map(|(i, (h, v))| {
                        let value = if v.is_empty() {
                            Value::Null
                        } else if numeric.contains(&i) {
                            v.parse::<f64>()
                                .ok()
                                .and_then(serde_json::Number::from_f64)
                                .map_or_else(|| Value::String(v.clone()), Value::Number)
                        } else {
                            Value::String(v.clone())
                        };
                        (h.clone(), value)
                    })
                    .collect();
                Value::Object(obj)
            })
            .collect();
        serde_json::to_vec_pretty(&rows).map_err(|e| ReportError::Input(e.to_string()))
    }

    /// The SDMX ids of the dimension columns, in order.
    fn dim_ids(&self) -> Vec<String> {
        self.dims.iter().map(|&i| dim_id(&self.header[i])).collect()
    }

    /// SDMX-CSV 2.0 rows of the dataflow `DF_<stem>`.
    fn sdmx_csv(&self, agency: &str, stem: &str) -> Result<Vec<u8>, ReportError> {
        let attrs: Vec<(usize, &str)> = ATTRIBUTES
            .iter()
            .filter_map(|(c, id)| self.col(c).map(|i| (i, *id)))
            .collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head: Vec<String> =
            vec!["STRUCTURE".into(), "STRUCTURE_ID".into(), "ACTION".into()];
        head.extend(self.dim_ids());
        head.push("OBS_VALUE".into());
        head.extend(attrs.iter().map(|(_, id)| id.to_string()));
        head.extend(["OBS_STATUS".to_string(), "CONF_STATUS".to_string()]);
        let err = |e: csv::Error| ReportError::Input(e.to_string());
        w.write_record(&head).map_err(err)?;
        let (value, flag, rule) = (self.col(MEASURE), self.col("flag"), self.col("rule"));
        let get = |r: &Vec<String>, i: Option<usize>| i.map_or(String::new(), |i| r[i].clone());
        for r in &self.rows {
            let flag_v = get(r, flag);
            let suppressed = flag_v == "suppressed";
            let conf = if !suppressed {
                "F"
            } else if get(r, rule).contains("secondary") {
                "D"
            } else {
                "C"
            };
            let status = match flag_v.as_str() {
                "" => "A",
                "suppressed" => "M",
                _ => "E",
            };
            let mut rec = vec![
                "dataflow".to_string(),
                format!("{agency}:DF_{stem}(1.0)"),
                "I".to_string(),
            ];
            rec.extend(self.dims.iter().map(|&i| code(&r[i])));
            rec.push(if suppressed {
                String::new()
            } else {
                get(r, value)
            });
            rec.extend(attrs.iter().map(|(i, _)| r[*i].clone()));
            rec.push(status.into());
            rec.push(conf.into());
            w.write_record(&rec).map_err(err)?;
        }
        w.into_inner()
            .map_err(|e| ReportError::Input(e.to_string()))
    }
}

/// A code as SDMX writes it: the total of a dimension is `_T`, and characters an SDMX id does
/// not allow become `_` (`non nota` -> `non_nota`; the codelist keeps `non nota` as the name).
fn code(v: &str) -> String {
    if v == disclosure::TOTAL {
        "_T".into()
    } else {
        sdmx_id(v)
    }
}

/// The SDMX id of a column: `territory` is `REF_AREA`, `period` is `TIME_PERIOD`, the rest in
/// capitals.
fn dim_id(column: &str) -> String {
    match column {
        "territory" => "REF_AREA".into(),
        "period" => "TIME_PERIOD".into(),
        other => sdmx_id(other).to_uppercase(),
    }
}

/// Characters SDMX allows in an id (`[A-Za-z0-9_@$-]`); others become `_`.
fn sdmx_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_@$-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SDMX-ML 2.1 structure message: a codelist per coded dimension (codes of every table,
/// with the territories' names), the concepts, and a data structure and a dataflow per table.
fn structure_xml(agency: &str, tables: &[(String, ReleaseLog, Table)]) -> String {
    let a = xml_escape(agency);
    // codes per dimension id, with a name where the release gives one
    let mut codes: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut attrs: BTreeSet<&str> = BTreeSet::new();
    for (_, _, t) in tables {
        let label = t.col(LABEL);
        for (&i, id) in t.dims.iter().zip(t.dim_ids()) {
            if id == "TIME_PERIOD" {
                continue;
            }
            let list = codes.entry(id.clone()).or_default();
            for r in &t.rows {
                let name = match (id.as_str(), label) {
                    ("REF_AREA", Some(l)) if !r[l].is_empty() => r[l].clone(),
                    _ if r[i] == disclosure::TOTAL => "Totale".into(),
                    _ => r[i].clone(),
                };
                list.entry(code(&r[i])).or_insert(name);
            }
        }
        for (c, id) in ATTRIBUTES {
            if t.col(c).is_some() {
                attrs.insert(id);
            }
        }
    }
    let reference = |id: &str, class: &str, package: &str| {
        format!(
            r#"<Ref id="{id}" agencyID="{a}" version="1.0" class="{class}" package="{package}"/>"#
        )
    };
    // a concept is an item of the scheme: referenced through its parent, without a version
    let concept = |id: &str| {
        format!(
            r#"<str:ConceptIdentity><Ref id="{id}" agencyID="{a}" maintainableParentID="CS_DATALAB" maintainableParentVersion="1.0" class="Concept" package="conceptscheme"/></str:ConceptIdentity>"#
        )
    };
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(
        "<mes:Structure xmlns:mes=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message\" \
         xmlns:str=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure\" \
         xmlns:com=\"http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common\">\n",
    );
    let prepared = tables
        .iter()
        .map(|(_, log, _)| log.released_at.as_str())
        .max()
        .unwrap_or("1970-01-01T00:00:00Z");
    x.push_str(&format!(
        "<mes:Header><mes:ID>DATALAB_OPEN_DATA</mes:ID><mes:Test>false</mes:Test>\
         <mes:Prepared>{}</mes:Prepared><mes:Sender id=\"{a}\"/></mes:Header>\n<mes:Structures>\n",
        xml_escape(prepared)
    ));
    // codelists
    x.push_str("<str:Codelists>\n");
    for (dim, list) in &codes {
        x.push_str(&format!(
            "<str:Codelist id=\"CL_{dim}\" agencyID=\"{a}\" version=\"1.0\"><com:Name xml:lang=\"it\">{dim}</com:Name>\n"
        ));
        for (c, name) in list {
            x.push_str(&format!(
                "  <str:Code id=\"{}\"><com:Name xml:lang=\"it\">{}</com:Name></str:Code>\n",
                xml_escape(c),
                xml_escape(name)
            ));
        }
        x.push_str("</str:Codelist>\n");
    }
    x.push_str("</str:Codelists>\n");
    // concepts
    let mut concepts: BTreeSet<String> = codes.keys().cloned().collect();
    concepts.extend(["TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS"].map(String::from));
    concepts.extend(attrs.iter().map(|s| s.to_string()));
    x.push_str(&format!(
        "<str:Concepts><str:ConceptScheme id=\"CS_DATALAB\" agencyID=\"{a}\" version=\"1.0\">\
         <com:Name xml:lang=\"en\">datalab concepts</com:Name>\n"
    ));
    for c in &concepts {
        x.push_str(&format!(
            "  <str:Concept id=\"{c}\"><com:Name xml:lang=\"en\">{c}</com:Name></str:Concept>\n"
        ));
    }
    x.push_str("</str:ConceptScheme></str:Concepts>\n");
    // data structures and dataflows
    let mut dsds = String::from("<str:DataStructures>\n");
    let mut flows = String::from("<str:Dataflows>\n");
    for (id, log, t) in tables {
        let stem = sdmx_id(id);
        let title = xml_escape(&format!("{}: {}", log.title, id));
        dsds.push_str(&format!(
            "<str:DataStructure id=\"DSD_{stem}\" agencyID=\"{a}\" version=\"1.0\">\
             <com:Name xml:lang=\"it\">{title}</com:Name><str:DataStructureComponents>\n\
             <str:DimensionList id=\"DimensionDescriptor\">\n"
        ));
        let mut time = None;
        let mut position = 0;
        for dim in t.dim_ids() {
            position += 1;
            if dim == "TIME_PERIOD" {
                time = Some(position);
                continue;
            }
            dsds.push_str(&format!(
                "  <str:Dimension id=\"{dim}\" position=\"{position}\">{}<str:LocalRepresentation>\
                 <str:Enumeration>{}</str:Enumeration></str:LocalRepresentation></str:Dimension>\n",
                concept(&dim),
                reference(&format!("CL_{dim}"), "Codelist", "codelist")
            ));
        }
        if let Some(p) = time {
            dsds.push_str(&format!(
                "  <str:TimeDimension id=\"TIME_PERIOD\" position=\"{p}\">{}<str:LocalRepresentation>\
                 <str:TextFormat textType=\"ObservationalTimePeriod\"/></str:LocalRepresentation>\
                 </str:TimeDimension>\n",
                concept("TIME_PERIOD")
            ));
        }
        dsds.push_str("</str:DimensionList>\n<str:AttributeList id=\"AttributeDescriptor\">\n");
        let present: Vec<&str> = ATTRIBUTES
            .iter()
            .filter(|(c, _)| t.col(c).is_some())
            .map(|(_, id)| *id)
            .chain(["OBS_STATUS", "CONF_STATUS"])
            .collect();
        for attr in present {
            dsds.push_str(&format!(
                "  <str:Attribute id=\"{attr}\" assignmentStatus=\"Conditional\">{}\
                 <str:AttributeRelationship><str:PrimaryMeasure><Ref id=\"OBS_VALUE\"/>\
                 </str:PrimaryMeasure></str:AttributeRelationship></str:Attribute>\n",
                concept(attr)
            ));
        }
        dsds.push_str(&format!(
            "</str:AttributeList>\n<str:MeasureList id=\"MeasureDescriptor\">\
             <str:PrimaryMeasure id=\"OBS_VALUE\">{}</str:PrimaryMeasure></str:MeasureList>\n\
             </str:DataStructureComponents></str:DataStructure>\n",
            concept("OBS_VALUE")
        ));
        flows.push_str(&format!(
            "<str:Dataflow id=\"DF_{stem}\" agencyID=\"{a}\" version=\"1.0\">\
             <com:Name xml:lang=\"it\">{title}</com:Name><str:Structure>{}</str:Structure>\
             </str:Dataflow>\n",
            reference(&format!("DSD_{stem}"), "DataStructure", "datastructure")
        ));
    }
    dsds.push_str("</str:DataStructures>\n");
    flows.push_str("</str:Dataflows>\n");
    x.push_str(&dsds);
    x.push_str(&flows);
    x.push_str("</mes:Structures>\n</mes:Structure>\n");
    x
}

/// The DCAT-AP_IT catalogue: the catalogue, the publisher (an agent with its IPA code), one
/// dataset per table with its theme, frequency, rights holder, contact point and three
/// distributions (CSV, JSON, SDMX-CSV) under CC BY 4.0.
fn catalog(
    project: &project::Project,
    opts: &Options,
    tables: &[(String, ReleaseLog, Table)],
    files: &[(String, Vec<u8>)],
) -> Value {
    let base = opts.base_url.clone().unwrap_or_default();
    let iri = |rel: &str| json!({ "@id": format!("{base}{rel}") });
    let size = |rel: &str| {
        files
            .iter()
            .find(|(p, _)| p == rel)
            .map_or(0, |(_, b)| b.len())
    };
    let modified = tables
        .iter()
        .map(|(_, log, _)| log.released_at.get(..10).unwrap_or(""))
        .max()
        .unwrap_or("")
        .to_string();
    let date = |d: &str| json!({ "@value": d, "@type": "xsd:date" });
    let it = |s: &str| json!({ "@value": s, "@language": "it" });
    let title = project.config.title.clone();
    let mut graph = vec![
        json!({
            "@id": format!("{base}catalog"),
            "@type": ["dcat:Catalog", "dcatapit:Catalog"],
            "dct:title": it(&format!("Dati aperti: {title}")),
            "dct:description": it(&format!(
                "Dati aggregati pubblicati da {} attraverso il controllo della riservatezza statistica di datalab",
                opts.publisher
            )),
            "dct:publisher": iri("publisher"),
            "dct:modified": date(&modified),
            "dct:language": { "@id": LANGUAGE_ITA },
            "dcat:themeTaxonomy": { "@id": "http://publications.europa.eu/resource/authority/data-theme" },
            "dcat:dataset": tables.iter().map(|(id, ..)| iri(&format!("dataset/{id}"))).collect::<Vec<_>>(),
        }),
        json!({
            "@id": format!("{base}publisher"),
            "@type": ["foaf:Agent", "dcatapit:Agent"],
            "foaf:name": opts.publisher,
            "dct:identifier": opts.publisher_id,
        }),
        {
            let mut contact = json!({
                "@id": format!("{base}contact"),
                "@type": ["vcard:Organization", "dcatapit:Organization"],
                "vcard:fn": opts.publisher,
            });
            if let Some(mail) = &opts.contact_email {
                contact["vcard:hasEmail"] = json!({ "@id": format!("mailto:{mail}") });
            }
            contact
        },
    ];
    for (id, log, t) in tables {
        let dataset = format!("dataset/{id}");
        let mut distributions = Vec::new();
        for (dir, ext, kind, media) in [
            ("csv", "csv", "CSV", "text/csv"),
            ("json", "json", "JSON", "application/json"),
            (
                "sdmx",
                "csv",
                "CSV",
                "application/vnd.sdmx.data+csv; version=2.0.0",
            ),
        ] {
            let rel = format!("{dir}/{id}.{ext}");
            let did = format!("{dataset}/{dir}");
            distributions.push(iri(&did));
            graph.push(json!({
                "@id": format!("{base}{did}"),
                "@type": ["dcat:Distribution", "dcatapit:Distribution"],
                "dct:title": it(&format!("{id} ({dir})")),
                "dct:format": { "@id": format!("{FILE_TYPE}{kind}") },
                "dcat:mediaType": media,
                "dct:license": { "@id": LICENCE_CC_BY_4 },
                "dcat:accessURL": iri(&rel),
                "dcat:downloadURL": iri(&rel),
                "dcat:byteSize": { "@value": size(&rel).to_string(), "@type": "xsd:decimal" },
            }));
        }
        let keywords: Vec<&str> = t.dims.iter().map(|&i| t.header[i].as_str()).collect();
        graph.push(json!({
            "@id": format!("{base}{dataset}"),
            "@type": ["dcat:Dataset", "dcatapit:Dataset"],
            "dct:identifier": format!("{}:{id}", opts.publisher_id),
            "dct:title": it(&format!("{}: {id}", log.title)),
            "dct:description": it(&format!(
                "{} righe per {}; rilascio `{}` del {}, controllato con le regole di riservatezza del laboratorio (soglia {}); celle soppresse vuote.",
                t.rows.len(),
                keywords.join(", "),
                log.name,
                log.released_at.get(..10).unwrap_or(&log.released_at),
                log.policy.threshold
            )),
            "dcat:theme": { "@id": THEME_SOCIETY },
            "dct:accrualPeriodicity": { "@id": FREQUENCY_ANNUAL },
            "dct:publisher": iri("publisher"),
            "dct:rightsHolder": iri("publisher"),
            "dcat:contactPoint": iri("contact"),
            "dct:issued": date(log.released_at.get(..10).unwrap_or("")),
            "dct:modified": date(log.released_at.get(..10).unwrap_or("")),
            "dct:language": { "@id": LANGUAGE_ITA },
            "dcat:keyword": keywords,
            "dcat:distribution": distributions,
        }));
    }
    let mut context = json!({
        "dcat": "http://www.w3.org/ns/dcat#",
        "dct": "http://purl.org/dc/terms/",
        "dcatapit": "http://dati.gov.it/onto/dcatapit#",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    });
    if let Some(b) = &opts.base_url {
        context["@base"] = json!(b);
    }
    json!({ "@context": context, "@graph": graph })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASED: &str = "territory_level,territory,territory_name,period,sex,value,lower,upper,numerator,denominator,flag,rule\n\
municipality,M1,Alfa,2024,Total,49,,,49,,,\n\
zone,Z1,Uno,2024,F,,,,,,suppressed,frequency\n\
zone,Z2,Due,2024,F,,,,,,suppressed,secondary\n\
zone,Z3,Tre,2024,M,10,,,10,,rounded,random rounding to base 5\n";

    fn table() -> Table {
        Table::parse(Path::new("t.csv"), RELEASED.as_bytes()).unwrap()
    }

    #[test]
    fn sdmx_csv_marks_primary_and_secondary_suppression_and_totals() {
        let out = String::from_utf8(table().sdmx_csv("C_X", "annual__t").unwrap()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "STRUCTURE,STRUCTURE_ID,ACTION,TERRITORY_LEVEL,REF_AREA,TIME_PERIOD,SEX,OBS_VALUE,\
             LOWER_BOUND,UPPER_BOUND,NUMERATOR,DENOMINATOR,OBS_STATUS,CONF_STATUS"
        );
        assert_eq!(
            lines[1],
            "dataflow,C_X:DF_annual__t(1.0),I,municipality,M1,2024,_T,49,,,49,,A,F"
        );
        assert_eq!(
            lines[2],
            "dataflow,C_X:DF_annual__t(1.0),I,zone,Z1,2024,F,,,,,,M,C"
        );
        assert_eq!(
            lines[3],
            "dataflow,C_X:DF_annual__t(1.0),I,zone,Z2,2024,F,,,,,,M,D"
        );
        assert_eq!(
            lines[4],
            "dataflow,C_X:DF_annual__t(1.0),I,zone,Z3,2024,M,10,,,10,,E,F"
        );
    }

    #[test]
    fn json_rows_have_numbers_and_nulls() {
        let rows: Value = serde_json::from_slice(&table().json().unwrap()).unwrap();
        assert_eq!(rows[0]["value"], json!(49.0));
        assert_eq!(rows[0]["territory"], json!("M1"));
        assert_eq!(rows[1]["value"], Value::Null);
        assert_eq!(rows[1]["flag"], json!("suppressed"));
        assert_eq!(rows.as_array().unwrap().len(), 4);
    }

    #[test]
    fn a_file_without_values_is_not_a_table() {
        let err = Table::parse(Path::new("x.csv"), b"a,b\n1,2\n")
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("x.csv:1") && err.is_input(),
            "{err}"
        );
    }

    #[test]
    fn ids_are_sdmx_ids() {
        assert_eq!(
            sdmx_id("annual__min income/2024"),
            "annual__min_income_2024"
        );
        assert_eq!(dim_id("citizenship_group"), "CITIZENSHIP_GROUP");
        assert_eq!(code("Total"), "_T");
        assert_eq!(code("non nota"), "non_nota");
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
