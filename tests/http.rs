//! The GraphQL-over-HTTP contract, authentication errors and role checks.

use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn graphql_over_http_contract() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let token = app.worker().token;

    // A mutation over GET is 405 with Allow: POST.
    let r = app
        .http()
        .get(&url)
        .query(&[("query", "mutation { __typename }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");

    // A query over GET works.
    let r = app
        .http()
        .get(&url)
        .query(&[("query", "{ me { roles } }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["me"]["roles"], json!(["SOCIAL_WORKER"]));

    // Not JSON: 415. Not a GraphQL request: 400.
    let r = app
        .http()
        .post(&url)
        .header("content-type", "text/plain")
        .body("{ me { roles } }")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = app
        .http()
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"nope\": 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // A bad token: 401 with UNAUTHENTICATED and a request id.
    let r = app
        .http()
        .post(&url)
        .bearer_auth("not-a-token")
        .json(&json!({"query": "{ me { roles } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());

    // No token: the query answers UNAUTHENTICATED, with a request id.
    let body: Value = app
        .http()
        .post(&url)
        .json(&json!({"query": "{ cases { totalCount } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());

    // A token for an LA that is not registered is refused.
    let stranger = app.caller("203", &["social_worker"]);
    let body = stranger.gql("{ me { roles } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // Health endpoints.
    assert_eq!(
        app.http()
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http()
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn roles_gate_reads_and_writes() {
    let app = TestApp::spawn().await;
    let analyst = app.caller("201", &["data_analyst"]);
    let body = analyst.gql("{ cases { totalCount } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let iro = app.caller("201", &["iro"]);
    assert_eq!(
        iro.ok("{ cases { totalCount } }", json!({})).await["cases"]["totalCount"],
        0
    );
    let body = iro
        .gql(
            "mutation { childCreate(input: {laChildId: \"A1\", dateOfBirth: \"2015-01-01\", sex: \"M\", ethnicity: \"WBRI\"}) { child { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let count = app
        .worker()
        .ok("{ children { totalCount } }", json!({}))
        .await;
    assert_eq!(
        count["children"]["totalCount"], 0,
        "a refused write changes nothing"
    );
}

#[tokio::test]
async fn paging_arguments_are_checked() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    for q in [
        "{ cases(first: 101) { totalCount } }",
        "{ cases(first: 0) { totalCount } }",
        "{ cases(first: 2, last: 2) { totalCount } }",
        "{ cases(after: \"garbage!\") { totalCount } }",
    ] {
        let body = w.gql(q, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{q}: {body}"
        );
    }
    let body = w
        .gql("{ cases(filter: {stages: []}) { totalCount } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let body = w
        .gql(
            "{ cases(filter: {status: CLOSED, overdue: true}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}
