//! Helpers shared by the benchmarks: run a command and measure it.
#![allow(dead_code)]

pub mod serve;

use std::process::Command;
use std::time::Instant;

pub struct Run {
    pub seconds: f64,
    pub max_rss_mb: f64,
    pub stdout: String,
}

/// Runs a command and measures its wall time and peak RSS (wait4's rusage).
// The child is reaped by `libc::wait4` below, which std cannot see.
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> Run {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout {
        use std::io::Read;
        out.read_to_string(&mut stdout).expect("read stdout");
    }
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let st = std::process::ExitStatus::from_raw(status);
    assert!(st.success(), "{cmd:?} failed: {st}");
    Run {
        seconds: started.elapsed().as_secs_f64(),
        max_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        stdout,
    }
}

/// A synthetic city at `scale` in `root`, built (generated and built once; reused while its
/// warehouse exists). Returns the lab's folder.
pub fn built_city(root: &std::path::Path, scale: &str) -> std::path::PathBuf {
    let lab = root.join("lab");
    if lab.join(".datalab").is_dir() && lab.join("models").is_dir() {
        return lab;
    }
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    let _ = std::fs::remove_dir_all(root);
    let r = run(datalab().args(["synth", "--quiet", "--out", &path(root), "--scale", scale]));
    println!("synth scale {scale}: {:.1} s", r.seconds);
    let r = run(datalab().args(["build", "--quiet", "--project", &path(&lab)]));
    println!(
        "first build scale {scale} (sources, linkage, models, cube with forecasts): {:.1} s, peak RSS {:.0} MB",
        r.seconds, r.max_rss_mb
    );
    lab
}

/// A synthetic city at `scale` in `root`, built, with its annual public release and its
/// registry imported (what reports and the server are made from); made once and reused while
/// `root/lab/releases/annual/release.json` exists. Returns the lab's folder.
pub fn released_city(root: &std::path::Path, scale: &str) -> std::path::PathBuf {
    let lab = root.join("lab");
    if lab.join("releases/annual/release.json").is_file() {
        return lab;
    }
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    let _ = std::fs::remove_dir_all(root);
    let lab = built_city(root, scale);
    let r = run(datalab().args(["release", "--quiet", "--project", &path(&lab), "annual"]));
    println!("release annual: {:.1} s", r.seconds);
    let r = run(datalab().args([
        "registry",
        "import",
        "--quiet",
        "--project",
        &path(&lab),
        "--format",
        "csv",
        &path(&root.join("registry")),
    ]));
    println!("registry import: {:.1} s", r.seconds);
    lab
}

pub fn datalab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_datalab"))
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Makes DuckDB's Python package importable (installs it with pip when missing), for the
/// comparisons; a failed install shows up as a failed comparison.
pub fn ensure_duckdb() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let _ = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "duckdb"])
            .status();
    }
}
