//! Lab projects: the folder a lab works in, like a Cargo or dbt project.
//!
//! `project` owns reading and validating `datalab.toml` and `sources/*.toml` (with errors that
//! name the file, line and key, and a hint), scaffolding a new project (`datalab init`), and the
//! build graph: which source depends on which (through `references`), in what order to build.
//!
//! It must not know how files are decoded, how data is stored or queried: it reads only the
//! project's own small files (TOML specs and codelists), never a source's data.
//!
//! Extension points: new keys in a spec are added to the raw serde structs in `source.rs`
//! (unknown keys are errors, so old datalabs reject newer files loudly) and, when they change
//! what gets loaded, they appear in [`SourceSpec`]'s serialization, which the build fingerprints.

mod config;
mod error;
mod scaffold;
mod source;
pub mod text;

pub use config::{
    Defaults, FORMAT_VERSION, LinkageConfig, PeriodsConfig, ProjectConfig, TerritoryConfig,
};
pub use error::{ConfigError, ProjectError};
pub use scaffold::scaffold;
pub use source::{Bound, Codelist, ColumnSpec, Reference, SourceSpec};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use text::{closest, error_at};

/// The project file at the root of every lab project.
pub const PROJECT_FILE: &str = "datalab.toml";
/// The folder holding source specs.
pub const SOURCES_DIR: &str = "sources";
/// The folder where datalab keeps its warehouse and metadata (never edited by hand).
pub const DATA_DIR: &str = ".datalab";

const CYCLE_HINT: &str =
    "a reference must point at a source that does not, directly or not, reference back";

/// A loaded, validated project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project folder.
    pub root: PathBuf,
    pub config: ProjectConfig,
    /// Sources sorted by name.
    pub sources: Vec<SourceSpec>,
}

impl Project {
    /// Reads and validates the project at `root`. All configuration mistakes found are
    /// reported together.
    pub fn load(root: &Path) -> Result<Project, ProjectError> {
        let project_file = root.join(PROJECT_FILE);
        if !project_file.is_file() {
            return Err(ProjectError::NotAProject(root.to_path_buf()));
        }
        let text = std::fs::read_to_string(&project_file)
            .map_err(|e| ProjectError::io(&project_file, &e))?;
        let config = config::parse(&project_file, &text)?;

        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for rel in list_specs(root)? {
            let path = root.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, &e))?;
            match source::parse(root, &path, &text, &config.defaults) {
                Ok((mut spec, refs)) => {
                    spec.spec_file = rel;
                    parsed.push((spec, refs, path, text));
                }
                Err(ProjectError::Config(e)) => errors.extend(e),
                Err(other) => return Err(other),
            }
        }
        // Cross-source checks: references point at existing sources and columns.
        let by_name: BTreeMap<&str, &SourceSpec> =
            parsed.iter().map(|(s, ..)| (s.name.as_str(), s)).collect();
        let names: Vec<&str> = by_name.keys().copied().collect();
        for (spec, refs, path, text) in &parsed {
            for (r, col) in refs
                .iter()
                .zip(spec.columns.iter().filter(|c| c.references.is_some()))
            {
                let Some(target) = &col.references else {
                    continue;
                };
                let key = format!(
                    "columns[{}].references",
                    spec.columns
                        .iter()
                        .position(|c| c.name == col.name)
                        .unwrap_or(0)
                );
                if target.source == spec.name {
                    errors.push(error_at(
                        path,
                        text,
                        Some(r.span()),
                        key,
                        "a source cannot reference itself",
                        Some("check unique keys with `unique` instead".into()),
                    ));
                    continue;
                }
                match by_name.get(target.source.as_str()) {
                    None => errors.push(error_at(
                        path,
                        text,
                        Some(r.span()),
                        key,
                        format!("no source named `{}`", target.source),
                        closest(&target.source, &names)
                            .map(|c| format!("did you mean `{c}`?"))
                            .or_else(|| Some(format!("declared sources: {}", names.join(", ")))),
                    )),
                    Some(other) if other.column(&target.column).is_none() => {
                        let cols: Vec<&str> =
                            other.columns.iter().map(|c| c.name.as_str()).collect();
                        errors.push(error_at(
                            path,
                            text,
                            Some(r.span()),
                            key,
                            format!(
                                "source `{}` has no column `{}`",
                                target.source, target.column
                            ),
                            closest(&target.column, &cols).map(|c| format!("did you mean `{c}`?")),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        // Linkage: the spine exists and names pseudonym columns it has.
        let linkage = &config.linkage;
        if let Some(spine) = &linkage.spine {
            let at = |key: &str, message: String, hint: Option<String>| {
                error_at(&project_file, &text, None, key, message, hint)
            };
            match by_name.get(spine.as_str()) {
                None => errors.push(at(
                    "linkage.spine",
                    format!("no source named `{spine}`"),
                    closest(spine, &names).map(|c| format!("did you mean `{c}`?")),
                )),
                Some(s) => {
                    let keys = linkage
                        .person_keys
                        .iter()
                        .map(|k| ("linkage.person_keys", k));
                    for (key, col) in keys.chain(
                        linkage
                            .household_key
                            .iter()
                            .map(|k| ("linkage.household_key", k)),
                    ) {
                        match s.column(col) {
                            Some(c) if c.pseudonym => {}
                            Some(_) => errors.push(at(
                                key,
                                format!("column `{col}` of `{spine}` is not a pseudonym"),
                                Some(
                                    "linkage uses pseudonym columns only (`pseudonym = true`)"
                                        .into(),
                                ),
                            )),
                            None => errors.push(at(
                                key,
                                format!("source `{spine}` has no column `{col}`"),
                                None,
                            )),
                        }
                    }
                    if linkage.person_keys.is_empty() {
                        errors.push(at(
                            "linkage.person_keys",
                            "the spine needs at least one person key".into(),
                            Some("e.g. person_keys = [\"person_pid\"]".into()),
                        ));
                    }
                }
            }
        }
        // A cycle of references, located at each `references` that closes it (regression: the
        // error named only the sources folder, with no file, line or key; guarded by the cli
        // test `config::sources_referencing_each_other`). `build_order` keeps its own check.
        if errors.is_empty() {
            let mut done: Vec<&str> = Vec::new();
            let mut pending: Vec<&SourceSpec> = parsed.iter().map(|(s, ..)| s).collect();
            loop {
                let (ready, rest): (Vec<&SourceSpec>, Vec<&SourceSpec>) = pending
                    .into_iter()
                    .partition(|s| s.dependencies().iter().all(|d| done.contains(d)));
                pending = rest;
                if ready.is_empty() {
                    break;
                }
                done.extend(ready.iter().map(|s| s.name.as_str()));
            }
            let stuck: Vec<&str> = pending.iter().map(|s| s.name.as_str()).collect();
            for (spec, refs, path, text) in parsed
                .iter()
                .filter(|(s, ..)| stuck.contains(&s.name.as_str()))
            {
                let with_refs = spec
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.references.is_some());
                for (r, (i, col)) in refs.iter().zip(with_refs) {
                    if col
                        .references
                        .as_ref()
                        .is_some_and(|t| stuck.contains(&t.source.as_str()))
                    {
                        errors.push(error_at(
                            path,
                            text,
                            Some(r.span()),
                            format!("columns[{i}].references"),
                            format!(
                                "sources reference each other in a cycle: {}",
                                stuck.join(", ")
                            ),
                            Some(CYCLE_HINT.into()),
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(ProjectError::Config(errors));
        }
        let mut sources: Vec<SourceSpec> = parsed.into_iter().map(|(s, ..)| s).collect();
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        let project = Project {
            root: root.to_path_buf(),
            config,
            sources,
        };
        project.build_order()?;
        Ok(project)
    }

    pub fn source(&self, name: &str) -> Option<&SourceSpec> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// `.datalab/` under the project root.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(DATA_DIR)
    }

    /// Sources grouped in levels: every source depends only on sources of earlier levels, so
    /// the sources of one level can be built in parallel. Names are sorted within a level.
    pub fn build_order(&self) -> Result<Vec<Vec<&SourceSpec>>, ProjectError> {
        let mut done: Vec<&str> = Vec::new();
        let mut levels = Vec::new();
        let mut pending: Vec<&SourceSpec> = self.sources.iter().collect();
        while !pending.is_empty() {
            let (ready, rest): (Vec<&SourceSpec>, Vec<&SourceSpec>) = pending
                .into_iter()
                .partition(|s| s.dependencies().iter().all(|d| done.contains(d)));
            if ready.is_empty() {
                let cycle: Vec<String> = rest.iter().map(|s| s.name.clone()).collect();
                return Err(ProjectError::Config(vec![ConfigError {
                    file: self.root.join(SOURCES_DIR),
                    line: 0,
                    column: 0,
                    key: String::new(),
                    message: format!(
                        "sources reference each other in a cycle: {}",
                        cycle.join(", ")
                    ),
                    hint: Some(CYCLE_HINT.into()),
                }]));
            }
            done.extend(ready.iter().map(|s| s.name.as_str()));
            levels.push(ready);
            pending = rest;
        }
        Ok(levels)
    }
}

fn list_specs(root: &Path) -> Result<Vec<PathBuf>, ProjectError> {
    let dir = root.join(SOURCES_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| ProjectError::io(&dir, &e))? {
        let entry = entry.map_err(|e| ProjectError::io(&dir, &e))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            out.push(PathBuf::from(SOURCES_DIR).join(entry.file_name()));
        }
    }
    out.sort();
    Ok(out)
}
