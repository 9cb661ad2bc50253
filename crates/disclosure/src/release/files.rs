//! Files of a release: the released folder (`releases/NAME/`, what may leave the lab), the
//! lab-side record (`.datalab/releases/NAME/`: true values of protected cells, approvals), and
//! the lab's disclosure secret.

use super::ReleaseError;
use crate::attack::Interval;
use crate::table::{Dim, Protection};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file every release folder carries.
pub const LOG_FILE: &str = "release.json";
/// The lab-side record of a release.
pub const PROTECTION_FILE: &str = "protection.json";
/// Approvals of outputs by output checkers.
pub const APPROVALS_FILE: &str = "approvals.json";

/// Lab-side folder of release `name`.
pub fn lab_dir(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("releases").join(name)
}

/// What the lab keeps about one protected frame of a release: its structure, the values it
/// published, and the true values and required protection of the cells it hid. Never leaves the
/// lab.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameRecord {
    pub id: String,
    pub dims: Vec<Dim>,
    /// (cell, published value) of every cell shown with its true value.
    pub published: Vec<(usize, f64)>,
    /// (cell, true value, protection) of every primary-suppressed cell.
    pub sensitive: Vec<(usize, f64, Protection)>,
    /// The attacker's interval of every suppressed cell at release time.
    pub intervals: Vec<(usize, Interval)>,
    /// The true value of every cell (suppressed frames only; lab-side, for reviews and the
    /// benchmark's reference solver).
    #[serde(default)]
    pub values: Vec<f64>,
    /// Cells that could not be suppressed: structural zeros and cells public through an
    /// earlier release.
    #[serde(default)]
    pub fixed: Vec<usize>,
}

/// The lab-side record of a release.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ProtectionRecord {
    pub format_version: u32,
    pub release: String,
    pub frames: Vec<FrameRecord>,
}

/// An output checker's approval of one output's exact content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub output: String,
    /// blake3 of the content approved: a changed output needs a new approval.
    pub content: String,
    pub checker: String,
    pub note: Option<String>,
    pub at: String,
}

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> ReleaseError {
    ReleaseError::Io {
        path: path.to_path_buf(),
        message: e.to_string().to_lowercase(),
    }
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
) -> Result<Option<T>, ReleaseError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io_err(path, format!("unreadable: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, e)),
    }
}

/// Writes a file atomically (temporary file, fsync, rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReleaseError> {
    use std::io::Write;
    let dir = path.parent().expect("a file has a folder");
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io_err(&tmp, e))?;
    f.sync_all().map_err(|e| io_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}

/// Replaces folder `dest` by a complete new one: files are written into a temporary sibling
/// folder, which then takes the place of the old one (the old one survives any failure before
/// the swap).
pub(crate) fn write_dir(dest: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ReleaseError> {
    let parent = dest.parent().expect("a release folder has a parent");
    std::fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
    for (file, bytes) in files {
        write_atomic(&tmp.join(file), bytes)?;
    }
    if dest.exists() {
        std::fs::rename(dest, &old).map_err(|e| io_err(dest, e))?;
    }
    std::fs::rename(&tmp, dest).map_err(|e| io_err(dest, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The lab's disclosure secret (record keys of the cell-key method, rounding draws, re-keyed
/// pseudonyms of extracts): 32 random bytes made on first use, never published.
pub fn secret(data_dir: &Path) -> Result<[u8; 32], ReleaseError> {
    let path = data_dir.join("disclosure-secret");
    match std::fs::read(&path) {
        Ok(b) if b.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(&b);
            Ok(k)
        }
        Ok(_) => Err(io_err(&path, "corrupt: expected 32 bytes")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut k = [0u8; 32];
            getrandom::fill(&mut k).map_err(|e| io_err(&path, e))?;
            write_atomic(&path, &k)?;
            Ok(k)
        }
        Err(e) => Err(io_err(&path, e)),
    }
}

/// Every earlier release's lab-side record, except `name`'s own.
pub fn history(data_dir: &Path, name: &str) -> Result<Vec<ProtectionRecord>, ReleaseError> {
    let dir = data_dir.join("releases");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != name && !n.starts_with('.'))
        .collect();
    names.sort();
    for n in names {
        if let Some(r) = read_json::<ProtectionRecord>(&dir.join(&n).join(PROTECTION_FILE))? {
            out.push(r);
        }
    }
    Ok(out)
}

/// blake3 of some bytes, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}
