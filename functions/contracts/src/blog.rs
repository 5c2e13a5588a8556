//! Subjects the blog function publishes, and their payloads.

use serde::{Deserialize, Serialize};

/// Published ([`BlogChanged`]) to every blog replica after a blog changes, so each drops its copies.
pub const CHANGED: &str = "blog.events.changed";

/// Payload of `blog.events.changed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlogChanged {
    /// The blog.
    pub blog_id: String,
    /// Its slug.
    pub slug: String,
    /// published | unpublished | updated | deleted.
    pub what: String,
}
