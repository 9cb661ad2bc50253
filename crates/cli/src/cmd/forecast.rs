//! `datalab forecast`: forecasts of one indicator series of the cube, with prediction
//! intervals, the chosen model and (with `--backtest`) the accuracy of every method.
//!
//! The series is the cube's total (or one `--breakdown`) of an indicator at one territory,
//! oldest period first; the periods must be consecutive. Forecasts are lab-side analyses, like
//! the cube they come from: nothing here leaves the lab.

use crate::{Format, ProjectArg};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use forecast::ts::{self, Frequency, Method, Series};
use model::IndicatorPeriod;
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
    forecast: f64,
    lower: f64,
    upper: f64,
    model: String,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Report<'a> {
    indicator: &'a str,
    territory: &'a str,
    breakdown: &'a str,
    method: &'a str,
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
    let project = super::load_project(&a.project.project)?;
    let kind = period_kind(&project, &a.indicator)?;
    let freq = match kind {
        IndicatorPeriod::Year | IndicatorPeriod::Point => Frequency::Yearly,
        IndicatorPeriod::Quarter => Frequency::Quarterly,
        IndicatorPeriod::Month => Frequency::Monthly,
    };
    let horizon = parse_horizon(&a.horizon, freq)?;
    let history = load_series(&project, &a.indicator, &a.territory, &a.breakdown)?;
    check_consecutive(&history, kind)?;
    let values: Vec<f64> = history.iter().map(|(_, v)| *v).collect();
    let series = Series::new(values.clone(), freq).map_err(|e| UsageError(e.to_string()))?;
    if a.backtest {
        return print_backtests(&series, horizon, a.format, quiet);
    }
    let f = ts::forecast(&series, method, horizon, a.level)
        .map_err(|e| UsageError(format!("{} at {}: {e}", a.indicator, a.territory)))?;
    let last = &history.last().expect("a series has a value").0;
    let periods = next_periods(last, kind, horizon)?;
    let non_negative = values.iter().all(|v| *v >= 0.0);
    let clip = |v: f64| if non_negative { v.max(0.0) } else { v };
    let rows: Vec<Row> = (0..horizon)
        .map(|h| Row {
            period: periods[h].clone(),
            forecast: clip(f.mean[h]),
            lower: clip(f.lower[h]),
            upper: clip(f.upper[h]),
            model: f.model.clone(),
        })
        .collect();
    match a.format {
        Format::Json => {
            let report = Report {
                indicator: &a.indicator,
                territory: &a.territory,
                breakdown: &a.breakdown,
                method: method.name(),
                level: a.level,
                history,
                forecasts: rows,
            };
            out!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(["period", "forecast", "lower", "upper", "model"])?;
            for r in &rows {
                w.write_record([
                    &r.period,
                    &r.forecast.to_string(),
                    &r.lower.to_string(),
                    &r.upper.to_string(),
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
            for r in &rows {
                out!(
                    "{:<12} {:>14.4} {:>14.4} {:>14.4}  {}",
                    r.period,
                    r.forecast,
                    r.lower,
                    r.upper,
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

/// Number of periods of a `--horizon`: `Ny` years, `Nq` quarters, `Nm` months or plain `N`
/// periods; a span that is not a whole number of periods of the series is refused.
pub(crate) fn parse_horizon(text: &str, freq: Frequency) -> Result<usize, UsageError> {
    let bad = || {
        UsageError(format!(
            "--horizon `{text}`: expected a number of periods or years/quarters/months, e.g. 3y, 8q, 12m, 5"
        ))
    };
    let t = text.trim().to_ascii_lowercase();
    let (digits, months_per_unit) = match t.chars().last() {
        Some('y') => (&t[..t.len() - 1], Some(12)),
        Some('q') => (&t[..t.len() - 1], Some(3)),
        Some('m') => (&t[..t.len() - 1], Some(1)),
        _ => (t.as_str(), None),
    };
    let count: usize = digits.parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(UsageError(format!(
            "--horizon `{text}`: must be at least one period"
        )));
    }
    let Some(unit) = months_per_unit else {
        return Ok(count);
    };
    let months = count * unit;
    let per_period = 12 / freq.period();
    if !months.is_multiple_of(per_period) {
        return Err(UsageError(format!(
            "--horizon `{text}`: not a whole number of periods of this {} series",
            match freq {
                Frequency::Yearly => "yearly",
                Frequency::Quarterly => "quarterly",
                Frequency::Monthly => "monthly",
            }
        )));
    }
    Ok(months / per_period)
}

/// The `horizon` periods after `last`, in the cube's notation.
pub(crate) fn next_periods(
    last: &str,
    kind: IndicatorPeriod,
    horizon: usize,
) -> Result<Vec<String>, UsageError> {
    let bad = || UsageError(format!("period `{last}` is not a {} period", kind.name()));
    let index = period_index(last, kind).ok_or_else(bad)?;
    let day = if kind == IndicatorPeriod::Point {
        last.get(4..).unwrap_or("").to_string()
    } else {
        String::new()
    };
    Ok((1..=horizon as i64)
        .map(|h| period_label(index + h, kind, &day))
        .collect())
}

/// A period as a count of periods since year 0 (years, quarters or months).
fn period_index(p: &str, kind: IndicatorPeriod) -> Option<i64> {
    let year: i64 = p.get(..4)?.parse().ok()?;
    match kind {
        IndicatorPeriod::Year => (p.len() == 4).then_some(year),
        IndicatorPeriod::Point => (p.len() == 10).then_some(year),
        IndicatorPeriod::Quarter => {
            let q: i64 = p.strip_prefix(&format!("{year}-Q"))?.parse().ok()?;
            (1..=4).contains(&q).then_some(year * 4 + q - 1)
        }
        IndicatorPeriod::Month => {
            let m: i64 = p.strip_prefix(&format!("{year}-"))?.parse().ok()?;
            (1..=12).contains(&m).then_some(year * 12 + m - 1)
        }
    }
}

fn period_label(index: i64, kind: IndicatorPeriod, point_suffix: &str) -> String {
    match kind {
        IndicatorPeriod::Year => format!("{index}"),
        IndicatorPeriod::Point => format!("{index}{point_suffix}"),
        IndicatorPeriod::Quarter => format!("{}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1),
        IndicatorPeriod::Month => {
            format!("{}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1)
        }
    }
}

/// Refuse gaps: a forecasting method assumes one value per period.
fn check_consecutive(history: &[(String, f64)], kind: IndicatorPeriod) -> anyhow::Result<()> {
    for w in history.windows(2) {
        let (a, b) = (period_index(&w[0].0, kind), period_index(&w[1].0, kind));
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
            "SELECT period, value FROM cube WHERE indicator = {} AND territory = {} AND breakdown = {} ORDER BY period",
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
    fn horizons() {
        assert_eq!(parse_horizon("3y", Frequency::Yearly).unwrap(), 3);
        assert_eq!(parse_horizon("3y", Frequency::Monthly).unwrap(), 36);
        assert_eq!(parse_horizon("8q", Frequency::Yearly).unwrap(), 2);
        assert_eq!(parse_horizon("8q", Frequency::Quarterly).unwrap(), 8);
        assert_eq!(parse_horizon("12m", Frequency::Quarterly).unwrap(), 4);
        assert_eq!(parse_horizon("5", Frequency::Monthly).unwrap(), 5);
        assert!(parse_horizon("6q", Frequency::Yearly).is_err());
        assert!(parse_horizon("0y", Frequency::Yearly).is_err());
        assert!(parse_horizon("soon", Frequency::Yearly).is_err());
    }

    #[test]
    fn periods_after() {
        assert_eq!(
            next_periods("2024", IndicatorPeriod::Year, 2).unwrap(),
            ["2025", "2026"]
        );
        assert_eq!(
            next_periods("2024-Q3", IndicatorPeriod::Quarter, 3).unwrap(),
            ["2024-Q4", "2025-Q1", "2025-Q2"]
        );
        assert_eq!(
            next_periods("2024-11", IndicatorPeriod::Month, 3).unwrap(),
            ["2024-12", "2025-01", "2025-02"]
        );
        assert_eq!(
            next_periods("2024-12-31", IndicatorPeriod::Point, 1).unwrap(),
            ["2025-12-31"]
        );
        assert!(next_periods("2024-13", IndicatorPeriod::Month, 1).is_err());
    }

    #[test]
    fn gaps_are_refused() {
        let h = |ps: &[&str]| ps.iter().map(|p| (p.to_string(), 1.0)).collect::<Vec<_>>();
        assert!(check_consecutive(&h(&["2019", "2020", "2021"]), IndicatorPeriod::Year).is_ok());
        assert!(check_consecutive(&h(&["2019", "2021"]), IndicatorPeriod::Year).is_err());
        assert!(check_consecutive(&h(&["2024-Q4", "2025-Q1"]), IndicatorPeriod::Quarter).is_ok());
    }
}
