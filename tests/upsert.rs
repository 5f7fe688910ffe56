//! Sync by external identifier: `childUpsert` creates, updates or leaves alone the child that a
//! sending system's identifier names; `childByExternalId` finds it.

use serde_json::{Value, json};

use crate::support::{Caller, TestApp};

const SELECTION: &str = "child { id version ethnicity externalIds { system value } } result";

fn lcs(overrides: Value) -> Value {
    let mut input = json!({
        "externalId": { "system": "LCS", "value": "C-1001" },
        "laChildId": "UPS1", "dateOfBirth": "2015-06-01", "sex": "F", "ethnicity": "WBRI"
    });
    if let (Some(i), Some(o)) = (input.as_object_mut(), overrides.as_object()) {
        i.extend(o.clone());
    }
    input
}

async fn lookup(c: &Caller, system: &str, value: &str) -> Value {
    c.ok(
        "query($s: String!, $v: String!) { childByExternalId(system: $s, value: $v) { id laChildId } }",
        json!({ "s": system, "v": value }),
    )
    .await["childByExternalId"]
        .clone()
}

#[tokio::test]
async fn child_upsert_creates_updates_and_leaves_alone() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let created = w.must("childUpsert", SELECTION, lcs(json!({}))).await;
    assert_eq!(created["result"], "CREATED");
    assert_eq!(
        created["child"]["externalIds"],
        json!([{ "system": "LCS", "value": "C-1001" }])
    );
    let id = created["child"]["id"].clone();
    let version = created["child"]["version"].as_i64().unwrap();

    // The same again: nothing changes, not even the version.
    let again = w.must("childUpsert", SELECTION, lcs(json!({}))).await;
    assert_eq!(again["result"], "UNCHANGED");
    assert_eq!(
        (
            &again["child"]["id"],
            again["child"]["version"].as_i64().unwrap()
        ),
        (&id, version)
    );

    // A change: the same child, a new version.
    let changed = w
        .must(
            "childUpsert",
            SELECTION,
            lcs(json!({ "ethnicity": "WIRI" })),
        )
        .await;
    assert_eq!(changed["result"], "UPDATED");
    assert_eq!(changed["child"]["id"], id);
    assert_eq!(changed["child"]["ethnicity"], "WIRI");
    assert_eq!(changed["child"]["version"], version + 1);

    // From a stale version, or with bad data: refused, nothing changes.
    w.refused(
        "childUpsert",
        SELECTION,
        lcs(json!({ "ethnicity": "WBRI", "expectedVersion": version })),
        "CONFLICT",
    )
    .await;
    w.refused(
        "childUpsert",
        SELECTION,
        lcs(json!({ "nhsNumber": "9990000019" })),
        "INVALID_IDENTIFIER",
    )
    .await;
    let now = w
        .must(
            "childUpsert",
            SELECTION,
            lcs(json!({ "ethnicity": "WIRI" })),
        )
        .await;
    assert_eq!(now["result"], "UNCHANGED");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 1);

    // Another identifier with a taken LA child ID is a duplicate, and creates nothing.
    w.refused(
        "childUpsert",
        SELECTION,
        lcs(json!({ "externalId": { "system": "LCS", "value": "C-2002" } })),
        "DUPLICATE",
    )
    .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM external_identifier").await,
        1
    );

    // Lookups: by system and value, in the caller's LA only.
    assert_eq!(lookup(&w, "LCS", "C-1001").await["id"], id);
    assert_eq!(lookup(&w, "MOSAIC", "C-1001").await, Value::Null);
    let other = app.caller("202", &["social_worker"]);
    assert_eq!(lookup(&other, "LCS", "C-1001").await, Value::Null);
    // Another LA's identical identifier is another child.
    let theirs = other.must("childUpsert", SELECTION, lcs(json!({}))).await;
    assert_eq!(theirs["result"], "CREATED");
    assert_ne!(theirs["child"]["id"], id);
}
