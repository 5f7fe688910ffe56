//! The `cases` connection: filters, ordering and cursor paging.

use serde_json::{Value, json};

use crate::support::{TestApp, classify, complete_required, decide, open_case};

const LIST: &str = "query($f: CaseFilter, $o: CaseOrderBy, $first: Int, $after: String, $last: Int, $before: String) {
  cases(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { child { laChildId } } } } }";

fn ids(v: &Value) -> Vec<String> {
    v["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["child"]["laChildId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn filters_order_and_pages() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    // L1 opened 30 days ago, L2 20, L3 10; L2 moves to ASSESSMENT with an agreed RC1 of HIGH.
    let l1 = open_case(&w, "L1", 31).await;
    let l2 = open_case(&m, "L2", 21).await;
    let _l3 = open_case(&w, "L3", 11).await;
    complete_required(&w, &l2.case).await;
    decide(&w, &l2.case, "D1", "YES", json!({})).await;
    classify(&w, &m, &l2.case, "RC1", "HIGH", 0).await;
    w.must(
        "caseAssign",
        "case { team }",
        json!({ "caseId": l1.case, "team": "South" }),
    )
    .await;

    let list = |f: Value| {
        let w = w.clone();
        async move { ids(&w.ok(LIST, json!({ "f": f })).await) }
    };
    assert_eq!(list(json!({ "stages": ["ASSESSMENT"] })).await, ["L2"]);
    assert_eq!(
        list(json!({ "stages": ["IDENTIFICATION", "ASSESSMENT"] })).await,
        ["L1", "L2", "L3"]
    );
    assert_eq!(list(json!({ "team": "South" })).await, ["L1"]);
    assert_eq!(
        list(json!({ "riskLevels": ["HIGH", "VERY_HIGH"] })).await,
        ["L2"]
    );
    assert_eq!(
        list(json!({ "status": "CLOSED" })).await,
        Vec::<String>::new()
    );
    assert_eq!(list(json!({ "overdue": false })).await.len(), 3);
    assert_eq!(list(json!({ "childId": l1.child })).await, ["L1"]);
    // The manager opened L2 without being a social worker: no worker allocated. The worker has L1 and L3.
    let me = w.ok("{ me { id } }", json!({})).await["me"]["id"].clone();
    assert_eq!(list(json!({ "allocatedWorkerId": me })).await, ["L1", "L3"]);

    // Ordering by opening date, newest first, paged two at a time.
    let order = json!({ "field": "OPENED_ON", "direction": "DESC" });
    let p1 = w.ok(LIST, json!({ "o": order, "first": 2 })).await;
    assert_eq!(ids(&p1), ["L3", "L2"]);
    assert_eq!(p1["cases"]["totalCount"], 3);
    assert_eq!(p1["cases"]["pageInfo"]["hasNextPage"], true);
    let after = p1["cases"]["pageInfo"]["endCursor"].clone();
    // A case added now does not shift the next page.
    open_case(&w, "L4", 1).await;
    let p2 = w
        .ok(LIST, json!({ "o": order, "first": 2, "after": after }))
        .await;
    assert_eq!(ids(&p2), ["L1"]);
    assert_eq!(p2["cases"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(p2["cases"]["pageInfo"]["hasPreviousPage"], true);
    // Backwards from L1: the two before it.
    let before = p2["cases"]["edges"][0]["cursor"].clone();
    let back = w
        .ok(LIST, json!({ "o": order, "last": 2, "before": before }))
        .await;
    assert_eq!(ids(&back), ["L3", "L2"]);
    assert_eq!(back["cases"]["pageInfo"]["hasPreviousPage"], true);
    // Default order: oldest record first; last 1 is the newest.
    assert_eq!(ids(&w.ok(LIST, json!({ "last": 1 })).await), ["L4"]);
}
