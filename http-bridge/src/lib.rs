//! The HTTP bridge: REST requests in, NATS requests to the handlers out, routes learnt from discovery.

pub mod apikey;
pub mod config;
pub mod discovery;
pub mod envelope;
mod link;
pub mod mapping;
pub mod metrics;
pub mod openapi;
mod operator;
mod proxy;
pub mod registry;
mod retry;
pub mod routes;
pub mod server;
pub mod status;
mod workers;

pub use config::Config;
pub use retry::LameDuck;
pub use server::{Bridge, Running};
