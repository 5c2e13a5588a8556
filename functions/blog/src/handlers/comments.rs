//! Comments on published blogs: any signed-in user writes, anyone reads, author or editor deletes.

use contracts::Caller;
use mongodb::bson::DateTime;
use mongodb::bson::oid::ObjectId;
use runtime::{Json, State, handler};

use crate::dto::{AddComment, ById, CommentPage, CommentView, Done, Page};
use crate::error::BlogError;
use crate::model::{Author, Comment, object_id};
use crate::store::BlogStore;

/// Comment on a published blog.
#[handler(subject = "blog.comment.add", http = "POST /blog/comment")]
async fn add(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<AddComment>,
) -> Result<CommentView, BlogError> {
    input.validate()?;
    let blog = store
        .find_public(mongodb::bson::doc! {"_id": object_id(&input.blog_id, "blog")?})
        .await?;
    let comment = Comment {
        id: ObjectId::new(),
        blog_id: blog.id,
        author: Author::from(&caller),
        text: input.text.trim().to_owned(),
        created_at: DateTime::now(),
    };
    store.add_comment(&comment).await?;
    Ok(CommentView::from(&comment))
}

/// A blog's comments, oldest first.
#[handler(subject = "blog.comment.list", http = "GET /blog/comment/blog/:blogId")]
async fn list(
    State(store): State<BlogStore>,
    Json(input): Json<CommentPage>,
) -> Result<Vec<CommentView>, BlogError> {
    let (skip, limit) = Page {
        page: input.page,
        limit: input.limit,
    }
    .window()?;
    let comments = store
        .comments(object_id(&input.blog_id, "blog")?, skip, limit)
        .await?;
    Ok(comments.iter().map(CommentView::from).collect())
}

/// Delete a comment: its author, an EDITOR or an ADMIN may.
#[handler(subject = "blog.comment.delete", http = "DELETE /blog/comment/id/:id")]
async fn delete(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<ById>,
) -> Result<Done, BlogError> {
    let comment = store.comment(object_id(&input.id, "comment")?).await?;
    if comment.author.id != caller.id() && !caller.has_role("EDITOR") {
        return Err(BlogError::Forbidden(
            "only the comment's author or an editor may delete it".into(),
        ));
    }
    store.delete_comment(comment.id).await?;
    Ok(Done {
        message: "comment deleted".into(),
    })
}
