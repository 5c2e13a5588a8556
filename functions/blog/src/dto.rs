//! Wire types: what handlers take (validated, unknown fields refused) and what they return.

use contracts::Caller;
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::error::BlogError;
use crate::model::{Author, Blog, Comment};

fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), BlogError> {
    let n = value.trim().chars().count();
    if n < min || n > max {
        return Err(BlogError::Invalid(format!(
            "{field} must be {min} to {max} characters (got {n})"
        )));
    }
    Ok(())
}

fn check_slug(slug: &str) -> Result<(), BlogError> {
    check_len("slug", slug, 3, 200)?;
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(BlogError::Invalid(format!(
            "slug '{slug}' may hold only lower-case letters, digits and '-'"
        )));
    }
    Ok(())
}

fn normalise_tags(tags: &[String]) -> Result<Vec<String>, BlogError> {
    let mut upper: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    upper.sort();
    upper.dedup();
    if upper.is_empty() {
        return Err(BlogError::Invalid("tags must hold at least one tag".into()));
    }
    if let Some(tag) = upper
        .iter()
        .find(|t| t.chars().count() > 50 || t.starts_with('$'))
    {
        return Err(BlogError::Invalid(format!("tag '{tag}' is not allowed")));
    }
    Ok(upper)
}

/// Input of `blog.author.create`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBlog {
    /// 3-500 characters.
    pub title: String,
    /// 3-2000 characters.
    pub description: String,
    /// At most 50000 characters.
    pub draft_text: String,
    /// 3-200 characters of `[a-z0-9-]`.
    pub slug: String,
    /// Optional cover image URL.
    #[serde(default)]
    pub img_url: Option<String>,
    /// At least one tag; stored upper-case.
    pub tags: Vec<String>,
}

impl CreateBlog {
    /// Validates the input and builds the draft owned by `caller`.
    pub fn into_blog(self, caller: &Caller) -> Result<Blog, BlogError> {
        check_len("title", &self.title, 3, 500)?;
        check_len("description", &self.description, 3, 2000)?;
        check_len("draftText", &self.draft_text, 0, 50_000)?;
        check_slug(&self.slug)?;
        let now = DateTime::now();
        Ok(Blog {
            id: ObjectId::new(),
            title: self.title.trim().to_owned(),
            description: self.description.trim().to_owned(),
            draft_text: self.draft_text,
            text: None,
            slug: self.slug,
            img_url: self.img_url,
            tags: normalise_tags(&self.tags)?,
            author: Author::from(caller),
            score: 0.01,
            drafted: true,
            submitted: false,
            published: false,
            status: true,
            published_at: None,
            created_at: now,
            updated_at: now,
            created_by: caller.id().to_owned(),
            updated_by: caller.id().to_owned(),
        })
    }
}

/// Input of `blog.author.update`: the blog's `_id` and the fields to change.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateBlog {
    /// The blog to change.
    #[serde(rename = "_id")]
    pub id: String,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New draft text (goes live at the next publish).
    pub draft_text: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New cover image.
    pub img_url: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
}

impl UpdateBlog {
    /// Validates the changes and returns them as a `$set` document.
    pub fn changes(&self, caller: &Caller) -> Result<mongodb::bson::Document, BlogError> {
        let mut set = mongodb::bson::doc! { "updatedAt": DateTime::now(), "updatedBy": caller.id(), "drafted": true };
        if let Some(title) = &self.title {
            check_len("title", title, 3, 500)?;
            set.insert("title", title.trim());
        }
        if let Some(description) = &self.description {
            check_len("description", description, 3, 2000)?;
            set.insert("description", description.trim());
        }
        if let Some(text) = &self.draft_text {
            check_len("draftText", text, 0, 50_000)?;
            set.insert("draftText", text);
        }
        if let Some(slug) = &self.slug {
            check_slug(slug)?;
            set.insert("slug", slug);
        }
        if let Some(img_url) = &self.img_url {
            set.insert("imgUrl", img_url);
        }
        if let Some(tags) = &self.tags {
            set.insert("tags", normalise_tags(tags)?);
        }
        Ok(set)
    }
}

/// A blog or comment named by its id in the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ById {
    /// ObjectId hex string.
    pub id: String,
}

/// A blog named by its slug in the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BySlug {
    /// The slug.
    pub slug: String,
}

/// `?page=&limit=`, both required as in gomicro.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// 1-based page number.
    pub page: u64,
    /// Items per page, 1-100.
    pub limit: u64,
}

impl Page {
    /// `(skip, limit)` after checking the bounds.
    pub fn window(self) -> Result<(u64, i64), BlogError> {
        if self.page < 1 {
            return Err(BlogError::Invalid("page must be at least 1".into()));
        }
        if !(1..=100).contains(&self.limit) {
            return Err(BlogError::Invalid("limit must be between 1 and 100".into()));
        }
        let skip = (self.page - 1)
            .checked_mul(self.limit)
            .ok_or_else(|| BlogError::Invalid("page is too large".into()))?;
        Ok((skip, self.limit as i64))
    }
}

/// A tag in the path plus a page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagPage {
    /// Tag, any case.
    pub tag: String,
    /// 1-based page number.
    pub page: u64,
    /// Items per page, 1-100.
    pub limit: u64,
}

/// Input of `blog.comment.add`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddComment {
    /// The published blog to comment on.
    pub blog_id: String,
    /// 1-2000 characters.
    pub text: String,
}

impl AddComment {
    /// Validates the text.
    pub fn validate(&self) -> Result<(), BlogError> {
        check_len("text", &self.text, 1, 2000)
    }
}

/// A blog's comments, a page at a time.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentPage {
    /// The blog.
    pub blog_id: String,
    /// 1-based page number.
    pub page: u64,
    /// Items per page, 1-100.
    pub limit: u64,
}

fn rfc3339(t: Option<DateTime>) -> Option<String> {
    t.and_then(|t| t.try_to_rfc3339_string().ok())
}

/// What the public sees of a published blog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicBlog {
    /// ObjectId hex.
    #[serde(rename = "_id")]
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub description: String,
    /// The live text.
    pub text: String,
    /// URL name.
    pub slug: String,
    /// Cover image.
    pub img_url: Option<String>,
    /// Upper-case tags.
    pub tags: Vec<String>,
    /// Who wrote it.
    pub author: Author,
    /// Ranking score.
    pub score: f64,
    /// When it went live (RFC 3339).
    pub published_at: Option<String>,
}

impl From<&Blog> for PublicBlog {
    fn from(blog: &Blog) -> Self {
        Self {
            id: blog.id.to_hex(),
            title: blog.title.clone(),
            description: blog.description.clone(),
            text: blog.text.clone().unwrap_or_default(),
            slug: blog.slug.clone(),
            img_url: blog.img_url.clone(),
            tags: blog.tags.clone(),
            author: blog.author.clone(),
            score: blog.score,
            published_at: rfc3339(blog.published_at),
        }
    }
}

/// What the author and editors see: every field and the workflow state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateBlog {
    /// ObjectId hex.
    #[serde(rename = "_id")]
    pub id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub description: String,
    /// Text being edited.
    pub draft_text: String,
    /// Live text, once published.
    pub text: Option<String>,
    /// URL name.
    pub slug: String,
    /// Cover image.
    pub img_url: Option<String>,
    /// Upper-case tags.
    pub tags: Vec<String>,
    /// Who wrote it.
    pub author: Author,
    /// Has unsubmitted changes.
    pub drafted: bool,
    /// Waiting for an editor.
    pub submitted: bool,
    /// Live.
    pub published: bool,
    /// False once deleted.
    pub status: bool,
    /// When it went live (RFC 3339).
    pub published_at: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Last change (RFC 3339).
    pub updated_at: Option<String>,
}

impl From<&Blog> for PrivateBlog {
    fn from(blog: &Blog) -> Self {
        Self {
            id: blog.id.to_hex(),
            title: blog.title.clone(),
            description: blog.description.clone(),
            draft_text: blog.draft_text.clone(),
            text: blog.text.clone(),
            slug: blog.slug.clone(),
            img_url: blog.img_url.clone(),
            tags: blog.tags.clone(),
            author: blog.author.clone(),
            drafted: blog.drafted,
            submitted: blog.submitted,
            published: blog.published,
            status: blog.status,
            published_at: rfc3339(blog.published_at),
            created_at: rfc3339(Some(blog.created_at)),
            updated_at: rfc3339(Some(blog.updated_at)),
        }
    }
}

/// A comment as shown.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    /// ObjectId hex.
    #[serde(rename = "_id")]
    pub id: String,
    /// The blog's id.
    pub blog_id: String,
    /// Who wrote it.
    pub author: Author,
    /// The comment.
    pub text: String,
    /// When (RFC 3339).
    pub created_at: Option<String>,
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        Self {
            id: c.id.to_hex(),
            blog_id: c.blog_id.to_hex(),
            author: c.author.clone(),
            text: c.text.clone(),
            created_at: rfc3339(Some(c.created_at)),
        }
    }
}

/// One tag and how many published blogs carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// Upper-case tag.
    pub tag: String,
    /// Published blogs with the tag.
    pub count: u64,
}

/// Sent by `blog.deleted`-style handlers that return nothing else.
#[derive(Debug, Serialize)]
pub struct Done {
    /// What happened.
    pub message: String,
}
