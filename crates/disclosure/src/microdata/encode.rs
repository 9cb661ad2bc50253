//! Columns as dense codes, and quasi-identifiers as one coded column per generalization level.
//!
//! Everything downstream works on `u32` codes, never on strings: a class key is a tuple of codes,
//! and generalizing a record is one table look-up per value, computed once per distinct value.

use super::{Hierarchy, Records};
use crate::DisclosureError;
use std::collections::HashMap;

/// The code of a missing value (`None`).
pub(super) const MISSING: u32 = u32::MAX;

/// A column as codes: `codes[r]` indexes `labels`, or is [`MISSING`].
#[derive(Debug, Clone)]
pub(super) struct Coded {
    pub codes: Vec<u32>,
    pub labels: Vec<String>,
}

impl Coded {
    /// Number of distinct non-missing values, at least 1 (a radix for class keys).
    pub fn card(&self) -> u64 {
        self.labels.len().max(1) as u64
    }
}

/// A quasi-identifier: `levels[0]` as is, `levels[i]` generalized `i` steps.
#[derive(Debug)]
pub(super) struct CodedQuasi {
    pub name: String,
    pub levels: Vec<Coded>,
    /// Number of records whose value is present.
    pub present: usize,
}

impl CodedQuasi {
    /// The height of the hierarchy: the highest level.
    pub fn height(&self) -> usize {
        self.levels.len() - 1
    }
}

fn input(msg: String) -> DisclosureError {
    DisclosureError::Input(msg)
}

/// Checks that every row has one value per column.
pub(super) fn check_shape(records: &Records) -> Result<(), DisclosureError> {
    let width = records.columns.len();
    for (i, row) in records.rows.iter().enumerate() {
        if row.len() != width {
            return Err(input(format!(
                "row {} has {} values but the extract has {width} columns",
                i + 1,
                row.len()
            )));
        }
    }
    Ok(())
}

/// Index of a column that must appear exactly once; `role` names its use in the message.
pub(super) fn column(records: &Records, name: &str, role: &str) -> Result<usize, DisclosureError> {
    let mut found = records
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_str() == name)
        .map(|(i, _)| i);
    match (found.next(), found.next()) {
        (Some(i), None) => Ok(i),
        (None, _) => Err(input(format!(
            "{role} column {name} is not in the extract (columns: {})",
            records.columns.join(", ")
        ))),
        (Some(_), Some(_)) => Err(input(format!(
            "{role} column {name} appears more than once in the extract"
        ))),
    }
}

/// Checks that no column is declared twice (as two quasi-identifiers, or as a quasi-identifier
/// and a sensitive attribute, ...).
pub(super) fn check_distinct(names: &[&str]) -> Result<(), DisclosureError> {
    for (i, a) in names.iter().enumerate() {
        if names[..i].contains(a) {
            return Err(input(format!(
                "column {a} is declared twice (a column is either a quasi-identifier, a sensitive attribute or the weight, once)"
            )));
        }
    }
    Ok(())
}

/// Codes of one column, with the row (0-based) where each value first occurs.
pub(super) fn intern(records: &Records, col: usize) -> (Coded, Vec<usize>) {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut labels: Vec<&str> = Vec::new();
    let mut first = Vec::new();
    let codes = records
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| match &row[col] {
            None => MISSING,
            Some(v) => *index.entry(v.as_str()).or_insert_with(|| {
                labels.push(v.as_str());
                first.push(r);
                (labels.len() - 1) as u32
            }),
        })
        .collect();
    let labels = labels.into_iter().map(str::to_string).collect();
    (Coded { codes, labels }, first)
}

/// Sampling weights: present, finite and positive in every row.
pub(super) fn weights(records: &Records, col: usize) -> Result<Vec<f64>, DisclosureError> {
    let name = &records.columns[col];
    records
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let bad = |v: &str| {
                input(format!(
                    "weight column {name}, row {}: value {v:?} is not a positive number",
                    r + 1
                ))
            };
            let v = row[col].as_deref().ok_or_else(|| bad("(missing)"))?;
            match v.trim().parse::<f64>() {
                Ok(w) if w.is_finite() && w > 0.0 => Ok(w),
                _ => Err(bad(v)),
            }
        })
        .collect()
}

/// The label of `value` in a band of `width`, top-coded at `top`.
pub(super) fn band(value: f64, width: u32, top: Option<u32>) -> String {
    if let Some(t) = top
        && value >= f64::from(t)
    {
        return format!("{t}+");
    }
    let w = i64::from(width);
    let lo = (value.floor() as i64).div_euclid(w) * w;
    let mut hi = lo + w - 1;
    if let Some(t) = top {
        hi = hi.min(i64::from(t) - 1);
    }
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// Codes of a quasi-identifier at every level of its hierarchy.
pub(super) fn quasi(
    records: &Records,
    col: usize,
    hierarchy: &Hierarchy,
) -> Result<CodedQuasi, DisclosureError> {
    let name = records.columns[col].clone();
    let (base, first) = intern(records, col);
    let present = base.codes.iter().filter(|&&c| c != MISSING).count();
    // labels[i][v]: the level-(i+1) label of level-0 value v.
    let mut generalized: Vec<Vec<String>> = Vec::new();
    match hierarchy {
        Hierarchy::Bands { widths, top } => {
            for (i, &w) in widths.iter().enumerate() {
                if w == 0 {
                    return Err(input(format!("column {name}: a band width is 0")));
                }
                if i > 0 && w % widths[i - 1] != 0 {
                    return Err(input(format!(
                        "column {name}: band width {w} is not a multiple of the previous width {} (each level must merge whole bands of the level below)",
                        widths[i - 1]
                    )));
                }
            }
            let mut numbers = Vec::with_capacity(base.labels.len());
            for (v, label) in base.labels.iter().enumerate() {
                match label.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => numbers.push(x),
                    _ => {
                        return Err(input(format!(
                            "column {name}, row {}: value {label:?} is not a number (the column is generalized in numeric bands)",
                            first[v] + 1
                        )));
                    }
                }
            }
            for &w in widths {
                generalized.push(numbers.iter().map(|&x| band(x, w, *top)).collect());
            }
        }
        Hierarchy::Levels(maps) => {
            for (i, map) in maps.iter().enumerate() {
                let below = generalized.last().unwrap_or(&base.labels);
                let mut level = Vec::with_capacity(base.labels.len());
                for (v, label) in base.labels.iter().enumerate() {
                    let g = map.get(label).or_else(|| map.get(&below[v])).ok_or_else(|| {
                        input(format!(
                            "column {name}, row {}: value {label:?} has no generalization at level {} of its hierarchy",
                            first[v] + 1,
                            i + 1
                        ))
                    })?;
                    level.push(g.clone());
                }
                generalized.push(level);
            }
        }
    }
    let mut levels = vec![base];
    for labels in generalized {
        let below = levels.last().expect("level 0 is there");
        let mut index: HashMap<&str, u32> = HashMap::new();
        let mut distinct: Vec<String> = Vec::new();
        // code of each level-0 value at this level
        let map: Vec<u32> = labels
            .iter()
            .map(|l| {
                *index.entry(l.as_str()).or_insert_with(|| {
                    distinct.push(l.clone());
                    (distinct.len() - 1) as u32
                })
            })
            .collect();
        // The hierarchy must be nested: equal values stay equal one level up.
        let mut parent = vec![MISSING; below.labels.len()];
        let base_codes = &levels[0].codes;
        for (&b0, &b) in base_codes.iter().zip(&below.codes) {
            if b0 == MISSING {
                continue;
            }
            let up = map[b0 as usize];
            let p = &mut parent[b as usize];
            if *p == MISSING {
                *p = up;
            } else if *p != up {
                return Err(input(format!(
                    "column {name}: the hierarchy is not nested: {:?} at level {} becomes both {:?} and {:?} at level {}",
                    below.labels[b as usize],
                    levels.len() - 1,
                    distinct[*p as usize],
                    distinct[up as usize],
                    levels.len()
                )));
            }
        }
        let codes = base_codes
            .iter()
            .map(|&c| {
                if c == MISSING {
                    MISSING
                } else {
                    map[c as usize]
                }
            })
            .collect();
        levels.push(Coded {
            codes,
            labels: distinct,
        });
    }
    Ok(CodedQuasi {
        name,
        levels,
        present,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_labelled_and_top_coded() {
        assert_eq!(band(34.0, 5, None), "30-34");
        assert_eq!(band(35.0, 5, None), "35-39");
        assert_eq!(band(34.9, 10, None), "30-39");
        assert_eq!(band(7.0, 1, None), "7");
        assert_eq!(band(-1.0, 5, None), "-5--1");
        // the band straddling the top is cut at the top
        assert_eq!(band(72.0, 10, Some(75)), "70-74");
        assert_eq!(band(75.0, 10, Some(75)), "75+");
        assert_eq!(band(98.0, 20, Some(75)), "75+");
    }
}
