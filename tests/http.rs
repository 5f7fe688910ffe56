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

/// `application/graphql-response+json` for a client that asks for it, with the spec's status
/// codes; `application/json` (every GraphQL answer 200) for one that asks for that or for
/// nothing in particular; a body that is no GraphQL request is 400 whatever it accepts.
#[tokio::test]
async fn graphql_response_media_type_and_its_status_codes() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let token = app.worker().token;
    const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
    let post = |accept: Option<&'static str>, body: Value| {
        let mut request = app.http().post(&url).bearer_auth(&token).json(&body);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let media = r.headers()["content-type"].to_str().unwrap().to_owned();
            let body: Value = r.json().await.unwrap();
            (status, media, body)
        }
    };
    let parse = json!({ "query": "{ me {" });
    let invalid = json!({ "query": "{ noSuchField }" });
    let uncoerced = json!({
        "query": "query($n: Int!) { cases(first: $n) { totalCount } }",
        "variables": { "n": "ten" },
    });
    for failing in [&parse, &invalid, &uncoerced] {
        let (status, media, body) = post(Some(GRAPHQL_RESPONSE), failing.clone()).await;
        assert_eq!(status, 400, "{failing}: {body:#}");
        assert!(media.starts_with(GRAPHQL_RESPONSE), "{media}");
        assert!(body.get("data").is_none(), "no data entry: {body:#}");
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "{body:#}"
        );
        // The legacy type keeps today's behaviour: 200, `data: null`.
        for accept in [None, Some("application/json"), Some("*/*")] {
            let (status, media, body) = post(accept, failing.clone()).await;
            assert_eq!(status, 200, "{accept:?} {failing}: {body:#}");
            assert!(media.starts_with("application/json"), "{media}");
            assert!(
                body["data"].is_null() && body["errors"].is_array(),
                "{body:#}"
            );
        }
    }
    // What ran is 200 in either type, a record not found included (its data entry is there).
    let (status, media, body) = post(
        Some(GRAPHQL_RESPONSE),
        json!({ "query": "{ me { roles } }" }),
    )
    .await;
    assert_eq!(
        (status, body["data"]["me"]["roles"].clone()),
        (200, json!(["SOCIAL_WORKER"]))
    );
    assert!(media.starts_with(GRAPHQL_RESPONSE), "{media}");
    let absent = api::ids::CaseId(9_999_999).to_global().to_string();
    let missing = json!({
        "query": "query($id: ID!) { case(id: $id) { id } }",
        "variables": { "id": absent },
    });
    let (status, _, body) = post(
        Some("application/graphql-response+json, application/json;q=0.9"),
        missing,
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"], json!({ "case": null }), "{body:#}");
    // Not a GraphQL request: no `query` (or a misspelt one), in a batch too.
    for accept in [None, Some(GRAPHQL_RESPONSE)] {
        for body in [
            json!({}),
            json!({ "qeury": "{ me { roles } }" }),
            json!({ "query": null }),
            json!([{ "query": "{ me { roles } }" }, { "operationName": "X" }]),
        ] {
            let (status, _, answer) = post(accept, body.clone()).await;
            assert_eq!(status, 400, "{body}: {answer:#}");
            assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
    }
    // An empty `query` is a document that does not parse, not a missing one.
    let (status, _, _) = post(Some(GRAPHQL_RESPONSE), json!({ "query": "" })).await;
    assert_eq!(status, 400);
    let (status, _, body) = post(None, json!({ "query": "" })).await;
    assert_eq!(status, 200, "{body:#}");
}
