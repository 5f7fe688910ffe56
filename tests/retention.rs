//! Data protection duties: retention dates, legal hold, the purge (with a fixed clock) and the
//! subject-access export.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::support::{Caller, TestApp, complete_required, decide, open_case};

const CHILD: &str = "query($id: ID!) { child(id: $id) { retainUntil diedOn legalHold version } }";

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn purge(app: &TestApp, today: &str, dry_run: bool) -> Vec<(String, usize, usize)> {
    api::retention::service::purge(&app.app_db, Duration::from_secs(5), date(today), dry_run)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.la, c.purged, c.held))
        .collect()
}

/// A child with a case holding records in most tables: a household member, a risk factor about
/// them, completed checklist items and a D1 decision.
async fn full_case(w: &Caller, id: &str) -> (String, String) {
    let f = open_case(w, id, 40).await;
    let member = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "FATHER", "hasParentalResponsibility": true,
                    "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    complete_required(w, &f.case).await;
    decide(w, &f.case, "D1", "YES", json!({})).await;
    w.must(
        "assessmentFactorRecord",
        "factor { id }",
        json!({ "caseId": f.case, "householdMemberId": member, "kind": "RISK",
                "category": "ALCOHOL_MISUSE", "status": "CURRENT", "evidence": "Synthetic evidence." }),
    )
    .await;
    // Records a case-management system names by its identifiers (`<id>-…`).
    let ext = |what: &str| json!({ "system": "LCS", "value": format!("{id}-{what}") });
    w.must("householdMemberUpsert", "householdMember { id }", json!({ "externalId": ext("MOTHER"),
        "childId": f.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await;
    w.must(
        "visitUpsert",
        "visit { id }",
        json!({ "externalId": ext("VISIT"), "caseId": f.case,
        "visitedOn": crate::support::days_ago(1), "childSeen": true, "childSeenAlone": true }),
    )
    .await;
    w.must(
        "reviewUpsert",
        "review { id }",
        json!({ "externalId": ext("REVIEW"), "caseId": f.case,
        "kind": "PLAN", "heldOn": crate::support::days_ago(1) }),
    )
    .await;
    (f.child, f.case)
}

async fn db_id(app: &TestApp, la_child_id: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id FROM child WHERE la_child_id = '{la_child_id}'"
    ))
    .await
}

/// Rows held about the child with this row id, across the tables its records span.
async fn rows_of(app: &TestApp, child: i64) -> i64 {
    let cases = format!("SELECT id FROM reunification_case WHERE child_id = {child}");
    let mut queries: Vec<String> = [
        "stage_progress",
        "checklist_item",
        "decision",
        "assessment_factor",
    ]
    .iter()
    .map(|t| format!("SELECT COUNT(*) FROM {t} WHERE case_id IN ({cases})"))
    .collect();
    for t in ["reunification_case", "household_member", "care_episode"] {
        queries.push(format!("SELECT COUNT(*) FROM {t} WHERE child_id = {child}"));
    }
    queries.push(format!("SELECT COUNT(*) FROM child WHERE id = {child}"));
    queries.push(format!(
        "SELECT COUNT(*) FROM external_identifier WHERE owner_kind = 'child' AND owner_id = {child}"
    ));

    let mut total = 0;
    for q in queries {
        total += app.scalar(&q).await;
    }
    total
}

#[tokio::test]
async fn records_past_retention_and_not_on_hold_are_purged_with_a_fixed_clock() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let admin = app.caller("201", &["la_admin"]);
    let (a, _) = full_case(&w, "RETA").await;
    let (b, _) = full_case(&w, "RETB").await;
    let (d, _) = full_case(&w, "RETD").await;
    full_case(&app.caller("202", &["social_worker"]), "RETC").await;

    // Born 2015-06-01: kept until the 75th birthday.
    let child = w.ok(CHILD, json!({ "id": a })).await;
    assert_eq!(child["child"]["retainUntil"], "2090-06-01");
    assert_eq!(child["child"]["legalHold"], false);

    // B died aged 4: kept 15 years after death.
    let died = w
        .must(
            "childDeathRecord",
            "child { retainUntil diedOn }",
            json!({ "childId": b, "diedOn": "2020-01-10" }),
        )
        .await;
    assert_eq!(died["child"]["retainUntil"], "2035-01-10");
    w.refused(
        "childDeathRecord",
        "child { id }",
        json!({ "childId": a, "diedOn": "2014-01-01" }),
        "INVALID_DATE",
    )
    .await;

    // Only an LA administrator places a hold; a stale version is refused.
    let hold = json!({ "childId": d, "hold": true });
    let refused = w
        .gql(
            "mutation($input: ChildLegalHoldSetInput!) { childLegalHoldSet(input: $input) { child { id } } }",
            json!({ "input": hold }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    admin
        .refused(
            "childLegalHoldSet",
            "child { id }",
            json!({ "childId": d, "hold": true, "expectedVersion": 99 }),
            "CONFLICT",
        )
        .await;
    let held = admin
        .must("childLegalHoldSet", "child { legalHold }", hold)
        .await;
    assert_eq!(held["child"]["legalHold"], true);

    let (a_id, b_id, d_id) = (
        db_id(&app, "RETA").await,
        db_id(&app, "RETB").await,
        db_id(&app, "RETD").await,
    );
    let c_id = db_id(&app, "RETC").await;
    let before = rows_of(&app, a_id).await;
    assert!(
        before >= 10,
        "the fixture holds records in many tables: {before}"
    );

    // On the last day of retention nothing goes; a dry run the day after counts and keeps.
    assert_eq!(
        purge(&app, "2035-01-10", false).await,
        [("201".to_owned(), 0, 0), ("202".to_owned(), 0, 0)]
    );
    assert_eq!(
        purge(&app, "2035-01-11", true).await,
        [("201".to_owned(), 1, 0), ("202".to_owned(), 0, 0)]
    );
    assert!(rows_of(&app, b_id).await > 0, "a dry run removes nothing");
    let synced = "SELECT COUNT(*) FROM external_identifier WHERE value LIKE 'RETB-%'";
    assert_eq!(
        app.scalar(synced).await,
        3,
        "B's synced records hold their identifiers"
    );

    // The day after: B goes, with everything recorded about B, leaving one audit row.
    assert_eq!(
        purge(&app, "2035-01-11", false).await,
        [("201".to_owned(), 1, 0), ("202".to_owned(), 0, 0)]
    );
    assert_eq!(rows_of(&app, b_id).await, 0);
    assert_eq!(
        app.scalar(synced).await,
        0,
        "nor do their identifiers outlive them"
    );
    assert_eq!(rows_of(&app, a_id).await, before, "A is untouched");
    let audit = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'DELETE' AND record_type = 'child' \
             AND record_id = {b_id} AND subject = 'reunify:retention-purge'"
        ))
        .await;
    assert_eq!(audit, 1);
    assert!(w.ok(CHILD, json!({ "id": b })).await["child"].is_null());

    // After the 75th birthday: A and the other LA's child go; D is on hold and stays.
    assert_eq!(
        purge(&app, "2090-06-02", false).await,
        [("201".to_owned(), 1, 1), ("202".to_owned(), 1, 0)]
    );
    assert_eq!(rows_of(&app, a_id).await, 0);
    assert_eq!(rows_of(&app, c_id).await, 0);
    assert!(rows_of(&app, d_id).await >= 10, "the held record is kept");

    // Lifting the hold lets the next purge take it.
    admin
        .must(
            "childLegalHoldSet",
            "child { legalHold }",
            json!({ "childId": d, "hold": false }),
        )
        .await;
    assert_eq!(
        purge(&app, "2090-06-02", false).await,
        [("201".to_owned(), 1, 0), ("202".to_owned(), 0, 0)]
    );
    assert_eq!(rows_of(&app, d_id).await, 0);
}

const EXPORT: &str = "query($id: ID!) { subjectAccessExport(childId: $id) }";

#[tokio::test]
async fn a_subject_access_export_holds_everything_about_one_child_and_is_audited() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let (child, case) = full_case(&w, "SAR1").await;
    full_case(&w, "SAR2").await;
    // Someone reads the case, so the audit trail has something to show.
    w.ok(
        "query($id: ID!) { case(id: $id) { id } }",
        json!({ "id": case }),
    )
    .await;

    let admin = app.caller("201", &["la_admin"]);
    let doc = admin.ok(EXPORT, json!({ "id": child })).await["subjectAccessExport"].clone();
    assert_eq!(doc["format"], "reunify-subject-access/1");
    assert_eq!(doc["localAuthority"], "201");
    assert_eq!(doc["child"]["la_child_id"], "SAR1");
    let records = &doc["records"];
    for (table, at_least) in [
        ("reunification_case", 1),
        ("care_episode", 1),
        ("household_member", 1),
        ("decision", 1),
        ("assessment_factor", 1),
        ("checklist_item", 1),
        ("stage_progress", 1),
    ] {
        let n = records[table].as_array().map_or(0, Vec::len);
        assert!(n >= at_least, "{table}: {n} in {records:#}");
    }
    // Only this child's records.
    let child_id = doc["child"]["id"].clone();
    assert!(
        records["reunification_case"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["child_id"] == child_id)
    );
    let trail: &Vec<Value> = doc["auditTrail"].as_array().unwrap();
    assert!(trail.iter().any(|e| e["action"] == "READ"), "{trail:#?}");
    assert!(
        trail
            .iter()
            .all(|e| e["child_id"] == child_id || e["case_id"].is_i64())
    );

    // The export is itself recorded.
    let exports = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'EXPORT' AND child_id = {child_id}"
        ))
        .await;
    assert_eq!(exports, 1);

    // A social worker may not export; another LA's admin finds nothing.
    let refused = w.gql(EXPORT, json!({ "id": child })).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(refused["data"].is_null());
    let elsewhere = app
        .caller("202", &["la_admin"])
        .ok(EXPORT, json!({ "id": child }))
        .await;
    assert!(elsewhere["subjectAccessExport"].is_null());
}
