//! The crate's error type.

/// What went wrong while protecting a table or a release.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// The input (a table, a policy, a released file) is malformed: the caller's fault.
    #[error("{0}")]
    Input(String),
    /// No protection exists under the constraints (e.g. controlled rounding of this table).
    #[error("{0}")]
    Infeasible(String),
    /// The solver failed on a problem that should have a solution: datalab's fault.
    #[error("solver failed: {0}")]
    Solver(String),
}
