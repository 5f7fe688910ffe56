//! `reunify seed-demo`: a synthetic LA (999) with cases at every stage, loaded once.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn demo_la_has_cases_at_every_stage() {
    let app = TestApp::spawn().await;
    let summary = api::seed::demo(&app.db).await.unwrap();
    assert!(summary.contains("loaded with 8"), "{summary}");
    let again = api::seed::demo(&app.db).await.unwrap();
    assert!(again.contains("nothing to do"), "{again}");

    let w = app.caller("999", &["social_worker"]);
    let data = w
        .ok(
            "{ me { localAuthority { name sustainedRiskMonths } }
               cases(first: 20) { totalCount nodes { stage status returnType overdue
                 decisions { kind approvalStatus } agreement { status } outcome { closureReason } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["me"]["localAuthority"]["name"],
        "Demo Borough (synthetic)"
    );
    let cases = data["cases"]["nodes"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for stage in [
        "IDENTIFICATION",
        "ASSESSMENT",
        "GOALS_AND_SERVICES",
        "RETURN_DECISION",
        "RETURN_AND_SUPPORT",
    ] {
        assert!(
            cases
                .iter()
                .any(|c| c["stage"] == stage && c["status"] == "ACTIVE"),
            "no active case in {stage}"
        );
    }
    assert!(
        cases
            .iter()
            .any(|c| c["outcome"]["closureReason"] == "STABLE_AT_HOME")
    );
    assert!(
        cases
            .iter()
            .any(|c| c["outcome"]["closureReason"] == "NOT_PURSUED")
    );
    assert!(cases.iter().any(|c| c["returnType"] == "UNPLANNED"));
    assert!(
        cases
            .iter()
            .any(|c| c["returnType"] == "PLANNED" && c["status"] == "ACTIVE")
    );
    assert!(cases.iter().any(|c| {
        c["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["approvalStatus"] == "PENDING")
    }));
    assert!(cases.iter().any(|c| c["overdue"] == true));
    // Every case has its timeline, in the order things were done: opened first.
    let timelines = w
        .ok(
            "{ cases(first: 20) { nodes { events(first: 100) { nodes { type } } } } }",
            json!({}),
        )
        .await;
    for c in timelines["cases"]["nodes"].as_array().unwrap() {
        let events = c["events"]["nodes"].as_array().unwrap();
        assert!(!events.is_empty(), "a demo case without a timeline");
        assert_eq!(events[0]["type"], "CASE_OPENED", "{events:?}");
    }
    // The demo LA is invisible to other LAs.
    let other = app.worker().ok("{ cases { totalCount } }", json!({})).await;
    assert_eq!(other["cases"]["totalCount"], 0);
}
