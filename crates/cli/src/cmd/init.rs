use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The folder to create (or an empty folder to fill).
    pub dir: PathBuf,
    /// The project's name (default: the folder's name).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.dir
            .canonicalize()
            .ok()
            .or_else(|| Some(args.dir.clone()))
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "lab".into())
    });
    let files = project::scaffold(&args.dir, &name)?;
    if !quiet {
        eprintln!(
            "created the lab project `{}` in {}",
            name,
            args.dir.display()
        );
        for f in &files {
            eprintln!("  {}", f.display());
        }
        eprintln!(
            "\nnext:\n  datalab build --project {0}\n  datalab status --project {0}",
            args.dir.display()
        );
    }
    Ok(())
}
