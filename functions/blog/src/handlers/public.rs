//! Public reads: published blogs by id or slug, lists newest first, similar blogs and tags; cached.

use std::future::Future;

use runtime::{Encoded, Json, State, handler};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::BlogCache;
use crate::dto::{ById, BySlug, Page, PublicBlog, TagPage};
use crate::error::BlogError;
use crate::model::{Blog, Listing, TagCount, Window};
use crate::store::BlogStore;
use crate::validate;

/// How many blogs `similar` returns at most.
const SIMILAR: usize = 6;

/// A warm read sends the cached JSON as it is: no parse, no serialisation.
async fn cached_blog(
    cache: &BlogCache,
    key: String,
    load: impl Future<Output = Result<Blog, BlogError>>,
) -> Result<Encoded<PublicBlog>, BlogError> {
    if let Some(json) = cache.blog(&key).await {
        return Ok(Encoded::from_json(json));
    }
    let blog = PublicBlog::from(&load.await?);
    // Serialising a PublicBlog cannot fail; were it to, it is a 500 as the runtime would make it.
    let encoded = Encoded::encode(&blog).map_err(|err| BlogError::Store(err.to_string()))?;
    cache.put_blog(&blog.id, &blog.slug, encoded.json()).await;
    Ok(encoded)
}

async fn cached_list<T: Serialize + DeserializeOwned>(
    cache: &BlogCache,
    name: String,
    load: impl Future<Output = Result<T, BlogError>>,
) -> Result<T, BlogError> {
    if let Some(list) = cache.list(&name).await {
        return Ok(list);
    }
    let list = load.await?;
    cache.put_list(&name, &list).await;
    Ok(list)
}

async fn listing(
    store: &BlogStore,
    listing: Listing<'_>,
    window: Window,
) -> Result<Vec<PublicBlog>, BlogError> {
    let blogs = store.published_page(listing, window).await?;
    Ok(blogs.iter().map(PublicBlog::from).collect())
}

/// A published blog by id.
#[handler(subject = "blog.get.id", http = "GET /blog/id/:id")]
async fn by_id(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(input): Json<ById>,
) -> Result<Encoded<PublicBlog>, BlogError> {
    let id = validate::object_id(&input.id, "blog")?;
    cached_blog(
        &cache,
        format!("id:{}", id.to_hex()),
        store.public_by_id(id),
    )
    .await
}

/// A published blog by slug.
#[handler(subject = "blog.get.slug", http = "GET /blog/slug/:slug")]
async fn by_slug(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(input): Json<BySlug>,
) -> Result<Encoded<PublicBlog>, BlogError> {
    cached_blog(
        &cache,
        format!("slug:{}", input.slug),
        store.public_by_slug(&input.slug),
    )
    .await
}

/// Published blogs, newest first.
#[handler(subject = "blog.list.latest", http = "GET /blog/list/latest")]
async fn latest(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(page): Json<Page>,
) -> Result<Vec<PublicBlog>, BlogError> {
    let window = page.window()?;
    let Window { skip, limit } = window;
    cached_list(
        &cache,
        format!("latest:{skip}:{limit}"),
        listing(&store, Listing::Latest, window),
    )
    .await
}

/// Published blogs with a tag (any case), newest first.
#[handler(subject = "blog.list.tag", http = "GET /blog/list/tag/:tag")]
async fn by_tag(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(input): Json<TagPage>,
) -> Result<Vec<PublicBlog>, BlogError> {
    let window = input.window()?;
    let Window { skip, limit } = window;
    let tag = input.tag.trim().to_uppercase();
    cached_list(
        &cache,
        format!("tag:{tag}:{skip}:{limit}"),
        listing(&store, Listing::Tagged(&tag), window),
    )
    .await
}

/// At most six published blogs sharing the most tags with this one, never itself.
#[handler(subject = "blog.list.similar", http = "GET /blog/list/similar/id/:id")]
async fn similar(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
    Json(input): Json<ById>,
) -> Result<Vec<PublicBlog>, BlogError> {
    let id = validate::object_id(&input.id, "blog")?;
    cached_list(&cache, format!("similar:{}", id.to_hex()), async {
        let blog = store.public_by_id(id).await?;
        Ok(store
            .similar(&blog, SIMILAR)
            .await?
            .iter()
            .map(PublicBlog::from)
            .collect())
    })
    .await
}

/// Every tag of published blogs with how many carry it, most used first.
#[handler(subject = "blog.tags.list", http = "GET /blog/tags")]
async fn tags(
    State(store): State<BlogStore>,
    State(cache): State<BlogCache>,
) -> Result<Vec<TagCount>, BlogError> {
    cached_list(&cache, "tags".into(), store.tag_counts()).await
}
