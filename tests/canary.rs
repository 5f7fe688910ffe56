//! Nothing personal leaves in logs: a canary planted in every free-text and identifying field of a
//! case, and in a bearer token, never appears in what the server logs, at any level down to debug,
//! including when requests fail.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;

use crate::support::{TestApp, complete_required, decide, open_case};

/// Everything logged by this test process, as JSON lines.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_canary_reaches_the_logs() {
    let logs = captured();
    let app = TestApp::spawn().await;
    let canary = "CANARYq7Zx";
    let w = app.caller("201", &["social_worker"]);
    let f = open_case(&w, "CANARYQ7ZX1", 40).await;
    w.must(
        "caseAssign",
        "case { id }",
        json!({ "caseId": f.case, "team": format!("Team {canary}") }),
    )
    .await;
    let member = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "label": format!("Mum {canary}"),
                    "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    w.must(
        "childViewRecord",
        "childView { id }",
        json!({ "caseId": f.case, "content": format!("I want to go home {canary}"), "inOwnWords": true }),
    )
    .await;
    w.must(
        "assessmentFactorRecord",
        "factor { id }",
        json!({ "caseId": f.case, "householdMemberId": member, "kind": "RISK", "category": "ALCOHOL_MISUSE",
                "status": "CURRENT", "evidence": format!("Evidence {canary}") }),
    )
    .await;
    complete_required(&w, &f.case).await;
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "rationale": format!("Because {canary}") }),
    )
    .await;
    // Reads, a miss, refusals, bad input and a duplicate: the paths that log.
    w.ok("query($id: ID!) { case(id: $id) { team child { laChildId householdMembers { label } } childViews { content } factors { evidence } decisions { rationale } } }", json!({ "id": f.case })).await;
    w.gql(
        "{ cases(filter: { team: \"CANARYq7Zx\" }) { totalCount } }",
        json!({}),
    )
    .await;
    w.gql("query { case(id: \"CANARYq7Zx\") { id } }", json!({}))
        .await;
    w.gql("{ cas CANARYq7Zx }", json!({})).await;
    w.mutate(
        "childCreate",
        "child { id }",
        json!({ "laChildId": "CANARYQ7ZX1", "dateOfBirth": "2015-06-01", "sex": "F", "ethnicity": "WBRI" }),
    )
    .await;
    app.caller("201", &["data_analyst"])
        .gql(
            "query($id: ID!) { case(id: $id) { team } }",
            json!({ "id": f.case }),
        )
        .await;
    // A bad token carrying the canary, and a good token (which must not be logged either).
    app.with_token(&format!("eyJhbGciOiJub25lIn0.{canary}.x"))
        .gql("{ me { id } }", json!({}))
        .await;

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(!text.is_empty(), "the capture must see the server's logs");
    assert!(
        text.contains("graphql request"),
        "the capture must hold the request log lines"
    );
    for needle in [canary, "CANARYQ7ZX", &w.token] {
        assert!(!text.contains(needle), "`{needle}` leaked into the logs");
    }
    assert!(!text.to_lowercase().contains(&canary.to_lowercase()));
}
