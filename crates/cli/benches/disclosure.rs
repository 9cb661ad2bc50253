//! Disclosure benchmark: the gate on the synthetic city at scale 10 — a three-dimensional
//! hierarchical frequency table (people in minimum-income households by zone within district
//! within the city x age band x citizenship) and a magnitude table (amounts paid by zone x
//! measure x household type): primary and secondary suppressions,
//! information loss, wall time of the release, and the attacker's time on the result.
//!
//! Run: `cargo bench -p datalab --bench disclosure -- [--scale 10] [--dir DIR]` (release
//! profile). Prints a report on stdout; keep the numbers in the issue notes.
//!
//! Reference: sdcTable is not packaged in Debian (bookworm has r-base-core but no
//! r-cran-sdctable, and CRAN is not reachable here); τ-ARGUS is a Windows program (`piargus`
//! on PyPI only drives it). With `--reference PYTHON` the benchmark instead hands each frame to
//! `benches/reference/optimal_suppression.py`: the exact cell-suppression model that τ-ARGUS's
//! "Optimal" method solves (Fischetti and Salazar-González 2001), solved by HiGHS, under the
//! same costs. Frames too large for the full model are compared district by district (the
//! district's zones x the other dimensions, with the district as the total), our heuristic
//! running on the same subtables. The attacker checks the reference's patterns too.

use std::path::{Path, PathBuf};
use std::time::Instant;

use disclosure::release::files::ProtectionRecord;
use disclosure::{Dim, Kind, Protection, Table, attack, suppress};

mod common;

use common::{arg, datalab, run};

/// The largest full reference model (deviation variables = primaries x 2 x cells) tried on a
/// whole frame; larger frames are split by district.
const REFERENCE_MAX_VARS: usize = 400_000;

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "10".into());
    println!(
        "datalab disclosure benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let root = dir.join(format!("indicators-scale-{scale}"));
    let lab = root.join("lab");
    if !lab.join(".datalab").is_dir() {
        let _ = std::fs::remove_dir_all(&root);
        let r = run(datalab().args(["synth", "--quiet", "--out", s(&root), "--scale", &scale]));
        println!("synth scale {scale}: {:.1} s", r.seconds);
        let r = run(datalab().args(["build", "--quiet", "--project", s(&lab)]));
        println!("first build scale {scale}: {:.1} s", r.seconds);
    }
    std::fs::create_dir_all(lab.join("releases")).expect("releases dir");
    std::fs::write(lab.join("releases/bench.toml"), BENCH_RELEASE).expect("write bench.toml");
    let _ = std::fs::remove_dir_all(lab.join(".datalab/releases/bench"));
    let _ = std::fs::remove_dir_all(lab.join("releases/bench"));
    let r = run(datalab().args(["release", "--quiet", "--project", s(&lab), "bench"]));
    println!(
        "\n== datalab release bench, scale {scale}: {:.2} s wall",
        r.seconds
    );
    let log: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lab.join("releases/bench/release.json")).expect("release log"),
    )
    .expect("json");
    println!(
        "{:<18} {:<10} {:>6} {:>6} {:>8} {:>10} {:>14} {:>8}",
        "frame", "kind", "dims", "cells", "primary", "secondary", "value hidden", "seconds"
    );
    for f in log["frames"].as_array().expect("frames") {
        let dims: Vec<String> = f["dims"]
            .as_array()
            .expect("dims")
            .iter()
            .map(|d| d["name"].as_str().unwrap_or("").to_string())
            .collect();
        println!(
            "{:<18} {:<10} {:>6} {:>6} {:>8} {:>10} {:>13.2}% {:>8.2}",
            f["id"].as_str().unwrap_or(""),
            f["kind"].as_str().unwrap_or(""),
            dims.len(),
            f["cells"],
            f["primary"],
            f["secondary"],
            f["suppressed_value_share"].as_f64().unwrap_or(0.0).abs() * 100.0,
            f["seconds"].as_f64().unwrap_or(0.0)
        );
        println!("{:<18} dimensions: {}", "", dims.join(" x "));
    }
    println!(
        "attacker at release time: {} suppressed cells, {} breaches",
        log["attack"]["suppressed_cells"], log["attack"]["breaches"]
    );
    let r = run(datalab().args(["attack", "--quiet", s(&lab.join("releases/bench"))]));
    println!(
        "datalab attack releases/bench: {:.2} s wall (exit status ok)",
        r.seconds
    );
    if let Some(python) = arg("--reference") {
        let limit = arg("--time-limit").unwrap_or_else(|| "300".into());
        reference(&lab, &dir.join("reference"), &python, &limit);
    }
}

/// The benchmark's release: the issue's two tables. People in minimum-income households by
/// zone within district within the city x age band x citizenship (frequency), and amounts
/// paid by zone x measure x household type (magnitude).
const BENCH_RELEASE: &str = r#"format_version = 1
title = "disclosure benchmark"
audience = "public"
purpose = "benchmark of the disclosure gate"

[[table]]
name = "people_by_zone_age_citizenship"
query = """
SELECT r.person, r.zone, r.age_band, r.citizenship_group
FROM residents r
JOIN min_income_households m ON m.year = r.year AND m.household = r.household
WHERE r.year = (SELECT max(year) FROM min_income_households)
"""
unit = "person"
territory = "zone"
levels = ["municipality", "district", "zone"]
dimensions = ["age_band", "citizenship_group"]

[[table]]
name = "paid_by_zone_measure_household_type"
query = """
SELECT household, zone, measure, household_type, paid_in_year FROM min_income_households
WHERE year = (SELECT max(year) FROM min_income_households)
"""
unit = "household"
territory = "zone"
levels = ["municipality", "district", "zone"]
dimensions = ["measure", "household_type"]
measure = "paid_in_year"
"#;

/// One problem for the reference: a table with its values, what is shown and the primaries.
struct Problem {
    table: Table,
    fixed: Vec<bool>,
    primary: Vec<(usize, Protection)>,
}

/// Compares our heuristic with the exact model on each frame of the bench release (or on
/// its district subtables when the frame is too large for the full model).
fn reference(lab: &Path, out: &Path, python: &str, limit: &str) {
    let record: ProtectionRecord = serde_json::from_slice(
        &std::fs::read(lab.join(".datalab/releases/bench/protection.json"))
            .expect("protection.json"),
    )
    .expect("protection record");
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).expect("reference dir");
    let mut problems = Vec::new();
    for frame in record.frames.iter().filter(|f| !f.values.is_empty()) {
        let problem = whole(frame);
        let vars = problem.primary.len() * 2 * problem.table.cells.len();
        if vars <= REFERENCE_MAX_VARS {
            problems.push(problem);
        } else {
            problems.extend(by_district(&problem));
        }
    }
    println!(
        "\n== reference: the exact model (HiGHS, time limit {limit} s) vs datalab's heuristic"
    );
    println!(
        "{:<44} {:>5} {:>5} | {:>5} {:>8} {:>7} | {:>11} {:>5} {:>8} {:>8} {:>7} {:>6}",
        "table",
        "cells",
        "prim",
        "ours",
        "cost",
        "s",
        "reference",
        "sec",
        "cost",
        "bound",
        "s",
        "attack"
    );
    let mut sum = [0.0f64; 6];
    for (k, p) in problems.iter().enumerate() {
        if p.primary.is_empty() {
            continue;
        }
        let started = Instant::now();
        let locked = (0..p.table.cells.len())
            .filter(|&c| p.fixed[c] && !p.table.cells[c].structural_zero)
            .collect();
        let options = suppress::Options {
            locked,
            ..suppress::Options::default()
        };
        let ours = suppress::secondary(&p.table, &p.primary, &options).expect("our heuristic");
        let our_seconds = started.elapsed().as_secs_f64();
        let max = p.table.cells.iter().map(|c| c.value).fold(1.0f64, f64::max);
        let cost = |cells: &[usize]| -> f64 {
            cells
                .iter()
                .chain(p.primary.iter().map(|(c, _)| c))
                .filter(|&&c| p.table.cells[c].published)
                .map(|&c| 1.0 + p.table.cells[c].value / max)
                .sum()
        };
        let file = out.join(format!("{k:03}.json"));
        std::fs::write(&file, serde_json::to_vec(&problem_json(p)).expect("json")).expect("write");
        let solved = std::process::Command::new(python)
            .arg("crates/cli/benches/reference/optimal_suppression.py")
            .args(["--time-limit", limit])
            .arg(&file)
            .output()
            .expect("run the reference (is the --reference Python there?)");
        assert!(
            solved.status.success(),
            "reference failed: {}",
            String::from_utf8_lossy(&solved.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&solved.stdout).expect("reference json");
        let theirs: Option<Vec<usize>> = r["secondary"].as_array().map(|a| {
            a.iter()
                .map(|v| v.as_u64().expect("cell") as usize)
                .collect()
        });
        let verdict = match &theirs {
            Some(t) => {
                if breaches(p, t) == 0 {
                    "ok"
                } else {
                    "BROKEN"
                }
            }
            None => "-",
        };
        let their_count = theirs.as_ref().map_or(f64::NAN, |t| t.len() as f64);
        let their_cost = r["objective"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<44} {:>5} {:>5} | {:>5} {:>8.2} {:>7.2} | {:>11} {:>5} {:>8.2} {:>8.2} {:>7.2} {:>6}",
            p.table.name,
            p.table.cells.len(),
            p.primary.len(),
            ours.secondary.len(),
            cost(&ours.secondary),
            our_seconds,
            r["status"].as_str().unwrap_or("?"),
            their_count,
            their_cost,
            r["bound"].as_f64().unwrap_or(f64::NAN),
            r["seconds"].as_f64().unwrap_or(f64::NAN),
            verdict
        );
        for (s, v) in sum.iter_mut().zip([
            ours.secondary.len() as f64,
            cost(&ours.secondary),
            our_seconds,
            their_count,
            their_cost,
            r["seconds"].as_f64().unwrap_or(f64::NAN),
        ]) {
            if v.is_finite() {
                *s += v;
            }
        }
    }
    println!(
        "{:<44} {:>5} {:>5} | {:>5} {:>8.2} {:>7.2} | {:>11} {:>5} {:>8.2} {:>8} {:>7.2}",
        "total", "", "", sum[0], sum[1], sum[2], "", sum[3], sum[4], "", sum[5]
    );
    println!("(reference totals count only the tables where it found a pattern)");
}

/// Attacker breaches of a pattern (primaries plus `secondary`) on a problem.
fn breaches(p: &Problem, secondary: &[usize]) -> usize {
    let mut shown: Vec<bool> = p.table.cells.iter().map(|c| c.published).collect();
    for &c in secondary.iter().chain(p.primary.iter().map(|(c, _)| c)) {
        shown[c] = false;
    }
    let k = attack::Knowledge::from_table(&p.table, &shown);
    let sensitive: Vec<(usize, f64, Protection)> = p
        .primary
        .iter()
        .map(|&(c, pr)| (c, p.table.cells[c].value, pr))
        .collect();
    attack::check(&k, &sensitive).expect("attack").len()
}

fn whole(frame: &disclosure::release::files::FrameRecord) -> Problem {
    let mut table = Table::new(&frame.id, Kind::Frequency, frame.dims.clone());
    for (cell, v) in table.cells.iter_mut().zip(&frame.values) {
        cell.value = *v;
        cell.published = false;
    }
    for &(c, _) in &frame.published {
        table.cells[c].published = true;
    }
    for &(c, _) in &frame.intervals {
        table.cells[c].published = true;
    }
    let mut fixed = vec![false; table.cells.len()];
    for &c in &frame.fixed {
        fixed[c] = true;
    }
    for &c in &frame.fixed {
        table.cells[c].structural_zero = table.cells[c].value == 0.0;
    }
    let primary = frame.sensitive.iter().map(|&(c, _, pr)| (c, pr)).collect();
    Problem {
        table,
        fixed,
        primary,
    }
}

/// The frame cut into one subtable per child of the territory total (district): the
/// district's subtree x the other dimensions, the district as the total.
fn by_district(p: &Problem) -> Vec<Problem> {
    // the territory: the deepest dimension
    let depth = |d: &Dim| (0..d.len()).map(|i| d.depth(i)).max().unwrap_or(0);
    let t = (0..p.table.dims.len())
        .max_by_key(|&k| depth(&p.table.dims[k]))
        .expect("a dimension");
    let dim = &p.table.dims[t];
    // the first node below the total with more than one child (the municipality's districts)
    let mut top = 0;
    while let [only] = dim.children(top)[..] {
        top = only;
    }
    let mut subs = Vec::new();
    for d in dim.children(top) {
        // the subtree of d, d first
        let mut members = vec![d];
        let mut i = 0;
        while i < members.len() {
            members.extend(dim.children(members[i]));
            i += 1;
        }
        let parent = members
            .iter()
            .map(|&m| {
                if m == d {
                    None
                } else {
                    members.iter().position(|&x| Some(x) == dim.parent[m])
                }
            })
            .collect();
        let sub_dim = Dim {
            name: dim.name.clone(),
            codes: members.iter().map(|&m| dim.codes[m].clone()).collect(),
            parent,
        };
        let mut dims = p.table.dims.clone();
        dims[t] = sub_dim;
        let name = format!("{} {}", p.table.name, dim.codes[d]);
        let mut table = Table::new(&name, p.table.kind, dims);
        let mut fixed = vec![false; table.cells.len()];
        let mut full_of = vec![0usize; table.cells.len()];
        for (j, f) in full_of.iter_mut().enumerate() {
            let mut coords = table.coords(j);
            coords[t] = members[coords[t]];
            *f = p.table.index(&coords);
            table.cells[j] = p.table.cells[*f].clone();
            fixed[j] = p.fixed[*f];
        }
        let primary = p
            .primary
            .iter()
            .filter_map(|&(c, pr)| full_of.iter().position(|&f| f == c).map(|j| (j, pr)))
            .collect();
        subs.push(Problem {
            table,
            fixed,
            primary,
        });
    }
    subs
}

fn problem_json(p: &Problem) -> serde_json::Value {
    let constraints: Vec<(usize, Vec<usize>)> = p
        .table
        .constraints()
        .into_iter()
        .map(|c| (c.total, c.parts))
        .collect();
    serde_json::json!({
        "name": p.table.name,
        "value": p.table.cells.iter().map(|c| c.value).collect::<Vec<_>>(),
        "shown": p.table.cells.iter().map(|c| c.published).collect::<Vec<_>>(),
        "fixed": p.fixed,
        "constraints": constraints,
        "primary": p.primary.iter().map(|&(c, pr)| (c, pr.lower, pr.upper)).collect::<Vec<_>>(),
        "value_weight": 1.0,
    })
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
