//! `datalab scan`: look for direct identifiers (tax codes, names, addresses, phone numbers,
//! e-mails, IBANs) in files, by column name and by value. Exit code 1 when something is found.

use crate::Format;
use model::{Encoding, Format as FileFormat};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders (folders are searched recursively for CSV, TXT, XLSX, Parquet and JSON
    /// lines files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// One finding, with its file.
#[derive(Serialize)]
pub struct FileFinding {
    pub file: String,
    #[serde(flatten)]
    pub finding: ingest::Finding,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)?;
    }
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match scan_path(f) {
            Ok(list) => findings.extend(list.into_iter().map(|finding| FileFinding {
                file: f.display().to_string(),
                finding,
            })),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "files": files.len(),
                "findings": findings,
                "errors": errors,
            }))?
        ),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "file", "column", "kind", "count", "scanned", "by_name", "examples",
            ])?;
            for f in &findings {
                w.write_record([
                    f.file.as_str(),
                    &f.finding.column,
                    &f.finding.kind,
                    &f.finding.count.to_string(),
                    &f.finding.scanned.to_string(),
                    &f.finding.by_name.to_string(),
                    &f.finding.examples.join(" | "),
                ])?;
            }
            w.flush()?;
        }
        Format::Text => {
            for f in &findings {
                println!(
                    "{}: column `{}`: {} ({} of {} values{}){}",
                    f.file,
                    f.finding.column,
                    f.finding.kind,
                    f.finding.count,
                    f.finding.scanned,
                    if f.finding.by_name {
                        "; named like one"
                    } else {
                        ""
                    },
                    if f.finding.examples.is_empty() {
                        String::new()
                    } else {
                        format!(", e.g. {}", f.finding.examples.join(", "))
                    }
                );
            }
            if !quiet {
                eprintln!(
                    "{} file(s) scanned, {} finding(s){}",
                    files.len(),
                    findings.len(),
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(", {} unreadable", errors.len())
                    }
                );
            }
        }
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    if !findings.is_empty() {
        anyhow::bail!(Found(findings.len()));
    }
    if !errors.is_empty() {
        anyhow::bail!(super::UsageError(format!(
            "{} file(s) could not be scanned",
            errors.len()
        )));
    }
    Ok(())
}

/// The scan found identifiers (exit code 1, a finding rather than a usage error).
#[derive(Debug)]
pub struct Found(pub usize);

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} column(s) hold direct identifiers", self.0)
    }
}

impl std::error::Error for Found {}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        // Hidden folders too: the warehouse (`.datalab/`) is a lab-side file like any other.
        for e in entries {
            if e.is_dir() || format_of(&e).is_some() {
                collect(&e, out)?;
            }
        }
        Ok(())
    } else if p.is_file() {
        out.push(p.to_path_buf());
        Ok(())
    } else {
        anyhow::bail!(super::UsageError(format!(
            "{}: no such file or folder",
            p.display()
        )))
    }
}

fn format_of(p: &Path) -> Option<FileFormat> {
    let ext = p.extension()?.to_string_lossy().to_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(FileFormat::Csv),
        "xlsx" => Some(FileFormat::Xlsx),
        "parquet" => Some(FileFormat::Parquet),
        "jsonl" | "ndjson" => Some(FileFormat::Jsonl),
        _ => None,
    }
}

/// Scans one file, guessing how to read it from its name and first bytes.
pub fn scan_path(path: &Path) -> anyhow::Result<Vec<ingest::Finding>> {
    let spec = sniff(path)?;
    Ok(ingest::scan_file(&spec, path, &crate::guard::ScanGuard)?)
}

/// Reading options guessed from a file: format by magic bytes or extension; for text, the
/// encoding (UTF-8 if it decodes, else Windows-1252) and the delimiter (the most frequent of
/// `;`, `,`, tab and `|` on the first line).
fn sniff(path: &Path) -> anyhow::Result<project::SourceSpec> {
    use std::io::Read;
    let mut head = vec![0u8; 64 * 1024];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    head.truncate(n);
    let format = if head.starts_with(b"PAR1") {
        FileFormat::Parquet
    } else if head.starts_with(b"PK\x03\x04") {
        FileFormat::Xlsx
    } else {
        format_of(path).unwrap_or(FileFormat::Csv)
    };
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    // A cut in the middle of a UTF-8 sequence at the end of the sample is not an error.
    let utf8 = match std::str::from_utf8(text) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let delimiter = [b';', b',', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| first_line.iter().filter(|b| *b == d).count())
        .unwrap_or(b',');
    let format_is_jsonl = format == FileFormat::Csv && text.first() == Some(&b'{');
    Ok(project::SourceSpec {
        name: "scan".into(),
        spec_file: PathBuf::from("(datalab scan)"),
        title: String::new(),
        holder: String::new(),
        description: String::new(),
        files: vec![path.display().to_string()],
        format: if format_is_jsonl {
            FileFormat::Jsonl
        } else {
            format
        },
        encoding: if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Windows1252
        },
        delimiter,
        quote: b'"',
        decimal: '.',
        thousands: None,
        header_row: 1,
        sheet: None,
        date_formats: vec!["%Y-%m-%d".into()],
        null_values: vec![String::new()],
        unique: Vec::new(),
        period: None,
        columns: Vec::new(),
    })
}
