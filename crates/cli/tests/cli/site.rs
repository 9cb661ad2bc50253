//! `datalab site build`: the static site of the synthetic city, from its public release and its
//! registry of services.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{datalab, ok, released_city, s};

/// Every file of a folder: path relative to it (with `/`) -> bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("inside");
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
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

/// Checks every `href` and `src` of every page: a file of the site (or an anchor on it), never
/// a network resource (a licence's hyperlink is the only `https:` link). Returns how many.
fn check_links(files: &BTreeMap<String, Vec<u8>>) -> usize {
    let mut checked = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        let html = std::str::from_utf8(bytes).expect("utf-8 page");
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        for attr in [" href=\"", " src=\""] {
            for (i, _) in html.match_indices(attr) {
                let rest = &html[i + attr.len()..];
                let target = rest[..rest.find('"').expect("quoted")].replace("&amp;", "&");
                let element = &html[html[..i].rfind('<').expect("in a tag")..i];
                checked += 1;
                if target.starts_with("http:") || target.starts_with("https:") {
                    assert!(
                        element.starts_with("<a ") && element.contains("rel=\"license\""),
                        "{path}: network reference {target}"
                    );
                    continue;
                }
                let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
                let resolved = if file.is_empty() {
                    path.clone()
                } else {
                    normalize(&format!("{dir}/{file}"))
                };
                let page = files
                    .get(&resolved)
                    .unwrap_or_else(|| panic!("{path}: {target} ({resolved}) is not in the site"));
                if !anchor.is_empty() {
                    assert!(
                        String::from_utf8_lossy(page).contains(&format!("id=\"{anchor}\"")),
                        "{path}: no #{anchor} in {resolved}"
                    );
                }
            }
        }
    }
    checked
}

#[test]
fn the_synthetic_citys_site_works_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = released_city(tmp.path(), "0.05");
    let site = tmp.path().join("site");
    let out = datalab(&["site", "build", "--project", s(&lab), "--out", s(&site)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("pages for 16 indicators and 44 territories"),
        "{stderr}"
    );

    let files = tree(&site);
    for page in [
        "index.html",
        "style.css",
        "indicatori/index.html",
        "indicatori/share_elderly_65.html",
        "indicatori/share_elderly_65.csv",
        "indicatori/smoking.html",
        "territori/index.html",
        "territori/Q2.html",
        "territori/Z01.html",
        "servizi.html",
        "rapporti.html",
        "dati.html",
        "open-data/catalog.jsonld",
        "open-data/csv/annual__share_elderly_65.csv",
        "en/index.html",
        "en/indicators/share_elderly_65.html",
        "en/territories/Z40.html",
        "en/services.html",
    ] {
        assert!(files.contains_key(page), "no {page}");
    }
    assert!(check_links(&files) > 5000);
    let css = String::from_utf8_lossy(&files["style.css"]);
    assert!(!css.contains("url(") && !css.contains("@import"));

    // released numbers only: the partner extract never reaches the site
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("min_income_extract"), "{path}");
    }
    let home = String::from_utf8_lossy(&files["index.html"]);
    assert!(home.contains("<html lang=\"it\">") && home.contains("Dati chiave: Modena"));
    let services = String::from_utf8_lossy(&files["servizi.html"]);
    assert!(
        services.matches("<g data-key=").count() > 100,
        "points on the map"
    );
    assert!(services.contains("<form id=\"filter\" class=\"filter\" hidden"));
    assert!(
        !services.contains("@") && !services.contains("tel:"),
        "no contact details"
    );
    // the reports, rendered from the same release, in both languages, HTML and PDF
    let report = String::from_utf8_lossy(&files["rapporti.html"]);
    for file in [
        "rapporti/annual.it.pdf",
        "rapporti/annual.en.html",
        "rapporti/elderly.it.html",
        "rapporti/district_profile-Q2.it.pdf",
    ] {
        assert!(files.contains_key(file), "no {file}");
        let name = file.rsplit('/').next().unwrap();
        assert!(
            report.contains(&format!("href=\"{file}\"")),
            "{name} not linked"
        );
    }
    assert!(files["rapporti/annual.it.pdf"].starts_with(b"%PDF-"));

    // the same inputs give the same bytes, and a rebuild replaces the folder whole
    std::fs::write(site.join("stale.html"), "old").unwrap();
    ok(&[
        "site",
        "build",
        "--quiet",
        "--project",
        s(&lab),
        "--out",
        s(&site),
    ]);
    assert_eq!(tree(&site), files);

    // one language: Italian only, at the root
    let it = tmp.path().join("site-it");
    ok(&[
        "site",
        "build",
        "--quiet",
        "--project",
        s(&lab),
        "--out",
        s(&it),
        "--lang",
        "it",
        "--no-reports",
    ]);
    let only = tree(&it);
    assert!(!only.keys().any(|p| p.starts_with("en/")));
    assert!(check_links(&only) > 1000);

    // a release that cannot be read fails the build (here the partner release, never run), and
    // the site stays as it was
    let out = datalab(&[
        "site",
        "build",
        "--project",
        s(&lab),
        "--out",
        s(&site),
        "--release",
        "partner",
        "--no-reports",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("partner"));
    assert_eq!(tree(&site), files);
}
