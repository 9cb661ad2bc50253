use std::path::PathBuf;

/// What can go wrong in the warehouse or a query, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The user's SQL is wrong (syntax, unknown table or column).
    #[error("query error: {0}")]
    Query(String),
    /// Reading or writing the warehouse failed.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The catalog could not be read or written.
    #[error("catalog {}: {message}", path.display())]
    Catalog { path: PathBuf, message: String },
    /// Another `datalab build` holds the lock.
    #[error("another build is running on this project (lock {})\n  hint: wait for it to finish", .0.display())]
    Locked(PathBuf),
    /// A bug or a damaged warehouse.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    pub(crate) fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        EngineError::Io {
            path: path.into(),
            message: err.to_string().to_lowercase(),
        }
    }
}
