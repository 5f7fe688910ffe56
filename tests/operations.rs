//! Operations: the `reunify` binary run as a process of its own — SIGTERM drains it (readiness
//! fails, a slow request finishes, WebSockets close with 1001, exit 0), its spans reach an OTLP
//! receiver without personal data — and, in process, `/metrics` parses and moves, and `/readyz`
//! follows the database.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectOptions, ConnectionTrait as _, Database};
use serde_json::{Value, json};

use crate::live::Ws;
use crate::support::TestApp;

/// The binary under test: `reunify` built with the tests.
const BINARY: &str = env!("CARGO_BIN_EXE_reunify-under-test");

/// A `reunify serve` process on a fresh SQLite file, killed when dropped.
struct Process {
    child: Child,
    base: String,
    env: Vec<(String, String)>,
    db_url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    async fn start(extra: &[(&str, &str)]) -> Process {
        Process::start_in(tempfile::tempdir().unwrap(), extra).await
    }

    /// The same, on the SQLite file `ops.db` in `dir` (which may hold one already).
    async fn start_in(dir: tempfile::TempDir, extra: &[(&str, &str)]) -> Process {
        let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("ops.db").display());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut env: Vec<(String, String)> = vec![
            ("REUNIFY_DATABASE_URL".into(), db_url.clone()),
            ("REUNIFY_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("REUNIFY_SHUTDOWN_GRACE_SECONDS".into(), "20".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        let child = Command::new(BINARY)
            .arg("serve")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Process {
            child,
            base: format!("http://127.0.0.1:{port}"),
            env,
            db_url,
            _dir: dir,
        };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{}/readyz", p.base)).send().await
                && r.status() == 200
            {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    fn token(&self) -> String {
        let out = Command::new(BINARY)
            .args(["token", "--la", "999", "--role", "social_worker"])
            .envs(self.env.iter().cloned())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `within`), returning its exit code.
    async fn exited(&mut self, within: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

/// The newcomer's order of things: a token minted in a fresh folder before the first `serve`
/// prints the token alone (no log lines), and the `serve` after it still loads the demo LA, and
/// takes that token.
#[tokio::test]
async fn a_token_before_the_first_serve_keeps_the_demo_and_prints_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("ops.db").display());
    let out = Command::new(BINARY)
        .args(["token", "--la", "999", "--role", "social_worker"])
        .env("REUNIFY_DATABASE_URL", &db_url)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr, "", "token logged to stderr");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let process = Process::start_in(dir, &[]).await;
    let (status, body) = graphql(
        &process.base,
        token,
        "{ me { localAuthority { name } } cases(first: 1) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["data"]["me"]["localAuthority"]["name"],
        "Demo Borough (synthetic)"
    );
    assert!(
        body["data"]["cases"]["totalCount"].as_i64().unwrap() >= 8,
        "the demo was loaded: {body:#}"
    );
}

/// `migrate` that cannot connect names the variable whose URL it tried.
#[test]
fn migrate_names_the_url_it_could_not_reach() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let out = Command::new(BINARY)
        .arg("migrate")
        .env("REUNIFY_DATABASE_URL", &sqlite)
        .env(
            "REUNIFY_MIGRATION_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("cannot connect to REUNIFY_MIGRATION_DATABASE_URL"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("nobody"),
        "no URL (it may hold a password): {stderr}"
    );
}

async fn graphql(base: &str, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const CHILD: &str = "mutation($i: ChildCreateInput!) { childCreate(input: $i) { child { id } userErrors { code } } }";

#[tokio::test]
async fn sigterm_drains_a_slow_request_and_closes_websockets_then_exits_0() {
    let mut p = Process::start(&[]).await;
    let token = p.token();
    // The container health check is the binary itself.
    let healthy = Command::new(BINARY)
        .arg("healthcheck")
        .envs(p.env.iter().cloned())
        .status()
        .unwrap();
    assert!(healthy.success());
    let mut ws = Ws::init(&p.base, &token).await;
    ws.subscribe(
        "s",
        "subscription { caseEvents { position type } }",
        json!({}),
    )
    .await;

    // Hold SQLite's write lock from outside: the next mutation waits for it (a slow request).
    let mut options = ConnectOptions::new(p.db_url.clone());
    options.max_connections(1).sqlx_logging(false);
    let blocker = Database::connect(options).await.unwrap();
    blocker.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
    let slow = tokio::spawn({
        let (base, token) = (p.base.clone(), token.clone());
        async move {
            let input = json!({ "i": { "laChildId": "DRAIN1", "dateOfBirth": "2016-01-01", "sex": "F", "ethnicity": "WBRI" } });
            graphql(&base, &token, CHILD, input).await
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !slow.is_finished(),
        "the request should be waiting for the lock"
    );

    p.terminate();
    // The subscription's socket closes with 1001 (going away); readiness fails at once.
    assert_eq!(ws.closed().await, 1001);
    let ready = reqwest::Client::new()
        .get(format!("{}/readyz", p.base))
        .send()
        .await;
    assert!(
        ready.is_err() || ready.is_ok_and(|r| r.status() == 503),
        "not ready while draining"
    );
    // The slow request is still let finish, and answered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    blocker.execute_unprepared("ROLLBACK").await.unwrap();
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["childCreate"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(p.exited(Duration::from_secs(10)).await, Some(0));
    let gone = Command::new(BINARY)
        .arg("healthcheck")
        .envs(p.env.iter().cloned())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !gone.success(),
        "the health check fails once the server is gone"
    );
    // What it acknowledged was kept.
    let kept = blocker
        .query_one_raw(sea_orm::Statement::from_string(
            blocker.get_database_backend(),
            "SELECT COUNT(*) FROM child WHERE la_child_id = 'DRAIN1'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(kept, 1);
}

/// A minimal OTLP/HTTP receiver: keeps every body POSTed to `/v1/traces`.
async fn otlp_receiver() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post({
            let bodies = bodies.clone();
            move |body: axum::body::Bytes| {
                let bodies = bodies.clone();
                async move {
                    bodies.lock().unwrap().push(body.to_vec());
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn spans_reach_an_otlp_receiver_without_personal_data() {
    let (endpoint, bodies) = otlp_receiver().await;
    let mut p = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "reunify-under-test"),
    ])
    .await;
    let token = p.token();
    // Synthetic values that must never leave in a span: an LA child ID, a date of birth, a token.
    let input = json!({ "i": { "laChildId": "ZQXSECRET7", "dateOfBirth": "2013-07-19", "sex": "F", "ethnicity": "WBRI" } });
    let (status, body) = graphql(&p.base, &token, CHILD, input).await;
    assert_eq!(
        (status, &body["data"]["childCreate"]["userErrors"]),
        (200, &json!([]))
    );
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", p.base))
        .bearer_auth(&token)
        .header("traceparent", parent)
        .json(&json!({ "query": "query Mine { me { roles } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Shutting down flushes the spans.
    p.terminate();
    assert_eq!(p.exited(Duration::from_secs(15)).await, Some(0));
    let all: Vec<u8> = bodies.lock().unwrap().concat();
    assert!(!all.is_empty(), "no spans arrived");
    assert!(contains(&all, "graphql request"));
    assert!(contains(&all, "graphql operation"));
    // Named by type and root field; a span per root field; a span per SQL statement beneath.
    assert!(contains(&all, "graphql.operation.fields"));
    assert!(contains(&all, "graphql field"));
    assert!(contains(&all, "childCreate"));
    assert!(contains(&all, "sea_orm."), "SQL spans");
    assert!(
        contains(&all, "INSERT INTO"),
        "statements, with placeholders for values"
    );
    assert!(contains(&all, "reunify-under-test"), "the service name");
    // The caller's trace continues: its trace id arrives as raw bytes in the protobuf.
    let trace: Vec<u8> = (0..16)
        .map(|i| {
            u8::from_str_radix(&"4bf92f3577b34da6a3ce929d0e0e4736"[i * 2..i * 2 + 2], 16).unwrap()
        })
        .collect();
    assert!(
        all.windows(16).any(|w| w == trace.as_slice()),
        "traceparent honoured"
    );
    for secret in [
        "ZQXSECRET7",
        "2013-07-19",
        &token[..24],
        "childCreate(input",
    ] {
        assert!(!contains(&all, secret), "{secret} leaked into a span");
    }
}

/// The samples of an OpenMetrics text: `name{labels}` → value. Fails on any line that is not a
/// comment, a sample or the final `# EOF`.
fn samples(text: &str) -> std::collections::HashMap<String, f64> {
    let mut out = std::collections::HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    for line in &lines {
        if line.starts_with("# TYPE ")
            || line.starts_with("# HELP ")
            || line.starts_with("# UNIT ")
            || *line == "# EOF"
        {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels in {line:?}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        out.insert(series.to_owned(), value);
    }
    out
}

async fn scrape(app: &TestApp) -> std::collections::HashMap<String, f64> {
    let r = app
        .http()
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    samples(&r.text().await.unwrap())
}

#[tokio::test]
async fn metrics_parse_and_move_as_requests_are_made() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let ok = r#"reunify_graphql_operations_total{kind="query",operation="me",code="OK"}"#;
    let denied = r#"reunify_http_requests_total{route="/graphql",status="401"}"#;
    let before = scrape(&app).await;
    for _ in 0..3 {
        w.ok("{ me { roles } }", json!({})).await;
    }
    let (status, _, _) = app
        .with_token("not-a-token")
        .send("{ me { roles } }", json!({}))
        .await;
    assert_eq!(status, 401);
    let bad = w.gql("{ noSuchField }", json!({})).await;
    assert!(bad["errors"].is_array());
    let after = scrape(&app).await;
    let moved =
        |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
    assert_eq!(moved(ok), 3.0, "{after:#?}");
    assert_eq!(moved(denied), 1.0);
    assert_eq!(
        moved(
            r#"reunify_graphql_operations_total{kind="unknown",operation="invalid",code="GRAPHQL_VALIDATION_FAILED"}"#
        ) + moved(
            r#"reunify_graphql_operations_total{kind="unknown",operation="invalid",code="BAD_USER_INPUT"}"#
        ),
        1.0,
        "an invalid document is counted without its made-up field name: {after:#?}"
    );
    assert!(!after.keys().any(|k| k.contains("noSuchField")));
    assert!(
        moved(
            r#"reunify_graphql_operation_duration_seconds_count{kind="query",operation="me",code="OK"}"#
        ) == 3.0
    );
    for gauge in [
        r#"reunify_db_pool_connections{state="in_use"}"#,
        r#"reunify_db_pool_connections{state="idle"}"#,
        r#"reunify_db_pool_connections{state="waiting"}"#,
        "reunify_websockets_open",
        "reunify_subscriptions_active",
        "reunify_events_published_total",
        "reunify_rate_limited_requests_total",
    ] {
        assert!(after.contains_key(gauge), "{gauge} missing: {after:#?}");
    }
    // A mutation publishes its event; a socket and its subscription show while open.
    w.must(
        "childCreate",
        "child { id }",
        json!({ "laChildId": "MET1", "dateOfBirth": "2016-01-01", "sex": "M", "ethnicity": "WBRI" }),
    )
    .await;
    let mut ws = Ws::init(&app.base, &w.token).await;
    ws.subscribe("s", "subscription { caseEvents { position } }", json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let open = scrape(&app).await;
    assert!(
        open["reunify_events_published_total"] >= after["reunify_events_published_total"] + 1.0
    );
    assert_eq!(open["reunify_websockets_open"], 1.0);
    assert_eq!(open["reunify_subscriptions_active"], 1.0);
    drop(ws);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let closed = scrape(&app).await;
    assert_eq!(closed["reunify_websockets_open"], 0.0);
    assert_eq!(closed["reunify_subscriptions_active"], 0.0);

    // The Prometheus text format for a scraper that asks for it: the same series, counters'
    // families named by their samples, no OpenMetrics-only lines.
    let r = app
        .http()
        .get(format!("{}/metrics", app.base))
        .header("accept", "text/plain;version=0.0.4")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("# TYPE reunify_http_requests_total counter\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE reunify_db_pool_connections gauge\n"));
    assert!(!text.contains("# EOF") && !text.contains("_created"));
    // The same sample lines; `samples` reads OpenMetrics, which ends with `# EOF`.
    let series = samples(&format!("{text}# EOF\n"));
    assert!(series.contains_key(ok), "{series:#?}");
    assert!(series.contains_key(r#"reunify_webhook_deliveries_total{outcome="failed"}"#));
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let app = TestApp::spawn().await;
    let ready = || async {
        app.http()
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ready().await, 200);
    // A database behind this build's migrations is not ready for it.
    let newest = "(SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1)";
    app.db
        .execute_unprepared(&format!(
            "CREATE TABLE held_migration AS SELECT * FROM seaql_migrations WHERE version = {newest}"
        ))
        .await
        .unwrap();
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM seaql_migrations WHERE version = {newest}"
        ))
        .await
        .unwrap();
    assert_eq!(ready().await, 503);
    app.db
        .execute_unprepared("INSERT INTO seaql_migrations SELECT * FROM held_migration")
        .await
        .unwrap();
    assert_eq!(ready().await, 200);
    if app.postgres {
        // A database that refuses the service's connections: not ready; ready again once it lets them in.
        let name = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT current_database()",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<String>(0)
            .unwrap();
        let login = crate::support::APP_LOGIN;
        // This database only (other tests share the login): no new connections for non-superusers.
        app.db
            .execute_unprepared(&format!("ALTER DATABASE {name} CONNECTION LIMIT 0"))
            .await
            .unwrap();
        app.db
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{login}' AND datname = '{name}'"
            ))
            .await
            .unwrap();
        let refused = ready().await;
        app.db
            .execute_unprepared(&format!("ALTER DATABASE {name} CONNECTION LIMIT -1"))
            .await
            .unwrap();
        assert_eq!(refused, 503);
        let started = Instant::now();
        while ready().await != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "ready again within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn every_error_carries_the_trace_id_the_audit_row_has() {
    let app = TestApp::spawn().await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let parent = format!("00-{trace}-b7ad6b7169203331-01");
    let post = |token: String, query: &'static str| {
        let parent = parent.clone();
        let app = &app;
        async move {
            let r = app
                .http()
                .post(format!("{}/graphql", app.base))
                .bearer_auth(token)
                .header("traceparent", parent)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Refused before GraphQL (a bad token), and inside it (a role that may not read audit).
    let (status, body) = post("not-a-token".into(), "{ me { id } }").await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["traceId"], trace);
    let w = app.worker();
    let (status, body) = post(w.token.clone(), "{ auditEvents(first: 1) { totalCount } }").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["traceId"], trace);
    // The refusal's audit row carries the same trace id.
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE trace_id = '{trace}' AND outcome = 'DENIED'"
        ))
        .await,
        1
    );
}
