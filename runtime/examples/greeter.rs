//! A complete function: two handlers sharing state, served as the ADR-32 service `greeter`.
//! `cargo run -p runtime --example greeter`, then `nats req greet.hello '{"name":"Ada"}'`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Parser;
use runtime::{ApiError, Json, Service, State, handler};
use serde::Deserialize;

/// Greetings given by this replica, shared by every request.
#[derive(Clone, Default)]
struct Greeted(Arc<AtomicU64>);

#[derive(Deserialize)]
struct Hello {
    name: String,
}

/// Greet someone by name.
#[handler(subject = "greet.hello", http = "POST /greet/hello")]
async fn hello(
    State(greeted): State<Greeted>,
    Json(input): Json<Hello>,
) -> Result<String, ApiError> {
    if input.name.trim().is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    greeted.0.fetch_add(1, Ordering::Relaxed);
    Ok(format!("Hello, {}!", input.name))
}

/// How many greetings this replica has given.
#[handler(subject = "greet.count", http = "GET /greet/count")]
async fn count(State(greeted): State<Greeted>) -> Result<u64, ApiError> {
    Ok(greeted.0.load(Ordering::Relaxed))
}

/// The runtime's flags and env: `NATS_URL`, `--only`, `LOG_FORMAT`, `--check`, ...
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
}

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let cli = Cli::parse();
    runtime::init_logging(cli.runtime.log_format);
    Service::new("greeter", "1.0.0")
        .config(cli.runtime)
        .state(Greeted::default())
        .run()
        .await
}
