//! The territory hierarchy of `[territory]` in `datalab.toml`: its codelist, the crosswalks of
//! earlier versions of the smallest units and the boundaries.
//!
//! The codelist is a CSV with one row per unit of the finest level and, for every level `L`, a
//! column `L_code` (required) and optionally `L_name`; the finest level's code is the first
//! column (sources' `codelist` checks read the first column).

use crate::config::{TerritoryConfig, is_identifier};
use crate::error::ConfigError;
use crate::text::{closest, error_at};
use model::{Crosswalk, Hierarchy, Territory};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The hierarchy and the boundaries (level, path relative to the project) read from the
/// project's territory files. Mistakes are pushed to `errors`; the hierarchy returned is then
/// as much of it as could be read.
pub(crate) fn load(
    root: &Path,
    project_file: &Path,
    project_text: &str,
    config: &TerritoryConfig,
    errors: &mut Vec<ConfigError>,
) -> (Hierarchy, Vec<(String, String)>) {
    // The config was already parsed; read it again only for the spans of its keys.
    let spans = toml::from_str::<Doc>(project_text)
        .map(|d| d.territory)
        .unwrap_or_default();
    let at = |span: Option<Range<usize>>, key: &str, message: String, hint: Option<String>| {
        error_at(project_file, project_text, span, key, message, hint)
    };
    let levels_span = spans.levels.as_ref().map(|l| l.span());
    let mut levels_ok = true;
    let mut seen = HashSet::new();
    for (i, level) in config.levels.iter().enumerate() {
        let span = spans
            .levels
            .as_ref()
            .and_then(|l| l.get_ref().get(i))
            .map(|l| l.span())
            .or(levels_span.clone());
        if !is_identifier(level) {
            levels_ok = false;
            errors.push(at(
                span,
                "territory.levels",
                format!("`{level}` is not a valid level name"),
                Some("use lowercase letters, digits and `_`, e.g. \"zone\"".into()),
            ));
        } else if !seen.insert(level.as_str()) {
            levels_ok = false;
            errors.push(at(
                span,
                "territory.levels",
                format!("level `{level}` is listed twice"),
                None,
            ));
        }
    }

    let mut hierarchy = Hierarchy::default();
    if let (false, Some(codelist)) = (config.levels.is_empty(), &config.codelist)
        && levels_ok
    {
        let span = spans.codelist.as_ref().map(|c| c.span());
        match read(root, codelist) {
            Err(message) => errors.push(at(
                span,
                "territory.codelist",
                format!("cannot read the codelist: {message}"),
                Some("the path is relative to the project folder".into()),
            )),
            Ok((file, text)) => {
                let before = errors.len();
                let nodes = read_codelist(&file, &text, &config.levels, errors);
                if errors.len() == before && nodes.is_empty() {
                    errors.push(at(
                        span,
                        "territory.codelist",
                        format!("the codelist `{codelist}` lists no units"),
                        Some("one row per unit of the finest level, after the header".into()),
                    ));
                }
                hierarchy = Hierarchy {
                    levels: config.levels.clone(),
                    nodes,
                    history: Vec::new(),
                };
            }
        }
    }
    let have_hierarchy = !hierarchy.nodes.is_empty();

    // History: crosswalks from earlier versions of the finest units, oldest first.
    let finest: BTreeMap<&str, ()> = hierarchy
        .at(hierarchy.levels.len().saturating_sub(1))
        .map(|t| (t.code.as_str(), ()))
        .collect();
    let mut history = Vec::new();
    let mut previous: Option<i32> = None;
    for (i, h) in config.history.iter().enumerate() {
        let sp = spans.history.get(i);
        let key = |k: &str| format!("territory.history[{i}].{k}");
        if h.version.trim().is_empty() {
            errors.push(at(
                sp.map(|s| s.version.span()),
                &key("version"),
                "the version has no name".into(),
                Some("e.g. version = \"zone 2019-2021\"".into()),
            ));
        }
        if let Some(p) = previous
            && h.until <= p
        {
            errors.push(at(
                sp.map(|s| s.until.span()),
                &key("until"),
                format!(
                    "`until = {}` is not after the previous version's `until = {p}`",
                    h.until
                ),
                Some("list the versions oldest first".into()),
            ));
        }
        previous = Some(h.until);
        if !have_hierarchy {
            if config.levels.is_empty() || config.codelist.is_none() {
                errors.push(at(
                    sp.map(|s| s.crosswalk.span()),
                    &key("crosswalk"),
                    "a crosswalk needs a territory hierarchy".into(),
                    Some("declare `territory.levels` and `territory.codelist`".into()),
                ));
            }
            continue;
        }
        match read(root, &h.crosswalk) {
            Err(message) => errors.push(at(
                sp.map(|s| s.crosswalk.span()),
                &key("crosswalk"),
                format!("cannot read the crosswalk: {message}"),
                Some("the path is relative to the project folder".into()),
            )),
            Ok((file, text)) => {
                let before = errors.len();
                let weights = read_crosswalk(&file, &text, &finest, hierarchy.finest(), errors);
                if weights.is_empty() && errors.len() == before {
                    errors.push(at(
                        sp.map(|s| s.crosswalk.span()),
                        &key("crosswalk"),
                        format!("the crosswalk `{}` maps no codes", h.crosswalk),
                        Some("columns old_code,new_code,weight, one row per pair".into()),
                    ));
                }
                history.push(Crosswalk {
                    version: h.version.clone(),
                    until: h.until,
                    weights,
                });
            }
        }
    }
    hierarchy.history = history;

    // Boundaries: one GeoJSON file per level, its level told by its features' codes.
    let mut boundaries: Vec<(String, String)> = Vec::new();
    for (i, rel) in config.boundaries.iter().enumerate() {
        let span = spans.boundaries.get(i).map(|b| b.span());
        if !have_hierarchy {
            if config.levels.is_empty() || config.codelist.is_none() {
                errors.push(at(
                    span,
                    "territory.boundaries",
                    "boundaries need a territory hierarchy".into(),
                    Some("declare `territory.levels` and `territory.codelist`".into()),
                ));
            }
            continue;
        }
        match read(root, rel) {
            Err(message) => errors.push(at(
                span,
                "territory.boundaries",
                format!("cannot read the boundaries: {message}"),
                Some("the path is relative to the project folder".into()),
            )),
            Ok((file, text)) => {
                let Some(level) = boundary_level(&file, &text, &hierarchy, errors) else {
                    continue;
                };
                if let Some((_, other)) = boundaries.iter().find(|(l, _)| *l == level) {
                    errors.push(at(
                        span,
                        "territory.boundaries",
                        format!(
                            "`{rel}` and `{other}` both hold the boundaries of level `{level}`"
                        ),
                        Some("give one file per level".into()),
                    ));
                    continue;
                }
                boundaries.push((level, rel.clone()));
            }
        }
    }
    (hierarchy, boundaries)
}

#[derive(Deserialize, Default)]
struct Doc {
    #[serde(default)]
    territory: Spans,
}

/// `[territory]` with the spans of its values (unknown keys are rejected by the config parser).
#[derive(Deserialize, Default)]
struct Spans {
    levels: Option<Spanned<Vec<Spanned<String>>>>,
    codelist: Option<Spanned<String>>,
    #[serde(default)]
    boundaries: Vec<Spanned<String>>,
    #[serde(default)]
    history: Vec<HistorySpans>,
}

#[derive(Deserialize)]
struct HistorySpans {
    version: Spanned<String>,
    until: Spanned<toml::Value>,
    crosswalk: Spanned<String>,
}

/// A project file's full path and text.
fn read(root: &Path, rel: &str) -> Result<(PathBuf, String), String> {
    let path = root.join(rel);
    std::fs::read_to_string(&path)
        .map(|text| (path, text))
        .map_err(|e| format!("`{rel}`: {}", e.to_string().to_lowercase()))
}

/// A CSV error located in `file`.
fn csv_error(file: &Path, text: &str, e: &csv::Error) -> ConfigError {
    let offset = e.position().map_or(0, |p| p.byte() as usize);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("this row has {len} fields, the header has {expected_len}"),
        _ => e.to_string().to_lowercase(),
    };
    error_at(file, text, Some(offset..offset), "", message, None)
}

/// Byte offset of field `index` of the CSV record starting at `start` (comma-separated).
fn field_start(text: &str, start: usize, index: usize) -> usize {
    if index == 0 {
        return start;
    }
    let mut field = 0;
    let mut quoted = false;
    for (i, c) in text[start..].char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                field += 1;
                if field == index {
                    return start + i + 1;
                }
            }
            '\n' if !quoted => return start + i,
            _ => {}
        }
    }
    text.len()
}

/// A CSV with a header row, as records with the byte offset where each starts.
struct Csv<'a> {
    file: &'a Path,
    text: &'a str,
    header: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl<'a> Csv<'a> {
    fn parse(file: &'a Path, text: &'a str, errors: &mut Vec<ConfigError>) -> Option<Self> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header = match reader.headers() {
            Ok(h) => h
                .iter()
                .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
                .collect(),
            Err(e) => {
                errors.push(csv_error(file, text, &e));
                return None;
            }
        };
        let mut rows = Vec::new();
        for rec in reader.records() {
            match rec {
                Ok(r) => {
                    let start = r.position().map_or(0, |p| p.byte() as usize);
                    rows.push((start, r));
                }
                Err(e) => {
                    errors.push(csv_error(file, text, &e));
                    return None;
                }
            }
        }
        Some(Csv {
            file,
            text,
            header,
            rows,
        })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// An error at field `index` of the row starting at `start` (the header: start 0).
    fn error(
        &self,
        start: usize,
        index: usize,
        key: &str,
        message: String,
        hint: Option<String>,
    ) -> ConfigError {
        let at = field_start(self.text, start, index);
        error_at(self.file, self.text, Some(at..at), key, message, hint)
    }

    fn line(&self, start: usize) -> usize {
        crate::text::line_col(self.text, start).0
    }

    /// The header's column `name`, or an error naming the closest header column.
    fn require(&self, name: &str, why: &str, errors: &mut Vec<ConfigError>) -> Option<usize> {
        let found = self.column(name);
        if found.is_none() {
            let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
            errors.push(self.error(
                0,
                0,
                name,
                format!("no column `{name}` ({why})"),
                Some(match closest(name, &header) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("the header has: {}", header.join(", ")),
                }),
            ));
        }
        found
    }
}

/// The nodes of the hierarchy, level by level, in codelist order within a level.
fn read_codelist(
    file: &Path,
    text: &str,
    levels: &[String],
    errors: &mut Vec<ConfigError>,
) -> Vec<Territory> {
    let Some(csv) = Csv::parse(file, text, errors) else {
        return Vec::new();
    };
    let before = errors.len();
    let columns: Vec<(Option<usize>, Option<usize>)> = levels
        .iter()
        .map(|l| {
            let code = csv.require(
                &format!("{l}_code"),
                &format!("the codes of level `{l}`"),
                errors,
            );
            (code, csv.column(&format!("{l}_name")))
        })
        .collect();
    let finest = levels.len() - 1;
    if columns[finest].0.is_some_and(|c| c != 0) {
        let name = format!("{}_code", levels[finest]);
        errors.push(csv.error(
            0,
            0,
            &name,
            format!(
                "the first column must be `{name}`, the code of the finest level `{}`",
                levels[finest]
            ),
            Some("sources' `codelist` checks read the first column: move it first".into()),
        ));
    }
    if errors.len() > before {
        return Vec::new();
    }
    let columns: Vec<(usize, Option<usize>)> = columns
        .into_iter()
        .map(|(c, n)| (c.unwrap_or(0), n))
        .collect();

    // (level, code) → (index in by_level[level], line first seen, line of the name).
    let mut seen: HashMap<(usize, String), (usize, usize, usize)> = HashMap::new();
    let mut by_level: Vec<Vec<Territory>> = vec![Vec::new(); levels.len()];
    'rows: for (start, rec) in &csv.rows {
        let line = csv.line(*start);
        let field = |i: usize| rec.get(i).map_or("", str::trim);
        for (level, (code_col, _)) in columns.iter().enumerate() {
            if field(*code_col).is_empty() {
                errors.push(csv.error(
                    *start,
                    *code_col,
                    &csv.header[*code_col],
                    format!("empty `{}` code", levels[level]),
                    Some("every row needs the code of its unit at every level".into()),
                ));
                continue 'rows;
            }
        }
        for (level, (code_col, name_col)) in columns.iter().enumerate() {
            let code = field(*code_col);
            let name = name_col.map_or("", field);
            let parent = level.checked_sub(1).map(|p| field(columns[p].0));
            let key = &csv.header[*code_col];
            let id = (level, code.to_string());
            let Some(&(index, first, name_line)) = seen.get(&id) else {
                seen.insert(id, (by_level[level].len(), line, line));
                by_level[level].push(Territory {
                    code: code.to_string(),
                    name: name.to_string(),
                    level,
                    parent: parent.map(String::from),
                });
                continue;
            };
            if level == finest {
                errors.push(csv.error(
                    *start,
                    *code_col,
                    key,
                    format!(
                        "{} `{code}` is listed twice (first on line {first})",
                        levels[level]
                    ),
                    Some("the codelist has one row per unit of the finest level".into()),
                ));
                continue;
            }
            let node = &mut by_level[level][index];
            if let Some(parent) = parent
                && node.parent.as_deref() != Some(parent)
            {
                errors.push(csv.error(
                    *start,
                    *code_col,
                    key,
                    format!(
                        "{} `{code}` is in {} `{parent}` here but in `{}` on line {first}",
                        levels[level],
                        levels[level - 1],
                        node.parent.as_deref().unwrap_or("")
                    ),
                    Some(format!(
                        "a {} belongs to exactly one {}",
                        levels[level],
                        levels[level - 1]
                    )),
                ));
            }
            if name.is_empty() {
                continue;
            }
            if node.name.is_empty() {
                node.name = name.to_string();
                if let Some(s) = seen.get_mut(&id) {
                    s.2 = line;
                }
            } else if node.name != name {
                let col = name_col.unwrap_or(*code_col);
                errors.push(csv.error(
                    *start,
                    col,
                    &csv.header[col],
                    format!(
                        "{} `{code}` is named `{name}` here but `{}` on line {name_line}",
                        levels[level], node.name
                    ),
                    Some("a unit has one name".into()),
                ));
            }
        }
    }
    by_level
        .into_iter()
        .flatten()
        .map(|mut t| {
            if t.name.is_empty() {
                t.name = t.code.clone();
            }
            t
        })
        .collect()
}

/// The weights of a crosswalk CSV (`old_code,new_code,weight`), in file order.
fn read_crosswalk(
    file: &Path,
    text: &str,
    finest: &BTreeMap<&str, ()>,
    finest_name: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<(String, String, f64)> {
    let Some(csv) = Csv::parse(file, text, errors) else {
        return Vec::new();
    };
    let before = errors.len();
    let old = csv.require("old_code", "the codes of the earlier version", errors);
    let new = csv.require("new_code", "the current codes", errors);
    let weight = csv.require("weight", "the share of the old unit in the new one", errors);
    let (Some(old), Some(new), Some(weight)) = (old, new, weight) else {
        return Vec::new();
    };
    let codes: Vec<&str> = finest.keys().copied().collect();
    let mut out = Vec::new();
    // old code → (sum of weights, offset of its first row).
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut pairs: HashMap<(String, String), usize> = HashMap::new();
    for (start, rec) in &csv.rows {
        let field = |i: usize| rec.get(i).map_or("", str::trim);
        let (o, n, w) = (field(old), field(new), field(weight));
        let mut ok = true;
        if o.is_empty() {
            errors.push(csv.error(*start, old, "old_code", "empty code".into(), None));
            ok = false;
        }
        if !finest.contains_key(n) {
            errors.push(
                csv.error(
                    *start,
                    new,
                    "new_code",
                    format!("`{n}` is not a current {finest_name} code"),
                    closest(n, &codes)
                        .map(|c| format!("did you mean `{c}`?"))
                        .or_else(|| Some("new codes are codes of the codelist".into())),
                ),
            );
            ok = false;
        }
        let value = match w.parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 1.0 => v,
            Ok(v) => {
                errors.push(csv.error(
                    *start,
                    weight,
                    "weight",
                    format!("weight {v} is not in (0, 1]"),
                    Some(
                        "a weight is the share of the old unit's population in the new one".into(),
                    ),
                ));
                ok = false;
                0.0
            }
            Err(_) => {
                errors.push(csv.error(
                    *start,
                    weight,
                    "weight",
                    format!("`{w}` is not a number"),
                    Some("write weights with a `.` decimal point, e.g. 0.25".into()),
                ));
                ok = false;
                0.0
            }
        };
        if !ok {
            continue;
        }
        if let Some(first) = pairs.insert((o.to_string(), n.to_string()), csv.line(*start)) {
            errors.push(csv.error(
                *start,
                old,
                "old_code",
                format!("`{o}` → `{n}` is listed twice (first on line {first})"),
                None,
            ));
            continue;
        }
        let entry = sums.entry(o.to_string()).or_insert((0.0, *start));
        entry.0 += value;
        out.push((o.to_string(), n.to_string(), value));
    }
    for (code, (sum, start)) in &sums {
        if (sum - 1.0).abs() > 1e-6 {
            errors.push(csv.error(
                *start,
                old,
                "weight",
                format!("the weights of `{code}` sum to {sum}, not 1"),
                Some("the weights of an old unit split all of its population".into()),
            ));
        }
    }
    if errors.len() > before {
        return Vec::new();
    }
    out
}

/// The level whose codes a GeoJSON file's features carry in `properties.code`.
fn boundary_level(
    file: &Path,
    text: &str,
    hierarchy: &Hierarchy,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    let whole = |key: &str, message: String, hint: Option<String>| ConfigError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        key: key.into(),
        message,
        hint,
    };
    let json: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            errors.push(ConfigError {
                line: e.line(),
                column: e.column(),
                ..whole("", format!("invalid JSON: {message}"), None)
            });
            return None;
        }
    };
    if json.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
        errors.push(whole(
            "type",
            "not a GeoJSON FeatureCollection".into(),
            Some("boundaries are a FeatureCollection with one feature per unit".into()),
        ));
        return None;
    }
    let Some(features) = json.get("features").and_then(|f| f.as_array()) else {
        errors.push(whole(
            "features",
            "the FeatureCollection has no `features` array".into(),
            None,
        ));
        return None;
    };
    // Lines of the `"code":` keys, when there is one per feature.
    let code_keys: Vec<usize> = regex::Regex::new(r#""code"\s*:"#)
        .map(|re| re.find_iter(text).map(|m| m.start()).collect())
        .unwrap_or_default();
    let mut codes: Vec<(usize, &str)> = Vec::new();
    let before = errors.len();
    for (i, f) in features.iter().enumerate() {
        match f.pointer("/properties/code").and_then(|c| c.as_str()) {
            Some(c) => codes.push((i, c)),
            None => errors.push(whole(
                &format!("features[{i}].properties.code"),
                format!("feature {i} has no `properties.code` text"),
                Some("each feature carries the code of its unit, as text".into()),
            )),
        }
    }
    if errors.len() > before {
        return None;
    }
    if codes.is_empty() {
        errors.push(whole(
            "features",
            "the FeatureCollection has no features".into(),
            None,
        ));
        return None;
    }
    let locate = |k: usize, key: String, message: String, hint: Option<String>| {
        let span = (code_keys.len() == codes.len()).then(|| code_keys[k]..code_keys[k]);
        error_at(file, text, span, key, message, hint)
    };
    let counts: Vec<usize> = (0..hierarchy.levels.len())
        .map(|l| {
            codes
                .iter()
                .filter(|(_, c)| hierarchy.get(l, c).is_some())
                .count()
        })
        .collect();
    // The level most codes belong to (the finer one on a tie).
    let level = (0..counts.len())
        .max_by_key(|l| (counts[*l], *l))
        .filter(|l| counts[*l] > 0);
    let Some(level) = level else {
        let all: Vec<&str> = hierarchy.nodes.iter().map(|t| t.code.as_str()).collect();
        let (i, code) = codes[0];
        errors.push(locate(
            0,
            format!("features[{i}].properties.code"),
            format!("no feature code is a code of the hierarchy (feature {i} has `{code}`)"),
            closest(code, &all).map(|c| format!("did you mean `{c}`?")),
        ));
        return None;
    };
    let name = &hierarchy.levels[level];
    let valid: Vec<&str> = hierarchy.at(level).map(|t| t.code.as_str()).collect();
    for (k, (i, code)) in codes.iter().enumerate() {
        if hierarchy.get(level, code).is_none() {
            errors.push(locate(
                k,
                format!("features[{i}].properties.code"),
                format!("feature {i}: `{code}` is not a {name} code (the file's other features are {name}s)"),
                closest(code, &valid)
                    .map(|c| format!("did you mean `{c}`?"))
                    .or_else(|| Some("all features of one file are units of one level".into())),
            ));
        }
    }
    (errors.len() == before).then(|| name.clone())
}

/// The centroid (latitude, longitude) of every feature of a GeoJSON FeatureCollection, keyed by
/// `properties.code`: the area-weighted centroid of its polygons' outer rings (shoelace
/// formula on longitude/latitude, adequate for zones of a city), the mean of the vertices for a
/// ring of no area. Features without a code or a polygon are left out; the boundaries were
/// validated when the project was loaded.
pub fn centroids(geojson: &str) -> BTreeMap<String, (f64, f64)> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(geojson) else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for f in json
        .get("features")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        let Some(code) = f.pointer("/properties/code").and_then(|c| c.as_str()) else {
            continue;
        };
        let coords = f.pointer("/geometry/coordinates");
        let rings: Vec<&serde_json::Value> =
            match f.pointer("/geometry/type").and_then(|t| t.as_str()) {
                Some("Polygon") => coords.and_then(|c| c.get(0)).into_iter().collect(),
                Some("MultiPolygon") => coords
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get(0))
                    .collect(),
                _ => Vec::new(),
            };
        let (mut area, mut cx, mut cy, mut n, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for ring in rings {
            let pts: Vec<(f64, f64)> = ring
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect();
            for w in pts.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let cross = x0 * y1 - x1 * y0;
                area += cross;
                cx += (x0 + x1) * cross;
                cy += (y0 + y1) * cross;
            }
            for &(x, y) in &pts {
                n += 1.0;
                sx += x;
                sy += y;
            }
        }
        if area.abs() > 1e-15 {
            out.insert(code.to_string(), (cy / (3.0 * area), cx / (3.0 * area)));
        } else if n > 0.0 {
            out.insert(code.to_string(), (sy / n, sx / n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::centroids;
    use crate::testing::{check, load};

    const CSV: &str = "territories/zones.csv";

    #[test]
    fn the_codelist_gives_nodes_level_by_level_with_parents_and_names() {
        let p = load(&[]);
        let h = &p.hierarchy;
        assert_eq!(h.levels, ["municipality", "district", "zone"]);
        let nodes: Vec<(usize, &str, &str, Option<&str>)> = h
            .nodes
            .iter()
            .map(|t| {
                (
                    t.level,
                    t.code.as_str(),
                    t.name.as_str(),
                    t.parent.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            nodes,
            [
                (0, "036023", "Modena", None),
                (1, "Q1", "Centro", Some("036023")),
                (1, "Q2", "Nord", Some("036023")),
                (2, "Z01", "Duomo", Some("Q1")),
                (2, "Z02", "Stazione", Some("Q1")),
                (2, "Z03", "Nord", Some("Q2")),
            ]
        );
        assert_eq!(h.paths()["Z03"], ["036023", "Q2", "Z03"]);
    }

    #[test]
    fn names_default_to_codes_and_other_columns_are_ignored() {
        let p = load(&[(
            CSV,
            "zone_code,district_code,population,municipality_code\nZ01,Q1,120,036023\n",
        )]);
        let names: Vec<&str> = p.hierarchy.nodes.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["036023", "Q1", "Z01"]);
    }

    #[test]
    fn without_levels_or_codelist_the_hierarchy_is_empty() {
        let p = load(&[("datalab.toml", "format_version = 1\nname = \"t\"\n")]);
        assert!(p.hierarchy.nodes.is_empty() && p.hierarchy.levels.is_empty());
        let p = load(&[(
            "datalab.toml",
            "format_version = 1\nname = \"t\"\n[territory]\nlevels = [\"zone\"]\n",
        )]);
        assert_eq!(p.hierarchy, model::Hierarchy::default());
    }

    #[test]
    fn a_level_without_its_code_column() {
        check(
            &[(CSV, "zone_code,district,municipality_code\nZ01,Q1,036023\n")],
            &[(
                CSV,
                1,
                "district_code",
                "no column `district_code`",
                "did you mean `district`?",
            )],
        );
    }

    #[test]
    fn the_finest_code_comes_first() {
        check(
            &[(
                CSV,
                "municipality_code,district_code,zone_code\n036023,Q1,Z01\n",
            )],
            &[(
                CSV,
                1,
                "zone_code",
                "the first column must be `zone_code`",
                "first column",
            )],
        );
    }

    #[test]
    fn every_mistake_of_a_codelist_is_reported_with_its_line_and_column() {
        check(
            &[(
                CSV,
                "zone_code,district_code,district_name,municipality_code\n\
                 Z01,Q1,Centro,036023\n\
                 Z02,,Centro,036023\n\
                 Z03,Q1,Centrale,036023\n\
                 Z04,Q1,,036024\n\
                 Z01,Q2,Nord,036023\n",
            )],
            &[
                (CSV, 3, "district_code", "empty `district` code", ""),
                (
                    CSV,
                    4,
                    "district_name",
                    "district `Q1` is named `Centrale` here but `Centro` on line 2",
                    "one name",
                ),
                (
                    CSV,
                    5,
                    "district_code",
                    "district `Q1` is in municipality `036024` here but in `036023` on line 2",
                    "exactly one municipality",
                ),
                (
                    CSV,
                    6,
                    "zone_code",
                    "zone `Z01` is listed twice (first on line 2)",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn columns_are_located_in_the_row() {
        let dir = crate::testing::project(&[(
            CSV,
            "zone_code,district_code,municipality_code\nZ01,,036023\n",
        )]);
        let e = crate::Project::load(dir.path()).unwrap_err();
        assert_eq!(e.config_errors()[0].column, 5);
    }

    #[test]
    fn a_row_of_the_wrong_length() {
        check(
            &[(
                CSV,
                "zone_code,district_code,municipality_code\nZ01,Q1,036023\nZ02,Q1\n",
            )],
            &[(CSV, 3, "", "this row has 2 fields, the header has 3", "")],
        );
    }

    #[test]
    fn a_missing_codelist_is_located_in_the_project_file() {
        check(
            &[(
                "datalab.toml",
                &crate::testing::PROJECT.replace("zones.csv", "zonez.csv"),
            )],
            &[(
                "datalab.toml",
                6,
                "territory.codelist",
                "cannot read the codelist: `territories/zonez.csv`",
                "relative to the project folder",
            )],
        );
    }

    #[test]
    fn unknown_territory_keys_are_errors() {
        check(
            &[(
                "datalab.toml",
                &crate::testing::PROJECT.replace("codelist =", "codelists ="),
            )],
            &[(
                "datalab.toml",
                6,
                "codelists",
                "unknown field `codelists`",
                "did you mean `codelist`?",
            )],
        );
    }

    #[test]
    fn bad_level_names() {
        check(
            &[(
                "datalab.toml",
                &crate::testing::PROJECT
                    .replace("\"district\", \"zone\"", "\"Zone\", \"zone\", \"zone\""),
            )],
            &[
                (
                    "datalab.toml",
                    5,
                    "territory.levels",
                    "`Zone` is not a valid level name",
                    "",
                ),
                (
                    "datalab.toml",
                    5,
                    "territory.levels",
                    "level `zone` is listed twice",
                    "",
                ),
            ],
        );
    }

    const HISTORY: &str = r#"format_version = 1
name = "t"

[territory]
levels = ["municipality", "district", "zone"]
codelist = "territories/zones.csv"

[[territory.history]]
version = "zone 2019"
until = 2019
crosswalk = "territories/cw2019.csv"

[[territory.history]]
version = "zone 2021"
until = 2021
crosswalk = "territories/cw2021.csv"
"#;

    const CW2019: &str = "old_code,new_code,weight\nA1,Z01,0.25\nA1,Z02,0.75\nA2,Z03,1\n";
    const CW2021: &str = "old_code,new_code,weight\nB1,Z01,1\nB2,Z02,0.5\nB2,Z03,0.5\n";

    #[test]
    fn crosswalks_are_kept_oldest_first() {
        let p = load(&[
            ("datalab.toml", HISTORY),
            ("territories/cw2019.csv", CW2019),
            ("territories/cw2021.csv", CW2021),
        ]);
        let h = &p.hierarchy;
        assert_eq!(h.history.len(), 2);
        assert_eq!(h.history[0].version, "zone 2019");
        assert_eq!(h.history[0].until, 2019);
        assert_eq!(
            h.history[0].weights[1],
            ("A1".to_string(), "Z02".to_string(), 0.75)
        );
        assert_eq!(h.crosswalk_for(2020).map(|c| c.until), Some(2021));
        assert_eq!(
            p.config.territory.history[1].crosswalk,
            "territories/cw2021.csv"
        );
    }

    #[test]
    fn crosswalk_rows_map_onto_current_codes_with_weights_summing_to_one() {
        check(
            &[
                ("datalab.toml", HISTORY),
                (
                    "territories/cw2019.csv",
                    "old_code,new_code,weight\nA1,Z01,0.5\nA1,Z09,0.5\nA2,Z03,1.5\nA3,Z03,x\nA4,Z03,0.5\nA4,Z03,0.5\n",
                ),
                ("territories/cw2021.csv", CW2021),
            ],
            &[
                (
                    "territories/cw2019.csv",
                    3,
                    "new_code",
                    "`Z09` is not a current zone code",
                    "did you mean",
                ),
                (
                    "territories/cw2019.csv",
                    4,
                    "weight",
                    "weight 1.5 is not in (0, 1]",
                    "",
                ),
                (
                    "territories/cw2019.csv",
                    5,
                    "weight",
                    "`x` is not a number",
                    "",
                ),
                (
                    "territories/cw2019.csv",
                    7,
                    "old_code",
                    "`A4` → `Z03` is listed twice (first on line 6)",
                    "",
                ),
                (
                    "territories/cw2019.csv",
                    2,
                    "weight",
                    "the weights of `A1` sum to 0.5, not 1",
                    "",
                ),
                (
                    "territories/cw2019.csv",
                    6,
                    "weight",
                    "the weights of `A4` sum to 0.5, not 1",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn crosswalk_versions_go_forward_in_time() {
        check(
            &[
                (
                    "datalab.toml",
                    &HISTORY.replace("until = 2021", "until = 2019"),
                ),
                ("territories/cw2019.csv", CW2019),
                ("territories/cw2021.csv", CW2021),
            ],
            &[(
                "datalab.toml",
                15,
                "territory.history[1].until",
                "`until = 2019` is not after the previous version's `until = 2019`",
                "oldest first",
            )],
        );
    }

    #[test]
    fn crosswalk_files_and_columns_must_exist() {
        check(
            &[
                ("datalab.toml", HISTORY),
                ("territories/cw2021.csv", "old,new_code,weight\nB1,Z01,1\n"),
            ],
            &[
                (
                    "datalab.toml",
                    11,
                    "territory.history[0].crosswalk",
                    "cannot read the crosswalk",
                    "",
                ),
                (
                    "territories/cw2021.csv",
                    1,
                    "old_code",
                    "no column `old_code`",
                    "did you mean `old`?",
                ),
            ],
        );
    }

    #[test]
    fn an_empty_crosswalk() {
        check(
            &[
                ("datalab.toml", HISTORY),
                ("territories/cw2019.csv", CW2019),
                ("territories/cw2021.csv", "old_code,new_code,weight\n"),
            ],
            &[(
                "datalab.toml",
                16,
                "territory.history[1].crosswalk",
                "the crosswalk `territories/cw2021.csv` maps no codes",
                "",
            )],
        );
    }

    #[test]
    fn a_history_without_a_hierarchy() {
        check(
            &[(
                "datalab.toml",
                "format_version = 1\nname = \"t\"\n\n[[territory.history]]\nversion = \"v\"\nuntil = 2019\ncrosswalk = \"cw.csv\"\n",
            )],
            &[(
                "datalab.toml",
                7,
                "territory.history[0].crosswalk",
                "a crosswalk needs a territory hierarchy",
                "",
            )],
        );
    }

    /// A FeatureCollection with one feature per line (feature k on line k + 2).
    fn geojson(codes: &[&str]) -> String {
        let features: Vec<String> = codes
            .iter()
            .map(|c| {
                format!(
                    "{{\"type\":\"Feature\",\"properties\":{{\"code\":\"{c}\",\"name\":\"x\"}},\"geometry\":null}}"
                )
            })
            .collect();
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n",
            features.join(",\n")
        )
    }

    fn with_boundaries(files: &[&str]) -> String {
        let list: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
        format!(
            "{}boundaries = [{}]\n",
            crate::testing::PROJECT,
            list.join(", ")
        )
    }

    #[test]
    fn each_boundary_file_is_of_the_level_of_its_codes() {
        let p = load(&[
            (
                "datalab.toml",
                &with_boundaries(&["territories/d.geojson", "territories/z.geojson"]),
            ),
            ("territories/d.geojson", &geojson(&["Q1", "Q2"])),
            ("territories/z.geojson", &geojson(&["Z03", "Z01", "Z02"])),
        ]);
        assert_eq!(
            p.boundaries,
            [
                ("district".to_string(), "territories/d.geojson".to_string()),
                ("zone".to_string(), "territories/z.geojson".to_string()),
            ]
        );
    }

    #[test]
    fn an_unknown_boundary_code_names_the_feature() {
        check(
            &[
                ("datalab.toml", &with_boundaries(&["territories/z.geojson"])),
                (
                    "territories/z.geojson",
                    &geojson(&["Z01", "Z02", "Z0x", "Q1"]),
                ),
            ],
            &[
                (
                    "territories/z.geojson",
                    4,
                    "features[2].properties.code",
                    "feature 2: `Z0x` is not a zone code",
                    "did you mean",
                ),
                (
                    "territories/z.geojson",
                    5,
                    "features[3].properties.code",
                    "feature 3: `Q1` is not a zone code",
                    "one level",
                ),
            ],
        );
    }

    #[test]
    fn boundaries_are_feature_collections_with_codes_one_file_per_level() {
        check(
            &[
                (
                    "datalab.toml",
                    &with_boundaries(&[
                        "territories/a.geojson",
                        "territories/b.geojson",
                        "territories/c.geojson",
                        "territories/d.geojson",
                        "territories/e.geojson",
                        "territories/missing.geojson",
                    ]),
                ),
                ("territories/a.geojson", "{\"type\":\"Feature\"}"),
                (
                    "territories/b.geojson",
                    "{\"type\":\"FeatureCollection\",\"features\":[{\"properties\":{\"name\":\"x\"}}]}",
                ),
                ("territories/c.geojson", "{\"type\":\n"),
                ("territories/d.geojson", &geojson(&["Z01"])),
                ("territories/e.geojson", &geojson(&["Z02"])),
            ],
            &[
                (
                    "territories/a.geojson",
                    0,
                    "type",
                    "not a GeoJSON FeatureCollection",
                    "",
                ),
                (
                    "territories/b.geojson",
                    0,
                    "features[0].properties.code",
                    "feature 0 has no `properties.code`",
                    "",
                ),
                (
                    "territories/c.geojson",
                    2,
                    "",
                    "invalid JSON: EOF while parsing",
                    "",
                ),
                (
                    "datalab.toml",
                    7,
                    "territory.boundaries",
                    "`territories/e.geojson` and `territories/d.geojson` both hold the boundaries of level `zone`",
                    "one file per level",
                ),
                (
                    "datalab.toml",
                    7,
                    "territory.boundaries",
                    "cannot read the boundaries: `territories/missing.geojson`",
                    "",
                ),
            ],
        );
    }

    #[test]
    fn centroids_of_polygons_by_hand() {
        // an L-shaped zone: squares [0,2]x[0,1] and [0,1]x[1,2] (lon x lat), area 3, centroid
        // ((1*1 + 0.5*1 ... ) by parts: (1, 0.5) with area 2 and (0.5, 1.5) with area 1 ->
        // x = (2 + 0.5) / 3 = 5/6, y = (1 + 1.5) / 3 = 5/6
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"code":"L"},"geometry":{"type":"Polygon","coordinates":
            [[[0,0],[2,0],[2,1],[1,1],[1,2],[0,2],[0,0]]]}},
          {"type":"Feature","properties":{"code":"M"},"geometry":{"type":"MultiPolygon","coordinates":
            [[[[10,10],[11,10],[11,11],[10,11],[10,10]]],[[[12,10],[13,10],[13,11],[12,11],[12,10]]]]}},
          {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}
        ]}"#;
        let c = centroids(text);
        assert_eq!(c.len(), 2, "the feature without a code is left out");
        let (lat, lon) = c["L"];
        assert!((lat - 5.0 / 6.0).abs() < 1e-12 && (lon - 5.0 / 6.0).abs() < 1e-12);
        // two unit squares centred on (10.5, 10.5) and (12.5, 10.5): lon 11.5, lat 10.5
        let (lat, lon) = c["M"];
        assert!((lat - 10.5).abs() < 1e-12 && (lon - 11.5).abs() < 1e-12);
    }
}
