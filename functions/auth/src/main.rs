//! Serves the auth handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the auth function.
#[derive(Parser)]
#[command(about = "The auth function on the NATS micro runtime")]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
    #[command(flatten)]
    auth: auth::Settings,
}

/// mimalloc: far cheaper than glibc malloc for the many short-lived buffers of each request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let cli = Cli::parse();
    // Installed first so start-up (migrations, seeding) is logged too.
    runtime::init_logging(cli.runtime.log_format);
    if cli.runtime.check {
        return auth::service().config(cli.runtime).run().await;
    }
    auth::connected(&cli.auth, cli.runtime).await?.run().await
}
