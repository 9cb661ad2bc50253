//! Equivalence classes and candidate sets over coded quasi-identifiers.
//!
//! A record's *candidates* are the records an intruder who knows the record's true
//! quasi-identifier values cannot rule out: those whose every released (non-missing) value equals
//! the record's own. A missing value in a candidate matches anything; a missing value in the
//! record itself is matched only by a missing value (the record's true value is unknown to us, so
//! we assume the worst). In terms of missingness masks, `s` is a candidate of `r` when
//! `mask(r) ⊆ mask(s)` and the two agree outside `mask(s)`.
//!
//! Records with the same mask and the same values outside it form a *class* and share their
//! candidates. For each mask `P` present in the data, the records with mask `P` are grouped by
//! their values outside `P` (one exact hash pass), and every class whose mask is a subset of `P`
//! looks its own values up there. With no missing values this is a single grouping pass.

use super::encode::MISSING;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for `u64` keys (the splitmix64 finalizer): class keys are already dense integers.
#[derive(Default)]
pub(super) struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type MixMap<V> = HashMap<u64, V, BuildHasherDefault<Mix>>;

/// One quasi-identifier column at the level being evaluated.
#[derive(Clone, Copy)]
pub(super) struct Col<'a> {
    pub codes: &'a [u32],
    /// Number of distinct codes (at least 1).
    pub card: u64,
    /// The bit of this column in a missingness mask.
    pub bit: u32,
}

/// One sensitive attribute as codes.
#[derive(Clone, Copy)]
pub(super) struct Sens<'a> {
    pub codes: &'a [u32],
    pub card: usize,
}

/// What the class computation reads.
pub(super) struct Input<'a> {
    pub cols: Vec<Col<'a>>,
    /// Per record: the bits of its missing (or suppressed) quasi-identifiers.
    pub masks: &'a [u32],
    pub sens: Vec<Sens<'a>>,
    pub weights: Option<&'a [f64]>,
}

/// Candidate statistics of the classes of some target records.
pub(super) struct Stats {
    /// Per target (in the order given): its class.
    pub class_of: Vec<u32>,
    /// Per class: number of candidates.
    pub count: Vec<u64>,
    /// Per class: sum of the candidates' weights (empty without weights).
    pub wsum: Vec<f64>,
    /// Per sensitive attribute, per class: distinct non-missing values among the candidates,
    /// capped at the `cap` given.
    pub distinct: Vec<Vec<u32>>,
}

impl Stats {
    pub fn classes(&self) -> usize {
        self.count.len()
    }
}

/// Replaces mixed-radix keys by dense ids in order of first appearance; returns their number.
fn compact(keys: &mut [u64], radix: u64) -> u64 {
    let n = keys.len();
    let mut next = 0u64;
    if radix <= (4 * n as u64).max(1 << 12) {
        let mut table = vec![u64::MAX; radix as usize];
        for k in keys.iter_mut() {
            let slot = &mut table[*k as usize];
            if *slot == u64::MAX {
                *slot = next;
                next += 1;
            }
            *k = *slot;
        }
    } else {
        let mut map: MixMap<u64> = MixMap::with_capacity_and_hasher(n, Default::default());
        for k in keys.iter_mut() {
            *k = *map.entry(*k).or_insert_with(|| {
                next += 1;
                next - 1
            });
        }
    }
    next
}

/// Exact dense ids of the tuples `(extra(i), cols[c].codes[items[i]] ...)`, where a column whose
/// bit is in `mask_of(i)` counts as the constant 0. Returns the ids and their number.
fn dense(
    items: &[u32],
    extra: Option<(&[u32], u64)>,
    cols: &[Col],
    mask_of: impl Fn(usize) -> u32,
) -> (Vec<u32>, usize) {
    let mut keys: Vec<u64> = match extra {
        Some((codes, _)) => codes.iter().map(|&c| u64::from(c)).collect(),
        None => vec![0; items.len()],
    };
    let mut radix = extra.map_or(1, |(_, card)| card);
    for col in cols {
        if radix.checked_mul(col.card).is_none() {
            radix = compact(&mut keys, radix);
        }
        for (i, (k, &r)) in keys.iter_mut().zip(items).enumerate() {
            let code = if mask_of(i) & col.bit != 0 {
                0
            } else {
                col.codes[r as usize]
            };
            debug_assert!(code != MISSING, "a missing value outside its record's mask");
            *k = *k * col.card + u64::from(code);
        }
        radix *= col.card;
    }
    let n = compact(&mut keys, radix);
    (keys.into_iter().map(|k| k as u32).collect(), n as usize)
}

/// Distinct values per group, as `(offsets, values)`: group `g` has
/// `values[offsets[g]..offsets[g + 1]]`, at most `cap` of them.
fn distinct_per_group(
    group_of: &[u32],
    groups: usize,
    value_of: impl Fn(usize) -> u32,
    card: usize,
    cap: usize,
) -> (Vec<u32>, Vec<u32>) {
    if cap <= SMALL_CAP {
        return distinct_small(group_of, groups, value_of, cap);
    }
    // counting sort of the items by group
    let mut start = vec![0u32; groups + 1];
    for &g in group_of {
        start[g as usize + 1] += 1;
    }
    for g in 0..groups {
        start[g + 1] += start[g];
    }
    let mut pos = start.clone();
    let mut order = vec![0u32; group_of.len()];
    for (i, &g) in group_of.iter().enumerate() {
        order[pos[g as usize] as usize] = i as u32;
        pos[g as usize] += 1;
    }
    let mut last = vec![u32::MAX; card];
    let mut offsets = Vec::with_capacity(groups + 1);
    let mut values = Vec::new();
    for g in 0..groups {
        offsets.push(values.len() as u32);
        let mut taken = 0;
        for &i in &order[start[g] as usize..start[g + 1] as usize] {
            let v = value_of(i as usize);
            if v == MISSING || last[v as usize] == g as u32 {
                continue;
            }
            last[v as usize] = g as u32;
            if taken < cap {
                values.push(v);
                taken += 1;
            }
        }
    }
    offsets.push(values.len() as u32);
    (offsets, values)
}

/// Up to this cap, distinct values are collected in fixed slots per group.
const SMALL_CAP: usize = 8;

/// [`distinct_per_group`] for a small cap: `cap` slots per group, one pass over the items.
fn distinct_small(
    group_of: &[u32],
    groups: usize,
    value_of: impl Fn(usize) -> u32,
    cap: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut slots = vec![MISSING; groups * cap];
    let mut len = vec![0u8; groups];
    for (i, &g) in group_of.iter().enumerate() {
        let g = g as usize;
        let n = len[g] as usize;
        if n == cap {
            continue;
        }
        let v = value_of(i);
        let own = &mut slots[g * cap..g * cap + n + 1];
        if v != MISSING && !own[..n].contains(&v) {
            own[n] = v;
            len[g] += 1;
        }
    }
    let mut offsets = Vec::with_capacity(groups + 1);
    let mut values = Vec::new();
    for g in 0..groups {
        offsets.push(values.len() as u32);
        values.extend_from_slice(&slots[g * cap..g * cap + len[g] as usize]);
    }
    offsets.push(values.len() as u32);
    (offsets, values)
}

/// Groups of records sharing a mask and values, with their size, weight and sensitive values.
struct Table {
    count: Vec<u64>,
    wsum: Vec<f64>,
    /// per attribute: (offsets, values)
    distinct: Vec<(Vec<u32>, Vec<u32>)>,
}

fn table(input: &Input, members: &[u32], group_of: &[u32], groups: usize, cap: usize) -> Table {
    let mut count = vec![0u64; groups];
    for &g in group_of {
        count[g as usize] += 1;
    }
    let wsum = match input.weights {
        Some(w) => {
            let mut s = vec![0.0; groups];
            for (&g, &r) in group_of.iter().zip(members) {
                s[g as usize] += w[r as usize];
            }
            s
        }
        None => Vec::new(),
    };
    let distinct = input
        .sens
        .iter()
        .map(|s| {
            distinct_per_group(
                group_of,
                groups,
                |i| s.codes[members[i] as usize],
                s.card,
                cap,
            )
        })
        .collect();
    Table {
        count,
        wsum,
        distinct,
    }
}

/// Candidate statistics for the classes of `targets` (record indices, ascending or not); every
/// record of the extract can be a candidate. Distinct sensitive values are counted up to `cap`.
pub(super) fn stats(input: &Input, targets: &[u32], cap: usize) -> Stats {
    let n = input.masks.len();
    let all = targets.len() == n;
    // the masks present, and the records of each
    let mut patterns: Vec<u32> = Vec::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut pattern_of = vec![0u32; n];
    if input.masks.iter().all(|&m| m == input.masks[0]) {
        // the common case: no missing values, or the same ones everywhere
        if n > 0 {
            patterns.push(input.masks[0]);
            members.push((0..n as u32).collect());
        }
    } else {
        let mut mask_index: MixMap<u32> = MixMap::default();
        for (r, &m) in input.masks.iter().enumerate() {
            let p = *mask_index.entry(u64::from(m)).or_insert_with(|| {
                patterns.push(m);
                members.push(Vec::new());
                (patterns.len() - 1) as u32
            });
            pattern_of[r] = p;
            members[p as usize].push(r as u32);
        }
    }
    // classes of the targets: same mask, same values outside it
    let target_patterns: Vec<u32> = targets.iter().map(|&r| pattern_of[r as usize]).collect();
    let extra = (patterns.len() > 1).then_some((&target_patterns[..], patterns.len() as u64));
    let (class_of, classes) = dense(targets, extra, &input.cols, |i| {
        input.masks[targets[i] as usize]
    });
    let mut rep = vec![u32::MAX; classes];
    for (i, &c) in class_of.iter().enumerate() {
        if rep[c as usize] == u32::MAX {
            rep[c as usize] = targets[i];
        }
    }
    let class_mask: Vec<u32> = rep.iter().map(|&r| input.masks[r as usize]).collect();

    let mut count = vec![0u64; classes];
    let mut wsum = vec![0.0; if input.weights.is_some() { classes } else { 0 }];
    let mut tables: Vec<Table> = Vec::new();
    // the first (table, group) of each class, and further ones
    let mut first: Vec<(u32, u32)> = vec![(u32::MAX, 0); classes];
    let mut more: Vec<(u32, u32, u32)> = Vec::new();
    let mut contribute = |c: usize, t: u32, g: u32, tab: &Table| {
        count[c] += tab.count[g as usize];
        if !wsum.is_empty() {
            wsum[c] += tab.wsum[g as usize];
        }
        if first[c].0 == u32::MAX {
            first[c] = (t, g);
        } else {
            more.push((c as u32, t, g));
        }
    };
    if all {
        // every record is a target: a class's own records are its group in its own mask
        let own = table(input, targets, &class_of, classes, cap);
        for c in 0..classes {
            contribute(c, 0, c as u32, &own);
        }
        tables.push(own);
    }
    for (p, &pmask) in patterns.iter().enumerate() {
        let lookers: Vec<u32> = (0..classes as u32)
            .filter(|&c| {
                let m = class_mask[c as usize];
                m & !pmask == 0 && !(all && m == pmask)
            })
            .collect();
        if lookers.is_empty() {
            continue;
        }
        let mem = &members[p];
        let mut items = mem.clone();
        items.extend(lookers.iter().map(|&c| rep[c as usize]));
        let (ids, _) = dense(&items, None, &input.cols, |_| pmask);
        let groups = ids[..mem.len()].iter().map(|&g| g + 1).max().unwrap_or(0) as usize;
        let tab = table(input, mem, &ids[..mem.len()], groups, cap);
        let t = tables.len() as u32;
        for (&c, &g) in lookers.iter().zip(&ids[mem.len()..]) {
            if (g as usize) < groups {
                contribute(c as usize, t, g, &tab);
            }
        }
        tables.push(tab);
    }

    // distinct sensitive values: one group's list, or the union of several
    more.sort_unstable();
    let mut distinct = vec![vec![0u32; classes]; input.sens.len()];
    for (a, d) in distinct.iter_mut().enumerate() {
        let slice = |t: u32, g: u32| {
            let (off, vals) = &tables[t as usize].distinct[a];
            &vals[off[g as usize] as usize..off[g as usize + 1] as usize]
        };
        for c in 0..classes {
            let (t, g) = first[c];
            if t != u32::MAX {
                d[c] = slice(t, g).len() as u32;
            }
        }
        let mut scratch = Vec::new();
        let mut i = 0;
        while i < more.len() {
            let c = more[i].0;
            scratch.clear();
            scratch.extend_from_slice(slice(first[c as usize].0, first[c as usize].1));
            while i < more.len() && more[i].0 == c {
                scratch.extend_from_slice(slice(more[i].1, more[i].2));
                i += 1;
            }
            scratch.sort_unstable();
            scratch.dedup();
            d[c as usize] = scratch.len().min(cap) as u32;
        }
    }
    Stats {
        class_of,
        count,
        wsum,
        distinct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive definition, for comparison: s is a candidate of r when every present value of s
    /// equals r's value.
    fn naive(rows: &[Vec<u32>]) -> Vec<u64> {
        rows.iter()
            .map(|r| {
                rows.iter()
                    .filter(|s| s.iter().zip(r).all(|(&sv, &rv)| sv == MISSING || sv == rv))
                    .count() as u64
            })
            .collect()
    }

    fn check(rows: &[Vec<u32>]) {
        let q = rows[0].len();
        let cols: Vec<Vec<u32>> = (0..q)
            .map(|j| rows.iter().map(|r| r[j]).collect())
            .collect();
        let masks: Vec<u32> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(_, v)| **v == MISSING)
                    .fold(0, |m, (j, _)| m | 1 << j)
            })
            .collect();
        let input = Input {
            cols: cols
                .iter()
                .enumerate()
                .map(|(j, c)| Col {
                    codes: c,
                    card: 4,
                    bit: 1 << j,
                })
                .collect(),
            masks: &masks,
            sens: vec![],
            weights: None,
        };
        let expect = naive(rows);
        let all: Vec<u32> = (0..rows.len() as u32).collect();
        let st = stats(&input, &all, usize::MAX);
        let got: Vec<u64> = st.class_of.iter().map(|&c| st.count[c as usize]).collect();
        assert_eq!(got, expect, "all targets");
        // and for a subset of targets
        let some: Vec<u32> = (0..rows.len() as u32).filter(|r| r % 2 == 1).collect();
        let st = stats(&input, &some, usize::MAX);
        let got: Vec<u64> = st.class_of.iter().map(|&c| st.count[c as usize]).collect();
        let want: Vec<u64> = some.iter().map(|&r| expect[r as usize]).collect();
        assert_eq!(got, want, "odd targets");
    }

    #[test]
    fn candidates_match_the_naive_definition_with_missing_values() {
        const M: u32 = MISSING;
        check(&[
            vec![0, 1, 2],
            vec![0, 1, 2],
            vec![0, M, 2],
            vec![0, 2, 2],
            vec![M, M, 2],
            vec![1, 1, M],
            vec![M, M, M],
            vec![0, 1, M],
        ]);
    }

    proptest::proptest! {
        #[test]
        fn candidates_match_naive(rows in proptest::collection::vec(
            proptest::collection::vec(proptest::prop_oneof![
                4 => 0u32..3, 1 => proptest::strategy::Just(MISSING)], 3), 1..40)) {
            check(&rows);
        }
    }
}
