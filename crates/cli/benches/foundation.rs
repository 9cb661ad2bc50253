//! Foundation benchmark: synth, ingest throughput per source, a full build from scratch, a
//! no-change rebuild, a group-by query against DuckDB on the same Parquet files, and the peak
//! memory of ingesting one very large CSV.
//!
//! Run: `cargo bench -p datalab --bench foundation -- [--scales 1,10] [--big-gb 5] [--dir DIR]`
//! (release profile). Prints a report on stdout; keep the numbers in the issue notes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;

use common::{arg, datalab, median, run};

/// The group-by of the figure: residents and mean age by zone and sex, every year.
const GROUP_BY: &str = "SELECT ref_date, zone, sex, COUNT(*) AS n, AVG(year(ref_date) - year(birth_month)) AS mean_age FROM register GROUP BY ref_date, zone, sex ORDER BY ref_date, zone, sex";
/// A heavier one, reported beside it: households (distinct ids) by zone.
const DISTINCT: &str = "SELECT zone, COUNT(DISTINCT household_pid) AS households FROM register GROUP BY zone ORDER BY zone";

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scales: Vec<String> = arg("--scales")
        .unwrap_or_else(|| "1,10".into())
        .split(',')
        .map(str::to_string)
        .collect();
    std::fs::create_dir_all(&dir).expect("bench dir");
    println!(
        "datalab foundation benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for scale in &scales {
        bench_city(&dir.join(format!("scale-{scale}")), scale);
    }
    if let Some(gb) = arg("--big-gb") {
        bench_big_csv(&dir.join("big"), gb.parse().expect("--big-gb N"));
    }
}

fn bench_city(root: &Path, scale: &str) {
    println!("\n== synthetic city, scale {scale}");
    if std::env::args().any(|a| a == "--queries-only") && root.join("lab/.datalab").is_dir() {
        queries(&root.join("lab"));
        return;
    }
    let _ = std::fs::remove_dir_all(root);
    let r = run(datalab().args([
        "synth",
        "--quiet",
        "--out",
        root.to_str().expect("path"),
        "--scale",
        scale,
    ]));
    println!("synth: {:.1} s, peak RSS {:.0} MB", r.seconds, r.max_rss_mb);
    let lab = root.join("lab");
    let lab_s = lab.to_str().expect("path");

    let r = run(datalab().args(["build", "--quiet", "--project", lab_s, "--format", "json"]));
    println!(
        "build from scratch: {:.2} s wall, peak RSS {:.0} MB",
        r.seconds, r.max_rss_mb
    );
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("report");
    println!(
        "{:<16} {:>12} {:>9} {:>8} {:>12} {:>8}",
        "source", "rows in", "MB in", "s", "rows/s", "MB/s"
    );
    for s in report["sources"].as_array().expect("sources") {
        let rows = s["rows_in"].as_f64().unwrap_or(0.0);
        let mb = s["bytes_in"].as_f64().unwrap_or(0.0) / 1e6;
        let secs = s["seconds"].as_f64().unwrap_or(0.0).max(1e-9);
        println!(
            "{:<16} {:>12} {:>9.1} {:>8.2} {:>12.0} {:>8.1}",
            s["source"].as_str().unwrap_or(""),
            rows,
            mb,
            secs,
            rows / secs,
            mb / secs
        );
    }

    let times: Vec<f64> = (0..3)
        .map(|_| run(datalab().args(["build", "--quiet", "--project", lab_s])).seconds)
        .collect();
    println!("no-change rebuild: median {:.3} s (of 3)", median(times));

    queries(&lab);
}

/// Queries over the register, through `datalab query`, vs DuckDB on the same files.
fn queries(lab: &Path) {
    let lab_s = lab.to_str().expect("path");
    let st = run(datalab().args(["status", "--project", lab_s, "--format", "json"])).stdout;
    let st: serde_json::Value = serde_json::from_str(&st).expect("status json");
    let id = st["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["source"] == "register"))
        .and_then(|x| x["snapshot_id"].as_str())
        .expect("register snapshot")
        .to_string();
    let parts = format!("{lab_s}/.datalab/snapshots/register/{id}/data/*.parquet");
    let rows = run(datalab().args([
        "query",
        "--project",
        lab_s,
        "--format",
        "csv",
        "SELECT COUNT(*) FROM register",
    ]))
    .stdout;
    println!(
        "queries over the register ({} rows, {parts}):",
        rows.lines().nth(1).unwrap_or("?")
    );
    for (label, sql) in [
        ("group-by zone x sex x year", GROUP_BY),
        ("count distinct households by zone", DISTINCT),
    ] {
        compare(lab, &parts, label, sql);
    }
}

/// One query through `datalab query` (whole command), through the engine in-process (query
/// only), and through DuckDB's Python package (whole process and query only), on the same files.
fn compare(lab: &Path, parts: &str, label: &str, sql: &str) {
    let lab_s = lab.to_str().expect("path");
    let _ = run(datalab().args(["query", "--project", lab_s, "--format", "csv", sql]));
    let whole = median(
        (0..5)
            .map(|_| {
                run(datalab().args(["query", "--project", lab_s, "--format", "csv", sql])).seconds
            })
            .collect(),
    );
    let inner = in_process(lab, sql);
    print!("  {label:<34} datalab: {whole:.3} s command, {inner:.3} s query");
    match duckdb(parts, sql) {
        Some((dwhole, dinner)) => println!(
            " | duckdb: {dwhole:.3} s process, {dinner:.3} s query | ratio command/process {:.2}x, query/query {:.2}x",
            whole / dwhole,
            inner / dinner
        ),
        None => println!(" | duckdb: not available (pip install duckdb)"),
    }
}

/// The group-by through the engine crate in this process: open the session once, then time
/// only the query (as the DuckDB side does).
fn in_process(lab: &Path, sql: &str) -> f64 {
    let wh = engine::Warehouse::open(&lab.join(".datalab")).expect("warehouse");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let engine = engine::Engine::open(&wh).await.expect("engine");
        engine.sql(sql).await.expect("warm-up");
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            engine.sql(sql).await.expect("query");
            times.push(t.elapsed().as_secs_f64());
        }
        median(times)
    })
}

/// Runs the same SQL in DuckDB's Python package; returns (whole process, query only) medians.
fn duckdb(glob: &str, sql: &str) -> Option<(f64, f64)> {
    common::ensure_duckdb();
    let script = format!(
        "import duckdb, time\ncon = duckdb.connect()\ncon.execute(\"CREATE VIEW register AS SELECT * FROM read_parquet('{glob}')\")\nt = time.perf_counter()\ncon.execute(\"\"\"{sql}\"\"\").fetchall()\nprint(time.perf_counter() - t)\n"
    );
    let mut whole = Vec::new();
    let mut inner = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        let out = Command::new("python3")
            .args(["-c", &script])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("duckdb failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        whole.push(started.elapsed().as_secs_f64());
        inner.push(String::from_utf8_lossy(&out.stdout).trim().parse().ok()?);
    }
    whole.remove(0);
    inner.remove(0);
    Some((median(whole), median(inner)))
}

/// A CSV of `gb` gigabytes in the Italian style (Windows-1252, `;`, decimal commas, quoted
/// text): peak RSS of ingesting it. No unique key: a unique-key check keeps 16 bytes per
/// distinct key in memory, which is the one part of ingest that grows with the file.
fn bench_big_csv(root: &Path, gb: f64) {
    use std::io::Write;
    println!("\n== one large CSV, {gb} GB");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("sources")).expect("mkdir");
    std::fs::write(
        root.join("datalab.toml"),
        "format_version = 1\nname = \"big\"\n",
    )
    .expect("write");
    std::fs::write(
        root.join("sources/big.toml"),
        r#"format_version = 1
files = ["big.csv"]
format = "csv"
encoding = "windows-1252"
delimiter = ";"
decimal = ","
date_formats = ["%d/%m/%Y"]
[[columns]]
name = "id"
from = "ID"
type = "integer"
required = true
[[columns]]
name = "zone"
from = "ZONA"
type = "string"
[[columns]]
name = "day"
from = "DATA"
type = "date"
[[columns]]
name = "amount"
from = "IMPORTO"
type = "float"
min = 0
[[columns]]
name = "note"
from = "NOTE"
type = "string"
"#,
    )
    .expect("write spec");
    let target = (gb * 1e9) as u64;
    let started = Instant::now();
    let mut w = std::io::BufWriter::with_capacity(
        1 << 22,
        std::fs::File::create(root.join("big.csv")).expect("create"),
    );
    w.write_all(b"ID;ZONA;DATA;IMPORTO;NOTE\n").expect("write");
    let mut written = 0u64;
    let mut i = 0u64;
    while written < target {
        let line = format!(
            "{i};Z{:02};{:02}/{:02}/20{:02};{},{:02};\"nota del servizio sociale n. {i}, città\"\n",
            i % 40 + 1,
            i % 28 + 1,
            i % 12 + 1,
            19 + i % 6,
            i % 5000,
            i % 100
        );
        // Windows-1252: à is one byte.
        let bytes: Vec<u8> = line
            .chars()
            .map(|c| if c == 'à' { 0xE0 } else { c as u8 })
            .collect();
        w.write_all(&bytes).expect("write");
        written += bytes.len() as u64;
        i += 1;
    }
    w.flush().expect("flush");
    println!(
        "wrote {:.2} GB, {i} rows in {:.0} s",
        written as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    let r = run(datalab().args([
        "build",
        "--quiet",
        "--project",
        root.to_str().expect("path"),
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("report");
    let s = &report["sources"][0];
    println!(
        "ingest: {:.1} s, {:.0} rows/s, {:.1} MB/s, peak RSS {:.0} MB, rows in {} = loaded {} + quarantined {}",
        r.seconds,
        s["rows_in"].as_f64().unwrap_or(0.0) / r.seconds,
        written as f64 / 1e6 / r.seconds,
        r.max_rss_mb,
        s["rows_in"],
        s["rows_loaded"],
        s["rows_quarantined"]
    );
    let _ = std::fs::remove_file(root.join("big.csv"));
}
