//! HTML pieces: escaping, the frame of every page, tables and released numbers.

use super::words::{self, Words};
use super::{Ctx, Lang, Page};
use crate::chart::{DataTable, format_number};
use crate::released::Obs;

/// The site's stylesheet.
pub(crate) const STYLE: &str = include_str!("style.css");

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A released number: `<data value="RAW">formatted</data>`, with what it is a value of, so
/// that a reader (or a test) can tell which released cell it prints.
pub(crate) fn number(
    value: f64,
    decimals: usize,
    lang: Lang,
    cell: &CellRef<'_>,
    field: &str,
) -> String {
    format!(
        "<data value=\"{value}\" data-i=\"{}\" data-t=\"{}\" data-p=\"{}\"{} data-f=\"{field}\">{}</data>",
        esc(cell.indicator),
        esc(cell.territory),
        esc(cell.period),
        if cell.breakdown.is_empty() {
            String::new()
        } else {
            format!(" data-b=\"{}\"", esc(cell.breakdown))
        },
        format_number(value, decimals, lang.locale())
    )
}

/// Which released cell a number is.
pub(crate) struct CellRef<'a> {
    pub indicator: &'a str,
    pub territory: &'a str,
    pub period: &'a str,
    pub breakdown: &'a str,
}

/// The notes of one table: each distinct explanation once, lettered in order of appearance.
#[derive(Default)]
pub(crate) struct Notes {
    items: Vec<String>,
}

impl Notes {
    /// The letter of a note, adding it when new.
    pub fn mark(&mut self, text: &str) -> char {
        let i = match self.items.iter().position(|t| t == text) {
            Some(i) => i,
            None => {
                self.items.push(text.to_string());
                self.items.len() - 1
            }
        };
        (b'a' + (i % 26) as u8) as char
    }

    /// The list of notes under a table (nothing when there are none).
    pub fn render(&self, w: &Words) -> String {
        if self.items.is_empty() {
            return String::new();
        }
        let mut out = format!("<div class=\"notes\"><p>{}</p><ul>", w.notes);
        for (i, t) in self.items.iter().enumerate() {
            out.push_str(&format!(
                "<li><span class=\"mark\">{}</span> {}</li>",
                (b'a' + (i % 26) as u8) as char,
                esc(t)
            ));
        }
        out.push_str("</ul></div>\n");
        out
    }
}

/// The explanation of a flag, in the page's language (empty when the value is as computed).
pub(crate) fn flag_text(o: &Obs, threshold: u64, min_sample: u64, w: &Words) -> String {
    let rule = o.rule.as_str();
    match o.flag.as_str() {
        "" => String::new(),
        "suppressed" => {
            let why = if rule.contains("secondary") {
                w.why_secondary.to_string()
            } else if rule.contains("sample") {
                w.why_sample.replace("{n}", &min_sample.to_string())
            } else if rule.contains("frequency") {
                w.why_frequency.replace("{n}", &threshold.to_string())
            } else if rule.contains("dominance") || rule.contains("p-percent") {
                w.why_dominance.to_string()
            } else if rule.contains("group") {
                w.why_group.to_string()
            } else {
                format!("{} ({rule})", w.why_other)
            };
            format!("{} {why}", w.not_published)
        }
        "rounded" => match rule.rsplit_once("base ") {
            Some((_, base)) => w.rounded_to.replace("{n}", base.trim()),
            None => w.rounded.to_string(),
        },
        "perturbed" => w.perturbed.to_string(),
        "noisy" => w.noisy.to_string(),
        other => format!("{} ({other}: {rule})", w.flagged),
    }
}

/// A table cell with a released value: the number, or "–" with its explanation for a hidden
/// one; a flag adds a lettered note.
pub(crate) fn value_cell(
    ctx: &Ctx,
    lang: Lang,
    found: Option<(&Obs, &crate::released::Series)>,
    indicator: &str,
    decimals: usize,
    notes: &mut Notes,
) -> String {
    let (class, inner) = value_html(ctx, lang, found, indicator, decimals, notes);
    format!("<td class=\"num{class}\">{inner}</td>")
}

/// The content of a value cell and its extra classes (` hid` for a hidden value, ` na` for none
/// released).
pub(crate) fn value_html(
    ctx: &Ctx,
    lang: Lang,
    found: Option<(&Obs, &crate::released::Series)>,
    indicator: &str,
    decimals: usize,
    notes: &mut Notes,
) -> (&'static str, String) {
    let w = words::get(lang);
    let Some((o, s)) = found else {
        return (
            " na",
            format!(
                "<span aria-hidden=\"true\">..</span><span class=\"vh\">{}</span>",
                w.not_released
            ),
        );
    };
    let policy = ctx
        .site
        .publication
        .release(&s.release)
        .map(|r| (r.log.policy.threshold, r.log.policy.min_sample))
        .unwrap_or((0, 0));
    let note = flag_text(o, policy.0, policy.1, w);
    let mark = if note.is_empty() {
        String::new()
    } else {
        format!(
            "<span class=\"vh\"> ({})</span><sup class=\"mark\" aria-hidden=\"true\">{}</sup>",
            esc(&note),
            notes.mark(&note)
        )
    };
    let cell = CellRef {
        indicator,
        territory: &o.territory,
        period: &o.period,
        breakdown: &o.breakdown,
    };
    match o.value {
        Some(v) => (
            "",
            format!("{}{mark}", number(v, decimals, lang, &cell, "value")),
        ),
        None => (" hid", format!("<span aria-hidden=\"true\">–</span>{mark}")),
    }
}

/// The interval of a released value, or an empty cell.
pub(crate) fn interval_cell(
    o: Option<&Obs>,
    indicator: &str,
    decimals: usize,
    lang: Lang,
) -> String {
    match o {
        Some(o) if o.value.is_some() && o.lower.is_some() && o.upper.is_some() => {
            let cell = CellRef {
                indicator,
                territory: &o.territory,
                period: &o.period,
                breakdown: &o.breakdown,
            };
            format!(
                "<td class=\"num\">{} – {}</td>",
                number(o.lower.unwrap_or_default(), decimals, lang, &cell, "lower"),
                number(o.upper.unwrap_or_default(), decimals, lang, &cell, "upper")
            )
        }
        _ => "<td></td>".to_string(),
    }
}

/// A chart's numbers as a table, in a disclosure widget under the chart.
pub(crate) fn chart_table(t: &DataTable, w: &Words) -> String {
    let mut out = format!(
        "<details class=\"chart-data\"><summary>{}</summary>\n<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr>",
        w.chart_numbers,
        esc(&t.title)
    );
    for c in &t.columns {
        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(c)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("<th scope=\"row\">{}</th>", esc(c)));
            } else {
                out.push_str(&format!("<td>{}</td>", esc(c)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div></details>\n");
    out
}

/// A date `YYYY-MM-DD...` as people read it (`31 marzo 2025`, `31 March 2025`), in `<time>`.
pub(crate) fn date(iso: &str, lang: Lang) -> String {
    let day = iso.get(..10).unwrap_or(iso);
    let read = lang.date(day);
    if read == day {
        return esc(day);
    }
    format!("<time datetime=\"{}\">{}</time>", esc(day), esc(&read))
}

/// One link of the navigation or the breadcrumbs.
pub(crate) struct Crumb {
    pub label: String,
    pub page: Option<Page>,
}

/// A whole page: head, skip link, header with the navigation and the language switch,
/// breadcrumbs, `main` with `body`, footer with the releases, provenance and licence.
pub(crate) fn frame(
    ctx: &Ctx,
    lang: Lang,
    page: &Page,
    title: &str,
    crumbs: &[Crumb],
    body: &str,
) -> String {
    let w = words::get(lang);
    let here = ctx.path(page, lang);
    let link = |p: &Page| esc(&Ctx::href(&here, &ctx.path(p, lang)));
    let site_title = &ctx.site.title;
    let mut out = String::with_capacity(body.len() + 4096);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"{}\">\n",
        lang.code(),
        if *page == Page::Home {
            esc(site_title)
        } else {
            format!("{} · {}", esc(title), esc(site_title))
        },
        esc(&Ctx::href(&here, "style.css"))
    ));
    for &other in ctx.site.languages.iter().filter(|l| **l != lang) {
        out.push_str(&format!(
            "<link rel=\"alternate\" hreflang=\"{}\" href=\"{}\">\n",
            other.code(),
            esc(&Ctx::href(&here, &ctx.path(page, other)))
        ));
    }
    out.push_str("</head>\n<body>\n");
    out.push_str(&format!(
        "<a class=\"skip\" href=\"#main\">{}</a>\n<header class=\"site\"><div class=\"wrap\">\n<p class=\"brand\"><a href=\"{}\">{}</a> <span>{}</span></p>\n",
        w.skip,
        link(&Page::Home),
        esc(site_title),
        w.tagline
    ));
    let switch: Vec<String> = ctx
        .site
        .languages
        .iter()
        .filter(|l| **l != lang)
        .map(|&other| {
            let ow = words::get(other);
            format!(
                "<a href=\"{}\" hreflang=\"{}\" lang=\"{}\">{}</a>",
                esc(&Ctx::href(&here, &ctx.path(page, other))),
                other.code(),
                other.code(),
                ow.language_name
            )
        })
        .collect();
    if !switch.is_empty() {
        out.push_str(&format!("<p class=\"lang\">{}</p>\n", switch.join(" ")));
    }
    out.push_str(&format!("<nav aria-label=\"{}\"><ul>\n", w.nav_main));
    let sections = [
        (Page::Home, w.home),
        (Page::Indicators, w.indicators),
        (Page::Territories, w.territories),
        (Page::Services, w.services),
        (Page::Reports, w.reports),
        (Page::Data, w.data),
    ];
    let section_of = |p: &Page| match p {
        Page::Indicator(_) => Page::Indicators,
        Page::Territory(_) => Page::Territories,
        other => other.clone(),
    };
    for (p, label) in sections {
        let current = if p == *page {
            " aria-current=\"page\""
        } else if p == section_of(page) {
            " class=\"in\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<li><a href=\"{}\"{current}>{label}</a></li>\n",
            link(&p)
        ));
    }
    out.push_str("</ul></nav>\n</div></header>\n");
    if *page != Page::Home {
        out.push_str(&format!(
            "<nav class=\"crumbs wrap\" aria-label=\"{}\"><ol>",
            w.breadcrumbs
        ));
        out.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            link(&Page::Home),
            w.home
        ));
        for c in crumbs {
            match &c.page {
                Some(p) => out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    link(p),
                    esc(&c.label)
                )),
                None => out.push_str(&format!(
                    "<li><span aria-current=\"page\">{}</span></li>",
                    esc(&c.label)
                )),
            }
        }
        out.push_str("</ol></nav>\n");
    }
    out.push_str("<main id=\"main\" class=\"wrap\" tabindex=\"-1\">\n");
    out.push_str(body);
    out.push_str("</main>\n");
    out.push_str(&footer(ctx, lang, &here));
    out.push_str("</body>\n</html>\n");
    out
}

/// The footer: the releases shown, how the site was made, the licence.
fn footer(ctx: &Ctx, lang: Lang, here: &str) -> String {
    let w = words::get(lang);
    let mut out = String::from("<footer class=\"site\"><div class=\"wrap\">\n");
    out.push_str(&format!(
        "<h2 class=\"small\">{}</h2>\n<ul>",
        w.releases_shown
    ));
    for r in &ctx.site.publication.releases {
        out.push_str(&format!(
            "<li><cite>{}</cite> (<code>{}</code>), {} {}</li>",
            esc(&r.log.title),
            esc(&r.log.name),
            w.released_on,
            date(&r.log.released_at, lang)
        ));
    }
    out.push_str("</ul>\n");
    out.push_str(&format!(
        "<p>{}</p>\n",
        w.provenance
            .replace("{version}", env!("CARGO_PKG_VERSION"))
            .replace(
                "{registry}",
                if ctx.site.services.is_some() {
                    w.provenance_registry
                } else {
                    ""
                }
            )
    ));
    out.push_str(&format!(
        "<p>{} <a rel=\"license\" href=\"{}\">Creative Commons Attribution 4.0 (CC BY 4.0)</a>. <a href=\"{}\">{}</a></p>\n",
        w.licence,
        w.licence_url,
        esc(&Ctx::href(here, &ctx.path(&Page::Data, lang))),
        w.data_link
    ));
    out.push_str("</div></footer>\n");
    out
}

/// Formats a plain number (not a released value) for the page's language.
pub(crate) fn count(n: usize, lang: Lang) -> String {
    format_number(n as f64, 0, lang.locale())
}
