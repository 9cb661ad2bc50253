//! Whole-run tests: determinism, marginals, tax codes, and the contract between the injected
//! defects, the raw files, the custodian specs and the lab specs (checked with a small
//! reference pseudonymizer and a small reference validator).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

use crate::custodian::{Action, CustodianSpec, custodian_specs};
use crate::project::{Bound, SourceSpec, Type, source_specs};
use crate::{KeyHolder, SynthOptions, custodian_jobs, generate, taxcode};

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("datalab-synth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(name: &str, scale: f64, seed: u64) -> PathBuf {
    let dir = out_dir(name);
    let mut opts = SynthOptions::new(&dir);
    opts.scale = scale;
    opts.seed = seed;
    let report = generate(&opts, &mut |_| {}).expect("generation succeeds");
    assert!(report.residents_last_year > 0);
    dir
}

/// One shared small run for the read-only checks.
fn small() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| run("small", 0.02, 11))
}

fn read_csv(path: &Path, delimiter: u8, cp1252: bool) -> Vec<(u64, Vec<String>)> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = if cp1252 {
        encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
    } else {
        String::from_utf8(bytes).expect("utf-8")
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("well-formed csv");
            (
                r.position().expect("position").line(),
                r.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

/// The raw files of a source, relative to the output folder.
fn inputs(root: &Path, source: &str) -> Vec<String> {
    custodian_jobs(root)
        .into_iter()
        .find(|j| j.source == source)
        .unwrap_or_else(|| panic!("no custodian job for {source}"))
        .inputs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

fn defect_rows(root: &Path) -> Vec<Vec<String>> {
    read_csv(&root.join("truth/defects.csv"), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r)
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run("det-a", 0.01, 5);
    let b = run("det-b", 0.01, 5);
    let c = run("det-c", 0.01, 6);
    let mut files = Vec::new();
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    walk(&a, &a, &mut files);
    files.sort();
    assert!(files.len() > 30, "{files:?}");
    let mut differ = 0;
    for f in &files {
        let fa = std::fs::read(a.join(f)).unwrap();
        let fb = std::fs::read(b.join(f))
            .unwrap_or_else(|_| panic!("{} missing in second run", f.display()));
        assert!(fa == fb, "{} differs between identical runs", f.display());
        if std::fs::read(c.join(f)).map(|fc| fc != fa).unwrap_or(true) {
            differ += 1;
        }
    }
    // The territory and the lab project do not depend on the seed; the people do.
    assert!(differ >= 15, "only {differ} files depend on the seed");
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn marginals_are_plausible() {
    let dir = run("marginals", 0.1, 3);
    for year in 2019..=2024 {
        let rows = read_csv(
            &dir.join(format!("custodian/anagrafe/anagrafe_{year}.csv")),
            b';',
            false,
        );
        let mut n = 0.0;
        let mut old = 0.0;
        let mut foreign = 0.0;
        let mut households = BTreeSet::new();
        let mut seen = HashSet::new();
        for (_, r) in rows.iter().skip(1) {
            // Skip injected duplicates and rows whose fields were damaged on purpose.
            let Ok(birth) = NaiveDate::parse_from_str(&r[5], "%d/%m/%Y") else {
                continue;
            };
            if !seen.insert(r[0].clone()) || r[11].is_empty() {
                continue;
            }
            n += 1.0;
            let age = crate::population::age_on(birth, crate::out::ymd(year, 12, 31));
            old += (age >= 65) as u8 as f64;
            foreign += (!r[7].is_empty() && r[7] != "ITA") as u8 as f64;
            households.insert(r[11].clone());
        }
        let (s_old, s_foreign, size) = (old / n, foreign / n, n / households.len() as f64);
        assert!((0.22..=0.28).contains(&s_old), "{year}: share 65+ {s_old}");
        assert!(
            (0.12..=0.18).contains(&s_foreign),
            "{year}: share foreign {s_foreign}"
        );
        assert!(
            (2.0..=2.3).contains(&size),
            "{year}: mean household size {size}"
        );
        assert!(
            (15_000.0..=22_000.0).contains(&n),
            "{year}: {n} residents at scale 0.1"
        );
    }
    let social = read_csv(&dir.join(crate::sources::social::FILE), b',', false);
    let no_cf = social[1..].iter().filter(|(_, r)| r[1].is_empty()).count();
    let share = no_cf as f64 / (social.len() - 1) as f64;
    assert!(
        (0.033..=0.047).contains(&share),
        "{share} of social records without a tax code"
    );
    // Service supply, city-wide: places per 100 of the target population.
    let supply = read_csv(&dir.join(crate::sources::services::TRUTH_FILE), b',', false);
    for (year, service, low, high) in [
        ("2019", "nido d'infanzia", 27.0, 33.0),
        ("2024", "nido d'infanzia", 24.0, 36.0),
        ("2019", "assistenza domiciliare", 3.5, 5.5),
        ("2019", "struttura residenziale anziani", 4.0, 6.5),
    ] {
        let (places, target) = supply[1..]
            .iter()
            .filter(|(_, r)| r[0] == year && r[2] == service)
            .fold((0.0, 0.0), |(p, t), (_, r)| {
                (
                    p + r[4].parse::<f64>().unwrap(),
                    t + r[10].parse::<f64>().unwrap(),
                )
            });
        let rate = 100.0 * places / target;
        assert!(
            (low..=high).contains(&rate),
            "{year} {service}: {rate} places per 100"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_tax_code_verifies_and_rebuilds() {
    let rows = read_csv(&small().join("truth/persons.csv"), b',', false);
    let header = &rows[0].1;
    let idx = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (cf, level, sur, name, sex, birth, place) = (
        idx("tax_code"),
        idx("omocodia_level"),
        idx("surname"),
        idx("first_name"),
        idx("sex"),
        idx("birth_date"),
        idx("birth_place_code"),
    );
    let mut omocodic = 0;
    let mut codes = HashSet::new();
    for (_, r) in &rows[1..] {
        assert!(taxcode::is_valid(&r[cf]), "{}", r[cf]);
        assert!(codes.insert(r[cf].clone()), "duplicate tax code {}", r[cf]);
        let d = NaiveDate::parse_from_str(&r[birth], "%Y-%m-%d").unwrap();
        let base = taxcode::encode(
            &r[sur],
            &r[name],
            r[sex] == "F",
            d.year(),
            d.month(),
            d.day(),
            &r[place],
        );
        let lvl: usize = r[level].parse().unwrap();
        assert_eq!(taxcode::as_str(&taxcode::omocodia(&base, lvl)), r[cf]);
        assert_eq!(lvl > 0, taxcode::is_omocodic(r[cf].as_bytes()));
        omocodic += (lvl > 0) as usize;
    }
    let share = omocodic as f64 / (rows.len() - 1) as f64;
    assert!((0.001..0.015).contains(&share), "omocodia share {share}");
}

/// Physical line counts of every file named in the defects and links.
#[test]
fn defects_and_links_point_at_existing_records() {
    let root = small();
    let defects = read_csv(&root.join("truth/defects.csv"), b',', false);
    assert!(defects.len() > 100, "too few defects: {}", defects.len());
    let mut kinds = BTreeSet::new();
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |file: &str| -> u64 {
        *lines.entry(file.to_string()).or_insert_with(|| {
            let path = root.join(file);
            if file.ends_with(".xlsx") {
                use calamine::Reader;
                let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
                let range = wb.worksheet_range(crate::sources::housing::SHEET).unwrap();
                range.end().map(|(r, _)| r as u64 + 1).unwrap_or(0)
            } else {
                std::fs::read(&path)
                    .unwrap()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64
            }
        })
    };
    let specs = source_specs(2019, 2024);
    for (_, d) in &defects[1..] {
        // A lab column, or the canonical name of a raw column the lab never sees.
        let spec = specs.iter().find(|s| s.name == d[0]).unwrap();
        assert!(
            spec.columns.iter().any(|c| c.name == d[3])
                || ["tax_code", "surname", "first_name"].contains(&d[3].as_str())
                || (d[0] == "register" && d[3] == "birth_date"),
            "{d:?}"
        );
        let line: u64 = d[2].parse().unwrap();
        let first = if d[1].ends_with(".jsonl") { 1 } else { 2 };
        assert!(line >= first && line <= count(&d[1]), "{d:?}");
        kinds.insert(d[4].clone());
        assert_eq!(
            d[5] == "true",
            matches!(
                d[4].as_str(),
                "duplicate_row"
                    | "invalid_date"
                    | "out_of_range"
                    | "non_numeric"
                    | "unknown_zone"
                    | "invalid_value"
                    | "missing_required"
                    | "invalid_tax_code"
            ),
            "{d:?}"
        );
    }
    for k in [
        "duplicate_row",
        "invalid_date",
        "unknown_zone",
        "missing_required",
        "name_typo",
        "correction",
        "invalid_tax_code",
        "no_tax_code",
    ] {
        assert!(kinds.contains(k), "no {k} defect injected");
    }
    let links = read_csv(&root.join("truth/record_links.csv"), b',', false);
    let persons: HashSet<String> = read_csv(&root.join("truth/persons.csv"), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r[0].clone())
        .collect();
    let mut sources = BTreeSet::new();
    for (_, l) in &links[1..] {
        let line: u64 = l[2].parse().unwrap();
        let first = if l[1].ends_with(".jsonl") { 1 } else { 2 };
        assert!(line >= first && line <= count(&l[1]), "{l:?}");
        assert!(persons.contains(&l[4]), "{l:?}");
        sources.insert(l[0].clone());
    }
    assert_eq!(sources.len(), 7, "{sources:?}");
}

/// The supply table is its truth plus the two defects, every zone is in the catchment of every
/// service once a year, and the waiting list is what the usable places leave of the demand.
#[test]
fn services_supply_is_its_truth_plus_two_defects() {
    use crate::sources::services::{FILE, HEADER, TRUTH_FILE};
    let root = small();
    let raw = read_csv(&root.join(FILE), b';', false);
    let truth = read_csv(&root.join(TRUTH_FILE), b',', false);
    assert_eq!(raw[0].1.join(";") + "\n", HEADER);
    assert_eq!(raw.len(), truth.len());
    let defects: BTreeMap<u64, (String, String)> = defect_rows(root)
        .into_iter()
        .filter(|d| d[0] == "services_supply")
        .map(|d| {
            assert_eq!(d[1], FILE);
            (d[2].parse().unwrap(), (d[3].clone(), d[4].clone()))
        })
        .collect();
    let kinds: Vec<(&str, &str)> = defects
        .values()
        .map(|(c, k)| (c.as_str(), k.as_str()))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(
        kinds.contains(&("places", "out_of_range")) && kinds.contains(&("zone", "unknown_zone"))
    );
    let zones: BTreeSet<String> = (1..=40).map(|z| format!("Z{z:02}")).collect();
    let mut served: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut over = 0;
    for ((line, r), (_, t)) in raw[1..].iter().zip(&truth[1..]) {
        // The published row is the truth's first nine columns, decimal comma.
        let mut published: Vec<String> = t[..9].to_vec();
        published[7] = published[7].replace('.', ",");
        match defects.get(line).map(|(c, _)| c.as_str()) {
            Some("places") => {
                assert_eq!(r[4], format!("-{}", t[4]));
                published[4] = r[4].clone();
            }
            Some("zone") => {
                assert!(!zones.contains(&r[1]), "{}", r[1]);
                published[1] = r[1].clone();
            }
            _ => {}
        }
        assert_eq!(r, &published, "line {line}");
        let n = |i: usize| -> u64 { t[i].parse().unwrap() };
        let (places, users, operators, waiting, demand) = (n(4), n(5), n(6), n(8), n(12));
        assert!(places >= 1 && operators >= 1, "line {line}");
        assert!(
            t[7].parse::<f64>().unwrap() <= operators as f64,
            "line {line}"
        );
        assert_eq!(users + waiting, demand, "line {line}");
        assert!(
            users as f64 <= (places as f64 * 1.08).floor(),
            "line {line}"
        );
        assert!(n(11) <= demand, "line {line}: social cases beyond demand");
        over += (users > places) as usize;
        let catchment: Vec<String> = t[9].split(' ').map(str::to_string).collect();
        assert_eq!(
            catchment[0], t[1],
            "line {line}: a facility serves its own zone"
        );
        served
            .entry((t[0].clone(), t[2].clone()))
            .or_default()
            .extend(catchment);
    }
    assert!(
        over * 5 < raw.len(),
        "{over} rows with more users than places"
    );
    let years: BTreeSet<&str> = served.keys().map(|(y, _)| y.as_str()).collect();
    assert_eq!(years.len(), 6);
    assert_eq!(
        served.len(),
        6 * crate::sources::services::service_names().len()
    );
    for ((year, service), mut z) in served {
        z.sort();
        let n = z.len();
        z.dedup();
        assert_eq!(n, z.len(), "{year} {service}: a zone served twice");
        assert_eq!(z.len(), zones.len(), "{year} {service}: a zone not served");
    }
}

// ----- a reference pseudonymizer and a reference validator ---------------------------------

/// A value as a reader sees it: raw cells, then the custodian's output.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Null,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
}

fn excel_date(serial: f64) -> NaiveDate {
    crate::out::ymd(1899, 12, 30) + chrono::Duration::days(serial.floor() as i64)
}

/// A raw file: its header (JSON keys for jsonl) and its records with their lines.
struct RawTable {
    header: Vec<String>,
    records: Vec<(u64, Vec<Raw>)>,
}

fn read_raw(root: &Path, spec: &CustodianSpec, file: &str) -> RawTable {
    let path = root.join(file);
    match spec.format {
        "csv" => {
            let rows = read_csv(
                &path,
                spec.delimiter.unwrap().as_bytes()[0],
                spec.encoding == "windows-1252",
            );
            let h = spec.header_row.unwrap() as usize;
            RawTable {
                header: rows[h - 1].1.clone(),
                records: rows[h..]
                    .iter()
                    .map(|(line, r)| (*line, r.iter().map(|s| Raw::Text(s.clone())).collect()))
                    .collect(),
            }
        }
        "xlsx" => {
            use calamine::{Data, Reader};
            let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
            let range = wb.worksheet_range(spec.sheet.unwrap()).unwrap();
            let (r0, _) = range.start().unwrap();
            let hrow = spec.header_row.unwrap() as u64;
            let mut header = Vec::new();
            let mut records = Vec::new();
            for (k, r) in range.rows().enumerate() {
                let line = r0 as u64 + k as u64 + 1;
                if line == hrow {
                    header = r.iter().map(|d| d.to_string()).collect();
                } else if line > hrow {
                    let cells = r
                        .iter()
                        .map(|d| match d {
                            Data::Empty => Raw::Null,
                            Data::String(s) => Raw::Text(s.clone()),
                            Data::Float(f) => Raw::Number(*f),
                            Data::Int(i) => Raw::Number(*i as f64),
                            Data::DateTime(d) => Raw::Date(excel_date(d.as_f64())),
                            other => Raw::Text(other.to_string()),
                        })
                        .collect();
                    records.push((line, cells));
                }
            }
            RawTable { header, records }
        }
        "jsonl" => {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut header: Vec<String> = Vec::new();
            let mut values = Vec::new();
            for (k, l) in text.lines().enumerate() {
                let v: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(l).unwrap();
                for key in v.keys() {
                    if !header.contains(key) {
                        header.push(key.clone());
                    }
                }
                values.push((k as u64 + 1, v));
            }
            let records = values
                .into_iter()
                .map(|(line, v)| {
                    let cells = header
                        .iter()
                        .map(|h| match v.get(h) {
                            None | Some(serde_json::Value::Null) => Raw::Null,
                            Some(serde_json::Value::Number(n)) => Raw::Number(n.as_f64().unwrap()),
                            Some(serde_json::Value::String(s)) => Raw::Text(s.clone()),
                            Some(other) => Raw::Text(other.to_string()),
                        })
                        .collect();
                    (line, cells)
                })
                .collect();
            RawTable { header, records }
        }
        f => panic!("unknown format {f}"),
    }
}

/// Street name -> postcode, from `custodian/stradario.csv`.
fn street_postcodes(root: &Path) -> HashMap<String, (String, String)> {
    read_csv(&root.join(crate::STREETS_FILE), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| (r[0].clone(), (r[4].clone(), r[5].clone())))
        .collect()
}

/// Birth year (pivoted on `reference_year`), sex and whether born in Italy, from a valid code.
fn decode_tax_code(cf: &str, reference_year: i32) -> (i32, bool, bool) {
    let digit = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            (c - b'0') as u32
        } else {
            b"LMNPQRSTUV".iter().position(|&x| x == c).unwrap() as u32
        }
    };
    let b = cf.as_bytes();
    let yy = (digit(b[6]) * 10 + digit(b[7])) as i32;
    let year = if 2000 + yy <= reference_year {
        2000 + yy
    } else {
        1900 + yy
    };
    let female = digit(b[9]) * 10 + digit(b[10]) > 40;
    (year, female, b[11] != b'Z')
}

/// What the custodian writes for one raw record, or `None` when it quarantines the record.
fn pseudonymize(
    spec: &CustodianSpec,
    reference_year: i32,
    streets: &HashMap<String, (String, String)>,
    header: &[String],
    row: &[Raw],
) -> Option<BTreeMap<String, Raw>> {
    let get = |name: &str| -> Raw {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no raw column {name}", spec.source));
        match row.get(i) {
            Some(Raw::Text(s)) if spec.null_values.contains(&s.as_str()) => Raw::Null,
            Some(v) => v.clone(),
            None => Raw::Null,
        }
    };
    let text = |v: &Raw| -> Option<String> {
        match v {
            Raw::Null => None,
            Raw::Text(s) => Some(s.clone()),
            Raw::Number(x) => Some(x.to_string()),
            Raw::Date(d) => Some(crate::out::iso(*d)),
            Raw::Bool(b) => Some(b.to_string()),
        }
    };
    let parse_date = |v: &Raw| -> Result<Option<NaiveDate>, ()> {
        match v {
            Raw::Null => Ok(None),
            Raw::Date(d) => Ok(Some(*d)),
            other => {
                let s = text(other).unwrap();
                spec.date_formats
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(&s, f).ok())
                    .map(Some)
                    .ok_or(())
            }
        }
    };
    let weak = |cols: &[&str]| -> Result<Raw, ()> {
        let birth = parse_date(&get(cols[2]))?;
        let parts: Vec<Option<String>> = [cols[0], cols[1], cols[3]]
            .iter()
            .map(|c| text(&get(c)))
            .collect();
        Ok(match (birth, &parts[..]) {
            (Some(d), [Some(s), Some(n), Some(x)]) => Raw::Text(format!(
                "wpid:{}|{}|{}|{x}",
                s.to_uppercase(),
                n.to_uppercase(),
                crate::out::iso(d)
            )),
            _ => Raw::Null,
        })
    };
    let mut out = BTreeMap::new();
    for c in &spec.columns {
        let name = || c.name.unwrap().to_string();
        match c.action {
            Action::Drop => {}
            Action::Keep => {
                let v = get(c.from[0]);
                out.insert(name(), text(&v).map(Raw::Text).unwrap_or(Raw::Null));
            }
            Action::Pseudonym => match c.kind.unwrap() {
                "name_birth" => {
                    out.insert(name(), weak(&c.from).ok()?);
                }
                "tax_code" => {
                    let code = text(&get(c.from[0])).map(|s| s.trim().to_uppercase());
                    let v = match code {
                        None if !c.fallback.is_empty() => weak(&c.fallback).ok()?,
                        None => Raw::Null,
                        Some(code) => {
                            if !taxcode::is_valid(&code) {
                                return None;
                            }
                            let (year, female, italy) = decode_tax_code(&code, reference_year);
                            for d in &c.derive {
                                let value = match *d {
                                    "birth_year" => Raw::Number(year as f64),
                                    "sex" => Raw::Text(if female { "F" } else { "M" }.into()),
                                    "born_in_italy" => Raw::Bool(italy),
                                    other => panic!("unknown derivation {other}"),
                                };
                                out.insert(d.to_string(), value);
                            }
                            Raw::Text(format!("pid:{code}"))
                        }
                    };
                    out.insert(name(), v);
                }
                kind => {
                    let v = text(&get(c.from[0]))
                        .map(|s| Raw::Text(format!("{kind}:{}", s.trim().to_uppercase())))
                        .unwrap_or(Raw::Null);
                    out.insert(name(), v);
                }
            },
            Action::Generalize => {
                let v = get(c.from[0]);
                let g = match c.to.unwrap() {
                    "month" => parse_date(&v)
                        .ok()?
                        .map(|d| Raw::Date(crate::out::ymd(d.year(), d.month(), 1))),
                    "year" => parse_date(&v).ok()?.map(|d| Raw::Number(d.year() as f64)),
                    "postcode" => text(&v).and_then(|s| {
                        let (street, _) = s.rsplit_once(", ")?;
                        streets.get(street).map(|(_, cap)| Raw::Text(cap.clone()))
                    }),
                    other => panic!("unknown generalization {other}"),
                };
                out.insert(name(), g.unwrap_or(Raw::Null));
            }
        }
    }
    Some(out)
}

/// Whether one value passes its column's rules.
fn valid(
    spec: &SourceSpec,
    c: &crate::project::ColumnSpec,
    raw: &Raw,
    codes: &HashSet<String>,
) -> bool {
    let text = match raw {
        Raw::Null => return !c.required,
        Raw::Text(s) if spec.null_values.contains(&s.as_str()) => return !c.required,
        Raw::Text(s) => Some(s.clone()),
        _ => None,
    };
    let num = |s: &str| -> Option<f64> {
        let mut t = s.to_string();
        if let Some(th) = spec.thousands {
            t = t.replace(th, "");
        }
        if let Some(d) = spec.decimal {
            t = t.replace(d, ".");
        }
        t.parse::<f64>().ok().filter(|x| x.is_finite())
    };
    let value = match (c.ty, raw, &text) {
        (Type::String, _, Some(s)) => Raw::Text(s.clone()),
        (Type::Integer, Raw::Number(x), _) if x.fract() == 0.0 => Raw::Number(*x),
        (Type::Integer, _, Some(s)) => match num(s) {
            Some(x) if x.fract() == 0.0 && !s.contains(spec.decimal.unwrap_or("\u{0}")) => {
                Raw::Number(x)
            }
            _ => return false,
        },
        (Type::Float, _, Some(s)) => match num(s) {
            Some(x) => Raw::Number(x),
            None => return false,
        },
        (Type::Boolean, Raw::Bool(b), _) => Raw::Bool(*b),
        (Type::Date, Raw::Date(d), _) => Raw::Date(*d),
        (Type::Date, _, Some(s)) => match spec
            .date_formats
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        {
            Some(d) => Raw::Date(d),
            None => return false,
        },
        _ => panic!("{}.{}: unexpected value {raw:?}", spec.name, c.name),
    };
    let cmp = |b: &Bound| -> std::cmp::Ordering {
        match (&value, b) {
            (Raw::Number(x), Bound::Num(y)) => x.partial_cmp(y).unwrap(),
            (Raw::Date(d), Bound::Date(s)) => {
                d.cmp(&NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
            }
            _ => panic!("bound type mismatch in {}", c.name),
        }
    };
    if c.min.as_ref().is_some_and(|b| cmp(b).is_lt())
        || c.max.as_ref().is_some_and(|b| cmp(b).is_gt())
    {
        return false;
    }
    if let Raw::Text(s) = &value {
        if !c.allowed.is_empty() && !c.allowed.contains(s) {
            return false;
        }
        if c.codelist && !codes.contains(s) {
            return false;
        }
        if let Some(r) = c.regex
            && !regex::Regex::new(r).unwrap().is_match(s)
        {
            return false;
        }
    }
    true
}

/// Rows `(file, line)` quarantined by the custodian and by the lab build, and the row count.
struct Quarantine {
    custodian: BTreeSet<(String, u64)>,
    lab: BTreeSet<(String, u64)>,
    total: usize,
}

fn quarantined(
    root: &Path,
    custodian: &CustodianSpec,
    spec: &SourceSpec,
    codes: &HashSet<String>,
) -> Quarantine {
    let streets = street_postcodes(root);
    let mut q = Quarantine {
        custodian: BTreeSet::new(),
        lab: BTreeSet::new(),
        total: 0,
    };
    let mut keys: HashSet<Vec<String>> = HashSet::new();
    for file in inputs(root, spec.name) {
        let table = read_raw(root, custodian, &file);
        for (line, row) in &table.records {
            q.total += 1;
            let Some(m) = pseudonymize(custodian, 2024, &streets, &table.header, row) else {
                q.custodian.insert((file.clone(), *line));
                continue;
            };
            let ok = spec.columns.iter().all(|c| {
                let v = m
                    .get(c.name)
                    .unwrap_or_else(|| panic!("{}: no output {}", spec.name, c.name));
                valid(spec, c, v, codes)
            });
            let key: Vec<String> = spec.unique.iter().map(|u| format!("{:?}", m[*u])).collect();
            if !ok || (!spec.unique.is_empty() && !keys.insert(key)) {
                q.lab.insert((file.clone(), *line));
            }
        }
    }
    q
}

#[test]
fn custodian_and_lab_quarantine_exactly_the_injected_invalid_rows() {
    let root = small();
    let codes: HashSet<String> = read_csv(&root.join("lab/territories/zones.csv"), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r[0].clone())
        .collect();
    assert_eq!(codes.len(), 40);
    let defects = defect_rows(root);
    let custodians = custodian_specs();
    for spec in source_specs(2019, 2024) {
        let custodian = custodians.iter().find(|c| c.source == spec.name).unwrap();
        let expected = |at_custodian: bool| -> BTreeSet<(String, u64)> {
            defects
                .iter()
                .filter(|d| d[0] == spec.name && d[5] == "true")
                .filter(|d| {
                    let caught_there = d[4] == "invalid_tax_code"
                        || (d[0] == "register" && d[3] == "birth_date" && d[4] == "invalid_date");
                    caught_there == at_custodian
                })
                .map(|d| (d[1].clone(), d[2].parse().unwrap()))
                .collect()
        };
        let q = quarantined(root, custodian, &spec, &codes);
        assert!(q.total > 0, "{} has no rows", spec.name);
        for (stage, got, want) in [
            ("custodian", &q.custodian, expected(true)),
            ("lab", &q.lab, expected(false)),
        ] {
            let missing: Vec<_> = want.difference(got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{} at the {stage}: not rejected {missing:?}, wrongly rejected {extra:?}",
                spec.name
            );
        }
        // Invalid rows stay a small share.
        let bad = q.custodian.len() + q.lab.len();
        assert!(
            (bad as f64) < 0.012 * q.total as f64 + 2.0,
            "{}: {bad} of {} rejected",
            spec.name,
            q.total
        );
    }
}

#[test]
fn lab_project_is_complete_and_minimal() {
    let root = small();
    let lab = root.join("lab");
    let toml_text = std::fs::read_to_string(lab.join("datalab.toml")).unwrap();
    let v: toml::Value = toml::from_str(&toml_text).unwrap();
    assert_eq!(v["periods"]["first"].as_integer(), Some(2019));
    assert_eq!(v["name"].as_str(), Some("modena-synthetic"));
    // Parquet sources: no encoding, delimiter, quote, header row or sheet.
    let allowed_keys = [
        "format_version",
        "title",
        "holder",
        "files",
        "format",
        "decimal",
        "thousands",
        "date_formats",
        "null_values",
        "unique",
        "period",
        "columns",
    ];
    let column_keys = [
        "name",
        "from",
        "type",
        "required",
        "pseudonym",
        "min",
        "max",
        "allowed",
        "codelist",
        "regex",
        "references",
    ];
    let identifiers = [
        "tax_code",
        "cf",
        "surname",
        "first_name",
        "name",
        "address",
        "street",
        "note",
        "notes",
        "birth_date",
    ];
    for spec in source_specs(2019, 2024) {
        let text =
            std::fs::read_to_string(lab.join(format!("sources/{}.toml", spec.name))).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        for k in t.keys() {
            assert!(
                allowed_keys.contains(&k.as_str()),
                "{}: unknown key {k}",
                spec.name
            );
        }
        assert_eq!(t["format"].as_str(), Some("parquet"));
        let files: Vec<&str> = t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(files, [format!("data/{}/*.parquet", spec.name)]);
        let cols = t["columns"].as_array().unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
        for c in cols {
            for k in c.as_table().unwrap().keys() {
                assert!(
                    column_keys.contains(&k.as_str()),
                    "{}: unknown column key {k}",
                    spec.name
                );
            }
            let name = c["name"].as_str().unwrap();
            assert_eq!(
                c["from"].as_str(),
                Some(name),
                "{}: identity mapping",
                spec.name
            );
            assert!(!identifiers.contains(&name), "{} maps {name}", spec.name);
            assert!(name.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'));
            let pseudonym = c["pseudonym"].as_bool().unwrap();
            assert_eq!(
                pseudonym,
                name.ends_with("_pid") || name.ends_with("_wpid"),
                "{}.{name}",
                spec.name
            );
            if pseudonym {
                assert_eq!(c["type"].as_str(), Some("string"));
                assert!(c.get("regex").is_none(), "{}.{name}", spec.name);
                assert_eq!(
                    c["required"].as_bool(),
                    Some(name != "person_wpid"),
                    "{}.{name}",
                    spec.name
                );
            }
        }
        for u in t["unique"].as_array().unwrap() {
            assert!(
                names.contains(&u.as_str().unwrap()),
                "{}: unique {u} is not a column",
                spec.name
            );
        }
        assert!(
            names.contains(&t["period"].as_str().unwrap()),
            "{}: period is not a column",
            spec.name
        );
        // The raw files its custodian job reads exist.
        let raw = inputs(root, spec.name);
        assert!(!raw.is_empty(), "{}", spec.name);
        for f in raw {
            assert!(root.join(&f).exists(), "{f}");
        }
    }
    assert!(lab.join("indicators/README.md").exists() && lab.join("reports/README.md").exists());
}

/// The output columns of a custodian spec's `[[columns]]` entry, read from its TOML.
fn toml_outputs(c: &toml::Table) -> Vec<String> {
    let mut v = Vec::new();
    let name = c.get("name").and_then(|n| n.as_str()).map(str::to_string);
    match c["action"].as_str().unwrap() {
        "drop" | "derive" => {}
        "keep" => v.push(name.unwrap_or_else(|| c["from"].as_str().unwrap().to_lowercase())),
        _ => v.push(name.expect("pseudonym and generalize entries are named")),
    }
    match c.get("derive") {
        Some(toml::Value::Array(a)) => v.extend(a.iter().map(|d| d.as_str().unwrap().to_string())),
        Some(toml::Value::Table(t)) => {
            v.extend(t.values().map(|d| d.as_str().unwrap().to_string()))
        }
        _ => {}
    }
    v
}

fn custodian_spec_toml(root: &Path, source: &str) -> toml::Table {
    let path = root.join(format!("{}/{source}.toml", crate::CUSTODIAN_SPECS_DIR));
    let text = std::fs::read_to_string(&path).unwrap();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn custodian_specs_parse_and_name_only_raw_columns() {
    let root = small();
    let keys = [
        "format_version",
        "title",
        "holder",
        "source",
        "format",
        "encoding",
        "delimiter",
        "quote",
        "header_row",
        "sheet",
        "date_formats",
        "null_values",
        "reference_year",
        "min_age",
        "columns",
    ];
    let column_keys = [
        "from",
        "action",
        "kind",
        "name",
        "derive",
        "fallback",
        "to",
        "streets",
        "band_width",
        "band_top",
        "bands",
    ];
    let labs = source_specs(2019, 2024);
    let specs = custodian_specs();
    let spec_files: Vec<String> = std::fs::read_dir(root.join(crate::CUSTODIAN_SPECS_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(spec_files.len(), labs.len(), "{spec_files:?}");
    for spec in &specs {
        let lab = labs.iter().find(|l| l.name == spec.source).unwrap();
        let t = custodian_spec_toml(root, spec.source);
        for k in t.keys() {
            assert!(
                keys.contains(&k.as_str()),
                "{}: unknown key {k}",
                spec.source
            );
        }
        assert_eq!(t["source"].as_str(), Some(spec.source));
        assert_eq!(t["title"].as_str(), Some(lab.title));
        assert_eq!(t["holder"].as_str(), Some(lab.holder));
        assert_eq!(t["reference_year"].as_integer(), Some(2024));
        let format = t["format"].as_str().unwrap();
        assert_eq!(format, spec.format);
        assert_eq!(t.contains_key("delimiter"), format == "csv");
        assert_eq!(t.contains_key("sheet"), format == "xlsx");
        for input in inputs(root, spec.source) {
            let header = read_raw(root, spec, &input).header;
            let has = |c: &str| header.iter().any(|h| h == c);
            for c in t["columns"].as_array().unwrap() {
                let c = c.as_table().unwrap();
                for k in c.keys() {
                    assert!(
                        column_keys.contains(&k.as_str()),
                        "{}: unknown column key {k}",
                        spec.source
                    );
                }
                let action = c["action"].as_str().unwrap();
                assert!(
                    ["pseudonym", "derive", "generalize", "keep", "drop"].contains(&action),
                    "{action}"
                );
                let mut raw: Vec<&str> = match &c["from"] {
                    toml::Value::String(s) => vec![s.as_str()],
                    toml::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
                    other => panic!("{}: from = {other}", spec.source),
                };
                if let Some(f) = c.get("fallback") {
                    assert_eq!(c["kind"].as_str(), Some("tax_code"));
                    raw.extend(f.as_array().unwrap().iter().map(|v| v.as_str().unwrap()));
                }
                if raw.len() > 1 && c.get("fallback").is_none() {
                    assert_eq!(c["kind"].as_str(), Some("name_birth"));
                }
                if c.contains_key("derive") {
                    assert_eq!(c["kind"].as_str(), Some("tax_code"));
                }
                if matches!(action, "pseudonym" | "derive") {
                    assert!(c.contains_key("kind"), "{}: {c:?}", spec.source);
                }
                if let Some(streets) = c.get("streets") {
                    let path = root
                        .join(crate::CUSTODIAN_SPECS_DIR)
                        .join(streets.as_str().unwrap());
                    assert!(path.exists(), "{}", path.display());
                }
                for r in raw {
                    assert!(has(r), "{}: {input} has no column {r}", spec.source);
                }
            }
        }
    }
}

#[test]
fn every_lab_column_is_one_custodian_output() {
    let root = small();
    for lab in source_specs(2019, 2024) {
        let t = custodian_spec_toml(root, lab.name);
        let mut produced: BTreeMap<String, usize> = BTreeMap::new();
        for c in t["columns"].as_array().unwrap() {
            for o in toml_outputs(c.as_table().unwrap()) {
                *produced.entry(o).or_default() += 1;
            }
        }
        let text =
            std::fs::read_to_string(root.join(format!("lab/sources/{}.toml", lab.name))).unwrap();
        let spec: toml::Table = toml::from_str(&text).unwrap();
        let mut read = BTreeSet::new();
        for c in spec["columns"].as_array().unwrap() {
            let from = c["from"].as_str().unwrap().to_string();
            assert_eq!(
                produced.get(&from),
                Some(&1),
                "{}: lab column from {from} is produced {:?} times",
                lab.name,
                produced.get(&from)
            );
            read.insert(from);
        }
        // Nothing is pseudonymized for nothing: the lab reads every output.
        let unread: Vec<_> = produced.keys().filter(|o| !read.contains(*o)).collect();
        assert!(unread.is_empty(), "{}: unread outputs {unread:?}", lab.name);
    }
}

#[test]
fn custodian_jobs_cover_every_source() {
    let root = small();
    let jobs = custodian_jobs(root);
    let names: Vec<&str> = jobs.iter().map(|j| j.source.as_str()).collect();
    let labs: Vec<&str> = source_specs(2019, 2024).iter().map(|s| s.name).collect();
    assert_eq!(names, labs);
    for j in &jobs {
        assert!(root.join(&j.spec).exists(), "{}", j.spec.display());
        assert!(!j.inputs.is_empty(), "{}", j.source);
        for i in &j.inputs {
            assert!(root.join(i).is_file(), "{}", i.display());
        }
        assert_eq!(
            j.holder_key,
            if j.source == "gol" {
                KeyHolder::LabourAgency
            } else {
                KeyHolder::City
            }
        );
        assert_eq!(j.out_dir(), Path::new("lab/data").join(&j.source));
    }
    let register = &jobs[0];
    let expected: Vec<PathBuf> = (2019..=2024)
        .map(|y| PathBuf::from(format!("custodian/anagrafe/anagrafe_{y}.csv")))
        .collect();
    assert_eq!(register.inputs, expected);
    assert!(
        custodian_jobs(&root.join("nowhere"))
            .iter()
            .all(|j| j.inputs.is_empty())
    );
}

#[test]
fn every_address_is_a_street_of_the_table() {
    let root = small();
    let table = read_csv(&root.join(crate::STREETS_FILE), b',', false);
    assert_eq!(
        table[0].1,
        [
            "street",
            "number_from",
            "number_to",
            "parity",
            "zone",
            "postcode"
        ]
    );
    let mut seen = HashSet::new();
    let mut postcodes = BTreeSet::new();
    for (_, r) in &table[1..] {
        assert!(seen.insert(r[0].clone()), "street {} listed twice", r[0]);
        assert!(r[1].is_empty() && r[2].is_empty() && r[3].is_empty());
        postcodes.insert(r[5].clone());
    }
    assert_eq!(seen.len(), crate::names::STREETS.len());
    assert_eq!(
        postcodes.into_iter().collect::<Vec<_>>(),
        ["41121", "41122", "41123", "41124", "41125", "41126"]
    );
    let streets = street_postcodes(root);
    let unknown_zone: HashSet<(String, u64)> = defect_rows(root)
        .into_iter()
        .filter(|d| d[0] == "register" && d[4] == "unknown_zone")
        .map(|d| (d[1].clone(), d[2].parse().unwrap()))
        .collect();
    let mut n = 0;
    for file in inputs(root, "register") {
        let rows = read_csv(&root.join(&file), b';', false);
        let col = |name: &str| rows[0].1.iter().position(|h| h == name).unwrap();
        let (address, zone) = (col("INDIRIZZO"), col("ZONA_STAT"));
        for (line, r) in &rows[1..] {
            let (street, number) = r[address]
                .rsplit_once(", ")
                .unwrap_or_else(|| panic!("{file}:{line}: address {}", r[address]));
            assert!(
                !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
                "{file}:{line}: civic number {number}"
            );
            let (table_zone, _) = streets
                .get(street)
                .unwrap_or_else(|| panic!("{file}:{line}: {street} is not in the table"));
            if !unknown_zone.contains(&(file.clone(), *line)) {
                assert_eq!(table_zone, &r[zone], "{file}:{line}");
            }
            n += 1;
        }
    }
    assert!(n > 1000);
}

#[test]
fn some_social_records_have_no_tax_code() {
    let root = small();
    let file = crate::sources::social::FILE;
    let rows = read_csv(&root.join(file), b',', false);
    let header = &rows[0].1;
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (cf, birth, sex) = (col("CF_BENEFICIARIO"), col("DATA_NASCITA"), col("SESSO"));
    assert_eq!((birth, sex), (col("NOME") + 1, col("NOME") + 2));
    let persons: HashMap<String, Vec<String>> =
        read_csv(&root.join("truth/persons.csv"), b',', false)
            .into_iter()
            .skip(1)
            .map(|(_, r)| (r[0].clone(), r))
            .collect();
    let links: HashMap<u64, String> = read_csv(&root.join("truth/record_links.csv"), b',', false)
        .into_iter()
        .skip(1)
        .filter(|(_, l)| l[1] == file)
        .map(|(_, l)| (l[2].parse().unwrap(), l[4].clone()))
        .collect();
    let mut empty = BTreeSet::new();
    for (line, r) in &rows[1..] {
        let person = &persons[&links[line]];
        // persons.csv: ..., sex (5), birth_date (6), birth_place_code (7), ...
        assert_eq!(r[birth], person[6], "line {line}");
        assert_eq!(r[sex], person[5], "line {line}");
        if r[cf].is_empty() {
            assert!(
                person[7].starts_with('Z'),
                "line {line}: born in {}",
                person[7]
            );
            empty.insert(*line);
        } else {
            assert_eq!(r[cf].len(), 16, "line {line}");
        }
    }
    let share = empty.len() as f64 / (rows.len() - 1) as f64;
    // A small run: about 4%, give or take the draw (checked more tightly in the marginals).
    assert!((0.02..=0.06).contains(&share), "{share} without a tax code");
    let listed: BTreeSet<u64> = defect_rows(root)
        .into_iter()
        .filter(|d| d[4] == "no_tax_code")
        .map(|d| {
            assert_eq!((d[0].as_str(), d[1].as_str()), ("social_cases", file));
            assert_eq!((d[3].as_str(), d[5].as_str()), ("tax_code", "false"));
            d[2].parse().unwrap()
        })
        .collect();
    assert_eq!(listed, empty);
}

#[test]
fn exports_have_the_formats_their_holders_use() {
    let root = small();
    let isee = std::fs::read(root.join("custodian/inps/isee_dsu.csv")).unwrap();
    assert!(
        std::str::from_utf8(&isee).is_err() || !isee.iter().any(|&b| b >= 0x80),
        "isee is windows-1252"
    );
    let text = encoding_rs::WINDOWS_1252.decode(&isee).0;
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .split(';')
            .nth(6)
            .unwrap()
            .contains(','),
        "decimal comma"
    );
    let social = std::fs::read(root.join("custodian/sociale/cartella_sociale.csv")).unwrap();
    assert!(social.starts_with(&[0xef, 0xbb, 0xbf]), "byte-order mark");
    let rows = read_csv(
        &root.join("custodian/sociale/cartella_sociale.csv"),
        b',',
        false,
    );
    assert!(
        rows.iter()
            .any(|(_, r)| r.last().is_some_and(|n| n.contains('\n'))),
        "multi-line notes"
    );
    assert!(
        rows.iter()
            .any(|(_, r)| r.last().is_some_and(|n| n.contains('"'))),
        "quotes in notes"
    );
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(root.join("custodian/casa/domande_erp.xlsx")).unwrap();
    let range = wb.worksheet_range("Domande ERP").unwrap();
    assert_eq!(
        range.get_value((3, 0)).map(|d| d.to_string()),
        Some("NUMERO_DOMANDA".to_string())
    );
    assert!(matches!(
        range.get_value((4, 4)),
        Some(calamine::Data::DateTime(_)) | Some(calamine::Data::String(_))
    ));
}

#[test]
fn unusual_year_ranges_and_tiny_scales_work() {
    for (first, last, scale) in [(2015, 2018, 0.01), (2023, 2023, 0.01), (2019, 2024, 0.0005)] {
        let dir = out_dir(&format!("years-{first}-{last}"));
        let mut opts = SynthOptions::new(&dir);
        opts.scale = scale;
        opts.first_year = first;
        opts.last_year = last;
        let report = generate(&opts, &mut |_| {}).expect("generation succeeds");
        assert!(report.households_last_year > 0);
        let snapshots = report
            .files
            .iter()
            .filter(|f| f.0.to_string_lossy().contains("anagrafe_"))
            .count();
        assert_eq!(snapshots as i32, last - first + 1);
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut bad = SynthOptions::new(out_dir("bad"));
    bad.first_year = 2025;
    let err = generate(&bad, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid options: first year 2025 is after last year 2024"
    );
}

// ----- the synthetic registry -------------------------------------------------------------------

/// The supply table's true rows of the last year of a run, as the registry is built from them.
fn provisions(root: &Path) -> Vec<crate::sources::services::Provision> {
    use crate::sources::services::{PROVIDERS, TRUTH_FILE, service_names};
    let rows = read_csv(&root.join(TRUTH_FILE), b',', false);
    let last = rows[1..].iter().map(|(_, r)| r[0].clone()).max().unwrap();
    let zone = |code: &str| code[1..].parse::<usize>().unwrap() - 1;
    rows[1..]
        .iter()
        .filter(|(_, r)| r[0] == last)
        .map(|(_, r)| crate::sources::services::Provision {
            zone: zone(&r[1]),
            service: service_names().into_iter().find(|s| *s == r[2]).unwrap(),
            provider: PROVIDERS.into_iter().find(|p| *p == r[3]).unwrap(),
            places: r[4].parse().unwrap(),
            users: r[5].parse().unwrap(),
            operators: r[6].parse().unwrap(),
            fte: r[7].parse().unwrap(),
            waiting_list: r[8].parse().unwrap(),
            catchment: r[9].split(' ').map(zone).collect(),
        })
        .collect()
}

/// The registry a run wrote, imported back into an empty registry.
fn imported_registry(root: &Path) -> ::registry::Registry {
    let mut reg = ::registry::Registry::open_in_memory().unwrap();
    reg.import_csv(&root.join(crate::registry::DIR), "test")
        .unwrap();
    reg
}

#[test]
fn registry_folder_imports_back_and_exports_the_same_bytes() {
    let root = small();
    let reg = imported_registry(root);
    let again = out_dir("registry-again");
    let files = reg.export_csv(&again).unwrap();
    assert_eq!(files.len(), ::registry::model::TABLES.len());
    for f in files {
        let name = f.file_name().unwrap();
        let original = std::fs::read(root.join(crate::registry::DIR).join(name)).unwrap();
        assert!(
            std::fs::read(&f).unwrap() == original,
            "{name:?} changed through import and export"
        );
    }
    let _ = std::fs::remove_dir_all(again);
}

#[test]
fn registry_lists_every_supply_row_with_its_capacity_and_staff() {
    use ::registry::codes::OrganizationKind;
    use ::registry::model::*;
    let root = small();
    let reg = imported_registry(root);
    let territory = crate::territory::Territory::build();
    let orgs: HashMap<String, Organization> = reg
        .list::<Organization>()
        .unwrap()
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let services: HashMap<String, Service> = reg
        .list::<Service>()
        .unwrap()
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let locations: HashMap<String, Location> = reg
        .list::<Location>()
        .unwrap()
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect();
    let attributes = reg.list::<Attribute>().unwrap();
    let capacities: HashMap<String, Capacity> = reg
        .list::<Capacity>()
        .unwrap()
        .into_iter()
        .map(|c| (c.service_at_location_id.clone(), c))
        .collect();
    let operators = reg.list::<Operator>().unwrap();
    // (supply service, zone) -> the service at location carrying its capacity.
    let mut supplied: HashMap<(String, String), (String, String)> = HashMap::new();
    for sal in reg.list::<ServiceAtLocation>().unwrap() {
        let Some(cap) = capacities.get(&sal.id) else {
            continue;
        };
        let term = attributes
            .iter()
            .find(|a| {
                a.link_id == sal.service_id && a.link_type.as_deref() == Some("offerta_servizi")
            })
            .unwrap_or_else(|| panic!("{}: a capacity without a supply service", sal.id));
        let zone = locations[&sal.location_id].zone.clone().unwrap();
        let key = (term.taxonomy_term_id.clone(), zone);
        assert!(
            supplied
                .insert(key.clone(), (sal.service_id.clone(), cap.id.clone()))
                .is_none(),
            "{key:?} twice"
        );
    }
    let rows = provisions(root);
    assert_eq!(supplied.len(), rows.len());
    for p in &rows {
        let zone = territory.zones[p.zone].code.clone();
        let (svc, cap) = supplied
            .get(&(crate::registry::supply_term(p.service), zone.clone()))
            .unwrap_or_else(|| panic!("{} in {zone} is not in the registry", p.service));
        let cap = capacities.values().find(|c| &c.id == cap).unwrap();
        assert_eq!(
            (cap.places, cap.current_users, cap.waiting_list),
            (
                Some(p.places as u32),
                Some(p.users as u32),
                Some(p.waiting_list as u32)
            ),
            "{} {zone}",
            p.service
        );
        let staff: Vec<&Operator> = operators
            .iter()
            .filter(|o| o.service_id.as_deref() == Some(svc))
            .collect();
        let count: u64 = staff.iter().map(|o| u64::from(o.count)).sum();
        let fte: f64 = staff.iter().filter_map(|o| o.fte).sum();
        assert_eq!(count, p.operators, "{} {zone}", p.service);
        assert_eq!(
            (fte * 10.0).round(),
            (p.fte * 10.0).round(),
            "{} {zone}",
            p.service
        );
        let kind = orgs[&services[svc].organization_id].kind.unwrap();
        let expected = match p.provider {
            "pubblico" => OrganizationKind::PublicBody,
            "terzo settore" => OrganizationKind::ThirdSector,
            _ => OrganizationKind::ForProfit,
        };
        assert_eq!(kind, expected, "{} {zone}", p.service);
    }
    // Every kind of social case has a service.
    let terms: BTreeSet<&str> = attributes
        .iter()
        .filter(|a| services.contains_key(&a.link_id))
        .map(|a| a.taxonomy_term_id.as_str())
        .collect();
    for (area, kind) in crate::sources::social::kinds() {
        let term = crate::registry::case_term(area, kind);
        assert!(
            terms.contains(term.as_str()),
            "no service for {area}/{kind}"
        );
    }
    for name in crate::sources::services::service_names() {
        assert!(
            terms.contains(crate::registry::supply_term(name).as_str()),
            "{name}"
        );
    }
    // Every location lies in its zone, on one of its streets, with its postcode.
    let streets = street_postcodes(root);
    let addresses = reg.list::<Address>().unwrap();
    for l in locations.values() {
        let zone = l.zone.as_deref().unwrap();
        let z = territory.zones.iter().position(|x| x.code == zone).unwrap();
        let point = (
            (l.longitude.unwrap() * 1e6).round() as i64,
            (l.latitude.unwrap() * 1e6).round() as i64,
        );
        assert!(
            crate::territory::inside(&territory.zone_rings(z)[0], point),
            "{}: {point:?} outside {zone}",
            l.id
        );
        let a = addresses.iter().find(|a| a.location_id == l.id).unwrap();
        let street = a.address_1.rsplit_once(' ').unwrap().0.to_uppercase();
        assert_eq!(
            streets.get(&street),
            Some(&(zone.to_string(), a.postal_code.clone())),
            "{}: {}",
            l.id,
            a.address_1
        );
    }
    // Tax ids are 11 digits with the tax office's check digit.
    for o in orgs.values() {
        let Some(t) = o.tax_id.as_deref().and_then(normalize_tax_id) else {
            continue;
        };
        let d: Vec<u32> = t.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = d[..10]
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                if i % 2 == 0 {
                    x
                } else {
                    (2 * x) / 10 + (2 * x) % 10
                }
            })
            .sum();
        assert_eq!((10 - sum % 10) % 10, d[10], "{}: {t}", o.id);
    }
}

#[test]
fn registry_quality_reports_find_exactly_the_truth() {
    let root = small();
    let reg = imported_registry(root);
    let truth: Vec<Vec<String>> = read_csv(&root.join(crate::registry::TRUTH_FILE), b',', false)
        .into_iter()
        .skip(1)
        .map(|(_, r)| r)
        .collect();
    let expected = |report: &str| -> BTreeSet<(String, String, String)> {
        truth
            .iter()
            .filter(|r| r[0] == report)
            .map(|r| (r[2].clone(), r[3].clone(), r[4].clone()))
            .collect()
    };
    let found: BTreeSet<(String, String, String)> = reg
        .duplicates()
        .unwrap()
        .into_iter()
        .map(|d| {
            let reason = match d.reason {
                ::registry::DuplicateReason::SameTaxId => "same_tax_id",
                ::registry::DuplicateReason::SimilarName => "similar_name",
            };
            (d.a, d.b, reason.to_string())
        })
        .collect();
    assert_eq!(found, expected("duplicates"));
    let planted: BTreeSet<&str> = truth
        .iter()
        .filter(|r| r[0] == "duplicates" && r[5] == "true")
        .map(|r| r[4].as_str())
        .collect();
    assert_eq!(planted.len(), 2, "both reasons are planted: {planted:?}");
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let stale: BTreeSet<(String, String, String)> = reg
        .stale(as_of, crate::registry::STALE_MONTHS)
        .unwrap()
        .into_iter()
        .map(|s| {
            let reason = match s.reason {
                ::registry::StaleReason::NeverVerified => "never_verified",
                ::registry::StaleReason::VerifiedBefore => "verified_before",
            };
            (s.id, String::new(), reason.to_string())
        })
        .collect();
    assert_eq!(stale, expected("stale"));
    let reasons: BTreeSet<&str> = truth
        .iter()
        .filter(|r| r[0] == "stale")
        .map(|r| r[4].as_str())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
}

#[test]
fn registry_counts_grow_with_the_city_and_repeat_for_a_seed() {
    use ::registry::model::{Location, Organization, Service, ServiceAtLocation};
    let rows = provisions(small());
    let territory = crate::territory::Territory::build();
    let count = |scale: f64| {
        let started = std::time::Instant::now();
        let built = crate::registry::build(&territory, &rows, 42, scale, 2024).unwrap();
        let elapsed = started.elapsed();
        let r = &built.registry;
        (
            r.list::<Organization>().unwrap().len(),
            r.list::<Service>().unwrap().len(),
            r.list::<Location>().unwrap().len(),
            r.list::<ServiceAtLocation>().unwrap().len(),
            elapsed,
        )
    };
    let (orgs, services, locations, sals, elapsed) = count(1.0);
    assert!(
        (230..=380).contains(&orgs),
        "{orgs} organizations at scale 1"
    );
    assert!(
        (280..=520).contains(&services),
        "{services} services at scale 1"
    );
    assert!(sals >= services && locations >= orgs, "{sals} {locations}");
    assert!(elapsed.as_secs() < 20, "{elapsed:?}");
    let (orgs3, services3, ..) = count(3.0);
    let ratio = orgs3 as f64 / orgs as f64;
    assert!((2.5..=3.2).contains(&ratio), "{orgs} -> {orgs3}");
    assert!(
        services3 as f64 > 1.8 * services as f64,
        "{services} -> {services3}"
    );
    // Same seed, same bytes; another seed, another registry.
    let export = |seed: u64| {
        let built = crate::registry::build(&territory, &rows, seed, 1.0, 2024).unwrap();
        let dir = out_dir(&format!("registry-seed-{seed}"));
        let files = built.registry.export_csv(&dir).unwrap();
        let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let _ = std::fs::remove_dir_all(dir);
        (bytes, built.truth)
    };
    let (a, truth_a) = export(7);
    let (b, truth_b) = export(7);
    assert!(
        a == b && truth_a == truth_b,
        "same seed, different registry"
    );
    assert!(export(8).0 != a, "the seed changes nothing");
}
