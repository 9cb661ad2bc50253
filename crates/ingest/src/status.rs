//! What `datalab status` reports: per source, the current snapshot and whether it is stale.

use crate::build::{fingerprint, resolve_inputs};
use crate::error::IngestError;
use engine::{Manifest, Warehouse};
use project::Project;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether a source's current snapshot reflects its spec and files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum SourceState {
    /// The current snapshot was built from exactly these inputs.
    UpToDate,
    /// Declared but never built.
    NeverBuilt,
    /// Something changed since the current snapshot; the detail says what.
    Stale(String),
    /// The inputs cannot be resolved (e.g. no file matches); the detail says why.
    Broken(String),
    /// A current snapshot whose spec was removed from the project.
    Orphan,
}

/// One line of `datalab status`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub source: String,
    pub state: SourceState,
    pub snapshot_id: Option<String>,
    pub built_at: Option<String>,
    pub files: usize,
    pub bytes_in: u64,
    pub rows_in: u64,
    pub rows_loaded: u64,
    pub rows_quarantined: u64,
    pub quarantine_reasons: BTreeMap<String, u64>,
    pub period_min: Option<String>,
    pub period_max: Option<String>,
}

/// The status of every source of the project (and of orphaned snapshots), sorted by name.
pub fn status(project: &Project) -> Result<Vec<SourceStatus>, IngestError> {
    let wh = Warehouse::open(&project.data_dir())?;
    let current: BTreeMap<String, engine::SnapshotInfo> = wh
        .current()?
        .into_iter()
        .map(|s| (s.source.clone(), s))
        .collect();
    let mut out = Vec::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for level in project.build_order()? {
        for spec in level {
            let cur = current.get(&spec.name);
            let state = match resolve_inputs(project, spec, &wh) {
                Err(e) => SourceState::Broken(e.to_string()),
                Ok(inputs) => {
                    let refs: BTreeMap<String, String> = spec
                        .dependencies()
                        .iter()
                        .filter_map(|d| ids.get(*d).map(|id| (d.to_string(), id.clone())))
                        .collect();
                    let (fp, spec_hash) = fingerprint(spec, &inputs, &refs);
                    match cur {
                        None => SourceState::NeverBuilt,
                        Some(c) if c.manifest.fingerprint == fp => SourceState::UpToDate,
                        Some(c) => {
                            SourceState::Stale(why_stale(&c.manifest, &spec_hash, &inputs, &refs))
                        }
                    }
                }
            };
            if let Some(c) = cur {
                ids.insert(spec.name.clone(), c.id.clone());
            }
            out.push(line(spec.name.clone(), state, cur.map(|c| &c.manifest)));
        }
    }
    for (name, c) in &current {
        if project.source(name).is_none() && !c.manifest.derived {
            out.push(line(name.clone(), SourceState::Orphan, Some(&c.manifest)));
        }
    }
    out.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(out)
}

fn why_stale(
    m: &Manifest,
    spec_hash: &str,
    inputs: &[crate::build::Input],
    refs: &BTreeMap<String, String>,
) -> String {
    if m.spec_hash != spec_hash {
        return "the spec changed".into();
    }
    let old: BTreeMap<&str, &str> = m
        .inputs
        .iter()
        .map(|f| (f.path.as_str(), f.hash.as_str()))
        .collect();
    let new: BTreeMap<&str, &str> = inputs
        .iter()
        .map(|f| (f.rel.as_str(), f.hash.as_str()))
        .collect();
    let mut what = Vec::new();
    for (p, h) in &new {
        match old.get(p) {
            None => what.push(format!("new file {p}")),
            Some(o) if o != h => what.push(format!("{p} changed")),
            Some(_) => {}
        }
    }
    for p in old.keys() {
        if !new.contains_key(p) {
            what.push(format!("{p} removed"));
        }
    }
    if &m.references != refs {
        what.push("a referenced source changed".into());
    }
    if what.is_empty() {
        "datalab's ingest version changed".into()
    } else {
        what.join(", ")
    }
}

fn line(source: String, state: SourceState, m: Option<&Manifest>) -> SourceStatus {
    SourceStatus {
        source,
        state,
        snapshot_id: m.map(|m| m.snapshot_id.clone()),
        built_at: m.map(|m| m.created_at.clone()),
        files: m.map_or(0, |m| m.inputs.len()),
        bytes_in: m.map_or(0, |m| m.inputs.iter().map(|f| f.bytes).sum()),
        rows_in: m.map_or(0, |m| m.rows_in),
        rows_loaded: m.map_or(0, |m| m.rows_loaded),
        rows_quarantined: m.map_or(0, |m| m.rows_quarantined),
        quarantine_reasons: m.map(|m| m.quarantine_reasons.clone()).unwrap_or_default(),
        period_min: m.and_then(|m| m.period_min.clone()),
        period_max: m.and_then(|m| m.period_max.clone()),
    }
}
