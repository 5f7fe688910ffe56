//! Live updates: subscriptions over `graphql-transport-ws` that replay from a position and then
//! follow the event log, woken by notices of committed events (in process, and across instances
//! through PostgreSQL `LISTEN`/`NOTIFY`).

pub mod bus;
pub mod feed;
pub mod resolvers;
pub mod service;
pub mod ws;

pub use resolvers::LiveSubscription;
