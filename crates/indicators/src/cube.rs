//! The cube build step: every indicator × territory level × period × breakdown.
//!
//! How a ratio indicator is computed. Each measure (numerator, denominator, a need's supply) is
//! one query over its table:
//! - an *additive* measure (`count(*)`, `count(x)`, `sum(x)`) is grouped once by territory code,
//!   period and every breakdown column the indicator uses, and rolled up in memory to each
//!   breakdown and each level of the hierarchy (sums of sums are exact);
//! - any other aggregate (`count(DISTINCT ..)`, `median`, `gini_w`, ...) is grouped by the
//!   ancestors of each row's territory, once per breakdown, so it is computed on the rows of
//!   each cell, never from partial results.
//!
//! A row's territory code may be of any level: it counts at that level and above, never
//! below. Finest-level codes of an older version (periods up to a crosswalk's `until`) are
//! spread over the current units by the crosswalk's population weights (additive measures) or
//! assigned to the current unit holding most of their population (other measures); such cells
//! are flagged `crosswalk`.
//!
//! Estimates (survey prevalences) are copied with their interval at the territory they were
//! given for, flagged `estimate`.

use crate::{hash, runtime, step_err, write_batches};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int64Builder, RecordBatch, StringArray,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::sql::sqlparser::ast::{
    DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use engine::{BuildLock, Derived, Engine, SnapshotInfo, Warehouse};
use ingest::{Action, IngestError};
use model::{Definition, Estimate, Hierarchy, Indicator, IndicatorPeriod, Measure};
use project::{ForecastConfig, Project};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// The cube table.
pub const CUBE: &str = "cube";
/// Indicator metadata, one row per indicator (and per need series).
pub const INDICATORS: &str = "indicators";
/// The territory hierarchy, one row per territory.
pub const TERRITORIES: &str = "territories";
/// Bumped when a change to the cube's computation can change its values: all recomputed.
pub const CUBE_VERSION: u32 = 2;

const STEP: &str = "indicators";
/// The label of a breakdown category whose value is missing.
const MISSING: &str = "n.d.";

/// The cube build step.
pub struct Cube {
    project: Project,
    force: bool,
    /// The forecasting methods, for `[forecast]`.
    forecaster: Option<Arc<dyn crate::Forecaster>>,
    timings: std::sync::Mutex<Vec<Timing>>,
    skipped: std::sync::Mutex<Vec<crate::Skipped>>,
}

/// How long one query of the last computation took (benchmarks read these).
#[derive(Debug, Clone)]
pub struct Timing {
    pub indicator: String,
    pub sql: String,
    pub seconds: f64,
}

impl Cube {
    /// `force` recomputes every indicator.
    pub fn new(project: &Project, force: bool) -> Cube {
        Cube {
            project: project.clone(),
            force,
            forecaster: None,
            timings: std::sync::Mutex::new(Vec::new()),
            skipped: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Plugs in the forecasting methods the project's `[forecast]` asks for.
    pub fn with_forecaster(mut self, f: Arc<dyn crate::Forecaster>) -> Cube {
        self.forecaster = Some(f);
        self
    }

    /// The forecast settings and methods that apply to `ind`, if the project asks for its
    /// forecasts.
    fn forecasting(&self, ind: &Indicator) -> Option<(&ForecastConfig, &dyn crate::Forecaster)> {
        let cfg = self.project.config.forecast.as_ref()?;
        if !cfg.indicators.is_empty() && !cfg.indicators.contains(&ind.id) {
            return None;
        }
        Some((cfg, self.forecaster.as_deref()?))
    }

    /// Indicators the last build left out because a table they read is missing.
    pub fn skipped(&self) -> Vec<crate::Skipped> {
        self.skipped.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The queries of the last computation with their wall times, slowest first.
    pub fn timings(&self) -> Vec<Timing> {
        let mut t = self.timings.lock().map(|t| t.clone()).unwrap_or_default();
        t.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        t
    }
}

/// One cell of the cube.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    indicator: String,
    level: usize,
    territory: String,
    period: String,
    breakdown: String,
    numerator: Option<f64>,
    denominator: Option<f64>,
    value: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    sample_size: Option<i64>,
    change: Option<f64>,
    flags: BTreeSet<&'static str>,
    /// The model of a forecast (`None` for an observed value).
    model: Option<String>,
}

fn cube_schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, false);
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    Arc::new(Schema::new(vec![
        s("indicator"),
        s("territory"),
        s("territory_level"),
        s("period"),
        s("breakdown"),
        f("numerator"),
        f("denominator"),
        f("value"),
        f("lower"),
        f("upper"),
        Field::new("sample_size", DataType::Int64, true),
        f("change"),
        s("flags"),
        // True for a forecast (a period after the last observed one), false for an observation.
        Field::new("forecast", DataType::Boolean, false),
        Field::new("model", DataType::Utf8, true),
    ]))
}

impl ingest::Derive for Cube {
    fn derive(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Vec<(SnapshotInfo, Action)>, IngestError> {
        let p = &self.project;
        if p.indicators.is_empty() && p.hierarchy.levels.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if p.config.forecast.is_some() && self.forecaster.is_none() {
            return Err(step_err(
                STEP,
                false,
                "the project asks for forecasts (`[forecast]`) but no forecaster was plugged in",
            ));
        }
        if !p.indicators.is_empty() && p.hierarchy.levels.is_empty() {
            return Err(step_err(
                STEP,
                true,
                "the project has indicators but no territory hierarchy: declare `[territory] levels` and `codelist` in datalab.toml",
            ));
        }
        let h = serde_json::to_string(&p.hierarchy).unwrap_or_default();
        let i = serde_json::to_string(&p.indicators).unwrap_or_default();
        out.push(self.small_table(wh, lock, TERRITORIES, territories_batch(&p.hierarchy), &h)?);
        out.push(self.small_table(wh, lock, INDICATORS, indicators_batch(&p.indicators), &i)?);
        if let Some(cube) = self.cube(wh, lock, sources)? {
            out.push(cube);
        }
        Ok(out)
    }
}

impl Cube {
    /// Stores a small table computed from the project alone; `content` is what it is made of.
    fn small_table(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        table: &str,
        batch: RecordBatch,
        content: &str,
    ) -> Result<(SnapshotInfo, Action), IngestError> {
        let version = CUBE_VERSION.to_string();
        let fp = hash(&[STEP, &version, table, content]);
        let id = fp[..20].to_string();
        if !self.force
            && let Some(s) = wh.snapshot(&id)?
        {
            return Ok((s, Action::Reused));
        }
        let staging = wh.staging(lock, table)?;
        write_batches(
            &staging.dir.join("data/part-00000.parquet"),
            batch.schema(),
            &[batch],
            STEP,
        )?;
        let info = wh.store_derived(
            staging,
            Derived {
                id,
                table: table.into(),
                fingerprint: fp,
                references: BTreeMap::new(),
                seconds: 0.0,
            },
        )?;
        Ok((info, Action::Built))
    }

    fn cube(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Option<(SnapshotInfo, Action)>, IngestError> {
        let started = Instant::now();
        let p = &self.project;
        let hierarchy_json = serde_json::to_string(&p.hierarchy).unwrap_or_default();
        let periods = format!("{:?}..{:?}", p.config.periods.first, p.config.periods.last);
        // One file per indicator, named by its fingerprint.
        let mut files: Vec<(&Indicator, String)> = Vec::new();
        let mut skipped = Vec::new();
        let known: Vec<&str> = sources.keys().map(|s| s.as_str()).collect();
        for ind in &p.indicators {
            let missing: Vec<String> = ind
                .tables()
                .into_iter()
                .filter(|t| !sources.contains_key(*t))
                .map(|t| crate::models::missing_table(t, &known))
                .collect();
            if !missing.is_empty() {
                skipped.push(crate::Skipped {
                    file: ind.file.clone(),
                    missing,
                });
                continue;
            }
            let mut clean = ind.clone();
            clean.file.clear();
            clean.lines.clear();
            let def = serde_json::to_string(&clean).unwrap_or_default();
            let mut parts = vec![
                STEP.to_string(),
                CUBE_VERSION.to_string(),
                def,
                hierarchy_json.clone(),
                periods.clone(),
            ];
            for t in ind.tables() {
                if let Some(s) = sources.get(t) {
                    parts.push(format!("{t}={}", s.id));
                }
            }
            if let Some((cfg, f)) = self.forecasting(ind) {
                let mut settings = cfg.clone();
                settings.indicators.clear();
                parts.push(format!(
                    "forecast={}|{}",
                    serde_json::to_string(&settings).unwrap_or_default(),
                    f.version()
                ));
            }
            let refs: Vec<&str> = parts.iter().map(|s| s.as_str()).collect();
            let fp = hash(&refs);
            files.push((ind, format!("{}-{}.parquet", ind.id, &fp[..16])));
        }
        if let Ok(mut s) = self.skipped.lock() {
            *s = skipped;
        }
        if files.is_empty() {
            return Ok(None);
        }
        let names: Vec<&str> = files.iter().map(|(_, f)| f.as_str()).collect();
        let fp = hash(&names);
        let id = fp[..20].to_string();
        if !self.force
            && let Some(s) = wh.snapshot(&id)?
        {
            return Ok(Some((s, Action::Reused)));
        }
        let previous: Option<std::path::PathBuf> = if self.force {
            None
        } else {
            wh.current()?
                .into_iter()
                .find(|s| s.source == CUBE)
                .map(|s| s.data_dir())
        };
        let staging = wh.staging(lock, CUBE)?;
        let data = staging.dir.join("data");
        let mut todo = Vec::new();
        for (ind, name) in &files {
            let old = previous.as_ref().map(|d| d.join(name));
            match old {
                Some(old) if old.is_file() => {
                    let new = data.join(name);
                    if std::fs::hard_link(&old, &new).is_err() {
                        std::fs::copy(&old, &new).map_err(|e| {
                            step_err(STEP, false, format!("{}: {e}", old.display()))
                        })?;
                    }
                }
                _ => todo.push((*ind, name.clone())),
            }
        }
        if !todo.is_empty() {
            let rt = runtime(STEP)?;
            rt.block_on(async {
                let snaps: Vec<SnapshotInfo> = sources.values().cloned().collect();
                let engine = Engine::over(&snaps).await?;
                crate::udaf::register(engine.context());
                let exact = Engine::over_with(&snaps, Some(1)).await?;
                crate::udaf::register(exact.context());
                let calc = Calc::new(p, engine, exact, &self.timings)?;
                let mut errors = Vec::new();
                for (ind, name) in &todo {
                    match calc.indicator(ind).await {
                        Ok(mut rows) => {
                            if let Some((cfg, f)) = self.forecasting(ind) {
                                let extra = forecast_rows(&rows, ind, &p.hierarchy, cfg, f)
                                    .map_err(|e| step_err(STEP, true, e))?;
                                rows.extend(extra);
                                sort_rows(&mut rows);
                            }
                            let batch = rows_batch(&rows, &p.hierarchy)?;
                            write_batches(&data.join(name), cube_schema(), &[batch], STEP)?;
                        }
                        Err(e) => errors.push(e),
                    }
                }
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(step_err(STEP, true, errors.join("\n")))
                }
            })?;
        }
        let references = files
            .iter()
            .flat_map(|(i, _)| i.tables())
            .filter_map(|t| sources.get(t).map(|s| (t.to_string(), s.id.clone())))
            .collect();
        let info = wh.store_derived(
            staging,
            Derived {
                id,
                table: CUBE.into(),
                fingerprint: fp,
                references,
                seconds: started.elapsed().as_secs_f64(),
            },
        )?;
        Ok(Some((info, Action::Built)))
    }
}

/// `"name"` for SQL.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether an aggregate expression can be summed across groups: `count(*)`, `count(x)` or
/// `sum(x)` without DISTINCT, FILTER or OVER.
pub(crate) fn is_additive(value: &str) -> bool {
    let Ok(expr) = Parser::new(&GenericDialect)
        .try_with_sql(value)
        .and_then(|mut p| p.parse_expr())
    else {
        return false;
    };
    let Expr::Function(f) = expr else {
        return false;
    };
    let name = f.name.to_string().to_lowercase();
    if !(name == "count" || name == "sum") || f.filter.is_some() || f.over.is_some() {
        return false;
    }
    match &f.args {
        FunctionArguments::List(list) => {
            list.duplicate_treatment != Some(DuplicateTreatment::Distinct)
                && list.args.len() == 1
                && matches!(
                    &list.args[0],
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard | FunctionArgExpr::Expr(_))
                )
        }
        _ => false,
    }
}

/// Whether an aggregate gives the same bits whatever order its rows arrive in, so it may run
/// in parallel: selections (`median`, `min`, `max`), counts, and our functions, which sort
/// their input. Floating-point sums and means (`avg`, `sum`, `stddev`, ...) do not.
pub(crate) fn order_insensitive(value: &str) -> bool {
    let Ok(Expr::Function(f)) = Parser::new(&GenericDialect)
        .try_with_sql(value)
        .and_then(|mut p| p.parse_expr())
    else {
        return false;
    };
    let name = f.name.to_string().to_lowercase();
    f.over.is_none()
        && [
            "median",
            "min",
            "max",
            "count",
            "gini",
            "gini_w",
            "quantile_w",
        ]
        .contains(&name.as_str())
}

/// The SQL of an additive measure made exact: `sum(x)` sums decimals (order-independent, so
/// the same rows always give the same bits however the engine splits them); counts are exact.
pub(crate) fn exact_sum(value: &str) -> String {
    let parsed = Parser::new(&GenericDialect)
        .try_with_sql(value)
        .and_then(|mut p| p.parse_expr());
    if let Ok(Expr::Function(f)) = parsed
        && f.name.to_string().eq_ignore_ascii_case("sum")
        && let FunctionArguments::List(list) = &f.args
        && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice()
    {
        return format!("sum(CAST(({arg}) AS DECIMAL(38, 10)))");
    }
    value.to_string()
}

/// Territory lookup: for each known code, its level and its ancestors' codes by level.
struct Places {
    /// code → (level, codes of the node and its ancestors, index = level).
    nodes: HashMap<String, (usize, Vec<String>)>,
    /// Old finest codes by crosswalk: (until, old code) → [(current code, weight)].
    old: Vec<(i32, HashMap<String, Vec<(String, f64)>>)>,
}

impl Places {
    fn new(h: &Hierarchy) -> Places {
        let mut nodes: HashMap<String, (usize, Vec<String>)> = HashMap::new();
        let by_key: HashMap<(usize, &str), &model::Territory> = h
            .nodes
            .iter()
            .map(|t| ((t.level, t.code.as_str()), t))
            .collect();
        // Finer levels win when a code is used at two levels.
        for t in &h.nodes {
            let mut path = vec![String::new(); t.level + 1];
            let mut cur = Some(t);
            while let Some(n) = cur {
                path[n.level] = n.code.clone();
                cur = match (&n.parent, n.level.checked_sub(1)) {
                    (Some(p), Some(l)) => by_key.get(&(l, p.as_str())).copied(),
                    _ => None,
                };
            }
            match nodes.get(&t.code) {
                Some((l, _)) if *l > t.level => {}
                _ => {
                    nodes.insert(t.code.clone(), (t.level, path));
                }
            }
        }
        let old = h
            .history
            .iter()
            .map(|c| {
                let mut m: HashMap<String, Vec<(String, f64)>> = HashMap::new();
                for (o, n, w) in &c.weights {
                    m.entry(o.clone()).or_default().push((n.clone(), *w));
                }
                (c.until, m)
            })
            .collect();
        Places { nodes, old }
    }

    /// Where a row of `code` in `period` counts: (path of current codes, weight, crosswalked).
    fn resolve(&self, code: &str, period: &str) -> Vec<(&[String], f64, bool)> {
        let year: Option<i32> = period.get(..4).and_then(|y| y.parse().ok());
        if let Some(y) = year {
            for (until, map) in &self.old {
                if y <= *until {
                    if let Some(targets) = map.get(code) {
                        return targets
                            .iter()
                            .filter_map(|(n, w)| {
                                self.nodes.get(n).map(|(_, p)| (p.as_slice(), *w, true))
                            })
                            .collect();
                    }
                    break;
                }
            }
        }
        match self.nodes.get(code) {
            Some((_, p)) => vec![(p.as_slice(), 1.0, false)],
            None => Vec::new(),
        }
    }
}

/// Computes indicators over one engine session.
struct Calc<'p> {
    project: &'p Project,
    /// Parallel, for additive measures (exact whatever the order).
    engine: Engine,
    /// One partition, for the other aggregates (`avg`, `gini_w`...), so that they give the
    /// same bits on every build: an incremental build must equal a full one.
    exact: Engine,
    timings: &'p std::sync::Mutex<Vec<Timing>>,
    places: Places,
    levels: Vec<String>,
}

/// Per (level, territory, period, breakdown key): summed value and whether a crosswalk was used.
type Cells = HashMap<(usize, String, String, String), (f64, bool)>;

impl<'p> Calc<'p> {
    fn new(
        project: &'p Project,
        engine: Engine,
        exact: Engine,
        timings: &'p std::sync::Mutex<Vec<Timing>>,
    ) -> Result<Calc<'p>, IngestError> {
        let h = &project.hierarchy;
        let places = Places::new(h);
        // `__anc(node, lvl, code)`: every code with itself and its ancestors, for the
        // measures that must be grouped on the rows of each cell.
        let mut node = StringBuilder::new();
        let mut lvl = Int64Builder::new();
        let mut code = StringBuilder::new();
        let mut add = |n: &str, path: &[String]| {
            for (l, c) in path.iter().enumerate() {
                node.append_value(n);
                lvl.append_value(l as i64);
                code.append_value(c);
            }
        };
        for (n, (_, path)) in &places.nodes {
            add(n, path);
        }
        for (_, map) in &places.old {
            for (o, targets) in map {
                if places.nodes.contains_key(o) {
                    continue;
                }
                if let Some((n, _)) = targets
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                    && let Some((_, path)) = places.nodes.get(n)
                {
                    add(o, path);
                }
            }
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("node", DataType::Utf8, false),
            Field::new("lvl", DataType::Int64, false),
            Field::new("code", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(node.finish()),
                Arc::new(lvl.finish()),
                Arc::new(code.finish()),
            ],
        )
        .map_err(|e| step_err(STEP, false, e))?;
        let table =
            MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| step_err(STEP, false, e))?;
        let table: Arc<MemTable> = Arc::new(table);
        for e in [&engine, &exact] {
            e.context()
                .register_table("__anc", table.clone())
                .map_err(|err| step_err(STEP, false, err))?;
        }
        Ok(Calc {
            project,
            engine,
            exact,
            timings,
            places,
            levels: h.levels.clone(),
        })
    }

    /// Runs a query on the parallel engine, recording its time.
    async fn run(
        &self,
        ind: &Indicator,
        sql: &str,
    ) -> Result<Vec<RecordBatch>, engine::EngineError> {
        self.run_on(&self.engine, ind, sql).await
    }

    /// Runs a query on `engine`, recording its time.
    async fn run_on(
        &self,
        engine: &Engine,
        ind: &Indicator,
        sql: &str,
    ) -> Result<Vec<RecordBatch>, engine::EngineError> {
        let t = Instant::now();
        let out = engine.sql(sql).await;
        if let Ok(mut v) = self.timings.lock() {
            v.push(Timing {
                indicator: ind.id.clone(),
                sql: sql.to_string(),
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        out
    }

    async fn columns(&self, table: &str) -> Result<Vec<String>, String> {
        let t = self
            .engine
            .context()
            .table_provider(table)
            .await
            .map_err(|e| e.to_string())?;
        Ok(t.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect())
    }

    /// Checks a measure against its table; errors name the file, line and key.
    async fn check_measure(
        &self,
        ind: &Indicator,
        key: &str,
        m: &Measure,
        dims: &[String],
    ) -> Vec<String> {
        let at = |k: &str, msg: String| {
            format!(
                "{}:{}: {key}.{k}: {msg}",
                ind.file,
                ind.line(&format!("{key}.{k}"))
            )
        };
        let cols = match self.columns(&m.table).await {
            Ok(c) => c,
            Err(e) => return vec![at("table", e)],
        };
        let mut errors = Vec::new();
        let need = |c: &str, k: &str, errors: &mut Vec<String>| {
            if !cols.iter().any(|x| x == c) {
                let cs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
                errors.push(at(
                    k,
                    format!(
                        "table `{}` has no column `{c}`{}",
                        m.table,
                        project::text::closest(c, &cs)
                            .map(|x| format!(" (did you mean `{x}`?)"))
                            .unwrap_or_default()
                    ),
                ));
            }
        };
        need(&self.territory_column(m), "territory", &mut errors);
        match &m.date {
            Some(d) => need(d, "date", &mut errors),
            None => need("year", "date", &mut errors),
        }
        if key == "numerator" {
            for d in dims {
                if !cols.iter().any(|x| x == d) {
                    errors.push(format!(
                        "{}:{}: breakdowns: table `{}` has no column `{d}`",
                        ind.file,
                        ind.line("breakdowns"),
                        m.table
                    ));
                }
            }
        }
        let t = quote(&m.table);
        if let Err(e) = self
            .engine
            .context()
            .sql(&format!("SELECT {} FROM {t}", m.value))
            .await
        {
            errors.push(at("value", clean(&e)));
        }
        if let Some(f) = &m.filter
            && let Err(e) = self
                .engine
                .context()
                .sql(&format!("SELECT count(*) FROM {t} WHERE {f}"))
                .await
        {
            errors.push(at("filter", clean(&e)));
        }
        errors
    }

    fn territory_column(&self, m: &Measure) -> String {
        m.territory
            .clone()
            .unwrap_or_else(|| self.project.hierarchy.finest().to_string())
    }

    /// SQL for the period label and the condition keeping the project's years.
    fn period_sql(&self, ind: &Indicator, m: &Measure) -> (String, String) {
        let (first, last) = (
            self.project.config.periods.first,
            self.project.config.periods.last,
        );
        let year = match &m.date {
            Some(d) => format!("year({})", quote(d)),
            None => quote("year"),
        };
        let label = match (&m.date, ind.period) {
            (None, IndicatorPeriod::Point) => format!("CAST({year} AS VARCHAR) || '-12-31'"),
            (None, _) => format!("CAST({year} AS VARCHAR)"),
            (Some(_), IndicatorPeriod::Year) => format!("CAST({year} AS VARCHAR)"),
            (Some(d), IndicatorPeriod::Quarter) => format!(
                "CAST({year} AS VARCHAR) || '-Q' || CAST(CAST(date_part('quarter', {}) AS BIGINT) AS VARCHAR)",
                quote(d)
            ),
            (Some(d), IndicatorPeriod::Month) => format!("to_char({}, '%Y-%m')", quote(d)),
            (Some(d), IndicatorPeriod::Point) => format!("to_char({}, '%Y-%m-%d')", quote(d)),
        };
        let mut cond = Vec::new();
        if let Some(f) = first {
            cond.push(format!("{year} >= {f}"));
        }
        if let Some(l) = last {
            cond.push(format!("{year} <= {l}"));
        }
        cond.push(format!("{year} IS NOT NULL"));
        (label, cond.join(" AND "))
    }

    /// Computes one measure for every breakdown set: cells keyed by (level, code, period,
    /// breakdown key). `sets` lists the breakdown sets (each a list of dimensions present in
    /// the measure's table; the empty set is the total).
    async fn measure(
        &self,
        ind: &Indicator,
        key: &str,
        m: &Measure,
        sets: &[Vec<String>],
        levels: &BTreeSet<usize>,
    ) -> Result<Cells, String> {
        let (period, keep) = self.period_sql(ind, m);
        let terr = quote(&self.territory_column(m));
        let filter = m
            .filter
            .as_ref()
            .map(|f| format!("({f}) AND {keep}"))
            .unwrap_or(keep);
        let table = quote(&m.table);
        let fail = |e: String| {
            format!(
                "{}:{}: {key}: {e}",
                ind.file,
                ind.line(&format!("{key}.value"))
            )
        };
        let mut cells: Cells = HashMap::new();
        if is_additive(&m.value) {
            let dims: BTreeSet<&String> = sets.iter().flatten().collect();
            let dims: Vec<&String> = dims.into_iter().collect();
            let mut select = vec![
                format!("CAST({terr} AS VARCHAR) AS __t"),
                format!("{period} AS __p"),
            ];
            for (i, d) in dims.iter().enumerate() {
                select.push(format!("CAST({} AS VARCHAR) AS __d{i}", quote(d)));
            }
            select.push(format!("CAST({} AS DOUBLE) AS __v", exact_sum(&m.value)));
            let groups: Vec<String> = (1..=dims.len() + 2).map(|i| i.to_string()).collect();
            // Ordered, so that the roll-up adds the same numbers in the same order every time.
            let sql = format!(
                "SELECT {} FROM {table} WHERE {filter} GROUP BY {g} ORDER BY {g}",
                select.join(", "),
                g = groups.join(", ")
            );
            let batches = self.run(ind, &sql).await.map_err(|e| fail(e.to_string()))?;
            let positions: Vec<Vec<(usize, &str)>> = sets
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|d| (dims.iter().position(|x| *x == d).unwrap_or(0), d.as_str()))
                        .collect()
                })
                .collect();
            for b in &batches {
                let t = strings(b, 0);
                let p = strings(b, 1);
                let ds: Vec<StringArray> = (0..dims.len()).map(|i| strings(b, i + 2)).collect();
                let v = floats(b, dims.len() + 2);
                for r in 0..b.num_rows() {
                    if t.is_null(r) || p.is_null(r) {
                        continue;
                    }
                    let value = if v.is_null(r) { 0.0 } else { v.value(r) };
                    let period = p.value(r);
                    for (path, w, cw) in self.places.resolve(t.value(r), period) {
                        for set in &positions {
                            let pairs: Vec<(&str, &str)> = set
                                .iter()
                                .map(|(i, d)| {
                                    (
                                        *d,
                                        if ds[*i].is_null(r) {
                                            MISSING
                                        } else {
                                            ds[*i].value(r)
                                        },
                                    )
                                })
                                .collect();
                            let bk = model::breakdown_key(&pairs);
                            for (level, code) in path.iter().enumerate() {
                                if !levels.contains(&level) {
                                    continue;
                                }
                                let e = cells
                                    .entry((level, code.clone(), period.to_string(), bk.clone()))
                                    .or_insert((0.0, false));
                                e.0 += value * w;
                                e.1 |= cw;
                            }
                        }
                    }
                }
            }
        } else {
            let lv: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
            for set in sets {
                let mut select = vec![
                    "__a.lvl AS __l".to_string(),
                    "__a.code AS __c".to_string(),
                    format!("{period} AS __p"),
                ];
                for (i, d) in set.iter().enumerate() {
                    select.push(format!("CAST({}.{} AS VARCHAR) AS __d{i}", table, quote(d)));
                }
                select.push(format!("CAST({} AS DOUBLE) AS __v", m.value));
                let groups: Vec<String> = (1..=set.len() + 3).map(|i| i.to_string()).collect();
                let sql = format!(
                    "SELECT {} FROM {table} JOIN __anc ON __anc.node = CAST({table}.{terr} AS VARCHAR) \
                     WHERE {filter} AND __anc.lvl IN ({}) GROUP BY {}",
                    select.join(", ").replace("__a.", "__anc."),
                    lv.join(", "),
                    groups.join(", ")
                );
                let batches = self
                    .run_on(
                        if order_insensitive(&m.value) {
                            &self.engine
                        } else {
                            &self.exact
                        },
                        ind,
                        &sql,
                    )
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                for b in &batches {
                    let l = ints(b, 0);
                    let c = strings(b, 1);
                    let p = strings(b, 2);
                    let ds: Vec<StringArray> = (0..set.len()).map(|i| strings(b, i + 3)).collect();
                    let v = floats(b, set.len() + 3);
                    for r in 0..b.num_rows() {
                        if p.is_null(r) || v.is_null(r) {
                            continue;
                        }
                        let pairs: Vec<(&str, &str)> = set
                            .iter()
                            .zip(&ds)
                            .map(|(d, a)| {
                                (d.as_str(), if a.is_null(r) { MISSING } else { a.value(r) })
                            })
                            .collect();
                        cells.insert(
                            (
                                l.value(r) as usize,
                                c.value(r).to_string(),
                                p.value(r).to_string(),
                                model::breakdown_key(&pairs),
                            ),
                            (v.value(r), false),
                        );
                    }
                }
            }
        }
        Ok(cells)
    }

    /// The levels an indicator is computed at.
    fn levels_of(&self, ind: &Indicator) -> BTreeSet<usize> {
        if ind.levels.is_empty() {
            (0..self.levels.len()).collect()
        } else {
            ind.levels
                .iter()
                .filter_map(|l| self.levels.iter().position(|x| x == l))
                .collect()
        }
    }

    async fn indicator(&self, ind: &Indicator) -> Result<Vec<Row>, String> {
        let mut rows = match &ind.definition {
            Definition::Ratio {
                numerator,
                denominator,
            } => self.ratio(ind, numerator, denominator.as_ref()).await?,
            Definition::Estimate(e) => self.estimate(ind, e).await?,
        };
        add_change(&mut rows, ind.period);
        sort_rows(&mut rows);
        Ok(rows)
    }

    async fn ratio(
        &self,
        ind: &Indicator,
        num: &Measure,
        den: Option<&Measure>,
    ) -> Result<Vec<Row>, String> {
        let mut sets: Vec<Vec<String>> = vec![Vec::new()];
        // Dimensions sorted, as in breakdown keys (`["sex", "age_band"]` is `age_band=..|sex=..`).
        sets.extend(ind.breakdowns.iter().map(|b| {
            let mut b = b.clone();
            b.sort();
            b
        }));
        let dims: Vec<String> = sets
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut errors = self.check_measure(ind, "numerator", num, &dims).await;
        if let Some(d) = den {
            errors.extend(self.check_measure(ind, "denominator", d, &[]).await);
        }
        if let Some(n) = &ind.need {
            errors.extend(self.check_measure(ind, "need.supply", &n.supply, &[]).await);
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        let levels = self.levels_of(ind);
        let additive = is_additive(&num.value);
        let ncells = self.measure(ind, "numerator", num, &sets, &levels).await?;
        // The denominator is broken down by the dimensions its table has; for the others,
        // each category is compared with the total (e.g. recipients by measure per resident).
        let mut dcells = None;
        let mut den_sets = Vec::new();
        if let Some(d) = den {
            let cols = self.columns(&d.table).await.unwrap_or_default();
            den_sets = sets
                .iter()
                .map(|s| {
                    s.iter()
                        .filter(|x| cols.contains(x))
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>();
            let unique: Vec<Vec<String>> = den_sets
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            dcells = Some(
                self.measure(ind, "denominator", d, &unique, &levels)
                    .await?,
            );
        }
        let mut rows = Vec::new();
        let mut keys: BTreeSet<(usize, String, String, String)> = ncells.keys().cloned().collect();
        if let (Some(dc), true) = (&dcells, additive) {
            // Cells with a denominator and no numerator rows are zeros, not gaps (only where
            // the breakdown is the denominator's own).
            for (s, ds) in sets.iter().zip(&den_sets) {
                if s.len() == ds.len() {
                    for k in dc.keys() {
                        if breakdown_dims(&k.3) == *s {
                            keys.insert(k.clone());
                        }
                    }
                }
            }
        }
        for k in keys {
            let (n, ncw) = ncells.get(&k).copied().unwrap_or((0.0, false));
            let mut flags = BTreeSet::new();
            let (dv, dcw) = match &dcells {
                None => (None, false),
                Some(dc) => {
                    let dims = breakdown_dims(&k.3);
                    let dkey_dims: Vec<String> = den_sets
                        .iter()
                        .zip(&sets)
                        .find(|(_, s)| **s == dims)
                        .map(|(d, _)| d.clone())
                        .unwrap_or_default();
                    let dk = restrict_key(&k.3, &dkey_dims);
                    match dc.get(&(k.0, k.1.clone(), k.2.clone(), dk)) {
                        Some((v, cw)) => (Some(*v), *cw),
                        None => (Some(0.0), false),
                    }
                }
            };
            if ncw || dcw {
                flags.insert("crosswalk");
            }
            let value = match dv {
                None => Some(n * ind.factor),
                Some(d) if d != 0.0 => Some(n / d * ind.factor),
                Some(_) => {
                    flags.insert("zero_denominator");
                    None
                }
            };
            rows.push(Row {
                indicator: ind.id.clone(),
                level: k.0,
                territory: k.1,
                period: k.2,
                breakdown: k.3,
                numerator: Some(n),
                denominator: dv,
                value,
                lower: None,
                upper: None,
                sample_size: None,
                change: None,
                flags,
                model: None,
            });
        }
        if let Some(need) = &ind.need {
            let supply = self
                .measure(ind, "need.supply", &need.supply, &[Vec::new()], &levels)
                .await?;
            // Every total cell with people in need or with supply (supply where nobody is in
            // need is a surplus, not nothing).
            let mut totals: BTreeMap<(usize, String, String), (f64, BTreeSet<&'static str>)> = rows
                .iter()
                .filter(|r| r.breakdown.is_empty())
                .map(|r| {
                    (
                        (r.level, r.territory.clone(), r.period.clone()),
                        (r.numerator.unwrap_or(0.0), r.flags.clone()),
                    )
                })
                .collect();
            for k in supply.keys().filter(|k| k.3.is_empty()) {
                totals
                    .entry((k.0, k.1.clone(), k.2.clone()))
                    .or_insert((0.0, BTreeSet::new()));
            }
            let mut extra = Vec::new();
            for ((level, territory, period), (in_need, need_flags)) in totals {
                let (s, cw) = supply
                    .get(&(level, territory.clone(), period.clone(), String::new()))
                    .copied()
                    .unwrap_or((0.0, false));
                let r = Row {
                    indicator: String::new(),
                    level,
                    territory,
                    period,
                    breakdown: String::new(),
                    numerator: None,
                    denominator: None,
                    value: None,
                    lower: None,
                    upper: None,
                    sample_size: None,
                    change: None,
                    flags: need_flags,
                    model: None,
                };
                let mut flags: BTreeSet<&'static str> = r.flags.clone();
                flags.remove("zero_denominator");
                flags.insert("need");
                if cw {
                    flags.insert("crosswalk");
                }
                let mut cov_flags = flags.clone();
                let coverage = if in_need > 0.0 {
                    Some(s / in_need * 100.0)
                } else {
                    cov_flags.insert("zero_denominator");
                    None
                };
                let base = Row {
                    indicator: format!("{}:coverage", ind.id),
                    level: r.level,
                    territory: r.territory.clone(),
                    period: r.period.clone(),
                    breakdown: String::new(),
                    numerator: Some(s),
                    denominator: Some(in_need),
                    value: coverage,
                    lower: None,
                    upper: None,
                    sample_size: None,
                    change: None,
                    flags: cov_flags,
                    model: None,
                };
                let required = in_need * need.standard;
                extra.push(Row {
                    indicator: format!("{}:gap", ind.id),
                    numerator: Some(required),
                    denominator: Some(s),
                    value: Some(required - s),
                    flags,
                    ..base.clone()
                });
                extra.push(base);
            }
            rows.extend(extra);
        }
        Ok(rows)
    }

    async fn estimate(&self, ind: &Indicator, e: &Estimate) -> Result<Vec<Row>, String> {
        let t = quote(&e.table);
        let text = |x: &Option<String>| {
            x.as_ref()
                .map(|c| format!("CAST({} AS VARCHAR)", quote(c)))
                .unwrap_or_else(|| "CAST(NULL AS VARCHAR)".into())
        };
        let select = [
            format!("CAST({} AS VARCHAR)", quote(&e.area)),
            format!("CAST({} AS BIGINT)", quote(&e.year)),
            text(&e.breakdown),
            text(&e.breakdown_value),
            format!("CAST({} AS DOUBLE)", e.value),
            format!("CAST({} AS DOUBLE)", e.lower),
            format!("CAST({} AS DOUBLE)", e.upper),
            e.sample_size
                .as_ref()
                .map(|s| format!("CAST({s} AS BIGINT)"))
                .unwrap_or_else(|| "CAST(NULL AS BIGINT)".into()),
        ];
        let filter = e.filter.clone().unwrap_or_else(|| "true".into());
        let sql = format!("SELECT {} FROM {t} WHERE {filter}", select.join(", "));
        let at = |k: &str, m: String| {
            format!(
                "{}:{}: estimate.{k}: {m}",
                ind.file,
                ind.line(&format!("estimate.{k}"))
            )
        };
        let batches = self
            .engine
            .sql(&sql)
            .await
            .map_err(|x| at("value", x.to_string()))?;
        let levels = self.levels_of(ind);
        let mut seen: BTreeMap<(usize, String, String, String), usize> = BTreeMap::new();
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for b in &batches {
            let area = strings(b, 0);
            let year = ints(b, 1);
            let bk = strings(b, 2);
            let bv = strings(b, 3);
            let (v, lo, up) = (floats(b, 4), floats(b, 5), floats(b, 6));
            let n = ints(b, 7);
            for r in 0..b.num_rows() {
                if area.is_null(r) || year.is_null(r) {
                    continue;
                }
                let a = area.value(r);
                let Some(code) = e.areas.get(a) else {
                    errors.push(at(
                        "areas",
                        format!("area `{a}` is not mapped to a territory code"),
                    ));
                    continue;
                };
                let Some((level, _)) = self.places.nodes.get(code) else {
                    errors.push(at(
                        "areas",
                        format!("`{code}` is not a territory of the hierarchy"),
                    ));
                    continue;
                };
                if !levels.contains(level) {
                    continue;
                }
                let breakdown = match (bk.is_null(r), e.total.as_deref()) {
                    (true, _) => String::new(),
                    (false, Some(total)) if bk.value(r) == total => String::new(),
                    (false, _) => {
                        let var = bk.value(r);
                        let dim = e.dimensions.get(var).map_or(var, |s| s.as_str());
                        let val = if bv.is_null(r) { MISSING } else { bv.value(r) };
                        model::breakdown_key(&[(dim, val)])
                    }
                };
                let y = year.value(r);
                let (first, last) = (
                    self.project.config.periods.first,
                    self.project.config.periods.last,
                );
                if first.is_some_and(|f| y < i64::from(f)) || last.is_some_and(|l| y > i64::from(l))
                {
                    continue;
                }
                let period = y.to_string();
                let key = (*level, code.clone(), period.clone(), breakdown.clone());
                if seen.insert(key, r).is_some() {
                    errors.push(at(
                        "table",
                        format!(
                            "two estimates for {a}, {period}, `{}`",
                            if breakdown.is_empty() {
                                "total"
                            } else {
                                &breakdown
                            }
                        ),
                    ));
                    continue;
                }
                let opt = |a: &Float64Array| (!a.is_null(r)).then(|| a.value(r));
                let mut flags = BTreeSet::new();
                flags.insert("estimate");
                rows.push(Row {
                    indicator: ind.id.clone(),
                    level: *level,
                    territory: code.clone(),
                    period,
                    breakdown,
                    numerator: None,
                    denominator: None,
                    value: opt(&v),
                    lower: opt(&lo),
                    upper: opt(&up),
                    sample_size: (!n.is_null(r)).then(|| n.value(r)),
                    change: None,
                    flags,
                    model: None,
                });
            }
        }
        if !errors.is_empty() {
            errors.sort();
            errors.dedup();
            return Err(errors.join("\n"));
        }
        Ok(rows)
    }
}

/// Column `i` as plain UTF-8 (text in DataFusion results may come as string views).
fn strings(b: &RecordBatch, i: usize) -> StringArray {
    let c = b.column(i);
    match c.data_type() {
        DataType::Utf8 => c.as_string::<i32>().clone(),
        _ => arrow::compute::cast(c, &DataType::Utf8)
            .map(|a| a.as_string::<i32>().clone())
            .unwrap_or_else(|_| StringArray::new_null(c.len())),
    }
}

/// Column `i` as f64 (casting integers and decimals).
fn floats(b: &RecordBatch, i: usize) -> Float64Array {
    let c = b.column(i);
    arrow::compute::cast(c, &DataType::Float64)
        .map(|a| a.as_primitive::<arrow::datatypes::Float64Type>().clone())
        .unwrap_or_else(|_| Float64Array::new_null(c.len()))
}

/// Column `i` as i64.
fn ints(b: &RecordBatch, i: usize) -> arrow::array::Int64Array {
    let c = b.column(i);
    arrow::compute::cast(c, &DataType::Int64)
        .map(|a| a.as_primitive::<arrow::datatypes::Int64Type>().clone())
        .unwrap_or_else(|_| arrow::array::Int64Array::new_null(c.len()))
}

fn clean(e: &datafusion::error::DataFusionError) -> String {
    e.to_string()
        .trim_start_matches("Error during planning: ")
        .trim_start_matches("Schema error: ")
        .to_string()
}

/// The dimensions of a breakdown key, in the key's (sorted) order.
fn breakdown_dims(key: &str) -> Vec<String> {
    if key.is_empty() {
        return Vec::new();
    }
    key.split('|')
        .filter_map(|p| p.split_once('=').map(|(d, _)| d.to_string()))
        .collect()
}

/// The key restricted to some dimensions.
fn restrict_key(key: &str, dims: &[String]) -> String {
    if key.is_empty() {
        return String::new();
    }
    key.split('|')
        .filter(|p| {
            p.split_once('=')
                .is_some_and(|(d, _)| dims.iter().any(|x| x == d))
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The same period one year earlier, if the label is one datalab writes.
fn year_before(period: &str) -> Option<String> {
    let y: i32 = period.get(..4)?.parse().ok()?;
    Some(format!("{}{}", y - 1, &period[4..]))
}

/// The cube's row order: by series, territory, breakdown and period.
fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (&a.indicator, a.level, &a.territory, &a.breakdown, &a.period).cmp(&(
            &b.indicator,
            b.level,
            &b.territory,
            &b.breakdown,
            &b.period,
        ))
    });
}

/// Forecast rows of an indicator's own series (not its need series): every territory's total
/// (and each breakdown's series with `breakdowns = true`), `horizon` periods after the last
/// observed one, coherent across the territory tree where the observations are.
fn forecast_rows(
    rows: &[Row],
    ind: &Indicator,
    h: &Hierarchy,
    cfg: &ForecastConfig,
    f: &dyn crate::Forecaster,
) -> Result<Vec<Row>, String> {
    use crate::forecast::{Observed, Settings, forecast_group};
    let horizon = cfg
        .horizon
        .periods(ind.period)
        .map_err(|e| format!("datalab.toml: key `forecast.horizon` for `{}`: {e}", ind.id))?;
    let settings = Settings {
        horizon,
        method: cfg.method,
        level: cfg.level,
        reconcile: cfg.reconcile,
    };
    let mut groups: BTreeMap<&str, Vec<Observed>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.indicator == ind.id && (cfg.breakdowns || r.breakdown.is_empty()))
    {
        groups.entry(&r.breakdown).or_default().push(Observed {
            level: r.level,
            territory: &r.territory,
            period: &r.period,
            numerator: r.numerator,
            denominator: r.denominator,
            value: r.value,
        });
    }
    let group = crate::forecast::Group {
        period: ind.period,
        factor: ind.factor,
        ratio: ind.has_denominator(),
    };
    let mut out = Vec::new();
    for (breakdown, observed) in groups {
        for t in forecast_group(f, &settings, &group, h, &observed)
            .map_err(|e| format!("{}: {e}", ind.file))?
        {
            let fc = &t.forecast;
            for (i, period) in t.periods.iter().enumerate() {
                let mut flags = BTreeSet::from(["forecast"]);
                if fc.reconciled {
                    flags.insert("reconciled");
                }
                if fc.value[i].is_none() {
                    flags.insert("zero_denominator");
                }
                out.push(Row {
                    indicator: ind.id.clone(),
                    level: t.level,
                    territory: t.territory.clone(),
                    period: period.clone(),
                    breakdown: breakdown.to_string(),
                    numerator: fc.numerator[i],
                    denominator: fc.denominator[i],
                    value: fc.value[i],
                    lower: fc.lower[i],
                    upper: fc.upper[i],
                    sample_size: None,
                    change: None,
                    flags,
                    model: Some(fc.model.clone()),
                });
            }
        }
    }
    Ok(out)
}

/// Year-on-year change of the value, per indicator, territory and breakdown.
fn add_change(rows: &mut [Row], _period: IndicatorPeriod) {
    let index: HashMap<(String, usize, String, String, String), Option<f64>> = rows
        .iter()
        .map(|r| {
            (
                (
                    r.indicator.clone(),
                    r.level,
                    r.territory.clone(),
                    r.breakdown.clone(),
                    r.period.clone(),
                ),
                r.value,
            )
        })
        .collect();
    for r in rows.iter_mut() {
        let Some(prev) = year_before(&r.period) else {
            continue;
        };
        let key = (
            r.indicator.clone(),
            r.level,
            r.territory.clone(),
            r.breakdown.clone(),
            prev,
        );
        if let (Some(Some(before)), Some(now)) = (index.get(&key), r.value) {
            r.change = Some(now - before);
        }
    }
}

fn rows_batch(rows: &[Row], h: &Hierarchy) -> Result<RecordBatch, IngestError> {
    let mut cols: Vec<StringBuilder> = (0..5).map(|_| StringBuilder::new()).collect();
    let mut nums: Vec<Float64Builder> = (0..5).map(|_| Float64Builder::new()).collect();
    let mut n = Int64Builder::new();
    let mut change = Float64Builder::new();
    let mut flags = StringBuilder::new();
    let mut forecast = arrow::array::BooleanBuilder::new();
    let mut model = StringBuilder::new();
    for r in rows {
        cols[0].append_value(&r.indicator);
        cols[1].append_value(&r.territory);
        cols[2].append_value(h.levels.get(r.level).map_or("", |s| s.as_str()));
        cols[3].append_value(&r.period);
        cols[4].append_value(&r.breakdown);
        for (b, v) in nums
            .iter_mut()
            .zip([r.numerator, r.denominator, r.value, r.lower, r.upper])
        {
            b.append_option(v);
        }
        n.append_option(r.sample_size);
        change.append_option(r.change);
        flags.append_value(r.flags.iter().copied().collect::<Vec<_>>().join(","));
        forecast.append_value(r.model.is_some());
        model.append_option(r.model.as_deref());
    }
    let mut arrays: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    arrays.extend(nums.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.push(Arc::new(n.finish()));
    arrays.push(Arc::new(change.finish()));
    arrays.push(Arc::new(flags.finish()));
    arrays.push(Arc::new(forecast.finish()));
    arrays.push(Arc::new(model.finish()));
    RecordBatch::try_new(cube_schema(), arrays).map_err(|e| step_err(STEP, false, e))
}

fn territories_batch(h: &Hierarchy) -> RecordBatch {
    let mut code = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut level = StringBuilder::new();
    let mut depth = Int64Builder::new();
    let mut parent = StringBuilder::new();
    for t in &h.nodes {
        code.append_value(&t.code);
        name.append_value(&t.name);
        level.append_value(h.levels.get(t.level).map_or("", |s| s.as_str()));
        depth.append_value(t.level as i64);
        parent.append_option(t.parent.as_deref());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Utf8, false),
        // Not `name`: the identifier guard would take zone names for people's names.
        Field::new("label", DataType::Utf8, false),
        Field::new("level", DataType::Utf8, false),
        Field::new("depth", DataType::Int64, false),
        Field::new("parent", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(code.finish()),
            Arc::new(name.finish()),
            Arc::new(level.finish()),
            Arc::new(depth.finish()),
            Arc::new(parent.finish()),
        ],
    )
    .expect("columns match the schema")
}

fn indicators_batch(list: &[Indicator]) -> RecordBatch {
    let names = [
        "id",
        "series",
        "title_it",
        "title_en",
        "description_it",
        "description_en",
        "unit_it",
        "unit_en",
        "kind",
        "direction",
        "topics",
        "period",
        "breakdowns",
        "levels",
        "tables",
        "source_notes_it",
        "source_notes_en",
        "file",
    ];
    let mut cols: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
    let mut factor = Float64Builder::new();
    let mut push =
        |i: &Indicator, series: &str, name: (&str, &str), unit: (&str, &str), factor_v: f64| {
            let breakdowns: Vec<String> = i.breakdowns.iter().map(|b| b.join("×")).collect();
            let vals = [
                i.id.as_str(),
                series,
                name.0,
                name.1,
                &i.description.it,
                &i.description.en,
                unit.0,
                unit.1,
                match i.kind {
                    model::IndicatorKind::Output => "output",
                    model::IndicatorKind::Outcome => "outcome",
                },
                match i.direction {
                    model::Direction::HigherIsBetter => "higher_is_better",
                    model::Direction::LowerIsBetter => "lower_is_better",
                    model::Direction::Neutral => "neutral",
                },
                &i.topics.join(","),
                i.period.name(),
                &breakdowns.join(","),
                &i.levels.join(","),
                &i.tables().join(","),
                &i.source_notes.it,
                &i.source_notes.en,
                &i.file,
            ];
            for (b, v) in cols.iter_mut().zip(vals) {
                b.append_value(v);
            }
            factor.append_value(factor_v);
        };
    for i in list {
        push(
            i,
            &i.id,
            (&i.name.it, &i.name.en),
            (&i.unit.it, &i.unit.en),
            i.factor,
        );
        if let Some(n) = &i.need {
            let cov_it = format!("{}: copertura ({} per 100)", i.name.it, n.supply_unit.it);
            let cov_en = format!("{}: coverage ({} per 100)", i.name.en, n.supply_unit.en);
            push(
                i,
                &format!("{}:coverage", i.id),
                (&cov_it, &cov_en),
                ("per 100", "per 100"),
                100.0,
            );
            let gap_it = format!("{}: {} mancanti", i.name.it, n.supply_unit.it);
            let gap_en = format!("{}: {} missing", i.name.en, n.supply_unit.en);
            push(
                i,
                &format!("{}:gap", i.id),
                (&gap_it, &gap_en),
                (&n.supply_unit.it, &n.supply_unit.en),
                1.0,
            );
        }
    }
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, false))
        .collect();
    fields.push(Field::new("factor", DataType::Float64, false));
    let mut arrays: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    arrays.push(Arc::new(factor.finish()));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("columns match the schema")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_counts_and_sums_are_additive() {
        for v in [
            "count(*)",
            "COUNT(1)",
            "sum(amount)",
            "sum(places * 2)",
            "count(person)",
        ] {
            assert!(is_additive(v), "{v}");
        }
        for v in [
            "count(DISTINCT person)",
            "median(days)",
            "sum(x) / count(*)",
            "gini_w(eq_income, persons)",
            "sum(x) FILTER (WHERE x > 0)",
            "avg(x)",
        ] {
            assert!(!is_additive(v), "{v}");
        }
    }

    #[test]
    fn only_order_insensitive_aggregates_run_in_parallel() {
        for v in [
            "median(days)",
            "count(DISTINCT person)",
            "gini_w(x, w)",
            "quantile_w(x, w, 0.5)",
        ] {
            assert!(order_insensitive(v), "{v}");
        }
        for v in [
            "avg(isee)",
            "sum(x) / count(*)",
            "stddev(x)",
            "median(x) + avg(y)",
        ] {
            assert!(!order_insensitive(v), "{v}");
        }
    }

    #[test]
    fn sums_are_made_exact_and_counts_left_alone() {
        assert_eq!(
            exact_sum("sum(amount)"),
            "sum(CAST((amount) AS DECIMAL(38, 10)))"
        );
        assert_eq!(
            exact_sum("SUM(places * 2)"),
            "sum(CAST((places * 2) AS DECIMAL(38, 10)))"
        );
        assert_eq!(exact_sum("count(*)"), "count(*)");
    }

    #[test]
    fn breakdown_keys_restrict_and_split() {
        assert_eq!(
            breakdown_dims("age_band=65-74|sex=F"),
            vec!["age_band", "sex"]
        );
        assert_eq!(
            restrict_key("age_band=65-74|sex=F", &["sex".into()]),
            "sex=F"
        );
        assert_eq!(restrict_key("", &[]), "");
        assert_eq!(year_before("2024-Q3").as_deref(), Some("2023-Q3"));
        assert_eq!(year_before("2024").as_deref(), Some("2023"));
    }
}
