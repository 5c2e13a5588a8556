//! EDITOR endpoints: review any blog, publish and unpublish.

use contracts::Caller;
use runtime::{Access, ApiError, Ctx, FromRequestParts, Json, Need, Parts, State, handler};

use crate::cache::BlogCache;
use crate::dto::{ById, Page, PrivateBlog};
use crate::error::BlogError;
use crate::events::blog_changed;
use crate::model::Stage;
use crate::store::BlogStore;
use crate::validate;
use crate::workflow::Move;

/// Any blog, in any state.
#[handler(subject = "blog.editor.get", http = "GET /blog/editor/id/:id", roles = ["EDITOR"])]
async fn get(
    State(store): State<BlogStore>,
    Json(input): Json<ById>,
) -> Result<PrivateBlog, BlogError> {
    let blog = store.find(validate::object_id(&input.id, "blog")?).await?;
    Ok(PrivateBlog::from(&blog))
}

/// What publish and unpublish take from a request: one extractor, so each handler is one move.
struct Editing {
    ctx: Ctx,
    store: BlogStore,
    cache: BlogCache,
    caller: Caller,
}

impl FromRequestParts for Editing {
    const ACCESS: Access = Caller::ACCESS;

    fn needs(out: &mut Vec<Need>) {
        State::<BlogStore>::needs(out);
        State::<BlogCache>::needs(out);
    }

    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        Ok(Self {
            ctx: Ctx::from_request_parts(parts)?,
            store: State::<BlogStore>::from_request_parts(parts)?.0,
            cache: State::<BlogCache>::from_request_parts(parts)?.0,
            caller: Caller::from_request_parts(parts)?,
        })
    }
}

impl Editing {
    async fn step(&self, id: &str, step: Move) -> Result<PrivateBlog, ApiError> {
        let blog = self.store.find(validate::object_id(id, "blog")?).await?;
        let moved = self.store.apply(&blog, step, self.caller.id()).await?;
        blog_changed(
            &self.ctx,
            &self.store,
            &self.cache,
            &moved,
            Some(&blog.slug),
        )
        .await;
        Ok(PrivateBlog::from(&moved))
    }
}

/// Make a submitted blog live; its draft text becomes the public text.
#[handler(subject = "blog.editor.publish", http = "PUT /blog/editor/publish/id/:id", roles = ["EDITOR"])]
async fn publish(editing: Editing, Json(input): Json<ById>) -> Result<PrivateBlog, ApiError> {
    editing.step(&input.id, Move::Publish).await
}

/// Take a live blog down; it goes back to its author as a draft.
#[handler(subject = "blog.editor.unpublish", http = "PUT /blog/editor/unpublish/id/:id", roles = ["EDITOR"])]
async fn unpublish(editing: Editing, Json(input): Json<ById>) -> Result<PrivateBlog, ApiError> {
    editing.step(&input.id, Move::Unpublish).await
}

async fn all(store: &BlogStore, stage: Stage, page: Page) -> Result<Vec<PrivateBlog>, BlogError> {
    let blogs = store.by_stage(None, stage, page.window()?).await?;
    Ok(blogs.iter().map(PrivateBlog::from).collect())
}

/// Every blog waiting for review.
#[handler(subject = "blog.editor.submitted", http = "GET /blog/editor/submitted", roles = ["EDITOR"])]
async fn submitted(
    State(store): State<BlogStore>,
    Json(page): Json<Page>,
) -> Result<Vec<PrivateBlog>, BlogError> {
    all(&store, Stage::Submitted, page).await
}

/// Every live blog.
#[handler(subject = "blog.editor.published", http = "GET /blog/editor/published", roles = ["EDITOR"])]
async fn published(
    State(store): State<BlogStore>,
    Json(page): Json<Page>,
) -> Result<Vec<PrivateBlog>, BlogError> {
    all(&store, Stage::Published, page).await
}
