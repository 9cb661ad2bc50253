//! Draws one chart of each kind into a folder, for people to look at (and for the README's
//! review of the charts): `cargo run -p datalab-report --example gallery -- OUT [ZONES.geojson]`.
//! The numbers are made up; the map uses the given GeoJSON (e.g. the synthetic city's
//! `lab/territories/zones.geojson`) or a grid of nine square zones.

use std::collections::BTreeMap;

use datalab_report::chart::{
    ChartOptions, FunnelPoint, Limits, Point, Series, Target, bars, choropleth, funnel, line,
    pyramid,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).ok_or("usage: gallery OUT [ZONES.geojson]")?);
    std::fs::create_dir_all(&out)?;
    let opts = |id: &str, title: &str, unit: &str| ChartOptions {
        id: id.into(),
        title: title.into(),
        subtitle: "Dati sintetici".into(),
        unit: unit.into(),
        source: "datalab, città sintetica".into(),
        ..ChartOptions::default()
    };
    let years = ["2019", "2020", "2021", "2022", "2023", "2024"];
    let series = |label: &str, base: f64, step: f64| Series {
        label: label.into(),
        points: years
            .iter()
            .enumerate()
            .map(|(i, y)| {
                let v = base + step * i as f64;
                Point {
                    x: (*y).into(),
                    y: Some(v),
                    lower: Some(v - 1.2),
                    upper: Some(v + 1.2),
                }
            })
            .collect(),
    };
    let charts = [
        (
            "line",
            line(
                &[series("Centro", 12.0, 0.8), series("Nord", 9.5, 0.3)],
                &opts("line", "Rischio di povertà (ISEE)", "%"),
            )?,
        ),
        (
            "bars",
            bars(
                &["Q1", "Q2", "Q3", "Q4"].map(String::from),
                &[Some(1234.5), Some(980.0), None, Some(1510.25)],
                &opts("bars", "Beneficiari di misure di reddito minimo", "persone"),
            )?,
        ),
        (
            "pyramid",
            pyramid(
                &["0-14", "15-29", "30-44", "45-64", "65-79", "80+"].map(String::from),
                &[9000.0, 11000.0, 14000.0, 16000.0, 9000.0, 3500.0].map(Some),
                &[8600.0, 10500.0, 13800.0, 16500.0, 10500.0, 6000.0].map(Some),
                &opts(
                    "pyramid",
                    "Popolazione residente per età e sesso",
                    "persone",
                ),
            )?,
        ),
        (
            "funnel",
            funnel(
                &(1..=12)
                    .map(|i| FunnelPoint {
                        label: format!("Z{i:02}"),
                        denominator: 300.0 * i as f64,
                        rate: 10.0 + if i == 3 { 8.0 } else { 0.4 * (i % 4) as f64 },
                    })
                    .collect::<Vec<_>>(),
                &Target {
                    value: 10.5,
                    limits: Limits::Binomial { per: 100.0 },
                },
                &opts(
                    "funnel",
                    "Utenti dell'assistenza domiciliare, 65+",
                    "per 100",
                ),
            )?,
        ),
    ];
    for (name, chart) in &charts {
        std::fs::write(out.join(format!("{name}.svg")), &chart.svg)?;
    }
    let geojson = match args.get(2) {
        Some(p) => std::fs::read_to_string(p)?,
        None => grid(),
    };
    let codes: Vec<String> = serde_json::from_str::<serde_json::Value>(&geojson)?["features"]
        .as_array()
        .ok_or("no features")?
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str().map(String::from))
        .collect();
    let values: BTreeMap<String, Option<f64>> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), (i % 7 != 3).then(|| 5.0 + (i * 37 % 23) as f64)))
        .collect();
    let map = choropleth(
        &geojson,
        &values,
        &opts("map", "Famiglie con ISEE sotto la soglia per zona", "%"),
    )?;
    std::fs::write(out.join("map.svg"), &map.svg)?;
    println!(
        "wrote line, bars, pyramid, funnel and map to {}",
        out.display()
    );
    Ok(())
}

/// Nine square zones in a 3 x 3 grid around Modena.
fn grid() -> String {
    let mut features = Vec::new();
    for i in 0..9 {
        let (x, y) = (10.90 + 0.01 * (i % 3) as f64, 44.62 + 0.01 * (i / 3) as f64);
        features.push(serde_json::json!({
            "type": "Feature",
            "properties": { "code": format!("Z{:02}", i + 1), "name": format!("Zona {}", i + 1) },
            "geometry": { "type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]] }
        }));
    }
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}
