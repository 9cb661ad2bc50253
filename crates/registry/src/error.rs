//! The crate's error type.

use std::fmt;

/// What went wrong in the registry, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// An imported file is malformed: the file's fault. `line` is the CSV line where the record
    /// starts (none for JSON, whose `field` is then a JSON path such as `$[2].organization.tax_id`).
    #[error("{}: {field}: {message}", Where(file, *line))]
    Input {
        file: String,
        line: Option<u64>,
        field: String,
        message: String,
    },
    /// An object given to the API breaks a rule of the model (a missing name, a bad code, an age
    /// range upside down): the caller's fault.
    #[error("{object}: {field}: {message}")]
    Invalid {
        object: String,
        field: String,
        message: String,
    },
    /// A change would break reference integrity (a dangling reference, a deletion of something
    /// still referenced, a duplicate id): the caller's fault.
    #[error("{object}: {field}: {message}")]
    Integrity {
        object: String,
        field: String,
        message: String,
    },
    /// The registry file was written by a newer datalab.
    #[error(
        "{path}: registry format {found} is newer than this datalab knows ({known})\n  hint: upgrade datalab"
    )]
    Version {
        path: String,
        found: i64,
        known: i64,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// SQLite failed: the environment's fault (disk, permissions) or a damaged registry.
    #[error("registry storage: {0}")]
    Storage(String),
}

impl RegistryError {
    /// Whether the input (a file, a value, a reference) is at fault rather than the machine.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            RegistryError::Input { .. }
                | RegistryError::Invalid { .. }
                | RegistryError::Integrity { .. }
                | RegistryError::Version { .. }
        )
    }
}

struct Where<'a>(&'a str, Option<u64>);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl RegistryError {
    pub(crate) fn io(path: &std::path::Path, err: &std::io::Error) -> Self {
        RegistryError::Io {
            path: path.display().to_string(),
            message: err.to_string().to_lowercase(),
        }
    }
}

impl From<rusqlite::Error> for RegistryError {
    fn from(err: rusqlite::Error) -> Self {
        RegistryError::Storage(err.to_string().to_lowercase())
    }
}

/// The crate's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_field() {
        let e = RegistryError::Input {
            file: "services.csv".into(),
            line: Some(4),
            field: "minimum_age".into(),
            message: "expected a whole number, found `ten`".into(),
        };
        assert_eq!(
            e.to_string(),
            "services.csv:4: minimum_age: expected a whole number, found `ten`"
        );
        let e = RegistryError::Input {
            file: "hsds.json".into(),
            line: None,
            field: "$[0].organization.name".into(),
            message: "missing required field".into(),
        };
        assert_eq!(
            e.to_string(),
            "hsds.json: $[0].organization.name: missing required field"
        );
    }
}
