//! Starts the real servers a test needs on free ports and stops them on drop.
//!
//! A server the harness cannot start or reach is a loud panic, never a silent skip.

mod events;
pub mod fuzz;
mod http_client;
mod keys;
mod load;
mod nats;
pub mod netns;
mod private_redis;
mod process;
mod stores;
mod world;

pub use events::stored_events;
pub use http_client::{Http, HttpReply};
pub use keys::{KeyPair, rsa_key_pair};
pub use load::{LoadReport, nats_load};
pub use nats::{NatsServer, Users};
pub use private_redis::PrivateRedis;
pub use process::{Process, binary, example, free_port, wait_for_port};
pub use stores::{fresh_postgres_database, mongodb_url, redis_url, unique_name};
pub use world::{Body, World, assert_error, stand_in};
