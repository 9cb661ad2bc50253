use super::UsageError;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Output folder: custodian/, lab/ and truth/ are written inside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Size: 1 is a city of about 185,000 residents, 10 a region-sized one; fractions allowed.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Years to simulate, as FIRST-LAST.
    #[arg(long, default_value = "2019-2024")]
    pub years: String,
    /// Write only the raw sources and specs: skip the custodian step (key, pseudonymization
    /// into lab/data/), to run `datalab pseudonymize` by hand.
    #[arg(long)]
    pub raw_only: bool,
}

pub fn parse_years(s: &str) -> Result<(i32, i32), UsageError> {
    let bad = || UsageError(format!("--years `{s}` is not of the form 2019-2024"));
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

pub fn options(
    out: PathBuf,
    scale: f64,
    seed: u64,
    years: &str,
) -> Result<synth::SynthOptions, UsageError> {
    let (first_year, last_year) = parse_years(years)?;
    Ok(synth::SynthOptions {
        out,
        scale,
        seed,
        first_year,
        last_year,
    })
}

/// Generates the city with a progress bar; returns the report.
pub fn generate(opts: &synth::SynthOptions, quiet: bool) -> anyhow::Result<synth::SynthReport> {
    let pb = crate::progress::spinner(quiet, "generating the synthetic city");
    let report = synth::generate(opts, &mut |p| match p {
        synth::SynthProgress::Stage(s) => pb.set_message(s),
        synth::SynthProgress::Rows(n) => pb.inc(n),
    })
    .map_err(|e| match e {
        synth::SynthError::Options(m) => anyhow::Error::new(UsageError(m)),
        other => anyhow::Error::new(other),
    })?;
    pb.finish_and_clear();
    // The lab project gets the standard indicator library, as `datalab init` gives it.
    project::library::install(&opts.out.join("lab"))?;
    Ok(report)
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let opts = options(args.out.clone(), args.scale, args.seed, &args.years)?;
    let started = std::time::Instant::now();
    let report = generate(&opts, quiet)?;
    if !quiet {
        eprintln!(
            "synthetic city in {} ({:.1}s): {} residents and {} households in {}",
            args.out.display(),
            started.elapsed().as_secs_f64(),
            crate::fmt::int(report.residents_last_year),
            crate::fmt::int(report.households_last_year),
            opts.last_year
        );
        for (path, rows, bytes) in &report.files {
            eprintln!(
                "  {:<48} {:>12} rows {:>10}",
                path.display(),
                crate::fmt::int(*rows),
                crate::fmt::bytes(*bytes)
            );
        }
    }
    if !args.raw_only {
        if let Some(done) = custodian_step(&args.out, quiet)?
            && !quiet
        {
            eprintln!(
                "custodian step (keys and lookups in custodian/, pseudonymized data in lab/data/):"
            );
            crate::custodian::print(&done);
        }
        if !quiet {
            eprintln!(
                "\nnext:\n  datalab build --project {}",
                args.out.join("lab").display()
            );
        }
    }
    Ok(())
}

/// The custodian step for the lab project in `out/lab`.
pub fn custodian_step(
    out: &std::path::Path,
    quiet: bool,
) -> anyhow::Result<Option<Vec<crate::custodian::Done>>> {
    let lab = super::load_project(&out.join("lab"))?;
    crate::custodian::run(out, &lab.config.name, quiet)
}
