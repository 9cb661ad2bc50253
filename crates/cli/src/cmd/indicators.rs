//! `datalab indicators list|benchmark|needs`.

use crate::{Format, ProjectArg};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use serde::Serialize;

/// Prints a line to stdout; a closed pipe (`| head`) ends the output quietly.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the project's indicators with their metadata.
    List(ListArgs),
    /// Compare the territories of a level on an indicator: ranks, difference from the territory
    /// above, funnel-plot limits (95% and 99.8%) and which are significantly above or below.
    Benchmark(BenchmarkArgs),
    /// Needs vs supply of an indicator declared with `[need]`: people in need, supply, coverage
    /// and gap per territory.
    Needs(NeedsArgs),
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct BenchmarkArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The indicator id.
    pub indicator: String,
    /// The territory level compared (e.g. zone).
    #[arg(long)]
    pub level: String,
    /// The period (e.g. 2024); default: the latest in the cube.
    #[arg(long)]
    pub period: Option<String>,
    /// The level of the reference each territory is compared with (default: the level above).
    #[arg(long)]
    pub against: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct NeedsArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The indicator id (declared with `[need]`).
    pub indicator: String,
    #[arg(long)]
    pub level: String,
    /// The period (e.g. 2024); default: the latest in the cube.
    #[arg(long)]
    pub period: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List(a) => list(a),
        Command::Benchmark(a) => benchmark(a),
        Command::Needs(a) => needs(a),
    }
}

#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    name: &'a model::Text,
    description: &'a model::Text,
    unit: &'a model::Text,
    factor: f64,
    kind: model::IndicatorKind,
    direction: model::Direction,
    topics: &'a [String],
    period: model::IndicatorPeriod,
    breakdowns: &'a [Vec<String>],
    levels: Vec<&'a str>,
    tables: Vec<&'a str>,
    source_notes: &'a model::Text,
    definition: &'a model::Definition,
    need: Option<&'a model::Need>,
    file: &'a str,
}

fn list(a: ListArgs) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let all: Vec<Listed> = project
        .indicators
        .iter()
        .map(|i| Listed {
            id: &i.id,
            name: &i.name,
            description: &i.description,
            unit: &i.unit,
            factor: i.factor,
            kind: i.kind,
            direction: i.direction,
            topics: &i.topics,
            period: i.period,
            breakdowns: &i.breakdowns,
            levels: if i.levels.is_empty() {
                project
                    .hierarchy
                    .levels
                    .iter()
                    .map(|s| s.as_str())
                    .collect()
            } else {
                i.levels.iter().map(|s| s.as_str()).collect()
            },
            tables: i.tables(),
            source_notes: &i.source_notes,
            definition: &i.definition,
            need: i.need.as_ref(),
            file: &i.file,
        })
        .collect();
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&all)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "id",
                "name_it",
                "name_en",
                "unit_it",
                "factor",
                "kind",
                "direction",
                "topics",
                "period",
                "tables",
            ])?;
            for i in &all {
                w.write_record([
                    i.id,
                    &i.name.it,
                    &i.name.en,
                    &i.unit.it,
                    &i.factor.to_string(),
                    json_name(&i.kind)?.as_str(),
                    json_name(&i.direction)?.as_str(),
                    &i.topics.join(" "),
                    json_name(&i.period)?.as_str(),
                    &i.tables.join(" "),
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            for i in &all {
                out!(
                    "{:<34} {:<10} {:<7} {}  [{}]",
                    i.id,
                    json_name(&i.kind)?,
                    json_name(&i.period)?,
                    i.name.it,
                    i.topics.join(", ")
                );
            }
            eprintln!("{} indicators", all.len());
        }
    }
    Ok(())
}

fn json_name<T: Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_value(v)?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Escapes a value for an SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The indicator, or a usage error listing close ids.
fn find<'p>(project: &'p project::Project, id: &str) -> anyhow::Result<&'p model::Indicator> {
    project
        .indicators
        .iter()
        .find(|i| i.id == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = project.indicators.iter().map(|i| i.id.as_str()).collect();
            super::UsageError(format!(
                "no indicator `{id}`{}",
                project::text::closest(id, &ids)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default()
            ))
            .into()
        })
}

/// The requested period, or the latest one of the series in the cube.
pub(crate) fn period_of(
    project: &project::Project,
    series: &str,
    period: Option<String>,
) -> anyhow::Result<String> {
    if let Some(p) = period {
        return Ok(p);
    }
    let b = super::query::query(
        project,
        &format!(
            "SELECT max(period) FROM cube WHERE indicator = {} AND NOT forecast",
            lit(series)
        ),
    )?;
    b.first()
        .filter(|b| b.num_rows() > 0 && b.column(0).is_valid(0))
        .and_then(|b| text(b.column(0)).ok().map(|a| a.value(0).to_string()))
        .ok_or_else(|| {
            super::UsageError(format!(
                "the cube has no values of `{series}`: run `datalab build`"
            ))
            .into()
        })
}

/// A text column as plain UTF-8 (Parquet strings come back as views).
fn text(a: &arrow::array::ArrayRef) -> anyhow::Result<arrow::array::StringArray> {
    Ok(arrow::compute::cast(a, &arrow::datatypes::DataType::Utf8)?
        .as_string::<i32>()
        .clone())
}

/// Total cells of a series in a period.
pub(crate) fn cells(
    project: &project::Project,
    series: &str,
    period: &str,
) -> anyhow::Result<Vec<indicators::compare::Cell>> {
    let batches = super::query::query(
        project,
        &format!(
            "SELECT territory, territory_level, numerator, denominator, value FROM cube \
             WHERE indicator = {} AND period = {} AND breakdown = '' AND NOT forecast ORDER BY territory",
            lit(series),
            lit(period)
        ),
    )?;
    let mut out = Vec::new();
    for b in &batches {
        let f = |i: usize| b.column(i).as_primitive::<Float64Type>();
        let (territory, level) = (text(b.column(0))?, text(b.column(1))?);
        let s = |i: usize| if i == 0 { &territory } else { &level };
        for r in 0..b.num_rows() {
            let opt = |i: usize| (!f(i).is_null(r)).then(|| f(i).value(r));
            out.push(indicators::compare::Cell {
                territory: s(0).value(r).to_string(),
                level: s(1).value(r).to_string(),
                numerator: opt(2),
                denominator: opt(3),
                value: opt(4),
            });
        }
    }
    Ok(out)
}

fn benchmark(a: BenchmarkArgs) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let ind = find(&project, &a.indicator)?;
    let period = period_of(&project, &ind.id, a.period)?;
    let cells = cells(&project, &ind.id, &period)?;
    let rows = indicators::compare::benchmark(
        ind,
        &project.hierarchy,
        &cells,
        &a.level,
        a.against.as_deref(),
    )
    .map_err(|e| super::UsageError(e.to_string()))?;
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "territory",
                "name",
                "reference",
                "reference_value",
                "value",
                "rank",
                "difference",
                "z",
                "lower95",
                "upper95",
                "lower998",
                "upper998",
                "flag",
                "numerator",
                "denominator",
            ])?;
            for r in &rows {
                let c = &r.comparison;
                w.write_record([
                    r.territory.clone(),
                    r.name.clone(),
                    r.reference.clone(),
                    r.reference_value.to_string(),
                    c.value.to_string(),
                    c.rank.to_string(),
                    c.difference.to_string(),
                    c.z.to_string(),
                    c.lower95.to_string(),
                    c.upper95.to_string(),
                    c.lower998.to_string(),
                    c.upper998.to_string(),
                    json_name(&c.flag)?,
                    r.numerator.to_string(),
                    r.denominator.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            out!(
                "{} ({}), {period}: {} against {}",
                ind.name.it,
                ind.unit.it,
                a.level,
                a.against.as_deref().unwrap_or("the level above")
            );
            out!(
                "{:<8} {:<28} {:>5} {:>10} {:>10} {:>10} {:>21}  flag",
                "code",
                "name",
                "rank",
                "value",
                "reference",
                "diff",
                "95% limits"
            );
            for r in &rows {
                let c = &r.comparison;
                out!(
                    "{:<8} {:<28} {:>5} {:>10.2} {:>10.2} {:>+10.2} {:>10.2}-{:<10.2}  {}",
                    r.territory,
                    r.name.chars().take(28).collect::<String>(),
                    c.rank,
                    c.value,
                    r.reference_value,
                    c.difference,
                    c.lower95,
                    c.upper95,
                    json_name(&c.flag)?
                );
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct NeedRow {
    territory: String,
    name: String,
    in_need: f64,
    supply: f64,
    coverage: Option<f64>,
    required: f64,
    gap: f64,
}

fn needs(a: NeedsArgs) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    let ind = find(&project, &a.indicator)?;
    let Some(need) = &ind.need else {
        return Err(super::UsageError(format!(
            "indicator `{}` declares no [need] (see {})",
            ind.id, ind.file
        ))
        .into());
    };
    let cov_id = format!("{}:coverage", ind.id);
    let period = period_of(&project, &cov_id, a.period)?;
    let level = project
        .hierarchy
        .level_index(&a.level)
        .ok_or_else(|| super::UsageError(format!("no territory level `{}`", a.level)))?;
    let coverage = cells(&project, &cov_id, &period)?;
    let gap = cells(&project, &format!("{}:gap", ind.id), &period)?;
    let mut rows = Vec::new();
    for c in coverage.iter().filter(|c| c.level == a.level) {
        let g = gap
            .iter()
            .find(|g| g.territory == c.territory && g.level == c.level);
        rows.push(NeedRow {
            territory: c.territory.clone(),
            name: project
                .hierarchy
                .get(level, &c.territory)
                .map_or(c.territory.clone(), |t| t.name.clone()),
            in_need: c.denominator.unwrap_or(0.0),
            supply: c.numerator.unwrap_or(0.0),
            coverage: c.value,
            required: g.and_then(|g| g.numerator).unwrap_or(0.0),
            gap: g.and_then(|g| g.value).unwrap_or(0.0),
        });
    }
    match a.format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "territory",
                "name",
                "in_need",
                "supply",
                "coverage",
                "required",
                "gap",
            ])?;
            for r in &rows {
                w.write_record([
                    r.territory.clone(),
                    r.name.clone(),
                    r.in_need.to_string(),
                    r.supply.to_string(),
                    r.coverage.map(|v| v.to_string()).unwrap_or_default(),
                    r.required.to_string(),
                    r.gap.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            out!(
                "{} vs {} ({period}, {}; standard {} {} per person in need)",
                ind.name.it,
                need.supply_unit.it,
                a.level,
                need.standard,
                need.supply_unit.it
            );
            out!(
                "{:<8} {:<28} {:>10} {:>10} {:>10} {:>10}",
                "code",
                "name",
                "in need",
                "supply",
                "cover %",
                "gap"
            );
            for r in &rows {
                out!(
                    "{:<8} {:<28} {:>10.0} {:>10.0} {:>10} {:>+10.1}",
                    r.territory,
                    r.name.chars().take(28).collect::<String>(),
                    r.in_need,
                    r.supply,
                    r.coverage
                        .map(|v| format!("{v:.1}"))
                        .unwrap_or_else(|| "-".into()),
                    r.gap
                );
            }
        }
    }
    Ok(())
}
