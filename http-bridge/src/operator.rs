//! The operator endpoints: `/health`, `/metrics`, `/routes` and `/openapi.json`.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::openapi;
use crate::server::State;

/// Status, content type and body of an answer.
pub(crate) type Answer = (StatusCode, &'static str, Bytes);

/// Metrics label of the operator endpoints (`/health`, `/metrics`, `/routes`, `/openapi.json`, `/status`).
pub(crate) const OPERATIONS: &str = "(operations)";

/// Answers an operator endpoint, or `None` when the request is for the API.
pub(crate) async fn answer(state: &State, method: &Method, path: &str) -> Option<Answer> {
    if method != Method::GET {
        return None;
    }
    if let Some(answer) = state.status.answer(&state.client, path).await {
        return Some(answer);
    }
    let table = state.table.read().ok()?.clone();
    let json = |status, value: serde_json::Value| {
        Some((status, "application/json", Bytes::from(value.to_string())))
    };
    match path {
        "/health" => {
            let connected =
                state.client.connection_state() == async_nats::connection::State::Connected;
            let in_flight = state.requests_in_flight();
            let connections = state.open_connections();
            let saturated = in_flight >= state.config.max_in_flight
                || connections >= state.config.max_connections;
            let healthy = connected && !table.is_empty() && !saturated;
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            json(
                status,
                serde_json::json!({
                    "healthy": healthy,
                    "nats": if connected { "connected" } else { "disconnected" },
                    "routes": table.routes().len(),
                    "saturated": saturated,
                    "in_flight": in_flight,
                    "max_in_flight": state.config.max_in_flight,
                    "connections": connections,
                    "max_connections": state.config.max_connections,
                }),
            )
        }
        "/routes" => json(
            StatusCode::OK,
            serde_json::json!({"routes": table.routes()}),
        ),
        "/openapi.json" => json(StatusCode::OK, openapi::document(table.routes())),
        "/metrics" => Some((
            StatusCode::OK,
            "text/plain; version=0.0.4",
            Bytes::from(state.metrics.encode()),
        )),
        _ => None,
    }
}
