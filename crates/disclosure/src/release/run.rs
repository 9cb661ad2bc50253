//! Running a release: frames from the warehouse, the policy applied, files written.

use super::files::{self, Approval, FrameRecord, ProtectionRecord};
use super::frame::{self, MISSING, Record, TerritoryDim};
use super::{
    AttackSummary, CellAction, FrameLog, LOG_VERSION, OutputLog, ReleaseError, ReleaseLog,
};
use crate::attack::{self, Knowledge};
use crate::rules::{self, Primary, Rule};
use crate::table::{Kind, Protection, TOTAL, Table};
use crate::{DisclosureError, cellkey, dp, microdata, round, suppress};
use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use engine::{Engine, RecordBatch, Warehouse};
use project::Project;
use project::release::{
    IndicatorOutput, Method, MicrodataOutput, Policy, ReleaseSpec, TableOutput,
};
use rand::SeedableRng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

/// Who releases, and when (the binary reads the clock and the user).
#[derive(Debug, Clone)]
pub struct Options {
    pub released_by: String,
    pub at: String,
}

/// An output that waits for an output checker.
#[derive(Debug, Clone)]
pub struct Pending {
    pub output: String,
    pub reason: String,
    /// The staged content the checker reviews (lab-side).
    pub staged: PathBuf,
}

/// How the run ended.
#[derive(Debug, Clone)]
pub enum Status {
    /// Written to `releases/NAME/`.
    Released,
    /// Nothing written: these outputs need approval first.
    Waiting(Vec<Pending>),
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: Status,
    pub dir: PathBuf,
    pub log: ReleaseLog,
}

/// The list of what waits for a checker, next to the staged files.
const PENDING_FILE: &str = "pending.json";

/// The outputs of release `name` that wait for an output checker since its last run, with why
/// and where their staged content is (empty when nothing waits).
///
/// # Errors
/// [`ReleaseError::Io`] when the list cannot be read.
pub fn pending(project: &Project, name: &str) -> Result<Vec<Pending>, ReleaseError> {
    let dir = files::lab_dir(&project.data_dir(), name).join("pending");
    let listed: Vec<(String, String)> =
        files::read_json(&dir.join(PENDING_FILE))?.unwrap_or_default();
    Ok(listed
        .into_iter()
        .map(|(output, reason)| Pending {
            staged: dir.join(format!("{output}.csv")),
            output,
            reason,
        })
        .collect())
}

/// Runs release `name` of the project.
pub fn run(project: &Project, name: &str, options: &Options) -> Result<Report, ReleaseError> {
    let ids: Vec<&str> = project.indicators.iter().map(|i| i.id.as_str()).collect();
    let spec = project::release::load(&project.root, name, &project.hierarchy.levels, &ids)?;
    let policy = Policy::resolve(&project.config.disclosure, &spec.policy);
    let data_dir = project.data_dir();
    let Some(wh) =
        Warehouse::open_existing(&data_dir).map_err(|e| ReleaseError::Engine(e.to_string()))?
    else {
        return Err(ReleaseError::Engine(format!(
            "{} has never been built: run `datalab build` first",
            project.root.display()
        )));
    };
    let snapshots = wh
        .current()
        .map_err(|e| ReleaseError::Engine(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ReleaseError::Engine(e.to_string()))?;
    let engine = rt
        .block_on(Engine::over(&snapshots))
        .map_err(|e| ReleaseError::Engine(e.to_string()))?;
    indicators::udaf::register(engine.context());
    let mut gate = Gate {
        project,
        spec: &spec,
        policy: policy.clone(),
        secret: files::secret(&data_dir)?,
        rt,
        engine,
        snapshot_of: snapshots
            .iter()
            .map(|s| (s.source.to_lowercase(), s.id.clone()))
            .collect(),
        history: files::history(&data_dir, name)?,
        approvals: files::read_json(&files::lab_dir(&data_dir, name).join(files::APPROVALS_FILE))?
            .unwrap_or_default(),
        files: Vec::new(),
        outputs: Vec::new(),
        frames: Vec::new(),
        cells: Vec::new(),
        records: Vec::new(),
        pending: Vec::new(),
        inputs: BTreeSet::new(),
        attack: AttackSummary::default(),
        budget: Vec::new(),
        dp_frames: count_dp(&spec, &policy),
    };
    // tables over the same frame are protected together
    let mut groups: Vec<Vec<&TableOutput>> = Vec::new();
    for t in &spec.tables {
        match groups.iter_mut().find(|g| same_frame(g[0], t)) {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    for g in &groups {
        gate.table_frame(g)?;
    }
    for o in &spec.indicators {
        gate.indicator_output(o)?;
    }
    for m in &spec.microdata {
        gate.microdata_output(m)?;
    }
    for a in &spec.adhoc {
        let batches = gate.query(&a.name, &a.query)?;
        let bytes = csv_of_batches(&batches).map_err(|e| gate.spec_err(&a.name, e))?;
        gate.needs_approval(
            &a.name,
            "adhoc",
            bytes,
            batch_rows(&batches),
            &a.description,
        );
    }
    let lab = files::lab_dir(&data_dir, name);
    let released_dir = project.root.join(project::release::RELEASES_DIR).join(name);
    let log = ReleaseLog {
        format_version: LOG_VERSION,
        name: name.into(),
        title: spec.title.clone(),
        audience: spec.audience,
        purpose: spec.purpose.clone(),
        spec: spec.file.clone(),
        released_at: options.at.clone(),
        released_by: options.released_by.clone(),
        datalab_version: env!("CARGO_PKG_VERSION").into(),
        policy,
        inputs: gate.inputs.iter().cloned().collect(),
        outputs: gate.outputs,
        frames: gate.frames,
        cells: gate.cells,
        attack: gate.attack,
        privacy_budget: gate.budget,
    };
    if !gate.pending.is_empty() {
        // What waits, with why, for checkers who review it later (`release::pending`).
        let listed: Vec<(&str, &str)> = gate
            .pending
            .iter()
            .map(|p| (p.output.as_str(), p.reason.as_str()))
            .collect();
        let json = serde_json::to_vec_pretty(&listed).expect("pending list serializes");
        files::write_atomic(&lab.join("pending").join(PENDING_FILE), &json)?;
        return Ok(Report {
            status: Status::Waiting(gate.pending),
            dir: released_dir,
            log,
        });
    }
    let _ = std::fs::remove_dir_all(lab.join("pending"));
    let record = ProtectionRecord {
        format_version: LOG_VERSION,
        release: name.into(),
        frames: gate.records,
    };
    let mut out = gate.files;
    out.push((
        files::LOG_FILE.into(),
        serde_json::to_vec_pretty(&log).expect("the log serializes"),
    ));
    // lab side first: a release folder never exists without its protection record
    files::write_atomic(
        &lab.join(files::PROTECTION_FILE),
        &serde_json::to_vec(&record).expect("the record serializes"),
    )?;
    files::write_dir(&released_dir, &out)?;
    Ok(Report {
        status: Status::Released,
        dir: released_dir,
        log,
    })
}

fn same_frame(a: &TableOutput, b: &TableOutput) -> bool {
    a.query.trim() == b.query.trim()
        && a.unit == b.unit
        && a.measure == b.measure
        && a.territory == b.territory
}

fn count_dp(spec: &ReleaseSpec, policy: &Policy) -> usize {
    let m = |x: Option<Method>| x.unwrap_or(policy.method) == Method::Dp;
    let mut frames: Vec<&TableOutput> = Vec::new();
    for t in spec.tables.iter().filter(|t| m(t.method)) {
        if !frames.iter().any(|f| same_frame(f, t)) {
            frames.push(t);
        }
    }
    frames.len() + spec.indicators.iter().filter(|o| m(o.method)).count()
}

struct Gate<'a> {
    project: &'a Project,
    spec: &'a ReleaseSpec,
    policy: Policy,
    secret: [u8; 32],
    rt: tokio::runtime::Runtime,
    engine: Engine,
    snapshot_of: HashMap<String, String>,
    history: Vec<ProtectionRecord>,
    approvals: Vec<Approval>,
    files: Vec<(String, Vec<u8>)>,
    outputs: Vec<OutputLog>,
    frames: Vec<FrameLog>,
    cells: Vec<CellAction>,
    records: Vec<FrameRecord>,
    pending: Vec<Pending>,
    inputs: BTreeSet<(String, String)>,
    attack: AttackSummary,
    budget: Vec<(String, f64)>,
    dp_frames: usize,
}

/// What protecting a frame decided, cell by cell.
struct Protection2 {
    /// The value shown per cell (None = suppressed).
    shown: Vec<Option<f64>>,
    flag: &'static str,
    primary: Vec<Primary>,
    secondary: Vec<usize>,
    method: String,
}

impl Gate<'_> {
    fn spec_err(&self, output: &str, message: impl std::fmt::Display) -> ReleaseError {
        ReleaseError::Spec {
            file: self.spec.file.clone(),
            line: self.spec.lines.get(output).copied().unwrap_or(0),
            output: output.into(),
            message: message.to_string(),
        }
    }

    fn query(&mut self, output: &str, sql: &str) -> Result<Vec<RecordBatch>, ReleaseError> {
        if let Ok(refs) = indicators::table_references(sql) {
            for r in refs {
                if let Some(id) = self.snapshot_of.get(&r) {
                    self.inputs.insert((r, id.clone()));
                }
            }
        }
        self.rt
            .block_on(self.engine.sql(sql))
            .map_err(|e| self.spec_err(output, format!("the query failed: {e}")))
    }

    /// Snapshot ids of the tables a query reads (part of a frame's identity).
    fn fingerprint(&self, parts: &[&str], sql: &str) -> String {
        let mut h = blake3::Hasher::new();
        for p in parts {
            h.update(&(p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        if let Ok(refs) = indicators::table_references(sql) {
            for r in refs {
                h.update(r.as_bytes());
                h.update(
                    self.snapshot_of
                        .get(&r)
                        .map_or(b"-".as_slice(), |s| s.as_bytes()),
                );
            }
        }
        h.finalize().to_hex()[..16].to_string()
    }

    fn method_of(&self, m: Option<Method>) -> Method {
        m.unwrap_or(self.policy.method)
    }

    fn rules(&self, attributes: Vec<String>) -> Vec<Box<dyn Rule>> {
        super::adhoc::policy_rules(&self.policy, attributes)
    }

    /// Cells of earlier releases of the same frame: (index here, value published there).
    fn locked(&self, id: &str, table: &Table) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        for rec in &self.history {
            for f in rec.frames.iter().filter(|f| f.id == id) {
                for &(cell, value) in &f.published {
                    let old = Table::new("", Kind::Frequency, f.dims.clone());
                    let codes = old.codes(cell);
                    let mut here = Vec::with_capacity(table.dims.len());
                    for d in &table.dims {
                        let code = f
                            .dims
                            .iter()
                            .position(|od| od.name == d.name)
                            .map_or(TOTAL, |k| codes[k]);
                        here.push(code);
                    }
                    if let Some(i) = table.find(&here) {
                        out.push((i, value));
                    }
                }
            }
        }
        out.sort_by_key(|x| x.0);
        out.dedup_by_key(|x| x.0);
        out
    }

    /// Applies the frame's method. `extra` are findings the rules cannot see (a small
    /// denominator); `additive` says whether the attacker's equations hold.
    fn protect(
        &mut self,
        output: &str,
        table: &Table,
        method: Method,
        attributes: Vec<String>,
        extra: Vec<Primary>,
        additive: bool,
        locked: &[(usize, f64)],
    ) -> Result<Protection2, ReleaseError> {
        let n = table.cells.len();
        let truth = |i: usize| Some(table.cells[i].value);
        let perturbed = |values: Vec<f64>, flag: &'static str, method: &str| Protection2 {
            shown: values.into_iter().map(Some).collect(),
            flag,
            primary: Vec::new(),
            secondary: Vec::new(),
            method: method.into(),
        };
        if method != Method::Suppress && table.kind == Kind::Magnitude {
            return Err(self.spec_err(
                output,
                "rounding, cell-key and differential privacy protect counts; use `method = \"suppress\"` for amounts",
            ));
        }
        let frame_seed = {
            let mut h = blake3::Hasher::new_keyed(&self.secret);
            h.update(table.name.as_bytes());
            *h.finalize().as_bytes()
        };
        Ok(match method {
            Method::Round => perturbed(
                round::random(table, self.policy.rounding_base, &frame_seed),
                "rounded",
                &format!("random rounding to base {}", self.policy.rounding_base),
            ),
            Method::ControlledRound => perturbed(
                round::controlled(
                    table,
                    self.policy.rounding_base,
                    std::time::Duration::from_secs(60),
                )?,
                "rounded",
                &format!("controlled rounding to base {}", self.policy.rounding_base),
            ),
            Method::Cellkey => {
                let c = self.policy.cellkey;
                let ptable = cellkey::PTable::new(c.max_noise, c.variance, c.js)?;
                perturbed(
                    cellkey::perturb(table, &ptable)?,
                    "perturbed",
                    &format!(
                        "cell key (max noise {}, variance {}, js {})",
                        c.max_noise, c.variance, c.js
                    ),
                )
            }
            Method::Dp => {
                let epsilon = self.policy.epsilon / self.dp_frames.max(1) as f64;
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| ReleaseError::Engine(e.to_string()))?;
                let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
                let noisy = dp::noisy_counts(table, dp::Mechanism::Laplace { epsilon }, &mut rng)?;
                self.budget.push((output.into(), epsilon));
                perturbed(
                    noisy,
                    "noisy",
                    &format!("differential privacy (discrete Laplace, ε = {epsilon})"),
                )
            }
            Method::Suppress => {
                let locked_set: BTreeSet<usize> = locked.iter().map(|l| l.0).collect();
                let mut primary = rules::primary(table, &self.rules(attributes));
                for e in extra {
                    match primary.iter_mut().find(|p| p.cell == e.cell) {
                        Some(p) => {
                            p.findings.extend(e.findings);
                            p.protection.lower = p.protection.lower.max(e.protection.lower);
                            p.protection.upper = p.protection.upper.max(e.protection.upper);
                        }
                        None => primary.push(e),
                    }
                }
                primary.sort_by_key(|p| p.cell);
                // already public through an earlier release: nothing left to protect
                primary.retain(|p| !locked_set.contains(&p.cell));
                let secondary = if additive {
                    let sens: Vec<(usize, Protection)> =
                        primary.iter().map(|p| (p.cell, p.protection)).collect();
                    let opts = suppress::Options {
                        locked: locked_set.iter().copied().collect(),
                        ..suppress::Options::default()
                    };
                    suppress::secondary(table, &sens, &opts)?.secondary
                } else {
                    Vec::new()
                };
                let hidden: BTreeSet<usize> = primary
                    .iter()
                    .map(|p| p.cell)
                    .chain(secondary.iter().copied())
                    .collect();
                let shown: Vec<Option<f64>> = (0..n)
                    .map(|i| if hidden.contains(&i) { None } else { truth(i) })
                    .collect();
                Protection2 {
                    shown,
                    flag: "suppressed",
                    primary,
                    secondary,
                    method: "suppress".into(),
                }
            }
        })
    }

    /// The attacker's check of a suppression pattern, and the frame's lab-side record.
    fn verify_and_record(
        &mut self,
        table: &Table,
        p: &Protection2,
        additive: bool,
        locked: &[(usize, f64)],
    ) -> Result<(), ReleaseError> {
        let mut record = FrameRecord {
            id: table.name.clone(),
            dims: table.dims.clone(),
            published: Vec::new(),
            sensitive: Vec::new(),
            intervals: Vec::new(),
            values: Vec::new(),
            fixed: Vec::new(),
        };
        if p.method != "suppress" {
            self.records.push(record);
            return Ok(());
        }
        record.values = table.cells.iter().map(|c| c.value).collect();
        record.fixed = (0..table.cells.len())
            .filter(|&i| table.cells[i].structural_zero || locked.iter().any(|l| l.0 == i))
            .collect();
        let mut known: Vec<bool> = (0..table.cells.len())
            .map(|i| table.cells[i].published && p.shown[i].is_some())
            .collect();
        for &(i, _) in locked {
            known[i] = true;
        }
        record.published = (0..table.cells.len())
            .filter(|&i| table.cells[i].published && p.shown[i].is_some())
            .map(|i| (i, table.cells[i].value))
            .collect();
        record.sensitive = p
            .primary
            .iter()
            .map(|x| (x.cell, table.cells[x.cell].value, x.protection))
            .collect();
        if additive {
            let k = Knowledge::from_table(table, &known);
            let breaches = attack::check(&k, &record.sensitive)?;
            let hidden: Vec<usize> = (0..table.cells.len())
                .filter(|&i| table.cells[i].published && p.shown[i].is_none())
                .collect();
            let intervals = attack::intervals(&k, &hidden)?;
            record.intervals = hidden.into_iter().zip(intervals).collect();
            self.attack.frames += 1;
            self.attack.suppressed_cells += record.intervals.len();
            self.attack.breaches += breaches.len();
            if !breaches.is_empty() {
                return Err(ReleaseError::Disclosure(DisclosureError::Solver(format!(
                    "frame {}: the suppression pattern leaves {} cells recalculable",
                    table.name,
                    breaches.len()
                ))));
            }
        }
        self.records.push(record);
        Ok(())
    }

    fn log_frame(&mut self, table: &Table, p: &Protection2, additive: bool, started: Instant) {
        let total: f64 = table
            .cells
            .iter()
            .filter(|c| c.published)
            .map(|c| c.value.abs())
            .sum();
        let hidden: f64 = table
            .cells
            .iter()
            .zip(&p.shown)
            .filter(|(c, s)| c.published && s.is_none())
            .map(|(c, _)| c.value.abs())
            .sum();
        for pr in &p.primary {
            self.cells.push(CellAction {
                frame: table.name.clone(),
                cell: pr.cell,
                codes: codes_of(table, pr.cell),
                action: "suppressed".into(),
                role: "primary".into(),
                rules: pr.findings.iter().map(|f| f.rule.clone()).collect(),
                reasons: pr.findings.iter().map(|f| f.reason.clone()).collect(),
            });
        }
        for &s in &p.secondary {
            self.cells.push(CellAction {
                frame: table.name.clone(),
                cell: s,
                codes: codes_of(table, s),
                action: "suppressed".into(),
                role: "secondary".into(),
                rules: vec!["secondary".into()],
                reasons: vec!["protects a primary cell against recalculation from margins".into()],
            });
        }
        self.frames.push(FrameLog {
            id: table.name.clone(),
            kind: table.kind,
            method: p.method.clone(),
            additive,
            dims: table.dims.clone(),
            cells: table.cells.len(),
            primary: p.primary.len(),
            secondary: p.secondary.len(),
            suppressed_value_share: if total > 0.0 { hidden / total } else { 0.0 },
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    fn table_frame(&mut self, outputs: &[&TableOutput]) -> Result<(), ReleaseError> {
        let started = Instant::now();
        let first = outputs[0];
        let method = self.method_of(first.method);
        if let Some(o) = outputs.iter().find(|o| self.method_of(o.method) != method) {
            return Err(self.spec_err(
                &o.name,
                format!(
                    "outputs over the same data share their margins and must use one method (`{}` uses another)",
                    first.name
                ),
            ));
        }
        let batches = self.query(&first.name, &first.query)?;
        let measure = first.measure.as_deref().unwrap_or("");
        let id = self.fingerprint(
            &[
                &first.query,
                &first.unit,
                measure,
                first.territory.as_deref().unwrap_or(""),
            ],
            &first.query,
        );
        // dimensions: this release's outputs, then earlier releases' of the same frame
        let mut dim_names: Vec<String> = Vec::new();
        for o in outputs {
            for d in &o.dimensions {
                if !dim_names.contains(d) {
                    dim_names.push(d.clone());
                }
            }
        }
        for rec in &self.history {
            for f in rec.frames.iter().filter(|f| f.id == id) {
                for d in &f.dims {
                    if d.name != "territory" && !dim_names.contains(&d.name) {
                        dim_names.push(d.name.clone());
                    }
                }
            }
        }
        let col = |name: &str| -> Result<Vec<Option<String>>, ReleaseError> {
            strings(&batches, name).map_err(|e| self.spec_err(&first.name, e))
        };
        let units = col(&first.unit)?;
        let terr = match &first.territory {
            Some(t) => Some(col(t)?),
            None => None,
        };
        let mut values = Vec::new();
        for d in &dim_names {
            values.push(col(d)?);
        }
        let measures = match &first.measure {
            Some(m) => numbers(&batches, m).map_err(|e| self.spec_err(&first.name, e))?,
            None => vec![Some(1.0); units.len()],
        };
        let mut records = Vec::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            let Some(u) = u else {
                return Err(self.spec_err(
                    &first.name,
                    format!(
                        "row {} has no `{}`: every record needs its unit",
                        i + 1,
                        first.unit
                    ),
                ));
            };
            records.push(Record {
                unit: u.clone(),
                territory: terr.as_ref().and_then(|t| t[i].clone()),
                dims: values.iter().map(|v| v[i].clone()).collect(),
                measure: measures[i].unwrap_or(0.0),
            });
        }
        let h = &self.project.hierarchy;
        let tdim = match &terr {
            Some(_) => {
                let codes: Vec<&str> = records
                    .iter()
                    .filter_map(|r| r.territory.as_deref())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let shown: Vec<&String> = outputs.iter().flat_map(|o| o.levels.iter()).collect();
                let top = match shown.iter().filter_map(|l| h.level_index(l)).min() {
                    Some(t) => t,
                    None => single_ancestor_level(h, &codes),
                };
                // the finest level shown by an output (an output without levels shows them all)
                let finest = h.levels.len().saturating_sub(1);
                let bottom = if outputs.iter().any(|o| o.levels.is_empty()) {
                    finest
                } else {
                    shown
                        .iter()
                        .filter_map(|l| h.level_index(l))
                        .max()
                        .unwrap_or(finest)
                };
                Some(TerritoryDim::build(h, top, bottom, &codes))
            }
            None => None,
        };
        let mut dims = Vec::new();
        if let Some(t) = &tdim {
            dims.push(t.dim.clone());
        }
        for (k, d) in dim_names.iter().enumerate() {
            dims.push(frame::value_dim(
                d,
                records.iter().map(|r| r.dims[k].clone()),
            ));
        }
        let kind = if first.measure.is_some() {
            Kind::Magnitude
        } else {
            Kind::Frequency
        };
        let mut table = Table::new(&id, kind, dims);
        let leaves: Vec<Vec<usize>> = records
            .iter()
            .map(|r| {
                let mut l = Vec::with_capacity(table.dims.len());
                if let Some(t) = &tdim {
                    l.push(t.leaf(r.territory.as_deref()));
                }
                let off = usize::from(tdim.is_some());
                for (k, v) in r.dims.iter().enumerate() {
                    let code = v.as_deref().unwrap_or(MISSING);
                    l.push(
                        table.dims[k + off]
                            .position(code)
                            .expect("categories come from the data"),
                    );
                }
                l
            })
            .collect();
        let secret = self.secret;
        frame::fill(&mut table, &leaves, &records, &|u| {
            cellkey::record_key(&secret, u)
        });
        // structural zeros
        for o in outputs {
            for z in &o.structural_zeros {
                for i in 0..table.cells.len() {
                    let codes = table.codes(i);
                    let hit = z.iter().all(|(dim, code)| {
                        let dim = if Some(dim) == o.territory.as_ref() {
                            "territory"
                        } else {
                            dim.as_str()
                        };
                        table
                            .dims
                            .iter()
                            .position(|d| d.name == dim)
                            .is_some_and(|k| codes[k] == code)
                    });
                    if hit {
                        if table.cells[i].value != 0.0 {
                            return Err(self.spec_err(
                                &o.name,
                                format!(
                                    "the structural zero {} is not empty in the data",
                                    z.iter()
                                        .map(|(k, v)| format!("{k} = {v}"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ));
                        }
                        table.cells[i].structural_zero = true;
                    }
                }
            }
        }
        // what each output shows
        let off = usize::from(tdim.is_some());
        let mut shows: Vec<Vec<usize>> = Vec::new();
        for o in outputs {
            let levels: Vec<String> = if o.levels.is_empty() {
                let t = tdim.as_ref();
                t.map(|t| {
                    let mut l: Vec<String> =
                        t.level.iter().filter(|l| !l.is_empty()).cloned().collect();
                    l.sort();
                    l.dedup();
                    l
                })
                .unwrap_or_default()
            } else {
                o.levels.clone()
            };
            let mut cells = Vec::new();
            for i in 0..table.cells.len() {
                let coords = table.coords(i);
                let mut ok = true;
                if let Some(t) = &tdim {
                    let c = coords[0];
                    let top_count = t.dim.children(0).len();
                    ok &= if c == 0 {
                        top_count > 1
                    } else {
                        levels.contains(&t.level[c]) || t.dim.codes[c] == MISSING
                    };
                }
                for (k, d) in dim_names.iter().enumerate() {
                    if !o.dimensions.contains(d) {
                        ok &= coords[k + off] == 0;
                    }
                }
                if ok {
                    cells.push(i);
                    table.cells[i].published = true;
                }
            }
            shows.push(cells);
        }
        let locked = self.locked(&id, &table);
        let p = self.protect(
            &first.name,
            &table,
            method,
            dim_names.clone(),
            Vec::new(),
            true,
            &locked,
        )?;
        self.verify_and_record(&table, &p, true, &locked)?;
        self.log_frame(&table, &p, true, started);
        // files
        for (o, cells) in outputs.iter().zip(&shows) {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header: Vec<String> = Vec::new();
            if tdim.is_some() {
                header.extend(["territory_level", "territory", "territory_name"].map(String::from));
            }
            header.extend(o.dimensions.iter().cloned());
            header.extend(["value", "flag", "rule"].map(String::from));
            w.write_record(&header)
                .map_err(|e| ReleaseError::Engine(e.to_string()))?;
            for &i in cells {
                let coords = table.coords(i);
                let mut row: Vec<String> = Vec::new();
                if let Some(t) = &tdim {
                    row.push(t.level[coords[0]].clone());
                    row.push(t.dim.codes[coords[0]].clone());
                    row.push(t.label[coords[0]].clone());
                }
                for d in &o.dimensions {
                    let k = dim_names
                        .iter()
                        .position(|x| x == d)
                        .expect("output dims are frame dims")
                        + off;
                    row.push(table.dims[k].codes[coords[k]].clone());
                }
                let (value, flag, rule) = cell_outcome(&table, &p, i);
                row.extend([value, flag, rule]);
                w.write_record(&row)
                    .map_err(|e| ReleaseError::Engine(e.to_string()))?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| ReleaseError::Engine(e.to_string()))?;
            let mut fired = BTreeMap::new();
            let set: BTreeSet<usize> = cells.iter().copied().collect();
            for pr in p.primary.iter().filter(|x| set.contains(&x.cell)) {
                for f in &pr.findings {
                    *fired.entry(f.rule.clone()).or_insert(0) += 1;
                }
            }
            let mut columns = Vec::new();
            if tdim.is_some() {
                columns.push(("territory".to_string(), "territory".to_string()));
            }
            columns.extend(o.dimensions.iter().map(|d| (d.clone(), d.clone())));
            let notes = if locked.is_empty() {
                Vec::new()
            } else {
                vec![format!(
                    "{} cells were already published by earlier releases of the same data and were taken as known",
                    locked.len()
                )]
            };
            self.add_output(
                OutputLog {
                    frames: vec![id.clone()],
                    columns,
                    primary: p.primary.iter().filter(|x| set.contains(&x.cell)).count(),
                    secondary: p.secondary.iter().filter(|x| set.contains(x)).count(),
                    rules_fired: fired,
                    notes,
                    ..OutputLog::new(&o.name, "table", &bytes, cells.len(), &p.method)
                },
                bytes,
            );
        }
        Ok(())
    }

    fn add_output(&mut self, log: OutputLog, bytes: Vec<u8>) {
        self.files.push((log.file.clone(), bytes));
        self.outputs.push(log);
    }

    fn needs_approval(&mut self, output: &str, kind: &str, bytes: Vec<u8>, rows: usize, why: &str) {
        let content = files::content_hash(&bytes);
        if let Some(a) = self
            .approvals
            .iter()
            .find(|a| a.output == output && a.content == content)
            .cloned()
        {
            self.add_output(
                OutputLog {
                    checked: "approved".into(),
                    approval: Some(a),
                    notes: vec![why.into()],
                    ..OutputLog::new(output, kind, &bytes, rows, "approval")
                },
                bytes,
            );
            return;
        }
        let staged = files::lab_dir(&self.project.data_dir(), &self.spec.name)
            .join("pending")
            .join(format!("{output}.csv"));
        if let Err(e) = files::write_atomic(&staged, &bytes) {
            self.pending.push(Pending {
                output: output.into(),
                reason: format!("could not stage it for review: {e}"),
                staged,
            });
            return;
        }
        self.pending.push(Pending {
            output: output.into(),
            reason: why.into(),
            staged,
        });
    }

    fn indicator_output(&mut self, o: &IndicatorOutput) -> Result<(), ReleaseError> {
        let started = Instant::now();
        let ind = self
            .project
            .indicator(&o.indicator)
            .expect("the spec was checked against the indicators")
            .clone();
        let sql = format!(
            "SELECT territory, territory_level, period, breakdown, numerator, denominator, value, lower, upper, sample_size \
             FROM cube WHERE indicator = '{}' AND NOT forecast ORDER BY period, territory_level, territory, breakdown",
            o.indicator.replace('\'', "''")
        );
        let batches = self.query(&o.name, &sql)?;
        let s = |c: &str| strings(&batches, c).map_err(|e| ReleaseError::Engine(e));
        let f = |c: &str| numbers(&batches, c).map_err(|e| ReleaseError::Engine(e));
        let (terr, level, period, bkey) = (
            s("territory")?,
            s("territory_level")?,
            s("period")?,
            s("breakdown")?,
        );
        let (num, den, val, lo, up, ss) = (
            f("numerator")?,
            f("denominator")?,
            f("value")?,
            f("lower")?,
            f("upper")?,
            f("sample_size")?,
        );
        let wanted: BTreeSet<&str> = o.breakdowns.iter().map(String::as_str).collect();
        let levels: Vec<String> = if o.levels.is_empty() {
            self.project.hierarchy.levels.clone()
        } else {
            o.levels.clone()
        };
        let mut rows: Vec<usize> = Vec::new();
        for i in 0..terr.len() {
            let key = bkey[i].clone().unwrap_or_default();
            let dims = parse_key(&key);
            if !dims.keys().all(|k| wanted.contains(k.as_str())) {
                continue;
            }
            if !o.periods.is_empty()
                && !o
                    .periods
                    .contains(period[i].as_ref().unwrap_or(&String::new()))
            {
                continue;
            }
            rows.push(i);
        }
        let is_estimate = matches!(ind.definition, model::Definition::Estimate(_));
        let counts = o.counts.unwrap_or_else(|| match &ind.definition {
            model::Definition::Ratio { numerator, .. } => {
                numerator.value.trim().to_lowercase().starts_with("count(")
            }
            model::Definition::Estimate(_) => false,
        });
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = ["territory_level", "territory", "territory_name", "period"]
            .map(String::from)
            .to_vec();
        header.extend(o.breakdowns.iter().cloned());
        header.extend(
            [
                "value",
                "lower",
                "upper",
                "numerator",
                "denominator",
                "flag",
                "rule",
            ]
            .map(String::from),
        );
        w.write_record(&header)
            .map_err(|e| ReleaseError::Engine(e.to_string()))?;
        let name_of: HashMap<&str, &str> = self
            .project
            .hierarchy
            .nodes
            .iter()
            .map(|t| (t.code.as_str(), t.name.as_str()))
            .collect();
        let fmt = |x: Option<f64>| x.map(fmt_num).unwrap_or_default();
        let mut written = 0usize;
        let mut fired: BTreeMap<String, usize> = BTreeMap::new();
        let (mut n_primary, mut n_secondary) = (0, 0);
        let mut frame_ids = Vec::new();
        let mut notes = Vec::new();
        let shown_level = |i: usize| levels.contains(level[i].as_ref().unwrap_or(&String::new()));
        // territory level, code, name, period and breakdown codes of cube row i
        let row_head = |i: usize| -> Vec<String> {
            let code = terr[i].clone().unwrap_or_default();
            let dims = parse_key(bkey[i].as_deref().unwrap_or(""));
            let mut row = vec![
                level[i].clone().unwrap_or_default(),
                code.clone(),
                name_of.get(code.as_str()).unwrap_or(&"").to_string(),
                period[i].clone().unwrap_or_default(),
            ];
            for b in &o.breakdowns {
                row.push(dims.get(b).cloned().unwrap_or_else(|| TOTAL.into()));
            }
            row
        };
        let write_row = |w: &mut csv::Writer<Vec<u8>>,
                         i: usize,
                         hide: bool,
                         hide_den: bool,
                         flag: &str,
                         rule: &str|
         -> Result<(), ReleaseError> {
            let mut row = row_head(i);
            if hide {
                row.extend([String::new(), String::new(), String::new(), String::new()]);
            } else {
                row.extend([fmt(val[i]), fmt(lo[i]), fmt(up[i]), fmt(num[i])]);
            }
            row.push(if hide_den { String::new() } else { fmt(den[i]) });
            row.push(flag.into());
            row.push(rule.into());
            w.write_record(&row)
                .map_err(|e| ReleaseError::Engine(e.to_string()))
        };
        if is_estimate {
            for &i in rows.iter().filter(|&&i| shown_level(i)) {
                let small = ss[i].is_some_and(|n| n < self.policy.min_sample as f64);
                if small {
                    *fired.entry("sample-size".into()).or_insert(0) += 1;
                    n_primary += 1;
                }
                write_row(
                    &mut w,
                    i,
                    small,
                    false,
                    if small { "suppressed" } else { "" },
                    if small { "sample-size" } else { "" },
                )?;
                written += 1;
            }
        } else if !counts {
            // amounts: no contributor data in the cube, an output checker decides
            for &i in rows.iter().filter(|&&i| shown_level(i)) {
                write_row(&mut w, i, false, false, "", "")?;
                written += 1;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| ReleaseError::Engine(e.to_string()))?;
            self.needs_approval(
                &o.name,
                "indicator",
                bytes,
                written,
                "the numerator adds up amounts: without each contributor's value no automatic rule can check it (publish it through a [[table]] with a measure, or approve it)",
            );
            return Ok(());
        } else {
            let mut periods: Vec<String> = rows.iter().filter_map(|&i| period[i].clone()).collect();
            periods.sort();
            periods.dedup();
            let h = self.project.hierarchy.clone();
            for per in &periods {
                let prow: Vec<usize> = rows
                    .iter()
                    .copied()
                    .filter(|&i| period[i].as_ref() == Some(per))
                    .collect();
                let finest = prow
                    .iter()
                    .filter_map(|&i| level[i].as_deref())
                    .filter_map(|l| h.level_index(l))
                    .max()
                    .unwrap_or(0);
                let leaf_rows: Vec<usize> = prow
                    .iter()
                    .copied()
                    .filter(|&i| h.level_index(level[i].as_deref().unwrap_or("")) == Some(finest))
                    .filter(|&i| parse_key(bkey[i].as_deref().unwrap_or("")).len() == wanted.len())
                    .collect();
                let codes: Vec<&str> = leaf_rows
                    .iter()
                    .filter_map(|&i| terr[i].as_deref())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let top = levels
                    .iter()
                    .filter_map(|l| h.level_index(l))
                    .min()
                    .unwrap_or(0)
                    .min(finest);
                let tdim = TerritoryDim::build(&h, top, finest, &codes);
                let mut dims = vec![tdim.dim.clone()];
                for b in &o.breakdowns {
                    dims.push(frame::value_dim(
                        b,
                        prow.iter()
                            .filter_map(|&i| {
                                parse_key(bkey[i].as_deref().unwrap_or("")).get(b).cloned()
                            })
                            .map(Some),
                    ));
                }
                let id = self.fingerprint(
                    &["indicator", &o.indicator, per, &o.breakdowns.join(",")],
                    "SELECT * FROM cube",
                );
                let mut table = Table::new(&id, Kind::Frequency, dims);
                let cell_of = |t: &Table, i: usize| -> Option<usize> {
                    let dims = parse_key(bkey[i].as_deref().unwrap_or(""));
                    let mut codes: Vec<String> = vec![terr[i].clone().unwrap_or_default()];
                    for b in &o.breakdowns {
                        codes.push(dims.get(b).cloned().unwrap_or_else(|| TOTAL.into()));
                    }
                    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
                    t.find(&refs)
                };
                for &i in &leaf_rows {
                    if let Some(c) = cell_of(&table, i) {
                        let v = num[i].unwrap_or(0.0);
                        table.cells[c].value = v;
                        table.cells[c].freq = v.round().max(0.0) as u64;
                    }
                }
                table.sum_up();
                let mut additive = true;
                let mut cube_cells = Vec::new();
                let mut extra = Vec::new();
                for &i in &prow {
                    // levels above the frame's top are outside it
                    if h.level_index(level[i].as_deref().unwrap_or(""))
                        .is_some_and(|l| l < top)
                    {
                        continue;
                    }
                    let Some(c) = cell_of(&table, i) else {
                        additive = false;
                        continue;
                    };
                    if (table.cells[c].value - num[i].unwrap_or(0.0)).abs() > 1e-6 {
                        additive = false;
                    }
                    if shown_level(i) {
                        table.cells[c].published = true;
                        cube_cells.push((i, c));
                        if let Some(d) = den[i]
                            && d > 0.0
                            && d < self.policy.threshold as f64
                        {
                            let x = table.cells[c].value;
                            extra.push(Primary {
                                cell: c,
                                findings: vec![rules::Finding {
                                    rule: "frequency-denominator".into(),
                                    reason: format!("denominator below {}", self.policy.threshold),
                                    protection: Protection {
                                        lower: x,
                                        upper: self.policy.threshold as f64,
                                    },
                                }],
                                protection: Protection {
                                    lower: x,
                                    upper: self.policy.threshold as f64,
                                },
                            });
                        }
                    }
                }
                if !additive {
                    // margins are not exact sums: reset them to the cube's values
                    for &(i, c) in &cube_cells {
                        let v = num[i].unwrap_or(0.0);
                        table.cells[c].value = v;
                        table.cells[c].freq = v.round().max(0.0) as u64;
                    }
                    notes.push(format!(
                        "{per}: margins are not exact sums of their parts; primary suppression only"
                    ));
                }
                let method = self.method_of(o.method);
                let attributes = o.breakdowns.clone();
                let locked = self.locked(&id, &table);
                let p = self.protect(
                    &o.name, &table, method, attributes, extra, additive, &locked,
                )?;
                self.verify_and_record(&table, &p, additive, &locked)?;
                self.log_frame(&table, &p, additive, started);
                frame_ids.push((per.clone(), id.clone()));
                for pr in &p.primary {
                    for f in &pr.findings {
                        *fired.entry(f.rule.clone()).or_insert(0) += 1;
                    }
                }
                n_primary += p.primary.len();
                n_secondary += p.secondary.len();
                let den_hidden: BTreeSet<usize> = p
                    .primary
                    .iter()
                    .filter(|x| x.findings.iter().any(|f| f.rule == "frequency-denominator"))
                    .map(|x| x.cell)
                    .collect();
                for &(i, c) in &cube_cells {
                    match p.shown[c] {
                        None => {
                            let rule = p.primary.iter().find(|x| x.cell == c).map_or(
                                "secondary".to_string(),
                                |x| {
                                    x.findings
                                        .iter()
                                        .map(|f| f.rule.as_str())
                                        .collect::<Vec<_>>()
                                        .join("+")
                                },
                            );
                            write_row(
                                &mut w,
                                i,
                                true,
                                den_hidden.contains(&c),
                                "suppressed",
                                &rule,
                            )?;
                        }
                        Some(v) if p.flag != "suppressed" => {
                            // perturbed numerator: the value follows it
                            let d = den[i].filter(|d| *d > 0.0);
                            let mut row = row_head(i);
                            let value = match d {
                                Some(d) => Some(v / d * ind.factor),
                                None => Some(v * ind.factor),
                            };
                            row.extend([
                                fmt(value),
                                String::new(),
                                String::new(),
                                fmt(Some(v)),
                                fmt(den[i]),
                                p.flag.to_string(),
                                p.method.clone(),
                            ]);
                            w.write_record(&row)
                                .map_err(|e| ReleaseError::Engine(e.to_string()))?;
                        }
                        Some(_) => write_row(&mut w, i, false, false, "", "")?,
                    }
                    written += 1;
                }
            }
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ReleaseError::Engine(e.to_string()))?;
        let method = if is_estimate {
            "sample-size".to_string()
        } else {
            format!("{:?}", self.method_of(o.method)).to_lowercase()
        };
        self.add_output(
            OutputLog {
                frame_periods: frame_ids.clone(),
                frames: frame_ids.into_iter().map(|(_, f)| f).collect(),
                columns: std::iter::once(("territory".to_string(), "territory".to_string()))
                    .chain(o.breakdowns.iter().map(|b| (b.clone(), b.clone())))
                    .collect(),
                rules_fired: fired,
                primary: n_primary,
                secondary: n_secondary,
                notes,
                indicator: Some(o.indicator.clone()),
                ..OutputLog::new(&o.name, "indicator", &bytes, written, &method)
            },
            bytes,
        );
        Ok(())
    }

    fn microdata_output(&mut self, m: &MicrodataOutput) -> Result<(), ReleaseError> {
        let batches = self.query(&m.name, &m.query)?;
        let columns: Vec<String> = batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut cols = Vec::new();
        for c in &columns {
            cols.push(strings(&batches, c).map_err(|e| self.spec_err(&m.name, e))?);
        }
        // pseudonyms are re-keyed for each release: extracts given to different partners cannot
        // be joined with each other or with the lab's tables
        let mut rekeyed = Vec::new();
        for (k, c) in cols.iter_mut().enumerate() {
            if c.iter().flatten().take(100).any(|v| v.starts_with("p1.")) {
                rekeyed.push(columns[k].clone());
                for v in c.iter_mut().flatten() {
                    let mut h = blake3::Hasher::new_keyed(&self.secret);
                    h.update(self.spec.name.as_bytes());
                    h.update(b"\0");
                    h.update(v.as_bytes());
                    *v = format!("r.{}", &h.finalize().to_hex()[..26]);
                }
            }
        }
        let n = cols.first().map_or(0, Vec::len);
        let records = microdata::Records {
            columns: columns.clone(),
            rows: (0..n)
                .map(|i| cols.iter().map(|c| c[i].clone()).collect())
                .collect(),
        };
        let h = &self.project.hierarchy;
        let mut quasi = Vec::new();
        for q in &m.quasi {
            if !columns.contains(&q.column) {
                return Err(
                    self.spec_err(&m.name, format!("the query has no column `{}`", q.column))
                );
            }
            let hierarchy = if !q.bands.is_empty() {
                microdata::Hierarchy::Bands {
                    widths: q.bands.clone(),
                    top: None,
                }
            } else if q.territory {
                // one level up the territory hierarchy at a time, then suppressed entirely
                let mut maps = Vec::new();
                let parent: HashMap<&str, &str> = h
                    .nodes
                    .iter()
                    .filter_map(|t| t.parent.as_deref().map(|p| (t.code.as_str(), p)))
                    .collect();
                let finest = h.levels.len().saturating_sub(1);
                let mut current: HashMap<String, String> = h
                    .at(finest)
                    .map(|t| (t.code.clone(), t.code.clone()))
                    .collect();
                for _ in 0..2 {
                    let next: HashMap<String, String> = current
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                parent.get(v.as_str()).map_or(v.clone(), |p| p.to_string()),
                            )
                        })
                        .collect();
                    maps.push(next.clone());
                    current = next;
                }
                microdata::Hierarchy::Levels(maps)
            } else {
                microdata::Hierarchy::Levels(
                    q.levels
                        .iter()
                        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .collect(),
                )
            };
            quasi.push(microdata::Quasi {
                column: q.column.clone(),
                hierarchy,
            });
        }
        let policy = microdata::Policy {
            quasi,
            sensitive: m.sensitive.clone(),
            k: m.k.unwrap_or(self.policy.k),
            l: m.l.unwrap_or(self.policy.l),
            max_suppressed: m.max_suppressed.unwrap_or(self.policy.max_suppressed),
            weight: m.weight.clone(),
        };
        let out = microdata::anonymize(&records, &policy).map_err(|e| self.spec_err(&m.name, e))?;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&out.records.columns)
            .map_err(|e| ReleaseError::Engine(e.to_string()))?;
        for r in &out.records.rows {
            w.write_record(r.iter().map(|v| v.as_deref().unwrap_or("")))
                .map_err(|e| ReleaseError::Engine(e.to_string()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| ReleaseError::Engine(e.to_string()))?;
        let mut notes = vec![
            format!(
                "k = {}, l = {}; generalization: {}",
                policy.k,
                policy.l,
                out.levels
                    .iter()
                    .map(|(c, l)| format!("{c} level {l}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "risk before: {} sample uniques, max individual risk {:.3}; after: {} sample uniques, max individual risk {:.3}, expected re-identifications {:.2}",
                out.before.sample_uniques,
                out.before.max_individual_risk,
                out.after.sample_uniques,
                out.after.max_individual_risk,
                out.after.expected_reidentifications
            ),
            format!("{} values locally suppressed", out.suppressed_values),
        ];
        if !rekeyed.is_empty() {
            notes.push(format!(
                "pseudonyms re-keyed for this release: {}",
                rekeyed.join(", ")
            ));
        }
        self.add_output(
            OutputLog {
                notes,
                ..OutputLog::new(
                    &m.name,
                    "microdata",
                    &bytes,
                    out.records.rows.len(),
                    "k-anonymity",
                )
            },
            bytes,
        );
        Ok(())
    }
}

fn cell_outcome(table: &Table, p: &Protection2, i: usize) -> (String, String, String) {
    match p.shown[i] {
        None => {
            let rule =
                p.primary
                    .iter()
                    .find(|x| x.cell == i)
                    .map_or("secondary".to_string(), |x| {
                        x.findings
                            .iter()
                            .map(|f| f.rule.as_str())
                            .collect::<Vec<_>>()
                            .join("+")
                    });
            (String::new(), "suppressed".into(), rule)
        }
        Some(v) if p.flag == "suppressed" => {
            (fmt_value(table.kind, v), String::new(), String::new())
        }
        Some(v) => (fmt_value(table.kind, v), p.flag.into(), p.method.clone()),
    }
}

fn fmt_value(kind: Kind, v: f64) -> String {
    match kind {
        Kind::Frequency => format!("{}", v.round() as i64),
        Kind::Magnitude => format!("{}", v.round() as i64),
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn codes_of(table: &Table, i: usize) -> Vec<(String, String)> {
    table
        .dims
        .iter()
        .zip(table.codes(i))
        .map(|(d, c)| (d.name.clone(), c.to_string()))
        .collect()
}

/// `age_band=0-14|sex=F` -> {age_band: 0-14, sex: F}.
fn parse_key(key: &str) -> BTreeMap<String, String> {
    key.split('|')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The deepest level at which all the codes have one common ancestor.
fn single_ancestor_level(h: &model::Hierarchy, codes: &[&str]) -> usize {
    let paths = h.paths();
    let mut best = 0;
    for level in 0..h.levels.len() {
        let mut at: BTreeSet<&str> = BTreeSet::new();
        for c in codes {
            if let Some(p) = paths.get(*c) {
                at.insert(p[level].as_str());
            }
        }
        if at.len() <= 1 {
            best = level;
        } else {
            break;
        }
    }
    best
}

fn strings(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    for b in batches {
        let Some(col) = b.column_by_name(name) else {
            let cols: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            return Err(format!(
                "the query has no column `{name}` (it has: {})",
                cols.join(", ")
            ));
        };
        let cast = arrow::compute::cast(col, &DataType::Utf8).map_err(|e| e.to_string())?;
        let s = cast.as_string::<i32>();
        out.extend((0..s.len()).map(|i| (!s.is_null(i)).then(|| s.value(i).to_string())));
    }
    Ok(out)
}

fn numbers(batches: &[RecordBatch], name: &str) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for b in batches {
        let Some(col) = b.column_by_name(name) else {
            return Err(format!("the query has no column `{name}`"));
        };
        let cast = arrow::compute::cast(col, &DataType::Float64)
            .map_err(|e| format!("column `{name}` is not numeric: {e}"))?;
        let f = cast.as_primitive::<arrow::datatypes::Float64Type>();
        out.extend((0..f.len()).map(|i| (!f.is_null(i)).then(|| f.value(i))));
    }
    Ok(out)
}

fn batch_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn csv_of_batches(batches: &[RecordBatch]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    w.write_record(&names).map_err(|e| e.to_string())?;
    let cols: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|n| strings(batches, n))
        .collect::<Result<_, _>>()?;
    for i in 0..cols.first().map_or(0, Vec::len) {
        w.write_record(cols.iter().map(|c| c[i].as_deref().unwrap_or("")))
            .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_keys_parse() {
        let k = parse_key("age_band=0-14|sex=F");
        assert_eq!(k["age_band"], "0-14");
        assert_eq!(k["sex"], "F");
        assert!(parse_key("").is_empty());
    }
}
