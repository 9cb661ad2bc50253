//! The programme half of the registry over the real WeCaRe Measure 1 data (a copy of
//! `shared/data/wecare/` kept in the example project `examples/wecare/data/`, so that the
//! tests do not depend on the folder outside the repository).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use datalab_registry::Registry;
use datalab_registry::network;
use datalab_registry::programme::{self, Cell, Table};
use datalab_registry::wecare::{self, LeadBasis};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/wecare/data")
}

/// A whole registry (providers schema, history triggers, programme tables) with WeCaRe
/// imported.
fn registry() -> (Registry, wecare::ImportReport) {
    let mut reg = Registry::open_in_memory().unwrap();
    let report = wecare::import(reg.connection_mut(), &data_dir()).unwrap();
    (reg, report)
}

/// The rows of a data file, split on commas (for the files without quoted fields).
fn csv_rows(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
    text.lines()
        .skip(1)
        .map(|line| line.split(',').map(String::from).collect())
        .collect()
}

fn check(table: &Table, expect: &str) {
    let text = table.to_string();
    assert_eq!(text.trim_end(), expect.trim(), "\n{text}");
}

fn int(table: &Table, first: &str, column: &str) -> i64 {
    match table.get(first, column) {
        Some(Cell::Int(v)) => *v,
        other => panic!("{}: {first}/{column}: {other:?}", table.key),
    }
}

#[test]
fn the_copy_matches_the_shared_data_when_it_is_there() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // ../../../shared from the main checkout, one more level up from a worktree.
    let candidates = [
        manifest.join("../../../shared/data/wecare"),
        manifest.join("../../../../shared/data/wecare"),
    ];
    let Some(shared) = candidates
        .iter()
        .find(|dir| dir.join("README.md").is_file())
    else {
        eprintln!("shared/data/wecare not found next to the repository: copy not compared");
        return;
    };
    for file in wecare::FILES.iter().chain(&["README.md"]) {
        let original = std::fs::read(shared.join(file)).unwrap();
        let copy = std::fs::read(data_dir().join(file)).unwrap();
        assert!(
            original == copy,
            "examples/wecare/data/{file} differs from {}",
            shared.display()
        );
    }
}

#[test]
fn every_row_is_loaded_and_the_readme_totals_hold() {
    let (reg, report) = registry();
    let conn = reg.connection();
    for file in &report.files {
        assert!(file.rejected.is_empty(), "{report}");
        assert_eq!(file.rows_read, file.rows_loaded, "{}", file.file);
        assert!(file.ignored_columns.is_empty(), "{}", file.file);
    }
    let rows: Vec<usize> = report.files.iter().map(|f| f.rows_read).collect();
    assert_eq!(rows, [22, 49, 58, 24]);

    // The README's table: "project (22)", "managing body in a project (49)".
    let readme = std::fs::read_to_string(data_dir().join("README.md")).unwrap();
    assert!(readme.contains("| projects.csv | project (22) |"));
    assert!(readme.contains("| managing_bodies.csv | managing body in a project (49) |"));
    assert!(readme.contains("formed 22 public-private"));
    assert!(readme.contains("grouped in 4 territorial quadrants"));
    assert!(readme.contains("the 30 social-cohesion districts"));
    assert!(readme.contains("the 7 reading keys"));
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |row| row.get(0)).unwrap() };
    assert_eq!(one("SELECT COUNT(*) FROM projects"), 22);
    assert_eq!(
        one("SELECT COUNT(*) FROM project_partners WHERE role = 'managing_body'"),
        49
    );
    assert_eq!(one("SELECT COUNT(DISTINCT quadrant) FROM projects"), 4);
    assert_eq!(
        one("SELECT COUNT(DISTINCT territorial_area) FROM project_partners"),
        30
    );
    assert_eq!(
        one("SELECT COUNT(DISTINCT thematic_area) FROM project_thematic_areas"),
        7
    );
    assert_eq!(one("SELECT COUNT(*) FROM interventions"), 58);
    assert_eq!(one("SELECT COUNT(DISTINCT category) FROM interventions"), 9);
    // Every project is in at least one thematic area (two are in two).
    assert_eq!(
        one("SELECT COUNT(DISTINCT project_id) FROM project_thematic_areas"),
        22
    );

    // No body is listed in two projects: 49 organizations, all public bodies.
    assert_eq!(report.organizations, 49);
    assert!(report.merged_bodies.is_empty());
    assert_eq!(
        one("SELECT COUNT(*) FROM organizations WHERE kind = 'public_body'"),
        49
    );

    let programme = programme::get_programme(conn, wecare::PROGRAMME_ID)
        .unwrap()
        .unwrap();
    assert_eq!(programme.funder.as_deref(), Some("Regione Piemonte"));
    assert_eq!(
        (programme.budget_eur, programme.budget_approximate),
        (Some(6_500_000.0), true)
    );
    assert_eq!(
        (
            programme.start.unwrap().to_string(),
            programme.end.unwrap().to_string()
        ),
        ("2017".to_string(), "2021".to_string())
    );
}

#[test]
fn every_project_gets_a_lead_from_the_data() {
    let (_conn, report) = registry();
    assert!(report.projects_without_lead.is_empty(), "{report}");
    let leads: BTreeMap<&str, (&str, LeadBasis)> = report
        .leads
        .iter()
        .map(|l| (l.project_id.as_str(), (l.organization_id.as_str(), l.basis)))
        .collect();
    assert_eq!(leads.len(), 22);
    let by_basis = |basis| leads.values().filter(|(_, b)| *b == basis).count();
    assert_eq!(by_basis(LeadBasis::OnlyManagingBody), 12);
    assert_eq!(by_basis(LeadBasis::NamedAfterLeadMunicipality), 10);
    assert_eq!(
        leads["wecare-m1/AL"],
        (
            "org-cissaca-alessandria",
            LeadBasis::NamedAfterLeadMunicipality
        )
    );
    assert_eq!(
        leads["wecare-m1/MO"],
        ("org-cssm-mondovi", LeadBasis::NamedAfterLeadMunicipality)
    );
    assert_eq!(
        leads["wecare-m1/FO"],
        (
            "org-consorzio-monviso-solidale",
            LeadBasis::OnlyManagingBody
        )
    );
    assert_eq!(
        leads["wecare-m1/MC"],
        (
            "org-unione-moncalieri",
            LeadBasis::NamedAfterLeadMunicipality
        )
    );
}

#[test]
fn category_counts_agree_with_a_hand_count_of_the_csv() {
    let (reg, _) = registry();
    let conn = reg.connection();
    let table = programme::projects_by_category(conn, wecare::PROGRAMME_ID).unwrap();
    let mut projects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in csv_rows("interventions.csv") {
        projects
            .entry(row[3].clone())
            .or_default()
            .insert(row[0].clone());
    }
    for (category, codes) in &projects {
        assert_eq!(
            int(&table, category, "projects"),
            codes.len() as i64,
            "{category}"
        );
    }
    // Counted by eye in interventions.csv.
    assert_eq!(int(&table, "socio_labour_inclusion", "projects"), 13);
    assert_eq!(
        int(&table, "stakeholder_tables_and_networks", "projects"),
        8
    );
    assert_eq!(int(&table, "housing_emergency", "projects"), 3);
    assert_eq!(
        table.get("housing_emergency", "project_codes"),
        Some(&Cell::Text("AL, PI, TO".into()))
    );
}

#[test]
fn classification_tables_of_wecare() {
    let (reg, _) = registry();
    let conn = reg.connection();
    let tables = programme::classification_tables(conn, wecare::PROGRAMME_ID).unwrap();
    check(
        &tables[0],
        "
Projects by intervention category
category                                 innovation_class     instrument  projects  share_pct  project_codes
---------------------------------------  -------------------  ----------  --------  ---------  ---------------------------------------------------
mutual_aid_and_solidarity_exchange       social_innovation    service            9       40.9  ALB, BR, CH, OR, PN, RI, SU, TO, VB
information_on_services                  social_innovation    action             9       40.9  AL, BI, CU, FO, NO, RI, RO, SU, VC
socio_labour_inclusion                   territorial_welfare  service           13       59.1  AL, ALB, BO, BR, CA, CU, FO, MC, PI, RO, SU, TO, VC
minors_and_families                      territorial_welfare  service            7       31.8  AL, BI, BO, CH, CN, CU, FO
elderly_and_dependent_persons            territorial_welfare  service            4       18.2  MO, NO, SU, VB
housing_emergency                        territorial_welfare  service            3       13.6  AL, PI, TO
stakeholder_tables_and_networks          territorial_welfare  action             8       36.4  BI, CH, FO, MC, NO, PN, TO, VC
harmonisation_and_integration_of_supply  territorial_welfare  action             3       13.6  BR, CU, MO
planning_office                          territorial_welfare  action             2        9.1  AL, SU",
    );
    check(
        &tables[1],
        "
Projects with at least one intervention, by innovation class and instrument
innovation_class     instrument  projects  share_pct  project_codes
-------------------  ----------  --------  ---------  ---------------------------------------------------------------------------------------
social_innovation    service            9       40.9  ALB, BR, CH, OR, PN, RI, SU, TO, VB
social_innovation    action             9       40.9  AL, BI, CU, FO, NO, RI, RO, SU, VC
social_innovation    all               16       72.7  AL, ALB, BI, BR, CH, CU, FO, NO, OR, PN, RI, RO, SU, TO, VB, VC
territorial_welfare  service           19       86.4  AL, ALB, BI, BO, BR, CA, CH, CN, CU, FO, MC, MO, NO, PI, RO, SU, TO, VB, VC
territorial_welfare  action            13       59.1  AL, BI, BR, CH, CU, FO, MC, MO, NO, PN, SU, TO, VC
territorial_welfare  all               20       90.9  AL, ALB, BI, BO, BR, CA, CH, CN, CU, FO, MC, MO, NO, PI, PN, RO, SU, TO, VB, VC
all                  service           22      100.0  AL, ALB, BI, BO, BR, CA, CH, CN, CU, FO, MC, MO, NO, OR, PI, PN, RI, RO, SU, TO, VB, VC
all                  action            15       68.2  AL, BI, BR, CH, CU, FO, MC, MO, NO, PN, RI, RO, SU, TO, VC
all                  all               22      100.0  AL, ALB, BI, BO, BR, CA, CH, CN, CU, FO, MC, MO, NO, OR, PI, PN, RI, RO, SU, TO, VB, VC",
    );
    check(
        &tables[2],
        "
Projects by population served
population_band  population_from  population_below  projects  share_pct  population_served  project_codes
---------------  ---------------  ----------------  --------  ---------  -----------------  --------------------------
under 100k                     0            100000         6       27.3             480134  BR, CA, MO, OR, PI, RO
100k to 150k              100000            150000         6       27.3             712571  ALB, CH, NO, PN, RI, SU
150k to 200k              150000            200000         7       31.8            1152293  BI, BO, CN, FO, MC, VB, VC
200k and over             200000                           3       13.6            2047528  AL, CU, TO",
    );
    check(
        &tables[3],
        "
Projects by quadrant
quadrant                                         projects  share_pct  population_served  project_codes
-----------------------------------------------  --------  ---------  -----------------  --------------------------------------
Torino e provincia                                     10       45.5            2299461  CA, CH, CU, MC, OR, PI, PN, RI, SU, TO
Verbano-Cusio-Ossola, Vercelli, Biella e Novara         6       27.3             860725  BI, BO, NO, RO, VB, VC
Cuneo                                                   5       22.7             589229  ALB, BR, CN, FO, MO
Asti e Alessandria                                      1        4.5             643111  AL",
    );
    check(
        &tables[4],
        "
Thematic areas and their projects
thematic_area           projects  share_pct  project_codes
----------------------  --------  ---------  -------------------
networks_and_community         5       22.7  ALB, MC, OR, PN, RI
elderly                        4       18.2  MO, NO, SU, VB
minors_and_families            4       18.2  AL, BI, CN, CU
school_and_training            4       18.2  CH, FO, PN, SU
housing                        3       13.6  BO, PI, VC
work                           3       13.6  BR, CA, RO
migrants                       1        4.5  TO",
    );
}

#[test]
fn the_wecare_network_is_one_cluster_per_project() {
    let (reg, report) = registry();
    let conn = reg.connection();
    let network = network::analyse(conn, Some(wecare::PROGRAMME_ID)).unwrap();
    assert_eq!(network.organizations.len(), 49);
    assert!(network.organizations.iter().all(|o| o.degree() == 1));
    assert_eq!(network.shared_organizations().count(), 0);
    assert!(network.project_links.is_empty());
    assert_eq!(network.clusters.len(), 22);
    // The organization projection links every pair of bodies of the same project.
    let mut bodies: BTreeMap<String, usize> = BTreeMap::new();
    for row in csv_rows("managing_bodies.csv") {
        *bodies.entry(row[0].clone()).or_default() += 1;
    }
    let pairs: usize = bodies.values().map(|k| k * (k - 1) / 2).sum();
    assert_eq!(network.organization_links.len(), pairs);
    // AL 10 bodies, CU 7, VC 4, BO and VB 3, BI, MO, SU, PN and MC 2.
    assert_eq!(pairs, 45 + 21 + 6 + 3 + 3 + 1 + 1 + 1 + 1 + 1);
    // The largest cluster is Alessandria-Asti's ten bodies.
    assert_eq!(network.clusters[0].projects, ["wecare-m1/AL"]);
    assert_eq!(network.clusters[0].organizations.len(), 10);
    let graph = network.graph();
    assert_eq!(graph.nodes.len(), 49 + 22);
    assert_eq!(
        graph.edges.len(),
        report.managing_body_links + pairs,
        "one partnership edge per body (its lead role is on the same edge)"
    );
    let tables = network.tables();
    assert_eq!(tables[0].rows.len(), 49);
    assert!(tables[3].rows.is_empty() && tables[4].rows.is_empty());
}

#[test]
fn importing_the_real_data_twice_changes_nothing() {
    let (mut reg, first) = registry();
    let snapshot = |conn: &rusqlite::Connection| -> Vec<String> {
        programme::classification_tables(conn, wecare::PROGRAMME_ID)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .chain(
                programme::list_project_partners(conn, wecare::PROGRAMME_ID)
                    .unwrap()
                    .iter()
                    .map(|p| format!("{p:?}")),
            )
            .collect()
    };
    let before = snapshot(reg.connection());
    let second = wecare::import(reg.connection_mut(), &data_dir()).unwrap();
    assert_eq!(snapshot(reg.connection()), before);
    assert_eq!(
        (first.organizations_created, second.organizations_created),
        (49, 0)
    );
    assert!(second.removed.is_empty());
}
