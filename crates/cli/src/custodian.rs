//! The synthetic city's custodian step, as the city and the labour agency would run it: the
//! city makes its key, shares it sealed with the agency, and both pseudonymize their raw
//! sources into the lab's `data/` folder. Keys, lookups and quarantines stay in `custodian/`.

use pseudo::keys::{KeyRing, PartnerIdentity};
use pseudo::pipeline::Accounting;
use pseudo::spec::CustodianSpec;
use std::path::{Path, PathBuf};
use synth::KeyHolder;

/// Used when `DATALAB_KEY_PASSPHRASE` is not set: the synthetic city's keys protect nothing
/// real. Never use it for real data.
pub const DEMO_PASSPHRASE: &str = "synthetic city demo passphrase";

/// Where the custodian step puts things, relative to the synth output folder.
pub const CITY_KEY: &str = "custodian/city.key";
pub const AGENCY_KEY: &str = "custodian/lavoro/agency.key";
const AGENCY_IDENTITY: &str = "custodian/lavoro/agency.identity";
const AGENCY_SHARE: &str = "custodian/lavoro/city-key.share";
pub const LOOKUP_DIR: &str = "custodian/lookup";
const MARKER: &str = "custodian/pseudonymized.json";

/// One source's result.
pub struct Done {
    pub source: String,
    pub accounting: Accounting,
}

fn passphrase() -> String {
    std::env::var(crate::env::DATALAB_KEY_PASSPHRASE.name)
        .unwrap_or_else(|_| DEMO_PASSPHRASE.to_string())
}

/// Runs the custodian step over the city in `out`, unless it already ran on the same files.
/// Returns `None` when reused.
pub fn run(out: &Path, lab_name: &str, quiet: bool) -> anyhow::Result<Option<Vec<Done>>> {
    let jobs = synth::custodian_jobs(out);
    let stamp = fingerprint(out, &jobs)?;
    let marker = out.join(MARKER);
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(stamp.as_str())
        && out.join(synth::LAB_DATA_DIR).is_dir()
    {
        return Ok(None);
    }
    let pass = passphrase();
    let city_key_path = out.join(CITY_KEY);
    let city = if city_key_path.is_file() {
        KeyRing::open(&city_key_path, &pass)?
    } else {
        let k = KeyRing::generate(lab_name, "Comune di Modena")?;
        k.save(&city_key_path, &pass)?;
        k
    };
    // The labour agency receives the city's key sealed to its own public key.
    let agency_key_path = out.join(AGENCY_KEY);
    let agency = if agency_key_path.is_file() {
        KeyRing::open(&agency_key_path, &pass)?
    } else {
        let identity = PartnerIdentity::generate("Agenzia regionale per il lavoro")?;
        identity.save(&out.join(AGENCY_IDENTITY), &pass)?;
        let share = city.seal_for(&identity.public())?;
        std::fs::write(out.join(AGENCY_SHARE), &share)?;
        let k = KeyRing::open_share(&share, &identity)?;
        k.save(&agency_key_path, &pass)?;
        k
    };
    // A fresh data folder: nothing stale survives.
    let data = out.join(synth::LAB_DATA_DIR);
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    let mut done = Vec::new();
    for job in &jobs {
        let spec = CustodianSpec::load(&out.join(&job.spec))
            .map_err(|e| anyhow::anyhow!(e.to_string()))?;
        let key = match job.holder_key {
            KeyHolder::City => &city,
            KeyHolder::LabourAgency => &agency,
        };
        let inputs: Vec<PathBuf> = job.inputs.iter().map(|i| out.join(i)).collect();
        let lookup = out.join(LOOKUP_DIR).join(format!("{}.csv", job.source));
        let accounting = crate::cmd::pseudonymize::pseudonymize(
            &spec,
            key,
            &inputs,
            &out.join(job.out_dir()),
            &lookup,
            None,
            quiet,
        )?;
        done.push(Done {
            source: job.source.clone(),
            accounting,
        });
    }
    std::fs::write(&marker, stamp)?;
    Ok(Some(done))
}

/// Sizes and modification times of every raw input and spec: the step reruns when one changes.
fn fingerprint(out: &Path, jobs: &[synth::CustodianJob]) -> anyhow::Result<String> {
    let mut parts = vec![format!("datalab {}", env!("CARGO_PKG_VERSION"))];
    for job in jobs {
        for p in job.inputs.iter().chain([&job.spec]) {
            let m = std::fs::metadata(out.join(p))?;
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            parts.push(format!("{} {} {t}", p.display(), m.len()));
        }
    }
    Ok(parts.join("\n"))
}

/// Prints one line per source.
pub fn print(done: &[Done]) {
    for d in done {
        let a = &d.accounting;
        let weak: u64 = a.weak.values().sum();
        eprintln!(
            "    {:<16} {:>10} rows in = {:>10} pseudonymized + {:>7} quarantined{}",
            d.source,
            crate::fmt::int(a.rows_in),
            crate::fmt::int(a.rows_pseudonymized),
            crate::fmt::int(a.rows_quarantined),
            if weak > 0 {
                format!(" ({} weak pseudonyms)", crate::fmt::int(weak))
            } else {
                String::new()
            }
        );
    }
}
