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

/// A record created without a value in an optional field does not name that field among the
/// event's (or the audit row's) fields; one created with it does.
#[tokio::test]
async fn a_visit_without_observations_does_not_name_observations() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "EV9", 30).await;
    for (n, observations) in [(0, None), (1, Some("Synthetic observations."))] {
        let mut input = json!({
            "caseId": f.case,
            "visitedOn": crate::support::days_ago(3 - n),
            "childSeen": true,
            "childSeenAlone": true,
        });
        if let Some(o) = observations {
            input["observations"] = json!(o);
        }
        w.must("visitRecord", "visit { id }", input).await;
    }
    let visits: Vec<Value> = timeline(&w, &f.case)
        .await
        .into_iter()
        .filter(|e| e["type"] == "VISIT_RECORDED")
        .collect();
    assert_eq!(visits.len(), 2, "{visits:#?}");
    let names = |e: &Value| -> Vec<String> {
        e["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    };
    let (without, with) = (names(&visits[0]), names(&visits[1]));
    assert!(!without.contains(&"observations".to_owned()), "{without:?}");
    assert!(without.contains(&"visited_on".to_owned()), "{without:?}");
    assert!(with.contains(&"observations".to_owned()), "{with:?}");
    let audited = app
        .scalar(
            "SELECT COUNT(*) FROM audit_event WHERE record_type = 'visit' AND action = 'CREATE' \
             AND fields LIKE '%observations%'",
        )
        .await;
    assert_eq!(audited, 1, "only the visit with observations names them");
}
