use std::path::PathBuf;

/// Why a build failed, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The project configuration is wrong.
    #[error(transparent)]
    Project(#[from] project::ProjectError),
    /// An input file cannot be read as declared (wrong encoding, truncated, not the declared
    /// format, header does not match the spec). The previous snapshot stays in place.
    #[error("{}{}: {message}{}", path.display(), location(*line, *byte), hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    File {
        path: PathBuf,
        /// 1-based line (or sheet row), 0 when unknown.
        line: u64,
        /// Byte offset, when known.
        byte: Option<u64>,
        message: String,
        hint: Option<String>,
    },
    /// A declared glob matched nothing.
    #[error("source `{source_name}`: no file matches `{pattern}` (relative to {})\n  hint: check `files` in {}", root.display(), spec.display())]
    NoFiles {
        source_name: String,
        pattern: String,
        root: PathBuf,
        spec: PathBuf,
    },
    /// The warehouse failed.
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    /// Several sources failed; each error is listed.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<IngestError>),
    /// A build step (record linkage) failed; `input` says whether the project is at fault.
    #[error("{step}: {message}")]
    Step {
        step: String,
        message: String,
        input: bool,
    },
    /// A bug: an invariant did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

fn location(line: u64, byte: Option<u64>) -> String {
    match (line, byte) {
        (0, None) => String::new(),
        (0, Some(b)) => format!(": byte {b}"),
        (l, None) => format!(":{l}"),
        (l, Some(b)) => format!(":{l} (byte {b})"),
    }
}

impl IngestError {
    pub(crate) fn file(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        IngestError::File {
            path: path.into(),
            line,
            byte: None,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, h: impl Into<String>) -> Self {
        if let IngestError::File { hint, .. } = &mut self {
            *hint = Some(h.into());
        }
        self
    }

    pub(crate) fn at_byte(mut self, b: u64) -> Self {
        if let IngestError::File { byte, .. } = &mut self {
            *byte = Some(b);
        }
        self
    }

    pub(crate) fn io(path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        IngestError::file(path, 0, e.to_string().to_lowercase())
    }

    /// True when the user's input or configuration is at fault (exit code 2), false for
    /// failures of the machine or of datalab itself.
    pub fn is_input_error(&self) -> bool {
        match self {
            IngestError::Project(_) | IngestError::File { .. } | IngestError::NoFiles { .. } => {
                true
            }
            IngestError::Many(v) => v.iter().all(IngestError::is_input_error),
            IngestError::Step { input, .. } => *input,
            IngestError::Engine(_) | IngestError::Internal(_) => false,
        }
    }
}
