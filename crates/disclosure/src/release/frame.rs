//! Frames: the tables a release protects, built from the warehouse.
//!
//! A frame is one population counted one way (the same query, unit, measure and territory, over
//! the same snapshots): every output of a release (and of earlier releases) over the same frame
//! shows cells of one hypercube over the union of their dimensions, so that margins shared
//! between outputs (by age and by sex, zone and district) are protected together.

use crate::table::{Cell, Dim, Kind, TOTAL, Table};
use model::Hierarchy;
use std::collections::{BTreeMap, HashMap};

/// Suffix of the code of a territory's "not allocated to a finer unit" leaf.
pub const UNALLOCATED: &str = ".nd";
/// The category of a missing value.
pub const MISSING: &str = "n.d.";

/// One record of a frame's query.
pub struct Record {
    pub unit: String,
    pub territory: Option<String>,
    pub dims: Vec<Option<String>>,
    pub measure: f64,
}

/// The territory dimension of a frame: the hierarchy's nodes from `top` down to the finest
/// level holding data, with an "unallocated" leaf under every node that has records coded at
/// its own level, and an "n.d." leaf under the total for unknown codes.
pub struct TerritoryDim {
    pub dim: Dim,
    /// Level name of every code ("" for the total and unknown codes).
    pub level: Vec<String>,
    /// Italian name of every code.
    pub label: Vec<String>,
    /// Codes finer than the dimension's finest level, mapped to the leaf holding them.
    finer: HashMap<String, usize>,
}

impl TerritoryDim {
    /// `codes` are the territory codes found in the data; `top` the largest level shown and
    /// `bottom` the finest (data coded below it counts in its ancestor there).
    pub fn build(h: &Hierarchy, top: usize, bottom: usize, codes: &[&str]) -> TerritoryDim {
        let by_code: HashMap<&str, &model::Territory> =
            h.nodes.iter().rev().map(|t| (t.code.as_str(), t)).collect();
        let ancestor_at = |code: &str, level: usize| -> Option<String> {
            let mut t = *by_code.get(code)?;
            if t.level < level {
                return None;
            }
            while t.level > level {
                t = by_code.get(t.parent.as_deref()?)?;
            }
            Some(t.code.clone())
        };
        // top-level nodes holding data, then all their descendants
        let mut tops: Vec<String> = codes.iter().filter_map(|c| ancestor_at(c, top)).collect();
        tops.sort();
        tops.dedup();
        let mut nodes: Vec<(String, Option<String>)> = Vec::new();
        let mut level = Vec::new();
        let mut label = Vec::new();
        let mut frontier = tops.clone();
        for t in &tops {
            let n = by_code[t.as_str()];
            nodes.push((t.clone(), None));
            level.push(h.levels[n.level].clone());
            label.push(n.name.clone());
        }
        let mut depth = top;
        while !frontier.is_empty() && depth < bottom {
            depth += 1;
            let mut next = Vec::new();
            for p in &frontier {
                for n in h.nodes.iter().filter(|n| n.parent.as_deref() == Some(p)) {
                    nodes.push((n.code.clone(), Some(p.clone())));
                    level.push(h.levels[n.level].clone());
                    label.push(n.name.clone());
                    next.push(n.code.clone());
                }
            }
            frontier = next;
        }
        let known: std::collections::HashSet<&str> =
            nodes.iter().map(|(c, _)| c.as_str()).collect();
        let has_children: std::collections::HashSet<&str> =
            nodes.iter().filter_map(|(_, p)| p.as_deref()).collect();
        let mut extra = Vec::new();
        let mut unknown = false;
        let mut finer_codes = Vec::new();
        for c in codes {
            if !known.contains(c) {
                match ancestor_at(c, bottom).filter(|a| known.contains(a.as_str())) {
                    Some(a) => finer_codes.push((c.to_string(), a)),
                    None => unknown = true,
                }
            } else if has_children.contains(c) {
                extra.push(c.to_string());
            }
        }
        extra.sort();
        extra.dedup();
        for p in extra {
            let child_level = by_code
                .get(p.as_str())
                .and_then(|t| h.levels.get(t.level + 1))
                .cloned()
                .unwrap_or_default();
            nodes.push((format!("{p}{UNALLOCATED}"), Some(p)));
            level.push(child_level);
            label.push(MISSING.into());
        }
        if unknown {
            nodes.push((MISSING.into(), None));
            level.push(String::new());
            label.push(MISSING.into());
        }
        let dim = Dim::tree("territory", &nodes);
        let mut lv = vec![String::new()];
        lv.extend(level);
        let mut lb = vec![TOTAL.to_string()];
        lb.extend(label);
        let finer = finer_codes
            .into_iter()
            .map(|(c, a)| {
                let i = dim.position(&a).expect("the ancestor is a code");
                (c, i)
            })
            .collect();
        TerritoryDim {
            dim,
            level: lv,
            label: lb,
            finer,
        }
    }

    /// The leaf a record's code falls in.
    pub fn leaf(&self, code: Option<&str>) -> usize {
        let Some(code) = code else {
            return self.dim.position(MISSING).unwrap_or(0);
        };
        if let Some(&i) = self.finer.get(code) {
            return i;
        }
        match self.dim.position(code) {
            Some(i) if self.dim.is_leaf(i) => i,
            Some(_) => self
                .dim
                .position(&format!("{code}{UNALLOCATED}"))
                .expect("an unallocated leaf exists for every coarse code in the data"),
            None => self.dim.position(MISSING).unwrap_or(0),
        }
    }
}

/// A flat dimension over the values found, sorted, missing values last.
pub fn value_dim(name: &str, values: impl Iterator<Item = Option<String>>) -> Dim {
    let mut set: Vec<String> = values
        .map(|v| v.unwrap_or_else(|| MISSING.into()))
        .collect();
    set.sort();
    set.dedup();
    if let Some(i) = set.iter().position(|v| v == MISSING) {
        let m = set.remove(i);
        set.push(m);
    }
    let refs: Vec<&str> = set.iter().map(String::as_str).collect();
    Dim::flat(name, &refs)
}

/// Fills a table's cells from records: per cell the distinct contributing units, the value
/// (units counted, or the measure summed), the three largest contributions (a unit's
/// contribution to a cell is the sum of its records in it) and the cell key (sum of the units'
/// record keys, fractional part).
pub fn fill(
    table: &mut Table,
    leaves: &[Vec<usize>],
    records: &[Record],
    record_key: &dyn Fn(&str) -> f64,
) {
    let dims = table.dims.clone();
    // ancestor chains per dimension and code, leaf first, total last
    let chains: Vec<Vec<Vec<usize>>> = dims
        .iter()
        .map(|d| {
            (0..d.len())
                .map(|mut i| {
                    let mut c = vec![i];
                    while let Some(p) = d.parent[i] {
                        c.push(p);
                        i = p;
                    }
                    c
                })
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|&a, &b| records[a].unit.cmp(&records[b].unit));
    let mut sums = vec![0.0f64; table.cells.len()];
    let mut keys = vec![0.0f64; table.cells.len()];
    let mut freq = vec![0u64; table.cells.len()];
    let mut top: Vec<Vec<f64>> = vec![Vec::new(); table.cells.len()];
    let mut i = 0;
    let mut per_cell: BTreeMap<usize, f64> = BTreeMap::new();
    while i < order.len() {
        let unit = &records[order[i]].unit;
        let mut j = i;
        per_cell.clear();
        while j < order.len() && &records[order[j]].unit == unit {
            let r = order[j];
            let mut cells = vec![0usize];
            for (k, &leaf) in leaves[r].iter().enumerate() {
                let mut next = Vec::with_capacity(cells.len() * chains[k][leaf].len());
                for &c in &cells {
                    for &code in &chains[k][leaf] {
                        next.push(c * dims[k].len() + code);
                    }
                }
                cells = next;
            }
            // amounts in whole units: sums of integers are exact, so every margin equals the
            // sum of its parts to the last digit (the attacker's equations hold exactly)
            let m = if table.kind == Kind::Magnitude {
                records[r].measure.round()
            } else {
                records[r].measure
            };
            for c in cells {
                *per_cell.entry(c).or_default() += m;
            }
            j += 1;
        }
        let rk = record_key(unit);
        for (&c, &v) in &per_cell {
            freq[c] += 1;
            sums[c] += v;
            keys[c] += rk;
            let t = &mut top[c];
            let at = t.partition_point(|&x| x >= v);
            if at < 3 {
                t.insert(at, v);
                t.truncate(3);
            }
        }
        i = j;
    }
    for (c, cell) in table.cells.iter_mut().enumerate() {
        *cell = Cell {
            value: if table.kind == Kind::Frequency {
                freq[c] as f64
            } else {
                sums[c]
            },
            freq: freq[c],
            top: if table.kind == Kind::Magnitude {
                std::mem::take(&mut top[c])
            } else {
                Vec::new()
            },
            ckey: keys[c].fract(),
            structural_zero: false,
            published: false,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hierarchy() -> Hierarchy {
        let t = |code: &str, level: usize, parent: Option<&str>| model::Territory {
            code: code.into(),
            name: format!("n{code}"),
            level,
            parent: parent.map(Into::into),
        };
        Hierarchy {
            levels: vec!["city".into(), "district".into(), "zone".into()],
            nodes: vec![
                t("C", 0, None),
                t("Q1", 1, Some("C")),
                t("Q2", 1, Some("C")),
                t("Z1", 2, Some("Q1")),
                t("Z2", 2, Some("Q1")),
                t("Z3", 2, Some("Q2")),
            ],
            history: vec![],
        }
    }

    #[test]
    fn territory_dim_adds_unallocated_and_unknown_leaves() {
        let d = TerritoryDim::build(&hierarchy(), 0, 2, &["Z1", "Q2", "XX"]);
        let codes: Vec<&str> = d.dim.codes.iter().map(String::as_str).collect();
        assert_eq!(
            codes,
            vec!["Total", "C", "Q1", "Q2", "Z1", "Z2", "Z3", "Q2.nd", MISSING]
        );
        assert_eq!(d.leaf(Some("Q2")), 7);
        assert_eq!(d.leaf(Some("Z2")), 5);
        assert_eq!(d.leaf(Some("nowhere")), 8);
        assert_eq!(d.leaf(None), 8);
        assert_eq!(d.level[7], "zone");
        assert_eq!(d.dim.parent[7], Some(3));
    }

    #[test]
    fn finer_codes_count_in_their_ancestor_at_the_finest_level_shown() {
        let d = TerritoryDim::build(&hierarchy(), 0, 1, &["Z1", "Z3", "Q2"]);
        let codes: Vec<&str> = d.dim.codes.iter().map(String::as_str).collect();
        assert_eq!(codes, vec!["Total", "C", "Q1", "Q2"]);
        assert_eq!(d.leaf(Some("Z1")), 2);
        assert_eq!(d.leaf(Some("Z3")), 3);
        assert_eq!(d.leaf(Some("Q2")), 3);
    }

    #[test]
    fn fill_counts_units_once_and_keeps_top_contributions() {
        let terr = TerritoryDim::build(&hierarchy(), 1, 2, &["Z1", "Z3"]);
        let sex = value_dim("sex", ["F", "M"].iter().map(|s| Some(s.to_string())));
        let mut t = Table::new("t", Kind::Magnitude, vec![terr.dim.clone(), sex]);
        let rec = |u: &str, z: &str, s: &str, m: f64| Record {
            unit: u.into(),
            territory: Some(z.into()),
            dims: vec![Some(s.into())],
            measure: m,
        };
        let records = vec![
            rec("a", "Z1", "F", 10.0),
            rec("a", "Z1", "F", 5.0),
            rec("b", "Z1", "M", 7.0),
            rec("c", "Z3", "F", 1.0),
        ];
        let leaves: Vec<Vec<usize>> = records
            .iter()
            .map(|r| {
                vec![
                    terr.leaf(r.territory.as_deref()),
                    t.dims[1].position(r.dims[0].as_deref().unwrap()).unwrap(),
                ]
            })
            .collect();
        fill(&mut t, &leaves, &records, &|u| {
            if u == "a" { 0.75 } else { 0.5 }
        });
        let z1f = &t.cells[t.find(&["Z1", "F"]).unwrap()];
        assert_eq!((z1f.value, z1f.freq), (15.0, 1));
        assert_eq!(z1f.top, vec![15.0]);
        let q1 = &t.cells[t.find(&["Q1", "Total"]).unwrap()];
        assert_eq!((q1.value, q1.freq), (22.0, 2));
        assert_eq!(q1.top, vec![15.0, 7.0]);
        assert!((q1.ckey - 0.25).abs() < 1e-12, "0.75 + 0.5 = 1.25 -> 0.25");
        let all = &t.cells[0];
        assert_eq!((all.value, all.freq), (23.0, 3));
    }
}
