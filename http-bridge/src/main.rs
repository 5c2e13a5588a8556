//! Serves the bridge until SIGTERM, then finishes in-flight requests.

use clap::Parser;
use http_bridge::{Bridge, Config};

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let config = Config::parse();
    runtime::logging::init(config.log_format);
    let client = runtime::service::connect(
        &runtime::Config::with_nats_url(&config.nats_url),
        "http-bridge",
    )
    .await?;
    let running = Bridge::start(config, client)
        .await
        .map_err(|err| runtime::Error::startup("cannot listen", err))?;
    runtime::drain::shutdown_signal().await;
    tracing::info!("shutdown requested; finishing in-flight requests");
    running.shutdown().await;
    Ok(())
}
