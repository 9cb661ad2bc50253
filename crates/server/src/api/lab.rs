//! Inside the lab: read-only SQL over the pseudonymized warehouse for analysts, the gate's
//! queue for output checkers, and a partner's view of its own sources. Every use is audited.

use axum::Json;
use axum::extract::State;
use model::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Action;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::http::{AppState, J, P, blocking};

/// The most rows a SQL answer holds.
pub const MAX_SQL_ROWS: usize = 10_000;

#[derive(Deserialize, ToSchema)]
pub struct SqlRequest {
    /// One query (`SELECT`, `WITH`, `EXPLAIN`), at most 100000 characters; changes are
    /// refused.
    #[schema(min_length = 1, max_length = 100000)]
    pub sql: String,
    /// At most this many rows, 1 to 10000 (default 1000).
    #[serde(default, deserialize_with = "crate::http::whole")]
    #[schema(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct SqlResult {
    pub columns: Vec<String>,
    /// One object per row, by column name.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
    /// Whether rows were cut at the limit.
    pub truncated: bool,
}

/// Runs a read-only query over the warehouse's current snapshots (pseudonymized microdata);
/// analysts only. The answer stays in the lab: taking anything out goes through a release.
#[utoipa::path(post, path = "/api/sql", tag = "lab", request_body = SqlRequest,
    responses((status = 200, body = SqlResult), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sql(
    State(s): State<AppState>,
    who: Principal,
    J(req): J<SqlRequest>,
) -> Result<Json<SqlResult>, ApiError> {
    who.require(&[Role::Analyst], "SQL over microdata")?;
    let limit = req.limit.unwrap_or(1000);
    if !(1..=MAX_SQL_ROWS).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: use 1 to {MAX_SQL_ROWS}"
        )));
    }
    if req.sql.trim().is_empty() || req.sql.chars().count() > 100_000 {
        return Err(ApiError::bad_request(
            "sql: one query, at most 100000 characters",
        ));
    }
    let digest = blake3::hash(req.sql.as_bytes()).to_hex()[..16].to_string();
    s.audit(
        &who,
        Action::Query,
        &digest,
        serde_json::json!({"sql": req.sql}),
    )?;
    let data_dir = s.lab.project.data_dir();
    let sql = req.sql.clone();
    // The warehouse's catalog connection is not `Sync`: the query runs on a blocking thread.
    let batches = blocking(move || {
        let wh = engine::Warehouse::open_existing(&data_dir)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::conflict("the project has never been built: nothing to query")
            })?;
        tokio::runtime::Handle::current().block_on(async {
            let engine = engine::Engine::open(&wh)
                .await
                .map_err(ApiError::internal)?;
            indicators::udaf::register(engine.context());
            match engine.sql_read_only(&sql).await {
                Ok(b) => Ok(b),
                Err(engine::EngineError::Query(m)) => Err(ApiError::bad_request(m)),
                Err(e) => Err(ApiError::internal(e)),
            }
        })
    })
    .await?;
    let columns = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let mut total = 0;
    let mut kept = Vec::new();
    for b in &batches {
        let room = limit.saturating_sub(total);
        total += b.num_rows();
        if room > 0 {
            kept.push(b.slice(0, room.min(b.num_rows())));
        }
    }
    let mut json = Vec::new();
    engine::write_batches(&kept, engine::OutputFormat::Json, &mut json)
        .map_err(ApiError::internal)?;
    let rows: Vec<serde_json::Value> = if kept.iter().all(|b| b.num_rows() == 0) {
        Vec::new()
    } else {
        serde_json::from_slice(&json).map_err(ApiError::internal)?
    };
    Ok(Json(SqlResult {
        columns,
        truncated: total > limit,
        rows,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PendingOutput {
    pub output: String,
    /// Why the gate could not decide by itself.
    pub reason: String,
    /// The staged content as it would be released (CSV), for review.
    pub content: String,
    /// BLAKE3 of the content: an approval is for exactly these bytes.
    pub content_hash: String,
}

/// What waits for an output checker in a release since its last run.
#[utoipa::path(get, path = "/api/releases/{name}/pending", tag = "lab",
    params(("name" = String, Path, description = "The release's name")),
    responses((status = 200, body = [PendingOutput]), (status = 403, body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody)))]
pub async fn pending(
    State(s): State<AppState>,
    who: Principal,
    P(name): P<String>,
) -> Result<Json<Vec<PendingOutput>>, ApiError> {
    who.require(&[Role::Checker], "reviewing what waits at the gate")?;
    check_name(&s.lab.project, &name)?;
    let project = s.lab.project.clone();
    blocking(move || {
        disclosure::release::pending(&project, &name)?
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p.staged)
                    .map_err(|e| ApiError::internal(format!("{}: {e}", p.staged.display())))?;
                Ok(PendingOutput {
                    output: p.output,
                    reason: p.reason,
                    content_hash: blake3::hash(&bytes).to_hex().to_string(),
                    content: String::from_utf8_lossy(&bytes).into_owned(),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await
    .map(Json)
}

/// Refuses a name that is not one of the project's releases (`releases/NAME.toml`).
fn check_name(project: &project::Project, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && project::release::list(&project.root)
            .map_err(ApiError::internal)?
            .iter()
            .any(|n| n == name);
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no release `{name}`")))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ApprovalRequest {
    /// The pending output approved.
    pub output: String,
    /// Why it may leave the lab.
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalDone {
    pub output: String,
    pub content: String,
    pub checker: String,
    pub at: String,
}

/// Approves a pending output (its staged content exactly) as an output checker.
#[utoipa::path(post, path = "/api/releases/{name}/approvals", tag = "lab",
    params(("name" = String, Path, description = "The release's name")),
    request_body = ApprovalRequest,
    responses((status = 200, body = ApprovalDone), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such release, or no such output waiting in it",
            body = ErrorBody)))]
pub async fn approve(
    State(s): State<AppState>,
    who: Principal,
    P(name): P<String>,
    J(req): J<ApprovalRequest>,
) -> Result<Json<ApprovalDone>, ApiError> {
    who.require(&[Role::Checker], "approving outputs")?;
    check_name(&s.lab.project, &name)?;
    let project = s.lab.project.clone();
    let checker = who.name.clone();
    let (n, output, note) = (name.clone(), req.output.clone(), req.note.clone());
    let a = blocking(move || {
        // Approving what does not wait is asking for something that is not there.
        if !disclosure::release::pending(&project, &n)?
            .iter()
            .any(|p| p.output == output)
        {
            return Err(ApiError::not_found(format!(
                "nothing in `{n}` waits for approval as `{output}` (GET /api/releases/{n}/pending)"
            )));
        }
        Ok(disclosure::release::approve(
            &project,
            &n,
            &output,
            &checker,
            note.as_deref(),
            &crate::auth::rfc3339(chrono::Utc::now()),
        )?)
    })
    .await?;
    s.audit(
        &who,
        Action::Approval,
        &format!("{name}/{}", a.output),
        serde_json::json!({"content": a.content, "note": a.note}),
    )?;
    Ok(Json(ApprovalDone {
        output: a.output,
        content: a.content,
        checker: a.checker,
        at: a.at,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ReleaseOutcome {
    /// `released` or `waiting`.
    pub status: String,
    /// What still waits for a checker (when waiting).
    pub pending: Vec<String>,
}

/// Runs the disclosure gate over a release: it is released when every output passes or is
/// approved; otherwise what waits is listed. Analysts and checkers.
#[utoipa::path(post, path = "/api/releases/{name}/run", tag = "lab",
    params(("name" = String, Path, description = "The release's name")),
    responses((status = 200, body = ReleaseOutcome), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody)))]
pub async fn run_release(
    State(s): State<AppState>,
    who: Principal,
    P(name): P<String>,
) -> Result<Json<ReleaseOutcome>, ApiError> {
    who.require(&[Role::Analyst, Role::Checker], "running the gate")?;
    check_name(&s.lab.project, &name)?;
    let project = s.lab.project.clone();
    let by = who.name.clone();
    let n = name.clone();
    let report = blocking(move || {
        Ok(disclosure::release::run(
            &project,
            &n,
            &disclosure::release::Options {
                released_by: by,
                at: crate::auth::rfc3339(chrono::Utc::now()),
            },
        )?)
    })
    .await?;
    let outcome = match report.status {
        disclosure::release::Status::Released => ReleaseOutcome {
            status: "released".into(),
            pending: Vec::new(),
        },
        disclosure::release::Status::Waiting(p) => ReleaseOutcome {
            status: "waiting".into(),
            pending: p.into_iter().map(|p| p.output).collect(),
        },
    };
    s.audit(
        &who,
        Action::Release,
        &name,
        serde_json::json!({"status": outcome.status, "pending": outcome.pending}),
    )?;
    if outcome.status == "released" {
        s.lab.reload()?;
    }
    Ok(Json(outcome))
}

#[derive(Serialize, ToSchema)]
pub struct SourceStatus {
    pub name: String,
    pub title: String,
    pub holder: String,
    /// The current snapshot's rows loaded and quarantined, when built.
    pub rows: Option<u64>,
    pub quarantined: Option<u64>,
    pub snapshot: Option<String>,
    pub built_at: Option<String>,
}

/// A partner's own sources: what the lab received from it and how it loaded (counts only).
/// Lab roles see every source.
#[utoipa::path(get, path = "/api/sources", tag = "lab",
    responses((status = 200, body = [SourceStatus]), (status = 401, body = ErrorBody)))]
pub async fn sources(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<SourceStatus>>, ApiError> {
    who.require(
        &[Role::Partner, Role::Analyst, Role::Checker, Role::Admin],
        "the sources' status",
    )?;
    let project = s.lab.project.clone();
    blocking(move || {
        let wh =
            engine::Warehouse::open_existing(&project.data_dir()).map_err(ApiError::internal)?;
        let current = match &wh {
            Some(w) => w.current().map_err(ApiError::internal)?,
            None => Vec::new(),
        };
        Ok(project
            .sources
            .iter()
            .filter(|src| {
                who.role.is_lab()
                    || who
                        .organization
                        .as_deref()
                        .is_some_and(|o| o.eq_ignore_ascii_case(&src.holder))
            })
            .map(|src| {
                let snap = current.iter().find(|c| c.source == src.name);
                SourceStatus {
                    name: src.name.clone(),
                    title: src.title.clone(),
                    holder: src.holder.clone(),
                    rows: snap.map(|c| c.manifest.rows_loaded),
                    quarantined: snap.map(|c| c.manifest.rows_quarantined),
                    snapshot: snap.map(|c| c.id.clone()),
                    built_at: snap.map(|c| c.manifest.created_at.clone()),
                }
            })
            .collect())
    })
    .await
    .map(Json)
}

#[derive(Serialize, ToSchema)]
pub struct GateRelease {
    pub name: String,
    /// Whether `releases/NAME/` holds a release.
    pub released: bool,
    pub released_at: Option<String>,
    /// What waits for a checker since the last run.
    pub pending: Vec<PendingBrief>,
}

#[derive(Serialize, ToSchema)]
pub struct PendingBrief {
    pub output: String,
    pub reason: String,
}

/// The project's releases at the gate: released or not, and what waits for a checker.
#[utoipa::path(get, path = "/api/gate", tag = "lab",
    responses((status = 200, body = [GateRelease]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn gate(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<GateRelease>>, ApiError> {
    who.require(&[Role::Analyst, Role::Checker], "the gate's queue")?;
    let project = s.lab.project.clone();
    blocking(move || {
        let names = project::release::list(&project.root)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        names
            .into_iter()
            .map(|name| {
                let log = disclosure::release::released_with_log(&project.root, &name)
                    .ok()
                    .map(|(log, _)| log);
                let pending = disclosure::release::pending(&project, &name)?
                    .into_iter()
                    .map(|p| PendingBrief {
                        output: p.output,
                        reason: p.reason,
                    })
                    .collect();
                Ok(GateRelease {
                    released: log.is_some(),
                    released_at: log.map(|l| l.released_at),
                    pending,
                    name,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await
    .map(Json)
}
