//! `reunify-bench`: starts the release `reunify` binary on a fresh database (its own process, so
//! its CPU and memory are its own), drives it, and writes a results table.
//!
//! Scenario `live` (live updates): N open `caseEvents` subscriptions, W writers making case
//! changes; reports events per second end to end, commit-to-subscriber latency (the event's
//! `occurredAt`, stamped just before commit, to its arrival at each subscriber), mutation latency,
//! and server memory per idle subscription.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

mod import;
mod insight;
mod peer;
mod reference;

#[derive(Parser)]
#[command(name = "reunify-bench", about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Live updates: subscriptions, fan-out and delivery latency.
    Live(LiveArgs),
    /// Aggregates and worklists over a seeded PostgreSQL database of many LAs.
    Insight(insight::InsightArgs),
    /// Bulk import: a JSON Lines load of N records, the same again, and 500-record mutations.
    Import(import::ImportArgs),
    /// The reference read operations, closed loop, on a seeded PostgreSQL database.
    Reference(reference::ReferenceArgs),
    /// Reunify beside PostGraphile 5 on one seeded PostgreSQL database: the same rows, side by side.
    Peer(peer::PeerArgs),
}

#[derive(clap::Args)]
struct LiveArgs {
    /// Open subscriptions (one WebSocket each).
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Case changes to make (each is one event).
    #[arg(long, default_value_t = 300)]
    events: usize,
    /// Concurrent writers (each changes its own case).
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Database URL; a fresh SQLite file when omitted (a PostgreSQL database must be empty).
    #[arg(long)]
    database_url: Option<String>,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The server under test, killed when dropped.
struct Server {
    child: Child,
    base: String,
    env: Vec<(String, String)>,
    binary: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(
        binary: PathBuf,
        database_url: String,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let env: Vec<(String, String)> = [
            ("REUNIFY_DATABASE_URL", database_url.as_str()),
            ("REUNIFY_LISTEN", &format!("127.0.0.1:{port}")),
            ("REUNIFY_RATE_LIMIT_PER_MINUTE", "100000000"),
            ("REUNIFY_RATE_LIMIT_BURST", "10000000"),
            ("REUNIFY_DATABASE_POOL_SIZE", "16"),
            ("REUNIFY_WEBHOOK_DISPATCH", "false"),
            ("RUST_LOG", "warn"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let child = Command::new(&binary)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} (build it first)", binary.display()))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            env,
            binary,
        };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not become ready")
    }

    fn token(&self, role: &str) -> anyhow::Result<String> {
        let out = Command::new(&self.binary)
            .envs(self.env.iter().cloned())
            .args(["token", "--la", "999", "--role", role])
            .output()?;
        if !out.status.success() {
            bail!("reunify token failed");
        }
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// Peak resident memory of the server process, in KiB.
    fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// CPU time the server process has used, in seconds (user + system).
    fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(self.child.id())
    }

    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    async fn graphql(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if body.get("errors").is_some() {
            bail!("GraphQL errors: {body}");
        }
        Ok(body["data"].clone())
    }
}

/// CPU time the whole machine has spent busy (not idle or waiting for I/O), in seconds.
fn machine_busy_seconds() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let ticks: Vec<f64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|t| t.parse().ok())
                .collect();
            let idle = ticks.get(3)? + ticks.get(4)?;
            Some((ticks.iter().sum::<f64>() - idle) / 100.0)
        })
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// A WebSocket to the server at `base`, initialised with `token`, with one subscription (`payload`,
/// id `1`) sent.
async fn subscribe(
    base: &str,
    token: &str,
    payload: Value,
) -> anyhow::Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
> {
    let url = format!("{}/graphql", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({ "type": "connection_init", "payload": { "token": token } }),
    ))
    .await?;
    ws.send(send(
        json!({ "type": "subscribe", "id": "1", "payload": payload }),
    ))
    .await?;
    Ok(ws)
}

/// Opens a `caseEvents` subscription (one WebSocket) after event position `after` and collects
/// the commit → arrival latency of the next `expect` events. `ready` hears of it once the server
/// has acknowledged the connection.
async fn subscriber(
    base: String,
    token: String,
    ready: tokio::sync::mpsc::Sender<()>,
    expect: usize,
    after: String,
) -> anyhow::Result<(Vec<f64>, Instant)> {
    let mut ws = subscribe(
        &base,
        &token,
        json!({
            "query": "subscription($after: ID) { caseEvents(after: $after) { position occurredAt } }",
            "variables": { "after": after },
        }),
    )
    .await?;
    let mut acked = false;
    let mut latencies = Vec::with_capacity(expect);
    let mut last = Instant::now();
    while latencies.len() < expect {
        let Some(frame) = ws.next().await else {
            bail!("the server closed a subscription");
        };
        let Message::Text(text) = frame? else {
            continue;
        };
        let m: Value = serde_json::from_str(text.as_str())?;
        match m["type"].as_str() {
            Some("connection_ack") if !acked => {
                acked = true;
                let _ = ready.send(()).await;
            }
            Some("next") => {
                let at = m["payload"]["data"]["caseEvents"]["occurredAt"]
                    .as_str()
                    .unwrap_or_default();
                let at = chrono::DateTime::parse_from_rfc3339(at)?;
                let ms = (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
                    .num_microseconds()
                    .unwrap_or(0) as f64
                    / 1000.0;
                latencies.push(ms);
                last = Instant::now();
            }
            Some("error") => bail!("subscription error: {m}"),
            _ => {}
        }
    }
    Ok((latencies, last))
}

/// The database to run on: `given`, or a fresh SQLite file in `dir`; and its name for tables.
fn database(given: Option<String>, dir: &tempfile::TempDir) -> (String, &'static str) {
    let url = given.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    (url, backend)
}

/// What [`fan_out`] measured.
pub(crate) struct FanOut {
    /// Server memory before the subscriptions opened, and with them open and idle, in KiB.
    pub rss_before: u64,
    pub rss_idle: u64,
    /// Latency of each writer's mutations, sorted (ms).
    pub mutation_ms: Vec<f64>,
    /// Commit → subscriber latency of every (event, subscriber) pair, sorted (ms).
    pub delivery_ms: Vec<f64>,
    /// From the first write to the last write answered, and to the last delivery.
    pub writes: Duration,
    pub end_to_end: Duration,
}

/// The LA's newest event position: a probe subscription hears the event of one warm-up change.
async fn start_position(server: &Server, token: &str, case: &str) -> anyhow::Result<String> {
    let payload = json!({ "query": "subscription { caseEvents { position } }" });
    let mut ws = subscribe(&server.base, token, payload).await?;
    // Once acknowledged, let the subscription take its place, then cause one event.
    let mut changed = false;
    let position = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(frame) = ws.next().await {
            let Message::Text(text) = frame? else {
                continue;
            };
            let m: Value = serde_json::from_str(text.as_str())?;
            match m["type"].as_str() {
                Some("connection_ack") if !changed => {
                    changed = true;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    server
                        .graphql(
                            token,
                            "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { userErrors { code } } }",
                            json!({ "i": { "caseId": case, "team": format!("Team warm-up {}", std::process::id()) } }),
                        )
                        .await?;
                }
                Some("next") => {
                    let position = m["payload"]["data"]["caseEvents"]["position"]
                        .as_str()
                        .context("an event without its position")?;
                    return Ok::<_, anyhow::Error>(position.to_owned());
                }
                Some("error") => bail!("probe subscription error: {m}"),
                _ => {}
            }
        }
        bail!("the server closed the probe subscription")
    })
    .await
    .context("the probe subscription heard no event within a minute")??;
    let _ = ws.close(None).await;
    Ok(position)
}

/// Opens `subscribers` `caseEvents` subscriptions (one WebSocket each) with `token`, lets them go
/// idle, then has `writers` clients make `events` case changes (`caseAssign`, each writer on a
/// case of its own from `cases`) and waits until every subscriber has received every event.
pub(crate) async fn fan_out(
    server: Arc<Server>,
    token: &str,
    cases: &[String],
    subscribers: usize,
    events: usize,
    writers: usize,
) -> anyhow::Result<FanOut> {
    if cases.len() < writers {
        bail!("{} cases; use at most that many writers", cases.len());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = start_position(&server, token, &cases[0]).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib();

    // Open the subscriptions, each after that position: however late the server takes a
    // subscription's starting position, it hears every event the writers cause.
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers.max(1));
    let mut subs = Vec::new();
    for _ in 0..subscribers {
        subs.push(tokio::spawn(subscriber(
            server.base.clone(),
            token.to_owned(),
            ready_tx.clone(),
            events,
            after.clone(),
        )));
    }
    for _ in 0..subscribers {
        ready_rx
            .recv()
            .await
            .context("a subscriber failed to connect")?;
    }
    // Let every subscription take its starting position and go idle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = server.rss_kib();

    // The writers: each changes its own case, one event per mutation.
    let start = Instant::now();
    let per_writer = events.div_ceil(writers);
    let mut tasks = Vec::new();
    let mut left = events;
    for (w, case) in cases.iter().take(writers).enumerate() {
        let n = per_writer.min(left);
        left -= n;
        let (server, token, case) = (server.clone(), token.to_owned(), case.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            for i in 0..n {
                let t = Instant::now();
                server
                    .graphql(
                        &token,
                        "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { userErrors { code } } }",
                        json!({ "i": { "caseId": case, "team": format!("Team {w}-{i}") } }),
                    )
                    .await?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut mutation_ms = Vec::new();
    for w in tasks {
        mutation_ms.extend(w.await??);
    }
    let writes = start.elapsed();
    let mut delivery_ms = Vec::new();
    let mut last_arrival = start;
    for s in subs {
        let (l, at) = tokio::time::timeout(Duration::from_secs(300), s)
            .await
            .context("subscribers did not receive every event within 5 minutes")???;
        delivery_ms.extend(l);
        last_arrival = last_arrival.max(at);
    }
    mutation_ms.sort_by(f64::total_cmp);
    delivery_ms.sort_by(f64::total_cmp);
    Ok(FanOut {
        rss_before,
        rss_idle,
        mutation_ms,
        delivery_ms,
        writes,
        end_to_end: last_arrival.duration_since(start),
    })
}

async fn live(args: LiveArgs) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let (url, backend) = database(args.database_url.clone(), &dir);
    let server = Server::start(args.binary.clone(), url, &[]).await?;
    let token = server.token("social_worker")?;
    let cases: Vec<String> = server
        .graphql(&token, "{ cases(first: 50) { nodes { id } } }", json!({}))
        .await?["cases"]["nodes"]
        .as_array()
        .context("no cases")?
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    let f = fan_out(
        Arc::new(server),
        &token,
        &cases,
        args.subscribers,
        args.events,
        args.writers,
    )
    .await?;
    let per_sub_kib = (f.rss_idle.saturating_sub(f.rss_before)) as f64 / args.subscribers as f64;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let table = format!(
        "| measure | value |\n|---|---|\n\
         | database | {backend} |\n\
         | machine | {cpus} CPUs (server and load generator share them) |\n\
         | open subscriptions | {subs} (one WebSocket each) |\n\
         | events (case changes) | {events} by {writers} writers |\n\
         | mutations/s (while {subs} subscriptions listen) | {mps:.0} |\n\
         | mutation latency p50 / p99 | {m50:.1} ms / {m99:.1} ms |\n\
         | events/s end to end (first write to last delivery) | {eps:.0} |\n\
         | deliveries/s (events × subscribers) | {dps:.0} |\n\
         | commit → subscriber latency p50 / p99 / max | {d50:.1} ms / {d99:.1} ms / {dmax:.1} ms |\n\
         | server memory before subscriptions / with them idle | {rb:.1} MiB / {ri:.1} MiB |\n\
         | memory per idle subscription | {per_sub_kib:.1} KiB |\n",
        subs = args.subscribers,
        events = args.events,
        writers = args.writers,
        mps = args.events as f64 / f.writes.as_secs_f64(),
        m50 = percentile(&f.mutation_ms, 0.5),
        m99 = percentile(&f.mutation_ms, 0.99),
        eps = args.events as f64 / f.end_to_end.as_secs_f64(),
        dps = (args.events * args.subscribers) as f64 / f.end_to_end.as_secs_f64(),
        d50 = percentile(&f.delivery_ms, 0.5),
        d99 = percentile(&f.delivery_ms, 0.99),
        dmax = f.delivery_ms.last().copied().unwrap_or(f64::NAN),
        rb = f.rss_before as f64 / 1024.0,
        ri = f.rss_idle as f64 / 1024.0,
    );
    Ok(table)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1,000 sockets need more descriptors than the usual 1,024 (the server inherits the limit).
    let _ = rlimit::increase_nofile_limit(65_536);
    let cli = Cli::parse();
    let (table, out) = match cli.scenario {
        Scenario::Live(args) => {
            let out = args.out.clone();
            (live(args).await?, out)
        }
        Scenario::Insight(args) => {
            let out = args.out.clone();
            (insight::run(args).await?, out)
        }
        Scenario::Import(args) => {
            let out = args.out.clone();
            (import::run(args).await?, out)
        }
        Scenario::Reference(args) => {
            let out = args.out.clone();
            (reference::run(args).await?, out)
        }
        Scenario::Peer(args) => {
            let out = args.out.clone();
            (peer::run(args).await?, out)
        }
    };
    print!("{table}");
    if let Some(path) = out {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, table)?;
    }
    Ok(())
}

/// CPU time a process has used, in seconds (user + system).
fn process_cpu_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}
