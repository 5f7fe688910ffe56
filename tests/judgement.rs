//! The framework's judgement over HTTP: each gate on what the records say refuses with its code
//! and changes nothing (the case's version, its decisions and classifications stay as they were).

use serde_json::{Value, json};

use crate::support::{
    Caller, Fixture, TestApp, classify, complete_required, days_ago, decide, open_case, sign_off,
    to_d3,
};

const CASE: &str = "case { stage status version }";

/// What a refused mutation must leave as it was.
async fn state(app: &TestApp, w: &Caller, case: &str) -> Value {
    let c = w
        .ok(
            "query($id: ID!) { case(id: $id) { version stage status
                decisions { kind approvalStatus } riskClassifications { kind agreed }
                agreement { status } stages { stage signedOffOn checklist { key completed } } } }",
            json!({ "id": case }),
        )
        .await;
    json!({
        "case": c["case"],
        "decisions": app.scalar("SELECT COUNT(*) FROM decision").await,
        "classifications": app.scalar("SELECT COUNT(*) FROM risk_classification").await,
        "events": app.scalar("SELECT COUNT(*) FROM case_event").await,
    })
}

/// A case in GOALS_AND_SERVICES since `ago` days, with a mother and a draft agreement holding one
/// goal; returns the fixture, the agreement, its one party and the goal.
async fn in_stage_2(app: &TestApp, id: &str, ago: i64) -> (Fixture, Value, Value, Value) {
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, id, ago + 20).await;
    let mother = w.must("householdMemberAdd", "householdMember { id }", json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await["householdMember"]["id"].clone();
    complete_required(&w, &f.case).await;
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(ago + 10) }),
    )
    .await;
    complete_required(&w, &f.case).await;
    classify(&w, &m, &f.case, "RC1", "MEDIUM", ago + 5).await;
    sign_off(&m, &f.case, ago + 5).await;
    decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(ago) }),
    )
    .await;
    let a = w.must("agreementCreate", "agreement { id parties { id } }", json!({ "caseId": f.case, "parties": [{ "householdMemberId": mother, "strengths": "S.", "concerns": "C." }] })).await["agreement"].clone();
    let goal = w.must("goalAdd", "goal { id }", json!({ "agreementId": a["id"], "householdMemberId": mother, "description": "G.", "steps": "S.", "responsible": "Mother", "supportOffered": "S.", "targetDate": days_ago(-30) })).await["goal"]["id"].clone();
    (f, a["id"].clone(), a["parties"][0]["id"].clone(), goal)
}

async fn review(w: &Caller, goal: &Value, rating: &str, ago: i64) {
    w.must("goalReview", "goal { id }", json!({ "goalId": goal, "rating": rating, "reviewedOn": days_ago(ago), "note": "N.", "evidence": "E." })).await;
}

#[tokio::test]
async fn goals_must_be_met_and_sustained_and_the_agreement_accepted() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let (f, agreement, party, goal) = in_stage_2(&app, "J1", 200).await;
    // Agreement: the mother has parental responsibility and has not accepted it.
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement, "agreedOn": days_ago(190) }),
        "ACCEPTANCE_REQUIRED",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    w.must(
        "agreementPartyAccept",
        "party { acceptedOn }",
        json!({ "partyId": party, "acceptedOn": days_ago(190) }),
    )
    .await;
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement, "agreedOn": days_ago(190) }),
    )
    .await;
    complete_required(&w, &f.case).await;
    let complete = json!({ "caseId": f.case });

    // Not reviewed; then amber; then green for only 30 days: each refused, nothing changes.
    for step in [None, Some(("AMBER", 120)), Some(("GREEN", 30))] {
        if let Some((rating, ago)) = step {
            review(&w, &goal, rating, ago).await;
        }
        let before = state(&app, &w, &f.case).await;
        let p = w
            .refused(
                "goalsStageComplete",
                CASE,
                complete.clone(),
                "GOALS_NOT_SUSTAINED",
            )
            .await;
        assert!(
            p["userErrors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("12 weeks"),
            "{p:#}"
        );
        assert_eq!(state(&app, &w, &f.case).await, before);
    }
    // A goal is not MET without a green review: after an amber, goalRevise to MET is refused.
    review(&w, &goal, "AMBER", 20).await;
    let revise = json!({ "goalId": goal, "reason": "Synthetic.", "status": "MET" });
    w.refused(
        "goalRevise",
        "goal { status }",
        revise.clone(),
        "GOALS_NOT_SUSTAINED",
    )
    .await;
    // Green again, then MET by revision: the gate opens.
    review(&w, &goal, "GREEN", 10).await;
    let g = w.must("goalRevise", "goal { status }", revise).await;
    assert_eq!(g["goal"]["status"], "MET");
    let p = w.must("goalsStageComplete", CASE, complete).await;
    assert_eq!(p["case"]["stage"], "RETURN_DECISION");
}

#[tokio::test]
async fn green_for_the_las_weeks_opens_stage_3_and_d3() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    // This LA asks for 8 weeks.
    app.caller("201", &["la_admin"])
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { goalSustainedWeeks }",
            json!({ "goalSustainedWeeks": 8 }),
        )
        .await;
    let (f, agreement, _, goal) = in_stage_2(&app, "J2", 100).await;
    w.must("agreementAgree", "agreement { status }", json!({ "agreementId": agreement, "agreedOn": days_ago(95), "withoutAcceptanceReason": "Synthetic." })).await;
    complete_required(&w, &f.case).await;
    review(&w, &goal, "GREEN", 60).await;
    // 60 days is past 8 weeks on the stage's last day, not on a day 10 days earlier.
    w.refused(
        "goalsStageComplete",
        CASE,
        json!({ "caseId": f.case, "completedOn": days_ago(10) }),
        "GOALS_NOT_SUSTAINED",
    )
    .await;
    w.must(
        "goalsStageComplete",
        CASE,
        json!({ "caseId": f.case, "completedOn": days_ago(2) }),
    )
    .await;
    classify(&w, &m, &f.case, "RC2", "LOW", 1).await;
    complete_required(&w, &f.case).await;
    // A red review since: D3 = yes is refused, D3 = no is not judged on the goals.
    review(&w, &goal, "RED", 0).await;
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "decisionRecord",
        CASE,
        json!({ "caseId": f.case, "kind": "D3", "outcome": "YES", "rationale": "R." }),
        "GOALS_NOT_SUSTAINED",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
}

#[tokio::test]
async fn d2_waits_for_the_sign_off_and_dates_stay_in_their_stage() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "J3", 60).await;
    complete_required(&w, &f.case).await;
    // A decision cannot precede the stage it closes (entered when the case opened, 59 days ago).
    let d1 = |on: String| json!({ "caseId": f.case, "kind": "D1", "outcome": "YES", "rationale": "R.", "decidedOn": on });
    w.refused("decisionRecord", CASE, d1(days_ago(70)), "INVALID_DATE")
        .await;
    w.refused("decisionRecord", CASE, d1(days_ago(-1)), "INVALID_DATE")
        .await;
    w.must("decisionRecord", CASE, d1(days_ago(50))).await;
    complete_required(&w, &f.case).await;
    // A classification cannot precede its stage (entered 50 days ago); a visit not the case.
    let before = state(&app, &w, &f.case).await;
    w.refused("riskClassificationPropose", "classification { id }", json!({ "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "R.", "classifiedOn": days_ago(55) }), "INVALID_DATE").await;
    w.refused("visitRecord", "visit { id }", json!({ "caseId": f.case, "visitedOn": days_ago(61), "childSeen": true, "childSeenAlone": false }), "INVALID_DATE").await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    classify(&w, &m, &f.case, "RC1", "LOW", 40).await;
    // D2 (yes or no) waits for the team manager's sign-off.
    let d2 = |outcome: &str| json!({ "caseId": f.case, "kind": "D2", "outcome": outcome, "rationale": "R.", "alternativePlan": (outcome == "NO").then_some("LTRELFR") });
    let before = state(&app, &w, &f.case).await;
    for outcome in ["YES", "NO"] {
        w.refused("decisionRecord", CASE, d2(outcome), "SIGN_OFF_REQUIRED")
            .await;
    }
    assert_eq!(state(&app, &w, &f.case).await, before);
    sign_off(&m, &f.case, 10).await;
    // ... and cannot be dated before it.
    let mut early = d2("YES");
    early["decidedOn"] = json!(days_ago(20));
    w.refused("decisionRecord", CASE, early, "INVALID_DATE")
        .await;
    let p = w.must("decisionRecord", CASE, d2("YES")).await;
    assert_eq!(p["case"]["stage"], "GOALS_AND_SERVICES");
    // A required action of the completed assessment stays done.
    let items = w.ok("query($id: ID!) { case(id: $id) { stages { stage checklist { id required completed } } } }", json!({ "id": f.case })).await;
    let done = items["case"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "ASSESSMENT")
        .unwrap()["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["required"] == true)
        .unwrap()["id"]
        .clone();
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "checklistItemComplete",
        "item { id }",
        json!({ "itemId": done, "completed": false }),
        "WRONG_STAGE",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
}

#[tokio::test]
async fn four_eyes_and_who_records_decisions() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let m = app.manager();
    let both = app.caller("201", &["social_worker", "team_manager"]);
    let officer = app.officer();
    let other_officer = app.caller("201", &["nominated_officer", "iro"]);
    let family = app.caller("201", &["family_support"]);
    let f = open_case(&w, "J4", 200).await;
    complete_required(&w, &f.case).await;
    // A family-support worker does not record decisions: FORBIDDEN, nothing recorded.
    let before = state(&app, &w, &f.case).await;
    let body = family.gql("mutation($i: DecisionRecordInput!) { decisionRecord(input: $i) { userErrors { code } } }", json!({ "i": { "caseId": f.case, "kind": "D1", "outcome": "YES", "rationale": "R." } })).await;
    app.assert_refusal_audited(&body, "decisionRecord").await;
    // Nor propose a risk classification.
    let body = family.gql("mutation($i: RiskClassificationProposeInput!) { riskClassificationPropose(input: $i) { userErrors { code } } }", json!({ "i": { "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "R." } })).await;
    app.assert_refusal_audited(&body, "riskClassificationPropose")
        .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(190) }),
    )
    .await;
    // A manager who proposed a classification does not agree it, whatever roles they hold.
    let rc1 = both.must("riskClassificationPropose", "classification { id }", json!({ "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "R.", "classifiedOn": days_ago(180) })).await["classification"]["id"].clone();
    let before = state(&app, &w, &f.case).await;
    both.refused(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc1 }),
        "FOUR_EYES",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    m.must(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc1, "agreedOn": days_ago(180) }),
    )
    .await;
    complete_required(&w, &f.case).await;
    sign_off(&m, &f.case, 175).await;
    decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(170) }),
    )
    .await;
    let mother = w.must("householdMemberAdd", "householdMember { id }", json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await["householdMember"]["id"].clone();
    let a = w.must("agreementCreate", "agreement { id }", json!({ "caseId": f.case, "parties": [{ "householdMemberId": mother, "strengths": "S.", "concerns": "C." }] })).await["agreement"]["id"].clone();
    let goal = w.must("goalAdd", "goal { id }", json!({ "agreementId": a, "description": "G.", "steps": "S.", "responsible": "Mother", "supportOffered": "S.", "targetDate": days_ago(-30) })).await["goal"]["id"].clone();
    w.must("agreementAgree", "agreement { status }", json!({ "agreementId": a, "agreedOn": days_ago(165), "withoutAcceptanceReason": "Synthetic." })).await;
    review(&w, &goal, "GREEN", 160).await;
    complete_required(&w, &f.case).await;
    w.must(
        "goalsStageComplete",
        CASE,
        json!({ "caseId": f.case, "completedOn": days_ago(60) }),
    )
    .await;
    classify(&w, &m, &f.case, "RC2", "LOW", 50).await;
    complete_required(&w, &f.case).await;
    // A nominated officer who records D3 still needs another to approve it.
    let d3 = decide(
        &officer,
        &f.case,
        "D3",
        "YES",
        json!({ "decidedOn": days_ago(40) }),
    )
    .await;
    assert_eq!(d3["decision"]["approvalStatus"], "PENDING");
    let approve = json!({ "decisionId": d3["decision"]["id"] });
    let before = state(&app, &w, &f.case).await;
    officer
        .refused(
            "decisionApprove",
            "decision { approvalStatus }",
            approve.clone(),
            "FOUR_EYES",
        )
        .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    let p = other_officer
        .must("decisionApprove", "decision { approvalStatus }", approve)
        .await;
    assert_eq!(p["decision"]["approvalStatus"], "APPROVED");
}

#[tokio::test]
async fn the_d3_threshold_may_be_lowered_never_raised() {
    let app = TestApp::spawn().await;
    let admin = app.caller("201", &["la_admin"]);
    let q = "localAuthority { d3ApprovalWorkingDays }";
    admin
        .refused(
            "localAuthoritySettingsUpdate",
            q,
            json!({ "d3ApprovalWorkingDays": 21 }),
            "INVALID",
        )
        .await;
    let p = admin
        .must(
            "localAuthoritySettingsUpdate",
            q,
            json!({ "d3ApprovalWorkingDays": 5 }),
        )
        .await;
    assert_eq!(p["localAuthority"]["d3ApprovalWorkingDays"], 5);
    admin
        .refused(
            "localAuthoritySettingsUpdate",
            "localAuthority { goalSustainedWeeks }",
            json!({ "goalSustainedWeeks": 53 }),
            "INVALID",
        )
        .await;
}

#[tokio::test]
async fn closing_checks_what_the_records_say() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    // Home (unplanned) 100 days ago, with a service running since then.
    let f = open_case(&w, "J6", 300).await;
    w.must(
        "returnRecord",
        CASE,
        json!({ "caseId": f.case, "returnedOn": days_ago(100), "unplanned": true }),
    )
    .await;
    w.must("serviceAdd", "service { id }", json!({ "caseId": f.case, "serviceType": "PARENTING_SUPPORT", "provider": "P.", "needLevel": "HIGH", "startsOn": days_ago(100), "status": "ACTIVE" })).await;
    complete_required(&w, &f.case).await;
    let close =
        |reason: &str| json!({ "caseId": f.case, "reason": reason, "rationale": "Synthetic." });
    let before = state(&app, &w, &f.case).await;
    // No RC3 yet; then RC3 but 100 days of support, not 6 months.
    w.refused(
        "caseClose",
        CASE,
        close("STABLE_AT_HOME"),
        "RISK_CLASSIFICATION_REQUIRED",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    classify(&w, &m, &f.case, "RC3", "LOW", 5).await;
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "caseClose",
        CASE,
        close("STABLE_AT_HOME"),
        "SUPPORT_INCOMPLETE",
    )
    .await;
    // The child is not 18; a re-entry cannot precede the return.
    w.refused("caseClose", CASE, close("REACHED_18"), "INVALID_DATE")
        .await;
    let mut broke = close("BROKE_DOWN");
    broke["reenteredCareOn"] = json!(days_ago(101));
    w.refused("caseClose", CASE, broke, "INVALID_DATE").await;
    // A social worker's override is not theirs to give.
    let mut overridden = close("STABLE_AT_HOME");
    overridden["overrideReason"] = json!("Synthetic: support continues under the school's plan.");
    let body = w
        .gql(
            "mutation($i: CaseCloseInput!) { caseClose(input: $i) { userErrors { code } } }",
            json!({ "i": overridden }),
        )
        .await;
    app.assert_refusal_audited(&body, "caseClose").await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    // A team manager's is, and the closure records it.
    let p = m.must("caseClose", CASE, overridden).await;
    assert_eq!(p["case"]["status"], "CLOSED");
    let d = w
        .ok(
            "query($id: ID!) { case(id: $id) { decisions { kind approvalStatus rationale } } }",
            json!({ "id": f.case }),
        )
        .await;
    let closure = d["case"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "CLOSURE")
        .unwrap()
        .clone();
    assert_eq!(closure["approvalStatus"], "APPROVED");
    assert!(
        closure["rationale"]
            .as_str()
            .unwrap()
            .contains("Override: Synthetic: support continues")
    );
}

#[tokio::test]
async fn records_complete_the_actions_they_prove() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "J7", 30).await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    const ITEMS: &str = "query($id: ID!) { case(id: $id) { stages { stage evidencedCompleteness
        checklist { id key completed evidenced evidence derivedFrom completedBy { id } } } } }";
    let item = |data: &Value, key: &str| {
        data["case"]["stages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["checklist"].as_array().unwrap().clone())
            .find(|i| i["key"] == key)
            .unwrap()
    };
    let data = w.ok(ITEMS, json!({ "id": f.case })).await;
    let views = item(&data, "childs_views_recorded");
    assert_eq!(views["derivedFrom"], "CHILD_VIEWS");
    assert_eq!(views["completed"], false);
    // Nobody ticks it by hand, and the refusal changes nothing.
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "checklistItemComplete",
        "item { id }",
        json!({ "itemId": views["id"] }),
        "DERIVED_FROM_RECORD",
    )
    .await;
    w.refused(
        "checklistItemComplete",
        "item { id }",
        json!({ "caseId": f.case, "key": "childs_views_recorded" }),
        "DERIVED_FROM_RECORD",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    // The child's views, recorded, complete it, with the record as evidence and no one's tick.
    let view = w.must("childViewRecord", "childView { id }", json!({ "caseId": f.case, "recordedOn": days_ago(2), "inOwnWords": true, "content": "Synthetic." })).await;
    assert!(view["childView"]["id"].is_string());
    let data = w.ok(ITEMS, json!({ "id": f.case })).await;
    let views = item(&data, "childs_views_recorded");
    assert_eq!(views["completed"], true);
    assert_eq!(views["evidenced"], true);
    assert!(
        views["evidence"]
            .as_str()
            .unwrap()
            .starts_with("child_view "),
        "{views}"
    );
    assert_eq!(views["completedBy"], Value::Null);
    // The household: a mother assessed proves both household actions; a new partner, not yet
    // assessed, reopens "every household member assessed" while the stage is open.
    let mother = w.must("householdMemberAdd", "householdMember { id }", json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await["householdMember"]["id"].clone();
    w.must("assessmentFactorRecord", "factor { id }", json!({ "caseId": f.case, "householdMemberId": mother, "kind": "PROTECTIVE", "category": "ENGAGEMENT_WITH_SERVICES", "evidence": "Synthetic." })).await;
    let data = w.ok(ITEMS, json!({ "id": f.case })).await;
    assert_eq!(item(&data, "parents_assessed")["completed"], true);
    assert_eq!(item(&data, "household_assessed")["completed"], true);
    w.must("householdMemberAdd", "householdMember { id }", json!({ "childId": f.child, "relationship": "STEP_PARENT", "hasParentalResponsibility": false, "livesWithChild": true })).await;
    let data = w.ok(ITEMS, json!({ "id": f.case })).await;
    assert_eq!(item(&data, "parents_assessed")["completed"], true);
    assert_eq!(item(&data, "household_assessed")["completed"], false);
    // The assessment's share completed by records, and the data team's split of it.
    let assessment = data["case"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "ASSESSMENT")
        .unwrap()
        .clone();
    let evidenced = assessment["evidencedCompleteness"].as_f64().unwrap();
    assert!(evidenced > 0.0 && evidenced < 1.0, "{assessment}");
    let used = m.ok("{ insight { frameworkUse { stage completed { value } evidenced { value } selfReported { value } } } }", json!({})).await;
    let rows = used["insight"]["frameworkUse"].as_array().unwrap();
    let identification = rows
        .iter()
        .find(|r| r["stage"] == "IDENTIFICATION")
        .unwrap();
    assert_eq!(identification["evidenced"]["value"], 1, "{used}");
    assert_eq!(identification["selfReported"]["value"], 0, "{used}");
    let stage1 = rows.iter().find(|r| r["stage"] == "ASSESSMENT").unwrap();
    assert_eq!(stage1["evidenced"]["value"], 2, "{used}");
}

#[tokio::test]
async fn one_call_mutations_are_all_or_nothing() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let count = |table: &'static str| {
        let app = &app;
        async move { app.scalar(&format!("SELECT COUNT(*) FROM {table}")).await }
    };
    // A child with a household member whose label is too long: no child, no member.
    let long = "x".repeat(101);
    let p = w.refused("childCreate", "child { id }", json!({ "laChildId": "J8", "dateOfBirth": "2016-03-01", "sex": "M", "ethnicity": "WBRI",
        "householdMembers": [{ "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true },
                             { "relationship": "FATHER", "label": long, "hasParentalResponsibility": true, "livesWithChild": false }] }), "INVALID").await;
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "householdMembers", "1", "label"])
    );
    assert_eq!(
        (count("child").await, count("household_member").await),
        (0, 0)
    );

    let (f, agreement, _, goal) = in_stage_2(&app, "J9", 100).await;
    let mother = w
        .ok(
            "query($id: ID!) { child(id: $id) { householdMembers { id } } }",
            json!({ "id": f.child }),
        )
        .await["child"]["householdMembers"][0]["id"]
        .clone();
    // A second draft cannot start while one exists; the first is agreed, then a new version
    // with a goal dated before the case is refused whole, naming the goal.
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement, "withoutAcceptanceReason": "Synthetic." }),
    )
    .await;
    let (agreements, goals) = (count("parental_agreement").await, count("goal").await);
    let before = state(&app, &w, &f.case).await;
    let p = w.refused("agreementCreate", "agreement { id }", json!({ "caseId": f.case,
        "parties": [{ "householdMemberId": mother, "acceptedOn": days_ago(1) }],
        "goals": [{ "householdMemberId": mother, "description": "G.", "targetDate": days_ago(-30) },
                  { "householdMemberId": mother, "description": "G.", "targetDate": days_ago(500) }],
        "agree": {} }), "INVALID_DATE").await;
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "goals", "1", "targetDate"])
    );
    assert_eq!(
        (count("parental_agreement").await, count("goal").await),
        (agreements, goals)
    );
    assert_eq!(state(&app, &w, &f.case).await, before);
    // A review round with one goal unknown: no goal reviewed.
    let reviews = count("goal_review").await;
    let p = w
        .refused(
            "goalReviewRound",
            "goals { id }",
            json!({ "reviews": [
        { "goalId": goal, "rating": "GREEN" }, { "goalId": f.case, "rating": "GREEN" }] }),
            "INVALID",
        )
        .await;
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "reviews", "1", "goalId"])
    );
    assert_eq!(count("goal_review").await, reviews);
    // A person's factors with one that does not fit its kind: none recorded.
    let factors = count("assessment_factor").await;
    w.refused(
        "assessmentFactorsRecord",
        "factors { id }",
        json!({ "caseId": f.case, "householdMemberId": mother, "factors": [
        { "kind": "PROTECTIVE", "category": "ENGAGEMENT_WITH_SERVICES", "evidence": "E." },
        { "kind": "PROTECTIVE", "category": "ALCOHOL_MISUSE", "evidence": "E." }] }),
        "INVALID",
    )
    .await;
    assert_eq!(count("assessment_factor").await, factors);
    // Each record of a one-call mutation is evented as its own mutation's would be.
    let events = count("case_event").await;
    let p = w
        .must(
            "goalReviewRound",
            "goals { latestRating }",
            json!({ "reviews": [{ "goalId": goal, "rating": "AMBER" }] }),
        )
        .await;
    assert_eq!(p["goals"][0]["latestRating"], "AMBER");
    assert!(count("case_event").await > events);
}

#[tokio::test]
async fn outcomes_come_from_the_care_episodes() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    // Home unplanned 200 days ago (the episode ends E4B), back in care 100 days ago.
    let f = open_case(&w, "J10", 300).await;
    w.must(
        "returnRecord",
        CASE,
        json!({ "caseId": f.case, "returnedOn": days_ago(200), "unplanned": true }),
    )
    .await;
    const OUTCOME: &str = "query($id: ID!) { case(id: $id) { outcome { homeAt3Months homeAt6Months homeAt12Months reenteredCareOn } } }";
    let o = w.ok(OUTCOME, json!({ "id": f.case })).await["case"]["outcome"].clone();
    assert_eq!(
        o,
        json!({ "homeAt3Months": true, "homeAt6Months": true, "homeAt12Months": null, "reenteredCareOn": null })
    );
    w.must("episodeOpen", "episode { id }", json!({ "childId": f.child, "startedOn": days_ago(100), "legalStatus": "C2", "categoryOfNeed": "N1", "placementType": "U6" })).await;
    let o = w.ok(OUTCOME, json!({ "id": f.case })).await["case"]["outcome"].clone();
    assert_eq!(
        o,
        json!({ "homeAt3Months": true, "homeAt6Months": false, "homeAt12Months": false, "reenteredCareOn": days_ago(100) })
    );
    // An answer the episodes contradict is refused and changes nothing.
    let before = state(&app, &w, &f.case).await;
    w.refused(
        "outcomeFollowUp",
        "outcome { id }",
        json!({ "caseId": f.case, "homeAt6Months": true }),
        "CONTRADICTS_RECORDS",
    )
    .await;
    w.refused(
        "outcomeFollowUp",
        "outcome { id }",
        json!({ "caseId": f.case, "reenteredCareOn": days_ago(90) }),
        "CONTRADICTS_RECORDS",
    )
    .await;
    w.refused(
        "caseClose",
        CASE,
        json!({ "caseId": f.case, "reason": "BROKE_DOWN", "reenteredCareOn": days_ago(90) }),
        "CONTRADICTS_RECORDS",
    )
    .await;
    assert_eq!(state(&app, &w, &f.case).await, before);
    // Closing as broken down needs no date typed: the episodes have it.
    w.must(
        "caseClose",
        CASE,
        json!({ "caseId": f.case, "reason": "BROKE_DOWN" }),
    )
    .await;
    let stored = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM outcome WHERE reentered_care_on = '{}'",
            days_ago(100)
        ))
        .await;
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn the_worklist_shows_what_the_framework_asks_next() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    const LIST: &str = "query($f: WorklistFilter) { worklist(filter: $f, first: 100) { nodes { kind dueOn recordId case { id } } } }";
    let items = |f: Value| {
        let (m, f) = (&m, f);
        async move {
            let data = m.ok(LIST, json!({ "f": f })).await;
            let mut out: Vec<(String, String, String)> = data["worklist"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    (
                        n["kind"].as_str().unwrap().to_owned(),
                        n["dueOn"].as_str().unwrap().to_owned(),
                        n["case"]["id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            out.sort();
            out
        }
    };
    // A: D1 deferred 40 days ago; B: RC1 proposed, not agreed, and the assessment's required
    // actions done awaiting sign-off; C: placed with parents 120 days ago (still looked after,
    // so the episodes cannot answer the 3-month follow-up), last visit 10 days ago not alone.
    let a = open_case(&w, "J11", 60).await;
    decide(
        &w,
        &a.case,
        "D1",
        "DEFERRED",
        json!({ "decidedOn": days_ago(40) }),
    )
    .await;
    let b = open_case(&w, "J12", 60).await;
    complete_required(&w, &b.case).await;
    decide(
        &w,
        &b.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(50) }),
    )
    .await;
    complete_required(&w, &b.case).await;
    w.must("riskClassificationPropose", "classification { id }", json!({ "caseId": b.case, "kind": "RC1", "level": "LOW", "rationale": "R.", "classifiedOn": days_ago(20) })).await;
    let c = open_case(&w, "J13", 300).await;
    w.must("returnRecord", CASE, json!({ "caseId": c.case, "returnedOn": days_ago(120), "unplanned": true, "endsCare": false })).await;
    w.must("visitRecord", "visit { id }", json!({ "caseId": c.case, "visitedOn": days_ago(10), "childSeen": true, "childSeenAlone": false })).await;
    let kinds = [
        "DEFERRED_DECISION",
        "CLASSIFICATION_AWAITING_AGREEMENT",
        "SIGN_OFF_AWAITED",
        "FOLLOW_UP_DUE",
        "VISIT_DUE",
        "CHILD_NOT_SEEN_ALONE",
    ];
    let got = items(json!({ "kinds": kinds, "withinDays": 60 })).await;
    let mut expected = vec![
        ("DEFERRED_DECISION".to_owned(), days_ago(12), a.case.clone()),
        (
            "CLASSIFICATION_AWAITING_AGREEMENT".to_owned(),
            days_ago(20),
            b.case.clone(),
        ),
        ("SIGN_OFF_AWAITED".to_owned(), days_ago(0), b.case.clone()),
        (
            "FOLLOW_UP_DUE".to_owned(),
            (chrono::Utc::now().date_naive() - chrono::Duration::days(120))
                .checked_add_months(chrono::Months::new(3))
                .unwrap()
                .to_string(),
            c.case.clone(),
        ),
        ("VISIT_DUE".to_owned(), days_ago(10 - 42), c.case.clone()),
        (
            "CHILD_NOT_SEEN_ALONE".to_owned(),
            days_ago(10),
            c.case.clone(),
        ),
    ];
    expected.sort();
    assert_eq!(got, expected);
    // Done things leave: the classification agreed, the sign-off given, a visit seeing the
    // child alone, the follow-up answered.
    let rc1 = w
        .ok(
            "query($id: ID!) { case(id: $id) { riskClassifications { id } } }",
            json!({ "id": b.case }),
        )
        .await["case"]["riskClassifications"][0]["id"]
        .clone();
    m.must(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc1, "agreedOn": days_ago(20) }),
    )
    .await;
    sign_off(&m, &b.case, 0).await;
    w.must("visitRecord", "visit { id }", json!({ "caseId": c.case, "visitedOn": days_ago(1), "childSeen": true, "childSeenAlone": true })).await;
    w.must(
        "outcomeFollowUp",
        "outcome { id }",
        json!({ "caseId": c.case, "homeAt3Months": true }),
    )
    .await;
    let got = items(json!({ "kinds": kinds, "withinDays": 60 })).await;
    assert_eq!(
        got,
        vec![
            ("DEFERRED_DECISION".to_owned(), days_ago(12), a.case.clone()),
            ("VISIT_DUE".to_owned(), days_ago(1 - 42), c.case.clone())
        ]
    );

    // Per worker: the aggregates group and filter by the allocated worker.
    let me = w.ok("{ me { id } }", json!({})).await["me"]["id"].clone();
    let by = m
        .ok(
            "{ insight { frameworkUse { key { dimension value } stage cases { value } } } }",
            json!({}),
        )
        .await;
    assert!(
        by["insight"]["frameworkUse"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["key"] == json!([]))
    );
    let grouped = m.ok("query($g: [Dimension!]) { insight(groupBy: $g) { frameworkUse { key { dimension value } stage cases { value } } } }", json!({ "g": ["WORKER"] })).await;
    let rows = grouped["insight"]["frameworkUse"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["key"] == json!([{ "dimension": "WORKER", "value": me }])),
        "{rows:#?}"
    );
    let none = m
        .ok(
            "query($f: InsightFilter) { insight(filter: $f) { frameworkUse { stage } } }",
            json!({ "f": { "workerIds": ["NONE"] } }),
        )
        .await;
    assert_eq!(none["insight"]["frameworkUse"], json!([]));
    let bad = m
        .gql(
            "query($f: InsightFilter) { insight(filter: $f) { frameworkUse { stage } } }",
            json!({ "f": { "workerIds": ["nobody"] } }),
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad:#}"
    );
}

#[tokio::test]
async fn the_sustained_risk_policy_counts_from_sustained_change_and_sees_earlier_attempts() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    app.caller("201", &["la_admin"])
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { sustainedRiskMonths }",
            json!({ "sustainedRiskMonths": 6 }),
        )
        .await;
    // High at RC1 270 days ago, goals green since 200 days ago, RC2 Low only 30 days ago: the
    // change has held for over six months, so D3 = yes stands (counting from RC2 it would not).
    let f = open_case(&w, "J14", 300).await;
    complete_required(&w, &f.case).await;
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(280) }),
    )
    .await;
    let p = to_d3(&app, &f, "HIGH", 270, 200).await;
    assert_eq!(p["userErrors"], json!([]), "{p:#}");
    assert_eq!(p["decision"]["approvalStatus"], "PENDING");

    // A child classified High in an earlier attempt: this attempt's Low does not wipe it out.
    let g = open_case(&w, "J15", 800).await;
    complete_required(&w, &g.case).await;
    decide(
        &w,
        &g.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(700) }),
    )
    .await;
    complete_required(&w, &g.case).await;
    classify(&w, &m, &g.case, "RC1", "VERY_HIGH", 690).await;
    sign_off(&m, &g.case, 690).await;
    decide(
        &w,
        &g.case,
        "D2",
        "NO",
        json!({ "decidedOn": days_ago(690), "alternativePlan": "LTRELFR" }),
    )
    .await;
    let episode = w
        .ok(
            "query($id: ID!) { case(id: $id) { episode { id } } }",
            json!({ "id": g.case }),
        )
        .await["case"]["episode"]["id"]
        .clone();
    let second = w
        .must(
            "caseOpen",
            "case { id attemptNumber }",
            json!({ "childId": g.child, "episodeId": episode, "openedOn": days_ago(300) }),
        )
        .await;
    assert_eq!(second["case"]["attemptNumber"], 2);
    let again = Fixture {
        child: g.child.clone(),
        episode: g.episode.clone(),
        case: second["case"]["id"].as_str().unwrap().to_owned(),
    };
    complete_required(&w, &again.case).await;
    decide(
        &w,
        &again.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(280) }),
    )
    .await;
    let before_count = app.scalar("SELECT COUNT(*) FROM decision").await;
    let p = to_d3(&app, &again, "LOW", 270, 150).await;
    assert_eq!(p["userErrors"][0]["code"], "RISK_NOT_SUSTAINED", "{p:#}");
    assert_eq!(p["case"], Value::Null);
    // Nothing recorded by the refusal (the D2 before it is the only new decision).
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM decision").await,
        before_count + 1
    );
}
