//! Protection of the service: every limit holds, and an over-limit request is refused before any
//! resolver runs (nothing changes, no record is read).

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, open_case};

async fn audit_rows(app: &TestApp, rid: &str) -> i64 {
    app.scalar(&format!(
        "SELECT count(*) FROM audit_event WHERE request_id = '{rid}'"
    ))
    .await
}

async fn team(w: &Caller, case: &str) -> Value {
    w.ok(
        "query($id: ID!) { case(id: $id) { team } }",
        json!({ "id": case }),
    )
    .await["case"]["team"]
        .clone()
}

/// Sends a request that must be refused as too complex, and checks no resolver ran.
async fn refused(app: &TestApp, w: &Caller, query: &str, vars: Value) {
    let (status, rid, body) = w.send(query, vars).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{body:#}"
    );
    assert!(body["data"].is_null(), "{body:#}");
    assert_eq!(audit_rows(app, &rid).await, 0, "a resolver ran: {body:#}");
}

#[tokio::test]
async fn aliases_depth_complexity_and_directives_are_limited_before_resolvers_run() {
    let app = TestApp::spawn_with(|c| {
        c.max_query_depth = 4;
        c.max_query_complexity = 300;
    })
    .await;
    let w = app.worker();
    let f = open_case(&w, "LIM1", 30).await;

    // 31 aliased mutations: refused whole; the case is unchanged.
    let many: String = (0..31)
        .map(|i| format!("m{i}: caseAssign(input: {{caseId: $id, team: \"T{i}\"}}) {{ userErrors {{ code }} }} "))
        .collect();
    refused(
        &app,
        &w,
        &format!("mutation($id: ID!) {{ {many} }}"),
        json!({ "id": f.case }),
    )
    .await;
    assert_eq!(team(&w, &f.case).await, "North");
    // 30 are allowed.
    let thirty: String = (0..30).map(|i| format!("a{i}: me {{ id }} ")).collect();
    assert!(
        w.gql(&format!("{{ {thirty} }}"), json!({}))
            .await
            .get("errors")
            .is_none()
    );

    // Depth 5 against a limit of 4.
    refused(
        &app,
        &w,
        "query($id: ID!) { case(id: $id) { child { episodes { id } householdMembers { id } } stages { checklist { completedBy { id } } } } }",
        json!({ "id": f.case }),
    )
    .await;

    // Complexity counts each page item: the same selection passes with first: 2 and not with 100.
    let list = |n: u32| {
        format!(
            "{{ cases(first: {n}) {{ nodes {{ id stage status team attemptNumber openedOn child {{ id laChildId }} }} }} }}"
        )
    };
    assert!(w.gql(&list(2), json!({})).await.get("errors").is_none());
    refused(&app, &w, &list(100), json!({})).await;

    // More than 5 directives on one field.
    refused(
        &app,
        &w,
        "query($id: ID!) { case(id: $id) @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) @include(if: true) { id } }",
        json!({ "id": f.case }),
    )
    .await;

    // A fragment bomb: each level spreads the one below twice (2^20 fields once expanded).
    let mut bomb =
        String::from("query($id: ID!) { case(id: $id) { ...F0 } }\nfragment F20 on Case { id }\n");
    for i in 0..20 {
        bomb.push_str(&format!(
            "fragment F{i} on Case {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    refused(&app, &w, &bomb, json!({ "id": f.case })).await;
}

#[tokio::test]
async fn batches_bodies_and_deadlines_are_limited() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 10_000).await;
    let w = app.worker();
    let f = open_case(&w, "LIM2", 30).await;
    let url = format!("{}/graphql", app.base);
    let post = |body: String| {
        app.http()
            .post(&url)
            .bearer_auth(&w.token)
            .header("content-type", "application/json")
            .body(body)
    };

    // A batch of 2 runs both; a batch of 6 is refused whole.
    let op = json!({ "query": "{ me { id } }" });
    let two = post(json!([op, op]).to_string()).send().await.unwrap();
    assert_eq!(two.status(), 200);
    let answers: Vec<Value> = two.json().await.unwrap();
    assert_eq!(answers.len(), 2);
    assert!(
        answers.iter().all(|a| a["data"]["me"]["id"].is_string()),
        "{answers:?}"
    );
    let assign = json!({ "query": format!("mutation {{ caseAssign(input: {{caseId: \"{}\", team: \"Batch\"}}) {{ userErrors {{ code }} }} }}", f.case) });
    let six = post(json!([assign, op, op, op, op, op]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(six.status(), 400);
    assert_eq!(team(&w, &f.case).await, "North");

    // A body over the limit: 413, nothing read.
    let padding = "x".repeat(20_000);
    let big = post(json!({ "query": format!("{{ me {{ id }} }} # {padding}") }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_abandoned_and_keeps_nothing() {
    let app = TestApp::spawn_with(|c| c.request_timeout_ms = 1).await;
    // Fixtures go straight to the database: through the API they too would time out.
    let w = app.worker();
    let mut timed_out = 0;
    for i in 0..20 {
        let (status, _, body) = w
            .send(
                "mutation($input: ChildCreateInput!) { childCreate(input: $input) { child { id } } }",
                json!({ "input": { "laChildId": format!("DL{i}"), "dateOfBirth": "2016-01-01", "sex": "F", "ethnicity": "WBRI" } }),
            )
            .await;
        if status == 503 {
            assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT");
            timed_out += 1;
            let kept = app
                .scalar(&format!(
                    "SELECT count(*) FROM child WHERE la_child_id = 'DL{i}'"
                ))
                .await;
            assert_eq!(kept, 0, "an abandoned request must keep nothing");
        }
    }
    assert!(timed_out > 0, "a 1 ms deadline must cut some request short");
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_turned_off_and_cors_allows_only_listed_origins() {
    let app = TestApp::spawn_with(|c| {
        c.introspection = Some(false);
        c.cors_origins = vec!["https://portal.example".to_owned()];
    })
    .await;
    let w = app.worker();
    // Refused with a code a code generator can report, not answered with a silent null; through
    // a fragment too. `__typename` is no introspection.
    for query in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"Case\") { fields { name } } }",
        "query { ...F } fragment F on Query { __schema { queryType { name } } }",
    ] {
        let body = w.gql(query, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INTROSPECTION_DISABLED",
            "{query}: {body:#}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("schema.graphql"),
            "{body:#}"
        );
        assert!(body["data"].is_null(), "{body:#}");
    }
    let body = w.gql("{ __typename me { roles } }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body:#}");
    let body = w.gql("{ cas { id } }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");

    let preflight = |origin: &'static str| {
        app.http()
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://portal.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://portal.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // Production turns introspection off by default; development leaves it on.
    let mut config = api::config::Config::for_database("sqlite::memory:");
    assert!(config.introspection());
    config.mode = api::config::Mode::Production;
    assert!(!config.introspection());
    config.mode = api::config::Mode::Development;
    config.cors_origins = vec!["*".to_owned()];
    assert!(
        config
            .validate()
            .unwrap_err()
            .contains("REUNIFY_CORS_ORIGINS")
    );
}

#[tokio::test]
async fn each_caller_has_a_points_bucket_with_ratelimit_headers() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_burst = 3.try_into().unwrap();
        c.rate_limit_per_minute = 1.try_into().unwrap();
    })
    .await;
    let (w, other) = (app.worker(), app.manager());
    let me = |c: &Caller| {
        app.http()
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&c.token)
            .json(&json!({ "query": "{ me { id } }" }))
            .send()
    };
    for left in [2, 1, 0] {
        let resp = me(&w).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"],
            left.to_string().as_str()
        );
        assert!(resp.headers().contains_key("x-ratelimit-reset"));
    }
    let limited = me(&w).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(body.get("data").is_none());
    // Another caller has a bucket of its own.
    assert_eq!(me(&other).await.unwrap().status(), 200);
    // A batch costs one point per operation: a batch of 4 never fits a bucket of 3.
    let batch = app
        .http()
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.officer().token)
        .json(&json!([{ "query": "{ me { id } }" }, { "query": "{ me { id } }" }, { "query": "{ me { id } }" }, { "query": "{ me { id } }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), 429);
}
