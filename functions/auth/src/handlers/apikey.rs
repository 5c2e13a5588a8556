//! API-key checks: the bridge's internal verify and the public "is my key valid" endpoint.

use contracts::auth::{ApiKeyInfo, ApiKeyVerifyRequest};
use runtime::{Json, Meta, State, handler};

use crate::AuthState;
use crate::dto::Message;
use crate::error::AuthError;
use crate::throttle::{UNKNOWN_CLIENT, retry_after_secs};

/// Whether an API key is valid and what it may do; 401 when empty, 403 when unknown or revoked,
/// 429 once the client address (`X-Client-Addr`, set by the bridge) has guessed wrong too often.
///
/// A valid key does not forgive earlier guesses from the same address: otherwise one real key
/// would let its holder guess others without limit.
#[handler(subject = "auth.apikey.verify")]
pub async fn verify(
    State(state): State<AuthState>,
    meta: Meta,
    Json(input): Json<ApiKeyVerifyRequest>,
) -> Result<ApiKeyInfo, AuthError> {
    let client = meta.client_addr.as_deref().unwrap_or(UNKNOWN_CLIENT);
    if let Err(wait) = state.apikey_guesses.check(client).await {
        return Err(AuthError::TooManyAttempts(retry_after_secs(wait)));
    }
    let result = state.verify_api_key(&input.key).await;
    if matches!(result, Err(AuthError::InvalidApiKey))
        && let Some(wait) = state.apikey_guesses.failed(client).await
    {
        tracing::warn!(client, "API-key guesses locked out");
        return Err(AuthError::TooManyAttempts(retry_after_secs(wait)));
    }
    result
}

/// Confirm the caller's API key; the bridge has checked `x-api-key` before routing here.
#[handler(subject = "auth.apikey.check", http = "GET /auth/verify/apikey")]
pub async fn check() -> Result<Message, AuthError> {
    Ok(Message::new("api key is valid"))
}
