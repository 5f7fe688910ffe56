//! The GraphQL-over-HTTP contract, authentication errors and role checks.

use serde_json::{Value, json};

use crate::support::{TestApp, open_case};

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

    // No token: 401 as for a bad one, with the RFC 6750 challenge and a request id.
    let r = app
        .http()
        .post(&url)
        .json(&json!({"query": "{ cases { totalCount } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: Value = r.json().await.unwrap();
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

#[tokio::test]
async fn large_answers_are_gzipped_for_clients_that_ask_and_only_for_them() {
    use std::io::Read as _;
    let app = TestApp::spawn().await;
    let w = app.worker();
    for n in 0..12 {
        open_case(&w, &format!("GZ{n}"), 40).await;
    }
    // A client that neither asks for nor decodes compression by itself.
    let http = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = format!("{}/graphql", app.base);
    let page = json!({ "query": "{ cases(first: 50) { nodes { id stage status team openedOn
        child { laChildId dateOfBirth } stages { stage enteredOn } } } }" });
    let post = |body: &Value, gzip: bool| {
        let request = http.post(&url).bearer_auth(&w.token).json(body);
        if gzip {
            request.header("accept-encoding", "gzip")
        } else {
            request
        }
        .send()
    };

    let plain = post(&page, false).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: Value = serde_json::from_slice(&plain.bytes().await.unwrap()).unwrap();
    let size = plain.to_string().len();
    assert!(size > 2048, "a page large enough to compress: {size} bytes");

    let packed = post(&page, true).await.unwrap();
    assert_eq!(packed.status(), 200);
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    let packed = packed.bytes().await.unwrap();
    assert!(packed.len() * 3 < size, "{} of {size} bytes", packed.len());
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_end(&mut unpacked)
        .unwrap();
    let unpacked: Value = serde_json::from_slice(&unpacked).unwrap();
    assert_eq!(unpacked["data"], plain["data"]);

    // A small answer goes as it is, asked or not.
    let small = post(&json!({ "query": "{ me { roles } }" }), true)
        .await
        .unwrap();
    assert!(small.headers().get("content-encoding").is_none());
}
