//! Events in and out: blog changes announced to every replica, author renames applied to blogs.

use contracts::auth::UserChanged;
use contracts::blog::{self, BlogChanged};
use runtime::{ApiError, Ctx, Json, State, handler};

use crate::cache::BlogCache;
use crate::model::Blog;
use crate::store::BlogStore;

/// Drops every cached copy that could show `blog` stale, then tells the other replicas.
pub async fn blog_changed(
    ctx: &Ctx,
    cache: &BlogCache,
    blog: &Blog,
    old_slug: Option<&str>,
    what: &str,
) -> Result<(), ApiError> {
    let mut slugs = vec![blog.slug.as_str()];
    slugs.extend(old_slug.filter(|s| *s != blog.slug));
    cache.forget(&blog.id.to_hex(), &slugs).await;
    let event = BlogChanged {
        blog_id: blog.id.to_hex(),
        slug: blog.slug.clone(),
        what: what.to_owned(),
    };
    ctx.publish(blog::CHANGED, &event).await
}

/// Keep author names on blogs current when a user renames themselves; durable, so a rename
/// published while every replica was away is applied when one returns. Setting the same name
/// twice changes nothing, so a redelivered event is harmless.
#[handler(subject = "auth.events.user.updated", durable = "blog-authors")]
async fn user_updated(
    ctx: Ctx,
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(event): Json<UserChanged>,
) -> Result<(), ApiError> {
    let published = store
        .rename_author(
            &event.user_id,
            &event.name,
            event.profile_pic_url.as_deref(),
        )
        .await?;
    for blog in &published {
        blog_changed(&ctx, &cache, blog, None, "updated").await?;
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
