//! Funnel plots for benchmarking territories or providers against a target rate.

use serde::{Deserialize, Serialize};

use super::format::format_number;
use super::scale::{Linear, ticks_with_step};
use super::svg::{Rect, Shape, Style, Svg, escape_xml, num};
use super::{Chart, ChartError, ChartOptions};

/// Two-sided 95% normal quantile.
pub const Z_95: f64 = 1.96;
/// Two-sided 99.8% normal quantile (3 sigma-like "alarm" limits).
pub const Z_998: f64 = 3.09;

/// Number of points used to draw a computed limit curve.
const CURVE_STEPS: usize = 120;

/// One unit being compared: a territory, a service, a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelPoint {
    /// Written next to the point.
    pub label: String,
    /// The denominator (e.g. the population at risk); the horizontal position.
    pub denominator: f64,
    /// The observed rate, in the same unit as the target; the vertical position.
    pub rate: f64,
}

/// The benchmark: the target rate and how its control limits are obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The target (benchmark) rate, e.g. the city average.
    pub value: f64,
    /// How the 95% and 99.8% control limits are obtained.
    pub limits: Limits,
}

/// Control limits of a funnel plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Limits {
    /// Binomial normal approximation: with `p = target / per` and denominator `n`, the limits are
    /// `per * (p ± z * sqrt(p * (1 - p) / n))`, clamped to `0..=per`, with `z` = [`Z_95`] and
    /// [`Z_998`]. `per` is the rate's scale: 1 for proportions, 100 for percentages, 1000 for
    /// rates per thousand. Suitable for proportions with not-too-small `n * p`.
    Binomial { per: f64 },
    /// Limits computed elsewhere (e.g. exact binomial or Poisson, or over-dispersed), as points
    /// sorted by denominator; between points they are interpolated linearly, beyond the ends the
    /// nearest point holds.
    Curves(Vec<LimitPoint>),
}

/// The control limits at one denominator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LimitPoint {
    /// The denominator these limits are for.
    pub denominator: f64,
    /// Lower 95% control limit.
    pub lower_95: f64,
    /// Upper 95% control limit.
    pub upper_95: f64,
    /// Lower 99.8% control limit.
    pub lower_998: f64,
    /// Upper 99.8% control limit.
    pub upper_998: f64,
}

/// Where a point falls with respect to the control limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    /// Inside the 95% limits: consistent with the target.
    Within,
    /// Above the 95% but not the 99.8% upper limit.
    Above95,
    /// Above the 99.8% upper limit.
    Above998,
    /// Below the 95% but not the 99.8% lower limit.
    Below95,
    /// Below the 99.8% lower limit.
    Below998,
}

impl Position {
    fn text(self, locale: super::Locale) -> &'static str {
        use super::Locale::{En, It};
        match (self, locale) {
            (Position::Within, It) => "entro i limiti",
            (Position::Within, En) => "within limits",
            (Position::Above95, It) => "sopra il 95%",
            (Position::Above95, En) => "above 95%",
            (Position::Above998, It) => "sopra il 99,8%",
            (Position::Above998, En) => "above 99.8%",
            (Position::Below95, It) => "sotto il 95%",
            (Position::Below95, En) => "below 95%",
            (Position::Below998, It) => "sotto il 99,8%",
            (Position::Below998, En) => "below 99.8%",
        }
    }
}

/// The binomial normal-approximation limits `p ± z * sqrt(p * (1 - p) / n)` for a proportion
/// `p` and denominator `n`, clamped to `0..=1`. E.g. `p = 0.1`, `n = 100`: the standard error is
/// `0.03`, so the 95% limits are `0.0412..0.1588` and the 99.8% limits `0.0073..0.1927`.
pub fn binomial_limits(p: f64, n: f64, z: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let se = (p * (1.0 - p) / n).max(0.0).sqrt();
    ((p - z * se).clamp(0.0, 1.0), (p + z * se).clamp(0.0, 1.0))
}

impl Limits {
    /// The limits at denominator `n` for the target rate `target`.
    fn at(&self, target: f64, n: f64) -> LimitPoint {
        match self {
            Limits::Binomial { per } => {
                let per = if *per > 0.0 { *per } else { 1.0 };
                let p = (target / per).clamp(0.0, 1.0);
                let (l95, u95) = binomial_limits(p, n, Z_95);
                let (l998, u998) = binomial_limits(p, n, Z_998);
                LimitPoint {
                    denominator: n,
                    lower_95: l95 * per,
                    upper_95: u95 * per,
                    lower_998: l998 * per,
                    upper_998: u998 * per,
                }
            }
            Limits::Curves(points) => interpolate(points, n),
        }
    }

    fn position(&self, target: f64, n: f64, rate: f64) -> Position {
        let l = self.at(target, n);
        if rate > l.upper_998 {
            Position::Above998
        } else if rate > l.upper_95 {
            Position::Above95
        } else if rate < l.lower_998 {
            Position::Below998
        } else if rate < l.lower_95 {
            Position::Below95
        } else {
            Position::Within
        }
    }
}

fn interpolate(points: &[LimitPoint], n: f64) -> LimitPoint {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return LimitPoint {
            denominator: n,
            lower_95: f64::NEG_INFINITY,
            upper_95: f64::INFINITY,
            lower_998: f64::NEG_INFINITY,
            upper_998: f64::INFINITY,
        };
    };
    if n <= first.denominator {
        return LimitPoint {
            denominator: n,
            ..*first
        };
    }
    if n >= last.denominator {
        return LimitPoint {
            denominator: n,
            ..*last
        };
    }
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        if n >= a.denominator && n <= b.denominator {
            let t = if b.denominator > a.denominator {
                (n - a.denominator) / (b.denominator - a.denominator)
            } else {
                0.0
            };
            let mix = |x: f64, y: f64| x + t * (y - x);
            return LimitPoint {
                denominator: n,
                lower_95: mix(a.lower_95, b.lower_95),
                upper_95: mix(a.upper_95, b.upper_95),
                lower_998: mix(a.lower_998, b.lower_998),
                upper_998: mix(a.upper_998, b.upper_998),
            };
        }
    }
    LimitPoint {
        denominator: n,
        ..*last
    }
}

/// A funnel plot: each unit's rate against its denominator, with the target line and its 95%
/// and 99.8% control limits, which narrow as the denominator grows.
///
/// A funnel plot keeps small units from looking extreme by chance: a unit is "special" only when
/// it falls outside the limits for its own size. Points are labelled; points outside the 95%
/// limits are drawn filled (squares beyond 99.8%) instead of hollow circles, so the flag does not
/// rely on colour. The limit curves are clipped to the plot. The table gives each unit's
/// numbers, its limits at its denominator and its position.
pub fn funnel(
    points: &[FunnelPoint],
    target: &Target,
    opts: &ChartOptions,
) -> Result<Chart, ChartError> {
    if points.is_empty() || !target.value.is_finite() {
        return Err(ChartError::NoData { chart: "funnel" });
    }
    if let Some(p) = points
        .iter()
        .find(|p| !(p.denominator.is_finite() && p.denominator > 0.0 && p.rate.is_finite()))
    {
        return Err(ChartError::InvalidInput {
            chart: "funnel",
            message: format!(
                "point {:?}: the denominator must be positive and the rate finite",
                p.label
            ),
        });
    }
    let max_n = points.iter().map(|p| p.denominator).fold(0.0, f64::max);
    let (x_ticks, x_decimals) = ticks_with_step(0.0, max_n, 5);
    let mut lo = points.iter().map(|p| p.rate).fold(target.value, f64::min);
    let mut hi = points.iter().map(|p| p.rate).fold(target.value, f64::max);
    if opts.include_zero {
        lo = lo.min(0.0);
    }
    if hi == lo {
        hi = lo + 1.0;
    }
    let (y_ticks, y_decimals) = ticks_with_step(lo, hi, 5);
    let plot = Rect::plot(opts);
    let x_scale = Linear::from_ticks(&x_ticks, plot.x0, plot.x1);
    let y_scale = Linear::from_ticks(&y_ticks, plot.y1, plot.y0);
    let positions: Vec<Position> = points
        .iter()
        .map(|p| target.limits.position(target.value, p.denominator, p.rate))
        .collect();
    let outside = positions.iter().filter(|p| **p != Position::Within).count();

    let desc = format!(
        "Funnel plot of {} units against a target of {}; {} outside the 95% control limits. The numbers are also given as a table.",
        points.len(),
        format_number(target.value, opts.decimals, opts.locale),
        outside
    );
    let mut svg = Svg::begin(opts, &desc);
    svg.y_axis(plot, &y_scale, &y_ticks, y_decimals, opts);
    let labels: Vec<(f64, String)> = x_ticks
        .iter()
        .map(|t| (x_scale.map(*t), format_number(*t, x_decimals, opts.locale)))
        .collect();
    svg.x_axis(plot, &labels, opts);

    let clip = format!("{}-plot", svg.id());
    svg.raw(&format!(
        "<defs><clipPath id=\"{clip}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>\n<g clip-path=\"url(#{clip})\">\n",
        num(plot.x0),
        num(plot.y0),
        num(plot.x1 - plot.x0),
        num(plot.y1 - plot.y0)
    ));
    let x_end = x_ticks.last().copied().unwrap_or(max_n);
    let samples: Vec<LimitPoint> = match &target.limits {
        Limits::Binomial { .. } => (1..=CURVE_STEPS)
            .map(|i| {
                target
                    .limits
                    .at(target.value, x_end * i as f64 / CURVE_STEPS as f64)
            })
            .collect(),
        Limits::Curves(curve) => curve.clone(),
    };
    let target_style = Style {
        color: "#000000",
        shape: Shape::Circle,
        dash: "",
    };
    let style_95 = Style {
        color: "#0072B2",
        shape: Shape::Circle,
        dash: "6 3",
    };
    let style_998 = Style {
        color: "#D55E00",
        shape: Shape::Circle,
        dash: "2 2",
    };
    let curve = |pick: fn(&LimitPoint) -> f64| {
        samples
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    "{}{},{}",
                    if i == 0 { "M" } else { "L" },
                    num(x_scale.map(l.denominator)),
                    num(y_scale.map(pick(l)))
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (st, picks) in [
        (
            style_95,
            [
                (|l: &LimitPoint| l.lower_95) as fn(&LimitPoint) -> f64,
                |l: &LimitPoint| l.upper_95,
            ],
        ),
        (
            style_998,
            [|l: &LimitPoint| l.lower_998, |l: &LimitPoint| l.upper_998],
        ),
    ] {
        for pick in picks {
            svg.raw(&format!(
                "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"{}\"/>\n",
                curve(pick),
                st.color,
                st.dash
            ));
        }
    }
    svg.raw("</g>\n");
    let ty = y_scale.map(target.value);
    svg.line(
        plot.x0,
        ty,
        plot.x1,
        ty,
        "stroke=\"#000000\" stroke-width=\"1.5\"",
    );

    for (p, pos) in points.iter().zip(&positions) {
        let (x, y) = (x_scale.map(p.denominator), y_scale.map(p.rate));
        let tip = format!(
            "{}: {} ({} {}; {})",
            p.label,
            format_number(p.rate, opts.decimals, opts.locale),
            opts.locale.denominator().to_lowercase(),
            format_number(p.denominator, 0, opts.locale),
            pos.text(opts.locale)
        );
        let (shape, filled) = match pos {
            Position::Within => (Shape::Circle, false),
            Position::Above95 | Position::Below95 => (Shape::Circle, true),
            Position::Above998 | Position::Below998 => (Shape::Square, true),
        };
        svg.marker(shape, x, y, "#222222", filled, &tip);
        let weight = if *pos == Position::Within {
            ""
        } else {
            " font-weight=\"bold\""
        };
        svg.raw(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"start\" font-size=\"10\"{weight}>{}</text>\n",
            num(x + 6.0),
            num(y - 6.0),
            escape_xml(&p.label)
        ));
    }
    svg.legend(
        plot,
        &[
            (
                target_style,
                None,
                format!(
                    "{} ({})",
                    opts.locale.target(),
                    format_number(target.value, opts.decimals, opts.locale)
                ),
            ),
            (style_95, None, opts.locale.limits("95%")),
            (
                style_998,
                None,
                opts.locale.limits(if opts.locale == super::Locale::It {
                    "99,8%"
                } else {
                    "99.8%"
                }),
            ),
        ],
    );

    let level_998 = if opts.locale == super::Locale::It {
        "99,8%"
    } else {
        "99.8%"
    };
    let d = opts.decimals;
    let loc = opts.locale;
    let columns = vec![
        opts.locale.name().to_owned(),
        opts.locale.denominator().to_owned(),
        super::line::with_unit(opts.locale.value(), opts),
        format!("{} 95%", opts.locale.lower()),
        format!("{} 95%", opts.locale.upper()),
        format!("{} {level_998}", opts.locale.lower()),
        format!("{} {level_998}", opts.locale.upper()),
        opts.locale.position().to_owned(),
    ];
    let rows = points
        .iter()
        .zip(&positions)
        .map(|(p, pos)| {
            let l = target.limits.at(target.value, p.denominator);
            vec![
                p.label.clone(),
                format_number(p.denominator, 0, loc),
                format_number(p.rate, d, loc),
                format_number(l.lower_95, d, loc),
                format_number(l.upper_95, d, loc),
                format_number(l.lower_998, d, loc),
                format_number(l.upper_998, d, loc),
                pos.text(loc).to_owned(),
            ]
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::svg::{BOTTOM, LEFT, RIGHT, TOP};
    use crate::chart::testutil::{assert_well_formed, attr_values, tooltips};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn binomial_limits_by_hand() {
        // p = 0.1, n = 100: se = sqrt(0.1 * 0.9 / 100) = 0.03.
        let (l, u) = binomial_limits(0.1, 100.0, Z_95);
        assert!(
            close(l, 0.1 - 1.96 * 0.03) && close(u, 0.1 + 1.96 * 0.03),
            "{l} {u}"
        );
        assert!(close(l, 0.0412) && close(u, 0.1588));
        let (l, u) = binomial_limits(0.1, 100.0, Z_998);
        assert!(close(l, 0.0073) && close(u, 0.1927), "{l} {u}");
        // p = 0.5, n = 10000: se = 0.005; clamping at the ends.
        let (l, u) = binomial_limits(0.5, 10000.0, Z_95);
        assert!(close(l, 0.4902) && close(u, 0.5098));
        assert_eq!(
            binomial_limits(0.01, 1.0, Z_998),
            (0.0, 0.01 + 3.09 * (0.0099_f64).sqrt())
        );
    }

    #[test]
    fn percent_scale_and_positions() {
        let limits = Limits::Binomial { per: 100.0 };
        let l = limits.at(10.0, 100.0);
        assert!(close(l.lower_95, 4.12) && close(l.upper_95, 15.88) && close(l.upper_998, 19.27));
        assert_eq!(limits.position(10.0, 100.0, 15.0), Position::Within);
        assert_eq!(limits.position(10.0, 100.0, 16.0), Position::Above95);
        assert_eq!(limits.position(10.0, 100.0, 20.0), Position::Above998);
        assert_eq!(limits.position(10.0, 100.0, 4.0), Position::Below95);
        assert_eq!(limits.position(10.0, 100.0, 0.5), Position::Below998);
    }

    #[test]
    fn given_curves_are_interpolated() {
        let lp = |n: f64, w: f64| LimitPoint {
            denominator: n,
            lower_95: 10.0 - w,
            upper_95: 10.0 + w,
            lower_998: 10.0 - 2.0 * w,
            upper_998: 10.0 + 2.0 * w,
        };
        let limits = Limits::Curves(vec![lp(100.0, 4.0), lp(300.0, 2.0)]);
        assert_eq!(limits.at(10.0, 200.0).upper_95, 13.0);
        assert_eq!(limits.at(10.0, 50.0).upper_95, 14.0);
        assert_eq!(limits.at(10.0, 900.0).lower_998, 6.0);
        assert_eq!(limits.position(10.0, 200.0, 13.5), Position::Above95);
    }

    fn data() -> Vec<FunnelPoint> {
        vec![
            FunnelPoint {
                label: "Centro".to_owned(),
                denominator: 500.0,
                rate: 10.0,
            },
            FunnelPoint {
                label: "Nord".to_owned(),
                denominator: 1000.0,
                rate: 20.0,
            },
            FunnelPoint {
                label: "Sud & Est".to_owned(),
                denominator: 200.0,
                rate: 5.0,
            },
        ]
    }

    fn opts() -> ChartOptions {
        ChartOptions {
            title: "Admissions".to_owned(),
            unit: "%".to_owned(),
            x_label: "Residents".to_owned(),
            ..ChartOptions::default()
        }
    }

    #[test]
    fn geometry_markers_and_table() {
        let target = Target {
            value: 10.0,
            limits: Limits::Binomial { per: 100.0 },
        };
        let chart = funnel(&data(), &target, &opts()).expect("chart");
        // x axis 0..1000, y axis 0..20: Centro (500, 10) is the middle of the plot.
        let (x0, x1, y0, y1) = (LEFT, 640.0 - RIGHT, TOP, 400.0 - BOTTOM);
        let cx = attr_values(&chart.svg, "<circle", "cx");
        let cy = attr_values(&chart.svg, "<circle", "cy");
        assert_eq!((cx[0], cy[0]), ((x0 + x1) / 2.0, (y0 + y1) / 2.0));
        // Nord: 20% on 1000 is far above 99.8% (10 + 3.09 * 0.949 = 12.93): a filled square.
        assert!(chart.svg.contains(&format!(
            "<rect x=\"{}\" y=\"{}\"",
            num(x1 - 4.0),
            num(y0 - 4.0)
        )));
        assert_eq!(chart.table.rows[1][7], "sopra il 99,8%");
        assert_eq!(chart.table.rows[0][7], "entro i limiti");
        // Sud & Est: 5% on 200: 95% lower limit is 10 - 1.96 * 2.121 = 5.84: below 95%.
        assert_eq!(chart.table.rows[2][3], "5,8");
        assert_eq!(chart.table.rows[2][7], "sotto il 95%");
        assert!(
            tooltips(&chart.svg)
                .contains(&"Sud &amp; Est: 5,0 (denominatore 200; sotto il 95%)".to_owned())
        );
        assert!(chart.svg.contains(">Sud &amp; Est</text>"));
        assert_well_formed(&chart.svg);
        assert_eq!(chart, funnel(&data(), &target, &opts()).expect("chart"));
    }

    #[test]
    fn english_table_and_bad_input() {
        let target = Target {
            value: 10.0,
            limits: Limits::Binomial { per: 100.0 },
        };
        let o = ChartOptions {
            locale: Locale::En,
            decimals: 2,
            ..opts()
        };
        let chart = funnel(&data(), &target, &o).expect("chart");
        assert_eq!(
            chart.table.rows[0],
            vec![
                "Centro",
                "500",
                "10.00",
                "7.37",
                "12.63",
                "5.85",
                "14.15",
                "within limits"
            ]
        );
        assert_eq!(
            chart.table.columns,
            vec![
                "Name",
                "Denominator",
                "Value (%)",
                "lower 95%",
                "upper 95%",
                "lower 99.8%",
                "upper 99.8%",
                "Position"
            ]
        );
        let it = funnel(&data(), &target, &opts()).expect("chart");
        assert_eq!(it.table.columns[5], "inferiore 99,8%");
        let bad = [FunnelPoint {
            label: "x".to_owned(),
            denominator: 0.0,
            rate: 1.0,
        }];
        assert!(matches!(
            funnel(&bad, &target, &o),
            Err(ChartError::InvalidInput { .. })
        ));
        assert_eq!(
            funnel(&[], &target, &o),
            Err(ChartError::NoData { chart: "funnel" })
        );
    }
}
