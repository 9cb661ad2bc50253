//! `datalab serve`: the API and the dashboard over a project.

use std::net::SocketAddr;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub project: crate::ProjectArg,
    /// The address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Send the session cookie without `Secure`, for plain HTTP on a developer's machine (behind
    /// a TLS proxy, leave it out).
    #[arg(long)]
    pub insecure_cookies: bool,
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let project = super::load_project(&args.project.project)?;
    let state = server::state(project, !args.insecure_cookies).map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let opts = server::ServeOptions {
        addr: args.addr,
        secure_cookies: !args.insecure_cookies,
    };
    rt.block_on(server::serve(state, &opts, |addr| {
        // The address on stdout (scripts read it); the rest on stderr.
        out!("http://{addr}");
        if !quiet {
            eprintln!(
                "datalab serves the API at http://{addr}/api (OpenAPI: /api/openapi.json) and the dashboard at http://{addr}/; Ctrl-C stops"
            );
        }
    }))?;
    Ok(())
}
