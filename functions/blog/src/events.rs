//! Events in and out: blog changes announced to every replica, author renames applied to blogs.

use runtime::{ApiError, Ctx, handler};
use serde::{Deserialize, Serialize};

use crate::cache::BlogCache;
use crate::model::Blog;
use crate::store::BlogStore;

/// Subject of the change announcement.
pub const BLOG_CHANGED: &str = "blog.events.changed";

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

/// Payload of `auth.events.user.updated` (and `.created`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdated {
    /// The user.
    pub user_id: String,
    /// New display name.
    pub name: String,
    /// New picture.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
}

/// Drops every cached copy that could show `blog` stale, then tells the other replicas.
pub async fn blog_changed(
    ctx: &Ctx,
    blog: &Blog,
    old_slug: Option<&str>,
    what: &str,
) -> Result<(), ApiError> {
    let mut slugs = vec![blog.slug.as_str()];
    slugs.extend(old_slug.filter(|s| *s != blog.slug));
    ctx.state::<BlogCache>()
        .forget(&blog.id.to_hex(), &slugs)
        .await;
    let event = BlogChanged {
        blog_id: blog.id.to_hex(),
        slug: blog.slug.clone(),
        what: what.to_owned(),
    };
    ctx.publish(BLOG_CHANGED, &event).await
}

/// Keep author names on blogs current when a user renames themselves.
#[handler(subject = "auth.events.user.updated", queue_group = "blog-events")]
async fn user_updated(ctx: Ctx, event: UserUpdated) -> Result<(), ApiError> {
    let published = ctx
        .state::<BlogStore>()
        .rename_author(
            &event.user_id,
            &event.name,
            event.profile_pic_url.as_deref(),
        )
        .await?;
    for blog in &published {
        blog_changed(&ctx, blog, None, "updated").await?;
    }
    Ok(())
}

/// Empty this replica's in-process cache when any replica changes a blog (every replica hears it).
#[handler(subject = "blog.events.changed", no_queue_group)]
async fn blog_changed_elsewhere(ctx: Ctx, _event: BlogChanged) -> Result<(), ApiError> {
    ctx.state::<BlogCache>().forget_local();
    Ok(())
}
