//! The SQLite schema: formats, migrations, history triggers and the hook for the schema of
//! other registry modules.
//!
//! The format is SQLite's `user_version`. Format 1 is `schema_v1.sql` plus the history triggers
//! and the fixed taxonomies. A later format appends a migration to `MIGRATIONS`; a registry
//! is migrated when opened, in one transaction.

use rusqlite::{Connection, params};

use crate::codes::{fixed_taxonomies, fixed_terms};
use crate::error::{RegistryError, Result};
use crate::model::TABLES;
use crate::record::{Record, Row, to_row};

/// The registry format this build writes.
pub const FORMAT_VERSION: i64 = 1;

/// A step from one format to the next: `MIGRATIONS[n]` turns format `n` into `n + 1`.
type Migration = fn(&Connection) -> Result<()>;

const MIGRATIONS: &[Migration] = &[v1];

/// Schema of other registry modules, created (idempotently: `CREATE TABLE IF NOT EXISTS`) every
/// time a registry is opened, after the migrations.
pub type Init = fn(&Connection) -> rusqlite::Result<()>;

/// The other modules' schema, run in this order every time a registry is opened (also in
/// memory and for `as_of`). Each function must be idempotent and may refer to `organizations`.
pub const EXTRA_SCHEMA: &[Init] = &[crate::programme::init];

fn v1(conn: &Connection) -> Result<()> {
    conn.execute_batch(include_str!("schema_v1.sql"))?;
    for def in TABLES {
        create_history_triggers(conn, def.table)?;
    }
    set_session(conn, "datalab", None)?;
    for t in fixed_taxonomies() {
        insert_seed(conn, &t)?;
    }
    for t in fixed_terms() {
        insert_seed(conn, &t)?;
    }
    clear_session(conn)?;
    Ok(())
}

fn insert_seed<T: Record>(conn: &Connection, record: &T) -> Result<()> {
    let row = to_row(record).map_err(|e| RegistryError::Storage(format!("seed: {}", e.message)))?;
    write_row(conn, T::DEF.table, &row, false)
}

/// Inserts (or, with `upsert`, inserts or updates) a canonical row.
pub(crate) fn write_row(conn: &Connection, table: &str, row: &Row, upsert: bool) -> Result<()> {
    let names: Vec<&str> = row.keys().map(String::as_str).collect();
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names
            .iter()
            .map(|n| quote(n))
            .collect::<Vec<_>>()
            .join(", "),
        marks.join(", ")
    );
    if upsert {
        let sets: Vec<String> = names
            .iter()
            .filter(|n| **n != "id")
            .map(|n| format!("{0} = excluded.{0}", quote(n)))
            .collect();
        sql.push_str(" ON CONFLICT (id) DO UPDATE SET ");
        sql.push_str(&sets.join(", "));
    }
    let values: Vec<rusqlite::types::Value> = row.values().map(sql_value).collect();
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Quotes an SQL identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQLite value of a canonical row value.
pub(crate) fn sql_value(v: &serde_json::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        serde_json::Value::Null => V::Null,
        serde_json::Value::Bool(b) => V::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => V::Integer(i),
            None => V::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => V::Text(s.clone()),
        other => V::Text(other.to_string()),
    }
}

/// The row value of an SQLite value.
pub(crate) fn json_value(v: rusqlite::types::ValueRef<'_>) -> serde_json::Value {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => serde_json::Value::Null,
        V::Integer(i) => serde_json::Value::from(i),
        V::Real(x) => serde_json::Number::from_f64(x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        V::Text(t) => serde_json::Value::String(String::from_utf8_lossy(t).into_owned()),
        V::Blob(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
    }
}

/// Sets who (and, if given, when) the changes of the current transaction are made by.
pub(crate) fn set_session(conn: &Connection, by: &str, at: Option<&str>) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO registry_session (key, value) VALUES ('by', ?1)",
        params![by],
    )?;
    match at {
        Some(at) => conn.execute(
            "INSERT OR REPLACE INTO registry_session (key, value) VALUES ('at', ?1)",
            params![at],
        )?,
        None => conn.execute("DELETE FROM registry_session WHERE key = 'at'", [])?,
    };
    Ok(())
}

pub(crate) fn clear_session(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM registry_session", [])?;
    Ok(())
}

/// Creates the triggers that append every insert, update and delete of `table` to
/// `registry_history`, with the row as JSON. The columns are read from the database, so the
/// triggers follow the table as migrations change it (drop and recreate them after).
pub(crate) fn create_history_triggers(conn: &Connection, table: &str) -> Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let columns: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<_>>()?;
    let object = |alias: &str| {
        let pairs: Vec<String> = columns
            .iter()
            .map(|c| format!("'{c}', {alias}.{}", quote(c)))
            .collect();
        format!("json_object({})", pairs.join(", "))
    };
    let entry = |op: &str, alias: &str, row: &str| {
        format!(
            "INSERT INTO registry_history (table_name, id, version, op, at, by, row_json) VALUES (\
             '{table}', {alias}.id, \
             coalesce((SELECT max(version) FROM registry_history WHERE table_name = '{table}' AND id = {alias}.id), 0) + 1, \
             '{op}', \
             coalesce((SELECT value FROM registry_session WHERE key = 'at'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), \
             coalesce((SELECT value FROM registry_session WHERE key = 'by'), 'sql'), \
             {row});"
        )
    };
    let new = object("NEW");
    let old = object("OLD");
    conn.execute_batch(&format!(
        "CREATE TRIGGER registry_history_{table}_insert AFTER INSERT ON {table} BEGIN {} END;
         CREATE TRIGGER registry_history_{table}_update AFTER UPDATE ON {table} WHEN {old} IS NOT {new} BEGIN {} END;
         CREATE TRIGGER registry_history_{table}_delete AFTER DELETE ON {table} BEGIN {} END;",
        entry("insert", "NEW", &new),
        entry("update", "NEW", &new),
        entry("delete", "OLD", "NULL"),
    ))?;
    Ok(())
}

/// Brings a connection's database to [`FORMAT_VERSION`] and runs the other modules' schema.
pub(crate) fn migrate(conn: &mut Connection, path: &str, extra: &[Init]) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", true)?;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > FORMAT_VERSION {
        return Err(RegistryError::Version {
            path: path.to_string(),
            found,
            known: FORMAT_VERSION,
        });
    }
    if found < FORMAT_VERSION {
        let tx = conn.transaction()?;
        for step in &MIGRATIONS[found.max(0) as usize..] {
            step(&tx)?;
        }
        tx.pragma_update(None, "user_version", FORMAT_VERSION)?;
        tx.commit()?;
    }
    for init in extra {
        init(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ColType;

    #[test]
    fn tables_match_their_definitions() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:", &[]).unwrap();
        for def in TABLES {
            let mut stmt = conn
                .prepare(&format!("PRAGMA table_info({})", def.table))
                .unwrap();
            type Info = (String, String, bool, Option<String>);
            let cols: Vec<Info> = stmt
                .query_map([], |r| {
                    Ok((r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? != 0, r.get(4)?))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let expect: Vec<Info> = def
                .columns
                .iter()
                .map(|c| {
                    let default = c.default.map(|d| format!("'{d}'"));
                    (
                        c.name.to_string(),
                        c.ty.sql().to_string(),
                        c.required,
                        default,
                    )
                })
                .collect();
            assert_eq!(cols, expect, "{}", def.table);
            let mut stmt = conn
                .prepare(&format!("PRAGMA foreign_key_list({})", def.table))
                .unwrap();
            let mut fks: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(3)?, r.get(2)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            fks.sort();
            let mut expect: Vec<(String, String)> = def
                .columns
                .iter()
                .filter_map(|c| c.refers.map(|t| (c.name.to_string(), t.to_string())))
                .collect();
            expect.sort();
            assert_eq!(fks, expect, "{}", def.table);
            for c in def.columns {
                if let ColType::Code(codes) = c.ty {
                    let sql: String = conn
                        .query_row(
                            "SELECT sql FROM sqlite_master WHERE name = ?1",
                            [def.table],
                            |r| r.get(0),
                        )
                        .unwrap();
                    let list = codes
                        .iter()
                        .map(|c| format!("'{c}'"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let squeezed: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
                    assert!(
                        squeezed.contains(&list),
                        "{}.{}: CHECK should list {list}",
                        def.table,
                        c.name
                    );
                }
            }
        }
    }

    #[test]
    fn the_organizations_table_keeps_its_agreed_columns() {
        // Programmes and projects insert into `organizations` with SQL: keep these names.
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:", &[]).unwrap();
        conn.execute(
            "INSERT INTO organizations (id, name, kind, legal_form, tax_id) VALUES ('o', 'Comune', 'public_body', 'ente locale', '01234567890')",
            [],
        )
        .unwrap();
        let status: String = conn
            .query_row("SELECT status FROM organizations WHERE id = 'o'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(status, "active");
    }

    #[test]
    fn migration_is_idempotent_and_refuses_newer_formats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.sqlite");
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn, "r", &[]).unwrap();
        let seeds: i64 = conn
            .query_row("SELECT count(*) FROM taxonomy_terms", [], |r| r.get(0))
            .unwrap();
        migrate(&mut conn, "r", &[]).unwrap();
        let again: i64 = conn
            .query_row("SELECT count(*) FROM taxonomy_terms", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seeds, again);
        conn.pragma_update(None, "user_version", 7).unwrap();
        let e = migrate(&mut conn, "r", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "r: registry format 7 is newer than this datalab knows (1)\n  hint: upgrade datalab"
        );
    }

    #[test]
    fn extra_schema_runs_on_every_open() {
        fn programmes(conn: &Connection) -> rusqlite::Result<()> {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS programmes (id TEXT PRIMARY KEY, organization_id TEXT REFERENCES organizations (id))",
            )
        }
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:", &[programmes]).unwrap();
        migrate(&mut conn, ":memory:", &[programmes]).unwrap();
        conn.execute("INSERT INTO programmes (id) VALUES ('p')", [])
            .unwrap();
    }

    #[test]
    fn triggers_record_raw_sql_changes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, ":memory:", &[]).unwrap();
        conn.execute(
            "INSERT INTO organizations (id, name) VALUES ('o', 'Comune')",
            [],
        )
        .unwrap();
        conn.execute(
            "UPDATE organizations SET name = 'Comune' WHERE id = 'o'",
            [],
        )
        .unwrap();
        conn.execute(
            "UPDATE organizations SET name = 'Comune di Esempio' WHERE id = 'o'",
            [],
        )
        .unwrap();
        conn.execute("DELETE FROM organizations WHERE id = 'o'", [])
            .unwrap();
        let mut stmt = conn
            .prepare("SELECT version, op, by, json_extract(row_json, '$.name') FROM registry_history WHERE table_name = 'organizations' ORDER BY seq")
            .unwrap();
        let rows: Vec<(i64, String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1, "insert".into(), "sql".into(), Some("Comune".into())),
                (
                    2,
                    "update".into(),
                    "sql".into(),
                    Some("Comune di Esempio".into())
                ),
                (3, "delete".into(), "sql".into(), None),
            ]
        );
    }
}
