//! Blog events kept in the document they announce: a write that readers must hear about sets
//! `pendingEvent` in the same update, so the change and its event are stored together or not at
//! all. The handler sends it right after; the runtime's relay sends whatever is left, and both
//! clear it only once JetStream has acknowledged it.

use std::time::Duration;

use contracts::blog::{BlogChanged, CHANGED};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use runtime::outbox::{OutboxStore, Staged};
use serde::{Deserialize, Serialize};

use super::BlogStore;
use crate::model::Blog;

/// The event staged in a blog document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    /// Unique per write; with the blog's id it is the event's `Nats-Msg-Id`.
    pub id: String,
    /// published | unpublished | updated | deleted.
    pub what: String,
    /// When it was staged; the relay leaves young ones to the request that staged them.
    pub at: DateTime,
}

/// The `$set` entry that stages a `what` event in the document being written.
pub(super) fn stage(set: &mut Document, what: &str) {
    set.insert(
        "pendingEvent",
        doc! { "id": ObjectId::new().to_hex(), "what": what, "at": DateTime::now() },
    );
}

/// The event `blog` has staged, as it is published: `Nats-Msg-Id` is `<staged id>.<blog id>`, so
/// a rename staging one id on many blogs still gives each its own event.
pub fn staged(blog: &Blog) -> Option<Staged> {
    let pending = blog.pending_event.as_ref()?;
    let event = BlogChanged {
        blog_id: blog.id.to_hex(),
        slug: blog.slug.clone(),
        what: pending.what.clone(),
    };
    let mut staged = Staged::json(CHANGED, &event);
    staged.id = format!("{}.{}", pending.id, blog.id.to_hex());
    Some(staged)
}

impl OutboxStore for BlogStore {
    async fn pending(&self, older_than: Duration, limit: usize) -> Result<Vec<Staged>, String> {
        let before = DateTime::from_millis(
            DateTime::now().timestamp_millis()
                - i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX),
        );
        let blogs: Vec<Blog> = self
            .blogs
            .find(doc! { "pendingEvent.at": { "$lt": before } })
            .sort(doc! { "pendingEvent.at": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await
            .map_err(|err| err.to_string())?
            .try_collect()
            .await
            .map_err(|err| err.to_string())?;
        Ok(blogs.iter().filter_map(staged).collect())
    }

    async fn delivered(&self, ids: &[String]) -> Result<(), String> {
        for id in ids {
            let Some((pending, blog)) = id.rsplit_once('.') else {
                continue;
            };
            let Ok(blog) = ObjectId::parse_str(blog) else {
                continue;
            };
            // Only this event: a newer write may have staged another meanwhile.
            self.blogs
                .update_one(
                    doc! { "_id": blog, "pendingEvent.id": pending },
                    doc! { "$unset": { "pendingEvent": "" } },
                )
                .await
                .map_err(|err| err.to_string())?;
        }
        Ok(())
    }
}
