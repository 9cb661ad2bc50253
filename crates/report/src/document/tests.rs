//! Golden tests: a small hand-made project and release rendered to HTML and to PDF (its text
//! extracted with pdftotext); `DATALAB_BLESS=1` rewrites the golden files.

use std::path::Path;

use super::*;
use crate::released::{Obs, Publication, ReleaseInfo, Series};

const LOG: &str = r#"{"format_version": 1, "name": "annual", "title": "Rapporto annuale 2024",
 "audience": "public", "purpose": "test", "spec": "releases/annual.toml",
 "released_at": "2025-03-14T09:30:00.000Z", "released_by": "M. Rossi", "datalab_version": "0.1.0",
 "policy": {"threshold": 5, "zeros": "publish", "range": 20.0, "dominance": {"n": 2, "k": 85.0},
  "p": 10.0, "group": true, "method": "suppress", "rounding_base": 5,
  "cellkey": {"max_noise": 2, "variance": 1.0, "js": 0}, "epsilon": 1.0, "k": 5, "l": 1,
  "max_suppressed": 0.05, "min_sample": 30},
 "inputs": [["cube", "cb13ba80a1a9e1d33fde"], ["residents", "601e19eb948b9cc38fc0"]],
 "outputs": [{"name": "share_elderly_65", "kind": "indicator", "file": "share_elderly_65.csv",
  "content": "00", "rows": 14, "method": "suppress", "checked": "automatic", "approval": null,
  "frames": [], "columns": [], "indicator": "share_elderly_65", "rules_fired": {"frequency": 1},
  "primary": 1, "secondary": 1, "notes": []}],
 "frames": [], "cells": [], "attack": {"frames": 2, "suppressed_cells": 2, "breaches": 0},
 "privacy_budget": []}"#;

const INDICATOR: &str = r#"name = { it = "Quota di residenti con 65 anni e più", en = "Share of residents aged 65 and over" }
description = { it = "Residenti con 65 anni e più.", en = "Residents aged 65 and over." }
unit = { it = "%", en = "%" }
factor = 100
kind = "outcome"
direction = "neutral"
topics = ["elderly"]
period = "year"

[numerator]
table = "resident_counts"
value = "sum(persons)"
filter = "age >= 65"

[denominator]
table = "resident_counts"
value = "sum(persons)"
"#;

const TEMPLATE_IT: &str = "## Sintesi

Nel {{ year }} ha 65 anni e più il {{ value(\"share_elderly_65\") }}% dei residenti di {{ city_name }}
({{ value(\"share_elderly_65\", period=previous_year) }}% nel {{ previous_year }}); a *L'Oltretorrente*
il dato è oscurato: {{ value(\"share_elderly_65\", territory=\"Z04\") }}.

{{ table(\"share_elderly_65\", level=\"zone\") }}

{{ trend(\"share_elderly_65\", level=\"district\") }}
";

fn project(dir: &Path) -> project::Project {
    let files = [
        (
            "datalab.toml",
            "format_version = 1\nname = \"golden\"\ntitle = \"Comune di Prova\"\n\n[territory]\n\
             levels = [\"municipality\", \"district\", \"zone\"]\ncodelist = \"territories/zones.csv\"\n",
        ),
        (
            "territories/zones.csv",
            "zone_code,zone_name,district_code,district_name,municipality_code,municipality_name\n\
             Z01,Duomo,Q1,Centro,M1,Prova\nZ02,Porta Nord,Q1,Centro,M1,Prova\n\
             Z03,San Lazzaro,Q2,Est,M1,Prova\nZ04,L'Oltretorrente,Q2,Est,M1,Prova\n",
        ),
        ("indicators/share_elderly_65.toml", INDICATOR),
        (
            "reports/t.toml",
            "title = { it = \"Rapporto di prova\", en = \"Test report\" }\nauthor = \"Osservatorio\"\n",
        ),
        ("reports/t.it.md", TEMPLATE_IT),
    ];
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    project::Project::load(dir).unwrap()
}

fn obs(level: &str, code: &str, name: &str, period: &str, value: Option<f64>) -> Obs {
    Obs {
        level: level.into(),
        territory: code.into(),
        territory_name: name.into(),
        period: period.into(),
        breakdown: String::new(),
        value,
        lower: None,
        upper: None,
        numerator: None,
        denominator: None,
        flag: if value.is_none() {
            "suppressed".into()
        } else {
            String::new()
        },
        rule: if value.is_none() {
            "frequency".into()
        } else {
            String::new()
        },
    }
}

fn publication() -> Publication {
    let mut rows = Vec::new();
    for (period, shift) in [("2023", 0.0), ("2024", 0.4)] {
        rows.push(obs(
            "municipality",
            "M1",
            "Prova",
            period,
            Some(24.25 + shift),
        ));
        rows.push(obs("district", "Q1", "Centro", period, Some(22.5 + shift)));
        rows.push(obs("district", "Q2", "Est", period, Some(26.125 + shift)));
        rows.push(obs("zone", "Z01", "Duomo", period, Some(21.0 + shift)));
        rows.push(obs(
            "zone",
            "Z02",
            "Porta Nord",
            period,
            Some(1234.5 + shift),
        ));
        rows.push(obs(
            "zone",
            "Z03",
            "San Lazzaro",
            period,
            Some(27.0 + shift),
        ));
        rows.push(obs("zone", "Z04", "L'Oltretorrente", period, None));
    }
    Publication {
        releases: vec![ReleaseInfo {
            log: serde_json::from_str(LOG).unwrap(),
        }],
        series: vec![Series {
            release: "annual".into(),
            output: "share_elderly_65".into(),
            indicator: "share_elderly_65".into(),
            method: "suppress".into(),
            obs: rows,
        }],
        tables: Vec::new(),
        skipped: Vec::new(),
    }
}

fn render_test(format: Format) -> Rendered {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    let spec = spec(&p, "t").unwrap();
    render_with(
        &p,
        &spec,
        &publication(),
        &Options {
            year: 2024,
            lang: Lang::It,
            format,
            territory: None,
        },
    )
    .unwrap()
}

fn golden(name: &str, actual: &str) {
    crate::golden::check(&format!("tests/golden/{name}"), actual);
}

#[test]
fn html_matches_the_golden_file() {
    let r = render_test(Format::Html);
    let html = String::from_utf8(r.bytes).unwrap();
    golden("report.it.html", &html);
}

#[test]
fn every_number_printed_is_the_released_one() {
    let r = render_test(Format::Html);
    let html = String::from_utf8(r.bytes).unwrap();
    let p = publication();
    assert!(!r.numbers.is_empty());
    for n in &r.numbers {
        let o = p
            .obs(&n.indicator, &n.territory, &n.period, &n.breakdown)
            .unwrap_or_else(|| panic!("{n:?} not released"));
        assert_eq!(n.value, o.value, "{n:?}");
    }
    // every <data> element carries a released value and its Italian text
    let released: Vec<f64> = p.series[0].obs.iter().filter_map(|o| o.value).collect();
    let mut seen = 0;
    for part in html.split("<data value=\"").skip(1) {
        let (raw, rest) = part.split_once("\"").unwrap();
        let text = &rest[rest.find('>').unwrap() + 1..rest.find("</data>").unwrap()];
        seen += 1;
        if raw.is_empty() {
            assert_eq!(text, "–");
            continue;
        }
        let v: f64 = raw.parse().unwrap();
        assert!(released.contains(&v), "{v} is not a released value");
        let back: f64 = text.replace('.', "").replace(',', ".").parse().unwrap();
        assert!((back - v).abs() <= 0.05 + 1e-9, "{text} does not print {v}");
    }
    assert!(seen >= 4, "{seen} numbers marked");
    assert!(
        html.contains("<data value=\"1234.9\">1.234,9</data>"),
        "Italian thousands"
    );
}

#[test]
fn pdf_is_deterministic_and_its_text_matches_the_golden_file() {
    let a = render_test(Format::Pdf);
    let b = render_test(Format::Pdf);
    assert!(a.bytes.starts_with(b"%PDF-"));
    assert_eq!(a.bytes, b.bytes, "same inputs, same bytes");
    assert!(a.pages.unwrap() >= 3, "cover, contents, body");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("r.pdf");
    std::fs::write(&pdf, &a.bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by .ci/run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for must in [
        "Rapporto di prova",
        "1.234,9",
        "24,7",
        "Provenienza",
        "cb13ba80a1a9e1d33fde",
        "14 marzo 2025",
    ] {
        assert!(
            text.contains(must),
            "{must} missing from the PDF text:\n{text}"
        );
    }
    golden("report.it.pdf.txt", &text);
}

#[test]
fn a_template_asking_for_what_is_not_released_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = project(dir.path());
    std::fs::write(
        dir.path().join("reports/t.it.md"),
        "## A\n\nText.\n\n{{ value(\"share_elderly_65\", period=\"2019\") }}\n",
    )
    .unwrap();
    let spec = spec(&p, "t").unwrap();
    let e = render_with(
        &p,
        &spec,
        &publication(),
        &Options {
            year: 2024,
            lang: Lang::It,
            format: Format::Html,
            territory: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("t.it.md:5"), "{e}");
    assert!(e.contains("no released value of `share_elderly_65`"), "{e}");
    // no English template
    let e = render_with(
        &p,
        &spec,
        &publication(),
        &Options {
            year: 2024,
            lang: Lang::En,
            format: Format::Html,
            territory: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("t.en.md"), "{e}");
}
