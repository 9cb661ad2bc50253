//! `datalab init`: a new project folder that builds at once and shows every kind of file.

use crate::error::ProjectError;
use std::path::{Path, PathBuf};

const DATALAB_TOML: &str = r#"# datalab project file. Reference: sources/README.md and the datalab README.
format_version = 1
name = "{name}"
title = "{name}"
languages = ["it", "en"]

[territory]
# From the largest to the smallest unit.
levels = ["region", "province", "municipality", "district", "zone"]
# One row per smallest unit: for each level L a column L_code (and optionally L_name),
# the smallest level's code first.
codelist = "territories/zones.csv"
# Boundaries as GeoJSON, one file per level.
boundaries = []

[periods]
type = "year"   # year | quarter | month
first = 2019
last = 2024

# Applied to every source spec that does not set the key itself.
[defaults]
encoding = "utf-8"          # utf-8 | windows-1252 | latin-1
delimiter = ","
decimal = "."
date_formats = ["%Y-%m-%d", "%d/%m/%Y"]
null_values = ["", "NA"]

# Forecasts stored in the cube at every build, flagged `forecast` (uncomment to have them).
# [forecast]
# horizon = "3y"        # after each series' last observed period; "8q", "12m" or a number
# method = "auto"       # auto | ets | theta | naive | snaive | naive2
# level = 95            # prediction interval, per cent
# reconcile = "wls"     # wls | mint | bottom-up | none: zones add up to districts and the city
# breakdowns = false    # true: each breakdown's series too
"#;

const ZONES_CSV: &str = "zone_code,zone_name,district_code,district_name,\
municipality_code,municipality_name,province_code,province_name,region_code,region_name\n\
Z01,Centro storico,Q1,Centro,036023,Modena,036,Modena,08,Emilia-Romagna\n\
Z02,Stazione,Q1,Centro,036023,Modena,036,Modena,08,Emilia-Romagna\n\
Z03,Quartiere nord,Q2,Nord,036023,Modena,036,Modena,08,Emilia-Romagna\n";

const ZONES_TOML: &str = r#"format_version = 1
title = "Zone statistiche"
holder = "Comune - Ufficio statistica"
files = ["territories/zones.csv"]
format = "csv"
unique = ["zone_code"]

[[columns]]
name = "zone_code"
type = "string"
required = true
regex = "^Z[0-9]{2}$"

[[columns]]
name = "zone_name"
type = "string"
required = true

[[columns]]
name = "district_code"
type = "string"
required = true

[[columns]]
name = "district_name"
type = "string"
"#;

const SOURCES_README: &str = include_str!("../SOURCES.md");

const INDICATORS_README: &str = include_str!("../INDICATORS.md");
const MODELS_README: &str = include_str!("../MODELS.md");
const REPORTS_README: &str =
    "# reports\n\nReport templates: text mixed with indicator tables, charts and maps.\n";
const TERRITORIES_README: &str = "# territories\n\n\
The codelist of the smallest territorial units (`zones.csv`): one row per unit, and for every \
level `L` of `territory.levels` a column `L_code` (and optionally `L_name`), the smallest \
level's code first. Boundaries are GeoJSON FeatureCollections, one file per level, each \
feature with its unit's code in `properties.code`. Earlier versions of the smallest units are \
declared in `[[territory.history]]` with a crosswalk CSV `old_code,new_code,weight`.\n";
const GITIGNORE: &str = "# the warehouse: rebuilt by `datalab build`\n.datalab/\n";

/// Writes a new project into `dir` (created if missing; it must not already hold a
/// `datalab.toml`). Returns the files written, relative to `dir`.
pub fn scaffold(dir: &Path, name: &str) -> Result<Vec<PathBuf>, ProjectError> {
    if dir.join(crate::PROJECT_FILE).exists() {
        return Err(ProjectError::Io {
            path: dir.join(crate::PROJECT_FILE),
            message: "already exists: this folder is already a datalab project".into(),
        });
    }
    let name = sanitize(name);
    let files: [(&str, String); 9] = [
        ("datalab.toml", DATALAB_TOML.replace("{name}", &name)),
        ("sources/zones.toml", ZONES_TOML.into()),
        ("sources/README.md", SOURCES_README.into()),
        ("territories/zones.csv", ZONES_CSV.into()),
        ("territories/README.md", TERRITORIES_README.into()),
        ("indicators/README.md", INDICATORS_README.into()),
        ("models/README.md", MODELS_README.into()),
        ("reports/README.md", REPORTS_README.into()),
        (".gitignore", GITIGNORE.into()),
    ];
    let mut written = Vec::new();
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProjectError::io(parent, &e))?;
        }
        std::fs::write(&path, content).map_err(|e| ProjectError::io(&path, &e))?;
        written.push(PathBuf::from(rel));
    }
    crate::library::install(dir)?;
    written.extend(
        crate::library::FILES
            .iter()
            .map(|(rel, _)| PathBuf::from(rel)),
    );
    Ok(written)
}

fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "lab-");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_project_loads_with_its_territory_and_the_standard_library() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("My Lab");
        let written = scaffold(&root, "My Lab").expect("scaffold");
        assert!(written.contains(&PathBuf::from("models/README.md")));
        let p = crate::Project::load(&root).expect("loads");
        assert_eq!(p.config.name, "my-lab");
        let h = &p.hierarchy;
        assert_eq!(h.levels.len(), 5);
        assert_eq!(h.paths()["Z03"], ["08", "036", "036023", "Q2", "Z03"]);
        assert_eq!(
            h.get(0, "08").map(|t| t.name.as_str()),
            Some("Emilia-Romagna")
        );
        // The standard library is installed and valid as shipped.
        assert_eq!(
            p.indicators.len() + p.models.len(),
            crate::library::FILES.len()
        );
        assert!(p.indicators.len() >= 30);
        assert_eq!(p.sources.len(), 1);
        assert!(
            scaffold(&root, "again").is_err(),
            "never overwrites a project"
        );
    }
}
