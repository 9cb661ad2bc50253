//! Sparklines: one series as a word-sized line, for tables and profiles.

use super::format::{Locale, format_number, format_opt};
use super::line::with_unit;
use super::svg::{escape_xml, num};
use super::{CATEGORY_PALETTE, Chart, ChartError, ChartOptions, DataTable, Point};

/// Space kept free around the line so that the end marker is not cut.
const PAD: f64 = 3.0;

/// A sparkline: one series as a small line of `opts.width` × `opts.height` pixels, without axes,
/// title text or legend, for a cell of a table or a territory profile.
///
/// The vertical range is the series' own (from its lowest to its highest value or bound), so the
/// line shows the trend, not the level: put the value beside it. A missing value breaks the
/// line; intervals are a light band; the last value has a dot. The SVG keeps `role="img"` with
/// the chart's title and a description (generated in the locale's language when
/// [`ChartOptions::description`] is empty: first and last period and value, lowest and highest);
/// the table has one row per point.
pub fn sparkline(points: &[Point], opts: &ChartOptions) -> Result<Chart, ChartError> {
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    let all: Vec<f64> = points
        .iter()
        .flat_map(|p| [p.y, p.lower, p.upper])
        .filter_map(finite)
        .collect();
    let values: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| finite(p.y).map(|y| (i, y)))
        .collect();
    let (Some(&(first_i, first)), Some(&(last_i, last))) = (values.first(), values.last()) else {
        return Err(ChartError::NoData { chart: "sparkline" });
    };
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (w, h) = (opts.width, opts.height);
    let x_of = |i: usize| {
        if points.len() == 1 {
            w / 2.0
        } else {
            PAD + i as f64 * (w - 2.0 * PAD) / (points.len() - 1) as f64
        }
    };
    let y_of = |v: f64| {
        if hi > lo {
            h - PAD - (v - lo) / (hi - lo) * (h - 2.0 * PAD)
        } else {
            h / 2.0
        }
    };
    let color = CATEGORY_PALETTE[0];
    let fmt = |v: f64| format_number(v, opts.decimals, opts.locale);
    let min = values.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
    let max = values.iter().map(|v| v.1).fold(f64::NEG_INFINITY, f64::max);
    let generated = match opts.locale {
        Locale::It => format!(
            "Andamento dal {} al {}: da {} a {} (minimo {}, massimo {}).",
            points[first_i].x,
            points[last_i].x,
            fmt(first),
            fmt(last),
            fmt(min),
            fmt(max)
        ),
        Locale::En => format!(
            "Trend from {} to {}: from {} to {} (lowest {}, highest {}).",
            points[first_i].x,
            points[last_i].x,
            fmt(first),
            fmt(last),
            fmt(min),
            fmt(max)
        ),
    };
    let desc = if opts.description.is_empty() {
        &generated
    } else {
        &opts.description
    };
    let id = escape_xml(&opts.id);
    let (ws, hs) = (num(w), num(h));
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{ws}\" height=\"{hs}\" viewBox=\"0 0 {ws} {hs}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n",
        escape_xml(&opts.title),
        escape_xml(desc)
    );
    // interval bands, broken where a point has no interval
    let mut band: Vec<(f64, f64, f64)> = Vec::new();
    let mut bands = Vec::new();
    for (i, p) in points.iter().enumerate() {
        match (finite(p.lower), finite(p.upper)) {
            (Some(l), Some(u)) => band.push((x_of(i), y_of(l), y_of(u))),
            _ => bands.push(std::mem::take(&mut band)),
        }
    }
    bands.push(band);
    for b in bands.iter().filter(|b| !b.is_empty()) {
        let mut d = String::new();
        for (k, (x, _, u)) in b.iter().enumerate() {
            d.push_str(&format!(
                "{}{},{} ",
                if k == 0 { "M" } else { "L" },
                num(*x),
                num(*u)
            ));
        }
        for (x, l, _) in b.iter().rev() {
            d.push_str(&format!("L{},{} ", num(*x), num(*l)));
        }
        svg.push_str(&format!(
            "<path d=\"{d}Z\" fill=\"{color}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
        ));
    }
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match finite(p.y) {
            Some(y) => {
                d.push_str(&format!(
                    "{}{},{} ",
                    if pen_down { "L" } else { "M" },
                    num(x_of(i)),
                    num(y_of(y))
                ));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    svg.push_str(&format!(
        "<path d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>\n",
        d.trim_end()
    ));
    svg.push_str(&format!(
        "<circle cx=\"{}\" cy=\"{}\" r=\"2.50\" fill=\"{color}\"/>\n</svg>\n",
        num(x_of(last_i)),
        num(y_of(last))
    ));

    let bounds = points
        .iter()
        .any(|p| p.lower.is_some() || p.upper.is_some());
    let mut columns = vec![
        opts.locale.period().to_owned(),
        with_unit(opts.locale.value(), opts),
    ];
    if bounds {
        columns.push(opts.locale.lower().to_owned());
        columns.push(opts.locale.upper().to_owned());
    }
    let rows = points
        .iter()
        .map(|p| {
            let mut row = vec![
                p.x.clone(),
                format_opt(finite(p.y), opts.decimals, opts.locale),
            ];
            if bounds {
                row.push(format_opt(finite(p.lower), opts.decimals, opts.locale));
                row.push(format_opt(finite(p.upper), opts.decimals, opts.locale));
            }
            row
        })
        .collect();
    Ok(Chart {
        svg,
        table: DataTable {
            title: opts.title.clone(),
            columns,
            rows,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::testutil::assert_well_formed;

    fn opts() -> ChartOptions {
        ChartOptions {
            id: "sp".into(),
            title: "Anziani soli".into(),
            width: 106.0,
            height: 26.0,
            ..ChartOptions::default()
        }
    }

    #[test]
    fn the_line_spans_the_box_and_breaks_at_a_gap() {
        let points = [
            Point::new("2021", Some(10.0)),
            Point::new("2022", None),
            Point::new("2023", Some(20.0)),
            Point::new("2024", Some(15.0)),
        ];
        let chart = sparkline(&points, &opts()).expect("sparkline");
        assert_well_formed(&chart.svg);
        // x: 3 + i * 100 / 3; y: 10 at the bottom (23), 20 at the top (3)
        assert!(
            chart
                .svg
                .contains("<path d=\"M3.00,23.00 M69.67,3.00 L103.00,13.00\""),
            "{}",
            chart.svg
        );
        assert!(chart.svg.contains("<circle cx=\"103.00\" cy=\"13.00\""));
        assert!(chart.svg.contains(
            "<desc id=\"sp-desc\">Andamento dal 2021 al 2024: da 10,0 a 15,0 (minimo 10,0, massimo 20,0).</desc>"
        ));
        assert_eq!(chart.table.rows[1], vec!["2022", "n.d."]);
        assert_eq!(chart, sparkline(&points, &opts()).expect("again"));
    }

    #[test]
    fn intervals_are_a_band_and_a_flat_series_sits_in_the_middle() {
        let points = [
            Point {
                x: "2023".into(),
                y: Some(5.0),
                lower: Some(4.0),
                upper: Some(6.0),
            },
            Point {
                x: "2024".into(),
                y: Some(5.0),
                lower: Some(4.0),
                upper: Some(6.0),
            },
        ];
        let chart = sparkline(
            &points,
            &ChartOptions {
                locale: Locale::En,
                ..opts()
            },
        )
        .expect("sparkline");
        assert!(chart.svg.contains("fill-opacity=\"0.18\""));
        assert!(chart.svg.contains("M3.00,13.00 L103.00,13.00"));
        assert_eq!(
            chart.table.columns,
            vec!["Period", "Value", "lower", "upper"]
        );
        let flat = sparkline(&[Point::new("2024", Some(1.0))], &opts()).expect("one point");
        assert!(flat.svg.contains("<circle cx=\"53.00\" cy=\"13.00\""));
        assert_eq!(
            sparkline(&[Point::new("2024", None)], &opts()),
            Err(ChartError::NoData { chart: "sparkline" })
        );
    }
}
