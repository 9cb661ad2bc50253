//! The programme tables.
//!
//! Codes are stored as the snake_case strings of [`super::model`]'s enums and checked by the
//! database too; periods as partial ISO dates (`2021`, `2021-Q3`, `2021-06`, `2021-06-30`);
//! amounts in euro. `project_partners.organization_id` references the `organizations` table
//! owned by the providers half of the registry; SQLite accepts the reference before that table
//! exists (the bundled SQLite enforces foreign keys by default, so it must exist before a partner
//! is written), and the store checks every reference itself to name the object and field.

use rusqlite::Connection;

/// The DDL run by [`init`]; every statement is `IF NOT EXISTS`.
pub const DDL: &str = "
CREATE TABLE IF NOT EXISTS programmes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    funder TEXT,
    funding_sources TEXT,
    start_period TEXT,
    end_period TEXT,
    budget_eur REAL CHECK (budget_eur IS NULL OR budget_eur >= 0),
    budget_approximate INTEGER NOT NULL DEFAULT 0 CHECK (budget_approximate IN (0, 1)),
    source TEXT
);

CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes(id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    lead_municipality TEXT,
    population_served INTEGER CHECK (population_served IS NULL OR population_served >= 0),
    area TEXT,
    quadrant TEXT,
    start_period TEXT,
    end_period TEXT,
    budget_eur REAL CHECK (budget_eur IS NULL OR budget_eur >= 0),
    UNIQUE (programme_id, code)
);

CREATE TABLE IF NOT EXISTS project_partners (
    project_id TEXT NOT NULL REFERENCES projects(id),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'managing_body', 'partner')),
    territorial_area TEXT,
    PRIMARY KEY (project_id, organization_id, role)
);
CREATE INDEX IF NOT EXISTS project_partners_by_organization
    ON project_partners (organization_id);

CREATE TABLE IF NOT EXISTS interventions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    category TEXT NOT NULL,
    innovation_class TEXT
        CHECK (innovation_class IN ('social_innovation', 'territorial_welfare')),
    instrument TEXT CHECK (instrument IN ('service', 'action')),
    thematic_area TEXT,
    description TEXT
);
CREATE INDEX IF NOT EXISTS interventions_by_project ON interventions (project_id);

CREATE TABLE IF NOT EXISTS project_thematic_areas (
    project_id TEXT NOT NULL REFERENCES projects(id),
    thematic_area TEXT NOT NULL,
    PRIMARY KEY (project_id, thematic_area)
);

CREATE TABLE IF NOT EXISTS indicators (
    id TEXT PRIMARY KEY,
    project_id TEXT REFERENCES projects(id),
    intervention_id TEXT REFERENCES interventions(id),
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    baseline REAL,
    baseline_period TEXT,
    target REAL,
    direction TEXT NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    CHECK ((project_id IS NULL) <> (intervention_id IS NULL))
);
CREATE INDEX IF NOT EXISTS indicators_by_project ON indicators (project_id);
CREATE INDEX IF NOT EXISTS indicators_by_intervention ON indicators (intervention_id);

CREATE TABLE IF NOT EXISTS indicator_values (
    indicator_id TEXT NOT NULL REFERENCES indicators(id),
    period TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (indicator_id, period)
);

CREATE TABLE IF NOT EXISTS outcome_terms (
    id TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL REFERENCES indicators(id),
    target REAL NOT NULL,
    deadline TEXT NOT NULL,
    payment_eur REAL NOT NULL CHECK (payment_eur >= 0),
    description TEXT
);
CREATE INDEX IF NOT EXISTS outcome_terms_by_indicator ON outcome_terms (indicator_id);
";

/// Creates the programme tables and their indexes if they are not there yet.
///
/// Safe to call on every open: it changes nothing in an initialized database.
pub fn init(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(DDL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_idempotent_and_creates_every_table() {
        let conn = Connection::open_in_memory().unwrap();
        init(&conn).unwrap();
        init(&conn).unwrap();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let names: Vec<String> = stmt
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            names,
            [
                "indicator_values",
                "indicators",
                "interventions",
                "outcome_terms",
                "programmes",
                "project_partners",
                "project_thematic_areas",
                "projects"
            ]
        );
    }

    #[test]
    fn an_indicator_measures_a_project_or_an_intervention_not_both() {
        let conn = Connection::open_in_memory().unwrap();
        // The bundled SQLite enforces foreign keys by default: this test is about the CHECK.
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        init(&conn).unwrap();
        let insert =
            |project: Option<&str>, intervention: Option<&str>| {
                conn.execute(
                "INSERT INTO indicators (id, project_id, intervention_id, name, unit, direction)
                 VALUES (?1, ?2, ?3, 'n', 'u', 'higher_is_better')",
                (format!("{project:?}{intervention:?}"), project, intervention),
            )
            };
        insert(Some("p"), None).unwrap();
        assert!(insert(None, Some("i")).is_ok());
        assert!(insert(None, None).is_err());
        assert!(insert(Some("p"), Some("i")).is_err());
    }
}
