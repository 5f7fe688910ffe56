//! Reunify's integration tests: the real HTTP server on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

mod audit;
mod canary;
mod concurrency;
mod configuration;
mod database_isolation;
mod dataloader;
mod demo;
mod entities;
mod events;
mod faults;
mod fuzz;
mod gates;
mod happy_path;
mod hardening;
mod http;
mod idempotency;
mod insight;
mod isolation;
mod issuers;
mod judgement;
mod limits;
mod listing;
mod live;
mod operations;
mod practice_fit;
mod replicas;
mod retention;
mod roles;
mod schema;
mod ssda903;
mod sync;
mod tokens;
mod upsert;
mod validation;
mod webhooks;
