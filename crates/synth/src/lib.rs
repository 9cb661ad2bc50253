//! The synthetic city: a Modena-like municipality whose population is simulated year by year,
//! exported as the raw files its data holders would send (`custodian/`) with the custodian
//! specs and street table their pseudonymizer runs need, wired into a lab project (`lab/`)
//! that reads only the pseudonymized output, with the truth a test needs to grade the lab's
//! work (`truth/`).
//!
//! It owns the population model, the codice fiscale, the territory and its boundaries, the
//! custodian file formats and their deliberate dirt, and the synthetic registry of providers
//! and services (`registry/`, built with the registry crate and exported in its plain-CSV
//! format, with planted duplicates and stale records). It knows nothing about how files are
//! pseudonymized or read (the pseudo and ingest crates do): the only contract is the files
//! themselves and the specs it writes (`custodian/specs/*.toml`, `lab/sources/*.toml`); the
//! runs to make are listed by [`custodian_jobs`].
//! Output is a pure function of [`SynthOptions`]: same options, same bytes.
//! Extension points: a new custodian source is a module under `sources/` plus its custodian
//! spec in `custodian.rs` and its lab spec in `project.rs`; new dirt is a variant of
//! `dirty::Kind`.

mod custodian;
mod dirty;
mod names;
mod out;
mod places;
mod population;
mod project;
mod registry;
mod rng;
mod sources;
mod taxcode;
mod territory;
#[cfg(test)]
mod tests;
mod truth;

use std::path::{Path, PathBuf};

pub use custodian::{
    CUSTODIAN_SPECS_DIR, CustodianJob, KeyHolder, LAB_DATA_DIR, STREETS_FILE, custodian_jobs,
};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Output folder; `custodian/`, `lab/` and `truth/` are created inside it.
    pub out: PathBuf,
    /// 1.0 = about 185,000 residents and 85,000 households; fractions allowed (e.g. 0.01).
    pub scale: f64,
    pub seed: u64,
    pub first_year: i32,
    pub last_year: i32,
}

impl SynthOptions {
    /// Defaults: scale 1, seed 42, years 2019..=2024.
    pub fn new(out: impl Into<PathBuf>) -> SynthOptions {
        SynthOptions {
            out: out.into(),
            scale: 1.0,
            seed: 42,
            first_year: 2019,
            last_year: 2024,
        }
    }

    /// A rough count of the rows [`generate`] will write, i.e. the sum of the
    /// [`SynthProgress::Rows`] it reports (for progress bars).
    pub fn estimated_rows(&self) -> u64 {
        let years = (self.last_year - self.first_year + 1).max(0) as f64;
        // Register snapshots and their record links dominate.
        (self.scale * (530_000.0 * years + 200_000.0)) as u64
    }
}

/// What was generated.
#[derive(Clone, Debug, Default)]
pub struct SynthReport {
    pub residents_last_year: u64,
    pub households_last_year: u64,
    /// Every file written: path relative to `out`, data rows, bytes.
    pub files: Vec<(PathBuf, u64, u64)>,
}

/// Progress notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SynthProgress {
    /// A new stage starts (e.g. "simulating 2021").
    Stage(&'static str),
    /// This many more data rows were written (in all files) since the previous `Rows`.
    Rows(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The options make no sense.
    #[error("invalid options: {0}")]
    Options(String),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The XLSX writer failed.
    #[error("cannot write {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    /// The registry crate refused the synthetic registry or could not export it (a bug of the
    /// generator, or the output folder's fault for an export).
    #[error("synthetic registry: {0}")]
    Registry(String),
}

impl SynthError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> SynthError {
        SynthError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Generates the synthetic city under `opts.out`.
pub fn generate(
    opts: &SynthOptions,
    progress: &mut dyn FnMut(SynthProgress),
) -> Result<SynthReport, SynthError> {
    if !(opts.scale > 0.0 && opts.scale.is_finite()) {
        return Err(SynthError::Options(format!(
            "scale must be a positive number, got {}",
            opts.scale
        )));
    }
    if opts.first_year > opts.last_year {
        return Err(SynthError::Options(format!(
            "first year {} is after last year {}",
            opts.first_year, opts.last_year
        )));
    }
    if !(1950..=2100).contains(&opts.first_year) || !(1950..=2100).contains(&opts.last_year) {
        return Err(SynthError::Options(
            "years must be between 1950 and 2100".into(),
        ));
    }
    if (opts.scale * 85_000.0).round() < 1.0 {
        return Err(SynthError::Options(format!(
            "scale {} gives no households",
            opts.scale
        )));
    }
    sources::run(opts, progress)
}
