//! `datalab registry ...`: the registry of providers, services, programmes and projects
//! (`PROJECT/registry.sqlite`): import and export, quality checks, the programme's
//! classification tables and network, service overlaps, search, and needs vs supply.

use std::path::{Path, PathBuf};

use crate::registry_step::REGISTRY_FILE;
use anyhow::Context;
use chrono::NaiveDate;
use registry::programme::{self, Cell, Table};
use registry::supply::{SupplyFilter, ZoneNeed};
use registry::{Registry, codes::SocialRisk, codes::TargetGroup};

use crate::{Format, ProjectArg, env};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load providers and services (HSDS JSON or datapackage, plain CSV) or a programme
    /// (WeCaRe) into the registry, all or nothing.
    Import(ImportArgs),
    /// Write the registry as HSDS (a `.json` file, or a datapackage folder) or plain CSV.
    Export(ExportArgs),
    /// Report possible duplicate organizations and records not verified for a while (exit
    /// code 1 with `--strict` when any is found).
    Check(CheckArgs),
    /// A programme's classification tables (projects per category, class and instrument,
    /// population served, quadrant, thematic area) and its outcome terms.
    Tables(ProgrammeArgs),
    /// The organization-project network of a programme: degree, shared partners, clusters.
    Network(ProgrammeArgs),
    /// Services of different providers on the same zone, target group and social risk.
    Overlaps(OverlapArgs),
    /// Search the services as the public map does: Italian free text, need, target group,
    /// zone, age, open now, near a point; ranked (BM25F).
    Search(SearchArgs),
    /// Needs vs supply per zone: people in need (a cube indicator) against the registry's
    /// places and operators for a social risk; coverage, gap and zones with no service within
    /// reach.
    Needs(NeedsArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// HSDS 3.0: a `.json` file of services, or a tabular datapackage folder.
    Hsds,
    /// The registry's own CSV folder (one file per table).
    Csv,
    /// The WeCaRe Measure 1 programme folder (projects, managing bodies, interventions,
    /// thematic areas).
    Wecare,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum)]
    pub format: ImportFormat,
    /// The file or folder to load.
    pub path: PathBuf,
    /// Who makes the change, for the registry's history (default: DATALAB_USER or USER).
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// HSDS 3.0: JSON when OUT ends in `.json`, otherwise a tabular datapackage folder.
    Hsds,
    /// The registry's own CSV folder.
    Csv,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Records verified longer ago than this many months are stale.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// The date to judge staleness at (default: today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Exit with code 1 when anything is found.
    #[arg(long)]
    pub strict: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct ProgrammeArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The programme (default: the only one in the registry).
    #[arg(long)]
    pub programme: Option<String>,
    /// The date outcome terms are judged at (default: today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct OverlapArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Free text in Italian ("assistenza domiciliare anziani"); the last word may be a prefix.
    pub text: Option<String>,
    /// Social risks (repeatable): poverty, disability, non_self_sufficiency, housing, ...
    #[arg(long = "risk")]
    pub risks: Vec<String>,
    /// Target groups (repeatable): elderly, minors, families, ...
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// Statistical zones (repeatable).
    #[arg(long = "zone")]
    pub zones: Vec<String>,
    /// Services open now (the machine's local time).
    #[arg(long, conflicts_with = "open_at")]
    pub open_now: bool,
    /// Services open at this local time (2024-05-06T18:30).
    #[arg(long)]
    pub open_at: Option<chrono::NaiveDateTime>,
    /// Services for a person of this age.
    #[arg(long)]
    pub age: Option<u32>,
    /// Free services only.
    #[arg(long)]
    pub free: bool,
    /// Rank nearer services higher and show distances: LAT,LON.
    #[arg(long, value_parser = parse_point)]
    pub near: Option<(f64, f64)>,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

fn parse_point(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("`{s}` is not LAT,LON"))?;
    let num = |x: &str| {
        x.trim()
            .parse::<f64>()
            .map_err(|_| format!("`{x}` is not a number"))
    };
    Ok((num(a)?, num(b)?))
}

#[derive(clap::Args)]
pub struct NeedsArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The cube indicator whose numerator counts the people in need (e.g.
    /// elderly_80_alone_home_care_need).
    #[arg(long)]
    pub indicator: String,
    /// Social risks the supply addresses (repeatable; e.g. non_self_sufficiency).
    #[arg(long = "risk", required = true)]
    pub risks: Vec<String>,
    /// Target groups the supply is for (repeatable; default all).
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// The period of the need (default: the latest in the cube).
    #[arg(long)]
    pub period: Option<String>,
    /// Places per person in need the standard asks for (default: the indicator's `[need]`
    /// standard).
    #[arg(long)]
    pub standard: Option<f64>,
    /// A zone is within reach of a service located less than this many km from its centroid.
    #[arg(long, default_value_t = 1.5)]
    pub reach_km: f64,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        Command::Import(a) => import(a, quiet),
        Command::Export(a) => export(a, quiet),
        Command::Check(a) => check(a),
        Command::Tables(a) => tables(a),
        Command::Network(a) => network(a),
        Command::Overlaps(a) => overlaps(a),
        Command::Search(a) => search(a),
        Command::Needs(a) => needs(a),
    }
}

/// The project's registry file.
pub fn registry_path(project: &Path) -> PathBuf {
    project.join(REGISTRY_FILE)
}

/// Opens the project's registry, creating it when `create` (imports), or telling how to
/// create it.
pub fn open(project: &ProjectArg, create: bool) -> anyhow::Result<Registry> {
    let p = super::load_project(&project.project)?;
    let path = registry_path(&p.root);
    if !create && !path.is_file() {
        return Err(super::UsageError(format!(
            "{} has no registry yet: load one with `datalab registry import --project {} \
             --format hsds|csv|wecare PATH`",
            p.root.display(),
            p.root.display()
        ))
        .into());
    }
    Ok(Registry::open(&path)?)
}

fn import(a: ImportArgs, quiet: bool) -> anyhow::Result<()> {
    let mut reg = open(&a.project, true)?;
    let by = env::user(a.by);
    let summary = match a.format {
        ImportFormat::Hsds if a.path.is_dir() => counts(reg.import_datapackage(&a.path, &by)?),
        ImportFormat::Hsds => counts(reg.import_hsds_json(&a.path, &by)?),
        ImportFormat::Csv => counts(reg.import_csv(&a.path, &by)?),
        ImportFormat::Wecare => {
            let r = registry::wecare::import(reg.connection_mut(), &a.path)?;
            let rejected: usize = r.files.iter().map(|f| f.rejected.len()).sum();
            for f in &r.files {
                for x in &f.rejected {
                    eprintln!(
                        "rejected: {}:{}: {}: {} ({})",
                        f.file, x.line, x.field, x.reason, x.value
                    );
                }
            }
            let read: usize = r.files.iter().map(|f| f.rows_read).sum();
            let loaded: usize = r.files.iter().map(|f| f.rows_loaded).sum();
            format!(
                "{read} rows read, {loaded} loaded, {rejected} rejected; {} organizations \
                 created",
                r.organizations_created
            )
        }
    };
    if !quiet {
        eprintln!(
            "imported {} into {}: {summary}",
            a.path.display(),
            reg.path()
        );
    }
    Ok(())
}

fn counts(i: registry::Imported) -> String {
    let parts: Vec<String> = i
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

fn export(a: ExportArgs, quiet: bool) -> anyhow::Result<()> {
    let reg = open(&a.project, false)?;
    let json = a.out.extension().is_some_and(|e| e == "json");
    match a.format {
        ExportFormat::Hsds if json => {
            reg.export_hsds_json(&a.out)?;
        }
        ExportFormat::Hsds => {
            reg.export_datapackage(&a.out)?;
        }
        ExportFormat::Csv => {
            reg.export_csv(&a.out)?;
        }
    }
    if !quiet {
        eprintln!("exported {} to {}", reg.path(), a.out.display());
    }
    Ok(())
}

/// Something to report that makes `--strict` fail.
#[derive(Debug)]
pub struct Findings(pub usize);

impl std::fmt::Display for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the registry check found {} records to review", self.0)
    }
}

impl std::error::Error for Findings {}

fn check(a: CheckArgs) -> anyhow::Result<()> {
    let reg = open(&a.project, false)?;
    let as_of = a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let dups = reg.duplicates()?;
    let stale = reg.stale(as_of, a.months)?;
    let mut t1 = table(
        "duplicates",
        "Possible duplicate organizations",
        &["a", "b", "reason", "score", "detail"],
    );
    for d in &dups {
        t1.rows.push(vec![
            d.a.clone().into(),
            d.b.clone().into(),
            format!("{:?}", d.reason).to_lowercase().into(),
            Cell::Real((d.score * 1000.0).round() / 1000.0),
            d.detail.clone().into(),
        ]);
    }
    let mut t2 = table(
        "stale",
        &format!(
            "Records not verified in the {} months before {as_of}",
            a.months
        ),
        &["table", "id", "name", "verified_at", "reason"],
    );
    for s in &stale {
        t2.rows.push(vec![
            s.table.into(),
            s.id.clone().into(),
            s.name.clone().into(),
            s.verified_at.map(|d| d.to_string()).into(),
            format!("{:?}", s.reason).to_lowercase().into(),
        ]);
    }
    print_tables(&[t1, t2], a.format)?;
    let found = dups.len() + stale.len();
    if a.strict && found > 0 {
        return Err(Findings(found).into());
    }
    Ok(())
}

/// The programme asked for, or the only one.
fn programme_id(reg: &Registry, asked: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = asked {
        return Ok(p);
    }
    let all = programme::list_programmes(reg.connection())?;
    match &all[..] {
        [one] => Ok(one.id.clone()),
        [] => Err(super::UsageError(
            "the registry holds no programme: import one (e.g. --format wecare)".into(),
        )
        .into()),
        many => Err(super::UsageError(format!(
            "the registry holds {} programmes ({}): choose one with --programme",
            many.len(),
            many.iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
}

fn tables(a: ProgrammeArgs) -> anyhow::Result<()> {
    let reg = open(&a.project, false)?;
    let id = programme_id(&reg, a.programme)?;
    let as_of = a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut all = programme::classification_tables(reg.connection(), &id)?;
    all.push(programme::outcome_table(reg.connection(), &id, as_of)?);
    print_tables(&all, a.format)
}

fn network(a: ProgrammeArgs) -> anyhow::Result<()> {
    let reg = open(&a.project, false)?;
    let id = programme_id(&reg, a.programme)?;
    let net = registry::network::analyse(reg.connection(), Some(&id))?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&net.graph())?),
        _ => print_tables(&net.tables(), a.format)?,
    }
    Ok(())
}

fn overlaps(a: OverlapArgs) -> anyhow::Result<()> {
    let reg = open(&a.project, false)?;
    let rows = reg.service_rows()?;
    let found = registry::network::service_overlaps(&rows, |code| Some(code.to_string()));
    print_tables(&found.tables(), a.format)
}

/// Social risks and target groups from their codes, or a usage error listing the codes.
fn risks_and_groups(
    risks: &[String],
    targets: &[String],
) -> Result<(Vec<SocialRisk>, Vec<TargetGroup>), super::UsageError> {
    let unknown = |what: &str, code: &str, codes: &[&str]| {
        super::UsageError(format!(
            "unknown {what} `{code}`; one of: {}",
            codes.join(", ")
        ))
    };
    let risks = risks
        .iter()
        .map(|r| {
            SocialRisk::from_code(r).ok_or_else(|| unknown("social risk", r, SocialRisk::CODES))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let groups = targets
        .iter()
        .map(|t| {
            TargetGroup::from_code(t).ok_or_else(|| unknown("target group", t, TargetGroup::CODES))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((risks, groups))
}

fn search(a: SearchArgs) -> anyhow::Result<()> {
    let (risks, target_groups) = risks_and_groups(&a.risks, &a.targets)?;
    let reg = open(&a.project, false)?;
    let index = registry::SearchIndex::build(&reg)?;
    let open_at = if a.open_now {
        Some(chrono::Local::now().naive_local())
    } else {
        a.open_at
    };
    let hits = index.search(&registry::Query {
        text: a.text,
        risks,
        target_groups,
        zones: a.zones,
        municipality: None,
        open_at,
        age: a.age,
        free_only: a.free,
        near: a.near,
        limit: a.limit,
        offset: 0,
    });
    if a.format == Format::Json {
        out!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    let mut t = table(
        "search",
        &format!("{} services", hits.len()),
        &[
            "score",
            "service",
            "organization",
            "zone",
            "km",
            "service_at_location",
            "matched",
        ],
    );
    for h in &hits {
        t.rows.push(vec![
            Cell::Real((h.score * 1000.0).round() / 1000.0),
            h.name.clone().into(),
            h.organization.clone().into(),
            h.zone.clone().into(),
            h.distance_km
                .map(|d| Cell::Real((d * 100.0).round() / 100.0))
                .unwrap_or(Cell::Null),
            h.service_at_location_id.clone().into(),
            h.matched.join(" ").into(),
        ]);
    }
    print_tables(&[t], a.format)
}

fn needs(a: NeedsArgs) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let (risks, target_groups) = risks_and_groups(&a.risks, &a.targets)?;
    let ind = project
        .indicators
        .iter()
        .find(|i| i.id == a.indicator)
        .ok_or_else(|| super::UsageError(format!("no indicator `{}`", a.indicator)))?;
    let standard = match (a.standard, &ind.need) {
        (Some(s), _) => s,
        (None, Some(n)) => n.standard,
        (None, None) => {
            return Err(super::UsageError(format!(
                "indicator `{}` declares no [need] standard: give --standard",
                ind.id
            ))
            .into());
        }
    };
    let period = super::indicators::period_of(&project, &ind.id, a.period)?;
    if project.hierarchy.levels.is_empty() {
        return Err(super::UsageError("the project has no territory hierarchy".into()).into());
    }
    let zone_level = project.hierarchy.finest().to_string();
    let centroids = project
        .boundaries
        .iter()
        .find(|(level, _)| *level == zone_level)
        .map(|(_, rel)| {
            let path = project.root.join(rel);
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))
                .map(|t| project::centroids(&t))
        })
        .transpose()?
        .unwrap_or_default();
    let needs: Vec<ZoneNeed> = super::indicators::cells(&project, &ind.id, &period)?
        .into_iter()
        .filter(|c| c.level == zone_level)
        .map(|c| ZoneNeed {
            centroid: centroids.get(&c.territory).copied(),
            zone: c.territory,
            in_need: c.numerator.unwrap_or(0.0),
        })
        .collect();
    let reg = open(&a.project, false)?;
    let points = reg.supply(&SupplyFilter {
        risks,
        target_groups,
        as_of: None,
    })?;
    let rows = registry::supply::needs_vs_supply(&needs, &points, standard, a.reach_km);
    if a.format == Format::Json {
        out!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let mut t = table(
        "needs_vs_supply",
        &format!(
            "{} ({period}) vs registry supply ({}); standard {standard} places per person in \
             need, reach {} km",
            ind.name.en,
            a.risks.join(", "),
            a.reach_km
        ),
        &[
            "zone",
            "in_need",
            "services",
            "places",
            "operators",
            "places_per_1000",
            "operators_per_1000",
            "coverage",
            "gap",
            "nearest_km",
            "unserved",
        ],
    );
    let r2 = |v: f64| Cell::Real((v * 100.0).round() / 100.0);
    for r in &rows {
        t.rows.push(vec![
            r.zone.clone().into(),
            r2(r.in_need),
            r.services.into(),
            r2(r.places),
            r2(r.operators),
            r.places_per_1000.map(r2).unwrap_or(Cell::Null),
            r.operators_per_1000.map(r2).unwrap_or(Cell::Null),
            r.coverage.map(r2).unwrap_or(Cell::Null),
            r2(r.gap),
            r.nearest_km.map(r2).unwrap_or(Cell::Null),
            (if r.unserved { "yes" } else { "" }).into(),
        ]);
    }
    print_tables(&[t], a.format)
}

fn table(key: &str, title: &str, columns: &[&str]) -> Table {
    Table {
        key: key.into(),
        title: title.into(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    }
}

/// Tables as aligned text (title, then the table), CSV (one block per table, preceded by a
/// `# key` line when there are several) or JSON (an array).
fn print_tables(tables: &[Table], format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(tables)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            for t in tables {
                if tables.len() > 1 {
                    w.flush()?;
                    out!("# {}", t.key);
                }
                w.write_record(&t.columns)?;
                for r in &t.rows {
                    w.write_record(r.iter().map(ToString::to_string))?;
                }
            }
            w.flush()?;
        }
        Format::Text => {
            for (i, t) in tables.iter().enumerate() {
                if i > 0 {
                    out!();
                }
                out!("{t}");
            }
        }
    }
    Ok(())
}
