//! The HTTP API under `/api`, its OpenAPI document, and the routes that tie them together.

pub mod account;
pub mod lab;
pub mod public;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use utoipa::OpenApi;

use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::http::{AppState, identify};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "datalab API",
        description = "The welfare data lab's API: released indicators by territory and period, \
                       benchmarks, needs against supply, the public registry of services, \
                       releases and reports; for lab accounts also read-only SQL, the \
                       disclosure gate's queue, accounts and the audit trail. Anonymous callers \
                       see only public, disclosure-checked releases.",
        license(name = "Apache-2.0")
    ),
    paths(
        public::healthz,
        public::territories,
        public::indicators,
        public::indicator,
        public::cube,
        public::benchmark,
        public::needs,
        public::services,
        public::service,
        public::service_codes,
        public::releases,
        public::release,
        public::release_file,
        public::reports,
        public::report_file,
        account::login,
        account::logout,
        account::session,
        account::create_token,
        account::tokens,
        account::revoke_token,
        account::users,
        account::add_user,
        account::change_user,
        account::audit_entries,
        account::audit_verify,
        lab::sql,
        lab::pending,
        lab::approve,
        lab::run_release,
        lab::sources,
        lab::gate,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Security, &Refusals),
    tags(
        (name = "meta", description = "Health and the API's description"),
        (name = "territories", description = "The territory hierarchy"),
        (name = "indicators", description = "Released indicators, the cube, benchmarks, needs vs supply"),
        (name = "services", description = "The public map of services"),
        (name = "releases", description = "What the disclosure gate released"),
        (name = "reports", description = "Reports rendered from public releases"),
        (name = "account", description = "Login, session, API tokens"),
        (name = "admin", description = "Accounts and the audit trail"),
        (name = "lab", description = "Inside the lab: SQL, the gate's queue, sources"),
    )
)]
pub struct ApiDoc;

/// Declares how to authenticate: a session cookie or a bearer token.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Documents the refusals every operation may answer, because the middleware gives them
/// before any handler runs: 401 when the request carries credentials that are not valid (a
/// bad, revoked or expired token; an expired session on a change), and, for changes, 403 when
/// a session's CSRF token is missing or wrong.
struct Refusals;

impl utoipa::Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.responses.insert(
            "Unauthorized".into(),
            RefOr::T(error(
                "Credentials are needed, or those sent are not valid (the session expired, \
                 the token was revoked)",
            )),
        );
        components.responses.insert(
            "Forbidden".into(),
            RefOr::T(error(
                "The caller's role may not do this, or a session's change lacks its CSRF token",
            )),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (true, &mut item.get),
                (true, &mut item.head),
                (false, &mut item.post),
                (false, &mut item.put),
                (false, &mut item.patch),
                (false, &mut item.delete),
            ];
            for (safe, op) in operations {
                let Some(op) = op else { continue };
                let responses = &mut op.responses.responses;
                responses
                    .entry("401".into())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Unauthorized")));
                if !safe {
                    responses
                        .entry("403".into())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Forbidden")));
                }
            }
        }
    }
}

/// The OpenAPI document as JSON, with `levels` (the project's territory levels, largest
/// first) as the values a `level` parameter takes.
pub fn openapi_json(levels: &[String]) -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for param in paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("parameters").and_then(|p| p.as_array_mut()))
            .flatten()
            .filter(|p| p["name"] == "level" && p["in"] == "query")
        {
            param["schema"] = serde_json::json!({"type": "string", "enum": levels});
        }
    }
    serde_json::to_string_pretty(&doc).expect("the OpenAPI document serializes")
}

async fn openapi(State(s): State<AppState>) -> Response {
    let doc = openapi_json(&s.lab.project.hierarchy.levels);
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such API route (GET /api/openapi.json lists them)")
}

/// Security headers on every answer; no caching of API answers that depend on who asks.
async fn headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/territories", get(public::territories))
        .route("/indicators", get(public::indicators))
        .route("/indicators/{id}", get(public::indicator))
        .route("/cube", get(public::cube))
        .route("/benchmark", get(public::benchmark))
        .route("/needs", get(public::needs))
        .route("/services", get(public::services))
        .route("/services/{id}", get(public::service))
        .route("/codes", get(public::service_codes))
        .route("/releases", get(public::releases))
        .route("/releases/{name}", get(public::release))
        .route("/releases/{name}/files/{file}", get(public::release_file))
        .route("/releases/{name}/pending", get(lab::pending))
        .route("/releases/{name}/approvals", post(lab::approve))
        .route("/releases/{name}/run", post(lab::run_release))
        .route("/reports", get(public::reports))
        .route("/reports/{name}", get(public::report_file))
        .route("/login", post(account::login))
        .route("/logout", post(account::logout))
        .route("/session", get(account::session))
        .route("/tokens", get(account::tokens).post(account::create_token))
        .route("/tokens/{id}", axum::routing::delete(account::revoke_token))
        .route("/users", get(account::users).post(account::add_user))
        .route("/users/{name}", patch(account::change_user))
        .route("/audit", get(account::audit_entries))
        .route("/audit/verify", get(account::audit_verify))
        .route("/sql", post(lab::sql))
        .route("/sources", get(lab::sources))
        .route("/gate", get(lab::gate))
        .fallback(not_found);
    Router::new()
        .route("/healthz", get(public::healthz))
        .nest("/api", api)
        .merge(crate::dashboard::routes())
        .layer(middleware::from_fn_with_state(state.clone(), identify))
        .layer(middleware::from_fn(headers))
        .with_state(state)
}
