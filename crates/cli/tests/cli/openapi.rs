//! The API against its own OpenAPI document: schemathesis (a property-based tester, from PyPI)
//! reads `/api/openapi.json` from the real server over a released synthetic city, generates
//! requests that follow the document and requests that break it, and checks every answer:
//! no server error, only documented status codes and content types, bodies that match their
//! schemas, schema-valid input accepted and schema-violating input refused. It runs once as the
//! public and once with the token of each lab role.
//!
//! `.ci/run` installs schemathesis (a Python venv) and sets `DATALAB_SCHEMATHESIS`; elsewhere
//! set it to the `schemathesis` executable or put one on PATH. The test fails without it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::server::{Creds, Server, add_user};
use crate::support::{ok, released_city, s};

/// The version `.ci/run` installs (the CLI and its checks change between major versions).
const VERSION: &str = "4.32.5";
/// Test cases per operation and phase: about 2,000 requests a run.
const MAX_EXAMPLES: &str = "50";

#[test]
fn the_api_keeps_to_its_openapi_document() {
    let st = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let lab = released_city(dir.path(), "0.1");
    let tokens: Vec<(&str, String)> = ["analyst", "checker", "admin"]
        .into_iter()
        .map(|role| {
            let name = format!("st-{role}");
            add_user(&lab, &name, role, None);
            let token = ok(&[
                "user",
                "token",
                &name,
                "--label",
                "st",
                "--quiet",
                "--project",
                s(&lab),
            ]);
            (role, token.trim().to_string())
        })
        .collect();
    let srv = Server::start(&lab);
    what_schemathesis_found(&srv, &tokens);
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, config_for(&srv)).unwrap();

    // The public first; the admin last, since it may change the other accounts.
    let mut failures = Vec::new();
    if let Some(f) = run(&st, &srv, &config, dir.path(), None) {
        failures.push(f);
    }
    for (role, token) in &tokens {
        if let Some(f) = run(&st, &srv, &config, dir.path(), Some((role, token))) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What schemathesis found when it first ran, one request each, so that a failure names it.
fn what_schemathesis_found(srv: &Server, tokens: &[(&str, String)]) {
    let as_role = |role: &str| Creds {
        bearer: tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.clone()),
        ..Creds::default()
    };
    let doc = srv.get("/api/openapi.json").json();
    // The cube's CSV answer was documented in place of its JSON one.
    let cube_ok = &doc["paths"]["/api/cube"]["get"]["responses"]["200"]["content"];
    assert!(cube_ok["application/json"].is_object() && cube_ok["text/csv"].is_object());
    // Invalid credentials are refused (401) before any handler runs: every operation says so.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path}: no 401"
            );
        }
    }
    // The levels a `level` takes are the project's.
    let level = doc["paths"]["/api/cube"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "level")
        .unwrap();
    assert_eq!(
        level["schema"]["enum"],
        json!(["region", "province", "municipality", "district", "zone"])
    );

    // What does not exist is not found (404); only malformed input is a bad request (400).
    for (path, status) in [
        ("/api/cube?indicator=share_elderly_65&level=region", 404),
        ("/api/cube?indicator=share_elderly_65&limit=1001", 400),
        ("/api/benchmark?indicator=population", 404),
        (
            "/api/benchmark?indicator=share_elderly_65&level=region",
            404,
        ),
        ("/api/benchmark?indicator=share_elderly_65&period=1900", 404),
        ("/api/needs?indicator=population", 404),
        ("/api/reports/no_such_report?year=2024", 404),
        ("/api/reports/annual?year=1900", 404),
        ("/api/reports/annual?year=2024&lang=xx", 400),
        ("/api/reports/district_profile?year=2024", 400),
        ("/api/reports/district_profile?year=2024&territory=Q99", 404),
        ("/api/services?risk=poverty,,housing", 400),
        ("/api/services?risk=&limit=1", 200),
        ("/api/services?age=151", 400),
    ] {
        srv.get(path).expect(status);
    }

    // JSON Schema's integers include 5.0.
    let analyst = as_role("analyst");
    let q = json!({"sql": "SELECT 1 AS one", "limit": 5.0});
    srv.request("POST", "/api/sql", Some(q), &analyst)
        .expect(200);
    srv.request("POST", "/api/releases/no_such_release/run", None, &analyst)
        .expect(404);
    for label in ["   ", "two\nlines", &"x".repeat(101)] {
        let body = json!({ "label": label });
        srv.request("POST", "/api/tokens", Some(body), &analyst)
            .expect(400);
    }
    let checker = as_role("checker");
    let body = json!({"output": "nothing_waits"});
    srv.request(
        "POST",
        "/api/releases/annual/approvals",
        Some(body),
        &checker,
    )
    .expect(404);
    // An account that does not exist is not found (it was a conflict, or a bad request when
    // the change set a password); roles are spelled as documented.
    let admin = as_role("admin");
    let body = json!({"disabled": true});
    srv.request("PATCH", "/api/users/nobody", Some(body), &admin)
        .expect(404);
    let body = json!({"name": "x1", "role": "Admin", "password": "a long enough password"});
    srv.request("POST", "/api/users", Some(body), &admin)
        .expect(400);
}

/// One schemathesis run with every check; the failures it reports, if any.
fn run(
    st: &Path,
    srv: &Server,
    config: &Path,
    cwd: &Path,
    token: Option<(&str, &str)>,
) -> Option<String> {
    let mut cmd = Command::new(st);
    cmd.current_dir(cwd)
        .env("NO_COLOR", "1")
        .args(["--no-color", "--config-file"])
        .arg(config)
        .args([
            "run",
            &format!("{}/api/openapi.json", srv.base),
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "8",
            // One worker: reproducible with the seed, and Python 3.11 before 3.11.8 can fail
            // to parse in threads ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--request-timeout",
            "120",
        ]);
    if let Some((_, token)) = token {
        // Revoking tokens would revoke this run's own.
        cmd.args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--exclude-path", "/api/tokens/{id}"]);
    }
    let out = cmd.output().expect("schemathesis runs");
    let who = token.map_or("the public", |(role, _)| role);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("schemathesis as {who}: {}", summary(&text));
    (!out.status.success()).then(|| {
        // Its report ends with the failures and a summary; what comes before is progress.
        let from = text
            .find("FAILURES")
            .or_else(|| text.find("ERRORS"))
            .unwrap_or(0);
        let report: String = text[from..].chars().take(20_000).collect();
        format!("schemathesis as {who} failed:\n{report}")
    })
}

/// The line that counts the test cases (`1980 generated, 1980 passed`).
fn summary(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| l.contains(" generated, "))
        .unwrap_or("no test cases counted")
}

/// The run's configuration: realistic values for the parameters that name things (released
/// indicators, services, reports, years, districts), drawn most of the time, and the two
/// operations whose input the document cannot fully describe.
fn config_for(srv: &Server) -> String {
    let indicators = srv.get("/api/indicators").json();
    let ids: Vec<&str> = strings(&indicators, "id");
    let needs: Vec<&str> = indicators
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["need"] == true)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let services = srv.get("/api/services?limit=20").json();
    let service_ids: Vec<&str> = strings(&services["hits"], "service_id");
    let reports = srv.get("/api/reports").json();
    let report_names: Vec<&str> = strings(&reports, "name");
    let territories = srv.get("/api/territories").json();
    let districts: Vec<&str> = territories["territories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["level"] == "district")
        .map(|t| t["code"].as_str().unwrap())
        .take(2)
        .collect();
    assert!(
        [&ids, &needs, &service_ids, &report_names, &districts]
            .iter()
            .all(|v| !v.is_empty()),
        "the released city lacks indicators, needs, services, reports or districts"
    );
    let list = |v: &[&str]| serde_json::to_string(v).unwrap();
    let bind = |param: &str, dictionary: &str| {
        format!("\"{param}\" = {{ dictionary = \"{dictionary}\", probability = 0.8 }}")
    };
    format!(
        r#"# Written by crates/cli/tests/cli/openapi.rs.
[dictionaries.indicators]
values = {ids}
[dictionaries.needs]
values = {needs}
[dictionaries.services]
values = {service_ids}
[dictionaries.reports]
values = {report_names}
[dictionaries.years]
values = [2023, 2024]
[dictionaries.districts]
values = {districts}

[[operations]]
include-path-regex = "^/api/(cube|benchmark)$"
parameters = {{ {indicator} }}

[[operations]]
include-path = "/api/indicators/{{id}}"
parameters = {{ {id} }}

[[operations]]
include-path = "/api/needs"
parameters = {{ {need} }}

[[operations]]
include-path = "/api/services/{{id}}"
parameters = {{ {service} }}

# A report about one territory needs `territory`, which the document cannot say per report.
[[operations]]
include-path = "/api/reports/{{name}}"
parameters = {{ {report}, {year}, {district} }}
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

# SQL's grammar is not a JSON schema: a string the schema admits may not parse.
[[operations]]
include-path = "/api/sql"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "409"]
"#,
        ids = list(&ids),
        needs = list(&needs),
        service_ids = list(&service_ids),
        report_names = list(&report_names),
        districts = list(&districts),
        indicator = bind("query.indicator", "indicators"),
        id = bind("path.id", "indicators"),
        need = bind("query.indicator", "needs"),
        service = bind("path.id", "services"),
        report = bind("path.name", "reports"),
        year = bind("query.year", "years"),
        district = bind("query.territory", "districts"),
    )
}

fn strings<'a>(v: &'a Value, field: &str) -> Vec<&'a str> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x[field].as_str().unwrap())
        .collect()
}

/// The schemathesis executable: `DATALAB_SCHEMATHESIS`, else `schemathesis` on PATH.
fn schemathesis() -> PathBuf {
    let found = match std::env::var_os("DATALAB_SCHEMATHESIS") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join("schemathesis"))
                .find(|p| p.is_file())
        }),
    };
    let Some(st) = found else {
        panic!(
            "schemathesis is not installed: .ci/run installs it (a Python venv with \
             schemathesis=={VERSION}) and sets DATALAB_SCHEMATHESIS to its executable; or \
             `pip install schemathesis=={VERSION}` and put `schemathesis` on PATH"
        );
    };
    let version = Command::new(&st)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        version.contains(" 4."),
        "{} is `{}`: the test needs schemathesis 4 (.ci/run installs {VERSION})",
        st.display(),
        version.trim()
    );
    st
}
