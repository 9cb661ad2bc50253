//! `datalab reidentify`: custodian side only. Turns the lab's outreach list (pseudonyms with a
//! declared purpose) into people, with the key and the lookup tables, and writes an audit line.

use pseudo::reidentify::{AuditEntry, OutreachList};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The custodian's key file.
    #[arg(long)]
    pub key: PathBuf,
    /// Lookup table(s) written by `datalab pseudonymize` (files, or folders of them).
    #[arg(long, required = true)]
    pub lookup: Vec<PathBuf>,
    /// The outreach list from the lab.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// The outreach file to write (people to contact).
    #[arg(long)]
    pub out: PathBuf,
    /// The custodian's re-identification audit log (default: `reidentify-audit.jsonl` next to
    /// the key).
    #[arg(long)]
    pub audit: Option<PathBuf>,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let list = OutreachList::read(&args.input).map_err(|e| super::UsageError(e.to_string()))?;
    for l in &args.lookup {
        super::key::refuse_lab_side(l)?;
    }
    let key = super::key::open_key(&args.key)?;
    let outcome = pseudo::reidentify::reidentify(&key, &list, &args.lookup)
        .map_err(|e| super::UsageError(e.to_string()))?;
    pseudo::reidentify::write_outreach(&args.out, &outcome)?;
    let audit = args.audit.clone().unwrap_or_else(|| {
        args.key
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("reidentify-audit.jsonl")
    });
    pseudo::reidentify::append_audit(
        &audit,
        AuditEntry {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            operator: std::env::var("USER").unwrap_or_default(),
            key_id: key.key_id.clone(),
            lab: key.lab.clone(),
            purpose: list.purpose.clone(),
            requested_by: list.requested_by.clone(),
            list: args.input.display().to_string(),
            list_sha256: pseudo::reidentify::file_sha256(&args.input)?,
            requested: outcome.requested,
            found: outcome.found,
            output: args.out.display().to_string(),
            prev: String::new(),
        },
    )?;
    if !quiet {
        eprintln!(
            "{} pseudonyms requested for \"{}\": {} people found, {} not in the lookup tables; written to {}; audit line added to {}",
            outcome.requested,
            list.purpose,
            outcome.found,
            outcome.not_found,
            args.out.display(),
            audit.display()
        );
    }
    Ok(())
}
