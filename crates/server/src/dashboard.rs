//! The dashboard: one page per language (`/it/`, `/en/`) with a small script that reads the
//! API, and its charts and maps drawn here as SVG by `report::chart` from the caller's view.
//!
//! Everything is served by the binary (no CDN, no font or script from elsewhere): the page,
//! `assets/app.js` and `assets/app.css` are compiled in. Every view is a form of native
//! controls, so the dashboard is keyboard-accessible, and every chart comes with its numbers
//! as a table.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use report::chart::{self, ChartOptions, Locale};
use serde::Deserialize;

use crate::api::public::{BenchmarkQuery, NeedsQuery, ServiceQuery, benchmark_of, needs_of};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::{AppState, P, Q, blocking};
use crate::lab::levels_of;

const PAGE: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/it/") }))
        .route("/{lang}/", get(page))
        .route(
            "/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/charts/trend.svg", get(trend))
        .route("/charts/map.svg", get(map))
        .route("/charts/bars.svg", get(bars))
        .route("/charts/funnel.svg", get(funnel))
        .route("/charts/needs.svg", get(needs_map))
        .route("/charts/services.svg", get(services_map))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

async fn page(State(s): State<AppState>, P(lang): P<String>) -> Result<Response, ApiError> {
    let lang = match lang.as_str() {
        "it" | "en" => lang,
        _ => return Err(ApiError::not_found("the dashboard is at /it/ and /en/")),
    };
    let title = &s.lab.project.config.title;
    let (skip, nav, noscript) = if lang == "it" {
        (
            "Vai al contenuto",
            "Sezioni",
            "Il cruscotto ha bisogno di JavaScript; il sito statico e gli open data funzionano senza.",
        )
    } else {
        (
            "Skip to content",
            "Sections",
            "The dashboard needs JavaScript; the static site and the open data work without it.",
        )
    };
    let html = PAGE
        .replace("{{skip}}", skip)
        .replace("{{nav}}", nav)
        .replace("{{noscript}}", noscript)
        .replace("{{lang}}", &lang)
        .replace("{{title}}", &chart::escape_xml(title))
        .replace("{{version}}", env!("CARGO_PKG_VERSION"));
    let mut r = html.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(r)
}

/// The finest level's boundaries, which every map draws.
fn zones(s: &AppState) -> Result<String, ApiError> {
    s.lab
        .zones_geojson
        .clone()
        .ok_or_else(|| ApiError::not_found("the project has no zone boundaries"))
}

fn svg(c: chart::Chart) -> Response {
    let mut r = c.svg.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn chart_err(e: chart::ChartError) -> ApiError {
    ApiError::bad_request(format!("nothing to draw: {e}"))
}

/// The language of a chart's labels and numbers.
#[derive(Deserialize, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    fn locale(self) -> Locale {
        match self {
            Lang::It => Locale::It,
            Lang::En => Locale::En,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    fn pick<'a>(self, it: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::It => it,
            Lang::En => en,
        }
    }
}

/// An indicator's name, unit and the chart options that go with them.
fn options(s: &AppState, indicator: &str, lang: Lang, id: &str, title: String) -> ChartOptions {
    let ind = s.lab.project.indicator(indicator);
    let unit = ind
        .map(|i| i.unit.get(lang.code()).to_string())
        .unwrap_or_default();
    let decimals = if unit.contains('%') || unit.contains("per") {
        1
    } else {
        0
    };
    ChartOptions {
        id: id.into(),
        title,
        unit,
        source: lang
            .pick(
                "datalab, rilasci verificati dal controllo di riservatezza",
                "datalab, releases checked for disclosure",
            )
            .into(),
        locale: lang.locale(),
        decimals,
        ..ChartOptions::default()
    }
}

fn indicator_name(s: &AppState, indicator: &str, lang: Lang) -> String {
    s.lab
        .project
        .indicator(indicator)
        .map_or(indicator.to_string(), |i| {
            i.name.get(lang.code()).to_string()
        })
}

#[derive(Deserialize)]
struct TrendQuery {
    indicator: String,
    /// Territory codes, comma-separated (default: the largest territory released).
    territory: Option<String>,
    #[serde(default)]
    lang: Lang,
}

/// A line chart of an indicator over the periods released, one line per territory, with
/// intervals where released.
async fn trend(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<TrendQuery>,
) -> Result<Response, ApiError> {
    let views = s.lab.views();
    let obs = views.for_role(who.role).obs(&q.indicator)?;
    let mut wanted: Vec<String> = q
        .territory
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    if wanted.is_empty() {
        let levels = levels_of(obs, &s.lab.project.hierarchy);
        if let Some(top) = levels.first()
            && let Some(o) = obs.iter().find(|o| &o.level == top)
        {
            wanted.push(o.territory.clone());
        }
    }
    if wanted.len() > 8 {
        return Err(ApiError::bad_request("at most 8 territories on one chart"));
    }
    let series: Vec<chart::Series> = wanted
        .iter()
        .filter_map(|t| {
            let points: Vec<chart::Point> = obs
                .iter()
                .filter(|o| &o.territory == t && o.breakdown.is_empty())
                .map(|o| chart::Point {
                    x: o.period.clone(),
                    y: o.value,
                    lower: o.lower,
                    upper: o.upper,
                })
                .collect();
            let name = obs
                .iter()
                .find(|o| &o.territory == t)
                .map(|o| o.territory_name.clone())?;
            (!points.is_empty()).then_some(chart::Series {
                label: name,
                points,
            })
        })
        .collect();
    if series.is_empty() {
        return Err(ApiError::bad_request(format!(
            "no released values of `{}` for {}",
            q.indicator,
            wanted.join(", ")
        )));
    }
    let title = indicator_name(&s, &q.indicator, q.lang);
    let opts = ChartOptions {
        include_zero: false,
        ..options(&s, &q.indicator, q.lang, "trend", title)
    };
    chart::line(&series, &opts).map(svg).map_err(chart_err)
}

#[derive(Deserialize)]
struct AtQuery {
    indicator: String,
    level: Option<String>,
    period: Option<String>,
    #[serde(default)]
    lang: Lang,
}

/// The level (default: the finest released) and period (default: the latest released).
fn at(
    s: &AppState,
    obs: &[report::released::Obs],
    level: Option<&String>,
    period: Option<&String>,
) -> (String, String) {
    let levels = levels_of(obs, &s.lab.project.hierarchy);
    let level = level
        .cloned()
        .or_else(|| levels.last().cloned())
        .unwrap_or_default();
    let period = period.cloned().unwrap_or_else(|| {
        obs.iter()
            .map(|o| o.period.clone())
            .max()
            .unwrap_or_default()
    });
    (level, period)
}

/// A choropleth of the zones for one period.
async fn map(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<AtQuery>,
) -> Result<Response, ApiError> {
    let geo = zones(&s)?;
    let views = s.lab.views();
    let obs = views.for_role(who.role).obs(&q.indicator)?;
    let finest = s.lab.project.hierarchy.finest().to_string();
    let (_, period) = at(&s, obs, Some(&finest), q.period.as_ref());
    let values = crate::api::public::values_at(obs, &finest, &period);
    if values.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{}` has no released values by {finest} for {period}",
            q.indicator
        )));
    }
    let title = format!("{}, {period}", indicator_name(&s, &q.indicator, q.lang));
    chart::choropleth(
        &geo,
        &values,
        &options(&s, &q.indicator, q.lang, "map", title),
    )
    .map(svg)
    .map_err(chart_err)
}

/// Bars of the territories of one level for one period, largest first.
async fn bars(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<AtQuery>,
) -> Result<Response, ApiError> {
    let views = s.lab.views();
    let obs = views.for_role(who.role).obs(&q.indicator)?;
    let (level, period) = at(&s, obs, q.level.as_ref(), q.period.as_ref());
    let rows: Vec<&report::released::Obs> = obs
        .iter()
        .filter(|o| o.level == level && o.period == period && o.breakdown.is_empty())
        .collect();
    if rows.is_empty() || rows.len() > 60 {
        return Err(ApiError::bad_request(format!(
            "{} territories at {level} for {period}: bars need 1 to 60",
            rows.len()
        )));
    }
    let names: Vec<String> = rows.iter().map(|o| o.territory_name.clone()).collect();
    let values: Vec<Option<f64>> = rows.iter().map(|o| o.value).collect();
    let title = format!("{}, {period}", indicator_name(&s, &q.indicator, q.lang));
    let opts = ChartOptions {
        sort: chart::Sort::Descending,
        height: 120.0 + 34.0 * rows.len() as f64,
        ..options(&s, &q.indicator, q.lang, "bars", title)
    };
    chart::bars(&names, &values, &opts)
        .map(svg)
        .map_err(chart_err)
}

/// A funnel plot of the benchmark.
async fn funnel(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<AtQuery>,
) -> Result<Response, ApiError> {
    let views = s.lab.views();
    let b = benchmark_of(
        &s,
        views.for_role(who.role),
        &BenchmarkQuery {
            indicator: q.indicator.clone(),
            level: q.level.clone(),
            period: q.period.clone(),
        },
    )?;
    let points: Vec<chart::FunnelPoint> = b
        .rows
        .iter()
        .map(|r| chart::FunnelPoint {
            label: r.name.clone(),
            denominator: r.denominator,
            rate: r.value,
        })
        .collect();
    // The limits each territory was judged by, as curves over the denominators.
    let mut limits: Vec<chart::LimitPoint> = b
        .rows
        .iter()
        .filter_map(|r| {
            Some(chart::LimitPoint {
                denominator: r.denominator,
                lower_95: r.lower95?,
                upper_95: r.upper95?,
                lower_998: r.lower998?,
                upper_998: r.upper998?,
            })
        })
        .collect();
    limits.sort_by(|a, b| a.denominator.total_cmp(&b.denominator));
    let reference = b.rows.first().map_or(f64::NAN, |r| r.reference_value);
    let title = format!(
        "{}, {} ({})",
        indicator_name(&s, &q.indicator, q.lang),
        b.period,
        b.level
    );
    let opts = ChartOptions {
        include_zero: false,
        x_label: q.lang.pick("denominatore", "denominator").into(),
        ..options(&s, &q.indicator, q.lang, "funnel", title)
    };
    chart::funnel(
        &points,
        &chart::Target {
            value: reference,
            limits: chart::Limits::Curves(limits),
        },
        &opts,
    )
    .map(svg)
    .map_err(chart_err)
}

#[derive(Deserialize)]
struct NeedsMapQuery {
    indicator: String,
    period: Option<String>,
    reach_km: Option<f64>,
    #[serde(default)]
    lang: Lang,
}

/// A choropleth of coverage (places per person in need) by zone.
async fn needs_map(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<NeedsMapQuery>,
) -> Result<Response, ApiError> {
    let geo = zones(&s)?;
    let lang = q.lang;
    blocking(move || {
        let views = s.lab.views();
        let n = needs_of(
            &s,
            views.for_role(who.role),
            &NeedsQuery {
                indicator: q.indicator.clone(),
                period: q.period.clone(),
                reach_km: q.reach_km,
            },
        )?;
        let values: BTreeMap<String, Option<f64>> = n
            .rows
            .iter()
            .map(|r| (r.zone.clone(), r.places_per_1000))
            .collect();
        let title = format!(
            "{}: {}, {}",
            lang.pick(
                "Posti ogni 1.000 persone con bisogno",
                "Places per 1,000 people in need"
            ),
            indicator_name(&s, &q.indicator, lang),
            n.period
        );
        let opts = ChartOptions {
            unit: lang.pick("posti per 1.000", "places per 1,000").into(),
            ..options(&s, &q.indicator, lang, "needs", title)
        };
        chart::choropleth(&geo, &values, &opts).map_err(chart_err)
    })
    .await
    .map(svg)
}

/// The services a search finds, on the map of zones, by social risk.
async fn services_map(
    State(s): State<AppState>,
    Q(q): Q<ServiceQuery>,
    Q(l): Q<LangOnly>,
) -> Result<Response, ApiError> {
    let geo = zones(&s)?;
    let q = ServiceQuery {
        limit: Some(q.limit.unwrap_or(100)),
        ..q
    };
    let found = crate::api::public::services(State(s.clone()), Q(q))
        .await?
        .0;
    let services = s.lab.services();
    let points: Vec<chart::MapPoint> = found
        .hits
        .iter()
        .filter_map(|h| {
            let group = services
                .as_ref()
                .and_then(|x| x.records.get(&h.service_id))
                .and_then(|r| r.risks.first())
                .and_then(|c| registry::codes::SocialRisk::from_code(c))
                .map(|r| l.lang.pick(r.label_it(), r.label_en()).to_string())
                .unwrap_or_default();
            Some(chart::MapPoint {
                key: h.service_id.clone(),
                label: format!("{} ({})", h.name, h.organization),
                group,
                lon: h.longitude?,
                lat: h.latitude?,
            })
        })
        .collect();
    let opts = ChartOptions {
        id: "services".into(),
        title: l.lang.pick("Servizi trovati", "Services found").into(),
        locale: l.lang.locale(),
        ..ChartOptions::default()
    };
    chart::point_map(&geo, &points, &opts)
        .map(svg)
        .map_err(chart_err)
}

#[derive(Deserialize)]
struct LangOnly {
    #[serde(default)]
    lang: Lang,
}
