//! AUTHOR endpoints: write, edit, submit and withdraw one's own blogs.

use contracts::Caller;
use runtime::{Ctx, Json, State, handler};

use crate::cache::BlogCache;
use crate::dto::{ById, CreateBlog, Done, Page, PrivateBlog, UpdateBlog};
use crate::error::BlogError;
use crate::events::blog_changed;
use crate::model::{Blog, Stage};
use crate::store::BlogStore;
use crate::validate;
use crate::workflow::Move;

async fn own_blog(store: &BlogStore, caller: &Caller, id: &str) -> Result<Blog, BlogError> {
    let blog = store.find(validate::object_id(id, "blog")?).await?;
    blog.ensure_active()?;
    blog.ensure_owned_by(caller)?;
    Ok(blog)
}

/// Create a draft owned by the caller.
#[handler(subject = "blog.author.create", http = "POST /blog/author", roles = ["AUTHOR"])]
async fn create(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<CreateBlog>,
) -> Result<PrivateBlog, BlogError> {
    let blog = input.into_blog(&caller)?;
    store.insert(&blog).await?;
    Ok(PrivateBlog::from(&blog))
}

/// Edit one's own blog; on a published blog the edits go live at the next publish.
#[handler(subject = "blog.author.update", http = "PUT /blog/author", roles = ["AUTHOR"])]
async fn update(
    ctx: Ctx,
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    caller: Caller,
    Json(input): Json<UpdateBlog>,
) -> Result<PrivateBlog, runtime::ApiError> {
    let blog = own_blog(&store, &caller, &input.id).await?;
    let updated = store
        .update_draft(blog.id, &input.edit()?, caller.id())
        .await?;
    blog_changed(&ctx, &store, &cache, &updated, Some(&blog.slug)).await;
    Ok(PrivateBlog::from(&updated))
}

/// One's own blog in any state.
#[handler(subject = "blog.author.get", http = "GET /blog/author/id/:id", roles = ["AUTHOR"])]
async fn get(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<ById>,
) -> Result<PrivateBlog, BlogError> {
    Ok(PrivateBlog::from(
        &own_blog(&store, &caller, &input.id).await?,
    ))
}

/// Delete (deactivate) one's own blog; it leaves every list at once.
#[handler(subject = "blog.author.delete", http = "DELETE /blog/author/id/:id", roles = ["AUTHOR"])]
async fn delete(
    ctx: Ctx,
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    caller: Caller,
    Json(input): Json<ById>,
) -> Result<Done, runtime::ApiError> {
    let blog = own_blog(&store, &caller, &input.id).await?;
    let deleted = store.deactivate(blog.id, caller.id()).await?;
    blog_changed(&ctx, &store, &cache, &deleted, None).await;
    Ok(Done {
        message: "blog deleted".into(),
    })
}

/// Send a draft to the editors.
#[handler(subject = "blog.author.submit", http = "PUT /blog/author/submit/id/:id", roles = ["AUTHOR"])]
async fn submit(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<ById>,
) -> Result<PrivateBlog, BlogError> {
    let blog = own_blog(&store, &caller, &input.id).await?;
    let moved = store.apply(&blog, Move::Submit, caller.id()).await?;
    Ok(PrivateBlog::from(&moved))
}

/// Take a submitted draft back.
#[handler(subject = "blog.author.withdraw", http = "PUT /blog/author/withdraw/id/:id", roles = ["AUTHOR"])]
async fn withdraw(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<ById>,
) -> Result<PrivateBlog, BlogError> {
    let blog = own_blog(&store, &caller, &input.id).await?;
    let moved = store.apply(&blog, Move::Withdraw, caller.id()).await?;
    Ok(PrivateBlog::from(&moved))
}

async fn mine(
    store: &BlogStore,
    caller: &Caller,
    stage: Stage,
    page: Page,
) -> Result<Vec<PrivateBlog>, BlogError> {
    let blogs = store
        .by_stage(Some(caller.id()), stage, page.window()?)
        .await?;
    Ok(blogs.iter().map(PrivateBlog::from).collect())
}

/// One's own blogs with unsubmitted changes.
#[handler(subject = "blog.author.drafts", http = "GET /blog/author/drafts", roles = ["AUTHOR"])]
async fn drafts(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(page): Json<Page>,
) -> Result<Vec<PrivateBlog>, BlogError> {
    mine(&store, &caller, Stage::Drafted, page).await
}

/// One's own blogs waiting for an editor.
#[handler(subject = "blog.author.submitted", http = "GET /blog/author/submitted", roles = ["AUTHOR"])]
async fn submitted(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(page): Json<Page>,
) -> Result<Vec<PrivateBlog>, BlogError> {
    mine(&store, &caller, Stage::Submitted, page).await
}

/// One's own live blogs.
#[handler(subject = "blog.author.published", http = "GET /blog/author/published", roles = ["AUTHOR"])]
async fn published(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(page): Json<Page>,
) -> Result<Vec<PrivateBlog>, BlogError> {
    mine(&store, &caller, Stage::Published, page).await
}
