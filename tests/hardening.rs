//! What an outside security and reliability run found, held: control characters refused at the
//! boundary, page sizes bounded before anything runs, JSON error bodies for 405 and 413, one answer
//! (401) for missing credentials with a limit per address, a no-op that keeps the version, and
//! record IDs that are global IDs everywhere. (Refusals are audited: `tests/roles.rs`.)

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, days_ago, open_case};

const ASSIGN: &str = "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { case { version team } userErrors { code } } }";

async fn version(w: &Caller, case: &str) -> (i64, Value) {
    let data = w
        .ok(
            "query($id: ID!) { case(id: $id) { version team visits { totalCount } } }",
            json!({ "id": case }),
        )
        .await;
    (
        data["case"]["version"].as_i64().unwrap(),
        data["case"]["visits"]["totalCount"].clone(),
    )
}

/// Asserts a request was refused before anything ran: `BAD_USER_INPUT`, no data, no audit row.
async fn refused_whole(app: &TestApp, (status, rid, body): (u16, String, Value), says: &str) {
    assert_eq!(status, 200, "{body:#}");
    let err = &body["errors"][0];
    assert_eq!(err["extensions"]["code"], "BAD_USER_INPUT", "{body:#}");
    assert!(
        err["message"].as_str().unwrap().contains(says),
        "{says}: {body:#}"
    );
    assert_eq!(body["data"], Value::Null, "{body:#}");
    let rows = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE request_id = '{rid}'"
        ))
        .await;
    assert_eq!(rows, 0, "nothing ran, so nothing was audited: {body:#}");
}

#[tokio::test]
async fn control_characters_are_refused_at_the_boundary_and_change_nothing() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "HARD1", 30).await;
    let before = version(&w, &f.case).await;

    // Free text in four mutations, as a variable: refused, naming the field, nothing kept.
    let tries = [
        (
            ASSIGN,
            json!({ "caseId": f.case, "team": "North\u{0}x" }),
            "`input.team`",
        ),
        (
            "mutation($i: VisitRecordInput!) { visitRecord(input: $i) { visit { id } } }",
            json!({ "caseId": f.case, "visitedOn": days_ago(1), "childSeen": true,
                    "childSeenAlone": true, "observations": "Seen\u{0} at home." }),
            "`input.observations`",
        ),
        (
            "mutation($i: DecisionRecordInput!) { decisionRecord(input: $i) { decision { id } } }",
            json!({ "caseId": f.case, "kind": "D1", "outcome": "YES", "rationale": "Ring\u{7}" }),
            "`input.rationale` holds the control character U+0007",
        ),
        (
            "mutation($i: ChildCreateInput!) { childCreate(input: $i) { child { id } } }",
            json!({ "laChildId": "HARD\u{1b}2", "dateOfBirth": "2016-01-01", "sex": "F", "ethnicity": "WBRI" }),
            "`input.laChildId`",
        ),
    ];
    for (query, input, says) in tries {
        refused_whole(&app, w.send(query, json!({ "i": input })).await, says).await;
    }
    // As a literal, and beside a sibling that alone would have been kept.
    let literal = format!(
        r#"mutation {{ a: caseAssign(input: {{ caseId: "{c}", team: "South" }}) {{ case {{ id }} }}
                      b: caseAssign(input: {{ caseId: "{c}", team: "North\u0000x" }}) {{ case {{ id }} }} }}"#,
        c = f.case
    );
    refused_whole(&app, w.send(&literal, json!({})).await, "`input.team`").await;
    assert_eq!(version(&w, &f.case).await, before);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM child WHERE la_child_id LIKE 'HARD%'")
            .await,
        1
    );

    // Tab, line feed and carriage return are text.
    let p = w
        .must(
            "visitRecord",
            "visit { observations }",
            json!({ "caseId": f.case, "visitedOn": days_ago(1), "childSeen": true,
                    "childSeenAlone": true, "observations": "Line one.\r\nLine two:\tseen." }),
        )
        .await;
    assert_eq!(p["visit"]["observations"], "Line one.\r\nLine two:\tseen.");

    // The JSON Lines upload refuses the line, naming the field, and keeps the others.
    let lines = [
        json!({ "child": { "externalId": { "system": "LCS", "value": "H-1" },
            "laChildId": "HARD3", "dateOfBirth": "2016-01-01", "sex": "F", "ethnicity": "WBRI" } }),
        json!({ "child": { "externalId": { "system": "LCS", "value": "H-2\u{0}" },
            "laChildId": "HARD4", "dateOfBirth": "2016-01-01", "sex": "F", "ethnicity": "WBRI" } }),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let answer = app
        .http()
        .post(format!("{}/imports", app.base))
        .bearer_auth(&w.token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let results: Vec<Value> = answer
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results[0]["result"], "CREATED", "{answer}");
    assert_eq!(results[1]["result"], "REJECTED", "{answer}");
    assert!(
        results[1]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`child.externalId.value` holds the control character U+0000"),
        "{answer}"
    );
    assert_eq!(
        results[1]["errors"][0]["field"],
        json!(["child", "externalId", "value"])
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM child WHERE la_child_id = 'HARD4'")
            .await,
        0
    );
}

#[tokio::test]
async fn page_sizes_are_bounded_before_anything_runs() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "HARD5", 30).await;
    let before = version(&w, &f.case).await;

    // A write whose answer asks for too big a page: refused whole, the write not kept.
    let write = "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { case { version visits(first: 100000) { totalCount } } } }";
    refused_whole(
        &app,
        w.send(write, json!({ "i": { "caseId": f.case, "team": "East" } }))
            .await,
        "`first` and `last` must be between 1 and 100",
    )
    .await;
    assert_eq!(version(&w, &f.case).await, before);

    // A read beside it does not run either (no audit row for the case), variables alike.
    let read = "query($id: ID!, $n: Int) { case(id: $id) { id } cases(first: $n) { totalCount } }";
    for n in [100_000, 0, -5, 101] {
        refused_whole(
            &app,
            w.send(read, json!({ "id": f.case, "n": n })).await,
            "must be between 1 and 100",
        )
        .await;
    }
    // The bounds themselves are fine.
    for n in [1, 100] {
        let data = w.ok(read, json!({ "id": f.case, "n": n })).await;
        assert_eq!(data["cases"]["totalCount"], 1);
    }
}

#[tokio::test]
async fn every_error_answer_is_json_with_a_code_and_request_id() {
    let app = TestApp::spawn_with(|c| {
        c.max_body_bytes = 10_000;
        c.max_import_bytes = 20_000;
    })
    .await;
    let w = app.worker();
    let check = |what: &'static str, status: u16, code: &'static str| {
        move |resp: reqwest::Response| async move {
            assert_eq!(resp.status().as_u16(), status, "{what}");
            let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
            let allow = resp.headers().get("allow").cloned();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(
                body["errors"][0]["extensions"]["code"], code,
                "{what}: {body:#}"
            );
            assert_eq!(body["errors"][0]["extensions"]["requestId"], rid, "{what}");
            allow
        }
    };
    let graphql = format!("{}/graphql", app.base);
    let padding = "x".repeat(20_000);
    let big = json!({ "query": format!("{{ me {{ id }} }} # {padding}") }).to_string();
    let resp = app
        .http()
        .post(&graphql)
        .bearer_auth(&w.token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    check("413 on /graphql", 413, "PAYLOAD_TOO_LARGE")(resp).await;
    let resp = app
        .http()
        .post(format!("{}/imports", app.base))
        .bearer_auth(&w.token)
        .header("content-type", "application/x-ndjson")
        .body(big.repeat(3))
        .send()
        .await
        .unwrap();
    check("413 on /imports", 413, "PAYLOAD_TOO_LARGE")(resp).await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let resp = app
            .http()
            .request(method.clone(), &graphql)
            .bearer_auth(&w.token)
            .send()
            .await
            .unwrap();
        let allow = check("405", 405, "BAD_USER_INPUT")(resp).await;
        assert_eq!(allow.unwrap(), "GET,HEAD,POST", "{method}");
    }
    let resp = app
        .http()
        .get(format!("{}/nowhere", app.base))
        .send()
        .await
        .unwrap();
    check("404", 404, "NOT_FOUND")(resp).await;
}

#[tokio::test]
async fn no_credentials_is_401_and_anonymous_callers_are_limited_by_address() {
    let app = TestApp::spawn_with(|c| {
        c.anonymous_rate_limit_per_minute = 5.try_into().unwrap();
        c.trusted_proxies = 1;
    })
    .await;
    let graphql = format!("{}/graphql", app.base);
    let anonymous = |from: &'static str, query: &'static str| {
        app.http()
            .post(&graphql)
            .header("x-forwarded-for", from)
            .json(&json!({ "query": query }))
            .send()
    };
    // No token: 401 with the RFC 6750 challenge, for data and introspection alike.
    for query in [
        "{ cases { totalCount } }",
        "{ __schema { queryType { name } } }",
        "{ __typename }",
    ] {
        let resp = anonymous("198.51.100.1", query).await.unwrap();
        assert_eq!(resp.status(), 401, "{query}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert!(body.get("data").is_none(), "{body:#}");
    }
    // A bad token counts against the same address; past 5 the address gets 429.
    let bad = app
        .http()
        .post(&graphql)
        .header("x-forwarded-for", "198.51.100.1")
        .bearer_auth("not-a-token")
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let _ = anonymous("198.51.100.1", "{ __typename }").await.unwrap();
    let limited = anonymous("198.51.100.1", "{ __typename }").await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Another address (as the trusted proxy saw it; what the client wrote further left is not
    // believed) has its own bucket, and a token is not limited by address at all.
    let other = anonymous("198.51.100.1, 203.0.113.9", "{ __typename }")
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    let data = app.worker().ok("{ me { id } }", json!({})).await;
    assert!(data["me"]["id"].is_string());
    // Exports and imports answer the same.
    for path in ["/exports/episodes.csv", "/exports/insight.jsonl"] {
        let resp = app
            .http()
            .get(format!("{}{path}", app.base))
            .header("x-forwarded-for", "192.0.2.7")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    }
}

#[tokio::test]
async fn a_change_to_nothing_keeps_the_version_and_record_ids_are_global() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "HARD6", 30).await;
    let p = w
        .ok(ASSIGN, json!({ "i": { "caseId": f.case, "team": "East" } }))
        .await;
    let moved = p["caseAssign"]["case"]["version"].as_i64().unwrap();
    for same in [
        json!({ "team": "East" }),
        json!({ "team": " East " }),
        json!({}),
    ] {
        let mut input = same.clone();
        input["caseId"] = json!(f.case);
        input["expectedVersion"] = json!(moved);
        let p = w.ok(ASSIGN, json!({ "i": input })).await;
        assert_eq!(p["caseAssign"]["case"]["version"], moved, "{same}");
    }
    let events = w
        .ok(
            "query($id: ID!) { case(id: $id) { events(last: 1) { nodes { type recordType recordId } } } }",
            json!({ "id": f.case }),
        )
        .await;
    let last = &events["case"]["events"]["nodes"][0];
    assert_eq!(last["recordId"], f.case.as_str(), "{last:#}");

    // The audit trail names the record by the ID node(id:) takes.
    let admin = app.caller("201", &["la_admin"]);
    let trail = admin
        .ok(
            "{ auditEvents(first: 100) { nodes { operation recordType recordId caseId } } }",
            json!({}),
        )
        .await;
    let rows = trail["auditEvents"]["nodes"].as_array().unwrap();
    let assign = rows
        .iter()
        .find(|r| r["operation"] == "caseAssign")
        .expect("the assignment's row");
    assert_eq!(assign["recordId"], assign["caseId"]);
    for row in rows.iter().filter(|r| !r["recordId"].is_null()) {
        let node = admin
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": row["recordId"] }),
            )
            .await;
        if row["recordType"] != "local_authority" {
            assert_eq!(node["node"]["id"], row["recordId"], "{row:#}");
        }
    }
}
