//! Reports from templates in the project: `reports/NAME.toml` plus one template per language
//! (`reports/NAME.it.md`, `reports/NAME.en.md`), rendered to HTML or PDF in-process.
//!
//! A template is Markdown with [minijinja] expressions. Functions put released numbers in the
//! text and figures between paragraphs (see `REPORTS.md` in this crate for the list):
//! `{{ value("population") }}`, `{{ trend("share_elderly_65", level="district") }}`,
//! `{{ map("home_care_users_65") }}`, `{{ table("min_income_recipients", level="zone") }}`,
//! `{{ ranking(...) }}`, `{{ registry() }}`. Every number comes from
//! [`Publication`](crate::released::Publication), that is from public releases read through the
//! gate; a value the gate hid is printed as `–`, never recomputed. The report ends with its
//! provenance: the releases, their input snapshots, the disclosure rules applied and the
//! attacker's verdict.
//!
//! The HTML is one self-contained file (inline CSS and SVG; every released number in a
//! `<data value>` element). The PDF is typeset by Typst as a library, with the fonts bundled in
//! the binary, no network and no clock: the document date is the release date, so the same
//! inputs give the same bytes.

mod blocks;
mod html;
pub mod locale;
mod pdf;
mod template;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ReportError;
use crate::released::Publication;
pub use locale::Lang;

/// The folder of report templates in a project.
pub const REPORTS_DIR: &str = "reports";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
}

/// A text in both languages.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub it: String,
    #[serde(default)]
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        if lang == Lang::En && !self.en.is_empty() {
            &self.en
        } else {
            &self.it
        }
    }
}

/// `reports/NAME.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    #[serde(skip)]
    pub name: String,
    pub title: Text,
    #[serde(default)]
    pub subtitle: Text,
    /// Who publishes it (e.g. "Comune di Modena - Osservatorio welfare").
    #[serde(default)]
    pub author: String,
    /// Releases it draws on (default: every public release).
    #[serde(default)]
    pub releases: Vec<String>,
    /// Whether the template needs `--territory` (a district profile).
    #[serde(default)]
    pub needs_territory: bool,
}

/// The reports of a project, sorted by name.
///
/// # Errors
/// [`ReportError::Input`] for a spec that does not parse (file, line and message).
pub fn list(project: &project::Project) -> Result<Vec<ReportSpec>, ReportError> {
    let dir = project.root.join(REPORTS_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.iter().map(|n| spec(project, n)).collect()
}

/// Reads `reports/NAME.toml`.
///
/// # Errors
/// [`ReportError::Input`] when it is missing or does not parse.
pub fn spec(project: &project::Project, name: &str) -> Result<ReportSpec, ReportError> {
    let path = project.root.join(REPORTS_DIR).join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ReportError::Input(format!(
            "{}: {e}: no report named `{name}` (a report is {REPORTS_DIR}/{name}.toml with \
             {REPORTS_DIR}/{name}.it.md and {REPORTS_DIR}/{name}.en.md)",
            path.display()
        ))
    })?;
    let mut spec: ReportSpec = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start].matches('\n').count() + 1)
            .unwrap_or(0);
        ReportError::Input(format!("{}:{line}: {}", path.display(), e.message()))
    })?;
    spec.name = name.to_string();
    Ok(spec)
}

/// What to render.
#[derive(Debug, Clone)]
pub struct Options {
    pub year: i32,
    pub lang: Lang,
    pub format: Format,
    /// For reports about one territory (a district profile).
    pub territory: Option<String>,
}

/// A rendered report.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    /// Every released number the report prints, as released.
    pub numbers: Vec<NumberUse>,
    pub pages: Option<usize>,
}

/// One released number printed in a report.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberUse {
    pub indicator: String,
    /// `value`, or `lower` / `upper` for an interval's bound.
    pub field: String,
    pub territory: String,
    pub period: String,
    pub breakdown: String,
    pub value: Option<f64>,
}

/// Renders report `name` of `project`.
///
/// # Errors
/// [`ReportError::Input`] for a missing template, a template error (file and line), a figure
/// asking for something not released, or a territory that does not exist;
/// [`ReportError::Release`] when a release is missing or was tampered with.
pub fn render(
    project: &project::Project,
    name: &str,
    opts: &Options,
) -> Result<Rendered, ReportError> {
    let spec = spec(project, name)?;
    let publication = Publication::load(project, &spec.releases)?;
    render_with(project, &spec, &publication, opts)
}

/// Renders with an already loaded publication (the site renders every report from one).
///
/// # Errors
/// As [`render`].
pub fn render_with(
    project: &project::Project,
    spec: &ReportSpec,
    publication: &Publication,
    opts: &Options,
) -> Result<Rendered, ReportError> {
    let lang = opts.lang;
    let file: PathBuf =
        project
            .root
            .join(REPORTS_DIR)
            .join(format!("{}.{}.md", spec.name, lang.code()));
    let source = std::fs::read_to_string(&file).map_err(|e| {
        ReportError::Input(format!(
            "{}: {e}: report `{}` has no template in {}",
            file.display(),
            spec.name,
            if lang == Lang::It {
                "Italian"
            } else {
                "English"
            }
        ))
    })?;
    if publication.releases.is_empty() {
        return Err(ReportError::Input(format!(
            "report `{}`: no public release to draw on; run `datalab release` first",
            spec.name
        )));
    }
    let year = opts.year.to_string();
    if !publication
        .series
        .iter()
        .any(|s| s.obs.iter().any(|o| o.period.starts_with(&year)))
    {
        let mut years: Vec<String> = publication
            .series
            .iter()
            .flat_map(|s| s.obs.iter().map(|o| o.period.chars().take(4).collect()))
            .collect();
        years.sort();
        years.dedup();
        return Err(ReportError::Input(format!(
            "report `{}`: nothing released for {year}; released years: {}",
            spec.name,
            years.join(", ")
        )));
    }
    if spec.needs_territory && opts.territory.is_none() {
        return Err(ReportError::Input(format!(
            "report `{}` is about one territory: give --territory CODE",
            spec.name
        )));
    }
    if let Some(t) = &opts.territory
        && !project.hierarchy.nodes.iter().any(|n| &n.code == t)
    {
        return Err(ReportError::Input(format!(
            "report `{}`: no territory `{t}` in the project's hierarchy",
            spec.name
        )));
    }
    let ctx = template::Context {
        project,
        publication,
        lang,
        year: opts.year,
        territory: opts.territory.clone(),
        geojson: zones_geojson(project),
    };
    let doc = template::expand(&ctx, &file, &source)?;
    let meta = Meta::new(project, spec, publication, opts, &source);
    match opts.format {
        Format::Html => Ok(Rendered {
            bytes: html::render(&doc, &meta).into_bytes(),
            numbers: doc.numbers.clone(),
            pages: None,
        }),
        Format::Pdf => {
            let (bytes, pages) = pdf::render(&doc, &meta)?;
            Ok(Rendered {
                bytes,
                numbers: doc.numbers.clone(),
                pages: Some(pages),
            })
        }
    }
}

/// The GeoJSON of the finest level, when the project declares one.
fn zones_geojson(project: &project::Project) -> Option<String> {
    let finest = project.hierarchy.levels.last()?;
    let (_, path) = project.boundaries.iter().find(|(l, _)| l == finest)?;
    std::fs::read_to_string(project.root.join(path)).ok()
}

/// What the title page and the provenance section say.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub lang: Lang,
    pub title: String,
    pub subtitle: String,
    pub author: String,
    pub year: i32,
    /// The latest release date (`YYYY-MM-DD`), the document's date.
    pub date: String,
    pub releases: Vec<disclosure::release::ReleaseLog>,
    pub template: String,
    pub version: String,
}

impl Meta {
    fn new(
        project: &project::Project,
        spec: &ReportSpec,
        publication: &Publication,
        opts: &Options,
        source: &str,
    ) -> Meta {
        let lang = opts.lang;
        let date = publication
            .releases
            .iter()
            .map(|r| r.log.released_at.chars().take(10).collect::<String>())
            .max()
            .unwrap_or_default();
        let territory_name = opts.territory.as_ref().map(|t| {
            project
                .hierarchy
                .nodes
                .iter()
                .find(|n| &n.code == t)
                .map_or_else(|| t.clone(), |n| n.name.clone())
        });
        let mut title = spec.title.get(lang).to_string();
        if let Some(n) = &territory_name {
            title = format!("{title}: {n}");
        }
        Meta {
            lang,
            title,
            subtitle: spec.subtitle.get(lang).to_string(),
            author: if spec.author.is_empty() {
                project.config.title.clone()
            } else {
                spec.author.clone()
            },
            year: opts.year,
            date,
            releases: publication.releases.iter().map(|r| r.log.clone()).collect(),
            template: format!(
                "{REPORTS_DIR}/{}.{}.md (blake3 {})",
                spec.name,
                lang.code(),
                &blake3::hash(source.as_bytes()).to_hex()[..16]
            ),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Writes `bytes` to `out` atomically (a temporary file beside it, then a rename).
///
/// # Errors
/// [`ReportError::Io`] when writing fails.
pub fn write_atomic(out: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |e: std::io::Error| ReportError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, out).map_err(io)
}

#[cfg(test)]
mod tests;
