//! `Idempotency-Key`: a retried mutation replays its first response byte for byte and runs once;
//! a key reused with another body is refused; concurrent duplicates run once.

use serde_json::{Value, json};

use crate::support::TestApp;

const CREATE: &str = "mutation($input: ChildCreateInput!) { childCreate(input: $input) { \
                      child { id laChildId } userErrors { field message code } } }";

fn create(la_child_id: &str) -> String {
    json!({
        "query": CREATE,
        "variables": { "input": { "laChildId": la_child_id, "dateOfBirth": "2016-03-01",
                                  "sex": "M", "ethnicity": "WBRI" } }
    })
    .to_string()
}

struct Reply {
    status: u16,
    replayed: bool,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    fn code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

async fn post(app: &TestApp, token: &str, key: Option<&str>, body: &str) -> Reply {
    let mut req = app
        .http()
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let r = req.send().await.unwrap();
    Reply {
        status: r.status().as_u16(),
        replayed: r.headers().get("idempotent-replayed").is_some(),
        body: r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn a_retry_replays_the_first_response_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let token = app.worker().token;
    let children = "SELECT COUNT(*) FROM child";

    let first = post(&app, &token, Some("sync-42"), &create("IK1")).await;
    assert_eq!(first.status, 200);
    assert!(!first.replayed);
    assert_eq!(first.json()["data"]["childCreate"]["userErrors"], json!([]));
    assert_eq!(app.scalar(children).await, 1);

    // The same key and body: the first response, byte for byte, and nothing runs.
    let again = post(&app, &token, Some("sync-42"), &create("IK1")).await;
    assert_eq!(again.status, 200);
    assert!(again.replayed);
    assert_eq!(again.body, first.body);
    assert_eq!(app.scalar(children).await, 1);

    // Without a key the same mutation runs again (and the LA child ID is taken).
    let unkeyed = post(&app, &token, None, &create("IK1")).await;
    assert_ne!(
        unkeyed.json()["data"]["childCreate"]["userErrors"],
        json!([])
    );

    // The same key with another body is refused, and that body does not run.
    let reused = post(&app, &token, Some("sync-42"), &create("IK2")).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(app.scalar(children).await, 1);

    // Keys belong to an LA and client: another LA's client may use the same key.
    let other = app.caller("202", &["social_worker"]).token;
    let theirs = post(&app, &other, Some("sync-42"), &create("IK1")).await;
    assert!(!theirs.replayed, "{}", theirs.body);
    assert_eq!(
        theirs.json()["data"]["childCreate"]["userErrors"],
        json!([])
    );
    assert_eq!(app.scalar(children).await, 2);

    // Queries ignore the key; nothing is stored for them.
    let keys = "SELECT COUNT(*) FROM idempotency_key";
    let stored = app.scalar(keys).await;
    let query = json!({ "query": "{ me { roles } }" }).to_string();
    let q = post(&app, &token, Some("read-1"), &query).await;
    assert_eq!(q.status, 200);
    assert_eq!(app.scalar(keys).await, stored);

    // A batch cannot carry one key; a key must be 1 to 255 visible ASCII characters.
    let batch = format!("[{}]", create("IK3"));
    let b = post(&app, &token, Some("batch-1"), &batch).await;
    assert_eq!((b.status, b.code().as_str()), (400, "BAD_USER_INPUT"));
    let long = "k".repeat(256);
    for bad in [long.as_str(), "with space"] {
        let r = post(&app, &token, Some(bad), &create("IK3")).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "BAD_USER_INPUT"),
            "{bad}"
        );
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM child WHERE la_child_id = 'IK3'")
            .await,
        0
    );

    // After 24 hours the key is forgotten: the request runs again.
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared(
            "UPDATE idempotency_key SET expires_at = '2000-01-01 00:00:00+00:00' \
             WHERE key = 'sync-42'",
        )
        .await
        .unwrap();
    // The retention purge sweeps expired keys with their stored responses.
    app.db
        .execute_unprepared(
            "UPDATE idempotency_key SET expires_at = '2000-01-01 00:00:00+00:00' \
             WHERE la_id <> (SELECT id FROM local_authority WHERE dfe_code = '201')",
        )
        .await
        .unwrap();
    let before = app.scalar(keys).await;
    api::retention::service::purge(
        &app.app_db,
        std::time::Duration::from_secs(10),
        chrono::Utc::now().date_naive(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        app.scalar(keys).await,
        before - 2,
        "sync-42 and LA 202's key"
    );
    let late = post(&app, &token, Some("sync-42"), &create("IK1")).await;
    assert!(!late.replayed);
    assert_ne!(
        late.body, first.body,
        "ran again: the LA child ID is now taken"
    );
}

#[tokio::test]
async fn twenty_concurrent_duplicates_run_once() {
    let app = TestApp::spawn_with(|c| c.database_pool_size = 24).await;
    let token = app.worker().token;
    let body = create("IKC1");
    let replies =
        futures_util::future::join_all((0..20).map(|_| post(&app, &token, Some("burst-1"), &body)))
            .await;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM child WHERE la_child_id = 'IKC1'")
            .await,
        1
    );
    let done: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert!(!done.is_empty());
    for r in &done {
        assert_eq!(r.body, done[0].body, "every answer is the one response");
    }
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status, r.code().as_str()), (409, "CONFLICT"));
    }
    assert_eq!(
        done[0].json()["data"]["childCreate"]["userErrors"],
        json!([])
    );
    assert_eq!(done.iter().filter(|r| !r.replayed).count(), 1);
}
