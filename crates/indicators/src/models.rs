//! The models build step: `models/NAME.sql` materialized as table `NAME`.

use crate::{hash, runtime, step_err, write_stream};
use engine::{BuildLock, Derived, Engine, SnapshotInfo, Warehouse};
use ingest::{Action, IngestError};
use project::{ModelSpec, Project};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Bumped when a change to how models are computed can change their tables.
pub const MODELS_VERSION: u32 = 1;

const STEP: &str = "models";

/// The models build step.
pub struct Models {
    project: Project,
    force: bool,
}

impl Models {
    /// `force` recomputes every model even when a snapshot with the same inputs exists.
    pub fn new(project: &Project, force: bool) -> Models {
        Models {
            project: project.clone(),
            force,
        }
    }
}

/// The tables a query reads (CTE names excluded), lowercased as DataFusion resolves them.
pub(crate) fn table_references(sql: &str) -> Result<BTreeSet<String>, String> {
    let ctx = datafusion::prelude::SessionContext::new();
    let state = ctx.state();
    let statement = state
        .sql_to_statement(sql, &datafusion::config::Dialect::Generic)
        .map_err(|e| e.to_string())?;
    let refs = state
        .resolve_table_references(&statement)
        .map_err(|e| e.to_string())?;
    Ok(refs.iter().map(|r| r.table().to_string()).collect())
}

/// Models in dependency order, with the tables each reads.
fn order<'p>(
    models: &'p [ModelSpec],
    available: &BTreeSet<String>,
) -> Result<Vec<(&'p ModelSpec, BTreeSet<String>)>, IngestError> {
    let names: BTreeSet<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let mut errors = Vec::new();
    let mut pending = Vec::new();
    for m in models {
        if available.contains(&m.name) {
            errors.push(format!(
                "{}: model `{}` has the name of a table the build already makes (rename the file)",
                m.file, m.name
            ));
            continue;
        }
        match table_references(&m.sql) {
            Err(e) => errors.push(format!("{}: {e}", m.file)),
            Ok(refs) => {
                for r in &refs {
                    if !available.contains(r) && !names.contains(r.as_str()) {
                        let mut known: Vec<&str> = available.iter().map(|s| s.as_str()).collect();
                        known.extend(names.iter());
                        let hint = project::text::closest(r, &known)
                            .map(|c| format!(" (did you mean `{c}`?)"))
                            .unwrap_or_default();
                        errors.push(format!("{}: no table named `{r}`{hint}", m.file));
                    }
                }
                pending.push((m, refs));
            }
        }
    }
    if !errors.is_empty() {
        return Err(step_err(STEP, true, errors.join("\n")));
    }
    let mut done: BTreeSet<String> = available.clone();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(_, refs): &(&ModelSpec, BTreeSet<String>)| refs.is_subset(&done));
        if ready.is_empty() {
            let stuck: Vec<&str> = rest.iter().map(|(m, _)| m.file.as_str()).collect();
            return Err(step_err(
                STEP,
                true,
                format!("models read each other in a cycle: {}", stuck.join(", ")),
            ));
        }
        for (m, refs) in ready {
            done.insert(m.name.clone());
            out.push((m, refs));
        }
        pending = rest;
    }
    Ok(out)
}

impl ingest::Derive for Models {
    fn derive(
        &self,
        wh: &Warehouse,
        lock: &BuildLock,
        sources: &BTreeMap<String, SnapshotInfo>,
    ) -> Result<Vec<(SnapshotInfo, Action)>, IngestError> {
        let models = &self.project.models;
        if models.is_empty() {
            return Ok(Vec::new());
        }
        let available: BTreeSet<String> = sources.keys().cloned().collect();
        let ordered = order(models, &available)?;
        let rt = runtime(STEP)?;
        let mut tables = sources.clone();
        let mut out = Vec::new();
        for (model, refs) in ordered {
            let references: BTreeMap<String, String> = refs
                .iter()
                .filter_map(|r| tables.get(r).map(|s| (r.clone(), s.id.clone())))
                .collect();
            let refs_text = serde_json::to_string(&references).unwrap_or_default();
            let version = MODELS_VERSION.to_string();
            let fp = hash(&[STEP, &version, &model.name, &model.sql, &refs_text]);
            let id = fp[..20].to_string();
            if !self.force
                && let Some(s) = wh.snapshot(&id)?
            {
                tables.insert(model.name.clone(), s.clone());
                out.push((s, Action::Reused));
                continue;
            }
            let started = Instant::now();
            let staging = wh.staging(lock, &model.name)?;
            let inputs: Vec<SnapshotInfo> =
                refs.iter().filter_map(|r| tables.get(r)).cloned().collect();
            let path = staging.dir.join("data/part-00000.parquet");
            rt.block_on(async {
                let engine = Engine::over(&inputs).await?;
                crate::udaf::register(engine.context());
                let stream = engine
                    .stream(&model.sql)
                    .await
                    .map_err(|e| step_err(STEP, true, format!("{}: {e}", model.file)))?;
                write_stream(&path, stream, STEP)
                    .await
                    .map_err(|e| step_err(STEP, true, format!("{}: {e}", model.file)))
            })?;
            let info = wh.store_derived(
                staging,
                Derived {
                    id,
                    table: model.name.clone(),
                    fingerprint: fp,
                    references,
                    seconds: started.elapsed().as_secs_f64(),
                },
            )?;
            tables.insert(model.name.clone(), info.clone());
            out.push((info, Action::Built));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_skip_ctes_and_see_joins() {
        let r = table_references(
            "WITH h AS (SELECT * FROM register) SELECT * FROM h JOIN link_records l ON true",
        )
        .expect("parses");
        assert_eq!(
            r.into_iter().collect::<Vec<_>>(),
            vec!["link_records".to_string(), "register".to_string()]
        );
    }

    fn spec(name: &str, sql: &str) -> ModelSpec {
        ModelSpec {
            name: name.into(),
            file: format!("models/{name}.sql"),
            sql: sql.into(),
        }
    }

    #[test]
    fn models_come_after_the_models_they_read() {
        let models = vec![
            spec("a", "SELECT * FROM b"),
            spec("b", "SELECT * FROM register"),
        ];
        let available: BTreeSet<String> = ["register".to_string()].into();
        let o = order(&models, &available).expect("orders");
        let names: Vec<&str> = o.iter().map(|(m, _)| m.name.as_str()).collect();
        assert_eq!(names, vec!["b", "a"]);
    }

    #[test]
    fn cycles_and_unknown_tables_are_errors_naming_the_file() {
        let models = vec![spec("a", "SELECT * FROM b"), spec("b", "SELECT * FROM a")];
        let e = order(&models, &BTreeSet::new())
            .err()
            .expect("cycle")
            .to_string();
        assert!(e.contains("cycle") && e.contains("models/a.sql"), "{e}");
        let models = vec![spec("a", "SELECT * FROM registr")];
        let available: BTreeSet<String> = ["register".to_string()].into();
        let e = order(&models, &available)
            .err()
            .expect("unknown")
            .to_string();
        assert!(
            e.contains("models/a.sql: no table named `registr` (did you mean `register`?)"),
            "{e}"
        );
    }
}
