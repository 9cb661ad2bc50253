//! `datalab outreach`: lab side. Writes a list of pseudonyms selected by a query, with its
//! declared purpose, for the custodian to re-identify. The lab cannot re-identify: it holds no
//! key and no lookup table.

use super::UsageError;
use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use pseudo::reidentify::OutreachList;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    /// Why these people are to be contacted (required; the custodian refuses lists without it).
    #[arg(long)]
    pub purpose: String,
    /// Who asks (person or office).
    #[arg(long)]
    pub requested_by: String,
    /// SQL whose first column holds the pseudonyms to list.
    #[arg(long)]
    pub sql: String,
    /// The list to hand to the custodian.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    if args.purpose.chars().filter(|c| c.is_alphanumeric()).count() < 10 {
        anyhow::bail!(UsageError(
            "--purpose must say why these people are contacted (a few words at least)".into()
        ));
    }
    let project = super::load_project(&args.project.project)?;
    let batches = super::query::query(&project, &args.sql)?;
    let mut pseudonyms = Vec::new();
    for b in &batches {
        if b.num_columns() == 0 {
            continue;
        }
        let col = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let col = col.as_string::<i32>();
        for i in 0..col.len() {
            if col.is_null(i) {
                continue;
            }
            let v = col.value(i);
            if !pseudo::pseudonym::is_pseudonym(v) {
                anyhow::bail!(UsageError(format!(
                    "the query's first column must hold pseudonyms; found `{}`",
                    v.chars().take(30).collect::<String>()
                )));
            }
            pseudonyms.push(v.to_string());
        }
    }
    pseudonyms.sort();
    pseudonyms.dedup();
    let list = OutreachList {
        purpose: args.purpose,
        requested_by: args.requested_by,
        lab: project.config.name.clone(),
        created_at: engine::now(),
        pseudonyms,
    };
    std::fs::write(&args.out, list.to_text())?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::ReidentificationRequest,
        &args.out.display().to_string(),
        serde_json::json!({
            "purpose": list.purpose,
            "requested_by": list.requested_by,
            "pseudonyms": list.pseudonyms.len(),
            "sql": args.sql,
        }),
    )?;
    if !quiet {
        eprintln!(
            "{} pseudonyms written to {}: send the file to the custodian, who alone can re-identify them",
            list.pseudonyms.len(),
            args.out.display()
        );
    }
    Ok(())
}
