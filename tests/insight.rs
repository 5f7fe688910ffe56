//! Aggregates over HTTP: the case facts follow every write (a re-entry found from a later episode
//! of care, a child going home twice), small counts are withheld from data analysts, and the
//! facts are rebuilt by `migrate` when missing.

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, days_ago, open_case};

const RETURNS: &str = "query($f: InsightFilter, $g: [Dimension!]) {
  insight(filter: $f, groupBy: $g) {
    returns { key { dimension value } planned { value suppressed } unplanned { value suppressed } children { value suppressed } }
    reentries { months children { value } count { value } rate }
    cases { key { dimension value } cases { value suppressed } }
  } }";

async fn insight(c: &Caller, filter: Value, group_by: Value) -> Value {
    c.ok(RETURNS, json!({ "f": filter, "g": group_by })).await["insight"].clone()
}

/// Child 1 goes home unplanned 300 days ago, its case closes, it comes back into care 250 days
/// ago (a new episode) and goes home again, unplanned, 100 days ago on a second case; child 2
/// goes home unplanned 150 days ago.
async fn fixture(w: &Caller) {
    let first = open_case(w, "INSIGHT1", 400).await;
    let home = |case: String, days: i64| {
        w.must(
            "returnRecord",
            "case { stage }",
            json!({ "caseId": case, "returnedOn": days_ago(days), "unplanned": true }),
        )
    };
    home(first.case.clone(), 300).await;
    w.must(
        "caseClose",
        "case { status }",
        json!({ "caseId": first.case, "reason": "OTHER", "rationale": "Synthetic.", "closedOn": days_ago(260) }),
    )
    .await;
    let episode = w
        .must(
            "episodeOpen",
            "episode { id }",
            json!({ "childId": first.child, "startedOn": days_ago(250), "legalStatus": "V2",
                    "categoryOfNeed": "N1", "placementType": "U6" }),
        )
        .await["episode"]["id"]
        .clone();
    let second = w
        .must(
            "caseOpen",
            "case { id attemptNumber }",
            json!({ "childId": first.child, "episodeId": episode, "team": "South", "openedOn": days_ago(249) }),
        )
        .await["case"]
        .clone();
    assert_eq!(second["attemptNumber"], 2);
    home(second["id"].as_str().unwrap().to_owned(), 100).await;
    let other = open_case(w, "INSIGHT2", 200).await;
    home(other.case, 150).await;
}

#[tokio::test]
async fn aggregates_follow_the_records() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    fixture(&w).await;

    // All time: each child once, by its last return; both unplanned (E4B).
    let all = insight(&m, json!({}), json!([])).await;
    let r = &all["returns"][0];
    assert_eq!(r["unplanned"]["value"], 2, "{all:#}");
    assert_eq!(r["planned"]["value"], 0);
    // Both last returns are past their 3-month window and neither child came back.
    assert_eq!(
        all["reentries"],
        json!([{ "months": 3, "children": { "value": 2 }, "count": { "value": 0 }, "rate": 0.0 }])
    );

    // The first return alone: the new episode 50 days later is a re-entry within 3 and 12 months.
    let first = insight(
        &m,
        json!({ "from": days_ago(310), "to": days_ago(290) }),
        json!([]),
    )
    .await;
    assert_eq!(first["returns"][0]["children"]["value"], 1, "{first:#}");
    assert_eq!(
        first["reentries"],
        json!([
            { "months": 3, "children": { "value": 1 }, "count": { "value": 1 }, "rate": 1.0 },
            { "months": 12, "children": { "value": 1 }, "count": { "value": 1 }, "rate": 1.0 }
        ])
    );

    // Grouped by attempt and filtered by legal status (of each case's own episode).
    let by_attempt = insight(&m, json!({ "legalStatuses": ["V2"] }), json!(["ATTEMPT"])).await;
    assert_eq!(
        by_attempt["cases"],
        json!([{ "key": [{ "dimension": "ATTEMPT", "value": "2" }], "cases": { "value": 1, "suppressed": false } }])
    );

    // A data analyst sees counts below 5 withheld; rounding is the caller's choice.
    let analyst = app.caller("201", &["data_analyst"]);
    let seen = insight(&analyst, json!({}), json!(["TEAM"])).await;
    for group in seen["returns"].as_array().unwrap() {
        assert_eq!(
            group["children"],
            json!({ "value": null, "suppressed": true }),
            "{seen:#}"
        );
    }
    assert_eq!(seen["reentries"][0]["rate"], Value::Null);
    // Another LA's analyst sees nothing of LA 201.
    let elsewhere = insight(&app.caller("202", &["data_analyst"]), json!({}), json!([])).await;
    assert_eq!(elsewhere["returns"], json!([]));
    assert_eq!(elsewhere["cases"], json!([]));
    // A caller without aggregates:read is refused.
    let iro = app.caller("201", &["iro"]).gql(RETURNS, json!({})).await;
    assert_eq!(
        iro["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{iro:#}"
    );
    // Bad filters are user errors naming the field.
    let bad = m
        .gql(RETURNS, json!({ "f": { "ageBands": ["TEENS"] }, "g": [] }))
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad:#}"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("TEENS"),
        "{bad:#}"
    );

    // The facts are derived: dropped, `migrate` builds them again, and the figures are the same.
    let facts = app.scalar("SELECT COUNT(*) FROM case_fact").await;
    assert_eq!(facts, 3);
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("DELETE FROM case_fact")
        .await
        .unwrap();
    assert_eq!(insight(&m, json!({}), json!([])).await["cases"], json!([]));
    api::server::migrate(&app.config()).await.unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM case_fact").await, 3);
    assert_eq!(insight(&m, json!({}), json!([])).await, all);
}
