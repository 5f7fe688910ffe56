//! Malformed input gets a clear error naming the field, and changes nothing.

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, days_ago};

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
