//! Expands a report template: minijinja over Markdown, with functions that draw on the
//! released numbers. Numbers and figures are left in the Markdown as markers (`⟦n3⟧`, a
//! paragraph `⟦b2⟧`) that the HTML and PDF writers replace with their own markup.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, context};

use super::NumberUse;
use super::blocks::{Block, Cell};
use super::locale::{Key, Lang};
use crate::ReportError;
use crate::chart::{self, ChartOptions, Point, Sort};
use crate::released::{Obs, Publication};

/// What a template may draw on.
pub(crate) struct Context<'a> {
    pub project: &'a project::Project,
    pub publication: &'a Publication,
    pub lang: Lang,
    pub year: i32,
    pub territory: Option<String>,
    pub geojson: Option<String>,
}

/// An expanded template.
#[derive(Debug, Clone, Default)]
pub(crate) struct Doc {
    pub markdown: String,
    /// Inline numbers by marker index: (released value, text).
    pub inline: Vec<(Option<f64>, String)>,
    pub blocks: Vec<Block>,
    pub numbers: Vec<NumberUse>,
}

/// The marker of inline number `i`.
pub(crate) fn number_marker(i: usize) -> String {
    format!("⟦n{i}⟧")
}

/// The marker of block `i` (a paragraph of its own).
pub(crate) fn block_marker(i: usize) -> String {
    format!("⟦b{i}⟧")
}

/// Splits text at inline markers: `Ok(text)` pieces and `Err(index)` numbers.
pub(crate) fn split_markers(text: &str) -> Vec<Result<&str, usize>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("⟦n") {
        let after = &rest[start + "⟦n".len()..];
        let Some(end) = after.find('⟧') else { break };
        let Ok(i) = after[..end].parse::<usize>() else {
            break;
        };
        if start > 0 {
            out.push(Ok(&rest[..start]));
        }
        out.push(Err(i));
        rest = &after[end + '⟧'.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Ok(rest));
    }
    out
}

/// The block a paragraph's text stands for, when it is only a block marker.
pub(crate) fn block_of(text: &str) -> Option<usize> {
    text.trim()
        .strip_prefix("⟦b")?
        .strip_suffix('⟧')?
        .parse()
        .ok()
}

struct State {
    publication: Publication,
    indicators: Vec<model::Indicator>,
    hierarchy: model::Hierarchy,
    lang: Lang,
    year: i32,
    territory: Option<String>,
    geojson: Option<String>,
    registry: Option<std::path::PathBuf>,
    doc: Doc,
    charts: usize,
}

type Shared = Arc<Mutex<State>>;

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

impl State {
    fn indicator(&self, id: &str) -> Result<&model::Indicator, Error> {
        if !self.publication.series.iter().any(|s| s.indicator == id) {
            let released = self.publication.indicators().join(", ");
            return Err(err(format!(
                "indicator `{id}` is not in any public release (released: {released})"
            )));
        }
        self.indicators
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| err(format!("indicator `{id}` is released but not declared")))
    }

    /// The city: the node of level `municipality`, else the top node.
    fn city(&self) -> String {
        let h = &self.hierarchy;
        let level = h.level_index("municipality").unwrap_or(0);
        h.nodes
            .iter()
            .find(|n| n.level == level)
            .map(|n| n.code.clone())
            .unwrap_or_default()
    }

    fn name_of(&self, code: &str) -> String {
        self.hierarchy
            .nodes
            .iter()
            .find(|n| n.code == code)
            .map_or_else(|| code.to_string(), |n| n.name.clone())
    }

    /// Whether `code` is `ancestor` or lies inside it.
    fn within(&self, code: &str, ancestor: &str) -> bool {
        let mut cur = Some(code.to_string());
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self
                .hierarchy
                .nodes
                .iter()
                .find(|n| n.code == c)
                .and_then(|n| n.parent.clone());
        }
        false
    }

    /// Codes of a level, inside the report's territory when it has one.
    fn codes_at(&self, level: &str) -> Result<Vec<String>, Error> {
        let idx = self.hierarchy.level_index(level).ok_or_else(|| {
            err(format!(
                "no territory level `{level}` (levels: {})",
                self.hierarchy.levels.join(", ")
            ))
        })?;
        Ok(self
            .hierarchy
            .nodes
            .iter()
            .filter(|n| n.level == idx)
            .filter(|n| {
                self.territory
                    .as_ref()
                    .is_none_or(|t| self.within(&n.code, t))
            })
            .map(|n| n.code.clone())
            .collect())
    }

    fn period(&self, period: Option<minijinja::Value>) -> String {
        period.map_or_else(|| self.year.to_string(), |p| p.to_string())
    }

    /// Decimals for an indicator: none when every released value is whole.
    fn decimals(&self, id: &str) -> usize {
        let whole = self
            .publication
            .series_of(id)
            .flat_map(|s| &s.obs)
            .filter_map(|o| o.value)
            .all(|v| v.fract() == 0.0);
        if whole { 0 } else { 1 }
    }

    fn obs(&self, id: &str, territory: &str, period: &str, breakdown: &str) -> Option<Obs> {
        self.publication
            .obs(id, territory, period, breakdown)
            .cloned()
    }

    fn record(&mut self, id: &str, o: &Obs) {
        self.record_field(id, o, "value");
    }

    fn record_field(&mut self, id: &str, o: &Obs, field: &str) {
        self.doc.numbers.push(NumberUse {
            field: field.to_string(),
            indicator: id.to_string(),
            territory: o.territory.clone(),
            period: o.period.clone(),
            breakdown: o.breakdown.clone(),
            value: o.value,
        });
    }

    fn inline(&mut self, value: Option<f64>, text: String) -> String {
        self.doc.inline.push((value, text));
        number_marker(self.doc.inline.len() - 1)
    }

    fn block(&mut self, block: Block) -> String {
        self.doc.blocks.push(block);
        format!("\n\n{}\n\n", block_marker(self.doc.blocks.len() - 1))
    }

    fn chart_options(&mut self, ind: &model::Indicator, title: String) -> ChartOptions {
        self.charts += 1;
        let lang = self.lang;
        let sources: Vec<String> = self
            .publication
            .series_of(&ind.id)
            .map(|s| s.release.clone())
            .collect();
        ChartOptions {
            id: format!("c{}", self.charts),
            title,
            subtitle: String::new(),
            unit: ind.unit.get(lang.code()).to_string(),
            source: format!(
                "{}, {} {}",
                self.publication
                    .release(sources.last().map_or("", String::as_str))
                    .map_or(String::new(), |r| r.log.title.clone()),
                lang.t(Key::Release).to_lowercase(),
                sources.last().cloned().unwrap_or_default()
            ),
            locale: lang.locale(),
            decimals: self.decimals(&ind.id),
            include_zero: false,
            ..ChartOptions::default()
        }
    }
}

/// Expands `source` (the template at `file`).
pub(crate) fn expand(ctx: &Context, file: &Path, source: &str) -> Result<Doc, ReportError> {
    let registry = ctx.project.root.join(registry::REGISTRY_FILE);
    let state: Shared = Arc::new(Mutex::new(State {
        publication: ctx.publication.clone(),
        indicators: ctx.project.indicators.clone(),
        hierarchy: ctx.project.hierarchy.clone(),
        lang: ctx.lang,
        year: ctx.year,
        territory: ctx.territory.clone(),
        geojson: ctx.geojson.clone(),
        registry: registry.is_file().then_some(registry),
        doc: Doc::default(),
        charts: 0,
    }));
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    register(&mut env, &state);
    let city = state.lock().expect("template state").city();
    let (territory, territory_name) = match &ctx.territory {
        Some(t) => (t.clone(), state.lock().expect("template state").name_of(t)),
        None => (
            city.clone(),
            state.lock().expect("template state").name_of(&city),
        ),
    };
    let name = file.display().to_string();
    let markdown = env
        .render_named_str(
            &name,
            source,
            context! {
                year => ctx.year,
                previous_year => ctx.year - 1,
                lang => ctx.lang.code(),
                city_name => state.lock().expect("template state").name_of(&city),
                city => city,
                territory => territory,
                territory_name => territory_name,
            },
        )
        .map_err(|e| {
            let mut msg = format!("{}:{}: {}", name, e.line().unwrap_or(0), e.kind());
            if let Some(d) = e.detail() {
                msg.push_str(": ");
                msg.push_str(d);
            }
            ReportError::Input(msg)
        })?;
    drop(env);
    let mut st = Arc::try_unwrap(state)
        .map_err(|_| ReportError::Input("template state still shared".into()))?
        .into_inner()
        .expect("template state");
    st.doc.markdown = markdown;
    Ok(st.doc)
}

fn register(env: &mut Environment<'_>, state: &Shared) {
    let s = state.clone();
    env.add_function(
        "value",
        move |id: String, kwargs: Kwargs| -> Result<String, Error> {
            let mut st = s.lock().expect("template state");
            let territory: Option<String> = kwargs.get("territory")?;
            let period: Option<minijinja::Value> = kwargs.get("period")?;
            let breakdown: Option<String> = kwargs.get("breakdown")?;
            let decimals: Option<usize> = kwargs.get("decimals")?;
            let bound: Option<String> = kwargs.get("bound")?;
            kwargs.assert_all_used()?;
            st.indicator(&id)?;
            let territory = territory
                .or_else(|| st.territory.clone())
                .unwrap_or_else(|| st.city());
            let period = st.period(period);
            let breakdown = breakdown.unwrap_or_default();
            let o = st
                .obs(&id, &territory, &period, &breakdown)
                .ok_or_else(|| {
                    err(format!(
                        "no released value of `{id}` for territory `{territory}`, period \
                     `{period}`{}",
                        if breakdown.is_empty() {
                            String::new()
                        } else {
                            format!(", breakdown `{breakdown}`")
                        }
                    ))
                })?;
            let value = match bound.as_deref() {
                None => o.value,
                Some("lower") => o.lower,
                Some("upper") => o.upper,
                Some(b) => return Err(err(format!("bound must be `lower` or `upper`, not `{b}`"))),
            };
            let o = Obs { value, ..o };
            st.record_field(&id, &o, bound.as_deref().unwrap_or("value"));
            let decimals = decimals.unwrap_or_else(|| st.decimals(&id));
            let text = match o.value {
                Some(v) => st.lang.number(v, decimals),
                None => "–".to_string(),
            };
            Ok(st.inline(o.value, text))
        },
    );
    let s = state.clone();
    env.add_function("name", move |id: String| -> Result<String, Error> {
        let st = s.lock().expect("template state");
        let lang = st.lang;
        Ok(st.indicator(&id)?.name.get(lang.code()).to_string())
    });
    let s = state.clone();
    env.add_function("unit", move |id: String| -> Result<String, Error> {
        let st = s.lock().expect("template state");
        let lang = st.lang;
        Ok(st.indicator(&id)?.unit.get(lang.code()).to_string())
    });
    let s = state.clone();
    env.add_function(
        "territory_name",
        move |code: String| -> Result<String, Error> {
            Ok(s.lock().expect("template state").name_of(&code))
        },
    );
    let s = state.clone();
    env.add_function(
        "territories",
        move |level: String| -> Result<Vec<String>, Error> {
            s.lock().expect("template state").codes_at(&level)
        },
    );
    let s = state.clone();
    env.add_function(
        "trend",
        move |id: String, kwargs: Kwargs| -> Result<String, Error> {
            let mut st = s.lock().expect("template state");
            let level: Option<String> = kwargs.get("level")?;
            let title: Option<String> = kwargs.get("title")?;
            kwargs.assert_all_used()?;
            let ind = st.indicator(&id)?.clone();
            let city = st.city();
            let mut codes = vec![city.clone()];
            if let Some(t) = st.territory.clone()
                && t != city
            {
                codes.push(t);
            }
            if let Some(level) = level {
                for c in st.codes_at(&level)? {
                    if !codes.contains(&c) {
                        codes.push(c);
                    }
                }
            }
            let periods = st.publication.periods(&id);
            let mut series = Vec::new();
            for code in &codes {
                let mut points = Vec::new();
                for p in &periods {
                    if let Some(o) = st.obs(&id, code, p, "") {
                        st.record(&id, &o);
                        points.push(Point {
                            lower: o.lower,
                            upper: o.upper,
                            ..Point::new(p.clone(), o.value)
                        });
                    }
                }
                if !points.is_empty() {
                    series.push(chart::Series {
                        label: st.name_of(code),
                        points,
                    });
                }
            }
            let lang = st.lang;
            let title = title.unwrap_or_else(|| {
                format!(
                    "{}, {}–{}",
                    ind.name.get(lang.code()),
                    periods.first().cloned().unwrap_or_default(),
                    periods.last().cloned().unwrap_or_default()
                )
            });
            let opts = st.chart_options(&ind, title);
            let c = chart::line(&series, &opts).map_err(|e| err(e.to_string()))?;
            Ok(st.block(Block::Chart(c)))
        },
    );
    let s = state.clone();
    env.add_function(
        "map",
        move |id: String, kwargs: Kwargs| -> Result<String, Error> {
            let mut st = s.lock().expect("template state");
            let period: Option<minijinja::Value> = kwargs.get("period")?;
            let title: Option<String> = kwargs.get("title")?;
            kwargs.assert_all_used()?;
            let ind = st.indicator(&id)?.clone();
            let period = st.period(period);
            let Some(geojson) = st.geojson.clone() else {
                return Err(err(
                    "the project declares no boundaries for its finest level: no map",
                ));
            };
            let finest = st.hierarchy.levels.last().cloned().unwrap_or_default();
            let codes = st.codes_at(&finest)?;
            let mut values = BTreeMap::new();
            for code in &codes {
                if let Some(o) = st.obs(&id, code, &period, "") {
                    st.record(&id, &o);
                    values.insert(code.clone(), o.value);
                }
            }
            let geojson = match &st.territory {
                Some(_) => keep_features(&geojson, &codes),
                None => geojson,
            };
            let lang = st.lang;
            let title = title.unwrap_or_else(|| format!("{}, {period}", ind.name.get(lang.code())));
            let opts = st.chart_options(&ind, title);
            let c = chart::choropleth(&geojson, &values, &opts).map_err(|e| err(e.to_string()))?;
            Ok(st.block(Block::Chart(c)))
        },
    );
    let s = state.clone();
    env.add_function(
        "ranking",
        move |id: String, kwargs: Kwargs| -> Result<String, Error> {
            let mut st = s.lock().expect("template state");
            let level: Option<String> = kwargs.get("level")?;
            let period: Option<minijinja::Value> = kwargs.get("period")?;
            let title: Option<String> = kwargs.get("title")?;
            kwargs.assert_all_used()?;
            let ind = st.indicator(&id)?.clone();
            let period = st.period(period);
            let codes = st.codes_at(level.as_deref().unwrap_or("district"))?;
            let (mut names, mut values) = (Vec::new(), Vec::new());
            for code in &codes {
                if let Some(o) = st.obs(&id, code, &period, "") {
                    st.record(&id, &o);
                    names.push(st.name_of(code));
                    values.push(o.value);
                }
            }
            let lang = st.lang;
            let title = title.unwrap_or_else(|| format!("{}, {period}", ind.name.get(lang.code())));
            let mut opts = st.chart_options(&ind, title);
            opts.sort = Sort::Descending;
            opts.height = 150.0 + 30.0 * names.len() as f64;
            let c = chart::bars(&names, &values, &opts).map_err(|e| err(e.to_string()))?;
            Ok(st.block(Block::Chart(c)))
        },
    );
    let s = state.clone();
    env.add_function(
        "table",
        move |id: String, kwargs: Kwargs| -> Result<String, Error> {
            let mut st = s.lock().expect("template state");
            let level: Option<String> = kwargs.get("level")?;
            let period: Option<minijinja::Value> = kwargs.get("period")?;
            let caption: Option<String> = kwargs.get("caption")?;
            kwargs.assert_all_used()?;
            let ind = st.indicator(&id)?.clone();
            let period = st.period(period);
            let codes = st.codes_at(level.as_deref().unwrap_or("zone"))?;
            let lang = st.lang;
            let decimals = st.decimals(&id);
            let mut rows = Vec::new();
            let mut intervals = false;
            for code in &codes {
                let Some(o) = st.obs(&id, code, &period, "") else {
                    continue;
                };
                st.record(&id, &o);
                intervals |= o.lower.is_some();
                let num = |v: Option<f64>| Cell::Number {
                    value: v,
                    text: v.map_or("–".into(), |v| lang.number(v, decimals)),
                };
                let interval = match (o.lower, o.upper) {
                    (Some(l), Some(u)) => Cell::Text(format!(
                        "{} – {}",
                        lang.number(l, decimals),
                        lang.number(u, decimals)
                    )),
                    _ => Cell::Text(String::new()),
                };
                rows.push(vec![
                    Cell::Text(o.territory_name.clone()),
                    num(o.value),
                    interval,
                    Cell::Text(lang.flag(&o.flag)),
                ]);
            }
            let mut header = vec![
                lang.t(Key::Territory).to_string(),
                format!("{} ({})", lang.t(Key::Value), ind.unit.get(lang.code())),
                lang.t(Key::Interval).to_string(),
                lang.t(Key::Note).to_string(),
            ];
            if !intervals {
                header.remove(2);
                for r in &mut rows {
                    r.remove(2);
                }
            }
            let caption =
                caption.unwrap_or_else(|| format!("{}, {period}", ind.name.get(lang.code())));
            Ok(st.block(Block::Table {
                caption,
                header,
                rows,
                note: Some(lang.t(Key::HiddenNote).to_string()),
            }))
        },
    );
    let s = state.clone();
    env.add_function("registry", move || -> Result<String, Error> {
        let mut st = s.lock().expect("template state");
        let block = registry_block(&st)?;
        Ok(st.block(block))
    });
}

/// Keeps the features of `codes` in a GeoJSON FeatureCollection (a district's zones).
fn keep_features(geojson: &str, codes: &[String]) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(geojson) else {
        return geojson.to_string();
    };
    if let Some(features) = v.get_mut("features").and_then(|f| f.as_array_mut()) {
        features.retain(|f| {
            let props = &f["properties"];
            ["code", "zone", "id"].iter().any(|k| {
                props[k]
                    .as_str()
                    .is_some_and(|c| codes.iter().any(|x| x == c))
            }) || f["id"]
                .as_str()
                .is_some_and(|c| codes.iter().any(|x| x == c))
        });
    }
    v.to_string()
}

/// Services, places and operators by social risk, from the registry (organizations and what
/// they offer: public facts, no person's data).
fn registry_block(st: &State) -> Result<Block, Error> {
    use registry::codes::SocialRisk;
    use registry::supply::SupplyFilter;
    let lang = st.lang;
    let Some(path) = &st.registry else {
        return Err(err(
            "the project has no registry (registry.sqlite): import one with `datalab registry \
             import`",
        ));
    };
    let reg = registry::Registry::open(path).map_err(|e| err(e.to_string()))?;
    let as_of = chrono::NaiveDate::from_ymd_opt(st.year, 12, 31);
    let mut rows = Vec::new();
    let (mut ts, mut tp, mut to) = (0usize, 0u64, 0.0f64);
    for risk in SocialRisk::ALL {
        let points = reg
            .supply(&SupplyFilter {
                risks: vec![*risk],
                target_groups: Vec::new(),
                as_of,
            })
            .map_err(|e| err(e.to_string()))?;
        let points: Vec<_> = points
            .into_iter()
            .filter(|p| match (&st.territory, &p.zone) {
                (None, _) => true,
                (Some(t), Some(z)) => st.within(z, t),
                (Some(_), None) => false,
            })
            .collect();
        let mut services: Vec<&str> = points.iter().map(|p| p.service_id.as_str()).collect();
        services.sort_unstable();
        services.dedup();
        let places: u64 = points.iter().filter_map(|p| p.places).map(u64::from).sum();
        let operators: f64 = points.iter().map(|p| p.operators).sum();
        ts += services.len();
        tp += places;
        to += operators;
        let label = match lang {
            Lang::It => risk.label_it(),
            Lang::En => risk.label_en(),
        };
        rows.push(vec![
            Cell::Text(label.to_string()),
            Cell::Text(lang.number(services.len() as f64, 0)),
            Cell::Text(lang.number(places as f64, 0)),
            Cell::Text(lang.number(operators, 0)),
        ]);
    }
    rows.push(vec![
        Cell::Text(lang.t(Key::Total).to_string()),
        Cell::Text(lang.number(ts as f64, 0)),
        Cell::Text(lang.number(tp as f64, 0)),
        Cell::Text(lang.number(to, 0)),
    ]);
    Ok(Block::Table {
        caption: lang.t(Key::RegistryCaption).to_string(),
        header: vec![
            lang.t(Key::Risk).to_string(),
            lang.t(Key::Services).to_string(),
            lang.t(Key::Places).to_string(),
            lang.t(Key::Operators).to_string(),
        ],
        rows,
        note: Some(match lang {
            Lang::It => "Un servizio che risponde a più rischi è contato in ciascuno; il totale conta ogni servizio per ogni rischio.".into(),
            Lang::En => "A service addressing several risks counts in each; the total counts every service once per risk.".into(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_split_and_parse() {
        let text = format!("A {} and {}.", number_marker(3), number_marker(12));
        assert_eq!(
            split_markers(&text),
            vec![Ok("A "), Err(3), Ok(" and "), Err(12), Ok(".")]
        );
        assert_eq!(split_markers("plain"), vec![Ok("plain")]);
        assert_eq!(block_of(&format!(" {} ", block_marker(7))), Some(7));
        assert_eq!(block_of("⟦b7⟧ text"), None);
    }
}
