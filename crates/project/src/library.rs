//! The standard indicator library shipped with datalab: models over the standard sources
//! (register, ISEE, social cases, housing, minimum income, GOL, health survey, INAIL, services
//! supply) and the indicators computed from them. `datalab init` and the synthetic city install
//! it; a project owns its copy and may edit it. `library/README.md` is the catalogue.

use crate::error::ProjectError;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/library.rs"));

/// Writes the library into the project at `root` (`models/`, `indicators/`); existing files
/// with the same name are replaced. Returns the number of files written.
pub fn install(root: &Path) -> Result<usize, ProjectError> {
    for (rel, text) in FILES {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, &e))?;
        }
        std::fs::write(&path, text).map_err(|e| ProjectError::io(&path, &e))?;
    }
    Ok(FILES.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_library_has_models_and_at_least_thirty_indicators() {
        let models = super::FILES
            .iter()
            .filter(|(p, _)| p.starts_with("models/"))
            .count();
        let indicators = super::FILES
            .iter()
            .filter(|(p, _)| p.starts_with("indicators/"))
            .count();
        assert!(models > 0);
        assert!(indicators >= 30, "{indicators}");
    }
}
