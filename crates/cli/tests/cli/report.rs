//! `datalab report`: the synthetic city's reports rendered from its public release.

use crate::support::{csv_rows, datalab, released_city, s};
use std::collections::HashSet;
use std::path::Path;

/// Every value, lower and upper bound of every released file of a release.
fn released_numbers(release: &Path) -> HashSet<u64> {
    let mut out = HashSet::new();
    for e in std::fs::read_dir(release).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "csv") {
            continue;
        }
        let rows = csv_rows(&std::fs::read_to_string(&p).unwrap());
        let cols: Vec<usize> = ["value", "lower", "upper"]
            .iter()
            .filter_map(|c| rows[0].iter().position(|h| h == c))
            .collect();
        for r in &rows[1..] {
            for &c in &cols {
                if let Ok(v) = r[c].parse::<f64>() {
                    out.insert(v.to_bits());
                }
            }
        }
    }
    out
}

/// (raw value, text) of every `<data>` element.
fn data_elements(html: &str) -> Vec<(String, String)> {
    html.split("<data value=\"")
        .skip(1)
        .map(|part| {
            let (raw, rest) = part.split_once('"').unwrap();
            let text = &rest[rest.find('>').unwrap() + 1..rest.find("</data>").unwrap()];
            (raw.to_string(), text.to_string())
        })
        .collect()
}

fn render(lab: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["report", "--quiet", "--project", s(lab)];
    all.extend_from_slice(args);
    datalab(&all)
}

#[test]
fn reports_print_only_released_numbers_in_both_languages_and_pdf() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = released_city(tmp.path(), "0.05");
    let released = released_numbers(&lab.join("releases/annual"));
    let out = |name: &str| tmp.path().join(name);

    for (lang, thousands, decimal) in [("it", '.', ','), ("en", ',', '.')] {
        let file = out(&format!("annual.{lang}.html"));
        let o = render(
            &lab,
            &[
                "annual",
                "--year",
                "2024",
                "--format",
                "html",
                "--lang",
                lang,
                "--out",
                s(&file),
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let html = std::fs::read_to_string(&file).unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        for external in ["src=\"http", "href=\"http", "url(http", "<script", "<link"] {
            assert!(!html.contains(external), "self-contained: found {external}");
        }
        let data = data_elements(&html);
        assert!(data.len() > 40, "{} numbers", data.len());
        for (raw, text) in &data {
            if raw.is_empty() {
                assert_eq!(text, "–", "a hidden value prints as a dash");
                continue;
            }
            let v: f64 = raw.parse().unwrap();
            assert!(
                released.contains(&v.to_bits()),
                "{v} ({text}) is not a released number"
            );
            let back: f64 = text
                .replace(thousands, "")
                .replace(decimal, ".")
                .parse()
                .unwrap_or_else(|_| panic!("{text} is not a {lang} number"));
            assert!((back - v).abs() <= 0.05 + 1e-9, "{text} does not print {v}");
        }
    }

    // the PDF: same bytes twice, its text carries the numbers and the provenance
    let pdf = out("annual.it.pdf");
    let args = [
        "annual",
        "--year",
        "2024",
        "--format",
        "pdf",
        "--out",
        s(&pdf),
    ];
    assert!(render(&lab, &args).status.success());
    let first = std::fs::read(&pdf).unwrap();
    assert!(render(&lab, &args).status.success());
    assert_eq!(
        first,
        std::fs::read(&pdf).unwrap(),
        "same inputs, same bytes"
    );
    let text = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by .ci/run");
    let text = String::from_utf8(text.stdout).unwrap();
    let log: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.join("releases/annual/release.json")).unwrap(),
    )
    .unwrap();
    for input in log["inputs"].as_array().unwrap() {
        let snapshot = input[1].as_str().unwrap();
        assert!(
            text.contains(snapshot),
            "snapshot {snapshot} missing from the provenance"
        );
    }
    let html = std::fs::read_to_string(out("annual.it.html")).unwrap();
    let first_numbers: Vec<String> = data_elements(&html)
        .into_iter()
        .filter(|(raw, _)| !raw.is_empty())
        .take(8)
        .map(|(_, t)| t)
        .collect();
    for n in &first_numbers {
        assert!(text.contains(n.as_str()), "{n} missing from the PDF text");
    }

    // a district profile needs its district
    let o = render(
        &lab,
        &[
            "district_profile",
            "--year",
            "2024",
            "--format",
            "html",
            "--out",
            s(&out("d.html")),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--territory"));
    let o = render(
        &lab,
        &[
            "district_profile",
            "--year",
            "2024",
            "--territory",
            "Q2",
            "--format",
            "html",
            "--out",
            s(&out("d.html")),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = std::fs::read_to_string(out("d.html")).unwrap();
    assert!(d.contains("Sud-Ovest - Borgo Panaro"));

    // a year not released, and a tampered release, are refused with exit code 2
    let o = render(
        &lab,
        &[
            "annual",
            "--year",
            "2031",
            "--format",
            "html",
            "--out",
            s(&out("x.html")),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("released years"));
    let f = lab.join("releases/annual/population_by_sex.csv");
    let t = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, t.replacen(",rounded,", ",,", 1)).unwrap();
    let o = render(
        &lab,
        &[
            "annual",
            "--year",
            "2024",
            "--format",
            "html",
            "--out",
            s(&out("annual.it.html")),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(out("annual.it.html")).unwrap(),
        html,
        "the last good report stays"
    );
}
