//! Microsimulation of benefit rules over household microdata.
//!
//! Rules are code kept in the project: `simulations/rules/ID.toml` (one benefit per file:
//! parameters, dates of validity, eligibility conditions, intermediate values and an amount,
//! each an expression over named household variables, see [`rules`] and [`expr`]) and
//! `simulations/scenarios/NAME.toml` (a baseline, and reforms that override parameters or
//! swap rules). [`simulate`] evaluates a scenario for every [`Household`], with a [`Trace`] that
//! explains any household's result step by step; [`results`] compares a reform with its
//! baseline (cost, beneficiaries, winners and losers by decile and zone, poverty rate and Gini
//! after transfers) and finds non-take-up; [`gate`] sends the tables through the disclosure
//! gate. Only [`data`] reads the warehouse (through `engine`); the rest is pure.

pub mod data;
pub mod expr;
pub mod gate;
pub mod results;
pub mod rules;
pub mod simulate;
#[cfg(test)]
mod tests;

pub use rules::{BenefitRule, Date, RuleSet, Scenario};
pub use simulate::{Household, Outcome, Trace, Value, run_scenario};

use std::path::PathBuf;

/// What can go wrong in a microsimulation.
#[derive(Debug, thiserror::Error)]
pub enum MicrosimError {
    /// Mistakes in rule or scenario files, each naming file, line and key.
    #[error("{}", join(.0))]
    Config(Vec<project::ConfigError>),
    /// A scenario, rule or household that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An expression failed on a household's values (a type mismatch, a division by zero).
    #[error("{file}:{line}: key `{key}`: household {household}: {message}")]
    Eval {
        file: String,
        line: usize,
        key: String,
        household: String,
        message: String,
    },
    /// The warehouse lacks what the simulation reads.
    #[error("{0}")]
    Data(String),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Disclosure(#[from] disclosure::DisclosureError),
}

impl MicrosimError {
    /// Whether the user's input (project files, names, data) is at fault: exit code 2.
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            MicrosimError::Io { .. } | MicrosimError::Disclosure(_)
        )
    }
}

fn join(errors: &[project::ConfigError]) -> String {
    let mut out: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if errors.len() > 1 {
        out.push(format!("{} errors in simulation files", errors.len()));
    }
    out.join("\n")
}
