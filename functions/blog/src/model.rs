//! Blogs and comments as stored, and the workflow rules that move a blog between states.

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
}

impl Blog {
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

/// The state a workflow move needs and what it sets, as a MongoDB filter and update.
pub enum Move {
    /// Author sends a draft to the editors.
    Submit,
    /// Author takes a submitted draft back.
    Withdraw,
    /// Editor makes a submitted blog live.
    Publish,
    /// Editor takes a live blog down.
    Unpublish,
}

impl Move {
    /// Checks the move is legal from `blog`'s state; explains why not otherwise.
    pub fn check(&self, blog: &Blog) -> Result<(), BlogError> {
        blog.ensure_active()?;
        let illegal = |why: &str| Err(BlogError::IllegalMove(why.to_owned()));
        match self {
            Self::Submit if blog.submitted => illegal("the blog is already submitted"),
            Self::Submit if !blog.drafted => illegal("the blog has no draft changes to submit"),
            Self::Withdraw if !blog.submitted => illegal("only a submitted blog can be withdrawn"),
            Self::Publish if !blog.submitted => {
                illegal("only a submitted blog can be published; the author must submit it first")
            }
            Self::Unpublish if !blog.published => illegal("the blog is not published"),
            _ => Ok(()),
        }
    }

    /// The `$set` that performs the move.
    pub fn update(&self, blog: &Blog, by: &str) -> mongodb::bson::Document {
        let now = DateTime::now();
        let mut set = match self {
            Self::Submit => mongodb::bson::doc! { "submitted": true, "drafted": false },
            Self::Withdraw => mongodb::bson::doc! { "submitted": false, "drafted": true },
            Self::Publish => mongodb::bson::doc! {
                "submitted": false, "drafted": false, "published": true,
                "text": &blog.draft_text, "publishedAt": now,
            },
            Self::Unpublish => mongodb::bson::doc! { "published": false, "drafted": true },
        };
        set.insert("updatedAt", now);
        set.insert("updatedBy", by);
        mongodb::bson::doc! { "$set": set }
    }

    /// The state the blog must still be in when the update lands (guards against races).
    pub fn precondition(&self) -> mongodb::bson::Document {
        match self {
            Self::Submit => {
                mongodb::bson::doc! { "status": true, "submitted": false, "drafted": true }
            }
            Self::Withdraw | Self::Publish => {
                mongodb::bson::doc! { "status": true, "submitted": true }
            }
            Self::Unpublish => mongodb::bson::doc! { "status": true, "published": true },
        }
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

/// Parses a path id, 400 when it is not an ObjectId.
pub fn object_id(raw: &str, what: &str) -> Result<ObjectId, BlogError> {
    ObjectId::parse_str(raw)
        .map_err(|_| BlogError::Invalid(format!("'{raw}' is not a valid {what} id")))
}
