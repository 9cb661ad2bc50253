//! A hand-built publication of a tiny city (one municipality, two districts, four zones) and a
//! registry in memory: what each pack holds, computed by hand.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use disclosure::release::{AttackSummary, OutputLog, ReleaseLog};
use model::{
    Definition, Direction, Indicator, IndicatorKind, IndicatorPeriod, Measure, Need, Text,
};
use project::release::{Audience, Policy, PolicyConfig};
use registry::codes::{OrganizationKind, SocialRisk, Status, TargetGroup};
use registry::{
    Address, Capacity, Contact, Location, Operator, Organization, Phone, Service, ServiceAtLocation,
};

use super::*;
use crate::released::{ReleaseInfo, Series};

fn node(code: &str, name: &str, level: usize, parent: Option<&str>) -> Territory {
    Territory {
        code: code.into(),
        name: name.into(),
        level,
        parent: parent.map(String::from),
    }
}

/// M1 Città > Q1 Centro Storico (Z1 Duomo, Z2 Porta Nuova, Z4 Sant'Agnese), Q2 Sud (Z3 Tre).
fn hierarchy() -> Hierarchy {
    Hierarchy {
        levels: vec!["municipality".into(), "district".into(), "zone".into()],
        nodes: vec![
            node("M1", "Città", 0, None),
            node("Q1", "Centro Storico", 1, Some("M1")),
            node("Q2", "Sud", 1, Some("M1")),
            node("Z1", "Duomo", 2, Some("Q1")),
            node("Z2", "Porta Nuova", 2, Some("Q1")),
            node("Z3", "Tre", 2, Some("Q2")),
            node("Z4", "Sant'Agnese", 2, Some("Q1")),
        ],
        history: vec![],
    }
}

fn text(it: &str) -> Text {
    Text {
        it: it.into(),
        en: String::new(),
    }
}

fn measure(filter: &str) -> Measure {
    Measure {
        table: "resident_counts".into(),
        value: "sum(persons)".into(),
        filter: Some(filter.into()),
        date: None,
        territory: None,
    }
}

fn indicator(id: &str, name: &str, topics: &[&str], need: Option<Need>) -> Indicator {
    Indicator {
        id: id.into(),
        name: text(name),
        description: text(""),
        unit: text(if need.is_some() { "%" } else { "residenti" }),
        factor: if need.is_some() { 100.0 } else { 1.0 },
        kind: IndicatorKind::Outcome,
        direction: Direction::Neutral,
        topics: topics.iter().map(|t| t.to_string()).collect(),
        period: IndicatorPeriod::Year,
        source_notes: text(""),
        breakdowns: vec![],
        levels: vec![],
        definition: Definition::Ratio {
            numerator: measure("age >= 80 AND lives_alone"),
            denominator: need.as_ref().map(|_| measure("age >= 80")),
        },
        need,
        file: format!("indicators/{id}.toml"),
        lines: BTreeMap::new(),
    }
}

fn indicators() -> Vec<Indicator> {
    vec![
        indicator("population", "Popolazione residente", &["population"], None),
        indicator(
            "care_need",
            "Grandi anziani soli",
            &["elderly", "social_services"],
            Some(Need {
                supply: measure("service = 'assistenza domiciliare'"),
                standard: 0.2,
                supply_unit: text("posti"),
            }),
        ),
    ]
}

fn output(name: &str, kind: &str, method: &str, indicator: Option<&str>) -> OutputLog {
    OutputLog {
        name: name.into(),
        kind: kind.into(),
        file: format!("{name}.csv"),
        content: String::new(),
        rows: 0,
        method: method.into(),
        checked: "automatic".into(),
        approval: None,
        frames: vec![],
        columns: vec![],
        frame_periods: vec![],
        indicator: indicator.map(String::from),
        rules_fired: BTreeMap::new(),
        primary: 0,
        secondary: 0,
        notes: vec![],
    }
}

fn log() -> ReleaseLog {
    ReleaseLog {
        format_version: 1,
        name: "annual".into(),
        title: "Rapporto annuale 2024".into(),
        audience: Audience::Public,
        purpose: Some("rapporto annuale".into()),
        spec: "releases/annual.toml".into(),
        released_at: "2025-03-01T09:30:15.250Z".into(),
        released_by: "ufficio statistica".into(),
        datalab_version: "0.1.0".into(),
        policy: Policy::resolve(&PolicyConfig::default(), &PolicyConfig::default()),
        inputs: vec![("resident_counts".into(), "0123456789abcdef".into())],
        outputs: vec![
            output("population", "indicator", "round", Some("population")),
            output("care", "indicator", "suppress", Some("care_need")),
            output("people", "table", "suppress", None),
        ],
        frames: vec![],
        cells: vec![],
        attack: AttackSummary {
            frames: 2,
            suppressed_cells: 4,
            breaches: 0,
        },
        privacy_budget: vec![],
    }
}

fn table(output: &str, kind: &str, csv: &str) -> Table {
    let mut t = Table::parse(Path::new("t.csv"), csv.as_bytes()).unwrap();
    t.release = "annual".into();
    t.output = output.into();
    t.kind = kind.into();
    t
}

/// An indicator output from rows `level,territory,name,period,breakdown,value,numerator,
/// denominator,flag,rule` (empty numbers are hidden or not released).
fn series(output: &str, indicator: &str, method: &str, rows: &str) -> Series {
    let number = |v: &str| (!v.is_empty()).then(|| v.parse::<f64>().unwrap());
    Series {
        release: "annual".into(),
        output: output.into(),
        indicator: indicator.into(),
        method: method.into(),
        obs: rows
            .lines()
            .map(|line| {
                let r: Vec<&str> = line.split(',').collect();
                assert_eq!(r.len(), 10, "{line}");
                Obs {
                    level: r[0].into(),
                    territory: r[1].into(),
                    territory_name: r[2].into(),
                    period: r[3].into(),
                    breakdown: r[4].into(),
                    value: number(r[5]),
                    lower: None,
                    upper: None,
                    numerator: number(r[6]),
                    denominator: number(r[7]),
                    flag: r[8].into(),
                    rule: r[9].into(),
                }
            })
            .collect(),
    }
}

const PEOPLE: &str = "territory_level,territory,territory_name,sex,value,flag,rule
municipality,M1,Città,F,60,,
district,Q1,Centro Storico,F,35,,
district,Q2,Sud,F,25,,
zone,Z1,Duomo,F,,suppressed,frequency
zone,Z3,Tre,F,25,,
";

const POPULATION: &str = "\
municipality,M1,Città,2024,,1000,1000,,rounded,random rounding to base 5
district,Q1,Centro Storico,2024,,600,600,,rounded,random rounding to base 5
district,Q2,Sud,2024,,400,400,,rounded,random rounding to base 5
zone,Z1,Duomo,2024,,150,150,,rounded,random rounding to base 5
zone,Z1,Duomo,2024,sex=F,,,,suppressed,frequency
zone,Z2,Porta Nuova,2024,,50.5,50.5,,,
zone,Z3,Tre,2024,,400,400,,,
zone,Z4,,2024,,400,400,,,";

/// People aged 80+ living alone (numerator) per 100 aged 80+ (denominator); Z1 and Z2 hidden.
const CARE: &str = "\
district,Q1,Centro Storico,2023,,1,1,100,,
municipality,M1,Città,2024,,25,600,2400,,
district,Q1,Centro Storico,2024,,25,500,2000,,
zone,Z1,Duomo,2024,,,,,suppressed,frequency
zone,Z2,Porta Nuova,2024,,,,,suppressed,secondary
zone,Z4,Sant'Agnese,2024,,25,400,1600,,
district,Q2,Sud,2024,,25,100,400,,
zone,Z3,Tre,2024,,25,100,400,,";

fn publication() -> Publication {
    let population = series("population", "population", "round", POPULATION);
    let care = series("care", "care_need", "suppress", CARE);
    Publication {
        releases: vec![ReleaseInfo { log: log() }],
        series: vec![population, care],
        tables: vec![
            table(
                "population",
                "indicator",
                "territory_level,territory,value\nzone,Z1,150\n",
            ),
            table("people", "table", PEOPLE),
        ],
        skipped: vec![],
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Two organizations; a day centre (Z4), home care at two places (Z1: 10 places, Z4: 30) with
/// 12 operators split by places, a nursery (Z4, another risk), an inactive service (Z1) and a
/// day centre in the other district (Z3); a contact person and a phone that must never leave.
fn registry() -> Registry {
    let mut reg = Registry::open_in_memory().unwrap();
    let org = |id: &str, name: &str, kind, form: &str| Organization {
        id: id.into(),
        name: name.into(),
        kind: Some(kind),
        legal_form: Some(form.into()),
        tax_id: Some("01234567890".into()),
        email: Some("mario.rossi@aurora.example".into()),
        website: Some(format!("https://{id}.example")),
        municipality: Some("Città".into()),
        verified_at: Some(day("2024-11-30")),
        ..Organization::default()
    };
    let service =
        |id: &str, org: &str, name: &str, risks: Vec<SocialRisk>, groups, status| Service {
            id: id.into(),
            organization_id: org.into(),
            name: name.into(),
            status,
            risks,
            target_groups: groups,
            minimum_age: Some(65),
            free: Some(false),
            ..Service::default()
        };
    let nss = || vec![SocialRisk::NonSelfSufficiency];
    let elderly = || vec![TargetGroup::Elderly];
    let location = |id: &str, zone: &str| Location {
        id: id.into(),
        organization_id: Some("o-aurora".into()),
        name: Some(format!("Sede {id}")),
        latitude: Some(44.5),
        longitude: Some(11.3),
        zone: Some(zone.into()),
        ..Location::default()
    };
    let address = |id: &str, loc: &str, street: &str| Address {
        id: id.into(),
        location_id: loc.into(),
        address_1: street.into(),
        city: "Città".into(),
        state_province: "CC".into(),
        postal_code: "40100".into(),
        country: "IT".into(),
        ..Address::default()
    };
    let sal = |id: &str, s: &str, l: &str| ServiceAtLocation {
        id: id.into(),
        service_id: s.into(),
        location_id: l.into(),
        description: None,
    };
    let cap = |id: &str, sal: &str, places| Capacity {
        id: id.into(),
        service_at_location_id: sal.into(),
        places: Some(places),
        current_users: Some(places / 2),
        waiting_list: None,
        as_of: day("2024-12-31"),
    };
    let staff = |id: &str, s: &str, count| Operator {
        id: id.into(),
        service_id: Some(s.into()),
        count,
        fte: Some(f64::from(count) / 2.0),
        ..Operator::default()
    };
    reg.edit("test", |e| {
        e.insert(&org(
            "o-aurora",
            "Aurora Cooperativa Sociale",
            OrganizationKind::ThirdSector,
            "cooperativa sociale di tipo A",
        ))?;
        e.insert(&org(
            "o-comune",
            "Comune di Città",
            OrganizationKind::PublicBody,
            "ente locale",
        ))?;
        e.insert(&service(
            "s-day",
            "o-aurora",
            "Centro diurno Aurora",
            nss(),
            elderly(),
            Status::Active,
        ))?;
        e.insert(&service(
            "s-home",
            "o-comune",
            "Assistenza domiciliare",
            vec![SocialRisk::NonSelfSufficiency, SocialRisk::Disability],
            vec![TargetGroup::Elderly, TargetGroup::Disabled],
            Status::Active,
        ))?;
        e.insert(&service(
            "s-nido",
            "o-comune",
            "Nido Girasole",
            vec![SocialRisk::Childcare],
            vec![TargetGroup::Minors],
            Status::Active,
        ))?;
        e.insert(&service(
            "s-old",
            "o-aurora",
            "Servizio chiuso",
            nss(),
            elderly(),
            Status::Inactive,
        ))?;
        e.insert(&service(
            "s-south",
            "o-aurora",
            "Centro diurno Sud",
            nss(),
            elderly(),
            Status::Active,
        ))?;
        for (id, zone) in [("l1", "Z4"), ("l2", "Z1"), ("l3", "Z4"), ("l5", "Z3")] {
            e.insert(&location(id, zone))?;
        }
        e.insert(&address("a1", "l1", "Via Roma 1"))?;
        e.insert(&address("a2", "l2", "Piazza Duomo 2"))?;
        e.insert(&sal("x1", "s-day", "l1"))?;
        e.insert(&sal("x2", "s-home", "l2"))?;
        e.insert(&sal("x3", "s-home", "l3"))?;
        e.insert(&sal("x4", "s-nido", "l1"))?;
        e.insert(&sal("x5", "s-old", "l2"))?;
        e.insert(&sal("x6", "s-south", "l5"))?;
        e.insert(&cap("c1", "x1", 20))?;
        e.insert(&cap("c2", "x2", 10))?;
        e.insert(&cap("c3", "x3", 30))?;
        e.insert(&cap("c4", "x4", 15))?;
        e.insert(&cap("c6", "x6", 12))?;
        e.insert(&staff("op1", "s-day", 8))?;
        e.insert(&staff("op2", "s-home", 12))?;
        e.insert(&staff("op3", "s-south", 5))?;
        e.insert(&Contact {
            id: "k1".into(),
            organization_id: Some("o-aurora".into()),
            name: Some("Mario Rossi".into()),
            email: Some("mario.rossi@aurora.example".into()),
            ..Contact::default()
        })?;
        e.insert(&Phone {
            id: "p1".into(),
            organization_id: Some("o-aurora".into()),
            number: "051 123456".into(),
            ..Phone::default()
        })
    })
    .unwrap();
    reg
}

struct Fixture {
    hierarchy: Hierarchy,
    indicators: Vec<Indicator>,
    publication: Publication,
    registry: Registry,
}

fn fixture() -> Fixture {
    Fixture {
        hierarchy: hierarchy(),
        indicators: indicators(),
        publication: publication(),
        registry: registry(),
    }
}

impl Fixture {
    fn build(&self, with_registry: bool, opts: &Options) -> (BTreeMap<String, Vec<u8>>, Exported) {
        let inputs = Inputs {
            title: "Laboratorio di Città",
            name: "citta",
            hierarchy: &self.hierarchy,
            indicators: &self.indicators,
            publication: &self.publication,
            registry: with_registry.then_some(&self.registry),
        };
        let (files, exported) = build(&inputs, opts).unwrap();
        (files.into_iter().collect(), exported)
    }
}

fn packs() -> (BTreeMap<String, Vec<u8>>, Exported) {
    fixture().build(true, &Options::default())
}

fn rows(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Vec<Vec<String>> {
    let bytes = files
        .get(path)
        .unwrap_or_else(|| panic!("no {path} in {:?}", files.keys().collect::<Vec<_>>()));
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The rows of a CSV as maps from column to cell.
fn records(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Vec<BTreeMap<String, String>> {
    let rows = rows(files, path);
    rows[1..]
        .iter()
        .map(|r| rows[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

const Q1: &str = "Q1-centro-storico";

#[test]
fn one_folder_per_district_named_by_code_and_ascii_slug() {
    let (files, exported) = packs();
    let folders: Vec<&str> = exported.packs.iter().map(|p| p.folder.as_str()).collect();
    assert_eq!(folders, [Q1, "Q2-sud"]);
    assert_eq!(slug("Sant'Agnese – San Damaso"), "sant-agnese-san-damaso");
    let q1: Vec<&str> = files
        .keys()
        .filter_map(|k| k.strip_prefix("Q1-centro-storico/"))
        .collect();
    assert_eq!(
        q1,
        [
            "README.md",
            "bisogni_offerta.csv",
            "datapackage.json",
            "dati.xlsx",
            "indicatori.csv",
            "organizzazioni.csv",
            "sedi.csv",
            "servizi.csv",
            "tabelle/annual__people.csv",
        ]
    );
    assert_eq!(exported.registry.as_deref(), Some("2024-12-31"));
}

#[test]
fn indicator_rows_are_the_districts_its_zones_and_the_municipalitys() {
    let (files, _) = packs();
    let got: Vec<String> = records(&files, &format!("{Q1}/indicatori.csv"))
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["indicator"], r["territory"], r["period"], r["breakdown"], r["value"]
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "population M1 2024  1000",
            "population Q1 2024  600",
            "population Z1 2024  150",
            "population Z1 2024 sex=F ",
            "population Z2 2024  50.5",
            "population Z4 2024  400",
            "care_need Q1 2023  1",
            "care_need M1 2024  25",
            "care_need Q1 2024  25",
            "care_need Z1 2024  ",
            "care_need Z2 2024  ",
            "care_need Z4 2024  25",
        ]
    );
    let q2: Vec<String> = records(&files, "Q2-sud/indicatori.csv")
        .iter()
        .map(|r| r["territory"].clone())
        .collect();
    assert_eq!(q2, ["M1", "Q2", "Z3", "M1", "Q2", "Z3"]);
    let r = &records(&files, &format!("{Q1}/indicatori.csv"))[5];
    assert_eq!(r["territory_name"], "Sant'Agnese", "the codelist names it");
    assert_eq!(r["indicator_name"], "Popolazione residente");
    assert_eq!(r["unit"], "residenti");
    assert_eq!(
        (r["release"].as_str(), r["output"].as_str()),
        ("annual", "population")
    );
}

#[test]
fn hidden_values_stay_empty_with_their_flag() {
    let (files, _) = packs();
    let ind = records(&files, &format!("{Q1}/indicatori.csv"));
    let hidden = &ind[3];
    assert_eq!(hidden["breakdown"], "sex=F");
    for c in ["value", "numerator", "denominator", "lower", "upper"] {
        assert_eq!(hidden[c], "", "{c}");
    }
    assert_eq!(
        (hidden["flag"].as_str(), hidden["rule"].as_str()),
        ("suppressed", "frequency")
    );
    assert_eq!(ind[0]["flag"], "rounded");
    // the released table keeps its own columns and hidden cells
    let people = rows(&files, &format!("{Q1}/tabelle/annual__people.csv"));
    assert_eq!(
        people[0].join(","),
        "territory_level,territory,territory_name,sex,value,flag,rule"
    );
    let lines: Vec<String> = people[1..].iter().map(|r| r.join(",")).collect();
    assert_eq!(
        lines,
        [
            "municipality,M1,Città,F,60,,",
            "district,Q1,Centro Storico,F,35,,",
            "zone,Z1,Duomo,F,,suppressed,frequency",
        ]
    );
}

#[test]
fn needs_against_supply_by_hand() {
    let (files, _) = packs();
    let got = rows(&files, &format!("{Q1}/bisogni_offerta.csv"));
    assert_eq!(
        got[0].join(","),
        "indicator,indicator_name,period,territory_level,territory,territory_name,in_need,flag,\
         rule,supply_risks,supply_target_groups,services,places,operators,places_per_1000,\
         operators_per_1000,coverage,standard,required,gap"
    );
    // the supply of care_need (non-self-sufficiency, elderly): the day centre in Z4 (20 places,
    // 8 operators) and home care in Z1 (10 places) and Z4 (30), its 12 operators split 10:30
    // (3 and 9); not the nursery, the inactive service or the other district's day centre.
    // Q1: 500 in need, 3 points, 60 places, 20 operators: 120 and 40 per 1,000, coverage 0.12,
    // 0.2 x 500 = 100 required, 40 missing. Z4: 400 in need, 50 places, 17 operators: 125 and
    // 42.5 per 1,000, coverage 0.125, 80 required, 30 missing. Z1 and Z2 are hidden: supply
    // only.
    let lines: Vec<String> = got[1..].iter().map(|r| r[3..].join(",")).collect();
    let supply = "Non autosufficienza,Anziani";
    assert_eq!(
        lines,
        [
            format!("district,Q1,Centro Storico,500,,,{supply},3,60,20,120,40,0.12,0.2,100,40"),
            format!("zone,Z1,Duomo,,suppressed,frequency,{supply},1,10,3,,,,0.2,,"),
            format!("zone,Z2,Porta Nuova,,suppressed,secondary,{supply},0,0,0,,,,0.2,,"),
            format!("zone,Z4,Sant'Agnese,400,,,{supply},2,50,17,125,42.5,0.125,0.2,80,30"),
        ]
    );
    assert!(
        got[1..]
            .iter()
            .all(|r| r[0] == "care_need" && r[2] == "2024"),
        "the latest period"
    );
    let q2 = rows(&files, "Q2-sud/bisogni_offerta.csv");
    assert_eq!(q2[1][3..9].join(","), "district,Q2,Sud,100,,");
    assert_eq!(q2[1][11..14].join(","), "1,12,5");
}

#[test]
fn registry_extracts_show_organizations_and_places_never_people() {
    let (files, _) = packs();
    let services: Vec<String> = records(&files, &format!("{Q1}/servizi.csv"))
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {} {} {}",
                r["service_at_location_id"],
                r["zone"],
                r["sector"],
                r["places"],
                r["operators"],
                r["address"],
                r["risks"]
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            "x1 Z4 terzo settore 20 8 Via Roma 1 Non autosufficienza",
            "x2 Z1 pubblico 10 3 Piazza Duomo 2 Disabilità; Non autosufficienza",
            "x3 Z4 pubblico 30 9  Disabilità; Non autosufficienza",
            "x4 Z4 pubblico 15 0 Via Roma 1 Infanzia e genitorialità",
        ]
    );
    let orgs = rows(&files, &format!("{Q1}/organizzazioni.csv"));
    assert_eq!(
        orgs[1..].iter().map(|r| r.join(",")).collect::<Vec<_>>(),
        [
            "o-aurora,Aurora Cooperativa Sociale,terzo settore,cooperativa sociale di tipo A,Città,https://o-aurora.example,1,20,8",
            "o-comune,Comune di Città,pubblico,ente locale,Città,https://o-comune.example,3,55,12",
        ]
    );
    let sedi = records(&files, &format!("{Q1}/sedi.csv"));
    let ids: Vec<&str> = sedi.iter().map(|r| r["location_id"].as_str()).collect();
    assert_eq!(ids, ["l1", "l2", "l3"]);
    assert_eq!(
        (sedi[0]["services"].as_str(), sedi[0]["places"].as_str()),
        ("2", "35")
    );
    for (path, bytes) in &files {
        if path.ends_with(".xlsx") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for secret in ["Mario Rossi", "mario.rossi", "051 123456", "01234567890"] {
            assert!(!text.contains(secret), "{path} holds `{secret}`");
        }
    }
}

#[test]
fn the_data_package_describes_every_csv() {
    let (files, _) = packs();
    let package: serde_json::Value =
        serde_json::from_slice(&files[&format!("{Q1}/datapackage.json")]).unwrap();
    assert_eq!(package["profile"], "tabular-data-package");
    assert_eq!(package["name"], "citta-q1-centro-storico");
    assert_eq!(package["created"], "2025-03-01T09:30:15.250Z");
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
    let resources = package["resources"].as_array().unwrap();
    let csvs: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with(Q1) && k.ends_with(".csv"))
        .collect();
    assert_eq!(resources.len(), csvs.len());
    for r in resources {
        let path = format!("{Q1}/{}", r["path"].as_str().unwrap());
        let header = &rows(&files, &path)[0];
        let fields: Vec<&str> = r["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(&fields, header, "{path}");
        assert_eq!(r["schema"]["missingValues"], serde_json::json!([""]));
        for k in r["schema"]["primaryKey"].as_array().unwrap() {
            assert!(fields.contains(&k.as_str().unwrap()), "{path}: key {k}");
        }
        for f in r["schema"]["fields"].as_array().unwrap() {
            assert!(
                !f["title"].as_str().unwrap().is_empty()
                    && !f["description"].as_str().unwrap().is_empty()
            );
        }
        assert_eq!(
            (r["format"].as_str(), r["encoding"].as_str()),
            (Some("csv"), Some("utf-8"))
        );
    }
    let ind = resources
        .iter()
        .find(|r| r["path"] == "indicatori.csv")
        .unwrap();
    assert_eq!(ind["schema"]["fields"][10]["type"], "number");
}

#[test]
fn the_workbook_equals_the_csvs_cell_for_cell() {
    let (files, _) = packs();
    let mut wb = Xlsx::new(Cursor::new(files[&format!("{Q1}/dati.xlsx")].clone())).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names[0], "LEGGIMI");
    let leggimi = wb.worksheet_range("LEGGIMI").unwrap();
    // "Foglio <sheet>" -> "<path>: description"
    let mut sheets = Vec::new();
    for r in leggimi.rows() {
        if let (Data::String(k), Data::String(v)) = (&r[0], &r[1])
            && let Some(sheet) = k.strip_prefix("Foglio ")
        {
            sheets.push((sheet.to_string(), v.split(':').next().unwrap().to_string()));
        }
    }
    assert_eq!(sheets.len(), names.len() - 1, "{sheets:?} {names:?}");
    for (sheet, path) in &sheets {
        let csv = rows(&files, &format!("{Q1}/{path}"));
        let range = wb.worksheet_range(sheet).unwrap();
        let cells: Vec<&[Data]> = range.rows().collect();
        assert_eq!(cells.len(), csv.len(), "{sheet}");
        for (i, (x, c)) in cells.iter().zip(&csv).enumerate() {
            for (j, want) in c.iter().enumerate() {
                let got = x.get(j).unwrap_or(&Data::Empty);
                let same = match got {
                    Data::Empty => want.is_empty(),
                    Data::String(s) => s == want,
                    Data::Float(f) => want.parse::<f64>().ok() == Some(*f),
                    Data::Int(n) => want.parse::<i64>().ok() == Some(*n),
                    _ => false,
                };
                assert!(same, "{sheet} row {i} col {j}: {got:?} != {want:?}");
            }
        }
    }
    // numbers are numbers, codes that look like numbers stay text
    let ind = wb.worksheet_range("indicatori").unwrap();
    assert_eq!(ind.get((1, 10)), Some(&Data::Float(1000.0)));
    assert_eq!(ind.get((1, 8)), Some(&Data::String("2024".into())));
}

#[test]
fn same_inputs_same_bytes() {
    let f = fixture();
    let (a, _) = f.build(true, &Options::default());
    let (b, _) = fixture().build(true, &Options::default());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs between two exports");
    }
}

#[test]
fn the_readme_cites_releases_rules_and_files_in_italian() {
    let (files, _) = packs();
    let readme = String::from_utf8(files[&format!("{Q1}/README.md")].clone()).unwrap();
    for needle in [
        "# Piano di Zona: dati del distretto Centro Storico (Q1)",
        "- Zone: Z1 Duomo, Z2 Porta Nuova, Z4 Sant'Agnese",
        "- Per confronto: M1 Città (comune)",
        "### Rilascio `annual`: Rapporto annuale 2024",
        "rilasciato il 2025-03-01 da `ufficio statistica`",
        "`resident_counts` (0123456789ab)",
        "soglia minima: 5 unità per cella",
        "`care`: indicatore `care_need`, protezione `suppress`",
        "| `suppressed` | cella oscurata: il valore è vuoto |",
        "aggiornato al 2024-12-31",
        "### `bisogni_offerta.csv` (foglio `bisogni_offerta`)",
        "| `in_need` | numero |",
        "CC BY 4.0",
    ] {
        assert!(readme.contains(needle), "no `{needle}` in:\n{readme}");
    }
}

#[test]
fn without_a_registry_the_pack_says_so_and_leaves_registry_files_out() {
    let (files, exported) = fixture().build(false, &Options::default());
    assert!(!exported.has_registry);
    for f in [
        "servizi.csv",
        "organizzazioni.csv",
        "sedi.csv",
        "bisogni_offerta.csv",
    ] {
        assert!(!files.contains_key(&format!("{Q1}/{f}")), "{f}");
    }
    let readme = String::from_utf8(files[&format!("{Q1}/README.md")].clone()).unwrap();
    assert!(
        readme.contains("non ha un registro dei servizi"),
        "{readme}"
    );
}

#[test]
fn districts_can_be_chosen_and_an_unknown_one_is_refused() {
    let f = fixture();
    let opts = Options {
        districts: vec!["Q2".into()],
        ..Options::default()
    };
    let (_, exported) = f.build(true, &opts);
    assert_eq!(exported.packs.len(), 1);
    assert_eq!(exported.packs[0].folder, "Q2-sud");
    let inputs = Inputs {
        title: "t",
        name: "t",
        hierarchy: &f.hierarchy,
        indicators: &f.indicators,
        publication: &f.publication,
        registry: None,
    };
    let bad = Options {
        districts: vec!["Q9".into()],
        ..Options::default()
    };
    let e = build(&inputs, &bad).err().unwrap();
    assert!(e.is_input());
    assert_eq!(
        e.to_string(),
        "no district `Q9` in the territory codelist (there are: Q1, Q2)"
    );
}

#[test]
fn without_a_district_level_the_level_above_the_finest_is_used() {
    let mut f = fixture();
    f.hierarchy.levels[1] = "quartiere".into();
    for s in &mut f.publication.series {
        for o in &mut s.obs {
            if o.level == "district" {
                o.level = "quartiere".into();
            }
        }
    }
    let (files, exported) = f.build(false, &Options::default());
    assert_eq!(exported.packs.len(), 2);
    assert_eq!(records(&files, &format!("{Q1}/indicatori.csv")).len(), 12);
}

#[test]
fn supply_filters_follow_the_topics() {
    let inds = indicators();
    let f = supply_filter(&inds[1]).unwrap();
    assert_eq!(f.risks, [SocialRisk::NonSelfSufficiency]);
    assert_eq!(f.target_groups, [TargetGroup::Elderly]);
    assert!(
        supply_filter(&inds[0]).is_none(),
        "population names no risk"
    );
}
