//! The registry of who provides which welfare services where.
//!
//! `registry` owns the providers-and-services registry: organizations (public bodies, third
//! sector, for profit), their services, locations, schedules, costs, funding and contacts,
//! modelled on the Open Referral Human Services Data Specification 3.0 ([`model`], field names
//! as in HSDS), plus the city's extensions: operators, capacity, and contracts between
//! organizations. It keeps them in SQLite ([`Registry`]) with the history of every change
//! (`as_of` rebuilds any past date), reads and writes HSDS JSON, the HSDS tabular datapackage
//! and plain CSV ([`hsds`], [`tabular`]), reports duplicates and stale records ([`quality`]), and
//! builds the in-memory search of the public map of services ([`search`]: Italian text, BM25F,
//! filters by need, group, zone, age and opening hours).
//!
//! It must not know the warehouse (the binary's build step copies its tables into
//! `registry_<table>` snapshots), the cube (needs arrive as plain numbers, [`supply`]),
//! disclosure control or HTTP; it does no network I/O. Extension points: a new object is a struct plus a [`record::TableDef`] in [`model`] and a
//! migration in `schema.rs`; other registry modules add their tables through
//! [`schema::EXTRA_SCHEMA`] and reach SQLite through [`Registry::connection`].
//!
//! The programmes half ([`programme`]) shares the database and the `organizations` table:
//! funders' programmes, their projects, partners, interventions, indicators and outcome-based
//! contract terms, with classification tables computed by SQL; the WeCaRe loader ([`wecare`]);
//! the organization–project network and service overlaps ([`network`]).

pub mod codes;
mod error;
pub mod hsds;
mod import;
pub mod model;
pub mod network;
pub mod programme;
pub mod quality;
pub mod record;
pub mod schedule;
pub mod schema;
pub mod search;
mod store;
pub mod supply;
pub mod tabular;
#[cfg(test)]
mod testutil;
pub mod wecare;

pub use error::{RegistryError, Result};

/// The registry's file in a lab project folder.
pub const REGISTRY_FILE: &str = "registry.sqlite";
pub use import::Imported;
pub use model::*;
pub use quality::{Duplicate, DuplicateReason, Stale, StaleReason};
pub use record::Record;
pub use schedule::OpenService;
pub use search::{Hit, Query, SearchIndex};
pub use store::{Change, Edit, Op, Registry};
