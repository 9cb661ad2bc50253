//! Embeds the standard library (`library/models/*.sql`, `library/indicators/*.toml`) that
//! `datalab init` and the synthetic city install into a project.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for sub in ["models", "indicators"] {
        let dir = root.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".sql") || name.ends_with(".toml") {
                files.push((format!("{sub}/{name}"), e.path()));
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// The standard library: (path in the project, contents).\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in &files {
        let _ = writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("library.rs");
    std::fs::write(dest, out).expect("write library.rs");
}
