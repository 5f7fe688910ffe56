//! Each gate of the framework refuses with its user error, and changes nothing.

use serde_json::json;

use crate::support::{TestApp, classify, complete_required, days_ago, decide, open_case, sign_off};

const CASE: &str = "case { stage status version }";

#[tokio::test]
async fn decisions_wait_for_their_stage_checklist_and_classification() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "G1", 10).await;
    let d = |kind: &str, outcome: &str| json!({ "caseId": f.case, "kind": kind, "outcome": outcome, "rationale": "Synthetic." });

    // D2 in IDENTIFICATION: wrong stage. D1 = yes with the checklist open: incomplete.
    w.refused("decisionRecord", CASE, d("D2", "YES"), "WRONG_STAGE")
        .await;
    // Stage 0's required action is proven by the case's opening: nobody ticks it.
    let opened = w
        .ok(
            "query($id: ID!) { case(id: $id) { stages { checklist { key completed evidenced derivedFrom } } } }",
            json!({ "id": f.case }),
        )
        .await;
    let item = &opened["case"]["stages"][0]["checklist"][0];
    assert_eq!(item["key"], "return_considered");
    assert_eq!(item["derivedFrom"], "CASE_OPENED");
    assert_eq!(item["evidenced"], true);
    // A "no" needs the alternative permanence plan, which cannot be a return home.
    w.refused(
        "decisionRecord",
        CASE,
        d("D1", "NO"),
        "ALTERNATIVE_PLAN_REQUIRED",
    )
    .await;
    let mut no_return = d("D1", "NO");
    no_return["alternativePlan"] = json!("RETURN6M");
    w.refused("decisionRecord", CASE, no_return, "INVALID_CODE")
        .await;
    // An empty rationale is refused.
    let mut empty = d("D1", "DEFERRED");
    empty["rationale"] = json!("  ");
    w.refused("decisionRecord", CASE, empty, "INVALID").await;
    // Deferred keeps the case where it is.
    let p = decide(&w, &f.case, "D1", "DEFERRED", json!({})).await;
    assert_eq!(p["case"]["stage"], "IDENTIFICATION");

    complete_required(&w, &f.case).await;
    let p = decide(&w, &f.case, "D1", "YES", json!({})).await;
    assert_eq!(p["case"]["stage"], "ASSESSMENT");

    // D2 without an agreed RC1.
    complete_required(&w, &f.case).await;
    w.refused(
        "decisionRecord",
        CASE,
        d("D2", "YES"),
        "RISK_CLASSIFICATION_REQUIRED",
    )
    .await;
    // RC2 belongs to stage 3; a social worker cannot agree a classification.
    w.refused(
        "riskClassificationPropose",
        "classification { id }",
        json!({ "caseId": f.case, "kind": "RC2", "level": "LOW", "rationale": "Synthetic." }),
        "WRONG_STAGE",
    )
    .await;
    let rc1 = w
        .must(
            "riskClassificationPropose",
            "classification { id agreed }",
            json!({ "caseId": f.case, "kind": "RC1", "level": "HIGH", "rationale": "Synthetic." }),
        )
        .await["classification"]["id"]
        .clone();
    w.refused(
        "decisionRecord",
        CASE,
        d("D2", "YES"),
        "RISK_CLASSIFICATION_REQUIRED",
    )
    .await;
    let body = w
        .gql(
            "mutation($id: ID!) { riskClassificationAgree(input: {classificationId: $id}) { userErrors { code } } }",
            json!({ "id": rc1 }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    m.must(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc1 }),
    )
    .await;
    m.refused(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc1 }),
        "ALREADY_RECORDED",
    )
    .await;
    let case = w
        .ok(
            "query($id: ID!) { case(id: $id) { riskLevel } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(case["case"]["riskLevel"], "HIGH");

    // A stale expectedVersion is a conflict naming the current version.
    let mut stale = d("D2", "YES");
    stale["expectedVersion"] = json!(1);
    let p = w.refused("decisionRecord", CASE, stale, "CONFLICT").await;
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("current version")
    );

    sign_off(&m, &f.case, 0).await;
    let p = decide(&w, &f.case, "D2", "YES", json!({})).await;
    assert_eq!(p["case"]["stage"], "GOALS_AND_SERVICES");
    // Stage 2 ends only with an agreed parental agreement that has a goal.
    w.refused(
        "goalsStageComplete",
        CASE,
        json!({ "caseId": f.case }),
        "AGREEMENT_REQUIRED",
    )
    .await;
    // D3 before stage 3.
    w.refused("decisionRecord", CASE, d("D3", "YES"), "WRONG_STAGE")
        .await;
}

#[tokio::test]
async fn no_closes_the_case_as_not_pursued_with_an_outcome() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "G2", 10).await;
    let p = decide(
        &w,
        &f.case,
        "D1",
        "NO",
        json!({ "alternativePlan": "LTFOST18" }),
    )
    .await;
    assert_eq!(p["case"]["status"], "CLOSED");
    let c = w
        .ok(
            "query($id: ID!) { case(id: $id) { status alternativePlan outcome { closureReason closedOn } decisions { kind outcome } } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(c["case"]["alternativePlan"], "LTFOST18");
    assert_eq!(c["case"]["outcome"]["closureReason"], "NOT_PURSUED");
    // A closed case does not change.
    w.refused(
        "caseAssign",
        "case { id }",
        json!({ "caseId": f.case, "team": "South" }),
        "CASE_CLOSED",
    )
    .await;
    w.refused(
        "decisionRecord",
        CASE,
        json!({ "caseId": f.case, "kind": "D1", "outcome": "YES", "rationale": "x" }),
        "CASE_CLOSED",
    )
    .await;
    // A new attempt for the same child is attempt 2.
    let p = w
        .must(
            "caseOpen",
            "case { attemptNumber }",
            json!({ "childId": f.child, "episodeId": f.episode }),
        )
        .await;
    assert_eq!(p["case"]["attemptNumber"], 2);
    w.refused(
        "caseOpen",
        "case { id }",
        json!({ "childId": f.child, "episodeId": f.episode }),
        "DUPLICATE",
    )
    .await;
}

#[tokio::test]
async fn unplanned_return_enters_stage_4_and_breakdown_needs_reentry() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "G3", 40).await;
    // A planned return needs D3 = yes.
    w.refused(
        "returnRecord",
        CASE,
        json!({ "caseId": f.case, "returnedOn": days_ago(2) }),
        "WRONG_STAGE",
    )
    .await;
    let p = w
        .must(
            "returnRecord",
            "case { stage returnType episode { endedOn reasonCeased } }",
            json!({ "caseId": f.case, "returnedOn": days_ago(2), "unplanned": true }),
        )
        .await;
    assert_eq!(p["case"]["stage"], "RETURN_AND_SUPPORT");
    assert_eq!(p["case"]["returnType"], "UNPLANNED");
    assert_eq!(p["case"]["episode"]["reasonCeased"], "E4B");
    w.refused(
        "returnRecord",
        CASE,
        json!({ "caseId": f.case, "returnedOn": days_ago(1), "unplanned": true }),
        "ALREADY_RECORDED",
    )
    .await;
    let close = json!({ "caseId": f.case, "reason": "BROKE_DOWN", "rationale": "Synthetic." });
    w.refused("caseClose", CASE, close.clone(), "OUTCOME_REQUIRED")
        .await;
    w.refused("caseClose", CASE, json!({ "caseId": f.case, "reason": "NOT_PURSUED", "rationale": "x", "alternativePlan": "LTFOST18" }), "WRONG_STAGE").await;
    let mut with_date = close;
    with_date["reenteredCareOn"] = json!(days_ago(1));
    let p = w.must("caseClose", CASE, with_date).await;
    assert_eq!(p["case"]["status"], "CLOSED");
    let c = w.ok("query($id: ID!) { case(id: $id) { outcome { returnType returnedOn reenteredCareOn closureReason } } }", json!({ "id": f.case })).await;
    assert_eq!(c["case"]["outcome"]["closureReason"], "BROKE_DOWN");
    assert_eq!(c["case"]["outcome"]["returnType"], "UNPLANNED");
    assert_eq!(c["case"]["outcome"]["reenteredCareOn"], json!(days_ago(1)));
}

#[tokio::test]
async fn classification_gate_holds_until_agreed() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "G4", 10).await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    classify(&w, &m, &f.case, "RC1", "LOW", 0).await;
    complete_required(&w, &f.case).await;
    sign_off(&m, &f.case, 0).await;
    let p = decide(&w, &f.case, "D2", "YES", json!({})).await;
    assert_eq!(p["case"]["stage"], "GOALS_AND_SERVICES");
}

#[tokio::test]
async fn a_team_manager_signs_off_a_complete_assessment_once() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "SIGN1", 30).await;
    let sign = json!({ "caseId": f.case });
    const STAGE: &str = "stage { stage signedOffOn signedOffBy { id } }";

    // Not in ASSESSMENT yet.
    m.refused("assessmentSignOff", STAGE, sign.clone(), "WRONG_STAGE")
        .await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    // The assessment's required practice actions are not done.
    m.refused(
        "assessmentSignOff",
        STAGE,
        sign.clone(),
        "CHECKLIST_INCOMPLETE",
    )
    .await;
    complete_required(&w, &f.case).await;
    // A social worker may not sign it off, and nothing is recorded.
    let refused = w
        .gql(
            "mutation($i: AssessmentSignOffInput!) { assessmentSignOff(input: $i) { stage { id } } }",
            json!({ "i": sign }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let signed = app
        .scalar("SELECT COUNT(*) FROM stage_progress WHERE signed_off_on IS NOT NULL")
        .await;
    assert_eq!(signed, 0);

    let done = m.must("assessmentSignOff", STAGE, sign.clone()).await;
    assert_eq!(done["stage"]["stage"], "ASSESSMENT");
    assert_eq!(done["stage"]["signedOffOn"], days_ago(0));
    let me = m.ok("{ me { id } }", json!({})).await;
    assert_eq!(done["stage"]["signedOffBy"]["id"], me["me"]["id"]);
    m.refused("assessmentSignOff", STAGE, sign, "ALREADY_RECORDED")
        .await;
}
