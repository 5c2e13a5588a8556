//! Serves the blog handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the blog function.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
}

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    blog::service().config(Cli::parse().runtime).run().await
}
