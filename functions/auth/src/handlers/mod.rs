//! The auth endpoints, one file per area; each handler is reachable over NATS and, where it has
//! an `http` route, through the bridge.

pub mod admin;
pub mod apikey;
pub mod basic;
pub mod profile;
pub mod token;
