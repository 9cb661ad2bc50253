//! Disclosure control: what may leave the lab, and the proof that it is safe.
//!
//! `disclosure` owns the statistical disclosure control of everything that an outside reader
//! can see: the rules that find risky cells in frequency and magnitude tables ([`rules`]), the
//! secondary suppression that stops recalculation from margins ([`suppress`]), the alternatives
//! to suppression (rounding, the cell-key method, differentially private counts), microdata
//! protection (k-anonymity, l-diversity) and the attacker that checks a release by linear
//! programming ([`attack`]).
//!
//! It must not know how tables are computed from the warehouse, nor HTTP, nor file layouts of
//! reports: it receives [`table::Table`]s with their contributors' statistics and returns what
//! may be shown. Extension points: a new rule is one file in `rules/` implementing
//! [`rules::Rule`].

pub mod attack;
pub mod cellkey;
pub mod dp;
mod error;
mod lp;
pub mod microdata;
pub mod release;
pub mod round;
pub mod rules;
pub mod suppress;
pub mod table;

pub use error::DisclosureError;
pub use table::{Cell, Constraint, Dim, Kind, Protection, TOTAL, Table};
