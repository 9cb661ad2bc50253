//! Every environment variable datalab reads, declared in one place. Capability crates never
//! read the environment; only the binary does, here.

/// One environment variable and what it does.
pub struct EnvVar {
    pub name: &'static str,
    pub doc: &'static str,
}

/// The default for `--project` (otherwise the current folder).
pub const DATALAB_PROJECT: EnvVar = EnvVar {
    name: "DATALAB_PROJECT",
    doc: "project folder used when --project is not given (default: the current folder)",
};

/// Disables colours in output (https://no-color.org).
pub const NO_COLOR: EnvVar = EnvVar {
    name: "NO_COLOR",
    doc: "when set to any non-empty value, output has no colours",
};

/// All of them, for `datalab env` and the README.
pub const ALL: &[EnvVar] = &[DATALAB_PROJECT, NO_COLOR];

/// Whether colours are allowed.
pub fn colors_allowed() -> bool {
    std::env::var_os(NO_COLOR.name).is_none_or(|v| v.is_empty())
}
