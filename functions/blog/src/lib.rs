//! The blog function: authoring, editorial workflow, public listing, comments and tags, served as
//! handlers on the NATS micro runtime over MongoDB with a Redis read cache.

pub mod cache;
pub mod dto;
pub mod error;
pub mod events;
pub mod handlers;
pub mod model;
pub mod settings;
pub mod state;
pub mod store;
pub mod validate;
pub mod workflow;

pub use error::BlogError;
pub use settings::Settings;
pub use state::BlogState;

/// The blog service with its name and version; referencing it also links the handlers.
pub fn service() -> runtime::Service {
    runtime::Service::new("blog", env!("CARGO_PKG_VERSION"))
        .description("Blogs: authoring, review, publishing, comments and tags")
        .stream("BLOG_EVENTS", &["blog.events.>"])
}

/// The service with its state (store with indexes, cache) and guard attached, ready to `start`
/// or `run`.
pub async fn connected(
    settings: &Settings,
    config: runtime::Config,
) -> Result<runtime::Service, runtime::Error> {
    let BlogState { store, cache } = BlogState::connect(settings).await?;
    let local = cache.clone();
    Ok(service()
        .config(config)
        // Evictions fan out over core NATS: a replica that was away may have missed some.
        .on_reconnect(move || local.forget_local())
        .outbox(store.clone())
        .state(store)
        .state(cache)
        .authorizer(settings.guard.authorizer()))
}
