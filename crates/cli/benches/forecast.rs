//! Forecast benchmark: every indicator series of a synthetic city's cube (each indicator ×
//! territory × breakdown, yearly 2019–2024) forecast 3 periods ahead with the automatic method
//! and with ETS alone; wall time in total and per series, and which methods `auto` chose.
//!
//! Run: `cargo bench -p datalab --bench forecast -- [--scale 10] [--dir DIR]` (release
//! profile). The city is generated and built once and reused; reading the cube is not timed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;

use common::{arg, datalab, run};
use forecast::ts::{self, Frequency, Method, Series};

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "10".into());
    println!(
        "datalab forecast benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let lab = city(&dir.join(format!("forecast-scale-{scale}")), &scale);
    let series = cube_series(&lab);
    println!(
        "scale {scale}: {} series with a value in every period",
        series.len()
    );
    for method in [Method::Auto, Method::Ets] {
        let t = Instant::now();
        let mut chosen: BTreeMap<String, usize> = BTreeMap::new();
        let mut failed = 0usize;
        for values in series.values() {
            let s = Series::new(values.clone(), Frequency::Yearly).expect("finite values");
            match method {
                Method::Auto => match ts::auto_forecast(&s, 3, 95.0) {
                    Ok(c) => *chosen.entry(c.chosen.name().to_string()).or_default() += 1,
                    Err(_) => failed += 1,
                },
                _ => match ts::forecast(&s, method, 3, 95.0) {
                    Ok(f) => *chosen.entry(f.model).or_default() += 1,
                    Err(_) => failed += 1,
                },
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{}: {:.2} s for {} series ({:.2} ms each), {failed} not forecast; chosen: {chosen:?}",
            method.name(),
            secs,
            series.len(),
            1000.0 * secs / series.len().max(1) as f64
        );
    }
}

/// A built city (generated and built once; reused by later runs).
fn city(root: &Path, scale: &str) -> PathBuf {
    let lab = root.join("lab");
    if lab.join(".datalab").is_dir() && lab.join("models").is_dir() {
        return lab;
    }
    let _ = std::fs::remove_dir_all(root);
    let r = run(datalab().args(["synth", "--quiet", "--out", s(root), "--scale", scale]));
    println!("synth scale {scale}: {:.1} s", r.seconds);
    let r = run(datalab().args(["build", "--quiet", "--project", s(&lab)]));
    println!("first build scale {scale}: {:.1} s", r.seconds);
    lab
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every yearly series of the cube with a value in each of its periods, keyed by
/// (indicator, territory, breakdown).
fn cube_series(lab: &Path) -> BTreeMap<(String, String, String), Vec<f64>> {
    let out = datalab()
        .args([
            "query",
            "--quiet",
            "--format",
            "csv",
            "--project",
            s(lab),
            "SELECT c.indicator, c.territory, c.breakdown, c.value FROM cube c \
             JOIN indicators i ON c.indicator = i.series WHERE i.period = 'year' \
             ORDER BY c.indicator, c.territory, c.breakdown, c.period",
        ])
        .output()
        .expect("datalab query runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut series: BTreeMap<(String, String, String), Vec<Option<f64>>> = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    for record in reader.records() {
        let r = record.expect("csv record");
        let key = (r[0].to_string(), r[1].to_string(), r[2].to_string());
        series.entry(key).or_default().push(r[3].parse().ok());
    }
    series
        .into_iter()
        .filter_map(|(k, v)| v.into_iter().collect::<Option<Vec<f64>>>().map(|v| (k, v)))
        .collect()
}
