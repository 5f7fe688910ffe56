//! Each LA configures its checklist and policies without a code change; only its administrator may.

use serde_json::json;

use crate::support::{TestApp, complete_required, open_case};

#[tokio::test]
async fn la_admin_configures_checklist_and_settings() {
    let app = TestApp::spawn().await;
    let admin = app.caller("201", &["la_admin"]);
    let w = app.worker();

    // Only an LA administrator may change the configuration.
    let body = w
        .gql("mutation { localAuthoritySettingsUpdate(input: {sustainedRiskMonths: 6}) { userErrors { code } } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let p = admin
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { riskLevelLabels sustainedRiskMonths d3ApprovalWorkingDays }",
            json!({ "riskLevelLabels": ["Green", "Yellow", "Orange", "Red"], "sustainedRiskMonths": 6 }),
        )
        .await;
    assert_eq!(
        p["localAuthority"]["riskLevelLabels"],
        json!(["Green", "Yellow", "Orange", "Red"])
    );
    assert_eq!(p["localAuthority"]["sustainedRiskMonths"], 6);
    assert_eq!(p["localAuthority"]["d3ApprovalWorkingDays"], 20);
    admin
        .refused(
            "localAuthoritySettingsUpdate",
            "localAuthority { name }",
            json!({ "riskLevelLabels": ["a", "b"] }),
            "INVALID",
        )
        .await;
    admin
        .refused(
            "localAuthoritySettingsUpdate",
            "localAuthority { name }",
            json!({ "expectedVersion": 1, "sustainedRiskMonths": 3 }),
            "CONFLICT",
        )
        .await;
    // Another LA's settings are untouched.
    let other = app
        .caller("202", &["social_worker"])
        .ok("{ me { localAuthority { riskLevelLabels } } }", json!({}))
        .await;
    assert_eq!(other["me"]["localAuthority"]["riskLevelLabels"][0], "Low");

    // A new required action in IDENTIFICATION applies to cases entering the stage from now on.
    admin
        .must(
            "checklistTemplateItemUpsert",
            "item { key required position }",
            json!({ "stage": "IDENTIFICATION", "key": "legal_advice", "label": "Legal advice sought", "required": true }),
        )
        .await;
    admin
        .refused(
            "checklistTemplateItemUpsert",
            "item { key }",
            json!({ "stage": "IDENTIFICATION", "key": "bad key!", "label": "x", "required": false }),
            "INVALID",
        )
        .await;
    let keys = w
        .ok(
            "{ checklistTemplate(stage: IDENTIFICATION) { key required } }",
            json!({}),
        )
        .await;
    assert!(
        keys["checklistTemplate"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["key"] == "legal_advice")
    );

    let f = open_case(&w, "CFG1", 10).await;
    let case = w
        .ok(
            "query($id: ID!) { case(id: $id) { stages { checklist { key required } } } }",
            json!({ "id": f.case }),
        )
        .await;
    let items = case["case"]["stages"][0]["checklist"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        items
            .iter()
            .any(|i| i["key"] == "legal_advice" && i["required"] == true)
    );
    complete_required(&w, &f.case).await;
    w.must(
        "decisionRecord",
        "case { stage }",
        json!({ "caseId": f.case, "kind": "D1", "outcome": "YES", "rationale": "Synthetic." }),
    )
    .await;

    // Classifications carry the LA's own label for their level.
    let c = w
        .must(
            "riskClassificationPropose",
            "classification { level levelLabel }",
            json!({ "caseId": f.case, "kind": "RC1", "level": "HIGH", "rationale": "Synthetic." }),
        )
        .await;
    assert_eq!(c["classification"]["levelLabel"], "Orange");

    // Retiring the action: later cases do not get it.
    admin
        .must(
            "checklistTemplateItemUpsert",
            "item { active }",
            json!({ "stage": "IDENTIFICATION", "key": "legal_advice", "label": "Legal advice sought", "required": true, "active": false }),
        )
        .await;
    let g = open_case(&w, "CFG2", 10).await;
    let case = w
        .ok(
            "query($id: ID!) { case(id: $id) { stages { checklist { key } } } }",
            json!({ "id": g.case }),
        )
        .await;
    assert!(
        !case["case"]["stages"][0]["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "legal_advice")
    );
}

#[tokio::test]
async fn the_savings_calculator_reproduces_the_published_2014_break_even() {
    let app = crate::support::TestApp::spawn().await;
    let analyst = app.caller("201", &["data_analyst"]);
    let q = "query($i: SavingsInput!) { reunificationSavings(input: $i) { returns supportCost \
             breakEvenRate breakEvenBreakdownsAvoided netSaving } }";
    let national = serde_json::json!({ "i": { "highNeedReturns": 5300, "mediumNeedReturns": 2700,
        "lowNeedReturns": 2000, "breakdownRate": 0.47, "targetRate": 0.38, "costSet": "PUBLISHED_2014" } });
    let e = analyst.ok(q, national).await["reunificationSavings"].clone();
    assert_eq!(
        (e["breakEvenRate"].as_f64().unwrap() * 100.0).round(),
        38.0,
        "{e}"
    );
    assert!((e["breakEvenBreakdownsAvoided"].as_f64().unwrap() - 900.0).abs() < 20.0);
    // A rate that is not a share is refused, naming the field.
    let bad = analyst
        .gql(
            q,
            serde_json::json!({ "i": { "highNeedReturns": 1, "mediumNeedReturns": 0,
                "lowNeedReturns": 0, "breakdownRate": 47, "targetRate": 0.38 } }),
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("share")
    );
}

#[test]
fn the_configuration_reference_is_generated_from_the_config_type() {
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/configuration.md"
    ))
    .unwrap();
    assert!(
        file == api::config::reference(),
        "docs/configuration.md is stale: cargo run -p api --bin reunify -- config-reference > docs/configuration.md"
    );
    // Every variable the binary reads is in it.
    for variable in [
        "REUNIFY_LISTEN",
        "REUNIFY_DATABASE_URL",
        "REUNIFY_MAX_IMPORT_BYTES",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ] {
        assert!(file.contains(&format!("`{variable}`")), "{variable}");
    }
}
