//! A report as PDF: the expanded template turned into Typst markup and typeset by Typst as a
//! library, in a world of files held in memory (the markup and the charts' SVG) with the fonts
//! bundled in the binary. No network, no clock: the document date is the release date.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use super::Meta;
use super::blocks::{Block, Cell, Prov, provenance};
use super::html::{Chunk, chunks};
use super::locale::Key;
use super::template::{Doc, split_markers};
use crate::ReportError;

/// The bundled fonts, parsed once.
static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = FontBook::from_fonts(&fonts);
    (LazyHash::new(book), fonts)
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// Typesets the report; returns the PDF and its page count.
pub(crate) fn render(doc: &Doc, meta: &Meta) -> Result<(Vec<u8>, usize), ReportError> {
    let (markup, files) = typst_source(doc, meta);
    let world = MemoryWorld::new(markup, files, &meta.date);
    let compiled = typst::compile::<PagedDocument>(&world);
    let document = compiled
        .output
        .map_err(|e| failed("typesetting the report", &e))?;
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(meta.template.clone()),
        ..typst_pdf::PdfOptions::default()
    };
    let bytes = typst_pdf::pdf(&document, &options).map_err(|e| failed("writing the PDF", &e))?;
    let pages = document.pages().len();
    // Typst memoizes across compilations; a long-lived process (the site, a server) must not
    // keep every report's layout: drop what the last few compilations did not use.
    typst::comemo::evict(4);
    Ok((bytes, pages))
}

/// Typst's diagnostics as one error.
fn failed(what: &str, errors: &[typst::diag::SourceDiagnostic]) -> ReportError {
    let messages: Vec<String> = errors.iter().map(|e| e.message.to_string()).collect();
    ReportError::Input(format!("{what} failed: {}", messages.join("; ")))
}

/// A Typst string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as markup: `#"..."`.
fn text(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("#{}", lit(s))
    }
}

/// The Typst markup of the report and the files it refers to (the charts).
fn typst_source(doc: &Doc, meta: &Meta) -> (String, BTreeMap<String, Vec<u8>>) {
    let lang = meta.lang;
    let mut files = BTreeMap::new();
    let mut s = String::new();
    let (y, m, d) = ymd(&meta.date);
    s.push_str(&format!(
        "#set document(title: {title}, author: {author}, date: datetime(year: {y}, month: {m}, day: {d}))\n\
         #set text(font: \"Libertinus Serif\", size: 10.5pt, lang: \"{code}\")\n\
         #set par(justify: true)\n\
         #set heading(numbering: \"1.1\")\n\
         #show heading.where(level: 1): set block(above: 1.8em, below: 0.9em)\n\
         #show figure.where(kind: table): set figure.caption(position: top)\n\
         #show figure.caption: set text(size: 9pt)\n\
         #show table.cell.where(y: 0): set text(weight: \"bold\")\n\
         #set table(stroke: (x, y) => if y == 0 {{ (bottom: 0.8pt) }} else {{ (bottom: 0.3pt + luma(200)) }}, inset: (x: 4pt, y: 3pt))\n\
         #set page(paper: \"a4\", margin: (x: 2.2cm, top: 2.4cm, bottom: 2.2cm),\n  \
           header: context {{ if counter(page).get().first() > 1 [ #set text(8pt, fill: luma(90)); {title_t} #h(1fr) {year} ] }},\n  \
           footer: context {{ if counter(page).get().first() > 1 [ #set text(8pt, fill: luma(90)); #h(1fr) {page} #counter(page).display() {of} #counter(page).final().first() #h(1fr) ] }})\n",
        title = lit(&meta.title),
        author = lit(&meta.author),
        code = lang.code(),
        title_t = text(&meta.title),
        year = meta.year,
        page = lang.t(Key::Page),
        of = lang.t(Key::Of),
    ));
    // Cover
    s.push_str(&format!(
        "#align(left + horizon)[\n#text(11pt, fill: luma(80))[{author}]\n#v(0.6em)\n\
         #text(24pt, weight: \"bold\", hyphenate: false)[{title}]\n#v(0.4em)\n#text(13pt)[{subtitle}]\n#v(1.2em)\n\
         #line(length: 40%, stroke: 2pt + rgb(\"#0b5394\"))\n#v(0.6em)\n#text(10pt)[{date}]\n]\n\
         #pagebreak()\n#outline(title: {contents}, depth: 2)\n#pagebreak()\n",
        author = text(&meta.author),
        title = text(&meta.title),
        subtitle = text(&meta.subtitle),
        date = text(&lang.date(&meta.date)),
        contents = lit(lang.t(Key::Contents)),
    ));
    for chunk in chunks(&doc.markdown) {
        match chunk {
            Chunk::Markdown(md) => s.push_str(&markdown(md, doc)),
            Chunk::Block(i) => {
                if let Some(b) = doc.blocks.get(i) {
                    s.push_str(&block(b, i, &mut files));
                }
            }
        }
    }
    s.push_str(&format!(
        "\n#heading(numbering: none)[{}]\n#set text(9pt)\n",
        text(lang.t(Key::Provenance))
    ));
    for (j, p) in provenance(meta).into_iter().enumerate() {
        match p {
            Prov::Heading(h) => s.push_str(&format!(
                "\n#heading(level: 2, numbering: none, outlined: false)[{}]\n",
                text(&h)
            )),
            Prov::Para(t) => s.push_str(&format!("\n{}\n", text(&t))),
            Prov::Table(b) => s.push_str(&block(&b, 100_000 + j, &mut files)),
        }
    }
    (s, files)
}

fn ymd(date: &str) -> (i32, u32, u32) {
    let part = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<u32>().ok());
    (
        part(0..4).map_or(1970, |y| y as i32),
        part(5..7).unwrap_or(1),
        part(8..10).unwrap_or(1),
    )
}

/// Markdown to Typst markup: headings, paragraphs, emphasis, lists, links, code, quotes, rules.
fn markdown(md: &str, doc: &Doc) -> String {
    let mut s = String::new();
    let mut lists: Vec<bool> = Vec::new();
    for ev in Parser::new_ext(md, Options::empty()) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                let n = match level {
                    HeadingLevel::H1 | HeadingLevel::H2 => 1,
                    HeadingLevel::H3 => 2,
                    _ => 3,
                };
                s.push_str(&format!("\n{} ", "=".repeat(n)));
            }
            Event::End(TagEnd::Heading(_)) => s.push('\n'),
            Event::Start(Tag::Paragraph) => {
                if lists.is_empty() {
                    s.push('\n');
                }
            }
            Event::End(TagEnd::Paragraph) => {
                if lists.is_empty() {
                    s.push_str("\n\n");
                } else {
                    s.push(' ');
                }
            }
            Event::Start(Tag::Emphasis) => s.push_str("#emph["),
            Event::Start(Tag::Strong) => s.push_str("#strong["),
            Event::End(
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Link | TagEnd::BlockQuote(_),
            ) => {
                s.push(']');
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                s.push_str(&format!("#link({})[", lit(&dest_url)));
            }
            Event::Start(Tag::BlockQuote(_)) => s.push_str("\n#quote(block: true)["),
            Event::Start(Tag::List(start)) => {
                lists.push(start.is_some());
                s.push('\n');
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                s.push('\n');
            }
            Event::Start(Tag::Item) => {
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                let mark = if lists.last() == Some(&true) {
                    "+"
                } else {
                    "-"
                };
                s.push_str(&format!("\n{indent}{mark} "));
            }
            Event::End(TagEnd::Item) => {}
            Event::Start(Tag::CodeBlock(_)) => s.push_str("\n#raw(block: true, "),
            Event::End(TagEnd::CodeBlock) => s.push_str(")\n"),
            Event::Text(t) => {
                for piece in split_markers(&t) {
                    match piece {
                        Ok(t) => s.push_str(&text(t)),
                        Err(i) => {
                            if let Some((_, t)) = doc.inline.get(i) {
                                s.push_str(&text(t));
                            }
                        }
                    }
                }
            }
            Event::Code(t) => s.push_str(&format!("#raw({})", lit(&t))),
            Event::SoftBreak => s.push(' '),
            Event::HardBreak => s.push_str(" \\\n"),
            Event::Rule => s.push_str("\n#line(length: 100%, stroke: 0.4pt)\n"),
            _ => {}
        }
    }
    s
}

fn block(b: &Block, i: usize, files: &mut BTreeMap<String, Vec<u8>>) -> String {
    match b {
        Block::Chart(c) => {
            let name = format!("figure-{i}.svg");
            files.insert(name.clone(), c.svg.as_bytes().to_vec());
            format!(
                "\n#figure(image({}, width: 100%, alt: {}), kind: image, supplement: none)\n",
                lit(&name),
                lit(&c.table.title)
            )
        }
        Block::Table {
            caption,
            header,
            rows,
            note,
        } => {
            let n = header.len();
            let numeric: Vec<bool> = (0..n)
                .map(|j| j > 0 && rows.iter().any(|r| r.get(j).is_some_and(Cell::is_number)))
                .collect();
            let align: Vec<&str> = numeric
                .iter()
                .map(|&x| if x { "right" } else { "left" })
                .collect();
            let mut t = format!(
                "\n#figure(kind: table, caption: [{}],\n  table(columns: {}, align: ({},),\n    table.header({}),\n",
                text(caption),
                n,
                align.join(", "),
                header
                    .iter()
                    .map(|h| format!("[{}]", text(h)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for r in rows {
                let cells: Vec<String> =
                    r.iter().map(|c| format!("[{}]", text(c.text()))).collect();
                t.push_str(&format!("    {},\n", cells.join(", ")));
            }
            t.push_str("  ))\n");
            if let Some(note) = note {
                t.push_str(&format!("#text(8pt, fill: luma(90))[{}]\n", text(note)));
            }
            t
        }
    }
}

/// Files in memory: the markup and the charts.
struct MemoryWorld {
    main: FileId,
    source: Source,
    files: std::collections::HashMap<FileId, Bytes>,
    today: Option<Datetime>,
}

impl MemoryWorld {
    fn new(markup: String, files: BTreeMap<String, Vec<u8>>, date: &str) -> MemoryWorld {
        let id = |path: &str| {
            FileId::new(RootedPath::new(
                VirtualRoot::Project,
                VirtualPath::new(path).expect("a valid virtual path"),
            ))
        };
        let main = id("main.typ");
        let (y, m, d) = ymd(date);
        MemoryWorld {
            main,
            source: Source::new(main, markup),
            files: files
                .into_iter()
                .map(|(name, bytes)| (id(&name), Bytes::new(bytes)))
                .collect(),
            today: Datetime::from_ymd(y, m as u8, d as u8),
        }
    }
}

impl World for MemoryWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::NotFound(
                id.get().vpath().get_without_slash().into(),
            ))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(id.get().vpath().get_without_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}
