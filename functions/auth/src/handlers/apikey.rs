//! API-key checks: the bridge's internal verify and the public "is my key valid" endpoint.

use contracts::auth::{ApiKeyInfo, ApiKeyVerifyRequest};
use runtime::{Json, State, handler};

use crate::AuthState;
use crate::dto::Message;
use crate::error::AuthError;

/// Whether an API key is valid and what it may do; 401 when empty, 403 when unknown or revoked.
#[handler(subject = "auth.apikey.verify")]
pub async fn verify(
    State(auth): State<AuthState>,
    Json(input): Json<ApiKeyVerifyRequest>,
) -> Result<ApiKeyInfo, AuthError> {
    auth.verify_api_key(&input.key).await
}

/// Confirm the caller's API key; the bridge has checked `x-api-key` before routing here.
#[handler(subject = "auth.apikey.check", http = "GET /auth/verify/apikey")]
pub async fn check() -> Result<Message, AuthError> {
    Ok(Message::new("api key is valid"))
}
