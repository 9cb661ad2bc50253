//! Population pyramids: males to the left, females to the right, youngest at the bottom.

use super::format::{format_number, format_opt};
use super::line::with_unit;
use super::scale::{Linear, ticks_with_step};
use super::svg::{BOTTOM, LEFT, RIGHT, Rect, Svg, escape_xml, num};
use super::{CATEGORY_PALETTE, Chart, ChartError, ChartOptions};

/// Width of the middle column holding the age-group labels.
const GUTTER: f64 = 64.0;
/// Top of the bars: leaves a row for the "Males"/"Females" headings.
const PYRAMID_TOP: f64 = 80.0;

/// A population pyramid: one row per age group (the first at the bottom), males' bars growing
/// left and females' right from a middle column of age labels, on a shared scale.
///
/// Both halves share one axis so that the sexes compare by length; the sides are named by
/// headings (not by colour alone) and every bar has a tooltip. Values may be counts or shares
/// (say which in [`ChartOptions::unit`]); negative values are invalid. A missing value draws no
/// bar. The table has one row per age group, in the order given.
pub fn pyramid(
    age_groups: &[String],
    male: &[Option<f64>],
    female: &[Option<f64>],
    opts: &ChartOptions,
) -> Result<Chart, ChartError> {
    for (what, values) in [("male", male), ("female", female)] {
        if values.len() != age_groups.len() {
            return Err(ChartError::LengthMismatch {
                chart: "pyramid",
                what,
                expected: age_groups.len(),
                found: values.len(),
            });
        }
    }
    let clean = |v: &[Option<f64>]| -> Vec<Option<f64>> {
        v.iter().map(|v| v.filter(|v| v.is_finite())).collect()
    };
    let (male, female) = (clean(male), clean(female));
    let all: Vec<f64> = male.iter().chain(&female).flatten().copied().collect();
    if all.is_empty() {
        return Err(ChartError::NoData { chart: "pyramid" });
    }
    if all.iter().any(|v| *v < 0.0) {
        return Err(ChartError::InvalidInput {
            chart: "pyramid",
            message: "values must not be negative".to_owned(),
        });
    }
    let hi = all.iter().copied().fold(0.0, f64::max);
    let (ticks, tick_decimals) = ticks_with_step(0.0, hi, 4);
    let plot = Rect {
        x0: LEFT - 40.0,
        y0: PYRAMID_TOP,
        x1: opts.width - RIGHT,
        y1: opts.height - BOTTOM,
    };
    let cx = (plot.x0 + plot.x1) / 2.0;
    let half = (plot.x1 - plot.x0 - GUTTER) / 2.0;
    let left_scale = Linear::from_ticks(&ticks, cx - GUTTER / 2.0, cx - GUTTER / 2.0 - half);
    let right_scale = Linear::from_ticks(&ticks, cx + GUTTER / 2.0, cx + GUTTER / 2.0 + half);
    let band = (plot.y1 - plot.y0) / age_groups.len().max(1) as f64;

    let total = |v: &[Option<f64>]| v.iter().flatten().sum::<f64>();
    let desc = format!(
        "Population pyramid of {} age groups from {} to {}; males total {}, females total {}. The numbers are also given as a table.",
        age_groups.len(),
        age_groups.first().map(String::as_str).unwrap_or_default(),
        age_groups.last().map(String::as_str).unwrap_or_default(),
        format_number(total(&male), opts.decimals, opts.locale),
        format_number(total(&female), opts.decimals, opts.locale),
    );
    let mut svg = Svg::begin(opts, &desc);
    let mut tick_labels = Vec::new();
    for t in &ticks {
        let label = format_number(*t, tick_decimals, opts.locale);
        tick_labels.push((left_scale.map(*t), label.clone()));
        tick_labels.push((right_scale.map(*t), label));
    }
    svg.x_axis(plot, &tick_labels, opts);
    let heading = "font-weight=\"bold\"";
    svg.text(
        cx - GUTTER / 2.0 - half / 2.0,
        plot.y0 - 8.0,
        "middle",
        heading,
        opts.locale.males(),
    );
    svg.text(
        cx + GUTTER / 2.0 + half / 2.0,
        plot.y0 - 8.0,
        "middle",
        heading,
        opts.locale.females(),
    );

    let n = age_groups.len();
    for (i, group) in age_groups.iter().enumerate() {
        let top = plot.y0 + (n - 1 - i) as f64 * band;
        let height = band * 0.85;
        let y = top + (band - height) / 2.0;
        svg.text(
            cx,
            top + band / 2.0 + 4.0,
            "middle",
            "fill=\"#222222\"",
            group,
        );
        let sides = [
            (
                male[i],
                left_scale,
                CATEGORY_PALETTE[0],
                opts.locale.males(),
            ),
            (
                female[i],
                right_scale,
                CATEGORY_PALETTE[1],
                opts.locale.females(),
            ),
        ];
        for (value, scale, color, sex) in sides {
            if let Some(v) = value {
                let (a, b) = (scale.map(0.0), scale.map(v));
                let tip = format!(
                    "{sex}, {group}: {}",
                    format_number(v, opts.decimals, opts.locale)
                );
                svg.raw(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"><title>{}</title></rect>\n",
                    num(a.min(b)),
                    num(y),
                    num((b - a).abs()),
                    num(height),
                    escape_xml(&tip)
                ));
            }
        }
    }

    let columns = vec![
        opts.locale.age_group().to_owned(),
        with_unit(opts.locale.males(), opts),
        with_unit(opts.locale.females(), opts),
    ];
    let rows = age_groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            vec![
                g.clone(),
                format_opt(male[i], opts.decimals, opts.locale),
                format_opt(female[i], opts.decimals, opts.locale),
            ]
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::testutil::{assert_well_formed, attr_values, tooltips};

    fn groups() -> Vec<String> {
        ["0-14", "15-64", "65+"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    fn opts() -> ChartOptions {
        ChartOptions {
            title: "Residents by age".to_owned(),
            unit: "persons".to_owned(),
            decimals: 0,
            ..ChartOptions::default()
        }
    }

    #[test]
    fn halves_mirror_around_the_gutter() {
        let chart = pyramid(
            &groups(),
            &[Some(100.0), Some(50.0), None],
            &[Some(100.0), Some(50.0), Some(25.0)],
            &opts(),
        )
        .expect("chart");
        let plot_x0 = LEFT - 40.0;
        let plot_x1 = 640.0 - RIGHT;
        let cx = (plot_x0 + plot_x1) / 2.0;
        let half = (plot_x1 - plot_x0 - GUTTER) / 2.0;
        let xs = attr_values(&chart.svg, "<rect x", "x");
        let ws = attr_values(&chart.svg, "<rect x", "width");
        // Rows: 0-14 (male 100, female 100), 15-64 (50, 50), 65+ (female 25 only); axis 0..100.
        assert_eq!(ws, vec![half, half, half / 2.0, half / 2.0, half / 4.0]);
        assert_eq!(xs[0], cx - GUTTER / 2.0 - half);
        assert_eq!(xs[1], cx + GUTTER / 2.0);
        // The first age group is at the bottom.
        let ys = attr_values(&chart.svg, "<rect x", "y");
        assert!(ys[0] > ys[2] && ys[2] > ys[4]);
    }

    #[test]
    fn table_and_tooltips_match() {
        let o = ChartOptions {
            locale: Locale::En,
            ..opts()
        };
        let chart = pyramid(
            &groups(),
            &[Some(1500.0), Some(2.0), None],
            &[Some(1400.0), Some(3.0), Some(4.0)],
            &o,
        )
        .expect("chart");
        assert_eq!(
            chart.table.columns,
            vec!["Age group", "Males (persons)", "Females (persons)"]
        );
        assert_eq!(chart.table.rows[0], vec!["0-14", "1,500", "1,400"]);
        assert_eq!(chart.table.rows[2], vec!["65+", "n/a", "4"]);
        let tips = tooltips(&chart.svg);
        assert!(
            tips.contains(&"Males, 0-14: 1,500".to_owned())
                && tips.contains(&"Females, 65+: 4".to_owned())
        );
        assert!(chart.svg.contains(">Males</text>") && chart.svg.contains(">Females</text>"));
        assert_well_formed(&chart.svg);
    }

    #[test]
    fn rejects_bad_input() {
        let err = pyramid(&groups(), &[Some(1.0)], &[None, None, None], &opts());
        assert_eq!(
            err,
            Err(ChartError::LengthMismatch {
                chart: "pyramid",
                what: "male",
                expected: 3,
                found: 1
            })
        );
        let err = pyramid(
            &groups(),
            &[Some(-1.0), None, None],
            &[None, None, None],
            &opts(),
        );
        assert!(matches!(err, Err(ChartError::InvalidInput { .. })));
        assert_eq!(
            pyramid(&groups(), &[None; 3], &[None; 3], &opts()),
            Err(ChartError::NoData { chart: "pyramid" })
        );
    }
}
