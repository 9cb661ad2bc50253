//! Writing a publication's folder whole: into a sibling, then swapped in.

use std::path::{Path, PathBuf};

use crate::ReportError;

/// The files of a publication: (path relative to its folder, content).
pub(crate) type Files = Vec<(String, Vec<u8>)>;

/// Writes the files into a sibling folder, then swaps it in for `out`: an interrupted export
/// leaves the previous one, and nothing of the previous one survives a finished one. Paths must
/// stay inside the folder (no `..`, no absolute path).
pub(crate) fn write_folder(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ReportError> {
    let io = |p: &Path, e: std::io::Error| ReportError::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let parent = out
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let parent = if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent
    };
    for (rel, _) in files {
        let inside = Path::new(rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside || rel.is_empty() {
            return Err(ReportError::Input(format!(
                "`{rel}` is not a path inside the publication's folder"
            )));
        }
    }
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let written = files.iter().try_for_each(|(rel, bytes)| {
        let p = tmp.join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        std::fs::write(&p, bytes).map_err(|e| io(&p, e))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| io(out, e))?;
    }
    std::fs::rename(&tmp, out).map_err(|e| io(out, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str, text: &str) -> (String, Vec<u8>) {
        (rel.to_string(), text.as_bytes().to_vec())
    }

    #[test]
    fn the_folder_is_replaced_whole_and_paths_stay_inside() {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("site");
        write_folder(&out, &[file("a.html", "1"), file("d/b.css", "2")]).expect("write");
        write_folder(&out, &[file("a.html", "3")]).expect("rewrite");
        assert_eq!(std::fs::read_to_string(out.join("a.html")).expect("a"), "3");
        assert!(
            !out.join("d").exists(),
            "nothing of the previous folder is left"
        );
        for bad in ["../x", "/etc/x", "d/../../x", ""] {
            let e = write_folder(&out, &[file(bad, "x")]).expect_err(bad);
            assert!(e.is_input(), "{e}");
        }
        assert_eq!(std::fs::read_to_string(out.join("a.html")).expect("a"), "3");
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["site"], "no temporary folder left behind");
    }
}
