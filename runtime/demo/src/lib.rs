//! Example handlers: one per runtime feature, so its tests and benchmark have something real to call.

use std::time::Duration;

use contracts::{Caller, GuardSettings};
use runtime::{ApiError, Ctx, Json, handler};
use serde::{Deserialize, Serialize};

/// The demo service with its name and version and a guard with `guard` settings; referencing it
/// also links the handlers below.
pub fn service(guard: &GuardSettings) -> runtime::Service {
    runtime::Service::new("demo", env!("CARGO_PKG_VERSION"))
        .description("Example handlers of the NATS micro runtime")
        .authorizer(guard.authorizer())
}

/// Input and output of the echo handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Echo {
    /// Text sent back unchanged.
    pub message: String,
    /// Optional counter, to prove typed fields reach the handler as numbers.
    #[serde(default)]
    pub count: u32,
}

/// Answer the input unchanged: the trivial handler the benchmark measures.
#[handler(subject = "demo.echo", http = "POST /demo/echo")]
pub async fn echo(Json(input): Json<Echo>) -> Result<Echo, ApiError> {
    Ok(input)
}

/// Input of the handler that fails on purpose.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reserve {
    /// The name to reserve; `taken` is always taken.
    pub name: String,
}

/// A function-specific error that converts into the runtime's, as function crates do.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The name is already reserved.
    #[error("name '{0}' is taken")]
    Taken(String),
}

impl From<DemoError> for ApiError {
    fn from(err: DemoError) -> Self {
        match err {
            DemoError::Taken(_) => ApiError::Conflict(err.to_string()),
        }
    }
}

/// Reserve a name; proves a typed error becomes ADR-32 error headers and a JSON body.
#[handler(subject = "demo.reserve", http = "POST /demo/reserve")]
pub async fn reserve(Json(input): Json<Reserve>) -> Result<Reserve, DemoError> {
    if input.name == "taken" {
        return Err(DemoError::Taken(input.name));
    }
    Ok(input)
}

/// Always panics; proves a panic is a 500 and the replica keeps serving.
#[handler(subject = "demo.panic")]
pub async fn panics() -> Result<(), ApiError> {
    panic!("demo handler panicked on purpose")
}

/// Input of the sleeping handler.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sleep {
    /// How long to sleep.
    pub ms: u64,
}

/// Sleep, then answer; with a 500 ms timeout and room for two at once, it shows 504 and 503.
#[handler(
    subject = "demo.sleep",
    http = "POST /demo/sleep",
    timeout_ms = 500,
    concurrency = 2
)]
pub async fn sleep(Json(input): Json<Sleep>) -> Result<Sleep, ApiError> {
    tokio::time::sleep(Duration::from_millis(input.ms)).await;
    Ok(input)
}

/// Sleep within the default limits; what the drain test keeps in flight during SIGTERM.
#[handler(subject = "demo.slow", http = "POST /demo/slow")]
pub async fn slow(Json(input): Json<Sleep>) -> Result<Sleep, ApiError> {
    tokio::time::sleep(Duration::from_millis(input.ms)).await;
    Ok(input)
}

/// Input of the filling handler.
#[derive(Debug, Serialize, Deserialize)]
pub struct Fill {
    /// How many bytes the answer holds (at most 8 MiB).
    pub bytes: usize,
}

/// Answer with a string of `bytes` bytes: a reply larger than the server's max payload, which
/// must still reach the caller at once as an error instead of leaving it to time out.
#[handler(subject = "demo.fill")]
pub async fn fill(Json(input): Json<Fill>) -> Result<String, ApiError> {
    if input.bytes > 8 << 20 {
        return Err(ApiError::BadRequest("bytes must be at most 8 MiB".into()));
    }
    Ok("x".repeat(input.bytes))
}

/// How long the simulated store call of `demo.store` waits.
pub const STORE_CALL: Duration = Duration::from_millis(20);

/// Connections in each replica's simulated store pool: calls beyond it wait, as on a real pool.
pub const STORE_POOL: usize = 4;

static STORE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(STORE_POOL);

/// Answer after a simulated 20 ms store call on a pooled connection: a handler bound by I/O, not
/// CPU, so its throughput grows with replicas (what the scaling benchmark measures).
#[handler(subject = "demo.store")]
pub async fn store(Json(input): Json<Echo>) -> Result<Echo, ApiError> {
    let _connection = STORE
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable("store pool closed".to_owned()))?;
    tokio::time::sleep(STORE_CALL).await;
    Ok(input)
}

/// Who the caller is; only AUTHORs (and ADMINs) may ask.
#[handler(subject = "demo.whoami", http = "GET /demo/whoami", roles = ["AUTHOR"])]
pub async fn whoami(caller: Caller) -> Result<Caller, ApiError> {
    Ok(caller)
}

/// Greet the caller by name when signed in, anyone otherwise.
#[handler(subject = "demo.greet", http = "GET /demo/greet")]
pub async fn greet(caller: Option<Caller>) -> Result<String, ApiError> {
    Ok(match caller {
        Some(caller) => format!("hello {}", caller.user.name),
        None => "hello stranger".to_owned(),
    })
}

/// Which service answered; heard by every replica because it joins no queue group.
#[handler(subject = "demo.fanout", no_queue_group)]
pub async fn fanout(ctx: Ctx) -> Result<String, ApiError> {
    Ok(ctx.service().to_owned())
}
