//! EDITOR endpoints: review any blog, publish and unpublish.

use runtime::{ApiError, Caller, Ctx, handler};

use crate::dto::{ById, Page, PrivateBlog};
use crate::error::BlogError;
use crate::events::blog_changed;
use crate::model::{Move, object_id};
use crate::store::{BlogStore, State};

/// Any blog, in any state.
#[handler(subject = "blog.editor.get", http = "GET /blog/editor/id/:id", roles = ["EDITOR"])]
async fn get(ctx: Ctx, input: ById) -> Result<PrivateBlog, BlogError> {
    let blog = ctx
        .state::<BlogStore>()
        .find(object_id(&input.id, "blog")?)
        .await?;
    Ok(PrivateBlog::from(&blog))
}

async fn step(
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    step: Move,
    what: &str,
) -> Result<PrivateBlog, ApiError> {
    let store = ctx.state::<BlogStore>();
    let blog = store.find(object_id(id, "blog")?).await?;
    let moved = store.transition(&blog, step, caller.id()).await?;
    blog_changed(ctx, &moved, Some(&blog.slug), what).await?;
    Ok(PrivateBlog::from(&moved))
}

/// Make a submitted blog live; its draft text becomes the public text.
#[handler(subject = "blog.editor.publish", http = "PUT /blog/editor/publish/id/:id", roles = ["EDITOR"])]
async fn publish(ctx: Ctx, caller: Caller, input: ById) -> Result<PrivateBlog, ApiError> {
    step(&ctx, &caller, &input.id, Move::Publish, "published").await
}

/// Take a live blog down; it goes back to its author as a draft.
#[handler(subject = "blog.editor.unpublish", http = "PUT /blog/editor/unpublish/id/:id", roles = ["EDITOR"])]
async fn unpublish(ctx: Ctx, caller: Caller, input: ById) -> Result<PrivateBlog, ApiError> {
    step(&ctx, &caller, &input.id, Move::Unpublish, "unpublished").await
}

async fn all(ctx: &Ctx, state: State, page: Page) -> Result<Vec<PrivateBlog>, BlogError> {
    let (skip, limit) = page.window()?;
    let blogs = ctx
        .state::<BlogStore>()
        .by_state(None, state, skip, limit)
        .await?;
    Ok(blogs.iter().map(PrivateBlog::from).collect())
}

/// Every blog waiting for review.
#[handler(subject = "blog.editor.submitted", http = "GET /blog/editor/submitted", roles = ["EDITOR"])]
async fn submitted(ctx: Ctx, page: Page) -> Result<Vec<PrivateBlog>, BlogError> {
    all(&ctx, State::Submitted, page).await
}

/// Every live blog.
#[handler(subject = "blog.editor.published", http = "GET /blog/editor/published", roles = ["EDITOR"])]
async fn published(ctx: Ctx, page: Page) -> Result<Vec<PrivateBlog>, BlogError> {
    all(&ctx, State::Published, page).await
}
