//! Serves the example handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the demo function.
#[derive(Parser)]
#[command(about = "Example handlers on the NATS micro runtime")]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
    #[command(flatten)]
    guard: contracts::GuardSettings,
}

/// mimalloc: far cheaper than glibc malloc for the many short-lived buffers of each request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let cli = Cli::parse();
    runtime::init_logging(cli.runtime.log_format);
    demo::service(&cli.guard).config(cli.runtime).run().await
}
