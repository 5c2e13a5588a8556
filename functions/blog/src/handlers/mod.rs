//! One file per area; every endpoint is a `#[handler]` function.

pub mod author;
pub mod comments;
pub mod editor;
pub mod public;
