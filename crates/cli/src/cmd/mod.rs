//! One module per subcommand.

/// `println!` that ignores a closed stdout (`datalab ... | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod attack;
pub mod audit;
pub mod build;
pub mod demo;
pub mod export;
pub mod forecast;
pub mod indicators;
pub mod init;
pub mod key;
pub mod outreach;
pub mod projection;
pub mod pseudonymize;
pub mod query;
pub mod registry;
pub mod reidentify;
pub mod release;
pub mod report;
pub mod scan;
pub mod serve;
pub mod simulate;
pub mod site;
pub mod status;
pub mod synth;
pub mod user;

/// A mistake in how the command was called that clap cannot see (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Loads the project, with the path in the error.
pub fn load_project(path: &std::path::Path) -> anyhow::Result<project::Project> {
    Ok(project::Project::load(path)?)
}
