//! The standard indicator library (`crates/project/library`) on a tiny city computed by hand.
//!
//! `fixtures/tiny_city` holds the synthetic city's lab sources (same names, columns and rules)
//! as small CSV files: 18 persons in 8 households, 2022-2024 (2022 is a baseline year: the first
//! year of social-service data). Its README lists who is who; in the comments below persons are
//! lowercase letters (a..s) and households uppercase letters (A..H), ages are on 31 December.
//! Each test copies the fixture and the library's models and indicators into a temporary folder,
//! builds it with the real binary and checks cube cells against values worked out from the
//! fixture rows, never by running the library's SQL.

use crate::support::{ok, query, s, status};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const CITY: &str = "036023";
const PROVINCE: &str = "036";

/// Every indicator of the library, each checked below (a new library indicator must be added
/// to a test and to this list).
const CHECKED: &[&str] = &[
    // demography
    "population",
    "ageing_index",
    "old_age_dependency_ratio",
    "share_elderly_65",
    "share_elderly_80",
    "share_minors",
    "share_foreign_residents",
    "birth_rate",
    "death_rate",
    "net_migration_rate",
    "mean_household_size",
    "one_person_households",
    "single_parent_households",
    "elderly_75_living_alone",
    // poverty
    "at_risk_of_poverty_isee",
    "gini_isee",
    "median_equivalised_isee_income",
    "isee_below_9360",
    "isee_declaring_households",
    "mean_isee",
    "min_income_households_rate",
    "min_income_recipients",
    "min_income_spending_per_resident",
    "min_income_take_up",
    // housing
    "housing_applications_rate",
    "housing_assignment_share",
    "housing_waiting_list",
    "housing_waiting_time",
    "temporary_housing_users",
    // services
    "social_service_users",
    "social_interventions_started",
    "social_spending_per_resident",
    "home_care_users_65",
    "residential_care_65",
    "children_in_care",
    "children_social_users",
    "disability_service_users",
    "foreign_share_social_users",
    "migrant_services_users",
    // dynamics
    "social_service_new_users",
    "social_service_exits",
    "social_service_retention_12m",
    "social_service_area_change",
    "social_service_area_transitions",
    "disability_new_users",
    // work
    "gol_participants_rate",
    "gol_employment_outcome",
    "social_users_in_gol",
    "workplace_accidents_rate",
    "fatal_workplace_accidents_rate",
    "workplace_accidents_recognition",
    // health
    "bad_perceived_health",
    "depressive_symptoms",
    "smoking",
    "sedentary_lifestyle",
    "obesity",
    // needs and supply
    "elderly_80_alone_home_care_need",
    "children_0_2_nursery_need",
    "elderly_residential_places",
];

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn library() -> PathBuf {
    manifest().join("../project/library")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A temporary copy of the fixture with the library's models and indicators, built.
fn tiny_city() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    copy_dir(&manifest().join("tests/cli/fixtures/tiny_city"), dir);
    copy_dir(&library().join("models"), &dir.join("models"));
    copy_dir(&library().join("indicators"), &dir.join("indicators"));
    ok(&["build", "--project", s(dir), "--quiet"]);
    // Every fixture row loads: a quarantined row would silently change the hand computations.
    let st = status(dir);
    for src in st["sources"].as_array().expect("sources") {
        assert_eq!(src["rows_quarantined"], 0, "{src}");
        assert!(src["rows_loaded"].as_u64().expect("rows") > 0, "{src}");
    }
    tmp
}

/// One cube cell.
#[derive(Debug, Clone)]
struct Cell {
    level: String,
    numerator: Option<f64>,
    denominator: Option<f64>,
    value: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    sample_size: Option<i64>,
    change: Option<f64>,
    flags: String,
}

/// The cube by (indicator, territory, period, breakdown).
struct Cube(HashMap<(String, String, String, String), Cell>);

fn num(s: &str) -> Option<f64> {
    (!s.is_empty()).then(|| s.parse().expect("a number"))
}

fn cube(dir: &Path) -> Cube {
    let rows = query(
        dir,
        "SELECT indicator, territory, period, breakdown, territory_level, numerator, denominator, \
         value, lower, upper, sample_size, change, flags FROM cube",
    );
    let mut cells = HashMap::new();
    for r in rows {
        let cell = Cell {
            level: r[4].clone(),
            numerator: num(&r[5]),
            denominator: num(&r[6]),
            value: num(&r[7]),
            lower: num(&r[8]),
            upper: num(&r[9]),
            sample_size: (!r[10].is_empty()).then(|| r[10].parse().expect("an integer")),
            change: num(&r[11]),
            flags: r[12].clone(),
        };
        let key = (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone());
        assert!(
            cells.insert(key.clone(), cell).is_none(),
            "two cells {key:?}"
        );
    }
    Cube(cells)
}

impl Cube {
    fn cell(&self, indicator: &str, territory: &str, period: &str, breakdown: &str) -> &Cell {
        let key = (
            indicator.to_string(),
            territory.to_string(),
            period.to_string(),
            breakdown.to_string(),
        );
        self.0.get(&key).unwrap_or_else(|| {
            let mut near: Vec<String> = self
                .0
                .keys()
                .filter(|k| k.0 == indicator && (k.1 == territory || k.2 == period))
                .map(|k| format!("{} {} `{}`", k.1, k.2, k.3))
                .collect();
            near.sort();
            panic!("no cell {key:?}; cells of {indicator}: {near:#?}")
        })
    }

    /// Cells of an indicator: (territory level, territory).
    fn places(&self, indicator: &str) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k.0 == indicator)
            .map(|(k, c)| (c.level.clone(), k.1.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn close(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

/// Asserts the value of one cube cell.
fn check(
    cube: &Cube,
    indicator: &str,
    territory: &str,
    period: &str,
    breakdown: &str,
    expected: f64,
) {
    let c = cube.cell(indicator, territory, period, breakdown);
    let got = c.value.unwrap_or_else(|| {
        panic!("{indicator} {territory} {period} `{breakdown}`: no value: {c:?}")
    });
    assert!(
        close(got, expected),
        "{indicator} {territory} {period} `{breakdown}`: got {got}, computed by hand {expected} ({c:?})"
    );
}

/// Asserts numerator and denominator of one cube cell as well as its value.
fn check_ratio(
    cube: &Cube,
    indicator: &str,
    territory: &str,
    period: &str,
    breakdown: &str,
    (numerator, denominator): (f64, f64),
    expected: f64,
) {
    check(cube, indicator, territory, period, breakdown, expected);
    let c = cube.cell(indicator, territory, period, breakdown);
    let (n, d) = (
        c.numerator.expect("numerator"),
        c.denominator.expect("denominator"),
    );
    assert!(
        close(n, numerator) && close(d, denominator),
        "{indicator} {territory} {period} `{breakdown}`: {n} / {d}, by hand {numerator} / {denominator}"
    );
}

#[test]
fn every_library_indicator_is_checked() {
    let mut ids: Vec<String> = std::fs::read_dir(library().join("indicators"))
        .expect("library indicators")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    ids.sort();
    let mut checked: Vec<String> = CHECKED.iter().map(|s| s.to_string()).collect();
    checked.sort();
    assert_eq!(
        ids, checked,
        "library indicators vs the ones this file checks"
    );
}

#[test]
fn demography_and_households() {
    let tmp = tiny_city();
    let c = cube(tmp.path());

    // population. Z03 2024: k (moved in), l, m, o, p, q (immigrated) = 6; in 2023 l, m, n, o,
    // p = 5, so the change is +1.
    check(&c, "population", "Z03", "2024", "", 6.0);
    let z03 = c.cell("population", "Z03", "2024", "");
    assert_eq!(z03.change, Some(6.0 - 5.0), "{z03:?}");
    // Women in 2024: a, c, d, g, h, j, r, m, o, p.
    check(&c, "population", CITY, "2024", "sex=F", 10.0);
    // District Q1 = Z01 (a, b, c, d, e, g) + Z02 (h, i, j, r); the region holds all 16.
    check(&c, "population", "Q1", "2024", "", 6.0 + 4.0);
    check(&c, "population", "08", "2024", "", 16.0);

    // ageing_index, city 2023: aged 65+ are a 85, f 79, g 75, p 83 (l is 64); aged 0-14 are
    // d 11, j 8, r 0 (i is 15).
    check_ratio(
        &c,
        "ageing_index",
        CITY,
        "2023",
        "",
        (4.0, 3.0),
        4.0 / 3.0 * 100.0,
    );
    // old_age_dependency_ratio, city 2024: 65+ a 86, g 76, l 65, p 84 (4); 15-64 b, c, h, i 16,
    // k, m, o, q (8). Women: 65+ a, g, p (3); 15-64 c, h, m, o (4).
    check(
        &c,
        "old_age_dependency_ratio",
        CITY,
        "2024",
        "",
        4.0 / 8.0 * 100.0,
    );
    check(
        &c,
        "old_age_dependency_ratio",
        CITY,
        "2024",
        "sex=F",
        3.0 / 4.0 * 100.0,
    );
    // share_elderly_65, Z03 2024: l 65 and p 84 of k, l, m, o, p, q.
    check(&c, "share_elderly_65", "Z03", "2024", "", 2.0 / 6.0 * 100.0);
    // share_elderly_80, city 2024: a 86 and p 84 of 16.
    check(&c, "share_elderly_80", CITY, "2024", "", 2.0 / 16.0 * 100.0);
    // share_minors, Z02 2024: i 16, j 9, r 1 of h, i, j, r.
    check(&c, "share_minors", "Z02", "2024", "", 3.0 / 4.0 * 100.0);
    // share_foreign_residents, city 2024: h, i, j, r (MAR), k (ALB), q (IND) of 16; men: i, k, q
    // of b, e, i, k, l, q.
    check(
        &c,
        "share_foreign_residents",
        CITY,
        "2024",
        "",
        6.0 / 16.0 * 100.0,
    );
    check(
        &c,
        "share_foreign_residents",
        CITY,
        "2024",
        "sex=M",
        3.0 / 6.0 * 100.0,
    );

    // birth_rate: e born 2024 in Z01 (6 residents); r born 2023 in Z02 (h, i, j, r, k).
    check_ratio(
        &c,
        "birth_rate",
        "Z01",
        "2024",
        "",
        (1.0, 6.0),
        1.0 / 6.0 * 1000.0,
    );
    check(&c, "birth_rate", "Z02", "2023", "", 1.0 / 5.0 * 1000.0);
    // death_rate: f died 2024 in Z01; district Q1 has 10 residents at the end of 2024.
    check_ratio(
        &c,
        "death_rate",
        "Q1",
        "2024",
        "",
        (1.0, 10.0),
        1.0 / 10.0 * 1000.0,
    );
    // net_migration_rate 2024: Z03 gains k (from Z02) and q (from abroad), loses n (emigrated):
    // +1 of 6; Z02 loses k: -1 of 4; the city: k's move cancels, -1 (n) +1 (q) = 0. In 2023 o
    // moved within Z03, which is no migration.
    check(
        &c,
        "net_migration_rate",
        "Z03",
        "2024",
        "",
        (1.0 - 1.0 + 1.0) / 6.0 * 1000.0,
    );
    check(
        &c,
        "net_migration_rate",
        "Z02",
        "2024",
        "",
        -1.0 / 4.0 * 1000.0,
    );
    check_ratio(&c, "net_migration_rate", CITY, "2024", "", (0.0, 16.0), 0.0);
    check(&c, "net_migration_rate", "Z03", "2023", "", 0.0);

    // mean_household_size: 16 residents in 8 households (2024), in 7 (2023); Z03 2024: E (k),
    // F (l, m), G (o, p), H (q); couples with children 2023: B (b, c, d) and F (l, m, n).
    check(&c, "mean_household_size", CITY, "2024", "", 16.0 / 8.0);
    check(&c, "mean_household_size", CITY, "2023", "", 16.0 / 7.0);
    check(&c, "mean_household_size", "Z03", "2024", "", 6.0 / 4.0);
    check(
        &c,
        "mean_household_size",
        CITY,
        "2023",
        "household_type=coppia con figli",
        6.0 / 2.0,
    );
    // one_person_households: 2024 A (a), C (g, widowed), E (k), H (q) of 8; 2023 A, E of 7;
    // foreign heads 2024: D (h), E (k), H (q), two of them alone.
    check(
        &c,
        "one_person_households",
        CITY,
        "2024",
        "",
        4.0 / 8.0 * 100.0,
    );
    check(
        &c,
        "one_person_households",
        CITY,
        "2023",
        "",
        2.0 / 7.0 * 100.0,
    );
    check(
        &c,
        "one_person_households",
        CITY,
        "2024",
        "citizenship_group=straniera",
        2.0 / 3.0 * 100.0,
    );
    // single_parent_households: D of D, B, F (couples with children) in 2023; in 2024 n left F,
    // a couple without children now: D of D, B.
    check(
        &c,
        "single_parent_households",
        CITY,
        "2023",
        "",
        1.0 / 3.0 * 100.0,
    );
    check(
        &c,
        "single_parent_households",
        CITY,
        "2024",
        "",
        1.0 / 2.0 * 100.0,
    );
    // elderly_75_living_alone: 2024 a 86 (alone), g 76 (alone since f died), p 84 (with o): 2 of
    // 3; 2023 a 85 (alone), f 79, g 75, p 83: 1 of 4.
    check(
        &c,
        "elderly_75_living_alone",
        CITY,
        "2024",
        "",
        2.0 / 3.0 * 100.0,
    );
    check(
        &c,
        "elderly_75_living_alone",
        CITY,
        "2023",
        "",
        1.0 / 4.0 * 100.0,
    );
}

/// 2024 declaring households: (equivalised income, persons), from the ISR of each household's
/// latest DSU of the year over the OECD-modified scale of its register composition.
/// - D: h, i 16 (aged 14+), j 9, r 1 (under 14): scale 1 + 0.5 + 2 × 0.3 = 2.1; ISR 6,300 → 3,000
/// - E: k alone: scale 1; ISR 4,000 → 4,000 (k lives in Z03 since June)
/// - A: a alone: scale 1; ISR 9,000 → 9,000
/// - G: o, p: scale 1.5; ISR 18,000 → 12,000
/// - B: b, c (14+), d 12, e 0: scale 1 + 0.5 + 2 × 0.3 = 2.1; ISR 31,500 (c's June correction;
///   b's February DSU said 35,000) → 15,000
/// - F: l, m: scale 1.5; ISR 30,000 → 20,000
///
/// (s's DSU has no register household and is left out.)
const EQ_2024: [(f64, f64); 6] = [
    (3000.0, 4.0),
    (4000.0, 1.0),
    (9000.0, 1.0),
    (12000.0, 2.0),
    (15000.0, 4.0),
    (20000.0, 2.0),
];

#[test]
fn poverty_isee_and_minimum_income() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // Scales and equivalised incomes of EQ_2024, worked out by hand.
    assert!(close(6300.0 / (1.0 + 0.5 + 2.0 * 0.3), 3000.0) && close(31500.0 / 2.1, 15000.0));
    assert!(close(18000.0 / 1.5, 12000.0) && close(30000.0 / 1.5, 20000.0));

    // median_equivalised_isee_income 2024: 14 persons; sorted, the cumulated persons are 4, 5, 6,
    // 8, 12, 14: the 7th person (half of 14, strictly between 6 and 8) is in G → 12,000.
    let persons: f64 = EQ_2024.iter().map(|(_, w)| w).sum();
    assert_eq!(persons, 14.0);
    check(
        &c,
        "median_equivalised_isee_income",
        CITY,
        "2024",
        "",
        12000.0,
    );
    // Z01 2024: A (9,000, 1 person) and B (15,000, 4): half of 5 is reached in B.
    check(
        &c,
        "median_equivalised_isee_income",
        "Z01",
        "2024",
        "",
        15000.0,
    );
    // 2023 (see also the ignored test below): D 6,300 / 2.1 = 3,000 (4 persons), E 5,000 (1),
    // A 8,000 (1), B: b, c, d 11 → scale 1.8, 21,600 / 1.8 = 12,000 (3), F: l, m, n 24 → scale
    // 2.0, 30,000 / 2 = 15,000 (3). 12 persons; the cumulated persons reach exactly 6 (half) at
    // A, so the median is the mean of A's and B's incomes (Eurostat's weighted median).
    check(
        &c,
        "median_equivalised_isee_income",
        CITY,
        "2023",
        "",
        (8000.0 + 12000.0) / 2.0,
    );

    // at_risk_of_poverty_isee 2024: line = 0.6 × 12,000 = 7,200; below it D (4 persons) and E
    // (1) → 5 of 14 persons.
    let line = 0.6 * 12000.0;
    let poor: f64 = EQ_2024
        .iter()
        .filter(|(x, _)| *x < line)
        .map(|(_, w)| w)
        .sum();
    assert_eq!(poor, 4.0 + 1.0);
    check_ratio(
        &c,
        "at_risk_of_poverty_isee",
        CITY,
        "2024",
        "",
        (5.0, 14.0),
        5.0 / 14.0 * 100.0,
    );
    // The city-wide line applies in every zone. Z03: E (k, 1 person, poor), F (2), G (2);
    // Z02: D only; Z01: A (9,000) and B, nobody poor.
    check(
        &c,
        "at_risk_of_poverty_isee",
        "Z03",
        "2024",
        "",
        1.0 / 5.0 * 100.0,
    );
    check(&c, "at_risk_of_poverty_isee", "Z02", "2024", "", 100.0);
    check(&c, "at_risk_of_poverty_isee", "Z01", "2024", "", 0.0);

    // gini_isee 2024 (persons-weighted, Eurostat): G = Σ_{i<j} w_i w_j |x_i − x_j| / (W Σ w x),
    // W = 14, Σ w x = 12,000 + 4,000 + 9,000 + 24,000 + 60,000 + 40,000 = 149,000.
    // Pairs (w_i w_j |x_i − x_j|):
    //   D-E 4·1·1,000 = 4,000      D-A 4·1·6,000 = 24,000    D-G 4·2·9,000 = 72,000
    //   D-B 4·4·12,000 = 192,000   D-F 4·2·17,000 = 136,000  E-A 1·1·5,000 = 5,000
    //   E-G 1·2·8,000 = 16,000     E-B 1·4·11,000 = 44,000   E-F 1·2·16,000 = 32,000
    //   A-G 1·2·3,000 = 6,000      A-B 1·4·6,000 = 24,000    A-F 1·2·11,000 = 22,000
    //   G-B 2·4·3,000 = 24,000     G-F 2·2·8,000 = 32,000    B-F 4·2·5,000 = 40,000
    //   sum = 673,000.
    let pairs = 4000.0
        + 24000.0
        + 72000.0
        + 192000.0
        + 136000.0
        + 5000.0
        + 16000.0
        + 44000.0
        + 32000.0
        + 6000.0
        + 24000.0
        + 22000.0
        + 24000.0
        + 32000.0
        + 40000.0;
    assert_eq!(pairs, 673000.0);
    check(
        &c,
        "gini_isee",
        CITY,
        "2024",
        "",
        pairs / (14.0 * 149000.0) * 100.0,
    );
    // Foreign heads: D (3,000 × 4) and E (4,000 × 1): 4·1·1,000 / (5 × 16,000) = 0.05.
    check(
        &c,
        "gini_isee",
        CITY,
        "2024",
        "citizenship_group=straniera",
        4000.0 / (5.0 * 16000.0) * 100.0,
    );

    // ISEE 2024 (latest DSU): A 8,500, B 14,000 (c's correction), D 4,000, E 3,800, F 21,000,
    // G 10,000; 8 households in 2024.
    // isee_below_9360: A, D, E of 8; Z03: E of E, F, G, H.
    check_ratio(
        &c,
        "isee_below_9360",
        CITY,
        "2024",
        "",
        (3.0, 8.0),
        3.0 / 8.0 * 100.0,
    );
    check(&c, "isee_below_9360", "Z03", "2024", "", 1.0 / 4.0 * 100.0);
    // isee_declaring_households: 6 of 8; people alone: A and E declare, of A, C, E, H.
    check(
        &c,
        "isee_declaring_households",
        CITY,
        "2024",
        "",
        6.0 / 8.0 * 100.0,
    );
    check(
        &c,
        "isee_declaring_households",
        CITY,
        "2024",
        "household_type=persona sola",
        2.0 / 4.0 * 100.0,
    );
    // mean_isee 2024.
    check(
        &c,
        "mean_isee",
        CITY,
        "2024",
        "",
        (8500.0 + 14000.0 + 4000.0 + 3800.0 + 21000.0 + 10000.0) / 6.0,
    );

    // Minimum income 2024: h's ADI (household D, 4 persons) from January, open: 500 × 12;
    // k's SFL (household E, 1 person) March-August: 350 × 6. 2023: h's RdC 600 × 12.
    check_ratio(
        &c,
        "min_income_households_rate",
        CITY,
        "2024",
        "",
        (2.0, 8.0),
        2.0 / 8.0 * 100.0,
    );
    check(
        &c,
        "min_income_recipients",
        CITY,
        "2024",
        "",
        (4.0 + 1.0) / 16.0 * 1000.0,
    );
    check(
        &c,
        "min_income_spending_per_resident",
        CITY,
        "2024",
        "",
        (500.0 * 12.0 + 350.0 * 6.0) / 16.0,
    );
    check(
        &c,
        "min_income_spending_per_resident",
        CITY,
        "2023",
        "",
        600.0 * 12.0 / 16.0,
    );
    // min_income_take_up: recipients D, E of the households below 9,360 (A, D, E; a gets
    // nothing) in 2024; 2023 (ISEE A 7,000, B 13,000, D 3,500, E 4,800, F 18,000): D of A, D, E.
    check(
        &c,
        "min_income_take_up",
        CITY,
        "2024",
        "",
        2.0 / 3.0 * 100.0,
    );
    check(
        &c,
        "min_income_take_up",
        CITY,
        "2023",
        "",
        1.0 / 3.0 * 100.0,
    );
}

#[test]
fn housing() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // Applications: k 2023-05-10 (Z02, still waiting), h 2023-09-01 (Z02, assigned),
    // o 2024-02-15 (Z03, excluded), q 2024-10-01 (Z03, being examined).
    // housing_applications_rate: 2024 o, q per 8 households; Z02 2023: k, h per D, E.
    check(
        &c,
        "housing_applications_rate",
        CITY,
        "2024",
        "",
        2.0 / 8.0 * 1000.0,
    );
    check(
        &c,
        "housing_applications_rate",
        "Z02",
        "2023",
        "",
        2.0 / 2.0 * 1000.0,
    );
    // housing_assignment_share 2023: h's of k's and h's; women: h's of h's.
    check(
        &c,
        "housing_assignment_share",
        CITY,
        "2023",
        "",
        1.0 / 2.0 * 100.0,
    );
    check(&c, "housing_assignment_share", CITY, "2023", "sex=F", 100.0);
    check(&c, "housing_assignment_share", CITY, "2024", "", 0.0);
    // housing_waiting_list: at the end of 2024 k's and q's per 8 households; 2023 k's per 7.
    check(
        &c,
        "housing_waiting_list",
        CITY,
        "2024",
        "",
        2.0 / 8.0 * 1000.0,
    );
    check(
        &c,
        "housing_waiting_list",
        CITY,
        "2023",
        "",
        1.0 / 7.0 * 1000.0,
    );
    // housing_waiting_time: k waits from 2023-05-10: 21 days of May + 30 + 31 + 31 + 30 + 31 +
    // 30 + 31 = 235 days to 2023-12-31, + 366 (2024) = 601; q from 2024-10-01: 30 + 30 + 31 =
    // 91 days. 2024 median of 601 and 91.
    let k_2023 = 21.0 + 30.0 + 31.0 + 31.0 + 30.0 + 31.0 + 30.0 + 31.0;
    check(&c, "housing_waiting_time", CITY, "2023", "", k_2023);
    check(
        &c,
        "housing_waiting_time",
        CITY,
        "2024",
        "",
        (k_2023 + 366.0 + 91.0) / 2.0,
    );
    check(
        &c,
        "housing_waiting_time",
        "Z02",
        "2024",
        "",
        k_2023 + 366.0,
    );
    // temporary_housing_users: k's temporary housing (to 2024-10-31) counts in the zone of his
    // latest case (traineeship, Z03): 1 of Z03's 6 residents, per 10,000.
    check(
        &c,
        "temporary_housing_users",
        "Z03",
        "2024",
        "",
        1.0 / 6.0 * 10000.0,
    );
    check(
        &c,
        "temporary_housing_users",
        "Z02",
        "2023",
        "",
        1.0 / 5.0 * 10000.0,
    );
}

// Social-service users (a case active in the year; zone, age and main area of the latest-started
// case):
//   2022: a (Z01), p (Z03).
//   2023: a, f (Z01); h, i, k (Z02); n, p (Z03) = 7.
//   2024: a, f (Z01; f died in May, not resident); h, i, j (Z02); k (Z03, his July traineeship),
//         l, p, n (Z03; n emigrated in April, not resident) = 9.

#[test]
fn social_services() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // social_service_users: 9 of 16 residents (2024); Z03: k, l, n, p of 6; women: a, h, j, n
    // (no longer resident, still a user of 2024), p of the 10 resident women.
    check(
        &c,
        "social_service_users",
        CITY,
        "2024",
        "",
        9.0 / 16.0 * 1000.0,
    );
    check(
        &c,
        "social_service_users",
        "Z03",
        "2024",
        "",
        4.0 / 6.0 * 1000.0,
    );
    check(
        &c,
        "social_service_users",
        CITY,
        "2024",
        "sex=F",
        5.0 / 10.0 * 1000.0,
    );
    // social_interventions_started: 2023 the cases of f, h, i, n, k (5 of 16 residents); Z03
    // 2024: p's home care, l's transport, k's traineeship (3 of 6).
    check(
        &c,
        "social_interventions_started",
        CITY,
        "2023",
        "",
        5.0 / 16.0 * 1000.0,
    );
    check(
        &c,
        "social_interventions_started",
        "Z03",
        "2024",
        "",
        3.0 / 6.0 * 1000.0,
    );
    // social_spending_per_resident: amounts of the cases started in the year (none recorded
    // counts 0): 2023 f 12,000 + h 1,500 + i 4,000 + k 2,400 (n none); 2024 p 2,000 + l 600 +
    // k 1,800 (j, h none).
    check(
        &c,
        "social_spending_per_resident",
        CITY,
        "2023",
        "",
        (12000.0 + 1500.0 + 4000.0 + 2400.0) / 16.0,
    );
    check(
        &c,
        "social_spending_per_resident",
        CITY,
        "2024",
        "",
        (2000.0 + 600.0 + 1800.0) / 16.0,
    );
    // home_care_users_65: 2023 a of the 65+ a, f, g, p; Z03 2024: p (home care in the disability
    // area) of l 65, p 84.
    check(
        &c,
        "home_care_users_65",
        CITY,
        "2023",
        "",
        1.0 / 4.0 * 1000.0,
    );
    check(
        &c,
        "home_care_users_65",
        "Z03",
        "2024",
        "",
        1.0 / 2.0 * 1000.0,
    );
    // residential_care_65: f in a care home from 2023-02 to his death; Z01 65+: a, f, g (2023),
    // a, g (2024; f still counts as a user of that year).
    check(
        &c,
        "residential_care_65",
        "Z01",
        "2023",
        "",
        1.0 / 3.0 * 1000.0,
    );
    check(
        &c,
        "residential_care_65",
        "Z01",
        "2024",
        "",
        1.0 / 2.0 * 1000.0,
    );
    // children_in_care: i in foster care to 2024-06-30; Z02 minors 2024: i, j, r; boys: e, i.
    check(
        &c,
        "children_in_care",
        "Z02",
        "2024",
        "",
        1.0 / 3.0 * 1000.0,
    );
    check(
        &c,
        "children_in_care",
        CITY,
        "2024",
        "sex=M",
        1.0 / 2.0 * 1000.0,
    );
    // children_social_users: 2024 i, j of the minors d, e, i, j, r; 2023 i of d, i, j, r.
    check(
        &c,
        "children_social_users",
        CITY,
        "2024",
        "",
        2.0 / 5.0 * 1000.0,
    );
    check(
        &c,
        "children_social_users",
        CITY,
        "2023",
        "",
        1.0 / 4.0 * 1000.0,
    );
    // disability_service_users: Z03 2024 p and l of 6; 2023 p of Z03's 5.
    check(
        &c,
        "disability_service_users",
        "Z03",
        "2024",
        "",
        2.0 / 6.0 * 1000.0,
    );
    check(
        &c,
        "disability_service_users",
        "Z03",
        "2023",
        "",
        1.0 / 5.0 * 1000.0,
    );
    // foreign_share_social_users 2024: h, i, j, k of the resident users a, h, i, j, k, l, p (f and
    // n were no longer resident); men: i, k of the resident men i, k, l.
    check(
        &c,
        "foreign_share_social_users",
        CITY,
        "2024",
        "",
        4.0 / 7.0 * 100.0,
    );
    check(
        &c,
        "foreign_share_social_users",
        CITY,
        "2024",
        "sex=M",
        2.0 / 3.0 * 100.0,
    );
    // migrant_services_users 2024: h (cultural mediation) per foreign resident: Z02 h, i, j, r;
    // the city also k and q.
    check(
        &c,
        "migrant_services_users",
        "Z02",
        "2024",
        "",
        1.0 / 4.0 * 1000.0,
    );
    check(
        &c,
        "migrant_services_users",
        CITY,
        "2024",
        "",
        1.0 / 6.0 * 1000.0,
    );
}

#[test]
fn social_service_dynamics() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // social_service_new_users: not users the year before. 2023: f, h, i, k, n (a and p were in
    // 2022) of 16 residents; 2024: j, l.
    check(
        &c,
        "social_service_new_users",
        CITY,
        "2023",
        "",
        5.0 / 16.0 * 1000.0,
    );
    check(
        &c,
        "social_service_new_users",
        CITY,
        "2024",
        "",
        2.0 / 16.0 * 1000.0,
    );
    // 2022 is the first year of case data: nobody is new.
    check(&c, "social_service_new_users", CITY, "2022", "", 0.0);
    // social_service_exits: nothing open after 31 December. 2024: f (ended 05-20), i (06-30),
    // n (02-28) of 9; men: f, i of f, i, k, l. 2023: h (09-30), p (08-31) of 7.
    check(
        &c,
        "social_service_exits",
        CITY,
        "2024",
        "",
        3.0 / 9.0 * 100.0,
    );
    check(
        &c,
        "social_service_exits",
        CITY,
        "2024",
        "sex=M",
        2.0 / 4.0 * 100.0,
    );
    check(
        &c,
        "social_service_exits",
        CITY,
        "2023",
        "",
        2.0 / 7.0 * 100.0,
    );
    // social_service_retention_12m, new users of 2023 twelve months after their first start:
    //   f 2023-02-01 → 2024-02-01 in a care home (to 2024-05-20): yes
    //   h 2023-03-01 → 2024-03-01 benefit ended 2023-09-30, mediation from 2024-04-01: no
    //   i 2023-06-01 → 2024-06-01 foster care to 2024-06-30: yes
    //   n 2023-10-01 → 2024-10-01 ended 2024-02-28: no
    //   k 2023-11-01 → 2024-11-01 housing ended 10-31, traineeship open since 07-01: yes
    check_ratio(
        &c,
        "social_service_retention_12m",
        CITY,
        "2023",
        "",
        (3.0, 5.0),
        3.0 / 5.0 * 100.0,
    );
    check(
        &c,
        "social_service_retention_12m",
        CITY,
        "2023",
        "sex=F",
        0.0,
    );
    check(
        &c,
        "social_service_retention_12m",
        CITY,
        "2023",
        "sex=M",
        100.0,
    );
    // social_service_area_change / transitions 2024, users of 2023 and 2024: a anziani→anziani,
    // f anziani→anziani, i minori→minori, h famiglie→immigrati, k adulti→adulti, n
    // adulti→adulti, p disabili→disabili. Z02: i, h.
    check(
        &c,
        "social_service_area_change",
        CITY,
        "2024",
        "",
        1.0 / 7.0 * 100.0,
    );
    check(
        &c,
        "social_service_area_change",
        "Z02",
        "2024",
        "",
        1.0 / 2.0 * 100.0,
    );
    check(&c, "social_service_area_change", CITY, "2023", "", 0.0);
    check(&c, "social_service_area_transitions", CITY, "2024", "", 7.0);
    check(
        &c,
        "social_service_area_transitions",
        CITY,
        "2024",
        "from_area=famiglie|to_area=immigrati",
        1.0,
    );
    check(
        &c,
        "social_service_area_transitions",
        CITY,
        "2024",
        "to_area=adulti",
        2.0,
    );
    // disability_new_users 2024: l (new) and p (day centre in 2023, home care in 2024: not new
    // to the area).
    check(
        &c,
        "disability_new_users",
        CITY,
        "2024",
        "",
        1.0 / 2.0 * 100.0,
    );
    check(&c, "disability_new_users", CITY, "2024", "sex=M", 100.0);
    check(&c, "disability_new_users", CITY, "2023", "", 0.0);
}

#[test]
fn work_and_accidents() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // GOL measures active in 2024: k (ended 06-30, employed), n (ended 01-31, dropped out; zone
    // and age from the 2023 register, 25), o (in progress), q (ended 12-20, employed); residents
    // aged 15-64 in 2024: b, c, h, i, k, m, o, q. 2023: b (ended 07-31, employed), h (ended 11-30,
    // concluded), n (still in); aged 15-64: b, c, h, i 15, k, l 64, m, n, o.
    check_ratio(
        &c,
        "gol_participants_rate",
        CITY,
        "2024",
        "",
        (4.0, 8.0),
        4.0 / 8.0 * 1000.0,
    );
    check(
        &c,
        "gol_participants_rate",
        CITY,
        "2023",
        "",
        3.0 / 9.0 * 1000.0,
    );
    // gol_employment_outcome: employed of ended: 2024 k, q of k, n, q; men k, q of k, q; 2023 b
    // of b, h.
    check(
        &c,
        "gol_employment_outcome",
        CITY,
        "2024",
        "",
        2.0 / 3.0 * 100.0,
    );
    check(&c, "gol_employment_outcome", CITY, "2024", "sex=M", 100.0);
    check(
        &c,
        "gol_employment_outcome",
        CITY,
        "2023",
        "",
        1.0 / 2.0 * 100.0,
    );
    // social_users_in_gol: users aged 18-64 with a GOL measure in the same year: 2024 h 34 (GOL
    // ended 2023), k 54 (yes), n 25 (yes, to January); 2023 h 33 (yes), k 53 (no), n 24 (yes).
    check(
        &c,
        "social_users_in_gol",
        CITY,
        "2024",
        "",
        2.0 / 3.0 * 100.0,
    );
    check(
        &c,
        "social_users_in_gol",
        CITY,
        "2023",
        "",
        2.0 / 3.0 * 100.0,
    );
    // INAIL, municipality 2024: C 10 reported / 7 recognised / 1 fatal, F 6/4/0, Q 4/1/0 (the
    // province's row, section A, is not the city's); 2023: C 8/6/0, F 5/3/1.
    check_ratio(
        &c,
        "workplace_accidents_rate",
        CITY,
        "2024",
        "",
        (12.0, 8.0),
        (7.0 + 4.0 + 1.0) / 8.0 * 1000.0,
    );
    check(
        &c,
        "fatal_workplace_accidents_rate",
        CITY,
        "2024",
        "",
        1.0 / 8.0 * 100000.0,
    );
    check(
        &c,
        "fatal_workplace_accidents_rate",
        CITY,
        "2023",
        "",
        1.0 / 9.0 * 100000.0,
    );
    check(
        &c,
        "workplace_accidents_recognition",
        CITY,
        "2024",
        "",
        12.0 / 20.0 * 100.0,
    );
    check(
        &c,
        "workplace_accidents_recognition",
        CITY,
        "2024",
        "ateco_section=C",
        7.0 / 10.0 * 100.0,
    );
    // levels = ["municipality"]: no zone, district, province or region cells.
    for id in [
        "workplace_accidents_rate",
        "fatal_workplace_accidents_rate",
        "workplace_accidents_recognition",
    ] {
        assert_eq!(
            c.places(id),
            vec![("municipality".to_string(), CITY.to_string())],
            "{id}"
        );
    }
}

#[test]
fn health_survey_estimates() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // Taken as delivered, with interval and sample size, at the territory of the area: the
    // municipality (036023) and the province (036); "uomini"/"donne" become sex=M/F.
    let e = c.cell("bad_perceived_health", CITY, "2024", "");
    assert_eq!(
        (e.value, e.lower, e.upper, e.sample_size, e.flags.as_str()),
        (Some(9.8), Some(7.9), Some(12.1), Some(812), "estimate"),
        "{e:?}"
    );
    let e = c.cell("bad_perceived_health", CITY, "2024", "sex=F");
    assert_eq!(
        (e.value, e.lower, e.upper, e.sample_size),
        (Some(11.4), Some(8.6), Some(14.9), Some(414))
    );
    check(&c, "bad_perceived_health", PROVINCE, "2024", "", 10.2);
    check(&c, "depressive_symptoms", CITY, "2024", "", 6.3);
    // change: 6.3 − 5.9 (the 2020-2023 estimate).
    let d = c.cell("depressive_symptoms", CITY, "2024", "");
    assert!(close(d.change.expect("change"), 6.3 - 5.9), "{d:?}");
    check(&c, "smoking", CITY, "2024", "", 24.5);
    check(&c, "smoking", CITY, "2024", "age_band_survey=18-34", 30.2);
    check(&c, "sedentary_lifestyle", CITY, "2024", "", 21.7);
    check(&c, "obesity", PROVINCE, "2024", "", 11.9);
    check(&c, "obesity", CITY, "2024", "", 9.4);
    // Only where delivered: never a zone, district or region; the 2020 estimate is before the
    // project's periods.
    for id in [
        "bad_perceived_health",
        "depressive_symptoms",
        "smoking",
        "sedentary_lifestyle",
        "obesity",
    ] {
        for (level, territory) in c.places(id) {
            assert!(
                (level == "municipality" && territory == CITY)
                    || (level == "province" && territory == PROVINCE),
                "{id} at {level} {territory}"
            );
        }
    }
    assert!(
        !c.0.keys()
            .any(|k| k.0 == "depressive_symptoms" && k.2 == "2020"),
        "an estimate outside the periods 2022-2024"
    );
}

#[test]
fn needs_and_supply() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // elderly_80_alone_home_care_need 2024: aged 80+ a 86 (alone) and p 84 (with o) → 1 of 2
    // (both women). In need: a. Home-care places: Z01 2, Z03 1.
    check_ratio(
        &c,
        "elderly_80_alone_home_care_need",
        CITY,
        "2024",
        "",
        (1.0, 2.0),
        1.0 / 2.0 * 100.0,
    );
    // :coverage = places per 100 in need; :gap = in need × 0.2 − places.
    check_ratio(
        &c,
        "elderly_80_alone_home_care_need:coverage",
        CITY,
        "2024",
        "",
        (3.0, 1.0),
        3.0 / 1.0 * 100.0,
    );
    check_ratio(
        &c,
        "elderly_80_alone_home_care_need:gap",
        CITY,
        "2024",
        "",
        (0.2, 3.0),
        1.0 * 0.2 - 3.0,
    );
    check(
        &c,
        "elderly_80_alone_home_care_need",
        "Z01",
        "2024",
        "",
        100.0,
    );
    check(
        &c,
        "elderly_80_alone_home_care_need:coverage",
        "Z01",
        "2024",
        "",
        2.0 / 1.0 * 100.0,
    );
    check(
        &c,
        "elderly_80_alone_home_care_need:gap",
        "Z01",
        "2024",
        "",
        1.0 * 0.2 - 2.0,
    );
    // Z03: p is not alone: nobody in need, 1 place: no coverage, a surplus of 1.
    check(
        &c,
        "elderly_80_alone_home_care_need",
        "Z03",
        "2024",
        "",
        0.0,
    );
    let z03 = c.cell(
        "elderly_80_alone_home_care_need:coverage",
        "Z03",
        "2024",
        "",
    );
    assert_eq!(
        (z03.value, z03.flags.as_str()),
        (None, "need,zero_denominator"),
        "{z03:?}"
    );
    check(
        &c,
        "elderly_80_alone_home_care_need:gap",
        "Z03",
        "2024",
        "",
        0.0 * 0.2 - 1.0,
    );
    assert_eq!(
        c.cell("elderly_80_alone_home_care_need:gap", CITY, "2024", "")
            .flags,
        "need"
    );

    // children_0_2_nursery_need: aged 0-2 are r (Z02; 0 in 2023, 1 in 2024) and e (Z01, 0 in
    // 2024). Nursery places 2024: Z01 1, Z03 2; 2023: Z02 1.
    check(&c, "children_0_2_nursery_need", CITY, "2024", "", 2.0);
    check(
        &c,
        "children_0_2_nursery_need:coverage",
        CITY,
        "2024",
        "",
        (1.0 + 2.0) / 2.0 * 100.0,
    );
    check(
        &c,
        "children_0_2_nursery_need:gap",
        CITY,
        "2024",
        "",
        2.0 * 0.33 - 3.0,
    );
    check(&c, "children_0_2_nursery_need", "Z02", "2024", "", 1.0);
    check(
        &c,
        "children_0_2_nursery_need:coverage",
        "Z02",
        "2024",
        "",
        0.0,
    );
    check(
        &c,
        "children_0_2_nursery_need:gap",
        "Z02",
        "2024",
        "",
        1.0 * 0.33 - 0.0,
    );
    check(
        &c,
        "children_0_2_nursery_need:coverage",
        "Z02",
        "2023",
        "",
        1.0 / 1.0 * 100.0,
    );
    check(
        &c,
        "children_0_2_nursery_need:gap",
        "Z02",
        "2023",
        "",
        1.0 * 0.33 - 1.0,
    );

    // elderly_residential_places: places per 1,000 residents aged 75+. 2024: Z01 5 + Z03 10 of
    // a 86, g 76, p 84; Z03: 10 of p. 2023: Z03 8 of a, f, g 75, p.
    check(
        &c,
        "elderly_residential_places",
        CITY,
        "2024",
        "",
        (5.0 + 10.0) / 3.0 * 1000.0,
    );
    check(
        &c,
        "elderly_residential_places",
        "Z03",
        "2024",
        "",
        10.0 / 1.0 * 1000.0,
    );
    check(
        &c,
        "elderly_residential_places",
        CITY,
        "2023",
        "",
        8.0 / 4.0 * 1000.0,
    );
}

#[test]
fn an_incremental_build_equals_a_full_one() {
    let tmp = tiny_city();
    let dir = tmp.path();
    let sql =
        "SELECT * FROM cube ORDER BY indicator, territory_level, territory, period, breakdown";
    let first = query(dir, sql);
    // A new nursery in Z02: only services_supply is read again, and the cube files that use it.
    let supply = dir.join("data/services_supply/offerta_servizi.csv");
    let mut text = std::fs::read_to_string(&supply).expect("read");
    text.push_str("2024,Z02,nido d'infanzia,pubblico,2,2,1,1.0,0\n");
    std::fs::write(&supply, text).expect("write");
    ok(&["build", "--project", s(dir), "--quiet"]);
    let incremental = query(dir, sql);
    assert_ne!(first, incremental);
    // r is Z02's only child aged 0-2: 2 places for 1 child.
    check(
        &cube(dir),
        "children_0_2_nursery_need:coverage",
        "Z02",
        "2024",
        "",
        2.0 / 1.0 * 100.0,
    );
    ok(&["build", "--project", s(dir), "--quiet", "--force"]);
    assert_eq!(incremental, query(dir, sql));
}

/// Regressions: the poverty line used the lower weighted median (not Eurostat's, which
/// `median_equivalised_isee_income` uses), and crossed breakdowns declared out of alphabetical
/// order were divided by the total.
#[test]
fn poverty_line_median_and_crossed_breakdowns_in_any_order() {
    let tmp = tiny_city();
    let c = cube(tmp.path());
    // 2023: the persons-weighted median is 10,000 (median_equivalised_isee_income says so, see
    // above), so the line is 0.6 × 10,000 = 6,000 and D (3,000, 4 persons) and E (5,000, 1) are
    // below it: 5 of 12. isee_households takes 8,000 (the lowest income where the cumulated
    // persons reach half) and a line of 4,800, leaving E out: 4 of 12.
    check_ratio(
        &c,
        "at_risk_of_poverty_isee",
        CITY,
        "2023",
        "",
        (5.0, 12.0),
        5.0 / 12.0 * 100.0,
    );
    // Crossed breakdowns declared ["sex", "age_band"]: the cells are keyed age_band=..|sex=..,
    // and the denominator must be that of the same age band and sex.
    // social_service_users 2024, women 75-84: p of g 76, p 84.
    check_ratio(
        &c,
        "social_service_users",
        CITY,
        "2024",
        "age_band=75-84|sex=F",
        (1.0, 2.0),
        1.0 / 2.0 * 1000.0,
    );
    // share_foreign_residents 2024, men 15-24: i, the only one.
    check_ratio(
        &c,
        "share_foreign_residents",
        CITY,
        "2024",
        "age_band=15-24|sex=M",
        (1.0, 1.0),
        100.0,
    );
    // elderly_75_living_alone 2024, women 85+: a, alone.
    check_ratio(
        &c,
        "elderly_75_living_alone",
        CITY,
        "2024",
        "age_band=85+|sex=F",
        (1.0, 1.0),
        100.0,
    );
    // home_care_users_65 2024, women 85+: a, in home care.
    check_ratio(
        &c,
        "home_care_users_65",
        CITY,
        "2024",
        "age_band=85+|sex=F",
        (1.0, 1.0),
        1000.0,
    );
}
