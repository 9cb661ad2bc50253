//! `datalab forecast` on the synthetic city: the CSV/JSON contract, the naive method and its
//! interval recomputed by hand from the cube's own series, backtests recomputed by hand, and
//! usage errors.

use crate::support::{city, datalab, ok, query, s};
use std::path::Path;

const INDICATOR: &str = "children_in_care";
const TERRITORY: &str = "Q1";

/// The cube's total series of the indicator at the territory, oldest first.
fn history(lab: &Path) -> Vec<(String, f64)> {
    query(
        lab,
        &format!(
            "SELECT period, value FROM cube WHERE indicator = '{INDICATOR}' AND territory = '{TERRITORY}' \
             AND breakdown = '' ORDER BY period"
        ),
    )
    .into_iter()
    .map(|row| (row[0].clone(), row[1].parse().expect("a value")))
    .collect()
}

fn csv_rows(out: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        r.headers().expect("header").iter().collect::<Vec<_>>(),
        ["period", "forecast", "lower", "upper", "model"]
    );
    r.records()
        .map(|x| x.expect("record").iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn forecasts_of_the_synthetic_city() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    ok(&["build", "--quiet", "--project", s(&lab)]);
    let hist = history(&lab);
    assert!(hist.len() >= 5, "the city has several years: {hist:?}");
    let last_year: i64 = hist.last().unwrap().0.parse().expect("yearly periods");
    let last = hist.last().unwrap().1;

    // The contract: period, point forecast, bounds, model; 3y on a yearly series = 3 rows.
    let base = [
        "forecast",
        "--project",
        s(&lab),
        INDICATOR,
        "--territory",
        TERRITORY,
        "--horizon",
        "3y",
    ];
    let rows = csv_rows(&ok(&[&base[..], &["--format", "csv"]].concat()));
    assert_eq!(rows.len(), 3);
    for (h, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (last_year + 1 + h as i64).to_string());
        let (f, lo, hi): (f64, f64, f64) = (
            r[1].parse().unwrap(),
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
        );
        assert!(lo <= f && f <= hi, "{r:?}");
        assert!(!r[4].is_empty());
    }

    // Naive: the last value, with σ² the mean squared difference and se σ√h (95%: z = 1.959964).
    let rows = csv_rows(&ok(&[
        &base[..],
        &["--format", "csv", "--method", "naive", "--level", "95"],
    ]
    .concat()));
    let diffs: Vec<f64> = hist.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let sigma = (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt();
    for (h, r) in rows.iter().enumerate() {
        let f: f64 = r[1].parse().unwrap();
        let hi: f64 = r[3].parse().unwrap();
        assert!((f - last).abs() < 1e-9, "{r:?} vs {last}");
        let want = last + 1.959963984540054 * sigma * ((h + 1) as f64).sqrt();
        assert!(
            (hi - want).abs() < 1e-6 * want.abs().max(1.0),
            "h={} {hi} vs {want}",
            h + 1
        );
        assert_eq!(r[4], "Naive");
    }

    // JSON carries the history the forecasts were made from: exactly the cube's series.
    let json: serde_json::Value =
        serde_json::from_str(&ok(&[&base[..], &["--format", "json"]].concat())).expect("json");
    let got: Vec<(String, f64)> = json["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_f64().unwrap()))
        .collect();
    assert_eq!(got, hist);
    assert_eq!(json["forecasts"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["method"], "auto");

    // Backtest: naive over 3 rolling origins, horizon 1, recomputed by hand from the series.
    let out = ok(&[
        &base[..3],
        &[
            INDICATOR,
            "--territory",
            TERRITORY,
            "--horizon",
            "1",
            "--backtest",
            "--format",
            "csv",
        ],
    ]
    .concat());
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let methods: Vec<&str> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(
        methods,
        ["naive", "snaive", "naive2", "ets", "theta", "auto"]
    );
    let y: Vec<f64> = hist.iter().map(|p| p.1).collect();
    let n = y.len();
    let (mut mase, mut smape) = (0.0, 0.0);
    for t in n - 3..n {
        let scale = (1..t).map(|i| (y[i] - y[i - 1]).abs()).sum::<f64>() / (t - 1) as f64;
        let e = (y[t] - y[t - 1]).abs();
        mase += e / scale / 3.0;
        smape += 200.0 * e / (y[t].abs() + y[t - 1].abs()) / 3.0;
    }
    let naive = &rows[0];
    assert_eq!((naive.get(1), naive.get(2)), (Some("3"), Some("1")));
    assert!(
        (naive.get(3).unwrap().parse::<f64>().unwrap() - mase).abs() < 1e-4,
        "{naive:?} vs {mase}"
    );
    assert!(
        (naive.get(4).unwrap().parse::<f64>().unwrap() - smape).abs() < 1e-4,
        "{naive:?} vs {smape}"
    );

    // Usage errors exit with 2 and say what is wrong, with a hint where one helps.
    let run = |extra: &[&str]| {
        let args = [&["forecast", "--project", s(&lab)][..], extra].concat();
        let out = datalab(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&[INDICATOR, "--territory", "Q11", "--horizon", "2"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no series of `children_in_care` at territory `Q11`")
            && err.contains("did you mean"),
        "{err}"
    );
    let (code, err) = run(&[
        "children_in_cre",
        "--territory",
        TERRITORY,
        "--horizon",
        "2",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("did you mean `children_in_care`"), "{err}");
    let (code, err) = run(&[INDICATOR, "--territory", TERRITORY, "--horizon", "6q"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("not a whole number of periods of this yearly series"),
        "{err}"
    );
    let (code, err) = run(&[
        INDICATOR,
        "--territory",
        TERRITORY,
        "--horizon",
        "2",
        "--method",
        "arima",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the methods are naive, snaive, naive2, ets, theta, auto"),
        "{err}"
    );
    let (code, _) = run(&[
        INDICATOR,
        "--territory",
        TERRITORY,
        "--horizon",
        "2",
        "--level",
        "100",
    ]);
    assert_eq!(code, Some(2));
}
