//! The HTTP service: `/graphql` (GraphQL over HTTP and WebSockets), the exports and the import,
//! GraphiQL, `/metrics`, `/healthz`, `/readyz` — and the start-up that assembles it.
//!
//! `state` (what handlers share), `errors` (error answers), `caller` (tokens and peers),
//! `graphql` (the GraphQL pipeline), `socket` (WebSockets), `exports` (REST exports and the
//! import), `ops` (metrics, readiness), `graphiql` (the development page and its pinned assets);
//! this file assembles them.

mod caller;
mod errors;
mod exports;
mod graphiql;
mod graphql;
mod negotiate;
mod ops;
mod socket;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret as _;
use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::auth::DEV_ISSUER;
use crate::auth::issuers::{self, IssuerConfig};
use crate::auth::jwks::FetchPolicy;
use crate::auth::keys::DevKey;
use crate::auth::verifier::{Issuer, Verifier};
use crate::config::{Config, Mode};
use crate::context::AppData;
use crate::db::StartupLock;
use crate::live::bus::Bus;
use crate::live::ws::Live;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimit;
use crate::schema::{self};
use errors::json_errors;
use exports::{export_903_table, export_episodes, export_insight, import_upload};
use graphql::graphql_post;
use ops::{count_request, metrics_text, readyz};
use socket::graphql_get_or_ws;
use state::AppState;

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
    let url = config.database_url.expose_secret();
    connect_to(url, "REUNIFY_DATABASE_URL", config, statements).await
}

/// The schema owner's URL (`REUNIFY_MIGRATION_DATABASE_URL`, or the service's own URL when none
/// is set), with the variable an error names.
fn owner_url(config: &Config) -> (&str, &'static str) {
    match &config.migration_database_url {
        Some(url) => (url.expose_secret(), "REUNIFY_MIGRATION_DATABASE_URL"),
        None => (config.database_url.expose_secret(), "REUNIFY_DATABASE_URL"),
    }
}

/// Does `work` holding the database's start-up lock (see [`StartupLock`]), so it happens once
/// however many instances start together; the lock is released whether or not it succeeds.
pub async fn once<T>(
    config: &Config,
    work: impl AsyncFnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let (url, variable) = owner_url(config);
    let lock = StartupLock::acquire(url, variable).await?;
    let done = work().await;
    let released = lock.release().await;
    let value = done?;
    released?;
    Ok(value)
}

/// Applies pending migrations as the schema owner, under the start-up lock.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    once(config, async || apply_migrations(config).await).await
}

/// Does `work` on the service's connection to a migrated database, holding the start-up lock (the
/// one-shot commands that write: `token`, `seed-demo`).
pub async fn migrated_once<T>(
    config: &Config,
    work: impl AsyncFnOnce(&DatabaseConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    once(config, async || {
        apply_migrations(config).await?;
        let db = connect(config, Arc::default()).await?;
        work(&db).await
    })
    .await
}

/// Applies pending migrations as the schema owner; the caller holds the start-up lock.
async fn apply_migrations(config: &Config) -> anyhow::Result<()> {
    // The URL that is used is the one an error names.
    let (url, variable) = owner_url(config);
    let db = connect_to(url, variable, config, Arc::default()).await?;
    crate::migrate(&db).await?;
    db.close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the migration connection: {e}"))
}

async fn connect_to(
    url: &str,
    variable: &str,
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
        .map_err(|e| anyhow::anyhow!("cannot connect to {variable}: {e}"))?;
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
/// the server's own key (`dev_key`, loaded at start-up).
pub async fn verifier(config: &Config, dev_key: Option<&DevKey>) -> anyhow::Result<Verifier> {
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
    if let Some(key) = dev_key {
        let key = key
            .verifying_key()
            .map_err(|e| anyhow::anyhow!("development key: {e:?}"))?;
        issuers.push(Issuer::development(DEV_ISSUER, &config.token_audience, key));
    }
    let verifier = Verifier::new(issuers).map_err(|e| anyhow::anyhow!(e))?;
    verifier.prefetch().await;
    Ok(verifier)
}

/// What an instance does once at start, holding the start-up lock: migrations (where it runs
/// them), the connection, the production SQLite check, the demo LA and, in development, the
/// development key.
async fn start_up(
    config: &Config,
    statements: Arc<AtomicU64>,
) -> anyhow::Result<(DatabaseConnection, Option<DevKey>)> {
    if config.migrate_on_start || config.is_sqlite() || config.mode == Mode::Development {
        apply_migrations(config).await?;
    }
    let db = connect(config, statements).await?;
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
    // Whatever else the database holds (an LA registered by `reunify token` before the first
    // `serve`, say): the demo LA is loaded once, unless it already holds its children.
    if config.seed_demo() {
        let summary = crate::seed::demo(&db).await?;
        tracing::info!("{summary}; get a token with `reunify token --la 999 --role social_worker`");
    }
    let dev_key = if config.mode == Mode::Development {
        let key = DevKey::load_or_create(&db)
            .await
            .map_err(|e| anyhow::anyhow!("development key: {e:?}"))?;
        Some(key)
    } else {
        None
    };
    Ok((db, dev_key))
}

/// Builds the server: database, migrations, keys, schema, router, and the bound listener.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    config.validate().map_err(|e| anyhow::anyhow!(e))?;
    let statements = Arc::new(AtomicU64::new(0));
    let (db, dev_key) = once(&config, async || {
        start_up(&config, statements.clone()).await
    })
    .await?;
    let verifier = Arc::new(verifier(&config, dev_key.as_ref()).await?);
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
        rate: RateLimit::shared(config.rate_limit_per_minute, config.rate_limit_burst, &db),
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
        .route("/exports/ssda903/{file}", get(export_903_table))
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
        router = router
            .route("/", get(graphiql::page))
            .route("/graphiql/{file}", get(graphiql::asset));
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
