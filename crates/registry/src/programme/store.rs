//! Writing and reading the programme tables.
//!
//! Every write function takes a [`Transaction`]: a caller groups its writes and commits once,
//! so a failed import or a refused row leaves the database as it was. Each write validates the
//! row ([`Programme::validate`] and friends) and checks that what it references exists, so the
//! error names the object and the field rather than a bare constraint.
//!
//! `insert_*` refuses a row whose key is already there; `upsert_*` (for the rows other rows
//! depend on: programmes, projects, interventions) inserts or updates in place, keeping what
//! hangs off the row (partners, indicators).

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::ProgrammeError;
use super::model::{
    Indicator, IndicatorSubject, IndicatorValue, Intervention, OutcomeTerm, Programme, Project,
    ProjectPartner, ProjectThematicArea,
};

/// Whether a write may replace an existing row with the same key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Insert,
    Upsert,
}

fn exists(conn: &Connection, sql: &str, key: &[&str]) -> Result<bool, ProgrammeError> {
    conn.query_row(sql, rusqlite::params_from_iter(key), |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(ProgrammeError::db(format!("looking up {}", key.join(", "))))
}

fn require(
    conn: &Connection,
    table: &'static str,
    target: &'static str,
    object: &str,
    field: &'static str,
    id: &str,
) -> Result<(), ProgrammeError> {
    let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
    if exists(conn, &sql, &[id])? {
        Ok(())
    } else {
        Err(ProgrammeError::NotFound {
            object: object.to_string(),
            field,
            target,
            value: id.to_string(),
        })
    }
}

fn refuse_duplicate(
    conn: &Connection,
    mode: Mode,
    table: &str,
    object: &str,
    id: &str,
) -> Result<(), ProgrammeError> {
    if mode == Mode::Insert && exists(conn, &format!("SELECT 1 FROM {table} WHERE id = ?1"), &[id])?
    {
        return Err(ProgrammeError::Duplicate {
            object: object.to_string(),
        });
    }
    Ok(())
}

fn population(project: &Project) -> Result<Option<i64>, ProgrammeError> {
    project
        .population_served
        .map(|p| {
            i64::try_from(p).map_err(|_| {
                ProgrammeError::invalid(project.object(), "population_served", "is too large")
            })
        })
        .transpose()
}

fn write_programme(tx: &Transaction, p: &Programme, mode: Mode) -> Result<(), ProgrammeError> {
    p.validate()?;
    let object = p.object();
    refuse_duplicate(tx, mode, "programmes", &object, &p.id)?;
    tx.execute(
        "INSERT INTO programmes (id, name, funder, funding_sources, start_period, end_period,
             budget_eur, budget_approximate, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, funder = excluded.funder,
             funding_sources = excluded.funding_sources, start_period = excluded.start_period,
             end_period = excluded.end_period, budget_eur = excluded.budget_eur,
             budget_approximate = excluded.budget_approximate, source = excluded.source",
        params![
            p.id,
            p.name,
            p.funder,
            p.funding_sources,
            p.start,
            p.end,
            p.budget_eur,
            p.budget_approximate,
            p.source
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Adds a programme; refuses one whose id is taken.
pub fn insert_programme(tx: &Transaction, programme: &Programme) -> Result<(), ProgrammeError> {
    write_programme(tx, programme, Mode::Insert)
}

/// Adds a programme or updates the one with the same id, keeping its projects.
pub fn upsert_programme(tx: &Transaction, programme: &Programme) -> Result<(), ProgrammeError> {
    write_programme(tx, programme, Mode::Upsert)
}

fn write_project(tx: &Transaction, p: &Project, mode: Mode) -> Result<(), ProgrammeError> {
    p.validate()?;
    let object = p.object();
    refuse_duplicate(tx, mode, "projects", &object, &p.id)?;
    require(
        tx,
        "programmes",
        "programme",
        &object,
        "programme_id",
        &p.programme_id,
    )?;
    let taken = tx
        .query_row(
            "SELECT id FROM projects WHERE programme_id = ?1 AND code = ?2 AND id <> ?3",
            params![p.programme_id, p.code, p.id],
            |row| row.get::<_, String>(0),
        )
        .optional()
        .map_err(ProgrammeError::db(format!(
            "looking up the code of {object}"
        )))?;
    if let Some(other) = taken {
        return Err(ProgrammeError::invalid(
            &object,
            "code",
            format!(
                "'{}' is already the code of project '{other}' in programme '{}'",
                p.code, p.programme_id
            ),
        ));
    }
    tx.execute(
        "INSERT INTO projects (id, programme_id, code, title, lead_municipality,
             population_served, area, quadrant, start_period, end_period, budget_eur)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET programme_id = excluded.programme_id,
             code = excluded.code, title = excluded.title,
             lead_municipality = excluded.lead_municipality,
             population_served = excluded.population_served, area = excluded.area,
             quadrant = excluded.quadrant, start_period = excluded.start_period,
             end_period = excluded.end_period, budget_eur = excluded.budget_eur",
        params![
            p.id,
            p.programme_id,
            p.code,
            p.title,
            p.lead_municipality,
            population(p)?,
            p.area,
            p.quadrant,
            p.start,
            p.end,
            p.budget_eur
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Adds a project to an existing programme; refuses a taken id or a code already used in the
/// same programme.
pub fn insert_project(tx: &Transaction, project: &Project) -> Result<(), ProgrammeError> {
    write_project(tx, project, Mode::Insert)
}

/// Adds a project or updates the one with the same id, keeping its partners, interventions and
/// indicators.
pub fn upsert_project(tx: &Transaction, project: &Project) -> Result<(), ProgrammeError> {
    write_project(tx, project, Mode::Upsert)
}

/// Links an existing organization to an existing project in one role; refuses the same
/// organization twice in the same role of a project.
pub fn insert_project_partner(
    tx: &Transaction,
    partner: &ProjectPartner,
) -> Result<(), ProgrammeError> {
    partner.validate()?;
    let object = partner.object();
    require(
        tx,
        "projects",
        "project",
        &object,
        "project_id",
        &partner.project_id,
    )?;
    require(
        tx,
        "organizations",
        "organization",
        &object,
        "organization_id",
        &partner.organization_id,
    )?;
    if exists(
        tx,
        "SELECT 1 FROM project_partners
         WHERE project_id = ?1 AND organization_id = ?2 AND role = ?3",
        &[
            &partner.project_id,
            &partner.organization_id,
            partner.role.as_str(),
        ],
    )? {
        return Err(ProgrammeError::Duplicate { object });
    }
    tx.execute(
        "INSERT INTO project_partners (project_id, organization_id, role, territorial_area)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            partner.project_id,
            partner.organization_id,
            partner.role,
            partner.territorial_area
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

fn write_intervention(
    tx: &Transaction,
    i: &Intervention,
    mode: Mode,
) -> Result<(), ProgrammeError> {
    i.validate()?;
    let object = i.object();
    refuse_duplicate(tx, mode, "interventions", &object, &i.id)?;
    require(
        tx,
        "projects",
        "project",
        &object,
        "project_id",
        &i.project_id,
    )?;
    tx.execute(
        "INSERT INTO interventions (id, project_id, category, innovation_class, instrument,
             thematic_area, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id,
             category = excluded.category, innovation_class = excluded.innovation_class,
             instrument = excluded.instrument, thematic_area = excluded.thematic_area,
             description = excluded.description",
        params![
            i.id,
            i.project_id,
            i.category,
            i.innovation_class,
            i.instrument,
            i.thematic_area,
            i.description
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Adds an intervention to an existing project; refuses a taken id.
pub fn insert_intervention(
    tx: &Transaction,
    intervention: &Intervention,
) -> Result<(), ProgrammeError> {
    write_intervention(tx, intervention, Mode::Insert)
}

/// Adds an intervention or updates the one with the same id, keeping its indicators.
pub fn upsert_intervention(
    tx: &Transaction,
    intervention: &Intervention,
) -> Result<(), ProgrammeError> {
    write_intervention(tx, intervention, Mode::Upsert)
}

/// Files an existing project under a thematic area; refuses the same pair twice.
pub fn insert_project_thematic_area(
    tx: &Transaction,
    link: &ProjectThematicArea,
) -> Result<(), ProgrammeError> {
    link.validate()?;
    let object = link.object();
    require(
        tx,
        "projects",
        "project",
        &object,
        "project_id",
        &link.project_id,
    )?;
    if exists(
        tx,
        "SELECT 1 FROM project_thematic_areas WHERE project_id = ?1 AND thematic_area = ?2",
        &[&link.project_id, &link.thematic_area],
    )? {
        return Err(ProgrammeError::Duplicate { object });
    }
    tx.execute(
        "INSERT INTO project_thematic_areas (project_id, thematic_area) VALUES (?1, ?2)",
        params![link.project_id, link.thematic_area],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Adds an indicator on an existing project or intervention; refuses a taken id.
pub fn insert_indicator(tx: &Transaction, indicator: &Indicator) -> Result<(), ProgrammeError> {
    indicator.validate()?;
    let object = indicator.object();
    refuse_duplicate(tx, Mode::Insert, "indicators", &object, &indicator.id)?;
    let (project_id, intervention_id) = match &indicator.subject {
        IndicatorSubject::Project(id) => {
            require(tx, "projects", "project", &object, "project_id", id)?;
            (Some(id), None)
        }
        IndicatorSubject::Intervention(id) => {
            require(
                tx,
                "interventions",
                "intervention",
                &object,
                "intervention_id",
                id,
            )?;
            (None, Some(id))
        }
    };
    tx.execute(
        "INSERT INTO indicators (id, project_id, intervention_id, name, unit, baseline,
             baseline_period, target, direction)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            indicator.id,
            project_id,
            intervention_id,
            indicator.name,
            indicator.unit,
            indicator.baseline,
            indicator.baseline_period,
            indicator.target,
            indicator.direction
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Records a value of an existing indicator; refuses a second value for the same period.
pub fn insert_indicator_value(
    tx: &Transaction,
    value: &IndicatorValue,
) -> Result<(), ProgrammeError> {
    value.validate()?;
    let object = value.object();
    require(
        tx,
        "indicators",
        "indicator",
        &object,
        "indicator_id",
        &value.indicator_id,
    )?;
    if exists(
        tx,
        "SELECT 1 FROM indicator_values WHERE indicator_id = ?1 AND period = ?2",
        &[&value.indicator_id, value.period.as_str()],
    )? {
        return Err(ProgrammeError::Duplicate { object });
    }
    tx.execute(
        "INSERT INTO indicator_values (indicator_id, period, value) VALUES (?1, ?2, ?3)",
        params![value.indicator_id, value.period, value.value],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

/// Adds an outcome-based contract term on an existing indicator; refuses a taken id.
pub fn insert_outcome_term(tx: &Transaction, term: &OutcomeTerm) -> Result<(), ProgrammeError> {
    term.validate()?;
    let object = term.object();
    refuse_duplicate(tx, Mode::Insert, "outcome_terms", &object, &term.id)?;
    require(
        tx,
        "indicators",
        "indicator",
        &object,
        "indicator_id",
        &term.indicator_id,
    )?;
    tx.execute(
        "INSERT INTO outcome_terms (id, indicator_id, target, deadline, payment_eur, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            term.id,
            term.indicator_id,
            term.target,
            term.deadline,
            term.payment_eur,
            term.description
        ],
    )
    .map_err(ProgrammeError::db(format!("writing {object}")))?;
    Ok(())
}

fn count(conn: &Connection, sql: &str, id: &str, context: &str) -> Result<i64, ProgrammeError> {
    conn.query_row(sql, [id], |row| row.get(0))
        .map_err(ProgrammeError::db(context))
}

/// Removes a project's partner and thematic-area links (not its interventions), returning how
/// many rows went; an importer calls it before writing the links again.
pub fn clear_project_links(tx: &Transaction, project_id: &str) -> Result<usize, ProgrammeError> {
    let context = format!("clearing the links of project '{project_id}'");
    let partners = tx
        .execute(
            "DELETE FROM project_partners WHERE project_id = ?1",
            [project_id],
        )
        .map_err(ProgrammeError::db(&context))?;
    let areas = tx
        .execute(
            "DELETE FROM project_thematic_areas WHERE project_id = ?1",
            [project_id],
        )
        .map_err(ProgrammeError::db(&context))?;
    Ok(partners + areas)
}

/// Removes an intervention; refuses while indicators measure it, so that no monitoring data is
/// lost or left pointing nowhere.
pub fn delete_intervention(tx: &Transaction, id: &str) -> Result<(), ProgrammeError> {
    let object = format!("intervention '{id}'");
    let indicators = count(
        tx,
        "SELECT COUNT(*) FROM indicators WHERE intervention_id = ?1",
        id,
        &format!("counting the indicators of {object}"),
    )?;
    if indicators > 0 {
        return Err(ProgrammeError::InUse {
            object,
            message: format!(
                "{indicators} indicator(s) measure it; removing it would orphan their values\n  \
                 hint: move or delete the indicators first"
            ),
        });
    }
    tx.execute("DELETE FROM interventions WHERE id = ?1", [id])
        .map_err(ProgrammeError::db(format!("deleting {object}")))?;
    Ok(())
}

/// Removes a project with its links and interventions; refuses while indicators measure the
/// project or one of its interventions.
pub fn delete_project(tx: &Transaction, id: &str) -> Result<(), ProgrammeError> {
    let object = format!("project '{id}'");
    let indicators = count(
        tx,
        "SELECT COUNT(*) FROM indicators
         WHERE project_id = ?1
            OR intervention_id IN (SELECT id FROM interventions WHERE project_id = ?1)",
        id,
        &format!("counting the indicators of {object}"),
    )?;
    if indicators > 0 {
        return Err(ProgrammeError::InUse {
            object,
            message: format!(
                "{indicators} indicator(s) measure it or its interventions; removing it would \
                 orphan their values\n  hint: move or delete the indicators first"
            ),
        });
    }
    clear_project_links(tx, id)?;
    let context = format!("deleting {object}");
    tx.execute("DELETE FROM interventions WHERE project_id = ?1", [id])
        .map_err(ProgrammeError::db(&context))?;
    tx.execute("DELETE FROM projects WHERE id = ?1", [id])
        .map_err(ProgrammeError::db(&context))?;
    Ok(())
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    context: &str,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, ProgrammeError> {
    let mut stmt = conn.prepare(sql).map_err(ProgrammeError::db(context))?;
    let rows = stmt
        .query_map(params, map)
        .map_err(ProgrammeError::db(context))?;
    rows.collect::<Result<Vec<T>, _>>()
        .map_err(ProgrammeError::db(context))
}

fn programme_row(row: &Row<'_>) -> rusqlite::Result<Programme> {
    Ok(Programme {
        id: row.get(0)?,
        name: row.get(1)?,
        funder: row.get(2)?,
        funding_sources: row.get(3)?,
        start: row.get(4)?,
        end: row.get(5)?,
        budget_eur: row.get(6)?,
        budget_approximate: row.get(7)?,
        source: row.get(8)?,
    })
}

const PROGRAMME_COLUMNS: &str = "id, name, funder, funding_sources, start_period, end_period,
    budget_eur, budget_approximate, source";

/// The programme with this id, if any.
pub fn get_programme(conn: &Connection, id: &str) -> Result<Option<Programme>, ProgrammeError> {
    conn.query_row(
        &format!("SELECT {PROGRAMME_COLUMNS} FROM programmes WHERE id = ?1"),
        [id],
        programme_row,
    )
    .optional()
    .map_err(ProgrammeError::db(format!("reading programme '{id}'")))
}

/// Every programme, by id.
pub fn list_programmes(conn: &Connection) -> Result<Vec<Programme>, ProgrammeError> {
    collect(
        conn,
        &format!("SELECT {PROGRAMME_COLUMNS} FROM programmes ORDER BY id"),
        [],
        "listing programmes",
        programme_row,
    )
}

/// The projects of a programme, by code.
pub fn list_projects(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<Project>, ProgrammeError> {
    collect(
        conn,
        "SELECT id, programme_id, code, title, lead_municipality, population_served, area,
             quadrant, start_period, end_period, budget_eur
         FROM projects WHERE programme_id = ?1 ORDER BY code",
        [programme_id],
        &format!("listing the projects of programme '{programme_id}'"),
        |row| {
            let population: Option<i64> = row.get(5)?;
            Ok(Project {
                id: row.get(0)?,
                programme_id: row.get(1)?,
                code: row.get(2)?,
                title: row.get(3)?,
                lead_municipality: row.get(4)?,
                population_served: population
                    .map(|p| {
                        u64::try_from(p).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(5, p))
                    })
                    .transpose()?,
                area: row.get(6)?,
                quadrant: row.get(7)?,
                start: row.get(8)?,
                end: row.get(9)?,
                budget_eur: row.get(10)?,
            })
        },
    )
}

/// The partner links of a programme's projects, by project, role and organization.
pub fn list_project_partners(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<ProjectPartner>, ProgrammeError> {
    collect(
        conn,
        "SELECT pp.project_id, pp.organization_id, pp.role, pp.territorial_area
         FROM project_partners pp JOIN projects p ON p.id = pp.project_id
         WHERE p.programme_id = ?1
         ORDER BY pp.project_id, pp.role, pp.organization_id",
        [programme_id],
        &format!("listing the partners of programme '{programme_id}'"),
        |row| {
            Ok(ProjectPartner {
                project_id: row.get(0)?,
                organization_id: row.get(1)?,
                role: row.get(2)?,
                territorial_area: row.get(3)?,
            })
        },
    )
}

/// The interventions of a programme's projects, by id.
pub fn list_interventions(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<Intervention>, ProgrammeError> {
    collect(
        conn,
        "SELECT i.id, i.project_id, i.category, i.innovation_class, i.instrument,
             i.thematic_area, i.description
         FROM interventions i JOIN projects p ON p.id = i.project_id
         WHERE p.programme_id = ?1 ORDER BY i.id",
        [programme_id],
        &format!("listing the interventions of programme '{programme_id}'"),
        |row| {
            Ok(Intervention {
                id: row.get(0)?,
                project_id: row.get(1)?,
                category: row.get(2)?,
                innovation_class: row.get(3)?,
                instrument: row.get(4)?,
                thematic_area: row.get(5)?,
                description: row.get(6)?,
            })
        },
    )
}

/// The thematic-area links of a programme's projects, by project and area.
pub fn list_project_thematic_areas(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<ProjectThematicArea>, ProgrammeError> {
    collect(
        conn,
        "SELECT t.project_id, t.thematic_area
         FROM project_thematic_areas t JOIN projects p ON p.id = t.project_id
         WHERE p.programme_id = ?1 ORDER BY t.project_id, t.thematic_area",
        [programme_id],
        &format!("listing the thematic areas of programme '{programme_id}'"),
        |row| {
            Ok(ProjectThematicArea {
                project_id: row.get(0)?,
                thematic_area: row.get(1)?,
            })
        },
    )
}

/// Indicators measuring a programme's projects or their interventions, by id.
pub fn list_indicators(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<Indicator>, ProgrammeError> {
    collect(
        conn,
        "SELECT ind.id, ind.project_id, ind.intervention_id, ind.name, ind.unit, ind.baseline,
             ind.baseline_period, ind.target, ind.direction
         FROM indicators ind
         LEFT JOIN interventions i ON i.id = ind.intervention_id
         JOIN projects p ON p.id = COALESCE(ind.project_id, i.project_id)
         WHERE p.programme_id = ?1 ORDER BY ind.id",
        [programme_id],
        &format!("listing the indicators of programme '{programme_id}'"),
        |row| {
            let project: Option<String> = row.get(1)?;
            let intervention: Option<String> = row.get(2)?;
            let subject = match (project, intervention) {
                (Some(id), None) => IndicatorSubject::Project(id),
                (None, Some(id)) => IndicatorSubject::Intervention(id),
                _ => {
                    return Err(rusqlite::Error::InvalidColumnType(
                        1,
                        "project_id xor intervention_id".into(),
                        rusqlite::types::Type::Null,
                    ));
                }
            };
            Ok(Indicator {
                id: row.get(0)?,
                subject,
                name: row.get(3)?,
                unit: row.get(4)?,
                baseline: row.get(5)?,
                baseline_period: row.get(6)?,
                target: row.get(7)?,
                direction: row.get(8)?,
            })
        },
    )
}

/// The values of one indicator, in time order (by the last day of their period).
pub fn list_indicator_values(
    conn: &Connection,
    indicator_id: &str,
) -> Result<Vec<IndicatorValue>, ProgrammeError> {
    let mut values = collect(
        conn,
        "SELECT indicator_id, period, value FROM indicator_values WHERE indicator_id = ?1",
        [indicator_id],
        &format!("listing the values of indicator '{indicator_id}'"),
        |row| {
            Ok(IndicatorValue {
                indicator_id: row.get(0)?,
                period: row.get(1)?,
                value: row.get(2)?,
            })
        },
    )?;
    values.sort_by(|a, b| {
        (a.period.last_day(), a.period.first_day())
            .cmp(&(b.period.last_day(), b.period.first_day()))
    });
    Ok(values)
}

/// Outcome terms on the indicators of a programme, by id.
pub fn list_outcome_terms(
    conn: &Connection,
    programme_id: &str,
) -> Result<Vec<OutcomeTerm>, ProgrammeError> {
    collect(
        conn,
        "SELECT t.id, t.indicator_id, t.target, t.deadline, t.payment_eur, t.description
         FROM outcome_terms t
         JOIN indicators ind ON ind.id = t.indicator_id
         LEFT JOIN interventions i ON i.id = ind.intervention_id
         JOIN projects p ON p.id = COALESCE(ind.project_id, i.project_id)
         WHERE p.programme_id = ?1 ORDER BY t.id",
        [programme_id],
        &format!("listing the outcome terms of programme '{programme_id}'"),
        |row| {
            Ok(OutcomeTerm {
                id: row.get(0)?,
                indicator_id: row.get(1)?,
                target: row.get(2)?,
                deadline: row.get(3)?,
                payment_eur: row.get(4)?,
                description: row.get(5)?,
            })
        },
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::programme::model::{Direction, InnovationClass, Instrument, PartnerRole, Period};

    /// A database with the organizations table as the providers half creates it (the five
    /// columns this half may use) and the programme tables.
    pub(crate) fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT,
                 legal_form TEXT, tax_id TEXT);",
        )
        .unwrap();
        crate::programme::init(&conn).unwrap();
        conn
    }

    pub(crate) fn programme(id: &str) -> Programme {
        Programme {
            id: id.into(),
            name: format!("Programme {id}"),
            funder: Some("Region".into()),
            funding_sources: None,
            start: Some(Period::parse("2020").unwrap()),
            end: Some(Period::parse("2022").unwrap()),
            budget_eur: Some(1000.0),
            budget_approximate: false,
            source: None,
        }
    }

    pub(crate) fn project(programme_id: &str, code: &str) -> Project {
        Project {
            id: format!("{programme_id}/{code}"),
            programme_id: programme_id.into(),
            code: code.into(),
            title: format!("Project {code}"),
            lead_municipality: None,
            population_served: None,
            area: None,
            quadrant: None,
            start: None,
            end: None,
            budget_eur: None,
        }
    }

    pub(crate) fn intervention(project_id: &str, category: &str) -> Intervention {
        Intervention {
            id: format!("{project_id}/{category}"),
            project_id: project_id.into(),
            category: category.into(),
            innovation_class: Some(InnovationClass::TerritorialWelfare),
            instrument: Some(Instrument::Service),
            thematic_area: None,
            description: None,
        }
    }

    pub(crate) fn organization(conn: &Connection, id: &str) {
        conn.execute(
            "INSERT INTO organizations (id, name, kind) VALUES (?1, ?2, 'public_body')",
            [id, &format!("Body {id}")],
        )
        .unwrap();
    }

    pub(crate) fn indicator(id: &str, subject: IndicatorSubject) -> Indicator {
        Indicator {
            id: id.into(),
            subject,
            name: "people reached".into(),
            unit: "persons".into(),
            baseline: Some(10.0),
            baseline_period: Some(Period::parse("2020-01").unwrap()),
            target: Some(20.0),
            direction: Direction::HigherIsBetter,
        }
    }

    fn err(result: Result<(), ProgrammeError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn rows_written_are_rows_listed() {
        let mut conn = database();
        organization(&conn, "o1");
        let tx = conn.transaction().unwrap();
        let prog = programme("prog");
        insert_programme(&tx, &prog).unwrap();
        let mut p = project("prog", "B");
        p.population_served = Some(120_000);
        p.quadrant = Some("North".into());
        insert_project(&tx, &p).unwrap();
        insert_project(&tx, &project("prog", "A")).unwrap();
        let partner = ProjectPartner {
            project_id: p.id.clone(),
            organization_id: "o1".into(),
            role: PartnerRole::Lead,
            territorial_area: Some("7".into()),
        };
        insert_project_partner(&tx, &partner).unwrap();
        let i = intervention(&p.id, "housing");
        insert_intervention(&tx, &i).unwrap();
        let area = ProjectThematicArea {
            project_id: p.id.clone(),
            thematic_area: "housing".into(),
        };
        insert_project_thematic_area(&tx, &area).unwrap();
        let ind = indicator("ind", IndicatorSubject::Intervention(i.id.clone()));
        insert_indicator(&tx, &ind).unwrap();
        let v2021 = IndicatorValue {
            indicator_id: "ind".into(),
            period: Period::parse("2021").unwrap(),
            value: 15.0,
        };
        let v2021_06 = IndicatorValue {
            period: Period::parse("2021-06").unwrap(),
            value: 12.0,
            ..v2021.clone()
        };
        insert_indicator_value(&tx, &v2021).unwrap();
        insert_indicator_value(&tx, &v2021_06).unwrap();
        let term = OutcomeTerm {
            id: "t1".into(),
            indicator_id: "ind".into(),
            target: 20.0,
            deadline: Period::parse("2022-06-30").unwrap(),
            payment_eur: 5000.0,
            description: Some("bonus".into()),
        };
        insert_outcome_term(&tx, &term).unwrap();
        tx.commit().unwrap();

        assert_eq!(get_programme(&conn, "prog").unwrap(), Some(prog.clone()));
        assert_eq!(get_programme(&conn, "nope").unwrap(), None);
        assert_eq!(list_programmes(&conn).unwrap(), [prog]);
        let projects = list_projects(&conn, "prog").unwrap();
        assert_eq!(projects, [project("prog", "A"), p]);
        assert_eq!(list_project_partners(&conn, "prog").unwrap(), [partner]);
        assert_eq!(list_interventions(&conn, "prog").unwrap(), [i]);
        assert_eq!(list_project_thematic_areas(&conn, "prog").unwrap(), [area]);
        assert_eq!(list_indicators(&conn, "prog").unwrap(), [ind]);
        assert_eq!(
            list_indicator_values(&conn, "ind").unwrap(),
            [v2021_06, v2021],
            "time order, not text order"
        );
        assert_eq!(list_outcome_terms(&conn, "prog").unwrap(), [term]);
        assert!(list_outcome_terms(&conn, "other").unwrap().is_empty());
    }

    #[test]
    fn references_must_exist_and_errors_name_object_and_field() {
        let mut conn = database();
        let tx = conn.transaction().unwrap();
        assert_eq!(
            err(insert_project(&tx, &project("nope", "A"))),
            "project 'nope/A': programme_id: programme 'nope' does not exist"
        );
        insert_programme(&tx, &programme("prog")).unwrap();
        insert_project(&tx, &project("prog", "A")).unwrap();
        let partner = ProjectPartner {
            project_id: "prog/A".into(),
            organization_id: "ghost".into(),
            role: PartnerRole::Partner,
            territorial_area: None,
        };
        assert_eq!(
            err(insert_project_partner(&tx, &partner)),
            "partner 'ghost' of project 'prog/A' as partner: organization_id: organization 'ghost' \
             does not exist"
        );
        assert_eq!(
            err(insert_intervention(&tx, &intervention("prog/Z", "x"))),
            "intervention 'prog/Z/x': project_id: project 'prog/Z' does not exist"
        );
        assert_eq!(
            err(insert_indicator(
                &tx,
                &indicator("i", IndicatorSubject::Intervention("prog/A/x".into()))
            )),
            "indicator 'i': intervention_id: intervention 'prog/A/x' does not exist"
        );
        let value = IndicatorValue {
            indicator_id: "i".into(),
            period: Period::parse("2021").unwrap(),
            value: 1.0,
        };
        assert_eq!(
            err(insert_indicator_value(&tx, &value)),
            "value of indicator 'i' for 2021: indicator_id: indicator 'i' does not exist"
        );
    }

    #[test]
    fn inserts_refuse_duplicates_and_upserts_update() {
        let mut conn = database();
        organization(&conn, "o1");
        let tx = conn.transaction().unwrap();
        insert_programme(&tx, &programme("prog")).unwrap();
        assert_eq!(
            err(insert_programme(&tx, &programme("prog"))),
            "programme 'prog' already exists\n  hint: use a new id, or the upsert function to \
             update it"
        );
        insert_project(&tx, &project("prog", "A")).unwrap();
        let mut same_code = project("prog", "A");
        same_code.id = "other".into();
        assert_eq!(
            err(insert_project(&tx, &same_code)),
            "project 'other': code: 'A' is already the code of project 'prog/A' in programme \
             'prog'"
        );
        let partner = ProjectPartner {
            project_id: "prog/A".into(),
            organization_id: "o1".into(),
            role: PartnerRole::ManagingBody,
            territorial_area: None,
        };
        insert_project_partner(&tx, &partner).unwrap();
        assert!(err(insert_project_partner(&tx, &partner)).ends_with(
            "already exists\n  hint: use a new id, or the upsert function to update it"
        ));
        let lead = ProjectPartner {
            role: PartnerRole::Lead,
            ..partner
        };
        insert_project_partner(&tx, &lead).unwrap();

        let mut renamed = project("prog", "A");
        renamed.title = "Renamed".into();
        upsert_project(&tx, &renamed).unwrap();
        let mut prog = programme("prog");
        prog.name = "New name".into();
        upsert_programme(&tx, &prog).unwrap();
        tx.commit().unwrap();
        assert_eq!(list_projects(&conn, "prog").unwrap(), [renamed]);
        assert_eq!(list_project_partners(&conn, "prog").unwrap().len(), 2);
        assert_eq!(get_programme(&conn, "prog").unwrap(), Some(prog));
    }

    #[test]
    fn deletes_refuse_while_indicators_measure_the_row() {
        let mut conn = database();
        organization(&conn, "o1");
        let tx = conn.transaction().unwrap();
        insert_programme(&tx, &programme("prog")).unwrap();
        insert_project(&tx, &project("prog", "A")).unwrap();
        insert_project(&tx, &project("prog", "B")).unwrap();
        insert_intervention(&tx, &intervention("prog/A", "x")).unwrap();
        insert_intervention(&tx, &intervention("prog/B", "y")).unwrap();
        insert_project_partner(
            &tx,
            &ProjectPartner {
                project_id: "prog/B".into(),
                organization_id: "o1".into(),
                role: PartnerRole::Partner,
                territorial_area: None,
            },
        )
        .unwrap();
        insert_indicator(
            &tx,
            &indicator("i", IndicatorSubject::Intervention("prog/A/x".into())),
        )
        .unwrap();
        assert_eq!(
            err(delete_project(&tx, "prog/A")),
            "project 'prog/A': 1 indicator(s) measure it or its interventions; removing it would \
             orphan their values\n  hint: move or delete the indicators first"
        );
        assert!(
            err(delete_intervention(&tx, "prog/A/x"))
                .starts_with("intervention 'prog/A/x': 1 indicator(s)")
        );
        delete_project(&tx, "prog/B").unwrap();
        tx.commit().unwrap();
        assert_eq!(
            list_projects(&conn, "prog").unwrap(),
            [project("prog", "A")]
        );
        assert!(list_project_partners(&conn, "prog").unwrap().is_empty());
        assert_eq!(list_interventions(&conn, "prog").unwrap().len(), 1);
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind_when_the_transaction_is_dropped() {
        let mut conn = database();
        {
            let tx = conn.transaction().unwrap();
            insert_programme(&tx, &programme("prog")).unwrap();
            assert!(insert_project(&tx, &project("missing", "A")).is_err());
        }
        assert!(list_programmes(&conn).unwrap().is_empty());
    }
}
