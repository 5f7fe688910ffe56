//! The axum application: `/graphql` (GraphQL over HTTP), GraphiQL, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use async_graphql::BatchRequest;
use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;

use tracing::Instrument as _;

use crate::audit::{self, Trail};
use crate::auth::DEV_ISSUER;
use crate::auth::issuers::{self, IssuerConfig};
use crate::auth::jwks::FetchPolicy;
use crate::auth::keys::DevKey;
use crate::auth::verifier::{Issuer, Verifier};
use crate::auth::{Actor, Authenticator};
use crate::config::{Config, Mode};
use crate::context::{AppData, RequestData};
use crate::db;
use crate::error::ErrorCode;
use crate::idempotency;
use crate::live::bus::Bus;
use crate::live::ws::Live;
use crate::metrics::{Metrics, OperationSlot};
use crate::ratelimit::{RateLimit, Verdict};
use crate::schema::{self, AppSchema};
use crate::unit::{Outlets, Unit};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
struct AppState {
    schema: AppSchema,
    auth: Authenticator,
    db: DatabaseConnection,
    statement_timeout: Duration,
    request_timeout: Duration,
    max_batch: usize,
    rate: RateLimit,
    /// Buckets of callers without valid credentials, by network address.
    anonymous: RateLimit,
    /// Reverse proxies whose `X-Forwarded-For` entries are believed (see [`Peer`]).
    trusted_proxies: usize,
    live: Arc<Live>,
    /// What every unit of work keeps in step with its events, and the bus it tells.
    outlets: Outlets,
    max_ws_message: usize,
    metrics: Arc<Metrics>,
    /// On SQLite, the turn to write: every authenticated GraphQL request writes (its audit rows
    /// at least) and SQLite has one writer, so they queue here in arrival order rather than in
    /// SQLite's busy handler, which is not fair and can starve one past its timeout under load.
    sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A built server, bound to its port, ready to run.
pub struct Server {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// Connects to the database, counting every statement into `statements`.
pub async fn connect(
    config: &Config,
    statements: Arc<AtomicU64>,
) -> anyhow::Result<DatabaseConnection> {
    connect_to(config.database_url.expose_secret(), config, statements).await
}

/// Applies pending migrations as the schema owner (`REUNIFY_MIGRATION_DATABASE_URL`, or the
/// service's own URL when none is set).
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config
        .migration_database_url
        .as_ref()
        .unwrap_or(&config.database_url)
        .expose_secret();
    let db = connect_to(url, config, Arc::default()).await?;
    crate::migrate(&db).await?;
    db.close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the migration connection: {e}"))
}

async fn connect_to(
    url: &str,
    config: &Config,
    statements: Arc<AtomicU64>,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(config.database_pool_size)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let mut db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to REUNIFY_DATABASE_URL: {e}"))?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // Readers do not block the writer, and a busy database waits rather than failing.
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
            .await
            .map_err(|e| anyhow::anyhow!("cannot configure SQLite: {e}"))?;
    }
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    Ok(db)
}

/// The trusted issuers: the issuers file, the single-issuer shorthand, and in development mode
/// the server's own key.
pub async fn verifier(config: &Config, db: &DatabaseConnection) -> anyhow::Result<Verifier> {
    let policy = FetchPolicy {
        cooldown: Duration::from_secs(config.jwks_cooldown_seconds),
        max_age: Duration::from_secs(config.jwks_max_age_seconds),
    };
    let mut configs = Vec::new();
    if let Some(path) = &config.issuers_file {
        configs = issuers::load_file(path, &config.token_audience)
            .map_err(|e| anyhow::anyhow!("REUNIFY_ISSUERS_FILE: {e}"))?;
    }
    if let (Some(path), Some(issuer)) = (&config.jwks_file, &config.token_issuer) {
        configs.push(IssuerConfig::shorthand(
            issuer.clone(),
            path.clone(),
            &config.token_audience,
        ));
    }
    let mut issuers = Vec::new();
    for c in configs {
        let name = if config.issuers_file.is_some() {
            "REUNIFY_ISSUERS_FILE"
        } else {
            "REUNIFY_JWKS_FILE"
        };
        issuers.push(Issuer::new(c, policy).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);
    }
    if config.mode == Mode::Development {
        let key = DevKey::load_or_create(db)
            .await
            .and_then(|k| k.verifying_key())
            .map_err(|e| anyhow::anyhow!("development key: {e:?}"))?;
        issuers.push(Issuer::development(DEV_ISSUER, &config.token_audience, key));
    }
    let verifier = Verifier::new(issuers).map_err(|e| anyhow::anyhow!(e))?;
    verifier.prefetch().await;
    Ok(verifier)
}

/// Builds the server: database, migrations, keys, schema, router, and the bound listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    config.validate().map_err(|e| anyhow::anyhow!(e))?;
    let statements = Arc::new(AtomicU64::new(0));
    if config.migrate_on_start || config.is_sqlite() || config.mode == Mode::Development {
        migrate(&config).await?;
    }
    let db = connect(&config, statements.clone()).await?;
    if config.is_sqlite() && config.mode == Mode::Production {
        let registered = crate::tenancy::service::count_registered(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if registered > 1 {
            anyhow::bail!(
                "REUNIFY_DATABASE_URL: SQLite holds {registered} LAs, but it has no row-level \
                 security; production with more than one LA needs PostgreSQL"
            );
        }
    }
    if config.seed_demo()
        && !crate::tenancy::service::any_registered(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
    {
        let summary = crate::seed::demo(&db).await?;
        tracing::info!("{summary}; get a token with `reunify token --la 999 --role social_worker`");
    }
    let verifier = Arc::new(verifier(&config, &db).await?);
    let feed = Arc::new(crate::live::feed::Feed::new(
        db.clone(),
        config.statement_timeout(),
    ));
    let schema = schema::build(
        AppData {
            db: db.clone(),
            feed,
        },
        &config,
    );
    let auth = Authenticator::new(verifier.clone(), db.clone(), config.statement_timeout());
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let metrics = Arc::new(Metrics::counting(statements.clone()));
    let bus = Bus::default();
    if !config.is_sqlite() {
        bus.listen(
            config.database_url.expose_secret().to_owned(),
            shutdown_rx.clone(),
        );
    }
    if config.webhook_dispatch {
        Arc::new(crate::webhooks::dispatcher::Dispatcher {
            db: db.clone(),
            statement_timeout: config.statement_timeout(),
            policy: config.webhook_policy(),
            retry_base: Duration::from_millis(config.webhook_retry_base_ms),
            metrics: metrics.clone(),
        })
        .spawn(&bus, shutdown_rx.clone());
    }
    let outlets = crate::outlets().with_bus(bus.clone());
    let live = Arc::new(Live {
        outlets: outlets.clone(),
        schema: schema.clone(),
        auth: auth.clone(),
        db: db.clone(),
        statement_timeout: config.statement_timeout(),
        bus,
        shutdown: shutdown_rx,
        init_timeout: Duration::from_millis(config.ws_init_timeout_ms),
        max_subscriptions: config.max_subscriptions_per_socket,
        metrics: metrics.clone(),
    });
    let state = AppState {
        sqlite_writer: (db.get_database_backend() == sea_orm::DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(()))),
        schema,
        auth,
        live,
        outlets,
        max_ws_message: config.max_body_bytes,
        db: db.clone(),
        statement_timeout: config.statement_timeout(),
        request_timeout: Duration::from_millis(config.request_timeout_ms),
        max_batch: config.max_batch,
        rate: RateLimit::new(config.rate_limit_per_minute, config.rate_limit_burst),
        anonymous: RateLimit::new(
            config.anonymous_rate_limit_per_minute,
            config.anonymous_rate_limit_per_minute,
        ),
        trusted_proxies: config.trusted_proxies,
        metrics: metrics.clone(),
    };
    // The upload's own (larger) body limit: routes added after a layer are outside it. Every
    // error answer of the API's endpoints is JSON (see `json_errors`); the ops endpoints answer
    // plain text to their probes.
    let mut router = Router::new()
        .route("/graphql", get(graphql_get_or_ws).post(graphql_post))
        .route("/exports/episodes.csv", get(export_episodes))
        .route("/exports/insight.jsonl", get(export_insight))
        .route("/exports/ssda903/header.csv", get(export_903_header))
        .route("/exports/ssda903/episodes.csv", get(export_903_episodes))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.max_body_bytes,
        ))
        .route(
            "/imports",
            axum::routing::post(import_upload).layer(axum::extract::DefaultBodyLimit::max(
                config.max_import_bytes,
            )),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::map_response(json_errors))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text));
    if config.mode == Mode::Development {
        router = router.route("/", get(graphiql));
    }
    let mut router = router
        .layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            count_request,
        ))
        .layer(compression())
        .with_state(state);
    if !config.cors_origins.is_empty() {
        let origins = config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect::<Vec<_>>();
        router = router.layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::AllowOrigin::list(origins))
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([axum::http::HeaderName::from_static("x-request-id")])
                .max_age(Duration::from_secs(600)),
        );
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on REUNIFY_LISTEN {}: {e}", config.listen))?;
    Ok(Server {
        listener,
        router,
        grace: Duration::from_secs(config.shutdown_grace_seconds),
        db,
        statements,
        shutdown,
    })
}

/// Gzip for a client that asks for it (`Accept-Encoding`), on responses of a kilobyte or more (a
/// page of 50 cases shrinks ninefold, a case's full detail fourfold), at the fastest level, which
/// costs the server no measurable CPU.
/// Smaller answers, event streams and WebSocket upgrades go as they are.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::predicate::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate as _, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(1024).and(NotForContentType::SSE))
}

impl Server {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The database pool the server uses.
    pub fn db(&self) -> DatabaseConnection {
        self.db.clone()
    }

    /// A counter of SQL statements executed since start.
    pub fn statement_counter(&self) -> Arc<AtomicU64> {
        self.statements.clone()
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish within the grace period.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes, then shuts down as on SIGTERM.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = self.grace;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sockets = self.shutdown;
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            stop.await;
            tracing::info!("shutting down");
            // WebSockets close with 1001; their subscriptions stop.
            let _ = sockets.send(true);
            let _ = tx.send(());
        });
        let serve = tokio::spawn(async move { serve.await });
        tokio::select! {
            res = serve => res??,
            _ = async { let _ = rx.await; tokio::time::sleep(grace).await } => {
                tracing::warn!("grace period over; dropping remaining connections");
            }
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Counts and times every HTTP request by its route and status.
async fn count_request(
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

/// `GET /metrics`: the server's metrics for Prometheus (OpenMetrics text).
async fn metrics_text(State(state): State<AppState>) -> Response {
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
async fn readyz(State(state): State<AppState>) -> Response {
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

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

fn request_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Gives an error answer made outside the handlers — axum's 405 for a method an endpoint does not
/// take, a body limit's 413, an unknown path's 404 — the JSON error body, `extensions.code` and
/// request id that every error answer carries (API.md), keeping its `Allow` header.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this endpoint accepts",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::BadUserInput,
            "this endpoint does not take this method (see the Allow header)",
        ),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such endpoint"),
        s if s.is_client_error() => (ErrorCode::BadUserInput, "the request is malformed"),
        _ => (ErrorCode::Internal, "internal error"),
    };
    let rid = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(request_id, str::to_owned);
    let mut out = error_response(status, code, message, &rid);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// A response carrying only top-level errors, with the given HTTP status.
fn error_response(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    request_id: &str,
) -> Response {
    let mut extensions = serde_json::json!({ "code": code, "requestId": request_id });
    if let Some(trace) = crate::telemetry::current_trace_id() {
        extensions["traceId"] = trace.into();
    }
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] });
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// The caller's network address: the connection's peer or, behind `REUNIFY_TRUSTED_PROXIES`
/// reverse proxies, the address the outermost trusted one saw (counted from the right of
/// `X-Forwarded-For`, so a client cannot choose its own).
#[derive(Debug, Clone, Copy)]
struct Peer(std::net::IpAddr);

impl axum::extract::FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let connected = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if state.trusted_proxies == 0 {
            return Ok(Peer(connected));
        }
        let forwarded: Vec<std::net::IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let from_right = forwarded.len().checked_sub(state.trusted_proxies);
        Ok(Peer(
            from_right
                .and_then(|i| forwarded.get(i).copied())
                .unwrap_or(connected),
        ))
    }
}

/// The answer to a request without valid credentials: 401 `UNAUTHENTICATED` with the RFC 6750
/// challenge, or 429 `RATE_LIMITED` once its address has sent too many.
fn unauthenticated(
    state: &AppState,
    peer: Peer,
    challenge: &'static str,
    message: &str,
    rid: &str,
) -> Response {
    let verdict = state.anonymous.charge(&format!("anonymous:{}", peer.0), 1);
    let mut resp = match verdict {
        Verdict::Limited { retry_after, .. } => {
            state.metrics.rate_limited.inc();
            error_response(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                &format!("too many requests without valid credentials; retry in {retry_after} s"),
                rid,
            )
        }
        Verdict::Allowed { .. } => error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            message,
            rid,
        ),
    };
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    verdict.write_headers(resp.headers_mut());
    resp
}

/// Resolves the `Authorization` header to the caller, or answers the request: every request
/// without valid credentials gets 401 (see [`unauthenticated`]).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    trace_id: String,
) -> Result<Actor, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated(
            state,
            peer,
            "Bearer",
            "a bearer token is required (Authorization: Bearer <token>)",
            rid,
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let invalid =
        |msg: &str| unauthenticated(state, peer, "Bearer error=\"invalid_token\"", msg, rid);
    let Some(token) = token else {
        return Err(invalid("the Authorization header must be `Bearer <token>`"));
    };
    let trail = Arc::new(Trail::new(rid.to_owned(), trace_id, ""));
    match state.auth.authenticate(token, trail).await {
        Ok(actor) => Ok(actor),
        Err(crate::error::ApiError::Unauthenticated(m)) => Err(invalid(m)),
        Err(crate::error::ApiError::Forbidden(m)) => Err(error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            m,
            rid,
        )),
        Err(other) => {
            other.log();
            Err(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
                rid,
            ))
        }
    }
}

/// A fault on our side that leaves no GraphQL response to send (already logged), or a request
/// abandoned at its deadline.
struct Failure;

/// Where a request's work stands, shared by the handler (which keeps the deadline) and the task
/// doing the work: whichever moves first from `RUNNING` decides between commit and abandon.
const RUNNING: u8 = 0;
const ABANDONED: u8 = 1;
const COMMITTING: u8 = 2;

/// Runs one GraphQL operation. An authenticated operation runs in one transaction with the
/// caller's LA as its tenant; its audit rows are written in that transaction before it commits,
/// and if they cannot be written the operation fails and nothing it did is kept.
async fn run_one(
    state: &AppState,
    actor: &Actor,
    request: async_graphql::Request,
    key: Option<&idempotency::Key>,
    rid: &str,
    progress: &AtomicU8,
) -> Result<Answer, Failure> {
    let started = std::time::Instant::now();
    let slot = Arc::new(OperationSlot::named(request.operation_name.clone()));
    let request = request.data(slot.clone());
    let observed = |response: &async_graphql::Response| {
        let code = response
            .errors
            .first()
            .map_or_else(|| "OK".to_owned(), error_code);
        state
            .metrics
            .operation(&slot.label(), &code, started.elapsed());
    };
    let waiting = state.metrics.waiting();
    // Held to the end of the request (after its commit).
    let _turn = match &state.sqlite_writer {
        Some(writer) => Some(writer.lock().await),
        None => None,
    };
    let unit = Unit::begin(&state.db, actor.la_id, state.statement_timeout)
        .await
        .map_err(|e| {
            e.log();
            Failure
        })?;
    drop(waiting);
    let key = key.filter(|_| idempotency::is_mutation(&request));
    let claimed = match key {
        None => None,
        Some(key) => match idempotency::claim(&**unit.tx(), actor, key).await {
            Ok(idempotency::Claim::Fresh(id)) => Some(id),
            Ok(other) => {
                unit.abandon().await;
                return Ok(Answer::from_claim(other));
            }
            Err(e) => {
                e.log();
                unit.abandon().await;
                return Err(Failure);
            }
        },
    };
    // The unit ends with the audit rows before it commits: its change rows can wait for it.
    actor.trail.defer_changes();
    let data = RequestData::authenticated(actor, unit.tx());
    // Named by type and root fields once it validates (see `metrics::Observe`), never by the
    // client's free text.
    let span = tracing::info_span!(
        "graphql operation",
        graphql.operation.type = tracing::field::Empty,
        graphql.operation.fields = tracing::field::Empty,
    );
    let mut response = state
        .schema
        .execute(request.data(data))
        .instrument(span)
        .await;
    observed(&response);
    if progress
        .compare_exchange(RUNNING, COMMITTING, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // The caller was told TIMEOUT: keep nothing.
        unit.abandon().await;
        return Err(Failure);
    }
    // A keyed mutation's response is stored with what it did, as the bytes sent.
    let stored = match claimed {
        None => None,
        Some(id) => {
            decorate(&mut response, rid);
            let body = serde_json::to_string(&response).map_err(|e| {
                tracing::error!(error.detail = %e, "cannot serialise a response");
                Failure
            })?;
            if let Err(e) = idempotency::store(&**unit.tx(), id, &body).await {
                e.log();
                return Err(Failure);
            }
            Some(body)
        }
    };
    let committed = unit.finish(actor, &state.outlets).await.map_err(|e| {
        e.log();
        Failure
    })?;
    state.metrics.events.inc_by(committed.events as u64);
    Ok(match stored {
        Some(body) => Answer::Stored {
            body,
            replayed: false,
        },
        None => Answer::Graphql(response),
    })
}

/// What one operation answers.
enum Answer {
    /// A response to serialise.
    Graphql(async_graphql::Response),
    /// A keyed mutation's response, as stored: sent as it is.
    Stored { body: String, replayed: bool },
    /// A keyed request refused before it ran.
    Refused {
        status: StatusCode,
        code: ErrorCode,
        message: &'static str,
    },
}

impl Answer {
    fn from_claim(claim: idempotency::Claim) -> Answer {
        match claim {
            idempotency::Claim::Replay(body) => Answer::Stored {
                body,
                replayed: true,
            },
            idempotency::Claim::Reused => Answer::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: ErrorCode::IdempotencyKeyReused,
                message: "this Idempotency-Key was used with a different request; use a new key",
            },
            idempotency::Claim::Running | idempotency::Claim::Fresh(_) => Answer::Refused {
                status: StatusCode::CONFLICT,
                code: ErrorCode::Conflict,
                message: "the first request with this Idempotency-Key is still running; retry later",
            },
        }
    }
}

/// Gives every error of a response its stable code and the request id.
fn decorate(response: &mut async_graphql::Response, rid: &str) {
    for err in &mut response.errors {
        let code = library_error_code(&err.message);
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code.as_str());
        }
        ext.set("requestId", rid.to_owned());
        if let Some(trace) = crate::telemetry::current_trace_id() {
            ext.set("traceId", trace);
        }
    }
}

/// The stable code of an error: its own, or the library's.
fn error_code(e: &async_graphql::ServerError) -> String {
    match e.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(c)) => c.clone(),
        _ => library_error_code(&e.message).as_str().to_owned(),
    }
}

/// The stable code of an error raised by async-graphql itself (parse, validation, limits).
fn library_error_code(message: &str) -> ErrorCode {
    const LIMITS: [&str; 4] = [
        "Query is too complex",
        "Query is nested too deep",
        "The recursion depth of the query cannot be greater than",
        "The number of directives on the field",
    ];
    if LIMITS.iter().any(|l| message.starts_with(l)) {
        ErrorCode::QueryTooComplex
    } else {
        ErrorCode::BadUserInput
    }
}

/// Runs a request (one operation, or a batch of at most `REUNIFY_MAX_BATCH`) within the deadline.
async fn execute(
    state: AppState,
    actor: Actor,
    batch: BatchRequest,
    key: Option<idempotency::Key>,
    rid: String,
) -> Response {
    let requests = match batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(_) if key.is_some() => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "an Idempotency-Key applies to one operation: send a batch without one",
                &rid,
            );
        }
        BatchRequest::Batch(rs) if rs.is_empty() || rs.len() > state.max_batch => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!(
                    "a batch holds 1 to {} operations; this one holds {}",
                    state.max_batch,
                    rs.len()
                ),
                &rid,
            );
        }
        BatchRequest::Batch(rs) => rs,
    };
    let single = requests.len() == 1;
    let count = requests.len();
    let (actor_la, actor_id) = (actor.la_id, actor.actor_id);
    let verdict = {
        let caller = format!(
            "{}:{}",
            actor.la_id,
            actor.client_id.as_deref().unwrap_or(&actor.subject)
        );
        state.rate.charge(&caller, requests.len() as u32)
    };
    if let limited @ Verdict::Limited { retry_after, .. } = verdict {
        state.metrics.rate_limited.inc();
        let mut resp = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &format!("too many requests; retry in {retry_after} s"),
            &rid,
        );
        limited.write_headers(resp.headers_mut());
        return resp;
    }
    // The work runs in a task of its own: a transaction must never be dropped mid-statement (by a
    // deadline, or a client that hangs up). Past the deadline the caller is answered at once and
    // the task, finding itself abandoned, rolls back instead of committing.
    let progress = Arc::new(AtomicU8::new(RUNNING));
    let timeout = state.request_timeout;
    let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
    let mut work = tokio::spawn({
        let progress = progress.clone();
        let rid = rid.clone();
        let work = async move {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                progress.store(RUNNING, Ordering::SeqCst);
                let answer =
                    run_one(&state, &actor, request, key.as_ref(), &rid, &progress).await?;
                responses.push(answer);
            }
            Ok::<_, Failure>(responses)
        };
        crate::telemetry::with_trace_id(trace_id, work).in_current_span()
    });
    let outcome = match tokio::time::timeout(timeout, &mut work).await {
        Ok(done) => Some(done),
        // Past the deadline: abandon the work unless it is already committing, then let it finish.
        Err(_) => {
            match progress.compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => None,
                Err(_) => Some(work.await),
            }
        }
    };
    let responses = match outcome {
        Some(Ok(Ok(responses))) => responses,
        Some(Ok(Err(Failure)) | Err(_)) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
                &rid,
            );
        }
        None => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Timeout,
                "the request took longer than allowed and was abandoned; nothing it did was kept",
                &rid,
            );
        }
    };
    let mut error_count = 0;
    let mut graphql = Vec::with_capacity(responses.len());
    let mut raw = None;
    for answer in responses {
        match answer {
            Answer::Graphql(mut response) => {
                error_count += response.errors.len();
                decorate(&mut response, &rid);
                graphql.push(response);
            }
            Answer::Stored { body, replayed } => raw = Some((body, replayed)),
            Answer::Refused {
                status,
                code,
                message,
            } => return error_response(status, code, message, &rid),
        }
    }
    let mut resp = if let Some((body, replayed)) = raw {
        let mut resp = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
        if replayed {
            resp.headers_mut()
                .insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
        }
        resp
    } else if single {
        Json(graphql.remove(0)).into_response()
    } else {
        Json(async_graphql::BatchResponse::Batch(graphql)).into_response()
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    verdict.write_headers(resp.headers_mut());
    // Identifiers only: never names, free text, variables or tokens.
    let span = tracing::Span::current();
    span.record("la.id", actor_la);
    span.record("actor.id", actor_id);
    span.record("graphql.operations", count);
    span.record("errors", error_count);
    tracing::info!(
        request.id = %rid,
        la.id = actor_la,
        actor.id = actor_id,
        operations = count,
        errors = error_count,
        "graphql request"
    );
    resp
}

async fn graphql_post(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = request_id();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "Content-Type must be application/json",
            &rid,
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a valid GraphQL request",
                &rid,
            );
        }
    };
    let key = match idempotency::Key::from_header(headers.get(idempotency::HEADER), &body) {
        Ok(key) => key,
        Err(message) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &message,
                &rid,
            );
        }
    };
    traced(state, headers, peer, batch, key, rid).await
}

/// Authenticates and executes a parsed request inside the request's span.
async fn traced(
    state: AppState,
    headers: HeaderMap,
    peer: Peer,
    batch: BatchRequest,
    key: Option<idempotency::Key>,
    rid: String,
) -> Response {
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
        let actor = match authenticate(&state, &headers, peer, &rid, trace_id).await {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        execute(state, actor, batch, key, rid).await
    };
    within(span, &copy, work).await
}

/// Runs a handler's work in its request span, with the request's trace id known to every error
/// body it answers.
async fn within(
    span: tracing::Span,
    headers: &HeaderMap,
    work: impl Future<Output = Response>,
) -> Response {
    let trace_id = crate::telemetry::trace_id(&span, headers);
    crate::telemetry::with_trace_id(trace_id, work.instrument(span)).await
}

/// The gate of an export: a bearer token, the rate limit, the caller's right to it (a refusal is
/// audited), and an `EXPORT` audit row naming the export, committed before any data is sent.
async fn export_gate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    name: &str,
    allowed: impl FnOnce(&Actor) -> crate::error::ApiResult<()>,
) -> Result<Actor, Response> {
    gate(
        state,
        headers,
        peer,
        rid,
        name,
        Some(audit::Action::Export),
        allowed,
    )
    .await
}

/// Authenticates a request to an endpoint other than `/graphql`, charges its rate limit and checks
/// `allowed`; a refusal is audited as `Denied`, and (when `action` is given) the allowed request
/// as `action` on the LA.
async fn gate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    name: &str,
    action: Option<audit::Action>,
    allowed: impl FnOnce(&Actor) -> crate::error::ApiResult<()>,
) -> Result<Actor, Response> {
    let span = tracing::Span::current();
    let trace_id = crate::telemetry::current_trace_id()
        .unwrap_or_else(|| crate::telemetry::trace_id(&span, headers));
    let actor = authenticate(state, headers, peer, rid, trace_id).await?;
    let caller = format!(
        "{}:{}",
        actor.la_id,
        actor.client_id.as_deref().unwrap_or(&actor.subject)
    );
    if let limited @ Verdict::Limited { retry_after, .. } = state.rate.charge(&caller, 1) {
        state.metrics.rate_limited.inc();
        let mut resp = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &format!("too many requests; retry in {retry_after} s"),
            rid,
        );
        limited.write_headers(resp.headers_mut());
        return Err(resp);
    }
    actor.trail.set_operation(name);
    let refusal = allowed(&actor).err();
    if refusal.is_some() {
        actor
            .trail
            .denied(name, action.unwrap_or(audit::Action::Update));
    }
    let internal = || {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
            rid,
        )
    };
    let written = async {
        let unit = Unit::begin(&state.db, actor.la_id, state.statement_timeout).await?;
        if let (None, Some(action)) = (&refusal, action) {
            let la = audit::Record::bare("local_authority", actor.la_id);
            audit::changed(&**unit.tx(), &actor, action, la, &[name]).await?;
        }
        unit.finish(&actor, &state.outlets).await
    }
    .await;
    if let Err(e) = written {
        e.log();
        return Err(internal());
    }
    match refusal {
        Some(crate::error::ApiError::Forbidden(m)) => Err(error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            m,
            rid,
        )),
        Some(other) => {
            other.log();
            Err(internal())
        }
        None => Ok(actor),
    }
}

/// A streamed export's response.
fn streamed<S>(content_type: &'static str, file: &str, rid: &str, body: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let mut resp = axum::body::Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-request-id", v);
    }
    resp
}

/// `GET /exports/episodes.csv`: the LA's reunification cases with their episodes of care, in
/// SSDA903 column names and codes (team managers, nominated officers and LA admins).
async fn export_episodes(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let actor = match export_gate(&state, &headers, peer, &rid, "exportEpisodes", |a| {
            crate::insight::export::may_export_records(a)
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let tx = match db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await
        {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error.detail = %e, "cannot begin the export transaction");
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let body =
            crate::insight::export::episodes_csv(tx, actor.la_id, crate::insight::export::PAGE);
        streamed(
            "text/csv; charset=utf-8",
            "reunify-episodes.csv",
            &rid,
            body,
        )
    };
    within(span, &copy, work).await
}

/// Query parameters of the SSDA903 exports.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReturnParams {
    /// The collection year, `2026-27`; the current one by default.
    year: Option<String>,
}

/// `GET /exports/ssda903/header.csv?year=`: the Header table of the LA's 903 return.
async fn export_903_header(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<ReturnParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    export_903(
        state,
        peer,
        headers,
        params,
        crate::insight::ssda903::Table::Header,
    )
    .await
}

/// `GET /exports/ssda903/episodes.csv?year=`: the Episodes table of the LA's 903 return.
async fn export_903_episodes(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<ReturnParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    export_903(
        state,
        peer,
        headers,
        params,
        crate::insight::ssda903::Table::Episodes,
    )
    .await
}

/// One table of the 903 return, for those who may export child-level records.
async fn export_903(
    state: AppState,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<ReturnParams>, axum::extract::rejection::QueryRejection>,
    table: crate::insight::ssda903::Table,
) -> Response {
    use crate::insight::ssda903::{Table, Year};
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let bad =
            |m: &str| error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, m, &rid);
        let Ok(Query(params)) = params else {
            return bad("the query string does not parse (only `year`, e.g. 2026-27)");
        };
        let year = match params.year.as_deref().map(Year::parse) {
            None => Year::holding(crate::cases::service::today()),
            Some(Ok(y)) => y,
            Some(Err(m)) => return bad(&m),
        };
        let (name, file) = match table {
            Table::Header => ("exportSsda903Header", "ssda903-header.csv"),
            Table::Episodes => ("exportSsda903Episodes", "ssda903-episodes.csv"),
        };
        let actor = match export_gate(&state, &headers, peer, &rid, name, |a| {
            crate::insight::export::may_export_records(a)
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let tx = match db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await
        {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error.detail = %e, "cannot begin the export transaction");
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let body = crate::insight::ssda903::table_csv(tx, actor.la_id, year, table);
        streamed("text/csv; charset=utf-8", file, &rid, body)
    };
    within(span, &copy, work).await
}

/// `POST /imports`: children, episodes and cases as JSON Lines (each line one record, as
/// `bulkImport` takes an item), for initial loads of tens of thousands. Answers JSON Lines: a
/// result per record, then a summary. Upserts are idempotent, so an upload that stopped on a fault
/// is sent again whole.
async fn import_upload(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim);
        if !matches!(
            content_type,
            Some("application/x-ndjson" | "application/jsonl" | "application/json-lines")
        ) {
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput,
                "send the records as JSON Lines, with Content-Type: application/x-ndjson",
                &rid,
            );
        }
        let actor = match gate(&state, &headers, peer, &rid, "bulkImport", None, |a| {
            a.require_write()?;
            a.require_granted("bulkImport")
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let upload = crate::sync::import::upload(
            &state.db,
            &actor,
            state.statement_timeout,
            &body,
            &state.outlets,
        );
        match upload.await {
            Ok(results) => {
                let mut resp = crate::sync::import::render(&results).into_response();
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if let Ok(v) = HeaderValue::from_str(&rid) {
                    h.insert("x-request-id", v);
                }
                resp
            }
            Err(stopped) => {
                let (status, code) = match &stopped.error {
                    crate::error::ApiError::Database(e) if db::is_timeout(e) => {
                        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Timeout)
                    }
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
                };
                stopped.error.log();
                let message = format!(
                    "the import stopped after committing its first {} lines; send the file again \
                     (records already stored come back UNCHANGED)",
                    stopped.committed_lines
                );
                error_response(status, code, &message, &rid)
            }
        }
    };
    within(span, &copy, work).await
}

/// Query parameters of `GET /exports/insight.jsonl`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InsightParams {
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
    /// Comma-separated dimensions, e.g. `YEAR,TEAM`.
    group_by: Option<String>,
    round_to_nearest_10: Option<bool>,
}

/// `GET /exports/insight.jsonl?from=&to=&asOf=&groupBy=&roundToNearest10=`: every aggregate as
/// JSON Lines (scope `aggregates:read`; small counts withheld from data analysts).
async fn export_insight(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<InsightParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let bad =
            |m: &str| error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, m, &rid);
        let Ok(Query(params)) = params else {
            return bad("the query string does not parse");
        };
        let query = match crate::insight::export::parse_query(
            params.from.as_deref(),
            params.to.as_deref(),
            params.as_of.as_deref(),
            params.group_by.as_deref(),
        ) {
            Ok(q) => q,
            Err(m) => return bad(&m),
        };
        let actor = match export_gate(
            &state,
            &headers,
            peer,
            &rid,
            "exportInsight",
            Actor::require_aggregates,
        )
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let facts = async {
            let tx = db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await?;
            let facts = crate::insight::service::facts(&tx, &actor).await?;
            tx.commit().await?;
            Ok::<_, crate::error::ApiError>(facts)
        }
        .await;
        let facts = match facts {
            Ok(f) => f,
            Err(e) => {
                e.log();
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let shown = crate::insight::aggregates::Presentation {
            suppress: actor.require_read().is_err(),
            round_to_10: params.round_to_nearest_10.unwrap_or(false),
        };
        let body = crate::insight::export::insight_jsonl(facts, query, shown);
        streamed("application/jsonl", "reunify-insight.jsonl", &rid, body)
    };
    within(span, &copy, work).await
}

/// `GET /graphql`: a WebSocket upgrade (`graphql-transport-ws`) or a GraphQL-over-HTTP query.
async fn graphql_get_or_ws(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequestParts as _;
    let (mut parts, _) = request.into_parts();
    let Ok(peer) = Peer::from_request_parts(&mut parts, &state).await;
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        let rid = request_id();
        let span = crate::telemetry::request_span(&parts.headers, &rid);
        let trace_id = crate::telemetry::trace_id(&span, &parts.headers);
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(ws) => {
                let live = state.live.clone();
                // Small buffers: most sockets sit idle, and a client's messages are small.
                ws.protocols([crate::live::ws::PROTOCOL])
                    .read_buffer_size(4 * 1024)
                    .write_buffer_size(0)
                    .max_message_size(state.max_ws_message)
                    .max_frame_size(state.max_ws_message)
                    .on_upgrade(move |socket| {
                        crate::live::ws::session(socket, live, rid, trace_id).instrument(span)
                    })
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let params = match Query::<GetParams>::try_from_uri(&parts.uri) {
        Ok(q) => q,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the query string is not a GraphQL request",
                &request_id(),
            );
        }
    };
    graphql_get(State(state), peer, parts.headers, params).await
}

#[derive(serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let rid = request_id();
    let Some(query) = params.query else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "missing `query`",
            &rid,
        );
    };
    let Ok(doc) = async_graphql::parser::parse_query(&query) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the query does not parse",
            &rid,
        );
    };
    let is_query = doc.operations.iter().all(|(name, op)| {
        let selected = params
            .operation_name
            .as_deref()
            .is_none_or(|n| name.is_some_and(|x| x.as_str() == n));
        !selected || op.node.ty == async_graphql::parser::types::OperationType::Query
    });
    if !is_query {
        let mut resp = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "only queries may be sent with GET; use POST",
            &rid,
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "`variables` is not JSON",
                    &rid,
                );
            }
        }
    }
    traced(
        state,
        headers,
        peer,
        BatchRequest::Single(request),
        None,
        rid,
    )
    .await
}
