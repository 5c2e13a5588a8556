//! ADR-32 discovery: the PING, INFO and STATS responses and the subjects they answer on.
//!
//! The types derive `Deserialize` too, so the HTTP bridge reads `$SRV.INFO` with the same shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `type` of a PING response.
pub const PING_TYPE: &str = "io.nats.micro.v1.ping_response";
/// `type` of an INFO response.
pub const INFO_TYPE: &str = "io.nats.micro.v1.info_response";
/// `type` of a STATS response.
pub const STATS_TYPE: &str = "io.nats.micro.v1.stats_response";

/// The three discovery verbs.
pub const VERBS: [&str; 3] = ["PING", "INFO", "STATS"];

/// `$SRV.<verb>`, `$SRV.<verb>.<name>` and `$SRV.<verb>.<name>.<id>`: where one instance answers a verb.
pub fn subjects(verb: &str, name: &str, id: &str) -> [String; 3] {
    [
        format!("$SRV.{verb}"),
        format!("$SRV.{verb}.{name}"),
        format!("$SRV.{verb}.{name}.{id}"),
    ]
}

/// Who a service instance is; the common head of every discovery response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Service name, shared by all replicas.
    pub name: String,
    /// This instance's unique id.
    pub id: String,
    /// SemVer of the service.
    pub version: String,
    /// Service-level metadata; always present, possibly empty.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Reply to `$SRV.PING`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PingResponse {
    /// Always [`PING_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Which instance answered.
    #[serde(flatten)]
    pub identity: Identity,
}

/// Reply to `$SRV.INFO`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InfoResponse {
    /// Always [`INFO_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Which instance answered.
    #[serde(flatten)]
    pub identity: Identity,
    /// Free-text description of the service.
    #[serde(default)]
    pub description: String,
    /// Endpoints in subject order.
    #[serde(default)]
    pub endpoints: Vec<EndpointInfo>,
}

/// One endpoint as INFO describes it; the bridge builds routes from `metadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// `[A-Za-z0-9_-]+` name derived from the subject.
    pub name: String,
    /// Subject the endpoint listens on.
    pub subject: String,
    /// Queue group, omitted for fan-out endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_group: Option<String>,
    /// HTTP method, path, roles and access mode.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Reply to `$SRV.STATS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsResponse {
    /// Always [`STATS_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Which instance answered.
    #[serde(flatten)]
    pub identity: Identity,
    /// RFC 3339 start time of the instance.
    pub started: String,
    /// Per-endpoint counters in subject order.
    pub endpoints: Vec<EndpointStats>,
}

/// Counters of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Endpoint name.
    pub name: String,
    /// Subject the endpoint listens on.
    pub subject: String,
    /// Queue group, omitted for fan-out endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_group: Option<String>,
    /// Requests received.
    pub num_requests: u64,
    /// Requests that ended in an error reply or no reply.
    pub num_errors: u64,
    /// Last error as `"<code> <message>"`.
    pub last_error: String,
    /// Total processing time in nanoseconds, measured from arrival.
    pub processing_time: u64,
    /// Mean processing time in nanoseconds.
    pub average_processing_time: u64,
    /// Same metadata as in INFO, so STATS is self-describing.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// ADR-32 free-form data: a durable handler's consumer lag and redeliveries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DurableStats>,
}

/// How far a durable handler's consumer is behind, and how often events came again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableStats {
    /// Consumer name.
    pub durable: String,
    /// Events in the stream not yet delivered to it, as of the last delivery.
    pub pending: u64,
    /// Deliveries that were not the first of their event.
    pub redeliveries: u64,
    /// Events moved to the dead-letter subject.
    pub dead_lettered: u64,
}
