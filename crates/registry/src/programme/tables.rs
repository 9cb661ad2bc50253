//! Classification tables of a programme's projects, computed by SQL over the registry.
//!
//! Every number comes from a query over `projects`, `interventions` and
//! `project_thematic_areas`: nothing is typed in by hand, so the tables follow the data. Shares
//! are percentages of the programme's projects, rounded to one decimal; project codes are
//! listed in alphabetical order. Column keys are snake_case identifiers, neither Italian nor
//! English labels, so that reports can translate them.

use std::fmt;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::ProgrammeError;
use super::model::{InnovationClass, Instrument};

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => Ok(()),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Real(v) => write!(f, "{v:?}"),
            Cell::Text(v) => f.write_str(v),
        }
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_string())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<usize> for Cell {
    fn from(value: usize) -> Self {
        i64::try_from(value).map_or(Cell::Real(value as f64), Cell::Int)
    }
}

impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Cell::Real(value)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Null, Into::into)
    }
}

/// A small result table: a stable key, a title for people, column keys and rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// A stable identifier (`projects_by_category`), for file names and lookups.
    pub key: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Runs a query and keeps its column names and every row as it comes.
    pub fn from_query(
        conn: &Connection,
        key: &str,
        title: &str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Table, ProgrammeError> {
        let context = format!("computing table {key}");
        let mut stmt = conn.prepare(sql).map_err(ProgrammeError::db(&context))?;
        let columns: Vec<String> = stmt.column_names().map(String::from).collect();
        let width = columns.len();
        let rows = stmt
            .query_map(params, |row| {
                (0..width)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => Cell::Null,
                            ValueRef::Integer(v) => Cell::Int(v),
                            ValueRef::Real(v) => Cell::Real(v),
                            ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into()),
                            ValueRef::Blob(v) => Cell::Text(format!("<{} bytes>", v.len())),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Cell>>>()
            })
            .map_err(ProgrammeError::db(&context))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(ProgrammeError::db(&context))?;
        Ok(Table {
            key: key.to_string(),
            title: title.to_string(),
            columns,
            rows,
        })
    }

    /// The position of a column, by key.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == key)
    }

    /// The row whose first cell is this text (a category, a band, a quadrant).
    pub fn row(&self, first: &str) -> Option<&[Cell]> {
        self.rows
            .iter()
            .find(|row| matches!(row.first(), Some(Cell::Text(t)) if t == first))
            .map(Vec::as_slice)
    }

    /// The cell in the row whose first cell is `first`, in column `column`.
    pub fn get(&self, first: &str, column: &str) -> Option<&Cell> {
        let index = self.column(column)?;
        self.row(first)?.get(index)
    }
}

/// Plain text: the title, then aligned columns (numbers to the right).
impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(Cell::to_string).collect())
            .collect();
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                texts
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|t| t.chars().count())
                    .chain([c.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        writeln!(f, "{}", self.title)?;
        let header: Vec<String> = self
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(f, "{}", header.join("  ").trim_end())?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(f, "{}", rule.join("  "))?;
        for (row, text) in self.rows.iter().zip(&texts) {
            let cells: Vec<String> = row
                .iter()
                .zip(text)
                .zip(&widths)
                .map(|((cell, t), w)| match cell {
                    Cell::Int(_) | Cell::Real(_) => format!("{t:>w$}"),
                    _ => format!("{t:<w$}"),
                })
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())?;
        }
        Ok(())
    }
}

/// The population bands of [`projects_by_population_band`]: label, lower bound (inclusive),
/// upper bound (exclusive, none for the last).
///
/// Chosen on WeCaRe's 22 partnerships, which serve from 53 thousand (Carmagnola) to 887
/// thousand residents (Turin): most are one social-cohesion district of 50 to 200 thousand
/// residents, split here in 50-thousand steps; the band from 200 thousand up holds the
/// partnerships that joined several districts (Alessandria-Asti, Cuorgnè's four areas) and the
/// city of Turin. Projects without a population fall in an `unknown` row, shown only when there
/// are any.
pub const POPULATION_BANDS: &[(&str, u64, Option<u64>)] = &[
    ("under 100k", 0, Some(100_000)),
    ("100k to 150k", 100_000, Some(150_000)),
    ("150k to 200k", 150_000, Some(200_000)),
    ("200k and over", 200_000, None),
];

/// The programme's projects (`p`) and their number (`total`), the start of every query.
const PROJECTS: &str = "p AS (SELECT id, code, population_served, quadrant
                              FROM projects WHERE programme_id = ?1),
                       total AS (SELECT NULLIF(COUNT(*), 0) AS n FROM p)";

fn require_programme(
    conn: &Connection,
    programme_id: &str,
    key: &str,
) -> Result<(), ProgrammeError> {
    let found = conn
        .query_row(
            "SELECT 1 FROM programmes WHERE id = ?1",
            [programme_id],
            |_| Ok(()),
        )
        .optional()
        .map_err(ProgrammeError::db(format!(
            "looking up programme '{programme_id}'"
        )))?;
    match found {
        Some(()) => Ok(()),
        None => Err(ProgrammeError::NotFound {
            object: format!("table {key}"),
            field: "programme_id",
            target: "programme",
            value: programme_id.to_string(),
        }),
    }
}

fn values_list<T>(items: &[T], code: impl Fn(&T) -> &'static str) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("('{}', {})", code(item), i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// (a) For each intervention category: how many projects include it, their share of the
/// programme's projects, and which; with the category's innovation class and instrument
/// (`mixed` if its interventions disagree).
///
/// Ordered by class, then services before actions, then by number of projects: the order of the
/// institute's report.
pub fn projects_by_category(
    conn: &Connection,
    programme_id: &str,
) -> Result<Table, ProgrammeError> {
    let key = "projects_by_category";
    require_programme(conn, programme_id, key)?;
    let sql = format!(
        "WITH {PROJECTS},
         pi AS (SELECT i.category, i.innovation_class, i.instrument, p.id AS project_id, p.code
                FROM interventions i JOIN p ON p.id = i.project_id),
         per_category AS (
             SELECT category,
                    CASE COUNT(DISTINCT innovation_class) WHEN 0 THEN NULL
                         WHEN 1 THEN MIN(innovation_class) ELSE 'mixed' END AS innovation_class,
                    CASE COUNT(DISTINCT instrument) WHEN 0 THEN NULL
                         WHEN 1 THEN MIN(instrument) ELSE 'mixed' END AS instrument,
                    COUNT(DISTINCT project_id) AS projects
             FROM pi GROUP BY category),
         codes AS (
             SELECT category, group_concat(code, ', ' ORDER BY code) AS project_codes
             FROM (SELECT DISTINCT category, code FROM pi) GROUP BY category)
         SELECT c.category, c.innovation_class, c.instrument, c.projects,
                ROUND(100.0 * c.projects / (SELECT n FROM total), 1) AS share_pct,
                codes.project_codes
         FROM per_category c JOIN codes USING (category)
         ORDER BY c.innovation_class, c.instrument DESC, c.projects DESC, c.category"
    );
    Table::from_query(
        conn,
        key,
        "Projects by intervention category",
        &sql,
        [programme_id],
    )
}

/// (b) How many projects include at least one intervention of each innovation class, of each
/// instrument, and of each class x instrument pair; `all` marks a margin (`all`/`all`: projects
/// with any intervention, classified or not).
///
/// A project counts once per cell however many interventions it has there, so the cells of a
/// margin can add up to more than the margin: that overlap is the point of the table.
pub fn projects_by_class_and_instrument(
    conn: &Connection,
    programme_id: &str,
) -> Result<Table, ProgrammeError> {
    let key = "projects_by_class_and_instrument";
    require_programme(conn, programme_id, key)?;
    let classes = values_list(InnovationClass::ALL, |c| c.as_str());
    let instruments = values_list(Instrument::ALL, |i| i.as_str());
    let sql = format!(
        "WITH {PROJECTS},
         pi AS (SELECT DISTINCT i.project_id, p.code, i.innovation_class, i.instrument
                FROM interventions i JOIN p ON p.id = i.project_id),
         classes (innovation_class, class_order) AS (VALUES {classes}, ('all', 99)),
         instruments (instrument, instrument_order) AS (VALUES {instruments}, ('all', 99)),
         cells AS (
             SELECT DISTINCT c.innovation_class, c.class_order, s.instrument, s.instrument_order,
                    pi.project_id, pi.code
             FROM classes c CROSS JOIN instruments s
             LEFT JOIN pi ON (c.innovation_class = 'all' OR pi.innovation_class = c.innovation_class)
                         AND (s.instrument = 'all' OR pi.instrument = s.instrument))
         SELECT innovation_class, instrument, COUNT(project_id) AS projects,
                ROUND(100.0 * COUNT(project_id) / (SELECT n FROM total), 1) AS share_pct,
                group_concat(code, ', ' ORDER BY code) AS project_codes
         FROM cells
         GROUP BY innovation_class, class_order, instrument, instrument_order
         ORDER BY class_order, instrument_order"
    );
    Table::from_query(
        conn,
        key,
        "Projects with at least one intervention, by innovation class and instrument",
        &sql,
        [programme_id],
    )
}

/// (c) Projects by size of the population they serve, in [`POPULATION_BANDS`], with the
/// residents served in each band; every band is shown, even when empty.
pub fn projects_by_population_band(
    conn: &Connection,
    programme_id: &str,
) -> Result<Table, ProgrammeError> {
    let key = "projects_by_population_band";
    require_programme(conn, programme_id, key)?;
    let bands = POPULATION_BANDS
        .iter()
        .enumerate()
        .map(|(i, (label, from, below))| {
            let below = below.map_or("NULL".to_string(), |b| b.to_string());
            format!("('{label}', {from}, {below}, {})", i + 1)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH {PROJECTS},
         bands (band, population_from, population_below, band_order) AS (VALUES {bands}),
         members AS (
             SELECT b.band, b.population_from, b.population_below, b.band_order,
                    p.id, p.code, p.population_served
             FROM bands b LEFT JOIN p ON p.population_served >= b.population_from
                  AND (b.population_below IS NULL OR p.population_served < b.population_below)
             UNION ALL
             SELECT 'unknown', NULL, NULL, 999, p.id, p.code, NULL
             FROM p WHERE p.population_served IS NULL)
         SELECT band AS population_band, population_from, population_below,
                COUNT(id) AS projects,
                ROUND(100.0 * COUNT(id) / (SELECT n FROM total), 1) AS share_pct,
                CASE WHEN band_order = 999 THEN NULL
                     ELSE COALESCE(SUM(population_served), 0) END AS population_served,
                group_concat(code, ', ' ORDER BY code) AS project_codes
         FROM members
         GROUP BY band, population_from, population_below, band_order
         ORDER BY band_order"
    );
    Table::from_query(
        conn,
        key,
        "Projects by population served",
        &sql,
        [programme_id],
    )
}

/// (d) Projects by territorial quadrant, with the residents they serve; the largest first.
pub fn projects_by_quadrant(
    conn: &Connection,
    programme_id: &str,
) -> Result<Table, ProgrammeError> {
    let key = "projects_by_quadrant";
    require_programme(conn, programme_id, key)?;
    let sql = format!(
        "WITH {PROJECTS}
         SELECT quadrant, COUNT(*) AS projects,
                ROUND(100.0 * COUNT(*) / (SELECT n FROM total), 1) AS share_pct,
                SUM(population_served) AS population_served,
                group_concat(code, ', ' ORDER BY code) AS project_codes
         FROM p GROUP BY quadrant ORDER BY projects DESC, quadrant"
    );
    Table::from_query(conn, key, "Projects by quadrant", &sql, [programme_id])
}

/// (e) Thematic areas with the projects filed under them; the most used first.
///
/// For WeCaRe the assignment lists the strategic report's examples, not every project that
/// touches an area: read the counts as "examples given", not as coverage.
pub fn thematic_areas(conn: &Connection, programme_id: &str) -> Result<Table, ProgrammeError> {
    let key = "thematic_areas";
    require_programme(conn, programme_id, key)?;
    let sql = format!(
        "WITH {PROJECTS}
         SELECT t.thematic_area, COUNT(*) AS projects,
                ROUND(100.0 * COUNT(*) / (SELECT n FROM total), 1) AS share_pct,
                group_concat(p.code, ', ' ORDER BY p.code) AS project_codes
         FROM project_thematic_areas t JOIN p ON p.id = t.project_id
         GROUP BY t.thematic_area ORDER BY projects DESC, t.thematic_area"
    );
    Table::from_query(
        conn,
        key,
        "Thematic areas and their projects",
        &sql,
        [programme_id],
    )
}

/// All five classification tables of a programme, in the order (a) to (e).
pub fn classification_tables(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<Table>, ProgrammeError> {
    Ok(vec![
        projects_by_category(conn, programme_id)?,
        projects_by_class_and_instrument(conn, programme_id)?,
        projects_by_population_band(conn, programme_id)?,
        projects_by_quadrant(conn, programme_id)?,
        thematic_areas(conn, programme_id)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::model::{InnovationClass as C, Instrument as I, ProjectThematicArea};
    use crate::programme::store::tests::{database, intervention, programme, project};
    use crate::programme::store::{
        insert_intervention, insert_programme, insert_project, insert_project_thematic_area,
    };

    /// Four projects: A (50k, North) with a social-innovation service and a territorial-welfare
    /// action; B (120k, North) with a territorial-welfare service twice over two categories;
    /// C (250k, South) with the same social-innovation service as A; D (no population, no
    /// quadrant, no interventions). A second programme's project must not leak in.
    fn fixture() -> Connection {
        let mut conn = database();
        let tx = conn.transaction().unwrap();
        insert_programme(&tx, &programme("prog")).unwrap();
        insert_programme(&tx, &programme("other")).unwrap();
        let projects = [
            ("A", Some(50_000), Some("North")),
            ("B", Some(120_000), Some("North")),
            ("C", Some(250_000), Some("South")),
            ("D", None, None),
        ];
        for (code, population, quadrant) in projects {
            let mut p = project("prog", code);
            p.population_served = population;
            p.quadrant = quadrant.map(String::from);
            insert_project(&tx, &p).unwrap();
        }
        let mut stray = project("other", "A");
        stray.population_served = Some(10);
        insert_project(&tx, &stray).unwrap();
        let interventions = [
            ("prog/A", "mutual_aid", C::SocialInnovation, I::Service),
            ("prog/A", "networks", C::TerritorialWelfare, I::Action),
            ("prog/B", "housing", C::TerritorialWelfare, I::Service),
            ("prog/B", "jobs", C::TerritorialWelfare, I::Service),
            ("prog/C", "mutual_aid", C::SocialInnovation, I::Service),
            ("other/A", "mutual_aid", C::SocialInnovation, I::Service),
        ];
        for (project_id, category, class, instrument) in interventions {
            let mut i = intervention(project_id, category);
            i.innovation_class = Some(class);
            i.instrument = Some(instrument);
            insert_intervention(&tx, &i).unwrap();
        }
        for (project_id, area) in [
            ("prog/A", "community"),
            ("prog/B", "community"),
            ("prog/B", "housing"),
            ("other/A", "housing"),
        ] {
            let link = ProjectThematicArea {
                project_id: project_id.into(),
                thematic_area: area.into(),
            };
            insert_project_thematic_area(&tx, &link).unwrap();
        }
        tx.commit().unwrap();
        conn
    }

    fn check(table: Result<Table, ProgrammeError>, expect: &str) {
        let text = table.unwrap().to_string();
        assert_eq!(text.trim_end(), expect.trim(), "\n{text}");
    }

    #[test]
    fn categories_count_projects_and_their_share() {
        check(
            projects_by_category(&fixture(), "prog"),
            "
Projects by intervention category
category    innovation_class     instrument  projects  share_pct  project_codes
----------  -------------------  ----------  --------  ---------  -------------
mutual_aid  social_innovation    service            2       50.0  A, C
housing     territorial_welfare  service            1       25.0  B
jobs        territorial_welfare  service            1       25.0  B
networks    territorial_welfare  action             1       25.0  A",
        );
    }

    #[test]
    fn class_and_instrument_count_each_project_once_per_cell() {
        check(
            projects_by_class_and_instrument(&fixture(), "prog"),
            "
Projects with at least one intervention, by innovation class and instrument
innovation_class     instrument  projects  share_pct  project_codes
-------------------  ----------  --------  ---------  -------------
social_innovation    service            2       50.0  A, C
social_innovation    action             0        0.0
social_innovation    all                2       50.0  A, C
territorial_welfare  service            1       25.0  B
territorial_welfare  action             1       25.0  A
territorial_welfare  all                2       50.0  A, B
all                  service            3       75.0  A, B, C
all                  action             1       25.0  A
all                  all                3       75.0  A, B, C",
        );
    }

    #[test]
    fn population_bands_show_empty_bands_and_unknowns() {
        check(
            projects_by_population_band(&fixture(), "prog"),
            "
Projects by population served
population_band  population_from  population_below  projects  share_pct  population_served  project_codes
---------------  ---------------  ----------------  --------  ---------  -----------------  -------------
under 100k                     0            100000         1       25.0              50000  A
100k to 150k              100000            150000         1       25.0             120000  B
150k to 200k              150000            200000         0        0.0                  0
200k and over             200000                           1       25.0             250000  C
unknown                                                    1       25.0                     D",
        );
    }

    #[test]
    fn quadrants_and_thematic_areas() {
        let conn = fixture();
        check(
            projects_by_quadrant(&conn, "prog"),
            "
Projects by quadrant
quadrant  projects  share_pct  population_served  project_codes
--------  --------  ---------  -----------------  -------------
North            2       50.0             170000  A, B
                 1       25.0                     D
South            1       25.0             250000  C",
        );
        check(
            thematic_areas(&conn, "prog"),
            "
Thematic areas and their projects
thematic_area  projects  share_pct  project_codes
-------------  --------  ---------  -------------
community             2       50.0  A, B
housing               1       25.0  B",
        );
    }

    #[test]
    fn an_unknown_programme_is_an_error_not_an_empty_table() {
        let conn = fixture();
        assert_eq!(
            classification_tables(&conn, "nope")
                .unwrap_err()
                .to_string(),
            "table projects_by_category: programme_id: programme 'nope' does not exist"
        );
        assert_eq!(classification_tables(&conn, "prog").unwrap().len(), 5);
    }

    #[test]
    fn cells_convert_and_tables_serialize() {
        assert_eq!(Cell::from(Some(3_usize)), Cell::Int(3));
        assert_eq!(Cell::from(None::<&str>), Cell::Null);
        let table = projects_by_quadrant(&fixture(), "prog").unwrap();
        let json = serde_json::to_value(&table).unwrap();
        assert_eq!(
            json["rows"][0],
            serde_json::json!(["North", 2, 50.0, 170000, "A, B"])
        );
        assert_eq!(
            table.get("South", "population_served"),
            Some(&Cell::Int(250_000))
        );
    }
}
