//! Golden files for the tests: a rendering compared with the file kept next to the code.

use std::path::Path;

/// Compares `actual` with the golden file at `path` (relative to the crate), or rewrites it
/// when `DATALAB_BLESS` is set. The crate's version is written as `VERSION`, so a release bump
/// does not change every golden file.
pub(crate) fn check(path: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let actual = actual.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    if std::env::var_os("DATALAB_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("golden file has a folder"))
            .expect("golden folder");
        std::fs::write(&path, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DATALAB_BLESS=1 writes it)", path.display()));
    if expected == actual {
        return;
    }
    let end = std::iter::repeat("<end of file>");
    let (line, want, got) = expected
        .lines()
        .chain(end.clone())
        .zip(actual.lines().chain(end))
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .map(|(i, (e, a))| (i + 1, e, a))
        .expect("the texts differ, so some line differs");
    panic!(
        "{} differs from the rendering at line {line} (DATALAB_BLESS=1 rewrites it)\n\
         expected: {want}\n\
         actual:   {got}\n--- actual ---\n{actual}",
        path.display()
    );
}
