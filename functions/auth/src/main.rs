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

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let cli = Cli::parse();
    // Installed before `run` so start-up (migrations, seeding) is logged too; `run` keeps this one.
    runtime::logging::init(cli.runtime.log_format);
    let state = if cli.runtime.check {
        None
    } else {
        Some(auth::AuthState::connect(&cli.auth).await?)
    };
    let service = auth::service().config(cli.runtime);
    match state {
        Some(state) => service.state(state).run().await,
        None => service.run().await,
    }
}
