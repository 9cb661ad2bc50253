//! Time series as lines, with optional interval bands.

use super::format::{format_number, format_opt};
use super::scale::{Linear, ticks_with_step};
use super::svg::{self, Svg, num, style, text_width};
use super::{Chart, ChartError, ChartOptions, Point, Series};

/// Horizontal padding between the plot edges and the first and last period.
const PAD: f64 = 12.0;

/// A line chart of one or more time series sharing a categorical period axis.
///
/// Periods are placed evenly in the order they are first seen across the series (a period
/// missing from a series is a missing value there). A missing `y` breaks the line, so a gap is
/// never drawn as if the value were known; a point with both `lower` and `upper` contributes to
/// the series' translucent interval band, which breaks the same way. Each value has a marker
/// whose shape, like the line's dash pattern, differs by series, with a tooltip; a legend appears
/// when there are several series. The table has one row per period and, per series, its value
/// and (when any point has one) its interval bounds.
pub fn line(series: &[Series], opts: &ChartOptions) -> Result<Chart, ChartError> {
    let mut periods: Vec<&str> = Vec::new();
    for s in series {
        for p in &s.points {
            if !periods.contains(&p.x.as_str()) {
                periods.push(&p.x);
            }
        }
    }
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .flat_map(|p| [p.y, p.lower, p.upper])
        .filter_map(finite)
        .collect();
    if all.is_empty() {
        return Err(ChartError::NoData { chart: "line" });
    }
    let mut lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (data_lo, data_hi) = (lo, hi);
    if opts.include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let (ticks, tick_decimals) = ticks_with_step(lo, hi, 5);
    let labels: Vec<&str> = if series.len() > 1 {
        series.iter().map(|s| s.label.as_str()).collect()
    } else {
        Vec::new()
    };
    let plot = svg::plot_with_legend(opts, &labels);
    let y_scale = Linear::from_ticks(&ticks, plot.y1, plot.y0);
    let x_of = |i: usize| {
        if periods.len() == 1 {
            (plot.x0 + plot.x1) / 2.0
        } else {
            plot.x0 + PAD + i as f64 * (plot.x1 - plot.x0 - 2.0 * PAD) / (periods.len() - 1) as f64
        }
    };

    let desc = format!(
        "Line chart of {} series over {} periods, from {} to {}; values between {} and {}. The numbers are also given as a table.",
        series.len(),
        periods.len(),
        periods.first().copied().unwrap_or_default(),
        periods.last().copied().unwrap_or_default(),
        format_number(data_lo, opts.decimals, opts.locale),
        format_number(data_hi, opts.decimals, opts.locale),
    );
    let mut svg = Svg::begin(opts, &desc);
    svg.y_axis(plot, &y_scale, &ticks, tick_decimals, opts);

    let widest = periods.iter().map(|p| text_width(p)).fold(0.0, f64::max) + 8.0;
    let room = if periods.len() > 1 {
        (plot.x1 - plot.x0 - 2.0 * PAD) / (periods.len() - 1) as f64
    } else {
        widest
    };
    let every = (widest / room).ceil().max(1.0) as usize;
    for (i, period) in periods.iter().enumerate() {
        let x = x_of(i);
        svg.line(x, plot.y1, x, plot.y1 + 4.0, "stroke=\"#888888\"");
        if i.is_multiple_of(every) {
            svg.text(x, plot.y1 + 16.0, "middle", "fill=\"#444444\"", period);
        }
    }
    svg.x_label(plot, opts);

    for (si, s) in series.iter().enumerate() {
        let st = style(si);
        let mut segments: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
        for (i, period) in periods.iter().enumerate() {
            let band = value_at(s, period).and_then(|p| Some((finite(p.lower)?, finite(p.upper)?)));
            match band {
                Some((l, u)) => segments
                    .last_mut()
                    .into_iter()
                    .for_each(|seg| seg.push((x_of(i), y_scale.map(l), y_scale.map(u)))),
                None => segments.push(Vec::new()),
            }
        }
        for seg in segments.iter().filter(|s| !s.is_empty()) {
            let mut d = String::new();
            for (k, (x, _, u)) in seg.iter().enumerate() {
                d.push_str(&format!(
                    "{}{},{} ",
                    if k == 0 { "M" } else { "L" },
                    num(*x),
                    num(*u)
                ));
            }
            for (x, l, _) in seg.iter().rev() {
                d.push_str(&format!("L{},{} ", num(*x), num(*l)));
            }
            svg.raw(&format!(
                "<path d=\"{}Z\" fill=\"{}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
                d, st.color
            ));
        }
    }

    for (si, s) in series.iter().enumerate() {
        let st = style(si);
        let mut d = String::new();
        let mut pen_down = false;
        for (i, period) in periods.iter().enumerate() {
            match value_at(s, period).and_then(|p| finite(p.y)) {
                Some(y) => {
                    d.push_str(&format!(
                        "{}{},{} ",
                        if pen_down { "L" } else { "M" },
                        num(x_of(i)),
                        num(y_scale.map(y))
                    ));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let dash = if st.dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{}\"", st.dash)
        };
        svg.raw(&format!(
            "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\n",
            d.trim_end(),
            st.color
        ));
        for (i, period) in periods.iter().enumerate() {
            if let Some(p) = value_at(s, period)
                && let Some(y) = finite(p.y)
            {
                let tip = format!(
                    "{}, {}: {}",
                    s.label,
                    period,
                    interval_text(y, p.lower, p.upper, opts)
                );
                svg.marker(st.shape, x_of(i), y_scale.map(y), st.color, true, &tip);
            }
        }
    }
    if series.len() > 1 {
        let entries: Vec<_> = series
            .iter()
            .enumerate()
            .map(|(i, s)| (style(i), Some(style(i).shape), s.label.clone()))
            .collect();
        svg.legend(plot, &entries);
    }

    let has_bounds: Vec<bool> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .any(|p| p.lower.is_some() || p.upper.is_some())
        })
        .collect();
    let mut columns = vec![opts.locale.period().to_owned()];
    for (s, bounds) in series.iter().zip(&has_bounds) {
        columns.push(with_unit(&s.label, opts));
        if *bounds {
            columns.push(format!("{} ({})", s.label, opts.locale.lower()));
            columns.push(format!("{} ({})", s.label, opts.locale.upper()));
        }
    }
    let rows = periods
        .iter()
        .map(|period| {
            let mut row = vec![(*period).to_owned()];
            for (s, bounds) in series.iter().zip(&has_bounds) {
                let p = value_at(s, period);
                row.push(format_opt(
                    p.and_then(|p| finite(p.y)),
                    opts.decimals,
                    opts.locale,
                ));
                if *bounds {
                    row.push(format_opt(
                        p.and_then(|p| finite(p.lower)),
                        opts.decimals,
                        opts.locale,
                    ));
                    row.push(format_opt(
                        p.and_then(|p| finite(p.upper)),
                        opts.decimals,
                        opts.locale,
                    ));
                }
            }
            row
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

/// The point of `s` for `period`, if any.
fn value_at<'a>(s: &'a Series, period: &str) -> Option<&'a Point> {
    s.points.iter().find(|p| p.x == period)
}

/// `value` or `value (lower–upper)` for tooltips.
fn interval_text(y: f64, lower: Option<f64>, upper: Option<f64>, opts: &ChartOptions) -> String {
    let v = format_number(y, opts.decimals, opts.locale);
    match (
        lower.filter(|v| v.is_finite()),
        upper.filter(|v| v.is_finite()),
    ) {
        (Some(l), Some(u)) => format!(
            "{v} ({}–{})",
            format_number(l, opts.decimals, opts.locale),
            format_number(u, opts.decimals, opts.locale)
        ),
        _ => v,
    }
}

/// A column header with the unit in parentheses, when there is one.
pub(crate) fn with_unit(label: &str, opts: &ChartOptions) -> String {
    if opts.unit.is_empty() {
        label.to_owned()
    } else {
        format!("{label} ({})", opts.unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::svg::{BOTTOM, LEFT, RIGHT, TOP};
    use crate::chart::testutil::{assert_well_formed, attr_values, tooltips};

    fn series(label: &str, ys: &[Option<f64>]) -> Series {
        Series {
            label: label.to_owned(),
            points: ys
                .iter()
                .enumerate()
                .map(|(i, y)| Point::new(format!("{}", 2020 + i), *y))
                .collect(),
        }
    }

    fn opts() -> ChartOptions {
        ChartOptions {
            title: "Older people living alone".to_owned(),
            subtitle: "Residents aged 65+".to_owned(),
            unit: "%".to_owned(),
            source: "Population register".to_owned(),
            ..ChartOptions::default()
        }
    }

    #[test]
    fn middle_value_lands_on_middle_pixel() {
        let chart = line(
            &[series("a", &[Some(0.0), Some(50.0), Some(100.0)])],
            &opts(),
        )
        .expect("chart");
        let cy = attr_values(&chart.svg, "<circle", "cy");
        let cx = attr_values(&chart.svg, "<circle", "cx");
        let (y0, y1) = (TOP, 400.0 - BOTTOM);
        assert_eq!(cy, vec![y1, (y0 + y1) / 2.0, y0]);
        let (x0, x1) = (LEFT + PAD, 640.0 - RIGHT - PAD);
        assert_eq!(cx, vec![x0, (x0 + x1) / 2.0, x1]);
    }

    #[test]
    fn missing_values_break_the_line() {
        let chart = line(
            &[series(
                "a",
                &[Some(1.0), Some(2.0), None, Some(4.0), Some(5.0)],
            )],
            &opts(),
        )
        .expect("chart");
        let path = chart
            .svg
            .lines()
            .find(|l| l.starts_with("<path") && l.contains("fill=\"none\""))
            .expect("line path");
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 2, "{path}");
        assert_eq!(chart.table.rows[2], vec!["2022", "n.d."]);
    }

    #[test]
    fn interval_band_is_drawn_and_tabled() {
        let mut s = series("rate", &[Some(10.0), Some(12.0)]);
        s.points[0].lower = Some(8.0);
        s.points[0].upper = Some(12.5);
        s.points[1].lower = Some(9.0);
        s.points[1].upper = Some(15.0);
        let chart = line(&[s], &opts()).expect("chart");
        assert!(chart.svg.contains("fill-opacity=\"0.18\""));
        assert_eq!(
            chart.table.columns,
            vec![
                "Periodo",
                "rate (%)",
                "rate (inferiore)",
                "rate (superiore)"
            ]
        );
        assert_eq!(chart.table.rows[0], vec!["2020", "10,0", "8,0", "12,5"]);
        assert!(tooltips(&chart.svg).contains(&"rate, 2020: 10,0 (8,0–12,5)".to_owned()));
    }

    #[test]
    fn several_series_get_a_legend_and_distinct_markers() {
        let chart = line(
            &[
                series("North", &[Some(1.0)]),
                series("South & East", &[Some(2.0)]),
            ],
            &opts(),
        )
        .expect("chart");
        assert!(chart.svg.contains("<circle"));
        assert!(chart.svg.contains("<rect x="));
        assert!(chart.svg.contains(">South &amp; East</text>"));
        assert_well_formed(&chart.svg);
    }

    #[test]
    fn table_holds_the_numbers_of_the_markers() {
        let o = ChartOptions {
            locale: Locale::En,
            decimals: 2,
            ..opts()
        };
        let chart = line(
            &[
                series("a", &[Some(1234.5), None, Some(0.25)]),
                series("b", &[Some(3.0)]),
            ],
            &o,
        )
        .expect("chart");
        let tips = tooltips(&chart.svg);
        for row in &chart.table.rows {
            for (col, cell) in row.iter().enumerate().skip(1) {
                if cell != "n/a" {
                    let label = if col == 1 { "a" } else { "b" };
                    assert!(
                        tips.contains(&format!("{label}, {}: {cell}", row[0])),
                        "{cell} not drawn: {tips:?}"
                    );
                }
            }
        }
        assert_eq!(chart.table.rows[0], vec!["2020", "1,234.50", "3.00"]);
    }

    #[test]
    fn escapes_and_is_well_formed_and_deterministic() {
        let o = ChartOptions {
            title: "<Script> & \"quotes\"".to_owned(),
            ..opts()
        };
        let s = [series("a<b", &[Some(1.0), Some(f64::NAN), Some(3.0)])];
        let a = line(&s, &o).expect("chart");
        let b = line(&s, &o).expect("chart");
        assert_eq!(a, b);
        assert_well_formed(&a.svg);
        assert!(
            a.svg.contains(
                "<title id=\"chart-title\">&lt;Script&gt; &amp; &quot;quotes&quot;</title>"
            )
        );
        assert!(a.svg.contains("role=\"img\"") && a.svg.contains("<desc id=\"chart-desc\">"));
        assert!(!a.svg.contains("NaN") && !a.svg.contains("inf"));
        assert!(a.svg.contains(">Fonte: Population register</text>"));
    }

    #[test]
    fn no_values_is_an_error() {
        assert_eq!(
            line(&[series("a", &[None])], &opts()),
            Err(ChartError::NoData { chart: "line" })
        );
        assert_eq!(
            line(&[], &opts()),
            Err(ChartError::NoData { chart: "line" })
        );
    }
}
