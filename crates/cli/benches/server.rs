//! Server load benchmark: cube queries against `datalab serve` at a fixed rate from a second
//! process on the loopback, with latency percentiles and errors. The goal (issue 8): p99 under
//! 50 ms at 200 requests/s, no errors.
//!
//! Run: `cargo bench -p datalab --bench server -- [--scale 1] [--dir DIR] [--rate 200]
//! [--seconds 30]` (release profile). Needs `oha` (`cargo install oha --locked`) on PATH.
//! Prints a report on stdout; keep the numbers in the issue notes.
//!
//! The load generator is oha, not wrk: Debian's wrk has no fixed-rate mode (`-R` is wrk2's), so
//! it measures a closed loop whose rate follows the server's speed. oha's `-q` sends at a fixed
//! rate and `--latency-correction` measures each request from when it was due, not from when a
//! connection was free (no coordinated omission). The server and oha share the machine's cores.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

mod common;

use common::{arg, released_city};

/// Connections oha keeps open (enough that none waits at 200 requests/s).
const CONNECTIONS: &str = "32";
/// The goal.
const P99_GOAL_MS: f64 = 50.0;

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "1".into());
    let rate: u32 = arg("--rate").map_or(200, |r| r.parse().expect("--rate N"));
    let seconds: u32 = arg("--seconds").map_or(30, |r| r.parse().expect("--seconds N"));
    let oha = oha();
    println!(
        "datalab server benchmark ({} cores, scale {scale}, {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        version(&oha)
    );
    let lab = released_city(&dir.join(format!("city-scale-{scale}")), &scale);
    let server = Server::start(&lab);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let health = get(&agent, &format!("{}/healthz", server.base));
    assert_eq!(health["status"], "ok", "{health}");

    let urls = cube_urls(&agent, &server.base);
    // Every URL answers before the clock starts (and the server has seen each once).
    for u in &urls {
        let status = agent.get(u).call().expect("GET").status().as_u16();
        assert_eq!(status, 200, "{u}");
    }
    let list = dir.join("server-urls.txt");
    std::fs::write(&list, urls.join("\n") + "\n").expect("write the URL list");
    println!(
        "{} cube queries ({} indicators), {rate} requests/s for {seconds} s, {CONNECTIONS} connections",
        urls.len(),
        urls.iter()
            .map(|u| u.split("indicator=").nth(1).unwrap_or("").split('&').next())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );

    let out = Command::new(&oha)
        .args(["--no-tui", "--no-color", "--output-format", "json"])
        .args(["-q", &rate.to_string(), "--latency-correction"])
        .args(["-z", &format!("{seconds}s"), "-w", "-c", CONNECTIONS])
        .args(["-t", "10s", "--urls-from-file"])
        .arg(&list)
        .output()
        .expect("oha runs");
    assert!(
        out.status.success(),
        "oha failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("oha's JSON");
    let codes = r["statusCodeDistribution"]
        .as_object()
        .expect("status codes");
    let answered: u64 = codes.values().filter_map(Value::as_u64).sum();
    let non_2xx: u64 = codes
        .iter()
        .filter(|(c, _)| !c.starts_with('2'))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    let socket: u64 = r["errorDistribution"]
        .as_object()
        .map_or(0, |e| e.values().filter_map(Value::as_u64).sum());
    let requests = answered + socket;
    let elapsed = r["summary"]["total"].as_f64().expect("total seconds");
    let ms = |p: &str| r["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let max = r["summary"]["slowest"].as_f64().unwrap_or(f64::NAN) * 1000.0;
    println!(
        "\n| requests | errors | rate req/s | p50 ms | p90 ms | p99 ms | max ms |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n\
         | {requests} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
        non_2xx + socket,
        requests as f64 / elapsed,
        ms("p50"),
        ms("p90"),
        ms("p99"),
        max
    );
    if let Some(e) = r["errorDistribution"].as_object().filter(|e| !e.is_empty()) {
        println!("\nsocket errors: {}", Value::Object(e.clone()));
    }
    let met = ms("p99") < P99_GOAL_MS && non_2xx + socket == 0;
    println!(
        "\ngoal (p99 < {P99_GOAL_MS} ms at {rate} requests/s, no errors): {}",
        if met { "met" } else { "MISSED" }
    );
}

/// A mix of cube queries over the released indicators: each at every level it is released at,
/// for the latest period, all periods and a list of two, first and later pages, and every
/// breakdown.
fn cube_urls(agent: &ureq::Agent, base: &str) -> Vec<String> {
    let indicators = get(agent, &format!("{base}/api/indicators"));
    let mut all: Vec<&Value> = indicators.as_array().expect("indicators").iter().collect();
    // The ones with breakdowns and many levels first: the heavier pages.
    all.sort_by_key(|i| {
        std::cmp::Reverse((
            i["breakdowns"].as_array().map_or(0, Vec::len),
            i["levels"].as_array().map_or(0, Vec::len),
        ))
    });
    let mut urls = Vec::new();
    for ind in all.iter().take(8) {
        let id = ind["id"].as_str().expect("id");
        let strings = |f: &str| -> Vec<&str> {
            ind[f]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let (levels, periods) = (strings("levels"), strings("periods"));
        let latest = periods.last().copied().unwrap_or("");
        let two = periods
            .iter()
            .rev()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(",");
        let cube = format!("{base}/api/cube?indicator={id}");
        urls.push(cube.clone());
        urls.push(format!("{cube}&limit=50&offset=50"));
        urls.push(format!("{cube}&by=*&limit=1000"));
        urls.push(format!("{cube}&by=*&limit=100&offset=300"));
        for level in &levels {
            urls.push(format!("{cube}&level={level}&period={latest}"));
            urls.push(format!("{cube}&level={level}&period={two}&limit=20"));
            urls.push(format!("{cube}&level={level}&by=*&limit=200&offset=200"));
        }
    }
    urls
}

fn get(agent: &ureq::Agent, url: &str) -> Value {
    let mut r = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.body_mut()
        .with_config()
        .limit(50 << 20)
        .read_json()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// `datalab serve` on a free loopback port, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(lab: &Path) -> Server {
        let (child, base) = common::serve::spawn(lab);
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The oha executable: on PATH, or where `cargo install` puts it.
fn oha() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("oha"))
            .find(|p| p.is_file())
    });
    let cargo_bin = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cargo/bin/oha"))
        .filter(|p| p.is_file());
    on_path
        .or(cargo_bin)
        .expect("oha is not installed: `cargo install oha --locked`")
}

fn version(oha: &Path) -> String {
    Command::new(oha)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "oha".into())
}
