//! The cell-key method: consistent random noise for frequency tables, as the Australian Bureau
//! of Statistics introduced it (Fraser & Wooton 2005, "A proposed method for confidentialising
//! tabular output to protect against differencing") and as the 2021 census of England and Wales
//! and the 2022 German census used it (Giessing 2016, "Computational issues in the design of transition
//! probabilities and disclosure risk estimation for additive noise", PSD 2016, LNCS 9867;
//! Destatis' R package `ptable` and Eurostat's τ-Argus).
//!
//! 1. Every unit gets a **record key**, a uniform number in [0, 1) that is a keyed BLAKE3 hash of
//!    its pseudonym ([`record_key`]): the same unit has the same key in every table of every
//!    release made with the same secret.
//! 2. Every cell gets a **cell key**, the fractional part of the sum of its contributors' record
//!    keys ([`cell_key`]): again uniform, and the same set of contributors always gives the same
//!    key, whatever table the cell appears in.
//! 3. A **perturbation table** ([`PTable`]) gives, for each original count `i`, a distribution of
//!    integer noise `v` with mean 0, a chosen variance `V`, `|v| ≤ D`, no negative result, and no
//!    result in `1..=js` (small counts are never shown). Each row is laid out as consecutive
//!    intervals of [0, 1), one per noise value; the cell key picks the interval ([`PTable::noise`]).
//!
//! So the same cell always gets the same noise (averaging repeated queries gains nothing), noise
//! is unbiased and bounded, and zeros stay zero. Margins are cells with their own keys: they are
//! perturbed consistently but are **not additive** after perturbation.
//!
//! The probabilities of a row are those of **maximum entropy** subject to mean 0 and variance at
//! most `V` on the allowed support (the `ptable` package's default, `optim = 1`, where the
//! variance is an inequality). The solution has the form `p(v) ∝ exp(λ1·v + λ2·v²)`, `λ2 ≤ 0`,
//! and the multipliers are found by Newton's method on the convex dual. Where the support is
//! too narrow for variance `V` (small counts, whose noise cannot go below `-i`), the maximum
//! entropy distribution with mean 0 alone has a smaller variance and that is what the row gets.
//! A row for a count in `1..=js` cannot keep its value, so its variance cannot be below the
//! smallest two-point move out of the blocked range; if `V` is below that, the row is that
//! two-point distribution (its variance is larger than `V`). Every row records the variance it
//! achieves ([`PRow::variance`]) for the release log.

use crate::{DisclosureError, Kind, Table};
use serde::Serialize;

/// Domain separation for record keys.
const RECORD_CONTEXT: &[u8] = b"datalab cellkey record key v1\n";

/// Record keys and cell keys are 53-bit fixed-point numbers in [0, 1).
const KEY_BITS: u32 = 53;
const KEY_SCALE: f64 = (1u64 << KEY_BITS) as f64;
const KEY_MASK: u64 = (1u64 << KEY_BITS) - 1;

/// The record key of a unit: a uniform number in [0, 1), the top 53 bits of the BLAKE3 hash
/// keyed with `secret` of a fixed context string followed by the unit's pseudonym. Use the
/// secret for record keys only.
pub fn record_key(secret: &[u8; 32], unit: &str) -> f64 {
    let mut hasher = blake3::Hasher::new_keyed(secret);
    hasher.update(RECORD_CONTEXT);
    hasher.update(unit.as_bytes());
    crate::round::unit_interval(hasher.finalize().as_bytes())
}

/// The cell key of a cell: the fractional part of the sum of its contributors' record keys.
///
/// The sum is computed exactly in 53-bit fixed point (a key `x` counts as `floor(x·2^53)`), so
/// the key does not depend on the order of the contributors. No contributors give key 0.
pub fn cell_key(record_keys: impl IntoIterator<Item = f64>) -> f64 {
    let sum = record_keys.into_iter().fold(0u64, |acc, key| {
        let fixed = (key.rem_euclid(1.0) * KEY_SCALE) as u64;
        acc.wrapping_add(fixed) & KEY_MASK
    });
    sum as f64 / KEY_SCALE
}

/// A perturbation table: for each original count, the distribution of the noise added to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PTable {
    max_noise: u32,
    variance: f64,
    js: u32,
    rows: Vec<PRow>,
}

/// The noise distribution for one original count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PRow {
    /// The original count; the last row of a [`PTable`] serves this and every larger count.
    pub value: u64,
    /// The variance of the noise (`V`, or less where the support is too narrow, or more for a
    /// count in `1..=js`; see the module documentation).
    pub variance: f64,
    /// One entry per allowed noise value, by increasing noise; the intervals tile [0, 1).
    pub entries: Vec<PEntry>,
}

/// One noise value of a row with its probability and its interval of cell keys.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PEntry {
    /// The noise added to the count.
    pub noise: i64,
    /// Its probability.
    pub p: f64,
    /// Cell keys in `[lower, upper)` get this noise.
    pub lower: f64,
    pub upper: f64,
}

impl PTable {
    /// The perturbation table for maximum noise `max_noise` (`D`), noise variance `variance`
    /// (`V`) and blocked counts `1..=js` (`js = 0`: none blocked), with rows for the counts
    /// `0..=D + js + 1` (the last serves every larger count, where the noise no longer depends
    /// on the count).
    ///
    /// # Errors
    /// [`DisclosureError::Input`] unless `D ≥ 1`, `V > 0` is finite and `js < D` (with a larger
    /// `js`, a count just above `D` could only move up, or not at all, without landing in the
    /// blocked range); [`DisclosureError::Solver`] if Newton's method does not converge.
    pub fn new(max_noise: u32, variance: f64, js: u32) -> Result<PTable, DisclosureError> {
        if max_noise == 0 {
            return Err(DisclosureError::Input(
                "maximum noise D of the perturbation table must be at least 1".into(),
            ));
        }
        if !(variance.is_finite() && variance > 0.0) {
            return Err(DisclosureError::Input(format!(
                "noise variance V of the perturbation table must be positive, got {variance}"
            )));
        }
        if js >= max_noise {
            return Err(DisclosureError::Input(format!(
                "blocked counts 1..={js} need a maximum noise D above {js}, got D = {max_noise}"
            )));
        }
        let d = i64::from(max_noise);
        let blocked = |x: i64| 1 <= x && x <= i64::from(js);
        let last = u64::from(max_noise) + u64::from(js) + 1;
        let mut rows = Vec::with_capacity(last as usize + 1);
        for value in 0..=last {
            let i = value as i64;
            let support: Vec<i64> = if i == 0 {
                vec![0]
            } else {
                (-d.min(i)..=d).filter(|v| !blocked(i + v)).collect()
            };
            let p = maxent(&support, variance).map_err(|e| {
                DisclosureError::Solver(format!(
                    "perturbation table row {value} (D = {max_noise}, V = {variance}, \
                     js = {js}): {e}"
                ))
            })?;
            rows.push(PRow::new(value, &support, &p));
        }
        Ok(PTable {
            max_noise,
            variance,
            js,
            rows,
        })
    }

    /// `D`: no noise is larger in absolute value.
    pub fn max_noise(&self) -> u32 {
        self.max_noise
    }

    /// `V`: the variance the rows aim at.
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// `js`: no perturbed count lies in `1..=js`.
    pub fn js(&self) -> u32 {
        self.js
    }

    /// The rows, for counts `0..=D + js + 1`, for the release log.
    pub fn rows(&self) -> &[PRow] {
        &self.rows
    }

    /// The row that serves a count.
    pub fn row(&self, value: u64) -> &PRow {
        let last = self.rows.len() - 1;
        &self.rows[(value as usize).min(last)]
    }

    /// The noise for a cell with count `value` and cell key `ckey` (in [0, 1); a key outside is
    /// taken modulo 1, a non-finite key as 0).
    pub fn noise(&self, value: u64, ckey: f64) -> i64 {
        let key = if ckey.is_finite() {
            ckey.rem_euclid(1.0)
        } else {
            0.0
        };
        let row = self.row(value);
        row.entries
            .iter()
            .find(|e| e.p > 0.0 && key < e.upper)
            .or_else(|| row.entries.iter().rev().find(|e| e.p > 0.0))
            .map_or(0, |e| e.noise)
    }
}

impl PRow {
    fn new(value: u64, support: &[i64], p: &[f64]) -> PRow {
        let last_positive = p.iter().rposition(|&x| x > 0.0);
        let mut entries = Vec::with_capacity(support.len());
        let mut cum = 0.0;
        for (j, (&noise, &p)) in support.iter().zip(p).enumerate() {
            let lower = cum;
            cum = if Some(j) == last_positive {
                1.0
            } else {
                (cum + p).min(1.0)
            };
            entries.push(PEntry {
                noise,
                p,
                lower,
                upper: cum,
            });
        }
        let variance = support
            .iter()
            .zip(p)
            .map(|(&v, &p)| p * (v * v) as f64)
            .sum();
        PRow {
            value,
            variance,
            entries,
        }
    }
}

/// Perturb every cell of a frequency table: count + noise(count, cell key). Zeros and
/// structural zeros stay 0; margins are perturbed with their own keys (consistent, not
/// additive).
///
/// # Errors
/// [`DisclosureError::Input`] for a magnitude table (not supported), a count that is not a
/// non-negative integer, or a cell key outside [0, 1).
pub fn perturb(table: &Table, ptable: &PTable) -> Result<Vec<f64>, DisclosureError> {
    if table.kind != Kind::Frequency {
        return Err(DisclosureError::Input(format!(
            "the cell-key method perturbs frequency tables only; table {} is a magnitude table",
            table.name
        )));
    }
    table
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            if cell.structural_zero {
                return Ok(0.0);
            }
            let value = cell.value;
            if !(value.is_finite() && value >= 0.0 && value.fract() == 0.0) {
                return Err(DisclosureError::Input(format!(
                    "cell ({}) of table {} has count {value}, not a non-negative integer",
                    table.codes(index).join(", "),
                    table.name
                )));
            }
            if value == 0.0 {
                return Ok(0.0);
            }
            if !(0.0..1.0).contains(&cell.ckey) {
                return Err(DisclosureError::Input(format!(
                    "cell ({}) of table {} has cell key {}, outside [0, 1)",
                    table.codes(index).join(", "),
                    table.name,
                    cell.ckey
                )));
            }
            Ok(value + ptable.noise(value as u64, cell.ckey) as f64)
        })
        .collect()
}

/// The maximum-entropy distribution on `support` (increasing, containing negative and positive
/// values unless it is `[0]`) with mean 0 and variance at most `target` (see the module
/// documentation for rows where that is impossible).
fn maxent(support: &[i64], target: f64) -> Result<Vec<f64>, String> {
    if support.len() == 1 {
        return Ok(vec![1.0]);
    }
    let v: Vec<f64> = support.iter().map(|&x| x as f64).collect();
    // mean 0 alone: p ∝ exp(λ1·v)
    let (l1, _) = newton(&v, None, (0.0, 0.0))?;
    let p = Moments::at(&v, l1, 0.0);
    if p.m2 <= target {
        return Ok(p.p);
    }
    // The least variance with mean 0: 0 if 0 is allowed, else the two-point move to the
    // nearest allowed values on either side.
    let below = support.iter().rev().find(|&&x| x < 0).copied();
    let above = support.iter().find(|&&x| x > 0).copied();
    let (Some(a), Some(b)) = (below, above) else {
        return Err("support has no noise on one side of 0".into());
    };
    if !support.contains(&0) {
        let least = (-a * b) as f64;
        if target <= least * (1.0 + 1e-9) {
            let (fa, fb) = (a as f64, b as f64);
            return Ok(support
                .iter()
                .map(|&x| {
                    if x == a {
                        fb / (fb - fa)
                    } else if x == b {
                        -fa / (fb - fa)
                    } else {
                        0.0
                    }
                })
                .collect());
        }
    }
    let (l1, l2) = newton(&v, Some(target), (l1, 0.0))?;
    Ok(Moments::at(&v, l1, l2).p)
}

/// Probabilities `p(v) ∝ exp(λ1·v + λ2·v²)` with their log-normaliser and moments.
struct Moments {
    p: Vec<f64>,
    log_z: f64,
    m1: f64,
    m2: f64,
    /// Covariances of (v, v²).
    c11: f64,
    c12: f64,
    c22: f64,
}

impl Moments {
    fn at(v: &[f64], l1: f64, l2: f64) -> Moments {
        let e: Vec<f64> = v.iter().map(|&x| l1 * x + l2 * x * x).collect();
        let max = e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = e.iter().map(|&x| (x - max).exp()).collect();
        let z: f64 = w.iter().sum();
        let p: Vec<f64> = w.iter().map(|&x| x / z).collect();
        let moment = |k: i32| v.iter().zip(&p).map(|(&x, &p)| p * x.powi(k)).sum::<f64>();
        let (m1, m2, m3, m4) = (moment(1), moment(2), moment(3), moment(4));
        Moments {
            p,
            log_z: max + z.ln(),
            m1,
            m2,
            c11: m2 - m1 * m1,
            c12: m3 - m1 * m2,
            c22: m4 - m2 * m2,
        }
    }
}

/// Newton's method with backtracking on the convex dual `log Z(λ) − λ2·V` (or `log Z(λ1, 0)`
/// when `target` is `None`, for mean 0 alone), whose gradient is `(E v, E v² − V)`: its minimum
/// is the maximum-entropy distribution with mean 0 (and variance `V`).
fn newton(v: &[f64], target: Option<f64>, start: (f64, f64)) -> Result<(f64, f64), String> {
    let dual = |l1: f64, l2: f64| {
        let m = Moments::at(v, l1, l2);
        let value = m.log_z - l2 * target.unwrap_or(0.0);
        (value, m)
    };
    let (mut l1, mut l2) = start;
    let (mut g, mut m) = dual(l1, l2);
    let scale2 = target.unwrap_or(1.0).max(1.0);
    for _ in 0..500 {
        let grad = (m.m1, target.map_or(0.0, |t| m.m2 - t));
        if grad.0.abs() < 1e-14 && grad.1.abs() < 1e-13 * scale2 {
            return Ok((l1, l2));
        }
        let step = match target {
            None => (-grad.0 / m.c11, 0.0),
            Some(_) => {
                let det = m.c11 * m.c22 - m.c12 * m.c12;
                if det.is_nan() || det <= 0.0 {
                    break;
                }
                (
                    -(m.c22 * grad.0 - m.c12 * grad.1) / det,
                    -(m.c11 * grad.1 - m.c12 * grad.0) / det,
                )
            }
        };
        let slope = grad.0 * step.0 + grad.1 * step.1;
        let norm = |m: &Moments| {
            let g2 = target.map_or(0.0, |t| (m.m2 - t) / scale2);
            m.m1.hypot(g2)
        };
        let mut t = 1.0;
        loop {
            let (next_g, next_m) = dual(l1 + t * step.0, l2 + t * step.1);
            // Armijo on the dual, or (near the optimum, where the dual is flat to rounding) a
            // smaller gradient
            if next_g <= g + 1e-4 * t * slope || norm(&next_m) < norm(&m) || t < 1e-12 {
                l1 += t * step.0;
                l2 += t * step.1;
                g = next_g;
                m = next_m;
                break;
            }
            t /= 2.0;
        }
    }
    // stalled at the limit of double precision: accept if close enough
    let var_err = target.map_or(0.0, |t| (m.m2 - t).abs());
    if m.m1.abs() < 1e-11 && var_err < 1e-10 * scale2 {
        Ok((l1, l2))
    } else {
        Err(format!(
            "Newton's method did not converge (mean {}, variance error {var_err})",
            m.m1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dim;

    fn mean(row: &PRow) -> f64 {
        row.entries.iter().map(|e| e.p * e.noise as f64).sum()
    }

    /// Checks every property a perturbation table promises.
    fn check(d: u32, v: f64, js: u32) {
        let pt = PTable::new(d, v, js).unwrap();
        assert_eq!(pt.rows().len() as u32, d + js + 2);
        for row in pt.rows() {
            let i = row.value as i64;
            let total: f64 = row.entries.iter().map(|e| e.p).sum();
            assert!((total - 1.0).abs() < 1e-12, "row {i} sums to {total}");
            assert!(mean(row).abs() < 1e-9, "row {i} has mean {}", mean(row));
            let blocked_row = 1 <= i && i <= i64::from(js);
            if i > i64::from(d + js) || (js == 0 && i >= i64::from(d)) {
                assert!((row.variance - v).abs() < 1e-9, "row {i}: {}", row.variance);
            } else if !blocked_row {
                assert!(row.variance <= v + 1e-9, "row {i}: {}", row.variance);
            }
            for e in &row.entries {
                let result = i + e.noise;
                assert!(
                    result >= 0 && e.noise.abs() <= i64::from(d),
                    "row {i}: {e:?}"
                );
                if e.p > 0.0 {
                    assert!(!(1..=i64::from(js)).contains(&result), "row {i}: {e:?}");
                }
            }
            // the intervals tile [0, 1) in order
            assert_eq!(row.entries[0].lower, 0.0);
            assert_eq!(row.entries.last().unwrap().upper, 1.0);
            for w in row.entries.windows(2) {
                assert_eq!(w[0].upper, w[1].lower);
            }
            for e in &row.entries {
                assert!((e.upper - e.lower - e.p).abs() < 1e-12);
                // an interval too narrow for a double (p below ~1e-16) is never hit
                if e.upper > e.lower {
                    assert_eq!(pt.noise(row.value, e.lower), e.noise);
                }
            }
        }
        let zero = &pt.rows()[0];
        assert_eq!(zero.entries.len(), 1);
        assert_eq!((zero.entries[0].noise, zero.entries[0].p), (0, 1.0));
    }

    #[test]
    fn ptables_keep_their_promises() {
        check(1, 0.5, 0);
        check(3, 1.5, 0);
        check(3, 1.5, 2);
        check(5, 3.0, 2);
        check(2, 1.0, 1);
        check(4, 2.0, 3);
        check(6, 0.05, 0);
    }

    #[test]
    fn one_step_noise_has_the_closed_form() {
        // D = 1: support {-1, 0, 1}, mean 0, variance V force p(±1) = V/2, p(0) = 1 - V
        for v in [0.1, 0.5, 0.6] {
            let pt = PTable::new(1, v, 0).unwrap();
            for row in &pt.rows()[1..] {
                let p: Vec<(i64, f64)> = row.entries.iter().map(|e| (e.noise, e.p)).collect();
                assert_eq!(p.len(), 3);
                for ((noise, p), (want_noise, want)) in
                    p.iter().zip([(-1, v / 2.0), (0, 1.0 - v), (1, v / 2.0)])
                {
                    assert_eq!(*noise, want_noise);
                    assert!((p - want).abs() < 1e-12, "V = {v}: {p} vs {want}");
                }
            }
        }
    }

    #[test]
    fn variance_above_the_uniform_one_gives_uniform_noise() {
        // D = 1 allows variance up to 1 with mean 0, but maximum entropy with variance at most
        // 0.9 is the uniform distribution on {-1, 0, 1}, of variance 2/3
        let pt = PTable::new(1, 0.9, 0).unwrap();
        for row in &pt.rows()[1..] {
            assert!(row.entries.iter().all(|e| (e.p - 1.0 / 3.0).abs() < 1e-12));
            assert!((row.variance - 2.0 / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn full_support_rows_are_symmetric() {
        let pt = PTable::new(3, 1.5, 0).unwrap();
        let row = pt.row(1000);
        assert_eq!(row.value, 4);
        for (a, b) in row.entries.iter().zip(row.entries.iter().rev()) {
            assert_eq!(a.noise, -b.noise);
            assert!((a.p - b.p).abs() < 1e-12);
        }
        // maximum entropy with variance below the uniform one: p decreasing away from 0
        assert!(row.entries.windows(2).take(3).all(|w| w[0].p < w[1].p));
        for key in [0.0, 0.3, 0.77, 0.999] {
            assert_eq!(pt.noise(1000, key), pt.noise(4, key));
        }
    }

    #[test]
    fn blocked_count_moves_the_least_it_can() {
        // D = 3, js = 2: count 1 can only go to 0 (-1), 3 (+2) or 4 (+3); V = 1.5 is below the
        // least variance of a mean-0 move, 1·2, so it takes the two-point move -1 / +2
        let pt = PTable::new(3, 1.5, 2).unwrap();
        let row = pt.row(1);
        let p: Vec<(i64, f64)> = row.entries.iter().map(|e| (e.noise, e.p)).collect();
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].0, p[1].0, p[2].0), (-1, 2, 3));
        assert!((p[0].1 - 2.0 / 3.0).abs() < 1e-12 && (p[1].1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(p[2].1, 0.0);
        assert!((row.variance - 2.0).abs() < 1e-12);
    }

    #[test]
    fn small_counts_get_less_variance_than_asked() {
        // count 1 with D = 3: noise in -1..=3 with mean 0 has maximum entropy variance
        // below 2.5, so the row keeps to that rather than V = 2.5
        let pt = PTable::new(3, 2.5, 0).unwrap();
        let row = pt.row(1);
        assert!(row.variance < 2.5 - 0.1, "{}", row.variance);
        assert!((pt.row(3).variance - 2.5).abs() < 1e-9);
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (d, v, js) in [(0, 1.0, 0), (3, 0.0, 0), (3, f64::NAN, 0), (2, 1.0, 2)] {
            let err = PTable::new(d, v, js).unwrap_err();
            assert!(matches!(err, DisclosureError::Input(_)), "{err}");
        }
    }

    #[test]
    fn cell_key_does_not_depend_on_order() {
        let secret = [42u8; 32];
        let units = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
        let keys: Vec<f64> = units.iter().map(|u| record_key(&secret, u)).collect();
        let forward = cell_key(keys.iter().copied());
        let backward = cell_key(keys.iter().rev().copied());
        let mut shuffled = keys.clone();
        shuffled.swap(0, 5);
        shuffled.swap(2, 6);
        assert_eq!(forward, backward);
        assert_eq!(forward, cell_key(shuffled));
        assert!((0.0..1.0).contains(&forward));
        // the fractional part of the sum
        let sum: f64 = keys.iter().sum();
        assert!((forward - sum.fract()).abs() < 1e-12);
        assert_ne!(forward, cell_key(keys[1..].iter().copied()));
        assert_eq!(cell_key([]), 0.0);
    }

    #[test]
    fn record_keys_depend_on_secret_and_unit() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(record_key(&a, "p1"), record_key(&a, "p1"));
        assert_ne!(record_key(&a, "p1"), record_key(&a, "p2"));
        assert_ne!(record_key(&a, "p1"), record_key(&b, "p1"));
        // roughly uniform: the mean of many keys is near 1/2 (sd 1/sqrt(12 n))
        let n = 10_000;
        let m = (0..n)
            .map(|i| record_key(&a, &format!("u{i}")))
            .sum::<f64>()
            / n as f64;
        assert!((m - 0.5).abs() < 5.0 / (12.0 * n as f64).sqrt(), "{m}");
    }

    /// A zone x sex count table with cell keys from synthetic units.
    fn table() -> Table {
        let secret = [9u8; 32];
        let mut t = Table::new(
            "t",
            Kind::Frequency,
            vec![
                Dim::flat("zone", &["Z1", "Z2", "Z3", "Z4"]),
                Dim::flat("sex", &["F", "M"]),
            ],
        );
        let counts = [[0, 1], [2, 3], [7, 12], [40, 0]];
        let mut units: Vec<Vec<String>> = vec![Vec::new(); t.cells.len()];
        for (z, row) in counts.iter().enumerate() {
            for (s, &n) in row.iter().enumerate() {
                for u in 0..n {
                    let unit = format!("z{z}s{s}u{u}");
                    for (zz, ss) in [(z + 1, s + 1), (0, s + 1), (z + 1, 0), (0, 0)] {
                        units[t.index(&[zz, ss])].push(unit.clone());
                    }
                }
            }
        }
        for (cell, units) in t.cells.iter_mut().zip(&units) {
            cell.value = units.len() as f64;
            cell.freq = units.len() as u64;
            cell.ckey = cell_key(units.iter().map(|u| record_key(&secret, u)));
        }
        t.cell_mut(&[4, 2]).structural_zero = true;
        t
    }

    #[test]
    fn perturb_is_deterministic_and_keeps_its_bounds() {
        let t = table();
        let pt = PTable::new(3, 1.5, 2).unwrap();
        let a = perturb(&t, &pt).unwrap();
        assert_eq!(a, perturb(&t, &pt).unwrap());
        for (cell, &x) in t.cells.iter().zip(&a) {
            if cell.value == 0.0 || cell.structural_zero {
                assert_eq!(x, 0.0);
            } else {
                assert!((x - cell.value).abs() <= 3.0 && x >= 0.0);
                assert!(!(1.0..=2.0).contains(&x), "{} -> {x}", cell.value);
                assert_eq!(
                    x,
                    cell.value + pt.noise(cell.value as u64, cell.ckey) as f64
                );
            }
        }
        // a table with the same cells in another order gives the same noise per cell
        let mut keys: Vec<(f64, f64)> = t.cells.iter().map(|c| (c.value, c.ckey)).collect();
        keys.reverse();
        let mut r = t.clone();
        for (cell, (value, key)) in r.cells.iter_mut().zip(keys) {
            cell.value = value;
            cell.ckey = key;
            cell.structural_zero = false;
        }
        let b = perturb(&r, &pt).unwrap();
        let n = t.cells.len();
        for i in 0..n {
            if !t.cells[i].structural_zero {
                assert_eq!(a[i], b[n - 1 - i]);
            }
        }
    }

    #[test]
    fn perturb_refuses_what_it_cannot_do() {
        let pt = PTable::new(3, 1.5, 0).unwrap();
        let mut t = table();
        t.kind = Kind::Magnitude;
        assert!(matches!(perturb(&t, &pt), Err(DisclosureError::Input(_))));
        let mut t = table();
        t.cells[3].value = 2.5;
        assert!(matches!(perturb(&t, &pt), Err(DisclosureError::Input(_))));
        let mut t = table();
        t.cells[3].ckey = 1.0;
        assert!(matches!(perturb(&t, &pt), Err(DisclosureError::Input(_))));
    }
}
