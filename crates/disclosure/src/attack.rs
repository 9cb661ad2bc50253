//! The attacker: how tightly can an outsider pin down every hidden cell of a release?
//!
//! An attacker knows the additivity equations of a table (every margin is the sum of its
//! parts, along every dimension's hierarchy), every published value, and bounds on the cells
//! (counts and amounts are non-negative). The set of tables consistent with that knowledge is
//! a polytope; the tightest interval for a hidden cell is the minimum and the maximum of that
//! cell over the polytope, two linear programs (the "audit" of a suppression pattern, Hundepool
//! et al., *Statistical Disclosure Control*, Wiley 2012, section 4.3; Fischetti & Salazar,
//! "Solving the cell suppression problem on tabular data with linear constraints", Management
//! Science 47(7), 2001).
//!
//! The audit is made cheap before any program is solved:
//! - known values are substituted into the equations; an equation left without unknowns must
//!   hold (if not, the published numbers do not add up: an input error);
//! - an equation left with a single unknown gives its value exactly (the recomputed cell), and
//!   that value is substituted in turn;
//! - the remaining unknowns fall apart into independent connected components (union-find over
//!   equations); each program is solved over one component only;
//! - interval bounds are propagated through the equations, and every solved program's point is
//!   remembered: when some feasible point already reaches a propagated bound, that bound is the
//!   optimum and no program is solved; [`check`] stops as soon as feasible points reach the
//!   required protection, which usually settles most cells without their own program.

use crate::lp::{Lp, Sense, Solved};
use crate::{Constraint, DisclosureError, Protection, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an outside attacker knows about one table (or several linked tables merged into one
/// hypercube): the additivity equations, the published values, and bounds on every cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knowledge {
    /// Every equation `cells[total] = sum(cells[parts])`.
    pub constraints: Vec<Constraint>,
    /// The value of every cell the attacker knows, `None` for hidden cells.
    pub published: Vec<Option<f64>>,
    /// Lower bound of every hidden cell (0 for counts and non-negative amounts).
    pub lower: Vec<f64>,
    /// Upper bound of every hidden cell (`f64::INFINITY` when nothing is known).
    pub upper: Vec<f64>,
}

impl Knowledge {
    /// From a table and which cells are shown with their true value (`shown[i]`); structural
    /// zeros are known to be 0; all other cells (suppressed, or not part of any output) are
    /// unknown with bounds [0, +inf).
    ///
    /// # Panics
    /// If `shown` does not have one entry per cell.
    pub fn from_table(table: &Table, shown: &[bool]) -> Knowledge {
        Knowledge::with_constraints(table, table.constraints(), shown)
    }

    /// [`Knowledge::from_table`] with the table's equations already computed (callers that
    /// audit many patterns of one table compute them once).
    pub(crate) fn with_constraints(
        table: &Table,
        constraints: Vec<Constraint>,
        shown: &[bool],
    ) -> Knowledge {
        assert_eq!(
            shown.len(),
            table.cells.len(),
            "one shown flag per cell of table {}",
            table.name
        );
        let published = table
            .cells
            .iter()
            .zip(shown)
            .map(|(cell, &shown)| {
                if cell.structural_zero {
                    Some(0.0)
                } else if shown {
                    Some(cell.value)
                } else {
                    None
                }
            })
            .collect();
        let n = table.cells.len();
        Knowledge {
            constraints,
            published,
            lower: vec![0.0; n],
            upper: vec![f64::INFINITY; n],
        }
    }
}

/// The values an attacker cannot exclude for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    /// `f64::INFINITY` when nothing bounds the cell from above (`null` in JSON, which has no
    /// infinity).
    #[serde(with = "unbounded")]
    pub upper: f64,
}

/// An upper bound in JSON: a number, or `null` for no bound.
mod unbounded {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}

impl Interval {
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }
}

/// A sensitive cell that the attacker narrows too much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub cell: usize,
    /// The cell's true value.
    pub value: f64,
    /// The protection it needed (the lower level capped at value minus the cell's lower bound).
    pub required: Protection,
    /// What the attacker derives.
    pub interval: Interval,
}

/// The tightest interval an attacker can derive for every cell in `cells`, in the same order
/// (LP: min and max of the cell subject to the equations, published values fixed, bounds).
/// A published or recomputable cell gets an interval of width 0.
///
/// # Errors
/// [`DisclosureError::Input`] if a cell index is out of range or the published values are
/// inconsistent with the equations and bounds; [`DisclosureError::Solver`] if the solver fails.
pub fn intervals(k: &Knowledge, cells: &[usize]) -> Result<Vec<Interval>, DisclosureError> {
    let reduced = Reduced::new(k)?;
    let mut audit = Audit::new(&reduced);
    for &c in cells {
        reduced.cell_in_range(c)?;
    }
    // first aim at the propagated bounds of every cell at once: where a point reaches them,
    // they are the optima
    let ups: Vec<(usize, f64)> = cells
        .iter()
        .filter(|&&c| audit.hi[c].is_finite())
        .map(|&c| (c, audit.hi[c]))
        .collect();
    audit.aim(&ups, Sense::Maximize)?;
    let downs: Vec<(usize, f64)> = cells
        .iter()
        .filter(|&&c| audit.lo[c].is_finite())
        .map(|&c| (c, audit.lo[c]))
        .collect();
    audit.aim(&downs, Sense::Minimize)?;
    cells.iter().map(|&c| audit.interval(c)).collect()
}

/// Sensitive cells (index, true value, required protection) whose attacker interval does not
/// reach `value - required.lower` and `value + required.upper` (with a small tolerance, relative
/// to the largest value in the table). The lower level is capped at the value minus the
/// cell's lower bound: an attacker always knows that a count is not negative.
///
/// # Errors
/// As [`intervals`]; also an input error for a negative or non-finite protection level.
pub fn check(
    k: &Knowledge,
    sensitive: &[(usize, f64, Protection)],
) -> Result<Vec<Breach>, DisclosureError> {
    Ok(check_with_hints(k, sensitive, &[])?.0)
}

/// [`check`] seeded with candidate attacker solutions (one value per cell, e.g. the true table
/// moved along a protection certificate). Each hint is verified against every equation and
/// bound of each component before it is used, so a wrong hint costs time, never soundness.
/// Returns the breaches and the number of linear programs solved.
pub(crate) fn check_with_hints(
    k: &Knowledge,
    sensitive: &[(usize, f64, Protection)],
    hints: &[Vec<f64>],
) -> Result<(Vec<Breach>, usize), DisclosureError> {
    let reduced = Reduced::new(k)?;
    let mut audit = Audit::new(&reduced);
    for hint in hints {
        audit.offer(hint);
    }
    let mut required = Vec::with_capacity(sensitive.len());
    for &(c, value, protection) in sensitive {
        reduced.cell_in_range(c)?;
        let finite =
            value.is_finite() && protection.lower.is_finite() && protection.upper.is_finite();
        if !(finite && protection.lower >= 0.0 && protection.upper >= 0.0) {
            return Err(DisclosureError::Input(format!(
                "sensitive cell {c} has value {value} and protection {protection:?}; \
                 expected a finite value and finite non-negative protection levels"
            )));
        }
        let level = Protection {
            lower: protection.lower.min((value - k.lower[c]).max(0.0)),
            upper: protection.upper,
        };
        required.push((c, value, level));
    }
    let tol = reduced.tol;
    // first aim at every target at once, then settle the rest cell by cell
    let ups: Vec<(usize, f64)> = required
        .iter()
        .filter(|(_, _, level)| level.upper > tol)
        .map(|&(c, value, level)| (c, value + level.upper))
        .collect();
    audit.aim(&ups, Sense::Maximize)?;
    let downs: Vec<(usize, f64)> = required
        .iter()
        .filter(|(_, _, level)| level.lower > tol)
        .map(|&(c, value, level)| (c, value - level.lower))
        .collect();
    audit.aim(&downs, Sense::Minimize)?;
    let mut breaches = Vec::new();
    for (c, value, level) in required {
        let up = level.upper <= tol || audit.reaches(c, value + level.upper, Sense::Maximize)?;
        let down = level.lower <= tol || audit.reaches(c, value - level.lower, Sense::Minimize)?;
        if !(up && down) {
            breaches.push(Breach {
                cell: c,
                value,
                required: level,
                interval: audit.interval(c)?,
            });
        }
    }
    Ok((breaches, audit.lp_solves))
}

/// Relative tolerance of every comparison, scaled by the largest magnitude in the problem.
const RELATIVE_TOL: f64 = 1e-8;

/// Passes of bound propagation per component.
const PROPAGATION_PASSES: usize = 20;

const NONE: usize = usize::MAX;

/// One equation over unknowns: `sum(coef * x) = rhs`.
#[derive(Debug, Clone)]
struct Row {
    terms: Vec<(usize, f64)>,
    rhs: f64,
}

/// Connected unknowns and the equations that bind them.
#[derive(Debug, Default)]
struct Component {
    cells: Vec<usize>,
    rows: Vec<usize>,
}

/// The attacker's system after substituting what is known and recomputable.
struct Reduced<'a> {
    k: &'a Knowledge,
    /// The value of every cell the attacker knows or recomputes exactly.
    known: Vec<Option<f64>>,
    rows: Vec<Row>,
    /// Component of every unknown cell bound by some equation, [`NONE`] otherwise.
    component: Vec<usize>,
    components: Vec<Component>,
    tol: f64,
}

impl<'a> Reduced<'a> {
    fn new(k: &'a Knowledge) -> Result<Reduced<'a>, DisclosureError> {
        let n = k.published.len();
        if k.lower.len() != n || k.upper.len() != n {
            return Err(DisclosureError::Input(format!(
                "knowledge has {n} published entries but {} lower and {} upper bounds",
                k.lower.len(),
                k.upper.len()
            )));
        }
        for i in 0..n {
            let (lower, upper) = (k.lower[i], k.upper[i]);
            let empty = lower > upper || lower == f64::INFINITY || upper == f64::NEG_INFINITY;
            if lower.is_nan() || upper.is_nan() || empty {
                return Err(DisclosureError::Input(format!(
                    "cell {i} has bounds [{lower}, {upper}]; expected lower <= upper, with a \
                     finite value in between"
                )));
            }
            if let Some(v) = k.published[i]
                && !v.is_finite()
            {
                return Err(DisclosureError::Input(format!(
                    "cell {i} is published as {v}"
                )));
            }
        }
        let mut scale: f64 = 0.0;
        let mut known: Vec<Option<f64>> = (0..n)
            .map(|i| k.published[i].or((k.lower[i] == k.upper[i]).then_some(k.lower[i])))
            .collect();
        for (i, value) in known.iter().enumerate() {
            for v in [value.unwrap_or(0.0), k.lower[i], k.upper[i]] {
                if v.is_finite() {
                    scale = scale.max(v.abs());
                }
            }
        }
        let tol = RELATIVE_TOL * (1.0 + scale);

        // substitute known values
        let mut rows = Vec::with_capacity(k.constraints.len());
        for (e, constraint) in k.constraints.iter().enumerate() {
            let mut terms = Vec::with_capacity(constraint.parts.len() + 1);
            terms.push((constraint.total, 1.0));
            terms.extend(constraint.parts.iter().map(|&p| (p, -1.0)));
            if let Some(&(bad, _)) = terms.iter().find(|&&(c, _)| c >= n) {
                return Err(DisclosureError::Input(format!(
                    "equation {e} refers to cell {bad}, beyond the {n} cells"
                )));
            }
            terms.sort_by_key(|&(c, _)| c);
            terms.dedup_by(|b, a| {
                if a.0 == b.0 {
                    a.1 += b.1;
                    true
                } else {
                    false
                }
            });
            let mut rhs = 0.0;
            terms.retain(|&(c, coef)| match known[c] {
                Some(v) => {
                    rhs -= coef * v;
                    false
                }
                None => coef != 0.0,
            });
            if terms.is_empty() && rhs.abs() > tol {
                return Err(inconsistent(k, constraint, rhs));
            }
            rows.push(Row { terms, rhs });
        }

        // recompute cells that are alone in an equation, until none is
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (r, row) in rows.iter().enumerate() {
            for &(c, _) in &row.terms {
                rows_of[c].push(r);
            }
        }
        let mut queue: Vec<usize> = (0..rows.len())
            .filter(|&r| rows[r].terms.len() == 1)
            .collect();
        while let Some(r) = queue.pop() {
            let [(c, coef)] = rows[r].terms[..] else {
                continue; // emptied by an earlier substitution and already checked
            };
            let v = rows[r].rhs / coef;
            if v < k.lower[c] - tol || v > k.upper[c] + tol {
                return Err(DisclosureError::Input(format!(
                    "the published values imply {v} for cell {c}, outside its bounds [{}, {}]",
                    k.lower[c], k.upper[c]
                )));
            }
            known[c] = Some(v);
            for &r2 in &rows_of[c] {
                let row = &mut rows[r2];
                let Some(at) = row.terms.iter().position(|&(c2, _)| c2 == c) else {
                    continue;
                };
                let (_, coef2) = row.terms.swap_remove(at);
                row.rhs -= coef2 * v;
                match row.terms.len() {
                    1 => queue.push(r2),
                    0 if row.rhs.abs() > tol => {
                        return Err(inconsistent(k, &k.constraints[r2], row.rhs));
                    }
                    _ => {}
                }
            }
        }
        rows.retain(|row| row.terms.len() >= 2);

        // independent components of the remaining unknowns
        let mut uf = UnionFind::new(n);
        for row in &rows {
            let first = row.terms[0].0;
            for &(c, _) in &row.terms[1..] {
                uf.union(first, c);
            }
        }
        let mut component = vec![NONE; n];
        let mut components: Vec<Component> = Vec::new();
        let mut id_of_root = vec![NONE; n];
        for (r, row) in rows.iter().enumerate() {
            let root = uf.find(row.terms[0].0);
            if id_of_root[root] == NONE {
                id_of_root[root] = components.len();
                components.push(Component::default());
            }
            let id = id_of_root[root];
            components[id].rows.push(r);
            for &(c, _) in &row.terms {
                if component[c] == NONE {
                    component[c] = id;
                    components[id].cells.push(c);
                }
            }
        }
        Ok(Reduced {
            k,
            known,
            rows,
            component,
            components,
            tol,
        })
    }

    fn cell_in_range(&self, c: usize) -> Result<(), DisclosureError> {
        if c < self.known.len() {
            Ok(())
        } else {
            Err(DisclosureError::Input(format!(
                "cell {c} is beyond the {} cells of the table",
                self.known.len()
            )))
        }
    }
}

fn inconsistent(k: &Knowledge, constraint: &Constraint, off_by: f64) -> DisclosureError {
    let sum: f64 = constraint
        .parts
        .iter()
        .map(|&p| k.published[p].unwrap_or(f64::NAN))
        .sum();
    let detail = match k.published[constraint.total] {
        Some(total) if sum.is_finite() => {
            format!(
                "cell {} is {total} but its parts add up to {sum}",
                constraint.total
            )
        }
        _ => format!(
            "the equation of total cell {} is off by {off_by} once published and recomputed \
             values are substituted",
            constraint.total
        ),
    };
    DisclosureError::Input(format!("the published values do not add up: {detail}"))
}

/// The audit of one reduced system: optima found so far and feasible points seen.
struct Audit<'r, 'k> {
    r: &'r Reduced<'k>,
    /// Propagated bounds of every unknown cell.
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// The largest and smallest value of every cell in a feasible point seen so far.
    seen_max: Vec<f64>,
    seen_min: Vec<f64>,
    exact_max: Vec<Option<f64>>,
    exact_min: Vec<Option<f64>>,
    /// Scratch: position of a cell among its component's cells.
    local: Vec<usize>,
    lp_solves: usize,
}

impl<'r, 'k> Audit<'r, 'k> {
    fn new(r: &'r Reduced<'k>) -> Audit<'r, 'k> {
        let n = r.known.len();
        let mut audit = Audit {
            r,
            lo: r.k.lower.clone(),
            hi: r.k.upper.clone(),
            seen_max: vec![f64::NEG_INFINITY; n],
            seen_min: vec![f64::INFINITY; n],
            exact_max: vec![None; n],
            exact_min: vec![None; n],
            local: vec![NONE; n],
            lp_solves: 0,
        };
        for comp in &r.components {
            audit.propagate(comp);
        }
        audit
    }

    /// Tighten `lo`/`hi` of a component's cells through its equations: in
    /// `sum(a x) = b`, `a_j x_j = b - sum_{i != j} a_i x_i`.
    fn propagate(&mut self, comp: &Component) {
        let tol = self.r.tol;
        for _ in 0..PROPAGATION_PASSES {
            let mut changed = false;
            for &ri in &comp.rows {
                let row = &self.r.rows[ri];
                // sums of the terms' minima and maxima, with infinite terms counted apart
                let (mut min_sum, mut min_inf, mut max_sum, mut max_inf) = (0.0, 0, 0.0, 0);
                for &(c, a) in &row.terms {
                    let (tmin, tmax) = term_range(a, self.lo[c], self.hi[c]);
                    if tmin.is_finite() {
                        min_sum += tmin;
                    } else {
                        min_inf += 1;
                    }
                    if tmax.is_finite() {
                        max_sum += tmax;
                    } else {
                        max_inf += 1;
                    }
                }
                for &(c, a) in &row.terms {
                    let (tmin, tmax) = term_range(a, self.lo[c], self.hi[c]);
                    // range of the other terms
                    let others_min = if tmin.is_finite() {
                        if min_inf == 0 {
                            min_sum - tmin
                        } else {
                            f64::NEG_INFINITY
                        }
                    } else if min_inf == 1 {
                        min_sum
                    } else {
                        f64::NEG_INFINITY
                    };
                    let others_max = if tmax.is_finite() {
                        if max_inf == 0 {
                            max_sum - tmax
                        } else {
                            f64::INFINITY
                        }
                    } else if max_inf == 1 {
                        max_sum
                    } else {
                        f64::INFINITY
                    };
                    // a x in [b - others_max, b - others_min]
                    let (mut new_lo, mut new_hi) =
                        ((row.rhs - others_max) / a, (row.rhs - others_min) / a);
                    if a < 0.0 {
                        std::mem::swap(&mut new_lo, &mut new_hi);
                    }
                    if new_lo > self.lo[c] + tol {
                        self.lo[c] = new_lo;
                        changed = true;
                    }
                    if new_hi < self.hi[c] - tol {
                        self.hi[c] = new_hi;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Remember a candidate point for every component where it satisfies all equations and
    /// bounds.
    fn offer(&mut self, x: &[f64]) {
        if x.len() != self.r.known.len() {
            return;
        }
        let tol = self.r.tol;
        for comp in &self.r.components {
            let in_bounds = comp.cells.iter().all(|&c| {
                x[c].is_finite()
                    && x[c] >= self.r.k.lower[c] - tol
                    && x[c] <= self.r.k.upper[c] + tol
            });
            let satisfied = in_bounds
                && comp.rows.iter().all(|&ri| {
                    let row = &self.r.rows[ri];
                    let lhs: f64 = row.terms.iter().map(|&(c, a)| a * x[c]).sum();
                    (lhs - row.rhs).abs() <= tol
                });
            if satisfied {
                for &c in &comp.cells {
                    self.seen_max[c] = self.seen_max[c].max(x[c]);
                    self.seen_min[c] = self.seen_min[c].min(x[c]);
                }
            }
        }
    }

    /// Look, in each component, for one feasible point that takes every `(cell, target)` not
    /// reached yet as far towards its target as jointly possible (maximise the sum of
    /// `min(x_c, target_c)`, or minimise the sum of `max(x_c, target_c)`), and remember it.
    /// One program often settles a whole component; what it does not settle, single programs
    /// will.
    fn aim(&mut self, targets: &[(usize, f64)], sense: Sense) -> Result<(), DisclosureError> {
        let tol = self.r.tol;
        let mut by_component: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
        for &(c, target) in targets {
            let id = self.r.component[c];
            let reached = match sense {
                Sense::Maximize => self.seen_max[c] >= target - tol,
                Sense::Minimize => self.seen_min[c] <= target + tol,
            };
            if id != NONE && self.r.known[c].is_none() && !reached {
                by_component.entry(id).or_default().push((c, target));
            }
        }
        for (id, mut targets) in by_component {
            // aim again at what the last point missed, as long as that settles enough
            while targets.len() >= 2 {
                let before = targets.len();
                self.aim_once(id, &targets, sense)?;
                targets.retain(|&(c, target)| match sense {
                    Sense::Maximize => self.seen_max[c] < target - tol,
                    Sense::Minimize => self.seen_min[c] > target + tol,
                });
                // a program that settles little costs more than the single ones it saves
                if before - targets.len() < 2 + before / 10 {
                    break;
                }
            }
        }
        Ok(())
    }

    /// One aiming program over component `id`.
    fn aim_once(
        &mut self,
        id: usize,
        targets: &[(usize, f64)],
        sense: Sense,
    ) -> Result<(), DisclosureError> {
        {
            let comp = &self.r.components[id];
            let k = self.r.k;
            let mut lp = Lp::new(Sense::Maximize);
            for (i, &cell) in comp.cells.iter().enumerate() {
                self.local[cell] = i;
                lp.var(0.0, k.lower[cell], k.upper[cell]);
            }
            let mut terms = Vec::new();
            for &ri in &comp.rows {
                let row = &self.r.rows[ri];
                terms.clear();
                terms.extend(row.terms.iter().map(|&(cell, a)| (self.local[cell], a)));
                lp.eq(&terms, row.rhs);
            }
            for &(c, target) in targets {
                let x = self.local[c];
                match sense {
                    Sense::Maximize => {
                        // t <= target, t <= x; maximise t
                        let t = lp.var(1.0, k.lower[c].min(target), target);
                        lp.le(&[(t, 1.0), (x, -1.0)], 0.0);
                    }
                    Sense::Minimize => {
                        // s >= target, s >= x; minimise s
                        let s = lp.var(-1.0, target, k.upper[c].max(target));
                        lp.le(&[(x, 1.0), (s, -1.0)], 0.0);
                    }
                }
            }
            self.lp_solves += 1;
            match lp.solve()? {
                Solved::Optimal { x, .. } => {
                    for (i, &cell) in comp.cells.iter().enumerate() {
                        self.seen_max[cell] = self.seen_max[cell].max(x[i]);
                        self.seen_min[cell] = self.seen_min[cell].min(x[i]);
                    }
                }
                Solved::Infeasible => {
                    return Err(DisclosureError::Input(format!(
                        "no table fits the published values and bounds around cell {}",
                        comp.cells[0]
                    )));
                }
                Solved::Unbounded => {
                    return Err(DisclosureError::Solver(
                        "a bounded aiming program is unbounded".to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the attacker cannot exclude `target` for cell `c` in that direction (a
    /// feasible point reaches it).
    fn reaches(&mut self, c: usize, target: f64, sense: Sense) -> Result<bool, DisclosureError> {
        let tol = self.r.tol;
        match sense {
            Sense::Maximize => {
                if self.seen_max[c] >= target - tol {
                    return Ok(true);
                }
            }
            Sense::Minimize => {
                if self.seen_min[c] <= target + tol {
                    return Ok(true);
                }
            }
        }
        let best = self.optimum(c, sense)?;
        Ok(match sense {
            Sense::Maximize => best >= target - tol,
            Sense::Minimize => best <= target + tol,
        })
    }

    fn interval(&mut self, c: usize) -> Result<Interval, DisclosureError> {
        Ok(Interval {
            lower: self.optimum(c, Sense::Minimize)?,
            upper: self.optimum(c, Sense::Maximize)?,
        })
    }

    /// The smallest or largest value of cell `c` over everything the attacker knows.
    fn optimum(&mut self, c: usize, sense: Sense) -> Result<f64, DisclosureError> {
        if let Some(v) = self.r.known[c] {
            return Ok(v);
        }
        let id = self.r.component[c];
        if id == NONE {
            return Ok(match sense {
                Sense::Minimize => self.r.k.lower[c],
                Sense::Maximize => self.r.k.upper[c],
            });
        }
        let tol = self.r.tol;
        let cached = match sense {
            Sense::Minimize => self.exact_min[c],
            Sense::Maximize => self.exact_max[c],
        };
        let v = match cached {
            Some(v) => v,
            // a feasible point on a valid bound proves the bound optimal
            None => match sense {
                Sense::Minimize if self.seen_min[c] <= self.lo[c] + tol => self.lo[c],
                Sense::Maximize if self.seen_max[c] >= self.hi[c] - tol => self.hi[c],
                _ => self.solve(id, c, sense)?,
            },
        };
        match sense {
            Sense::Minimize => self.exact_min[c] = Some(v),
            Sense::Maximize => self.exact_max[c] = Some(v),
        }
        Ok(v)
    }

    /// Optimise cell `c` over its component; remember the optimal point.
    fn solve(&mut self, id: usize, c: usize, sense: Sense) -> Result<f64, DisclosureError> {
        let comp = &self.r.components[id];
        let k = self.r.k;
        let mut lp = Lp::new(sense);
        for (i, &cell) in comp.cells.iter().enumerate() {
            self.local[cell] = i;
            let cost = if cell == c { 1.0 } else { 0.0 };
            lp.var(cost, k.lower[cell], k.upper[cell]);
        }
        let mut terms = Vec::new();
        for &ri in &comp.rows {
            let row = &self.r.rows[ri];
            terms.clear();
            terms.extend(row.terms.iter().map(|&(cell, a)| (self.local[cell], a)));
            lp.eq(&terms, row.rhs);
        }
        self.lp_solves += 1;
        match lp.solve()? {
            Solved::Optimal { x, .. } => {
                for (i, &cell) in comp.cells.iter().enumerate() {
                    self.seen_max[cell] = self.seen_max[cell].max(x[i]);
                    self.seen_min[cell] = self.seen_min[cell].min(x[i]);
                }
                Ok(x[self.local[c]])
            }
            Solved::Unbounded => Ok(match sense {
                Sense::Minimize => f64::NEG_INFINITY,
                Sense::Maximize => f64::INFINITY,
            }),
            Solved::Infeasible => Err(DisclosureError::Input(format!(
                "no table fits the published values and bounds around cell {c}"
            ))),
        }
    }
}

/// The range of `a * x` for `x` in `[lo, hi]`.
fn term_range(a: f64, lo: f64, hi: f64) -> (f64, f64) {
    let (p, q) = (mul(a, lo), mul(a, hi));
    (p.min(q), p.max(q))
}

/// `a * x` where a zero coefficient never meets an infinite bound (no NaN).
fn mul(a: f64, x: f64) -> f64 {
    if a == 0.0 { 0.0 } else { a * x }
}

/// Disjoint sets over cell indices, with path halving.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra] = rb;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[test]
    fn an_unbounded_interval_round_trips_through_json() {
        let i = Interval {
            lower: 0.0,
            upper: f64::INFINITY,
        };
        let text = serde_json::to_string(&i).unwrap();
        assert_eq!(text, r#"{"lower":0.0,"upper":null}"#);
        assert_eq!(serde_json::from_str::<Interval>(&text).unwrap(), i);
        let b = Interval {
            lower: 1.0,
            upper: 4.5,
        };
        assert_eq!(
            serde_json::from_str::<Interval>(&serde_json::to_string(&b).unwrap()).unwrap(),
            b
        );
    }

    use super::*;
    use crate::{Dim, Kind};
    use proptest::prelude::*;

    /// A two-way table from its interior (rows x columns), margins summed up.
    pub(crate) fn grid(interior: &[&[f64]]) -> Table {
        let rows: Vec<String> = (1..=interior.len()).map(|i| format!("r{i}")).collect();
        let cols: Vec<String> = (1..=interior[0].len()).map(|j| format!("c{j}")).collect();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut t = Table::new(
            "grid",
            Kind::Frequency,
            vec![Dim::flat("row", &rows), Dim::flat("col", &cols)],
        );
        for (i, row) in interior.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                t.cell_mut(&[i + 1, j + 1]).value = v;
            }
        }
        t.sum_up();
        t
    }

    /// The knowledge of an attacker when the cells at these codes are hidden.
    fn hiding(t: &Table, hidden: &[&[&str]]) -> (Knowledge, Vec<usize>) {
        let cells: Vec<usize> = hidden.iter().map(|codes| t.find(codes).unwrap()).collect();
        let mut shown = vec![true; t.cells.len()];
        for &c in &cells {
            shown[c] = false;
        }
        (Knowledge::from_table(t, &shown), cells)
    }

    /// Intervals of the hidden cells, compared with the expected ones.
    fn check_intervals(t: &Table, hidden: &[&[&str]], expect: &[(f64, f64)]) {
        let (k, cells) = hiding(t, hidden);
        let got = intervals(&k, &cells).unwrap();
        let got: Vec<(f64, f64)> = got.iter().map(|i| (i.lower, i.upper)).collect();
        assert_eq!(got.len(), expect.len());
        for (g, e) in got.iter().zip(expect) {
            assert!(
                (g.0 - e.0).abs() < 1e-7 && (g.1 - e.1).abs() < 1e-7,
                "got {got:?}, expected {expect:?}"
            );
        }
    }

    fn both(level: f64) -> Protection {
        Protection {
            lower: level,
            upper: level,
        }
    }

    #[test]
    fn a_lone_suppression_is_recomputed_from_its_margins() {
        let t = grid(&[&[3.0, 5.0], &[7.0, 10.0]]);
        check_intervals(&t, &[&["r1", "c1"]], &[(3.0, 3.0)]);
        let (k, cells) = hiding(&t, &[&["r1", "c1"]]);
        let breaches = check(&k, &[(cells[0], 3.0, both(1.0))]).unwrap();
        assert_eq!(breaches.len(), 1);
        assert_eq!(breaches[0].cell, cells[0]);
        assert_eq!(breaches[0].interval.width(), 0.0);
    }

    #[test]
    fn the_four_cell_rectangle_leaves_the_hand_computed_intervals() {
        // margins: r1 = 8, r2 = 17, c1 = 10, c2 = 15. a = r1c1:
        // a <= min(r1, c1) = 8; a >= max(0, c1 - r2, r1 - c2) = 0.
        // b = r1 - a in [0, 8]; c = c1 - a in [2, 10]; d = r2 - c in [7, 15].
        let t = grid(&[&[3.0, 5.0], &[7.0, 10.0]]);
        let hidden: &[&[&str]] = &[&["r1", "c1"], &["r1", "c2"], &["r2", "c1"], &["r2", "c2"]];
        check_intervals(
            &t,
            hidden,
            &[(0.0, 8.0), (0.0, 8.0), (2.0, 10.0), (7.0, 15.0)],
        );

        let (k, cells) = hiding(&t, hidden);
        let a = cells[0];
        // 3 - 3 = 0 and 3 + 5 = 8 are within reach
        assert!(check(&k, &[(a, 3.0, both(3.0))]).unwrap().is_empty());
        // 3 + 6 = 9 is not; a lower level above the value is capped at the value
        let need = Protection {
            lower: 10.0,
            upper: 6.0,
        };
        let breaches = check(&k, &[(a, 3.0, need)]).unwrap();
        assert_eq!(
            breaches,
            vec![Breach {
                cell: a,
                value: 3.0,
                required: Protection {
                    lower: 3.0,
                    upper: 6.0
                },
                interval: Interval {
                    lower: 0.0,
                    upper: 8.0
                },
            }]
        );
    }

    /// zone within district (D1 = Z1 + Z2 + Z3, D2 = Z4 + Z5) x sex
    pub(crate) fn zones_by_sex() -> Table {
        let nodes: Vec<(String, Option<String>)> = [
            ("D1", None),
            ("D2", None),
            ("Z1", Some("D1")),
            ("Z2", Some("D1")),
            ("Z3", Some("D1")),
            ("Z4", Some("D2")),
            ("Z5", Some("D2")),
        ]
        .iter()
        .map(|(c, p)| (c.to_string(), p.map(str::to_string)))
        .collect();
        let mut t = Table::new(
            "zones",
            Kind::Frequency,
            vec![Dim::tree("zone", &nodes), Dim::flat("sex", &["F", "M"])],
        );
        let values = [
            ("Z1", [4.0, 6.0]),
            ("Z2", [2.0, 9.0]),
            ("Z3", [8.0, 3.0]),
            ("Z4", [5.0, 5.0]),
            ("Z5", [1.0, 7.0]),
        ];
        for (zone, [f, m]) in values {
            let i = t.find(&[zone, "F"]).unwrap();
            t.cells[i].value = f;
            let i = t.find(&[zone, "M"]).unwrap();
            t.cells[i].value = m;
        }
        t.sum_up();
        t
    }

    #[test]
    fn a_hidden_zone_is_its_district_minus_the_other_zones() {
        let t = zones_by_sex();
        // the whole row of Z2 hidden: Z2 x F = D1 x F - Z1 x F - Z3 x F = 14 - 4 - 8
        let hidden: &[&[&str]] = &[&["Z2", "F"], &["Z2", "M"], &["Z2", "Total"]];
        check_intervals(&t, hidden, &[(2.0, 2.0), (9.0, 9.0), (11.0, 11.0)]);

        // Z2 and Z3 hidden in full: only Z2 + Z3 = D1 - Z1 is known (F 10, M 12, Total 22)
        let hidden: &[&[&str]] = &[
            &["Z2", "F"],
            &["Z2", "M"],
            &["Z3", "F"],
            &["Z3", "M"],
            &["Z2", "Total"],
            &["Z3", "Total"],
        ];
        // so Z2 x F and Z3 x F lie anywhere in [0, 10], Z2 x M and Z3 x M in [0, 12], the
        // zone totals in [0, 22]
        check_intervals(
            &t,
            hidden,
            &[
                (0.0, 10.0),
                (0.0, 12.0),
                (0.0, 10.0),
                (0.0, 12.0),
                (0.0, 22.0),
                (0.0, 22.0),
            ],
        );
    }

    #[test]
    fn a_cell_bound_by_no_equation_from_above_is_unbounded() {
        // x0 = x1 + x2 with nothing published
        let k = Knowledge {
            constraints: vec![Constraint {
                total: 0,
                parts: vec![1, 2],
            }],
            published: vec![None, None, None, Some(4.0)],
            lower: vec![0.0; 4],
            upper: vec![f64::INFINITY; 4],
        };
        let got = intervals(&k, &[1, 3]).unwrap();
        assert_eq!(
            got,
            vec![
                Interval {
                    lower: 0.0,
                    upper: f64::INFINITY
                },
                Interval {
                    lower: 4.0,
                    upper: 4.0
                }
            ]
        );
        // the published total bounds the parts
        let k = Knowledge {
            published: vec![Some(6.0), None, None, Some(4.0)],
            ..k
        };
        assert_eq!(
            intervals(&k, &[1]).unwrap(),
            vec![Interval {
                lower: 0.0,
                upper: 6.0
            }]
        );
    }

    #[test]
    fn published_values_that_do_not_add_up_are_an_input_error() {
        let mut t = grid(&[&[3.0, 5.0], &[7.0, 10.0]]);
        let total = t.find(&["r1", "Total"]).unwrap();
        t.cells[total].value = 9.0;
        let (k, cells) = hiding(&t, &[&["r2", "c2"]]);
        let err = intervals(&k, &cells).unwrap_err();
        assert!(
            matches!(&err, DisclosureError::Input(m) if m.contains("do not add up")),
            "{err}"
        );
        // a recomputed cell that the bounds exclude is inconsistent too: r1 x c1 = 8 - 9
        let (k, cells) = hiding(&t, &[&["r1", "c1"]]);
        assert!(matches!(
            intervals(&k, &cells),
            Err(DisclosureError::Input(_))
        ));
    }

    #[test]
    fn a_false_hint_does_not_hide_a_breach() {
        let t = grid(&[&[3.0, 5.0], &[7.0, 10.0]]);
        let (k, cells) = hiding(&t, &[&["r1", "c1"], &["r1", "c2"]]);
        // r1 x c1 is recomputable from column c1; a hint claiming it can be 20 breaks c1
        let mut hint: Vec<f64> = t.cells.iter().map(|c| c.value).collect();
        hint[cells[0]] = 20.0;
        hint[cells[1]] = -12.0;
        let (breaches, _) = check_with_hints(&k, &[(cells[0], 3.0, both(2.0))], &[hint]).unwrap();
        assert_eq!(breaches.len(), 1);
        assert_eq!(breaches[0].interval.width(), 0.0);
    }

    /// Min and max of every cell over the whole unreduced system: the reference that the
    /// reductions and short cuts must agree with.
    fn naive(k: &Knowledge, c: usize) -> Interval {
        let optimum = |sense| {
            let mut lp = Lp::new(sense);
            for i in 0..k.published.len() {
                let cost = if i == c { 1.0 } else { 0.0 };
                match k.published[i] {
                    Some(v) => lp.var(cost, v, v),
                    None => lp.var(cost, k.lower[i], k.upper[i]),
                };
            }
            for e in &k.constraints {
                let mut terms = vec![(e.total, 1.0)];
                terms.extend(e.parts.iter().map(|&p| (p, -1.0)));
                lp.eq(&terms, 0.0);
            }
            match lp.solve().unwrap() {
                Solved::Optimal { objective, .. } => objective,
                Solved::Unbounded if sense == Sense::Maximize => f64::INFINITY,
                other => panic!("{other:?}"),
            }
        };
        Interval {
            lower: optimum(Sense::Minimize),
            upper: optimum(Sense::Maximize),
        }
    }

    /// A small table: 2 or 3 dimensions, the first one hierarchical when asked.
    pub(crate) fn small_table(shape: &[usize], tree: bool, values: &[u8]) -> Table {
        let mut dims: Vec<Dim> = shape
            .iter()
            .enumerate()
            .map(|(k, &n)| {
                let codes: Vec<String> = (0..n).map(|i| format!("d{k}c{i}")).collect();
                let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
                Dim::flat(&format!("d{k}"), &codes)
            })
            .collect();
        if tree {
            let nodes: Vec<(String, Option<String>)> = [
                ("A", None),
                ("B", None),
                ("a1", Some("A")),
                ("a2", Some("A")),
                ("b1", Some("B")),
                ("b2", Some("B")),
                ("b3", Some("B")),
            ]
            .iter()
            .map(|(c, p)| (c.to_string(), p.map(str::to_string)))
            .collect();
            dims[0] = Dim::tree("area", &nodes);
        }
        let mut t = Table::new("small", Kind::Frequency, dims);
        let mut next = values.iter().cycle();
        for i in 0..t.cells.len() {
            let leaf = t.coords(i).iter().zip(&t.dims).all(|(&c, d)| d.is_leaf(c));
            if leaf {
                t.cells[i].value = f64::from(*next.next().unwrap());
            }
        }
        t.sum_up();
        t
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn intervals_agree_with_the_unreduced_program(
            shape in prop::collection::vec(2usize..4, 2..4),
            tree in any::<bool>(),
            values in prop::collection::vec(0u8..12, 8..40),
            hide in prop::collection::vec(any::<bool>(), 16..64),
        ) {
            let t = small_table(&shape, tree, &values);
            let shown: Vec<bool> = (0..t.cells.len()).map(|i| !hide[i % hide.len()]).collect();
            let k = Knowledge::from_table(&t, &shown);
            let hidden: Vec<usize> = (0..t.cells.len()).filter(|&i| !shown[i]).collect();
            let got = intervals(&k, &hidden).unwrap();
            for (&c, got) in hidden.iter().zip(&got) {
                let want = naive(&k, c);
                prop_assert!((got.lower - want.lower).abs() < 1e-6, "cell {c}: {got:?} vs {want:?}");
                prop_assert!(
                    got.upper == want.upper || (got.upper - want.upper).abs() < 1e-6,
                    "cell {c}: {got:?} vs {want:?}"
                );
                // and the true value is always inside
                prop_assert!(got.lower <= t.cells[c].value + 1e-9 && t.cells[c].value <= got.upper + 1e-9);
            }
            // check agrees with the intervals: a protection of the full width is met, a wider one is not
            let sensitive: Vec<(usize, f64, Protection)> = hidden.iter().zip(&got)
                .filter(|(_, i)| i.upper.is_finite())
                .map(|(&c, i)| (c, t.cells[c].value, Protection {
                    lower: t.cells[c].value - i.lower,
                    upper: i.upper - t.cells[c].value + 0.5,
                }))
                .collect();
            let breaches = check(&k, &sensitive).unwrap();
            prop_assert_eq!(breaches.len(), sensitive.len());
        }
    }
}
