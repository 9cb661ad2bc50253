//! DESIGN.md's rule: lower crates never depend on higher ones.

/// The crates in DESIGN.md's order, lowest first, but `registry`, which depends on no crate of ours
/// and sits below `synth` so that the synthetic city writes its registry (see ARCHITECTURE.md).
const ORDER: &[&str] = &[
    "model",
    "project",
    "engine",
    "ingest",
    "registry",
    "synth",
    "pseudo",
    "link",
    "indicators",
    "disclosure",
    "forecast",
    "report",
    "server",
    "cli",
];

#[test]
fn lower_crates_never_depend_on_higher_ones() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates).expect("crates dir") {
        let dir = entry.expect("entry").path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let rank = ORDER
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("crate {name} is not in DESIGN.md's table"));
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("");
        for line in deps.lines() {
            let dep = line.split(['.', '=', ' ']).next().unwrap_or("").trim();
            if let Some(dep_rank) = ORDER.iter().position(|c| *c == dep) {
                assert!(
                    dep_rank < rank,
                    "crate {name} depends on the higher crate {dep}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 6, "found only {checked} crates");
}
