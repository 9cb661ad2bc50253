//! Choropleth maps of zones from GeoJSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::format::{format_number, format_opt};
use super::line::with_unit;
use super::svg::{Svg, TOP, escape_xml, num, text_width};
use super::{Chart, ChartError, ChartOptions, SEQUENTIAL_RAMP};

/// Number of classes a map aims for (fewer when there are fewer distinct bounds).
pub const CLASS_COUNT: usize = 5;
/// Width reserved on the right for the legend.
const LEGEND_WIDTH: f64 = 170.0;
/// Margin around the map area.
const MARGIN: f64 = 16.0;
/// Space under the map for the source line.
const MAP_BOTTOM: f64 = 40.0;
/// Fill of zones without a value (under the hatching).
const NO_DATA_GREY: &str = "#d9d9d9";

/// How a map groups values into colour classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Classes {
    /// Quantiles: about the same number of zones per class; good for ranking, hides the size of
    /// gaps. Bounds are the 0, 1/5, ..., 5/5 quantiles with linear interpolation between the
    /// sorted values (type 7, the default of R and numpy).
    #[default]
    Quantile,
    /// Equal intervals: five classes of the same width from the minimum to the maximum; good
    /// when the values' scale is meaningful, may leave classes empty.
    EqualInterval,
}

/// The class bounds for `values` (non-finite values are ignored): `k + 1` increasing bounds for
/// `k <= 5` classes, the first the minimum and the last the maximum. Class `i` holds the values
/// in `bounds[i]..=bounds[i + 1]` (a value on a bound goes to the lower class). Equal bounds are
/// merged, so a map of few distinct values gets fewer classes; no values gives no bounds.
pub fn class_breaks(values: &[f64], classes: Classes) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let k = CLASS_COUNT;
    let mut bounds: Vec<f64> = (0..=k)
        .map(|i| match classes {
            Classes::Quantile => {
                let h = (sorted.len() - 1) as f64 * i as f64 / k as f64;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(sorted.len() - 1);
                sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
            }
            Classes::EqualInterval => min + (max - min) * i as f64 / k as f64,
        })
        .collect();
    bounds.dedup();
    if bounds.len() == 1 {
        bounds.push(max);
    }
    bounds
}

/// The class of `v` given `bounds` from [`class_breaks`].
fn class_of(v: f64, bounds: &[f64]) -> usize {
    let classes = bounds.len().saturating_sub(1).max(1);
    (0..classes)
        .find(|&i| bounds.get(i + 1).is_some_and(|b| v <= *b))
        .unwrap_or(classes - 1)
}

/// The ramp colour of class `i` of `k`: spread over the ramp so that fewer classes stay distinct.
fn class_color(i: usize, k: usize) -> &'static str {
    let last = SEQUENTIAL_RAMP.len() - 1;
    let index = if k <= 1 {
        last / 2
    } else {
        ((i * last) as f64 / (k - 1) as f64).round() as usize
    };
    SEQUENTIAL_RAMP[index.min(last)]
}

/// One zone of the map: its code, name and rings as (longitude, latitude).
pub(super) struct Zone {
    pub code: String,
    pub name: String,
    pub polygons: Vec<Vec<Vec<(f64, f64)>>>,
}

/// How longitude and latitude become pixels: equirectangular with longitudes scaled by the
/// cosine of the mean latitude, fitted to an area keeping the aspect ratio and centred.
pub(super) struct Fit {
    min_lon: f64,
    max_lat: f64,
    k_lon: f64,
    scale: f64,
    ox: f64,
    oy: f64,
    /// The map's size in pixels.
    w: f64,
    h: f64,
}

impl Fit {
    /// Fits the zones' bounding box into the area at `(x0, y0)` of size `(w, h)`.
    pub fn new(
        zones: &[Zone],
        (x0, y0): (f64, f64),
        (w, h): (f64, f64),
    ) -> Result<Fit, ChartError> {
        let points = zones
            .iter()
            .flat_map(|z| z.polygons.iter().flatten().flatten());
        let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(lon, lat) in points {
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
        }
        if !min_lon.is_finite() {
            return Err(ChartError::GeoJson {
                message: "no feature has coordinates to draw".to_owned(),
            });
        }
        let k_lon = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let (map_w, map_h) = ((max_lon - min_lon) * k_lon, max_lat - min_lat);
        let scale = match (map_w > 0.0, map_h > 0.0) {
            (true, true) => (w / map_w).min(h / map_h),
            (true, false) => w / map_w,
            (false, true) => h / map_h,
            (false, false) => 1.0,
        };
        Ok(Fit {
            min_lon,
            max_lat,
            k_lon,
            scale,
            ox: x0 + (w - map_w * scale) / 2.0,
            oy: y0 + (h - map_h * scale) / 2.0,
            w: map_w * scale,
            h: map_h * scale,
        })
    }

    /// The pixel of a (longitude, latitude).
    pub fn project(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            self.ox + (lon - self.min_lon) * self.k_lon * self.scale,
            self.oy + (self.max_lat - lat) * self.scale,
        )
    }

    /// The pixel box of the map: (left, top, right, bottom).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        (self.ox, self.oy, self.ox + self.w, self.oy + self.h)
    }

    /// The path data of a zone's rings.
    pub fn path(&self, z: &Zone) -> String {
        let mut d = String::new();
        for ring in z.polygons.iter().flatten() {
            for (i, p) in ring.iter().enumerate() {
                let (x, y) = self.project(*p);
                d.push_str(&format!(
                    "{}{},{} ",
                    if i == 0 { "M" } else { "L" },
                    num(x),
                    num(y)
                ));
            }
            d.push_str("Z ");
        }
        d
    }
}

/// A choropleth map: each zone of a GeoJSON FeatureCollection filled by the class of its value.
///
/// Zones are the features (`Polygon` or `MultiPolygon`, holes allowed; a `null` geometry is kept
/// in the table but not drawn), identified by `properties.code` (a string or a number) and named
/// by `properties.name` (the code when absent). Values are looked up by code; a code without a
/// value, or with `None`, is "no data": grey with hatching, so it cannot be read as a low value.
/// Values for codes not on the map are ignored.
///
/// The projection is equirectangular with longitudes scaled by the cosine of the mean latitude
/// (the middle of the bounding box), which keeps shapes right at city and regional scale; the map
/// is fitted to the area left of the legend keeping its aspect ratio and centred. Classes follow
/// [`ChartOptions::classes`] ([`class_breaks`], five classes, the sequential ramp); the legend
/// gives each class's bounds, each zone has a `<title>` tooltip "name: value", and zones large
/// enough carry their value as a label. The table has one row per feature, in the file's order.
pub fn choropleth(
    geojson: &str,
    values: &BTreeMap<String, Option<f64>>,
    opts: &ChartOptions,
) -> Result<Chart, ChartError> {
    let zones = parse(geojson)?;
    let value_of = |z: &Zone| {
        values
            .get(&z.code)
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
    };
    let present: Vec<f64> = zones.iter().filter_map(value_of).collect();
    let bounds = class_breaks(&present, opts.classes);
    let k = bounds.len().saturating_sub(1);

    let fit = Fit::new(
        &zones,
        (MARGIN, TOP),
        (
            opts.width - 2.0 * MARGIN - LEGEND_WIDTH,
            opts.height - TOP - MAP_BOTTOM,
        ),
    )?;
    let project = |p: (f64, f64)| fit.project(p);

    let missing = zones.iter().filter(|z| value_of(z).is_none()).count();
    let class_label = |i: usize| {
        format!(
            "{} – {}",
            format_number(bounds[i], opts.decimals, opts.locale),
            format_number(bounds[i + 1], opts.decimals, opts.locale)
        )
    };
    let desc = match (present.first(), k) {
        (Some(_), k) if k > 0 => format!(
            "Map of {} zones in {} classes, from {} to {}; zones without data: {}. The numbers are also given as a table.",
            zones.len(),
            k,
            format_number(bounds[0], opts.decimals, opts.locale),
            format_number(bounds[k], opts.decimals, opts.locale),
            missing
        ),
        _ => format!("Map of {} zones, none with data.", zones.len()),
    };
    let mut svg = Svg::begin(opts, &desc);
    let hatch = format!("{}-nodata", svg.id());
    svg.raw(&format!(
        "<defs><pattern id=\"{hatch}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{NO_DATA_GREY}\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#969696\" stroke-width=\"2\"/></pattern></defs>\n"
    ));

    let mut labels = Vec::new();
    for z in &zones {
        if z.polygons.is_empty() {
            continue;
        }
        let value = value_of(z);
        let fill = match value {
            Some(v) => class_color(class_of(v, &bounds), k).to_owned(),
            None => format!("url(#{hatch})"),
        };
        let d = fit.path(z);
        let tip = format!(
            "{}: {}",
            z.name,
            format_opt(value, opts.decimals, opts.locale)
        );
        svg.raw(&format!(
            "<path d=\"{}\" fill=\"{fill}\" fill-rule=\"evenodd\" stroke=\"#ffffff\" stroke-width=\"0.75\"><title>{}</title></path>\n",
            d.trim_end(),
            escape_xml(&tip)
        ));
        if let Some(v) = value {
            let text = format_number(v, opts.decimals, opts.locale);
            let largest = z
                .polygons
                .iter()
                .filter_map(|p| p.first())
                .map(|r| r.iter().map(|p| project(*p)).collect::<Vec<_>>())
                .max_by(|a, b| area(a).abs().total_cmp(&area(b).abs()));
            if let Some(ring) = largest {
                let xs = ring.iter().map(|p| p.0);
                let width =
                    xs.clone().fold(f64::NEG_INFINITY, f64::max) - xs.fold(f64::INFINITY, f64::min);
                if width >= text_width(&text) * 0.8 + 4.0 {
                    labels.push((centroid(&ring), text));
                }
            }
        }
    }
    for ((x, y), text) in labels {
        svg.raw(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#000000\" stroke=\"#ffffff\" stroke-width=\"2.5\" paint-order=\"stroke\">{}</text>\n",
            num(x),
            num(y + 3.5),
            escape_xml(&text)
        ));
    }

    let lx = opts.width - MARGIN - LEGEND_WIDTH + 12.0;
    let mut ly = TOP + 8.0;
    if !opts.unit.is_empty() {
        let lines = wrap(&opts.unit, LEGEND_WIDTH - 16.0);
        for (i, line) in lines.iter().enumerate() {
            svg.text(lx, ly + 4.0, "start", "font-weight=\"bold\"", line);
            ly += if i + 1 == lines.len() { 18.0 } else { 15.0 };
        }
    }
    let swatch = |svg: &mut Svg, y: f64, fill: &str, label: &str| {
        svg.raw(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"14\" fill=\"{fill}\" stroke=\"#888888\" stroke-width=\"0.5\"/>\n",
            num(lx),
            num(y - 7.0)
        ));
        svg.text(lx + 26.0, y + 4.0, "start", "", label);
    };
    for i in (0..k).rev() {
        swatch(&mut svg, ly, class_color(i, k), &class_label(i));
        ly += 20.0;
    }
    if missing > 0 {
        swatch(
            &mut svg,
            ly,
            &format!("url(#{hatch})"),
            opts.locale.no_data(),
        );
    }

    let columns = vec![
        opts.locale.code().to_owned(),
        opts.locale.name().to_owned(),
        with_unit(opts.locale.value(), opts),
        opts.locale.class().to_owned(),
    ];
    let rows = zones
        .iter()
        .map(|z| {
            let value = value_of(z);
            let class = match value {
                Some(v) if k > 0 => class_label(class_of(v, &bounds)),
                _ => opts.locale.no_data().to_owned(),
            };
            vec![
                z.code.clone(),
                z.name.clone(),
                format_opt(value, opts.decimals, opts.locale),
                class,
            ]
        })
        .collect();
    Ok(Chart::new(svg, opts, columns, rows))
}

/// Splits `text` at spaces into lines that fit `width` pixels (a word longer than that stays
/// whole on its line).
fn wrap(text: &str, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}")) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Signed area of a ring (shoelace).
fn area(ring: &[(f64, f64)]) -> f64 {
    ring.iter()
        .zip(ring.iter().cycle().skip(1))
        .map(|(a, b)| a.0 * b.1 - b.0 * a.1)
        .sum::<f64>()
        / 2.0
}

/// Area centroid of a ring; the mean of its vertices when it has no area.
fn centroid(ring: &[(f64, f64)]) -> (f64, f64) {
    let a = area(ring);
    if a.abs() < 1e-9 {
        let n = ring.len().max(1) as f64;
        return (
            ring.iter().map(|p| p.0).sum::<f64>() / n,
            ring.iter().map(|p| p.1).sum::<f64>() / n,
        );
    }
    let (mut cx, mut cy) = (0.0, 0.0);
    for (p, q) in ring.iter().zip(ring.iter().cycle().skip(1)) {
        let cross = p.0 * q.1 - q.0 * p.1;
        cx += (p.0 + q.0) * cross;
        cy += (p.1 + q.1) * cross;
    }
    (cx / (6.0 * a), cy / (6.0 * a))
}

fn geo_error(message: String) -> ChartError {
    ChartError::GeoJson { message }
}

/// Reads the zones of a FeatureCollection.
pub(super) fn parse(geojson: &str) -> Result<Vec<Zone>, ChartError> {
    let doc: Value =
        serde_json::from_str(geojson).map_err(|e| geo_error(format!("not valid JSON: {e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(geo_error(
            "the top level must be a FeatureCollection".to_owned(),
        ));
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| geo_error("the FeatureCollection has no `features` array".to_owned()))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let props = f.get("properties");
            let code = match props.and_then(|p| p.get("code")) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(geo_error(format!(
                        "feature {i}: missing `properties.code` (a string or a number)"
                    )));
                }
            };
            let name = props
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .map_or_else(|| code.clone(), str::to_owned);
            let context = |what: &str| geo_error(format!("feature {i} (code {code}): {what}"));
            let polygons = match f.get("geometry") {
                None | Some(Value::Null) => Vec::new(),
                Some(g) => {
                    let coords = g
                        .get("coordinates")
                        .ok_or_else(|| context("geometry without `coordinates`"))?;
                    match g.get("type").and_then(Value::as_str) {
                        Some("Polygon") => vec![
                            polygon(coords)
                                .ok_or_else(|| context("malformed Polygon coordinates"))?,
                        ],
                        Some("MultiPolygon") => coords
                            .as_array()
                            .ok_or_else(|| context("malformed MultiPolygon coordinates"))?
                            .iter()
                            .map(|p| {
                                polygon(p)
                                    .ok_or_else(|| context("malformed MultiPolygon coordinates"))
                            })
                            .collect::<Result<_, _>>()?,
                        other => {
                            return Err(context(&format!(
                                "unsupported geometry type {}; use Polygon or MultiPolygon",
                                other.unwrap_or("(none)")
                            )));
                        }
                    }
                }
            };
            Ok(Zone {
                code,
                name,
                polygons,
            })
        })
        .collect()
}

/// The rings of a Polygon's coordinates, each a list of finite (longitude, latitude).
fn polygon(coords: &Value) -> Option<Vec<Vec<(f64, f64)>>> {
    coords
        .as_array()?
        .iter()
        .map(|ring| {
            ring.as_array()?
                .iter()
                .map(|p| {
                    let p = p.as_array()?;
                    let (lon, lat) = (p.first()?.as_f64()?, p.get(1)?.as_f64()?);
                    (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Locale;
    use crate::chart::testutil::{assert_well_formed, tooltips};

    fn square(code: &str, name: &str, lon0: f64, lat0: f64, dlon: f64, dlat: f64) -> String {
        let (lon1, lat1) = (lon0 + dlon, lat0 + dlat);
        format!(
            r#"{{"type":"Feature","properties":{{"code":"{code}","name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},{lat0}],[{lon1},{lat0}],[{lon1},{lat1}],[{lon0},{lat1}],[{lon0},{lat0}]]]}}}}"#
        )
    }

    fn collection(features: &[String]) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        )
    }

    fn values(pairs: &[(&str, Option<f64>)]) -> BTreeMap<String, Option<f64>> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn opts() -> ChartOptions {
        ChartOptions {
            title: "Poverty".to_owned(),
            unit: "%".to_owned(),
            ..ChartOptions::default()
        }
    }

    fn first_path(svg: &str) -> &str {
        svg.lines()
            .find(|l| l.starts_with("<path"))
            .and_then(|l| l.split('"').nth(1))
            .unwrap_or_default()
    }

    #[test]
    fn square_zone_fits_the_viewport_keeping_its_aspect() {
        // Map area: x 16..454 (438 wide), y 64..360 (296 high): the square is 296 wide, centred.
        let geo = collection(&[square("A", "Alpha", -1.0, -1.0, 2.0, 2.0)]);
        let chart = choropleth(&geo, &values(&[("A", Some(1.0))]), &opts()).expect("map");
        assert_eq!(
            first_path(&chart.svg),
            "M87.00,360.00 L383.00,360.00 L383.00,64.00 L87.00,64.00 L87.00,360.00 Z"
        );
    }

    #[test]
    fn longitudes_shrink_by_the_cosine_of_the_mean_latitude() {
        // 2 degrees of longitude at 60°N are as long as 1 degree of latitude: a square again.
        let geo = collection(&[square("A", "Alpha", 10.0, 59.5, 2.0, 1.0)]);
        let chart = choropleth(&geo, &values(&[]), &opts()).expect("map");
        assert_eq!(
            first_path(&chart.svg),
            "M87.00,360.00 L383.00,360.00 L383.00,64.00 L87.00,64.00 L87.00,360.00 Z"
        );
    }

    #[test]
    fn class_breaks_by_hand() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            class_breaks(&v, Classes::Quantile),
            vec![1.0, 2.8, 4.6, 6.4, 8.2, 10.0]
        );
        let classes: Vec<usize> = v
            .iter()
            .map(|x| class_of(*x, &class_breaks(&v, Classes::Quantile)))
            .collect();
        assert_eq!(classes, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
        let v = [0.0, 10.0, 25.0, 50.0, 100.0];
        let b = class_breaks(&v, Classes::EqualInterval);
        assert_eq!(b, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let classes: Vec<usize> = v.iter().map(|x| class_of(*x, &b)).collect();
        assert_eq!(classes, vec![0, 0, 1, 2, 4]);
        assert_eq!(class_breaks(&[3.0, 3.0], Classes::Quantile), vec![3.0, 3.0]);
        assert_eq!(
            class_breaks(&[1.0, 1.0, 1.0, 2.0], Classes::Quantile),
            vec![1.0, 1.4, 2.0]
        );
        assert!(class_breaks(&[], Classes::EqualInterval).is_empty());
        assert_eq!(class_color(0, 5), SEQUENTIAL_RAMP[0]);
        assert_eq!(class_color(1, 2), SEQUENTIAL_RAMP[4]);
    }

    #[test]
    fn no_data_tooltips_legend_and_table() {
        let multi = r#"{"type":"Feature","properties":{"code":7,"name":"Isole"},"geometry":{"type":"MultiPolygon","coordinates":[[[[4,0],[5,0],[5,1],[4,0]]],[[[6,0],[7,0],[7,1],[6,0]]]]}}"#;
        let geo = collection(&[
            square("A", "Centro & Porto", 0.0, 0.0, 1.0, 1.0),
            square("B", "Nord", 1.0, 0.0, 1.0, 1.0),
            square("C", "Sud", 2.0, 0.0, 1.0, 1.0),
            multi.to_owned(),
        ]);
        let o = ChartOptions {
            classes: Classes::EqualInterval,
            ..opts()
        };
        let chart = choropleth(
            &geo,
            &values(&[
                ("A", Some(10.0)),
                ("B", Some(1234.5)),
                ("C", None),
                ("Z", Some(1.0)),
            ]),
            &o,
        )
        .expect("map");
        assert_eq!(
            tooltips(&chart.svg),
            vec![
                "Centro &amp; Porto: 10,0",
                "Nord: 1.234,5",
                "Sud: n.d.",
                "Isole: n.d."
            ]
        );
        assert_eq!(
            chart.svg.matches("fill=\"url(#chart-nodata)\"").count(),
            3,
            "two zones and the legend"
        );
        assert!(chart.svg.contains(">Nessun dato</text>"));
        assert!(
            chart.svg.contains(">10,0 – 254,9</text>")
                && chart.svg.contains(">989,6 – 1.234,5</text>")
        );
        assert_eq!(
            chart.table.columns,
            vec!["Codice", "Nome", "Valore (%)", "Classe"]
        );
        assert_eq!(
            chart.table.rows[0],
            vec!["A", "Centro & Porto", "10,0", "10,0 – 254,9"]
        );
        assert_eq!(
            chart.table.rows[1],
            vec!["B", "Nord", "1.234,5", "989,6 – 1.234,5"]
        );
        assert_eq!(
            chart.table.rows[3],
            vec!["7", "Isole", "n.d.", "Nessun dato"]
        );
        assert!(
            chart
                .svg
                .contains(&format!("fill=\"{}\"", SEQUENTIAL_RAMP[0]))
                && chart
                    .svg
                    .contains(&format!("fill=\"{}\"", SEQUENTIAL_RAMP[4]))
        );
        assert_well_formed(&chart.svg);
        assert_eq!(
            chart,
            choropleth(
                &geo,
                &values(&[
                    ("A", Some(10.0)),
                    ("B", Some(1234.5)),
                    ("C", None),
                    ("Z", Some(1.0))
                ]),
                &o
            )
            .expect("map")
        );
        let en = choropleth(
            &geo,
            &values(&[("B", Some(1234.5))]),
            &ChartOptions {
                locale: Locale::En,
                ..o
            },
        )
        .expect("map");
        assert_eq!(en.table.rows[1][2], "1,234.5");
    }

    #[test]
    fn value_labels_sit_on_large_zones() {
        let geo = collection(&[square("A", "Alpha", 0.0, 0.0, 1.0, 1.0)]);
        let chart = choropleth(&geo, &values(&[("A", Some(42.0))]), &opts()).expect("map");
        // The square spans x 87..383, y 64..360: the label is at its centre.
        assert!(
            chart.svg.contains(
                "<text x=\"235.00\" y=\"215.50\" text-anchor=\"middle\" font-size=\"10\""
            ),
            "{}",
            chart.svg
        );
    }

    #[test]
    fn a_long_unit_wraps_in_the_legend() {
        assert_eq!(
            wrap("% of persons in ISEE-declaring households", 154.0),
            vec!["% of persons in", "ISEE-declaring", "households"]
        );
        assert_eq!(wrap("%", 154.0), vec!["%"]);
        let geo = collection(&[square("A", "Alpha", 0.0, 0.0, 1.0, 1.0)]);
        let o = ChartOptions {
            unit: "% of persons in ISEE-declaring households".to_owned(),
            ..opts()
        };
        let chart = choropleth(&geo, &values(&[("A", Some(1.0))]), &o).expect("map");
        assert!(chart.svg.contains(
            "<text x=\"466.00\" y=\"76.00\" text-anchor=\"start\" font-weight=\"bold\">% of persons in</text>\n<text x=\"466.00\" y=\"91.00\" text-anchor=\"start\" font-weight=\"bold\">ISEE-declaring</text>"
        ), "{}", chart.svg);
    }

    #[test]
    fn bad_geojson_is_reported() {
        let check = |geo: &str, expect: &str| match choropleth(geo, &values(&[]), &opts()) {
            Err(ChartError::GeoJson { message }) => assert!(message.contains(expect), "{message}"),
            other => panic!("{other:?}"),
        };
        check("{", "not valid JSON");
        check(r#"{"type":"Feature"}"#, "FeatureCollection");
        check(
            r#"{"type":"FeatureCollection","features":[{"properties":{}}]}"#,
            "feature 0: missing `properties.code`",
        );
        check(
            r#"{"type":"FeatureCollection","features":[{"properties":{"code":"X"},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#,
            "feature 0 (code X): unsupported geometry type Point",
        );
        check(
            r#"{"type":"FeatureCollection","features":[{"properties":{"code":"X"},"geometry":null}]}"#,
            "no feature has coordinates",
        );
    }
}
