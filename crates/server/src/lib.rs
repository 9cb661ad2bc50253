//! The lab's server: the HTTP API with its OpenAPI document, the dashboard, local accounts and
//! roles, API tokens, and the hash-chained audit trail.
//!
//! `server` owns HTTP: it is the only crate that knows routes, status codes, cookies and the
//! API's JSON shapes ([`api`]). It answers from what the disclosure gate released ([`lab`]:
//! the releases each role may read, read through the gate's hash check, and the public fields
//! of the registry); only lab roles reach microdata, through read-only SQL ([`api::lab`]).
//! Accounts, sessions, API tokens and the audit trail live behind the [`store::Store`] trait
//! (SQLite by default, one conformance suite for any other backend). Passwords are argon2id
//! hashes; session and API tokens are stored as digests; changes made with a session cookie
//! need the session's CSRF token; logins are throttled ([`auth`]). The audit trail is
//! append-only and hash-chained ([`audit`]); `datalab audit verify` finds any edit or deletion.
//!
//! It must not compute indicators, run the gate's rules or render charts itself: it calls
//! `indicators`, `disclosure` and `report`.

pub mod api;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod error;
pub mod http;
pub mod lab;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

pub use http::AppState;

/// The store of a project: `PROJECT/.datalab/server.sqlite`.
///
/// # Errors
/// When the database cannot be opened.
pub fn project_store(project: &project::Project) -> Result<store::SqliteStore, store::StoreError> {
    store::SqliteStore::open(&project.data_dir())
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// Send cookies with `Secure` (default on; off for plain HTTP on a developer's machine).
    pub secure_cookies: bool,
}

/// The state for serving `project`: its releases, registry and store.
///
/// # Errors
/// When the releases, the registry or the store cannot be read.
pub fn state(project: project::Project, secure_cookies: bool) -> Result<AppState, String> {
    let store = project_store(&project).map_err(|e| e.to_string())?;
    let lab = lab::Lab::open(project).map_err(|e| e.message)?;
    Ok(AppState::new(lab, Arc::new(store), secure_cookies))
}

/// Serves the API and the dashboard until Ctrl-C (or SIGTERM); `ready` is called with the
/// bound address once the server listens.
///
/// # Errors
/// When the address cannot be bound or the server fails.
pub async fn serve(
    state: AppState,
    opts: &ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.addr).await?;
    ready(listener.local_addr()?);
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
