//! Tables as the gate sees them: a dense hypercube of cells over hierarchical dimensions, and the
//! linear system (every margin equals the sum of its parts) that an attacker can exploit.
//!
//! Every dimension has a total at index 0; a hierarchical dimension (zone within district within
//! city) has intermediate nodes too. A cell is one combination of codes, one per dimension. Two
//! outputs that share margins (the same count by zone x age and by zone x sex) are one table over
//! the union of their dimensions: the cells that no output shows are `published = false`, unknown
//! to an attacker but still bound by the table's equations.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The code of every dimension's total.
pub const TOTAL: &str = "Total";

/// One dimension: codes with a hierarchy. Index 0 is the total, the root of the hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dim {
    pub name: String,
    /// `codes[0]` is [`TOTAL`].
    pub codes: Vec<String>,
    /// `parent[i]` is the index of code `i`'s parent; `None` only for the total.
    pub parent: Vec<Option<usize>>,
}

impl Dim {
    /// A dimension with a total and one level of categories below it.
    pub fn flat(name: &str, codes: &[&str]) -> Dim {
        let mut all = vec![TOTAL.to_string()];
        all.extend(codes.iter().map(|c| c.to_string()));
        let mut parent = vec![None];
        parent.extend(codes.iter().map(|_| Some(0)));
        Dim {
            name: name.to_string(),
            codes: all,
            parent,
        }
    }

    /// A hierarchical dimension from `(code, parent code)` pairs; a `None` parent hangs the node
    /// directly under the total. Parents may come after their children.
    ///
    /// # Panics
    /// If a parent code is not among the codes (callers build these from validated hierarchies).
    pub fn tree(name: &str, nodes: &[(String, Option<String>)]) -> Dim {
        let mut codes = vec![TOTAL.to_string()];
        codes.extend(nodes.iter().map(|(c, _)| c.clone()));
        let index: HashMap<&str, usize> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut parent = vec![None];
        for (_, p) in nodes {
            parent.push(Some(match p {
                None => 0,
                Some(p) => *index
                    .get(p.as_str())
                    .unwrap_or_else(|| panic!("parent {p} of dimension {name} is not a code")),
            }));
        }
        Dim {
            name: name.to_string(),
            codes,
            parent,
        }
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Index of a code.
    pub fn position(&self, code: &str) -> Option<usize> {
        self.codes.iter().position(|c| c == code)
    }

    /// The direct children of code `i`, in code order.
    pub fn children(&self, i: usize) -> Vec<usize> {
        (0..self.len())
            .filter(|&j| self.parent[j] == Some(i))
            .collect()
    }

    /// Number of steps from the total (the total is 0).
    pub fn depth(&self, mut i: usize) -> usize {
        let mut d = 0;
        while let Some(p) = self.parent[i] {
            i = p;
            d += 1;
        }
        d
    }

    /// Whether code `i` has no children.
    pub fn is_leaf(&self, i: usize) -> bool {
        !self.parent.contains(&Some(i))
    }
}

/// Whether cells count units (frequency) or add up an amount (magnitude).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Frequency,
    Magnitude,
}

/// One cell: its true value and what the rules need to know about who is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Cell {
    /// The count (frequency table) or the total amount (magnitude table).
    pub value: f64,
    /// Number of contributing units (people, households, providers).
    pub freq: u64,
    /// The largest contributions, largest first (at most a few: what the dominance and p% rules
    /// need). Empty for a frequency table.
    pub top: Vec<f64>,
    /// The cell key in [0, 1): the fractional part of the sum of the contributors' record keys
    /// (the same contributors always give the same key).
    pub ckey: f64,
    /// A combination that cannot occur (known to everyone to be zero): never suppressed, never
    /// perturbed.
    pub structural_zero: bool,
    /// Whether some output of the release shows this cell.
    pub published: bool,
}

/// A table: dimensions and a dense, row-major array of cells (the last dimension varies fastest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub kind: Kind,
    pub dims: Vec<Dim>,
    pub cells: Vec<Cell>,
}

/// The protection a sensitive cell needs: an attacker who knows every published number must not
/// be able to narrow the cell to an interval that excludes `value - lower` or `value + upper`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Protection {
    /// Lower protection level (at most the cell's value for non-negative cells).
    pub lower: f64,
    /// Upper protection level.
    pub upper: f64,
}

/// One additivity equation: `cells[total] = sum of cells[parts]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub total: usize,
    pub parts: Vec<usize>,
}

impl Table {
    /// A table of empty cells (all published) over these dimensions.
    pub fn new(name: &str, kind: Kind, dims: Vec<Dim>) -> Table {
        let n = dims.iter().map(Dim::len).product();
        Table {
            name: name.to_string(),
            kind,
            dims,
            cells: vec![
                Cell {
                    published: true,
                    ..Cell::default()
                };
                n
            ],
        }
    }

    /// The flat index of a cell.
    pub fn index(&self, coords: &[usize]) -> usize {
        debug_assert_eq!(coords.len(), self.dims.len());
        coords
            .iter()
            .zip(&self.dims)
            .fold(0, |acc, (&c, d)| acc * d.len() + c)
    }

    /// The coordinates of a flat index.
    pub fn coords(&self, mut index: usize) -> Vec<usize> {
        let mut out = vec![0; self.dims.len()];
        for (k, d) in self.dims.iter().enumerate().rev() {
            out[k] = index % d.len();
            index /= d.len();
        }
        out
    }

    /// The codes of a cell, one per dimension.
    pub fn codes(&self, index: usize) -> Vec<&str> {
        self.coords(index)
            .iter()
            .zip(&self.dims)
            .map(|(&c, d)| d.codes[c].as_str())
            .collect()
    }

    /// The cell at these codes.
    pub fn find(&self, codes: &[&str]) -> Option<usize> {
        let coords: Option<Vec<usize>> = codes
            .iter()
            .zip(&self.dims)
            .map(|(c, d)| d.position(c))
            .collect();
        coords.map(|c| self.index(&c))
    }

    pub fn cell(&self, coords: &[usize]) -> &Cell {
        &self.cells[self.index(coords)]
    }

    pub fn cell_mut(&mut self, coords: &[usize]) -> &mut Cell {
        let i = self.index(coords);
        &mut self.cells[i]
    }

    /// Every additivity equation: for each dimension, each non-leaf code and each combination
    /// of the other dimensions' codes, the cell at that code equals the sum over its children.
    pub fn constraints(&self) -> Vec<Constraint> {
        let mut out = Vec::new();
        for (k, dim) in self.dims.iter().enumerate() {
            let parents: Vec<(usize, Vec<usize>)> = (0..dim.len())
                .map(|i| (i, dim.children(i)))
                .filter(|(_, ch)| !ch.is_empty())
                .collect();
            for index in 0..self.cells.len() {
                let coords = self.coords(index);
                let Some((_, children)) = parents.iter().find(|(p, _)| *p == coords[k]) else {
                    continue;
                };
                let parts = children
                    .iter()
                    .map(|&c| {
                        let mut at = coords.clone();
                        at[k] = c;
                        self.index(&at)
                    })
                    .collect();
                out.push(Constraint {
                    total: index,
                    parts,
                });
            }
        }
        out
    }

    /// The cells whose value is a margin of `index` along dimension `k` (its parent there), if
    /// any.
    pub fn margin_of(&self, index: usize, k: usize) -> Option<usize> {
        let mut coords = self.coords(index);
        let p = self.dims[k].parent[coords[k]]?;
        coords[k] = p;
        Some(self.index(&coords))
    }

    /// Fill the margins from the leaves: every non-leaf cell becomes the sum of the leaf cells
    /// under it (values and contributor counts; top contributions and cell keys are the
    /// caller's, since they need the contributors themselves).
    pub fn sum_up(&mut self) {
        for k in 0..self.dims.len() {
            // deepest codes first so that sums of sums are complete
            let mut order: Vec<usize> = (0..self.dims[k].len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(self.dims[k].depth(i)));
            for &code in &order {
                let children = self.dims[k].children(code);
                if children.is_empty() {
                    continue;
                }
                for index in 0..self.cells.len() {
                    let coords = self.coords(index);
                    if coords[k] != code {
                        continue;
                    }
                    let (mut value, mut freq) = (0.0, 0);
                    for &c in &children {
                        let mut at = coords.clone();
                        at[k] = c;
                        let cell = &self.cells[self.index(&at)];
                        value += cell.value;
                        freq += cell.freq;
                    }
                    self.cells[index].value = value;
                    self.cells[index].freq = freq;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> Dim {
        Dim::tree(
            "zone",
            &[
                ("Q1".into(), None),
                ("Q2".into(), None),
                ("Z1".into(), Some("Q1".into())),
                ("Z2".into(), Some("Q1".into())),
                ("Z3".into(), Some("Q2".into())),
            ],
        )
    }

    #[test]
    fn index_and_coords_round_trip() {
        let t = Table::new(
            "t",
            Kind::Frequency,
            vec![zones(), Dim::flat("sex", &["F", "M"])],
        );
        assert_eq!(t.cells.len(), 6 * 3);
        for i in 0..t.cells.len() {
            assert_eq!(t.index(&t.coords(i)), i);
        }
        assert_eq!(t.codes(t.find(&["Z2", "M"]).unwrap()), vec!["Z2", "M"]);
    }

    #[test]
    fn constraints_follow_both_hierarchies() {
        let t = Table::new(
            "t",
            Kind::Frequency,
            vec![zones(), Dim::flat("sex", &["F", "M"])],
        );
        let c = t.constraints();
        // zone: Total=Q1+Q2, Q1=Z1+Z2, Q2=Z3 for each of 3 sex codes = 9;
        // sex: Total=F+M for each of 6 zone codes = 6
        assert_eq!(c.len(), 15);
        let q1 = t.find(&["Q1", "F"]).unwrap();
        let eq = c.iter().find(|c| c.total == q1).unwrap();
        assert_eq!(
            eq.parts,
            vec![t.find(&["Z1", "F"]).unwrap(), t.find(&["Z2", "F"]).unwrap()]
        );
    }

    #[test]
    fn sum_up_fills_every_margin() {
        let mut t = Table::new(
            "t",
            Kind::Frequency,
            vec![zones(), Dim::flat("sex", &["F", "M"])],
        );
        for (z, s, v) in [
            ("Z1", "F", 1.0),
            ("Z1", "M", 2.0),
            ("Z2", "F", 4.0),
            ("Z3", "M", 8.0),
        ] {
            let i = t.find(&[z, s]).unwrap();
            t.cells[i].value = v;
            t.cells[i].freq = v as u64;
        }
        t.sum_up();
        let v = |z: &str, s: &str| t.cells[t.find(&[z, s]).unwrap()].value;
        assert_eq!(v("Q1", "F"), 5.0);
        assert_eq!(v("Q1", "Total"), 7.0);
        assert_eq!(v("Total", "M"), 10.0);
        assert_eq!(v("Total", "Total"), 15.0);
        assert_eq!(t.cells[t.find(&["Total", "Total"]).unwrap()].freq, 15);
    }
}
