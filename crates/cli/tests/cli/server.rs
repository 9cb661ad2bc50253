//! `datalab serve`: the real server over a released synthetic city, driven over HTTP.

use std::path::Path;
use std::process::Child;

use serde_json::{Value, json};

#[path = "../../benches/common/serve.rs"]
mod serve;

use crate::support::{datalab_with, ok, ok_with, released_city, s};

/// A running `datalab serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, headers we look at, body.
pub struct Answer {
    pub status: u16,
    pub set_cookie: Vec<String>,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts the status and, for errors, the JSON error shape.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Answer {
        assert_eq!(self.status, status, "body: {}", self.body);
        if status >= 400 {
            let e = self.json();
            assert!(e["error"]["code"].is_string(), "{}", self.body);
            assert!(
                !e["error"]["message"].as_str().unwrap_or("").is_empty(),
                "{}",
                self.body
            );
        }
        self
    }
}

/// Credentials sent with a request.
#[derive(Default, Clone)]
pub struct Creds {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

impl Server {
    /// Starts the server on a free port of the loopback.
    pub fn start(lab: &Path) -> Server {
        let (child, base) = serve::spawn(lab);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Server { child, base, agent }
    }

    pub fn request(&self, method: &str, path: &str, body: Option<Value>, c: &Creds) -> Answer {
        let url = format!("{}{path}", self.base);
        let mut headers: Vec<(&str, String)> = Vec::new();
        if let Some(v) = &c.cookie {
            headers.push(("Cookie", v.clone()));
        }
        if let Some(v) = &c.csrf {
            headers.push(("X-CSRF-Token", v.clone()));
        }
        if let Some(v) = &c.bearer {
            headers.push(("Authorization", format!("Bearer {v}")));
        }
        let result = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (n, v) in &headers {
                    r = r.header(*n, v);
                }
                r.call()
            }
            _ => {
                let mut r = match method {
                    "POST" => self.agent.post(&url),
                    "PATCH" => self.agent.patch(&url),
                    other => panic!("method {other}"),
                };
                for (n, v) in &headers {
                    r = r.header(*n, v);
                }
                match body {
                    Some(b) => r.send_json(b),
                    None => r.send_empty(),
                }
            }
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let set_cookie = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.clone())
            .collect();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .body_mut()
            .with_config()
            .limit(50 << 20)
            .read_to_string()
            .unwrap_or_default();
        Answer {
            status,
            set_cookie,
            content_type,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, None, &Creds::default())
    }

    pub fn get_as(&self, path: &str, c: &Creds) -> Answer {
        self.request("GET", path, None, c)
    }

    /// Logs in and returns the session's credentials.
    pub fn login(&self, name: &str, password: &str) -> Creds {
        let a = self.request(
            "POST",
            "/api/login",
            Some(json!({"name": name, "password": password})),
            &Creds::default(),
        );
        a.expect(200);
        let cookie = a
            .set_cookie
            .iter()
            .find(|c| c.starts_with("datalab_session="))
            .expect("a session cookie")
            .clone();
        let lower = cookie.to_ascii_lowercase();
        assert!(lower.contains("httponly"), "{cookie}");
        assert!(lower.contains("samesite=strict"), "{cookie}");
        Creds {
            cookie: Some(cookie.split(';').next().expect("name=value").to_string()),
            csrf: a.json()["csrf"].as_str().map(str::to_string),
            bearer: None,
        }
    }
}

const PASSWORD: &str = "a long enough password";
/// The holder of two of the synthetic city's sources.
const INPS: &str = "INPS - Direzione provinciale di Modena";

/// Adds an account from the command line, the password from the environment.
pub fn add_user(lab: &Path, name: &str, role: &str, organization: Option<&str>) {
    let mut args = vec![
        "user",
        "add",
        "--quiet",
        "--project",
        s(lab),
        name,
        "--role",
        role,
    ];
    if let Some(o) = organization {
        args.extend(["--organization", o]);
    }
    ok_with(&args, &[("DATALAB_PASSWORD", PASSWORD)]);
}

#[test]
fn the_public_api_answers_from_public_releases_only() {
    let dir = tempfile::tempdir().unwrap();
    let lab = released_city(dir.path(), "0.1");
    let srv = Server::start(&lab);

    let h = srv.get("/healthz");
    h.expect(200);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.header("x-content-type-options"), Some("nosniff"));

    // The OpenAPI document names every route the tests use.
    let doc = srv.get("/api/openapi.json");
    doc.expect(200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/cube",
        "/api/indicators",
        "/api/login",
        "/api/sql",
        "/healthz",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }

    let t = srv.get("/api/territories").json();
    let levels: Vec<&str> = t["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["region", "province", "municipality", "district", "zone"]
    );

    // Indicators: only those released publicly, with metadata.
    let inds = srv.get("/api/indicators").json();
    let ids: Vec<&str> = inds
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"share_elderly_65"), "{ids:?}");
    let one = srv.get("/api/indicators/share_elderly_65").json();
    assert_eq!(one["periods"].as_array().unwrap().len(), 6, "{one}");
    assert_eq!(one["releases"], json!(["annual"]));
    srv.get("/api/indicators/no_such_thing").expect(404);
    // An indicator the cube holds but no public release carries is not there for the public,
    // neither as values nor as a chart.
    let defined: Value = serde_json::from_str(&ok(&[
        "indicators",
        "list",
        "--project",
        s(&lab),
        "--format",
        "json",
    ]))
    .unwrap();
    let unreleased = defined
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .find(|id| !ids.contains(id))
        .expect("an indicator left out of the public release");
    srv.get(&format!("/api/cube?indicator={unreleased}"))
        .expect(404);
    srv.get(&format!("/api/indicators/{unreleased}"))
        .expect(404);
    assert_eq!(
        srv.get(&format!("/charts/trend.svg?indicator={unreleased}"))
            .status,
        404
    );

    // The cube: paging is complete and without overlap, and every value equals the released
    // CSV's.
    let released = std::fs::read_to_string(lab.join("releases/annual/share_elderly_65.csv"))
        .expect("released file");
    let mut csv_values = std::collections::BTreeMap::new();
    let mut r = csv::Reader::from_reader(released.as_bytes());
    let hdr = r.headers().unwrap().clone();
    let col = |n: &str| hdr.iter().position(|h| h == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if !rec[col("period")].is_empty() {
            csv_values.insert(
                (
                    rec[col("territory")].to_string(),
                    rec[col("period")].to_string(),
                ),
                rec[col("value")].to_string(),
            );
        }
    }
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = srv
            .get(&format!(
                "/api/cube?indicator=share_elderly_65&limit=7&offset={offset}"
            ))
            .json();
        for row in page["rows"].as_array().unwrap() {
            let key = (
                row["territory"].as_str().unwrap().to_string(),
                row["period"].as_str().unwrap().to_string(),
            );
            let want = &csv_values[&key];
            match row["value"].as_f64() {
                Some(v) => assert_eq!(v, want.parse::<f64>().unwrap(), "{key:?}"),
                None => {
                    assert!(
                        want.is_empty(),
                        "{key:?}: hidden in the API, {want} in the file"
                    );
                    assert_eq!(row["flag"], "suppressed");
                }
            }
            seen.push(key);
        }
        match page["next_offset"].as_u64() {
            Some(n) => offset = n as usize,
            None => break,
        }
    }
    assert_eq!(seen.len(), csv_values.len());
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "pages overlap");

    let zones = srv
        .get("/api/cube?indicator=share_elderly_65&level=zone&period=2024&limit=1000")
        .json();
    assert!(
        zones["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] == "zone" && r["period"] == "2024")
    );
    let csv = srv.get("/api/cube?indicator=share_elderly_65&level=district&format=csv");
    csv.expect(200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(csv.body.starts_with("indicator,territory_level,territory,"));

    // Input is validated, with JSON errors.
    srv.get("/api/cube").expect(400);
    srv.get("/api/cube?indicator=share_elderly_65&limit=0")
        .expect(400);
    srv.get("/api/cube?indicator=share_elderly_65&limit=abc")
        .expect(400);
    srv.get("/api/cube?indicator=share_elderly_65&level=galaxy")
        .expect(400);
    srv.get("/api/cube?indicator=share_elderly_65&format=xml")
        .expect(400);
    srv.get("/api/nothing/here").expect(404);

    // Benchmarks with funnel limits.
    let b = srv.get("/api/benchmark?indicator=share_elderly_65&level=district");
    b.expect(200);
    let b = b.json();
    assert_eq!(b["level"], "district");
    for row in b["rows"].as_array().unwrap() {
        assert!(row["lower95"].as_f64().unwrap() <= row["upper95"].as_f64().unwrap());
        assert!(row["lower998"].as_f64().unwrap() <= row["lower95"].as_f64().unwrap());
    }

    // Services: search and records without contact persons.
    let hits = srv.get("/api/services?q=anziani&limit=5").json();
    let first = &hits["hits"][0];
    assert!(first["service_id"].is_string(), "{hits}");
    let rec = srv.get(&format!(
        "/api/services/{}",
        first["service_id"].as_str().unwrap()
    ));
    rec.expect(200);
    assert!(!rec.body.contains("\"email\""), "{}", rec.body);
    srv.get("/api/services?risk=astrology").expect(400);
    srv.get("/api/services/no-such-service").expect(404);

    // Releases: the public sees the public one only, and its files check out.
    let rels = srv.get("/api/releases").json();
    let names: Vec<&str> = rels
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["annual"]);
    let f = srv.get("/api/releases/annual/files/share_elderly_65.csv");
    f.expect(200);
    assert_eq!(f.body, released);
    srv.get("/api/releases/partner").expect(404);

    // Reports render from public releases.
    let rep = srv.get("/api/reports").json();
    assert!(
        rep.as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "annual")
    );
    let html = srv.get("/api/reports/annual?year=2024&lang=en&format=html");
    html.expect(200);
    assert!(html.body.contains("<html lang=\"en\""));
    srv.get("/api/reports/annual?year=2024&lang=fr").expect(400);
    srv.get("/api/reports/..%2F..%2Fetc?year=2024").expect(404);

    // Lab routes refuse the public.
    srv.request(
        "POST",
        "/api/sql",
        Some(json!({"sql": "SELECT 1"})),
        &Creds::default(),
    )
    .expect(401);
    srv.get("/api/users").expect(401);
    srv.get("/api/audit").expect(401);
    srv.get("/api/releases/partner/pending").expect(401);
}

#[test]
fn roles_sessions_csrf_tokens_approvals_and_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let lab = released_city(dir.path(), "0.1");
    add_user(&lab, "ada", "admin", None);
    add_user(&lab, "anna", "analyst", None);
    add_user(&lab, "carlo", "checker", None);
    add_user(&lab, "paola", "partner", Some(INPS));
    // Bad accounts are refused with exit code 2.
    let weak = datalab_with(
        &[
            "user",
            "add",
            "--project",
            s(&lab),
            "x",
            "--role",
            "analyst",
        ],
        &[("DATALAB_PASSWORD", "short")],
    );
    assert_eq!(weak.status.code(), Some(2));
    let listed = ok(&["user", "list", "--project", s(&lab)]);
    assert_eq!(listed.lines().count(), 4, "{listed}");

    let srv = Server::start(&lab);

    // Wrong passwords: 401, then throttled with Retry-After.
    for _ in 0..5 {
        srv.request(
            "POST",
            "/api/login",
            Some(json!({"name": "anna", "password": "wrong password!"})),
            &Creds::default(),
        )
        .expect(401);
    }
    let blocked = srv.request(
        "POST",
        "/api/login",
        Some(json!({"name": "anna", "password": PASSWORD})),
        &Creds::default(),
    );
    blocked.expect(429);
    assert!(blocked.header("retry-after").is_some());
    srv.request(
        "POST",
        "/api/login",
        Some(json!({"name": "anna"})),
        &Creds::default(),
    )
    .expect(400);

    // The analyst: read-only SQL over microdata, with the CSRF token.
    let ad = srv.login("ada", PASSWORD);
    let an_pw_reset = srv.request(
        "PATCH",
        "/api/users/anna",
        Some(json!({"password": "another long password"})),
        &ad,
    );
    an_pw_reset.expect(200);
    let an = srv.login("anna", "another long password");
    let no_csrf = Creds {
        csrf: None,
        ..an.clone()
    };
    srv.request(
        "POST",
        "/api/sql",
        Some(json!({"sql": "SELECT 1"})),
        &no_csrf,
    )
    .expect(403);
    let q = srv.request(
        "POST",
        "/api/sql",
        Some(json!({"sql": "SELECT zone, count(*) AS n FROM residents GROUP BY zone ORDER BY zone", "limit": 3})),
        &an,
    );
    q.expect(200);
    let q = q.json();
    assert_eq!(q["columns"], json!(["zone", "n"]));
    assert_eq!(q["rows"].as_array().unwrap().len(), 3);
    assert_eq!(q["truncated"], true);
    for sql in [
        "CREATE TABLE x AS SELECT 1",
        "DROP TABLE residents",
        "INSERT INTO residents SELECT * FROM residents",
        "SET datafusion.execution.batch_size = 1",
        "SELEC nonsense",
    ] {
        srv.request("POST", "/api/sql", Some(json!({"sql": sql})), &an)
            .expect(400);
    }
    // Roles: the analyst cannot approve, list users or read the audit trail.
    srv.get_as("/api/users", &an).expect(403);
    srv.get_as("/api/audit", &an).expect(403);
    srv.request(
        "POST",
        "/api/releases/partner/approvals",
        Some(json!({"output": "mean_paid_by_measure"})),
        &an,
    )
    .expect(403);

    // The gate through the API: the analyst runs the partner release, which waits for a
    // checker; the checker reviews and approves; the release goes out.
    let run = srv.request("POST", "/api/releases/partner/run", None, &an);
    run.expect(200);
    assert_eq!(run.json()["status"], "waiting", "{}", run.body);
    let ch = srv.login("carlo", PASSWORD);
    let pending = srv.get_as("/api/releases/partner/pending", &ch);
    pending.expect(200);
    let pending = pending.json();
    assert_eq!(pending[0]["output"], "mean_paid_by_measure", "{pending}");
    assert!(
        pending[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("measure,")
    );
    let approved = srv.request(
        "POST",
        "/api/releases/partner/approvals",
        Some(json!({"output": "mean_paid_by_measure", "note": "groups of hundreds"})),
        &ch,
    );
    approved.expect(200);
    assert_eq!(approved.json()["checker"], "carlo");
    let run = srv.request("POST", "/api/releases/partner/run", None, &ch);
    run.expect(200);
    assert_eq!(run.json()["status"], "released", "{}", run.body);

    // Partners see the partner release; the public still does not.
    let pa = srv.login("paola", PASSWORD);
    let names = |c: &Creds| -> Vec<String> {
        srv.get_as("/api/releases", c)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&pa), ["annual", "partner"]);
    assert_eq!(names(&Creds::default()), ["annual"]);
    srv.get("/api/releases/partner/files/mean_paid_by_measure.csv")
        .expect(404);
    srv.get_as("/api/releases/partner/files/mean_paid_by_measure.csv", &pa)
        .expect(200);
    // Never the microdata extract, not even for partners through the API.
    srv.get_as("/api/releases/partner/files/min_income_extract.csv", &pa)
        .expect(404);
    // The partner's own sources are its own only.
    let srcs = srv.get_as("/api/sources", &pa).json();
    let holders: Vec<&str> = srcs
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["holder"].as_str().unwrap())
        .collect();
    assert_eq!(holders, [INPS, INPS], "{srcs}");
    assert!(srcs[0]["rows"].as_u64().unwrap() > 0, "{srcs}");
    let all = srv.get_as("/api/sources", &ad).json();
    assert!(all.as_array().unwrap().len() > 2, "{all}");
    srv.request("POST", "/api/sql", Some(json!({"sql": "SELECT 1"})), &pa)
        .expect(403);

    // API tokens: work without CSRF, stop when revoked.
    let t = srv.request(
        "POST",
        "/api/tokens",
        Some(json!({"label": "nightly"})),
        &an,
    );
    t.expect(201);
    let t = t.json();
    let bearer = Creds {
        bearer: Some(t["token"].as_str().unwrap().into()),
        ..Creds::default()
    };
    srv.request(
        "POST",
        "/api/sql",
        Some(json!({"sql": "SELECT 1 AS one"})),
        &bearer,
    )
    .expect(200);
    srv.request(
        "DELETE",
        &format!("/api/tokens/{}", t["id"].as_str().unwrap()),
        None,
        &an,
    )
    .expect(204);
    srv.request(
        "POST",
        "/api/sql",
        Some(json!({"sql": "SELECT 1"})),
        &bearer,
    )
    .expect(401);
    let cli_token = ok(&[
        "user",
        "token",
        "--quiet",
        "--project",
        s(&lab),
        "anna",
        "--label",
        "cron",
    ]);
    let bearer = Creds {
        bearer: Some(cli_token.trim().into()),
        ..Creds::default()
    };
    assert_eq!(srv.get_as("/api/session", &bearer).json()["name"], "anna");

    // Logging out ends the session; a disabled account cannot log in.
    srv.request("POST", "/api/logout", None, &an).expect(204);
    srv.request("POST", "/api/sql", Some(json!({"sql": "SELECT 1"})), &an)
        .expect(401);
    ok(&["user", "disable", "--project", s(&lab), "paola"]);
    srv.request(
        "POST",
        "/api/login",
        Some(json!({"name": "paola", "password": PASSWORD})),
        &Creds::default(),
    )
    .expect(401);
    assert_eq!(srv.get_as("/api/session", &pa).json()["role"], "public");

    // The admin reads the audit trail: logins, queries, the release, the approval.
    let trail = srv.get_as("/api/audit?limit=1000", &ad);
    trail.expect(200);
    let actions: Vec<String> = trail
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in [
        "user_added",
        "login_failed",
        "login",
        "query",
        "release",
        "approval",
        "token_created",
        "token_revoked",
        "logout",
        "user_changed",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not in {actions:?}");
    }
    srv.get_as("/api/audit/verify", &ad).expect(200);
    drop(srv);

    // The command line verifies the chain, and finds an edit.
    let v = ok(&["audit", "verify", "--project", s(&lab)]);
    assert!(v.starts_with("ok: "), "{v}");
    let db = lab.join(".datalab/server.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'nobody' WHERE seq = 3;",
    )
    .unwrap();
    drop(conn);
    let broken = datalab_with(&["audit", "verify", "--project", s(&lab)], &[]);
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains("entry 3") && err.contains("edited"), "{err}");
}

#[test]
fn deleting_audit_entries_or_cutting_the_tail_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let lab = crate::support::city(dir.path(), "0.1");
    for name in ["a1", "a2", "a3", "a4"] {
        add_user(&lab, name, "analyst", None);
    }
    ok(&["audit", "verify", "--project", s(&lab)]);
    let db = lab.join(".datalab/server.sqlite");
    let copy = dir.path().join("copy.sqlite");
    std::fs::copy(&db, &copy).unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 2;")
        .unwrap();
    drop(conn);
    let out = datalab_with(&["audit", "verify", "--project", s(&lab)], &[]);
    assert_eq!(out.status.code(), Some(1));

    std::fs::copy(&copy, &db).unwrap();
    let _ = std::fs::remove_file(lab.join(".datalab/server.sqlite-wal"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4;")
        .unwrap();
    drop(conn);
    let out = datalab_with(&["audit", "verify", "--project", s(&lab)], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("deleted from the end"), "{err}");
}
