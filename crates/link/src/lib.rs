//! Deterministic record linkage on pseudonyms.
//!
//! `link` owns the link tables a build computes from the sources' snapshots: which person every
//! person-level record belongs to (`link_records`), which household every resident belongs to
//! in each period (`link_households`), and how well the sources link (`link_quality`: match rates
//! per source and year, overlaps between sources, duplicates, conflicting attributes, weak and
//! ambiguous links).
//!
//! Persons are built on the spine (the population register, `[linkage] spine`): the strong
//! pseudonyms found on one spine row (e.g. of the tax code and of the register id) are one
//! person (union-find). A record of any source links through its first strong pseudonym known
//! to the spine; failing that, through a weak pseudonym (from name, birth date and sex; `w`
//! prefix) that points at exactly one person. A strong pseudonym unknown to the spine still
//! links records across the other sources (a person who is not a resident). Pseudonyms of
//! different kinds never collide (they are domain-separated), so keys are compared by value.
//!
//! It must not know how pseudonyms are made (no key ever reaches the lab), nor about
//! indicators or outputs.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use engine::{BuildLock, Engine, SnapshotInfo, Warehouse};
use futures::StreamExt;
use ingest::{Action, IngestError};
use model::KeyHash;
use parquet::arrow::ArrowWriter;
use project::{Project, SourceSpec};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Bumped when a change to linkage can change the link tables: they are recomputed.
pub const LINK_VERSION: u32 = 1;
/// One row per person-level record of every source.
pub const RECORDS: &str = "link_records";
/// One row per resident and period of the spine.
pub const HOUSEHOLDS: &str = "link_households";
/// Link-quality measures.
pub const QUALITY: &str = "link_quality";

const BATCH: usize = 32_768;

/// The record-linkage build step.
pub struct Linker {
    project: Project,
}

impl Linker {
    pub fn new(project: &Project) -> Linker {
        Linker {
            project: project.clone(),
        }
    }
}

fn step_err(message: impl std::fmt::Display) -> IngestError {
    IngestError::Step {
        step: "linkage".into(),
        message: message.to_string(),
        input: false,
    }
}

impl ingest::Derive for Linker {
    fn derive(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Vec<(SnapshotInfo, Action)>, IngestError> {
        let linkage = &self.project.config.linkage;
        let Some(spine) = &linkage.spine else {
            return Ok(Vec::new());
        };
        if !sources.contains_key(spine) {
            return Ok(Vec::new());
        }
        let plan = Plan::new(&self.project, sources);
        let fp = plan.fingerprint();
        let ids: Vec<(&str, String)> = [RECORDS, HOUSEHOLDS, QUALITY]
            .iter()
            .map(|t| (*t, table_id(&fp, t)))
            .collect();
        let mut existing = Vec::new();
        for (_, id) in &ids {
            match wh.snapshot(id)? {
                Some(s) => existing.push((s, Action::Reused)),
                None => break,
            }
        }
        if existing.len() == ids.len() {
            return Ok(existing);
        }
        let started = Instant::now();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(step_err)?;
        let snaps: Vec<SnapshotInfo> = plan.sources.iter().map(|s| s.snap.clone()).collect();
        let mut stagings = Vec::new();
        for (table, _) in &ids {
            stagings.push(wh.staging(lock, table)?);
        }
        rt.block_on(async {
            let engine = Engine::over(&snaps).await?;
            run(&plan, &engine, &stagings).await
        })?;
        let references: BTreeMap<String, String> = plan
            .sources
            .iter()
            .map(|s| (s.spec.name.clone(), s.snap.id.clone()))
            .collect();
        let mut out = Vec::new();
        for ((table, id), staging) in ids.into_iter().zip(stagings) {
            let derived = engine::Derived {
                id,
                table: table.to_string(),
                fingerprint: fp.clone(),
                references: references.clone(),
                seconds: started.elapsed().as_secs_f64(),
            };
            out.push((wh.store_derived(staging, derived)?, Action::Built));
        }
        Ok(out)
    }
}

fn table_id(fp: &str, table: &str) -> String {
    let h = blake3::hash(format!("{fp}/{table}").as_bytes());
    h.to_hex()[..20].to_string()
}

/// What to read from one source.
struct SourcePlan {
    spec: SourceSpec,
    snap: SnapshotInfo,
    /// Person-key columns present, in rank order.
    keys: Vec<String>,
    spine: bool,
}

struct Plan {
    sources: Vec<SourcePlan>,
    household: Option<String>,
    config: String,
}

impl Plan {
    fn new(project: &Project, snaps: &BTreeMap<String, SnapshotInfo>) -> Plan {
        let linkage = &project.config.linkage;
        let spine = linkage.spine.clone().unwrap_or_default();
        let mut sources = Vec::new();
        for spec in &project.sources {
            let Some(snap) = snaps.get(&spec.name) else {
                continue;
            };
            let keys: Vec<String> = linkage
                .person_keys
                .iter()
                .filter(|k| spec.column(k).is_some_and(|c| c.pseudonym))
                .cloned()
                .collect();
            if keys.is_empty() {
                continue;
            }
            sources.push(SourcePlan {
                spec: spec.clone(),
                snap: snap.clone(),
                keys,
                spine: spec.name == spine,
            });
        }
        // The spine first.
        sources.sort_by_key(|s| !s.spine);
        Plan {
            sources,
            household: linkage.household_key.clone(),
            config: serde_json::to_string(linkage).unwrap_or_default(),
        }
    }

    fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(format!("link v{LINK_VERSION}\n{}\n", self.config).as_bytes());
        for s in &self.sources {
            h.update(format!("{}={}\n", s.spec.name, s.snap.id).as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

/// Union-find over key nodes.
#[derive(Default)]
struct Persons {
    index: HashMap<u128, u32, KeyHash>,
    parent: Vec<u32>,
    /// The node's key and its rank (position in `person_keys`).
    key: Vec<(u8, String)>,
    /// Weak pseudonym → spine nodes it was seen with.
    weak: HashMap<u128, Vec<u32>, KeyHash>,
}

impl Persons {
    fn node(&mut self, value: &str, rank: u8) -> u32 {
        let h = xxhash_rust::xxh3::xxh3_128(value.as_bytes());
        if let Some(&n) = self.index.get(&h) {
            if rank < self.key[n as usize].0 {
                self.key[n as usize].0 = rank;
            }
            return n;
        }
        let n = self.parent.len() as u32;
        self.parent.push(n);
        self.key.push((rank, value.to_string()));
        self.index.insert(h, n);
        n
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let p = self.parent[n as usize];
            self.parent[n as usize] = self.parent[p as usize];
            n = p;
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        // The root keeps the strongest key: it names the person.
        let (keep, other) = if self.key[ra as usize].0 <= self.key[rb as usize].0 {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[other as usize] = keep;
    }

    /// Points every node at its root (after the spine is read; lookups are then read-only).
    fn freeze(&mut self) {
        for n in 0..self.parent.len() as u32 {
            let root = self.find(n);
            self.parent[n as usize] = root;
        }
    }

    /// The key naming the person of node `n` (after [`Persons::freeze`]).
    fn name(&self, n: u32) -> &str {
        &self.key[self.parent[n as usize] as usize].1
    }

    /// The person a weak pseudonym points at (after [`Persons::freeze`]).
    fn weak_target(&self, value: &str) -> WeakTarget {
        let Some(nodes) = self
            .weak
            .get(&xxhash_rust::xxh3::xxh3_128(value.as_bytes()))
        else {
            return WeakTarget::None;
        };
        let mut roots = nodes.iter().map(|n| self.parent[*n as usize]);
        let Some(first) = roots.next() else {
            return WeakTarget::None;
        };
        if roots.all(|r| r == first) {
            WeakTarget::One(first)
        } else {
            WeakTarget::Many
        }
    }

    fn lookup(&self, value: &str) -> Option<u32> {
        self.index
            .get(&xxhash_rust::xxh3::xxh3_128(value.as_bytes()))
            .copied()
    }
}

/// Where a weak pseudonym leads.
enum WeakTarget {
    /// Not seen on the spine.
    None,
    /// One person.
    One(u32),
    /// Several persons share it (namesakes born the same day): no link.
    Many,
}

fn is_weak(p: &str) -> bool {
    p.starts_with('w')
}

fn quote(c: &str) -> String {
    format!("\"{}\"", c.replace('"', "\"\""))
}

fn year_expr(spec: &SourceSpec, col: Option<&str>) -> String {
    match col.and_then(|c| spec.column(c)) {
        Some(c) if c.ty == model::ColumnType::Date => format!("year({})", quote(&c.name)),
        Some(c) if c.ty == model::ColumnType::Integer => quote(&c.name),
        _ => "CAST(NULL AS BIGINT)".into(),
    }
}

fn birth_year_expr(spec: &SourceSpec) -> String {
    if spec.column("birth_year").is_some() {
        year_expr(spec, Some("birth_year"))
    } else {
        year_expr(spec, Some("birth_month"))
    }
}

/// Per (source, year) tallies.
#[derive(Default, Clone)]
struct Tally {
    records: u64,
    spine: u64,
    weak: u64,
    ambiguous: u64,
    no_key: u64,
    outside: u64,
    /// Records identified by a weak pseudonym, linked to the spine or not.
    weak_records: u64,
    /// Records whose sex could be compared with the spine's, and those that differ.
    sex_compared: u64,
    sex_conflicts: u64,
    /// The same for the birth year.
    year_compared: u64,
    year_conflicts: u64,
}

/// A column-oriented Parquet writer for one link table.
struct Table {
    schema: Arc<Schema>,
    writer: ArrowWriter<std::fs::File>,
    cols: Vec<Col>,
    rows: u64,
    pending: usize,
}

enum Col {
    S(StringBuilder),
    I(Int64Builder),
    B(BooleanBuilder),
    F(Float64Builder),
}

impl Table {
    fn create(dir: &Path, fields: &[(&str, DataType)]) -> Result<Table, IngestError> {
        let schema = Arc::new(Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        ));
        let path = dir.join("data/part-00000.parquet");
        let file = std::fs::File::create(&path)
            .map_err(|e| step_err(format!("{}: {e}", path.display())))?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(step_err)?;
        let cols = fields
            .iter()
            .map(|(_, t)| match t {
                DataType::Int64 => Col::I(Int64Builder::new()),
                DataType::Boolean => Col::B(BooleanBuilder::new()),
                DataType::Float64 => Col::F(Float64Builder::new()),
                _ => Col::S(StringBuilder::new()),
            })
            .collect();
        Ok(Table {
            schema,
            writer,
            cols,
            rows: 0,
            pending: 0,
        })
    }

    fn s(&mut self, i: usize, v: Option<&str>) {
        if let Col::S(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn i(&mut self, i: usize, v: Option<i64>) {
        if let Col::I(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }
    fn b(&mut self, i: usize, v: bool) {
        if let Col::B(b) = &mut self.cols[i] {
            b.append_value(v);
        }
    }
    fn f(&mut self, i: usize, v: Option<f64>) {
        if let Col::F(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    fn end_row(&mut self) -> Result<(), IngestError> {
        self.rows += 1;
        self.pending += 1;
        if self.pending >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IngestError> {
        if self.pending == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::S(b) => Arc::new(b.finish()),
                    Col::I(b) => Arc::new(b.finish()),
                    Col::B(b) => Arc::new(b.finish()),
                    Col::F(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(step_err)?;
        self.writer.write(&batch).map_err(step_err)?;
        self.pending = 0;
        Ok(())
    }

    fn close(mut self) -> Result<(), IngestError> {
        self.flush()?;
        self.writer.close().map_err(step_err)?;
        Ok(())
    }
}

/// Row `r` of a string column, read in place (DataFusion reads Parquet strings as views; a
/// computed column may be plain `Utf8`).
fn text(a: &ArrayRef, r: usize) -> Option<&str> {
    if a.is_null(r) {
        return None;
    }
    if let Some(v) = a.as_string_view_opt() {
        return Some(v.value(r));
    }
    a.as_string_opt::<i32>().map(|s| s.value(r))
}

fn int(a: &ArrayRef, r: usize) -> Option<i64> {
    let a = a.as_primitive_opt::<Int64Type>()?;
    (!a.is_null(r)).then(|| a.value(r))
}

async fn run(
    plan: &Plan,
    engine: &Engine,
    stagings: &[engine::Staging],
) -> Result<(), IngestError> {
    // Pass 1: persons on the spine.
    let mut persons = Persons::default();
    let spine = plan
        .sources
        .iter()
        .find(|s| s.spine)
        .ok_or_else(|| step_err("the spine has no person-key column"))?;
    let ranks: HashMap<&str, u8> = plan
        .sources
        .iter()
        .flat_map(|s| s.keys.iter())
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|k| {
            let r = spine
                .keys
                .iter()
                .position(|x| x == k)
                .unwrap_or(usize::MAX >> 1);
            (k, r.min(250) as u8)
        })
        .collect();
    {
        let cols: Vec<String> = spine.keys.iter().map(|k| quote(k)).collect();
        let sql = format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            quote(&spine.spec.name)
        );
        let mut stream = engine.stream(&sql).await?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(step_err)?;
            let arrays: Vec<ArrayRef> = batch.columns().to_vec();
            for r in 0..batch.num_rows() {
                let mut first: Option<u32> = None;
                let mut weak: Vec<&str> = Vec::new();
                for (k, a) in spine.keys.iter().zip(&arrays) {
                    let Some(v) = text(a, r) else { continue };
                    if is_weak(v) {
                        weak.push(v);
                        continue;
                    }
                    let n = persons.node(v, ranks[k.as_str()]);
                    match first {
                        None => first = Some(n),
                        Some(f) => persons.union(f, n),
                    }
                }
                if let Some(f) = first {
                    for w in weak {
                        let e = persons
                            .weak
                            .entry(xxhash_rust::xxh3::xxh3_128(w.as_bytes()))
                            .or_default();
                        if !e.contains(&f) {
                            e.push(f);
                        }
                    }
                }
            }
        }
    }

    persons.freeze();

    // Pass 2: every record of every linked source.
    let mut records = Table::create(
        &stagings[0].dir,
        &[
            ("source", DataType::Utf8),
            ("file", DataType::Utf8),
            ("line", DataType::Int64),
            ("year", DataType::Int64),
            ("person", DataType::Utf8),
            ("method", DataType::Utf8),
            ("weak", DataType::Boolean),
            ("in_spine", DataType::Boolean),
        ],
    )?;
    let mut households = Table::create(
        &stagings[1].dir,
        &[
            ("year", DataType::Int64),
            ("person", DataType::Utf8),
            ("household", DataType::Utf8),
        ],
    )?;
    let mut tallies: BTreeMap<(String, i64), Tally> = BTreeMap::new();
    // (source, year) → person hash → records.
    let mut seen: BTreeMap<(String, i64), HashMap<u64, u32, KeyHash>> = BTreeMap::new();
    // person hash → (sexes seen bitmask, min birth year, max birth year)
    let mut attrs: HashMap<u64, (u8, i64, i64), KeyHash> = HashMap::default();
    for src in &plan.sources {
        let spec = &src.spec;
        let mut cols = vec![
            quote(ingest::FILE_COLUMN),
            quote(ingest::LINE_COLUMN),
            format!("{} AS y", year_expr(spec, spec.period.as_deref())),
        ];
        cols.extend(src.keys.iter().map(|k| quote(k)));
        let hh = plan
            .household
            .as_ref()
            .filter(|h| src.spine && spec.column(h).is_some());
        cols.push(match hh {
            Some(h) => format!("{} AS hh", quote(h)),
            None => "CAST(NULL AS VARCHAR) AS hh".into(),
        });
        cols.push(match spec.column("sex") {
            Some(_) => "sex AS sx".into(),
            None => "CAST(NULL AS VARCHAR) AS sx".into(),
        });
        cols.push(format!("{} AS by", birth_year_expr(spec)));
        let sql = format!("SELECT {} FROM {}", cols.join(", "), quote(&spec.name));
        let mut stream = engine.stream(&sql).await?;
        let nk = src.keys.len();
        let weak_methods: Vec<String> = src.keys.iter().map(|k| format!("weak:{k}")).collect();
        let mut src_tallies: BTreeMap<i64, Tally> = BTreeMap::new();
        let mut src_seen: BTreeMap<i64, HashMap<u64, u32, KeyHash>> = BTreeMap::new();
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(step_err)?;
            let a: Vec<ArrayRef> = batch.columns().to_vec();
            let ya = arrow::compute::cast(&a[2], &DataType::Int64).map_err(step_err)?;
            let bya = arrow::compute::cast(&a[5 + nk], &DataType::Int64).map_err(step_err)?;
            for r in 0..batch.num_rows() {
                let year = int(&ya, r);
                let mut person: Option<&str> = None;
                let mut method: &str = "no_key";
                let mut weak = false;
                let mut in_spine = false;
                let mut fallback: Option<(&str, usize, bool)> = None;
                let mut ambiguous = false;
                // Strong keys first, in rank order.
                for (i, k) in src.keys.iter().enumerate() {
                    let Some(v) = text(&a[3 + i], r) else {
                        continue;
                    };
                    if is_weak(v) {
                        continue;
                    }
                    if let Some(n) = persons.lookup(v) {
                        person = Some(persons.name(n));
                        method = k;
                        in_spine = true;
                        break;
                    }
                    if fallback.is_none() {
                        fallback = Some((v, i, false));
                    }
                }
                if person.is_none() {
                    for (i, _) in src.keys.iter().enumerate() {
                        let Some(v) = text(&a[3 + i], r) else {
                            continue;
                        };
                        if !is_weak(v) {
                            continue;
                        }
                        match persons.weak_target(v) {
                            WeakTarget::One(root) => {
                                person = Some(persons.name(root));
                                method = &weak_methods[i];
                                weak = true;
                                in_spine = true;
                                break;
                            }
                            WeakTarget::None => {
                                if fallback.is_none() {
                                    fallback = Some((v, i, true));
                                }
                            }
                            WeakTarget::Many => ambiguous = true,
                        }
                    }
                }
                if person.is_none()
                    && !ambiguous
                    && let Some((v, i, w)) = fallback
                {
                    person = Some(v);
                    method = if w { &weak_methods[i] } else { &src.keys[i] };
                    weak = w;
                }
                if ambiguous && person.is_none() {
                    method = "ambiguous";
                }
                let t = src_tallies.entry(year.unwrap_or(0)).or_default();
                t.records += 1;
                t.weak_records += u64::from(weak || ambiguous);
                if in_spine {
                    t.spine += 1;
                    if weak {
                        t.weak += 1;
                    }
                } else if ambiguous {
                    t.ambiguous += 1;
                } else if person.is_some() {
                    t.outside += 1;
                } else {
                    t.no_key += 1;
                }
                if let Some(p) = person {
                    let ph = xxhash_rust::xxh3::xxh3_64(p.as_bytes());
                    *src_seen
                        .entry(year.unwrap_or(0))
                        .or_default()
                        .entry(ph)
                        .or_default() += 1;
                    let sex = match text(&a[4 + nk], r) {
                        Some("M") => 1u8,
                        Some("F") => 2,
                        _ => 0,
                    };
                    let by = int(&bya, r);
                    if src.spine {
                        // What the spine says about the person, over all its periods.
                        let e = attrs.entry(ph).or_insert((0, i64::MAX, i64::MIN));
                        e.0 |= sex;
                        if let Some(y) = by {
                            e.1 = e.1.min(y);
                            e.2 = e.2.max(y);
                        }
                    } else if let Some(&(ssex, lo, hi)) = attrs.get(&ph) {
                        if sex != 0 && ssex != 0 {
                            t.sex_compared += 1;
                            t.sex_conflicts += u64::from(ssex & sex == 0);
                        }
                        if let Some(y) = by.filter(|_| lo != i64::MAX) {
                            t.year_compared += 1;
                            t.year_conflicts += u64::from(y < lo || y > hi);
                        }
                    }
                    if hh.is_some()
                        && let Some(h) = text(&a[3 + nk], r)
                    {
                        households.i(0, year);
                        households.s(1, Some(p));
                        households.s(2, Some(h));
                        households.end_row()?;
                    }
                }
                records.s(0, Some(&spec.name));
                records.s(1, text(&a[0], r));
                records.i(2, int(&a[1], r));
                records.i(3, year);
                records.s(4, person);
                records.s(5, Some(method));
                records.b(6, weak);
                records.b(7, in_spine);
                records.end_row()?;
            }
        }
        for (y, t) in src_tallies {
            tallies.insert((spec.name.clone(), y), t);
        }
        for (y, p) in src_seen {
            seen.insert((spec.name.clone(), y), p);
        }
    }

    // Quality.
    let mut quality = Table::create(
        &stagings[2].dir,
        &[
            ("metric", DataType::Utf8),
            ("source", DataType::Utf8),
            ("other_source", DataType::Utf8),
            ("year", DataType::Int64),
            ("records", DataType::Int64),
            ("count", DataType::Int64),
            ("rate", DataType::Float64),
        ],
    )?;
    let row = |q: &mut Table,
               metric: &str,
               source: &str,
               other: Option<&str>,
               year: Option<i64>,
               records: u64,
               count: u64|
     -> Result<(), IngestError> {
        q.s(0, Some(metric));
        q.s(1, Some(source));
        q.s(2, other);
        q.i(3, year);
        q.i(4, Some(records as i64));
        q.i(5, Some(count as i64));
        q.f(6, (records > 0).then(|| count as f64 / records as f64));
        q.end_row()
    };
    let spine_name = spine.spec.name.as_str();
    for ((source, year), t) in &tallies {
        let y = (*year != 0).then_some(*year);
        row(
            &mut quality,
            "linked_to_spine",
            source,
            None,
            y,
            t.records,
            t.spine,
        )?;
        row(
            &mut quality,
            "weak_links",
            source,
            None,
            y,
            t.records,
            t.weak,
        )?;
        row(
            &mut quality,
            "ambiguous",
            source,
            None,
            y,
            t.records,
            t.ambiguous,
        )?;
        row(
            &mut quality,
            "outside_spine",
            source,
            None,
            y,
            t.records,
            t.outside,
        )?;
        row(&mut quality, "no_key", source, None, y, t.records, t.no_key)?;
        row(
            &mut quality,
            "weak_pseudonyms",
            source,
            None,
            y,
            t.records,
            t.weak_records,
        )?;
        if t.sex_compared > 0 {
            row(
                &mut quality,
                "conflicting_sex",
                source,
                Some(spine_name),
                y,
                t.sex_compared,
                t.sex_conflicts,
            )?;
        }
        if t.year_compared > 0 {
            row(
                &mut quality,
                "conflicting_birth_year",
                source,
                Some(spine_name),
                y,
                t.year_compared,
                t.year_conflicts,
            )?;
        }
    }
    for ((source, year), people) in &seen {
        let y = (*year != 0).then_some(*year);
        let dup = people.values().filter(|&&n| n > 1).count() as u64;
        row(
            &mut quality,
            "persons_with_several_records",
            source,
            None,
            y,
            people.len() as u64,
            dup,
        )?;
        for ((other, oy), others) in &seen {
            if other == source || oy != year {
                continue;
            }
            let both = people.keys().filter(|p| others.contains_key(p)).count() as u64;
            row(
                &mut quality,
                "overlap",
                source,
                Some(other),
                y,
                people.len() as u64,
                both,
            )?;
        }
    }
    // Within the spine: one person, two sexes or two birth years over the periods.
    let with_sex = attrs.values().filter(|a| a.0 != 0).count() as u64;
    let sex_conflicts = attrs.values().filter(|a| a.0 == 3).count() as u64;
    let with_by = attrs.values().filter(|a| a.1 != i64::MAX).count() as u64;
    let by_conflicts = attrs
        .values()
        .filter(|a| a.1 != i64::MAX && a.1 != a.2)
        .count() as u64;
    row(
        &mut quality,
        "conflicting_sex",
        spine_name,
        None,
        None,
        with_sex,
        sex_conflicts,
    )?;
    row(
        &mut quality,
        "conflicting_birth_year",
        spine_name,
        None,
        None,
        with_by,
        by_conflicts,
    )?;
    records.close()?;
    households.close()?;
    quality.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_keys_of_one_row_are_one_person_named_by_the_strongest() {
        let mut p = Persons::default();
        // Row 1: register id (rank 1) seen before the tax-code pseudonym (rank 0).
        let a = p.node("p1.register-a", 1);
        let b = p.node("p1.taxcode-a", 0);
        p.union(a, b);
        // Row 2 of another year: the same register id, same person.
        let c = p.node("p1.register-a", 1);
        assert_eq!(c, a);
        let other = p.node("p1.taxcode-b", 0);
        let root = p.find(a);
        assert_eq!(root, p.find(b));
        assert_ne!(root, p.find(other));
        assert_eq!(p.key[root as usize].1, "p1.taxcode-a");
        assert_eq!(p.lookup("p1.register-a").map(|n| p.find(n)), Some(root));
        assert_eq!(p.lookup("p1.unknown"), None);
    }

    #[test]
    fn weak_pseudonyms_are_recognised_by_their_prefix() {
        assert!(is_weak("w1.abc"));
        assert!(!is_weak("p1.abc"));
    }
}
