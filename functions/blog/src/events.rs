//! Events in and out: blog changes announced to every replica, author renames applied to blogs.

use contracts::auth::UserChanged;
use contracts::blog::BlogChanged;
use runtime::outbox;
use runtime::{ApiError, Ctx, EventId, Json, State, handler};

use crate::cache::BlogCache;
use crate::model::Blog;
use crate::store::{self, BlogStore};

/// Drops every cached copy that could show `blog` (as just written) stale, then sends the event
/// the write staged in it to the other replicas; if JetStream does not take it now, the outbox
/// relay sends it later.
pub async fn blog_changed(
    ctx: &Ctx,
    store: &BlogStore,
    cache: &BlogCache,
    blog: &Blog,
    old_slug: Option<&str>,
) {
    let mut slugs = vec![blog.slug.as_str()];
    slugs.extend(old_slug.filter(|s| *s != blog.slug));
    cache.forget(&blog.id.to_hex(), &slugs).await;
    if let Some(event) = store::staged(blog) {
        outbox::send(ctx.nats(), store, &[event]).await;
    }
}

/// Keep author names on blogs current when a user renames themselves; durable, so a rename
/// published while every replica was away is applied when one returns. Setting the same name
/// twice changes nothing, so a redelivered event is harmless.
#[handler(subject = "auth.events.user.updated", durable = "blog-authors")]
async fn user_updated(
    ctx: Ctx,
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    event_id: Option<EventId>,
    Json(event): Json<UserChanged>,
) -> Result<(), ApiError> {
    tracing::debug!(event = ?event_id, user = %event.user_id, "renaming an author");
    let published = store
        .rename_author(
            &event.user_id,
            &event.name,
            event.profile_pic_url.as_deref(),
        )
        .await?;
    for blog in &published {
        blog_changed(&ctx, &store, &cache, blog, None).await;
    }
    Ok(())
}

/// Empty this replica's in-process cache when any replica changes a blog (every replica hears it).
#[handler(subject = "blog.events.changed", no_queue_group)]
async fn blog_changed_elsewhere(
    State(cache): State<BlogCache>,
    Json(_event): Json<BlogChanged>,
) -> Result<(), ApiError> {
    cache.forget_local();
    Ok(())
}
