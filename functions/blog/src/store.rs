//! Blogs and comments in MongoDB: every query the handlers make, and the indexes behind them.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Collection, IndexModel};

use crate::dto::TagCount;
use crate::error::{BlogError, is_duplicate_key};
use crate::model::{Blog, Comment, Move};

/// Which of an author's or everyone's blogs a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// With unsubmitted changes.
    Drafted,
    /// Waiting for an editor.
    Submitted,
    /// Live.
    Published,
}

impl Stage {
    fn field(self) -> &'static str {
        match self {
            Self::Drafted => "drafted",
            Self::Submitted => "submitted",
            Self::Published => "published",
        }
    }
}

/// Data access for the blog function; cheap to clone.
#[derive(Clone)]
pub struct BlogStore {
    blogs: Collection<Blog>,
    comments: Collection<Comment>,
}

impl BlogStore {
    /// Connects with short timeouts so a MongoDB outage is a quick 503, not a hang.
    pub async fn connect(url: &str, database: &str) -> Result<Self, BlogError> {
        let mut options = ClientOptions::parse(url).await?;
        options.server_selection_timeout = Some(Duration::from_secs(2));
        options.connect_timeout = Some(Duration::from_secs(2));
        options.app_name = Some("blog".into());
        let db = mongodb::Client::with_options(options)?.database(database);
        Ok(Self {
            blogs: db.collection("blogs"),
            comments: db.collection("comments"),
        })
    }

    /// Creates the indexes (idempotent: an existing identical index is left alone).
    pub async fn ensure_indexes(&self) -> Result<(), BlogError> {
        let unique = IndexOptions::builder().unique(true).build();
        self.blogs
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"slug": 1})
                    .options(unique)
                    .build(),
            )
            .await?;
        self.blogs
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"tags": 1, "publishedAt": -1})
                    .build(),
            )
            .await?;
        self.blogs
            .create_index(IndexModel::builder().keys(doc! {"author.id": 1, "status": 1, "drafted": 1, "submitted": 1, "published": 1}).build())
            .await?;
        self.blogs
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"published": 1, "status": 1, "publishedAt": -1})
                    .build(),
            )
            .await?;
        self.comments
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"blogId": 1, "createdAt": 1})
                    .build(),
            )
            .await?;
        Ok(())
    }

    /// Stores a new draft; a taken slug is 409 even when two creates race.
    pub async fn insert(&self, blog: &Blog) -> Result<(), BlogError> {
        match self.blogs.insert_one(blog).await {
            Ok(_) => Ok(()),
            Err(err) if is_duplicate_key(&err) => Err(BlogError::SlugTaken(blog.slug.clone())),
            Err(err) => Err(err.into()),
        }
    }

    /// A blog in any state, or 404.
    pub async fn find(&self, id: ObjectId) -> Result<Blog, BlogError> {
        self.blogs
            .find_one(doc! {"_id": id})
            .await?
            .ok_or_else(|| BlogError::NotFound(format!("blog {} does not exist", id.to_hex())))
    }

    /// A published, active blog by id or slug, or 404.
    pub async fn find_public(&self, filter: Document) -> Result<Blog, BlogError> {
        let mut filter = filter;
        filter.insert("published", true);
        filter.insert("status", true);
        self.blogs
            .find_one(filter)
            .await?
            .ok_or_else(|| BlogError::NotFound("no published blog matches".into()))
    }

    /// Applies an author's edit and returns the blog as it now is.
    pub async fn update(&self, id: ObjectId, set: Document) -> Result<Blog, BlogError> {
        let slug = set.get_str("slug").ok().map(str::to_owned);
        let updated = self
            .blogs
            .find_one_and_update(doc! {"_id": id, "status": true}, doc! {"$set": set})
            .return_document(ReturnDocument::After)
            .await;
        match updated {
            Ok(Some(blog)) => Ok(blog),
            Ok(None) => Err(BlogError::NotFound(format!(
                "blog {} does not exist",
                id.to_hex()
            ))),
            Err(err) if is_duplicate_key(&err) => {
                Err(BlogError::SlugTaken(slug.unwrap_or_default()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Performs a workflow move, checked against the state the blog is in when the write lands.
    pub async fn transition(&self, blog: &Blog, step: Move, by: &str) -> Result<Blog, BlogError> {
        step.check(blog)?;
        let mut filter = step.precondition();
        filter.insert("_id", blog.id);
        self.blogs
            .find_one_and_update(filter, step.update(blog, by))
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| {
                BlogError::IllegalMove(
                    "the blog changed state meanwhile; reload it and retry".into(),
                )
            })
    }

    /// Deactivates a blog: it disappears from every list and read.
    pub async fn deactivate(&self, id: ObjectId, by: &str) -> Result<(), BlogError> {
        self.blogs
            .update_one(
                doc! {"_id": id},
                doc! {"$set": {"status": false, "updatedAt": DateTime::now(), "updatedBy": by}},
            )
            .await?;
        Ok(())
    }

    /// Blogs in `stage`, of one author or of all, newest change first.
    pub async fn by_state(
        &self,
        author: Option<&str>,
        stage: Stage,
        skip: u64,
        limit: i64,
    ) -> Result<Vec<Blog>, BlogError> {
        let mut filter = doc! {"status": true, stage.field(): true};
        if let Some(author) = author {
            filter.insert("author.id", author);
        }
        self.page(filter, doc! {"updatedAt": -1}, skip, limit).await
    }

    /// Published blogs matching `filter`, newest first.
    pub async fn published(
        &self,
        filter: Document,
        skip: u64,
        limit: i64,
    ) -> Result<Vec<Blog>, BlogError> {
        let mut filter = filter;
        filter.insert("published", true);
        filter.insert("status", true);
        self.page(filter, doc! {"publishedAt": -1}, skip, limit)
            .await
    }

    async fn page(
        &self,
        filter: Document,
        sort: Document,
        skip: u64,
        limit: i64,
    ) -> Result<Vec<Blog>, BlogError> {
        Ok(self
            .blogs
            .find(filter)
            .sort(sort)
            .skip(skip)
            .limit(limit)
            .await?
            .try_collect()
            .await?)
    }

    /// Up to `max` published blogs sharing tags with `blog`, most shared tags first, never itself.
    pub async fn similar(&self, blog: &Blog, max: usize) -> Result<Vec<Blog>, BlogError> {
        let filter = doc! {"tags": {"$in": &blog.tags}, "_id": {"$ne": blog.id}};
        let mut candidates = self.published(filter, 0, 200).await?;
        let shared = |other: &Blog| other.tags.iter().filter(|t| blog.tags.contains(t)).count();
        // Stable sort keeps newest-first among equally similar blogs.
        candidates.sort_by_key(|other| std::cmp::Reverse(shared(other)));
        candidates.truncate(max);
        Ok(candidates)
    }

    /// Every tag of published blogs with its count, most used first (SecantusDB runs $unwind/$group).
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
                    mongodb::bson::Bson::Int32(n) => u64::try_from(*n).ok()?,
                    mongodb::bson::Bson::Int64(n) => u64::try_from(*n).ok()?,
                    _ => return None,
                };
                Some(TagCount { tag, count })
            })
            .collect())
    }

    /// Copies a renamed author onto their blogs; returns the published ones whose cache must go.
    pub async fn rename_author(
        &self,
        user_id: &str,
        name: &str,
        picture: Option<&str>,
    ) -> Result<Vec<Blog>, BlogError> {
        self.blogs
            .update_many(
                doc! {"author.id": user_id},
                doc! {"$set": {"author.name": name, "author.profilePicUrl": picture}},
            )
            .await?;
        self.comments
            .update_many(
                doc! {"author.id": user_id},
                doc! {"$set": {"author.name": name, "author.profilePicUrl": picture}},
            )
            .await?;
        Ok(self
            .blogs
            .find(doc! {"author.id": user_id, "published": true})
            .await?
            .try_collect()
            .await?)
    }

    /// Stores a comment.
    pub async fn add_comment(&self, comment: &Comment) -> Result<(), BlogError> {
        self.comments.insert_one(comment).await?;
        Ok(())
    }

    /// A blog's comments, oldest first.
    pub async fn comments(
        &self,
        blog_id: ObjectId,
        skip: u64,
        limit: i64,
    ) -> Result<Vec<Comment>, BlogError> {
        Ok(self
            .comments
            .find(doc! {"blogId": blog_id})
            .sort(doc! {"createdAt": 1})
            .skip(skip)
            .limit(limit)
            .await?
            .try_collect()
            .await?)
    }

    /// One comment, or 404.
    pub async fn comment(&self, id: ObjectId) -> Result<Comment, BlogError> {
        self.comments
            .find_one(doc! {"_id": id})
            .await?
            .ok_or_else(|| BlogError::NotFound(format!("comment {} does not exist", id.to_hex())))
    }

    /// Removes a comment.
    pub async fn delete_comment(&self, id: ObjectId) -> Result<(), BlogError> {
        self.comments.delete_one(doc! {"_id": id}).await?;
        Ok(())
    }
}
