//! Every chart through the public API: the shared accessibility and determinism rules.

use std::collections::BTreeMap;

use datalab_report::chart::{
    Chart, ChartOptions, FunnelPoint, Limits, Locale, Point, Series, Sort, Target, bars,
    choropleth, funnel, line, pyramid,
};

#[path = "../../src/chart/testutil.rs"]
#[allow(dead_code)]
mod testutil;

fn opts() -> ChartOptions {
    ChartOptions {
        id: "c1".to_owned(),
        title: "Servizi & utenti <2024>".to_owned(),
        subtitle: "Residents aged 65+".to_owned(),
        unit: "%".to_owned(),
        x_label: "Year".to_owned(),
        y_label: "Share".to_owned(),
        source: "Population register".to_owned(),
        ..ChartOptions::default()
    }
}

/// Draws twice and checks the rules every chart follows; `rows` is the expected table length.
fn check(draw: impl Fn(&ChartOptions) -> Chart, rows: usize) {
    for locale in [Locale::It, Locale::En] {
        let o = ChartOptions { locale, ..opts() };
        let chart = draw(&o);
        assert_eq!(chart, draw(&o), "same input, same bytes");
        let svg = &chart.svg;
        testutil::assert_well_formed(svg);
        assert!(
            svg.contains("role=\"img\" aria-labelledby=\"c1-title c1-desc\""),
            "{svg}"
        );
        assert!(svg.contains("<title id=\"c1-title\">Servizi &amp; utenti &lt;2024&gt;</title>"));
        assert!(svg.contains("<desc id=\"c1-desc\">"));
        assert!(svg.contains(">Residents aged 65+ — %</text>"));
        let source = if locale == Locale::It {
            "Fonte"
        } else {
            "Source"
        };
        assert!(svg.contains(&format!(">{source}: Population register</text>")));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_eq!(chart.table.title, "Servizi & utenti <2024>");
        assert_eq!(chart.table.rows.len(), rows);
        assert!(
            chart
                .table
                .rows
                .iter()
                .all(|r| r.len() == chart.table.columns.len())
        );
    }
}

#[test]
fn line_chart() {
    let s = Series {
        label: "Centro".to_owned(),
        points: vec![
            Point {
                x: "2022".to_owned(),
                y: Some(1.0),
                lower: Some(0.5),
                upper: Some(1.5),
            },
            Point::new("2023", None),
            Point::new("2024", Some(3.0)),
        ],
    };
    check(|o| line(std::slice::from_ref(&s), o).expect("line"), 3);
    let chart = line(&[s], &opts()).expect("line");
    assert!(
        chart.svg.contains("values between 0,5 and 3,0"),
        "{}",
        chart.svg
    );
}

#[test]
fn bar_chart() {
    let cats = vec!["Nord".to_owned(), "Sud".to_owned()];
    check(
        |o| {
            bars(
                &cats,
                &[Some(1.0), None],
                &ChartOptions {
                    sort: Sort::Descending,
                    ..o.clone()
                },
            )
            .expect("bars")
        },
        2,
    );
}

#[test]
fn pyramid_chart() {
    let groups = vec!["0-39".to_owned(), "40+".to_owned()];
    check(
        |o| pyramid(&groups, &[Some(10.0), Some(5.0)], &[Some(9.0), None], o).expect("pyramid"),
        2,
    );
}

#[test]
fn funnel_chart() {
    let points = vec![
        FunnelPoint {
            label: "A".to_owned(),
            denominator: 100.0,
            rate: 12.0,
        },
        FunnelPoint {
            label: "B".to_owned(),
            denominator: 2000.0,
            rate: 15.0,
        },
    ];
    let target = Target {
        value: 10.0,
        limits: Limits::Binomial { per: 100.0 },
    };
    check(|o| funnel(&points, &target, o).expect("funnel"), 2);
}

#[test]
fn choropleth_map() {
    let geo = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"A","name":"Alpha"},"geometry":{"type":"Polygon","coordinates":[[[11,44],[11.1,44],[11.1,44.1],[11,44.1],[11,44]]]}},
        {"type":"Feature","properties":{"code":"B"},"geometry":{"type":"MultiPolygon","coordinates":[[[[11.1,44],[11.2,44],[11.2,44.1],[11.1,44]]]]}}]}"#;
    let values: BTreeMap<String, Option<f64>> = [("A".to_owned(), Some(3.5))].into_iter().collect();
    check(|o| choropleth(geo, &values, o).expect("map"), 2);
}
