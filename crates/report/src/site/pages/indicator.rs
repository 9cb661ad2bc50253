//! One page per released indicator, and the CSV of its released rows.

use std::collections::BTreeMap;

use super::{depth_first, level_word, link, size, territory_link};
use crate::ReportError;
use crate::chart::{self, ChartError, ChartOptions, Point, Series as Line};
use crate::site::html::{Crumb, Notes, chart_table, esc, frame, interval_cell, value_cell};
use crate::site::words::{self, Words, breakdown_label, level_plural, topic_name};
use crate::site::{Ctx, Ind, Lang, OPEN_DATA, Page};

/// The most series a trend chart draws (the city and its districts); more would be unreadable.
const MAX_LINES: usize = 8;
/// The size of the charts: the width of the page's text column, so that a legend of the city
/// and its districts fits on one row.
const CHART_WIDTH: f64 = 900.0;
const CHART_HEIGHT: f64 = 460.0;

pub(in crate::site) fn page(ctx: &Ctx, lang: Lang, ind: &Ind) -> Result<String, ReportError> {
    let w = words::get(lang);
    let page = Page::Indicator(ind.id.clone());
    let name = ind.name(lang);
    let unit = ind.unit(lang);
    let source = source_line(ctx, ind);
    let mut b = format!("<h1>{}</h1>\n", esc(&name));
    if let Some(m) = ind.meta {
        let d = m.description.get(lang.code());
        if !d.is_empty() {
            b.push_str(&format!("<p class=\"lead\">{}</p>\n", esc(d)));
        }
    }
    b.push_str("<dl class=\"meta\">\n");
    if !unit.is_empty() {
        b.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", w.unit, esc(&unit)));
    }
    if let Some(m) = ind.meta {
        if !m.topics.is_empty() {
            b.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                w.topics,
                m.topics
                    .iter()
                    .map(|t| esc(&topic_name(t, lang)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        b.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            w.direction,
            match m.direction {
                model::Direction::HigherIsBetter => w.higher_is_better,
                model::Direction::LowerIsBetter => w.lower_is_better,
                model::Direction::Neutral => w.neutral,
            }
        ));
    }
    if let (Some(first), Some(last)) = (ind.periods.first(), ind.periods.last()) {
        b.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            w.periods,
            if first == last {
                esc(first)
            } else {
                format!("{}–{}", esc(first), esc(last))
            }
        ));
    }
    if let Some(m) = ind.meta {
        let s = m.source_notes.get(lang.code());
        if !s.is_empty() {
            b.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", w.source, esc(s)));
        }
    }
    b.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>\n</dl>\n",
        w.release,
        esc(&source)
    ));

    let opts = |id: &str, title: String, subtitle: String| ChartOptions {
        id: id.into(),
        title,
        subtitle,
        unit: unit.clone(),
        source: source.clone(),
        locale: lang.locale(),
        decimals: ind.decimals,
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        ..ChartOptions::default()
    };

    // the trend of the city and the level below it
    b.push_str(&format!(
        "<section aria-labelledby=\"h-trend\"><h2 id=\"h-trend\">{}</h2>\n",
        w.trend
    ));
    let lines = trend(ctx, ind);
    let has_bands = lines
        .iter()
        .any(|l| l.points.iter().any(|p| p.lower.is_some()));
    let description = w
        .trend_desc
        .replace("{name}", &name)
        .replace("{n}", &lines.len().to_string())
        .replace(
            "{first}",
            ind.periods.first().map(String::as_str).unwrap_or(""),
        )
        .replace("{last}", ind.latest().unwrap_or(""));
    match chart::line(
        &lines,
        &ChartOptions {
            description,
            x_label: w.period.into(),
            ..opts("trend", name.clone(), trend_subtitle(ctx, lang, &lines))
        },
    ) {
        Ok(c) => {
            b.push_str(&format!("<figure class=\"chart\">{}", c.svg));
            if has_bands {
                b.push_str(&format!("<figcaption>{}</figcaption>", w.bands));
            }
            b.push_str("</figure>\n");
            b.push_str(&chart_table(&c.table, w));
        }
        Err(ChartError::NoData { .. }) => {
            b.push_str(&format!("<p>{}</p>\n", w.no_chart));
        }
        Err(e) => return Err(ReportError::Input(format!("indicator `{}`: {e}", ind.id))),
    }
    b.push_str("</section>\n");

    // a map of the finest level with boundaries and values
    if let Some(period) = ind.latest() {
        let levels = ctx.levels();
        for (_, level) in levels.iter().rev() {
            let Some((_, file, geojson)) = ctx.site.boundaries.iter().find(|(l, _, _)| l == level)
            else {
                continue;
            };
            let values: BTreeMap<String, Option<f64>> = ctx
                .site
                .publication
                .at_level(&ind.id, level, period)
                .into_iter()
                .map(|o| (o.territory.clone(), o.value))
                .collect();
            if values.values().all(Option::is_none) {
                continue;
            }
            let title = format!("{name}, {period}");
            let description = w
                .map_desc
                .replace("{name}", &name)
                .replace("{level}", &level_plural(level, lang).to_lowercase())
                .replace("{period}", period);
            let chart = chart::choropleth(
                geojson,
                &values,
                &ChartOptions {
                    description,
                    ..opts(
                        "map",
                        title,
                        w.by_level
                            .replace("{level}", &level_plural(level, lang).to_lowercase()),
                    )
                },
            )
            .map_err(|e| ReportError::Input(format!("{file}: {e}")))?;
            b.push_str(&format!(
                "<section aria-labelledby=\"h-map\"><h2 id=\"h-map\">{}</h2>\n<figure class=\"chart\">{}<figcaption>{}</figcaption></figure>\n",
                w.map_title
                    .replace("{level}", &level_plural(level, lang).to_lowercase())
                    .replace("{period}", period),
                chart.svg,
                w.map_caption
            ));
            b.push_str(&chart_table(&chart.table, w));
            b.push_str("</section>\n");
            break;
        }

        // every territory's value
        b.push_str(&format!(
            "<section aria-labelledby=\"h-table\"><h2 id=\"h-table\">{}</h2>\n",
            w.by_territory.replace("{period}", period)
        ));
        b.push_str(&territory_table(ctx, lang, &page, ind, period));
        b.push_str("</section>\n");

        // sub-groups of the city
        if let Some(h) = &ctx.headline {
            let mut groups: BTreeMap<&str, (&crate::released::Obs, &crate::released::Series)> =
                BTreeMap::new();
            for s in &ind.series {
                for o in s.obs.iter().filter(|o| {
                    o.territory == h.code && o.period == period && !o.breakdown.is_empty()
                }) {
                    groups.insert(&o.breakdown, (o, s));
                }
            }
            if !groups.is_empty() {
                let mut notes = Notes::default();
                b.push_str(&format!(
                    "<section aria-labelledby=\"h-groups\"><h2 id=\"h-groups\">{}</h2>\n<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>{}</tr></thead>\n<tbody>\n",
                    w.groups,
                    esc(&format!("{name}: {}, {period}", h.name)),
                    w.group,
                    esc(&with_unit(w.value, &unit)),
                    if groups.values().any(|(o, _)| o.lower.is_some()) {
                        format!("<th scope=\"col\" class=\"num\">{}</th>", w.interval)
                    } else {
                        String::new()
                    }
                ));
                let intervals = groups.values().any(|(o, _)| o.lower.is_some());
                for (key, (o, s)) in &groups {
                    b.push_str(&format!(
                        "<tr><th scope=\"row\">{}</th>{}{}</tr>\n",
                        esc(&breakdown_label(key, lang)),
                        value_cell(ctx, lang, Some((o, s)), &ind.id, ind.decimals, &mut notes),
                        if intervals {
                            interval_cell(Some(o), &ind.id, ind.decimals, lang)
                        } else {
                            String::new()
                        }
                    ));
                }
                b.push_str("</tbody></table></div>\n");
                b.push_str(&notes.render(w));
                b.push_str("</section>\n");
            }
        }
    }

    // downloads
    let here = ctx.path(&page, lang);
    let csv = indicator_csv(ctx, ind)?;
    b.push_str(&format!(
        "<section aria-labelledby=\"h-down\"><h2 id=\"h-down\">{}</h2>\n<ul>\n<li><a href=\"{}\" download>{}</a> ({}, {})</li>\n",
        w.download,
        esc(&Ctx::href(&here, &ctx.indicator_csv(&ind.id))),
        w.indicator_csv,
        size(csv.len(), lang),
        w.csv_rows.replace(
            "{n}",
            &crate::site::html::count(
                ind.series.iter().map(|s| s.obs.len()).sum::<usize>(),
                lang
            )
        )
    ));
    for s in &ind.series {
        if let Some(d) = ctx
            .site
            .datasets
            .iter()
            .find(|d| d.release == s.release && d.output == s.output)
        {
            let links: Vec<String> = d
                .files
                .iter()
                .map(|f| {
                    format!(
                        "<a href=\"{}\">{}</a>",
                        esc(&Ctx::href(&here, &format!("{OPEN_DATA}/{f}"))),
                        if f.starts_with("sdmx/") {
                            "SDMX-CSV"
                        } else if f.ends_with(".json") {
                            "JSON"
                        } else {
                            "CSV"
                        }
                    )
                })
                .collect();
            b.push_str(&format!(
                "<li>{} <code>{}</code>: {}</li>\n",
                w.open_data_of,
                esc(&d.id),
                links.join(", ")
            ));
        }
    }
    b.push_str(&format!(
        "</ul>\n<p><a href=\"{}\">{}</a></p>\n</section>\n",
        link(ctx, lang, &page, &Page::Data),
        w.all_open_data
    ));
    Ok(frame(
        ctx,
        lang,
        &page,
        &name,
        &[
            Crumb {
                label: w.indicators.into(),
                page: Some(Page::Indicators),
            },
            Crumb {
                label: name.clone(),
                page: None,
            },
        ],
        &b,
    ))
}

/// `label (unit)`, or the label alone.
fn with_unit(label: &str, unit: &str) -> String {
    if unit.is_empty() {
        label.to_string()
    } else {
        format!("{label} ({unit})")
    }
}

/// The releases an indicator comes from, for the charts' source line.
fn source_line(ctx: &Ctx, ind: &Ind) -> String {
    let mut names: Vec<String> = Vec::new();
    for s in &ind.series {
        let t = ctx
            .site
            .publication
            .release(&s.release)
            .map(|r| r.log.title.clone())
            .unwrap_or_else(|| s.release.clone());
        if !names.contains(&t) {
            names.push(t);
        }
    }
    names.join("; ")
}

/// "Modena e quartieri": the city and the level below it (the one territory drawn when there
/// is only one).
fn trend_subtitle(ctx: &Ctx, lang: Lang, lines: &[Line]) -> String {
    let w = words::get(lang);
    let Some(h) = &ctx.headline else {
        return String::new();
    };
    if let [only] = lines {
        return only.label.clone();
    }
    match h
        .children
        .first()
        .and_then(|c| ctx.territory(c))
        .map(|t| level_plural(&t.level, lang).to_lowercase())
    {
        Some(level) => w
            .trend_subtitle
            .replace("{name}", &h.name)
            .replace("{level}", &level),
        None => h.name.clone(),
    }
}

/// The series of the trend chart: the city, then the territories one level below it.
fn trend(ctx: &Ctx, ind: &Ind) -> Vec<Line> {
    let mut territories: Vec<(String, String)> = Vec::new();
    if let Some(h) = &ctx.headline {
        territories.push((h.code.clone(), h.name.clone()));
        for c in &h.children {
            if let Some(t) = ctx.territory(c) {
                territories.push((t.code.clone(), t.name.clone()));
            }
        }
    }
    territories
        .into_iter()
        .map(|(code, label)| Line {
            label,
            points: ind
                .periods
                .iter()
                .map(|p| {
                    let o = ctx.obs(&ind.id, &code, p, "").map(|f| f.0);
                    Point {
                        x: p.clone(),
                        y: o.and_then(|o| o.value),
                        lower: o.and_then(|o| o.value.and(o.lower)),
                        upper: o.and_then(|o| o.value.and(o.upper)),
                    }
                })
                .collect(),
        })
        .filter(|l| l.points.iter().any(|p| p.y.is_some()))
        .take(MAX_LINES)
        .collect()
}

/// The table of every territory's value for `period`, the city first, each district followed by
/// its zones.
fn territory_table(ctx: &Ctx, lang: Lang, page: &Page, ind: &Ind, period: &str) -> String {
    let w: &Words = words::get(lang);
    let rows: Vec<_> = depth_first(ctx)
        .into_iter()
        .filter_map(|t| ctx.obs(&ind.id, &t.code, period, "").map(|f| (t, f)))
        .collect();
    if rows.is_empty() {
        return format!("<p>{}</p>\n", w.no_values);
    }
    let intervals = rows.iter().any(|(_, (o, _))| o.lower.is_some());
    let unit = ind.unit(lang);
    let mut notes = Notes::default();
    let mut out = format!(
        "<div class=\"scroll\"><table class=\"values\">\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>{}</tr></thead>\n<tbody>\n",
        esc(&format!("{}, {period}", ind.name(lang))),
        w.territory,
        w.level,
        esc(&with_unit(w.value, &unit)),
        if intervals {
            format!("<th scope=\"col\" class=\"num\">{}</th>", w.interval)
        } else {
            String::new()
        }
    );
    for (t, found) in rows {
        let name = match territory_link(ctx, lang, page, &t.code) {
            Some(href) => format!("<a href=\"{href}\">{}</a>", esc(&t.name)),
            None => esc(&t.name),
        };
        out.push_str(&format!(
            "<tr class=\"l{}\"><th scope=\"row\">{name}</th><td>{}</td>{}{}</tr>\n",
            t.rank.min(9),
            esc(&level_word(t, lang)),
            value_cell(ctx, lang, Some(found), &ind.id, ind.decimals, &mut notes),
            if intervals {
                interval_cell(Some(found.0), &ind.id, ind.decimals, lang)
            } else {
                String::new()
            }
        ));
    }
    out.push_str("</tbody></table></div>\n");
    out.push_str(&notes.render(w));
    let hidden = notes_count(&out);
    if hidden > 0 {
        out.push_str(&format!("<p class=\"small\">{}</p>\n", w.hidden_explained));
    }
    out
}

fn notes_count(html: &str) -> usize {
    html.matches("class=\"num hid\"").count()
}

/// The released rows of an indicator as one CSV: a `release` column, then the columns of its
/// released tables (their union, in order of appearance).
pub(in crate::site) fn indicator_csv(ctx: &Ctx, ind: &Ind) -> Result<Vec<u8>, ReportError> {
    let tables: Vec<&crate::released::Table> = ind
        .series
        .iter()
        .filter_map(|s| {
            ctx.site
                .publication
                .tables
                .iter()
                .find(|t| t.release == s.release && t.output == s.output)
        })
        .collect();
    let mut columns: Vec<&str> = Vec::new();
    for t in &tables {
        for h in &t.header {
            if !columns.contains(&h.as_str()) {
                columns.push(h);
            }
        }
    }
    let err = |e: csv::Error| ReportError::Input(format!("indicator `{}`: {e}", ind.id));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["release"];
    head.extend(&columns);
    w.write_record(&head).map_err(err)?;
    for t in &tables {
        let index: Vec<Option<usize>> = columns.iter().map(|c| t.col(c)).collect();
        for r in &t.rows {
            let mut rec = vec![t.release.as_str()];
            rec.extend(index.iter().map(|i| i.map_or("", |i| r[i].as_str())));
            w.write_record(&rec).map_err(err)?;
        }
    }
    w.into_inner()
        .map_err(|e| ReportError::Input(format!("indicator `{}`: {e}", ind.id)))
}
