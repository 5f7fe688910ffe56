//! Scenario `import`: an initial load of N synthetic records (2 children : 2 episodes : 1 case)
//! by `POST /imports` (JSON Lines), the same file again (every record unchanged, as a nightly
//! resync finds it), and `bulkImport` mutations of 500 records each.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::{Server, database, machine_busy_seconds, percentile};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Records in the JSON Lines upload.
    #[arg(long, default_value_t = 20_000)]
    records: usize,
    /// `bulkImport` mutations of 500 records to time after the upload.
    #[arg(long, default_value_t = 10)]
    mutations: usize,
    /// Database URL; a fresh SQLite file when omitted (a PostgreSQL database must be empty).
    #[arg(long)]
    database_url: Option<String>,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn day(n: usize) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n as i64))
        .format("%Y-%m-%d")
        .to_string()
}

/// Record `i` of the synthetic load, tagged `tag` (so later loads are new records): child `i/5*2`
/// and `+1`, their episodes, and a case for the first. Synthetic values only.
pub(crate) fn record(tag: &str, i: usize) -> Value {
    let family = i / 5;
    let ext =
        |kind: &str, n: usize| json!({ "system": "BENCH", "value": format!("{tag}{kind}{n}") });
    match i % 5 {
        0 | 1 => {
            let n = family * 2 + i % 5;
            json!({ "child": {
                "externalId": ext("C", n), "laChildId": format!("{tag}{n}"),
                "dateOfBirth": day(1000 + n % 4000), "sex": (["M", "F"][n % 2]), "ethnicity": "WBRI",
                "nhsNumber": "9990000018"
            } })
        }
        2 | 3 => {
            let n = family * 2 + i % 5 - 2;
            json!({ "episode": {
                "externalId": ext("E", n), "childExternalId": ext("C", n),
                "startedOn": day(300 + n % 500), "legalStatus": (["C2", "V2"][n % 2]),
                "categoryOfNeed": "N1", "placementType": "U4"
            } })
        }
        _ => {
            let n = family * 2;
            json!({ "case": {
                "externalId": ext("K", n), "childExternalId": ext("C", n),
                "episodeExternalId": ext("E", n), "team": (["North", "South"][n % 2]),
                "openedOn": day(200)
            } })
        }
    }
}

async fn upload(server: &Server, token: &str, body: &str) -> anyhow::Result<(f64, Value)> {
    let started = Instant::now();
    let resp = reqwest::Client::new()
        .post(format!("{}/imports", server.base))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(body.to_owned())
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("upload refused: {} {}", resp.status(), resp.text().await?);
    }
    let text = resp.text().await?;
    let seconds = started.elapsed().as_secs_f64();
    let summary: Value = serde_json::from_str(text.lines().last().context("empty answer")?)?;
    Ok((seconds, summary["summary"].clone()))
}

pub async fn run(args: ImportArgs) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let (url, backend) = database(args.database_url.clone(), &dir);
    let server = Server::start(args.binary.clone(), url, &[]).await?;
    let token = server.token("social_worker")?;
    let body: String = (0..args.records)
        .map(|i| format!("{}\n", record("L", i)))
        .collect();

    let (cpu, busy) = (server.cpu_seconds(), machine_busy_seconds());
    let (first, summary) = upload(&server, &token, &body).await?;
    let server_cpu = server.cpu_seconds() - cpu;
    let others_cpu = machine_busy_seconds() - busy - server_cpu;
    let cpu_split = if backend == "SQLite" {
        format!("the server, SQLite inside it | {server_cpu:.1} s")
    } else {
        format!(
            "the server / everything else (the database, the load generator) | \
             {server_cpu:.1} s / {:.1} s",
            others_cpu.max(0.0)
        )
    };
    if summary["created"] != args.records || summary["rejected"] != 0 {
        bail!("the load did not create every record: {summary}");
    }
    let (again, summary) = upload(&server, &token, &body).await?;
    if summary["unchanged"] != args.records {
        bail!("the resync changed records: {summary}");
    }

    let mut latencies = Vec::new();
    let mutation = "mutation($input: BulkImportInput!) { bulkImport(input: $input) { created rejected userErrors { message } } }";
    for m in 0..args.mutations {
        let items: Vec<Value> = (0..500).map(|i| record(&format!("M{m}x"), i)).collect();
        let started = Instant::now();
        let data = server
            .graphql(&token, mutation, json!({ "input": { "items": items } }))
            .await?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        if data["bulkImport"]["created"] != 500 {
            bail!("a bulkImport did not create its 500 records: {data}");
        }
    }
    latencies.sort_by(f64::total_cmp);
    let median = percentile(&latencies, 0.5);

    let n = args.records as f64;
    Ok(format!(
        "| Import ({backend}, release, 2 CPUs shared with the load generator) | Value |\n\
         |---|---|\n\
         | `POST /imports`: {} records (2 children : 2 episodes : 1 case), all created | {:.1} s ({:.0} records/s) |\n\
         | CPU during that load: {} |\n\
         | The same file again: every record unchanged | {:.1} s ({:.0} records/s) |\n\
         | `bulkImport` of 500 new records, median of {} | {:.0} ms ({:.0} records/s) |\n\
         | Server peak resident memory | {:.0} MiB |\n",
        args.records,
        first,
        n / first,
        cpu_split,
        again,
        n / again,
        args.mutations,
        median,
        500.0 / (median / 1000.0),
        server.peak_rss_kib() as f64 / 1024.0,
    ))
}
