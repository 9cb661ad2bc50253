//! `datalab simulate` on the synthetic city: the contract (cost, beneficiaries, poverty rate
//! and Gini, baseline and scenario, in JSON), the gate over the tables, the lab-side trace,
//! the non-take-up list through the custodian's re-identification, and errors.

use crate::support::{city, datalab, datalab_with, ok, ok_with, query, s};
use std::collections::BTreeSet;

const DEMO_PASSPHRASE: &str = "synthetic city demo passphrase";

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

#[test]
fn simulate_compares_a_reform_with_its_baseline_through_the_gate() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.05");
    ok(&["build", "--project", s(&lab), "--quiet"]);
    let p = s(&lab);

    // The contract: cost, beneficiaries, poverty rate and Gini, baseline and scenario.
    let out = ok(&[
        "simulate",
        "--quiet",
        "--project",
        p,
        "adi_soglie_2025",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&out).expect("json");
    let (b, sc) = (&r["baseline"], &r["scenario"]);
    assert_eq!(b["name"], "baseline");
    assert_eq!(sc["name"], "adi_soglie_2025");
    let declaring = query(
        &lab,
        "SELECT count(*) FROM isee_households WHERE year = 2024",
    )[0][0]
        .parse::<f64>()
        .expect("count");
    assert_eq!(num(&sc["households"]), declaring);
    for side in [b, sc] {
        assert!(num(&side["cost"]) > 0.0, "{side}");
        assert!(num(&side["beneficiaries"]["households"]) > 0.0, "{side}");
        assert!(
            num(&side["beneficiaries"]["persons"]) >= num(&side["beneficiaries"]["households"])
        );
        let rate = num(&side["poverty_rate"]);
        assert!((0.0..1.0).contains(&rate), "{side}");
        let gini = num(&side["gini"]);
        assert!((0.0..1.0).contains(&gini), "{side}");
    }
    // Baseline beneficiaries can only be households with an ISEE within the 2024 threshold.
    let within = query(
        &lab,
        "SELECT count(*) FROM isee_households WHERE year = 2024 AND isee <= 9360",
    )[0][0]
        .parse::<f64>()
        .expect("count");
    assert!(num(&b["beneficiaries"]["households"]) <= within);
    // The reform raises the thresholds and adds a contribution: it costs more and nobody
    // loses; the cost difference is the difference of the costs.
    assert!(num(&sc["cost"]) > num(&b["cost"]));
    assert!((num(&r["cost_difference"]) - (num(&sc["cost"]) - num(&b["cost"]))).abs() < 1e-6);
    let deciles = r["by_decile"].as_array().expect("deciles");
    assert_eq!(deciles.len(), 10);
    let threshold = num(&r["disclosure"]["threshold"]);
    let mut shown_winners = 0.0;
    for row in deciles
        .iter()
        .chain(r["by_zone"].as_array().expect("zones"))
    {
        for key in ["winners", "losers", "unchanged"] {
            // a shown count is 0 or at least the threshold: small cells never leave the gate
            if let Some(x) = row[key].as_f64() {
                assert!(x == 0.0 || x >= threshold, "{row}");
            }
        }
        if let Some(l) = row["losers"].as_f64() {
            assert_eq!(l, 0.0, "{row}");
        }
        if row["decile"].is_string() {
            shown_winners += row["winners"].as_f64().unwrap_or(0.0);
        }
    }
    assert!(shown_winners > 0.0);
    // As text: nobody loses, so every shown mean loss is `-` (a mean over nobody), never `x`
    // (hidden) or a number; hidden cells are `x`.
    let text = ok(&["simulate", "--quiet", "--project", p, "adi_soglie_2025"]);
    let (mut decile_rows, mut undefined) = (0, 0);
    for line in text
        .lines()
        .skip_while(|l| !l.starts_with("decile"))
        .skip(1)
    {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() != 6 {
            break;
        }
        match cols[2] {
            "0" => {
                assert_eq!(cols[5], "-", "{line}");
                undefined += 1;
            }
            hidden => assert_eq!(hidden, "x", "{line}"),
        }
        decile_rows += 1;
    }
    assert_eq!(decile_rows, 10, "{text}");
    assert!(undefined > 0, "{text}");
    assert!(
        text.contains("-: no winners (or losers) to average"),
        "{text}"
    );
    // Every hidden cell is listed with the rule that hid it, and shown as null.
    let suppressed = r["suppressed"].as_array().expect("suppressed");
    assert!(
        !suppressed.is_empty(),
        "the city's small zones leave cells to hide"
    );
    for c in suppressed {
        assert_eq!(c["flag"], "suppressed", "{c}");
        let rules: Vec<&str> = c["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|x| x.as_str())
            .collect();
        assert!(!rules.is_empty(), "{c}");
        assert!(
            rules.iter().all(|x| [
                "frequency",
                "dominance",
                "p-percent",
                "secondary",
                "min-sample"
            ]
            .contains(x)),
            "{c}"
        );
    }
    let hidden_zone = suppressed.iter().find(|c| c["table"] == "outcome_by_zone");
    if let Some(c) = hidden_zone {
        let zone = c["cell"]["zone"].as_str().expect("zone");
        let outcome = c["cell"]["outcome"].as_str().expect("outcome");
        let row = r["by_zone"]
            .as_array()
            .expect("zones")
            .iter()
            .find(|z| z["zone"] == zone)
            .expect("the zone's row");
        let key = if outcome == "Total" {
            "households"
        } else {
            outcome
        };
        assert!(row[key].is_null(), "{row}");
    }

    // The text and CSV views of the same gated tables.
    let text = ok(&["simulate", "--quiet", "--project", p, "adi_soglie_2025"]);
    assert!(
        text.contains("poverty rate") && text.contains("Gini"),
        "{text}"
    );
    let csv = ok(&[
        "simulate",
        "--quiet",
        "--project",
        p,
        "adi_soglie_2025",
        "--format",
        "csv",
    ]);
    assert!(csv.starts_with("table,codes,value,flag,rules\n"), "{csv}");
    assert!(csv.contains(",suppressed,"), "{csv}");

    // Non-take-up: eligible under the reform, no ADI according to the data; pseudonyms only.
    let list = tmp.path().join("non_take_up.csv");
    ok(&[
        "simulate",
        "--quiet",
        "--project",
        p,
        "adi_soglie_2025",
        "--non-take-up",
        s(&list),
        "--purpose",
        "Informare i nuclei idonei all'Assegno di inclusione che non lo ricevono",
        "--requested-by",
        "Ufficio di piano",
    ]);
    let text = std::fs::read_to_string(&list).expect("list");
    assert!(text.starts_with("# datalab outreach list\n"), "{text}");
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && *l != "pseudonym")
        .collect();
    assert!(!listed.is_empty());
    assert!(
        listed
            .iter()
            .all(|l| l.starts_with("p1.") && !l.contains(',')),
        "{text}"
    );
    let low_isee: BTreeSet<String> = query(
        &lab,
        "SELECT household FROM isee_households WHERE year = 2024 AND isee <= 10140",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    let adi: BTreeSet<String> = query(
        &lab,
        "SELECT household FROM min_income_households WHERE year = 2024 AND measure = 'ADI'",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    for h in &listed {
        assert!(
            low_isee.contains(*h),
            "{h} is not within the reform's ISEE threshold"
        );
        assert!(!adi.contains(*h), "{h} receives the ADI");
    }
    // The custodian turns it into households to contact with the key and the lookups.
    let people = tmp.path().join("custodian/outreach.csv");
    ok_with(
        &[
            "reidentify",
            "--quiet",
            "--key",
            s(&tmp.path().join("custodian/city.key")),
            "--lookup",
            s(&tmp.path().join("custodian/lookup")),
            "--in",
            s(&list),
            "--out",
            s(&people),
        ],
        &[("DATALAB_KEY_PASSPHRASE", DEMO_PASSPHRASE)],
    );
    let found = csv::Reader::from_path(&people)
        .expect("outreach")
        .records()
        .count();
    assert_eq!(found, listed.len());

    // The trace of one listed household: lab-side, every step explained, audited.
    let h = listed[0];
    let out = ok(&[
        "simulate",
        "--quiet",
        "--project",
        p,
        "adi_soglie_2025",
        "--trace",
        h,
        "--format",
        "json",
    ]);
    let t: serde_json::Value = serde_json::from_str(&out).expect("trace json");
    assert_eq!(t["lab_side_only"], true);
    let adi = &t["scenario"]["rules"][0];
    assert_eq!(adi["rule"], "adi_2024");
    assert_eq!(adi["eligible"], true);
    assert_eq!(adi["received"], false);
    assert!(num(&adi["value"]) > 0.0);
    let isee_condition = &adi["conditions"][0];
    assert_eq!(isee_condition["expression"], "isee <= isee_max");
    assert_eq!(
        isee_condition["operands"][1],
        serde_json::json!(["isee_max", "10140"])
    );
    let text = ok(&[
        "simulate",
        "--quiet",
        "--project",
        p,
        "adi_soglie_2025",
        "--trace",
        h,
    ]);
    assert!(
        text.contains("condition ISEE under the threshold") && text.contains("=> "),
        "{text}"
    );
    let audit = ok(&["audit", "show", "--project", p, "--format", "json"]);
    assert!(
        audit.contains("simulation_trace") && audit.contains(h),
        "the trace is audited"
    );
    assert!(audit.contains("non_take_up"), "the list is audited");
}

#[test]
fn simulate_refuses_unknown_scenarios_and_broken_rules_with_exit_code_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lab = city(tmp.path(), "0.02");
    let p = s(&lab);
    let out = datalab(&["simulate", "--project", p, "adi_soglie_2052"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no scenario `adi_soglie_2052`")
            && err.contains("did you mean `adi_soglie_2025`?"),
        "{err}"
    );

    let rule = lab.join("simulations/rules/adi_2024.toml");
    let text = std::fs::read_to_string(&rule).expect("rule");
    std::fs::write(&rule, text.replace("isee <= isee_max", "isee <= isee_mx")).expect("write");
    let out = datalab_with(&["simulate", "--project", p, "baseline"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .position(|l| l.contains("isee <= isee_max"))
        .expect("the condition's line")
        + 1;
    assert!(
        err.contains(&format!("adi_2024.toml:{line}:"))
            && err.contains("unknown name `isee_mx`")
            && err.contains("did you mean `isee_max`?"),
        "{err}"
    );
}
