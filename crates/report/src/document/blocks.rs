//! Figures and tables between a report's paragraphs, and the provenance section, as plain data
//! that the HTML and PDF writers each turn into their markup.

use super::Meta;
use super::locale::Key;
use crate::chart::Chart;

/// A figure or a table.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A chart or map, with its numbers as a table.
    Chart(Chart),
    Table {
        caption: String,
        header: Vec<String>,
        rows: Vec<Vec<Cell>>,
        note: Option<String>,
    },
}

/// A table cell: text, or a released number with its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Number { value: Option<f64>, text: String },
}

impl Cell {
    pub(crate) fn text(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Number { text: t, .. } => t,
        }
    }

    pub(crate) fn is_number(&self) -> bool {
        match self {
            Cell::Number { .. } => true,
            Cell::Text(t) => {
                !t.is_empty()
                    && t.chars()
                        .all(|c| c.is_ascii_digit() || ".,-–  ".contains(c))
            }
        }
    }
}

/// A piece of the provenance section.
#[derive(Debug, Clone)]
pub(crate) enum Prov {
    Heading(String),
    Para(String),
    Table(Block),
}

/// The provenance section: the releases, their input snapshots, the disclosure rules and what
/// they did, the attacker's verdict, the template and the version that rendered it.
pub(crate) fn provenance(meta: &Meta) -> Vec<Prov> {
    let lang = meta.lang;
    let t = |k| lang.t(k).to_string();
    let mut out = Vec::new();
    for log in &meta.releases {
        out.push(Prov::Heading(format!(
            "{} {}: {}",
            t(Key::Release),
            log.name,
            log.title
        )));
        out.push(Prov::Para(format!(
            "{} {} {} {} (datalab {}). {}: {} {}, {} {}, {} {}.",
            log.name,
            t(Key::ReleasedOn),
            lang.date(&log.released_at),
            t(Key::By).to_owned() + " " + &log.released_by,
            log.datalab_version,
            t(Key::Attack),
            log.attack.frames,
            t(Key::Frames),
            log.attack.suppressed_cells,
            t(Key::SuppressedCells),
            log.attack.breaches,
            t(Key::Breaches),
        )));
        out.push(Prov::Para(format!(
            "{}: {} {}; {} {}.",
            t(Key::Policy),
            t(Key::Threshold),
            log.policy.threshold,
            t(Key::Method).to_lowercase(),
            format!("{:?}", log.policy.method).to_lowercase()
        )));
        out.push(Prov::Table(Block::Table {
            caption: t(Key::Inputs),
            header: vec![t(Key::Table), t(Key::Snapshot)],
            rows: log
                .inputs
                .iter()
                .map(|(table, snap)| vec![Cell::Text(table.clone()), Cell::Text(snap.clone())])
                .collect(),
            note: None,
        }));
        out.push(Prov::Table(Block::Table {
            caption: t(Key::Policy),
            header: vec![
                t(Key::Output),
                t(Key::Method),
                t(Key::Primary),
                t(Key::Secondary),
            ],
            rows: log
                .outputs
                .iter()
                .filter(|o| o.kind != "microdata")
                .map(|o| {
                    vec![
                        Cell::Text(o.name.clone()),
                        Cell::Text(o.method.clone()),
                        Cell::Text(lang.number(o.primary as f64, 0)),
                        Cell::Text(lang.number(o.secondary as f64, 0)),
                    ]
                })
                .collect(),
            note: None,
        }));
    }
    out.push(Prov::Para(format!(
        "{} datalab {}, {} {}.",
        t(Key::Generated),
        meta.version,
        t(Key::Template),
        meta.template
    )));
    out
}
