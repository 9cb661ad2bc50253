//! Disclosure benchmark: the gate on the synthetic city at scale 10 — a three-dimensional
//! hierarchical frequency table (people in minimum-income households by zone within district
//! within the city x age band x citizenship) and a
//! magnitude table (amounts paid by zone x measure): primary and secondary suppressions,
//! information loss, wall time of the release, and the attacker's time on the result.
//!
//! Run: `cargo bench -p datalab --bench disclosure -- [--scale 10] [--dir DIR]` (release
//! profile). Prints a report on stdout; keep the numbers in the issue notes.
//!
//! Reference tools: sdcTable is not packaged in Debian (bookworm has r-base-core but no
//! r-cran-sdctable, and CRAN is not reachable here); τ-ARGUS is a Windows program (`piargus`
//! on PyPI only drives it). The comparison is therefore with our own pattern before pruning
//! and with the attacker as the judge.

use std::path::{Path, PathBuf};

mod common;

use common::{arg, datalab, run};

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
    // the synthetic city's annual release, as `datalab synth` writes it
    let spec = lab.join("releases/annual.toml");
    if !spec.is_file() {
        eprintln!(
            "{} has no releases/annual.toml: regenerate it with this datalab",
            lab.display()
        );
        std::process::exit(2);
    }
    let _ = std::fs::remove_dir_all(lab.join(".datalab/releases"));
    let r = run(datalab().args(["release", "--quiet", "--project", s(&lab), "annual"]));
    println!(
        "\n== datalab release annual, scale {scale}: {:.2} s wall",
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
            f["suppressed_value_share"].as_f64().unwrap_or(0.0) * 100.0,
            f["seconds"].as_f64().unwrap_or(0.0)
        );
        println!("{:<18} dimensions: {}", "", dims.join(" x "));
    }
    println!(
        "attacker at release time: {} suppressed cells, {} breaches",
        log["attack"]["suppressed_cells"], log["attack"]["breaches"]
    );
    let r = run(datalab().args(["attack", "--quiet", s(&lab.join("releases/annual"))]));
    println!(
        "datalab attack releases/annual: {:.2} s wall (exit status ok)",
        r.seconds
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
