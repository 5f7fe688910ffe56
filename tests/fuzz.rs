//! Bad input at scale: random bytes, random JSON, token soup that looks like GraphQL, and real
//! mutations with random variables, thrown at the running server. It never answers 5xx for a
//! client's mistake, keeps answering, and a rejected request changes nothing.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::TestApp;

/// What the data looks like: rows and versions of the tables a mutation can touch.
const FINGERPRINT: &str = "SELECT \
    (SELECT COUNT(*) FROM child) + (SELECT COALESCE(SUM(version), 0) FROM child) * 1000 \
    + (SELECT COUNT(*) FROM care_episode) * 7 + (SELECT COUNT(*) FROM household_member) * 11 \
    + (SELECT COUNT(*) FROM reunification_case) * 13 \
    + (SELECT COALESCE(SUM(version), 0) FROM reunification_case) * 17 \
    + (SELECT COUNT(*) FROM idempotency_key) * 19 + (SELECT COUNT(*) FROM case_event) * 23";

const WORDS: &[&str] = &[
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "$",
    "$input",
    "...",
    "@include(if: true)",
    "@skip",
    "!",
    "=",
    ",",
    "\"",
    "\"\"\"",
    "#",
    "null",
    "true",
    "1e999",
    "-0",
    "99999999999999999999",
    "childCreate",
    "caseOpen",
    "caseAssign",
    "input",
    "child",
    "id",
    "userErrors",
    "code",
    "__schema",
    "__typename",
    "node",
    "nodes",
    "cases",
    "insight",
    "worklist",
    "ChildCreateInput!",
    "ID!",
    "\u{0}",
    "\u{202e}",
    "é",
    "\\u0000",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        proptest::sample::select(WORDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(
                        &[
                            "query",
                            "variables",
                            "operationName",
                            "extensions",
                            "input",
                            "laChildId",
                            "dateOfBirth",
                            "sex",
                            "ethnicity",
                            "childId",
                            "caseId",
                            "team",
                        ][..]
                    )
                    .prop_map(str::to_owned),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A request body: raw bytes, any JSON, a GraphQL request with a token-soup document, or a real
/// mutation with random variables.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let soup =
        prop::collection::vec(proptest::sample::select(WORDS), 0..40).prop_map(|w| w.join(" "));
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (soup, json_value()).prop_map(|(q, v)| json!({ "query": q, "variables": v })
            .to_string()
            .into_bytes()),
        (
            proptest::sample::select(&[
                "mutation($input: ChildCreateInput!) { childCreate(input: $input) { child { id } userErrors { code } } }",
                "mutation($input: CaseAssignInput!) { caseAssign(input: $input) { case { id } userErrors { code } } }",
                "mutation($input: EpisodeOpenInput!) { episodeOpen(input: $input) { episode { id } userErrors { code } } }",
                "mutation($input: EpisodeUpsertInput!) { episodeUpsert(input: $input) { episode { id } userErrors { code } } }",
                "mutation($input: BulkImportInput!) { bulkImport(input: $input) { rejected userErrors { code } } }",
                "query($id: ID!) { node(id: $id) { id } }",
            ][..]),
            json_value()
        )
            .prop_map(|(q, v)| json!({ "query": q, "variables": { "input": v, "id": v } })
                .to_string()
                .into_bytes()),
    ]
}

/// Whether a GraphQL answer says the request changed something: no top-level errors and no
/// user errors in any payload.
fn accepted(answer: &Value) -> bool {
    answer.get("errors").is_none()
        && answer["data"].as_object().is_some_and(|fields| {
            fields
                .values()
                .all(|p| p["userErrors"].as_array().is_none_or(Vec::is_empty))
        })
}

/// Sends `cases` generated bodies to `path` as `content_type`, each checked by `check(status,
/// answer)`, which says whether the request may have changed data; where it says not, the data
/// must be as before (a fingerprint of counts and versions).
fn throw<S: Strategy<Value = Vec<u8>>>(
    rt: &tokio::runtime::Runtime,
    app: &TestApp,
    strategy: S,
    cases: u32,
    (path, content_type): (&str, &str),
    check: impl Fn(u16, &str, &[u8]) -> Result<bool, TestCaseError>,
) {
    let token = app.worker().token;
    let url = format!("{}{path}", app.base);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |bytes| {
        rt.block_on(async {
            let before = app.scalar(FINGERPRINT).await;
            let r = app
                .http()
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", content_type)
                .body(bytes.clone())
                .send()
                .await
                .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            if !check(status, &text, &bytes)? {
                prop_assert_eq!(app.scalar(FINGERPRINT).await, before, "{}", text);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn random_and_malformed_requests_never_break_the_server_or_the_data() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<u16, usize>::new());
    let json = ("/graphql", "application/json");
    throw(&rt, &app, body(), 300, json, |status, text, bytes| {
        *seen.borrow_mut().entry(status).or_default() += 1;
        prop_assert!(
            status < 500,
            "{status} for {:?}: {text}",
            String::from_utf8_lossy(bytes)
        );
        let answer: Value = serde_json::from_str(text)
            .map_err(|_| TestCaseError::fail(format!("not JSON: {text}")))?;
        Ok(status == 200 && accepted(&answer))
    });
    // The inputs reach every layer: the body parser (400), GraphQL validation and the resolvers
    // (200 with errors).
    let seen = seen.into_inner();
    eprintln!("answers by status: {seen:?}");
    assert!(seen.get(&400).is_some_and(|n| *n > 10), "{seen:?}");
    assert!(seen.get(&200).is_some_and(|n| *n > 10), "{seen:?}");
    // Still answering.
    let me = rt.block_on(app.worker().ok("{ me { roles } }", json!({})));
    assert_eq!(me["me"]["roles"], json!(["SOCIAL_WORKER"]));
}

/// A JSON Lines upload: random bytes, or lines of random JSON (some of them shaped like records).
fn upload() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        json_value().prop_map(|v| v.to_string()),
        (
            proptest::sample::select(&["child", "episode", "case"][..]),
            json_value()
        )
            .prop_map(|(kind, v)| json!({ kind: v }).to_string()),
        ".{0,40}",
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(line, 0..12).prop_map(|l| l.join("\n").into_bytes()),
    ]
}

#[test]
fn random_uploads_are_answered_line_by_line_and_change_nothing_they_reject() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let lines = ("/imports", "application/x-ndjson");
    throw(&rt, &app, upload(), 100, lines, |status, text, _| {
        prop_assert_eq!(status, 200, "{}", text);
        let last: Value = text
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| TestCaseError::fail(format!("no summary: {text}")))?;
        let summary = &last["summary"];
        prop_assert_eq!(
            summary["lines"].as_u64(),
            Some(text.lines().count() as u64 - 1)
        );
        Ok(summary["created"] != 0 || summary["updated"] != 0)
    });
}
