//! The event log: every change is an event written with it, in position order, on the case's
//! timeline; a refused change leaves none; the log is append-only for the service.

use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::support::{TestApp, complete_required, decide, open_case};

const TIMELINE: &str = "query($id: ID!) { case(id: $id) { events(first: 100) { totalCount \
    nodes { position type caseId childId recordType fields operation actorId } } } }";

async fn timeline(c: &crate::support::Caller, case: &str) -> Vec<Value> {
    c.ok(TIMELINE, json!({ "id": case })).await["case"]["events"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn every_change_is_an_event_on_the_case_timeline_in_position_order() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "EV1", 30).await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;

    let events = timeline(&w, &f.case).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"CASE_OPENED"), "{types:?}");
    assert_eq!(types[1], "STAGE_ENTERED", "{types:?}");
    assert!(types.contains(&"CHECKLIST_ITEM_UPDATED"), "{types:?}");
    let d1 = types
        .iter()
        .position(|t| *t == "DECISION_RECORDED")
        .unwrap();
    assert!(
        types[d1..].contains(&"STAGE_COMPLETED") && types[d1..].contains(&"STAGE_ENTERED"),
        "D1 = yes completes IDENTIFICATION and enters ASSESSMENT: {types:?}"
    );
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "{positions:?}");
    let me = w.ok("{ me { id } }", json!({})).await["me"]["id"].clone();
    for e in &events {
        assert_eq!(e["caseId"], f.case);
        assert_eq!(e["childId"], f.child);
        assert_eq!(e["actorId"], me);
    }
    let decision = &events[d1];
    assert_eq!(decision["operation"], "decisionRecord");
    assert_eq!(decision["recordType"], "decision");
    assert!(
        decision["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("outcome"))
    );
    // The child's own events stand in the log outside the case's timeline.
    let child_events = app
        .scalar("SELECT COUNT(*) FROM case_event WHERE event_type IN ('CHILD_CREATED', 'EPISODE_OPENED') AND case_id IS NULL")
        .await;
    assert_eq!(child_events, 2);

    // A refused change (D2 before RC1 is agreed) and a read leave no event.
    let before = app.scalar("SELECT COUNT(*) FROM case_event").await;
    w.refused(
        "decisionRecord",
        "decision { id }",
        json!({ "caseId": f.case, "kind": "D3", "outcome": "YES", "rationale": "Synthetic." }),
        "WRONG_STAGE",
    )
    .await;
    timeline(&w, &f.case).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM case_event").await, before);

    // Another LA sees no such case, so no timeline.
    let other = app
        .caller("202", &["social_worker"])
        .ok(TIMELINE, json!({ "id": f.case }))
        .await;
    assert!(other["case"].is_null());

    // Append-only for the service's own connection.
    for sql in [
        "UPDATE case_event SET event_type = 'CASE_CHANGED'",
        "DELETE FROM case_event",
    ] {
        assert!(app.app_db.execute_unprepared(sql).await.is_err(), "{sql}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM case_event").await, before);
}
