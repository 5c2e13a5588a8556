//! Blogs and comments in MongoDB. Only this module knows the documents, their field names and the
//! indexes behind them; the rest of the crate asks for what it needs by a domain verb.

mod blogs;
mod comments;
mod outbox;

pub use outbox::{PendingEvent, staged};

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use mongodb::options::{Acknowledgment, ClientOptions, IndexOptions, WriteConcern};
use mongodb::{Collection, IndexModel};
use serde::de::DeserializeOwned;

use crate::error::BlogError;
use crate::model::{Blog, Comment, Window};

/// Data access for the blog function; cheap to clone.
#[derive(Clone)]
pub struct BlogStore {
    blogs: Collection<Blog>,
    comments: Collection<Comment>,
}

/// Majority and journal, waiting at most 5 s so a lost majority is a quick error, not a hang.
fn durable_writes() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .w_timeout(Duration::from_secs(5))
        .build()
}

impl BlogStore {
    /// Connects with short timeouts so a MongoDB outage is a quick 503, not a hang.
    pub async fn connect(url: &str, database: &str) -> Result<Self, BlogError> {
        let mut options = ClientOptions::parse(url).await?;
        options.server_selection_timeout = Some(Duration::from_secs(2));
        options.connect_timeout = Some(Duration::from_secs(2));
        options.app_name = Some("blog".into());
        // An acknowledged write survives the loss of the primary and a crash: on a majority of the
        // replica set and in its journal. The URL's own `w`, `journal`, `wtimeoutMS` win.
        if options.write_concern.is_none() {
            options.write_concern = Some(durable_writes());
        }
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
        // The outbox relay looks for events left pending past a moment, oldest first; sparse, so
        // only the few blogs with a pending event are in it, not every blog.
        self.blogs
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"pendingEvent.at": 1})
                    .options(IndexOptions::builder().sparse(true).build())
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
}

/// One page of `collection` matching `filter` in `sort` order.
async fn page<T>(
    collection: &Collection<T>,
    filter: Document,
    sort: Document,
    window: Window,
) -> Result<Vec<T>, BlogError>
where
    T: DeserializeOwned + Send + Sync,
{
    Ok(collection
        .find(filter)
        .sort(sort)
        .skip(window.skip)
        .limit(i64::try_from(window.limit).unwrap_or(i64::MAX))
        .await?
        .try_collect()
        .await?)
}
