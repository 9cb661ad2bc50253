//! Logging in and out, the session, API tokens, and (for admins) accounts and the audit trail.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use model::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Action, Entry, Verified};
use crate::auth::{self, Principal, Via};
use crate::error::{ApiError, ErrorBody};
use crate::http::{AppState, J, P, Q, SESSION_COOKIE, blocking, client};
use crate::store::{ApiToken, User};

#[derive(Deserialize, ToSchema)]
pub struct Login {
    pub name: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    /// `public` when not logged in.
    pub name: String,
    pub role: String,
    pub organization: Option<String>,
    /// The token to send in `X-CSRF-Token` with every change (sessions only).
    pub csrf: Option<String>,
}

fn session_info(p: &Principal) -> SessionInfo {
    SessionInfo {
        name: p.name.clone(),
        role: p.role.as_str().to_string(),
        organization: p.organization.clone(),
        csrf: match &p.via {
            Via::Session { csrf, .. } => Some(csrf.clone()),
            _ => None,
        },
    }
}

/// Logs in with a local account: sets an `HttpOnly`, `SameSite=Strict` session cookie and
/// returns the session's CSRF token. Five failures in 15 minutes for one name, or fifty from
/// one address, block further attempts for the rest of the window.
#[utoipa::path(post, path = "/api/login", tag = "account", request_body = Login,
    responses((status = 200, body = SessionInfo), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    jar: CookieJar,
    ext: Extensions,
    J(body): J<Login>,
) -> Result<Response, ApiError> {
    let ip = client(&ext);
    let limits = [
        (s.user_limiter.as_ref(), body.name.clone()),
        (s.ip_limiter.as_ref(), ip.clone()),
    ];
    let now = Instant::now();
    for (limiter, k) in &limits {
        if let Err(wait) = limiter.check(k, now) {
            return Err(ApiError::too_many(
                "too many failed logins: wait before trying again",
                wait.as_secs().max(1),
            ));
        }
    }
    let store = s.store.clone();
    let (name, password) = (body.name.clone(), body.password.clone());
    let user = blocking(move || {
        let found = store.user(&name)?;
        // Hash even for unknown users, so that timing does not tell which names exist.
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), h),
            None => (None, DUMMY_HASH.clone()),
        };
        let ok = auth::verify_password(&password, &hash);
        Ok(user.filter(|u| ok && !u.disabled))
    })
    .await?;
    let Some(user) = user else {
        for (limiter, k) in &limits {
            limiter.failed(k, now);
        }
        let who = Principal {
            name: body.name.chars().take(64).collect(),
            ..Principal::public()
        };
        s.audit(
            &who,
            Action::LoginFailed,
            "session",
            serde_json::json!({"client": ip}),
        )?;
        return Err(ApiError::unauthorized("wrong user name or password"));
    };
    // A success clears the name's count only: one right password does not reset the
    // address's.
    s.user_limiter.succeeded(&body.name);
    let (token, session) = auth::new_session(&user.name, chrono::Utc::now());
    s.store.add_session(&session)?;
    let p = Principal {
        name: user.name.clone(),
        role: user.role,
        organization: user.organization.clone(),
        via: Via::Session {
            token_hash: session.token_hash.clone(),
            csrf: session.csrf.clone(),
        },
    };
    s.audit(
        &p,
        Action::Login,
        "session",
        serde_json::json!({"client": ip}),
    )?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(s.secure_cookies)
        .same_site(SameSite::Strict)
        .build();
    Ok((jar.add(cookie), Json(session_info(&p))).into_response())
}

/// An argon2id hash of a random password, verified against for unknown user names.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_token()));

/// Ends the session.
#[utoipa::path(post, path = "/api/logout", tag = "account",
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(s): State<AppState>,
    jar: CookieJar,
    who: Principal,
) -> Result<Response, ApiError> {
    if let Via::Session { token_hash, .. } = &who.via {
        s.store.delete_session(token_hash)?;
        s.audit(&who, Action::Logout, "session", serde_json::Value::Null)?;
    }
    let gone = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    Ok((jar.remove(gone), StatusCode::NO_CONTENT).into_response())
}

/// Who the caller is (`public` without a session or token).
#[utoipa::path(get, path = "/api/session", tag = "account",
    responses((status = 200, body = SessionInfo)))]
pub async fn session(who: Principal) -> Json<SessionInfo> {
    Json(session_info(&who))
}

// ---------------------------------------------------------------------------------------------
// API tokens

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    /// What the token is for ("nightly export"): 1 to 100 characters, not only blanks, no
    /// control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub label: String,
}

/// Whether `label` is a one-line label of 1 to 100 characters that is not only blanks (what
/// the OpenAPI document's pattern for it says).
fn valid_label(label: &str) -> bool {
    (1..=100).contains(&label.chars().count())
        && !label.chars().any(char::is_control)
        && !label.trim().is_empty()
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    /// The secret, shown only now: send it as `Authorization: Bearer TOKEN`.
    pub token: String,
}

/// Creates an API token for the caller's own account (scripts use it instead of a session).
#[utoipa::path(post, path = "/api/tokens", tag = "account", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn create_token(
    State(s): State<AppState>,
    who: Principal,
    J(body): J<NewToken>,
) -> Result<Response, ApiError> {
    if who.role == Role::Public {
        return Err(ApiError::unauthorized("log in to create an API token"));
    }
    if !valid_label(&body.label) {
        return Err(ApiError::bad_request(
            "label: 1 to 100 characters on one line, not only blanks",
        ));
    }
    let label = body.label.trim();
    let (secret, record) =
        auth::new_api_token(&who.name, label, &auth::rfc3339(chrono::Utc::now()));
    s.store.add_token(&record)?;
    s.audit(
        &who,
        Action::TokenCreated,
        &record.id,
        serde_json::json!({"label": label}),
    )?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: record.id,
            token: secret,
        }),
    )
        .into_response())
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "account",
    responses((status = 200, body = [ApiToken]), (status = 401, body = ErrorBody)))]
pub async fn tokens(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    if who.role == Role::Public {
        return Err(ApiError::unauthorized("log in to list your API tokens"));
    }
    Ok(Json(s.store.tokens_of(&who.name)?))
}

/// Revokes one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "account",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    who: Principal,
    P(id): P<String>,
) -> Result<Response, ApiError> {
    if who.role == Role::Public {
        return Err(ApiError::unauthorized("log in to revoke an API token"));
    }
    if !s.store.revoke_token(&who.name, &id)? {
        return Err(ApiError::not_found(format!(
            "no live token `{id}` of yours"
        )));
    }
    s.audit(&who, Action::TokenRevoked, &id, serde_json::Value::Null)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// accounts (admin)

/// Every account.
#[utoipa::path(get, path = "/api/users", tag = "admin",
    responses((status = 200, body = [User]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn users(State(s): State<AppState>, who: Principal) -> Result<Json<Vec<User>>, ApiError> {
    who.require(&[Role::Admin], "listing accounts")?;
    Ok(Json(s.store.users()?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@` (not `public`).
    #[schema(pattern = r"^(?!public$)[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    /// `partner`, `analyst`, `checker` or `admin`.
    #[schema(value_type = AccountRole)]
    pub role: String,
    /// Required for partners: the body they belong to.
    pub organization: Option<String>,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
}

/// The roles an account may have (the public needs none).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // only describes the accepted values in the OpenAPI document
pub enum AccountRole {
    Partner,
    Analyst,
    Checker,
    Admin,
}

/// An account's role as the API spells it (exactly, lowercase).
fn account_role(s: &str) -> Result<Role, ApiError> {
    [Role::Partner, Role::Analyst, Role::Checker, Role::Admin]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "role `{s}`: use partner, analyst, checker or admin"
            ))
        })
}

/// Creates an account.
#[utoipa::path(post, path = "/api/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_user(
    State(s): State<AppState>,
    who: Principal,
    J(body): J<NewUser>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin], "creating accounts")?;
    let role = account_role(&body.role)?;
    auth::check_new_account(&body.name, &body.password).map_err(ApiError::bad_request)?;
    let store = s.store.clone();
    let user = blocking(move || {
        Ok(auth::add_user(
            store.as_ref(),
            &body.name,
            role,
            body.organization.as_deref(),
            &body.password,
            &auth::rfc3339(chrono::Utc::now()),
        )?)
    })
    .await?;
    s.audit(
        &who,
        Action::UserAdded,
        &user.name,
        serde_json::json!({"role": user.role, "organization": user.organization}),
    )?;
    Ok((StatusCode::CREATED, Json(user)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct UserChange {
    #[schema(value_type = Option<AccountRole>)]
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: Option<String>,
}

/// Changes an account's role, status or password; its sessions end, and a new password lifts
/// a login block.
#[utoipa::path(patch, path = "/api/users/{name}", tag = "admin", request_body = UserChange,
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = User), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn change_user(
    State(s): State<AppState>,
    who: Principal,
    P(name): P<String>,
    J(body): J<UserChange>,
) -> Result<Json<User>, ApiError> {
    who.require(&[Role::Admin], "changing accounts")?;
    let role = body.role.as_deref().map(account_role).transpose()?;
    if name == who.name && (body.disabled == Some(true) || role.is_some_and(|r| r != Role::Admin)) {
        return Err(ApiError::conflict(
            "an admin cannot disable or demote their own account",
        ));
    }
    if s.store.user(&name)?.is_none() {
        return Err(ApiError::not_found(format!("no user `{name}`")));
    }
    let hash = match &body.password {
        Some(p) => {
            if p.chars().count() < auth::MIN_PASSWORD {
                return Err(ApiError::bad_request(format!(
                    "the password is too short: at least {} characters",
                    auth::MIN_PASSWORD
                )));
            }
            let p = p.clone();
            Some(blocking(move || Ok(auth::hash_password(&p))).await?)
        }
        None => None,
    };
    s.store
        .update_user(&name, hash.as_deref(), role, body.disabled)?;
    s.store.delete_sessions_of(&name)?;
    if body.password.is_some() {
        // A new password from an admin lifts the name's login block.
        s.user_limiter.succeeded(&name);
    }
    s.audit(
        &who,
        Action::UserChanged,
        &name,
        serde_json::json!({"role": role, "disabled": body.disabled, "password": body.password.is_some()}),
    )?;
    let (user, _) = s
        .store
        .user(&name)?
        .ok_or_else(|| ApiError::not_found(format!("no user `{name}`")))?;
    Ok(Json(user))
}

// ---------------------------------------------------------------------------------------------
// the audit trail (admin)

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0).
    pub after: Option<i64>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The audit trail, oldest first.
#[utoipa::path(get, path = "/api/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = [Entry]), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn audit_entries(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<AuditQuery>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    who.require(&[Role::Admin], "reading the audit trail")?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit: use 1 to 1000"));
    }
    Ok(Json(s.store.entries(q.after.unwrap_or(0), limit)?))
}

/// Verifies the audit trail's hash chain and head.
#[utoipa::path(get, path = "/api/audit/verify", tag = "admin",
    responses((status = 200, body = Verified), (status = 409, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn audit_verify(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<Verified>, ApiError> {
    who.require(&[Role::Admin], "verifying the audit trail")?;
    let store = s.store.clone();
    blocking(move || {
        let entries = crate::store::all_entries(store.as_ref())?;
        audit::verify(&entries, store.head()?.as_ref())
            .map_err(|b| ApiError::conflict(format!("the audit trail is broken: {b}")))
    })
    .await
    .map(Json)
}
