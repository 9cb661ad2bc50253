//! A report as one self-contained HTML file: inline CSS and SVG, no script, no external
//! resource; every released number in a `<data value>` element.

use pulldown_cmark::{Options, Parser, html::push_html};

use super::Meta;
use super::blocks::{Block, Cell, Prov, provenance};
use super::locale::Key;
use super::template::{Doc, block_of, split_markers};
use crate::site::html::esc;

const CSS: &str = include_str!("report.css");

pub(crate) fn render(doc: &Doc, meta: &Meta) -> String {
    let lang = meta.lang;
    let mut body = String::new();
    for chunk in chunks(&doc.markdown) {
        match chunk {
            Chunk::Markdown(md) => {
                let mut html = String::new();
                push_html(&mut html, Parser::new_ext(md, Options::empty()));
                body.push_str(&numbers(&html, doc));
            }
            Chunk::Block(i) => {
                if let Some(b) = doc.blocks.get(i) {
                    body.push_str(&block(b, i));
                }
            }
        }
    }
    let mut prov = String::new();
    for p in provenance(meta) {
        match p {
            Prov::Heading(h) => prov.push_str(&format!("<h3>{}</h3>\n", esc(&h))),
            Prov::Para(t) => prov.push_str(&format!("<p>{}</p>\n", esc(&t))),
            Prov::Table(b) => prov.push_str(&block(&b, usize::MAX)),
        }
    }
    let toc = toc(&body);
    let body = number_sections(&body);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"datalab {version}\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header class=\"cover\">\n<p class=\"author\">{author}</p>\n<h1>{title}</h1>\n\
         <p class=\"subtitle\">{subtitle}</p>\n<p class=\"date\"><time datetime=\"{date}\">{date_text}</time></p>\n</header>\n\
         <nav aria-label=\"{contents}\">\n<h2>{contents}</h2>\n{toc}</nav>\n\
         <main>\n{body}</main>\n\
         <section id=\"provenance\" aria-labelledby=\"provenance-h\">\n<h2 id=\"provenance-h\">{prov_title}</h2>\n{prov}</section>\n\
         </body>\n</html>\n",
        code = lang.code(),
        version = esc(&meta.version),
        title = esc(&meta.title),
        author = esc(&meta.author),
        subtitle = esc(&meta.subtitle),
        date = esc(&meta.date),
        date_text = esc(&lang.date(&meta.date)),
        contents = lang.t(Key::Contents),
        prov_title = lang.t(Key::Provenance),
    )
}

/// Markdown between block markers, and the blocks.
pub(crate) enum Chunk<'a> {
    Markdown(&'a str),
    Block(usize),
}

/// Splits the expanded Markdown at lines holding only a block marker.
pub(crate) fn chunks(markdown: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in markdown.split_inclusive('\n') {
        if let Some(i) = block_of(line) {
            if pos > start {
                out.push(Chunk::Markdown(&markdown[start..pos]));
            }
            out.push(Chunk::Block(i));
            start = pos + line.len();
        }
        pos += line.len();
    }
    if start < markdown.len() {
        out.push(Chunk::Markdown(&markdown[start..]));
    }
    out
}

/// Replaces inline number markers in rendered HTML with `<data>` elements.
fn numbers(html: &str, doc: &Doc) -> String {
    split_markers(html)
        .into_iter()
        .map(|piece| match piece {
            Ok(text) => text.to_string(),
            Err(i) => match doc.inline.get(i) {
                Some((Some(v), text)) => format!("<data value=\"{v}\">{}</data>", esc(text)),
                Some((None, text)) => {
                    format!("<data value=\"\" class=\"hidden\">{}</data>", esc(text))
                }
                None => String::new(),
            },
        })
        .collect()
}

fn block(b: &Block, i: usize) -> String {
    match b {
        Block::Chart(c) => {
            let mut rows = String::new();
            for r in &c.table.rows {
                rows.push_str("<tr>");
                for (j, cell) in r.iter().enumerate() {
                    if j == 0 {
                        rows.push_str(&format!("<th scope=\"row\">{}</th>", esc(cell)));
                    } else {
                        rows.push_str(&format!("<td class=\"num\">{}</td>", esc(cell)));
                    }
                }
                rows.push_str("</tr>\n");
            }
            let head: String = c
                .table
                .columns
                .iter()
                .map(|h| format!("<th scope=\"col\">{}</th>", esc(h)))
                .collect();
            format!(
                "<figure class=\"chart\" id=\"figure-{i}\">\n{svg}\n<details><summary>{title}</summary>\n\
                 <table><caption>{title}</caption><thead><tr>{head}</tr></thead><tbody>\n{rows}</tbody></table>\n\
                 </details>\n</figure>\n",
                svg = c.svg.trim_end(),
                title = esc(&c.table.title),
            )
        }
        Block::Table {
            caption,
            header,
            rows,
            note,
        } => {
            let head: String = header
                .iter()
                .map(|h| format!("<th scope=\"col\">{}</th>", esc(h)))
                .collect();
            let mut body = String::new();
            for r in rows {
                body.push_str("<tr>");
                for (j, cell) in r.iter().enumerate() {
                    let class = if cell.is_number() {
                        " class=\"num\""
                    } else {
                        ""
                    };
                    let content = match cell {
                        Cell::Number {
                            value: Some(v),
                            text,
                        } => format!("<data value=\"{v}\">{}</data>", esc(text)),
                        Cell::Number { value: None, text } => {
                            format!("<data value=\"\" class=\"hidden\">{}</data>", esc(text))
                        }
                        Cell::Text(t) => esc(t),
                    };
                    if j == 0 {
                        body.push_str(&format!("<th scope=\"row\">{content}</th>"));
                    } else {
                        body.push_str(&format!("<td{class}>{content}</td>"));
                    }
                }
                body.push_str("</tr>\n");
            }
            let note = note
                .as_ref()
                .map(|n| format!("<p class=\"note\">{}</p>\n", esc(n)))
                .unwrap_or_default();
            format!(
                "<figure class=\"table\">\n<table><caption>{}</caption><thead><tr>{head}</tr></thead>\
                 <tbody>\n{body}</tbody></table>\n{note}</figure>\n",
                esc(caption)
            )
        }
    }
}

/// A table of contents from the `<h2>` headings, which get ids.
fn toc(body: &str) -> String {
    let mut out = String::from("<ol>\n");
    let mut n = 0;
    let mut rest = body;
    while let Some(s) = rest.find("<h2>") {
        let after = &rest[s + 4..];
        let Some(e) = after.find("</h2>") else { break };
        n += 1;
        out.push_str(&format!(
            "<li><a href=\"#s{n}\">{}</a></li>\n",
            strip_tags(&after[..e])
        ));
        rest = &after[e..];
    }
    out.push_str("</ol>\n");
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Gives `<h2>` headings the ids the table of contents links to.
fn number_sections(body: &str) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut rest = body;
    while let Some(s) = rest.find("<h2>") {
        n += 1;
        out.push_str(&rest[..s]);
        out.push_str(&format!("<h2 id=\"s{n}\">"));
        rest = &rest[s + 4..];
    }
    out.push_str(rest);
    out
}
