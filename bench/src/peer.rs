//! Scenario `peer`: Reunify beside PostGraphile 5 on one seeded PostgreSQL database — the answer
//! to "why not put PostGraphile on our database?". The peer (pinned in `bench/peer/package.json`)
//! runs twice: as the database's owner (a superuser: no row-level security, no auth, no audit — its
//! best case) and as `reunify_app` with the tenant set through its `pgSettings` (like for like).
//! Before any load, both are asked for the same records as Reunify and must return the same rows,
//! list by list. Then each operation is driven on each server in turn, for a number of rounds whose
//! order alternates, by the same load generator; the table gives requests/s, latency, each server's
//! and the database's CPU per request, and Reunify's ratio to each peer.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::insight::{Prepared, prepare, token};
use crate::reference::{CASE_DETAIL, Load, Measured, PAGE, Target, drive};
use crate::{percentile, process_cpu_seconds};

#[derive(clap::Args)]
pub struct PeerArgs {
    /// Local authorities seeded.
    #[arg(long, default_value_t = 1)]
    las: usize,
    /// Cases per LA.
    #[arg(long, default_value_t = 500)]
    cases: usize,
    /// Concurrent clients (closed loop).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds each operation is driven for, on each server, in each round.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Rounds; odd rounds run the servers in the reverse order.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Cases whose detail is compared between the servers before the load.
    #[arg(long, default_value_t = 25)]
    checked: usize,
    /// An empty PostgreSQL database (the schema owner's URL, a superuser's; it is migrated and
    /// seeded, and the peer's best case connects with it).
    #[arg(long)]
    database_url: String,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// The peer's folder (`npm ci` installs it there).
    #[arg(long, default_value = "bench/peer")]
    peer: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `case(id)` asked of PostGraphile: the same records, its field names aliased to Reunify's. The
/// child's external identifiers are left out (they belong to their owner by kind and id, which
/// PostGraphile cannot follow); every agreement version is read (Reunify reads them all as well,
/// and picks the current one).
const PEER_CASE: &str = "query($id: BigInt!) { case: reunificationCaseByRowId(rowId: $id) {
    rowId stage status attemptNumber openedOn team version
    child: childByChildId { rowId laChildId dateOfBirth
        householdMembers: householdMembersByChildId { nodes { relationship label } }
        episodes: careEpisodesByChildId { nodes { startedOn legalStatus placementType } } }
    episode: careEpisodeByEpisodeId { startedOn legalStatus }
    allocatedWorker: actorByWorkerId { rowId }
    stages: stageProgressesByCaseId { nodes { stage enteredOn completedOn } }
    checklist: checklistItemsByCaseId { nodes { key completedOn } }
    decisions: decisionsByCaseId { nodes { kind outcome decidedOn approvalStatus } }
    riskClassifications: riskClassificationsByCaseId { nodes { kind level classifiedOn } }
    factors: assessmentFactorsByCaseId { nodes { rowId } }
    childViews: childViewsByCaseId { nodes { rowId } }
    agreements: parentalAgreementsByCaseId { nodes { status
        parties: agreementPartiesByAgreementId { nodes { rowId } }
        goals: goalsByAgreementId { nodes { description status targetDate latestRating
            reviews: goalReviewsByGoalId { nodes { rating reviewedOn } } } } } }
    services: supportServicesByCaseId { nodes { serviceType status startsOn } }
    visits: visitsByCaseId(first: 10, orderBy: PRIMARY_KEY_ASC) { nodes { visitedOn childSeen } }
    reviews: reviewsByCaseId { nodes { rowId } }
    outcome: outcomesByCaseId { nodes { returnType closureReason } } } }";

/// The page of cases asked of PostGraphile (the LA's, as the superuser sees every LA's).
const PEER_PAGE: &str = "query($n: Int!, $la: BigInt!) { cases: allReunificationCases(first: $n,
    orderBy: PRIMARY_KEY_ASC, condition: { laId: $la }) { totalCount nodes {
    rowId stage status team
    riskClassifications: riskClassificationsByCaseId { nodes { kind level } }
    agreements: parentalAgreementsByCaseId { nodes { status
        goals: goalsByAgreementId { nodes { description status latestRating } } } } } } }";

/// PostGraphile under test, killed when dropped.
struct Peer {
    child: Child,
    base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts the peer over `database_url`; with `tenant`, as `reunify_app` bound to that LA.
    async fn start(dir: &Path, database_url: &str, tenant: Option<i64>) -> anyhow::Result<Peer> {
        let cli = dir.join("node_modules/postgraphile/dist/cli-run.js");
        if !cli.exists() {
            bail!(
                "PostGraphile is not installed: run `npm ci` in {}",
                dir.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new("node");
        command
            .current_dir(dir)
            .args([
                "node_modules/postgraphile/dist/cli-run.js",
                "-C",
                "graphile.config.mjs",
            ])
            // PostGraphile 5 wants Node 22's `Promise.withResolvers`.
            .env("NODE_OPTIONS", "--require ./polyfill.cjs")
            .env("GRAPHILE_ENV", "production")
            .env("PEER_DATABASE_URL", database_url)
            .env("PEER_PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(la) = tenant {
            command
                .env("PEER_ROLE", "reunify_app")
                .env("PEER_LA_ID", la.to_string());
        }
        let peer = Peer {
            child: command.spawn().context("cannot start node")?,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        for _ in 0..600 {
            let answer = http
                .post(peer.graphql_url())
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(peer);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("PostGraphile did not start")
    }
}

impl Target for Peer {
    fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }
    fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(self.child.id())
    }
    async fn statements(&self) -> Option<f64> {
        None
    }
}

/// The answer's `data`, or why there is none.
async fn ask(
    http: &reqwest::Client,
    target: &impl Target,
    token: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let answer: Value = http
        .post(target.graphql_url())
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await?;
    if answer.get("errors").is_some() || answer["data"].is_null() {
        bail!("{} answered {answer}", target.graphql_url());
    }
    Ok(answer["data"].clone())
}

/// A server's answer made comparable: a connection's `nodes` become the list, global IDs and
/// PostGraphile's bigint strings row ids (`rowId`), a risk level's rank its name, a case's agreements the current one (Reunify's rule: the version in force,
/// else the draft), its checklist one list, an outcome list its one row, and every list sorted.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("id", Value::String(id)) => {
                        let row =
                            api::ids::decode(&id).map_or(Value::String(id), |(_, n)| json!(n));
                        out.insert("rowId".into(), row);
                    }
                    // PostGraphile sends a bigint as a string.
                    ("rowId", Value::String(n)) if n.parse::<i64>().is_ok() => {
                        out.insert(k, json!(n.parse::<i64>().unwrap_or_default()));
                    }
                    // A risk level is stored as its rank.
                    ("level", Value::Number(n)) => {
                        let level = n
                            .as_i64()
                            .and_then(|n| i32::try_from(n).ok())
                            .and_then(api::domain::RiskLevel::from_rank);
                        out.insert(k, json!(level.map(screaming)));
                    }
                    (_, v) => {
                        out.insert(k, canonical(v));
                    }
                }
            }
            if out.len() == 1
                && let Some(nodes) = out.remove("nodes")
            {
                return nodes;
            }
            // Reunify's checklists hang under their stages.
            if let Some(Value::Array(stages)) = out.get_mut("stages") {
                let mut items = Vec::new();
                for stage in stages.iter_mut() {
                    if let Some(Value::Array(list)) =
                        stage.as_object_mut().and_then(|s| s.remove("checklist"))
                    {
                        items.extend(list);
                    }
                }
                if !items.is_empty() {
                    out.insert("checklist".into(), sorted(items));
                }
            }
            if let Some(Value::Array(versions)) = out.remove("agreements") {
                let pick = |status: &str| versions.iter().rev().find(|a| a["status"] == status);
                let mut current = pick("ACTIVE").or_else(|| pick("DRAFT")).cloned();
                // A page asks only for the current agreement's goals.
                if !out.contains_key("child") {
                    let goals = current
                        .as_mut()
                        .and_then(|a| a.get_mut("goals"))
                        .map(Value::take);
                    out.insert("goals".into(), goals.unwrap_or_else(|| json!([])));
                } else {
                    out.insert("agreement".into(), current.unwrap_or(Value::Null));
                }
            }
            if let Some(Value::Array(rows)) = out.get("outcome") {
                let one = rows.first().cloned().unwrap_or(Value::Null);
                out.insert("outcome".into(), one);
            }
            Value::Object(out)
        }
        Value::Array(items) => sorted(items.into_iter().map(canonical).collect()),
        v => v,
    }
}

/// A variant's GraphQL name: `VeryHigh` → `VERY_HIGH`.
fn screaming(variant: impl std::fmt::Debug) -> String {
    let mut out = String::new();
    for (i, c) in format!("{variant:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn sorted(mut items: Vec<Value>) -> Value {
    items.sort_by_key(|v| v.to_string());
    Value::Array(items)
}

/// `reunify` cut to the fields `peer` has (the peer is asked for fewer): what both answered.
fn project(reunify: &Value, peer: &Value) -> Value {
    match (reunify, peer) {
        (Value::Object(r), Value::Object(p)) => Value::Object(
            p.keys()
                .map(|k| (k.clone(), project(r.get(k).unwrap_or(&Value::Null), &p[k])))
                .collect(),
        ),
        (Value::Array(r), Value::Array(p)) => {
            let shape = p.iter().fold(Value::Null, merged);
            sorted(r.iter().map(|v| project(v, &shape)).collect())
        }
        (r, _) => r.clone(),
    }
}

/// The fields of `a` and `b` together (the shape of a list's elements, some of whose own lists
/// are empty).
fn merged(a: Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let mine = a.remove(k).unwrap_or(Value::Null);
                a.insert(k.clone(), merged(mine, v));
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => {
            let items = a.iter().chain(b);
            Value::Array(vec![items.fold(Value::Null, merged)])
        }
        (Value::Null, b) => b.clone(),
        (a, _) => a,
    }
}

/// Fails unless the two answers hold the same rows.
fn same_rows(what: &str, reunify: Value, peer: Value) -> anyhow::Result<()> {
    let peer = canonical(peer);
    let reunify = project(&canonical(reunify), &peer);
    if reunify != peer {
        bail!("{what}: the servers disagree\nReunify:     {reunify}\nPostGraphile: {peer}");
    }
    Ok(())
}

pub async fn run(args: PeerArgs) -> anyhow::Result<String> {
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
        &[],
    )
    .await?;
    let code = codes.last().context("no LA seeded")?.clone();
    let la = crate::reference::la_id(&db, &code).await?;
    let rows = crate::reference::row_ids(&db, la).await?;
    let worker = token(&key, &code, "team_manager")?;
    let best = Peer::start(&args.peer, &args.database_url, None).await?;
    let bound = Peer::start(&args.peer, &args.database_url, Some(la)).await?;
    let http = reqwest::Client::new();

    // The same rows from every server, before any load.
    let global = |id: i64| api::ids::CaseId(id).to_global().to_string();
    let step = (rows.len() / args.checked.max(1)).max(1);
    let mut checked = 0;
    for &id in rows.iter().step_by(step).take(args.checked) {
        let ours = ask(
            &http,
            &server,
            &worker,
            CASE_DETAIL,
            json!({ "id": global(id) }),
        )
        .await?;
        for peer in [&best, &bound] {
            let theirs = ask(&http, peer, &worker, PEER_CASE, json!({ "id": id })).await?;
            same_rows(
                &format!("case {id}"),
                ours["case"].clone(),
                theirs["case"].clone(),
            )?;
        }
        checked += 1;
    }
    let ours = ask(&http, &server, &worker, PAGE, json!({ "n": 50 })).await?;
    for peer in [&best, &bound] {
        let theirs = ask(
            &http,
            peer,
            &worker,
            PEER_PAGE,
            json!({ "n": 50, "la": la }),
        )
        .await?;
        same_rows(
            "the page of 50",
            ours["cases"].clone(),
            theirs["cases"].clone(),
        )?;
    }

    let pick = {
        let rows = rows.clone();
        move |i: usize| rows[i.wrapping_mul(7919) % rows.len()]
    };
    let pick_too = pick.clone();
    type Body = std::sync::Arc<dyn Fn(usize) -> Value + Send + Sync>;
    let operations: Vec<(&str, Body, Body)> = vec![
        (
            "`case(id)`, full detail",
            std::sync::Arc::new(
                move |i| json!({ "query": CASE_DETAIL, "variables": { "id": global(pick(i)) } }),
            ),
            std::sync::Arc::new(
                move |i| json!({ "query": PEER_CASE, "variables": { "id": pick_too(i) } }),
            ),
        ),
        (
            "a page of 50 cases",
            std::sync::Arc::new(|_| json!({ "query": PAGE, "variables": { "n": 50 } })),
            std::sync::Arc::new(
                move |_| json!({ "query": PEER_PAGE, "variables": { "n": 50, "la": la } }),
            ),
        ),
        (
            "`{ __typename }` with a token",
            std::sync::Arc::new(|_| json!({ "query": "{ __typename }" })),
            std::sync::Arc::new(|_| json!({ "query": "{ __typename }" })),
        ),
    ];
    let closed = Load::Closed(args.concurrency);
    let s = args.seconds;
    // Per operation: each round's (Reunify, best, bound).
    let mut results: Vec<Vec<[Measured; 3]>> = Vec::new();
    for (label, ours, theirs) in &operations {
        let mut rounds = Vec::new();
        for round in 0..args.rounds {
            let mut r = None;
            let mut g = None;
            let mut b = None;
            // Odd rounds in the reverse order.
            let order: [usize; 3] = if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
            for which in order {
                let (ours, theirs) = (ours.clone(), theirs.clone());
                match which {
                    0 => {
                        r = Some(
                            drive(&http, &server, &worker, label, closed, s, move |i| ours(i))
                                .await?,
                        )
                    }
                    1 => {
                        g = Some(
                            drive(&http, &best, &worker, label, closed, s, move |i| theirs(i))
                                .await?,
                        )
                    }
                    _ => {
                        b = Some(
                            drive(&http, &bound, &worker, label, closed, s, move |i| theirs(i))
                                .await?,
                        )
                    }
                }
            }
            if let (Some(r), Some(g), Some(b)) = (r, g, b) {
                rounds.push([r, g, b]);
            }
        }
        results.push(rounds);
    }

    let mut out = String::new();
    writeln!(
        out,
        "# Reunify beside PostGraphile: {} LA(s) × {} cases (PostgreSQL)\n\n\
         Reunify `{}` as it runs in production (row-level security, a token, every read audited); \
         PostGraphile 5.1.5, amber preset, as the database's owner (a superuser: no row-level \
         security, no auth, no audit) and as `reunify_app` with the tenant set through `pgSettings` \
         (row-level security, no audit). Before the load, {checked} cases' full detail and the page \
         of 50 returned the same rows from all three, list by list. {} clients, closed loop, {:.0} s \
         per operation per server; {} rounds, odd rounds in the reverse order. Servers, database and \
         load generator share this machine's {} CPUs; database CPU is every PostgreSQL process's.\n",
        codes.len(),
        args.cases,
        args.binary.display(),
        args.concurrency,
        s,
        args.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    )?;
    writeln!(
        out,
        "| operation | round | server | req/s | p50 ms | p99 ms | server CPU ms/req | database CPU ms/req | Reunify ÷ this, req/s |\n\
         |---|---:|---|---:|---:|---:|---:|---:|---:|"
    )?;
    let names = [
        "Reunify",
        "PostGraphile, superuser",
        "PostGraphile, RLS-bound",
    ];
    for ((label, ..), rounds) in operations.iter().zip(&results) {
        for (round, three) in rounds.iter().enumerate() {
            let ours = three[0].rate();
            for (name, m) in names.iter().zip(three) {
                writeln!(
                    out,
                    "| {label} | {} | {name} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {} |",
                    round + 1,
                    m.rate(),
                    percentile(&m.ms, 0.5),
                    percentile(&m.ms, 0.99),
                    m.cpu_ms,
                    m.db_cpu_ms,
                    if std::ptr::eq(m, &three[0]) {
                        "—".to_owned()
                    } else {
                        format!("{:.2}", ours / m.rate())
                    },
                )?;
            }
        }
    }
    writeln!(
        out,
        "\n## Ratios (Reunify ÷ PostGraphile, requests/s; median of the rounds)\n\n\
         | operation | ÷ superuser | ÷ RLS-bound |\n|---|---:|---:|"
    )?;
    for ((label, ..), rounds) in operations.iter().zip(&results) {
        let ratio = |peer: usize| {
            let mut r: Vec<f64> = rounds
                .iter()
                .map(|t| t[0].rate() / t[peer].rate())
                .collect();
            r.sort_by(f64::total_cmp);
            median(&r)
        };
        writeln!(out, "| {label} | {:.2} | {:.2} |", ratio(1), ratio(2))?;
    }
    Ok(out)
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
