//! Programmes and projects: what a funder finances, who runs it, what it does and how its
//! results are judged.
//!
//! - [`init`] creates the tables (see [`schema::DDL`]);
//! - [`model`]: the typed rows ([`Programme`], [`Project`], [`ProjectPartner`],
//!   [`Intervention`], [`ProjectThematicArea`], [`Indicator`], [`IndicatorValue`],
//!   [`OutcomeTerm`]) and [`Period`], the partial ISO dates they use;
//! - [`store`]: insert, upsert, delete and list functions; every write takes a
//!   [`rusqlite::Transaction`], so nothing is written outside one;
//! - [`outcome`]: the computed status of outcome-based contract terms;
//! - [`tables`]: the classification tables, computed by SQL over the tables.
//!
//! The `organizations` table belongs to the providers half of the registry: this module only
//! reads and writes its `id`, `name`, `kind`, `legal_form` and `tax_id` columns.

pub mod model;
pub mod outcome;
pub mod schema;
pub mod store;
pub mod tables;

pub use model::{
    Direction, Indicator, IndicatorSubject, IndicatorValue, InnovationClass, Instrument,
    Intervention, OutcomeTerm, PartnerRole, Period, Programme, Project, ProjectPartner,
    ProjectThematicArea,
};
pub use outcome::{OutcomeAssessment, OutcomeStatus, assess, assess_outcome_terms, outcome_table};
pub use schema::init;
pub use store::{
    clear_project_links, delete_intervention, delete_project, get_programme, insert_indicator,
    insert_indicator_value, insert_intervention, insert_outcome_term, insert_programme,
    insert_project, insert_project_partner, insert_project_thematic_area, list_indicator_values,
    list_indicators, list_interventions, list_outcome_terms, list_programmes,
    list_project_partners, list_project_thematic_areas, list_projects, upsert_intervention,
    upsert_programme, upsert_project,
};
pub use tables::{
    Cell, POPULATION_BANDS, Table, classification_tables, projects_by_category,
    projects_by_class_and_instrument, projects_by_population_band, projects_by_quadrant,
    thematic_areas,
};

use std::path::PathBuf;

/// What went wrong with programme data, and whose fault it is.
///
/// Every message names the object (`project 'wecare-m1/AL'`) or the file and line, and the field.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProgrammeError {
    /// A value given by the caller is not acceptable (empty name, negative budget, bad period).
    #[error("{object}: {field}: {message}")]
    Invalid {
        object: String,
        field: &'static str,
        message: String,
    },
    /// A value points at a row that does not exist.
    #[error("{object}: {field}: {target} '{value}' does not exist")]
    NotFound {
        object: String,
        field: &'static str,
        target: &'static str,
        value: String,
    },
    /// A row with the same key is already there.
    #[error("{object} already exists\n  hint: use a new id, or the upsert function to update it")]
    Duplicate { object: String },
    /// A row cannot be removed or replaced because other rows depend on it.
    #[error("{object}: {message}")]
    InUse { object: String, message: String },
    /// An input file cannot be read as a whole (missing, not UTF-8, a required column absent).
    #[error("{}{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), field.as_ref().map(|f| format!(": {f}")).unwrap_or_default())]
    Source {
        file: PathBuf,
        line: Option<u64>,
        field: Option<String>,
        message: String,
    },
    /// The database refused an operation or holds a value this code cannot read.
    #[error("database error while {context}: {message}")]
    Database { context: String, message: String },
    /// A bug: an invariant of this module does not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ProgrammeError {
    /// Whether the input (a source file, a value, a reference) is at fault rather than the
    /// machine.
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            ProgrammeError::Database { .. } | ProgrammeError::Internal(_)
        )
    }
}

impl ProgrammeError {
    /// Wraps a SQLite error with what was being done, keeping only its message.
    pub(crate) fn db(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Self {
        let context = context.into();
        move |err| ProgrammeError::Database {
            context,
            message: err.to_string().to_lowercase(),
        }
    }

    pub(crate) fn invalid(
        object: impl Into<String>,
        field: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ProgrammeError::Invalid {
            object: object.into(),
            field,
            message: message.into(),
        }
    }
}
