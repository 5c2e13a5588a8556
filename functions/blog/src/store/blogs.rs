//! Blog documents: drafts, edits, workflow moves and the lists each audience reads.

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::options::ReturnDocument;

use super::{BlogStore, outbox, page};
use crate::error::{BlogError, is_duplicate_key};
use crate::model::{Blog, Edit, Listing, Stage, TagCount, Window};
use crate::workflow::Move;

/// How many published blogs `similar` ranks at most.
const SIMILAR_CANDIDATES: u64 = 200;

/// What every public read adds to its filter: live and not deleted.
fn public(mut filter: Document) -> Document {
    filter.insert("published", true);
    filter.insert("status", true);
    filter
}

fn not_public() -> BlogError {
    BlogError::NotFound("no published blog matches".into())
}

fn no_blog(id: ObjectId) -> BlogError {
    BlogError::NotFound(format!("blog {} does not exist", id.to_hex()))
}

fn stage_field(stage: Stage) -> &'static str {
    match stage {
        Stage::Drafted => "drafted",
        Stage::Submitted => "submitted",
        Stage::Published => "published",
    }
}

/// The `$set` of an author's edit: the changed fields, and the blog now has a draft.
fn edit_set(edit: &Edit, by: &str) -> Document {
    let mut set = doc! { "updatedAt": DateTime::now(), "updatedBy": by, "drafted": true };
    let fields = [
        ("title", edit.title.clone().map(Bson::from)),
        ("description", edit.description.clone().map(Bson::from)),
        ("draftText", edit.draft_text.clone().map(Bson::from)),
        ("slug", edit.slug.clone().map(Bson::from)),
        ("imgUrl", edit.img_url.clone().map(Bson::from)),
        ("tags", edit.tags.clone().map(Bson::from)),
    ];
    for (field, value) in fields {
        if let Some(value) = value {
            set.insert(field, value);
        }
    }
    outbox::stage(&mut set, "updated");
    set
}

/// The update that performs `step` on `blog`.
fn move_update(step: Move, blog: &Blog, by: &str) -> Document {
    let now = DateTime::now();
    let mut set = match step {
        Move::Submit => doc! { "submitted": true, "drafted": false },
        Move::Withdraw => doc! { "submitted": false, "drafted": true },
        Move::Publish => doc! {
            "submitted": false, "drafted": false, "published": true,
            "text": &blog.draft_text, "publishedAt": now,
        },
        Move::Unpublish => doc! { "published": false, "drafted": true },
    };
    // Readers only see published blogs: only going live or coming down concerns them.
    match step {
        Move::Publish => outbox::stage(&mut set, "published"),
        Move::Unpublish => outbox::stage(&mut set, "unpublished"),
        Move::Submit | Move::Withdraw => {}
    }
    set.insert("updatedAt", now);
    set.insert("updatedBy", by);
    doc! { "$set": set }
}

/// The state the blog must still be in when `step` lands (guards against races).
fn move_precondition(step: Move) -> Document {
    match step {
        Move::Submit => doc! { "status": true, "submitted": false, "drafted": true },
        Move::Withdraw | Move::Publish => doc! { "status": true, "submitted": true },
        Move::Unpublish => doc! { "status": true, "published": true },
    }
}

impl BlogStore {
    /// Stores a new draft; a taken slug is 409 even when two creates race.
    #[tracing::instrument(target = "otel", name = "mongodb.insert", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn insert(&self, blog: &Blog) -> Result<(), BlogError> {
        match self.blogs.insert_one(blog).await {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate_key(&err) => Err(BlogError::SlugTaken(blog.slug.clone())),
            Err(err) => Err(err.into()),
        }
    }

    /// A blog in any state, or 404.
    #[tracing::instrument(target = "otel", name = "mongodb.find", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn find(&self, id: ObjectId) -> Result<Blog, BlogError> {
        self.blogs
            .find_one(doc! {"_id": id})
            .await?
            .ok_or_else(|| no_blog(id))
    }

    /// A published, active blog by id, or 404.
    #[tracing::instrument(target = "otel", name = "mongodb.public_by_id", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn public_by_id(&self, id: ObjectId) -> Result<Blog, BlogError> {
        self.blogs
            .find_one(public(doc! {"_id": id}))
            .await?
            .ok_or_else(not_public)
    }

    /// A published, active blog by slug, or 404.
    #[tracing::instrument(target = "otel", name = "mongodb.public_by_slug", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn public_by_slug(&self, slug: &str) -> Result<Blog, BlogError> {
        self.blogs
            .find_one(public(doc! {"slug": slug}))
            .await?
            .ok_or_else(not_public)
    }

    /// Applies an author's edit to an active blog and returns the blog as it now is.
    #[tracing::instrument(target = "otel", name = "mongodb.update_draft", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn update_draft(
        &self,
        id: ObjectId,
        edit: &Edit,
        by: &str,
    ) -> Result<Blog, BlogError> {
        let updated = self
            .blogs
            .find_one_and_update(
                doc! {"_id": id, "status": true},
                doc! {"$set": edit_set(edit, by)},
            )
            .return_document(ReturnDocument::After)
            .await;
        match updated {
            Ok(Some(blog)) => Ok(blog),
            Ok(None) => Err(no_blog(id)),
            Err(err) if is_duplicate_key(&err) => {
                Err(BlogError::SlugTaken(edit.slug.clone().unwrap_or_default()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Performs a workflow move, checked against the state the blog is in when the write lands.
    #[tracing::instrument(target = "otel", name = "mongodb.apply", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn apply(&self, blog: &Blog, step: Move, by: &str) -> Result<Blog, BlogError> {
        step.check(blog)?;
        let mut filter = move_precondition(step);
        filter.insert("_id", blog.id);
        self.blogs
            .find_one_and_update(filter, move_update(step, blog, by))
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| {
                BlogError::IllegalMove(
                    "the blog changed state meanwhile; reload it and retry".into(),
                )
            })
    }

    /// Deactivates a blog, staging its `deleted` event: it disappears from every list and read.
    #[tracing::instrument(target = "otel", name = "mongodb.deactivate", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn deactivate(&self, id: ObjectId, by: &str) -> Result<Blog, BlogError> {
        let mut set = doc! {"status": false, "updatedAt": DateTime::now(), "updatedBy": by};
        outbox::stage(&mut set, "deleted");
        self.blogs
            .find_one_and_update(doc! {"_id": id}, doc! {"$set": set})
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| no_blog(id))
    }

    /// A page of the blogs in `stage`, of one author or of all, newest change first.
    #[tracing::instrument(target = "otel", name = "mongodb.by_stage", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn by_stage(
        &self,
        author: Option<&str>,
        stage: Stage,
        window: Window,
    ) -> Result<Vec<Blog>, BlogError> {
        let mut filter = doc! {"status": true, stage_field(stage): true};
        if let Some(author) = author {
            filter.insert("author.id", author);
        }
        page(&self.blogs, filter, doc! {"updatedAt": -1}, window).await
    }

    /// A page of the published blogs `listing` names, newest first.
    #[tracing::instrument(target = "otel", name = "mongodb.published_page", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn published_page(
        &self,
        listing: Listing<'_>,
        window: Window,
    ) -> Result<Vec<Blog>, BlogError> {
        let filter = match listing {
            Listing::Latest => doc! {},
            Listing::Tagged(tag) => doc! {"tags": tag},
        };
        self.published(filter, window).await
    }

    async fn published(&self, filter: Document, window: Window) -> Result<Vec<Blog>, BlogError> {
        page(
            &self.blogs,
            public(filter),
            doc! {"publishedAt": -1},
            window,
        )
        .await
    }

    /// Up to `max` published blogs sharing tags with `blog`, most shared tags first, never itself.
    #[tracing::instrument(target = "otel", name = "mongodb.similar", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn similar(&self, blog: &Blog, max: usize) -> Result<Vec<Blog>, BlogError> {
        let filter = doc! {"tags": {"$in": &blog.tags}, "_id": {"$ne": blog.id}};
        let candidates = Window {
            skip: 0,
            limit: SIMILAR_CANDIDATES,
        };
        let mut candidates = self.published(filter, candidates).await?;
        let shared = |other: &Blog| other.tags.iter().filter(|t| blog.tags.contains(t)).count();
        // Stable sort keeps newest-first among equally similar blogs.
        candidates.sort_by_key(|other| std::cmp::Reverse(shared(other)));
        candidates.truncate(max);
        Ok(candidates)
    }

    /// Every tag of published blogs with its count, most used first (SecantusDB runs $unwind/$group).
    #[tracing::instrument(target = "otel", name = "mongodb.tag_counts", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn tag_counts(&self) -> Result<Vec<TagCount>, BlogError> {
        let pipeline = [
            doc! {"$match": {"published": true, "status": true}},
            doc! {"$unwind": "$tags"},
            doc! {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
            doc! {"$sort": {"count": -1, "_id": 1}},
        ];
        let groups: Vec<Document> = self.blogs.aggregate(pipeline).await?.try_collect().await?;
        Ok(groups
            .iter()
            .filter_map(|group| {
                let tag = group.get_str("_id").ok()?.to_owned();
                let count = match group.get("count")? {
                    Bson::Int32(n) => u64::try_from(*n).ok()?,
                    Bson::Int64(n) => u64::try_from(*n).ok()?,
                    _ => return None,
                };
                Some(TagCount { tag, count })
            })
            .collect())
    }

    /// Copies a renamed author onto their blogs and comments, staging an `updated` event on each
    /// published one; returns the published blogs whose cache must go.
    #[tracing::instrument(target = "otel", name = "mongodb.rename_author", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn rename_author(
        &self,
        user_id: &str,
        name: &str,
        picture: Option<&str>,
    ) -> Result<Vec<Blog>, BlogError> {
        let rename = doc! {"author.name": name, "author.profilePicUrl": picture};
        let mut announced = rename.clone();
        outbox::stage(&mut announced, "updated");
        self.blogs
            .update_many(
                doc! {"author.id": user_id, "published": true},
                doc! {"$set": announced},
            )
            .await?;
        self.blogs
            .update_many(
                doc! {"author.id": user_id, "published": {"$ne": true}},
                doc! {"$set": rename.clone()},
            )
            .await?;
        self.comments
            .update_many(doc! {"author.id": user_id}, doc! {"$set": rename})
            .await?;
        Ok(self
            .blogs
            .find(doc! {"author.id": user_id, "published": true})
            .await?
            .try_collect()
            .await?)
    }
}
