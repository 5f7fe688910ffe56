//! Malformed input gets a clear error naming the field, and changes nothing.

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, days_ago, sign_off};

const CREATE: &str = "mutation($input: ChildCreateInput!) { childCreate(input: $input) { child { id } userErrors { field message code } } }";

fn child(overrides: Value) -> Value {
    let mut base = json!({ "laChildId": "C100", "dateOfBirth": "2016-02-29", "sex": "M", "ethnicity": "WBRI" });
    base.as_object_mut()
        .unwrap()
        .extend(overrides.as_object().unwrap().clone());
    base
}

async fn children(c: &Caller) -> i64 {
    c.ok("{ children { totalCount } }", json!({})).await["children"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn bad_child_input_is_refused_with_field_and_code() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let cases: &[(Value, &str, &str)] = &[
        (
            json!({ "nhsNumber": "9990000019" }),
            "nhsNumber",
            "INVALID_IDENTIFIER",
        ),
        (
            json!({ "nhsNumber": "12345" }),
            "nhsNumber",
            "INVALID_IDENTIFIER",
        ),
        (
            json!({ "upn": "A201000025001" }),
            "upn",
            "INVALID_IDENTIFIER",
        ),
        (
            json!({ "laChildId": "ABC-123" }),
            "laChildId",
            "INVALID_IDENTIFIER",
        ),
        (json!({ "sex": "1" }), "sex", "INVALID_CODE"),
        (json!({ "ethnicity": "XXXX" }), "ethnicity", "INVALID_CODE"),
        (
            json!({ "upnUnknownReason": "UN9" }),
            "upnUnknownReason",
            "INVALID_CODE",
        ),
        (
            json!({ "dateOfBirth": "2999-01-01" }),
            "dateOfBirth",
            "INVALID_DATE",
        ),
    ];
    for (overrides, field, code) in cases {
        let body = w
            .ok(CREATE, json!({ "input": child(overrides.clone()) }))
            .await;
        let errors = &body["childCreate"]["userErrors"];
        assert_eq!(body["childCreate"]["child"], Value::Null);
        assert!(
            errors
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["code"] == *code && e["field"] == json!(["input", field])),
            "{overrides}: {errors:#}"
        );
    }
    // Several faults are reported together.
    let body = w
        .ok(
            CREATE,
            json!({ "input": child(json!({ "sex": "Q", "ethnicity": "NOPE", "nhsNumber": "1" })) }),
        )
        .await;
    assert_eq!(
        body["childCreate"]["userErrors"].as_array().unwrap().len(),
        3
    );
    assert_eq!(children(&w).await, 0, "nothing was written");

    // Malformed dates and wrong enums are top-level validation errors.
    let body = w
        .gql(
            CREATE,
            json!({ "input": child(json!({ "dateOfBirth": "2016-02-30" })) }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD")
    );
    let body = w
        .gql(
            "mutation { householdMemberAdd(input: {childId: \"x\", relationship: AUNTIE, hasParentalResponsibility: false, livesWithChild: false}) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(children(&w).await, 0);

    // A valid child goes in; the same LA child ID again is a duplicate.
    let ok = w
        .ok(
            CREATE,
            json!({ "input": child(json!({ "nhsNumber": "999 000 0018" })) }),
        )
        .await;
    assert_eq!(ok["childCreate"]["userErrors"], json!([]));
    let again = w.ok(CREATE, json!({ "input": child(json!({})) })).await;
    assert_eq!(again["childCreate"]["userErrors"][0]["code"], "DUPLICATE");
    assert_eq!(children(&w).await, 1);
}

#[tokio::test]
async fn bad_episode_input_is_refused() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let child = w
        .must("childCreate", "child { id }", child(json!({})))
        .await["child"]["id"]
        .clone();
    let episode = |o: Value| {
        let mut base = json!({ "childId": child, "startedOn": days_ago(30), "legalStatus": "C2", "categoryOfNeed": "N1", "placementType": "U6" });
        base.as_object_mut()
            .unwrap()
            .extend(o.as_object().unwrap().clone());
        base
    };
    for (o, field, code) in [
        (
            json!({ "legalStatus": "Z9" }),
            "legalStatus",
            "INVALID_CODE",
        ),
        (
            json!({ "categoryOfNeed": "N9" }),
            "categoryOfNeed",
            "INVALID_CODE",
        ),
        (
            json!({ "placementType": "Z1", "startedOn": days_ago(10) }),
            "placementType",
            "INVALID_CODE",
        ),
        (
            json!({ "placementType": "T1" }),
            "placementType",
            "INVALID_CODE",
        ),
        (
            json!({ "startedOn": "2010-01-01" }),
            "startedOn",
            "INVALID_DATE",
        ),
        (json!({ "childId": "bm90LWFuLWlk" }), "childId", "INVALID"),
    ] {
        let p = w
            .refused("episodeOpen", "episode { id }", episode(o), code)
            .await;
        assert!(
            p["userErrors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == json!(["input", field])),
            "{p}"
        );
    }
    let count = w
        .ok(
            "query($id: ID!) { child(id: $id) { episodes { id } } }",
            json!({ "id": child }),
        )
        .await;
    assert_eq!(count["child"]["episodes"], json!([]));
    w.must("episodeOpen", "episode { id }", episode(json!({})))
        .await;
    w.refused(
        "episodeOpen",
        "episode { id }",
        episode(json!({})),
        "DUPLICATE",
    )
    .await;
}

#[tokio::test]
async fn bad_input_to_stage_work_is_refused() {
    use crate::support::{classify, complete_required, decide, open_case};
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "V1", 10).await;
    let mother = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    let other_child = open_case(&w, "V2", 10).await;
    let stranger = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": other_child.child, "relationship": "FATHER", "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    let party = |m: &Value| json!({ "caseId": f.case, "parties": [{ "householdMemberId": m, "strengths": "S.", "concerns": "C." }] });
    w.refused(
        "agreementCreate",
        "agreement { id }",
        party(&mother),
        "WRONG_STAGE",
    )
    .await;

    // Factors: category must fit kind; a risk has a status, a protective factor none.
    let factor = |o: Value| {
        let mut b = json!({ "caseId": f.case, "kind": "RISK", "category": "HOUSING", "status": "CURRENT", "evidence": "E." });
        b.as_object_mut()
            .unwrap()
            .extend(o.as_object().unwrap().clone());
        b
    };
    w.refused(
        "assessmentFactorRecord",
        "factor { id }",
        factor(json!({ "category": "INSIGHT" })),
        "INVALID",
    )
    .await;
    w.refused(
        "assessmentFactorRecord",
        "factor { id }",
        factor(json!({ "status": null })),
        "INVALID",
    )
    .await;
    w.refused(
        "assessmentFactorRecord",
        "factor { id }",
        factor(json!({ "kind": "PROTECTIVE", "category": "INSIGHT" })),
        "INVALID",
    )
    .await;
    w.refused(
        "assessmentFactorRecord",
        "factor { id }",
        factor(json!({ "householdMemberId": stranger })),
        "NOT_FOUND",
    )
    .await;
    w.refused(
        "assessmentFactorRecord",
        "factor { id }",
        factor(json!({ "evidence": "" })),
        "INVALID",
    )
    .await;
    w.refused("childViewRecord", "childView { id }", json!({ "caseId": f.case, "inOwnWords": true, "content": "C.", "recordedOn": "2999-01-01" }), "INVALID_DATE").await;

    // Visits and reviews.
    w.refused("visitRecord", "visit { id }", json!({ "caseId": f.case, "visitedOn": days_ago(0), "childSeen": false, "childSeenAlone": true }), "INVALID").await;
    w.refused("reviewRecord", "review { id }", json!({ "caseId": f.case, "kind": "PLAN", "heldOn": days_ago(0), "nextReviewOn": days_ago(1) }), "INVALID_DATE").await;
    w.refused("visitRecord", "visit { id }", json!({ "caseId": f.case, "visitedOn": days_ago(30), "childSeen": true, "childSeenAlone": true }), "INVALID_DATE").await;

    // Services.
    let service = |o: Value| {
        let mut b = json!({ "caseId": f.case, "serviceType": "RESPITE", "provider": "P.", "needLevel": "LOW", "startsOn": days_ago(5) });
        b.as_object_mut()
            .unwrap()
            .extend(o.as_object().unwrap().clone());
        b
    };
    w.refused(
        "serviceAdd",
        "service { id }",
        service(json!({ "endsOn": days_ago(6) })),
        "INVALID_DATE",
    )
    .await;
    w.refused(
        "serviceAdd",
        "service { id }",
        service(json!({ "costPence": -1 })),
        "INVALID",
    )
    .await;
    let s = w
        .must(
            "serviceAdd",
            "service { id version status }",
            service(json!({})),
        )
        .await["service"]
        .clone();
    assert_eq!(s["status"], "PLANNED");
    w.must(
        "serviceUpdate",
        "service { status }",
        json!({ "serviceId": s["id"], "expectedVersion": 1, "status": "ACTIVE" }),
    )
    .await;
    w.refused(
        "serviceUpdate",
        "service { status }",
        json!({ "serviceId": s["id"], "expectedVersion": 1, "status": "ENDED" }),
        "CONFLICT",
    )
    .await;

    // Into stage 2: agreements and goals.
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    classify(&w, &m, &f.case, "RC1", "LOW", 0).await;
    complete_required(&w, &f.case).await;
    sign_off(&m, &f.case, 0).await;
    decide(&w, &f.case, "D2", "YES", json!({})).await;
    w.refused(
        "agreementCreate",
        "agreement { id }",
        party(&stranger),
        "NOT_FOUND",
    )
    .await;
    w.refused(
        "agreementCreate",
        "agreement { id }",
        json!({ "caseId": f.case }),
        "INVALID",
    )
    .await;
    let a = w
        .must("agreementCreate", "agreement { id }", party(&mother))
        .await["agreement"]["id"]
        .clone();
    w.refused(
        "agreementCreate",
        "agreement { id }",
        party(&mother),
        "ALREADY_RECORDED",
    )
    .await;
    w.refused(
        "agreementAgree",
        "agreement { id }",
        json!({ "agreementId": a }),
        "AGREEMENT_REQUIRED",
    )
    .await;
    let goal = json!({ "agreementId": a, "description": "G.", "steps": "S.", "responsible": "R.", "supportOffered": "S.", "targetDate": days_ago(-30) });
    let g = w.must("goalAdd", "goal { id version }", goal).await["goal"].clone();
    w.must("goalReview", "goal { id }", json!({ "goalId": g["id"], "rating": "RED", "note": "N.", "evidence": "E.", "reviewedOn": days_ago(0) })).await;
    w.refused("goalReview", "goal { id }", json!({ "goalId": g["id"], "rating": "GREEN", "note": "N.", "evidence": "E.", "reviewedOn": days_ago(1) }), "INVALID_DATE").await;
    w.refused(
        "goalRevise",
        "goal { id }",
        json!({ "goalId": g["id"], "reason": "R." }),
        "INVALID",
    )
    .await;
    w.refused("goalRevise", "goal { id }", json!({ "goalId": g["id"], "reason": "R.", "newTargetDate": days_ago(-60), "expectedVersion": 1 }), "CONFLICT").await;
    let revised = w
        .must(
            "goalRevise",
            "goal { targetDate revisions { previousTargetDate newTargetDate } }",
            json!({ "goalId": g["id"], "reason": "More time.", "newTargetDate": days_ago(-60) }),
        )
        .await;
    assert_eq!(
        revised["goal"]["revisions"][0]["newTargetDate"],
        json!(days_ago(-60))
    );
    // A new version carries the parties and active goals over; agreeing it supersedes the first.
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": a , "withoutAcceptanceReason": "Synthetic: acceptance to follow." }),
    )
    .await;
    let v2 = w
        .must(
            "agreementCreate",
            "agreement { id number parties { id } goals { id } }",
            json!({ "caseId": f.case }),
        )
        .await["agreement"]
        .clone();
    assert_eq!(v2["number"], 2);
    assert_eq!(v2["parties"].as_array().unwrap().len(), 1);
    assert_eq!(v2["goals"].as_array().unwrap().len(), 1);
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": v2["id"] , "withoutAcceptanceReason": "Synthetic: acceptance to follow." }),
    )
    .await;
    let all = w.ok("query($id: ID!) { case(id: $id) { agreement { number } agreements { number status } } }", json!({ "id": f.case })).await;
    assert_eq!(all["case"]["agreement"]["number"], 2);
    assert_eq!(all["case"]["agreements"][0]["status"], "SUPERSEDED");
}
