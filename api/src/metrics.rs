//! Metrics for Prometheus at `GET /metrics` (OpenMetrics text, which Prometheus reads): HTTP
//! requests and GraphQL operations by name and code with latency histograms, the database pool,
//! open WebSockets and subscriptions, events published, webhook deliveries by outcome and
//! rate-limit rejections. One registry per server (no process-wide state). Labels are bounded by
//! the schema and the routes: an operation is named by its root fields, never by anything the
//! client chose freely.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, Selection};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route, e.g. `/graphql`.
    pub route: String,
    /// The HTTP status.
    pub status: u16,
}

/// Labels of a GraphQL operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// `query`, `mutation` or `subscription`.
    pub kind: String,
    /// Its root fields (`childUpsert`, `cases+me`), or `invalid` when it did not validate.
    pub operation: String,
    /// `OK`, or the code of its first error.
    pub code: String,
}

/// Labels of a webhook delivery attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
}

/// Labels of the pool gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `in_use`, `idle` or `waiting`.
    pub state: String,
}

fn latency() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    http: Family<RouteLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    operations: Family<OperationLabels, Counter>,
    operation_seconds: Family<OperationLabels, Histogram, fn() -> Histogram>,
    pool: Family<PoolLabels, Gauge>,
    waiting: AtomicI64,
    /// Open WebSockets.
    pub websockets: Gauge,
    /// Running subscriptions.
    pub subscriptions: Gauge,
    /// Events committed.
    pub events: Counter,
    deliveries: Family<OutcomeLabels, Counter>,
    /// Requests refused by the rate limit.
    pub rate_limited: Counter,
    sql: Counter,
    /// SQL statements executed (counted by the pool's callback) and the part already reported.
    statements: (
        Arc<std::sync::atomic::AtomicU64>,
        std::sync::atomic::AtomicU64,
    ),
}

impl Default for Metrics {
    fn default() -> Self {
        Self::counting(Arc::default())
    }
}

impl Metrics {
    /// Metrics that report `statements` (the pool's count of SQL statements) as well.
    pub fn counting(statements: Arc<std::sync::atomic::AtomicU64>) -> Self {
        let mut registry = Registry::with_prefix("reunify");
        let http = Family::default();
        let http_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        let operations = Family::default();
        let operation_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        let pool = Family::default();
        let (websockets, subscriptions) = (Gauge::default(), Gauge::default());
        let (events, rate_limited) = (Counter::default(), Counter::default());
        let deliveries = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            http_seconds.clone(),
        );
        registry.register(
            "graphql_operations",
            "GraphQL operations by type, root fields and code",
            operations.clone(),
        );
        registry.register(
            "graphql_operation_duration_seconds",
            "GraphQL operation latency by type, root fields and code",
            operation_seconds.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections in use and idle, and requests waiting for one",
            pool.clone(),
        );
        registry.register(
            "websockets_open",
            "Open GraphQL WebSockets",
            websockets.clone(),
        );
        registry.register(
            "subscriptions_active",
            "Running GraphQL subscriptions",
            subscriptions.clone(),
        );
        registry.register(
            "events_published",
            "Domain events committed",
            events.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome",
            deliveries.clone(),
        );
        registry.register(
            "rate_limited_requests",
            "Requests refused by the rate limit",
            rate_limited.clone(),
        );
        let sql = Counter::default();
        registry.register("sql_statements", "SQL statements executed", sql.clone());
        Self {
            registry,
            http,
            http_seconds,
            operations,
            operation_seconds,
            pool,
            waiting: AtomicI64::new(0),
            websockets,
            subscriptions,
            events,
            deliveries,
            rate_limited,
            sql,
            statements: (statements, std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// Records an HTTP request.
    pub fn http(&self, route: &str, status: u16, took: Duration) {
        let labels = RouteLabels {
            route: route.to_owned(),
            status,
        };
        self.http.get_or_create(&labels).inc();
        self.http_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records a GraphQL operation.
    pub fn operation(&self, label: &OperationLabel, code: &str, took: Duration) {
        let labels = OperationLabels {
            kind: label.kind.to_owned(),
            operation: label.fields.clone(),
            code: code.to_owned(),
        };
        self.operations.get_or_create(&labels).inc();
        self.operation_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Records a webhook delivery attempt.
    pub fn delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a request waiting for a database connection until the guard drops.
    pub fn waiting(self: &Arc<Self>) -> WaitingGuard {
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        WaitingGuard(self.clone())
    }

    /// The metrics as OpenMetrics text, with the pool read now.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = pool_status(db);
        let set = |state: &str, v: i64| {
            self.pool
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(v);
        };
        set("in_use", size - idle);
        set("idle", idle);
        set(
            "waiting",
            self.waiting.load(std::sync::atomic::Ordering::Relaxed),
        );
        let now = self.statements.0.load(std::sync::atomic::Ordering::Relaxed);
        let reported = self
            .statements
            .1
            .swap(now, std::sync::atomic::Ordering::Relaxed);
        self.sql.inc_by(now.saturating_sub(reported));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("cannot encode the metrics");
        }
        out
    }
}

/// Ends a wait for a connection when dropped.
pub struct WaitingGuard(Arc<Metrics>);

impl Drop for WaitingGuard {
    fn drop(&mut self) {
        self.0
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn pool_status(db: &DatabaseConnection) -> (i64, i64) {
    // The backend names the pool's kind, so the accessor matching it cannot fail.
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (i64::from(p.size()), p.num_idle() as i64)
        }
        sea_orm::DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (i64::from(p.size()), p.num_idle() as i64)
        }
        _ => (0, 0),
    }
}

/// What a GraphQL operation is, for its metrics: its type and root fields.
#[derive(Clone, Debug)]
pub struct OperationLabel {
    /// `query`, `mutation` or `subscription`.
    pub kind: &'static str,
    /// Root fields joined by `+` (at most three, then `+…`), or `invalid`.
    pub fields: String,
}

impl Default for OperationLabel {
    fn default() -> Self {
        Self {
            kind: "unknown",
            fields: "invalid".to_owned(),
        }
    }
}

/// Where the schema leaves the label of the operation it saw: put one in each request's data.
#[derive(Default)]
pub struct OperationSlot {
    name: Option<String>,
    seen: Mutex<(Option<OperationLabel>, bool)>,
}

impl OperationSlot {
    /// A slot for a request that selects operation `name` (when its document holds several).
    pub fn named(name: Option<String>) -> Self {
        Self {
            name,
            seen: Mutex::default(),
        }
    }

    /// The label of a validated operation, or the `invalid` one.
    pub fn label(&self) -> OperationLabel {
        match self.seen.lock() {
            Ok(g) if g.1 => g.0.clone().unwrap_or_default(),
            _ => OperationLabel::default(),
        }
    }
}

impl OperationSlot {
    /// The document parsed: its operation's label is noted (used once it validates).
    pub fn parsed(&self, doc: &ExecutableDocument) {
        if let Ok(mut g) = self.seen.lock() {
            g.0 = label_of(doc, self.name.as_deref());
        }
    }

    /// The document validated: only fields the schema knows become label values, and the
    /// current span (the operation's) is named by them.
    pub fn validated(&self) {
        if let Ok(mut g) = self.seen.lock() {
            g.1 = true;
            if let Some(label) = &g.0 {
                let span = tracing::Span::current();
                span.record("graphql.operation.type", label.kind);
                span.record("graphql.operation.fields", label.fields.as_str());
            }
        }
    }
}

fn label_of(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationLabel> {
    let op = crate::document::operation(doc, name)?;
    let kind = match op.node.ty {
        async_graphql::parser::types::OperationType::Query => "query",
        async_graphql::parser::types::OperationType::Mutation => "mutation",
        async_graphql::parser::types::OperationType::Subscription => "subscription",
    };
    let mut fields: Vec<&str> = op
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|s| match &s.node {
            Selection::Field(f) => Some(f.node.name.node.as_str()),
            _ => None,
        })
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let mut joined = fields.iter().take(3).copied().collect::<Vec<_>>().join("+");
    if fields.len() > 3 {
        joined.push_str("+…");
    }
    if joined.is_empty() {
        joined = "fragments".to_owned();
    }
    Some(OperationLabel {
        kind,
        fields: joined,
    })
}
