//! Faults: PostgreSQL drops every connection of the service mid-load. The service keeps answering
//! (a well-formed `INTERNAL`/`TIMEOUT` for what it cannot serve), recovers by itself within 10
//! seconds, and every write it acknowledged is there afterwards.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::TestApp;

const CREATE: &str = "mutation($input: ChildCreateInput!) { childCreate(input: $input) { \
                      child { id } userErrors { code } } }";

#[tokio::test]
async fn connections_killed_mid_load_lose_no_acknowledged_write() {
    // The writers send as fast as they are answered (a refused write is answered at once): the
    // caller's rate limit is not what this test is about, so it is out of their way.
    let unlimited = std::num::NonZeroU32::new(1_000_000).expect("not zero");
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_minute = unlimited;
        c.rate_limit_burst = unlimited;
    })
    .await;
    if !app.postgres {
        return; // PostgreSQL only: SQLite has no server to lose.
    }
    let token = app.worker().token;
    let url = format!("{}/graphql", app.base);
    let stop = Instant::now() + Duration::from_secs(4);
    // Four writers, each creating children with its own run of LA child IDs until `stop`.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, url, token) = (app.http().clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut failed = 0;
                let mut i = 0;
                while Instant::now() < stop {
                    i += 1;
                    let id = format!("F{w}N{i}");
                    let body = json!({ "query": CREATE, "variables": { "input": {
                        "laChildId": id, "dateOfBirth": "2016-03-01", "sex": "F", "ethnicity": "WBRI" } } });
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .expect("the server answers");
                    let status = r.status().as_u16();
                    let answer: Value = r.json().await.expect("every answer is JSON");
                    let ok = status == 200
                        && answer.get("errors").is_none()
                        && answer["data"]["childCreate"]["userErrors"] == json!([]);
                    if ok {
                        acknowledged.push(id);
                    } else {
                        let code = answer["errors"][0]["extensions"]["code"].as_str();
                        assert!(
                            matches!(code, Some("INTERNAL" | "TIMEOUT")),
                            "{status} {answer}"
                        );
                        failed += 1;
                    }
                }
                (acknowledged, failed)
            })
        })
        .collect();
    // Twice during the load, terminate every backend of the service's login.
    use sea_orm::ConnectionTrait as _;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        app.db
            .execute_unprepared(&format!(
                // This test's database only: the other tests run beside it.
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE usename = '{}' AND datname = current_database() \
                 AND pid <> pg_backend_pid()",
                crate::support::APP_LOGIN
            ))
            .await
            .unwrap();
    }
    let mut acknowledged = Vec::new();
    let mut failed = 0;
    for w in writers {
        let (a, f) = w.await.unwrap();
        acknowledged.extend(a);
        failed += f;
    }
    // It recovers by itself: a request succeeds within 10 seconds of the load ending.
    let recovered = Instant::now();
    loop {
        let (status, _, body) = app.worker().send("{ me { roles } }", json!({})).await;
        if status == 200 && body.get("errors").is_none() {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(10),
            "not recovered: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every acknowledged write is there.
    assert!(
        acknowledged.len() > 20,
        "{} writes acknowledged",
        acknowledged.len()
    );
    let stored = app.scalar("SELECT COUNT(*) FROM child").await as usize;
    for id in &acknowledged {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM child WHERE la_child_id = '{id}'"
            ))
            .await,
            1,
            "{id} was acknowledged"
        );
    }
    assert!(stored >= acknowledged.len());
    eprintln!(
        "{} acknowledged, {failed} refused while connections were dropped",
        acknowledged.len()
    );
}
