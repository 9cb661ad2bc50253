//! Accounts and who is asking: argon2id passwords, session and API tokens, login throttling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use model::Role;

use crate::store::{ApiToken, Result as StoreResult, Session, Store, StoreError, User};

/// How long a login session lasts.
pub const SESSION_HOURS: i64 = 8;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;
/// The prefix of API tokens, so that a leaked one is recognizable (and scannable).
pub const TOKEN_PREFIX: &str = "dlt_";

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum)
/// into a PHC string with a random salt.
pub fn hash_password(password: &str) -> String {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 with a random salt cannot fail")
        .to_string()
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A fresh random secret: 32 bytes, base32 without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    data_encoding::BASE32_NOPAD
        .encode(&bytes)
        .to_ascii_lowercase()
}

/// The digest under which a secret token is stored.
pub fn token_digest(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// Why a new account or password is refused.
pub fn check_new_account(name: &str, password: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(format!(
            "user name `{name}`: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
        ));
    }
    if name == "public" {
        return Err("`public` is the name of anonymous requests".into());
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password is too short: at least {MIN_PASSWORD} characters"
        ));
    }
    Ok(())
}

/// Creates an account with a hashed password.
///
/// # Errors
/// [`StoreError::Conflict`] for a bad name or password or a name taken.
pub fn add_user(
    store: &dyn Store,
    name: &str,
    role: Role,
    organization: Option<&str>,
    password: &str,
    now: &str,
) -> StoreResult<User> {
    check_new_account(name, password).map_err(StoreError::Conflict)?;
    if role == Role::Public {
        return Err(StoreError::Conflict(
            "the public needs no account: pick partner, analyst, checker or admin".into(),
        ));
    }
    if role == Role::Partner && organization.is_none_or(|o| o.trim().is_empty()) {
        return Err(StoreError::Conflict(
            "a partner account belongs to an organization (--organization)".into(),
        ));
    }
    let user = User {
        name: name.into(),
        role,
        organization: organization.map(str::to_string),
        disabled: false,
        created: now.into(),
    };
    store.add_user(&user, &hash_password(password))?;
    Ok(user)
}

/// A new login session for `user`: the token to put in the cookie, and the stored session.
pub fn new_session(user: &str, now: chrono::DateTime<chrono::Utc>) -> (String, Session) {
    let token = random_token();
    let session = Session {
        token_hash: token_digest(&token),
        user: user.into(),
        csrf: random_token(),
        created: rfc3339(now),
        expires: rfc3339(now + chrono::Duration::hours(SESSION_HOURS)),
    };
    (token, session)
}

/// A new API token for `user`: the secret (shown once) and the stored record.
pub fn new_api_token(user: &str, label: &str, now: &str) -> (String, ApiToken) {
    let secret = format!("{TOKEN_PREFIX}{}", random_token());
    let digest = token_digest(&secret);
    let record = ApiToken {
        id: digest[..12].to_string(),
        token_hash: digest,
        user: user.into(),
        label: label.into(),
        created: now.into(),
        revoked: false,
    };
    (secret, record)
}

/// A timestamp as the store and the audit trail write it.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Who is asking, once the request's credentials are checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `public` for anonymous requests.
    pub name: String,
    pub role: Role,
    pub organization: Option<String>,
    pub via: Via,
}

/// How a principal proved who it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Anonymous,
    /// A browser session; changes must carry its CSRF token.
    Session {
        token_hash: String,
        csrf: String,
    },
    /// An API token (no cookie, so no CSRF risk).
    Token {
        id: String,
    },
}

impl Principal {
    /// The anonymous public.
    pub fn public() -> Principal {
        Principal {
            name: "public".into(),
            role: Role::Public,
            organization: None,
            via: Via::Anonymous,
        }
    }
}

/// Resolves a session token to its user, if the session is live and the account enabled.
///
/// # Errors
/// What the store returns.
pub fn from_session(
    store: &dyn Store,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<Principal>> {
    let digest = token_digest(token);
    let Some(s) = store.session(&digest)? else {
        return Ok(None);
    };
    if s.expires <= rfc3339(now) {
        store.delete_session(&digest)?;
        return Ok(None);
    }
    Ok(enabled_user(store, &s.user)?.map(|u| Principal {
        name: u.name,
        role: u.role,
        organization: u.organization,
        via: Via::Session {
            token_hash: digest,
            csrf: s.csrf,
        },
    }))
}

/// Resolves an API token to its user, if the token is live and the account enabled.
///
/// # Errors
/// What the store returns.
pub fn from_token(store: &dyn Store, secret: &str) -> StoreResult<Option<Principal>> {
    let Some(t) = store.token(&token_digest(secret))? else {
        return Ok(None);
    };
    if t.revoked {
        return Ok(None);
    }
    Ok(enabled_user(store, &t.user)?.map(|u| Principal {
        name: u.name,
        role: u.role,
        organization: u.organization,
        via: Via::Token { id: t.id },
    }))
}

fn enabled_user(store: &dyn Store, name: &str) -> StoreResult<Option<User>> {
    Ok(store.user(name)?.map(|(u, _)| u).filter(|u| !u.disabled))
}

/// Throttles password guessing: after `max` failures within `window` for the same key (a user
/// name, a client address), further attempts are refused until the window has passed.
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when `key` must wait before trying again.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match f.get(key) {
            Some(&(n, since)) if now.duration_since(since) < self.window => {
                if n >= self.max {
                    Err(self.window - now.duration_since(since))
                } else {
                    Ok(())
                }
            }
            Some(_) => {
                f.remove(key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, key: &str, now: Instant) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if f.len() > 100_000 {
            let window = self.window;
            f.retain(|_, (_, since)| now.duration_since(*since) < window);
        }
        let e = f.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(e.1) >= self.window {
            *e = (0, now);
        }
        e.0 += 1;
    }

    /// Forgets the failures of `key` after a successful login.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        // A fresh salt each time.
        assert_ne!(h, hash_password("correct horse battery"));
    }

    #[test]
    fn accounts_refuse_weak_passwords_odd_names_and_public() {
        let d = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(d.path()).unwrap();
        let now = "2025-01-01T00:00:00Z";
        for (name, role, org, pw) in [
            ("anna", Role::Analyst, None, "short"),
            ("an na", Role::Analyst, None, "long enough password"),
            ("public", Role::Analyst, None, "long enough password"),
            ("pia", Role::Public, None, "long enough password"),
            ("asl", Role::Partner, None, "long enough password"),
        ] {
            assert!(
                add_user(&s, name, role, org, pw, now).is_err(),
                "{name} {role} accepted"
            );
        }
        let u = add_user(
            &s,
            "asl",
            Role::Partner,
            Some("ASL"),
            "long enough password",
            now,
        )
        .unwrap();
        assert_eq!(u.organization.as_deref(), Some("ASL"));
    }

    #[test]
    fn sessions_expire_and_disabled_accounts_lose_them() {
        let d = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(d.path()).unwrap();
        add_user(&s, "anna", Role::Analyst, None, "long enough password", "t").unwrap();
        let t0 = chrono::DateTime::parse_from_rfc3339("2025-03-14T10:00:00Z")
            .unwrap()
            .to_utc();
        let (token, session) = new_session("anna", t0);
        s.add_session(&session).unwrap();
        let p = from_session(&s, &token, t0).unwrap().unwrap();
        assert_eq!((p.name.as_str(), p.role), ("anna", Role::Analyst));
        assert!(from_session(&s, "forged", t0).unwrap().is_none());
        let later = t0 + chrono::Duration::hours(SESSION_HOURS);
        assert!(from_session(&s, &token, later).unwrap().is_none());

        let (token, session) = new_session("anna", t0);
        s.add_session(&session).unwrap();
        s.update_user("anna", None, None, Some(true)).unwrap();
        assert!(from_session(&s, &token, t0).unwrap().is_none());
    }

    #[test]
    fn api_tokens_work_until_revoked() {
        let d = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(d.path()).unwrap();
        add_user(&s, "anna", Role::Analyst, None, "long enough password", "t").unwrap();
        let (secret, record) = new_api_token("anna", "nightly", "t");
        assert!(secret.starts_with(TOKEN_PREFIX));
        s.add_token(&record).unwrap();
        assert_eq!(from_token(&s, &secret).unwrap().unwrap().name, "anna");
        assert!(s.revoke_token("anna", &record.id).unwrap());
        assert!(from_token(&s, &secret).unwrap().is_none());
    }

    #[test]
    fn the_limiter_blocks_after_max_failures_for_the_window() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check("anna", t).is_ok());
            l.failed("anna", t);
        }
        let wait = l.check("anna", t + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(l.check("bruno", t).is_ok());
        assert!(l.check("anna", t + Duration::from_secs(60)).is_ok());
        l.failed("bruno", t);
        l.succeeded("bruno");
        assert!(l.failures.lock().unwrap().get("bruno").is_none());
    }
}
