//! The static dissemination site: the public releases as HTML pages that work from disk.
//!
//! [`build`] writes, for each language (the first at the root, the others under their code,
//! e.g. `en/`):
//! - `index.html`: what the site is, the releases, key figures of the city, topics, territories;
//! - `indicatori/index.html` and `indicatori/ID.html` per released indicator: description, the
//!   time series of the city and its districts with intervals, a map of the zones, the values by
//!   territory with hidden cells explained, sub-groups, downloads (`indicatori/ID.csv`, the
//!   released rows, written beside the Italian page);
//! - `territori/index.html` and `territori/CODE.html` per district and zone: every indicator's
//!   latest value against the city, with a sparkline;
//! - `servizi.html`: the services of the registry (`registry.sqlite`, public fields only) on a
//!   map of the zones and as a list by zone and social risk, with a filter in a few lines of
//!   inline script that only enhances a page that works without it;
//! - `rapporti.html` with the reports given in [`Options::reports`] (copied to `rapporti/`);
//! - `dati.html` with the open data of [`crate::opendata`] (written to `open-data/`).
//!
//! English pages use English folder names (`en/indicators/ID.html`, `en/services.html`, ...).
//! One hand-written `style.css`, no script but the filter's, no font, nothing fetched from the
//! network: every link is relative and every `href`/`src` is a file of the site. Numbers come
//! only from [`Publication`] (released, hash-checked), each printed as
//! `<data value="RAW">formatted</data>`; the same inputs give the same bytes.

pub(crate) mod html;
mod pages;
mod services;
#[cfg(test)]
mod tests;
mod words;

use std::collections::BTreeMap;
use std::path::Path;

use crate::ReportError;
use crate::folder::{Files, write_folder};
use crate::opendata;
use crate::released::{Obs, Publication, Series};

pub use services::Place;

/// A language of the site (the reports' languages).
pub use crate::document::Lang;

/// A report the site lists: its title and its files (name, content), copied into `rapporti/`.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteReport {
    pub title: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// What to publish.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Releases to publish (default: every public release of the project).
    pub releases: Vec<String>,
    /// Languages, the first at the root and the others under their code (default: the
    /// project's `languages`, else Italian).
    pub languages: Vec<Lang>,
    /// Reports to list and copy.
    pub reports: Vec<SiteReport>,
    /// The publishing body, for the open data catalogue (default: the project's title).
    pub publisher: String,
    /// Its identifier, e.g. the IPA code (default: the project's name).
    pub publisher_id: String,
}

/// What [`build`] wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Built {
    /// HTML pages, every language.
    pub pages: usize,
    /// Every file, pages included.
    pub files: usize,
    /// Bytes of every file.
    pub bytes: u64,
    /// Bytes of the HTML pages and the stylesheet.
    pub page_bytes: u64,
    /// The largest page and its size.
    pub largest_page: (String, u64),
    pub languages: Vec<String>,
    pub indicators: usize,
    /// Territories with a profile page.
    pub territories: usize,
    /// Services on the map (service at a location), `None` without a registry.
    pub services: Option<usize>,
    pub reports: usize,
    pub datasets: usize,
    /// (release, why) of the releases left out.
    pub skipped: Vec<(String, String)>,
}

pub use registry::REGISTRY_FILE;

/// Builds the site of `project`'s public releases into `out` (replaced whole).
///
/// # Errors
/// [`ReportError::Release`] for a missing or tampered release, [`ReportError::Input`] for a
/// named release that is not public, no public release at all, an unreadable registry or
/// boundary file, and [`ReportError::Io`] when writing fails.
pub fn build(project: &project::Project, out: &Path, opts: &Options) -> Result<Built, ReportError> {
    let publication = Publication::load(project, &opts.releases)?;
    if publication.releases.is_empty() {
        return Err(ReportError::Input(
            "no public release to publish: run `datalab release NAME` on a release whose \
             audience is `public` first"
                .into(),
        ));
    }
    let mut boundaries = Vec::new();
    for (level, rel) in &project.boundaries {
        let path = project.root.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|e| ReportError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        boundaries.push((level.clone(), rel.clone(), text));
    }
    let registry = project.root.join(REGISTRY_FILE);
    let services = if registry.is_file() {
        Some(services::load(&registry)?)
    } else {
        None
    };
    let od = opendata::Options {
        releases: opts.releases.clone(),
        publisher: if opts.publisher.is_empty() {
            project.config.title.clone()
        } else {
            opts.publisher.clone()
        },
        publisher_id: if opts.publisher_id.is_empty() {
            project.config.name.clone()
        } else {
            opts.publisher_id.clone()
        },
        base_url: None,
        contact_email: None,
    };
    let (exported, open_files) = opendata::files(project, &od)?;
    let languages = languages(project, &opts.languages);
    let site = Site {
        title: project.config.title.clone(),
        publication: &publication,
        indicators: &project.indicators,
        hierarchy: &project.hierarchy,
        boundaries,
        services,
        reports: &opts.reports,
        datasets: exported.datasets,
        open_files,
        languages,
    };
    let (files, mut built) = render(&site)?;
    write_folder(out, &files)?;
    built.skipped = publication.skipped.clone();
    Ok(built)
}

/// The languages of the site: those asked for, else the project's `languages`, else Italian.
pub fn languages(project: &project::Project, asked: &[Lang]) -> Vec<Lang> {
    if !asked.is_empty() {
        return asked.to_vec();
    }
    let mut l: Vec<Lang> = project
        .config
        .languages
        .iter()
        .filter_map(|c| Lang::from_code(c))
        .collect();
    l.dedup();
    if l.is_empty() { vec![Lang::It] } else { l }
}

/// Renders every report of the project for the site, in each language as HTML and PDF, for
/// `year` (default: the latest year released); a report about one territory once per district
/// (the level above the finest). Files are named `NAME[-TERRITORY].LANG.html|pdf`.
///
/// # Errors
/// As [`crate::document::render_with`].
pub fn render_reports(
    project: &project::Project,
    languages: &[Lang],
    year: Option<i32>,
) -> Result<Vec<SiteReport>, ReportError> {
    use crate::document::{self, Format, ReportSpec};
    /// One report for one territory: its title and the renderings it needs.
    struct Job<'a> {
        spec: &'a ReportSpec,
        publication: &'a Publication,
        title: String,
        territory: Option<String>,
        year: i32,
    }
    let specs = document::list(project)?;
    let publications = specs
        .iter()
        .map(|spec| Publication::load(project, &spec.releases))
        .collect::<Result<Vec<_>, _>>()?;
    let lang = languages.first().copied().unwrap_or_default();
    let mut jobs = Vec::new();
    for (spec, publication) in specs.iter().zip(&publications) {
        let Some(year) = year.or_else(|| {
            publication
                .series
                .iter()
                .flat_map(|s| &s.obs)
                .filter_map(|o| o.period.get(..4).and_then(|y| y.parse().ok()))
                .max()
        }) else {
            continue;
        };
        let title = format!("{} {year}", spec.title.get(lang));
        if spec.needs_territory {
            let h = &project.hierarchy;
            let level = h.levels.len().saturating_sub(2);
            for t in h.nodes.iter().filter(|n| n.level == level) {
                jobs.push(Job {
                    spec,
                    publication,
                    title: format!("{title}: {}", t.name),
                    territory: Some(t.code.clone()),
                    year,
                });
            }
        } else {
            jobs.push(Job {
                spec,
                publication,
                title,
                territory: None,
                year,
            });
        }
    }
    // every rendering is independent: spread them over the cores
    let tasks: Vec<(usize, Lang, Format)> = (0..jobs.len())
        .flat_map(|j| {
            languages
                .iter()
                .flat_map(move |&l| [(j, l, Format::Html), (j, l, Format::Pdf)])
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let render = |&(j, lang, format): &(usize, Lang, Format)| {
        let job: &Job = &jobs[j];
        document::render_with(
            project,
            job.spec,
            job.publication,
            &document::Options {
                year: job.year,
                lang,
                format,
                territory: job.territory.clone(),
            },
        )
        .map(|r| r.bytes)
    };
    let mut done: Vec<(usize, Result<Vec<u8>, ReportError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(tasks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(task) = tasks.get(i) else { break };
                        out.push((i, render(task)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a report rendering thread panicked"))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut out: Vec<SiteReport> = jobs
        .iter()
        .map(|j| SiteReport {
            title: j.title.clone(),
            files: Vec::new(),
        })
        .collect();
    for (i, bytes) in done {
        let (j, lang, format) = tasks[i];
        let job = &jobs[j];
        let t = job
            .territory
            .as_ref()
            .map(|t| format!("-{t}"))
            .unwrap_or_default();
        let ext = match format {
            Format::Html => "html",
            Format::Pdf => "pdf",
        };
        out[j].files.push((
            format!("{}{t}.{}.{ext}", job.spec.name, lang.code()),
            bytes?,
        ));
    }
    Ok(out)
}

/// Everything a site is made of; [`render`] turns it into files without any I/O.
pub(crate) struct Site<'a> {
    pub title: String,
    pub publication: &'a Publication,
    pub indicators: &'a [model::Indicator],
    pub hierarchy: &'a model::Hierarchy,
    /// (level, file relative to the project, GeoJSON text) of each boundary file.
    pub boundaries: Vec<(String, String, String)>,
    /// The services of the registry; `None` when the project has no registry.
    pub services: Option<Vec<Place>>,
    pub reports: &'a [SiteReport],
    pub datasets: Vec<opendata::Dataset>,
    /// The open data files, relative to `open-data/`.
    pub open_files: Files,
    pub languages: Vec<Lang>,
}

/// The folder of the open data inside the site.
pub(crate) const OPEN_DATA: &str = "open-data";

/// The site's files (path, content) in path order, and what they hold.
pub(crate) fn render(site: &Site) -> Result<(Files, Built), ReportError> {
    let ctx = Ctx::new(site);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut page_paths: std::collections::BTreeSet<String> = Default::default();
    files.insert("style.css".into(), html::STYLE.as_bytes().to_vec());
    for &lang in &site.languages {
        for (page, text) in pages::all(&ctx, lang)? {
            let path = ctx.path(&page, lang);
            files.insert(path.clone(), text.into_bytes());
            page_paths.insert(path);
        }
    }
    for ind in &ctx.indicators {
        files.insert(ctx.indicator_csv(&ind.id), pages::indicator_csv(&ctx, ind)?);
    }
    for (name, bytes) in site.reports.iter().flat_map(|r| &r.files) {
        files.insert(ctx.report_file(name), bytes.clone());
    }
    for (rel, bytes) in &site.open_files {
        files.insert(format!("{OPEN_DATA}/{rel}"), bytes.clone());
    }
    let is_page = |p: &str| page_paths.contains(p);
    let largest = files
        .iter()
        .filter(|(p, _)| is_page(p))
        .map(|(p, b)| (p.clone(), b.len() as u64))
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .unwrap_or_default();
    let built = Built {
        pages: files.keys().filter(|p| is_page(p)).count(),
        files: files.len(),
        bytes: files.values().map(|b| b.len() as u64).sum(),
        page_bytes: files
            .iter()
            .filter(|(p, _)| is_page(p) || *p == "style.css")
            .map(|(_, b)| b.len() as u64)
            .sum(),
        largest_page: largest,
        languages: site
            .languages
            .iter()
            .map(|l| l.code().to_string())
            .collect(),
        indicators: ctx.indicators.len(),
        territories: ctx.territories.len(),
        services: site.services.as_ref().map(|s| s.len()),
        reports: site.reports.len(),
        datasets: site.datasets.len(),
        skipped: Vec::new(),
    };
    Ok((files.into_iter().collect(), built))
}

/// A page of the site, in any language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Page {
    Home,
    Indicators,
    Indicator(String),
    Territories,
    /// By the territory's slug.
    Territory(String),
    Services,
    Reports,
    Data,
}

/// A released indicator with what its pages need.
pub(crate) struct Ind<'a> {
    pub id: String,
    pub meta: Option<&'a model::Indicator>,
    pub series: Vec<&'a Series>,
    /// Periods with a released value, sorted.
    pub periods: Vec<String>,
    /// Decimals to print its values with.
    pub decimals: usize,
}

impl Ind<'_> {
    pub fn name(&self, lang: Lang) -> String {
        self.meta
            .map(|m| m.name.get(lang.code()).to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.id.clone())
    }

    pub fn unit(&self, lang: Lang) -> String {
        self.meta
            .map(|m| m.unit.get(lang.code()).to_string())
            .unwrap_or_default()
    }

    pub fn latest(&self) -> Option<&str> {
        self.periods.last().map(String::as_str)
    }
}

/// A territory with a page, or the city at the top.
#[derive(Debug, Clone)]
pub(crate) struct Terr {
    pub level: String,
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub slug: String,
    /// The parent's code, when it is the headline territory or has a page.
    pub parent: Option<String>,
    pub children: Vec<String>,
}

/// What the pages share: the indicators, the territories and an index of the released values.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site<'a>,
    pub indicators: Vec<Ind<'a>>,
    /// The territory at the top of what was released (the municipality).
    pub headline: Option<Terr>,
    /// Territories with a page, in the hierarchy's order.
    pub territories: Vec<Terr>,
    /// (indicator, territory, period, breakdown) -> the value, from the latest release.
    obs: BTreeMap<(&'a str, &'a str, &'a str, &'a str), (&'a Obs, &'a Series)>,
}

impl<'a> Ctx<'a> {
    fn new(site: &'a Site<'a>) -> Ctx<'a> {
        let publication = site.publication;
        let mut obs = BTreeMap::new();
        for s in &publication.series {
            for o in &s.obs {
                obs.insert(
                    (
                        s.indicator.as_str(),
                        o.territory.as_str(),
                        o.period.as_str(),
                        o.breakdown.as_str(),
                    ),
                    (o, s),
                );
            }
        }
        let indicators: Vec<Ind> = publication
            .indicators()
            .into_iter()
            .map(|id| {
                let series: Vec<&Series> = publication.series_of(id).collect();
                let values: Vec<f64> = series
                    .iter()
                    .flat_map(|s| &s.obs)
                    .flat_map(|o| [o.value, o.lower, o.upper])
                    .flatten()
                    .filter(|v| v.is_finite())
                    .collect();
                let decimals = if values.iter().all(|v| v.fract() == 0.0) {
                    0
                } else if values.iter().all(|v| v.abs() < 1.0) {
                    2
                } else {
                    1
                };
                Ind {
                    id: id.to_string(),
                    meta: site.indicators.iter().find(|m| m.id == id),
                    periods: publication.periods(id),
                    series,
                    decimals,
                }
            })
            .collect();
        let h = site.hierarchy;
        let rank = |level: &str| h.level_index(level).unwrap_or(usize::MAX);
        // released territories (totals), by level and code, with their released names
        let mut released: BTreeMap<(usize, String), (String, String)> = BTreeMap::new();
        let mut count: BTreeMap<(usize, String), usize> = BTreeMap::new();
        for s in &publication.series {
            for o in s.obs.iter().filter(|o| o.breakdown.is_empty()) {
                let key = (rank(&o.level), o.territory.clone());
                released
                    .entry(key.clone())
                    .or_insert_with(|| (o.level.clone(), o.territory_name.clone()));
                *count.entry(key).or_default() += 1;
            }
        }
        let top = released.keys().map(|k| k.0).min();
        let name_of = |level: usize, code: &str, released_name: &str| {
            h.get(level, code)
                .map(|t| t.name.clone())
                .filter(|n| !n.is_empty() && n != code)
                .or_else(|| (!released_name.is_empty()).then(|| released_name.to_string()))
                .unwrap_or_else(|| code.to_string())
        };
        let headline = top.and_then(|top| {
            let (key, _) = count
                .iter()
                .filter(|(k, _)| k.0 == top)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.1.cmp(&a.0.1)))?;
            let (level, rname) = &released[key];
            Some(Terr {
                level: level.clone(),
                rank: top,
                code: key.1.clone(),
                name: name_of(top, &key.1, rname),
                slug: String::new(),
                parent: None,
                children: Vec::new(),
            })
        });
        // every released territory below the top, in the hierarchy's order, then the others
        let order: BTreeMap<(usize, &str), usize> = h
            .nodes
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.level, t.code.as_str()), i))
            .collect();
        let mut below: Vec<_> = released.iter().filter(|(k, _)| Some(k.0) != top).collect();
        below.sort_by_key(|(k, _)| {
            (
                k.0,
                order
                    .get(&(k.0, k.1.as_str()))
                    .copied()
                    .unwrap_or(usize::MAX),
                k.1.clone(),
            )
        });
        let mut slugs: BTreeMap<String, usize> = BTreeMap::new();
        let mut territories: Vec<Terr> = below
            .iter()
            .map(|((r, code), (level, rname))| {
                let base = slug(code);
                let n = slugs.entry(base.clone()).or_default();
                *n += 1;
                let slug = if *n == 1 {
                    base
                } else {
                    format!("{}-{base}", slug(level))
                };
                Terr {
                    level: level.clone(),
                    rank: *r,
                    code: code.clone(),
                    name: name_of(*r, code, rname),
                    slug,
                    parent: h.get(*r, code).and_then(|t| t.parent.clone()),
                    children: Vec::new(),
                }
            })
            .collect();
        // parents and children among the pages (and the headline)
        let known: Vec<(usize, String)> = territories
            .iter()
            .map(|t| (t.rank, t.code.clone()))
            .chain(headline.iter().map(|t| (t.rank, t.code.clone())))
            .collect();
        for t in &mut territories {
            if let Some(p) = &t.parent
                && !known.contains(&(t.rank.wrapping_sub(1), p.clone()))
            {
                t.parent = None;
            }
        }
        let links: Vec<(usize, String, String)> = territories
            .iter()
            .filter_map(|t| Some((t.rank, t.parent.clone()?, t.code.clone())))
            .collect();
        for t in &mut territories {
            t.children = links
                .iter()
                .filter(|(r, p, _)| *r == t.rank + 1 && *p == t.code)
                .map(|(_, _, c)| c.clone())
                .collect();
        }
        let headline = headline.map(|mut hl| {
            hl.children = territories
                .iter()
                .filter(|t| t.rank == hl.rank + 1 && t.parent.as_deref() == Some(&hl.code))
                .map(|t| t.code.clone())
                .collect();
            hl
        });
        Ctx {
            site,
            indicators,
            headline,
            territories,
            obs,
        }
    }

    /// The released value of an indicator (total when `breakdown` is empty) and its series.
    pub fn obs(
        &self,
        indicator: &str,
        territory: &str,
        period: &str,
        breakdown: &str,
    ) -> Option<(&'a Obs, &'a Series)> {
        self.obs
            .get(&(indicator, territory, period, breakdown))
            .copied()
    }

    /// A territory with a page, by code (the first level holding it).
    pub fn territory(&self, code: &str) -> Option<&Terr> {
        self.territories.iter().find(|t| t.code == code)
    }

    /// The levels of the territories with pages, from the largest.
    pub fn levels(&self) -> Vec<(usize, String)> {
        let mut l: Vec<(usize, String)> = self
            .territories
            .iter()
            .map(|t| (t.rank, t.level.clone()))
            .collect();
        l.dedup();
        l.sort();
        l.dedup();
        l
    }

    /// The file of a page, from the site's root.
    pub fn path(&self, page: &Page, lang: Lang) -> String {
        let prefix = if Some(&lang) == self.site.languages.first() {
            String::new()
        } else {
            format!("{}/", lang.code())
        };
        let w = words::get(lang);
        let rel = match page {
            Page::Home => "index.html".to_string(),
            Page::Indicators => format!("{}/index.html", w.dir_indicators),
            Page::Indicator(id) => format!("{}/{id}.html", w.dir_indicators),
            Page::Territories => format!("{}/index.html", w.dir_territories),
            Page::Territory(slug) => format!("{}/{slug}.html", w.dir_territories),
            Page::Services => w.file_services.to_string(),
            Page::Reports => w.file_reports.to_string(),
            Page::Data => w.file_data.to_string(),
        };
        format!("{prefix}{rel}")
    }

    /// The first language, whose folders hold the files shared by every language.
    fn primary(&self) -> Lang {
        self.site.languages.first().copied().unwrap_or(Lang::It)
    }

    /// The CSV of an indicator's released rows, beside its page in the first language.
    pub fn indicator_csv(&self, id: &str) -> String {
        format!("{}/{id}.csv", words::get(self.primary()).dir_indicators)
    }

    /// Where a report's file is copied.
    pub fn report_file(&self, name: &str) -> String {
        format!("{}/{}", words::get(self.primary()).dir_reports, slug(name))
    }

    /// A link from the file `from` to the file `to` (both from the root): up from `from`'s
    /// folder to the folder they share, then down to `to`.
    pub fn href(from: &str, to: &str) -> String {
        let from_dirs: Vec<&str> = from.split('/').collect();
        let from_dirs = &from_dirs[..from_dirs.len() - 1];
        let to_parts: Vec<&str> = to.split('/').collect();
        let shared = from_dirs
            .iter()
            .zip(&to_parts[..to_parts.len() - 1])
            .take_while(|(a, b)| a == b)
            .count();
        format!(
            "{}{}",
            "../".repeat(from_dirs.len() - shared),
            to_parts[shared..].join("/")
        )
    }
}

/// A file name from a code: ASCII letters, digits, `-`, `_` and `.` kept, the rest `_`.
pub(crate) fn slug(code: &str) -> String {
    let s: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "_".into() } else { s }
}
