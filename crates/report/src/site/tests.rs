//! The site on a hand-built publication: a city, two districts, three zones, three indicators.

use std::collections::BTreeMap;

use disclosure::release::{AttackSummary, ReleaseLog};
use model::{Direction, Hierarchy, Indicator, IndicatorKind, IndicatorPeriod, Territory, Text};
use registry::codes::{SocialRisk, TargetGroup};

use super::*;
use crate::chart::format_number;
use crate::released::{ReleaseInfo, Table};

fn text(it: &str, en: &str) -> Text {
    Text {
        it: it.into(),
        en: en.into(),
    }
}

fn hierarchy() -> Hierarchy {
    let node = |code: &str, name: &str, level: usize, parent: Option<&str>| Territory {
        code: code.into(),
        name: name.into(),
        level,
        parent: parent.map(String::from),
    };
    Hierarchy {
        levels: vec!["municipality".into(), "district".into(), "zone".into()],
        nodes: vec![
            node("M1", "Città", 0, None),
            node("D1", "Centro", 1, Some("M1")),
            node("D2", "Sud-Ovest - Borgo Panaro", 1, Some("M1")),
            node("Z1", "Duomo", 2, Some("D1")),
            node("Z2", "Sant'Agnese", 2, Some("D1")),
            node("Z3", "Borgo <Panaro> & C.", 2, Some("D2")),
        ],
        history: Vec::new(),
    }
}

fn indicator(id: &str, name: Text, unit: Text, topics: &[&str]) -> Indicator {
    Indicator {
        id: id.into(),
        name,
        description: text(
            "Una descrizione con l'apostrofo & una <e commerciale>.",
            "A description.",
        ),
        unit,
        factor: 100.0,
        kind: IndicatorKind::Outcome,
        direction: Direction::LowerIsBetter,
        topics: topics.iter().map(|t| t.to_string()).collect(),
        period: IndicatorPeriod::Year,
        source_notes: text("Anagrafe.", "Register."),
        breakdowns: Vec::new(),
        levels: Vec::new(),
        definition: model::Definition::Ratio {
            numerator: model::Measure {
                table: "t".into(),
                value: "count(*)".into(),
                filter: None,
                date: None,
                territory: None,
            },
            denominator: None,
        },
        need: None,
        file: format!("indicators/{id}.toml"),
        lines: BTreeMap::new(),
    }
}

fn indicators() -> Vec<Indicator> {
    vec![
        indicator(
            "poverty",
            text("Rischio di povertà", "At risk of poverty"),
            text("% delle persone", "% of persons"),
            &["poverty"],
        ),
        indicator(
            "population",
            text("Popolazione residente", "Resident population"),
            text("persone", "persons"),
            &["population"],
        ),
        indicator(
            "smoking",
            text("Fumatori", "Smokers"),
            text("% dei residenti di 18-69 anni", "% of residents aged 18-69"),
            &["health"],
        ),
    ]
}

/// A released indicator CSV: `level,code,name,period,sex,value,lower,upper,flag,rule` rows.
const POVERTY: &str = "territory_level,territory,territory_name,period,value,lower,upper,numerator,denominator,flag,rule
municipality,M1,Città,2023,12.5,,,125,1000,,
municipality,M1,Città,2024,13.25,,,,,,
district,D1,Centro,2023,10,,,,,,
district,D1,Centro,2024,11.5,,,,,,
district,D2,Sud-Ovest - Borgo Panaro,2023,15,,,,,,
district,D2,Sud-Ovest - Borgo Panaro,2024,,,,,,suppressed,secondary
zone,Z1,Duomo,2024,9.75,,,,,,
zone,Z2,Sant'Agnese,2024,,,,,,suppressed,frequency
zone,Z3,Borgo <Panaro> & C.,2024,1234.5,,,,,,
";

const POPULATION: &str = "territory_level,territory,territory_name,period,sex,value,flag,rule
municipality,M1,Città,2024,Total,185000,rounded,random rounding to base 5
municipality,M1,Città,2024,F,95000,rounded,random rounding to base 5
municipality,M1,Città,2024,M,90000,rounded,random rounding to base 5
district,D1,Centro,2024,Total,40005,rounded,random rounding to base 5
zone,Z1,Duomo,2024,Total,12000,rounded,random rounding to base 5
zone,Z2,Sant'Agnese,2024,Total,3,,
";

const SMOKING: &str = "territory_level,territory,territory_name,period,value,lower,upper,flag,rule
municipality,M1,Città,2023,21.4,19.8,23.1,,
municipality,M1,Città,2024,20.9,19.2,22.6,,
";

fn log(name: &str) -> ReleaseLog {
    ReleaseLog {
        format_version: 1,
        name: name.into(),
        title: "Rapporto annuale 2024: l'essenziale".into(),
        audience: project::release::Audience::Public,
        purpose: None,
        spec: format!("releases/{name}.toml"),
        released_at: "2025-03-07T10:00:00Z".into(),
        released_by: "lab".into(),
        datalab_version: "0.1.0".into(),
        policy: project::release::Policy::resolve(&Default::default(), &Default::default()),
        inputs: Vec::new(),
        outputs: Vec::new(),
        frames: Vec::new(),
        cells: Vec::new(),
        attack: AttackSummary::default(),
        privacy_budget: Vec::new(),
    }
}

fn publication() -> Publication {
    let mut p = Publication {
        releases: vec![ReleaseInfo { log: log("annual") }],
        ..Publication::default()
    };
    for (id, csv) in [
        ("poverty", POVERTY),
        ("population", POPULATION),
        ("smoking", SMOKING),
    ] {
        let mut t = Table::parse(Path::new("x.csv"), csv.as_bytes()).expect("table");
        t.release = "annual".into();
        t.output = id.into();
        t.kind = "indicator".into();
        let obs = crate::released::observations(&t, Path::new("x.csv")).expect("obs");
        p.series.push(Series {
            release: "annual".into(),
            output: id.into(),
            indicator: id.into(),
            method: "suppress".into(),
            obs,
        });
        p.tables.push(t);
    }
    p
}

fn square(code: &str, name: &str, lon0: f64, lat0: f64) -> String {
    let (lon1, lat1) = (lon0 + 0.01, lat0 + 0.01);
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}","name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},{lat0}],[{lon1},{lat0}],[{lon1},{lat1}],[{lon0},{lat1}],[{lon0},{lat0}]]]}}}}"#
    )
}

fn zones_geojson() -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{},{},{}]}}"#,
        square("Z1", "Duomo", 10.90, 44.62),
        square("Z2", "Sant'Agnese", 10.91, 44.62),
        square("Z3", "Borgo &lt;Panaro&gt;", 10.90, 44.63)
    )
}

fn places() -> Vec<Place> {
    let place = |key: &str, service: &str, zone: Option<&str>, coords: Option<(f64, f64)>| Place {
        key: key.into(),
        service: service.into(),
        organization: "Cooperativa \"L'Aurora\"".into(),
        description: Some("Aiuto per chi è in difficoltà".into()),
        risks: vec![SocialRisk::Poverty, SocialRisk::Housing],
        groups: vec![TargetGroup::Families],
        free: Some(true),
        min_age: Some(18),
        max_age: None,
        location: Some("Sede centrale".into()),
        address: Some("Via Emilia 1, 41121 Modena".into()),
        zone: zone.map(String::from),
        coords,
        temporarily_closed: false,
    };
    vec![
        place(
            "sal1",
            "Emporio solidale",
            Some("Z1"),
            Some((44.625, 10.905)),
        ),
        place("sal2", "Sportello casa", Some("Z3"), Some((44.635, 10.905))),
        place("s3", "Numero verde", None, None),
    ]
}

struct Fixture {
    publication: Publication,
    indicators: Vec<Indicator>,
    hierarchy: Hierarchy,
    reports: Vec<SiteReport>,
}

fn fixture() -> Fixture {
    Fixture {
        publication: publication(),
        indicators: indicators(),
        hierarchy: hierarchy(),
        reports: vec![SiteReport {
            title: "Rapporto 2024".into(),
            files: vec![("rapporto-2024.html".into(), b"<p>report</p>".to_vec())],
        }],
    }
}

fn site<'a>(f: &'a Fixture, services: Option<Vec<Place>>, languages: &[Lang]) -> Site<'a> {
    Site {
        title: "Comune di Prova".into(),
        publication: &f.publication,
        indicators: &f.indicators,
        hierarchy: &f.hierarchy,
        boundaries: vec![(
            "zone".into(),
            "territories/zones.geojson".into(),
            zones_geojson(),
        )],
        services,
        reports: &f.reports,
        datasets: vec![opendata::Dataset {
            id: "annual__poverty".into(),
            release: "annual".into(),
            output: "poverty".into(),
            rows: 9,
            files: vec![
                "csv/annual__poverty.csv".into(),
                "json/annual__poverty.json".into(),
                "sdmx/annual__poverty.csv".into(),
            ],
        }],
        open_files: [
            "csv/annual__poverty.csv",
            "json/annual__poverty.json",
            "sdmx/annual__poverty.csv",
            "sdmx/structure.xml",
            "catalog.jsonld",
        ]
        .iter()
        .map(|p| (p.to_string(), b"x".to_vec()))
        .collect(),
        languages: languages.to_vec(),
    }
}

fn files(f: &Fixture, services: Option<Vec<Place>>) -> BTreeMap<String, String> {
    let (files, _) = render(&site(f, services, &[Lang::It, Lang::En])).expect("render");
    files
        .into_iter()
        .map(|(p, b)| (p, String::from_utf8(b).expect("utf-8")))
        .collect()
}

fn page<'a>(files: &'a BTreeMap<String, String>, path: &str) -> &'a str {
    files
        .get(path)
        .unwrap_or_else(|| panic!("no {path} in {:?}", files.keys().collect::<Vec<_>>()))
}

#[test]
fn the_site_has_every_page_in_both_languages() {
    let f = fixture();
    let files = files(&f, Some(places()));
    for p in [
        "index.html",
        "indicatori/index.html",
        "indicatori/poverty.html",
        "indicatori/population.html",
        "indicatori/smoking.html",
        "indicatori/poverty.csv",
        "territori/index.html",
        "territori/D1.html",
        "territori/D2.html",
        "territori/Z1.html",
        "territori/Z2.html",
        "territori/Z3.html",
        "servizi.html",
        "rapporti.html",
        "rapporti/rapporto-2024.html",
        "dati.html",
        "style.css",
        "open-data/catalog.jsonld",
        "en/index.html",
        "en/indicators/poverty.html",
        "en/territories/Z3.html",
        "en/services.html",
        "en/reports.html",
        "en/data.html",
    ] {
        page(&files, p);
    }
    assert!(
        !files.contains_key("territori/M1.html"),
        "the city is the home page"
    );
    assert!(!files.contains_key("en/indicators/poverty.csv"), "one CSV");
    let (_, built) = render(&site(&f, None, &[Lang::It, Lang::En])).expect("render");
    assert_eq!(built.pages, 2 * 14);
    assert_eq!((built.indicators, built.territories), (3, 5));
    assert_eq!(built.services, None);
}

#[test]
fn text_is_escaped_everywhere() {
    let f = fixture();
    let files = files(&f, Some(places()));
    for (path, html) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        if path.starts_with("open-data") || path.starts_with("rapporti/") {
            continue;
        }
        assert!(!html.contains("<Panaro>"), "{path}");
        assert!(!html.contains("<e commerciale>"), "{path}");
        assert!(!html.contains("\"L'Aurora\""), "{path}");
    }
    let z3 = page(&files, "territori/Z3.html");
    assert!(
        z3.contains("<h1>Borgo &lt;Panaro&gt; &amp; C.</h1>"),
        "{z3}"
    );
    let d2 = page(&files, "territori/D2.html");
    assert!(d2.contains("<h1>Sud-Ovest - Borgo Panaro</h1>"));
    let z2 = page(&files, "territori/Z2.html");
    assert!(z2.contains("<h1>Sant&#39;Agnese</h1>"));
    let p = page(&files, "indicatori/poverty.html");
    assert!(p.contains("Una descrizione con l&#39;apostrofo &amp; una &lt;e commerciale&gt;."));
    let s = page(&files, "servizi.html");
    assert!(s.contains("Cooperativa &quot;L&#39;Aurora&quot;"));
}

#[test]
fn hidden_cells_are_a_dash_with_their_reason() {
    let f = fixture();
    let files = files(&f, None);
    let p = page(&files, "indicatori/poverty.html");
    // Sant'Agnese: below the threshold; Sud-Ovest: protecting it
    let row = |name: &str| {
        p.lines()
            .find(|l| l.starts_with("<tr") && l.contains(name))
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    let z2 = row(">Sant&#39;Agnese</a>");
    assert!(
        z2.contains("<td class=\"num hid\"><span aria-hidden=\"true\">–</span><span class=\"vh\"> (Non pubblicato: troppo pochi casi (la soglia è 5).)</span><sup class=\"mark\" aria-hidden=\"true\">"),
        "{z2}"
    );
    let d2 = row(">Sud-Ovest - Borgo Panaro</a>");
    assert!(d2.contains("soppressione secondaria"), "{d2}");
    assert!(!d2.contains("<data"), "no number for a hidden cell: {d2}");
    assert!(p.contains(
        "<div class=\"notes\"><p>Note:</p><ul><li><span class=\"mark\">a</span> Non pubblicato:"
    ));
    // rounded values say so
    let pop = page(&files, "indicatori/population.html");
    assert!(pop.contains("Valore arrotondato a un multiplo di 5 per proteggere la riservatezza."));
    let en = page(&files, "en/indicators/poverty.html");
    assert!(en.contains("Not published: too few cases (the threshold is 5)."));
}

#[test]
fn numbers_follow_the_language() {
    let f = fixture();
    let files = files(&f, None);
    let it = page(&files, "indicatori/poverty.html");
    assert!(it.contains("data-f=\"value\">1.234,5</data>"), "{it}");
    assert!(
        it.contains("data-f=\"value\">13,3</data>"),
        "two decimals rounded to one"
    );
    let en = page(&files, "en/indicators/poverty.html");
    assert!(en.contains("data-f=\"value\">1,234.5</data>"));
    let pop = page(&files, "indicatori/population.html");
    assert!(pop.contains(">185.000</data>"), "counts without decimals");
    assert!(pop.contains("<th scope=\"row\">Sesso: F</th>"));
    let smoking = page(&files, "indicatori/smoking.html");
    assert!(
        smoking.contains(">19,2</data> – <data value=\"22.6\""),
        "intervals"
    );
    assert!(smoking.contains("intervalli di confidenza al 95%"));
    assert!(
        smoking.contains(">Città — % dei residenti di 18-69 anni</text>"),
        "one line: the subtitle names it"
    );
    let poverty_trend = page(&files, "indicatori/poverty.html");
    assert!(poverty_trend.contains(">Città e quartieri — % delle persone</text>"));
}

/// `<data value="RAW" data-i data-t data-p [data-b] data-f>TEXT</data>` of a page.
fn data_elements(html: &str) -> Vec<(BTreeMap<String, String>, String)> {
    html.split("<data ")
        .skip(1)
        .map(|rest| {
            let (attrs, after) = rest.split_once('>').expect("tag end");
            let text = after.split_once("</data>").expect("close").0.to_string();
            let mut map = BTreeMap::new();
            for part in attrs.split("\" ") {
                let (k, v) = part.split_once("=\"").expect("attribute");
                map.insert(k.to_string(), v.trim_end_matches('"').to_string());
            }
            (map, text)
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn every_printed_number_is_the_released_one() {
    let f = fixture();
    let files = files(&f, Some(places()));
    let mut checked = 0;
    for (path, html) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        let locale = if path.starts_with("en/") {
            crate::chart::Locale::En
        } else {
            crate::chart::Locale::It
        };
        for (a, text) in data_elements(html) {
            let raw: f64 = a["value"].parse().expect("a number");
            let o = f
                .publication
                .obs(
                    &a["data-i"],
                    &unescape(&a["data-t"]),
                    &a["data-p"],
                    a.get("data-b").map_or("", |b| b.as_str()),
                )
                .unwrap_or_else(|| panic!("{path}: no released cell for {a:?}"));
            let released = match a["data-f"].as_str() {
                "value" => o.value,
                "lower" => o.lower,
                "upper" => o.upper,
                other => panic!("field {other}"),
            };
            assert_eq!(released, Some(raw), "{path}: {a:?}");
            assert!(
                (0..=2).any(|d| format_number(raw, d, locale) == text),
                "{path}: {text} does not print {raw}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} numbers");
}

/// Every `href` and `src` of a page.
fn references(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for attr in ["href", "src"] {
        let key = format!(" {attr}=\"");
        for (i, _) in html.match_indices(&key) {
            let value = &html[i + key.len()..];
            let value = &value[..value.find('"').expect("quoted")];
            // the element the attribute is on
            let start = html[..i].rfind('<').expect("in a tag");
            out.push((html[start..i].to_string(), unescape(value)));
        }
    }
    out
}

/// `dir/../x` -> `x`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Checks that every link and resource of every page is a file of the site (or an anchor of
/// the page), and that nothing is fetched from the network.
fn check_links(files: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut checked = 0;
    for (path, bytes) in files {
        if !path.ends_with(".html") || path.starts_with(OPEN_DATA) || path.contains("rapporti/") {
            continue;
        }
        let html = std::str::from_utf8(bytes).expect("utf-8");
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        for (element, target) in references(html) {
            checked += 1;
            if target.starts_with("http://") || target.starts_with("https://") {
                assert!(
                    element.starts_with("<a ") && element.contains("rel=\"license\""),
                    "{path}: network reference {target} on {element}"
                );
                continue;
            }
            assert!(!target.starts_with('/'), "{path}: absolute link {target}");
            assert!(!target.contains("//"), "{path}: {target}");
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if file.is_empty() {
                path.clone()
            } else {
                normalize(&format!("{dir}/{file}"))
            };
            let target_html = files
                .get(&resolved)
                .unwrap_or_else(|| panic!("{path}: {target} ({resolved}) is not in the site"));
            if !anchor.is_empty() {
                let text = String::from_utf8_lossy(target_html);
                assert!(
                    text.contains(&format!("id=\"{anchor}\"")),
                    "{path}: no #{anchor} in {resolved}"
                );
            }
        }
        assert!(!html.contains(" src=\"http"), "{path}");
        assert!(!html.contains("url(http"), "{path}");
        assert!(!html.contains("@import"), "{path}");
    }
    let css = std::str::from_utf8(&files["style.css"]).expect("css");
    assert!(!css.contains("url(") && !css.contains("@import") && !css.contains("@font-face"));
    checked
}

#[test]
fn every_link_resolves_and_nothing_comes_from_the_network() {
    let f = fixture();
    for languages in [vec![Lang::It, Lang::En], vec![Lang::En], vec![Lang::It]] {
        let (files, _) = render(&site(&f, Some(places()), &languages)).expect("render");
        let files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        assert!(check_links(&files) > 100);
    }
}

/// Tags that have no closing tag in HTML.
const VOID: &[&str] = &["meta", "link", "br", "input", "img", "hr", "!DOCTYPE"];

/// Balanced tags, one `h1`, landmarks, captions and scopes, a `lang`, titled SVGs.
fn check_structure(path: &str, html: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or_else(|| panic!("{path}: open tag"));
        let tag = &rest[..end];
        if stack.last().is_some_and(|s| s == "script") && !tag.starts_with("/script") {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("{path}: </{closing}> without opening"));
            assert_eq!(open, closing.trim(), "{path}: mismatched tags");
        } else if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "{path}: unclosed {stack:?}");
    assert_eq!(html.matches("<h1").count(), 1, "{path}: one h1");
    for landmark in [
        "<header",
        "<nav",
        "<main id=\"main\"",
        "<footer",
        "<a class=\"skip\" href=\"#main\"",
    ] {
        assert!(html.contains(landmark), "{path}: {landmark}");
    }
    let lang = if path.starts_with("en/") { "en" } else { "it" };
    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
    assert_eq!(
        html.matches("<table").count(),
        html.matches("<caption>").count(),
        "{path}: captions"
    );
    assert_eq!(html.matches("<th>").count(), 0, "{path}: th without scope");
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("role=\"img\" aria-labelledby").count(),
        "{path}: svg without a title"
    );
}

#[test]
fn pages_are_accessible_html() {
    let f = fixture();
    let files = files(&f, Some(places()));
    for (path, html) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        if path.starts_with(OPEN_DATA) || path.starts_with("rapporti/") {
            continue;
        }
        check_structure(path, html);
    }
}

#[test]
fn same_inputs_same_bytes() {
    let f = fixture();
    let a = render(&site(&f, Some(places()), &[Lang::It, Lang::En])).expect("render");
    let b = render(&site(&f, Some(places()), &[Lang::It, Lang::En])).expect("render");
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
}

#[test]
fn the_services_page_maps_lists_and_filters_public_facts() {
    let f = fixture();
    let files = files(&f, Some(places()));
    let s = page(&files, "servizi.html");
    assert!(
        s.contains("<form id=\"filter\" class=\"filter\" hidden"),
        "works without script"
    );
    assert!(s.contains("<g data-key=\"sal1\">") && s.contains("<g data-key=\"sal2\">"));
    assert!(s.contains("<li data-key=\"sal1\" data-risks=\"poverty housing\" data-groups=\"families\" data-zone=\"Z1\""));
    // grouped by zone, then risk; the service without a place is listed apart
    let duomo = s.find("<h3 id=\"z0\">Duomo").expect("zone Duomo");
    let borgo = s
        .find("<h3 id=\"z1\">Borgo &lt;Panaro&gt; &amp; C.")
        .expect("zone Z3");
    let none = s.find("Senza zona").expect("no zone");
    assert!(duomo < borgo && borgo < none);
    assert_eq!(
        s.matches("<h4>Povertà e deprivazione materiale</h4>")
            .count(),
        3
    );
    assert_eq!(
        s.matches("<h4>Casa</h4>").count(),
        0,
        "each service once, under its first risk"
    );
    assert!(s.contains("anche: Casa"));
    assert!(s.contains("gratuito") && s.contains("da 18 anni"));
    assert!(s.contains("<option value=\"Z3\">Borgo &lt;Panaro&gt; &amp; C.</option>"));
    assert!(
        !s.contains("@") && !s.contains("tel:"),
        "no contact reaches the page"
    );
    // without a registry the page says so
    let files = self::files(&f, None);
    let s = page(&files, "servizi.html");
    assert!(s.contains("non è disponibile"));
    assert!(!s.contains("<script"));
}

#[test]
fn reports_and_data_are_listed() {
    let f = fixture();
    let files = files(&f, None);
    let r = page(&files, "rapporti.html");
    assert!(r.contains("<a href=\"rapporti/rapporto-2024.html\">rapporto-2024.html</a>"));
    let en = page(&files, "en/reports.html");
    assert!(en.contains("<a href=\"../rapporti/rapporto-2024.html\">"));
    let d = page(&files, "dati.html");
    assert!(d.contains("<a href=\"open-data/csv/annual__poverty.csv\">CSV"));
    assert!(d.contains("<a href=\"indicatori/poverty.csv\">Rischio di povertà</a>"));
    let csv = page(&files, "indicatori/poverty.csv");
    assert!(csv.starts_with("release,territory_level,territory,territory_name,period,value,"));
    assert_eq!(csv.lines().count(), 10);
    let mut no_reports = fixture();
    no_reports.reports.clear();
    let files = self::files(&no_reports, None);
    assert!(page(&files, "rapporti.html").contains("Non ci sono ancora rapporti pubblicati."));
}

#[test]
fn territory_pages_compare_with_the_city() {
    let f = fixture();
    let files = files(&f, None);
    let z1 = page(&files, "territori/Z1.html");
    assert!(
        z1.contains("<span aria-hidden=\"true\">▼</span> più basso"),
        "9,8 < 13,3"
    );
    assert!(z1.contains("parte di <a href=\"D1.html\">Centro</a>"));
    assert!(z1.contains("<li><a href=\"../index.html\">Home</a></li><li><a href=\"index.html\">Territori</a></li><li><a href=\"D1.html\">Centro</a></li><li><span aria-current=\"page\">Duomo</span></li>"));
    let d1 = page(&files, "territori/D1.html");
    assert!(
        d1.contains("<a href=\"Z1.html\">Duomo</a>")
            && d1.contains("<a href=\"Z2.html\">Sant&#39;Agnese</a>")
    );
    assert!(d1.contains("parte di <a href=\"../index.html\">Città</a>"));
    assert!(
        d1.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"110.00\""),
        "sparkline"
    );
}

/// Compares `actual` with the golden file `name` in `src/site/golden`.
fn golden(name: &str, actual: &str) {
    crate::golden::check(&format!("src/site/golden/{name}"), actual);
}

#[test]
fn golden_zone_profile() {
    let f = fixture();
    let files = files(&f, None);
    golden("territory-Z2.it.html", page(&files, "territori/Z2.html"));
}

#[test]
fn file_names_from_codes_stay_inside_the_site() {
    assert_eq!(slug("Z01"), "Z01");
    assert_eq!(slug("../etc/passwd"), "_etc_passwd");
    assert_eq!(slug("Sud Ovest/1"), "Sud_Ovest_1");
    assert_eq!(slug(""), "_");
    assert_eq!(Ctx::href("a/b/c.html", "x.css"), "../../x.css");
    assert_eq!(Ctx::href("index.html", "x.css"), "x.css");
}
