//! The auth function: sign-up and sign-in, JWT token pairs bound to a keystore, profiles, API keys
//! and roles, served as handlers on the NATS micro runtime.

pub mod api_key;
pub mod cache;
pub mod dto;
pub mod error;
pub mod events;
pub mod handlers;
pub mod model;
pub mod password;
pub mod secret;
pub mod seed;
pub mod session;
pub mod settings;
pub mod state;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod validate;

pub use error::AuthError;
pub use settings::Settings;
pub use state::AuthState;

/// The auth service with its name and version; referencing it also links the handlers.
pub fn service() -> runtime::Service {
    runtime::Service::new("auth", env!("CARGO_PKG_VERSION"))
        .description("Users, token pairs, profiles, roles and API keys")
        .stream("AUTH_EVENTS", &["auth.events.>"])
}

/// The service with its state (migrated, seeded) and guard attached, ready to `start` or `run`.
pub async fn connected(
    settings: &Settings,
    config: runtime::Config,
) -> Result<runtime::Service, runtime::Error> {
    let state = AuthState::connect(settings).await?;
    let local = state.cache.clone();
    Ok(service()
        .config(config)
        // Revocations fan out over core NATS: a replica that was away may have missed some.
        .on_reconnect(move || local.forget_local())
        .outbox(state.store.clone())
        .state(state)
        .authorizer(settings.guard.authorizer()))
}
