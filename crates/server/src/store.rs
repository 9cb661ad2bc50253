//! Where the server keeps accounts, sessions, API tokens and the audit trail.
//!
//! [`Store`] is the extension point: SQLite ([`SqliteStore`], in the project's `.datalab/`
//! folder) is the default, and a PostgreSQL store would implement the same few methods and pass
//! the same conformance suite ([`conformance`]). Secrets never reach the store in the clear:
//! passwords as argon2id PHC strings, session and API tokens as BLAKE3 digests.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use model::Role;
use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::{Entry, Event, GENESIS, Head};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request conflicts with what is stored (a user that exists, one that does not).
    #[error("{0}")]
    Conflict(String),
    /// The database or its files failed.
    #[error("{path}: {message}")]
    Backend { path: String, message: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A local account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
    /// The partner body a partner account belongs to (its sources and releases).
    pub organization: Option<String>,
    pub disabled: bool,
    pub created: String,
}

/// A login session: the cookie holds the token, the store its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub user: String,
    /// The token a browser must echo in `X-CSRF-Token` on every change.
    pub csrf: String,
    pub created: String,
    pub expires: String,
}

/// An API token for scripts: the caller sees it once, the store keeps its digest.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    #[serde(skip)]
    pub token_hash: String,
    pub user: String,
    pub label: String,
    pub created: String,
    pub revoked: bool,
}

/// Accounts, sessions, tokens and the audit trail. Implementations must make
/// [`Store::append`] atomic: two concurrent appends never share a sequence number.
pub trait Store: Send + Sync {
    /// Adds an account; a name already taken is a [`StoreError::Conflict`].
    fn add_user(&self, user: &User, password_hash: &str) -> Result<()>;
    /// The account and its password hash.
    fn user(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Every account, by name.
    fn users(&self) -> Result<Vec<User>>;
    /// Changes an account's password, role or status; `None` keeps a field.
    fn update_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<()>;

    fn add_session(&self, session: &Session) -> Result<()>;
    fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Deletes the sessions of `user` (after a password change or when disabled).
    fn delete_sessions_of(&self, user: &str) -> Result<()>;

    fn add_token(&self, token: &ApiToken) -> Result<()>;
    fn token(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    fn tokens_of(&self, user: &str) -> Result<Vec<ApiToken>>;
    fn revoke_token(&self, user: &str, id: &str) -> Result<bool>;

    /// Appends an event to the audit trail, chained after the last entry.
    fn append(&self, event: &Event) -> Result<Entry>;
    /// Entries with `seq > after`, at most `limit`, in order.
    fn entries(&self, after: i64, limit: usize) -> Result<Vec<Entry>>;
    /// The newest entry as recorded apart from the log.
    fn head(&self) -> Result<Option<Head>>;
}

/// The SQLite store: `server.sqlite` and `audit.head` in a folder (the project's `.datalab/`).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    head_path: PathBuf,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('format', '1');
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  organization TEXT,
  password TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name),
  csrf TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL REFERENCES users(name),
  label TEXT NOT NULL,
  created TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
";

impl SqliteStore {
    /// The database file's name in its folder.
    pub const FILE: &'static str = "server.sqlite";
    /// The audit head's file name in its folder.
    pub const HEAD_FILE: &'static str = "audit.head";

    /// Opens (creating if needed) the store in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the folder or database cannot be opened.
    pub fn open(dir: &Path) -> Result<SqliteStore> {
        let path = dir.join(Self::FILE);
        let fail = |m: String| StoreError::Backend {
            path: path.display().to_string(),
            message: m,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let conn = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| fail(e.to_string()))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail(e.to_string()))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            head_path: dir.join(Self::HEAD_FILE),
            path,
        })
    }

    fn fail(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| self.fail(e))
    }

    fn write_head(&self, head: &Head) -> Result<()> {
        let tmp = self.head_path.with_extension("head.tmp");
        let text = format!("{} {}\n", head.seq, head.hash);
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.head_path))
            .map_err(|e| StoreError::Backend {
                path: self.head_path.display().to_string(),
                message: e.to_string(),
            })
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String)> {
    let role: String = r.get(1)?;
    Ok((
        User {
            name: r.get(0)?,
            role: Role::parse(&role).unwrap_or(Role::Public),
            organization: r.get(2)?,
            disabled: r.get(4)?,
            created: r.get(5)?,
        },
        r.get(3)?,
    ))
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        token_hash: r.get(1)?,
        user: r.get(2)?,
        label: r.get(3)?,
        created: r.get(4)?,
        revoked: r.get(5)?,
    })
}

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let detail: String = r.get(6)?;
    Ok(Entry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        role: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        // An edited detail that is no longer JSON still verifies as edited.
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev: r.get(7)?,
        hash: r.get(8)?,
    })
}

impl Store for SqliteStore {
    fn add_user(&self, user: &User, password_hash: &str) -> Result<()> {
        let added = self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO users (name, role, organization, password, disabled, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.name,
                    user.role.as_str(),
                    user.organization,
                    password_hash,
                    user.disabled,
                    user.created
                ],
            )
        })?;
        if added == 0 {
            return Err(StoreError::Conflict(format!(
                "user `{}` already exists",
                user.name
            )));
        }
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<(User, String)>> {
        self.with(|c| {
            c.query_row(
                "SELECT name, role, organization, password, disabled, created FROM users WHERE name = ?1",
                [name],
                user_row,
            )
            .optional()
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        self.with(|c| {
            let mut s = c.prepare(
                "SELECT name, role, organization, password, disabled, created FROM users ORDER BY name",
            )?;
            s.query_map([], user_row)?
                .map(|r| r.map(|(u, _)| u))
                .collect()
        })
    }

    fn update_user(
        &self,
        name: &str,
        password_hash: Option<&str>,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<()> {
        let changed = self.with(|c| {
            c.execute(
                "UPDATE users SET password = COALESCE(?2, password), role = COALESCE(?3, role),
                 disabled = COALESCE(?4, disabled) WHERE name = ?1",
                params![name, password_hash, role.map(Role::as_str), disabled],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!("no user `{name}`")));
        }
        Ok(())
    }

    fn add_session(&self, s: &Session) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.token_hash, s.user, s.csrf, s.created, s.expires],
            )
        })
        .map(|_| ())
    }

    fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        self.with(|c| {
            c.query_row(
                "SELECT token_hash, user, csrf, created, expires FROM sessions WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok(Session {
                        token_hash: r.get(0)?,
                        user: r.get(1)?,
                        csrf: r.get(2)?,
                        created: r.get(3)?,
                        expires: r.get(4)?,
                    })
                },
            )
            .optional()
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash]))
            .map(|_| ())
    }

    fn delete_sessions_of(&self, user: &str) -> Result<()> {
        self.with(|c| c.execute("DELETE FROM sessions WHERE user = ?1", [user]))
            .map(|_| ())
    }

    fn add_token(&self, t: &ApiToken) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO tokens VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![t.id, t.token_hash, t.user, t.label, t.created, t.revoked],
            )
        })
        .map(|_| ())
    }

    fn token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, token_hash, user, label, created, revoked FROM tokens WHERE token_hash = ?1",
                [token_hash],
                token_row,
            )
            .optional()
        })
    }

    fn tokens_of(&self, user: &str) -> Result<Vec<ApiToken>> {
        self.with(|c| {
            let mut s = c.prepare(
                "SELECT id, token_hash, user, label, created, revoked FROM tokens WHERE user = ?1 ORDER BY created, id",
            )?;
            s.query_map([user], token_row)?.collect()
        })
    }

    fn revoke_token(&self, user: &str, id: &str) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE tokens SET revoked = 1 WHERE user = ?1 AND id = ?2 AND revoked = 0",
                [user, id],
            )
        })
        .map(|n| n > 0)
    }

    fn append(&self, event: &Event) -> Result<Entry> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.fail(e))?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let (seq, prev) = last.map_or((1, GENESIS.to_string()), |(s, h)| (s + 1, h));
        let entry = Entry::chain(seq, &prev, event);
        tx.execute(
            "INSERT INTO audit VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                entry.seq,
                entry.at,
                entry.actor,
                entry.role,
                entry.action,
                entry.target,
                serde_json::to_string(&entry.detail).expect("json serializes"),
                entry.prev,
                entry.hash
            ],
        )
        .map_err(|e| self.fail(e))?;
        // The head is written while the transaction still holds the write lock, so heads and
        // entries cannot interleave between two writers.
        self.write_head(&Head {
            seq: entry.seq,
            hash: entry.hash.clone(),
        })?;
        tx.commit().map_err(|e| self.fail(e))?;
        Ok(entry)
    }

    fn entries(&self, after: i64, limit: usize) -> Result<Vec<Entry>> {
        self.with(|c| {
            let mut s = c.prepare(
                "SELECT seq, at, actor, role, action, target, detail, prev, hash FROM audit
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            s.query_map(params![after, limit as i64], entry_row)?
                .collect()
        })
    }

    fn head(&self) -> Result<Option<Head>> {
        let text = match std::fs::read_to_string(&self.head_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Backend {
                    path: self.head_path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let mut parts = text.split_whitespace();
        let seq = parts.next().and_then(|s| s.parse().ok());
        let hash = parts.next();
        match (seq, hash) {
            (Some(seq), Some(hash)) => Ok(Some(Head {
                seq,
                hash: hash.to_string(),
            })),
            _ => Ok(Some(Head {
                seq: -1,
                hash: String::new(),
            })),
        }
    }
}

/// Every entry of the audit trail, in order.
///
/// # Errors
/// What the store returns.
pub fn all_entries(store: &dyn Store) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    loop {
        let after = out.last().map_or(0, |e: &Entry| e.seq);
        let page = store.entries(after, 10_000)?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// The conformance suite every [`Store`] passes: `make` gives a fresh, empty store.
pub fn conformance(make: &dyn Fn() -> Box<dyn Store>) {
    use crate::audit::{Action, verify};

    let s = make();
    let anna = User {
        name: "anna".into(),
        role: Role::Analyst,
        organization: None,
        disabled: false,
        created: "2025-01-01T00:00:00Z".into(),
    };
    s.add_user(&anna, "$argon2id$hash").unwrap();
    assert!(matches!(
        s.add_user(&anna, "other"),
        Err(StoreError::Conflict(_))
    ));
    let (u, hash) = s.user("anna").unwrap().unwrap();
    assert_eq!((u.clone(), hash.as_str()), (anna.clone(), "$argon2id$hash"));
    assert!(s.user("nobody").unwrap().is_none());
    s.update_user("anna", Some("$new"), Some(Role::Checker), Some(true))
        .unwrap();
    let (u, hash) = s.user("anna").unwrap().unwrap();
    assert_eq!(
        (u.role, u.disabled, hash.as_str()),
        (Role::Checker, true, "$new")
    );
    s.update_user("anna", None, None, Some(false)).unwrap();
    assert_eq!(s.user("anna").unwrap().unwrap().0.role, Role::Checker);
    assert!(matches!(
        s.update_user("nobody", None, None, None),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.users().unwrap().len(), 1);

    let session = Session {
        token_hash: "h1".into(),
        user: "anna".into(),
        csrf: "c1".into(),
        created: "2025-01-01T00:00:00Z".into(),
        expires: "2025-01-01T08:00:00Z".into(),
    };
    s.add_session(&session).unwrap();
    assert_eq!(s.session("h1").unwrap(), Some(session.clone()));
    s.delete_session("h1").unwrap();
    assert!(s.session("h1").unwrap().is_none());
    s.add_session(&session).unwrap();
    s.delete_sessions_of("anna").unwrap();
    assert!(s.session("h1").unwrap().is_none());

    let token = ApiToken {
        id: "t1".into(),
        token_hash: "th1".into(),
        user: "anna".into(),
        label: "nightly".into(),
        created: "2025-01-01T00:00:00Z".into(),
        revoked: false,
    };
    s.add_token(&token).unwrap();
    assert_eq!(s.token("th1").unwrap(), Some(token.clone()));
    assert_eq!(s.tokens_of("anna").unwrap(), vec![token]);
    assert!(s.revoke_token("anna", "t1").unwrap());
    assert!(!s.revoke_token("anna", "t1").unwrap());
    assert!(s.token("th1").unwrap().unwrap().revoked);

    assert!(s.head().unwrap().is_none());
    for i in 0..25 {
        s.append(&Event {
            at: format!("2025-01-01T00:00:{i:02}Z"),
            actor: "anna".into(),
            role: "analyst".into(),
            action: Action::Query,
            target: format!("q{i}"),
            detail: serde_json::json!({"sql": "SELECT 1", "i": i}),
        })
        .unwrap();
    }
    let all = all_entries(s.as_ref()).unwrap();
    assert_eq!(all.len(), 25);
    assert_eq!(s.entries(20, 3).unwrap().len(), 3);
    assert_eq!(s.entries(20, 3).unwrap()[0].seq, 21);
    let v = verify(&all, s.head().unwrap().as_ref()).unwrap();
    assert_eq!(v.entries, 25);
    assert_eq!(all[7].detail["i"], 7);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_passes_the_conformance_suite() {
        let dirs = Mutex::new(Vec::new());
        conformance(&|| {
            let d = tempfile::tempdir().unwrap();
            let s = SqliteStore::open(d.path()).unwrap();
            dirs.lock().unwrap().push(d);
            Box::new(s)
        });
    }

    #[test]
    fn sqlite_refuses_to_edit_or_delete_audit_entries() {
        let d = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(d.path()).unwrap();
        s.append(&Event {
            at: "2025-01-01T00:00:00Z".into(),
            actor: "a".into(),
            role: "admin".into(),
            action: crate::audit::Action::Login,
            target: "session".into(),
            detail: serde_json::Value::Null,
        })
        .unwrap();
        let c = Connection::open(d.path().join(SqliteStore::FILE)).unwrap();
        let e = c.execute("UPDATE audit SET actor = 'b'", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = c.execute("DELETE FROM audit", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}
