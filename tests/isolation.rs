//! A second LA's token sees none of the first LA's records: not by list, not by `node(id:)`, not
//! through any ID-taking field, and cannot change them.

use serde_json::{Value, json};

use crate::support::{TestApp, complete_required, decide, open_case, sign_off};

const DETAIL: &str =
    "query($id: ID!) { case(id: $id) { id version child { id householdMembers { id } }
    episode { id } stages { id checklist { id } } decisions { id } riskClassifications { id } } }";

#[tokio::test]
async fn another_la_sees_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "ISO1", 10).await;
    w.must(
        "householdMemberAdd",
        "householdMember { id }",
        json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true }),
    )
    .await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    let rc = w
        .must(
            "riskClassificationPropose",
            "classification { id }",
            json!({ "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "Synthetic." }),
        )
        .await["classification"]["id"]
        .clone();
    let mine = w.ok(DETAIL, json!({ "id": f.case })).await["case"].clone();
    let mut ids: Vec<Value> = vec![
        mine["id"].clone(),
        mine["child"]["id"].clone(),
        mine["episode"]["id"].clone(),
        rc.clone(),
    ];
    ids.extend(
        mine["child"]["householdMembers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].clone()),
    );
    for s in mine["stages"].as_array().unwrap() {
        ids.push(s["id"].clone());
        ids.extend(
            s["checklist"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].clone()),
        );
    }
    ids.extend(
        mine["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].clone()),
    );
    let item = mine["stages"][1]["checklist"][0]["id"].clone();
    let decision = mine["decisions"][0]["id"].clone();

    let other = app.caller(
        "202",
        &["social_worker", "team_manager", "nominated_officer"],
    );
    let lists = other
        .ok(
            "{ cases { totalCount nodes { id } } children { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(lists["cases"]["totalCount"], 0);
    assert_eq!(lists["children"]["totalCount"], 0);
    assert_eq!(
        other.ok(DETAIL, json!({ "id": f.case })).await["case"],
        Value::Null
    );
    let child = other
        .ok(
            "query($id: ID!) { child(id: $id) { id } }",
            json!({ "id": f.child }),
        )
        .await;
    assert_eq!(child["child"], Value::Null);
    for id in &ids {
        let n = other
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"], Value::Null, "node({id}) leaked");
        let n = w
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"]["id"], *id, "the owner sees node({id})");
    }
    let n = other
        .ok(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids }),
        )
        .await;
    assert!(n["nodes"].as_array().unwrap().iter().all(Value::is_null));
    let filtered = other
        .ok(
            "query($c: ID!) { cases(filter: {childId: $c}) { totalCount } }",
            json!({ "c": f.child }),
        )
        .await;
    assert_eq!(filtered["cases"]["totalCount"], 0);

    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "FATHER", "hasParentalResponsibility": true, "livesWithChild": false }),
        ),
        (
            "episodeOpen",
            "episode { id }",
            json!({ "childId": f.child, "startedOn": "2025-01-01", "legalStatus": "C2", "categoryOfNeed": "N1", "placementType": "U6" }),
        ),
        (
            "caseOpen",
            "case { id }",
            json!({ "childId": f.child, "episodeId": f.episode }),
        ),
        (
            "caseAssign",
            "case { id }",
            json!({ "caseId": f.case, "team": "Elsewhere" }),
        ),
        (
            "checklistItemComplete",
            "item { id }",
            json!({ "itemId": item }),
        ),
        (
            "decisionRecord",
            "case { id }",
            json!({ "caseId": f.case, "kind": "D2", "outcome": "NO", "rationale": "x", "alternativePlan": "ADOPTION" }),
        ),
        (
            "decisionApprove",
            "decision { id }",
            json!({ "decisionId": decision }),
        ),
        (
            "riskClassificationPropose",
            "classification { id }",
            json!({ "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "x" }),
        ),
        (
            "riskClassificationAgree",
            "classification { id }",
            json!({ "classificationId": rc }),
        ),
        (
            "goalsStageComplete",
            "case { id }",
            json!({ "caseId": f.case }),
        ),
        (
            "returnRecord",
            "case { id }",
            json!({ "caseId": f.case, "returnedOn": "2026-01-01", "unplanned": true }),
        ),
        (
            "caseClose",
            "case { id }",
            json!({ "caseId": f.case, "reason": "OTHER", "rationale": "x" }),
        ),
        (
            "outcomeFollowUp",
            "outcome { id }",
            json!({ "caseId": f.case, "maltreatmentAfterReturn": "NO" }),
        ),
    ];
    for (name, selection, input) in writes {
        other.refused(name, selection, input, "NOT_FOUND").await;
    }
    let after = w.ok(DETAIL, json!({ "id": f.case })).await["case"].clone();
    assert_eq!(after, mine, "the other LA changed nothing");
    // The owner can still carry on.
    m.must(
        "riskClassificationAgree",
        "classification { agreed }",
        json!({ "classificationId": rc }),
    )
    .await;
}

#[tokio::test]
async fn agreement_goals_services_and_visits_are_isolated_too() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "ISO2", 10).await;
    let mother = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    crate::support::classify(&w, &m, &f.case, "RC1", "LOW", 0).await;
    complete_required(&w, &f.case).await;
    sign_off(&m, &f.case, 0).await;
    decide(&w, &f.case, "D2", "YES", json!({})).await;
    let agreement = w
        .must("agreementCreate", "agreement { id parties { id } }", json!({ "caseId": f.case, "parties": [{ "householdMemberId": mother, "strengths": "S.", "concerns": "C." }] }))
        .await["agreement"]
        .clone();
    let goal = w
        .must(
            "goalAdd",
            "goal { id }",
            json!({ "agreementId": agreement["id"], "description": "G.", "steps": "S.", "responsible": "R.", "supportOffered": "S.", "targetDate": "2030-01-01" }),
        )
        .await["goal"]["id"]
        .clone();
    let review = w
        .must(
            "goalReview",
            "goal { reviews { id } }",
            json!({ "goalId": goal, "rating": "AMBER", "note": "N.", "evidence": "E." }),
        )
        .await["goal"]["reviews"][0]["id"]
        .clone();
    let service = w
        .must("serviceAdd", "service { id }", json!({ "caseId": f.case, "serviceType": "RESPITE", "provider": "P.", "needLevel": "LOW", "startsOn": "2026-01-01" }))
        .await["service"]["id"]
        .clone();
    let plan = w
        .must(
            "supportPlanUpdate",
            "supportPlan { id }",
            json!({ "caseId": f.case, "trustedAdult": "T." }),
        )
        .await["supportPlan"]["id"]
        .clone();
    let visit = w
        .must("visitRecord", "visit { id }", json!({ "caseId": f.case, "visitedOn": crate::support::days_ago(0), "childSeen": true, "childSeenAlone": false }))
        .await["visit"]["id"]
        .clone();
    let rev = w
        .must(
            "reviewRecord",
            "review { id }",
            json!({ "caseId": f.case, "kind": "PLAN", "heldOn": crate::support::days_ago(0) }),
        )
        .await["review"]["id"]
        .clone();
    let factor = w
        .must("assessmentFactorRecord", "factor { id }", json!({ "caseId": f.case, "kind": "RISK", "category": "HOUSING", "status": "CURRENT", "evidence": "E." }))
        .await["factor"]["id"]
        .clone();
    let view = w
        .must(
            "childViewRecord",
            "childView { id }",
            json!({ "caseId": f.case, "inOwnWords": false, "content": "C." }),
        )
        .await["childView"]["id"]
        .clone();
    let party = agreement["parties"][0]["id"].clone();

    let other = app.caller(
        "202",
        &["social_worker", "team_manager", "nominated_officer"],
    );
    for id in [
        &agreement["id"],
        &goal,
        &review,
        &service,
        &plan,
        &visit,
        &rev,
        &factor,
        &view,
        &party,
    ] {
        let n = other
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"], Value::Null, "node({id}) leaked");
        let n = w
            .ok(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(n["node"]["id"], *id);
    }
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            "agreementCreate",
            "agreement { id }",
            json!({ "caseId": f.case }),
        ),
        (
            "agreementAgree",
            "agreement { id }",
            json!({ "agreementId": agreement["id"] }),
        ),
        (
            "agreementPartyAccept",
            "party { id }",
            json!({ "partyId": party }),
        ),
        (
            "goalAdd",
            "goal { id }",
            json!({ "agreementId": agreement["id"], "description": "G.", "steps": "S.", "responsible": "R.", "supportOffered": "S.", "targetDate": "2030-01-01" }),
        ),
        (
            "goalReview",
            "goal { id }",
            json!({ "goalId": goal, "rating": "RED", "note": "N.", "evidence": "E." }),
        ),
        (
            "goalRevise",
            "goal { id }",
            json!({ "goalId": goal, "reason": "R.", "status": "WITHDRAWN" }),
        ),
        (
            "serviceAdd",
            "service { id }",
            json!({ "caseId": f.case, "serviceType": "OTHER", "provider": "P.", "needLevel": "LOW", "startsOn": "2026-01-01" }),
        ),
        (
            "serviceUpdate",
            "service { id }",
            json!({ "serviceId": service, "expectedVersion": 1, "status": "ENDED" }),
        ),
        (
            "supportPlanUpdate",
            "supportPlan { id }",
            json!({ "caseId": f.case, "trustedAdult": "X." }),
        ),
        (
            "visitRecord",
            "visit { id }",
            json!({ "caseId": f.case, "visitedOn": "2026-01-01", "childSeen": false, "childSeenAlone": false }),
        ),
        (
            "reviewRecord",
            "review { id }",
            json!({ "caseId": f.case, "kind": "PLAN", "heldOn": "2026-01-01" }),
        ),
        (
            "assessmentFactorRecord",
            "factor { id }",
            json!({ "caseId": f.case, "kind": "PROTECTIVE", "category": "INSIGHT", "evidence": "E." }),
        ),
        (
            "childViewRecord",
            "childView { id }",
            json!({ "caseId": f.case, "inOwnWords": true, "content": "C." }),
        ),
    ];
    let before = w
        .ok(
            "query($id: ID!) { case(id: $id) { version } }",
            json!({ "id": f.case }),
        )
        .await;
    for (name, selection, input) in writes {
        other.refused(name, selection, input, "NOT_FOUND").await;
    }
    let after = w
        .ok(
            "query($id: ID!) { case(id: $id) { version } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(before, after, "the other LA changed nothing");
}
