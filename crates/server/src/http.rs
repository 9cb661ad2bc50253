//! The plumbing every route shares: the server's state, who is asking, CSRF, the audit helper,
//! and extractors that answer malformed input with JSON errors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::{Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use model::Role;
use serde::de::DeserializeOwned;

use crate::audit::{Action, Event};
use crate::auth::{self, LoginLimiter, Principal, Via};
use crate::error::ApiError;
use crate::lab::Lab;
use crate::store::Store;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "datalab_session";
/// The header a browser session sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Everything a handler may need.
#[derive(Clone)]
pub struct AppState {
    pub lab: Arc<Lab>,
    pub store: Arc<dyn Store>,
    /// Failed logins per user name.
    pub user_limiter: Arc<LoginLimiter>,
    /// Failed logins per client address (higher: an office shares one address).
    pub ip_limiter: Arc<LoginLimiter>,
    /// Whether cookies carry `Secure` (off only for plain-HTTP development on loopback).
    pub secure_cookies: bool,
}

impl AppState {
    /// The state over a lab and a store, with the default login throttle: 5 failures per
    /// 15 minutes for one user name, 50 from one client address.
    pub fn new(lab: Lab, store: Arc<dyn Store>, secure_cookies: bool) -> AppState {
        AppState {
            lab: Arc::new(lab),
            store,
            user_limiter: Arc::new(LoginLimiter::new(5, Duration::from_secs(15 * 60))),
            ip_limiter: Arc::new(LoginLimiter::new(50, Duration::from_secs(15 * 60))),
            secure_cookies,
        }
    }

    /// Records an event in the audit trail; a failure to record fails the request.
    pub fn audit(
        &self,
        who: &Principal,
        action: Action,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        self.store.append(&Event {
            at: auth::rfc3339(chrono::Utc::now()),
            actor: who.name.clone(),
            role: who.role.as_str().to_string(),
            action,
            target: target.to_string(),
            detail,
        })?;
        Ok(())
    }
}

/// Resolves who is asking (session cookie or `Authorization: Bearer` token, else the public)
/// and, for changes made with a session cookie, checks the CSRF token. A request that presents
/// credentials that are not valid is refused rather than treated as public.
pub async fn identify(
    State(state): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    match resolve(&state, &jar, &req) {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

fn resolve(state: &AppState, jar: &CookieJar, req: &Request) -> Result<Principal, ApiError> {
    let now = chrono::Utc::now();
    if let Some(h) = req.headers().get(header::AUTHORIZATION) {
        let value = h
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("use `Authorization: Bearer TOKEN`"))?;
        return auth::from_token(state.store.as_ref(), token.trim())?
            .ok_or_else(|| ApiError::unauthorized("the API token is not valid or was revoked"));
    }
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Ok(Principal::public());
    };
    let Some(p) = auth::from_session(state.store.as_ref(), cookie.value(), now)? else {
        // An expired session on a safe request reads as the public; a change must not.
        if is_safe(req.method()) {
            return Ok(Principal::public());
        }
        return Err(ApiError::unauthorized("the session expired: log in again"));
    };
    if !is_safe(req.method())
        && let Via::Session { csrf, .. } = &p.via
    {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
            return Err(ApiError::forbidden(
                "missing or wrong CSRF token: send the session's token in X-CSRF-Token",
            ));
        }
    }
    Ok(p)
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(Principal::public))
    }
}

impl Principal {
    /// Refuses unless the principal has one of `roles` (401 for the public, 403 otherwise).
    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        if self.role == Role::Public {
            Err(ApiError::unauthorized(format!(
                "{what} needs an account ({}): log in first",
                names.join(", ")
            )))
        } else {
            Err(ApiError::forbidden(format!(
                "{what} is for {}; `{}` is {}",
                names.join(", "),
                self.name,
                self.role
            )))
        }
    }
}

/// The client's address, when the server was started with connection info.
pub fn client(parts: &axum::http::Extensions) -> String {
    parts
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// A query string, answered with a JSON error when it does not parse.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A JSON body, answered with a JSON error when it does not parse.
pub struct J<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for J<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| J(j.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A path parameter, answered with a JSON error when it does not parse.
pub struct P<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| P(p.0))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// An optional count in a JSON body, spelt `5` or `5.0`: JSON Schema's integers include both,
/// so a client may send either.
///
/// # Errors
/// For a number that is not a whole, non-negative one within `usize`.
pub fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    use serde::Deserialize;
    use serde::de::Error;
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(u) = n.as_u64() {
        return usize::try_from(u)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{n}: too large")));
    }
    match n.as_f64() {
        // Whole floats up to 2^53 are exact.
        Some(f) if f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f) => {
            Ok(Some(f as usize))
        }
        _ => Err(D::Error::custom(format!("{n}: use a whole number from 0"))),
    }
}

/// Runs blocking work (argon2, SQL, rendering) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}
