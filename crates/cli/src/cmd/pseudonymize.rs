//! `datalab pseudonymize`: custodian side. Raw files in, pseudonymized Parquet out (for the lab),
//! plus the lookup table and the quarantine (both stay with the custodian).

use super::UsageError;
use crate::Format;
use ingest::read::{Cell, Row, Sink};
use pseudo::keys::KeyRing;
use pseudo::pipeline::{Accounting, FileRun, Run};
use pseudo::spec::CustodianSpec;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// The custodian's key file (passphrase from DATALAB_KEY_PASSPHRASE or the terminal).
    #[arg(long)]
    pub key: PathBuf,
    /// The custodian spec: how the raw file is read and what happens to each column.
    #[arg(long)]
    pub spec: PathBuf,
    /// Raw input file(s) of the spec's source.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output: a `.parquet` file for one input, else a folder receiving `<input stem>.parquet`.
    #[arg(long)]
    pub out: PathBuf,
    /// The lookup table (pseudonym -> identifier) to write: it never leaves the custodian.
    #[arg(long)]
    pub lookup: PathBuf,
    /// Where rows that cannot be pseudonymized go (default: next to the lookup,
    /// `<lookup stem>.quarantine.csv`).
    #[arg(long)]
    pub quarantine: Option<PathBuf>,
    /// How to print the accounting.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    super::key::refuse_lab_side(&args.lookup)?;
    let key = super::key::open_key(&args.key)?;
    let spec = CustodianSpec::load(&args.spec).map_err(|e| UsageError(e.to_string()))?;
    let acc = pseudonymize(
        &spec,
        &key,
        &args.inputs,
        &args.out,
        &args.lookup,
        args.quarantine.as_deref(),
        quiet,
    )?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&acc)?),
        _ if quiet => {}
        _ => print_accounting(&spec, &acc, &args.lookup),
    }
    Ok(())
}

/// Where each input's output goes.
pub fn output_paths(inputs: &[PathBuf], out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if inputs.len() == 1 && out.extension().is_some_and(|e| e == "parquet") {
        return Ok(vec![out.to_path_buf()]);
    }
    let mut seen = std::collections::HashSet::new();
    inputs
        .iter()
        .map(|i| {
            let stem = i
                .file_stem()
                .ok_or_else(|| UsageError(format!("{} has no file name", i.display())))?;
            let p = out.join(format!("{}.parquet", stem.to_string_lossy()));
            if !seen.insert(p.clone()) {
                anyhow::bail!(UsageError(format!(
                    "two inputs would both write {}",
                    p.display()
                )));
            }
            Ok(p)
        })
        .collect()
}

/// Runs the pseudonymizer over `inputs`, then checks every output with the lab's identifier
/// guard: an output that would be refused in the lab is deleted and the run fails.
pub fn pseudonymize(
    spec: &CustodianSpec,
    key: &KeyRing,
    inputs: &[PathBuf],
    out: &Path,
    lookup: &Path,
    quarantine: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<Accounting> {
    let outputs = output_paths(inputs, out)?;
    let quarantine = quarantine.map_or_else(
        || {
            let stem = lookup
                .file_stem()
                .map_or("lookup".into(), |s| s.to_string_lossy().to_string());
            lookup.with_file_name(format!("{stem}.quarantine.csv"))
        },
        Path::to_path_buf,
    );
    let total: u64 = inputs
        .iter()
        .map(|i| std::fs::metadata(i).map_or(0, |m| m.len()))
        .sum();
    let bar = crate::progress::bytes_bar(quiet, &format!("pseudonymizing {}", spec.source), total);
    let mut run = Run::new(spec, key, lookup, &quarantine)?;
    let mut done = 0u64;
    for (input, output) in inputs.iter().zip(&outputs) {
        let bytes = std::fs::metadata(input).map_or(0, |m| m.len());
        let name = input
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().to_string());
        let file = run.file(&name, bytes, output)?;
        let mut sink = PseudoSink {
            file,
            bar: &bar,
            base: done,
            error: None,
            scratch: Vec::new(),
            nulls: &spec.read.null_values,
        };
        let mut read = spec.read.clone();
        read.files = vec![input.display().to_string()];
        ingest::read::read_file(&read, input, &mut sink)?;
        if let Some(e) = sink.error {
            return Err(e.into());
        }
        sink.file.finish()?;
        done += bytes;
        bar.set_position(done);
    }
    let acc = run.finish()?;
    bar.finish_and_clear();
    // The output must pass the lab's guard: the pipeline scanned every text value it wrote.
    if !acc.findings.is_empty() {
        for o in &outputs {
            let _ = std::fs::remove_file(o);
        }
        let list: Vec<String> = acc
            .findings
            .iter()
            .map(|f| {
                format!(
                    "`{}` ({}, e.g. {})",
                    f.column,
                    f.kind,
                    f.examples.join(", ")
                )
            })
            .collect();
        anyhow::bail!(UsageError(format!(
            "{}: the output would still hold direct identifiers in column {}; outputs deleted. Drop, pseudonymize or generalize those columns in {}",
            out.display(),
            list.join("; "),
            spec.file.display()
        )));
    }
    Ok(acc)
}

fn print_accounting(spec: &CustodianSpec, acc: &Accounting, lookup: &Path) {
    let int = |n: u64| crate::fmt::int(n);
    eprintln!(
        "{}: {} file(s), {} rows in = {} pseudonymized + {} quarantined",
        spec.source,
        acc.files.len(),
        int(acc.rows_in),
        int(acc.rows_pseudonymized),
        int(acc.rows_quarantined)
    );
    if !acc.quarantine_rules.is_empty() {
        let rules: Vec<String> = acc
            .quarantine_rules
            .iter()
            .map(|(k, v)| format!("{k} {}", int(*v)))
            .collect();
        eprintln!("  quarantined by rule: {}", rules.join(", "));
    }
    for (col, n) in &acc.pseudonyms {
        let weak = acc.weak.get(col).copied().unwrap_or(0);
        eprintln!(
            "  {col}: {} pseudonyms{}",
            int(*n),
            if weak > 0 {
                format!(" ({} weak: from name, birth date and sex)", int(weak))
            } else {
                String::new()
            }
        );
    }
    for (col, n) in &acc.not_generalized {
        eprintln!("  {col}: {} values not generalized (left empty)", int(*n));
    }
    if !acc.unread_columns.is_empty() {
        eprintln!(
            "  not in the spec, never read: {}",
            acc.unread_columns.join(", ")
        );
    }
    eprintln!(
        "  lookup: {} ({} identifiers; it stays with the custodian)",
        lookup.display(),
        int(acc.lookup_entries)
    );
    for f in &acc.files {
        eprintln!("  {} -> {}", f.input, f.output);
    }
}

struct PseudoSink<'f, 'r, 's> {
    file: FileRun<'r, 's>,
    bar: &'f indicatif::ProgressBar,
    base: u64,
    error: Option<pseudo::pipeline::RunError>,
    scratch: Vec<Option<String>>,
    /// Cell texts that mean "no value".
    nulls: &'f [String],
}

impl Sink for PseudoSink<'_, '_, '_> {
    fn header(&mut self, names: &[String]) {
        self.file.header(names);
    }

    fn row(&mut self, row: &Row<'_, '_>) -> Result<(), ingest::IngestError> {
        if self.error.is_some() {
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.extend(row.cells.iter().map(|c| match c {
            Cell::Text(_) => None,
            // An Excel date is a date-time at midnight: keep it a date.
            Cell::DateTime(d) if d.time() == chrono::NaiveTime::MIN => {
                Some(d.date().format("%Y-%m-%d").to_string())
            }
            other => other.raw(),
        }));
        let cells: Vec<Option<&str>> = row
            .cells
            .iter()
            .zip(&self.scratch)
            .map(|(c, s)| match c {
                Cell::Text(t) => {
                    let t: &str = match t {
                        Cow::Borrowed(b) => b,
                        Cow::Owned(o) => o.as_str(),
                    };
                    (!t.trim().is_empty() && !self.nulls.iter().any(|n| n == t)).then_some(t)
                }
                _ => s.as_deref(),
            })
            .collect();
        if let Err(e) = self.file.row(row.line, &cells, row.problem.as_deref()) {
            self.error = Some(e);
        }
        Ok(())
    }

    fn progress(&mut self, bytes: u64) {
        self.bar.set_position(self.base + bytes);
    }
}
