//! Report benchmark: time to render the synthetic city's annual report from its public release
//! (the whole `datalab report` command: project, release read through the gate's hash check,
//! template, charts and maps, typesetting), as PDF and HTML, in Italian and English, and a
//! district profile.
//!
//! Run: `cargo bench -p datalab --bench report -- [--scale 1] [--dir DIR] [--runs 5]` (release
//! profile). Prints a report on stdout; keep the numbers in the issue notes.

use std::path::{Path, PathBuf};

mod common;

use common::{arg, datalab, median, run};

fn main() {
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "target/bench".into()));
    let scale = arg("--scale").unwrap_or_else(|| "1".into());
    let runs: usize = arg("--runs").map_or(5, |r| r.parse().expect("--runs N"));
    println!(
        "datalab report benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let root = dir.join(format!("reports-scale-{scale}"));
    let lab = root.join("lab");
    if !lab.join("releases/annual/release.json").is_file() {
        let _ = std::fs::remove_dir_all(&root);
        let r = run(datalab().args(["synth", "--quiet", "--out", s(&root), "--scale", &scale]));
        println!("synth scale {scale}: {:.1} s", r.seconds);
        let r = run(datalab().args(["build", "--quiet", "--project", s(&lab)]));
        println!("build: {:.1} s", r.seconds);
        let r = run(datalab().args(["release", "--quiet", "--project", s(&lab), "annual"]));
        println!("release annual: {:.1} s", r.seconds);
        let r = run(datalab().args([
            "registry",
            "import",
            "--quiet",
            "--project",
            s(&lab),
            "--format",
            "csv",
            s(&root.join("registry")),
        ]));
        println!("registry import: {:.1} s", r.seconds);
    }
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
