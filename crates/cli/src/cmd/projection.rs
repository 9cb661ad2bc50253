//! `datalab projection`: the cohort-component population projection of a scenario
//! (`projections/NAME.toml`, or the built-in baseline) from the register in the warehouse, with
//! its components and projected demand. Every run writes its tables lab-side, atomically, to
//! `.datalab/projections/SCENARIO/`, and prints one view.

use crate::{Format, ProjectArg};
use anyhow::Context as _;
use engine::Engine;
use forecast::projection::{
    self, ByAge, DemandProjection, OPEN_AGE, Projection, Rates, Sex, publish, scenario, warehouse,
};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Scenario: `projections/NAME.toml` (default: `projections/baseline.toml`, or the built-in
    /// baseline that keeps the observed rates).
    pub scenario: Option<String>,
    /// Last year to project (default: the scenario's `horizon`, or the base year + 11).
    #[arg(long)]
    pub to: Option<i32>,
    /// What to print: the components of change by year and zone, the population by year,
    /// zone, sex and single age (100 = 100 and over), a demand, or the rates.
    #[arg(long, value_enum, default_value = "components")]
    pub view: View,
    /// The demand to print (a `[[demand]]` of the scenario; implies `--view demand`).
    #[arg(long)]
    pub demand: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Round every printed number with the disclosure gate's random rounding (the project's
    /// rounding base, draws keyed by the lab's disclosure secret): for tables meant to leave
    /// the lab. Rates cannot be rounded.
    #[arg(long)]
    pub rounded: bool,
}

/// The table printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Components,
    Population,
    Demand,
    Rates,
}

/// A printed table: column names and rows of text and numbers.
struct Out {
    columns: Vec<&'static str>,
    /// Leading text cells, then numbers.
    rows: Vec<(Vec<String>, Vec<f64>)>,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let scenario = scenario::load(&project.root, args.scenario.as_deref())?;
    let view = if args.demand.is_some() {
        View::Demand
    } else {
        args.view
    };
    let demand_name = match &args.demand {
        Some(d) => d.clone(),
        None => scenario.demand[0].name.clone(),
    };
    if scenario.demand(&demand_name).is_none() {
        return Err(super::UsageError(format!(
            "scenario `{}` declares no demand `{demand_name}` (it has: {})",
            scenario.name,
            scenario
                .demand
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    if args.rounded && view == View::Rates {
        return Err(super::UsageError(
            "rates are not counts: --rounded applies to components, population and demand".into(),
        )
        .into());
    }
    let wh = super::query::built_warehouse(&project)?;
    let spinner = crate::progress::spinner(quiet, "reading the register");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (inputs, statuses) = rt.block_on(async {
        let engine = Engine::open(&wh).await?;
        let inputs =
            warehouse::read(&engine, scenario.base_year, scenario.estimation_years).await?;
        let mut statuses = Vec::new();
        for d in &scenario.demand {
            statuses.push(
                warehouse::read_status(&engine, inputs.base_year, &inputs.observed.zones, d)
                    .await?,
            );
        }
        anyhow::Ok((inputs, statuses))
    })?;
    spinner.finish_and_clear();
    let base_year = inputs.base_year;
    let to = args
        .to
        .or(scenario.horizon)
        .unwrap_or(base_year + scenario::DEFAULT_HORIZON_YEARS);
    if to <= base_year {
        return Err(super::UsageError(format!(
            "--to {to} must come after the base year {base_year}"
        ))
        .into());
    }
    let rates = projection::estimate(&inputs.observed)?;
    let assumptions = scenario.assumptions(&rates);
    let bar = years_bar(quiet, (to - base_year) as u64);
    let result = projection::project(
        inputs.base.clone(),
        base_year,
        to,
        &rates,
        &assumptions,
        &mut |y| {
            bar.set_message(y.to_string());
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    let demands: Vec<DemandProjection> = statuses
        .iter()
        .map(|s| projection::demand::project_demand(s, &result))
        .collect();

    // lab-side tables, written together
    let dir = project.data_dir().join("projections").join(&scenario.name);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("components.csv".into(), csv(&components(&result))?),
        ("population.csv".into(), csv(&population(&result))?),
        ("rates.csv".into(), csv(&rates_table(&rates))?),
    ];
    for d in &demands {
        files.push((format!("demand_{}.csv", d.name), csv(&demand(d))?));
    }
    let summary = serde_json::json!({
        "format_version": 1,
        "scenario": scenario.name,
        "title": scenario.title,
        "file": scenario.file,
        "base_year": base_year,
        "horizon": to,
        "estimated_from": rates.years,
        "zones": result.zones.len(),
        "assumptions": {
            "fertility": assumptions.fertility,
            "mortality": assumptions.mortality,
            "emigration": assumptions.emigration,
            "immigration": assumptions.immigration,
            "internal": assumptions.internal,
        },
        "tfr_observed": rates.tfr(),
        "male_share_at_birth": rates.male_share,
        "kannisto": rates.city.kannisto.iter().zip(["M", "F"]).map(|(k, s)| {
            (s, k.map(|k| serde_json::json!({"a": k.a, "b": k.b})))
        }).collect::<std::collections::BTreeMap<_, _>>(),
        "shrinkage": rates.shrinkage.iter().map(|(c, s)| {
            (c.to_string(), serde_json::json!({"mean": s.mean, "variance": s.variance}))
        }).collect::<std::collections::BTreeMap<_, _>>(),
        "events_spread_over_known_ages": inputs.spread_events,
        "events_left_out": inputs.unspread_events,
        "demand": demands.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
    });
    files.push((
        "projection.json".into(),
        serde_json::to_vec_pretty(&summary)?,
    ));
    write_folder(&dir, &files)?;

    let mut out = match view {
        View::Components => components(&result),
        View::Population => population(&result),
        View::Rates => rates_table(&rates),
        View::Demand => demand(
            demands
                .iter()
                .find(|d| d.name == demand_name)
                .expect("checked above"),
        ),
    };
    if args.rounded {
        let policy = project::release::Policy::resolve(
            &project.config.disclosure,
            &project::release::PolicyConfig::default(),
        );
        let secret = disclosure::release::files::secret(&project.data_dir())?;
        let keyed: Vec<(String, f64)> = out
            .rows
            .iter()
            .flat_map(|(codes, values)| {
                let key = codes.join("|");
                values
                    .iter()
                    .enumerate()
                    .map(move |(i, v)| (format!("{key}|{i}"), *v))
            })
            .collect();
        let frame = format!("projection/{}/{view:?}/{demand_name}", scenario.name);
        let rounded = publish::round_rows(&frame, &keyed, policy.rounding_base, &secret);
        let mut it = rounded.into_iter();
        for (_, values) in &mut out.rows {
            for v in values.iter_mut() {
                *v = it.next().expect("one rounded value per value");
            }
        }
    }
    print(&out, args.format)?;
    if !quiet {
        let first: f64 = result.population[0].iter().map(ByAge::total).sum();
        let last: f64 = result
            .population
            .last()
            .map_or(0.0, |p| p.iter().map(ByAge::total).sum());
        eprintln!(
            "projected {} zones from {base_year} ({}) to {to} ({:.0}), rates from {}; tables in {}",
            result.zones.len(),
            crate::fmt::int(first as u64),
            last,
            rates
                .years
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        );
        if args.rounded {
            eprintln!("numbers rounded with the disclosure gate's random rounding");
        }
    }
    Ok(())
}

fn years_bar(quiet: bool, n: u64) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(n);
    pb.set_style(
        indicatif::ProgressStyle::with_template("projecting [{bar:30}] {pos}/{len} years {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb
}

fn components(p: &Projection) -> Out {
    let mut rows = Vec::new();
    for (k, comps) in p.components.iter().enumerate() {
        let year = p.base_year + k as i32 + 1;
        let mut city = [0.0; 9];
        for (z, c) in comps.iter().enumerate() {
            let start = p.population[k][z].total();
            let end = p.population[k + 1][z].total();
            let v = [
                start,
                c.births[0] + c.births[1],
                c.deaths.total(),
                c.immigrants.total(),
                c.emigrants.total(),
                c.in_moves.total(),
                c.out_moves.total(),
                end,
                projection::model::residual(&p.population[k][z], &p.population[k + 1][z], c),
            ];
            for (a, b) in city.iter_mut().zip(v) {
                *a += b;
            }
            rows.push((vec![year.to_string(), p.zones[z].clone()], v.to_vec()));
        }
        rows.push((vec![year.to_string(), "total".into()], city.to_vec()));
    }
    Out {
        columns: vec![
            "year",
            "zone",
            "population_start",
            "births",
            "deaths",
            "immigrants",
            "emigrants",
            "in_moves",
            "out_moves",
            "population_end",
            "residual",
        ],
        rows,
    }
}

fn population(p: &Projection) -> Out {
    let mut rows = Vec::new();
    for (year, pop) in p.years().zip(&p.population) {
        for (z, b) in pop.iter().enumerate() {
            for s in Sex::ALL {
                for x in 0..=OPEN_AGE {
                    rows.push((
                        vec![
                            year.to_string(),
                            p.zones[z].clone(),
                            s.code().into(),
                            x.to_string(),
                        ],
                        vec![b.get(s, x)],
                    ));
                }
            }
        }
    }
    Out {
        columns: vec!["year", "zone", "sex", "age", "population"],
        rows,
    }
}

fn demand(d: &DemandProjection) -> Out {
    let mut rows = Vec::new();
    for (year, values) in d.years.iter().zip(&d.values) {
        for (zone, v) in d.zones.iter().zip(values) {
            rows.push((
                vec![year.to_string(), zone.clone(), d.name.clone()],
                vec![*v],
            ));
        }
        rows.push((
            vec![year.to_string(), "total".into(), d.name.clone()],
            vec![values.iter().sum()],
        ));
    }
    Out {
        columns: vec!["year", "zone", "demand", "value"],
        rows,
    }
}

fn rates_table(r: &Rates) -> Out {
    let mut rows = Vec::new();
    for (z, zone) in r.zones.iter().enumerate() {
        for s in Sex::ALL {
            for x in 0..=OPEN_AGE {
                let fert = if s == Sex::Female {
                    r.fertility[z][x]
                } else {
                    0.0
                };
                rows.push((
                    vec![zone.clone(), s.code().into(), x.to_string()],
                    vec![
                        r.death[z].get(s, x),
                        r.emigration[z].get(s, x),
                        r.out_move[z].get(s, x),
                        fert,
                        r.immigrants[z].get(s, x),
                    ],
                ));
            }
        }
    }
    Out {
        columns: vec![
            "zone",
            "sex",
            "age",
            "death",
            "emigration",
            "out_move",
            "fertility",
            "immigrants",
        ],
        rows,
    }
}

/// A number as printed: integers without decimals, others with six.
fn number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

fn csv(out: &Out) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&out.columns)?;
    for (codes, values) in &out.rows {
        let mut rec: Vec<String> = codes.clone();
        rec.extend(values.iter().map(|v| number(*v)));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

fn print(out: &Out, format: Format) -> anyhow::Result<()> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::new(stdout.lock());
    let result = match format {
        Format::Csv => lock.write_all(&csv(out)?),
        Format::Json => {
            let rows: Vec<serde_json::Value> = out
                .rows
                .iter()
                .map(|(codes, values)| {
                    let mut m = serde_json::Map::new();
                    let n = codes.len();
                    for (i, c) in out.columns.iter().enumerate() {
                        let v = if i < n {
                            serde_json::Value::String(codes[i].clone())
                        } else {
                            serde_json::json!(values[i - n])
                        };
                        m.insert((*c).to_string(), v);
                    }
                    serde_json::Value::Object(m)
                })
                .collect();
            serde_json::to_writer_pretty(&mut lock, &rows)?;
            writeln!(lock)
        }
        Format::Text => {
            let cells: Vec<Vec<String>> = out
                .rows
                .iter()
                .map(|(c, v)| {
                    c.iter()
                        .cloned()
                        .chain(v.iter().map(|v| text_number(*v)))
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = (0..out.columns.len())
                .map(|i| {
                    cells
                        .iter()
                        .map(|r| r[i].len())
                        .chain([out.columns[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |r: &[String]| {
                r.iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:>w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            let head: Vec<String> = out.columns.iter().map(|c| c.to_string()).collect();
            let mut text = line(&head);
            text.push('\n');
            for r in &cells {
                text.push_str(&line(r));
                text.push('\n');
            }
            lock.write_all(text.as_bytes())
        }
    };
    // a closed stdout (`| head`) is not an error
    match result.and_then(|()| lock.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn text_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() < 1.0 {
        format!("{v:.6}")
    } else {
        format!("{v:.1}")
    }
}

/// Writes `files` into `dir` as one change: a sibling temporary folder, then swapped in (the
/// old folder, if any, is moved aside first and removed after).
fn write_folder(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let parent = dir.parent().context("a projection folder has a parent")?;
    std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old: PathBuf = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| tmp.display().to_string())?;
    for (f, bytes) in files {
        let p = tmp.join(f);
        std::fs::write(&p, bytes).with_context(|| p.display().to_string())?;
    }
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| dir.display().to_string())?;
    }
    std::fs::rename(&tmp, dir).with_context(|| dir.display().to_string())?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
