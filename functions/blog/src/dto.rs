//! Wire types: what handlers take (validated, unknown fields refused) and what they return.

use contracts::Caller;
use serde::{Deserialize, Serialize};

use crate::error::BlogError;
use crate::model::{Author, Blog, Comment, Draft, Edit, Window, rfc3339};
use crate::validate;
use contracts::text::Lines;

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
    /// Optional cover image link: http(s), at most 200 characters.
    #[serde(default)]
    pub img_url: Option<String>,
    /// One to ten tags; stored upper-case.
    pub tags: Vec<String>,
}

impl CreateBlog {
    /// Validates the input and builds the draft owned by `caller`.
    pub fn into_blog(self, caller: &Caller) -> Result<Blog, BlogError> {
        validate::text("title", &self.title, 3, 500, Lines::Single)?;
        validate::text("description", &self.description, 3, 2000, Lines::Multi)?;
        validate::text("draftText", &self.draft_text, 0, 50_000, Lines::Multi)?;
        validate::slug(&self.slug)?;
        let content = Draft {
            title: self.title.trim().to_owned(),
            description: self.description.trim().to_owned(),
            draft_text: self.draft_text,
            slug: self.slug,
            img_url: validate::img_url(self.img_url.as_deref())?,
            tags: validate::tags(&self.tags)?,
        };
        Ok(Blog::draft(content, caller))
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
    /// Validates the changes, in field order, into an edit for the store.
    pub fn edit(&self) -> Result<Edit, BlogError> {
        let mut edit = Edit::default();
        if let Some(title) = &self.title {
            validate::text("title", title, 3, 500, Lines::Single)?;
            edit.title = Some(title.trim().to_owned());
        }
        if let Some(description) = &self.description {
            validate::text("description", description, 3, 2000, Lines::Multi)?;
            edit.description = Some(description.trim().to_owned());
        }
        if let Some(text) = &self.draft_text {
            validate::text("draftText", text, 0, 50_000, Lines::Multi)?;
            edit.draft_text = Some(text.clone());
        }
        if let Some(slug) = &self.slug {
            validate::slug(slug)?;
            edit.slug = Some(slug.clone());
        }
        if let Some(url) = &self.img_url {
            edit.img_url = validate::img_url(Some(url))?;
        }
        if let Some(tags) = &self.tags {
            edit.tags = Some(validate::tags(tags)?);
        }
        Ok(edit)
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
    /// The checked window of this page.
    pub fn window(self) -> Result<Window, BlogError> {
        validate::window(self.page, self.limit)
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

impl TagPage {
    /// The checked window of this page.
    pub fn window(&self) -> Result<Window, BlogError> {
        validate::window(self.page, self.limit)
    }
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
        validate::text("text", &self.text, 1, 2000, Lines::Multi)
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

impl CommentPage {
    /// The checked window of this page.
    pub fn window(&self) -> Result<Window, BlogError> {
        validate::window(self.page, self.limit)
    }
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

/// Sent by `blog.deleted`-style handlers that return nothing else.
#[derive(Debug, Serialize)]
pub struct Done {
    /// What happened.
    pub message: String,
}
