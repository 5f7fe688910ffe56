//! Scenario `reference`: the reference operations of the performance issue on a seeded PostgreSQL
//! or SQLite database: `case(id)` with its full detail, pages of 10 and 50 cases with stage,
//! latest classification and goals, an authenticated `{ __typename }` (no record), an LA's aggregate dashboard, a goal review, a decision and a
//! bulk import of 500 records — closed loop, and the reads also at a fixed arrival rate — and the
//! fan-out of case changes to 1,000 subscriptions. Per operation: requests/s, p50/p95/p99
//! latency, the server's and the database's CPU time per request, SQL statements per request
//! (from `/metrics`), and the server's memory.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use api::assessments::loaders::{ChildViewsOf, FactorsOf};
use api::children::loaders::{ChildKey, EpisodeKey};
use api::goals::loaders::AgreementsOf;
use api::loaders::{Keyed as _, batch_statements};
use api::outcomes::loaders::OutcomeOf;
use api::stages::loaders::{ClassificationsOf, DecisionsOf, StagesOf};
use api::support_plans::loaders::{ServicesOf, SupportPlanOf};
use api::visits::loaders::{ReviewsOf, VisitsOf};
use entities::reunification_case as case;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    QueryTrait as _,
};

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
    /// Requests per second of the fixed-arrival-rate `case(id)` run (open loop: each request is
    /// sent at its time whether or not earlier ones were answered; latency counts from that
    /// time). Default: 60% of the closed loop's rate; a page of 50 always runs at that.
    #[arg(long)]
    rate: Option<f64>,
    /// An empty PostgreSQL database (the schema owner's URL; it is migrated and seeded); a fresh
    /// SQLite file when omitted.
    #[arg(long)]
    database_url: Option<String>,
    /// Open subscriptions for the fan-out (one WebSocket each).
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Case changes made while they listen (each is one event to every subscriber).
    #[arg(long, default_value_t = 100)]
    events: usize,
    /// The server's database pool (`REUNIFY_DATABASE_POOL_SIZE`; the server's own default).
    #[arg(long, default_value_t = 10)]
    pool_size: u32,
    /// Ask for gzip-compressed responses (`Accept-Encoding: gzip`).
    #[arg(long)]
    gzip: bool,
    /// Run only the operations whose label contains this (`goalReview`, `page of 50`, ...);
    /// `--subscribers 0` skips the fan-out.
    #[arg(long)]
    only: Option<String>,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `case(id)` with everything a case page shows.
pub(crate) const CASE_DETAIL: &str = "query($id: ID!) { case(id: $id) {
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

/// A page of `$n` cases with stage, latest classification and goals.
pub(crate) const PAGE: &str = "query($n: Int!) { cases(first: $n) { totalCount nodes {
    id stage status riskLevel team
    riskClassifications { kind level agreed }
    goals { description status latestRating } } } }";

/// A goal review (a new review row, the goal's rating, the case's version, audit and event).
const GOAL_REVIEW: &str = "mutation($goal: ID!) { goalReview(input: { goalId: $goal, rating: AMBER,
    note: \"Synthetic review note.\", evidence: \"Synthetic evidence.\" }) {
    goal { id latestRating version } userErrors { code message } } }";

/// A decision: D1 deferred, which keeps a case in identification, so it can be repeated.
const DECISION: &str = "mutation($case: ID!) { decisionRecord(input: { caseId: $case, kind: D1,
    outcome: DEFERRED, rationale: \"Synthetic rationale.\" }) {
    decision { id } userErrors { code message } } }";

/// A bulk import of 500 records (2 children : 2 episodes : 1 case).
const BULK_IMPORT: &str = "mutation($input: BulkImportInput!) { bulkImport(input: $input) {
    created rejected userErrors { message } } }";

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

pub(crate) struct Measured {
    label: String,
    load: String,
    requests: usize,
    seconds: f64,
    pub(crate) ms: Vec<f64>,
    pub(crate) cpu_ms: f64,
    pub(crate) db_cpu_ms: f64,
    statements: f64,
}

impl Measured {
    /// Requests answered per second.
    pub(crate) fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// A GraphQL server a scenario drives: Reunify, or the peer beside it.
pub(crate) trait Target {
    /// Its GraphQL endpoint.
    fn graphql_url(&self) -> String;
    /// CPU time its process has used, in seconds.
    fn cpu_seconds(&self) -> f64;
    /// SQL statements it has run so far, where it counts them.
    async fn statements(&self) -> Option<f64>;
}

impl Target for Server {
    fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }
    fn cpu_seconds(&self) -> f64 {
        Server::cpu_seconds(self)
    }
    async fn statements(&self) -> Option<f64> {
        counter(self, "reunify_sql_statements_total").await.ok()
    }
}

/// How load is offered.
#[derive(Clone, Copy)]
pub(crate) enum Load {
    /// `n` clients, each sending its next request when the last is answered.
    Closed(usize),
    /// Requests sent at a fixed rate per second, answered or not; latency counts from the time
    /// each was due (so a stall is not hidden by requests that were never sent).
    Rate(f64),
}

impl std::fmt::Display for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Load::Closed(c) => write!(f, "closed loop, {c} clients"),
            Load::Rate(r) => write!(f, "fixed rate, {r:.0}/s"),
        }
    }
}

/// Drives one operation for `seconds` through `http`, each request built by `body(i)`.
pub(crate) async fn drive(
    http: &reqwest::Client,
    server: &impl Target,
    token: &str,
    label: &str,
    load: Load,
    seconds: f64,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> anyhow::Result<Measured> {
    let body = Arc::new(body);
    let url = server.graphql_url();
    // Warm up: a few, unmeasured (the measured requests are numbered after them).
    const WARM: usize = 4;
    for i in 0..WARM {
        send(http, &url, token, &body(i)).await?;
    }
    let statements = server.statements().await;
    // When each run starts, to line up with the database's log (checkpoints, autovacuum).
    eprintln!(
        "{} {label}, {load}",
        chrono::Utc::now().format("%H:%M:%S%.3f")
    );
    let (cpu, db_cpu) = (server.cpu_seconds(), database_cpu_seconds());
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    match load {
        Load::Closed(clients) => {
            for c in 0..clients {
                let (http, url, token, body) =
                    (http.clone(), url.clone(), token.to_owned(), body.clone());
                tasks.spawn(async move {
                    let mut ms = Vec::new();
                    let mut i = WARM + c;
                    while Instant::now() < until {
                        let t = Instant::now();
                        send(&http, &url, &token, &body(i)).await?;
                        ms.push(t.elapsed().as_secs_f64() * 1000.0);
                        i += clients;
                    }
                    Ok::<_, anyhow::Error>(ms)
                });
            }
        }
        Load::Rate(rate) => {
            let period = Duration::from_secs_f64(1.0 / rate);
            let mut due = tokio::time::Instant::from_std(started);
            let mut i = WARM;
            while due.into_std() < until {
                tokio::time::sleep_until(due).await;
                let (http, url, token, body) =
                    (http.clone(), url.clone(), token.to_owned(), body.clone());
                tasks.spawn(async move {
                    send(&http, &url, &token, &body(i)).await?;
                    Ok(vec![due.elapsed().as_secs_f64() * 1000.0])
                });
                due += period;
                i += 1;
            }
        }
    }
    let mut ms = Vec::new();
    while let Some(done) = tasks.join_next().await {
        ms.extend(done??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let per_request = |total: f64| total / ms.len().max(1) as f64;
    let cpu_ms = per_request((server.cpu_seconds() - cpu) * 1000.0);
    let db_cpu_ms = per_request((database_cpu_seconds() - db_cpu) * 1000.0);
    // The two scrapes' own statements (none: /metrics reads no table) are not subtracted.
    let statements = match (statements, server.statements().await) {
        (Some(before), Some(after)) => per_request(after - before),
        _ => f64::NAN,
    };
    ms.sort_by(f64::total_cmp);
    Ok(Measured {
        label: label.to_owned(),
        load: load.to_string(),
        requests: ms.len(),
        seconds: elapsed,
        ms,
        cpu_ms,
        db_cpu_ms,
        statements,
    })
}

/// CPU time (user + system) every PostgreSQL process on this machine has used, in seconds, with
/// that of backends that have exited (counted in the postmaster's children's time).
fn database_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| {
            let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
            if name != "postgres" {
                return None;
            }
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 = f
                .get(11..15)?
                .iter()
                .filter_map(|t| t.parse::<f64>().ok())
                .sum();
            Some(ticks / 100.0)
        })
        .sum()
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
    let refused = answer["data"].as_object().is_some_and(|fields| {
        fields.values().any(|payload| {
            payload["userErrors"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
                || payload["rejected"].as_u64().is_some_and(|r| r > 0)
        })
    });
    if answer.get("errors").is_some() || answer["data"].is_null() || refused {
        bail!("the server refused a request: {answer}");
    }
    Ok(())
}

/// The id of the LA with a DfE code.
pub(crate) async fn la_id(db: &sea_orm::DatabaseConnection, code: &str) -> anyhow::Result<i64> {
    Ok(db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM local_authority WHERE dfe_code = '{code}'"),
        ))
        .await?
        .context("the LA")?
        .try_get_by_index(0)?)
}

/// The row ids of the LA's cases, in order.
pub(crate) async fn row_ids(db: &sea_orm::DatabaseConnection, la: i64) -> anyhow::Result<Vec<i64>> {
    let sql = format!("SELECT id FROM reunification_case WHERE la_id = {la} ORDER BY id");
    let ids: Vec<i64> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .collect();
    if ids.is_empty() {
        bail!("the seeded data has no case");
    }
    Ok(ids)
}

/// Row ids of the LA's records a query finds, as global IDs of `global`.
async fn ids(
    db: &sea_orm::DatabaseConnection,
    sql: String,
    global: impl Fn(i64) -> String,
) -> anyhow::Result<Vec<String>> {
    let ids: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.clone(),
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .map(global)
        .collect();
    if ids.is_empty() {
        bail!("the seeded data has none of: {sql}");
    }
    Ok(ids)
}

pub async fn run(args: ReferenceArgs) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let (url, backend) = crate::database(args.database_url.clone(), &dir);
    let Prepared {
        db,
        codes,
        server,
        key,
        app_url,
        ..
    } = prepare(
        &url,
        args.las,
        args.cases,
        args.binary.clone(),
        false,
        &[("REUNIFY_DATABASE_POOL_SIZE", &args.pool_size.to_string())],
    )
    .await?;
    let http = reqwest::Client::builder().gzip(args.gzip).build()?;
    // The last LA: its rows come after every other LA's, so an index that does not lead with the
    // LA shows here as the data grows.
    let code = codes.last().context("no LA seeded")?.clone();
    let la = la_id(&db, &code).await?;
    let case = |id| api::ids::CaseId(id).to_global().to_string();
    let cases = row_ids(&db, la).await?.into_iter().map(case).collect();
    // Goals of current agreements on active cases past identification, not reviewed in future;
    // one per case (a review moves its case's version, so two at once on one case conflict).
    let goals = ids(
        &db,
        format!(
            "SELECT MIN(g.id) FROM goal g JOIN parental_agreement a ON a.id = g.agreement_id \
             JOIN reunification_case c ON c.id = g.case_id WHERE g.la_id = {la} \
             AND a.status <> 'SUPERSEDED' AND c.status = 'ACTIVE' AND c.stage <> 'IDENTIFICATION' \
             AND (g.latest_review_on IS NULL OR g.latest_review_on <= CURRENT_DATE) \
             GROUP BY g.case_id ORDER BY g.case_id"
        ),
        |id| api::ids::GoalId(id).to_global().to_string(),
    )
    .await?;
    let identifying = ids(
        &db,
        format!(
            "SELECT id FROM reunification_case WHERE la_id = {la} AND status = 'ACTIVE' \
             AND stage = 'IDENTIFICATION' ORDER BY id"
        ),
        case,
    )
    .await?;
    let plans = plans(&app_url, la, &db).await?;
    let server = Arc::new(server);
    // Active cases for the fan-out's writers (taken before the decisions change any).
    let writers: Vec<String> = identifying.iter().take(4).cloned().collect();
    let worker = token(&key, &code, "team_manager")?;
    let analyst = token(&key, &code, "data_analyst")?;
    let (s, closed) = (args.seconds, Load::Closed(args.concurrency));
    let pick = |ids: Vec<String>| move |i: usize| ids[i.wrapping_mul(7919) % ids.len()].clone();
    let case_detail = {
        let pick = pick(cases);
        move |i| json!({ "query": CASE_DETAIL, "variables": { "id": pick(i) } })
    };
    let page = |n: usize| move |_| json!({ "query": PAGE, "variables": { "n": n } });
    // Fan-out first, while the server is fresh, so its memory with the subscriptions open is not
    // mixed with what the other operations leave behind.
    let fan = if args.subscribers > 0 {
        Some(
            crate::fan_out(
                server.clone(),
                &worker,
                &writers,
                args.subscribers,
                args.events,
                writers.len(),
            )
            .await?,
        )
    } else {
        None
    };
    let wanted = |label: &str| args.only.as_deref().is_none_or(|o| label.contains(o));
    let mut rows = Vec::new();
    // Closed loop, then at a fixed rate: `--rate` for `case(id)` when given, else 60% of what the
    // closed loop reached (a busy but sustainable load), so the latency is not a queue's.
    let sustainable = |m: &Measured| Load::Rate((0.6 * m.requests as f64 / m.seconds).max(1.0));
    const CASE: &str = "`case(id)`, full detail";
    if wanted(CASE) {
        let looped = drive(
            &http,
            &*server,
            &worker,
            CASE,
            closed,
            s,
            case_detail.clone(),
        )
        .await?;
        let rate = args.rate.map_or_else(|| sustainable(&looped), Load::Rate);
        rows.push(looped);
        rows.push(drive(&http, &*server, &worker, CASE, rate, s, case_detail).await?);
    }
    const PAGE_50: &str = "a page of 50 cases";
    if wanted(PAGE_50) {
        let looped = drive(&http, &*server, &worker, PAGE_50, closed, s, page(50)).await?;
        let rate = sustainable(&looped);
        rows.push(looped);
        rows.push(drive(&http, &*server, &worker, PAGE_50, rate, s, page(50)).await?);
    }
    const PAGE_10: &str = "a page of 10 cases";
    if wanted(PAGE_10) {
        rows.push(drive(&http, &*server, &worker, PAGE_10, closed, s, page(10)).await?);
    }
    const TYPENAME: &str = "`{ __typename }` with a token (reads no record)";
    if wanted(TYPENAME) {
        let typename = |_| json!({ "query": "{ __typename }" });
        rows.push(drive(&http, &*server, &worker, TYPENAME, closed, s, typename).await?);
    }
    const DASHBOARD: &str = "aggregate dashboard (`insight`, every aggregate)";
    if wanted(DASHBOARD) {
        let every = |_| json!({ "query": EVERY_AGGREGATE, "variables": { "g": [] } });
        rows.push(drive(&http, &*server, &analyst, DASHBOARD, closed, s, every).await?);
    }
    // A mutation's client works on records of its own (request i of client c has i ≡ c modulo
    // the clients): two writes to one record at once would rightly be a CONFLICT for one of them.
    let own = |mut ids: Vec<String>| -> anyhow::Result<_> {
        ids.truncate(ids.len() - ids.len() % args.concurrency);
        if ids.is_empty() {
            bail!("fewer records to change than clients: seed more cases");
        }
        Ok(move |i: usize| ids[i % ids.len()].clone())
    };
    const REVIEW: &str = "goal review (`goalReview`)";
    if wanted(REVIEW) {
        let goal = own(goals)?;
        let review = move |i| json!({ "query": GOAL_REVIEW, "variables": { "goal": goal(i) } });
        rows.push(drive(&http, &*server, &worker, REVIEW, closed, s, review).await?);
    }
    const DECIDE: &str = "decision (`decisionRecord`, D1 deferred)";
    if wanted(DECIDE) {
        let case = own(identifying)?;
        let decide = move |i| json!({ "query": DECISION, "variables": { "case": case(i) } });
        rows.push(drive(&http, &*server, &worker, DECIDE, closed, s, decide).await?);
    }
    // Two clients at a time: each request is 500 records in one transaction. New records on every
    // run (a database seeded by an earlier run is reused), within the 20 characters of an LA child ID.
    const IMPORT: &str = "bulk import of 500 records (`bulkImport`)";
    if wanted(IMPORT) {
        let run = chrono::Utc::now().timestamp() % 1_000_000;
        let import = move |i| {
            let items: Vec<Value> = (0..500)
                .map(move |j| crate::import::record(&format!("B{run}x{i}x"), j))
                .collect();
            json!({ "query": BULK_IMPORT, "variables": { "input": { "items": items } } })
        };
        rows.push(drive(&http, &*server, &worker, IMPORT, Load::Closed(2), s, import).await?);
    }

    let postgres = backend == "PostgreSQL";
    let mut out = String::new();
    writeln!(
        out,
        "# reference: {} LA(s) × {} cases ({backend}, `{}`)\n\n\
         {:.0} s per operation; server, database and load generator share this machine's {} CPUs. \
         Server peak memory {:.0} MiB. {} Pool of {} \
         connections; responses {}.\n",
        codes.len(),
        args.cases,
        args.binary.display(),
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        server.peak_rss_kib() as f64 / 1024.0,
        if postgres {
            "Database CPU is every PostgreSQL process's."
        } else {
            "SQLite runs inside the server: its CPU is in the server's."
        },
        args.pool_size,
        if args.gzip {
            "gzip-compressed (`Accept-Encoding: gzip`)"
        } else {
            "uncompressed"
        },
    )?;
    writeln!(
        out,
        "| operation | load | requests | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | database CPU ms/req | SQL/req |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for m in &rows {
        writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.2} | {} | {:.1} |",
            m.label,
            m.load,
            m.requests,
            m.rate(),
            percentile(&m.ms, 0.5),
            percentile(&m.ms, 0.95),
            percentile(&m.ms, 0.99),
            m.cpu_ms,
            if postgres {
                format!("{:.2}", m.db_cpu_ms)
            } else {
                "—".to_owned()
            },
            m.statements,
        )?;
    }
    let (subs, events) = (args.subscribers, args.events);
    if let Some(fan) = &fan {
        writeln!(
            out,
            "\n## Subscription fan-out (run first, on the fresh server)\n\n\
         | measure | value |\n|---|---|\n\
         | open subscriptions (`caseEvents`, one WebSocket each) | {subs} |\n\
         | server memory before them / with them open and idle | {:.1} / {:.1} MiB |\n\
         | memory per idle subscription | {:.1} KiB |\n\
         | case changes while they listen (`caseAssign`, {} writers) | {events}: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms |\n\
         | deliveries/s (events × subscribers, first write to last delivery) | {:.0} |\n\
         | commit → subscriber latency p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
            fan.rss_before as f64 / 1024.0,
            fan.rss_idle as f64 / 1024.0,
            fan.rss_idle.saturating_sub(fan.rss_before) as f64 / subs.max(1) as f64,
            writers.len(),
            events as f64 / fan.writes.as_secs_f64(),
            percentile(&fan.mutation_ms, 0.5),
            percentile(&fan.mutation_ms, 0.99),
            (events * subs) as f64 / fan.end_to_end.as_secs_f64(),
            percentile(&fan.delivery_ms, 0.5),
            percentile(&fan.delivery_ms, 0.99),
            fan.delivery_ms.last().copied().unwrap_or(f64::NAN),
        )?;
    }
    out.push_str(&plans);
    Ok(out)
}

/// The plans of the reference reads' statements, as the server sends them (the loader's own
/// statement builder): on PostgreSQL `EXPLAIN (ANALYZE, BUFFERS)` run as the server's role with the
/// tenant set, so row-level security is in the plan; on SQLite `EXPLAIN QUERY PLAN`.
async fn plans(
    app_url: &str,
    la: i64,
    owner: &sea_orm::DatabaseConnection,
) -> anyhow::Result<String> {
    let backend = owner.get_database_backend();
    let postgres = backend == sea_orm::DbBackend::Postgres;
    // The LA's first case with an agreement (so most branches have rows).
    let row = owner
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            format!(
                "SELECT c.id, c.child_id, c.episode_id FROM reunification_case c \
                 WHERE c.la_id = {la} AND EXISTS (SELECT 1 FROM parental_agreement a \
                 WHERE a.case_id = c.id) ORDER BY c.id LIMIT 1"
            ),
        ))
        .await?
        .context("no case with an agreement")?;
    let (id, child, episode): (i64, i64, i64) = (
        row.try_get_by_index(0)?,
        row.try_get_by_index(1)?,
        row.try_get_by_index(2)?,
    );
    let page: Vec<i64> = case::Entity::find()
        .filter(case::Column::LaId.eq(la))
        .order_by_asc(case::Column::Id)
        .limit(50)
        .all(owner)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    let statements = [
        (
            "`case(id)`: the case",
            vec![
                case::Entity::find()
                    .filter(case::Column::LaId.eq(la))
                    .filter(case::Column::Id.is_in([id]))
                    .order_by_asc(case::Column::Id)
                    .build(backend),
            ],
        ),
        (
            "`case(id)`: everything under the case",
            batch_statements(
                backend,
                la,
                &[
                    ChildKey(child).part(),
                    EpisodeKey(episode).part(),
                    StagesOf(id).part(),
                    DecisionsOf(id).part(),
                    ClassificationsOf(id).part(),
                    FactorsOf(id).part(),
                    ChildViewsOf(id).part(),
                    AgreementsOf(id).part(),
                    ServicesOf(id).part(),
                    SupportPlanOf(id).part(),
                    VisitsOf(id).part(),
                    ReviewsOf(id).part(),
                    OutcomeOf(id).part(),
                ],
            ),
        ),
        (
            "a page of 50 cases: the page (keyset on id)",
            vec![
                case::Entity::find()
                    .filter(case::Column::LaId.eq(la))
                    .order_by_asc(case::Column::Id)
                    .limit(51)
                    .build(backend),
            ],
        ),
        ("a page of 50 cases: its total count", {
            // As sea-orm's `count` writes it.
            let all = case::Entity::find()
                .filter(case::Column::LaId.eq(la))
                .build(backend);
            vec![sea_orm::Statement {
                sql: format!(
                    "SELECT COUNT(*) AS num_items FROM ({}) AS sub_query",
                    all.sql
                ),
                ..all
            }]
        }),
        (
            "a page of 50 cases: classifications and agreements of the 50",
            batch_statements(
                backend,
                la,
                &page
                    .iter()
                    .flat_map(|c| [ClassificationsOf(*c).part(), AgreementsOf(*c).part()])
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    let mut out = if postgres {
        String::from(
            "\n## Query plans\n\nAs the server's role (row-level security applies), tenant set, \
             on the data as seeded, before the load; one statement per level of a query.\n",
        )
    } else {
        String::from(
            "\n## Query plans\n\n`EXPLAIN QUERY PLAN`, on the data as seeded, before the load; \
             one statement per table on SQLite.\n",
        )
    };
    let app = sea_orm::Database::connect(app_url).await?;
    // A read transaction (on SQLite a deferred one, so the server's writers never wait for it).
    let tx = api::db::begin_tenant_read(&app, la, Duration::from_secs(30)).await?;
    for (label, statements) in statements {
        let mut lines = Vec::new();
        for statement in statements {
            let explained = sea_orm::Statement {
                sql: if postgres {
                    format!("EXPLAIN (ANALYZE, BUFFERS) {}", statement.sql)
                } else {
                    format!("EXPLAIN QUERY PLAN {}", statement.sql)
                },
                ..statement
            };
            // PostgreSQL's plan is one text column; SQLite's detail is the fourth.
            let column = if postgres { 0 } else { 3 };
            lines.extend(
                tx.query_all_raw(explained)
                    .await?
                    .iter()
                    .filter_map(|r| r.try_get_by_index::<String>(column).ok()),
            );
        }
        writeln!(out, "\n### {label}\n\n```\n{}\n```", lines.join("\n"))?;
    }
    tx.rollback().await?;
    app.close().await?;
    Ok(out)
}
