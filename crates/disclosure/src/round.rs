//! Rounding to a base: an alternative to cell suppression that shows every cell, each moved to
//! a multiple of the rounding base `b` (3, 5 or 10 for counts), so that no published number is
//! exact.
//!
//! - [`random`]: *unbiased random rounding*. A cell with value `x = q·b + r` (`0 ≤ r < b`) goes
//!   up to `(q + 1)·b` with probability `r / b` and down to `q·b` otherwise, so its expected
//!   rounded value is `x`; multiples of `b` and structural zeros do not move. Every cell, margin
//!   or not, is rounded on its own draw, so **margins are not additive** after rounding (the
//!   rounded parts can add up to anything within `parts·b` of the rounded total): the release
//!   must say so. The draw is not taken from a random number generator but derived from the
//!   release's seed and the cell's identity (a keyed BLAKE3 hash), so running the release again
//!   gives the same numbers, and the same cell shown in two tables of one release is rounded the
//!   same way (keep the seed for later editions of the release too: fresh draws for the same
//!   cell could be averaged towards its true value). See
//!   Willenborg & de Waal (2001), *Elements of Statistical Disclosure Control*, §8.3, and the
//!   ONS's rounding of census tables.
//! - [`controlled`]: *controlled rounding* (Cox & Ernst 1982, "Controlled rounding", INFOR 20;
//!   Cox 1987, "A constructive procedure for unbiased controlled rounding", JASA 82). Each cell
//!   goes to the multiple just below or just above it (multiples stay), and every additivity
//!   equation of the table still holds after rounding, at the least total absolute change. Found
//!   by a 0-1 program with one binary per cell that is not a multiple. Two-dimensional tables
//!   with their margins always have such a rounding (Cox 1987); three-dimensional tables do not
//!   always (Causey, Cox & Ernst 1985, "Applications of transportation theory to statistical
//!   problems", JASA 80): then [`controlled`] says so, and the release falls back to random
//!   rounding.

use crate::{DisclosureError, TOTAL, Table};
use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOutcome};
use std::time::Duration;

/// Domain separation for the rounding draws (a seed may be used for other things too).
const RANDOM_CONTEXT: &[u8] = b"datalab round::random v1\n";

/// Values within this relative distance of a multiple of the base count as that multiple
/// (sums of floats are not always exact).
const MULTIPLE_TOL: f64 = 1e-9;

/// Unbiased random rounding of every cell of `table` to a multiple of `base`.
///
/// A cell's draw is a uniform number in [0, 1) taken from the BLAKE3 hash keyed with `seed` of
/// the cell's identity: its non-total codes with their dimension names, sorted by dimension name
/// (so `zone = Z1` is the same cell in a zone x sex and in a zone x age table, at their `Total`
/// of sex and age). The cell rounds up if the draw is below `(x mod base) / base`. Structural
/// zeros stay 0, multiples of the base are unchanged, and margins are rounded independently of
/// their parts (the result is not additive). A non-finite value is returned as it is.
///
/// # Panics
/// If `base` is 0.
pub fn random(table: &Table, base: u32, seed: &[u8; 32]) -> Vec<f64> {
    assert!(base > 0, "rounding base must be positive");
    let b = f64::from(base);
    (0..table.cells.len())
        .map(|index| {
            let cell = &table.cells[index];
            if cell.structural_zero {
                return 0.0;
            }
            let x = cell.value;
            if !x.is_finite() {
                return x;
            }
            let Split::Between { k, rem } = split(x, b) else {
                return snap(x, b);
            };
            let lower = k as f64 * b;
            if draw(table, index, seed) < rem / b {
                lower + b
            } else {
                lower
            }
        })
        .collect()
}

/// Controlled rounding of `table` to multiples of `base`: every cell goes to the multiple of
/// `base` just below or just above it (multiples and structural zeros stay), all equations of
/// [`Table::constraints`] hold for the rounded values, and the sum of absolute changes is as
/// small as the solver could prove within `time_limit`. When the limit is reached with a
/// rounding in hand, that rounding is returned (additive, maybe not the least change).
///
/// # Errors
/// - [`DisclosureError::Input`] if `base` is 0, a value is not finite or the table is not
///   additive to begin with.
/// - [`DisclosureError::Infeasible`] if no controlled rounding exists (possible for tables of
///   three or more dimensions) or none was found within `time_limit`.
/// - [`DisclosureError::Solver`] if the solver fails or returns a non-additive rounding.
pub fn controlled(
    table: &Table,
    base: u32,
    time_limit: Duration,
) -> Result<Vec<f64>, DisclosureError> {
    if base == 0 {
        return Err(DisclosureError::Input(format!(
            "rounding base of table {} must be positive",
            table.name
        )));
    }
    let b = f64::from(base);
    // k[i]·b is the multiple at or below cell i; free[i] says whether it may also go up.
    let mut k = Vec::with_capacity(table.cells.len());
    let mut free = Vec::with_capacity(table.cells.len());
    for (index, cell) in table.cells.iter().enumerate() {
        if cell.structural_zero {
            k.push(0);
            free.push(false);
            continue;
        }
        if !cell.value.is_finite() {
            return Err(DisclosureError::Input(format!(
                "cell {} of table {} has no finite value",
                cell_name(table, index),
                table.name
            )));
        }
        match split(cell.value, b) {
            Split::Multiple(m) => {
                k.push(m);
                free.push(false);
            }
            Split::Between { k: m, .. } => {
                k.push(m);
                free.push(true);
            }
        }
    }
    let constraints = table.constraints();
    for c in &constraints {
        let value = |i: usize| {
            if table.cells[i].structural_zero {
                0.0
            } else {
                table.cells[i].value
            }
        };
        let sum: f64 = c.parts.iter().map(|&p| value(p)).sum();
        let total = value(c.total);
        if (total - sum).abs() > MULTIPLE_TOL * total.abs().max(sum.abs()).max(1.0) {
            return Err(DisclosureError::Input(format!(
                "table {} is not additive: cell {} is {total} but its parts add up to {sum}",
                table.name,
                cell_name(table, c.total)
            )));
        }
    }

    let mut problem = Problem::new(OptimizationDirection::Minimize);
    problem.set_time_limit(time_limit);
    let mut vars = vec![None; table.cells.len()];
    for (index, cell) in table.cells.iter().enumerate() {
        if free[index] {
            // |change| = rem when rounded down, b - rem when rounded up: the objective keeps
            // the part that depends on the choice.
            let rem = cell.value - k[index] as f64 * b;
            vars[index] = Some(problem.add_binary_var(b - 2.0 * rem));
        }
    }
    for c in &constraints {
        // k_t + y_t = sum(k_p + y_p)  <=>  y_t - sum(y_p) = sum(k_p) - k_t
        let rhs: i64 = c.parts.iter().map(|&p| k[p]).sum::<i64>() - k[c.total];
        let mut expr = Vec::new();
        if let Some(v) = vars[c.total] {
            expr.push((v, 1.0));
        }
        expr.extend(c.parts.iter().filter_map(|&p| vars[p]).map(|v| (v, -1.0)));
        if expr.is_empty() {
            if rhs != 0 {
                return Err(DisclosureError::Solver(format!(
                    "equation for cell {} of table {} has no free cell but does not add up",
                    cell_name(table, c.total),
                    table.name
                )));
            }
            continue;
        }
        problem.add_constraint(expr, ComparisonOp::Eq, rhs as f64);
    }
    let up = if vars.iter().all(Option::is_none) {
        vec![false; table.cells.len()]
    } else {
        let no_rounding = || {
            DisclosureError::Infeasible(format!(
                "table {} has no controlled rounding to base {base}: no choice of the multiple \
                 below or above each cell keeps every margin equal to the sum of its parts \
                 (this happens for tables of three or more dimensions); use random rounding \
                 (round::random) instead",
                table.name
            ))
        };
        let solution = match problem.solve() {
            Ok(SolveOutcome::Solution(solution)) => solution,
            Ok(SolveOutcome::Interrupted(_)) => {
                return Err(DisclosureError::Infeasible(format!(
                    "controlled rounding of table {} to base {base} found no rounding within \
                     {time_limit:?}; use random rounding (round::random) or a longer time limit",
                    table.name
                )));
            }
            Err(microlp::Error::Infeasible) => return Err(no_rounding()),
            Err(e) => {
                return Err(DisclosureError::Solver(format!(
                    "controlled rounding of table {}: {e}",
                    table.name
                )));
            }
        };
        vars.iter()
            .map(|v| v.is_some_and(|v| solution.var_value_raw(v) > 0.5))
            .collect()
    };

    // Integer bookkeeping: the rounded value of cell i is (k[i] + up[i]) * base exactly.
    let units: Vec<i64> = k.iter().zip(&up).map(|(&k, &u)| k + i64::from(u)).collect();
    for c in &constraints {
        if c.parts.iter().map(|&p| units[p]).sum::<i64>() != units[c.total] {
            return Err(DisclosureError::Solver(format!(
                "controlled rounding of table {} broke the equation for cell {}",
                table.name,
                cell_name(table, c.total)
            )));
        }
    }
    Ok(units.iter().map(|&u| u as f64 * b).collect())
}

/// Where a value lies relative to the multiples of the base.
enum Split {
    /// The value is (within float noise) `m · base`.
    Multiple(i64),
    /// The value lies strictly between `k · base` and `(k + 1) · base`, `rem` above the lower.
    Between { k: i64, rem: f64 },
}

fn split(x: f64, b: f64) -> Split {
    let q = x / b;
    let nearest = q.round();
    if (q - nearest).abs() <= MULTIPLE_TOL * nearest.abs().max(1.0) {
        return Split::Multiple(nearest as i64);
    }
    let k = q.floor();
    Split::Between {
        k: k as i64,
        rem: x - k * b,
    }
}

/// A value that is a multiple up to float noise, cleaned.
fn snap(x: f64, b: f64) -> f64 {
    (x / b).round() * b
}

/// The cell's uniform draw in [0, 1), from the seed and the cell's identity.
fn draw(table: &Table, index: usize, seed: &[u8; 32]) -> f64 {
    let mut identity: Vec<(&str, &str)> = table
        .codes(index)
        .into_iter()
        .zip(&table.dims)
        .filter(|(code, _)| *code != TOTAL)
        .map(|(code, dim)| (dim.name.as_str(), code))
        .collect();
    identity.sort_unstable();
    let mut hasher = blake3::Hasher::new_keyed(seed);
    hasher.update(RANDOM_CONTEXT);
    for (name, code) in identity {
        for part in [name, code] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    unit_interval(hasher.finalize().as_bytes())
}

/// The top 53 bits of a hash as a number in [0, 1).
pub(crate) fn unit_interval(hash: &[u8; 32]) -> f64 {
    let mut word = [0; 8];
    word.copy_from_slice(&hash[..8]);
    (u64::from_le_bytes(word) >> 11) as f64 / (1u64 << 53) as f64
}

fn cell_name(table: &Table, index: usize) -> String {
    format!("({})", table.codes(index).join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dim, Kind};

    /// A 3 x 3 frequency table with margins from its interior (rows, then columns).
    fn table_3x3(interior: [[f64; 3]; 3]) -> Table {
        let mut t = Table::new(
            "t",
            Kind::Frequency,
            vec![
                Dim::flat("zone", &["Z1", "Z2", "Z3"]),
                Dim::flat("age", &["A1", "A2", "A3"]),
            ],
        );
        for (r, row) in interior.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                t.cell_mut(&[r + 1, c + 1]).value = v;
            }
        }
        t.sum_up();
        t
    }

    fn seed(n: u64) -> [u8; 32] {
        let mut s = [7u8; 32];
        s[..8].copy_from_slice(&n.to_le_bytes());
        s
    }

    fn is_floor_or_ceil(original: f64, rounded: f64, b: f64) -> bool {
        let lo = (original / b).floor() * b;
        rounded == lo || (original != lo && rounded == lo + b)
    }

    #[test]
    fn random_keeps_multiples_and_structural_zeros() {
        let mut t = table_3x3([[5.0, 10.0, 0.0], [15.0, 20.0, 25.0], [0.0, 5.0, 30.0]]);
        t.cell_mut(&[1, 3]).structural_zero = true;
        for n in 0..50 {
            let r = random(&t, 5, &seed(n));
            for (cell, &v) in t.cells.iter().zip(&r) {
                assert_eq!(v, cell.value);
            }
        }
    }

    #[test]
    fn random_goes_to_floor_or_ceil_multiple() {
        let t = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        for n in 0..50 {
            let r = random(&t, 5, &seed(n));
            for (cell, &v) in t.cells.iter().zip(&r) {
                assert!(
                    is_floor_or_ceil(cell.value, v, 5.0),
                    "{} -> {v}",
                    cell.value
                );
                assert_eq!(v % 5.0, 0.0);
            }
        }
    }

    #[test]
    fn random_is_deterministic_per_seed() {
        let t = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        assert_eq!(random(&t, 5, &seed(1)), random(&t, 5, &seed(1)));
        assert_ne!(random(&t, 5, &seed(1)), random(&t, 5, &seed(2)));
    }

    #[test]
    fn random_rounds_the_same_cell_alike_in_two_tables() {
        // (Z2, Total) of zone x age is (Z2, Total) of zone x sex: same identity, same draw
        let a = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        let mut b = Table::new(
            "b",
            Kind::Frequency,
            vec![
                Dim::flat("zone", &["Z1", "Z2", "Z3"]),
                Dim::flat("sex", &["F", "M"]),
            ],
        );
        for (z, f, m) in [(1, 10.0, 10.0), (2, 9.0, 7.0), (3, 20.0, 1.0)] {
            b.cell_mut(&[z, 1]).value = f;
            b.cell_mut(&[z, 2]).value = m;
        }
        b.sum_up();
        let (ia, ib) = (
            a.find(&["Z2", "Total"]).unwrap(),
            b.find(&["Z2", "Total"]).unwrap(),
        );
        assert_eq!(a.cells[ia].value, b.cells[ib].value);
        for n in 0..40 {
            assert_eq!(random(&a, 5, &seed(n))[ia], random(&b, 5, &seed(n))[ib]);
        }
    }

    #[test]
    fn random_is_unbiased() {
        // 7 rounds to 10 with probability 2/5, else 5: mean 7, sd of the mean 5·sqrt(0.24/n)
        let t = table_3x3([[7.0, 7.0, 7.0], [7.0, 7.0, 7.0], [7.0, 7.0, 7.0]]);
        let cell = t.find(&["Z1", "A1"]).unwrap();
        let n = 20_000;
        let mean = (0..n).map(|s| random(&t, 5, &seed(s))[cell]).sum::<f64>() / n as f64;
        let sd = 5.0 * (0.4f64 * 0.6 / n as f64).sqrt();
        assert!((mean - 7.0).abs() < 5.0 * sd, "mean {mean}, sd {sd}");
    }

    #[test]
    fn controlled_rounding_keeps_additivity() {
        let t = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        let r = controlled(&t, 5, Duration::from_secs(10)).unwrap();
        for (cell, &v) in t.cells.iter().zip(&r) {
            assert!(
                is_floor_or_ceil(cell.value, v, 5.0),
                "{} -> {v}",
                cell.value
            );
            assert!((v - cell.value).abs() < 5.0);
        }
        for c in t.constraints() {
            assert_eq!(r[c.total], c.parts.iter().map(|&p| r[p]).sum::<f64>());
        }
        // the grand total 57 must go to 55 or 60 like every other cell
        assert!([55.0, 60.0].contains(&r[0]));
    }

    /// The least total absolute change of a controlled rounding, by trying every choice for
    /// the interior cells (the margins follow from them), or `None` if there is none.
    fn brute_force_best(t: &Table, b: f64) -> Option<f64> {
        let interior: Vec<usize> = (0..t.cells.len())
            .filter(|&i| t.coords(i).iter().all(|&c| c > 0))
            .collect();
        let free: Vec<usize> = interior
            .iter()
            .copied()
            .filter(|&i| t.cells[i].value % b != 0.0)
            .collect();
        let mut best: Option<f64> = None;
        for choice in 0..1u32 << free.len() {
            let mut r = t.clone();
            for &i in &interior {
                r.cells[i].value = (t.cells[i].value / b).floor() * b;
            }
            for (bit, &i) in free.iter().enumerate() {
                r.cells[i].value += b * f64::from(choice >> bit & 1);
            }
            r.sum_up();
            let valid = t
                .cells
                .iter()
                .zip(&r.cells)
                .all(|(a, c)| is_floor_or_ceil(a.value, c.value, b));
            if valid {
                let change = t
                    .cells
                    .iter()
                    .zip(&r.cells)
                    .map(|(a, c)| (a.value - c.value).abs())
                    .sum::<f64>();
                best = Some(best.map_or(change, |x: f64| x.min(change)));
            }
        }
        best
    }

    #[test]
    fn controlled_rounding_minimises_total_change() {
        for interior in [
            [[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]],
            [[6.0, 11.0, 2.0], [1.0, 16.0, 7.0], [21.0, 6.0, 12.0]],
            [[4.0, 4.0, 4.0], [4.0, 4.0, 4.0], [4.0, 4.0, 3.0]],
        ] {
            let t = table_3x3(interior);
            let r = controlled(&t, 5, Duration::from_secs(10)).unwrap();
            let change: f64 = t
                .cells
                .iter()
                .zip(&r)
                .map(|(c, v)| (c.value - v).abs())
                .sum();
            let best = brute_force_best(&t, 5.0).unwrap();
            assert!(
                (change - best).abs() < 1e-9,
                "{interior:?}: {change} vs {best}"
            );
        }
    }

    #[test]
    fn controlled_rounding_leaves_multiples_and_structural_zeros() {
        let mut t = table_3x3([[5.0, 7.0, 0.0], [10.0, 4.0, 9.0], [11.0, 2.0, 15.0]]);
        t.cell_mut(&[1, 3]).structural_zero = true;
        let r = controlled(&t, 5, Duration::from_secs(10)).unwrap();
        assert_eq!(r[t.index(&[1, 1])], 5.0);
        assert_eq!(r[t.index(&[1, 3])], 0.0);
        assert_eq!(r[t.index(&[2, 1])], 10.0);
        assert_eq!(r[t.index(&[3, 3])], 15.0);
    }

    #[test]
    fn controlled_rounding_of_a_hierarchical_table() {
        // zones within districts x age, 8 x 5 interior cells of pseudo-random counts
        let mut nodes: Vec<(String, Option<String>)> =
            (1..=3).map(|d| (format!("D{d}"), None)).collect();
        nodes.extend((1..=8).map(|z| (format!("Z{z}"), Some(format!("D{}", 1 + (z - 1) % 3)))));
        let zones = Dim::tree("zone", &nodes);
        let ages = Dim::flat("age", &["A1", "A2", "A3", "A4", "A5"]);
        let mut t = Table::new("h", Kind::Frequency, vec![zones, ages]);
        let mut x: u64 = 12345;
        for i in 0..t.cells.len() {
            let coords = t.coords(i);
            if t.dims[0].is_leaf(coords[0]) && coords[1] > 0 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                t.cells[i].value = ((x >> 33) % 40) as f64;
            }
        }
        t.sum_up();
        let r = controlled(&t, 3, Duration::from_secs(30)).unwrap();
        for (cell, &v) in t.cells.iter().zip(&r) {
            assert!(
                is_floor_or_ceil(cell.value, v, 3.0),
                "{} -> {v}",
                cell.value
            );
        }
        for c in t.constraints() {
            assert_eq!(r[c.total], c.parts.iter().map(|&p| r[p]).sum::<f64>());
        }
    }

    #[test]
    fn controlled_rounding_out_of_time_is_infeasible() {
        // with no time at all the solver stops before it has any rounding
        let t = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        let err = controlled(&t, 5, Duration::ZERO).unwrap_err();
        assert!(matches!(err, DisclosureError::Infeasible(_)), "{err}");
        assert!(err.to_string().contains("longer time limit"), "{err}");
    }

    #[test]
    fn controlled_rounding_rejects_a_non_additive_table() {
        let mut t = table_3x3([[1.0, 7.0, 12.0], [3.0, 4.0, 9.0], [11.0, 2.0, 8.0]]);
        t.cells[0].value += 1.0;
        let err = controlled(&t, 5, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(err, DisclosureError::Input(_)), "{err}");
    }

    /// A 2 x 2 x 2 table (with all its margins) that has no controlled rounding to base 2,
    /// found by exhaustive search: the equations force x000 = 2a, x010 = 2 - 2a, x100 = 2 - 2a,
    /// x101 = 2 + 2a, x111 = 4 - 2a for a in {0, 1}, and then the plane j = 1 (true sum 8, a
    /// multiple) adds up to 10 - 4a, which would need a = 1/2.
    fn no_controlled_rounding() -> Table {
        let dims = ["i", "j", "k"].map(|n| Dim::flat(n, &["0", "1"])).to_vec();
        let mut t = Table::new("cube", Kind::Frequency, dims);
        let interior = [1.0, 0.0, 1.0, 2.0, 1.0, 3.0, 2.0, 3.0];
        for (n, &v) in interior.iter().enumerate() {
            t.cell_mut(&[1 + (n >> 2), 1 + ((n >> 1) & 1), 1 + (n & 1)])
                .value = v;
        }
        t.sum_up();
        t
    }

    #[test]
    fn three_dimensional_table_without_controlled_rounding_is_infeasible() {
        let t = no_controlled_rounding();
        // check the claim by brute force over every choice for the odd interior cells
        assert_eq!(brute_force_best(&t, 2.0), None);
        let err = controlled(&t, 2, Duration::from_secs(10)).unwrap_err();
        assert!(matches!(err, DisclosureError::Infeasible(_)), "{err}");
        assert!(err.to_string().contains("random rounding"), "{err}");
    }
}
