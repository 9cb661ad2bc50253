//! The territory hierarchy (region > province > municipality > district > zone, any depth) and
//! its changes over time (crosswalks between versions of the finest units).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One node of the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Territory {
    pub code: String,
    /// Name in Italian (the code when the codelist gives none).
    pub name: String,
    /// Index into [`Hierarchy::levels`] (0 = the largest).
    pub level: usize,
    /// Code of the parent at `level - 1`; `None` at level 0.
    pub parent: Option<String>,
}

/// A validated hierarchy: every node has exactly one parent one level up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hierarchy {
    /// Level names from the largest to the smallest.
    pub levels: Vec<String>,
    /// Nodes, level by level, in codelist order within a level.
    pub nodes: Vec<Territory>,
    /// Earlier versions of the finest units, oldest first.
    pub history: Vec<Crosswalk>,
}

/// The finest units as they were until (and including) year `until`, and how each maps onto
/// the current units: `weights` are the share of the old unit's population in each new unit
/// (they sum to 1 for every old unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crosswalk {
    /// A name for the version (e.g. "zone 2019-2021").
    pub version: String,
    /// Last year in which data carry these codes.
    pub until: i32,
    /// (old code, current code, population weight).
    pub weights: Vec<(String, String, f64)>,
}

impl Hierarchy {
    /// The finest level's name (`zone`), or "" for an empty hierarchy.
    pub fn finest(&self) -> &str {
        self.levels.last().map_or("", |s| s.as_str())
    }

    /// Index of a level by name.
    pub fn level_index(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l == name)
    }

    /// A node by level index and code.
    pub fn get(&self, level: usize, code: &str) -> Option<&Territory> {
        self.nodes
            .iter()
            .find(|t| t.level == level && t.code == code)
    }

    /// Nodes of one level.
    pub fn at(&self, level: usize) -> impl Iterator<Item = &Territory> {
        self.nodes.iter().filter(move |t| t.level == level)
    }

    /// For every unit of the finest level, its code at each level (index = level).
    pub fn paths(&self) -> BTreeMap<String, Vec<String>> {
        let Some(finest) = self.levels.len().checked_sub(1) else {
            return BTreeMap::new();
        };
        let index: BTreeMap<(usize, &str), &Territory> = self
            .nodes
            .iter()
            .map(|t| ((t.level, t.code.as_str()), t))
            .collect();
        let mut out = BTreeMap::new();
        for t in self.at(finest) {
            let mut path = vec![String::new(); self.levels.len()];
            let mut cur = Some(t);
            while let Some(n) = cur {
                path[n.level] = n.code.clone();
                cur = match (&n.parent, n.level.checked_sub(1)) {
                    (Some(p), Some(l)) => index.get(&(l, p.as_str())).copied(),
                    _ => None,
                };
            }
            out.insert(t.code.clone(), path);
        }
        out
    }

    /// The crosswalk that applies to data of `year` (the oldest version whose `until` is not
    /// before it), or `None` when the current units apply.
    pub fn crosswalk_for(&self, year: i32) -> Option<&Crosswalk> {
        self.history.iter().find(|c| year <= c.until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, level: usize, parent: Option<&str>) -> Territory {
        Territory {
            code: code.into(),
            name: code.into(),
            level,
            parent: parent.map(String::from),
        }
    }

    #[test]
    fn paths_walk_up_to_the_root() {
        let h = Hierarchy {
            levels: vec!["municipality".into(), "district".into(), "zone".into()],
            nodes: vec![
                node("036023", 0, None),
                node("Q1", 1, Some("036023")),
                node("Z01", 2, Some("Q1")),
                node("Z02", 2, Some("Q1")),
            ],
            history: vec![],
        };
        let p = h.paths();
        assert_eq!(p["Z02"], vec!["036023", "Q1", "Z02"]);
        assert_eq!(p.len(), 2);
        assert_eq!(h.finest(), "zone");
    }

    #[test]
    fn the_oldest_applicable_crosswalk_is_chosen() {
        let cw = |v: &str, until| Crosswalk {
            version: v.into(),
            until,
            weights: vec![],
        };
        let h = Hierarchy {
            history: vec![cw("a", 2020), cw("b", 2022)],
            ..Hierarchy::default()
        };
        assert_eq!(h.crosswalk_for(2019).map(|c| c.version.as_str()), Some("a"));
        assert_eq!(h.crosswalk_for(2021).map(|c| c.version.as_str()), Some("b"));
        assert_eq!(h.crosswalk_for(2023), None);
    }
}
