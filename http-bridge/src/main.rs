//! Serves the bridge until SIGTERM, then finishes in-flight requests.

use clap::Parser;
use http_bridge::{Bridge, Config};

/// mimalloc: far cheaper than glibc malloc for the many short-lived buffers of each request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Requests are served on per-core worker threads (`BRIDGE_WORKERS`); this runtime keeps discovery,
// API-key revocations, the status page's gathering and the signals.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), runtime::Error> {
    let config = Config::parse();
    runtime::init_logging(config.log_format);
    let shutdown = runtime::shutdown_signal();
    let lame_duck = config.lame_duck.clone();
    let client = config
        .connection
        .connect_with("http-bridge", move |event| lame_duck.observe(event))
        .await?;
    let workers = config.worker_count();
    let running = Bridge::start_workers(config, client, workers)
        .await
        .map_err(|err| runtime::Error::startup("cannot listen", err))?;
    shutdown.await;
    tracing::info!("shutdown requested; finishing in-flight requests");
    running.shutdown().await;
    runtime::telemetry::shutdown();
    Ok(())
}
