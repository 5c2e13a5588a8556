//! Serves the example handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the demo function.
#[derive(Parser)]
#[command(about = "Example handlers on the NATS micro runtime")]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
}

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    demo::service().config(Cli::parse().runtime).run().await
}
