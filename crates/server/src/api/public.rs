//! What anyone may read: territories, released indicators and their cube, benchmarks, needs
//! against supply, the services registry, releases and reports. Each answer is built from the
//! caller's view (public releases for the public), never from the warehouse.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::Action;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::http::{AppState, P, Q, blocking};
use crate::lab::{PublicService, View, levels_of};
use report::released::Obs;

/// The most rows one page of the cube holds.
pub const MAX_LIMIT: usize = 1000;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub version: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The server is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

// ---------------------------------------------------------------------------------------------
// territories

#[derive(Serialize, ToSchema)]
pub struct Territories {
    /// Level names from the largest (the city) to the finest (zones).
    pub levels: Vec<String>,
    pub territories: Vec<TerritoryItem>,
}

#[derive(Serialize, ToSchema)]
pub struct TerritoryItem {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
}

/// The territory hierarchy: levels and every territory with its parent.
#[utoipa::path(get, path = "/api/territories", tag = "territories",
    responses((status = 200, body = Territories)))]
pub async fn territories(State(s): State<AppState>) -> Json<Territories> {
    let h = &s.lab.project.hierarchy;
    Json(Territories {
        levels: h.levels.clone(),
        territories: h
            .nodes
            .iter()
            .map(|t| TerritoryItem {
                code: t.code.clone(),
                name: t.name.clone(),
                level: h.levels.get(t.level).cloned().unwrap_or_default(),
                parent: t.parent.clone(),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// indicators

#[derive(Serialize, ToSchema)]
pub struct IndicatorInfo {
    pub id: String,
    pub name_it: String,
    pub name_en: String,
    pub description_it: String,
    pub description_en: String,
    pub unit_it: String,
    pub unit_en: String,
    /// `higher_is_better`, `lower_is_better` or `neutral`.
    pub direction: String,
    pub topics: Vec<String>,
    /// Levels with released values, largest first.
    pub levels: Vec<String>,
    /// Released periods, oldest first.
    pub periods: Vec<String>,
    /// Released breakdowns, each a list of dimensions (`[]` is the total).
    pub breakdowns: Vec<Vec<String>>,
    /// Whether the indicator counts a need that services answer (needs vs supply).
    pub need: bool,
    /// Whether values carry a numerator and a denominator (funnel plots need them).
    pub has_denominator: bool,
    /// The releases its values come from.
    pub releases: Vec<String>,
}

fn info(s: &AppState, view: &View, id: &str) -> Result<IndicatorInfo, ApiError> {
    let obs = view.obs(id)?;
    let ind = s.lab.project.indicator(id);
    let text = |f: &dyn Fn(&model::Indicator) -> &model::Text, lang: &str| {
        ind.map(|i| f(i).get(lang).to_string()).unwrap_or_default()
    };
    let breakdowns: BTreeSet<Vec<String>> = obs.iter().map(|o| dims(&o.breakdown)).collect();
    let periods: BTreeSet<&str> = obs.iter().map(|o| o.period.as_str()).collect();
    let releases: BTreeSet<&str> = view
        .publication
        .series_of(id)
        .map(|x| x.release.as_str())
        .collect();
    Ok(IndicatorInfo {
        id: id.to_string(),
        name_it: text(&|i| &i.name, "it"),
        name_en: text(&|i| &i.name, "en"),
        description_it: text(&|i| &i.description, "it"),
        description_en: text(&|i| &i.description, "en"),
        unit_it: text(&|i| &i.unit, "it"),
        unit_en: text(&|i| &i.unit, "en"),
        direction: ind.map_or("neutral".into(), |i| {
            serde_json::to_value(i.direction)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "neutral".into())
        }),
        topics: ind.map(|i| i.topics.clone()).unwrap_or_default(),
        levels: levels_of(obs, &s.lab.project.hierarchy),
        periods: periods.into_iter().map(str::to_string).collect(),
        breakdowns: breakdowns.into_iter().collect(),
        need: ind.is_some_and(|i| i.need.is_some()),
        has_denominator: obs.iter().any(|o| o.denominator.is_some()),
        releases: releases.into_iter().map(str::to_string).collect(),
    })
}

/// The dimensions of a canonical breakdown key (`age_band=65+|sex=F` → `[age_band, sex]`).
fn dims(key: &str) -> Vec<String> {
    if key.is_empty() {
        return Vec::new();
    }
    key.split('|')
        .map(|p| p.split('=').next().unwrap_or(p).to_string())
        .collect()
}

/// The released indicators the caller may read, with their metadata.
#[utoipa::path(get, path = "/api/indicators", tag = "indicators",
    responses((status = 200, body = [IndicatorInfo])))]
pub async fn indicators(
    State(s): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<IndicatorInfo>>, ApiError> {
    let views = s.lab.views();
    let view = views.for_role(who.role);
    view.cube
        .keys()
        .map(|id| info(&s, view, id))
        .collect::<Result<_, _>>()
        .map(Json)
}

/// One released indicator's metadata.
#[utoipa::path(get, path = "/api/indicators/{id}", tag = "indicators",
    params(("id" = String, Path, description = "The indicator's id")),
    responses((status = 200, body = IndicatorInfo), (status = 404, body = ErrorBody)))]
pub async fn indicator(
    State(s): State<AppState>,
    who: Principal,
    P(id): P<String>,
) -> Result<Json<IndicatorInfo>, ApiError> {
    let views = s.lab.views();
    info(&s, views.for_role(who.role), &id).map(Json)
}

// ---------------------------------------------------------------------------------------------
// the cube

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CubeQuery {
    /// The indicator's id.
    pub indicator: String,
    /// A territory level (`city`, `district`, `zone`); every level when omitted.
    pub level: Option<String>,
    /// Territory codes, comma-separated; every territory when omitted.
    pub territory: Option<String>,
    /// Periods, comma-separated (`2023,2024`); every period when omitted.
    pub period: Option<String>,
    /// Breakdown dimensions, comma-separated (`sex`, `age_band,sex`); the totals when omitted,
    /// every breakdown with `*`.
    pub by: Option<String>,
    /// Rows per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Rows skipped (default 0).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<usize>,
    /// `json` (default) or `csv` (the whole selection, no paging).
    #[param(inline)]
    pub format: Option<CubeFormat>,
}

/// How the cube answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CubeFormat {
    #[default]
    Json,
    Csv,
}

#[derive(Serialize, ToSchema)]
pub struct CubeRow {
    pub level: String,
    pub territory: String,
    pub territory_name: String,
    pub period: String,
    /// The canonical breakdown key (`sex=F`, dimensions sorted, `|`-separated; empty for the
    /// total).
    pub breakdown: String,
    /// `null` when the disclosure gate hid the value (see `flag` and `rule`).
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `suppressed`, `rounded`, `perturbed`, `noisy` or empty.
    pub flag: String,
    /// The disclosure rule that acted on the value.
    pub rule: String,
}

#[derive(Serialize, ToSchema)]
pub struct CubePage {
    pub indicator: String,
    /// Rows matching the selection.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// The offset of the next page, `null` on the last one.
    pub next_offset: Option<usize>,
    pub rows: Vec<CubeRow>,
}

fn row(o: &Obs) -> CubeRow {
    CubeRow {
        level: o.level.clone(),
        territory: o.territory.clone(),
        territory_name: o.territory_name.clone(),
        period: o.period.clone(),
        breakdown: o.breakdown.clone(),
        value: o.value,
        lower: o.lower,
        upper: o.upper,
        numerator: o.numerator,
        denominator: o.denominator,
        flag: o.flag.clone(),
        rule: o.rule.clone(),
    }
}

fn list(param: Option<&str>) -> Option<BTreeSet<&str>> {
    param
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect()
        })
        .filter(|s: &BTreeSet<&str>| !s.is_empty())
}

/// Refuses a level the territory hierarchy does not have (the OpenAPI document served lists
/// the project's levels).
fn check_level(hierarchy: &model::Hierarchy, level: &str) -> Result<(), ApiError> {
    if hierarchy.levels.iter().any(|l| l == level) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "level `{level}`: use one of {}",
            hierarchy.levels.join(", ")
        )))
    }
}

/// Selects released values of one indicator.
pub fn select<'a>(
    view: &'a View,
    hierarchy: &model::Hierarchy,
    q: &CubeQuery,
) -> Result<Vec<&'a Obs>, ApiError> {
    let obs = view.obs(&q.indicator)?;
    if let Some(l) = &q.level {
        check_level(hierarchy, l)?;
        if !obs.iter().any(|o| &o.level == l) {
            return Err(ApiError::not_found(format!(
                "level `{l}`: `{}` is released at {}",
                q.indicator,
                levels_of(obs, hierarchy).join(", ")
            )));
        }
    }
    let territories = list(q.territory.as_deref());
    let periods = list(q.period.as_deref());
    let by = q.by.as_deref().map(str::trim);
    let wanted: Option<BTreeSet<String>> = match by {
        Some("*") => None,
        None | Some("") => Some(BTreeSet::new()),
        Some(b) => Some(b.split(',').map(|d| d.trim().to_string()).collect()),
    };
    Ok(obs
        .iter()
        .filter(|o| q.level.as_ref().is_none_or(|l| &o.level == l))
        .filter(|o| {
            territories
                .as_ref()
                .is_none_or(|t| t.contains(o.territory.as_str()))
        })
        .filter(|o| {
            periods
                .as_ref()
                .is_none_or(|p| p.contains(o.period.as_str()))
        })
        .filter(|o| {
            wanted
                .as_ref()
                .is_none_or(|w| dims(&o.breakdown).into_iter().collect::<BTreeSet<_>>() == *w)
        })
        .collect())
}

/// Released values of an indicator by territory level, territory, period and breakdown, in
/// pages; hidden values are `null` with the rule that hid them.
#[utoipa::path(get, path = "/api/cube", tag = "indicators", params(CubeQuery),
    responses(
        (status = 200, description = "A page of the selection (JSON), or all of it as CSV \
            (format=csv)", content(
            (CubePage = "application/json"),
            (String = "text/csv"))),
        (status = 400, description = "A parameter is malformed or out of range", body = ErrorBody),
        (status = 404, description = "The indicator is not released to the caller, or not at \
            that level", body = ErrorBody)))]
pub async fn cube(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<CubeQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: use 1 to {MAX_LIMIT}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    let views = s.lab.views();
    let rows = select(views.for_role(who.role), &s.lab.project.hierarchy, &q)?;
    match q.format.unwrap_or_default() {
        CubeFormat::Json => {
            let total = rows.len();
            let page: Vec<CubeRow> = rows
                .iter()
                .skip(offset)
                .take(limit)
                .map(|o| row(o))
                .collect();
            let next = (offset + page.len() < total).then_some(offset + page.len());
            Ok(Json(CubePage {
                indicator: q.indicator.clone(),
                total,
                offset,
                limit,
                next_offset: next,
                rows: page,
            })
            .into_response())
        }
        CubeFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "indicator",
                "territory_level",
                "territory",
                "territory_name",
                "period",
                "breakdown",
                "value",
                "lower",
                "upper",
                "numerator",
                "denominator",
                "flag",
                "rule",
            ])
            .map_err(ApiError::internal)?;
            let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            for o in rows {
                w.write_record([
                    q.indicator.as_str(),
                    &o.level,
                    &o.territory,
                    &o.territory_name,
                    &o.period,
                    &o.breakdown,
                    &num(o.value),
                    &num(o.lower),
                    &num(o.upper),
                    &num(o.numerator),
                    &num(o.denominator),
                    &o.flag,
                    &o.rule,
                ])
                .map_err(ApiError::internal)?;
            }
            let bytes = w.into_inner().map_err(ApiError::internal)?;
            Ok(download(
                bytes,
                "text/csv; charset=utf-8",
                &format!("{}.csv", q.indicator),
            ))
        }
    }
}

fn download(bytes: Vec<u8>, content_type: &str, file: &str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("content type"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// benchmarks

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BenchmarkQuery {
    pub indicator: String,
    /// The level compared (default: the finest level released).
    pub level: Option<String>,
    /// The period (default: the latest released).
    pub period: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BenchmarkRow {
    pub territory: String,
    pub name: String,
    /// The territory compared against (the one containing it, a level up).
    pub reference: String,
    pub reference_value: f64,
    pub value: f64,
    pub numerator: f64,
    pub denominator: f64,
    /// 1 = best, by the indicator's direction.
    pub rank: usize,
    pub difference: f64,
    pub z: Option<f64>,
    pub lower95: Option<f64>,
    pub upper95: Option<f64>,
    pub lower998: Option<f64>,
    pub upper998: Option<f64>,
    /// `above_high`, `above`, `within`, `below` or `below_low`.
    pub flag: String,
}

#[derive(Serialize, ToSchema)]
pub struct Benchmark {
    pub indicator: String,
    pub level: String,
    pub period: String,
    pub rows: Vec<BenchmarkRow>,
    /// Territories left out because the gate hid their value.
    pub hidden: Vec<String>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Resolves the level (default: the finest released) and period (default: the latest).
fn level_period(
    obs: &[Obs],
    s: &AppState,
    level: Option<&String>,
    period: Option<&String>,
) -> Result<(String, String), ApiError> {
    let levels = levels_of(obs, &s.lab.project.hierarchy);
    let level = match level {
        Some(l) if levels.contains(l) => l.clone(),
        Some(l) => {
            check_level(&s.lab.project.hierarchy, l)?;
            return Err(ApiError::not_found(format!(
                "level `{l}` is not released (released: {})",
                levels.join(", ")
            )));
        }
        None => levels.last().cloned().unwrap_or_default(),
    };
    let periods: BTreeSet<&str> = obs.iter().map(|o| o.period.as_str()).collect();
    let period = match period {
        Some(p) if periods.contains(p.as_str()) => p.clone(),
        Some(p) => {
            return Err(ApiError::not_found(format!(
                "period `{p}` is not released (released: {})",
                periods.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        None => periods.last().map(|p| p.to_string()).unwrap_or_default(),
    };
    Ok((level, period))
}

/// Benchmark data: each territory of a level against the territory above it, with funnel-plot
/// limits at 95% and 99.8% (Spiegelhalter 2005), from released values only.
pub fn benchmark_of(s: &AppState, view: &View, q: &BenchmarkQuery) -> Result<Benchmark, ApiError> {
    let obs = view.obs(&q.indicator)?;
    let (level, period) = level_period(obs, s, q.level.as_ref(), q.period.as_ref())?;
    let ind = s.lab.project.indicator(&q.indicator).ok_or_else(|| {
        ApiError::not_found(format!("indicator `{}` is not defined", q.indicator))
    })?;
    let mut hidden = Vec::new();
    let cells: Vec<indicators::compare::Cell> = obs
        .iter()
        .filter(|o| o.period == period && o.breakdown.is_empty())
        .filter(|o| {
            let shown = o.value.is_some() && o.flag != "suppressed";
            if !shown && o.level == level {
                hidden.push(o.territory.clone());
            }
            shown
        })
        .map(|o| indicators::compare::Cell {
            territory: o.territory.clone(),
            level: o.level.clone(),
            numerator: o.numerator,
            denominator: o.denominator,
            value: o.value,
        })
        .collect();
    let h = &s.lab.project.hierarchy;
    // The level and the indicator were checked above: what is left (the top level, which has
    // nothing above it; an indicator without a denominator) means no such benchmark exists.
    let compared = indicators::compare::benchmark(ind, h, &cells, &level, None)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let rows = compared
        .into_iter()
        .map(|b| BenchmarkRow {
            territory: b.territory,
            name: b.name,
            reference: b.reference,
            reference_value: b.reference_value,
            value: b.comparison.value,
            numerator: b.numerator,
            denominator: b.denominator,
            rank: b.comparison.rank,
            difference: b.comparison.difference,
            z: finite(b.comparison.z),
            lower95: finite(b.comparison.lower95),
            upper95: finite(b.comparison.upper95),
            lower998: finite(b.comparison.lower998),
            upper998: finite(b.comparison.upper998),
            flag: serde_json::to_value(b.comparison.flag)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        })
        .collect();
    Ok(Benchmark {
        indicator: q.indicator.clone(),
        level,
        period,
        rows,
        hidden,
    })
}

/// Compares territories on a released indicator with funnel-plot limits.
#[utoipa::path(get, path = "/api/benchmark", tag = "indicators", params(BenchmarkQuery),
    responses((status = 200, body = Benchmark),
        (status = 400, description = "A parameter is malformed (a level the hierarchy lacks)",
            body = ErrorBody),
        (status = 404, description = "No such benchmark: the indicator is not released to the \
            caller, not at that level or period, has no denominator, or the level is the top one",
            body = ErrorBody)))]
pub async fn benchmark(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<BenchmarkQuery>,
) -> Result<Json<Benchmark>, ApiError> {
    let views = s.lab.views();
    benchmark_of(&s, views.for_role(who.role), &q).map(Json)
}

// ---------------------------------------------------------------------------------------------
// needs vs supply

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedsQuery {
    /// A released indicator that counts a need.
    pub indicator: String,
    /// The period (default: the latest released).
    pub period: Option<String>,
    /// A zone without a service is still served when one lies within this distance of its
    /// centroid, in km, 0 to 100 (default 0: only services in the zone).
    #[param(minimum = 0, maximum = 100)]
    pub reach_km: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct NeedRow {
    pub zone: String,
    pub name: String,
    /// People in need (the released numerator); `null` when hidden.
    pub in_need: Option<f64>,
    pub flag: String,
    pub services: usize,
    pub places: f64,
    pub operators: f64,
    pub places_per_1000: Option<f64>,
    pub operators_per_1000: Option<f64>,
    pub coverage: Option<f64>,
    pub required: Option<f64>,
    pub gap: Option<f64>,
    pub nearest_km: Option<f64>,
    /// No service in the zone or within reach.
    pub unserved: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Needs {
    pub indicator: String,
    pub period: String,
    pub level: String,
    /// Places per person in need that the indicator's standard asks for.
    pub standard: f64,
    pub risks: Vec<String>,
    pub target_groups: Vec<String>,
    pub rows: Vec<NeedRow>,
}

/// Needs against supply per zone: released people in need joined with the registry.
pub fn needs_of(s: &AppState, view: &View, q: &NeedsQuery) -> Result<Needs, ApiError> {
    let obs = view.obs(&q.indicator)?;
    let ind = s.lab.project.indicator(&q.indicator).ok_or_else(|| {
        ApiError::not_found(format!("indicator `{}` is not defined", q.indicator))
    })?;
    let Some(need) = &ind.need else {
        return Err(ApiError::not_found(format!(
            "`{}` does not count a need (GET /api/indicators: need = true)",
            q.indicator
        )));
    };
    let filter = report::datapack::supply_filter(ind).ok_or_else(|| {
        ApiError::not_found(format!(
            "`{}` names no social risk in its topics, so no service answers it",
            q.indicator
        ))
    })?;
    let reach = q.reach_km.unwrap_or(0.0);
    if !(reach.is_finite() && (0.0..=100.0).contains(&reach)) {
        return Err(ApiError::bad_request("reach_km: use 0 to 100"));
    }
    let h = &s.lab.project.hierarchy;
    let finest = h.finest().to_string();
    let (_, period) =
        level_period(obs, s, Some(&finest), q.period.as_ref()).map_err(|e| ApiError {
            message: format!("{} (needs are per zone)", e.message),
            ..e
        })?;
    let services = s.lab.services().ok_or_else(|| {
        ApiError::not_found("the project has no registry of services (datalab registry import)")
    })?;
    let reg = registry::Registry::open(&services.registry)
        .map_err(|e| ApiError::internal(format!("{}: {e}", services.registry.display())))?;
    let points = reg.supply(&filter).map_err(ApiError::internal)?;
    let centroids = s
        .lab
        .zones_geojson
        .as_deref()
        .map(project::centroids)
        .unwrap_or_default();
    let zones: Vec<&Obs> = obs
        .iter()
        .filter(|o| o.level == finest && o.period == period && o.breakdown.is_empty())
        .collect();
    let zone_needs: Vec<registry::supply::ZoneNeed> = zones
        .iter()
        .map(|o| registry::supply::ZoneNeed {
            zone: o.territory.clone(),
            in_need: report::datapack::in_need(ind, o).unwrap_or(0.0),
            centroid: centroids.get(&o.territory).copied(),
        })
        .collect();
    let coverage = registry::supply::needs_vs_supply(&zone_needs, &points, need.standard, reach);
    let rows = zones
        .iter()
        .zip(coverage)
        .map(|(o, c)| {
            let in_need = report::datapack::in_need(ind, o);
            let shown = |v: Option<f64>| in_need.and(v);
            NeedRow {
                zone: o.territory.clone(),
                name: o.territory_name.clone(),
                in_need,
                flag: o.flag.clone(),
                services: c.services,
                places: c.places,
                operators: c.operators,
                places_per_1000: shown(c.places_per_1000),
                operators_per_1000: shown(c.operators_per_1000),
                coverage: shown(c.coverage),
                required: shown(Some(c.required)),
                gap: shown(Some(c.gap)),
                nearest_km: c.nearest_km,
                unserved: c.unserved,
            }
        })
        .collect();
    Ok(Needs {
        indicator: q.indicator.clone(),
        period,
        level: finest,
        standard: need.standard,
        risks: filter.risks.iter().map(|r| r.code().to_string()).collect(),
        target_groups: filter
            .target_groups
            .iter()
            .map(|g| g.code().to_string())
            .collect(),
        rows,
    })
}

/// Needs against supply per zone for a need indicator.
#[utoipa::path(get, path = "/api/needs", tag = "indicators", params(NeedsQuery),
    responses((status = 200, body = Needs),
        (status = 400, description = "A parameter is malformed or out of range", body = ErrorBody),
        (status = 404, description = "No such comparison: the indicator is not released to the \
            caller or not for that period, does not count a need, or the project has no \
            registry", body = ErrorBody)))]
pub async fn needs(
    State(s): State<AppState>,
    who: Principal,
    Q(q): Q<NeedsQuery>,
) -> Result<Json<Needs>, ApiError> {
    blocking(move || {
        let views = s.lab.views();
        needs_of(&s, views.for_role(who.role), &q)
    })
    .await
    .map(Json)
}

// ---------------------------------------------------------------------------------------------
// services

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceQuery {
    /// Free text in Italian (stemmed; the last word may be a prefix; one typo tolerated).
    pub q: Option<String>,
    /// Social-risk codes, comma-separated (`poverty,housing`).
    #[param(schema_with = risk_codes)]
    pub risk: Option<String>,
    /// Target-group codes, comma-separated (`elderly`).
    #[param(schema_with = target_codes)]
    pub target: Option<String>,
    /// Zone codes, comma-separated.
    pub zone: Option<String>,
    /// Only services open now (the city's local time).
    pub open_now: Option<bool>,
    /// Services whose age range includes this age, 0 to 150.
    #[param(minimum = 0, maximum = 150)]
    pub age: Option<u32>,
    /// Only free services.
    pub free: Option<bool>,
    /// Hits per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Hits skipped, 0 to 100000 (default 0).
    #[param(minimum = 0, maximum = 100_000)]
    pub offset: Option<usize>,
}

/// A comma-separated list of codes, as a string pattern: empty (no filter) or codes joined by
/// commas, exactly what [`codes`] accepts. (Not an OpenAPI array: `risk=` would read both as
/// no codes and as one empty code.)
fn code_list(description: &str, codes: &[&str]) -> utoipa::openapi::Object {
    use utoipa::openapi::{ObjectBuilder, Type};
    let one = format!("({})", codes.join("|"));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(format!("^({one}(,{one})*)?$")))
        .build()
}

fn risk_codes() -> utoipa::openapi::Object {
    code_list(
        "Social-risk codes, comma-separated (`poverty,housing`)",
        registry::codes::SocialRisk::CODES,
    )
}

fn target_codes() -> utoipa::openapi::Object {
    code_list(
        "Target-group codes, comma-separated (`elderly`)",
        registry::codes::TargetGroup::CODES,
    )
}

#[derive(Serialize, ToSchema)]
pub struct ServiceHit {
    pub service_id: String,
    pub location_id: Option<String>,
    pub name: String,
    pub organization: String,
    pub zone: Option<String>,
    pub status: String,
    pub score: f64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The query's words that matched.
    pub matched: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceResults {
    pub offset: usize,
    pub limit: usize,
    pub hits: Vec<ServiceHit>,
}

/// Parses a comma-separated list of codes; empty or absent is no codes.
fn codes<T>(
    param: Option<&str>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<Vec<T>, ApiError> {
    let Some(param) = param.filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    param
        .split(',')
        .map(|c| {
            parse(c).ok_or_else(|| {
                ApiError::bad_request(format!("{what} `{c}`: use one of {}", all.join(", ")))
            })
        })
        .collect()
}

/// Searches the public map of services: by need, target group, zone, free text, open now.
#[utoipa::path(get, path = "/api/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = ServiceResults), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn services(
    State(s): State<AppState>,
    Q(q): Q<ServiceQuery>,
) -> Result<Json<ServiceResults>, ApiError> {
    use registry::codes::{SocialRisk, TargetGroup};
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: use 1 to 100"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > 100_000 {
        return Err(ApiError::bad_request("offset: at most 100000"));
    }
    if q.age.is_some_and(|a| a > 150) {
        return Err(ApiError::bad_request("age: use 0 to 150"));
    }
    let services = s.lab.services().ok_or_else(|| {
        ApiError::not_found("the project has no registry of services (datalab registry import)")
    })?;
    let query = registry::search::Query {
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        risks: codes(
            q.risk.as_deref(),
            "risk",
            SocialRisk::from_code,
            SocialRisk::CODES,
        )?,
        target_groups: codes(
            q.target.as_deref(),
            "target",
            TargetGroup::from_code,
            TargetGroup::CODES,
        )?,
        zones: list(q.zone.as_deref())
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect(),
        open_at: q
            .open_now
            .unwrap_or(false)
            .then(|| chrono::Local::now().naive_local()),
        age: q.age,
        free_only: q.free.unwrap_or(false),
        limit,
        offset,
        ..registry::search::Query::default()
    };
    let hits = services
        .index
        .search(&query)
        .into_iter()
        .map(|h| {
            let loc = services.records.get(&h.service_id).and_then(|r| {
                r.locations
                    .iter()
                    .find(|l| Some(&l.id) == h.location_id.as_ref())
            });
            ServiceHit {
                latitude: loc.and_then(|l| l.latitude),
                longitude: loc.and_then(|l| l.longitude),
                service_id: h.service_id,
                location_id: h.location_id,
                name: h.name,
                organization: h.organization,
                zone: h.zone,
                status: h.status.code().to_string(),
                score: h.score,
                matched: h.matched,
            }
        })
        .collect();
    Ok(Json(ServiceResults {
        offset,
        limit,
        hits,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Code {
    pub code: String,
    pub label_it: String,
    pub label_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct Codes {
    /// The social risks services address (`risk` in searches).
    pub risks: Vec<Code>,
    /// The target groups (`target` in searches).
    pub target_groups: Vec<Code>,
}

/// The code lists of the services' search, with their labels in Italian and English.
#[utoipa::path(get, path = "/api/codes", tag = "services",
    responses((status = 200, body = Codes)))]
pub async fn service_codes() -> Json<Codes> {
    use registry::codes::{SocialRisk, TargetGroup};
    Json(Codes {
        risks: SocialRisk::ALL
            .iter()
            .map(|r| Code {
                code: r.code().into(),
                label_it: r.label_it().into(),
                label_en: r.label_en().into(),
            })
            .collect(),
        target_groups: TargetGroup::ALL
            .iter()
            .map(|g| Code {
                code: g.code().into(),
                label_it: g.label_it().into(),
                label_en: g.label_en().into(),
            })
            .collect(),
    })
}

/// One service of the public map: what it offers, for whom, where (no contact persons).
#[utoipa::path(get, path = "/api/services/{id}", tag = "services",
    params(("id" = String, Path, description = "The service's id")),
    responses((status = 200, body = PublicService), (status = 404, body = ErrorBody)))]
pub async fn service(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<Json<PublicService>, ApiError> {
    let services = s.lab.services().ok_or_else(|| {
        ApiError::not_found("the project has no registry of services (datalab registry import)")
    })?;
    services
        .records
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no service `{id}`")))
}

// ---------------------------------------------------------------------------------------------
// releases

#[derive(Serialize, ToSchema)]
pub struct ReleaseSummary {
    pub name: String,
    pub title: String,
    /// `public`, `partners` or `steering`.
    pub audience: String,
    pub released_at: String,
    pub released_by: String,
    pub outputs: Vec<OutputSummary>,
    /// Suppressed cells the attacker checked, and how many it could narrow too much (0).
    pub attack_suppressed_cells: usize,
    pub attack_breaches: usize,
    /// The disclosure policy applied, as recorded.
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct OutputSummary {
    pub name: String,
    pub kind: String,
    pub indicator: Option<String>,
    pub rows: usize,
    pub method: String,
    /// `automatic` or `approved`.
    pub checked: String,
    pub primary: usize,
    pub secondary: usize,
    /// Where to download it.
    pub download: String,
}

fn summary(log: &disclosure::release::ReleaseLog) -> ReleaseSummary {
    ReleaseSummary {
        name: log.name.clone(),
        title: log.title.clone(),
        audience: format!("{:?}", log.audience).to_lowercase(),
        released_at: log.released_at.clone(),
        released_by: log.released_by.clone(),
        outputs: log
            .outputs
            .iter()
            .filter(|o| o.kind != "microdata")
            .map(|o| OutputSummary {
                name: o.name.clone(),
                kind: o.kind.clone(),
                indicator: o.indicator.clone(),
                rows: o.rows,
                method: o.method.clone(),
                checked: o.checked.clone(),
                primary: o.primary,
                secondary: o.secondary,
                download: format!("/api/releases/{}/files/{}.csv", log.name, o.name),
            })
            .collect(),
        attack_suppressed_cells: log.attack.suppressed_cells,
        attack_breaches: log.attack.breaches,
        policy: serde_json::to_value(&log.policy).unwrap_or_default(),
    }
}

/// The releases the caller may read.
#[utoipa::path(get, path = "/api/releases", tag = "releases",
    responses((status = 200, body = [ReleaseSummary])))]
pub async fn releases(State(s): State<AppState>, who: Principal) -> Json<Vec<ReleaseSummary>> {
    let views = s.lab.views();
    Json(
        views
            .for_role(who.role)
            .publication
            .releases
            .iter()
            .map(|r| summary(&r.log))
            .collect(),
    )
}

/// One release: its outputs, what the gate did and the attacker's verdict.
#[utoipa::path(get, path = "/api/releases/{name}", tag = "releases",
    params(("name" = String, Path, description = "The release's name")),
    responses((status = 200, body = ReleaseSummary), (status = 404, body = ErrorBody)))]
pub async fn release(
    State(s): State<AppState>,
    who: Principal,
    P(name): P<String>,
) -> Result<Json<ReleaseSummary>, ApiError> {
    let views = s.lab.views();
    views
        .for_role(who.role)
        .publication
        .release(&name)
        .map(|r| Json(summary(&r.log)))
        .ok_or_else(|| ApiError::not_found(format!("no release `{name}` for you")))
}

/// A released table as released (CSV, hidden cells empty and flagged), checked against the
/// hash in the release log.
#[utoipa::path(get, path = "/api/releases/{name}/files/{file}", tag = "releases",
    params(("name" = String, Path, description = "The release's name"),
        ("file" = String, Path, description = "The output's name followed by .csv")),
    responses((status = 200, description = "The released CSV", body = String, content_type = "text/csv"),
        (status = 404, body = ErrorBody)))]
pub async fn release_file(
    State(s): State<AppState>,
    who: Principal,
    P((name, file)): P<(String, String)>,
) -> Result<Response, ApiError> {
    let views = s.lab.views();
    let visible = views
        .for_role(who.role)
        .publication
        .release(&name)
        .is_some();
    let output = file.strip_suffix(".csv").unwrap_or(&file).to_string();
    let not_found =
        || ApiError::not_found(format!("no released file `{file}` in `{name}` for you"));
    if !visible {
        return Err(not_found());
    }
    let root = s.lab.project.root.clone();
    let (n, o) = (name.clone(), output.clone());
    let bytes = blocking(move || {
        let files = disclosure::release::released(&root, &n)?;
        Ok(files
            .into_iter()
            .map(|f| f.get().clone())
            .find(|f| f.output == o && f.kind != "microdata")
            .map(|f| f.bytes))
    })
    .await?
    .ok_or_else(not_found)?;
    if who.role != model::Role::Public {
        s.audit(
            &who,
            Action::Export,
            &format!("{name}/{output}.csv"),
            serde_json::json!({"bytes": bytes.len()}),
        )?;
    }
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("{output}.csv"),
    ))
}

// ---------------------------------------------------------------------------------------------
// reports

#[derive(Serialize, ToSchema)]
pub struct ReportInfo {
    pub name: String,
    pub title_it: String,
    pub title_en: String,
    /// Whether the report is about one territory (`territory` is required).
    pub needs_territory: bool,
    /// Where to download it, with `{year}`, `{lang}` and `{format}` to fill in.
    pub download: String,
}

/// The project's report templates.
#[utoipa::path(get, path = "/api/reports", tag = "reports",
    responses((status = 200, body = [ReportInfo])))]
pub async fn reports(State(s): State<AppState>) -> Result<Json<Vec<ReportInfo>>, ApiError> {
    let specs = report::document::list(&s.lab.project)?;
    Ok(Json(
        specs
            .into_iter()
            .map(|r| ReportInfo {
                download: format!(
                    "/api/reports/{}?year={{year}}&lang={{lang}}&format={{format}}",
                    r.name
                ),
                title_it: r.title.it.clone(),
                title_en: r.title.get(report::document::Lang::En).to_string(),
                needs_territory: r.needs_territory,
                name: r.name,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The report's year, 1900 to 2200.
    #[param(minimum = 1900, maximum = 2200)]
    pub year: i32,
    /// `it` (default) or `en`.
    #[param(inline)]
    pub lang: Option<ReportLang>,
    /// `html` (default) or `pdf`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
    /// For reports about one territory.
    pub territory: Option<String>,
}

/// A report's language.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportLang {
    #[default]
    It,
    En,
}

/// A report's format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Html,
    Pdf,
}

/// A report rendered from public releases only, as HTML or PDF (cached until releases change).
#[utoipa::path(get, path = "/api/reports/{name}", tag = "reports", params(
        ("name" = String, Path, description = "The report's name"), ReportQuery),
    responses((status = 200, description = "The report as HTML (format=html) or PDF (format=pdf)",
            content((String = "text/html"), (Vec<u8> = "application/pdf"))),
        (status = 400, description = "A parameter is malformed or out of range, or the report \
            needs a territory", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody)))]
pub async fn report_file(
    State(s): State<AppState>,
    P(name): P<String>,
    Q(q): Q<ReportQuery>,
) -> Result<Response, ApiError> {
    use report::document::{Format, Lang, Options};
    let lang = match q.lang.unwrap_or_default() {
        ReportLang::It => Lang::It,
        ReportLang::En => Lang::En,
    };
    let format = match q.format.unwrap_or_default() {
        ReportFormat::Html => Format::Html,
        ReportFormat::Pdf => Format::Pdf,
    };
    if !(1900..=2200).contains(&q.year) {
        return Err(ApiError::bad_request(format!(
            "year {}: out of range",
            q.year
        )));
    }
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_name {
        return Err(ApiError::not_found(format!("no report `{name}`")));
    }
    // What the renderer would refuse as input, answered before rendering: a report, a year or
    // a territory that does not exist is not found; only a missing territory is the request's
    // fault.
    let specs = report::document::list(&s.lab.project)?;
    let spec = specs
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no report `{name}` (GET /api/reports)")))?;
    match &q.territory {
        None if spec.needs_territory => {
            return Err(ApiError::bad_request(format!(
                "report `{name}` is about one territory: give territory=CODE"
            )));
        }
        Some(t) if !s.lab.project.hierarchy.nodes.iter().any(|n| &n.code == t) => {
            return Err(ApiError::not_found(format!("no territory `{t}`")));
        }
        _ => {}
    }
    let year_prefix = q.year.to_string();
    let released_that_year = s.lab.views().public.publication.series.iter().any(|x| {
        x.obs
            .iter()
            .any(|o| o.period.starts_with(year_prefix.as_str()))
    });
    if !released_that_year {
        return Err(ApiError::not_found(format!(
            "nothing is released publicly for {}",
            q.year
        )));
    }
    let key = format!(
        "{name}|{}|{}|{:?}|{}",
        q.year,
        lang.code(),
        format,
        q.territory.as_deref().unwrap_or("")
    );
    let lab = s.lab.clone();
    let n = name.clone();
    let territory = q.territory.clone();
    let year = q.year;
    let bytes = blocking(move || {
        let project = lab.project.clone();
        lab.report(key, move || {
            let opts = Options {
                year,
                lang,
                format,
                territory,
            };
            Ok(report::document::render(&project, &n, &opts)?.bytes)
        })
    })
    .await?;
    let (ct, ext) = match format {
        Format::Html => ("text/html; charset=utf-8", "html"),
        Format::Pdf => ("application/pdf", "pdf"),
    };
    let mut r = download(
        bytes.as_ref().clone(),
        ct,
        &format!("{name}-{}-{}.{ext}", q.year, lang.code()),
    );
    if format == Format::Html {
        r.headers_mut().remove(header::CONTENT_DISPOSITION);
    }
    Ok(r)
}

/// Released values of one indicator for one period at one level, by territory (maps, tables).
pub fn values_at(obs: &[Obs], level: &str, period: &str) -> BTreeMap<String, Option<f64>> {
    obs.iter()
        .filter(|o| o.level == level && o.period == period && o.breakdown.is_empty())
        .map(|o| (o.territory.clone(), o.value))
        .collect()
}
