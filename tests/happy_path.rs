//! One case from identification to closure by GraphQL alone, and the whole case in one request.

use serde_json::{Value, json};

use crate::support::{TestApp, classify, complete_required, days_ago, decide, open_case, sign_off};

const FULL: &str = "query($id: ID!) { case(id: $id) {
  id stage status returnType riskLevel attemptNumber nextReviewOn version
  child { laChildId nhsNumber upn householdMembers { id relationship } }
  episode { startedOn legalStatus endedOn reasonCeased }
  stages { stage enteredOn completedOn completeness checklist { key required completed } }
  decisions { kind outcome approvalStatus approvedBy { id } plannedReturnOn }
  riskClassifications { kind level agreed }
  factors { kind category status }
  childViews { inOwnWords }
  agreement { number status agreedOn parties { householdMember { relationship } acceptedOn }
    goals { description status latestRating sustainedSince reviews { rating } } }
  goals { id latestRating }
  supportPlan { contingencyPlan trustedAdult }
  services { serviceType needLevel status }
  visits(first: 10) { totalCount nodes { childSeen childSeenAlone } }
  reviews { kind nextReviewOn }
  outcome { returnedOn returnType closureReason closedOn homeAt3Months }
} }";

#[tokio::test]
async fn a_case_goes_from_identification_to_closure() {
    let app = TestApp::spawn().await;
    let (w, m, o) = (app.worker(), app.manager(), app.officer());
    // Looked after for 400 days: D3 will need a nominated officer's approval; the goals will hold
    // green for the LA's 12 weeks, and support will run six months after the return.
    let f = open_case(&w, "HAPPY1", 400).await;
    let mother = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "label": "Mother", "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();

    // Stage 0 → D1.
    complete_required(&w, &f.case).await;
    let d1 = decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(390) }),
    )
    .await;
    assert_eq!(d1["case"]["stage"], "ASSESSMENT");

    // Stage 1: the child's views, risk and protective factors, RC1, sign-off, D2.
    w.must("childViewRecord", "childView { id }", json!({ "caseId": f.case, "recordedOn": days_ago(388), "inOwnWords": true, "content": "Synthetic words." })).await;
    w.must(
        "assessmentFactorRecord",
        "factor { id }",
        json!({ "caseId": f.case, "householdMemberId": mother, "kind": "RISK", "category": "ALCOHOL_MISUSE", "status": "CURRENT", "evidence": "Synthetic.", "recordedOn": days_ago(388) }),
    )
    .await;
    w.must(
        "assessmentFactorRecord",
        "factor { id }",
        json!({ "caseId": f.case, "householdMemberId": mother, "kind": "PROTECTIVE", "category": "ENGAGEMENT_WITH_SERVICES", "evidence": "Synthetic.", "recordedOn": days_ago(388) }),
    )
    .await;
    complete_required(&w, &f.case).await;
    classify(&w, &m, &f.case, "RC1", "MEDIUM", 385).await;
    sign_off(&m, &f.case, 385).await;
    let d2 = decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(380) }),
    )
    .await;
    assert_eq!(d2["case"]["stage"], "GOALS_AND_SERVICES");

    // Stage 2: agreement accepted by the mother, goal, reviews green for 12 weeks, services, plan.
    let agreement = w
        .must(
            "agreementCreate",
            "agreement { id number status parties { id } }",
            json!({ "caseId": f.case, "parties": [{ "householdMemberId": mother, "strengths": "Synthetic.", "concerns": "Synthetic." }] }),
        )
        .await["agreement"]
        .clone();
    assert_eq!(agreement["number"], 1);
    let goal = w
        .must(
            "goalAdd",
            "goal { id status }",
            json!({ "agreementId": agreement["id"], "householdMemberId": mother, "description": "Synthetic goal.", "steps": "Synthetic steps.",
                    "responsible": "Mother", "supportOffered": "Synthetic support.", "targetDate": days_ago(-90) }),
        )
        .await["goal"]["id"]
        .clone();
    w.refused(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement["id"], "agreedOn": days_ago(370) }),
        "ACCEPTANCE_REQUIRED",
    )
    .await;
    w.must(
        "agreementPartyAccept",
        "party { acceptedOn }",
        json!({ "partyId": agreement["parties"][0]["id"], "acceptedOn": days_ago(370) }),
    )
    .await;
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement["id"], "agreedOn": days_ago(370) }),
    )
    .await;
    w.must("goalReview", "goal { latestRating sustainedSince }", json!({ "goalId": goal, "rating": "GREEN", "note": "Synthetic.", "evidence": "Synthetic.", "reviewedOn": days_ago(360) })).await;
    w.must("goalReview", "goal { latestRating sustainedSince }", json!({ "goalId": goal, "rating": "GREEN", "note": "Synthetic.", "evidence": "Synthetic.", "reviewedOn": days_ago(275) })).await;
    w.must(
        "serviceAdd",
        "service { id }",
        json!({ "caseId": f.case, "serviceType": "DRUG_AND_ALCOHOL", "provider": "Synthetic provider", "needLevel": "HIGH", "startsOn": days_ago(300), "status": "ACTIVE" }),
    )
    .await;
    w.must("supportPlanUpdate", "supportPlan { id }", json!({ "caseId": f.case, "contingencyPlan": "Synthetic plan.", "trustedAdult": "Synthetic adult" })).await;
    complete_required(&w, &f.case).await;
    w.must(
        "goalsStageComplete",
        "case { stage }",
        json!({ "caseId": f.case, "completedOn": days_ago(270) }),
    )
    .await;

    // Stage 3: RC2, D3 awaiting approval; the return waits for it.
    classify(&w, &m, &f.case, "RC2", "LOW", 265).await;
    complete_required(&w, &f.case).await;
    let d3 = decide(
        &w,
        &f.case,
        "D3",
        "YES",
        json!({ "decidedOn": days_ago(260), "plannedReturnOn": days_ago(250) }),
    )
    .await;
    assert_eq!(d3["decision"]["approvalStatus"], "PENDING");
    assert_eq!(d3["case"]["stage"], "RETURN_DECISION");
    w.refused(
        "returnRecord",
        "case { stage }",
        json!({ "caseId": f.case, "returnedOn": days_ago(250) }),
        "DECISION_REQUIRED",
    )
    .await;
    w.refused(
        "decisionRecord",
        "case { stage }",
        json!({ "caseId": f.case, "kind": "D3", "outcome": "YES", "rationale": "Again." }),
        "ALREADY_RECORDED",
    )
    .await;
    let body = m
        .gql("mutation($id: ID!) { decisionApprove(input: {decisionId: $id}) { userErrors { code } } }", json!({ "id": d3["decision"]["id"] }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "only a nominated officer approves D3"
    );
    o.must(
        "decisionApprove",
        "decision { approvalStatus }",
        json!({ "decisionId": d3["decision"]["id"], "approvedOn": days_ago(259) }),
    )
    .await;
    o.refused(
        "decisionApprove",
        "decision { approvalStatus }",
        json!({ "decisionId": d3["decision"]["id"] }),
        "APPROVAL_REQUIRED",
    )
    .await;

    // Stage 4: the return, visits, reviews, RC3, closure.
    let ret = w
        .must(
            "returnRecord",
            "case { stage returnType }",
            json!({ "caseId": f.case, "returnedOn": days_ago(250) }),
        )
        .await;
    assert_eq!(ret["case"]["stage"], "RETURN_AND_SUPPORT");
    assert_eq!(ret["case"]["returnType"], "PLANNED");
    w.must("visitRecord", "visit { id }", json!({ "caseId": f.case, "visitedOn": days_ago(240), "childSeen": true, "childSeenAlone": true, "observations": "Synthetic." })).await;
    w.must("reviewRecord", "review { id }", json!({ "caseId": f.case, "kind": "PLAN", "heldOn": days_ago(230), "decisions": "Synthetic.", "nextReviewOn": days_ago(-28) })).await;
    classify(&w, &m, &f.case, "RC3", "LOW", 50).await;
    complete_required(&w, &f.case).await;
    let closed = w
        .must("caseClose", "case { status }", json!({ "caseId": f.case, "reason": "STABLE_AT_HOME", "rationale": "Synthetic.", "maltreatmentAfterReturn": "NO" }))
        .await;
    assert_eq!(closed["case"]["status"], "CLOSED");

    // Everything, in one request.
    let c: Value = w.ok(FULL, json!({ "id": f.case })).await["case"].clone();
    assert_eq!(c["status"], "CLOSED");
    assert_eq!(c["episode"]["reasonCeased"], "E4A");
    assert_eq!(c["stages"].as_array().unwrap().len(), 5);
    assert!(
        c["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["completedOn"].is_null())
    );
    let kinds: Vec<&str> = c["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["D1", "D2", "D3", "CLOSURE"]);
    assert_eq!(c["decisions"][2]["approvalStatus"], "APPROVED");
    let rcs: Vec<&str> = c["riskClassifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(rcs, ["RC1", "RC2", "RC3"]);
    assert_eq!(c["factors"].as_array().unwrap().len(), 2);
    assert_eq!(c["agreement"]["status"], "ACTIVE");
    assert_eq!(c["agreement"]["goals"][0]["latestRating"], "GREEN");
    assert_eq!(
        c["agreement"]["goals"][0]["sustainedSince"],
        json!(days_ago(360))
    );
    assert_eq!(c["services"][0]["needLevel"], "HIGH");
    assert_eq!(c["supportPlan"]["trustedAdult"], "Synthetic adult");
    assert_eq!(c["visits"]["totalCount"], 1);
    assert_eq!(c["nextReviewOn"], json!(days_ago(-28)));
    assert_eq!(c["outcome"]["closureReason"], "STABLE_AT_HOME");
    assert_eq!(c["outcome"]["returnType"], "PLANNED");
    assert_eq!(c["outcome"]["returnedOn"], json!(days_ago(250)));

    // Follow-up is recorded after closure, but not before its time has come.
    w.refused(
        "outcomeFollowUp",
        "outcome { id }",
        json!({ "caseId": f.case, "homeAt12Months": true }),
        "INVALID_DATE",
    )
    .await;
    let p = w
        .must(
            "outcomeFollowUp",
            "outcome { maltreatmentAfterReturn }",
            json!({ "caseId": f.case, "maltreatmentAfterReturn": "NO" }),
        )
        .await;
    assert_eq!(p["outcome"]["maltreatmentAfterReturn"], "NO");
}

#[tokio::test]
async fn high_risk_must_be_sustained_lower_before_return_decision() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    app.caller("201", &["la_admin"])
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { sustainedRiskMonths }",
            json!({ "sustainedRiskMonths": 6 }),
        )
        .await;
    let f = open_case(&w, "RISK1", 300).await;
    let mother = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    complete_required(&w, &f.case).await;
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(280) }),
    )
    .await;
    complete_required(&w, &f.case).await;
    classify(&w, &m, &f.case, "RC1", "HIGH", 270).await;
    sign_off(&m, &f.case, 270).await;
    decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(270) }),
    )
    .await;
    let agreement = w
        .must("agreementCreate", "agreement { id }", json!({ "caseId": f.case, "parties": [{ "householdMemberId": mother, "strengths": "S.", "concerns": "C." }] }))
        .await["agreement"]["id"]
        .clone();
    let goal = w
        .must(
            "goalAdd",
            "goal { id }",
            json!({ "agreementId": agreement, "description": "G.", "steps": "S.", "responsible": "Mother", "supportOffered": "S.", "targetDate": days_ago(-30) }),
        )
        .await["goal"]["id"]
        .clone();
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement, "withoutAcceptanceReason": "Synthetic: mother agreed in the meeting; signature to follow." }),
    )
    .await;
    // Green since 130 days ago: sustained for the LA's 12 weeks, but not for the 6 months the
    // sustained-risk policy asks after a High.
    for ago in [130, 40] {
        w.must("goalReview", "goal { id }", json!({ "goalId": goal, "rating": "GREEN", "reviewedOn": days_ago(ago), "note": "N.", "evidence": "E." })).await;
    }
    complete_required(&w, &f.case).await;
    w.must(
        "goalsStageComplete",
        "case { stage }",
        json!({ "caseId": f.case, "completedOn": days_ago(35) }),
    )
    .await;
    // RC2 is Medium only since 30 days ago: not sustained for 6 months.
    classify(&w, &m, &f.case, "RC2", "MEDIUM", 30).await;
    complete_required(&w, &f.case).await;
    let p = w
        .refused(
            "decisionRecord",
            "case { stage }",
            json!({ "caseId": f.case, "kind": "D3", "outcome": "YES", "rationale": "Synthetic." }),
            "RISK_NOT_SUSTAINED",
        )
        .await;
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("6 months")
    );
    // A "no" is still possible, with the alternative plan.
    let p = decide(
        &w,
        &f.case,
        "D3",
        "NO",
        json!({ "alternativePlan": "LTRELFR" }),
    )
    .await;
    assert_eq!(p["case"]["status"], "CLOSED");
}
