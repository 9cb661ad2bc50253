//! Population projection by the cohort-component method, by single year of age (0 to the open
//! interval 100+), sex and zone, in yearly steps from a base year to a horizon.
//!
//! Ages are *cohort ages*: a person's age in year `t` is `t - birth_year`, their age on
//! 31 December, the convention of the register snapshots and of `residents.age`. Every event
//! of year `t` is classified by the same age, so one cohort moves from age `x - 1` on
//! 31 December `t - 1` to age `x` on 31 December `t` and the register's accounting holds
//! exactly: `P(z, s, x, t) = P(z, s, x - 1, t - 1) + births - deaths + immigrants -
//! emigrants + in-moves - out-moves` (Lexis period-cohort parallelograms; Preston, Heuveline &
//! Guillot 2001, *Demography*, §2.4).
//!
//! - [`rates`] estimates the rates from observed transitions (pure: it gets counts, not files);
//! - [`smooth`] holds the smoothing: empirical-Bayes shrinkage of small zones towards the city
//!   and the Kannisto model that closes mortality at old ages;
//! - [`model`] runs the projection and checks the accounting identity at every step;
//! - [`scenario`] reads `projections/NAME.toml` (assumptions and demand statuses);
//! - [`demand`] turns projected people into projected demand (headship-rate style shares);
//! - [`publish`] rounds tables meant for outside the lab with the disclosure gate's rule;
//! - [`warehouse`] is the only part that reads the lab's warehouse (through `engine`).

pub mod demand;
pub mod model;
pub mod publish;
pub mod rates;
pub mod scenario;
pub mod smooth;
pub mod warehouse;

pub use demand::{DemandProjection, StatusShares};
pub use model::{Assumptions, Projection, ZoneComponents, project};
pub use rates::{Observed, Rates, Transition, estimate};
pub use scenario::{DemandSpec, Scenario};

use std::path::PathBuf;

/// The open age interval: age 100 stands for 100 and over.
pub const OPEN_AGE: usize = 100;
/// Number of age classes (0..=[`OPEN_AGE`]).
pub const AGES: usize = OPEN_AGE + 1;
/// Mothers' ages with fertility (cohort ages, inclusive).
pub const FERTILE_AGES: std::ops::RangeInclusive<usize> = 15..=49;

/// Sex, as the register writes it (`M`, `F`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    Male = 0,
    Female = 1,
}

impl Sex {
    /// Both sexes, in index order.
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];

    /// The register's code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }

    /// The sex of a register code.
    pub fn from_code(code: &str) -> Option<Sex> {
        match code {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            _ => None,
        }
    }

    /// Index in a [`ByAge`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A number per sex and single year of age (`[sex][age]`, age [`OPEN_AGE`] open): people,
/// events or rates of one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ByAge(pub [[f64; AGES]; 2]);

impl Default for ByAge {
    fn default() -> Self {
        ByAge([[0.0; AGES]; 2])
    }
}

impl ByAge {
    /// The value for a sex and an age (ages above [`OPEN_AGE`] fall in the open interval).
    pub fn get(&self, sex: Sex, age: usize) -> f64 {
        self.0[sex.index()][age.min(OPEN_AGE)]
    }

    /// Adds `v` at a sex and an age (ages above [`OPEN_AGE`] go to the open interval).
    pub fn add(&mut self, sex: Sex, age: usize, v: f64) {
        self.0[sex.index()][age.min(OPEN_AGE)] += v;
    }

    /// Sum over sexes and ages.
    pub fn total(&self) -> f64 {
        self.0.iter().flatten().sum()
    }

    /// Sum over ages of one sex.
    pub fn total_of(&self, sex: Sex) -> f64 {
        self.0[sex.index()].iter().sum()
    }

    /// The population of 31 December `t - 1` at the ages it reaches on 31 December `t`: age
    /// `x - 1` becomes `x`, age 0 is empty (filled by births), the open interval gains the
    /// 99-year-olds and keeps its own.
    pub fn aged(&self) -> ByAge {
        let mut out = ByAge::default();
        for s in 0..2 {
            for x in 1..AGES {
                out.0[s][x] = self.0[s][x - 1];
            }
            out.0[s][OPEN_AGE] += self.0[s][OPEN_AGE];
        }
        out
    }
}

/// Everything that can go wrong in a projection.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// A mistake in `projections/NAME.toml`, located (`file:line:col: key ...`).
    #[error("{}", join(.0))]
    Config(Vec<project::ConfigError>),
    /// The file could not be read.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The warehouse lacks what the projection needs (no build, no register year, a missing
    /// model).
    #[error("{0}")]
    Input(String),
    /// A query over the warehouse failed.
    #[error("query for {what} failed: {message}")]
    Query { what: String, message: String },
    /// The accounting identity failed: a bug, never the data's fault.
    #[error(
        "internal error: components do not balance in {year} for zone {zone}: residual {residual}"
    )]
    Unbalanced {
        year: i32,
        zone: String,
        residual: f64,
    },
}

impl ProjectionError {
    /// Whether the user's input is at fault (exit code 2) rather than the program (1).
    pub fn is_input(&self) -> bool {
        !matches!(self, ProjectionError::Unbalanced { .. })
    }
}

fn join(errors: &[project::ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
