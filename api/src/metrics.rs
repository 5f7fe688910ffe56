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
        let [http_n, http_s, ops_n, ops_s, pool_n] = LABELLED;
        registry.register(http_n.0, http_n.1, http.clone());
        registry.register(http_s.0, http_s.1, http_seconds.clone());
        registry.register(ops_n.0, ops_n.1, operations.clone());
        registry.register(ops_s.0, ops_s.1, operation_seconds.clone());
        registry.register(pool_n.0, pool_n.1, pool.clone());
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
        // Series whose labels are a closed set exist from the start, at zero.
        for outcome in ["delivered", "retry", "failed"] {
            let _ = deliveries.get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            });
        }
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

    /// The metrics in the Prometheus text format (version 0.0.4), for a scraper that asks for it
    /// rather than OpenMetrics: see [`prometheus_text`].
    pub fn render_prometheus_text(&self, db: &DatabaseConnection) -> String {
        prometheus_text(&self.render(db))
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
        declare_unseen(out)
    }
}

/// The families whose series are named by what is seen (routes, operations, codes) or read at a
/// scrape (the pool's): name (under the `reunify` prefix), help, type.
const LABELLED: [(&str, &str, &str); 5] = [
    (
        "http_requests",
        "HTTP requests by route and status",
        "counter",
    ),
    (
        "http_request_duration_seconds",
        "HTTP request latency by route and status",
        "histogram",
    ),
    (
        "graphql_operations",
        "GraphQL operations by type, root fields and code",
        "counter",
    ),
    (
        "graphql_operation_duration_seconds",
        "GraphQL operation latency by type, root fields and code",
        "histogram",
    ),
    (
        "db_pool_connections",
        "Database pool connections in use and idle, and requests waiting for one",
        "gauge",
    ),
];

/// The encoder leaves out a family with no series yet; a scraper (and a dashboard built on it)
/// is told of every family from the start, so such a family is declared, with no samples, before
/// the end marker.
fn declare_unseen(mut openmetrics: String) -> String {
    let mut declared = String::new();
    for (name, help, kind) in LABELLED {
        if !openmetrics.contains(&format!("# TYPE reunify_{name} ")) {
            declared.push_str(&format!(
                "# HELP reunify_{name} {help}.\n# TYPE reunify_{name} {kind}\n"
            ));
        }
    }
    match openmetrics.strip_suffix("# EOF\n") {
        Some(body) => format!("{body}{declared}# EOF\n"),
        None => {
            openmetrics.push_str(&declared);
            openmetrics
        }
    }
}

/// OpenMetrics text rewritten in the Prometheus text format 0.0.4: a counter's family is named by
/// its sample (`…_total`) there, and the format has no `# UNIT`, `_created` samples or `# EOF`.
/// Everything else (gauges, histograms, label syntax) reads the same in both.
pub fn prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let described = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match described {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) && !name.ends_with("_total") {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => {
                let name = line.split(['{', ' ']).next().unwrap_or("");
                let created = name
                    .strip_suffix("_created")
                    .is_some_and(|family| counters.contains(family));
                if created {
                    continue;
                }
                out.push_str(line);
            }
        }
        out.push('\n');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_declared_from_the_start_in_both_formats() {
        let metrics = Metrics::default();
        let mut openmetrics = String::new();
        prometheus_client::encoding::text::encode(&mut openmetrics, &metrics.registry).unwrap();
        let openmetrics = declare_unseen(openmetrics);
        let text = prometheus_text(&openmetrics);
        for (family, kind) in [
            ("reunify_http_requests_total", "counter"),
            ("reunify_http_request_duration_seconds", "histogram"),
            ("reunify_graphql_operations_total", "counter"),
            ("reunify_graphql_operation_duration_seconds", "histogram"),
            ("reunify_db_pool_connections", "gauge"),
            ("reunify_websockets_open", "gauge"),
            ("reunify_subscriptions_active", "gauge"),
            ("reunify_events_published_total", "counter"),
            ("reunify_webhook_deliveries_total", "counter"),
            ("reunify_rate_limited_requests_total", "counter"),
            ("reunify_sql_statements_total", "counter"),
        ] {
            assert!(
                text.contains(&format!("\n# TYPE {family} {kind}\n"))
                    || text.starts_with(&format!("# TYPE {family} {kind}\n")),
                "{family} undeclared in:\n{text}"
            );
            assert!(text.contains(&format!("# HELP {family} ")), "{family}");
            let om = family.strip_suffix("_total").unwrap_or(family);
            assert!(
                openmetrics.contains(&format!("# TYPE {om} {kind}\n")),
                "{om}"
            );
        }
        for outcome in ["delivered", "retry", "failed"] {
            let series = format!("reunify_webhook_deliveries_total{{outcome=\"{outcome}\"}} 0\n");
            assert!(text.contains(&series), "{series} in:\n{text}");
        }
        assert!(openmetrics.ends_with("# EOF\n"));
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    }

    #[test]
    fn prometheus_text_renames_counters_and_drops_what_it_lacks() {
        let openmetrics = "# HELP x_requests Requests.\n# TYPE x_requests counter\n\
                           # UNIT x_requests requests\nx_requests_total{a=\"b\"} 3\n\
                           x_requests_created{a=\"b\"} 1700000000\n\
                           # HELP x_open Open.\n# TYPE x_open gauge\nx_open 2\n# EOF\n";
        assert_eq!(
            prometheus_text(openmetrics),
            "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n\
             x_requests_total{a=\"b\"} 3\n# HELP x_open Open.\n# TYPE x_open gauge\nx_open 2\n"
        );
    }
}
