//! Charts and maps as SVG, each with its numbers as a table: [`line()`], [`bars`], [`pyramid`],
//! [`funnel`], [`choropleth`], [`point_map`] (points over a base map of zones) and [`sparkline`].
//!
//! Every chart function takes plain data and a [`ChartOptions`] and returns a [`Chart`]: the SVG
//! text and a [`DataTable`] with the same numbers (for screen readers, for "show the data"
//! links and for the appendix of a report). The SVG is written by hand, not by a drawing
//! library, so that it stays small and byte-for-byte deterministic: coordinates always carry two
//! decimals, iteration orders are fixed and nothing depends on the clock or the environment.
//!
//! Readability rules shared by all charts: a title, a subtitle carrying the unit, axis labels,
//! the source at the bottom, a legend when there are several series; axis ticks on 1-2-5 steps
//! ([`nice_ticks`]); numbers formatted per [`Locale`]; `role="img"` with `<title>` and `<desc>`;
//! the Okabe–Ito palette for categories and a sequential blue ramp for maps, and never colour
//! alone (markers, dash patterns, labels and tooltips carry the same information).
//!
//! ```
//! use datalab_report::chart::{ChartOptions, Locale, Point, Series, line};
//!
//! let series = [Series {
//!     label: "Centro".to_owned(),
//!     points: vec![Point::new("2023", Some(1234.5)), Point::new("2024", None)],
//! }];
//! let opts = ChartOptions { title: "Users".to_owned(), locale: Locale::It, ..ChartOptions::default() };
//! let chart = line(&series, &opts)?;
//! assert!(chart.svg.starts_with("<svg"));
//! assert_eq!(chart.table.rows[0], vec!["2023", "1.234,5"]);
//! # Ok::<(), datalab_report::chart::ChartError>(())
//! ```

mod bars;
mod choropleth;
mod format;
mod funnel;
mod line;
mod points;
mod pyramid;
mod scale;
mod sparkline;
mod svg;

pub use bars::bars;

pub use choropleth::{CLASS_COUNT, Classes, choropleth, class_breaks};
pub use format::{Locale, format_number};

pub use funnel::{
    FunnelPoint, LimitPoint, Limits, Position, Target, Z_95, Z_998, binomial_limits, funnel,
};
pub use line::line;
pub use points::{MapPoint, point_map};
pub use pyramid::pyramid;
pub use sparkline::sparkline;

pub use scale::nice_ticks;
pub use svg::escape_xml;

use serde::{Deserialize, Serialize};

/// A chart: the SVG text and the same numbers as a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// A standalone `<svg>` element (no XML prolog), ready to inline in HTML or save as a file.
    pub svg: String,
    /// The numbers drawn, formatted as in the chart.
    pub table: DataTable,
}

impl Chart {
    /// The finished drawing with the table of its numbers (titled like the chart).
    pub(crate) fn new(
        svg: svg::Svg,
        opts: &ChartOptions,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    ) -> Chart {
        Chart {
            svg: svg.finish(opts),
            table: DataTable {
                title: opts.title.clone(),
                columns,
                rows,
            },
        }
    }
}

/// The numbers behind a chart, as formatted text cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataTable {
    /// The chart's title.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// One row per drawn item, each with one cell per column.
    pub rows: Vec<Vec<String>>,
}

/// One named time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Shown in the legend and in the table header.
    pub label: String,
    /// The points, in period order.
    pub points: Vec<Point>,
}

/// One period of a series: its value and an optional interval (e.g. a 95% confidence interval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The period label, e.g. `2024` or `2024-Q1`; periods are placed in first-seen order.
    pub x: String,
    /// The value; `None` (suppressed or not available) breaks the line.
    pub y: Option<f64>,
    /// Lower bound of the interval band.
    pub lower: Option<f64>,
    /// Upper bound of the interval band.
    pub upper: Option<f64>,
}

impl Point {
    /// A point without an interval.
    pub fn new(x: impl Into<String>, y: Option<f64>) -> Point {
        Point {
            x: x.into(),
            y,
            lower: None,
            upper: None,
        }
    }
}

/// How [`bars`] orders its categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Sort {
    /// In the order given.
    #[default]
    AsGiven,
    /// Largest value at the top; missing values last.
    Descending,
    /// Smallest value at the top; missing values last.
    Ascending,
}

/// Options shared by all charts; each field says which charts use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChartOptions {
    /// Prefix of the ids inside the SVG (title, description, patterns): give each chart on one
    /// page its own, so that inlined charts do not clash.
    pub id: String,
    /// Shown at the top and used as the SVG `<title>` and the table title.
    pub title: String,
    /// What is measured; shown under the title, followed by the unit.
    pub subtitle: String,
    /// The unit of the values, e.g. `% of residents`; shown in the subtitle and table headers.
    pub unit: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Where the data come from; shown at the bottom after "Source:".
    pub source: String,
    /// A text alternative for the SVG `<desc>`; when empty one is generated from the data.
    pub description: String,
    /// Number formatting and the words the charts write themselves.
    pub locale: Locale,
    /// Decimals of the values in labels, tooltips and the table.
    pub decimals: usize,
    /// Width of the SVG in pixels.
    pub width: f64,
    /// Height of the SVG in pixels.
    pub height: f64,
    /// Line and funnel charts: whether the value axis starts at zero.
    pub include_zero: bool,
    /// Bars: the order of the categories.
    pub sort: Sort,
    /// Choropleth: how values are grouped into colour classes.
    pub classes: Classes,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            id: "chart".to_owned(),
            title: String::new(),
            subtitle: String::new(),
            unit: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            source: String::new(),
            description: String::new(),
            locale: Locale::It,
            decimals: 1,
            width: 640.0,
            height: 400.0,
            include_zero: true,
            sort: Sort::AsGiven,
            classes: Classes::Quantile,
        }
    }
}

/// Why a chart could not be drawn; all are the caller's input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChartError {
    /// Two inputs that must line up have different lengths.
    #[error("{chart}: {what} has {found} values but there are {expected} categories")]
    LengthMismatch {
        chart: &'static str,
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// Nothing to draw: no categories, or every value is missing or not finite.
    #[error("{chart}: no values to draw (all missing or not finite)")]
    NoData { chart: &'static str },
    /// Input that cannot be drawn, e.g. a negative denominator.
    #[error("{chart}: {message}")]
    InvalidInput {
        chart: &'static str,
        message: String,
    },
    /// The GeoJSON of a map is not a usable FeatureCollection.
    #[error("geojson: {message}")]
    GeoJson { message: String },
}

/// Okabe–Ito colours for categories, in the order series use them (blue, vermillion, bluish
/// green, orange, reddish purple, sky blue, yellow, black); distinguishable with the common
/// colour-vision deficiencies.
pub const CATEGORY_PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// A sequential ramp (ColorBrewer "Blues", 5 classes) for maps: light = low, dark = high.
pub const SEQUENTIAL_RAMP: [&str; 5] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];

#[cfg(test)]
pub(crate) mod testutil;
