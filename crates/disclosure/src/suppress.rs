//! Secondary cell suppression: hide enough other cells that no primary (sensitive) cell can be
//! recomputed, or narrowed below its protection levels, from the published margins.
//!
//! The method is the linear-programming heuristic of Kelly, Golden & Assad ("Cell suppression:
//! disclosure protection for sensitive tabular data", Networks 22, 1992) in the form that
//! Fischetti & Salazar use to separate their protection constraints ("Models and algorithms
//! for optimizing cell suppression in tabular data with linear constraints", JASA 95, 2000;
//! Management Science 47, 2001), as described in Hundepool et al., *Statistical Disclosure
//! Control* (Wiley 2012), chapter 4.
//!
//! A suppression pattern protects primary cell `p` upwards by `UPL` exactly when the attacker
//! can move the table to a consistent one where `p` is `UPL` larger: a deviation `y` with
//! `A y = 0` for every additivity equation (across every dimension's hierarchy at once),
//! `y_p = UPL`, `value + y >= 0`, and `y_j = 0` on every cell the attacker knows. For each
//! primary and direction (up by its upper level, down by its lower level) we therefore solve
//! the linear program
//!
//! ```text
//! min  sum_j c_j (y+_j + y-_j)   s.t.  A (y+ - y-) = 0,  y+_p - y-_p = +-level,
//!      0 <= y-_j <= value_j,  y+_j >= 0,  y_j = 0 on locked cells and structural zeros
//! ```
//!
//! where `c_j` is almost 0 for cells already hidden (primaries, earlier secondaries, cells no
//! output shows) and `1 + value_weight * value_j / max value` for the others; every cell the
//! optimum moves joins the pattern. Its deviation is then a certificate: the true table plus
//! `y` is a table the attacker cannot exclude. Before solving that program, the same program
//! restricted to the hidden cells tells whether the current pattern already protects the
//! primary (primaries are visited by decreasing value, whose patterns often cover the smaller
//! ones). Equations with a single movable cell pin it, which shrinks both programs, and each is
//! solved over the connected component of `p` only.
//!
//! After a round the attacker ([`crate::attack`]) audits the whole pattern (seeded with the
//! certificates, which it verifies) and the round is repeated for any primary still breached.
//! A pruning pass then tries to publish each secondary again, most costly first, keeping it
//! published when every certificate that used it can be replaced by one within the remaining
//! pattern; the final pattern is audited once more.

use crate::attack::{self, Knowledge};
use crate::lp::{Lp, Sense, Solved};
use crate::{Constraint, DisclosureError, Protection, Table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to choose secondary suppressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    /// Cells that must stay published (already public in an earlier release).
    pub locked: Vec<usize>,
    /// Weight of a cell's value in the cost of suppressing it, relative to the largest value
    /// of the table (0 = minimise the number of suppressed cells only). The default 1 counts
    /// cells first and prefers small ones among equally many.
    pub value_weight: f64,
    /// Whether to try publishing each secondary again once all primaries are protected.
    pub prune: bool,
    /// Rounds of protect-then-audit before giving up with a solver error.
    pub max_rounds: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            locked: Vec::new(),
            value_weight: 1.0,
            prune: true,
            max_rounds: 10,
        }
    }
}

/// What [`secondary`] chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The secondary suppressions, in increasing cell order (neither primaries nor cells that
    /// no output shows).
    pub secondary: Vec<usize>,
    /// Linear programs solved, the attacker's audits included.
    pub lp_solves: usize,
    /// Protect-then-audit rounds.
    pub rounds: usize,
}

/// Choose secondary suppressions so that every primary cell (index, required protection) is
/// protected against an attacker who knows all other published cells and all additivity
/// equations of the table, across every dimension's hierarchy at once (zone within district
/// within city x age x citizenship), suppressing as few cells and as little total value as
/// possible.
///
/// Cells that no output shows (`published == false`) are hidden already and cost nothing;
/// structural zeros and `options.locked` cells are never suppressed; a cell of value 0 may be
/// suppressed but only moves upwards. A lower protection level above the cell's value is
/// capped at the value (an attacker knows the cell is not negative). The returned pattern
/// passes [`attack::check`].
///
/// # Errors
/// [`DisclosureError::Input`] for an index out of range, a negative or non-finite value or
/// protection, a structural zero with a value, or a table whose margins are not the sums of
/// their parts; [`DisclosureError::Infeasible`] naming the primary cell when no pattern can
/// protect it (it is locked, a structural zero, or every way to hide it runs into locked
/// cells); [`DisclosureError::Solver`] if the solver fails.
pub fn secondary(
    table: &Table,
    primary: &[(usize, Protection)],
    options: &Options,
) -> Result<Outcome, DisclosureError> {
    let mut model = Model::new(table, options)?;
    let n = table.cells.len();

    // primaries, merged when repeated, with the lower level capped at the value
    let mut levels: BTreeMap<usize, Protection> = BTreeMap::new();
    for &(p, protection) in primary {
        if p >= n {
            return Err(DisclosureError::Input(format!(
                "primary cell {p} is beyond the {n} cells of table {}",
                table.name
            )));
        }
        let finite = protection.lower.is_finite() && protection.upper.is_finite();
        if !finite || protection.lower < 0.0 || protection.upper < 0.0 {
            return Err(DisclosureError::Input(format!(
                "primary cell {} has protection {protection:?}; expected finite non-negative \
                 levels",
                model.name(p)
            )));
        }
        if model.fixed[p] {
            let why = if table.cells[p].structural_zero {
                "a structural zero, known to be 0"
            } else {
                "locked (already public)"
            };
            return Err(DisclosureError::Infeasible(format!(
                "primary cell {} cannot be protected: it is {why}",
                model.name(p)
            )));
        }
        let level = levels.entry(p).or_default();
        level.lower = level.lower.max(protection.lower.min(model.value[p]));
        level.upper = level.upper.max(protection.upper);
    }
    let mut order: Vec<usize> = levels.keys().copied().collect();
    order.sort_by(|&a, &b| model.value[b].total_cmp(&model.value[a]).then(a.cmp(&b)));
    let sensitive: Vec<(usize, f64, Protection)> = order
        .iter()
        .map(|&p| (p, model.value[p], levels[&p]))
        .collect();

    let mut state = State {
        hidden: (0..n)
            .map(|j| !model.fixed[j] && (!table.cells[j].published || levels.contains_key(&j)))
            .collect(),
        secondary: vec![false; n],
        certificates: BTreeMap::new(),
    };
    let mut tasks: Vec<Task> = order
        .iter()
        .flat_map(|&p| tasks_of(p, levels[&p]))
        .collect();
    let mut pruned = !options.prune;
    let mut rounds = 0;
    loop {
        rounds += 1;
        if rounds > options.max_rounds.max(1) {
            let names: Vec<String> = tasks.iter().map(|t| model.name(t.cell)).collect();
            return Err(DisclosureError::Solver(format!(
                "the attacker still narrows {} after {} rounds",
                names.join(", "),
                options.max_rounds
            )));
        }
        model.protect(&mut state, &tasks)?;
        let mut breached = model.audit(&state, &sensitive)?;
        if breached.is_empty() && !pruned {
            model.prune(&mut state)?;
            pruned = true;
            breached = model.audit(&state, &sensitive)?;
        }
        if breached.is_empty() {
            break;
        }
        tasks = breached
            .iter()
            .flat_map(|&p| tasks_of(p, levels[&p]))
            .collect();
    }
    Ok(Outcome {
        secondary: (0..n).filter(|&j| state.secondary[j]).collect(),
        lp_solves: model.lp_solves,
        rounds,
    })
}

/// Cost of moving a cell that is hidden already: small, so that the programs reuse hidden
/// cells, but not zero, so that certificates stay sparse.
const HIDDEN_COST: f64 = 1e-3;

/// Relative tolerance of the additivity check, scaled by the largest value.
const RELATIVE_TOL: f64 = 1e-8;

/// One protection requirement: move `cell` by `delta` (positive up, negative down).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Task {
    cell: usize,
    delta: f64,
}

impl Task {
    /// Key of the certificate: the cell and whether it goes up.
    fn key(&self) -> (usize, bool) {
        (self.cell, self.delta > 0.0)
    }
}

fn tasks_of(p: usize, level: Protection) -> Vec<Task> {
    let mut out = Vec::with_capacity(2);
    if level.upper > 0.0 {
        out.push(Task {
            cell: p,
            delta: level.upper,
        });
    }
    if level.lower > 0.0 {
        out.push(Task {
            cell: p,
            delta: -level.lower,
        });
    }
    out
}

/// A deviation of the table that the attacker cannot exclude: `(cell, y)` for every moved
/// cell.
type Certificate = Vec<(usize, f64)>;

/// The pattern under construction.
struct State {
    /// Cells the attacker does not know: unpublished, primaries and secondaries.
    hidden: Vec<bool>,
    secondary: Vec<bool>,
    /// A certificate for every task, valid for the current pattern.
    certificates: BTreeMap<(usize, bool), (Task, Certificate)>,
}

/// The table as the programs see it.
struct Model<'a> {
    table: &'a Table,
    constraints: Vec<Constraint>,
    /// Every equation as `sum(coef * y) = 0`.
    rows: Vec<Vec<(usize, f64)>>,
    rows_of: Vec<Vec<usize>>,
    value: Vec<f64>,
    /// Locked cells and structural zeros: never moved, never suppressed.
    fixed: Vec<bool>,
    /// The cost of suppressing each cell.
    cost: Vec<f64>,
    lp_solves: usize,
}

impl<'a> Model<'a> {
    fn new(table: &'a Table, options: &Options) -> Result<Model<'a>, DisclosureError> {
        let n = table.cells.len();
        let name = |i: usize| cell_name(table, i);
        let value: Vec<f64> = table.cells.iter().map(|c| c.value).collect();
        for (i, cell) in table.cells.iter().enumerate() {
            if !(cell.value.is_finite() && cell.value >= 0.0) {
                return Err(DisclosureError::Input(format!(
                    "cell {} has value {}; secondary suppression needs finite non-negative cells",
                    name(i),
                    cell.value
                )));
            }
            if cell.structural_zero && cell.value != 0.0 {
                return Err(DisclosureError::Input(format!(
                    "cell {} is a structural zero but has value {}",
                    name(i),
                    cell.value
                )));
            }
        }
        if !(options.value_weight.is_finite() && options.value_weight >= 0.0) {
            return Err(DisclosureError::Input(format!(
                "value_weight is {}; expected a finite non-negative weight",
                options.value_weight
            )));
        }
        let mut fixed: Vec<bool> = table.cells.iter().map(|c| c.structural_zero).collect();
        for &j in &options.locked {
            if j >= n {
                return Err(DisclosureError::Input(format!(
                    "locked cell {j} is beyond the {n} cells of table {}",
                    table.name
                )));
            }
            fixed[j] = true;
        }
        let scale = value.iter().fold(0.0_f64, |m, v| m.max(*v));
        let tol = RELATIVE_TOL * (1.0 + scale);
        let constraints = table.constraints();
        let mut rows = Vec::with_capacity(constraints.len());
        let mut rows_of = vec![Vec::new(); n];
        for constraint in &constraints {
            let sum: f64 = constraint.parts.iter().map(|&p| value[p]).sum();
            if (value[constraint.total] - sum).abs() > tol {
                return Err(DisclosureError::Input(format!(
                    "cell {} is {} but its parts add up to {sum}; secondary suppression needs \
                     an additive table (hint: Table::sum_up fills the margins)",
                    name(constraint.total),
                    value[constraint.total]
                )));
            }
            let mut row = vec![(constraint.total, 1.0)];
            row.extend(constraint.parts.iter().map(|&p| (p, -1.0)));
            for &(c, _) in &row {
                rows_of[c].push(rows.len());
            }
            rows.push(row);
        }
        let cost = value
            .iter()
            .map(|v| 1.0 + options.value_weight * v / scale.max(f64::MIN_POSITIVE))
            .collect();
        Ok(Model {
            table,
            constraints,
            rows,
            rows_of,
            value,
            fixed,
            cost,
            lp_solves: 0,
        })
    }

    fn name(&self, i: usize) -> String {
        cell_name(self.table, i)
    }

    /// Make sure every task has a certificate within the pattern, growing the pattern where
    /// the current one does not protect.
    fn protect(&mut self, state: &mut State, tasks: &[Task]) -> Result<(), DisclosureError> {
        for &task in tasks {
            let restricted = self.restricted_costs(state);
            if let Some(y) = self.deviation(task, &state.hidden, &restricted)? {
                state.certificates.insert(task.key(), (task, y));
                continue;
            }
            let movable: Vec<bool> = self.fixed.iter().map(|f| !f).collect();
            let costs: Vec<f64> = (0..self.value.len())
                .map(|j| {
                    if state.hidden[j] {
                        HIDDEN_COST
                    } else {
                        self.cost[j]
                    }
                })
                .collect();
            let Some(y) = self.deviation(task, &movable, &costs)? else {
                let direction = if task.delta > 0.0 { "up" } else { "down" };
                return Err(DisclosureError::Infeasible(format!(
                    "no suppression pattern protects cell {} {direction} by {}: every \
                     deviation runs into locked cells or structural zeros",
                    self.name(task.cell),
                    task.delta.abs()
                )));
            };
            for &(j, _) in &y {
                if !state.hidden[j] {
                    state.hidden[j] = true;
                    state.secondary[j] = true;
                }
            }
            state.certificates.insert(task.key(), (task, y));
        }
        Ok(())
    }

    /// Costs within the current pattern: secondaries at their cost (so that certificates
    /// avoid the cells that pruning would like to publish), everything else almost free.
    fn restricted_costs(&self, state: &State) -> Vec<f64> {
        (0..self.value.len())
            .map(|j| {
                if state.secondary[j] {
                    self.cost[j]
                } else {
                    HIDDEN_COST
                }
            })
            .collect()
    }

    /// Publish secondaries again where the pattern stays protected, most costly first.
    fn prune(&mut self, state: &mut State) -> Result<(), DisclosureError> {
        let mut candidates: Vec<usize> = (0..self.value.len())
            .filter(|&j| state.secondary[j])
            .collect();
        candidates.sort_by(|&a, &b| {
            (self.cost[b].total_cmp(&self.cost[a]))
                .then(self.value[b].total_cmp(&self.value[a]))
                .then(a.cmp(&b))
        });
        for j in candidates {
            let affected: Vec<Task> = state
                .certificates
                .values()
                .filter(|(_, y)| y.iter().any(|&(c, _)| c == j))
                .map(|&(task, _)| task)
                .collect();
            state.hidden[j] = false;
            state.secondary[j] = false;
            let restricted = self.restricted_costs(state);
            let needed = affected.len();
            let mut replaced = Vec::with_capacity(needed);
            for task in affected {
                match self.deviation(task, &state.hidden, &restricted)? {
                    Some(y) => replaced.push((task, y)),
                    None => break,
                }
            }
            if replaced.len() == needed {
                for (task, y) in replaced {
                    state.certificates.insert(task.key(), (task, y));
                }
            } else {
                state.hidden[j] = true;
                state.secondary[j] = true;
            }
        }
        Ok(())
    }

    /// The attacker's audit of the current pattern, seeded with the certificates; returns the
    /// breached primaries.
    fn audit(
        &mut self,
        state: &State,
        sensitive: &[(usize, f64, Protection)],
    ) -> Result<Vec<usize>, DisclosureError> {
        let shown: Vec<bool> = state.hidden.iter().map(|h| !h).collect();
        let knowledge = Knowledge::with_constraints(self.table, self.constraints.clone(), &shown);
        let hints: Vec<Vec<f64>> = state
            .certificates
            .values()
            .map(|(_, y)| {
                let mut x = self.value.clone();
                for &(c, d) in y {
                    x[c] += d;
                }
                x
            })
            .collect();
        let (breaches, solves) = attack::check_with_hints(&knowledge, sensitive, &hints)?;
        self.lp_solves += solves;
        Ok(breaches.iter().map(|b| b.cell).collect())
    }

    /// The cheapest deviation of the table that moves `task.cell` by `task.delta` and only
    /// cells with `movable` set (never fixed ones), or `None` if there is none.
    fn deviation(
        &mut self,
        task: Task,
        movable: &[bool],
        cost: &[f64],
    ) -> Result<Option<Certificate>, DisclosureError> {
        let p = task.cell;
        let mut active: Vec<bool> = movable
            .iter()
            .zip(&self.fixed)
            .map(|(&m, &f)| m && !f)
            .collect();
        if !active[p] {
            return Ok(None);
        }
        // an equation with a single movable cell pins it
        let mut count: Vec<usize> = self
            .rows
            .iter()
            .map(|row| row.iter().filter(|&&(c, _)| active[c]).count())
            .collect();
        let mut queue: Vec<usize> = (0..self.rows.len()).filter(|&r| count[r] == 1).collect();
        while let Some(r) = queue.pop() {
            if count[r] != 1 {
                continue;
            }
            let Some(&(c, _)) = self.rows[r].iter().find(|&&(c, _)| active[c]) else {
                continue;
            };
            if c == p {
                return Ok(None);
            }
            active[c] = false;
            for &r2 in &self.rows_of[c] {
                count[r2] -= 1;
                if count[r2] == 1 {
                    queue.push(r2);
                }
            }
        }
        // the component of p
        let n = self.value.len();
        let mut in_component = vec![false; n];
        let mut row_taken = vec![false; self.rows.len()];
        let mut cells = vec![p];
        let mut rows = Vec::new();
        in_component[p] = true;
        let mut next = 0;
        while next < cells.len() {
            let c = cells[next];
            next += 1;
            for &r in &self.rows_of[c] {
                if row_taken[r] || count[r] < 2 {
                    continue;
                }
                row_taken[r] = true;
                rows.push(r);
                for &(c2, _) in &self.rows[r] {
                    if active[c2] && !in_component[c2] {
                        in_component[c2] = true;
                        cells.push(c2);
                    }
                }
            }
        }
        // y_c = up - down, down only as far as the cell's value
        let mut lp = Lp::new(Sense::Minimize);
        let mut up = vec![usize::MAX; n];
        let mut down = vec![usize::MAX; n];
        for &c in &cells {
            if c == p {
                up[c] = lp.var(0.0, task.delta, task.delta);
            } else {
                up[c] = lp.var(cost[c], 0.0, f64::INFINITY);
                if self.value[c] > 0.0 {
                    down[c] = lp.var(cost[c], 0.0, self.value[c]);
                }
            }
        }
        let mut terms = Vec::new();
        for &r in &rows {
            terms.clear();
            for &(c, coef) in &self.rows[r] {
                if !active[c] {
                    continue;
                }
                terms.push((up[c], coef));
                if down[c] != usize::MAX {
                    terms.push((down[c], -coef));
                }
            }
            lp.eq(&terms, 0.0);
        }
        self.lp_solves += 1;
        match lp.solve()? {
            Solved::Optimal { x, .. } => {
                let eps = 1e-9 * (1.0 + task.delta.abs());
                let y = cells
                    .iter()
                    .filter_map(|&c| {
                        let d = x[up[c]]
                            - if down[c] == usize::MAX {
                                0.0
                            } else {
                                x[down[c]]
                            };
                        (d.abs() > eps).then_some((c, d))
                    })
                    .collect();
                Ok(Some(y))
            }
            Solved::Infeasible => Ok(None),
            Solved::Unbounded => Err(DisclosureError::Solver(format!(
                "the deviation program of cell {} is unbounded",
                self.name(p)
            ))),
        }
    }
}

fn cell_name(table: &Table, i: usize) -> String {
    format!("{} of table {}", table.codes(i).join(" x "), table.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::tests::{grid, small_table, zones_by_sex};
    use crate::{Dim, Kind};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    fn both(level: f64) -> Protection {
        Protection {
            lower: level,
            upper: level,
        }
    }

    fn at(t: &Table, codes: &[&str]) -> usize {
        t.find(codes).unwrap()
    }

    /// Choose the secondaries and audit them independently: the attacker, knowing every cell
    /// left published, every locked cell and every structural zero, finds no breach; no
    /// secondary is locked, structural, unpublished or primary.
    fn protect(t: &Table, primary: &[(usize, Protection)], options: &Options) -> Outcome {
        let outcome = secondary(t, primary, options).unwrap();
        let mut shown: Vec<bool> = t.cells.iter().map(|c| c.published).collect();
        for &(p, _) in primary {
            shown[p] = false;
        }
        for &s in &outcome.secondary {
            let cell = &t.cells[s];
            assert!(
                cell.published && !cell.structural_zero,
                "{} suppressed",
                cell_name(t, s)
            );
            assert!(!options.locked.contains(&s), "locked {}", cell_name(t, s));
            assert!(primary.iter().all(|&(p, _)| p != s));
            shown[s] = false;
        }
        for &l in &options.locked {
            shown[l] = true;
        }
        let knowledge = Knowledge::from_table(t, &shown);
        let sensitive: Vec<(usize, f64, Protection)> = primary
            .iter()
            .map(|&(p, level)| (p, t.cells[p].value, level))
            .collect();
        let breaches = attack::check(&knowledge, &sensitive).unwrap();
        assert!(breaches.is_empty(), "breaches {breaches:?}");
        assert!(outcome.rounds >= 1);
        assert!(primary.is_empty() || outcome.lp_solves >= 1);
        outcome
    }

    fn three_by_three() -> Table {
        grid(&[&[2.0, 10.0, 12.0], &[11.0, 13.0, 9.0], &[14.0, 8.0, 15.0]])
    }

    #[test]
    fn one_primary_in_a_3x3_interior_needs_a_rectangle_of_three() {
        let t = three_by_three();
        let p = at(&t, &["r1", "c1"]);
        for value_weight in [1.0, 0.0] {
            let options = Options {
                value_weight,
                ..Options::default()
            };
            let out = protect(&t, &[(p, both(2.0))], &options);
            assert_eq!(out.secondary.len(), 3, "{:?}", out.secondary);
            if value_weight > 0.0 {
                // the interior corners: one in p's row, one in its column, one opposite
                let coords: Vec<Vec<usize>> = out.secondary.iter().map(|&s| t.coords(s)).collect();
                assert!(coords.iter().all(|c| c[0] > 0 && c[1] > 0), "{coords:?}");
                let in_row: Vec<&Vec<usize>> = coords.iter().filter(|c| c[0] == 1).collect();
                let in_col: Vec<&Vec<usize>> = coords.iter().filter(|c| c[1] == 1).collect();
                assert_eq!((in_row.len(), in_col.len()), (1, 1), "{coords:?}");
                let opposite = vec![in_col[0][0], in_row[0][1]];
                assert!(coords.contains(&opposite), "{coords:?}");
            }
        }
    }

    #[test]
    fn a_zone_is_protected_within_its_district() {
        let t = zones_by_sex();
        let p = at(&t, &["Z2", "F"]);
        let out = protect(&t, &[(p, both(2.0))], &Options::default());
        let allowed = [
            at(&t, &["Z2", "M"]),
            at(&t, &["Z1", "F"]),
            at(&t, &["Z1", "M"]),
            at(&t, &["Z3", "F"]),
            at(&t, &["Z3", "M"]),
        ];
        assert_eq!(out.secondary.len(), 3);
        assert!(out.secondary.iter().all(|s| allowed.contains(s)));
    }

    #[test]
    fn cells_no_output_shows_protect_for_free() {
        let mut t = three_by_three();
        for codes in [["r1", "c2"], ["r2", "c1"], ["r2", "c2"]] {
            let i = at(&t, &codes);
            t.cells[i].published = false;
        }
        let p = at(&t, &["r1", "c1"]);
        let out = protect(&t, &[(p, both(2.0))], &Options::default());
        assert_eq!(out.secondary, Vec::<usize>::new());
    }

    #[test]
    fn primaries_in_a_rectangle_protect_each_other() {
        let t = grid(&[&[3.0, 4.0, 20.0], &[5.0, 6.0, 30.0], &[40.0, 50.0, 60.0]]);
        let primary: Vec<(usize, Protection)> =
            [["r1", "c1"], ["r1", "c2"], ["r2", "c1"], ["r2", "c2"]]
                .iter()
                .map(|codes| (at(&t, codes), both(2.0)))
                .collect();
        let out = protect(&t, &primary, &Options::default());
        assert_eq!(out.secondary, Vec::<usize>::new());
    }

    #[test]
    fn locked_cells_and_structural_zeros_are_never_suppressed() {
        let mut t = grid(&[&[2.0, 10.0, 12.0], &[11.0, 0.0, 9.0], &[14.0, 8.0, 15.0]]);
        let zero = at(&t, &["r2", "c2"]);
        t.cells[zero].structural_zero = true;
        let options = Options {
            locked: vec![at(&t, &["r1", "c2"]), at(&t, &["r3", "c1"])],
            ..Options::default()
        };
        let p = at(&t, &["r1", "c1"]);
        let out = protect(&t, &[(p, both(2.0))], &options);
        // the only interior rectangle left
        let mut expect = vec![
            at(&t, &["r1", "c3"]),
            at(&t, &["r2", "c1"]),
            at(&t, &["r2", "c3"]),
        ];
        expect.sort();
        assert_eq!(out.secondary, expect);
    }

    #[test]
    fn a_zero_cell_only_moves_upwards() {
        // p can only go up if r1 x c2 or r2 x c1 went down, and they are 0: the margins must
        let t = grid(&[&[3.0, 0.0], &[0.0, 5.0]]);
        let p = at(&t, &["r1", "c1"]);
        let out = protect(&t, &[(p, both(2.0))], &Options::default());
        let mut expect = vec![
            at(&t, &["r1", "Total"]),
            at(&t, &["Total", "c1"]),
            at(&t, &["Total", "Total"]),
        ];
        expect.sort();
        assert_eq!(out.secondary, expect);
    }

    #[test]
    fn no_pattern_is_infeasible_and_names_the_cell() {
        let t = three_by_three();
        let p = at(&t, &["r1", "c1"]);
        let everything_else = Options {
            locked: (0..t.cells.len()).filter(|&i| i != p).collect(),
            ..Options::default()
        };
        let err = secondary(&t, &[(p, both(2.0))], &everything_else).unwrap_err();
        assert!(
            matches!(&err, DisclosureError::Infeasible(m) if m.contains("r1 x c1")),
            "{err}"
        );
        let itself = Options {
            locked: vec![p],
            ..Options::default()
        };
        let err = secondary(&t, &[(p, both(2.0))], &itself).unwrap_err();
        assert!(
            matches!(&err, DisclosureError::Infeasible(m) if m.contains("locked")),
            "{err}"
        );
        let mut t = three_by_three();
        let z = at(&t, &["r2", "c2"]);
        t.cells[z].value = 0.0;
        t.sum_up();
        t.cells[z].structural_zero = true;
        let err = secondary(&t, &[(z, both(1.0))], &Options::default()).unwrap_err();
        assert!(matches!(err, DisclosureError::Infeasible(_)), "{err}");
    }

    #[test]
    fn tables_that_do_not_add_up_are_refused() {
        let mut t = three_by_three();
        let margin = at(&t, &["r2", "Total"]);
        t.cells[margin].value += 1.0;
        let err = secondary(
            &t,
            &[(at(&t, &["r1", "c1"]), both(1.0))],
            &Options::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, DisclosureError::Input(m)
                if m.contains("Total x Total of table grid is 94 but its parts add up to 95")),
            "{err}"
        );
        let t = three_by_three();
        let err = secondary(&t, &[(999, both(1.0))], &Options::default()).unwrap_err();
        assert!(matches!(err, DisclosureError::Input(_)), "{err}");
    }

    /// City > 4 districts > 40 zones x 6 age groups x 2 citizenships, with totals: 945 cells.
    fn city(seed: u64) -> Table {
        let mut nodes: Vec<(String, Option<String>)> =
            (1..=4).map(|d| (format!("D{d}"), None)).collect();
        for d in 1..=4 {
            for z in 1..=10 {
                nodes.push((format!("Z{d}{z:02}"), Some(format!("D{d}"))));
            }
        }
        let dims = vec![
            Dim::tree("territory", &nodes),
            Dim::flat("age", &["0-14", "15-24", "25-44", "45-64", "65-79", "80+"]),
            Dim::flat("citizenship", &["national", "foreign"]),
        ];
        let mut t = Table::new("city", Kind::Frequency, dims);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        for i in 0..t.cells.len() {
            if t.coords(i).iter().zip(&t.dims).all(|(&c, d)| d.is_leaf(c)) {
                let small = rng.random_bool(0.2);
                t.cells[i].value = f64::from(if small {
                    rng.random_range(0..5)
                } else {
                    rng.random_range(5..60)
                });
            }
        }
        t.sum_up();
        t
    }

    #[test]
    fn a_hierarchical_three_way_table_is_protected_and_pruning_only_helps() {
        let t = city(7);
        assert_eq!(t.cells.len(), 945);
        let primary: Vec<(usize, Protection)> = (0..t.cells.len())
            .filter(|&i| t.cells[i].value > 0.0 && t.cells[i].value < 5.0)
            .map(|i| {
                let level = Protection {
                    lower: t.cells[i].value.min(3.0),
                    upper: 3.0,
                };
                (i, level)
            })
            .collect();
        assert!(primary.len() > 50, "{} primaries", primary.len());
        let pruned = protect(&t, &primary, &Options::default());
        let unpruned = protect(
            &t,
            &primary,
            &Options {
                prune: false,
                ..Options::default()
            },
        );
        assert!(!pruned.secondary.is_empty());
        assert!(pruned.secondary.len() <= unpruned.secondary.len());
        assert!(
            pruned
                .secondary
                .iter()
                .all(|s| unpruned.secondary.contains(s))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn every_pattern_passes_the_attacker(
            shape in prop::collection::vec(2usize..4, 2..4),
            tree in any::<bool>(),
            values in prop::collection::vec(0u8..12, 8..40),
            flags in prop::collection::vec(0u8..8, 16..64),
            level in 1u8..4,
        ) {
            let mut t = small_table(&shape, tree, &values);
            let flag = |i: usize| flags[i % flags.len()];
            let mut primary = Vec::new();
            for i in 0..t.cells.len() {
                let value = t.cells[i].value;
                let leaf = t.coords(i).iter().zip(&t.dims).all(|(&c, d)| d.is_leaf(c));
                match flag(i) {
                    0 if leaf && value == 0.0 => t.cells[i].structural_zero = true,
                    1 if leaf => t.cells[i].published = false,
                    _ if value > 0.0 && value <= 3.0 => {
                        primary.push((i, both(f64::from(level))));
                    }
                    _ => {}
                }
            }
            protect(&t, &primary, &Options::default());
        }
    }
}
