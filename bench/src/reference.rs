//! Scenario `reference`: the reference read operations of the performance issue, closed loop,
//! on a seeded PostgreSQL database: `case(id)` with its full detail, a page of 50 cases with stage,
//! latest classification and goals, and an LA's aggregate dashboard. Per operation: requests/s,
//! p50/p95/p99 latency, the server's CPU time per request and SQL statements per request (from
//! `/metrics`), and the server's peak memory; and the query plans of the reference SQL.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::insight::{EVERY_AGGREGATE, Prepared, prepare, token};
use crate::{Server, percentile};

#[derive(clap::Args)]
pub struct ReferenceArgs {
    /// Local authorities seeded.
    #[arg(long, default_value_t = 1)]
    las: usize,
    /// Cases per LA.
    #[arg(long, default_value_t = 500)]
    cases: usize,
    /// Concurrent clients (closed loop: each sends its next request when the last is answered).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds each operation is driven for.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// An empty PostgreSQL database (the schema owner's URL; it is migrated and seeded).
    #[arg(long)]
    database_url: String,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `case(id)` with everything a case page shows.
const CASE_DETAIL: &str = "query($id: ID!) { case(id: $id) {
    id stage status riskLevel attemptNumber openedOn team overdue version
    child { id laChildId dateOfBirth externalIds { system value }
            householdMembers { relationship label } episodes { startedOn legalStatus placementType } }
    episode { startedOn legalStatus }
    allocatedWorker { id }
    stages { stage enteredOn completedOn checklist { key completed completedOn } }
    decisions { kind outcome decidedOn approvalStatus }
    riskClassifications { kind level agreed classifiedOn }
    factors { id } childViews { id }
    agreement { status parties { id } goals { description status targetDate latestRating
        reviews { rating reviewedOn } } }
    services { serviceType status startsOn }
    visits(first: 10) { nodes { visitedOn childSeen } }
    reviews { id }
    outcome { returnType closureReason } } }";

/// A page of 50 cases with stage, latest classification and goals.
const PAGE: &str = "{ cases(first: 50) { totalCount nodes {
    id stage status riskLevel team
    riskClassifications { kind level agreed }
    goals { description status latestRating } } } }";

/// A server's counter from its `/metrics`.
async fn counter(server: &Server, name: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{}/metrics", server.base))
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .with_context(|| format!("{name} not in /metrics"))
}

struct Measured {
    label: String,
    requests: usize,
    seconds: f64,
    ms: Vec<f64>,
    cpu_ms: f64,
    statements: f64,
}

/// Drives one operation closed loop: `concurrency` clients for `seconds`, each request built by
/// `body(i)`.
async fn drive(
    server: &Server,
    token: &str,
    label: &str,
    concurrency: usize,
    seconds: f64,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> anyhow::Result<Measured> {
    let body = std::sync::Arc::new(body);
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    // Warm up: a few of each, unmeasured.
    for i in 0..concurrency {
        send(&http, &url, token, &body(i)).await?;
    }
    let statements = counter(server, "reunify_sql_statements_total").await?;
    let cpu = server.cpu_seconds();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut clients = Vec::new();
    for c in 0..concurrency {
        let (http, url, token, body) = (http.clone(), url.clone(), token.to_owned(), body.clone());
        clients.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            let mut i = c;
            while Instant::now() < until {
                let t = Instant::now();
                send(&http, &url, &token, &body(i)).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                i += concurrency;
            }
            Ok::<_, anyhow::Error>(ms)
        }));
    }
    let mut ms = Vec::new();
    for c in clients {
        ms.extend(c.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ms = (server.cpu_seconds() - cpu) * 1000.0;
    let statements = counter(server, "reunify_sql_statements_total").await? - statements;
    ms.sort_by(f64::total_cmp);
    let requests = ms.len();
    Ok(Measured {
        label: label.to_owned(),
        requests,
        seconds: elapsed,
        ms,
        cpu_ms: cpu_ms / requests.max(1) as f64,
        // The two scrapes' own statements (none: /metrics reads no table) are not subtracted.
        statements: statements / requests.max(1) as f64,
    })
}

async fn send(http: &reqwest::Client, url: &str, token: &str, body: &Value) -> anyhow::Result<()> {
    let answer: Value = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await?
        .json()
        .await?;
    if answer.get("errors").is_some() || answer["data"].is_null() {
        bail!("GraphQL errors: {answer}");
    }
    Ok(())
}

pub async fn run(args: ReferenceArgs) -> anyhow::Result<String> {
    let Prepared {
        db,
        codes,
        server,
        key,
        ..
    } = prepare(
        &args.database_url,
        args.las,
        args.cases,
        args.binary.clone(),
        false,
    )
    .await?;
    let code = codes.first().context("no LA seeded")?.clone();
    let la: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT id FROM local_authority WHERE dfe_code = '{code}'"),
        ))
        .await?
        .context("the LA")?
        .try_get_by_index(0)?;
    let ids: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT id FROM reunification_case WHERE la_id = {la} ORDER BY id"),
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .map(|id| api::ids::CaseId(id).to_global().to_string())
        .collect();
    if ids.is_empty() {
        bail!("no cases seeded");
    }
    let worker = token(&key, &code, "team_manager")?;
    let analyst = token(&key, &code, "data_analyst")?;
    let (n, c, s) = (ids.len(), args.concurrency, args.seconds);
    let mut rows = Vec::new();
    rows.push(
        drive(
            &server,
            &worker,
            "`case(id)`, full detail",
            c,
            s,
            move |i| json!({ "query": CASE_DETAIL, "variables": { "id": ids[(i * 7919) % n] } }),
        )
        .await?,
    );
    rows.push(
        drive(
            &server,
            &worker,
            "a page of 50 cases",
            c,
            s,
            |_| json!({ "query": PAGE }),
        )
        .await?,
    );
    rows.push(
        drive(
            &server,
            &analyst,
            "aggregate dashboard (`insight`, every aggregate)",
            c,
            s,
            |_| json!({ "query": EVERY_AGGREGATE, "variables": { "g": [] } }),
        )
        .await?,
    );

    let mut out = String::new();
    writeln!(
        out,
        "# reference: {} LA(s) × {} cases (PostgreSQL, `{}`)\n\n\
         Closed loop, {} clients, {:.0} s per operation; server, PostgreSQL and load generator share \
         this machine's 2 CPUs. Server peak memory {:.0} MiB.\n",
        codes.len(),
        args.cases,
        args.binary.display(),
        args.concurrency,
        args.seconds,
        server.peak_rss_kib() as f64 / 1024.0,
    )?;
    writeln!(
        out,
        "| operation | requests | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | SQL/req |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for m in &rows {
        writeln!(
            out,
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} |",
            m.label,
            m.requests,
            m.requests as f64 / m.seconds,
            percentile(&m.ms, 0.5),
            percentile(&m.ms, 0.95),
            percentile(&m.ms, 0.99),
            m.cpu_ms,
            m.statements,
        )?;
    }
    Ok(out)
}
