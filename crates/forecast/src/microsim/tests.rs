//! Hand-computed households through the synthetic city's shipped rules (the Assegno di
//! inclusione of 2024 and 2025, the hypothetical municipal contribution), poverty and Gini on a
//! tiny population, rule-file errors, the trace, non-take-up and the gate.

use super::data::variable_names;
use super::gate::protect;
use super::results::{deciles, non_take_up, summarize};
use super::rules::Date;
use super::simulate::evaluate;
use super::*;
use std::collections::BTreeMap;
use std::path::Path;

const ADI_2024: &str = include_str!("../../simulations/rules/adi_2024.toml");
const ADI_2025: &str = include_str!("../../simulations/rules/adi_2025.toml");
const CONTRIBUTO: &str = include_str!("../../simulations/rules/contributo_minori.toml");
const BASELINE: &str = include_str!("../../simulations/scenarios/baseline.toml");
const REFORM: &str = include_str!("../../simulations/scenarios/adi_soglie_2025.toml");

fn shipped(extra_scenarios: &[(&str, &str)]) -> RuleSet {
    let mut scenarios = vec![
        ("s/baseline.toml", BASELINE),
        ("s/adi_soglie_2025.toml", REFORM),
    ];
    scenarios.extend_from_slice(extra_scenarios);
    let s: Vec<(&Path, &str)> = scenarios.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
    RuleSet::parse(
        &[
            (Path::new("r/adi_2024.toml"), ADI_2024),
            (Path::new("r/adi_2025.toml"), ADI_2025),
            (Path::new("r/contributo_minori.toml"), CONTRIBUTO),
        ],
        &s,
        &variable_names(),
    )
    .unwrap()
}

/// A household: (id, zone, isee, isr, members, oecd scale, minors, over_60, head_age,
/// resident_years, minimum-income measure).
#[allow(clippy::too_many_arguments)]
fn hh(
    id: &str,
    zone: &str,
    isee: f64,
    isr: f64,
    members: f64,
    oecd: f64,
    minors: f64,
    over_60: f64,
    head_age: f64,
    resident: f64,
    measure: &str,
) -> Household {
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    for name in variable_names() {
        vars.insert(name.to_string(), Value::Num(0.0));
    }
    for (k, v) in [
        ("isee", isee),
        ("isr", isr),
        ("members", members),
        ("oecd_scale", oecd),
        ("minors", minors),
        ("over_60", over_60),
        ("head_age", head_age),
        ("resident_years", resident),
        ("eq_income", isr / oecd),
    ] {
        vars.insert(k.into(), Value::Num(v));
    }
    for (k, v) in [
        ("zone", zone),
        ("district", "Q1"),
        ("household_type", "altro"),
        ("citizenship_group", "italiana"),
        ("min_income_measure", measure),
    ] {
        vars.insert(k.into(), Value::Text(v.into()));
    }
    Household {
        id: id.into(),
        zone: zone.into(),
        district: "Q1".into(),
        persons: members,
        oecd_scale: oecd,
        income: isr,
        vars,
    }
}

/// Seven households; every amount below is computed by hand.
///
/// ADI scale = 1 + 0.4 x (members 60+ other than the head) + 0.15 x min(minors, 2)
///             + 0.1 x max(0, minors - 2), at most 2.2.
/// Baseline (ADI 2024): ISEE <= 9,360, amount = max(0, 6,000 x scale - ISR).
/// Reform: ISEE <= 10,140, amount = max(0, 6,500 x scale - ISR); then 300 per minor for
/// ISEE <= 15,000 when the simulated ADI is 0.
fn seven() -> Vec<Household> {
    vec![
        // h1: lone parent, 2 minors: scale 1 + 0.3 = 1.3
        //   baseline 6000 x 1.3 - 4000 = 7800 - 4000 = 3800; reform 6500 x 1.3 - 4000 = 4450;
        //   no contribution (ADI > 0). Receives the ADI.
        hh(
            "h1", "Z01", 5000.0, 4000.0, 3.0, 1.6, 2.0, 0.0, 35.0, 6.0, "ADI",
        ),
        // h2: ISEE exactly at the 2024 threshold (<= holds); two members over 60, head 66:
        //   scale 1 + 0.4 x (2 - 1) = 1.4; baseline 8400 - 5000 = 3400; reform 9100 - 5000
        //   = 4100. Receives nothing: non-take-up.
        hh(
            "h2", "Z01", 9360.0, 5000.0, 2.0, 1.5, 0.0, 2.0, 66.0, 6.0, "",
        ),
        // h3: ISEE one cent above the 2024 threshold: baseline 0; reform scale 1.15,
        //   7475 - 6000 = 1475.
        hh(
            "h3", "Z01", 9360.01, 6000.0, 2.0, 1.3, 1.0, 0.0, 40.0, 3.0, "",
        ),
        // h4: ISEE 12,000: no ADI in either; reform contribution 300 x 2 = 600.
        hh(
            "h4", "Z02", 12000.0, 20000.0, 4.0, 2.1, 2.0, 0.0, 45.0, 6.0, "",
        ),
        // h5: single adult of 40, no minor, nobody over 60: no ADI, no contribution.
        hh(
            "h5", "Z02", 4000.0, 3000.0, 1.0, 1.0, 0.0, 0.0, 40.0, 6.0, "",
        ),
        // h6: resident for 1 year only (< 2): no ADI; reform contribution 300 x 1 = 300.
        hh(
            "h6", "Z02", 3000.0, 2000.0, 2.0, 1.3, 1.0, 0.0, 30.0, 1.0, "",
        ),
        // h7: eligible by the conditions but income too high in 2024: 6000 x 1.15 - 7000 =
        //   -100 -> 0; reform 7475 - 7000 = 475 (no contribution: ADI > 0).
        hh(
            "h7", "Z02", 9000.0, 7000.0, 2.0, 1.3, 1.0, 0.0, 30.0, 6.0, "",
        ),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn hand_computed_households_under_baseline_and_reform() {
    let set = shipped(&[]);
    let hs = seven();
    let base = run_scenario(&set, set.scenario("baseline").unwrap(), &hs, &|| {}).unwrap();
    let reform = run_scenario(&set, set.scenario("adi_soglie_2025").unwrap(), &hs, &|| {}).unwrap();
    let totals = |o: &[Outcome]| o.iter().map(|o| o.total).collect::<Vec<f64>>();
    let expect_base = [3800.0, 3400.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let expect_reform = [4450.0, 4100.0, 1475.0, 600.0, 0.0, 300.0, 475.0];
    for (got, want) in totals(&base).iter().zip(expect_base) {
        assert!(close(*got, want), "baseline {:?}", totals(&base));
    }
    for (got, want) in totals(&reform).iter().zip(expect_reform) {
        assert!(close(*got, want), "reform {:?}", totals(&reform));
    }
    // the reform's amounts by rule for h4: the contribution only
    assert_eq!(
        reform[3].amounts,
        vec![
            ("adi_2024".to_string(), 0.0),
            ("contributo_minori".to_string(), 600.0)
        ]
    );
    let b = summarize(&hs, &base);
    let r = summarize(&hs, &reform);
    // cost: 3800 + 3400 = 7200; 4450 + 4100 + 1475 + 600 + 300 + 475 = 11400
    assert!(close(b.cost, 7200.0) && close(r.cost, 11400.0));
    // beneficiaries: h1, h2 (3 + 2 persons); h1, h2, h3, h4, h6, h7 (3+2+2+4+2+2 = 15)
    assert_eq!((b.beneficiary_households, b.beneficiary_persons), (2, 5.0));
    assert_eq!((r.beneficiary_households, r.beneficiary_persons), (6, 15.0));
}

#[test]
fn rules_apply_only_between_their_dates() {
    let set = shipped(&[(
        "s/capodanno.toml",
        "format_version = 1\ntitle = \"t\"\ndate = 2025-01-01\nrules = [\"adi_2024\", \"adi_2025\"]\n",
    )]);
    let d = |year, month, day| Date { year, month, day };
    let (a24, a25) = (&set.rules["adi_2024"], &set.rules["adi_2025"]);
    assert!(a24.in_force(d(2024, 1, 1)) && a24.in_force(d(2024, 12, 31)));
    assert!(!a24.in_force(d(2023, 12, 31)) && !a24.in_force(d(2025, 1, 1)));
    assert!(!a25.in_force(d(2024, 12, 31)) && a25.in_force(d(2025, 1, 1)));
    // h1 on 1 January 2025: the 2024 rule is over (0), the 2025 one gives 6500 x 1.3 - 4000
    let (o, t) = evaluate(&set, set.scenario("capodanno").unwrap(), &seven()[0], true).unwrap();
    assert_eq!(o.amounts[0], ("adi_2024".to_string(), 0.0));
    assert!(close(o.amounts[1].1, 4450.0));
    let t = t.unwrap();
    assert!(!t.rules[0].in_force);
    assert!(
        t.rules[0].notes[0].contains("not in force on 2025-01-01"),
        "{:?}",
        t.rules[0].notes
    );
    assert!(t.rules[0].conditions.is_empty());
}

#[test]
fn the_trace_explains_each_condition_and_formula() {
    let set = shipped(&[]);
    let (_, t) = evaluate(&set, set.scenario("baseline").unwrap(), &seven()[0], true).unwrap();
    let t = t.unwrap();
    assert_eq!(
        (t.household.as_str(), t.scenario.as_str(), t.date.as_str()),
        ("h1", "baseline", "2024-12-31")
    );
    let r = &t.rules[0];
    assert!(r.in_force && r.eligible);
    let c = &r.conditions[0];
    assert_eq!(c.expression, "isee <= isee_max");
    assert_eq!(
        c.operands,
        vec![
            ("isee".to_string(), "5000".to_string()),
            ("isee_max".to_string(), "9360".to_string())
        ]
    );
    assert_eq!(c.result, "true");
    assert!(c.at.starts_with("r/adi_2024.toml:"), "{}", c.at);
    assert_eq!(r.steps[0].name, "scale");
    assert_eq!(r.steps[0].result, "1.3");
    let a = r.amount.as_ref().unwrap();
    assert_eq!(
        a.operands,
        vec![
            ("income_base".to_string(), "6000".to_string()),
            ("scale".to_string(), "1.3".to_string()),
            ("isr".to_string(), "4000".to_string())
        ]
    );
    assert_eq!(a.result, "3800");
    assert_eq!(r.received, Some(true));
    let text = t.to_text();
    assert!(
        text.contains("with income_base = 6000, scale = 1.3, isr = 4000"),
        "{text}"
    );
    assert!(text.contains("total: 3800 euro a year"), "{text}");
    // h7 in 2024: eligible by the conditions, but the income is above 6000 x 1.15 = 6900
    let (_, t7) = evaluate(&set, set.scenario("baseline").unwrap(), &seven()[6], true).unwrap();
    let r7 = &t7.unwrap().rules[0];
    assert!(r7.eligible);
    let a7 = r7.amount.as_ref().unwrap();
    assert_eq!(a7.operands[2], ("isr".to_string(), "7000".to_string()));
    assert_eq!(a7.result, "0");
    assert_eq!(r7.value, 0.0);
}

#[test]
fn non_take_up_lists_eligible_households_that_do_not_receive() {
    let set = shipped(&[]);
    let hs = seven();
    let base = run_scenario(&set, set.scenario("baseline").unwrap(), &hs, &|| {}).unwrap();
    let reform = run_scenario(&set, set.scenario("adi_soglie_2025").unwrap(), &hs, &|| {}).unwrap();
    // baseline: h1 receives its ADI, h2 does not; h7 is eligible by the conditions but gets 0
    assert_eq!(non_take_up(&set, &hs, &base), vec!["h2"]);
    // reform: h2, h3 and h7 would get the ADI and do not receive it; h4 and h6 get only the
    // contribution, whose rule says nothing about receipt
    assert_eq!(non_take_up(&set, &hs, &reform), vec!["h2", "h3", "h7"]);
}

#[test]
fn poverty_and_gini_after_transfers_by_hand() {
    // persons-weighted equivalised incomes: a 10 (1 person), b 30 / 1.5 = 20 (2 persons),
    // c 30 (1 person): the population is 10, 20, 20, 30.
    let hs = vec![
        hh("a", "Z01", 0.0, 10.0, 1.0, 1.0, 0.0, 0.0, 40.0, 6.0, ""),
        hh("b", "Z01", 0.0, 30.0, 2.0, 1.5, 0.0, 0.0, 40.0, 6.0, ""),
        hh("c", "Z01", 0.0, 30.0, 1.0, 1.0, 0.0, 0.0, 40.0, 6.0, ""),
    ];
    let none = |t: f64| Outcome {
        amounts: vec![],
        total: t,
        eligible: vec![],
        received: vec![],
    };
    // median 20, line 12, below: a (1 of 4 persons) = 0.25
    // Gini: ordered pairs' |differences| 2 x (2 x 10 + 20 + 0 + 2 x 10) = 120, over
    // 2 n^2 mean = 2 x 16 x 20 = 640: 0.1875
    let s = summarize(&hs, &[none(0.0), none(0.0), none(0.0)]);
    assert!(close(s.poverty_line.unwrap(), 12.0));
    assert!(close(s.poverty_rate.unwrap(), 0.25));
    assert!(close(s.gini.unwrap(), 0.1875));
    // a transfer of 10 to a: 20, 20, 20, 30: median 20, line 12, nobody below;
    // Gini 2 x (3 x 10) = 60 over 2 x 16 x 22.5 = 720: 1/12
    let s = summarize(&hs, &[none(10.0), none(0.0), none(0.0)]);
    assert!(close(s.poverty_rate.unwrap(), 0.0));
    assert!(close(s.gini.unwrap(), 1.0 / 12.0));
    assert!(close(s.cost, 10.0));
    assert_eq!((s.beneficiary_households, s.beneficiary_persons), (1, 1.0));
}

#[test]
fn deciles_of_ten_equal_weights_are_one_each() {
    let hs: Vec<Household> = (1..=10)
        .map(|i| {
            hh(
                &format!("h{i}"),
                "Z01",
                0.0,
                i as f64,
                1.0,
                1.0,
                0.0,
                0.0,
                40.0,
                6.0,
                "",
            )
        })
        .collect();
    assert_eq!(deciles(&hs), (1..=10).collect::<Vec<u8>>());
}

#[test]
fn the_gate_hides_a_small_cell_and_names_its_rule() {
    let set = shipped(&[]);
    // twelve households like h3 in zone Z01 (winners of 1475 each) and one in Z02
    let mut hs: Vec<Household> = (0..12)
        .map(|i| {
            hh(
                &format!("a{i:02}"),
                "Z01",
                9360.01,
                6000.0,
                2.0,
                1.3,
                1.0,
                0.0,
                40.0,
                3.0,
                "",
            )
        })
        .collect();
    hs.push(hh(
        "b00", "Z02", 9360.01, 6000.0, 2.0, 1.3, 1.0, 0.0, 40.0, 3.0, "",
    ));
    let base = run_scenario(&set, set.scenario("baseline").unwrap(), &hs, &|| {}).unwrap();
    let reform = run_scenario(&set, set.scenario("adi_soglie_2025").unwrap(), &hs, &|| {}).unwrap();
    let (bs, rs) = (summarize(&hs, &base), summarize(&hs, &reform));
    let policy = project::release::Policy::resolve(&Default::default(), &Default::default());
    assert_eq!(policy.threshold, 5);
    let g = protect(&hs, &deciles(&hs), (&base, &bs), (&reform, &rs), &policy).unwrap();
    let t = g.tables["outcome_by_zone"].get();
    let small = t.cell(&["Z02", "winners"]).unwrap();
    assert_eq!(small.value, None);
    assert_eq!(small.flag.as_deref(), Some("suppressed"));
    assert_eq!(small.rules, vec!["frequency".to_string()]);
    // 13 winners in all: the city total stays visible
    assert_eq!(t.cell(&["Total", "winners"]).unwrap().value, Some(13.0));
    // hiding Z02 alone would let anyone subtract: Z01 (the only other zone of district Q1)
    // goes too
    assert_eq!(t.cell(&["Z01", "winners"]).unwrap().value, None);
    // the amount of the lone household: hidden as well
    let gains = g.tables["gains_by_zone"].get();
    assert_eq!(gains.cell(&["Z02"]).unwrap().value, None);
    // amounts are rounded to the cent (6500 x 1.15 is 7474.999... in binary): 13 x 1475
    assert_eq!(gains.cell(&["Total"]).unwrap().value, Some(19175.0));
    // 13 households are fewer than the policy's minimum sample: no Gini, no poverty rate
    let gini = g.statistics["gini_scenario"].get();
    assert_eq!(
        (gini.value, gini.rule.as_deref()),
        (None, Some("min-sample"))
    );
}

fn errors(rules: &[(&str, &str)], scenarios: &[(&str, &str)]) -> Vec<String> {
    let r: Vec<(&Path, &str)> = rules.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
    let s: Vec<(&Path, &str)> = scenarios.iter().map(|(p, t)| (Path::new(*p), *t)).collect();
    match RuleSet::parse(&r, &s, &variable_names()) {
        Err(MicrosimError::Config(e)) => e.iter().map(ToString::to_string).collect(),
        other => panic!("expected configuration errors, got {other:?}"),
    }
}

const RULE_HEAD: &str =
    "format_version = 1\nname = \"x\"\nvalid_from = 2024-01-01\n[parameters]\nisee_max = 9360\n";

#[test]
fn rule_file_errors_name_file_line_and_key() {
    // an unknown name, with the closest one as a hint (line 7)
    let text = format!(
        "{RULE_HEAD}[[conditions]]\nname = \"c\"\nwhen = \"isee <= isee_maxx\"\n[amount]\nformula = \"1\"\n"
    );
    let e = errors(&[("sim/rules/a.toml", &text)], &[]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("sim/rules/a.toml:8:"), "{}", e[0]);
    assert!(
        e[0].contains("key `conditions[0].when`") && e[0].contains("unknown name `isee_maxx`"),
        "{}",
        e[0]
    );
    assert!(e[0].contains("did you mean `isee_max`?"), "{}", e[0]);

    // a syntax error on the second line of a multi-line formula (file line 9)
    let text = format!("{RULE_HEAD}[amount]\nformula = \"\"\"\nmax(0,\n 6000 +* isr)\"\"\"\n");
    let e = errors(&[("sim/rules/b.toml", &text)], &[]);
    assert!(e[0].starts_with("sim/rules/b.toml:9:"), "{}", e[0]);
    assert!(
        e[0].contains("key `amount.formula`: cannot parse"),
        "{}",
        e[0]
    );

    // a misspelt key, located by toml
    let text = RULE_HEAD.replace("valid_from", "valid_form");
    let e = errors(
        &[(
            "sim/rules/c.toml",
            &format!("{text}[amount]\nformula = \"1\"\n"),
        )],
        &[],
    );
    assert!(e[0].starts_with("sim/rules/c.toml:3:"), "{}", e[0]);
    assert!(e[0].contains("did you mean `valid_from`?"), "{}", e[0]);

    // a validity that ends before it starts
    let text = format!("{RULE_HEAD}[amount]\nformula = \"1\"\n").replace(
        "valid_from = 2024-01-01\n",
        "valid_from = 2024-01-01\nvalid_to = 2023-12-31\n",
    );
    let e = errors(&[("sim/rules/d.toml", &text)], &[]);
    assert!(
        e[0].starts_with("sim/rules/d.toml:4:") && e[0].contains("before valid_from"),
        "{}",
        e[0]
    );
}

#[test]
fn scenario_errors_name_file_line_and_key() {
    let rule = format!("{RULE_HEAD}[amount]\nformula = \"isee_max\"\n");
    let later = format!("{RULE_HEAD}[amount]\nformula = \"amount_b\"\n");
    let e = errors(
        &[
            ("r/a.toml", &rule),
            ("r/b.toml", &rule),
            ("r/c.toml", &later),
        ],
        &[
            (
                "s/base.toml",
                "format_version = 1\ntitle = \"t\"\ndate = 2024-12-31\nrules = [\"a\", \"bb\"]\n",
            ),
            (
                "s/reform.toml",
                "format_version = 1\ntitle = \"t\"\ndate = 2024-12-31\nbaseline = \"base\"\nrules = [\"c\", \"b\"]\n[parameters.a]\nisee_mx = 1\n",
            ),
        ],
    );
    assert!(
        e.iter().any(|x| x.starts_with("s/base.toml:4:")
            && x.contains("no rule `bb`")
            && x.contains("did you mean `b`?")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|x| x.starts_with("s/reform.toml:5:") && x.contains("rule `c` reads `amount_b`")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|x| x.starts_with("s/reform.toml:7:")
            && x.contains("no parameter `isee_mx`")
            && x.contains("did you mean `isee_max`?")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|x| x.starts_with("s/reform.toml:")
            && x.contains("rule `a` is not among the scenario's rules")),
        "{e:?}"
    );
}

#[test]
fn a_negative_amount_is_explained_and_paid_as_zero() {
    let rule = format!("{RULE_HEAD}[amount]\nformula = \"isr - isee_max\"\n");
    let set = RuleSet::parse(
        &[(Path::new("r/neg.toml"), rule.as_str())],
        &[(
            Path::new("s/n.toml"),
            "format_version = 1\ntitle = \"t\"\ndate = 2024-06-30\nrules = [\"neg\"]\n",
        )],
        &variable_names(),
    )
    .unwrap();
    // 5000 - 9360 = -4360: no benefit, and the trace says why
    let (o, t) = evaluate(&set, set.scenario("n").unwrap(), &seven()[1], true).unwrap();
    assert_eq!(o.total, 0.0);
    let r = &t.unwrap().rules[0];
    assert_eq!(r.amount.as_ref().unwrap().result, "-4360");
    assert_eq!(
        r.notes,
        vec!["the formula gives -4360: no benefit (0)".to_string()]
    );
}
