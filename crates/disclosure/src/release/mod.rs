//! The gate: `datalab release NAME` gathers a release's outputs from the warehouse, applies the
//! project's disclosure policy, and writes what may leave the lab with a log of everything it
//! checked and did.
//!
//! Nothing else writes to `releases/NAME/`. Outputs no automatic rule covers (an analyst's
//! ad-hoc table, an indicator whose numerator is an amount) wait for an output checker's
//! approval of their exact content; until every output is checked nothing is released.

pub mod adhoc;
pub mod files;
pub mod frame;
mod run;
pub mod verify;

pub use files::{Approval, FrameRecord, ProtectionRecord};
pub use run::{Options, Pending, Report, Status, pending, run};
pub use verify::{AttackReport, attack};

use crate::DisclosureError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of `release.json` this build writes and reads.
pub const LOG_VERSION: u32 = 1;

/// A value that passed the disclosure gate. Only this crate constructs one: code that
/// publishes (reports, exports, the API for non-lab roles) takes `Protected` values and so
/// cannot be handed anything unchecked.
#[derive(Debug, Clone)]
pub struct Protected<T>(T);

impl<T> Protected<T> {
    pub(crate) fn new(value: T) -> Protected<T> {
        Protected(value)
    }

    pub fn get(&self) -> &T {
        &self.0
    }
}

/// One released file, read back from a release folder after its content hash was verified
/// against the release log.
#[derive(Debug, Clone)]
pub struct ReleasedFile {
    pub release: String,
    pub output: String,
    pub kind: String,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The log of a release (`releases/NAME/release.json`). It may be read outside the lab: it
/// names cells and rules, never true values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseLog {
    pub format_version: u32,
    pub name: String,
    pub title: String,
    pub audience: project::release::Audience,
    pub purpose: Option<String>,
    pub spec: String,
    pub released_at: String,
    pub released_by: String,
    pub datalab_version: String,
    pub policy: project::release::Policy,
    /// (table, snapshot id) of every warehouse table the outputs read.
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<OutputLog>,
    pub frames: Vec<FrameLog>,
    /// Every cell acted on.
    pub cells: Vec<CellAction>,
    pub attack: AttackSummary,
    /// ε spent by differentially private outputs, per output.
    pub privacy_budget: Vec<(String, f64)>,
}

/// What was done to one output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputLog {
    pub name: String,
    /// `table`, `indicator`, `microdata`, `adhoc`.
    pub kind: String,
    pub file: String,
    /// blake3 of the file.
    pub content: String,
    pub rows: usize,
    /// `suppress`, `round`, ..., `k-anonymity`, `approval`.
    pub method: String,
    /// `automatic` or `approved`.
    pub checked: String,
    pub approval: Option<Approval>,
    /// The frames the output shows cells of.
    pub frames: Vec<String>,
    /// (frame dimension, column of the file holding its codes).
    pub columns: Vec<(String, String)>,
    /// For outputs over one frame per period: (period, frame id).
    #[serde(default)]
    pub frame_periods: Vec<(String, String)>,
    /// For `indicator` outputs: the id of the indicator shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// How many cells of this output each rule flagged.
    pub rules_fired: std::collections::BTreeMap<String, usize>,
    pub primary: usize,
    pub secondary: usize,
    pub notes: Vec<String>,
}

impl OutputLog {
    /// An automatically checked output written to `NAME.csv` with these bytes, nothing acted
    /// on yet: callers fill in what their method did.
    pub(crate) fn new(
        name: &str,
        kind: &str,
        bytes: &[u8],
        rows: usize,
        method: &str,
    ) -> OutputLog {
        OutputLog {
            name: name.into(),
            kind: kind.into(),
            file: format!("{name}.csv"),
            content: files::content_hash(bytes),
            rows,
            method: method.into(),
            checked: "automatic".into(),
            approval: None,
            frames: Vec::new(),
            columns: Vec::new(),
            frame_periods: Vec::new(),
            indicator: None,
            rules_fired: std::collections::BTreeMap::new(),
            primary: 0,
            secondary: 0,
            notes: Vec::new(),
        }
    }
}

/// The structure of a frame (for the attacker): dimensions and codes, no values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameLog {
    pub id: String,
    /// `frequency` or `magnitude`.
    pub kind: crate::Kind,
    pub method: String,
    /// Whether the frame's margins are exact sums (the attacker's equations hold).
    pub additive: bool,
    pub dims: Vec<crate::Dim>,
    pub cells: usize,
    pub primary: usize,
    pub secondary: usize,
    /// Share of the published cells' total value hidden by suppression.
    pub suppressed_value_share: f64,
    pub seconds: f64,
}

/// One cell acted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellAction {
    pub frame: String,
    pub cell: usize,
    /// The cell's codes by dimension name.
    pub codes: Vec<(String, String)>,
    /// `suppressed`.
    pub action: String,
    /// `primary` or `secondary`.
    pub role: String,
    pub rules: Vec<String>,
    pub reasons: Vec<String>,
}

/// The attacker's verdict at release time.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct AttackSummary {
    pub frames: usize,
    pub suppressed_cells: usize,
    pub breaches: usize,
}

/// What can go wrong making a release.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    /// A mistake in the release spec found while running it.
    #[error("{file}:{line}: output `{output}`: {message}")]
    Spec {
        file: String,
        line: usize,
        output: String,
        message: String,
    },
    /// The warehouse or a query failed.
    #[error("{0}")]
    Engine(String),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Disclosure(#[from] DisclosureError),
    /// A released folder does not match its log (edited after release).
    #[error("{}: {message}", path.display())]
    Tampered { path: PathBuf, message: String },
}

impl ReleaseError {
    /// Whether the caller's input is at fault (exit code 2) rather than datalab or the machine.
    pub fn is_input(&self) -> bool {
        match self {
            ReleaseError::Project(_)
            | ReleaseError::Spec { .. }
            | ReleaseError::Tampered { .. } => true,
            ReleaseError::Disclosure(e) => matches!(
                e,
                DisclosureError::Input(_) | DisclosureError::Infeasible(_)
            ),
            _ => false,
        }
    }
}

/// Records an output checker's approval of the pending output `output` of release `name`: the
/// exact content the last `run` staged.
pub fn approve(
    project: &project::Project,
    name: &str,
    output: &str,
    checker: &str,
    note: Option<&str>,
    at: &str,
) -> Result<Approval, ReleaseError> {
    let dir = files::lab_dir(&project.data_dir(), name);
    let staged = dir.join("pending").join(format!("{output}.csv"));
    let bytes = match std::fs::read(&staged) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReleaseError::Spec {
                file: format!("{}/{name}.toml", project::release::RELEASES_DIR),
                line: 0,
                output: output.into(),
                message: format!(
                    "nothing waits for approval under this name (run `datalab release {name}` first)"
                ),
            });
        }
        Err(e) => return Err(files::io_err(&staged, e)),
    };
    if checker.trim().is_empty() {
        return Err(ReleaseError::Spec {
            file: String::new(),
            line: 0,
            output: output.into(),
            message: "an approval needs the checker's name".into(),
        });
    }
    let approval = Approval {
        output: output.into(),
        content: files::content_hash(&bytes),
        checker: checker.into(),
        note: note.map(Into::into),
        at: at.into(),
    };
    let path = dir.join(files::APPROVALS_FILE);
    let mut all: Vec<Approval> = files::read_json(&path)?.unwrap_or_default();
    all.retain(|a| a.output != output || a.content != approval.content);
    all.push(approval.clone());
    let json = serde_json::to_vec_pretty(&all).expect("approvals serialize");
    files::write_atomic(&path, &json)?;
    Ok(approval)
}

/// The files of release `name`, each checked against the content hash in its log: what
/// reports, exports and the API publish.
pub fn released(
    project_root: &std::path::Path,
    name: &str,
) -> Result<Vec<Protected<ReleasedFile>>, ReleaseError> {
    Ok(released_with_log(project_root, name)?.1)
}

/// The names of the project's released folders (those with a release log), sorted.
pub fn release_names(project_root: &std::path::Path) -> Vec<String> {
    let dir = project_root.join(project::release::RELEASES_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(files::LOG_FILE).is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// [`released`] with the release's log (title, audience, policy, what each output holds), for
/// exports that describe what they publish.
pub fn released_with_log(
    project_root: &std::path::Path,
    name: &str,
) -> Result<(ReleaseLog, Vec<Protected<ReleasedFile>>), ReleaseError> {
    let dir = project_root.join(project::release::RELEASES_DIR).join(name);
    let log_path = dir.join(files::LOG_FILE);
    let Some(log) = files::read_json::<ReleaseLog>(&log_path)? else {
        return Err(ReleaseError::Io {
            path: log_path,
            message: "no such release (run `datalab release` first)".into(),
        });
    };
    let mut out = Vec::new();
    for o in &log.outputs {
        let path = dir.join(&o.file);
        let bytes = std::fs::read(&path).map_err(|e| files::io_err(&path, e))?;
        if files::content_hash(&bytes) != o.content {
            return Err(ReleaseError::Tampered {
                path,
                message: "the file differs from what the gate released".into(),
            });
        }
        out.push(Protected::new(ReleasedFile {
            release: log.name.clone(),
            output: o.name.clone(),
            kind: o.kind.clone(),
            path,
            bytes,
        }));
    }
    Ok((log, out))
}
