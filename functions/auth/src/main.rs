//! Serves the auth handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the auth function.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
}

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    auth::service().config(Cli::parse().runtime).run().await
}
