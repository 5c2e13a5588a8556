//! Comments on published blogs: any signed-in user writes, anyone reads, author or editor deletes.

use contracts::Caller;
use runtime::{Json, State, handler};

use crate::dto::{AddComment, ById, CommentPage, CommentView, Done};
use crate::error::BlogError;
use crate::model::Comment;
use crate::store::BlogStore;
use crate::validate;

/// Comment on a published blog.
#[handler(subject = "blog.comment.add", http = "POST /blog/comment")]
async fn add(
    State(store): State<BlogStore>,
    caller: Caller,
    Json(input): Json<AddComment>,
) -> Result<CommentView, BlogError> {
    input.validate()?;
    let blog = store
        .public_by_id(validate::object_id(&input.blog_id, "blog")?)
        .await?;
    let comment = Comment::new(blog.id, &caller, &input.text);
    store.add_comment(&comment).await?;
    Ok(CommentView::from(&comment))
}

/// A blog's comments, oldest first.
#[handler(subject = "blog.comment.list", http = "GET /blog/comment/blog/:blogId")]
async fn list(
    State(store): State<BlogStore>,
    Json(input): Json<CommentPage>,
) -> Result<Vec<CommentView>, BlogError> {
    let window = input.window()?;
    let comments = store
        .comments(validate::object_id(&input.blog_id, "blog")?, window)
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
    let comment = store
        .comment(validate::object_id(&input.id, "comment")?)
        .await?;
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
