//! `datalab serve` as a child process on a free loopback port, for the server's tests and its
//! load benchmark (the tests include this file by path).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `datalab serve` over `lab` with plain-HTTP cookies on `127.0.0.1:0` and returns the
/// child and the base URL it printed.
pub fn spawn(lab: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_datalab"))
        .args([
            "serve",
            "--quiet",
            "--insecure-cookies",
            "--addr",
            "127.0.0.1:0",
        ])
        .arg("--project")
        .arg(lab)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("datalab serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the server prints its address");
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    (child, base)
}
