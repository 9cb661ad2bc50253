//! Lab projects: the folder a lab works in, like a Cargo or dbt project.
//!
//! `project` owns reading and validating the project's own files, with errors that name the
//! file, line and key, and a hint (all mistakes are reported together): `datalab.toml`,
//! `sources/*.toml`, the territory hierarchy (`[territory]`: the codelist CSV, the crosswalks of
//! earlier versions, the GeoJSON boundaries), `indicators/*.toml` and `models/*.sql` (SQL is
//! only parsed, with sqlparser). It also scaffolds a new project (`datalab init`) and computes
//! the build graph: which source depends on which (through `references`), in what order.
//!
//! It must not know how files are decoded, how data is stored or queried: it reads only the
//! project's own small files (TOML specs, codelists, crosswalks, boundaries, SQL text), never a
//! source's data, and never checks that the tables and columns an indicator or a model names
//! exist (the build does, at the lines kept in [`model::Indicator::lines`]).
//!
//! Extension points: new keys in a spec are added to the raw serde structs in `source.rs` or
//! `indicator.rs` (unknown keys are errors, so old datalabs reject newer files loudly) and, when
//! they change what gets loaded, they appear in [`SourceSpec`]'s serialization, which the build
//! fingerprints.

mod config;
mod error;
mod indicator;
pub mod library;
mod models;
pub mod release;
mod scaffold;
mod source;
mod territory;
pub use territory::centroids;
pub mod text;

pub use config::{
    Defaults, FORMAT_VERSION, ForecastConfig, HistoryConfig, LinkageConfig, PeriodsConfig,
    ProjectConfig, TerritoryConfig,
};
pub use error::{ConfigError, ProjectError};
pub use models::ModelSpec;
pub use scaffold::scaffold;
pub use source::{Bound, Codelist, ColumnSpec, Reference, SourceSpec};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use text::{closest, error_at};

/// The project file at the root of every lab project.
pub const PROJECT_FILE: &str = "datalab.toml";
/// The folder holding source specs.
pub const SOURCES_DIR: &str = "sources";
/// The folder holding indicator definitions (`ID.toml`).
pub const INDICATORS_DIR: &str = "indicators";
/// The folder holding models (`NAME.sql`).
pub const MODELS_DIR: &str = "models";
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
    /// The territory hierarchy (empty when the project declares no levels or no codelist).
    pub hierarchy: model::Hierarchy,
    /// Boundary files: (level, path relative to the project root), as declared.
    pub boundaries: Vec<(String, String)>,
    /// Indicators sorted by id.
    pub indicators: Vec<model::Indicator>,
    /// Models sorted by name.
    pub models: Vec<ModelSpec>,
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
        for rel in list_files(root, SOURCES_DIR, "toml")? {
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
        // The territory, then what refers to it.
        let before = errors.len();
        let (hierarchy, boundaries) =
            territory::load(root, &project_file, &text, &config.territory, &mut errors);
        let territory_ok = errors.len() == before;
        let mut indicators = Vec::new();
        for rel in list_files(root, INDICATORS_DIR, "toml")? {
            let path = root.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, &e))?;
            match indicator::parse(root, &rel, &text, territory_ok.then_some(&hierarchy)) {
                Ok(i) => indicators.push(i),
                Err(e) => errors.extend(e),
            }
        }
        indicators.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(f) = &config.forecast {
            let ids: Vec<&str> = indicators.iter().map(|i| i.id.as_str()).collect();
            for id in f.indicators.iter().filter(|id| !ids.contains(&id.as_str())) {
                let quoted = format!("\"{id}\"");
                let span = text.find(&quoted).map(|at| at..at + quoted.len());
                errors.push(error_at(
                    &project_file,
                    &text,
                    span,
                    "forecast.indicators",
                    format!("no indicator `{id}` in {INDICATORS_DIR}/"),
                    closest(id, &ids).map(|c| format!("did you mean `{c}`?")),
                ));
            }
        }
        let mut models = Vec::new();
        for rel in list_files(root, MODELS_DIR, "sql")? {
            let path = root.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(|e| ProjectError::io(&path, &e))?;
            match models::parse(root, &rel, &text, &names) {
                Ok(m) => models.push(m),
                Err(e) => errors.extend(e),
            }
        }
        models.sort_by(|a, b| a.name.cmp(&b.name));
        if !errors.is_empty() {
            return Err(ProjectError::Config(errors));
        }
        let mut sources: Vec<SourceSpec> = parsed.into_iter().map(|(s, ..)| s).collect();
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        let project = Project {
            root: root.to_path_buf(),
            config,
            sources,
            hierarchy,
            boundaries,
            indicators,
            models,
        };
        project.build_order()?;
        Ok(project)
    }

    pub fn source(&self, name: &str) -> Option<&SourceSpec> {
        self.sources.iter().find(|s| s.name == name)
    }

    pub fn indicator(&self, id: &str) -> Option<&model::Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
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

/// The files `DIR/*.EXT` under `root`, relative to it, sorted.
fn list_files(root: &Path, dir: &str, ext: &str) -> Result<Vec<PathBuf>, ProjectError> {
    let path = root.join(dir);
    if !path.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(|e| ProjectError::io(&path, &e))? {
        let entry = entry.map_err(|e| ProjectError::io(&path, &e))?;
        if entry.path().is_file() && entry.path().extension().is_some_and(|e| e == ext) {
            out.push(PathBuf::from(dir).join(entry.file_name()));
        }
    }
    out.sort();
    Ok(out)
}

/// Small projects written into temporary folders, for the tests of every file kind.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Project, ProjectError};
    use std::path::Path;

    pub const PROJECT: &str = r#"format_version = 1
name = "t"

[territory]
levels = ["municipality", "district", "zone"]
codelist = "territories/zones.csv"
"#;

    pub const ZONES: &str =
        "zone_code,zone_name,district_code,district_name,municipality_code,municipality_name
Z01,Duomo,Q1,Centro,036023,Modena
Z02,Stazione,Q1,Centro,036023,Modena
Z03,Nord,Q2,Nord,036023,Modena
";

    /// A project with [`PROJECT`] and [`ZONES`] unless `files` gives its own `datalab.toml` or
    /// `territories/zones.csv`.
    pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let defaults = [("datalab.toml", PROJECT), ("territories/zones.csv", ZONES)];
        for (rel, text) in defaults
            .iter()
            .filter(|(d, _)| !files.iter().any(|(f, _)| f == d))
            .chain(files)
        {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
        }
        dir
    }

    pub fn load(files: &[(&str, &str)]) -> Project {
        let dir = project(files);
        match Project::load(dir.path()) {
            Ok(p) => p,
            Err(e) => panic!("the project does not load:\n{e}"),
        }
    }

    /// Loads a project that must fail with exactly the `expect`ed errors, in order:
    /// (file relative to the project, line, key, a fragment of the message, a fragment of the
    /// hint or "" for any).
    pub fn check(files: &[(&str, &str)], expect: &[(&str, usize, &str, &str, &str)]) {
        let dir = project(files);
        let errors = match Project::load(dir.path()) {
            Ok(_) => panic!("the project loads, expected {expect:?}"),
            Err(ProjectError::Config(e)) => e,
            Err(e) => panic!("not a configuration error: {e}"),
        };
        let rel = |f: &Path| {
            f.strip_prefix(dir.path())
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/")
        };
        let got: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "{}:{}: key `{}`: {}",
                    rel(&e.file),
                    e.line,
                    e.key,
                    e.message
                )
            })
            .collect();
        assert_eq!(
            errors.len(),
            expect.len(),
            "errors: {got:#?}\nexpected: {expect:#?}"
        );
        for ((e, g), (file, line, key, message, hint)) in errors.iter().zip(&got).zip(expect) {
            let ok = rel(&e.file) == *file
                && e.line == *line
                && e.key == *key
                && e.message.contains(message)
                && (hint.is_empty() || e.hint.as_deref().is_some_and(|h| h.contains(hint)));
            assert!(
                ok,
                "got {g} (hint: {:?})\nexpected {file}:{line}: key `{key}`: …{message}… (hint: …{hint}…)\nall errors: {got:#?}",
                e.hint
            );
        }
    }
}
