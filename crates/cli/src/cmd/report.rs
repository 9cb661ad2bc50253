//! `datalab report NAME`: a report from the project's templates, rendered from public releases.

use std::path::PathBuf;
use std::time::Instant;

use crate::ProjectArg;

#[derive(clap::Args)]
pub struct Args {
    /// The report (`reports/NAME.toml` with `NAME.it.md` and `NAME.en.md`); `--list` lists them.
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    #[command(flatten)]
    pub project: ProjectArg,
    /// The year reported on (values default to this period).
    #[arg(long)]
    pub year: Option<i32>,
    #[arg(long, value_enum, default_value = "pdf")]
    pub format: ReportFormat,
    #[arg(long, value_enum, default_value = "it")]
    pub lang: ReportLang,
    /// For reports about one territory (a district profile): its code.
    #[arg(long)]
    pub territory: Option<String>,
    /// The file to write (default: NAME[-TERRITORY].LANG.FORMAT in the current folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// List the project's reports.
    #[arg(long)]
    pub list: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReportFormat {
    Pdf,
    Html,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ReportLang {
    It,
    En,
}

pub fn run(a: Args, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&a.project.project)?;
    if a.list {
        for s in report::document::list(&project)? {
            out!(
                "{:<24} {}{}",
                s.name,
                s.title.it,
                if s.needs_territory {
                    " (--territory)"
                } else {
                    ""
                }
            );
        }
        return Ok(());
    }
    let name = a.name.expect("clap requires NAME without --list");
    let Some(year) = a.year else {
        return Err(super::UsageError("give the year reported on: --year YYYY".into()).into());
    };
    let (format, ext) = match a.format {
        ReportFormat::Pdf => (report::document::Format::Pdf, "pdf"),
        ReportFormat::Html => (report::document::Format::Html, "html"),
    };
    let lang = match a.lang {
        ReportLang::It => report::document::Lang::It,
        ReportLang::En => report::document::Lang::En,
    };
    let out = a.out.unwrap_or_else(|| {
        let t = a
            .territory
            .as_ref()
            .map(|t| format!("-{t}"))
            .unwrap_or_default();
        PathBuf::from(format!("{name}{t}.{}.{ext}", lang.code()))
    });
    let started = Instant::now();
    let rendered = report::document::render(
        &project,
        &name,
        &report::document::Options {
            year,
            lang,
            format,
            territory: a.territory,
        },
    )?;
    report::document::write_atomic(&out, &rendered.bytes)?;
    crate::audit::record_in(
        &project,
        &crate::env::user(None),
        server::audit::Action::Export,
        &format!("report/{name}"),
        serde_json::json!({"out": out.display().to_string(), "year": year, "lang": lang.code(), "format": ext}),
    )?;
    if !quiet {
        eprintln!(
            "{} written: {} bytes{}, {} released numbers, {:.2} s",
            out.display(),
            rendered.bytes.len(),
            rendered
                .pages
                .map(|p| format!(", {p} pages"))
                .unwrap_or_default(),
            rendered.numbers.len(),
            started.elapsed().as_secs_f64()
        );
    }
    out!("{}", out.display());
    Ok(())
}
