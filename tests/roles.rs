//! Walks the whole role × operation table of the README: each role is tried on each operation and
//! is allowed exactly where the table says, and refused everywhere else (deny by default).

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, complete_required, decide, open_case};

const ROLES: [&str; 8] = [
    "social_worker",
    "team_manager",
    "nominated_officer",
    "iro",
    "family_support",
    "data_analyst",
    "la_admin",
    "vendor_system",
];

/// Roles that read child-level records (every role but the data analyst).
const READERS: &[&str] = &[
    "social_worker",
    "team_manager",
    "nominated_officer",
    "iro",
    "family_support",
    "la_admin",
    "vendor_system",
];

/// Roles that create and change records (readers but the IRO, whose scope is read-only).
const WRITERS: &[&str] = &[
    "social_worker",
    "team_manager",
    "nominated_officer",
    "family_support",
    "la_admin",
    "vendor_system",
];

/// The table: operation → roles allowed (with the scopes `reunify token` gives each role).
const TABLE: [(&str, &[&str]); 19] = [
    ("me", &ROLES),
    ("read a case", READERS),
    ("list cases", READERS),
    ("create a child", WRITERS),
    ("change a case", WRITERS),
    (
        "agree a risk classification",
        &["team_manager", "nominated_officer"],
    ),
    (
        "sign off an assessment",
        &["team_manager", "nominated_officer"],
    ),
    ("approve D3", &["nominated_officer"]),
    ("change LA configuration", &["la_admin"]),
    ("read the audit trail", &["la_admin"]),
    ("record a death", WRITERS),
    ("place a legal hold", &["la_admin"]),
    ("export a child's record", &["la_admin"]),
    ("manage webhooks", &["la_admin"]),
    (
        "use the savings calculator",
        &["team_manager", "nominated_officer", "data_analyst"],
    ),
    (
        "read aggregates",
        &["team_manager", "nominated_officer", "data_analyst"],
    ),
    ("read worklists", READERS),
    (
        "export cases as CSV",
        &["team_manager", "nominated_officer", "la_admin"],
    ),
    (
        "export aggregates as JSON Lines",
        &["team_manager", "nominated_officer", "data_analyst"],
    ),
];

/// A GET of an export, as a GraphQL-shaped body: `{"data": {}}` when it is sent, the error body
/// otherwise.
async fn export(app: &TestApp, c: &Caller, path: &str) -> Value {
    let resp = app
        .http()
        .get(format!("{}{path}", app.base))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    if resp.status().is_success() {
        json!({ "data": {} })
    } else {
        resp.json().await.unwrap()
    }
}

/// The operation a refusal's audit row names: the root field, or the export's name.
fn audited_as(operation: &str) -> &'static str {
    match operation {
        "me" => "me",
        "read a case" => "case",
        "list cases" => "cases",
        "create a child" => "childCreate",
        "change a case" => "caseAssign",
        "agree a risk classification" => "riskClassificationAgree",
        "sign off an assessment" => "assessmentSignOff",
        "approve D3" => "decisionApprove",
        "change LA configuration" => "localAuthoritySettingsUpdate",
        "read the audit trail" => "auditEvents",
        "record a death" => "childDeathRecord",
        "place a legal hold" => "childLegalHoldSet",
        "export a child's record" => "subjectAccessExport",
        "manage webhooks" => "webhookRegister",
        "use the savings calculator" => "reunificationSavings",
        "read aggregates" => "insight",
        "read worklists" => "worklist",
        "export cases as CSV" => "exportEpisodes",
        "export aggregates as JSON Lines" => "exportInsight",
        other => unreachable!("{other}"),
    }
}

/// Whether a response is a success: no top-level errors and no user errors in any payload.
fn allowed(body: &Value) -> bool {
    if body.get("errors").is_some() {
        let code = &body["errors"][0]["extensions"]["code"];
        assert!(
            code == "FORBIDDEN" || code == "UNAUTHENTICATED",
            "a refusal must be FORBIDDEN: {body:#}"
        );
        return false;
    }
    let data = body["data"].as_object().unwrap();
    data.values().all(|v| {
        v.get("userErrors")
            .is_none_or(|e| e.as_array().unwrap().is_empty())
    })
}

/// A case in ASSESSMENT with a proposed, not yet agreed, RC1; returns the classification ID.
async fn proposal(w: &Caller, id: &str) -> Value {
    let f = open_case(w, id, 40).await;
    complete_required(w, &f.case).await;
    decide(w, &f.case, "D1", "YES", json!({})).await;
    w.must(
        "riskClassificationPropose",
        "classification { id }",
        json!({ "caseId": f.case, "kind": "RC1", "level": "MEDIUM", "rationale": "Synthetic." }),
    )
    .await["classification"]["id"]
        .clone()
}

#[tokio::test]
async fn every_role_may_do_exactly_what_the_table_says() {
    let app = TestApp::spawn().await;
    api::seed::demo(&app.app_db).await.unwrap();
    let la = "999";
    let worker = app.caller(la, &["social_worker"]);
    let case = open_case(&worker, "ROLE0", 40).await;
    let pending_d3 = {
        let data = app
            .caller(la, &["nominated_officer"])
            .ok(
                "{ cases(first: 50) { nodes { decisions { id kind approvalStatus } } } }",
                json!({}),
            )
            .await;
        data["cases"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["decisions"].as_array().unwrap().clone())
            .find(|d| d["kind"] == "D3" && d["approvalStatus"] == "PENDING")
            .expect("the demo LA has a D3 awaiting approval")["id"]
            .clone()
    };

    for (operation, allowed_roles) in TABLE {
        // Refused roles first, so a one-off action (an approval) is still there for the allowed.
        let mut order: Vec<&str> = ROLES
            .iter()
            .copied()
            .filter(|r| !allowed_roles.contains(r))
            .collect();
        order.extend(allowed_roles.iter().copied());
        for (n, role) in order.into_iter().enumerate() {
            let c = app.caller(la, &[role]);
            let body = match operation {
                "me" => c.gql("{ me { roles } }", json!({})).await,
                "read a case" => {
                    c.gql("query($id: ID!) { case(id: $id) { id } }", json!({ "id": case.case }))
                        .await
                }
                "list cases" => c.gql("{ cases { totalCount } }", json!({})).await,
                "create a child" => {
                    c.gql(
                        "mutation($i: ChildCreateInput!) { childCreate(input: $i) { userErrors { code } } }",
                        json!({ "i": { "laChildId": format!("ROLE{n}{}", role.len()), "dateOfBirth": "2016-01-01",
                                       "sex": "F", "ethnicity": "WBRI" } }),
                    )
                    .await
                }
                "change a case" => {
                    c.gql(
                        "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { userErrors { code } } }",
                        json!({ "i": { "caseId": case.case, "team": format!("Team {n}") } }),
                    )
                    .await
                }
                "agree a risk classification" => {
                    let id = proposal(&worker, &format!("RC{n}")).await;
                    c.gql(
                        "mutation($i: RiskClassificationAgreeInput!) { riskClassificationAgree(input: $i) { userErrors { code } } }",
                        json!({ "i": { "classificationId": id } }),
                    )
                    .await
                }
                "sign off an assessment" => {
                    let f = open_case(&worker, &format!("SO{n}"), 40).await;
                    complete_required(&worker, &f.case).await;
                    decide(&worker, &f.case, "D1", "YES", json!({})).await;
                    complete_required(&worker, &f.case).await;
                    c.gql(
                        "mutation($i: AssessmentSignOffInput!) { assessmentSignOff(input: $i) { userErrors { code } } }",
                        json!({ "i": { "caseId": f.case } }),
                    )
                    .await
                }
                "approve D3" => {
                    c.gql(
                        "mutation($i: DecisionApproveInput!) { decisionApprove(input: $i) { userErrors { code } } }",
                        json!({ "i": { "decisionId": pending_d3 } }),
                    )
                    .await
                }
                "change LA configuration" => {
                    c.gql(
                        "mutation($i: LocalAuthoritySettingsUpdateInput!) { localAuthoritySettingsUpdate(input: $i) { userErrors { code } } }",
                        json!({ "i": { "d3ApprovalWorkingDays": 20 } }),
                    )
                    .await
                }
                "read the audit trail" => c.gql("{ auditEvents { totalCount } }", json!({})).await,
                "record a death" => {
                    c.gql(
                        "mutation($i: ChildDeathRecordInput!) { childDeathRecord(input: $i) { userErrors { code } } }",
                        json!({ "i": { "childId": case.child, "diedOn": "2020-02-02" } }),
                    )
                    .await
                }
                "place a legal hold" => {
                    c.gql(
                        "mutation($i: ChildLegalHoldSetInput!) { childLegalHoldSet(input: $i) { userErrors { code } } }",
                        json!({ "i": { "childId": case.child, "hold": true } }),
                    )
                    .await
                }
                "use the savings calculator" => {
                    c.gql(
                        "query($i: SavingsInput!) { reunificationSavings(input: $i) { netSaving breakEvenRate } }",
                        json!({ "i": { "highNeedReturns": 53, "mediumNeedReturns": 27, "lowNeedReturns": 20,
                                       "breakdownRate": 0.47, "targetRate": 0.38, "costSet": "PUBLISHED_2014" } }),
                    )
                    .await
                }
                "manage webhooks" => {
                    c.gql(
                        "mutation($i: WebhookRegisterInput!) { webhookRegister(input: $i) { userErrors { code } } }",
                        json!({ "i": { "url": "https://hooks.example.org/reunify", "secret": "synthetic-secret-0123456789" } }),
                    )
                    .await
                }
                "export a child's record" => {
                    c.gql(
                        "query($id: ID!) { subjectAccessExport(childId: $id) }",
                        json!({ "id": case.child }),
                    )
                    .await
                }
                "read aggregates" => {
                    c.gql("{ insight { returns { children { value } } } }", json!({}))
                        .await
                }
                "read worklists" => c.gql("{ worklist { totalCount } }", json!({})).await,
                "export cases as CSV" => export(&app, &c, "/exports/episodes.csv").await,
                "export aggregates as JSON Lines" => {
                    export(&app, &c, "/exports/insight.jsonl").await
                }
                other => unreachable!("{other}"),
            };
            let may = allowed_roles.contains(&role);
            assert_eq!(allowed(&body), may, "{role} × {operation}: {body:#}");
            if !may {
                app.assert_refusal_audited(&body, audited_as(operation))
                    .await;
            }
        }
    }
}
