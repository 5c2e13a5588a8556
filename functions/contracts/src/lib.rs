//! What the services agree on: subjects, event and request payloads, and the caller identity,
//! plus the guard that resolves a bearer token through `auth.token.verify`.
//!
//! The runtime knows only the NATS services protocol; auth, blog, the guard and the bridge share
//! these instead of defining them twice.

pub mod auth;
pub mod blog;
mod caller;
mod caller_cache;
mod guard;
mod revocations;
pub mod text;
mod token_check;

pub use caller::{ADMIN, Caller, CallerUser};
pub use caller_cache::CallerCache;
pub use guard::{Guard, GuardSettings};
pub use revocations::Revocations;
pub use token_check::{Checked, TokenCheck};
