//! The dashboard: pages served by the same binary.

use axum::Router;

use crate::http::AppState;

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
