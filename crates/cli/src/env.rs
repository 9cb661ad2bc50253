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

/// All of them, for `datalab env` and the README.
pub const ALL: &[EnvVar] = &[DATALAB_PROJECT];
