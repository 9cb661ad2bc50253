//! Indicators benchmark: the whole standard library into the cube for a synthetic city (wall
//! time of the cube step alone, every indicator recomputed), the models step, the three
//! heaviest indicator queries against the same SQL in DuckDB on the same Parquet files, and the
//! time of `datalab build` after editing one indicator.
//!
//! Run: `cargo bench -p datalab --bench indicators -- [--scale 10] [--edit-scale 1] [--dir DIR]`
//! (release profile). Prints a report on stdout; keep the numbers in the issue notes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;

use common::{arg, built_city as city, datalab, median, run};
use ingest::Derive;

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "10".into());
    let edit_scale = arg("--edit-scale").unwrap_or_else(|| "1".into());
    println!(
        "datalab indicators benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let lab = city(&dir.join(format!("indicators-scale-{scale}")), &scale);
    cube(&lab, &scale);
    let lab = city(
        &dir.join(format!("indicators-scale-{edit_scale}")),
        &edit_scale,
    );
    edit_one(&lab, &edit_scale);
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn cube(lab: &Path, scale: &str) {
    println!("\n== the standard library into the cube, scale {scale}");
    let mut project = project::Project::load(lab).expect("project");
    // The indicators alone: the forecast benchmark times the forecasts in the cube.
    project.config.forecast = None;
    let wh = engine::Warehouse::open(&project.data_dir()).expect("warehouse");
    let lock = wh.lock().expect("lock");
    let current: BTreeMap<String, engine::SnapshotInfo> = wh
        .current()
        .expect("current")
        .into_iter()
        .map(|s| (s.source.clone(), s))
        .collect();
    let sources: BTreeMap<String, engine::SnapshotInfo> = current
        .iter()
        .filter(|(_, s)| !s.manifest.derived || s.source.starts_with("link_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let models = indicators::Models::new(&project, true);
    let t = Instant::now();
    let made = models.derive(&wh, &lock, &sources).expect("models");
    println!(
        "models step ({} models, all recomputed): {:.2} s",
        made.len(),
        t.elapsed().as_secs_f64()
    );
    let mut tables = sources.clone();
    for (info, _) in made {
        tables.insert(info.source.clone(), info);
    }
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let c = indicators::Cube::new(&project, true);
        let t = Instant::now();
        c.derive(&wh, &lock, &tables).expect("cube");
        times.push(t.elapsed().as_secs_f64());
        last = Some(c);
    }
    let c = last.expect("one run");
    let rows: u64 = current.get("cube").map_or(0, |s| s.manifest.rows_loaded);
    println!(
        "cube step ({} indicators, every one recomputed, {} cells): median {:.2} s of {:?} (goal < 30 s)",
        project.indicators.len(),
        rows,
        median(times.clone()),
        times.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>()
    );
    let timings = c.timings();
    let total: f64 = timings.iter().map(|t| t.seconds).sum();
    println!(
        "  {} queries, {:.2} s in queries, {:.2} s elsewhere (roll-ups, files)",
        timings.len(),
        total,
        median(times) - total
    );
    // DuckDB lacks datalab's aggregates (gini_w, quantile_w): the comparison takes the heaviest
    // queries it can run as they are, and lists the heaviest overall beside them.
    let ours = ["gini(", "gini_w(", "quantile_w("];
    println!("\n  the three heaviest queries overall:");
    for t in timings.iter().take(3) {
        let short: String = t.sql.chars().take(100).collect();
        println!("  {:<32} {:.3} s  {short}...", t.indicator, t.seconds);
    }
    println!(
        "\n  the three heaviest queries in standard SQL, datalab (in-process, median of 5) vs DuckDB on the same files:"
    );
    for t in timings
        .iter()
        .filter(|t| !ours.iter().any(|f| t.sql.contains(f)))
        .take(3)
    {
        compare(&project, &tables, &t.indicator, &t.sql);
    }
}

/// Times one query in-process and in DuckDB (query only, both warm).
fn compare(
    project: &project::Project,
    tables: &BTreeMap<String, engine::SnapshotInfo>,
    indicator: &str,
    sql: &str,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let anc = anc_csv(project);
    let ours = rt.block_on(async {
        let snaps: Vec<engine::SnapshotInfo> = tables.values().cloned().collect();
        let engine = engine::Engine::over(&snaps).await.expect("engine");
        indicators::udaf::register(engine.context());
        engine
            .context()
            .register_csv("__anc", s(&anc), Default::default())
            .await
            .expect("anc");
        engine.sql(sql).await.expect("warm-up");
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            engine.sql(sql).await.expect("query");
            times.push(t.elapsed().as_secs_f64());
        }
        median(times)
    });
    let short: String = sql.chars().take(110).collect();
    print!("  {indicator:<32} datalab {ours:.3} s");
    match duckdb(tables, &anc, sql) {
        Some(d) => println!(
            " | duckdb {d:.3} s | ratio {:.2}x\n      {short}...",
            ours / d
        ),
        None => println!(" | duckdb: not comparable (see stderr)\n      {short}..."),
    }
}

/// `__anc(node, lvl, code)` as a CSV file, as the cube step builds it.
fn anc_csv(project: &project::Project) -> PathBuf {
    let h = &project.hierarchy;
    let mut out = String::from("node,lvl,code\n");
    for t in &h.nodes {
        let mut cur = Some(t);
        while let Some(n) = cur {
            out.push_str(&format!("{},{},{}\n", t.code, n.level, n.code));
            cur = match (&n.parent, n.level.checked_sub(1)) {
                (Some(p), Some(l)) => h.get(l, p),
                _ => None,
            };
        }
    }
    let path = std::env::temp_dir().join(format!("datalab-anc-{}.csv", std::process::id()));
    std::fs::write(&path, out).expect("write anc");
    path
}

/// The same SQL in DuckDB's Python package over the same snapshots; the median query time.
fn duckdb(tables: &BTreeMap<String, engine::SnapshotInfo>, anc: &Path, sql: &str) -> Option<f64> {
    common::ensure_duckdb();
    let mut views = String::new();
    for (name, snap) in tables {
        views.push_str(&format!(
            "con.execute(\"CREATE VIEW \\\"{name}\\\" AS SELECT * FROM read_parquet('{}/*.parquet')\")\n",
            snap.data_dir().display()
        ));
    }
    let script = format!(
        "import duckdb, time, statistics\ncon = duckdb.connect()\n{views}con.execute(\"CREATE TABLE __anc AS SELECT * FROM read_csv('{}')\")\nq = \"\"\"{sql}\"\"\"\ncon.execute(q).fetchall()\nts = []\nfor _ in range(5):\n    t = time.perf_counter(); con.execute(q).fetchall(); ts.append(time.perf_counter() - t)\nprint(statistics.median(ts))\n",
        anc.display()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("duckdb failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `datalab build` after editing one indicator (goal < 2 s at scale 1).
fn edit_one(lab: &Path, scale: &str) {
    println!("\n== editing one indicator, scale {scale}");
    let _ = run(datalab().args(["build", "--quiet", "--project", s(lab)]));
    let r = run(datalab().args(["build", "--quiet", "--project", s(lab)]));
    println!("no-change build: {:.2} s", r.seconds);
    let path = lab.join("indicators/share_foreign_residents.toml");
    let original = std::fs::read_to_string(&path).expect("indicator");
    let mut times = Vec::new();
    for i in 0..5 {
        // A factor never used before, so the indicator is really recomputed (not reused).
        let nonce = 1000 + (std::process::id() % 1000) * 10 + i;
        std::fs::write(
            &path,
            original.replace("factor = 100", &format!("factor = {nonce}")),
        )
        .expect("write");
        let r = run(datalab().args(["build", "--quiet", "--project", s(lab), "--format", "json"]));
        times.push(r.seconds);
    }
    std::fs::write(&path, original).expect("restore");
    println!(
        "build after editing one indicator: median {:.2} s of {:?} (goal < 2 s)",
        median(times.clone()),
        times.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>()
    );
}
