//! Blogs and comments as stored, and the domain values the store and the handlers exchange.

use contracts::Caller;
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::error::BlogError;

/// The author as copied onto a blog or comment (kept current from `auth.events.user.updated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Author {
    /// User id (UUID string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Profile picture URL.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
}

impl From<&Caller> for Author {
    fn from(caller: &Caller) -> Self {
        Self {
            id: caller.user.id.clone(),
            name: caller.user.name.clone(),
            profile_pic_url: caller.user.profile_pic_url.clone(),
        }
    }
}

/// A blog document in MongoDB.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blog {
    /// ObjectId, shown as `_id`.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// Title, 3-500 characters.
    pub title: String,
    /// Summary, 3-2000 characters.
    pub description: String,
    /// The text being edited; goes live at the next publish.
    pub draft_text: String,
    /// The live text, set by publishing.
    #[serde(default)]
    pub text: Option<String>,
    /// Unique URL name.
    pub slug: String,
    /// Cover image URL.
    #[serde(default)]
    pub img_url: Option<String>,
    /// Upper-case tags.
    pub tags: Vec<String>,
    /// Who wrote it.
    pub author: Author,
    /// Ranking score (kept for gomicro compatibility).
    #[serde(default)]
    pub score: f64,
    /// Has edits not yet submitted.
    pub drafted: bool,
    /// Waiting for an editor.
    pub submitted: bool,
    /// Live for the public.
    pub published: bool,
    /// False once deleted.
    pub status: bool,
    /// When it last went live.
    #[serde(default)]
    pub published_at: Option<DateTime>,
    /// Creation time.
    pub created_at: DateTime,
    /// Last change.
    pub updated_at: DateTime,
    /// User id that created it.
    pub created_by: String,
    /// User id of the last change.
    pub updated_by: String,
    /// The event the last change staged, until JetStream has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_event: Option<crate::store::PendingEvent>,
}

/// The content of a new blog, checked by `CreateBlog::into_blog`.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Trimmed title.
    pub title: String,
    /// Trimmed summary.
    pub description: String,
    /// The text to edit until the first publish.
    pub draft_text: String,
    /// Unique URL name.
    pub slug: String,
    /// Cover image URL.
    pub img_url: Option<String>,
    /// Upper-case, sorted, de-duplicated tags.
    pub tags: Vec<String>,
}

/// An author's checked changes to a blog; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// New trimmed title.
    pub title: Option<String>,
    /// New trimmed summary.
    pub description: Option<String>,
    /// New draft text (goes live at the next publish).
    pub draft_text: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New cover image.
    pub img_url: Option<String>,
    /// New normalised tags.
    pub tags: Option<Vec<String>>,
}

impl Blog {
    /// A new, unsubmitted draft of `content` written by `caller`.
    pub fn draft(content: Draft, caller: &Caller) -> Self {
        let now = DateTime::now();
        Self {
            id: ObjectId::new(),
            title: content.title,
            description: content.description,
            draft_text: content.draft_text,
            text: None,
            slug: content.slug,
            img_url: content.img_url,
            tags: content.tags,
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
            pending_event: None,
        }
    }

    /// Whether the public may see it.
    pub fn is_public(&self) -> bool {
        self.published && self.status
    }

    /// 403 unless `caller` wrote this blog.
    pub fn ensure_owned_by(&self, caller: &Caller) -> Result<(), BlogError> {
        if self.author.id != caller.id() {
            return Err(BlogError::Forbidden(
                "this blog belongs to another author".into(),
            ));
        }
        Ok(())
    }

    /// 404 for a deleted blog: it no longer exists for anyone.
    pub fn ensure_active(&self) -> Result<(), BlogError> {
        if !self.status {
            return Err(BlogError::NotFound(format!(
                "blog {} was deleted",
                self.id.to_hex()
            )));
        }
        Ok(())
    }
}

/// A comment on a published blog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// ObjectId, shown as `_id`.
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The blog it belongs to.
    pub blog_id: ObjectId,
    /// Who wrote it.
    pub author: Author,
    /// 1-2000 characters.
    pub text: String,
    /// When it was written.
    pub created_at: DateTime,
}

impl Comment {
    /// A new comment by `caller` on the blog `blog_id`; `text` has passed validation.
    pub fn new(blog_id: ObjectId, caller: &Caller, text: &str) -> Self {
        Self {
            id: ObjectId::new(),
            blog_id,
            author: Author::from(caller),
            text: text.trim().to_owned(),
            created_at: DateTime::now(),
        }
    }
}

/// Which of an author's or everyone's blogs a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// With unsubmitted changes.
    Drafted,
    /// Waiting for an editor.
    Submitted,
    /// Live.
    Published,
}

/// Which published blogs a public list shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// All of them.
    Latest,
    /// Those carrying an upper-case tag.
    Tagged(&'a str),
}

/// One checked page of a list: how many items to pass over and how many to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Items before the page.
    pub skip: u64,
    /// Items on the page, 1 to 100.
    pub limit: u64,
}

/// A stored time as RFC 3339, the way the wire types show it.
pub fn rfc3339(time: Option<DateTime>) -> Option<String> {
    time.and_then(|t| t.try_to_rfc3339_string().ok())
}

/// One tag and how many published blogs carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    /// Upper-case tag.
    pub tag: String,
    /// Published blogs with the tag.
    pub count: u64,
}
