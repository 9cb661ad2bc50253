//! `datalab demo`: generate the synthetic city, build it, show what the lab now knows.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Work folder: the city is generated in DIR and its lab project is DIR/lab.
    #[arg(long, default_value = "datalab-demo")]
    pub dir: PathBuf,
    /// City size (1 = about 185,000 residents).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Do not start the dashboard at the end. Without a terminal (a script, CI) the demo never
    /// serves and ends after the summary.
    #[arg(long)]
    pub no_serve: bool,
    /// Where the dashboard listens at the end of the demo.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
}

const MARKER: &str = "synth.json";

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let opts = super::synth::options(args.dir.clone(), args.scale, args.seed, "2019-2024")?;
    let marker = args.dir.join(MARKER);
    let wanted = serde_json::json!({"scale": args.scale, "seed": args.seed, "years": "2019-2024", "datalab": env!("CARGO_PKG_VERSION")});
    let have: Option<serde_json::Value> = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    if have.as_ref() == Some(&wanted) && args.dir.join("lab/datalab.toml").is_file() {
        say(
            quiet,
            &format!(
                "1/4 reusing the synthetic city in {} (delete the folder to regenerate)",
                args.dir.display()
            ),
        );
    } else {
        say(
            quiet,
            &format!(
                "1/4 generating the synthetic city (scale {}, seed {}) in {}",
                args.scale,
                args.seed,
                args.dir.display()
            ),
        );
        let report = super::synth::generate(&opts, quiet)?;
        std::fs::write(&marker, serde_json::to_string_pretty(&wanted)?)?;
        say(
            quiet,
            &format!(
                "    {} residents, {} households, {} raw files with identifiers under custodian/",
                crate::fmt::int(report.residents_last_year),
                crate::fmt::int(report.households_last_year),
                report
                    .files
                    .iter()
                    .filter(|(p, ..)| p.starts_with("custodian"))
                    .count()
            ),
        );
    }
    say(
        quiet,
        "2/5 custodian: the city's key (shared sealed with the labour agency), pseudonymization into lab/data/",
    );
    match super::synth::custodian_step(&args.dir, quiet)? {
        Some(done) if !quiet => crate::custodian::print(&done),
        Some(_) => {}
        None => say(quiet, "    unchanged since the last run"),
    }
    let lab = args.dir.join("lab");
    say(
        quiet,
        &format!(
            "3/5 building the lab project {} (pseudonymized data only)",
            lab.display()
        ),
    );
    let project = super::load_project(&lab)?;
    let registry = import_registry(&args.dir, &lab)?;
    if let Some(summary) = &registry {
        say(quiet, &format!("    registry: {summary}"));
    }
    let report = super::build::build(&project, false, None, quiet)?;
    say(quiet, "4/5 what the lab knows now");
    let figures = headline(&project)?;
    if !quiet {
        eprintln!();
        eprintln!(
            "  {:<16} {:>12} {:>12} {:>12}",
            "source", "rows in", "loaded", "quarantined"
        );
        for s in report.sources.iter().filter(|s| !s.derived) {
            eprintln!(
                "  {:<16} {:>12} {:>12} {:>12}",
                s.source,
                crate::fmt::int(s.rows_in),
                crate::fmt::int(s.rows_loaded),
                crate::fmt::int(s.rows_quarantined)
            );
        }
        eprintln!();
        for (label, value) in &figures {
            eprintln!("  {label:<52} {value}");
        }
    }
    say(
        quiet,
        "5/5 the disclosure gate: the annual public release, checked by the attacker",
    );
    let released = disclosure::release::run(
        &project,
        "annual",
        &disclosure::release::Options {
            released_by: "datalab demo".into(),
            at: engine::now(),
        },
    )?;
    let attacked = disclosure::release::attack(std::slice::from_ref(&released.dir))?;
    if !attacked.breaches.is_empty() {
        anyhow::bail!(
            "the attacker broke {} cells of the demo's release",
            attacked.breaches.len()
        );
    }
    if !quiet {
        let log = &released.log;
        for o in &log.outputs {
            eprintln!(
                "  {:<40} {:>6} rows  {:<10} {} primary, {} secondary suppressions",
                o.name, o.rows, o.method, o.primary, o.secondary
            );
        }
        eprintln!(
            "  attacker: {} suppressed cells, {} breaches; released to {}",
            attacked.suppressed_cells,
            attacked.breaches.len(),
            released.dir.display()
        );
        let p = lab.display();
        eprintln!(
            "\ndone in {:.1}s. Try next:",
            started.elapsed().as_secs_f64()
        );
        eprintln!("  datalab status --project {p}");
        eprintln!(
            "  datalab query --project {p} \"SELECT zone, COUNT(*) AS residents FROM register WHERE ref_date = '2024-12-31' GROUP BY zone ORDER BY zone\""
        );
        eprintln!(
            "  datalab query --project {p} \"SELECT rule, COUNT(*) FROM quarantine.isee GROUP BY rule\""
        );
        eprintln!(
            "  datalab query --project {p} \"SELECT * FROM link_quality WHERE metric = 'linked_to_spine' AND year = 2024\""
        );
        eprintln!("  datalab scan {p}   (finds no identifier in the lab folder)");
        eprintln!(
            "  datalab query --project {p} --format csv \"SELECT * FROM quarantine.social_cases LIMIT 5\""
        );
        eprintln!(
            "  edit {p}/sources/isee.toml, then `datalab build --project {p}`: only isee is rebuilt"
        );
        eprintln!("  datalab indicators list --project {p}");
        eprintln!(
            "  datalab query --project {p} \"SELECT territory, value FROM cube WHERE indicator = 'at_risk_of_poverty_isee' AND territory_level = 'zone' AND period = '2024' AND breakdown = '' ORDER BY value DESC\""
        );
        eprintln!(
            "  datalab indicators benchmark home_care_users_65 --project {p} --level zone --against municipality"
        );
        eprintln!(
            "  datalab indicators needs elderly_80_alone_home_care_need --project {p} --level zone"
        );
        eprintln!("  datalab attack {p}/releases/annual");
        eprintln!(
            "  datalab export opendata --project {p} --out {}/opendata   (CSV, JSON, SDMX-CSV, DCAT-AP_IT)",
            args.dir.display()
        );
        eprintln!(
            "  datalab export datapacks --project {p} --out {}/packs   (per district: CSV, XLSX, Frictionless, README)",
            args.dir.display()
        );
        eprintln!(
            "  datalab registry search --project {p} \"assistenza domiciliare anziani\" --zone Z05"
        );
        eprintln!(
            "  datalab registry needs --project {p} --indicator elderly_80_alone_home_care_need --risk non_self_sufficiency --target elderly"
        );
        eprintln!(
            "  datalab registry check --project {p}   (planted duplicates and stale records)"
        );
        eprintln!(
            "  datalab query --project {p} \"SELECT kind, count(*) FROM registry_organizations GROUP BY kind\""
        );
        eprintln!(
            "  datalab release partner --project {p}   (waits for an output checker: approve with --approve)"
        );
        eprintln!(
            "  datalab user add anna --role analyst --project {p}   (then log in on the dashboard's Lab page)"
        );
        eprintln!(
            "  datalab forecast --project {p} social_service_users --territory Q1 --horizon 3y --backtest"
        );
        eprintln!(
            "  datalab query --project {p} \"SELECT territory, period, value, lower, upper, model FROM cube WHERE forecast AND indicator = 'social_service_users' AND territory_level = 'district' ORDER BY territory, period\"   (the build's forecasts, coherent across zones and districts)"
        );
        eprintln!(
            "  datalab projection --project {p} --to 2035 --demand elderly_80_alone   (people aged 80+ living alone per zone)"
        );
        eprintln!(
            "  datalab simulate --project {p} adi_soglie_2025   (a reform of the Assegno di inclusione vs its baseline)"
        );
        eprintln!("  datalab serve --project {p}   (the API and the dashboard)");
    }
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if args.no_serve || !interactive {
        return Ok(());
    }
    let state = server::state(project, false).map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let opts = server::ServeOptions {
        addr: args.addr,
        secure_cookies: false,
    };
    rt.block_on(server::serve(state, &opts, |addr| {
        eprintln!(
            "\nthe dashboard: http://{addr}/it/ (English: http://{addr}/en/), the API: http://{addr}/api/openapi.json; Ctrl-C stops"
        );
    }))?;
    Ok(())
}

/// Loads the city's registry export (`DIR/registry/`) into the lab's `registry.sqlite` when the
/// export is newer than the registry (or there is none yet), so that the build copies it into the
/// warehouse. Returns what was loaded.
fn import_registry(dir: &std::path::Path, lab: &std::path::Path) -> anyhow::Result<Option<String>> {
    let export = dir.join("registry");
    let db = super::registry::registry_path(lab);
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest = std::fs::read_dir(&export)
        .map(|it| {
            it.filter_map(|e| e.ok().and_then(|e| modified(&e.path())))
                .max()
        })
        .ok()
        .flatten();
    let Some(newest) = newest else {
        return Ok(None);
    };
    if modified(&db).is_some_and(|t| t >= newest) {
        return Ok(Some("unchanged since the last run".into()));
    }
    // into a fresh file first, so that a failed or interrupted import leaves the last registry
    let fresh = db.with_extension("sqlite.new");
    let _ = std::fs::remove_file(&fresh);
    let imported = {
        let mut reg = registry::Registry::open(&fresh)?;
        reg.import_csv(&export, "datalab demo")?
    };
    std::fs::rename(&fresh, &db)?;
    let n = |t: &str| imported.counts.get(t).copied().unwrap_or(0);
    Ok(Some(format!(
        "{} organizations, {} services at {} locations loaded into {}",
        n("organizations"),
        n("services"),
        n("locations"),
        db.display()
    )))
}

fn say(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

/// A few headline figures, computed with SQL on the fresh snapshots.
fn headline(project: &project::Project) -> anyhow::Result<Vec<(String, String)>> {
    let sql = "WITH last AS (SELECT * FROM register WHERE ref_date = (SELECT MAX(ref_date) FROM register))
        SELECT CAST(MAX(date_part('year', ref_date)) AS BIGINT) AS year,
               COUNT(*) AS residents,
               COUNT(DISTINCT household_pid) AS households,
               AVG(CASE WHEN date_part('year', ref_date) - birth_year >= 65 THEN 1.0 ELSE 0.0 END) AS share_65,
               AVG(CASE WHEN citizenship <> 'ITA' THEN 1.0 ELSE 0.0 END) AS share_foreign,
               COUNT(DISTINCT zone) AS zones
        FROM last";
    let batches = super::query::query(project, sql)?;
    let b = batches
        .first()
        .ok_or_else(|| anyhow::anyhow!("the register is empty"))?;
    let int = |i: usize| b.column(i).as_primitive::<Int64Type>().value(0);
    let float = |i: usize| b.column(i).as_primitive::<Float64Type>().value(0);
    let year = int(0);
    let mut out = vec![
        (
            format!("residents at 31/12/{year}"),
            crate::fmt::int(int(1) as u64),
        ),
        ("households".to_string(), crate::fmt::int(int(2) as u64)),
        (
            "aged 65 and over".to_string(),
            format!("{:.1}%", 100.0 * float(3)),
        ),
        (
            "foreign citizens".to_string(),
            format!("{:.1}%", 100.0 * float(4)),
        ),
        ("statistical zones".to_string(), int(5).to_string()),
    ];
    let links = super::query::query(
        project,
        "SELECT source, SUM(records) AS records, SUM(count) AS linked FROM link_quality
         WHERE metric = 'linked_to_spine' AND source <> 'register' GROUP BY source ORDER BY source",
    )?;
    for b in &links {
        let names = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
        for r in 0..b.num_rows() {
            let records = b.column(1).as_primitive::<Int64Type>().value(r);
            let linked = b.column(2).as_primitive::<Int64Type>().value(r);
            out.push((
                format!(
                    "{} records linked to a resident",
                    names.as_string::<i32>().value(r)
                ),
                format!(
                    "{:.1}% of {}",
                    100.0 * linked as f64 / records.max(1) as f64,
                    crate::fmt::int(records as u64)
                ),
            ));
        }
    }
    let isee = super::query::query(
        project,
        "SELECT CAST(date_part('year', submission_date) AS BIGINT) AS y, COUNT(*) AS n,
                AVG(CASE WHEN isee < 9360 THEN 1.0 ELSE 0.0 END) AS low
         FROM isee GROUP BY 1 ORDER BY 1 DESC LIMIT 1",
    )?;
    if let Some(b) = isee
        .first()
        .filter(|b| b.num_rows() > 0 && !b.column(2).is_null(0))
    {
        let y = b.column(0).as_primitive::<Int64Type>().value(0);
        out.push((
            format!("ISEE declarations in {y}"),
            crate::fmt::int(b.column(1).as_primitive::<Int64Type>().value(0) as u64),
        ));
        out.push((
            format!("  of which ISEE under 9,360 euro ({y})"),
            format!(
                "{:.1}%",
                100.0 * b.column(2).as_primitive::<Float64Type>().value(0)
            ),
        ));
    }
    // From the cube: a few library indicators for the whole city in the last year.
    let cube = super::query::query(
        project,
        "SELECT i.title_en, i.unit_en, c.period, c.value, c.lower, c.upper, c.territory_level
         FROM cube c JOIN indicators i ON c.indicator = i.series
         WHERE c.breakdown = '' AND NOT c.forecast AND c.indicator IN ('old_age_dependency_ratio', 'at_risk_of_poverty_isee',
               'gini_isee', 'min_income_take_up', 'home_care_users_65', 'social_users_in_gol', 'smoking')
           AND c.territory_level = 'municipality'
           AND c.period = (SELECT max(period) FROM cube c2 WHERE c2.indicator = c.indicator AND NOT c2.forecast)
         ORDER BY c.indicator",
    )?;
    let (n, series, forecasts) = {
        let all = super::query::query(
            project,
            "SELECT count(*), count(DISTINCT indicator), \
             CAST(sum(CASE WHEN forecast THEN 1 ELSE 0 END) AS BIGINT) FROM cube",
        )?;
        let b = all
            .first()
            .ok_or_else(|| anyhow::anyhow!("the cube is empty"))?;
        (
            b.column(0).as_primitive::<Int64Type>().value(0),
            b.column(1).as_primitive::<Int64Type>().value(0),
            b.column(2).as_primitive::<Int64Type>().value(0),
        )
    };
    out.push((
        "indicator cube".to_string(),
        format!(
            "{} values of {series} series, of which {} forecasts (flagged)",
            crate::fmt::int(n as u64),
            crate::fmt::int(forecasts as u64)
        ),
    ));
    for b in &cube {
        let text = |i: usize| arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8);
        let (name, unit, period, level) = (text(0)?, text(1)?, text(2)?, text(6)?);
        let f = |i: usize| b.column(i).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            if f(3).is_null(r) {
                continue;
            }
            let interval = if f(4).is_null(r) {
                String::new()
            } else {
                format!(" ({:.1}-{:.1})", f(4).value(r), f(5).value(r))
            };
            out.push((
                format!(
                    "  {} ({}, {})",
                    name.as_string::<i32>().value(r),
                    period.as_string::<i32>().value(r),
                    level.as_string::<i32>().value(r)
                ),
                format!(
                    "{:.1}{interval} {}",
                    f(3).value(r),
                    unit.as_string::<i32>().value(r)
                ),
            ));
        }
    }
    Ok(out)
}
