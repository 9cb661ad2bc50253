//! Horizontal bars, one per category, with value labels.

use super::format::{format_number, format_opt};
use super::line::with_unit;
use super::scale::{Linear, ticks_with_step};
use super::svg::{BOTTOM, RIGHT, Rect, Svg, TOP, escape_xml, num, text_width};
use super::{CATEGORY_PALETTE, Chart, ChartError, ChartOptions, Sort};

/// Share of a category's band taken by its bar.
const BAR_SHARE: f64 = 0.7;

/// A horizontal bar chart: one bar per category, from zero, labelled with its value.
///
/// Horizontal bars leave room for long category names (districts, services). Categories are
/// drawn top to bottom in the order of [`ChartOptions::sort`]; a missing value gets no bar and the
/// locale's "missing" label, so a suppressed cell is not mistaken for zero. The value axis always
/// includes zero (a bar's length is its value). The table lists categories in the drawn order.
pub fn bars(
    categories: &[String],
    values: &[Option<f64>],
    opts: &ChartOptions,
) -> Result<Chart, ChartError> {
    if categories.len() != values.len() {
        return Err(ChartError::LengthMismatch {
            chart: "bars",
            what: "values",
            expected: categories.len(),
            found: values.len(),
        });
    }
    let values: Vec<Option<f64>> = values.iter().map(|v| v.filter(|v| v.is_finite())).collect();
    let finite: Vec<f64> = values.iter().flatten().copied().collect();
    if finite.is_empty() {
        return Err(ChartError::NoData { chart: "bars" });
    }
    let mut order: Vec<usize> = (0..categories.len()).collect();
    let key = |i: &usize| values[*i];
    match opts.sort {
        Sort::AsGiven => {}
        Sort::Descending => order.sort_by(|a, b| cmp_missing_last(key(a), key(b), true)),
        Sort::Ascending => order.sort_by(|a, b| cmp_missing_last(key(a), key(b), false)),
    }
    let lo = finite.iter().copied().fold(0.0, f64::min);
    let hi = finite.iter().copied().fold(0.0, f64::max);
    let (ticks, tick_decimals) = ticks_with_step(lo, hi, 5);

    let label_width = categories.iter().map(|c| text_width(c)).fold(0.0, f64::max) + 12.0;
    let left = label_width.clamp(60.0, opts.width * 0.4);
    let plot = Rect {
        x0: left,
        y0: TOP,
        x1: opts.width - RIGHT - 40.0,
        y1: opts.height - BOTTOM,
    };
    let x_scale = Linear::from_ticks(&ticks, plot.x0, plot.x1);
    let band = (plot.y1 - plot.y0) / categories.len().max(1) as f64;

    let desc = format!(
        "Horizontal bar chart of {} categories; values between {} and {}. The numbers are also given as a table.",
        categories.len(),
        format_number(
            finite.iter().copied().fold(f64::INFINITY, f64::min),
            opts.decimals,
            opts.locale
        ),
        format_number(
            finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            opts.decimals,
            opts.locale
        ),
    );
    let mut svg = Svg::begin(opts, &desc);
    let tick_labels: Vec<(f64, String)> = ticks
        .iter()
        .map(|t| {
            (
                x_scale.map(*t),
                format_number(*t, tick_decimals, opts.locale),
            )
        })
        .collect();
    svg.x_axis(plot, &tick_labels, opts);

    let zero = x_scale.map(0.0);
    for (row, &i) in order.iter().enumerate() {
        let top = plot.y0 + row as f64 * band;
        let mid = top + band / 2.0;
        svg.text(plot.x0 - 6.0, mid + 4.0, "end", "", &categories[i]);
        let label = format_opt(values[i], opts.decimals, opts.locale);
        match values[i] {
            Some(v) => {
                let end = x_scale.map(v);
                let (x, w) = if v >= 0.0 {
                    (zero, end - zero)
                } else {
                    (end, zero - end)
                };
                svg.raw(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n",
                    num(x),
                    num(top + band * (1.0 - BAR_SHARE) / 2.0),
                    num(w),
                    num(band * BAR_SHARE),
                    CATEGORY_PALETTE[0],
                    escape_xml(&format!("{}: {label}", categories[i]))
                ));
                if v >= 0.0 {
                    svg.text(end + 4.0, mid + 4.0, "start", "fill=\"#222222\"", &label);
                } else {
                    svg.text(end - 4.0, mid + 4.0, "end", "fill=\"#222222\"", &label);
                }
            }
            None => svg.text(
                zero + 4.0,
                mid + 4.0,
                "start",
                "fill=\"#666666\" font-style=\"italic\"",
                &label,
            ),
        }
    }
    svg.line(
        zero,
        plot.y0,
        zero,
        plot.y1,
        "stroke=\"#888888\" stroke-width=\"1\"",
    );

    let columns = vec![
        opts.locale.category().to_owned(),
        with_unit(opts.locale.value(), opts),
    ];
    let rows = order
        .iter()
        .map(|&i| {
            vec![
                categories[i].clone(),
                format_opt(values[i], opts.decimals, opts.locale),
            ]
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

/// Orders values with missing ones last whatever the direction; ties keep the given order.
fn cmp_missing_last(a: Option<f64>, b: Option<f64>, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(a), Some(b)) => {
            let o = a.total_cmp(&b);
            if descending { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::testutil::{assert_well_formed, attr_values, tooltips};

    fn cats(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn opts() -> ChartOptions {
        ChartOptions {
            title: "Waiting list".to_owned(),
            unit: "persons".to_owned(),
            decimals: 0,
            ..ChartOptions::default()
        }
    }

    #[test]
    fn bar_lengths_follow_the_axis() {
        let chart = bars(&cats(&["A", "B"]), &[Some(50.0), Some(100.0)], &opts()).expect("chart");
        let xs = attr_values(&chart.svg, "<rect x", "x");
        let widths = attr_values(&chart.svg, "<rect x", "width");
        let left = 60.0;
        let right = 640.0 - RIGHT - 40.0;
        assert_eq!(xs, vec![left, left]);
        assert_eq!(widths, vec![(right - left) / 2.0, right - left]);
        let ys = attr_values(&chart.svg, "<rect x", "y");
        let band = (400.0 - BOTTOM - TOP) / 2.0;
        assert_eq!(ys, vec![TOP + band * 0.15, TOP + band * 1.15]);
    }

    #[test]
    fn sorts_with_missing_last() {
        let o = ChartOptions {
            sort: Sort::Descending,
            ..opts()
        };
        let chart = bars(
            &cats(&["a", "b", "c", "d"]),
            &[Some(2.0), None, Some(7.0), Some(2.0)],
            &o,
        )
        .expect("chart");
        let order: Vec<&str> = chart.table.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(order, vec!["c", "a", "d", "b"]);
        assert_eq!(chart.table.rows[3][1], "n.d.");
        let o = ChartOptions {
            sort: Sort::Ascending,
            ..opts()
        };
        let chart =
            bars(&cats(&["a", "b", "c"]), &[Some(2.0), None, Some(-1.0)], &o).expect("chart");
        let order: Vec<&str> = chart.table.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(order, vec!["c", "a", "b"]);
    }

    #[test]
    fn labels_and_table_hold_the_same_numbers() {
        let o = ChartOptions {
            locale: Locale::It,
            ..opts()
        };
        let chart = bars(
            &cats(&["Centro", "Nord <1>"]),
            &[Some(12345.0), Some(-20.0)],
            &o,
        )
        .expect("chart");
        assert_eq!(chart.table.columns, vec!["Categoria", "Valore (persons)"]);
        assert_eq!(
            chart.table.rows,
            vec![vec!["Centro", "12.345"], vec!["Nord <1>", "-20"]]
        );
        let tips = tooltips(&chart.svg);
        assert_eq!(tips, vec!["Centro: 12.345", "Nord &lt;1&gt;: -20"]);
        assert!(chart.svg.contains(">12.345</text>") && chart.svg.contains(">-20</text>"));
        assert_well_formed(&chart.svg);
        assert_eq!(
            chart,
            bars(
                &cats(&["Centro", "Nord <1>"]),
                &[Some(12345.0), Some(-20.0)],
                &o
            )
            .expect("chart")
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            bars(&cats(&["a"]), &[Some(1.0), Some(2.0)], &opts()),
            Err(ChartError::LengthMismatch {
                chart: "bars",
                what: "values",
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            bars(&cats(&["a"]), &[None], &opts()),
            Err(ChartError::NoData { chart: "bars" })
        );
    }
}
