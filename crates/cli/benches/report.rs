//! Report benchmark: time to render the synthetic city's annual report from its public release
//! (the whole `datalab report` command: project, release read through the gate's hash check,
//! template, charts and maps, typesetting), as PDF and HTML, in Italian and English, and a
//! district profile.
//!
//! Run: `cargo bench -p datalab --bench report -- [--scale 1] [--dir DIR] [--runs 5]` (release
//! profile). Prints a report on stdout; keep the numbers in the issue notes.

use std::path::{Path, PathBuf};

mod common;

use common::{arg, datalab, median, released_city, run};

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "1".into());
    let runs: usize = arg("--runs").map_or(5, |r| r.parse().expect("--runs N"));
    println!(
        "datalab report benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let root = dir.join(format!("city-scale-{scale}"));
    let lab = released_city(&root, &scale);
    let out = root.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    println!("\n| report | format | lang | median s ({runs} runs) | max RSS MB | bytes |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, format, lang, territory) in [
        ("annual", "pdf", "it", None),
        ("annual", "pdf", "en", None),
        ("annual", "html", "it", None),
        ("district_profile", "pdf", "it", Some("Q2")),
    ] {
        let file = out.join(format!("{name}.{lang}.{format}"));
        let mut times = Vec::new();
        let mut rss: f64 = 0.0;
        for _ in 0..runs {
            let mut cmd = datalab();
            cmd.args([
                "report",
                name,
                "--quiet",
                "--project",
                s(&lab),
                "--year",
                "2024",
                "--format",
                format,
                "--lang",
                lang,
                "--out",
                s(&file),
            ]);
            if let Some(t) = territory {
                cmd.args(["--territory", t]);
            }
            let r = run(&mut cmd);
            times.push(r.seconds);
            rss = rss.max(r.max_rss_mb);
        }
        let bytes = std::fs::metadata(&file).map_or(0, |m| m.len());
        println!(
            "| {name}{} | {format} | {lang} | {:.2} | {rss:.0} | {bytes} |",
            territory.map(|t| format!(" {t}")).unwrap_or_default(),
            median(times)
        );
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
