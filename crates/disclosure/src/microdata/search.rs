//! The generalization lattice, local suppression at one node, and the search for the node of
//! least information loss.

use super::classes::{self, Col, Input, Sens};
use super::encode::CodedQuasi;

/// The problem at hand, coded.
pub(super) struct Problem<'a> {
    pub quasi: &'a [CodedQuasi],
    pub sens: Vec<Sens<'a>>,
    /// Per record: bits of the quasi-identifiers missing in the extract.
    pub missing: &'a [u32],
    pub k: usize,
    pub l: usize,
    /// The most records that may have a value suppressed.
    pub cap: usize,
}

/// A node that reaches k and l within the suppression cap.
pub(super) struct Solution {
    pub node: Vec<usize>,
    /// Per record: missing or suppressed quasi-identifiers.
    pub masks: Vec<u32>,
    pub suppressed_values: usize,
    pub suppressed_records: usize,
    pub loss: f64,
}

/// How a node fails: the number of records it would need to suppress (at least).
pub(super) struct Failure {
    pub node: Vec<usize>,
    pub needed: usize,
}

impl Problem<'_> {
    fn n(&self) -> usize {
        self.missing.len()
    }

    fn all_bits(&self) -> u32 {
        if self.quasi.len() == 32 {
            u32::MAX
        } else {
            (1u32 << self.quasi.len()) - 1
        }
    }

    fn cols(&self, node: &[usize]) -> Vec<Col<'_>> {
        self.quasi
            .iter()
            .zip(node)
            .enumerate()
            .map(|(j, (q, &lv))| Col {
                codes: &q.levels[lv].codes,
                card: q.levels[lv].card(),
                bit: 1 << j,
            })
            .collect()
    }

    /// Loss of one value generalized to `level` of quasi-identifier `j`, in [0, 1].
    fn cell_loss(&self, j: usize, level: usize) -> f64 {
        let h = self.quasi[j].height();
        if h == 0 { 0.0 } else { level as f64 / h as f64 }
    }

    /// Loss of the generalization alone: the mean cell loss, a missing value losing nothing.
    pub fn generalization_loss(&self, node: &[usize]) -> f64 {
        let n = self.n();
        if n == 0 {
            return 0.0;
        }
        let cells = (n * self.quasi.len()) as f64;
        node.iter()
            .enumerate()
            .map(|(j, &lv)| self.quasi[j].present as f64 * self.cell_loss(j, lv))
            .sum::<f64>()
            / cells
    }

    /// The records of `targets` that fail k or l under `masks` at this node. With a `limit`, stops
    /// after the k check when more than `limit` records fail k alone.
    fn violators(
        &self,
        cols: &[Col],
        masks: &[u32],
        targets: &[u32],
        limit: Option<usize>,
    ) -> Vec<u32> {
        let mut input = Input {
            cols: cols.to_vec(),
            masks,
            sens: Vec::new(),
            weights: None,
        };
        let failing = |st: &classes::Stats| -> Vec<u32> {
            let bad: Vec<bool> = (0..st.classes())
                .map(|c| {
                    st.count[c] < self.k as u64
                        || st.distinct.iter().any(|d| (d[c] as usize) < self.l)
                })
                .collect();
            targets
                .iter()
                .zip(&st.class_of)
                .filter(|(_, c)| bad[**c as usize])
                .map(|(&r, _)| r)
                .collect()
        };
        if self.l > 1 {
            if let Some(limit) = limit {
                let by_k = failing(&classes::stats(&input, targets, 1));
                if by_k.len() > limit {
                    return by_k;
                }
            }
            input.sens = self.sens.clone();
        }
        failing(&classes::stats(&input, targets, self.l))
    }

    /// Whether a node fails k or l for more records than may be suppressed, and for how many.
    fn too_many_violators(&self, node: &[usize]) -> (bool, usize) {
        let everyone: Vec<u32> = (0..self.n() as u32).collect();
        let v = self
            .violators(&self.cols(node), self.missing, &everyone, Some(self.cap))
            .len();
        (v > self.cap, v)
    }

    /// Generalizes to `node`, then suppresses values locally; `Err` says how many records
    /// would need suppression (at least).
    pub fn solve_node(&self, node: &[usize]) -> Result<Solution, usize> {
        let n = self.n();
        let cols = self.cols(node);
        let everyone: Vec<u32> = (0..n as u32).collect();
        let mut pending = self.violators(&cols, self.missing, &everyone, Some(self.cap));
        if pending.len() > self.cap {
            return Err(pending.len());
        }
        let mut masks = self.missing.to_vec();
        // Suppress, in all the records still failing, the quasi-identifier with the most
        // distinct values at this node, then the next, until every one of them has k candidates
        // and l sensitive values. Suppressing a value never removes a candidate of another
        // record, so the records already satisfied stay satisfied.
        let mut order: Vec<usize> = (0..cols.len()).filter(|&j| cols[j].card > 1).collect();
        order.sort_by_key(|&j| (std::cmp::Reverse(cols[j].card), j));
        for &j in &order {
            if pending.is_empty() {
                break;
            }
            for &r in &pending {
                masks[r as usize] |= 1 << j;
            }
            pending = self.violators(&cols, &masks, &pending, None);
        }
        if !pending.is_empty() {
            // The rest are suppressed entirely and form one pool, whose candidates are each other:
            // top it up with donors until it has k records and l sensitive values.
            let all = self.all_bits();
            for &r in &pending {
                masks[r as usize] = all;
            }
            self.fill_pool(&mut masks)?;
        }
        let mut suppressed_values = 0;
        let mut suppressed_records = 0;
        let mut extra_loss = 0.0;
        for (m, o) in masks.iter().zip(self.missing) {
            let s = m & !o;
            if s != 0 {
                suppressed_records += 1;
                suppressed_values += s.count_ones() as usize;
                for (j, &lv) in node.iter().enumerate() {
                    if s & (1 << j) != 0 {
                        extra_loss += 1.0 - self.cell_loss(j, lv);
                    }
                }
            }
        }
        if suppressed_records > self.cap {
            return Err(suppressed_records);
        }
        let loss = self.generalization_loss(node) + extra_loss / (n * self.quasi.len()) as f64;
        Ok(Solution {
            node: node.to_vec(),
            masks,
            suppressed_values,
            suppressed_records,
            loss,
        })
    }

    /// Adds fully suppressed donors to the pool of fully suppressed records until it holds k
    /// records and l distinct values of every sensitive attribute; `Err` if it cannot.
    fn fill_pool(&self, masks: &mut [u32]) -> Result<(), usize> {
        let all = self.all_bits();
        let needs_l = self.l > 1;
        let mut size = 0;
        let mut seen: Vec<Vec<bool>> = self.sens.iter().map(|s| vec![false; s.card]).collect();
        let mut distinct = vec![0usize; self.sens.len()];
        let add = |r: usize, seen: &mut Vec<Vec<bool>>, distinct: &mut Vec<usize>| {
            for (a, s) in self.sens.iter().enumerate() {
                let v = s.codes[r];
                if v != super::encode::MISSING && !seen[a][v as usize] {
                    seen[a][v as usize] = true;
                    distinct[a] += 1;
                }
            }
        };
        for (r, &m) in masks.iter().enumerate() {
            if m == all {
                size += 1;
                add(r, &mut seen, &mut distinct);
            }
        }
        // Cost of a donor: a new suppressed record first, then the values to suppress.
        let cost = |r: usize, masks: &[u32]| {
            let fresh = masks[r] & !self.missing[r] == 0;
            (fresh, (all & !masks[r]).count_ones())
        };
        loop {
            let short_l: Vec<usize> = if needs_l {
                (0..self.sens.len())
                    .filter(|&a| distinct[a] < self.l)
                    .collect()
            } else {
                Vec::new()
            };
            if size >= self.k && short_l.is_empty() {
                return Ok(());
            }
            // the cheapest donor, among those bringing a missing sensitive value if one is short
            let best = (0..masks.len())
                .filter(|&r| masks[r] != all)
                .filter(|&r| {
                    short_l.is_empty()
                        || short_l.iter().any(|&a| {
                            let v = self.sens[a].codes[r];
                            v != super::encode::MISSING && !seen[a][v as usize]
                        })
                })
                .min_by_key(|&r| (cost(r, masks), r));
            let Some(r) = best else {
                return Err(usize::MAX);
            };
            masks[r] = all;
            size += 1;
            add(r, &mut seen, &mut distinct);
        }
    }
}

/// Every node of the lattice, ordered by generalization loss, then total height, then levels:
/// a linear extension of the lattice (a node comes after every node below it).
pub(super) fn lattice(problem: &Problem) -> Vec<(f64, Vec<usize>)> {
    let heights: Vec<usize> = problem.quasi.iter().map(CodedQuasi::height).collect();
    let mut nodes: Vec<(f64, Vec<usize>)> = Vec::new();
    let mut node = vec![0usize; heights.len()];
    loop {
        nodes.push((problem.generalization_loss(&node), node.clone()));
        // next node in mixed radix
        let mut j = 0;
        loop {
            if j == node.len() {
                nodes.sort_by(|a, b| {
                    a.0.total_cmp(&b.0)
                        .then_with(|| a.1.iter().sum::<usize>().cmp(&b.1.iter().sum::<usize>()))
                        .then_with(|| a.1.cmp(&b.1))
                });
                return nodes;
            }
            if node[j] < heights[j] {
                node[j] += 1;
                break;
            }
            node[j] = 0;
            j += 1;
        }
    }
}

/// Nodes known to pass or fail the violator count (at most `cap` records failing k or l before
/// suppression): failing is inherited by every node below, passing by every node above.
#[derive(Default)]
struct Tags {
    pass: Vec<Vec<usize>>,
    fail: Vec<Vec<usize>>,
}

fn below(a: &[usize], b: &[usize]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

impl Tags {
    fn known(&self, node: &[usize]) -> Option<bool> {
        if self.fail.iter().any(|f| below(node, f)) {
            Some(false)
        } else if self.pass.iter().any(|p| below(p, node)) {
            Some(true)
        } else {
            None
        }
    }
}

/// The path from `node` to the top that raises, at each step, the least generalized
/// quasi-identifier (relative to its height).
fn chain(problem: &Problem, node: &[usize]) -> Vec<Vec<usize>> {
    let heights: Vec<usize> = problem.quasi.iter().map(CodedQuasi::height).collect();
    let mut path = vec![node.to_vec()];
    let mut at = node.to_vec();
    while let Some(j) = (0..at.len())
        .filter(|&j| at[j] < heights[j])
        .min_by(|&a, &b| {
            (at[a] as f64 / heights[a] as f64).total_cmp(&(at[b] as f64 / heights[b] as f64))
        })
    {
        at[j] += 1;
        path.push(at.clone());
    }
    path
}

/// The node of least information loss that reaches k and l within the cap, or the node that
/// came closest.
pub(super) fn search(problem: &Problem) -> Result<Solution, Failure> {
    let top: Vec<usize> = problem.quasi.iter().map(CodedQuasi::height).collect();
    // Failing k or l before suppression is monotone (generalizing only merges classes): if the
    // top of the lattice has more violators than may be suppressed, so has every node.
    let (fails, at_top) = problem.too_many_violators(&top);
    if fails {
        return Err(Failure {
            node: top,
            needed: at_top,
        });
    }
    let mut tags = Tags::default();
    tags.pass.push(top.clone());
    let mut closest = Failure {
        node: top,
        needed: usize::MAX,
    };
    let mut best: Option<Solution> = None;
    for (gen_loss, node) in lattice(problem) {
        if let Some(b) = &best
            && gen_loss > b.loss
        {
            break; // suppression only adds loss: no later node can do better
        }
        if tags.known(&node).is_none() {
            // Binary search for the lowest passing node on a path to the top (as in Flash): each
            // evaluation tags a whole down-set or up-set of the lattice.
            let path = chain(problem, &node);
            let (mut lo, mut hi) = (0, path.len() - 1);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let pass = tags.known(&path[mid]).unwrap_or_else(|| {
                    let (fails, needed) = problem.too_many_violators(&path[mid]);
                    if fails {
                        tags.fail.push(path[mid].clone());
                        if needed < closest.needed {
                            closest = Failure {
                                node: path[mid].clone(),
                                needed,
                            };
                        }
                    } else {
                        tags.pass.push(path[mid].clone());
                    }
                    !fails
                });
                if pass {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
        }
        if tags.known(&node) != Some(true) {
            continue;
        }
        match problem.solve_node(&node) {
            Ok(s) => {
                let key = |s: &Solution| (s.node.iter().sum::<usize>(), s.node.clone());
                let better = match &best {
                    None => true,
                    Some(b) => s.loss < b.loss || (s.loss == b.loss && key(&s) < key(b)),
                };
                if better {
                    best = Some(s);
                }
            }
            Err(needed) => {
                if needed < closest.needed {
                    closest = Failure { node, needed };
                }
            }
        }
    }
    best.ok_or(closest)
}
