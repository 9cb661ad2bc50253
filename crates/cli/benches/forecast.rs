//! Forecast benchmark, on a synthetic city:
//! 1. every indicator series of the cube (each indicator × territory × breakdown with a value in
//!    every period, yearly 2019–2024) forecast 3 periods ahead, with the automatic method and
//!    with ETS alone, spread over the cores as the build does: wall time in total and per
//!    series, and which methods were chosen;
//! 2. the build's cube step with the city's `[forecast]` (every indicator's totals, 3 years,
//!    auto, reconciled by WLS) against the same step without it: what forecasts add to a build.
//!
//! Run: `cargo bench -p datalab --bench forecast -- [--scale 10] [--dir DIR]` (release
//! profile). The city is generated and built once and reused; reading the cube is not timed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

mod common;

use common::{arg, built_city, datalab, median};
use forecast::ts::{self, Frequency, Method, Series};
use ingest::Derive;
use rayon::prelude::*;

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "10".into());
    println!(
        "datalab forecast benchmark ({} cores)",
        rayon::current_num_threads()
    );
    let lab = built_city(&dir.join(format!("forecast-scale-{scale}")), &scale);
    let series = cube_series(&lab);
    println!(
        "\n== every series of the cube, scale {scale}: {} series with a value in every period",
        series.len()
    );
    let series: Vec<Vec<f64>> = series.into_values().collect();
    for method in [Method::Auto, Method::Ets] {
        let t = Instant::now();
        let chosen: Vec<Option<String>> = series
            .par_iter()
            .map(|values| {
                let s = Series::new(values.clone(), Frequency::Yearly).expect("finite values");
                match method {
                    Method::Auto => ts::auto_forecast(&s, 3, 95.0)
                        .ok()
                        .map(|c| c.chosen.name().to_string()),
                    _ => ts::forecast(&s, method, 3, 95.0).ok().map(|f| f.model),
                }
            })
            .collect();
        let secs = t.elapsed().as_secs_f64();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut failed = 0usize;
        for c in chosen {
            match c {
                Some(name) => *counts.entry(name).or_default() += 1,
                None => failed += 1,
            }
        }
        println!(
            "{}: {:.2} s for {} series ({:.2} ms each), {failed} not forecast; chosen: {counts:?}",
            method.name(),
            secs,
            series.len(),
            1000.0 * secs / series.len().max(1) as f64
        );
    }
    cube_step(&lab, &scale);
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The cube step with and without the project's `[forecast]`, every indicator recomputed.
fn cube_step(lab: &Path, scale: &str) {
    println!("\n== the cube step with and without forecasts, scale {scale}");
    let with = project::Project::load(lab).expect("project");
    let settings = with
        .config
        .forecast
        .clone()
        .expect("the synthetic city has [forecast]");
    let mut without = with.clone();
    without.config.forecast = None;
    let wh = engine::Warehouse::open(&with.data_dir()).expect("warehouse");
    let lock = wh.lock().expect("lock");
    let own = [
        indicators::CUBE,
        indicators::INDICATORS,
        indicators::TERRITORIES,
    ];
    let tables: BTreeMap<String, engine::SnapshotInfo> = wh
        .current()
        .expect("current")
        .into_iter()
        .filter(|s| !own.contains(&s.source.as_str()))
        .map(|s| (s.source.clone(), s))
        .collect();
    let time = |project: &project::Project| -> f64 {
        let runs: Vec<f64> = (0..3)
            .map(|_| {
                let c = indicators::Cube::new(project, true)
                    .with_forecaster(Arc::new(forecast::ts::Methods));
                let t = Instant::now();
                c.derive(&wh, &lock, &tables).expect("cube");
                t.elapsed().as_secs_f64()
            })
            .collect();
        median(runs)
    };
    let plain = time(&without);
    let forecasting = time(&with);
    let rows =
        |sql: &str| -> String { query_csv(lab, sql).lines().nth(1).unwrap_or("").to_string() };
    let counts = rows(
        "SELECT count(*), count(DISTINCT indicator || '|' || territory || '|' || breakdown), \
         CAST(sum(CASE WHEN flags LIKE '%reconciled%' THEN 1 ELSE 0 END) AS BIGINT) FROM cube WHERE forecast",
    );
    println!(
        "settings: horizon {:?}, method {}, level {}, reconcile {}, breakdowns {}",
        settings.horizon,
        settings.method.name(),
        settings.level,
        settings.reconcile.name(),
        settings.breakdowns
    );
    println!("forecast rows, series, reconciled rows: {counts}");
    println!(
        "cube step without forecasts: median {plain:.2} s; with forecasts: median {forecasting:.2} s; forecasts add {:.2} s",
        forecasting - plain
    );
}

/// Every yearly series of the cube with a value in each of its observed periods, keyed by
/// (indicator, territory, breakdown).
fn cube_series(lab: &Path) -> BTreeMap<(String, String, String), Vec<f64>> {
    let out = query_csv(
        lab,
        "SELECT c.indicator, c.territory, c.breakdown, c.value FROM cube c \
         JOIN indicators i ON c.indicator = i.series WHERE i.period = 'year' AND NOT c.forecast \
         ORDER BY c.indicator, c.territory, c.breakdown, c.period",
    );
    let mut series: BTreeMap<(String, String, String), Vec<Option<f64>>> = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(out.as_bytes());
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

/// `datalab query` as CSV.
fn query_csv(lab: &Path, sql: &str) -> String {
    let out = datalab()
        .args([
            "query",
            "--quiet",
            "--format",
            "csv",
            "--project",
            s(lab),
            sql,
        ])
        .output()
        .expect("datalab query runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
