//! Points on a base map of zones: where services are.

use serde::{Deserialize, Serialize};

use super::choropleth::{Fit, parse};
use super::format::format_number;
use super::svg::{Svg, TOP, escape_xml, style};
use super::{CATEGORY_PALETTE, Chart, ChartError, ChartOptions};

/// Width reserved on the right for the legend.
const LEGEND_WIDTH: f64 = 220.0;
/// Margin around the map area.
const MARGIN: f64 = 16.0;
/// Space under the map for the source line.
const MAP_BOTTOM: f64 = 40.0;
/// Fill and outline of the base map's zones.
const ZONE_FILL: &str = "#f0f0f0";
const ZONE_STROKE: &str = "#9a9a9a";

/// One point of a [`point_map`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// Written as the marker's `data-key` attribute, so that a page can show or hide it (e.g. a
    /// filter over a list of the same items).
    pub key: String,
    /// The tooltip and the table's name.
    pub label: String,
    /// The category: one colour and marker shape per category, in first-seen order, with a
    /// legend entry.
    pub group: String,
    pub lon: f64,
    pub lat: f64,
}

/// A map of points (services, offices) over the zones of a GeoJSON FeatureCollection.
///
/// The zones are drawn as a neutral base map (light grey, each with its name as a tooltip) with
/// the projection of [`choropleth`](super::choropleth); each point is a marker whose colour and
/// shape follow its group (so colour is never the only cue), with its label as a tooltip, inside
/// a `<g data-key="...">`. Points outside the zones' bounding box (a geocoding error, a service in
/// another town) are not drawn and the table says so. The legend names each group with its
/// marker and count; groups after the eighth reuse the colours with hollow markers. The table
/// has one row per point, in the order given.
pub fn point_map(
    geojson: &str,
    points: &[MapPoint],
    opts: &ChartOptions,
) -> Result<Chart, ChartError> {
    let zones = parse(geojson)?;
    let fit = Fit::new(
        &zones,
        (MARGIN, TOP),
        (
            opts.width - 2.0 * MARGIN - LEGEND_WIDTH,
            opts.height - TOP - MAP_BOTTOM,
        ),
    )?;
    let inside = |p: &MapPoint| {
        if !(p.lon.is_finite() && p.lat.is_finite()) {
            return false;
        }
        let (x, y) = fit.project((p.lon, p.lat));
        let (x0, y0, x1, y1) = fit.bounds();
        x >= x0 - 0.01 && x <= x1 + 0.01 && y >= y0 - 0.01 && y <= y1 + 0.01
    };
    let mut groups: Vec<(&str, usize)> = Vec::new();
    for p in points {
        match groups.iter_mut().find(|(g, _)| *g == p.group) {
            Some((_, n)) => *n += 1,
            None => groups.push((&p.group, 1)),
        }
    }
    let outside = points.iter().filter(|p| !inside(p)).count();
    let desc = format!(
        "Map of {} zones with {} points in {} groups; points outside the map: {}. The points are also given as a table.",
        zones.len(),
        points.len(),
        groups.len(),
        outside
    );
    let mut svg = Svg::begin(opts, &desc);
    for z in zones.iter().filter(|z| !z.polygons.is_empty()) {
        svg.raw(&format!(
            "<path d=\"{}\" fill=\"{ZONE_FILL}\" fill-rule=\"evenodd\" stroke=\"{ZONE_STROKE}\" stroke-width=\"0.75\"><title>{}</title></path>\n",
            fit.path(z).trim_end(),
            escape_xml(&z.name)
        ));
    }
    let group_of = |p: &MapPoint| groups.iter().position(|(g, _)| *g == p.group).unwrap_or(0);
    for p in points.iter().filter(|p| inside(p)) {
        let (x, y) = fit.project((p.lon, p.lat));
        let g = group_of(p);
        let st = style(g);
        svg.raw(&format!("<g data-key=\"{}\">", escape_xml(&p.key)));
        svg.marker(st.shape, x, y, st.color, filled(g), &p.label);
        svg.raw("</g>\n");
    }
    let lx = opts.width - MARGIN - LEGEND_WIDTH + 12.0;
    let mut ly = TOP + 8.0;
    for (i, (group, n)) in groups.iter().enumerate() {
        let st = style(i);
        let label = format!("{group} ({n})");
        svg.marker(st.shape, lx + 6.0, ly, st.color, filled(i), &label);
        svg.text(lx + 18.0, ly + 4.0, "start", "font-size=\"11\"", &label);
        ly += 20.0;
    }
    let columns = vec![
        opts.locale.name().to_owned(),
        opts.locale.category().to_owned(),
        opts.locale.latitude().to_owned(),
        opts.locale.longitude().to_owned(),
    ];
    let rows = points
        .iter()
        .map(|p| {
            let (lat, lon) = if inside(p) {
                (
                    format_number(p.lat, 5, opts.locale),
                    format_number(p.lon, 5, opts.locale),
                )
            } else {
                let out = opts.locale.outside_map().to_owned();
                (out.clone(), out)
            };
            vec![p.label.clone(), p.group.clone(), lat, lon]
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

/// Markers are filled for the first eight groups and hollow for the next eight, so that groups
/// sharing a colour and a shape (the palette has eight colours) still differ.
fn filled(group: usize) -> bool {
    (group / CATEGORY_PALETTE.len()).is_multiple_of(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::testutil::{assert_well_formed, tooltips};

    fn grid() -> String {
        let square = |code: &str, name: &str, lon0: f64| {
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}","name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},0],[{l1},0],[{l1},1],[{lon0},1],[{lon0},0]]]}}}}"#,
                l1 = lon0 + 1.0
            )
        };
        format!(
            r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
            square("A", "Sud-Ovest - Borgo", 0.0),
            square("B", "Nord", 1.0)
        )
    }

    fn point(key: &str, label: &str, group: &str, lon: f64, lat: f64) -> MapPoint {
        MapPoint {
            key: key.into(),
            label: label.into(),
            group: group.into(),
            lon,
            lat,
        }
    }

    #[test]
    fn points_have_keys_shapes_by_group_a_legend_and_a_table() {
        let points = [
            point("s1", "Mensa \"Il pane\"", "Povertà", 0.5, 0.5),
            point("s2", "Centro diurno", "Anziani", 1.5, 0.5),
            point("s3", "Sportello", "Povertà", 1.25, 0.25),
            point("far", "Altrove", "Anziani", 30.0, 40.0),
        ];
        let opts = ChartOptions {
            title: "Servizi".into(),
            ..ChartOptions::default()
        };
        let chart = point_map(&grid(), &points, &opts).expect("map");
        assert_well_formed(&chart.svg);
        assert_eq!(
            tooltips(&chart.svg),
            vec![
                "Sud-Ovest - Borgo",
                "Nord",
                "Mensa &quot;Il pane&quot;",
                "Centro diurno",
                "Sportello",
                "Povertà (2)",
                "Anziani (2)"
            ]
        );
        assert!(chart.svg.contains("<g data-key=\"s1\"><circle"));
        assert!(chart.svg.contains("<g data-key=\"s2\"><rect"));
        assert!(chart.svg.contains("<g data-key=\"s3\"><circle"));
        assert!(!chart.svg.contains("data-key=\"far\""), "outside the map");
        assert!(chart.svg.contains("points outside the map: 1"));
        assert_eq!(
            chart.table.columns,
            vec!["Nome", "Categoria", "Latitudine", "Longitudine"]
        );
        assert_eq!(
            chart.table.rows[0],
            vec!["Mensa \"Il pane\"", "Povertà", "0,50000", "0,50000"]
        );
        assert_eq!(
            chart.table.rows[3],
            vec!["Altrove", "Anziani", "fuori mappa", "fuori mappa"]
        );
        assert_eq!(chart, point_map(&grid(), &points, &opts).expect("map"));
        let en = point_map(
            &grid(),
            &points,
            &ChartOptions {
                locale: Locale::En,
                ..opts
            },
        )
        .expect("map");
        assert_eq!(en.table.rows[3][2], "outside the map");
    }

    #[test]
    fn the_ninth_group_is_hollow() {
        let points: Vec<MapPoint> = (0..9)
            .map(|i| point(&format!("p{i}"), "x", &format!("g{i}"), 0.5, 0.5))
            .collect();
        let chart = point_map(&grid(), &points, &ChartOptions::default()).expect("map");
        assert!(
            chart.svg.contains(
                "<g data-key=\"p0\"><circle cx=\"113.00\" cy=\"212.00\" r=\"4.00\" fill=\"#0072B2\""
            ),
            "{}",
            chart.svg
        );
        assert!(chart.svg.contains("<g data-key=\"p8\"><circle cx=\"113.00\" cy=\"212.00\" r=\"4.00\" fill=\"#ffffff\" stroke=\"#0072B2\""));
    }

    #[test]
    fn a_map_without_points_is_the_base_map() {
        let chart = point_map(&grid(), &[], &ChartOptions::default()).expect("map");
        assert_eq!(chart.svg.matches("<path").count(), 2);
        assert!(chart.table.rows.is_empty());
        assert!(point_map("{}", &[], &ChartOptions::default()).is_err());
    }
}
