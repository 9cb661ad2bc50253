//! One profile page per district and zone: every indicator's latest value against the city.

use super::{level_word, link, territory_link};
use crate::chart::{self, ChartOptions, Point, format_number};
use crate::site::html::{Crumb, Notes, esc, frame, value_cell};
use crate::site::words::{self, level_plural};
use crate::site::{Ctx, Lang, Page, Terr};

pub(in crate::site) fn page(ctx: &Ctx, lang: Lang, t: &Terr) -> String {
    let w = words::get(lang);
    let page = Page::Territory(t.slug.clone());
    let mut b = format!("<h1>{}</h1>\n", esc(&t.name));
    let mut facts = vec![format!(
        "{} <span class=\"code\">{}</span>",
        esc(&level_word(t, lang)),
        esc(&t.code)
    )];
    if let Some(p) = &t.parent {
        let name = ctx
            .territory(p)
            .map(|x| x.name.clone())
            .or_else(|| ctx.headline.as_ref().map(|h| h.name.clone()))
            .unwrap_or_else(|| p.clone());
        if let Some(href) = territory_link(ctx, lang, &page, p) {
            facts.push(format!(
                "{} <a href=\"{href}\">{}</a>",
                w.part_of,
                esc(&name)
            ));
        }
    }
    b.push_str(&format!("<p class=\"lead\">{}</p>\n", facts.join(" · ")));

    let headline = ctx.headline.as_ref();
    let mut notes = Notes::default();
    let mut rows = String::new();
    for ind in &ctx.indicators {
        // the latest period with a released value (or a hidden one) for this territory
        let Some(period) = ind
            .periods
            .iter()
            .rev()
            .find(|p| ctx.obs(&ind.id, &t.code, p, "").is_some())
        else {
            continue;
        };
        let here = ctx.obs(&ind.id, &t.code, period, "");
        let city = headline.and_then(|h| ctx.obs(&ind.id, &h.code, period, ""));
        let compare = match (here.and_then(|f| f.0.value), city.and_then(|f| f.0.value)) {
            (Some(a), Some(c)) => {
                let (fa, fc) = (
                    format_number(a, ind.decimals, lang.locale()),
                    format_number(c, ind.decimals, lang.locale()),
                );
                if fa == fc {
                    format!("<span aria-hidden=\"true\">=</span> {}", w.same)
                } else if a > c {
                    format!("<span aria-hidden=\"true\">▲</span> {}", w.higher)
                } else {
                    format!("<span aria-hidden=\"true\">▼</span> {}", w.lower)
                }
            }
            _ => String::new(),
        };
        let name = ind.name(lang);
        let points: Vec<Point> = ind
            .periods
            .iter()
            .map(|p| {
                let o = ctx.obs(&ind.id, &t.code, p, "").map(|f| f.0);
                Point {
                    x: p.clone(),
                    y: o.and_then(|o| o.value),
                    lower: o.and_then(|o| o.value.and(o.lower)),
                    upper: o.and_then(|o| o.value.and(o.upper)),
                }
            })
            .collect();
        let spark = chart::sparkline(
            &points,
            &ChartOptions {
                id: format!("sp-{}", ind.id),
                title: format!("{name}: {}", t.name),
                locale: lang.locale(),
                decimals: ind.decimals,
                width: 110.0,
                height: 28.0,
                ..ChartOptions::default()
            },
        )
        .map(|c| c.svg)
        .unwrap_or_default();
        let unit = ind.unit(lang);
        rows.push_str(&format!(
            "<tr><th scope=\"row\"><a href=\"{}\">{}</a>{}</th><td>{}</td>{}{}<td>{compare}</td><td class=\"spark\">{spark}</td></tr>\n",
            link(ctx, lang, &page, &Page::Indicator(ind.id.clone())),
            esc(&name),
            if unit.is_empty() {
                String::new()
            } else {
                format!("<br><span class=\"unit\">{}</span>", esc(&unit))
            },
            esc(period),
            value_cell(ctx, lang, here, &ind.id, ind.decimals, &mut notes),
            if headline.is_some() {
                value_cell(ctx, lang, city, &ind.id, ind.decimals, &mut notes)
            } else {
                String::new()
            },
        ));
    }
    b.push_str(&format!(
        "<section aria-labelledby=\"h-ind\"><h2 id=\"h-ind\">{}</h2>\n",
        w.profile
    ));
    if rows.is_empty() {
        b.push_str(&format!("<p>{}</p>\n", w.no_values));
    } else {
        b.push_str(&format!(
            "<div class=\"scroll\"><table class=\"profile\">\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>{}<th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n{rows}</tbody></table></div>\n",
            esc(&w.profile_caption.replace("{name}", &t.name)),
            w.indicator,
            w.period,
            esc(&t.name),
            headline
                .map(|h| format!("<th scope=\"col\" class=\"num\">{}</th>", esc(&h.name)))
                .unwrap_or_default(),
            headline
                .map(|h| w.compared_to.replace("{name}", &esc(&h.name)))
                .unwrap_or_default(),
            w.trend_short
        ));
        b.push_str(&notes.render(w));
    }
    b.push_str("</section>\n");

    let children: Vec<&Terr> = t
        .children
        .iter()
        .filter_map(|c| {
            ctx.territories
                .iter()
                .find(|x| x.code == *c && x.rank == t.rank + 1)
        })
        .collect();
    if let Some(first) = children.first() {
        b.push_str(&format!(
            "<section aria-labelledby=\"h-sub\"><h2 id=\"h-sub\">{}</h2>\n<ul class=\"columns\">",
            esc(&level_plural(&first.level, lang))
        ));
        for c in &children {
            b.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>",
                link(ctx, lang, &page, &Page::Territory(c.slug.clone())),
                esc(&c.name)
            ));
        }
        b.push_str("</ul></section>\n");
    }

    let mut crumbs = vec![Crumb {
        label: w.territories.into(),
        page: Some(Page::Territories),
    }];
    let mut chain = Vec::new();
    let mut up = t.parent.clone();
    while let Some(code) = up {
        match ctx.territory(&code) {
            Some(p) if p.rank < t.rank => {
                chain.push(Crumb {
                    label: p.name.clone(),
                    page: Some(Page::Territory(p.slug.clone())),
                });
                up = p.parent.clone();
            }
            _ => break,
        }
    }
    chain.reverse();
    crumbs.extend(chain);
    crumbs.push(Crumb {
        label: t.name.clone(),
        page: None,
    });
    frame(ctx, lang, &page, &t.name, &crumbs, &b)
}
