//! What the lab publishes, built only from what the disclosure gate released.
//!
//! `report` owns the lab's publications: open data ([`opendata`]: the released tables as CSV,
//! JSON and SDMX-CSV with their data structure and codelists, and catalogue metadata in
//! DCAT-AP_IT for a CKAN portal), data packs for district planning ([`datapack`]: per district,
//! its released indicators and tables, needs against the registry's supply and the registry's
//! services, as CSV, XLSX and a Frictionless data package with an Italian README), charts and
//! maps ([`chart`]: line charts with interval bands, bars, population pyramids, funnel plots,
//! choropleth and point maps, sparklines, each a small deterministic and accessible SVG with its
//! numbers as a table), reports from the project's templates ([`document`]: HTML and PDF, Italian
//! and English) and the static site ([`site`]: home, indicator, territory, services, reports and
//! open data pages in Italian and English that work from disk). The charts take plain data
//! (series, categories, GeoJSON text) and do no I/O.
//!
//! It reads releases through `disclosure::release` (every file checked against the hash the
//! gate recorded, non-public releases refused), and [`released::Publication`] is where every
//! publication takes its numbers: it never reads the warehouse, the cube or microdata, so
//! nothing unchecked can reach a publication. Besides releases it reads only the project's
//! boundaries and the public fields of its registry of providers (organizations, not people;
//! never its contacts). It knows nothing of HTTP, does no network I/O and reads no environment
//! variable.

pub mod chart;
pub mod datapack;
pub mod document;
mod folder;
#[cfg(test)]
mod golden;
pub mod opendata;
pub mod released;
pub mod site;

/// What went wrong while publishing; `Release` and `Input` are the project's fault.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The release cannot be read or was tampered with.
    #[error(transparent)]
    Release(#[from] disclosure::release::ReleaseError),
    /// The registry of providers cannot be read.
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    /// A released file or a request does not fit what is being published.
    #[error("{0}")]
    Input(String),
    /// Writing the publication failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl ReportError {
    /// Whether the project or the request is at fault rather than the machine.
    pub fn is_input(&self) -> bool {
        match self {
            ReportError::Release(r) => r.is_input(),
            ReportError::Registry(r) => r.is_input(),
            ReportError::Input(_) => true,
            ReportError::Io { .. } => false,
        }
    }
}
