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
    skipped: std::sync::Mutex<Vec<Skipped>>,
}

impl Models {
    /// `force` recomputes every model even when a snapshot with the same inputs exists.
    pub fn new(project: &Project, force: bool) -> Models {
        Models {
            project: project.clone(),
            force,
            skipped: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Models the last build left out because a table they read is missing.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.skipped.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The tables a query reads (CTE names excluded), lowercased as DataFusion resolves them.
pub fn table_references(sql: &str) -> Result<BTreeSet<String>, String> {
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

/// A model or indicator left out of a build because a table it reads is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The definition's file, relative to the project.
    pub file: String,
    /// The missing tables, each with a did-you-mean hint when one is close.
    pub missing: Vec<String>,
}

/// A missing table, with a hint when a known one is close.
pub(crate) fn missing_table(name: &str, known: &[&str]) -> String {
    match project::text::closest(name, known) {
        Some(c) if c != name => format!("{name} (did you mean `{c}`?)"),
        _ => name.to_string(),
    }
}

/// Models in dependency order with the tables each reads, and the models that cannot run
/// because a table they read (directly or through another model) is missing.
fn order<'p>(
    models: &'p [ModelSpec],
    available: &BTreeSet<String>,
) -> Result<(Vec<(&'p ModelSpec, BTreeSet<String>)>, Vec<Skipped>), IngestError> {
    let names: BTreeSet<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let mut known: Vec<&str> = available.iter().map(|s| s.as_str()).collect();
    known.extend(names.iter());
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
            Ok(refs) => pending.push((m, refs)),
        }
    }
    if !errors.is_empty() {
        return Err(step_err(STEP, true, errors.join("\n")));
    }
    let mut done: BTreeSet<String> = available.clone();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut skipped_names: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let mut progressed = false;
        let mut rest = Vec::new();
        for (m, refs) in pending {
            let missing: Vec<String> = refs
                .iter()
                .filter(|r| {
                    !done.contains(*r)
                        && (!names.contains(r.as_str()) || skipped_names.contains(*r))
                })
                .map(|r| missing_table(r, &known))
                .collect();
            if !missing.is_empty() {
                skipped_names.insert(m.name.clone());
                skipped.push(Skipped {
                    file: m.file.clone(),
                    missing,
                });
                progressed = true;
            } else if refs.is_subset(&done) {
                done.insert(m.name.clone());
                out.push((m, refs));
                progressed = true;
            } else {
                rest.push((m, refs));
            }
        }
        if !progressed {
            let stuck: Vec<&str> = rest.iter().map(|(m, _)| m.file.as_str()).collect();
            return Err(step_err(
                STEP,
                true,
                format!("models read each other in a cycle: {}", stuck.join(", ")),
            ));
        }
        pending = rest;
    }
    Ok((out, skipped))
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
        let (ordered, skipped) = order(models, &available)?;
        if let Ok(mut s) = self.skipped.lock() {
            *s = skipped;
        }
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
        let (o, skipped) = order(&models, &available).expect("orders");
        assert!(skipped.is_empty());
        let names: Vec<&str> = o.iter().map(|(m, _)| m.name.as_str()).collect();
        assert_eq!(names, vec!["b", "a"]);
    }

    #[test]
    fn cycles_are_errors_and_models_missing_a_table_are_skipped_with_their_readers() {
        let models = vec![spec("a", "SELECT * FROM b"), spec("b", "SELECT * FROM a")];
        let e = order(&models, &BTreeSet::new())
            .err()
            .expect("cycle")
            .to_string();
        assert!(e.contains("cycle") && e.contains("models/a.sql"), "{e}");
        let models = vec![
            spec("a", "SELECT * FROM registr"),
            spec("b", "SELECT * FROM a"),
            spec("c", "SELECT * FROM register"),
        ];
        let available: BTreeSet<String> = ["register".to_string()].into();
        let (run, skipped) = order(&models, &available).expect("orders");
        assert_eq!(run.len(), 1);
        assert_eq!(run[0].0.name, "c");
        assert_eq!(
            skipped,
            vec![
                Skipped {
                    file: "models/a.sql".into(),
                    missing: vec!["registr (did you mean `register`?)".into()]
                },
                Skipped {
                    file: "models/b.sql".into(),
                    missing: vec!["a".into()]
                },
            ]
        );
    }
}
