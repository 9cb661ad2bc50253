//! Command-line actions that the audit trail records (releases, approvals, exports, queries,
//! outreach lists, accounts), in the same hash-chained trail as the server's.

use server::audit::{Action, Event};
use server::store::Store;

/// Records what `actor` did from the command line (role `cli`: whoever can run commands on
/// the project folder works inside the lab).
pub fn record(
    store: &dyn Store,
    actor: &str,
    action: Action,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    store.append(&Event {
        at: server::auth::rfc3339(chrono::Utc::now()),
        actor: actor.to_string(),
        role: "cli".into(),
        action,
        target: target.to_string(),
        detail,
    })?;
    Ok(())
}

/// [`record`] in the project's store.
pub fn record_in(
    project: &project::Project,
    actor: &str,
    action: Action,
    target: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let store = server::project_store(project)?;
    record(&store, actor, action, target, detail)
}
