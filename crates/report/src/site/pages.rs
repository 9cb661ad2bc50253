//! The pages: home, the indexes, reports, open data; indicator, territory and services pages
//! have modules of their own.

mod indicator;
mod territory;

use std::collections::BTreeMap;

use super::html::{self, Crumb, Notes, esc, frame};
use super::words::{self, level_name, level_plural, topic_name};
use super::{Ctx, Ind, Lang, OPEN_DATA, Page, Terr, services};
use crate::ReportError;

pub(super) use indicator::indicator_csv;

/// Every page of one language.
pub(super) fn all(ctx: &Ctx, lang: Lang) -> Result<Vec<(Page, String)>, ReportError> {
    let mut out = vec![
        (Page::Home, home(ctx, lang)),
        (Page::Indicators, indicators(ctx, lang)),
        (Page::Territories, territories(ctx, lang)),
        (Page::Services, services::page(ctx, lang)?),
        (Page::Reports, reports(ctx, lang)),
        (Page::Data, data(ctx, lang)),
    ];
    for ind in &ctx.indicators {
        out.push((
            Page::Indicator(ind.id.clone()),
            indicator::page(ctx, lang, ind)?,
        ));
    }
    for t in &ctx.territories {
        out.push((
            Page::Territory(t.slug.clone()),
            territory::page(ctx, lang, t),
        ));
    }
    Ok(out)
}

/// A link from page `from` to page `to`.
pub(super) fn link(ctx: &Ctx, lang: Lang, from: &Page, to: &Page) -> String {
    esc(&Ctx::href(&ctx.path(from, lang), &ctx.path(to, lang)))
}

/// A link to a territory: its page, or the home page for the city at the top.
pub(super) fn territory_link(ctx: &Ctx, lang: Lang, from: &Page, code: &str) -> Option<String> {
    if ctx.headline.as_ref().is_some_and(|h| h.code == code) {
        return Some(link(ctx, lang, from, &Page::Home));
    }
    ctx.territory(code)
        .map(|t| link(ctx, lang, from, &Page::Territory(t.slug.clone())))
}

/// The territories in the hierarchy's depth-first order: the city, then each district followed
/// by its zones; territories without a parent among them last.
pub(super) fn depth_first<'a>(ctx: &'a Ctx) -> Vec<&'a Terr> {
    let mut out: Vec<&Terr> = Vec::new();
    fn visit<'a>(ctx: &'a Ctx, t: &'a Terr, out: &mut Vec<&'a Terr>) {
        out.push(t);
        for c in &t.children {
            if let Some(child) = ctx
                .territories
                .iter()
                .find(|x| x.code == *c && x.rank == t.rank + 1)
            {
                visit(ctx, child, out);
            }
        }
    }
    if let Some(h) = &ctx.headline {
        visit(ctx, h, &mut out);
    }
    for t in &ctx.territories {
        if !out.iter().any(|o| o.code == t.code && o.rank == t.rank) {
            visit(ctx, t, &mut out);
        }
    }
    out
}

/// The indicators by topic (in the order of first appearance of the topic in the words' list,
/// then alphabetical), each indicator under every topic it has.
fn by_topic<'a, 'b>(ctx: &'b Ctx<'a>) -> Vec<(String, Vec<&'b Ind<'a>>)> {
    let mut topics: BTreeMap<(usize, String), Vec<&Ind>> = BTreeMap::new();
    for ind in &ctx.indicators {
        let list: Vec<String> = ind
            .meta
            .map(|m| m.topics.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| vec![String::new()]);
        for t in list {
            topics
                .entry((words::topic_rank(&t), t))
                .or_default()
                .push(ind);
        }
    }
    topics.into_iter().map(|((_, t), v)| (t, v)).collect()
}

/// The latest released total of an indicator for the city, as a card.
fn card(ctx: &Ctx, lang: Lang, from: &Page, ind: &Ind, notes: &mut Notes) -> String {
    let w = words::get(lang);
    let href = link(ctx, lang, from, &Page::Indicator(ind.id.clone()));
    let mut value = String::new();
    let mut period = String::new();
    if let (Some(h), Some(p)) = (&ctx.headline, ind.latest()) {
        let found = ctx.obs(&ind.id, &h.code, p, "");
        if found.is_some() {
            value = html::value_html(ctx, lang, found, &ind.id, ind.decimals, notes).1;
            period = p.to_string();
        }
    }
    let unit = ind.unit(lang);
    format!(
        "<li class=\"card\"><a href=\"{href}\">{}</a>{}{}</li>\n",
        esc(&ind.name(lang)),
        if value.is_empty() {
            format!("<p class=\"figure na\">{}</p>", w.no_city_value)
        } else {
            format!("<p class=\"figure\">{value}</p>")
        },
        if unit.is_empty() && period.is_empty() {
            String::new()
        } else {
            format!(
                "<p class=\"unit\">{}{}{}</p>",
                esc(&unit),
                if unit.is_empty() || period.is_empty() {
                    ""
                } else {
                    ", "
                },
                esc(&period)
            )
        }
    )
}

fn home(ctx: &Ctx, lang: Lang) -> String {
    let w = words::get(lang);
    let page = Page::Home;
    let mut b = format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        esc(&ctx.site.title),
        w.intro
    );
    b.push_str(&format!(
        "<section aria-labelledby=\"h-releases\"><h2 id=\"h-releases\">{}</h2>\n<ul>",
        w.releases
    ));
    for r in &ctx.site.publication.releases {
        let outputs = r
            .log
            .outputs
            .iter()
            .filter(|o| o.kind != "microdata")
            .count();
        b.push_str(&format!(
            "<li><cite>{}</cite>, {} {}: {} {}</li>",
            esc(&r.log.title),
            w.released_on,
            html::date(&r.log.released_at, lang),
            html::count(outputs, lang),
            w.outputs
        ));
    }
    b.push_str("</ul></section>\n");
    if let Some(h) = &ctx.headline {
        let mut notes = Notes::default();
        b.push_str(&format!(
            "<section aria-labelledby=\"h-key\"><h2 id=\"h-key\">{}: {}</h2>\n<p>{}</p>\n<ul class=\"cards\">\n",
            w.key_figures,
            esc(&h.name),
            w.key_figures_note
        ));
        for ind in &ctx.indicators {
            b.push_str(&card(ctx, lang, &page, ind, &mut notes));
        }
        b.push_str("</ul>\n");
        b.push_str(&notes.render(w));
        b.push_str("</section>\n");
    }
    b.push_str(&format!(
        "<section aria-labelledby=\"h-topics\"><h2 id=\"h-topics\">{}</h2>\n<ul class=\"topics\">",
        w.topics
    ));
    for (topic, inds) in by_topic(ctx) {
        b.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>\n",
            esc(&topic_name(&topic, lang)),
            inds.iter()
                .map(|i| format!(
                    "<a href=\"{}\">{}</a>",
                    link(ctx, lang, &page, &Page::Indicator(i.id.clone())),
                    esc(&i.name(lang))
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    b.push_str("</ul></section>\n");
    b.push_str(&format!(
        "<section aria-labelledby=\"h-terr\"><h2 id=\"h-terr\">{}</h2>\n{}</section>\n",
        w.territories,
        territory_tree(ctx, lang, &page)
    ));
    b.push_str(&format!(
        "<section aria-labelledby=\"h-more\"><h2 id=\"h-more\">{}</h2>\n<ul>\
         <li><a href=\"{}\">{}</a>: {}</li>\
         <li><a href=\"{}\">{}</a>: {}</li>\
         <li><a href=\"{}\">{}</a>: {}</li></ul></section>\n",
        w.also,
        link(ctx, lang, &page, &Page::Services),
        w.services_title,
        match &ctx.site.services {
            Some(s) => w.services_count.replace("{n}", &html::count(s.len(), lang)),
            None => w.no_registry_short.to_string(),
        },
        link(ctx, lang, &page, &Page::Reports),
        w.reports,
        if ctx.site.reports.is_empty() {
            w.no_reports_short.to_string()
        } else {
            w.reports_count
                .replace("{n}", &html::count(ctx.site.reports.len(), lang))
        },
        link(ctx, lang, &page, &Page::Data),
        w.data,
        w.datasets_count
            .replace("{n}", &html::count(ctx.site.datasets.len(), lang)),
    ));
    frame(ctx, lang, &page, &ctx.site.title, &[], &b)
}

/// The territories as nested lists under the city.
fn territory_tree(ctx: &Ctx, lang: Lang, from: &Page) -> String {
    fn items(ctx: &Ctx, lang: Lang, from: &Page, list: &[&Terr]) -> String {
        let mut out = String::from("<ul>");
        for t in list {
            out.push_str(&format!(
                "<li><a href=\"{}\">{}</a> <span class=\"level\">{}</span>",
                link(ctx, lang, from, &Page::Territory(t.slug.clone())),
                esc(&t.name),
                esc(&level_name(&t.level, lang))
            ));
            let kids: Vec<&Terr> = t
                .children
                .iter()
                .filter_map(|c| {
                    ctx.territories
                        .iter()
                        .find(|x| x.code == *c && x.rank == t.rank + 1)
                })
                .collect();
            if !kids.is_empty() {
                out.push_str(&items(ctx, lang, from, &kids));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
        out
    }
    let tops: Vec<&Terr> = ctx
        .territories
        .iter()
        .filter(|t| {
            t.parent.is_none()
                || ctx
                    .headline
                    .as_ref()
                    .is_some_and(|h| Some(&h.code) == t.parent.as_ref())
        })
        .collect();
    if tops.is_empty() {
        return format!("<p>{}</p>\n", words::get(lang).no_territories);
    }
    format!(
        "<div class=\"tree\">{}</div>",
        items(ctx, lang, from, &tops)
    )
}

fn indicators(ctx: &Ctx, lang: Lang) -> String {
    let w = words::get(lang);
    let page = Page::Indicators;
    let mut b = format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        w.indicators, w.indicators_intro
    );
    let mut notes = Notes::default();
    for (i, (topic, inds)) in by_topic(ctx).into_iter().enumerate() {
        b.push_str(&format!(
            "<section aria-labelledby=\"t{i}\"><h2 id=\"t{i}\">{}</h2>\n<ul class=\"cards\">\n",
            esc(&topic_name(&topic, lang))
        ));
        for ind in inds {
            b.push_str(&card(ctx, lang, &page, ind, &mut notes));
        }
        b.push_str("</ul></section>\n");
    }
    b.push_str(&notes.render(w));
    frame(
        ctx,
        lang,
        &page,
        w.indicators,
        &[Crumb {
            label: w.indicators.into(),
            page: None,
        }],
        &b,
    )
}

fn territories(ctx: &Ctx, lang: Lang) -> String {
    let w = words::get(lang);
    let page = Page::Territories;
    let mut b = format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n",
        w.territories, w.territories_intro
    );
    for (rank, level) in ctx.levels() {
        let n = ctx.territories.iter().filter(|t| t.rank == rank).count();
        b.push_str(&format!(
            "<p>{}: {}</p>\n",
            esc(&level_plural(&level, lang)),
            html::count(n, lang)
        ));
    }
    b.push_str(&territory_tree(ctx, lang, &page));
    frame(
        ctx,
        lang,
        &page,
        w.territories,
        &[Crumb {
            label: w.territories.into(),
            page: None,
        }],
        &b,
    )
}

fn reports(ctx: &Ctx, lang: Lang) -> String {
    let w = words::get(lang);
    let page = Page::Reports;
    let here = ctx.path(&page, lang);
    let mut b = format!("<h1>{}</h1>\n", w.reports);
    if ctx.site.reports.is_empty() {
        b.push_str(&format!("<p>{}</p>\n", w.no_reports));
    } else {
        b.push_str(&format!("<p class=\"lead\">{}</p>\n", w.reports_intro));
        for r in ctx.site.reports {
            b.push_str(&format!("<section><h2>{}</h2>\n<ul>", esc(&r.title)));
            for (name, bytes) in &r.files {
                b.push_str(&format!(
                    "<li><a href=\"{}\">{}</a> ({})</li>",
                    esc(&Ctx::href(&here, &ctx.report_file(name))),
                    esc(name),
                    size(bytes.len(), lang)
                ));
            }
            b.push_str("</ul></section>\n");
        }
    }
    frame(
        ctx,
        lang,
        &page,
        w.reports,
        &[Crumb {
            label: w.reports.into(),
            page: None,
        }],
        &b,
    )
}

fn data(ctx: &Ctx, lang: Lang) -> String {
    let w = words::get(lang);
    let page = Page::Data;
    let here = ctx.path(&page, lang);
    let file = |rel: &str| esc(&Ctx::href(&here, &format!("{OPEN_DATA}/{rel}")));
    let size_of = |rel: &str| {
        ctx.site
            .open_files
            .iter()
            .find(|(p, _)| p == rel)
            .map_or(0, |(_, b)| b.len())
    };
    let mut b = format!(
        "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n<ul>\
         <li><a href=\"{}\">{}</a> ({})</li>\
         <li><a href=\"{}\">{}</a> ({})</li></ul>\n",
        w.data,
        w.data_intro,
        file("catalog.jsonld"),
        w.catalogue,
        size(size_of("catalog.jsonld"), lang),
        file("sdmx/structure.xml"),
        w.sdmx_structure,
        size(size_of("sdmx/structure.xml"), lang),
    );
    b.push_str(&format!(
        "<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
        w.datasets, w.dataset, w.release, w.rows, w.download
    ));
    for d in &ctx.site.datasets {
        let links: Vec<String> = d
            .files
            .iter()
            .map(|f| {
                let kind = if f.starts_with("sdmx/") {
                    "SDMX-CSV"
                } else if f.ends_with(".json") {
                    "JSON"
                } else {
                    "CSV"
                };
                format!(
                    "<a href=\"{}\">{kind}<span class=\"vh\"> {}</span></a> <span class=\"size\">({})</span>",
                    file(f),
                    esc(&d.output),
                    size(size_of(f), lang)
                )
            })
            .collect();
        b.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
            esc(&d.output),
            esc(&d.release),
            html::count(d.rows, lang),
            links.join(" · ")
        ));
    }
    b.push_str("</tbody></table></div>\n");
    b.push_str(&format!(
        "<h2>{}</h2>\n<p>{}</p>\n<ul class=\"columns\">",
        w.indicator_csvs, w.indicator_csvs_intro
    ));
    for ind in &ctx.indicators {
        b.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            esc(&Ctx::href(&here, &ctx.indicator_csv(&ind.id))),
            esc(&ind.name(lang))
        ));
    }
    b.push_str("</ul>\n");
    frame(
        ctx,
        lang,
        &page,
        w.data,
        &[Crumb {
            label: w.data.into(),
            page: None,
        }],
        &b,
    )
}

/// A file size for people: `812 B`, `12 kB`, `1,2 MB`.
pub(super) fn size(bytes: usize, lang: Lang) -> String {
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!(
            "{} kB",
            crate::chart::format_number((b / 1000.0).round(), 0, lang.locale())
        )
    } else {
        format!(
            "{} MB",
            crate::chart::format_number(b / 1e6, 1, lang.locale())
        )
    }
}

/// The level of a territory as a word, for tables.
pub(super) fn level_word(t: &Terr, lang: Lang) -> String {
    level_name(&t.level, lang)
}
