//! `datalab attack`: the attacker run on released folders, as an outsider holding all of them.
//!
//! It reads only what was published (the CSV files and the structure in `release.json`),
//! merges every release of the same frame (differencing: two releases of the same data are
//! attacked together), and computes, by linear programming, the interval of values consistent
//! with the published numbers for every suppressed cell. With the lab-side record of the
//! releases (`.datalab/releases/NAME/protection.json`, found next to the project) it also knows
//! the true values and the protection each sensitive cell needs, and fails when an interval is
//! narrower; without it, it fails when a suppressed cell is recomputable exactly.

use super::files::{self, ProtectionRecord};
use super::{FrameLog, ReleaseError, ReleaseLog};
use crate::attack::{self, Interval, Knowledge};
use crate::table::{Dim, Kind, Protection, TOTAL, Table};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One cell the attacker narrowed too much.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub frame: String,
    pub codes: Vec<(String, String)>,
    pub interval: Interval,
    /// The true value and the protection required (only with the lab-side record).
    pub value: Option<f64>,
    pub required: Option<Protection>,
}

/// The attacker's result.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AttackReport {
    pub releases: Vec<String>,
    pub frames: usize,
    pub suppressed_cells: usize,
    /// Whether the lab-side records were available (true values and required protection).
    pub lab_side: bool,
    pub breaches: Vec<Finding>,
}

struct Frame {
    kind: Kind,
    dims: Vec<Dim>,
    /// (cell codes by dim name, published value or None for suppressed)
    cells: Vec<(BTreeMap<String, String>, Option<f64>)>,
    sensitive: Vec<(BTreeMap<String, String>, f64, Protection)>,
}

/// Attacks the releases in `dirs` together.
pub fn attack(dirs: &[PathBuf]) -> Result<AttackReport, ReleaseError> {
    let mut report = AttackReport {
        lab_side: true,
        ..AttackReport::default()
    };
    let mut frames: BTreeMap<String, Frame> = BTreeMap::new();
    for dir in dirs {
        let log_path = dir.join(files::LOG_FILE);
        let Some(log) = files::read_json::<ReleaseLog>(&log_path)? else {
            return Err(ReleaseError::Io {
                path: log_path,
                message: "not a release folder (no release.json)".into(),
            });
        };
        report.releases.push(log.name.clone());
        let by_id: HashMap<&str, &FrameLog> =
            log.frames.iter().map(|f| (f.id.as_str(), f)).collect();
        for f in log
            .frames
            .iter()
            .filter(|f| f.method == "suppress" && f.additive)
        {
            let e = frames.entry(f.id.clone()).or_insert_with(|| Frame {
                kind: f.kind,
                dims: Vec::new(),
                cells: Vec::new(),
                sensitive: Vec::new(),
            });
            // the same dimension may be cut at different depths (districts in one release,
            // zones in another): keep the deepest, which holds every code of the others
            for d in &f.dims {
                match e.dims.iter_mut().find(|x| x.name == d.name) {
                    Some(x) if x.len() < d.len() => *x = d.clone(),
                    Some(_) => {}
                    None => e.dims.push(d.clone()),
                }
            }
        }
        for o in &log.outputs {
            if o.frames.is_empty() {
                continue;
            }
            let path = dir.join(&o.file);
            let bytes = std::fs::read(&path).map_err(|e| files::io_err(&path, e))?;
            if files::content_hash(&bytes) != o.content {
                return Err(ReleaseError::Tampered {
                    path,
                    message: "the file differs from what the gate released".into(),
                });
            }
            let mut rd = csv::Reader::from_reader(bytes.as_slice());
            let header: Vec<String> = rd
                .headers()
                .map_err(|e| files::io_err(&path, e))?
                .iter()
                .map(String::from)
                .collect();
            let col = |n: &str| header.iter().position(|h| h == n);
            let value_col = col("numerator").or(col("value"));
            let period_col = col("period");
            for (line, row) in rd.records().enumerate() {
                let row =
                    row.map_err(|e| files::io_err(&path, format!("line {}: {e}", line + 2)))?;
                let frame_id = if o.frame_periods.is_empty() {
                    o.frames[0].clone()
                } else {
                    let p = period_col.map(|c| &row[c]).unwrap_or("");
                    match o.frame_periods.iter().find(|(per, _)| per == p) {
                        Some((_, f)) => f.clone(),
                        None => continue,
                    }
                };
                let Some(frame) = frames.get_mut(&frame_id) else {
                    continue;
                };
                if !by_id.contains_key(frame_id.as_str()) {
                    continue;
                }
                let mut codes = BTreeMap::new();
                for (dim, c) in &o.columns {
                    if let Some(i) = col(c) {
                        codes.insert(dim.clone(), row[i].to_string());
                    }
                }
                let raw = value_col.map(|c| row[c].trim()).unwrap_or("");
                let value = if raw.is_empty() {
                    None
                } else {
                    Some(raw.parse::<f64>().map_err(|_| {
                        files::io_err(&path, format!("line {}: `{raw}` is not a number", line + 2))
                    })?)
                };
                frame.cells.push((codes, value));
            }
        }
        // the lab-side record: <project>/releases/NAME -> <project>/.datalab/releases/NAME
        let lab = dir.parent().and_then(Path::parent).map(|p| {
            files::lab_dir(&p.join(project::DATA_DIR), &log.name).join(files::PROTECTION_FILE)
        });
        match lab
            .map(|p| files::read_json::<ProtectionRecord>(&p))
            .transpose()?
            .flatten()
        {
            Some(rec) => {
                for fr in rec.frames {
                    let Some(frame) = frames.get_mut(&fr.id) else {
                        continue;
                    };
                    let t = Table::new("", Kind::Frequency, fr.dims.clone());
                    for (cell, value, protection) in fr.sensitive {
                        let codes = t
                            .codes(cell)
                            .iter()
                            .zip(&fr.dims)
                            .map(|(c, d)| (d.name.clone(), c.to_string()))
                            .collect();
                        frame.sensitive.push((codes, value, protection));
                    }
                }
            }
            None => report.lab_side = false,
        }
    }
    for (id, f) in &frames {
        report.frames += 1;
        let table = Table::new(id, f.kind, f.dims.clone());
        let index = |codes: &BTreeMap<String, String>| -> Option<usize> {
            let c: Vec<&str> = f
                .dims
                .iter()
                .map(|d| codes.get(&d.name).map_or(TOTAL, String::as_str))
                .collect();
            table.find(&c)
        };
        let n = table.cells.len();
        let mut published = vec![None; n];
        let mut suppressed = Vec::new();
        for (codes, v) in &f.cells {
            let Some(i) = index(codes) else { continue };
            match v {
                Some(v) => published[i] = Some(*v),
                None => suppressed.push(i),
            }
        }
        suppressed.sort();
        suppressed.dedup();
        suppressed.retain(|&i| published[i].is_none());
        report.suppressed_cells += suppressed.len();
        let k = Knowledge {
            constraints: table.constraints(),
            published,
            lower: vec![0.0; n],
            upper: vec![f64::INFINITY; n],
        };
        let codes_of = |i: usize| -> Vec<(String, String)> {
            f.dims
                .iter()
                .zip(table.codes(i))
                .map(|(d, c)| (d.name.clone(), c.to_string()))
                .collect()
        };
        if report.lab_side {
            let sens: Vec<(usize, f64, Protection)> = f
                .sensitive
                .iter()
                .filter_map(|(codes, v, p)| index(codes).map(|i| (i, *v, *p)))
                .collect();
            for b in attack::check(&k, &sens)? {
                report.breaches.push(Finding {
                    frame: id.clone(),
                    codes: codes_of(b.cell),
                    interval: b.interval,
                    value: Some(b.value),
                    required: Some(b.required),
                });
            }
        } else {
            let intervals = attack::intervals(&k, &suppressed)?;
            for (&i, iv) in suppressed.iter().zip(intervals) {
                if iv.upper - iv.lower < 1e-6 {
                    report.breaches.push(Finding {
                        frame: id.clone(),
                        codes: codes_of(i),
                        interval: iv,
                        value: None,
                        required: None,
                    });
                }
            }
        }
    }
    Ok(report)
}
