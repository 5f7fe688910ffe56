//! Reunify: the NSPCC Reunification Practice Framework as a GraphQL service.
//!
//! One way through, top to bottom: `server` (HTTP: start-up, the GraphQL pipeline, WebSockets,
//! exports and imports, ops endpoints) → `schema` → each feature's `resolvers` (thin: parse,
//! guard, call, map) → its `service` (loads, asks the rules, writes) → `framework` (the practice
//! framework's rules, pure functions over a loaded case) and the floor beneath them all: `unit`
//! (one unit of work: audit rows, events and projections commit together, then subscribers are
//! told), `cases::store`, `audit`, `events`, `auth` (who is calling), `db`, `domain` (vocabulary,
//! codes, identifiers, dates), `error` (every error code), `ids`, `context`, `loaders`,
//! `pagination`. `.ci/check_circles.py` keeps the modules free of import circles.

pub mod assessments;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod children;
pub mod cli;
pub mod config;
pub mod context;
pub mod db;
pub mod document;
pub mod domain;
pub mod error;
pub mod events;
pub mod framework;
pub mod goals;
pub mod idempotency;
pub mod ids;
pub mod inputs;
pub mod insight;
pub mod limits;
pub mod live;
pub mod loaders;
pub mod metrics;
pub mod node;
pub mod outcomes;
pub mod pagination;
pub mod payload;
pub mod ratelimit;
pub mod retention;
pub mod scalars;
pub mod schema;

pub mod seed;
pub mod server;
pub mod stages;
pub mod stamp;
pub mod support_plans;
pub mod sync;
pub mod telemetry;
pub mod tenancy;
pub mod unit;
pub mod visits;
pub mod webhooks;

use migration::MigratorTrait as _;

/// What every unit of work keeps in step with its events: the aggregates' case facts (before the
/// events are stored) and the webhook queue (after).
pub fn outlets() -> unit::Outlets {
    unit::Outlets::new(vec![
        std::sync::Arc::new(insight::facts::FactsProjection),
        std::sync::Arc::new(webhooks::service::QueueProjection),
    ])
}

/// Applies every pending migration, then builds the aggregates' case facts that are missing or
/// were built with older definitions.
pub async fn migrate(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    migration::Migrator::up(db, None)
        .await
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    insight::facts::backfill(db)
        .await
        .map_err(|e| anyhow::anyhow!("building the aggregates' case facts failed: {e:?}"))?;
    Ok(())
}
