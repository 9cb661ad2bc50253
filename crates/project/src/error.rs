//! Errors of the project crate: every configuration mistake names the file, the line, the key,
//! and where it can, a hint.

use std::fmt;
use std::path::PathBuf;

/// A mistake in a project file, located.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file, as given (relative to the working directory or absolute).
    pub file: PathBuf,
    /// 1-based line of the offending key or value (0 when the file as a whole is at fault).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted path of the key, e.g. `columns[3].type`.
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": key `{}`: {}", self.key, self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while reading a project.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The folder has no `datalab.toml`.
    #[error(
        "{}: not a datalab project (no datalab.toml)\n  hint: create one with `datalab init {}` or pass --project",
        .0.display(), .0.display()
    )]
    NotAProject(PathBuf),
    /// A file could not be read or written.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// One or more configuration mistakes (all of them are reported, not just the first).
    #[error("{}", join_errors(.0))]
    Config(Vec<ConfigError>),
}

impl ProjectError {
    pub(crate) fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        ProjectError::Io {
            path: path.into(),
            message: err.to_string().to_lowercase(),
        }
    }

    /// The located mistakes, when this is a configuration error.
    pub fn config_errors(&self) -> &[ConfigError] {
        match self {
            ProjectError::Config(errors) => errors,
            _ => &[],
        }
    }
}

fn join_errors(errors: &[ConfigError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&e.to_string());
    }
    if errors.len() > 1 {
        out.push_str(&format!("\n{} configuration errors", errors.len()));
    }
    out
}
