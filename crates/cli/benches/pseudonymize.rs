//! Pseudonymization benchmark: end-to-end throughput of `datalab pseudonymize` on the register
//! of the synthetic city (one core, streaming), against the raw HMAC-SHA256 speed of the same
//! machine measured in the same run (the crate's own HMAC, and `openssl speed -hmac sha256`
//! when openssl is installed).
//!
//! Run: `cargo bench -p datalab --bench pseudonymize -- [--scale 10] [--dir DIR]` (release
//! profile). Prints a report on stdout; keep the numbers in the issue notes.

mod common;

use common::{arg, datalab, median, run};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const PASSPHRASE: &str = "benchmark passphrase, synthetic data";
/// Pseudonyms per register row in the synthetic city's register spec: register id, tax code,
/// name-and-birth, household.
const HMACS_PER_ROW: f64 = 4.0;

fn main() {
    let scale = arg("--scale").unwrap_or_else(|| "10".into());
    let root = PathBuf::from(arg("--dir").unwrap_or_else(|| "/work/bench".into()));
    let city = root.join(format!("pseudo-scale-{scale}"));
    if !city.join("custodian/specs/register.toml").is_file() {
        eprintln!(
            "generating the scale-{scale} city (raw sources only) in {}",
            city.display()
        );
        run(datalab()
            .args(["-q", "synth", "--raw-only", "--scale", &scale, "--out"])
            .arg(&city));
    }
    let key = city.join("custodian/bench.key");
    if !key.is_file() {
        run(datalab()
            .env("DATALAB_KEY_PASSPHRASE", PASSPHRASE)
            .args(["-q", "key", "new", "--lab", "bench", "--out"])
            .arg(&key));
    }
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(city.join("custodian/anagrafe"))
        .expect("anagrafe folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("anagrafe_"))
        })
        .collect();
    inputs.sort();
    let bytes: u64 = inputs
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();

    println!(
        "# pseudonymization, scale {scale} register ({} files, {:.1} MB)",
        inputs.len(),
        bytes as f64 / 1e6
    );
    let (hmac_64, hmac_16) = crate_hmac();
    println!(
        "crate HMAC-SHA256, one core: {:.2} M/s on 64-byte messages ({:.0} MB/s), {:.2} M/s on 16-byte tax codes",
        hmac_64 / 1e6,
        hmac_64 * 64.0 / 1e6,
        hmac_16 / 1e6
    );
    let openssl = openssl_hmac();
    if let Some(o) = openssl {
        println!(
            "openssl speed -hmac sha256, 64-byte blocks: {:.2} M/s ({:.0} MB/s)",
            o / 1e6,
            o * 64.0 / 1e6
        );
    }

    let out = city.join("bench-out");
    let mut times = Vec::new();
    let mut rss = 0.0f64;
    let mut rows = 0u64;
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(&out);
        let mut cmd = one_core(datalab());
        cmd.env("DATALAB_KEY_PASSPHRASE", PASSPHRASE)
            .args(["-q", "pseudonymize", "--format", "json", "--key"])
            .arg(&key)
            .arg("--spec")
            .arg(city.join("custodian/specs/register.toml"))
            .args(&inputs)
            .arg("--out")
            .arg(out.join("data"))
            .arg("--lookup")
            .arg(out.join("lookup.csv"));
        let r = run(&mut cmd);
        let acc: serde_json::Value = serde_json::from_str(&r.stdout).expect("accounting json");
        rows = acc["rows_in"].as_u64().unwrap_or(0);
        times.push(r.seconds);
        rss = rss.max(r.max_rss_mb);
    }
    let t = median(times);
    let rows_s = rows as f64 / t;
    let limit = hmac_64 / HMACS_PER_ROW;
    println!(
        "datalab pseudonymize, one core, end to end (read CSV, validate tax codes, 4 pseudonyms a row, write Parquet, lookup, quarantine, guard check of the output): {rows} rows in {t:.2} s = {:.0} rows/s, {:.1} MB/s, peak RSS {rss:.0} MB",
        rows_s,
        bytes as f64 / 1e6 / t
    );
    println!(
        "HMAC limit at {HMACS_PER_ROW} pseudonyms a row: {:.0} rows/s; end to end reaches {:.0}% of it (goal: at least 50%)",
        limit,
        100.0 * rows_s / limit
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// A command pinned to CPU 0.
fn one_core(mut cmd: Command) -> Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: sched_setaffinity is async-signal-safe; the set is initialized before use.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// HMACs per second of the crate's pseudonymizer (keyed state cloned per call), on 64-byte and
/// 16-byte messages, median of 3.
fn crate_hmac() -> (f64, f64) {
    let ring = pseudo::keys::KeyRing::generate("bench", "city").expect("key");
    let p = ring.pseudonymizer("tax_code", false);
    let measure = |msg: &str| {
        let n = 2_000_000u32;
        median(
            (0..3)
                .map(|_| {
                    let mut out = String::with_capacity(32);
                    let t = Instant::now();
                    for _ in 0..n {
                        out.clear();
                        p.write(std::hint::black_box(msg), &mut out);
                        std::hint::black_box(&out);
                    }
                    n as f64 / t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let m64 = "A".repeat(64);
    (measure(&m64), measure("RSSMRA85T10A562S"))
}

/// `openssl speed -hmac sha256` on 64-byte blocks, in operations per second.
fn openssl_hmac() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "2", "-bytes", "64", "-hmac", "sha256"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The last line: "hmac(sha256)   123456.78k" (thousands of bytes per second).
    let line = text.lines().rev().find(|l| l.starts_with("hmac"))?;
    let k: f64 = line
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(k * 1000.0 / 64.0)
}
