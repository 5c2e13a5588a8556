//! Comment documents.

use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;

use super::{BlogStore, page};
use crate::error::BlogError;
use crate::model::{Comment, Window};

impl BlogStore {
    /// Stores a comment.
    #[tracing::instrument(target = "otel", name = "mongodb.add_comment", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn add_comment(&self, comment: &Comment) -> Result<(), BlogError> {
        self.comments.insert_one(comment).await?;
        Ok(())
    }

    /// A page of a blog's comments, oldest first.
    #[tracing::instrument(target = "otel", name = "mongodb.comments", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn comments(
        &self,
        blog_id: ObjectId,
        window: Window,
    ) -> Result<Vec<Comment>, BlogError> {
        let filter = doc! {"blogId": blog_id};
        page(&self.comments, filter, doc! {"createdAt": 1}, window).await
    }

    /// One comment, or 404.
    #[tracing::instrument(target = "otel", name = "mongodb.comment", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn comment(&self, id: ObjectId) -> Result<Comment, BlogError> {
        self.comments
            .find_one(doc! {"_id": id})
            .await?
            .ok_or_else(|| BlogError::NotFound(format!("comment {} does not exist", id.to_hex())))
    }

    /// Removes a comment.
    #[tracing::instrument(target = "otel", name = "mongodb.delete_comment", skip_all, fields(otel.kind = "client", db.system = "mongodb"))]
    pub async fn delete_comment(&self, id: ObjectId) -> Result<(), BlogError> {
        self.comments.delete_one(doc! {"_id": id}).await?;
        Ok(())
    }
}
