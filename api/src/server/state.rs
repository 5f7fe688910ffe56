//! The state every handler shares, and what a request's work reports.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::Authenticator;
use crate::live::ws::Live;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimit;
use crate::schema::AppSchema;
use crate::unit::Outlets;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub(super) struct AppState {
    pub(super) schema: AppSchema,
    pub(super) auth: Authenticator,
    pub(super) db: DatabaseConnection,
    pub(super) statement_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) max_batch: usize,
    pub(super) rate: RateLimit,
    /// Buckets of callers without valid credentials, by network address.
    pub(super) anonymous: RateLimit,
    /// Reverse proxies whose `X-Forwarded-For` entries are believed (see [`Peer`]).
    pub(super) trusted_proxies: usize,
    pub(super) live: Arc<Live>,
    /// What every unit of work keeps in step with its events, and the bus it tells.
    pub(super) outlets: Outlets,
    pub(super) max_ws_message: usize,
    pub(super) metrics: Arc<Metrics>,
    /// On SQLite, the turn to write: every authenticated GraphQL request writes (its audit rows
    /// at least) and SQLite has one writer, so they queue here in arrival order rather than in
    /// SQLite's busy handler, which is not fair and can starve one past its timeout under load.
    pub(super) sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A fault on our side that leaves no GraphQL response to send (already logged), or a request
/// abandoned at its deadline.
pub(super) struct Failure;

/// Where a request's work stands, shared by the handler (which keeps the deadline) and the task
/// doing the work: whichever moves first from `RUNNING` decides between commit and abandon.
pub(super) const RUNNING: u8 = 0;
pub(super) const ABANDONED: u8 = 1;
pub(super) const COMMITTING: u8 = 2;
