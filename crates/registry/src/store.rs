//! The SQLite store: opening and migrating, typed reads, atomic edits with reference checks,
//! the history of every change and the registry as it was at a past date.

use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::{RegistryError, Result};
use crate::model::{TABLES, table_def};
use crate::record::{Invalid, Record, Row, TableDef, canon_row, from_row, to_row};
use crate::schema::{
    EXTRA_SCHEMA, Init, clear_session, json_value, migrate, quote, set_session, write_row,
};

/// The registry of providers and services, stored in one SQLite file.
pub struct Registry {
    conn: Connection,
    path: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("path", &self.path)
            .finish()
    }
}

/// The format of history timestamps.
const AT_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

impl Registry {
    /// Opens (creating it if needed) the registry in an SQLite file and migrates it to this
    /// build's format.
    pub fn open(path: impl AsRef<Path>) -> Result<Registry> {
        let path = path.as_ref();
        let conn = Connection::open(path).map_err(|e| RegistryError::Io {
            path: path.display().to_string(),
            message: e.to_string().to_lowercase(),
        })?;
        Registry::with_connection(conn, &path.display().to_string(), EXTRA_SCHEMA)
    }

    /// A registry in memory, for tests and for [`Registry::as_of`].
    pub fn open_in_memory() -> Result<Registry> {
        Registry::with_connection(Connection::open_in_memory()?, ":memory:", EXTRA_SCHEMA)
    }

    fn with_connection(mut conn: Connection, path: &str, extra: &[Init]) -> Result<Registry> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Writes prepare an existence check per referenced table and an insert per table:
        // keep them all (two per table and then some) instead of re-preparing each time.
        conn.set_prepared_statement_cache_capacity(4 * TABLES.len());
        migrate(&mut conn, path, extra)?;
        Ok(Registry {
            conn,
            path: path.to_string(),
        })
    }

    /// The SQLite connection, for the registry's other modules (programmes and projects).
    /// Changes made through it are recorded in the history by the triggers, with `by` = `sql`.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection for modules that open their own transactions (the programme loaders).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The file the registry lives in (`:memory:` for one in memory).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` as one atomic change by `by`, timestamped now: either everything `f` does is
    /// kept, or (if it returns an error) nothing.
    pub fn edit<R>(&mut self, by: &str, f: impl FnOnce(&mut Edit<'_>) -> Result<R>) -> Result<R> {
        self.edit_at(by, Utc::now(), f)
    }

    /// Like [`Registry::edit`], with the time the history records for the change.
    pub fn edit_at<R>(
        &mut self,
        by: &str,
        at: DateTime<Utc>,
        f: impl FnOnce(&mut Edit<'_>) -> Result<R>,
    ) -> Result<R> {
        if by.trim().is_empty() {
            return Err(RegistryError::Invalid {
                object: "edit".into(),
                field: "by".into(),
                message: "say who makes the change".into(),
            });
        }
        let tx = self.conn.transaction()?;
        set_session(&tx, by, Some(&at.format(AT_FORMAT).to_string()))?;
        let mut edit = Edit { tx };
        let out = f(&mut edit)?;
        clear_session(&edit.tx)?;
        edit.tx.commit()?;
        Ok(out)
    }

    /// One record by id.
    pub fn get<T: Record>(&self, id: &str) -> Result<Option<T>> {
        get(&self.conn, id)
    }

    /// Every record of a type, ordered by id.
    pub fn list<T: Record>(&self) -> Result<Vec<T>> {
        rows(&self.conn, T::DEF)?
            .iter()
            .map(|row| decode::<T>(row))
            .collect()
    }

    /// Every row of a table as canonical rows, ordered by id.
    pub(crate) fn rows(&self, def: &TableDef) -> Result<Vec<Row>> {
        rows(&self.conn, def)
    }

    /// The changes of one object, oldest first.
    pub fn history(&self, table: &str, id: &str) -> Result<Vec<Change>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, table_name, id, version, op, at, by, row_json FROM registry_history \
             WHERE table_name = ?1 AND id = ?2 ORDER BY version",
        )?;
        let raw = stmt
            .query_map(params![table, id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(seq, table, id, version, op, at, by, row)| {
                let op = match op.as_str() {
                    "insert" => Op::Insert,
                    "update" => Op::Update,
                    _ => Op::Delete,
                };
                let at = DateTime::parse_from_rfc3339(&at)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        RegistryError::Storage(format!("history {seq}: bad timestamp `{at}`"))
                    })?;
                let row = row
                    .map(|text| serde_json::from_str(&text))
                    .transpose()
                    .map_err(|e| RegistryError::Storage(format!("history {seq}: {e}")))?;
                Ok(Change {
                    seq,
                    table,
                    id,
                    version,
                    op,
                    at,
                    by,
                    row,
                })
            })
            .collect()
    }

    /// The registry as it was at the end of a day (UTC), rebuilt in memory from the history.
    pub fn as_of(&self, date: NaiveDate) -> Result<Registry> {
        let end = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
        self.as_at(end.and_utc())
    }

    /// The registry as it was at an instant, rebuilt in memory from the history: every object's
    /// last change at or before `at`, deleted objects left out.
    pub fn as_at(&self, at: DateTime<Utc>) -> Result<Registry> {
        let at_text = at.format(AT_FORMAT).to_string();
        let mut stmt = self.conn.prepare(
            "SELECT h.table_name, h.row_json FROM registry_history h \
             WHERE h.op <> 'delete' AND h.seq = (SELECT max(g.seq) FROM registry_history g \
                 WHERE g.table_name = h.table_name AND g.id = h.id AND g.at <= ?1) \
             ORDER BY h.table_name, h.id",
        )?;
        let found = stmt
            .query_map(params![at_text], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut past = Registry::open_in_memory()?;
        past.edit_at("as_of", at, |e| {
            e.defer_foreign_keys()?;
            for def in TABLES {
                for (_, text) in found.iter().filter(|(t, _)| t == def.table) {
                    let Some(text) = text else { continue };
                    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
                        return Err(RegistryError::Storage(format!(
                            "history of {}: a row is not a JSON object",
                            def.table
                        )));
                    };
                    let row = canon_row(def, &map).map_err(|e| {
                        RegistryError::Storage(format!(
                            "history of {}: {}: {}",
                            def.table, e.field, e.message
                        ))
                    })?;
                    write_row(&e.tx, def.table, &row, true)?;
                }
            }
            Ok(())
        })?;
        Ok(past)
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Insert,
    Update,
    Delete,
}

/// One change of one object, as the history keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Order of the change in the whole registry.
    pub seq: i64,
    pub table: String,
    pub id: String,
    /// 1 for the first change of the object, then 2, 3, ...
    pub version: i64,
    pub op: Op,
    pub at: DateTime<Utc>,
    pub by: String,
    /// The row after the change, column name to value (`None` after a delete).
    pub row: Option<Value>,
}

impl Change {
    /// The record after the change.
    pub fn record<T: Record>(&self) -> Result<Option<T>> {
        let Some(Value::Object(map)) = &self.row else {
            return Ok(None);
        };
        let row = canon_row(T::DEF, map).map_err(|e| {
            RegistryError::Storage(format!("history {}: {}: {}", self.seq, e.field, e.message))
        })?;
        decode(&row).map(Some)
    }
}

/// An open atomic change (see [`Registry::edit`]).
pub struct Edit<'a> {
    pub(crate) tx: rusqlite::Transaction<'a>,
}

/// How a write treats an existing record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    Insert,
    Upsert,
}

impl Edit<'_> {
    /// Adds a record; an error if its id exists.
    pub fn insert<T: Record>(&mut self, record: &T) -> Result<()> {
        self.write(record, Mode::Insert)
    }

    /// Adds a record, or replaces the one with its id.
    pub fn upsert<T: Record>(&mut self, record: &T) -> Result<()> {
        self.write(record, Mode::Upsert)
    }

    /// Deletes a record; `false` if there was none. An error names a record that still refers
    /// to it (delete that first).
    pub fn delete<T: Record>(&mut self, id: &str) -> Result<bool> {
        self.delete_row(T::DEF, id)
    }

    /// The SQLite transaction of the change, for the registry's other modules: what they write
    /// through it is kept or undone with the rest.
    pub fn connection(&self) -> &Connection {
        &self.tx
    }

    /// One record by id, as the change sees it so far.
    pub fn get<T: Record>(&self, id: &str) -> Result<Option<T>> {
        get(&self.tx, id)
    }

    fn write<T: Record>(&mut self, record: &T, mode: Mode) -> Result<()> {
        let object = object_name(T::DEF, record.id());
        let invalid = |e: Invalid| RegistryError::Invalid {
            object: object.clone(),
            field: e.field,
            message: e.message,
        };
        let row = to_row(record).map_err(invalid)?;
        record.check().map_err(invalid)?;
        self.check_refs(T::DEF, &row)
            .map_err(|e| RegistryError::Integrity {
                object: object.clone(),
                field: e.field,
                message: e.message,
            })?;
        self.write_row(T::DEF, &row, mode)
    }

    /// Writes a canonical row that passed [`check_row`] (the caller checks references).
    pub(crate) fn write_row(&mut self, def: &TableDef, row: &Row, mode: Mode) -> Result<()> {
        let id = row.get("id").and_then(Value::as_str).unwrap_or_default();
        if mode == Mode::Insert && exists(&self.tx, def.table, id)? {
            return Err(RegistryError::Integrity {
                object: object_name(def, id),
                field: "id".into(),
                message: "already exists".into(),
            });
        }
        write_row(&self.tx, def.table, row, mode == Mode::Upsert)
    }

    /// Checks that every reference of a row points at an existing record.
    pub(crate) fn check_refs(&self, def: &TableDef, row: &Row) -> Result<(), Invalid> {
        let missing = |field: &str, table: &str, id: &str| {
            let object = table_def(table).map_or(table, |d| display_object(d.object));
            Invalid::new(field, format!("no {object} with id `{id}`"))
        };
        for c in def.columns {
            let (Some(table), Some(id)) = (c.refers, row.get(c.name).and_then(Value::as_str))
            else {
                continue;
            };
            if !exists(&self.tx, table, id).map_err(|e| Invalid::new(c.name, e.to_string()))? {
                return Err(missing(c.name, table, id));
            }
        }
        if def.table == "attributes" {
            let entity = row.get("link_entity").and_then(Value::as_str);
            let link = row.get("link_id").and_then(Value::as_str);
            if let (Some(entity), Some(link)) = (entity, link)
                && let Some(entity) = crate::codes::LinkEntity::from_code(entity)
                && !exists(&self.tx, entity.table(), link)
                    .map_err(|e| Invalid::new("link_id", e.to_string()))?
            {
                return Err(missing("link_id", entity.table(), link));
            }
        }
        Ok(())
    }

    pub(crate) fn delete_row(&mut self, def: &TableDef, id: &str) -> Result<bool> {
        if !exists(&self.tx, def.table, id)? {
            return Ok(false);
        }
        let object = object_name(def, id);
        for other in TABLES {
            for c in other.columns.iter().filter(|c| c.refers == Some(def.table)) {
                let sql = format!(
                    "SELECT id FROM {} WHERE {} = ?1 AND id <> ?2 ORDER BY id LIMIT 1",
                    other.table,
                    quote(c.name)
                );
                let referrer: Option<String> = self
                    .tx
                    .query_row(&sql, params![id, id], |r| r.get(0))
                    .optional()?;
                let self_ref = other.table == def.table;
                if let Some(referrer) = referrer.filter(|r| !self_ref || r != id) {
                    return Err(RegistryError::Integrity {
                        object,
                        field: "id".into(),
                        message: format!(
                            "still referenced by {} (field {}); delete or change that first",
                            object_name(other, &referrer),
                            c.name
                        ),
                    });
                }
            }
        }
        let entity = crate::codes::LinkEntity::ALL
            .iter()
            .find(|e| e.table() == def.table);
        if let Some(entity) = entity {
            let referrer: Option<String> = self
                .tx
                .query_row(
                    "SELECT id FROM attributes WHERE link_entity = ?1 AND link_id = ?2 ORDER BY id LIMIT 1",
                    params![entity.code(), id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(referrer) = referrer {
                return Err(RegistryError::Integrity {
                    object,
                    field: "id".into(),
                    message: format!(
                        "still referenced by attribute {referrer} (field link_id); delete or change that first"
                    ),
                });
            }
        }
        let sql = format!("DELETE FROM {} WHERE id = ?1", def.table);
        match self.tx.execute(&sql, params![id]) {
            Ok(n) => Ok(n > 0),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(RegistryError::Integrity {
                    object,
                    field: "id".into(),
                    message: "still referenced by another module's table (foreign key)".into(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Lets references be checked at the end of the change instead of row by row (imports
    /// write records in any order).
    pub(crate) fn defer_foreign_keys(&self) -> Result<()> {
        self.tx.pragma_update(None, "defer_foreign_keys", true)?;
        Ok(())
    }
}

/// `service s1`, `operator op1`.
pub(crate) fn object_name(def: &TableDef, id: &str) -> String {
    format!("{} {id}", display_object(def.object))
}

fn display_object(object: &str) -> &str {
    object.strip_prefix("x_").unwrap_or(object)
}

fn exists(conn: &Connection, table: &str, id: &str) -> Result<bool> {
    let sql = format!("SELECT 1 FROM {} WHERE id = ?1", quote(table));
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![id], |_| Ok(()))
        .optional()?
        .is_some())
}

fn select(def: &TableDef) -> String {
    let cols: Vec<String> = def.columns.iter().map(|c| quote(c.name)).collect();
    format!("SELECT {} FROM {}", cols.join(", "), def.table)
}

fn read_row(def: &TableDef, r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let mut row = Row::new();
    for (i, c) in def.columns.iter().enumerate() {
        row.insert(c.name.to_string(), json_value(r.get_ref(i)?));
    }
    Ok(row)
}

fn rows(conn: &Connection, def: &TableDef) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare(&format!("{} ORDER BY id", select(def)))?;
    let rows = stmt
        .query_map([], |r| read_row(def, r))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn get<T: Record>(conn: &Connection, id: &str) -> Result<Option<T>> {
    let sql = format!("{} WHERE id = ?1", select(T::DEF));
    let row = conn
        .query_row(&sql, params![id], |r| read_row(T::DEF, r))
        .optional()?;
    row.map(|row| decode(&row)).transpose()
}

fn decode<T: Record>(row: &Row) -> Result<T> {
    from_row(row).map_err(|e| {
        let id = row.get("id").and_then(Value::as_str).unwrap_or_default();
        RegistryError::Storage(format!(
            "{} in the database does not decode: {}: {}",
            object_name(T::DEF, id),
            e.field,
            e.message
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{OrganizationKind, SocialRisk, Status};
    use crate::model::{Organization, Service};
    use crate::testutil::{registry, ts};

    fn org(id: &str, name: &str) -> Organization {
        Organization {
            id: id.into(),
            name: name.into(),
            kind: Some(OrganizationKind::ThirdSector),
            ..Organization::default()
        }
    }

    fn service(id: &str, org: &str) -> Service {
        Service {
            id: id.into(),
            organization_id: org.into(),
            name: "Sportello".into(),
            risks: vec![SocialRisk::Poverty],
            ..Service::default()
        }
    }

    #[test]
    fn insert_get_list_upsert_delete() {
        let mut reg = Registry::open_in_memory().unwrap();
        reg.edit("test", |e| {
            e.insert(&org("o2", "Beta"))?;
            e.insert(&org("o1", "Alfa"))?;
            e.insert(&service("s1", "o1"))
        })
        .unwrap();
        let all = reg.list::<Organization>().unwrap();
        assert_eq!(
            all.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
            ["o1", "o2"]
        );
        assert_eq!(
            reg.get::<Service>("s1").unwrap().unwrap().status,
            Status::Active
        );
        let mut renamed = org("o2", "Beta APS");
        renamed.tax_id = Some("01234567890".into());
        reg.edit("test", |e| e.upsert(&renamed)).unwrap();
        assert_eq!(reg.get::<Organization>("o2").unwrap(), Some(renamed));
        assert!(
            reg.edit("test", |e| e.delete::<Organization>("o2"))
                .unwrap()
        );
        assert!(
            !reg.edit("test", |e| e.delete::<Organization>("o2"))
                .unwrap()
        );
        assert_eq!(reg.get::<Organization>("o2").unwrap(), None);
    }

    #[test]
    fn errors_name_the_object_and_field() {
        let mut reg = Registry::open_in_memory().unwrap();
        let e = reg
            .edit("test", |e| e.insert(&service("s1", "o9")))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "service s1: organization_id: no organization with id `o9`"
        );
        reg.edit("test", |e| e.insert(&org("o1", "Alfa"))).unwrap();
        let e = reg
            .edit("test", |e| e.insert(&org("o1", "Alfa")))
            .unwrap_err();
        assert_eq!(e.to_string(), "organization o1: id: already exists");
        let e = reg.edit("test", |e| e.insert(&org("o3", ""))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "organization o3: name: missing required field"
        );
        reg.edit("test", |e| e.insert(&service("s1", "o1")))
            .unwrap();
        let e = reg
            .edit("test", |e| e.delete::<Organization>("o1"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "organization o1: id: still referenced by service s1 (field organization_id); delete or change that first"
        );
        assert!(matches!(e, RegistryError::Integrity { .. }));
    }

    #[test]
    fn a_failed_edit_leaves_nothing() {
        let mut reg = Registry::open_in_memory().unwrap();
        let before = reg.history("organizations", "o1").unwrap();
        let result = reg.edit("test", |e| {
            e.insert(&org("o1", "Alfa"))?;
            e.insert(&service("s1", "nobody"))
        });
        assert!(result.is_err());
        assert_eq!(reg.get::<Organization>("o1").unwrap(), None);
        assert_eq!(reg.history("organizations", "o1").unwrap(), before);
        let left: i64 = reg
            .connection()
            .query_row("SELECT count(*) FROM registry_session", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn history_keeps_every_version() {
        let mut reg = Registry::open_in_memory().unwrap();
        reg.edit_at("anna", ts("2024-01-10T09:00:00Z"), |e| {
            e.insert(&org("o1", "Alfa"))
        })
        .unwrap();
        // An upsert that changes nothing adds no version.
        reg.edit_at("anna", ts("2024-01-11T09:00:00Z"), |e| {
            e.upsert(&org("o1", "Alfa"))
        })
        .unwrap();
        reg.edit_at("bruno", ts("2024-02-01T09:00:00Z"), |e| {
            e.upsert(&org("o1", "Alfa Cooperativa"))
        })
        .unwrap();
        reg.edit_at("carla", ts("2024-03-01T09:00:00Z"), |e| {
            e.delete::<Organization>("o1")
        })
        .unwrap();
        let h = reg.history("organizations", "o1").unwrap();
        let summary: Vec<(i64, Op, &str, String)> = h
            .iter()
            .map(|c| (c.version, c.op, c.by.as_str(), c.at.to_rfc3339()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, Op::Insert, "anna", "2024-01-10T09:00:00+00:00".into()),
                (2, Op::Update, "bruno", "2024-02-01T09:00:00+00:00".into()),
                (3, Op::Delete, "carla", "2024-03-01T09:00:00+00:00".into()),
            ]
        );
        let second: Organization = h[1].record().unwrap().unwrap();
        assert_eq!(second.name, "Alfa Cooperativa");
        assert_eq!(h[2].record::<Organization>().unwrap(), None);
    }

    #[test]
    fn as_of_rebuilds_past_states() {
        let mut reg = Registry::open_in_memory().unwrap();
        reg.edit_at("anna", ts("2024-01-10T09:00:00Z"), |e| {
            e.insert(&org("o1", "Alfa"))?;
            e.insert(&service("s1", "o1"))
        })
        .unwrap();
        reg.edit_at("anna", ts("2024-02-10T09:00:00Z"), |e| {
            e.upsert(&org("o1", "Alfa Cooperativa"))?;
            e.insert(&org("o2", "Beta"))
        })
        .unwrap();
        reg.edit_at("anna", ts("2024-03-10T09:00:00Z"), |e| {
            e.delete::<Service>("s1")?;
            e.delete::<Organization>("o1")
        })
        .unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let names = |r: &Registry| -> Vec<String> {
            r.list::<Organization>()
                .unwrap()
                .into_iter()
                .map(|o| o.name)
                .collect()
        };
        assert!(names(&reg.as_of(day("2024-01-09")).unwrap()).is_empty());
        let jan = reg.as_of(day("2024-01-10")).unwrap();
        assert_eq!(names(&jan), ["Alfa"]);
        assert_eq!(jan.list::<Service>().unwrap().len(), 1);
        assert_eq!(
            names(&reg.as_of(day("2024-02-20")).unwrap()),
            ["Alfa Cooperativa", "Beta"]
        );
        let march = reg.as_of(day("2024-03-10")).unwrap();
        assert_eq!(names(&march), ["Beta"]);
        assert!(march.list::<Service>().unwrap().is_empty());
    }

    #[test]
    fn as_of_after_the_last_change_is_the_registry() {
        // Every column type goes through the triggers' JSON and back.
        let mut reg = registry();
        reg.edit_at("test", ts("2024-03-02T10:00:00Z"), |e| {
            let mut s = e.get::<Service>("s-shelter")?.unwrap();
            s.free = Some(true);
            e.upsert(&s)
        })
        .unwrap();
        reg.connection()
            .execute(
                "UPDATE cost_options SET amount = 0.1 + 0.2 WHERE id = 'co-day-low'",
                [],
            )
            .unwrap();
        let now = reg.as_at(Utc::now()).unwrap();
        for def in TABLES {
            assert_eq!(
                now.rows(def).unwrap(),
                reg.rows(def).unwrap(),
                "{}",
                def.table
            );
        }
        let before = reg.as_of(crate::testutil::day("2024-03-01")).unwrap();
        let s = before.get::<Service>("s-shelter").unwrap().unwrap();
        assert_eq!(s.free, None);
    }

    #[test]
    fn raw_sql_from_other_modules_is_readable_and_recorded() {
        let reg = Registry::open_in_memory().unwrap();
        reg.connection()
            .execute(
                "INSERT INTO organizations (id, name, kind, legal_form, tax_id) VALUES ('c1', 'Comune di Esempio', 'public_body', 'ente locale', '01234567890')",
                [],
            )
            .unwrap();
        let c = reg.get::<Organization>("c1").unwrap().unwrap();
        assert_eq!(c.kind, Some(OrganizationKind::PublicBody));
        assert_eq!(c.status, Status::Active);
        let h = reg.history("organizations", "c1").unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].by, "sql");
    }

    #[test]
    fn a_file_registry_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.sqlite");
        {
            let mut reg = Registry::open(&path).unwrap();
            reg.edit("test", |e| e.insert(&org("o1", "Alfa"))).unwrap();
        }
        let reg = Registry::open(&path).unwrap();
        assert_eq!(reg.list::<Organization>().unwrap().len(), 1);
        assert_eq!(reg.path(), path.display().to_string());
    }

    #[test]
    fn the_fixture_loads() {
        let reg = registry();
        assert!(reg.list::<Service>().unwrap().len() >= 3);
    }
}
