//! Operations endpoints: metrics, readiness, and the request counter.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::ConnectionTrait;

use super::state::AppState;
use crate::metrics::Metrics;

/// Counts and times every HTTP request by its route and status.
pub(super) async fn count_request(
    State(metrics): State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics.http(&route, response.status().as_u16(), started.elapsed());
    response
}

/// `GET /metrics`: the server's metrics for Prometheus — OpenMetrics text, or the Prometheus text
/// format (0.0.4) to a scraper that prefers `text/plain`.
pub(super) async fn metrics_text(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if super::negotiate::prometheus_text(&headers) {
        let body = state.metrics.render_prometheus_text(&state.db);
        return (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response();
    }
    let body = state.metrics.render(&state.db);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /readyz`: ready to take traffic: not draining, the signing keys loaded, the database
/// answering and migrated at least to this build's version.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    let unready = |why: &'static str| (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    if *state.live.shutdown.borrow() {
        return unready("draining");
    }
    if !state.auth.keys_loaded() {
        return unready("signing keys not loaded");
    }
    // A probe answers within its own deadline, however long the pool would wait for a connection.
    let count = state.db.query_one_raw(sea_orm::Statement::from_string(
        state.db.get_database_backend(),
        "SELECT COUNT(*) FROM seaql_migrations",
    ));
    let applied = tokio::time::timeout(Duration::from_secs(2), count)
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
        .and_then(|row| row.try_get_by_index::<i64>(0).ok());
    let expected = <migration::Migrator as migration::MigratorTrait>::migrations().len() as i64;
    match applied {
        None => unready("database unavailable"),
        Some(n) if n < expected => unready("database not migrated to this version"),
        Some(_) => (StatusCode::OK, "ready").into_response(),
    }
}
