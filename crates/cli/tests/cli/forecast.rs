//! `datalab forecast` on the synthetic city: the CSV/JSON contract, the naive method and its
//! interval recomputed by hand from the cube's own series, backtests recomputed by hand, and
//! usage errors.

use crate::support::{city, datalab, ok, query, released_city, s};
use std::collections::BTreeMap;
use std::path::Path;

const INDICATOR: &str = "children_in_care";
const TERRITORY: &str = "Q1";

/// The cube's total series of the indicator at the territory, oldest first.
fn history(lab: &Path) -> Vec<(String, f64)> {
    query(
        lab,
        &format!(
            "SELECT period, value FROM cube WHERE indicator = '{INDICATOR}' AND territory = '{TERRITORY}' \
             AND breakdown = '' AND NOT forecast ORDER BY period"
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
        err.contains("18 months are not a whole number of periods of a year series"),
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

/// The build's forecasts in the cube (`[forecast]` of the synthetic city: 3 years, auto, 95%,
/// WLS): flagged, after the observed periods, adding up across the hierarchy where the
/// observations do, equal to `datalab forecast --reconcile wls`, and never released.
#[test]
fn forecasts_in_the_cube() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = released_city(tmp.path(), "0.02");
    let num = |t: &str| -> Option<f64> { (!t.is_empty()).then(|| t.parse().expect("a number")) };

    // Observed rows carry no model; forecasts carry one, the flag, and a period after the
    // series' last observed one; every forecast series has exactly 3 periods.
    let bad = query(
        &lab,
        "SELECT count(*) FROM cube WHERE (forecast AND (model IS NULL OR flags NOT LIKE '%forecast%')) \
         OR (NOT forecast AND (model IS NOT NULL OR flags LIKE '%forecast%'))",
    );
    assert_eq!(bad[0][0], "0");
    // Each series' forecasts start after its own last observed period (a survey may end
    // a year before the register).
    let misplaced = query(
        &lab,
        "SELECT f.indicator, f.territory FROM \
           (SELECT indicator, territory, min(period) AS first, max(period) AS last FROM cube \
            WHERE forecast GROUP BY indicator, territory) f \
         JOIN (SELECT indicator, max(period) AS last FROM cube WHERE NOT forecast AND breakdown = '' \
               GROUP BY indicator) o ON f.indicator = o.indicator \
         WHERE CAST(f.first AS INT) <> CAST(o.last AS INT) + 1 OR CAST(f.last AS INT) <> CAST(o.last AS INT) + 3",
    );
    assert!(misplaced.is_empty(), "{misplaced:?}");
    let forecast_count = query(
        &lab,
        "SELECT count(DISTINCT indicator) FROM cube WHERE forecast",
    );
    assert!(
        forecast_count[0][0].parse::<usize>().unwrap() > 20,
        "{forecast_count:?}"
    );
    let uneven = query(
        &lab,
        "SELECT indicator, territory, breakdown FROM cube WHERE forecast \
         GROUP BY indicator, territory, breakdown HAVING count(*) <> 3",
    );
    assert!(uneven.is_empty(), "{uneven:?}");
    // The synthetic city forecasts totals only (`breakdowns` is off).
    let with_breakdown = query(
        &lab,
        "SELECT count(*) FROM cube WHERE forecast AND breakdown <> ''",
    );
    assert_eq!(with_breakdown[0][0], "0");

    // Reconciled counts add up: each territory's forecast numerator (and denominator) is the
    // sum of its children's; values are numerator / denominator × factor.
    let rows = query(
        &lab,
        "SELECT c.indicator, c.territory, t.parent, c.period, c.numerator, c.denominator, c.value, i.factor \
         FROM cube c JOIN territories t ON c.territory = t.code JOIN indicators i ON c.indicator = i.series \
         WHERE c.forecast AND c.flags LIKE '%reconciled%' ORDER BY 1, 2, 4",
    );
    assert!(rows.len() > 100, "reconciled forecasts: {}", rows.len());
    let mut sums: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
    let mut own: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
    for r in &rows {
        let (n, d) = (num(&r[4]).expect("a numerator"), num(&r[5]).unwrap_or(0.0));
        own.insert((r[0].clone(), r[1].clone(), r[3].clone()), (n, d));
        if !r[2].is_empty() {
            let e = sums
                .entry((r[0].clone(), r[2].clone(), r[3].clone()))
                .or_default();
            e.0 += n;
            e.1 += d;
        }
        let factor: f64 = r[7].parse().expect("factor");
        let value = num(&r[6]);
        match num(&r[5]) {
            Some(d) if d > 0.0 => {
                let v = value.expect("a value");
                assert!(
                    (v - n / d * factor).abs() <= 1e-9 * v.abs().max(1.0),
                    "{r:?}"
                );
            }
            Some(_) => assert_eq!(value, None, "{r:?}"),
            None => assert!((value.expect("a value") - n * factor).abs() < 1e-6, "{r:?}"),
        }
    }
    let mut checked = 0;
    for (key, (n, d)) in &sums {
        // Parents outside the computed levels (the region above the city) have no row.
        let Some((pn, pd)) = own.get(key) else {
            continue;
        };
        assert!(
            (pn - n).abs() <= 1e-6 * pn.abs().max(1.0),
            "{key:?}: {pn} vs {n}"
        );
        assert!(
            (pd - d).abs() <= 1e-6 * pd.abs().max(1.0),
            "{key:?}: {pd} vs {d}"
        );
        checked += 1;
    }
    assert!(checked > 50, "parents checked: {checked}");

    // The command gives the same forecasts as the build for the same settings.
    let stored = query(
        &lab,
        &format!(
            "SELECT period, value, lower, upper, model FROM cube WHERE forecast AND indicator = '{INDICATOR}' \
             AND territory = '{TERRITORY}' AND breakdown = '' ORDER BY period"
        ),
    );
    let printed = csv_rows(&ok(&[
        "forecast",
        "--project",
        s(&lab),
        INDICATOR,
        "--territory",
        TERRITORY,
        "--horizon",
        "3y",
        "--reconcile",
        "wls",
        "--format",
        "csv",
    ]));
    assert_eq!(stored.len(), 3);
    for (a, b) in stored.iter().zip(&printed) {
        assert_eq!(a[0], b[0]);
        for i in 1..4 {
            let (x, y) = (num(&a[i]).unwrap(), num(&b[i]).unwrap());
            assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a:?} vs {b:?}");
        }
        assert_eq!(a[4], b[4]);
        assert!(b[4].ends_with(" · wls"), "{b:?}");
    }

    // Forecasts are not observations: every released cell of an indicator is an observed
    // cell of the cube.
    let observed: std::collections::BTreeSet<(String, String, String)> = query(
        &lab,
        "SELECT indicator, territory, period FROM cube WHERE NOT forecast",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
    .collect();
    let released = lab.join("releases/annual");
    let mut cells = 0;
    for entry in std::fs::read_dir(&released).expect("the annual release") {
        let path = entry.expect("entry").path();
        let stem = path
            .file_stem()
            .and_then(|x| x.to_str())
            .unwrap_or("")
            .to_string();
        if path.extension().is_none_or(|e| e != "csv") || !observed.iter().any(|(i, ..)| *i == stem)
        {
            continue;
        }
        let mut r = csv::Reader::from_path(&path).expect("a released CSV");
        let h = r.headers().expect("header").clone();
        let col = |name: &str| h.iter().position(|c| c == name).expect("a column");
        let (t, p) = (col("territory"), col("period"));
        for rec in r.records() {
            let rec = rec.expect("record");
            let key = (stem.clone(), rec[t].to_string(), rec[p].to_string());
            assert!(
                observed.contains(&key),
                "{} releases {key:?}",
                path.display()
            );
            cells += 1;
        }
    }
    assert!(cells > 100, "released cells checked: {cells}");
}
