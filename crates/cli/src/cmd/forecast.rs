//! `datalab forecast`: forecasts of one indicator series of the cube, with prediction
//! intervals, the chosen model and (with `--backtest`) the accuracy of every method.
//!
//! The series is the cube's total (or one `--breakdown`) of an indicator at one territory,
//! oldest period first; the periods must be consecutive. With `--reconcile`, every territory of
//! the series is forecast and the forecasts made to add up across the hierarchy, as the build
//! does for the cube's own forecasts (`[forecast]`); the territory's share is printed.
//! Forecasts are lab-side analyses, like the cube they come from: nothing here leaves the lab.

use crate::{Format, ProjectArg};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use forecast::ts::{self, Frequency, Method, Series};
use model::{Horizon, IndicatorPeriod, Reconcile};
use serde::Serialize;

use super::UsageError;

/// Forecast one indicator series of the cube.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// The indicator id (a need's series too, e.g. `ID:coverage`).
    pub indicator: String,
    /// The territory code (as in the cube, e.g. a zone or district code).
    #[arg(long)]
    pub territory: String,
    /// How far ahead: `3y`, `8q`, `12m`, or a plain number of periods of the series.
    #[arg(long)]
    pub horizon: String,
    /// Nominal coverage of the prediction interval, in percent.
    #[arg(long, default_value_t = 95.0)]
    pub level: f64,
    /// auto (chosen by backtest or AICc), ets, theta, naive, snaive (seasonal naive), naive2.
    #[arg(long, default_value = "auto")]
    pub method: String,
    /// The breakdown key of the series (e.g. `sex=F`); default: the total.
    #[arg(long, default_value = "")]
    pub breakdown: String,
    /// Forecast every territory and make them add up: wls, mint, bottom-up; none forecasts
    /// the territory alone.
    #[arg(long, default_value = "none")]
    pub reconcile: String,
    /// Instead of forecasts, print each method's rolling-origin MASE and sMAPE on this series.
    #[arg(long)]
    pub backtest: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// One forecast period.
#[derive(Serialize)]
struct Row {
    period: String,
    /// `None` where a reconciled denominator is not positive.
    forecast: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    model: String,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Report<'a> {
    indicator: &'a str,
    territory: &'a str,
    breakdown: &'a str,
    method: &'a str,
    reconcile: &'a str,
    level: f64,
    history: Vec<(String, f64)>,
    forecasts: Vec<Row>,
}

/// One method's backtest.
#[derive(Serialize)]
struct BacktestRow {
    method: &'static str,
    origins: usize,
    horizon: usize,
    mase: Option<f64>,
    smape: Option<f64>,
    note: String,
}

pub fn run(a: Args, quiet: bool) -> anyhow::Result<()> {
    if !(a.level > 0.0 && a.level < 100.0) {
        return Err(UsageError(format!(
            "--level {}: must be between 0 and 100 (exclusive)",
            a.level
        ))
        .into());
    }
    let method = Method::parse(&a.method).ok_or_else(|| {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        UsageError(format!(
            "--method `{}`: the methods are {}",
            a.method,
            names.join(", ")
        ))
    })?;
    let reconcile = Reconcile::parse(&a.reconcile).ok_or_else(|| {
        let names: Vec<&str> = Reconcile::ALL.iter().map(|m| m.name()).collect();
        UsageError(format!(
            "--reconcile `{}`: the choices are {}",
            a.reconcile,
            names.join(", ")
        ))
    })?;
    let project = super::load_project(&a.project.project)?;
    let kind = period_kind(&project, &a.indicator)?;
    let freq =
        Frequency::per_year(kind.per_year()).expect("an indicator's periods are 1, 4 or 12 a year");
    let horizon = Horizon::parse(&a.horizon)
        .and_then(|h| h.periods(kind))
        .map_err(|e| UsageError(format!("--horizon {e}")))?;
    let history = load_series(&project, &a.indicator, &a.territory, &a.breakdown)?;
    check_consecutive(&history, kind)?;
    let values: Vec<f64> = history.iter().map(|(_, v)| *v).collect();
    let series = Series::new(values.clone(), freq).map_err(|e| UsageError(e.to_string()))?;
    if a.backtest {
        return print_backtests(&series, horizon, a.format, quiet);
    }
    let last = &history.last().expect("a series has a value").0;
    let rows = if reconcile == Reconcile::None {
        let f = ts::forecast(&series, method, horizon, a.level)
            .map_err(|e| UsageError(format!("{} at {}: {e}", a.indicator, a.territory)))?;
        let periods = kind.after(last, horizon).ok_or_else(|| {
            UsageError(format!("period `{last}` is not a {} period", kind.name()))
        })?;
        let non_negative = values.iter().all(|v| *v >= 0.0);
        let clip = |v: f64| Some(if non_negative { v.max(0.0) } else { v });
        (0..horizon)
            .map(|h| Row {
                period: periods[h].clone(),
                forecast: clip(f.mean[h]),
                lower: clip(f.lower[h]),
                upper: clip(f.upper[h]),
                model: f.model.clone(),
            })
            .collect()
    } else {
        reconciled(&project, &a, method, reconcile, horizon)?
    };
    match a.format {
        Format::Json => {
            let report = Report {
                indicator: &a.indicator,
                territory: &a.territory,
                breakdown: &a.breakdown,
                method: method.name(),
                reconcile: reconcile.name(),
                level: a.level,
                history,
                forecasts: rows,
            };
            out!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(["period", "forecast", "lower", "upper", "model"])?;
            let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            for r in &rows {
                w.write_record([
                    &r.period,
                    &num(r.forecast),
                    &num(r.lower),
                    &num(r.upper),
                    &r.model,
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            out!(
                "{:<12} {:>14} {:>14} {:>14}  model",
                "period",
                "forecast",
                format!("lower {}%", a.level),
                format!("upper {}%", a.level)
            );
            let num = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into());
            for r in &rows {
                out!(
                    "{:<12} {:>14} {:>14} {:>14}  {}",
                    r.period,
                    num(r.forecast),
                    num(r.lower),
                    num(r.upper),
                    r.model
                );
            }
            if !quiet {
                eprintln!(
                    "{} at {}: {} periods observed ({} to {}), method {}",
                    a.indicator,
                    a.territory,
                    history.len(),
                    history[0].0,
                    last,
                    method.name()
                );
            }
        }
    }
    Ok(())
}

/// Origins of the backtests printed by `--backtest`.
const ORIGINS: usize = 3;

/// Each method's rolling-origin accuracy; the horizon is shortened to what the series allows.
fn print_backtests(
    series: &Series,
    horizon: usize,
    format: Format,
    quiet: bool,
) -> anyhow::Result<()> {
    let n = series.len();
    // The shortest training window is two observations (naive needs one difference).
    let room = n.saturating_sub(ORIGINS + 1);
    if room == 0 {
        return Err(UsageError(format!(
            "--backtest: the series has {n} periods, too few for {ORIGINS} origins"
        ))
        .into());
    }
    let h = horizon.min(room);
    let rows: Vec<BacktestRow> = Method::ALL
        .iter()
        .map(|&m| match ts::backtest(series, m, h, ORIGINS) {
            Ok(b) => BacktestRow {
                method: m.name(),
                origins: b.origins,
                horizon: b.horizon,
                mase: b.mase,
                smape: Some(b.smape),
                note: if b.mase.is_none() {
                    "MASE undefined: a training window is constant".into()
                } else {
                    String::new()
                },
            },
            Err(e) => BacktestRow {
                method: m.name(),
                origins: ORIGINS,
                horizon: h,
                mase: None,
                smape: None,
                note: format!(
                    "not evaluated: at the first origin (training on {} periods) {e}",
                    n - h - (ORIGINS - 1)
                ),
            },
        })
        .collect();
    let num = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(["method", "origins", "horizon", "mase", "smape", "note"])?;
            for r in &rows {
                w.write_record([
                    r.method,
                    &r.origins.to_string(),
                    &r.horizon.to_string(),
                    &num(r.mase),
                    &num(r.smape),
                    &r.note,
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            out!(
                "{:<8} {:>7} {:>7} {:>10} {:>10}  note",
                "method",
                "origins",
                "horizon",
                "MASE",
                "sMAPE"
            );
            for r in &rows {
                out!(
                    "{:<8} {:>7} {:>7} {:>10} {:>10}  {}",
                    r.method,
                    r.origins,
                    r.horizon,
                    num(r.mase),
                    num(r.smape),
                    r.note
                );
            }
            if !quiet && h < horizon {
                eprintln!("backtest horizon shortened to {h}: the series has {n} periods");
            }
        }
    }
    Ok(())
}

/// Forecasts of every territory of the series, reconciled; the rows of `--territory`.
fn reconciled(
    project: &project::Project,
    a: &Args,
    method: Method,
    reconcile: Reconcile,
    horizon: usize,
) -> anyhow::Result<Vec<Row>> {
    use indicators::forecast::{Group, Observed, Settings, forecast_group};
    let ind = project.indicator(&a.indicator).ok_or_else(|| {
        UsageError(format!(
            "--reconcile: `{}` is a need's series; reconciled forecasts are made of an indicator's own series",
            a.indicator
        ))
    })?;
    let batches = super::query::query(
        project,
        &format!(
            "SELECT territory_level, territory, period, numerator, denominator, value FROM cube \
             WHERE indicator = {} AND breakdown = {} AND NOT forecast",
            lit(&a.indicator),
            lit(&a.breakdown)
        ),
    )?;
    let mut cells: Vec<(usize, String, String, [Option<f64>; 3])> = Vec::new();
    for b in &batches {
        let text = |i: usize| arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8);
        let (level, territory, period) = (text(0)?, text(1)?, text(2)?);
        let (level, territory, period) = (
            level.as_string::<i32>(),
            territory.as_string::<i32>(),
            period.as_string::<i32>(),
        );
        let num = |i: usize, r: usize| {
            let c = b.column(i).as_primitive::<Float64Type>();
            (!c.is_null(r)).then(|| c.value(r))
        };
        for r in 0..b.num_rows() {
            let Some(l) = project.hierarchy.level_index(level.value(r)) else {
                continue;
            };
            cells.push((
                l,
                territory.value(r).to_string(),
                period.value(r).to_string(),
                [num(3, r), num(4, r), num(5, r)],
            ));
        }
    }
    let observed: Vec<Observed> = cells
        .iter()
        .map(|(level, territory, period, [n, d, v])| Observed {
            level: *level,
            territory,
            period,
            numerator: *n,
            denominator: *d,
            value: *v,
        })
        .collect();
    let settings = Settings {
        horizon,
        method,
        level: a.level,
        reconcile,
    };
    let group = Group {
        period: ind.period,
        factor: ind.factor,
        ratio: ind.has_denominator(),
    };
    let all = forecast_group(
        &ts::Methods,
        &settings,
        &group,
        &project.hierarchy,
        &observed,
    )
    .map_err(|e| UsageError(format!("{}: {e}", a.indicator)))?;
    let mine = all
        .into_iter()
        .find(|t| t.territory == a.territory)
        .ok_or_else(|| {
            UsageError(format!(
                "{} at {}: no forecast (a period without a value)",
                a.indicator, a.territory
            ))
        })?;
    if !mine.forecast.reconciled {
        eprintln!(
            "note: the territories' series of `{}` do not add up across the hierarchy (or one has a gap): forecast territory by territory",
            a.indicator
        );
    }
    let f = mine.forecast;
    Ok(mine
        .periods
        .into_iter()
        .enumerate()
        .map(|(h, period)| Row {
            period,
            forecast: f.value[h],
            lower: f.lower[h],
            upper: f.upper[h],
            model: f.model.clone(),
        })
        .collect())
}

/// The period type of an indicator (or of a need series `ID:part`), or a usage error.
fn period_kind(project: &project::Project, id: &str) -> anyhow::Result<IndicatorPeriod> {
    let base = id.split(':').next().unwrap_or(id);
    project
        .indicators
        .iter()
        .find(|i| i.id == base)
        .map(|i| i.period)
        .ok_or_else(|| {
            let ids: Vec<&str> = project.indicators.iter().map(|i| i.id.as_str()).collect();
            UsageError(format!(
                "no indicator `{id}`{}",
                project::text::closest(base, &ids)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default()
            ))
            .into()
        })
}

/// Refuse gaps: a forecasting method assumes one value per period.
fn check_consecutive(history: &[(String, f64)], kind: IndicatorPeriod) -> anyhow::Result<()> {
    for w in history.windows(2) {
        let (a, b) = (kind.index(&w[0].0), kind.index(&w[1].0));
        if let (Some(a), Some(b)) = (a, b)
            && b != a + 1
        {
            return Err(UsageError(format!(
                "the series has no value between {} and {}: forecasts need consecutive periods",
                w[0].0, w[1].0
            ))
            .into());
        }
        if a.is_none() || b.is_none() {
            return Err(UsageError(format!(
                "period `{}` or `{}` is not a {} period",
                w[0].0,
                w[1].0,
                kind.name()
            ))
            .into());
        }
    }
    Ok(())
}

/// Escapes a value for an SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The series (period, value) of an indicator at a territory, oldest first.
fn load_series(
    project: &project::Project,
    indicator: &str,
    territory: &str,
    breakdown: &str,
) -> anyhow::Result<Vec<(String, f64)>> {
    let batches = super::query::query(
        project,
        &format!(
            "SELECT period, value FROM cube WHERE indicator = {} AND territory = {} AND breakdown = {} AND NOT forecast ORDER BY period",
            lit(indicator),
            lit(territory),
            lit(breakdown)
        ),
    )?;
    let mut out = Vec::new();
    for b in &batches {
        let periods = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
        let periods = periods.as_string::<i32>();
        let values = b.column(1).as_primitive::<Float64Type>();
        for r in 0..b.num_rows() {
            if values.is_null(r) {
                return Err(UsageError(format!(
                    "{indicator} at {territory}: no value in {} (e.g. a zero denominator): forecasts need a value in every period",
                    periods.value(r)
                ))
                .into());
            }
            out.push((periods.value(r).to_string(), values.value(r)));
        }
    }
    if out.is_empty() {
        let known = super::query::query(
            project,
            &format!(
                "SELECT DISTINCT territory FROM cube WHERE indicator = {} ORDER BY territory",
                lit(indicator)
            ),
        )?;
        let mut codes = Vec::new();
        for b in &known {
            let c = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
            codes.extend(c.as_string::<i32>().iter().flatten().map(str::to_string));
        }
        if codes.is_empty() {
            return Err(UsageError(format!(
                "the cube has no values of `{indicator}`: run `datalab build`"
            ))
            .into());
        }
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let hint = if refs.contains(&territory) {
            format!(" (territory `{territory}` has no series with breakdown `{breakdown}`)")
        } else {
            project::text::closest(territory, &refs)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default()
        };
        return Err(UsageError(format!(
            "no series of `{indicator}` at territory `{territory}`{hint}"
        ))
        .into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_refused() {
        let h = |ps: &[&str]| ps.iter().map(|p| (p.to_string(), 1.0)).collect::<Vec<_>>();
        assert!(check_consecutive(&h(&["2019", "2020", "2021"]), IndicatorPeriod::Year).is_ok());
        assert!(check_consecutive(&h(&["2019", "2021"]), IndicatorPeriod::Year).is_err());
        assert!(check_consecutive(&h(&["2024-Q4", "2025-Q1"]), IndicatorPeriod::Quarter).is_ok());
    }
}
