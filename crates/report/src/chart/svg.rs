//! The SVG writer: escaping, fixed number formatting, the frame every chart shares (header,
//! titles, source line), axes, markers and legends.

use super::format::format_number;
use super::scale::Linear;
use super::{CATEGORY_PALETTE, ChartOptions};

/// Escapes text for XML content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with exactly two decimals, so that output is byte-for-byte stable.
pub(crate) fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    if s == "-0.00" { "0.00".to_owned() } else { s }
}

/// Vertical positions of the frame's fixed rows.
pub(crate) const TITLE_Y: f64 = 24.0;
pub(crate) const SUBTITLE_Y: f64 = 44.0;
/// Top of the plot area (below title and subtitle).
pub(crate) const TOP: f64 = 64.0;
/// Space under the plot area: tick labels, axis label, legend, source.
pub(crate) const BOTTOM: f64 = 76.0;
pub(crate) const LEFT: f64 = 64.0;
pub(crate) const RIGHT: f64 = 24.0;

/// The plot area in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    /// The default plot area of a chart of the options' size.
    pub fn plot(opts: &ChartOptions) -> Rect {
        Rect {
            x0: LEFT,
            y0: TOP,
            x1: opts.width - RIGHT,
            y1: opts.height - BOTTOM,
        }
    }
}

/// Rough width of a text in pixels at 12px sans-serif, for layout only.
pub(crate) fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.5
}

/// Marker shapes, used in turn by series so that colour is never the only cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

const SHAPES: [Shape; 4] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
];
const DASHES: [&str; 4] = ["", "6 3", "2 2", "8 3 2 3"];

/// The look of the `i`-th series: colour, marker shape and dash pattern.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub color: &'static str,
    pub shape: Shape,
    pub dash: &'static str,
}

pub(crate) fn style(i: usize) -> Style {
    Style {
        color: CATEGORY_PALETTE[i % CATEGORY_PALETTE.len()],
        shape: SHAPES[i % SHAPES.len()],
        dash: DASHES[(i / SHAPES.len() + i) % DASHES.len()],
    }
}

/// The SVG text being written.
pub(crate) struct Svg {
    out: String,
    id: String,
}

impl Svg {
    /// Opens the `<svg>` element with its accessible name and description, the background, the
    /// title and the subtitle (with the unit).
    pub fn begin(opts: &ChartOptions, generated_desc: &str) -> Svg {
        let id = escape_xml(&opts.id);
        let (w, h) = (num(opts.width), num(opts.height));
        let desc = if opts.description.is_empty() {
            generated_desc
        } else {
            &opts.description
        };
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" font-family=\"sans-serif\" font-size=\"12\">\n"
        );
        out.push_str(&format!(
            "<title id=\"{id}-title\">{}</title>\n",
            escape_xml(&opts.title)
        ));
        out.push_str(&format!(
            "<desc id=\"{id}-desc\">{}</desc>\n",
            escape_xml(desc)
        ));
        out.push_str(&format!(
            "<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
        ));
        let mut svg = Svg { out, id };
        svg.text(
            16.0,
            TITLE_Y,
            "start",
            "font-size=\"16\" font-weight=\"bold\"",
            &opts.title,
        );
        let subtitle = match (opts.subtitle.is_empty(), opts.unit.is_empty()) {
            (false, false) => format!("{} — {}", opts.subtitle, opts.unit),
            (false, true) => opts.subtitle.clone(),
            (true, _) => opts.unit.clone(),
        };
        if !subtitle.is_empty() {
            svg.text(16.0, SUBTITLE_Y, "start", "fill=\"#444444\"", &subtitle);
        }
        svg
    }

    /// Writes the source line and closes the element.
    pub fn finish(mut self, opts: &ChartOptions) -> String {
        if !opts.source.is_empty() {
            let line = format!("{}: {}", opts.locale.source(), opts.source);
            self.text(
                16.0,
                opts.height - 10.0,
                "start",
                "font-size=\"10\" fill=\"#555555\"",
                &line,
            );
        }
        self.out.push_str("</svg>\n");
        self.out
    }

    /// The escaped id prefix, for ids inside the chart.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Appends raw, already escaped markup.
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// A text element; `attrs` is raw markup, `content` is escaped.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, attrs: &str, content: &str) {
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" {attrs}")
        };
        self.out.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\"{attrs}>{}</text>\n",
            num(x),
            num(y),
            escape_xml(content)
        ));
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, attrs: &str) {
        self.out.push_str(&format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {attrs}/>\n",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        ));
    }

    /// A marker centred on (x, y) with a tooltip.
    pub fn marker(
        &mut self,
        shape: Shape,
        x: f64,
        y: f64,
        color: &str,
        filled: bool,
        tooltip: &str,
    ) {
        let fill = if filled { color } else { "#ffffff" };
        let paint = format!("fill=\"{fill}\" stroke=\"{color}\" stroke-width=\"1.5\"");
        let r = 4.0;
        let element = match shape {
            Shape::Circle => format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {paint}>",
                num(x),
                num(y),
                num(r)
            ),
            Shape::Square => format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}>",
                num(x - r),
                num(y - r),
                num(2.0 * r),
                num(2.0 * r)
            ),
            Shape::Triangle => format!(
                "<polygon points=\"{},{} {},{} {},{}\" {paint}>",
                num(x),
                num(y - r - 1.0),
                num(x + r + 0.5),
                num(y + r),
                num(x - r - 0.5),
                num(y + r)
            ),
            Shape::Diamond => format!(
                "<polygon points=\"{},{} {},{} {},{} {},{}\" {paint}>",
                num(x),
                num(y - r - 1.0),
                num(x + r + 1.0),
                num(y),
                num(x),
                num(y + r + 1.0),
                num(x - r - 1.0),
                num(y)
            ),
        };
        let close = match shape {
            Shape::Circle => "</circle>",
            Shape::Square => "</rect>",
            Shape::Triangle | Shape::Diamond => "</polygon>",
        };
        self.out.push_str(&format!(
            "{element}<title>{}</title>{close}\n",
            escape_xml(tooltip)
        ));
    }

    /// The value axis on the left: grid lines, tick labels and the rotated axis label.
    pub fn y_axis(
        &mut self,
        plot: Rect,
        scale: &Linear,
        ticks: &[f64],
        decimals: usize,
        opts: &ChartOptions,
    ) {
        for &t in ticks {
            let y = scale.map(t);
            let stroke = if t == 0.0 { "#888888" } else { "#e0e0e0" };
            self.line(
                plot.x0,
                y,
                plot.x1,
                y,
                &format!("stroke=\"{stroke}\" stroke-width=\"1\""),
            );
            self.text(
                plot.x0 - 6.0,
                y + 4.0,
                "end",
                "fill=\"#444444\"",
                &format_number(t, decimals, opts.locale),
            );
        }
        if !opts.y_label.is_empty() {
            let (x, y) = (14.0, (plot.y0 + plot.y1) / 2.0);
            let rotate = format!(
                "transform=\"rotate(-90 {} {})\" fill=\"#444444\"",
                num(x),
                num(y)
            );
            self.text(x, y, "middle", &rotate, &opts.y_label);
        }
    }

    /// A numeric axis along the bottom: vertical grid lines and tick labels, given as (pixel,
    /// text) pairs so that a chart can place them itself (the pyramid mirrors its axis).
    pub fn x_axis(&mut self, plot: Rect, ticks: &[(f64, String)], opts: &ChartOptions) {
        for (x, label) in ticks {
            self.line(
                *x,
                plot.y0,
                *x,
                plot.y1,
                "stroke=\"#e0e0e0\" stroke-width=\"1\"",
            );
            self.text(*x, plot.y1 + 16.0, "middle", "fill=\"#444444\"", label);
        }
        self.x_label(plot, opts);
    }

    /// The label of the horizontal axis, centred under the tick labels.
    pub fn x_label(&mut self, plot: Rect, opts: &ChartOptions) {
        if !opts.x_label.is_empty() {
            self.text(
                (plot.x0 + plot.x1) / 2.0,
                plot.y1 + 34.0,
                "middle",
                "fill=\"#444444\"",
                &opts.x_label,
            );
        }
    }

    /// A one-row legend under the axis label: for each entry a line sample in its dash pattern,
    /// its marker (if any) and its label.
    pub fn legend(&mut self, plot: Rect, entries: &[(Style, Option<Shape>, String)]) {
        let labels: Vec<&str> = entries.iter().map(|(_, _, l)| l.as_str()).collect();
        let places = legend_layout(plot, &labels);
        for ((style, shape, label), (x, row)) in entries.iter().zip(places) {
            let y = plot.y1 + 54.0 + row as f64 * LEGEND_ROW;
            let dash = if style.dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{}\"", style.dash)
            };
            self.line(
                x,
                y - 4.0,
                x + 22.0,
                y - 4.0,
                &format!("stroke=\"{}\" stroke-width=\"2\"{dash}", style.color),
            );
            if let Some(shape) = shape {
                self.marker(*shape, x + 11.0, y - 4.0, style.color, true, label);
            }
            self.text(x + 28.0, y, "start", "", label);
        }
    }
}

/// Height of a row of the legend.
pub(crate) const LEGEND_ROW: f64 = 18.0;

/// Where each legend entry goes: (x, row), wrapping to a new row when an entry would pass the
/// plot's right edge.
pub(crate) fn legend_layout(plot: Rect, labels: &[&str]) -> Vec<(f64, usize)> {
    let mut out = Vec::with_capacity(labels.len());
    let (mut x, mut row) = (plot.x0, 0);
    for label in labels {
        let w = 28.0 + text_width(label);
        if x > plot.x0 && x + w > plot.x1 {
            x = plot.x0;
            row += 1;
        }
        out.push((x, row));
        x += w + 18.0;
    }
    out
}

/// The plot area of a chart with a legend of these labels under it: raised by the rows the
/// legend needs beyond the first.
pub(crate) fn plot_with_legend(opts: &ChartOptions, labels: &[&str]) -> Rect {
    let mut plot = Rect::plot(opts);
    let rows = legend_layout(plot, labels)
        .last()
        .map_or(0, |(_, row)| *row);
    plot.y1 -= rows as f64 * LEGEND_ROW;
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_legend_wraps_and_raises_the_plot() {
        let opts = ChartOptions::default();
        let plot = Rect::plot(&opts);
        let labels = [
            "Modena",
            "Centro Storico",
            "Sud-Ovest - Borgo Panaro",
            "Est - San Vito",
            "Nord - Quattro Torri",
        ];
        let places = legend_layout(plot, &labels);
        assert_eq!(places[0], (plot.x0, 0));
        assert!(places.iter().all(|(x, _)| *x < plot.x1));
        let rows = places.last().unwrap().1;
        assert!(rows >= 1, "{places:?}");
        // every entry ends inside the plot's width
        for ((x, _), l) in places.iter().zip(labels) {
            assert!(
                x + 28.0 + text_width(l) <= plot.x1 + 1e-9 || *x == plot.x0,
                "{l}"
            );
        }
        assert_eq!(
            plot_with_legend(&opts, &labels).y1,
            plot.y1 - rows as f64 * LEGEND_ROW
        );
        assert_eq!(plot_with_legend(&opts, &["a", "b"]).y1, plot.y1);
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(
            escape_xml("a < b & \"c\" > 'd'"),
            "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;"
        );
        assert_eq!(escape_xml("x\u{1}y"), "xy");
    }

    #[test]
    fn numbers_have_two_decimals() {
        assert_eq!(num(1.0), "1.00");
        assert_eq!(num(-0.0001), "0.00");
        assert_eq!(num(2.345678), "2.35");
        assert_eq!(num(f64::NAN), "0.00");
    }
}
