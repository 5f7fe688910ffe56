//! Sync from case-management systems: episodes and cases upserted and looked up by external
//! identifier, the SSDA903 rules for one episode, merging duplicate children, and bulk import by
//! mutation and by JSON Lines upload.

use serde_json::{Value, json};

use crate::support::{Caller, TestApp, days_ago};

const EPISODE: &str = "episode { id version startedOn endedOn reasonCeased placementType externalIds { system value } } result";
const CASE: &str =
    "case { id version team attemptNumber child { id } externalIds { system value } } result";

fn ext(value: &str) -> Value {
    json!({ "system": "LCS", "value": value })
}

/// A child of `born_days_ago`, upserted with identifier `LCS/<id>`.
async fn child(c: &Caller, id: &str, born_days_ago: i64) -> Value {
    c.must(
        "childUpsert",
        "child { id version } result",
        json!({
            "externalId": ext(id), "laChildId": id, "dateOfBirth": days_ago(born_days_ago),
            "sex": "M", "ethnicity": "WBRI"
        }),
    )
    .await["child"]
        .clone()
}

fn episode(value: &str, child: &str, overrides: Value) -> Value {
    let mut input = json!({
        "externalId": ext(value), "childExternalId": ext(child),
        "startedOn": days_ago(200), "legalStatus": "C2", "categoryOfNeed": "N1",
        "placementType": "U4"
    });
    if let (Some(i), Some(o)) = (input.as_object_mut(), overrides.as_object()) {
        i.extend(o.clone());
    }
    input
}

fn case(value: &str, child: &str, episode: &str, overrides: Value) -> Value {
    let mut input = json!({
        "externalId": ext(value), "childExternalId": ext(child),
        "episodeExternalId": ext(episode), "team": "North", "openedOn": days_ago(150)
    });
    if let (Some(i), Some(o)) = (input.as_object_mut(), overrides.as_object()) {
        i.extend(o.clone());
    }
    input
}

/// The one user error of a refused mutation: (field after `input`, code, message).
fn only_error(p: &Value) -> (String, String, String) {
    let errors = p["userErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{p:#}");
    let e = &errors[0];
    let field: Vec<&str> = e["field"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(field[0], "input");
    (
        field[1..].join("."),
        e["code"].as_str().unwrap().to_owned(),
        e["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn episodes_and_cases_sync_by_external_identifier() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let kid = child(&w, "SYNC1", 3000).await;

    let made = w
        .must("episodeUpsert", EPISODE, episode("E-1", "SYNC1", json!({})))
        .await;
    assert_eq!(made["result"], "CREATED");
    assert_eq!(made["episode"]["externalIds"], json!([ext("E-1")]));
    let episode_id = made["episode"]["id"].clone();
    let again = w
        .must("episodeUpsert", EPISODE, episode("E-1", "SYNC1", json!({})))
        .await;
    assert_eq!(again["result"], "UNCHANGED");
    assert_eq!(again["episode"]["version"], made["episode"]["version"]);

    // The case names the child and episode by their identifiers too.
    let opened = w
        .must("caseUpsert", CASE, case("K-1", "SYNC1", "E-1", json!({})))
        .await;
    assert_eq!(opened["result"], "CREATED");
    assert_eq!(opened["case"]["child"]["id"], kid["id"]);
    let case_id = opened["case"]["id"].clone();
    let same = w
        .must("caseUpsert", CASE, case("K-1", "SYNC1", "E-1", json!({})))
        .await;
    assert_eq!(same["result"], "UNCHANGED");
    let moved = w
        .must(
            "caseUpsert",
            CASE,
            case("K-1", "SYNC1", "E-1", json!({ "team": "South" })),
        )
        .await;
    assert_eq!(moved["result"], "UPDATED");
    assert_eq!(moved["case"]["team"], "South");
    assert_eq!(moved["case"]["id"], case_id);
    // A stale version, a new opening date, or another episode: refused, nothing changes.
    let v = opened["case"]["version"].as_i64().unwrap();
    w.refused(
        "caseUpsert",
        CASE,
        case(
            "K-1",
            "SYNC1",
            "E-1",
            json!({ "team": "East", "expectedVersion": v }),
        ),
        "CONFLICT",
    )
    .await;
    let p = w
        .refused(
            "caseUpsert",
            CASE,
            case("K-1", "SYNC1", "E-1", json!({ "openedOn": days_ago(100) })),
            "INVALID",
        )
        .await;
    assert_eq!(only_error(&p).0, "openedOn");
    let p = w
        .refused(
            "caseUpsert",
            CASE,
            case("K-1", "SYNC1", "E-404", json!({})),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(only_error(&p).0, "episodeExternalId");
    let p = w
        .refused(
            "caseUpsert",
            CASE,
            case("K-1", "SYNC1", "E-1", json!({ "childId": kid["id"] })),
            "INVALID",
        )
        .await;
    assert_eq!(
        only_error(&p).0,
        "childId",
        "childId and childExternalId both"
    );

    // The episode ends by sync: end date and reason together.
    let ended = w
        .must(
            "episodeUpsert",
            EPISODE,
            episode(
                "E-1",
                "SYNC1",
                json!({ "endedOn": days_ago(10), "reasonCeased": "E13" }),
            ),
        )
        .await;
    assert_eq!(ended["result"], "UPDATED");
    assert_eq!(ended["episode"]["id"], episode_id);
    assert_eq!(ended["episode"]["reasonCeased"], "E13");

    // An episode cannot move to another child.
    child(&w, "SYNC2", 2000).await;
    let p = w
        .refused(
            "episodeUpsert",
            EPISODE,
            episode(
                "E-1",
                "SYNC2",
                json!({ "endedOn": days_ago(10), "reasonCeased": "E13" }),
            ),
            "INVALID",
        )
        .await;
    assert_eq!(only_error(&p).0, "childId");

    // Lookups, in the caller's LA only.
    let q = "query($s: String!, $v: String!) {
        episodeByExternalId(system: $s, value: $v) { id }
        caseByExternalId(system: $s, value: $v) { id } }";
    let found = w.ok(q, json!({ "s": "LCS", "v": "E-1" })).await;
    assert_eq!(found["episodeByExternalId"]["id"], episode_id);
    assert_eq!(found["caseByExternalId"], Value::Null);
    let found = w.ok(q, json!({ "s": "LCS", "v": "K-1" })).await;
    assert_eq!(found["caseByExternalId"]["id"], case_id);
    let other = app.caller("202", &["social_worker"]);
    let theirs = other.ok(q, json!({ "s": "LCS", "v": "K-1" })).await;
    assert_eq!(theirs["caseByExternalId"], Value::Null);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM care_episode").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reunification_case").await,
        1
    );
}

#[tokio::test]
async fn episode_rules_name_the_field_and_the_rule() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    // Born 10 years ago: too young for supported accommodation (16), residential employment (14).
    child(&w, "RULES1", 3653).await;
    child(&w, "TODDLER", 1100).await;
    let cases: Vec<(&str, Value, &str, &str, &str)> = vec![
        (
            "RULES1",
            json!({ "endedOn": days_ago(5) }),
            "reasonCeased",
            "INVALID",
            "both or neither",
        ),
        (
            "RULES1",
            json!({ "reasonCeased": "E13" }),
            "endedOn",
            "INVALID",
            "both or neither",
        ),
        (
            "RULES1",
            json!({ "endedOn": days_ago(300), "reasonCeased": "E13" }),
            "endedOn",
            "INVALID_DATE",
            "end not before start",
        ),
        (
            "RULES1",
            json!({ "endedOn": days_ago(5), "reasonCeased": "ZZ9" }),
            "reasonCeased",
            "INVALID_CODE",
            "ZZ9",
        ),
        (
            "RULES1",
            json!({ "placementType": "K3" }),
            "placementType",
            "INVALID_CODE",
            "rule 371",
        ),
        (
            "RULES1",
            json!({ "placementType": "P3" }),
            "placementType",
            "INVALID_CODE",
            "rule 374",
        ),
        (
            "TODDLER",
            json!({ "placementType": "S1" }),
            "placementType",
            "INVALID_CODE",
            "rule 373",
        ),
        (
            "TODDLER",
            json!({ "startedOn": days_ago(1200) }),
            "startedOn",
            "INVALID_DATE",
            "before the child's birth",
        ),
        (
            "RULES1",
            json!({ "placementType": "H5" }),
            "placementType",
            "INVALID_CODE",
            "H5",
        ),
    ];
    for (i, (kid, overrides, field, code, says)) in cases.into_iter().enumerate() {
        let input = episode(&format!("BAD-{i}"), kid, overrides.clone());
        let p = w.refused("episodeUpsert", EPISODE, input, code).await;
        let (f, c, message) = only_error(&p);
        assert_eq!(
            (f.as_str(), c.as_str()),
            (field, code),
            "{overrides}: {p:#}"
        );
        assert!(message.contains(says), "{overrides}: {message}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM care_episode").await, 0);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM external_identifier WHERE owner_kind = 'episode'")
            .await,
        0
    );
    // At 16 the same supported accommodation is fine.
    child(&w, "OLDER", 6400).await;
    let ok = w
        .must(
            "episodeUpsert",
            EPISODE,
            episode("OK-1", "OLDER", json!({ "placementType": "K3" })),
        )
        .await;
    assert_eq!(ok["result"], "CREATED");
    // A second open episode of the same child is a duplicate.
    let p = w
        .refused(
            "episodeUpsert",
            EPISODE,
            episode("OK-2", "OLDER", json!({})),
            "DUPLICATE",
        )
        .await;
    assert!(only_error(&p).2.contains("open episode"));
}

const MERGED: &str =
    "child { id version nhsNumber legalHold externalIds { system value } episodes { id } } ";

#[tokio::test]
async fn merging_two_records_of_one_child_moves_everything_and_is_audited() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let keep = child(&w, "KEEP1", 3000).await;
    w.must("episodeUpsert", EPISODE, episode("E-K", "KEEP1", json!({})))
        .await;
    w.must("caseUpsert", CASE, case("C-K", "KEEP1", "E-K", json!({})))
        .await;
    // The duplicate: an NHS number, a household member and an episode that ended.
    let dup = w
        .must(
            "childUpsert",
            "child { id version }",
            json!({
                "externalId": { "system": "MOSAIC", "value": "M-77" }, "laChildId": "DUP1",
                "dateOfBirth": days_ago(3000), "sex": "M", "ethnicity": "WBRI",
                "nhsNumber": "9990000018"
            }),
        )
        .await["child"]
        .clone();
    w.must(
        "householdMemberAdd",
        "householdMember { id }",
        json!({ "childId": dup["id"], "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": false }),
    )
    .await;
    let old = episode(
        "E-D",
        "M-77",
        json!({ "childExternalId": { "system": "MOSAIC", "value": "M-77" },
                "startedOn": days_ago(900), "endedOn": days_ago(600), "reasonCeased": "E13" }),
    );
    w.must("episodeUpsert", EPISODE, old).await;

    // Stale versions and a merge with itself are refused; nothing moves.
    let input = |extra: Value| {
        let mut i = json!({ "childId": keep["id"], "duplicateId": dup["id"] });
        i.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        i
    };
    w.refused(
        "childMerge",
        "child { id }",
        input(json!({ "duplicateExpectedVersion": 99 })),
        "CONFLICT",
    )
    .await;
    w.refused(
        "childMerge",
        "child { id }",
        json!({ "childId": keep["id"], "duplicateId": keep["id"] }),
        "INVALID",
    )
    .await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 2);

    let merged = w
        .must(
            "childMerge",
            MERGED,
            input(json!({ "expectedVersion": keep["version"], "duplicateExpectedVersion": dup["version"] })),
        )
        .await["child"]
        .clone();
    assert_eq!(merged["id"], keep["id"]);
    assert_eq!(merged["nhsNumber"], "9990000018", "takes what it lacked");
    assert_eq!(merged["episodes"].as_array().unwrap().len(), 2);
    let ids: Vec<&Value> = merged["externalIds"].as_array().unwrap().iter().collect();
    assert_eq!(ids.len(), 2, "{merged:#}");

    // The duplicate's identifier now finds the kept record; the duplicate is gone.
    let found = w
        .ok(
            "query($id: ID!) { childByExternalId(system: \"MOSAIC\", value: \"M-77\") { id householdMembers { relationship } }
               child(id: $id) { id } }",
            json!({ "id": dup["id"] }),
        )
        .await;
    assert_eq!(found["childByExternalId"]["id"], keep["id"]);
    assert_eq!(
        found["childByExternalId"]["householdMembers"],
        json!([{ "relationship": "MOTHER" }])
    );
    assert_eq!(found["child"], Value::Null);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 1);

    // Audited: MERGE on the kept record naming the duplicate, DELETE of the duplicate.
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'MERGE' AND record_type = 'child' \
             AND fields LIKE 'merged_from:%' AND operation = 'childMerge'"
        )
        .await,
        1
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'DELETE' AND record_type = 'child' \
             AND fields LIKE 'merged_into:%'"
        )
        .await,
        1
    );
    // The kept record's timeline says so.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM case_event WHERE event_type = 'CHILD_MERGED'")
            .await,
        1
    );

    // Two records that both have an open episode cannot be merged until one ends.
    let a = child(&w, "OPENA", 3000).await;
    let b = child(&w, "OPENB", 3000).await;
    w.must("episodeUpsert", EPISODE, episode("E-A", "OPENA", json!({})))
        .await;
    w.must("episodeUpsert", EPISODE, episode("E-B", "OPENB", json!({})))
        .await;
    let p = w
        .refused(
            "childMerge",
            "child { id }",
            json!({ "childId": a["id"], "duplicateId": b["id"] }),
            "DUPLICATE",
        )
        .await;
    assert_eq!(only_error(&p).0, "duplicateId");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 3);
}

const BULK: &str = "items { index kind result id version externalId { value } userErrors { field code message } } created updated unchanged rejected";

#[tokio::test]
async fn bulk_import_applies_each_item_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let kid = |id: &str, dob: String| {
        json!({ "child": {
            "externalId": ext(id), "laChildId": id, "dateOfBirth": dob, "sex": "F", "ethnicity": "WBRI"
        } })
    };
    let items = json!([
        kid("B1", days_ago(3000)),
        kid("B2", days_ago(3000)),
        // A bad check digit: this child is rejected, the others go ahead.
        { "child": { "externalId": ext("B3"), "laChildId": "B3", "dateOfBirth": days_ago(3000),
                     "sex": "F", "ethnicity": "WBRI", "nhsNumber": "9990000019" } },
        { "episode": episode("BE1", "B1", json!({})) },
        // Names the rejected child: rejected in turn.
        { "episode": episode("BE3", "B3", json!({})) },
        { "case": case("BK1", "B1", "BE1", json!({})) },
        // A case with an empty team name: nothing of it is written.
        { "case": case("BK2", "B1", "BE1", json!({ "team": "" })) },
    ]);
    let p = w.must("bulkImport", BULK, json!({ "items": items })).await;
    let results: Vec<&str> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        [
            "CREATED", "CREATED", "REJECTED", "CREATED", "REJECTED", "CREATED", "REJECTED"
        ]
    );
    assert_eq!(
        (&p["created"], &p["rejected"], &p["updated"]),
        (&json!(4), &json!(3), &json!(0))
    );
    let bad = &p["items"][2];
    assert_eq!(bad["kind"], "CHILD");
    assert_eq!(bad["externalId"]["value"], "B3");
    assert_eq!(bad["id"], Value::Null);
    assert_eq!(
        bad["userErrors"][0]["field"],
        json!(["input", "items", "2", "child", "nhsNumber"])
    );
    assert_eq!(bad["userErrors"][0]["code"], "INVALID_IDENTIFIER");
    assert_eq!(
        p["items"][4]["userErrors"][0]["field"],
        json!(["input", "items", "4", "episode", "childExternalId"])
    );
    assert_eq!(p["items"][6]["userErrors"][0]["code"], "INVALID");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 2);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM care_episode").await, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reunification_case").await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM external_identifier").await,
        4
    );
    // Only what was written is in the timeline.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM case_event WHERE event_type = 'CASE_OPENED'")
            .await,
        1
    );

    // The same again: unchanged where stored, rejected again where not.
    let p = w.must("bulkImport", BULK, json!({ "items": items })).await;
    assert_eq!((&p["unchanged"], &p["rejected"]), (&json!(4), &json!(3)));

    // More than 500 at once is refused as a whole.
    let many: Vec<Value> = (0..501)
        .map(|i| kid(&format!("M{i}"), days_ago(3000)))
        .collect();
    let p = w
        .refused("bulkImport", BULK, json!({ "items": many }), "INVALID")
        .await;
    assert_eq!(p["items"], json!([]));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, 2);
}

/// POSTs a JSON Lines body to `/imports`; returns the status and the answer's lines.
async fn upload(app: &TestApp, c: &Caller, content_type: &str, body: String) -> (u16, Vec<Value>) {
    let resp = app
        .http()
        .post(format!("{}/imports", app.base))
        .bearer_auth(&c.token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| json!({ "raw": l })))
        .collect();
    (status, lines)
}

#[tokio::test]
async fn json_lines_upload_imports_thousands_with_a_result_per_line() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let n = 400;
    let mut lines = Vec::new();
    for i in 0..n {
        let id = format!("J{i}");
        lines.push(json!({ "child": {
            "externalId": ext(&id), "laChildId": id, "dateOfBirth": days_ago(3000 + i),
            "sex": "M", "ethnicity": "WBRI" } }));
        lines.push(json!({ "episode": episode(&format!("JE{i}"), &id, json!({})) }));
        if i % 2 == 0 {
            lines.push(
                json!({ "case": case(&format!("JK{i}"), &id, &format!("JE{i}"), json!({})) }),
            );
        }
    }
    let mut body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    // Bad lines among good ones: not JSON, not a record, a broken record; and a blank line.
    body.push_str("{not json\n\n{\"kid\": {}}\n");
    body.push_str(&format!(
        "{}\n",
        json!({ "episode": episode("JX", "J1", json!({ "placementType": "ZZ" })) })
    ));
    let total = lines.len();
    let (status, answer) = upload(&app, &w, "application/x-ndjson", body.clone()).await;
    assert_eq!(status, 200, "{answer:?}");
    assert_eq!(
        answer.len(),
        total + 3 + 1,
        "a result per record, then the summary"
    );
    let summary = &answer.last().unwrap()["summary"];
    assert_eq!(summary["created"], total);
    assert_eq!(summary["rejected"], 3);
    assert_eq!(answer[0]["line"], 1);
    assert_eq!(answer[0]["kind"], "child");
    assert_eq!(answer[0]["result"], "CREATED");
    let not_json = &answer[total];
    assert_eq!(
        (&not_json["line"], &not_json["result"]),
        (&json!(total + 1), &json!("REJECTED"))
    );
    assert!(
        not_json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    assert_eq!(
        answer[total + 1]["line"],
        total + 3,
        "the blank line is counted, not answered"
    );
    let broken = &answer[total + 2];
    assert_eq!(
        broken["errors"][0]["field"],
        json!(["episode", "placementType"])
    );
    assert_eq!(broken["errors"][0]["code"], "INVALID_CODE");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, n);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM care_episode").await, n);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reunification_case").await,
        n / 2
    );
    // Every created record is audited.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'CREATE' AND record_type = 'care_episode'")
            .await,
        n
    );

    // Sent again (as after a fault): nothing new, nothing changed.
    let (_, again) = upload(&app, &w, "application/x-ndjson", body).await;
    let summary = &again.last().unwrap()["summary"];
    assert_eq!(
        (&summary["unchanged"], &summary["created"]),
        (&json!(total), &json!(0))
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM child").await, n);

    // Refusals: not JSON Lines, no token, a role that may not write.
    let one = format!("{}\n", lines[0]);
    assert_eq!(
        upload(&app, &w, "application/json", one.clone()).await.0,
        415
    );
    let nobody = app.with_token("not-a-token");
    assert_eq!(
        upload(&app, &nobody, "application/x-ndjson", one.clone())
            .await
            .0,
        401
    );
    let analyst = app.caller("201", &["data_analyst"]);
    let (status, body) = upload(&app, &analyst, "application/x-ndjson", one).await;
    assert_eq!(status, 403, "{body:?}");
}

/// The case's stage, return type, episode and last event.
async fn case_state(c: &Caller, case: &str) -> Value {
    c.ok(
        "query($id: ID!) { case(id: $id) { stage returnType version
            episode { id placementType reasonNewEpisode placementProvider endedOn reasonCeased }
            outcome { returnedOn returnType }
            } }",
        json!({ "id": case }),
    )
    .await["case"]
        .clone()
}

#[tokio::test]
async fn episodes_the_vendor_ends_drive_the_case() {
    let app = TestApp::spawn().await;
    let (w, officer) = (app.worker(), app.officer());
    let ended = |id: &str, on: i64, reason: &str| {
        json!({ "externalId": ext(&format!("EP-{id}")), "childExternalId": ext(id),
                "startedOn": days_ago(300), "legalStatus": "C2", "categoryOfNeed": "N1",
                "placementType": "U6", "endedOn": days_ago(on), "reasonCeased": reason })
    };

    // A planned return: D3 = yes approved, then the vendor ends the episode E4A. The case enters
    // stage 4 as planned, the episode stays as sent, and the event names the sync.
    let f = crate::support::synced_case(&w, "EPV1", 300, "C2").await;
    crate::support::complete_required(&w, &f.case).await;
    crate::support::decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(250) }),
    )
    .await;
    let d3 = crate::support::to_d3(&app, &f, "MEDIUM", 200, 150).await;
    assert_eq!(d3["userErrors"], json!([]), "{d3:#}");
    if d3["decision"]["approvalStatus"] == "PENDING" {
        let id = w
            .ok(
                "query($id: ID!) { case(id: $id) { decisions { id kind } } }",
                json!({ "id": f.case }),
            )
            .await["case"]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == "D3")
            .unwrap()["id"]
            .clone();
        officer
            .must(
                "decisionApprove",
                "decision { id }",
                json!({ "decisionId": id }),
            )
            .await;
    }
    let p = w
        .must(
            "episodeUpsert",
            "episode { endedOn reasonCeased } result",
            ended("EPV1", 0, "E4A"),
        )
        .await;
    assert_eq!(p["result"], "UPDATED");
    let s = case_state(&w, &f.case).await;
    assert_eq!(s["stage"], "RETURN_AND_SUPPORT", "{s:#}");
    assert_eq!(s["returnType"], "PLANNED");
    assert_eq!(s["outcome"]["returnedOn"], days_ago(0));
    assert_eq!(s["episode"]["reasonCeased"], "E4A");
    assert_eq!(s["episode"]["endedOn"], days_ago(0));
    let events = w
        .ok(
            "query($id: ID!) { case(id: $id) { events(last: 10) { nodes { type operation } } } }",
            json!({ "id": f.case }),
        )
        .await;
    assert!(
        events["case"]["events"]["nodes"]
            .as_array()
            .unwrap()
            .contains(&json!({ "type": "RETURN_RECORDED", "operation": "episodeUpsert" })),
        "{events:#}"
    );
    // Sent again: nothing more happens.
    let again = w
        .must("episodeUpsert", "result", ended("EPV1", 0, "E4A"))
        .await;
    assert_eq!(again["result"], "UNCHANGED");

    // To relatives without parental responsibility, from an early stage: unplanned (E13).
    let g = crate::support::synced_case(&w, "EPV2", 100, "V2").await;
    w.must("episodeUpsert", "result", ended("EPV2", 2, "E13"))
        .await;
    let s = case_state(&w, &g.case).await;
    assert_eq!(
        (s["stage"].as_str(), s["returnType"].as_str()),
        (Some("RETURN_AND_SUPPORT"), Some("UNPLANNED"))
    );
    assert_eq!(s["episode"]["reasonCeased"], "E13");

    // An end the case cannot take (before the case opened) is refused whole, naming endedOn.
    let h = crate::support::synced_case(&w, "EPV3", 100, "C2").await;
    let before = case_state(&w, &h.case).await;
    let p = w
        .mutate("episodeUpsert", "result", ended("EPV3", 100, "E4B"))
        .await;
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "endedOn"]),
        "{p:#}"
    );
    assert_eq!(case_state(&w, &h.case).await, before);
    // Other reasons (a move to another LA) leave the case to the worker.
    w.must("episodeUpsert", "result", ended("EPV3", 2, "E3"))
        .await;
    assert_eq!(case_state(&w, &h.case).await["stage"], "IDENTIFICATION");
}

#[tokio::test]
async fn a_return_says_what_it_did_to_the_episodes_as_the_903_does() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    // Placed with parents under a care order: the episode ends X1 (CARPL) and a P1 episode
    // begins the same day, which the case now follows.
    let f = crate::support::synced_case(&w, "PWP1", 100, "C2").await;
    let p = w
        .must(
            "returnRecord",
            "case { stage }",
            json!({ "caseId": f.case, "returnedOn": days_ago(5), "unplanned": true, "endsCare": false }),
        )
        .await;
    assert_eq!(p["case"]["stage"], "RETURN_AND_SUPPORT");
    let s = case_state(&w, &f.case).await;
    assert_eq!(
        s["episode"],
        json!({ "id": s["episode"]["id"], "placementType": "P1", "reasonNewEpisode": "P",
                "placementProvider": "PR0", "endedOn": null, "reasonCeased": null })
    );
    let first = w
        .ok(
            "query($id: ID!) { node(id: $id) { ... on CareEpisode { endedOn reasonCeased reasonPlaceChange } } }",
            json!({ "id": f.episode }),
        )
        .await;
    assert_eq!(
        first["node"],
        json!({ "endedOn": days_ago(5), "reasonCeased": "X1", "reasonPlaceChange": "CARPL" })
    );
    // The vendor's later discharge of that P1 episode is its own end; the case is already home.
    // Under section 20 there is no placing with parents: the child leaves care.
    let g = crate::support::synced_case(&w, "PWP2", 100, "V2").await;
    let p = w
        .mutate(
            "returnRecord",
            "case { stage }",
            json!({ "caseId": g.case, "returnedOn": days_ago(5), "unplanned": true, "endsCare": false }),
        )
        .await;
    assert_eq!(
        p["userErrors"][0]["field"],
        json!(["input", "endsCare"]),
        "{p:#}"
    );
    // To relatives without parental responsibility: E13.
    let p = w
        .must(
            "returnRecord",
            "case { episode { reasonCeased } }",
            json!({ "caseId": g.case, "returnedOn": days_ago(5), "unplanned": true,
                    "withoutParentalResponsibility": true }),
        )
        .await;
    assert_eq!(p["case"]["episode"]["reasonCeased"], "E13");
    // The 903 return holds both periods as the DfE's rules expect them.
    let manager = app.manager();
    let text = app
        .http()
        .get(format!("{}/exports/ssda903/episodes.csv", app.base))
        .bearer_auth(&manager.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(",X1,CARPL,"), "{text}");
    assert!(text.contains(",P,C2,N1,P1,PR0,,,"), "{text}");
}

/// Runs an upsert mutation with `input`; its payload.
async fn upsert(c: &Caller, name: &str, selection: &str, input: Value) -> Value {
    c.mutate(name, &format!("{selection} result"), input).await
}

#[tokio::test]
async fn the_household_services_visits_and_reviews_sync_by_identifier() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = crate::support::synced_case(&w, "WHOLE1", 200, "C2").await;
    let case_ext = ext("CASE-WHOLE1");
    // (mutation, selection, input, a change, lookup query)
    let kinds = [
        (
            "householdMemberUpsert",
            "householdMember { id version livesWithChild }",
            json!({ "externalId": ext("HM-1"), "childExternalId": ext("WHOLE1"), "relationship": "FATHER",
                    "label": "Father", "hasParentalResponsibility": true, "livesWithChild": false }),
            json!({ "livesWithChild": true }),
            "householdMemberByExternalId",
        ),
        (
            "supportServiceUpsert",
            "service { id version status }",
            json!({ "externalId": ext("SV-1"), "caseExternalId": case_ext, "serviceType": "PARENTING_SUPPORT",
                    "provider": "Family Hub", "needLevel": "MEDIUM", "startsOn": days_ago(20), "status": "ACTIVE" }),
            json!({ "status": "ENDED", "endsOn": days_ago(1) }),
            "supportServiceByExternalId",
        ),
        (
            "visitUpsert",
            "visit { id version childSeenAlone }",
            json!({ "externalId": ext("VI-1"), "caseExternalId": case_ext, "visitedOn": days_ago(3),
                    "childSeen": true, "childSeenAlone": false }),
            json!({ "childSeenAlone": true }),
            "visitByExternalId",
        ),
        (
            "reviewUpsert",
            "review { id version nextReviewOn }",
            json!({ "externalId": ext("RV-1"), "caseExternalId": case_ext, "kind": "LOOKED_AFTER",
                    "heldOn": days_ago(2), "nextReviewOn": days_ago(-90) }),
            json!({ "nextReviewOn": days_ago(-120) }),
            "reviewByExternalId",
        ),
    ];
    let other = app.caller("202", &["social_worker"]);
    for (name, selection, input, change, lookup) in kinds {
        let record = selection.split(' ').next().unwrap();
        let created = upsert(&w, name, selection, input.clone()).await;
        assert_eq!(created["result"], "CREATED", "{name}: {created:#}");
        let id = created[record]["id"].clone();
        let again = upsert(&w, name, selection, input.clone()).await;
        assert_eq!(
            (
                again["result"].as_str(),
                &again[record]["id"],
                again[record]["version"].as_i64()
            ),
            (Some("UNCHANGED"), &id, Some(1)),
            "{name}: {again:#}"
        );
        let mut changed = input.clone();
        changed
            .as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        changed["expectedVersion"] = json!(1);
        let updated = upsert(&w, name, selection, changed.clone()).await;
        assert_eq!(updated["result"], "UPDATED", "{name}: {updated:#}");
        assert_eq!(updated[record]["version"], 2);
        // A stale version is a conflict, and changes nothing.
        let mut stale = input.clone();
        stale["expectedVersion"] = json!(1);
        let p = upsert(&w, name, selection, stale).await;
        assert_eq!(p["userErrors"][0]["code"], "CONFLICT", "{name}: {p:#}");
        // Found by the identifier in its own LA only; another LA's identical identifier names
        // nothing of ours, and its upsert cannot reach our child or case.
        let q = format!(
            "{{ {lookup}(system: \"LCS\", value: \"{}\") {{ id version }} }}",
            input["externalId"]["value"].as_str().unwrap()
        );
        let found = w.ok(&q, json!({})).await;
        assert_eq!(found[lookup], json!({ "id": id, "version": 2 }), "{name}");
        assert_eq!(other.ok(&q, json!({})).await[lookup], Value::Null, "{name}");
        let foreign = upsert(&other, name, selection, input.clone()).await;
        assert_eq!(
            foreign["userErrors"][0]["code"], "NOT_FOUND",
            "{name}: {foreign:#}"
        );
    }
    // Bad data is refused whole, naming the field; nothing is stored.
    let visits = app.scalar("SELECT COUNT(*) FROM visit").await;
    let p = upsert(&w, "visitUpsert", "visit { id }", json!({ "externalId": ext("VI-2"),
        "caseExternalId": case_ext, "visitedOn": days_ago(1), "childSeen": false, "childSeenAlone": true })).await;
    assert_eq!(only_error(&p).0, "childSeenAlone");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM visit").await, visits);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM external_identifier WHERE value = 'VI-2'")
            .await,
        0
    );
    // A person never moves to another child's record.
    let g = crate::support::synced_case(&w, "WHOLE2", 200, "C2").await;
    let p = upsert(&w, "householdMemberUpsert", "householdMember { id }", json!({ "externalId": ext("HM-1"),
        "childId": g.child, "relationship": "FATHER", "hasParentalResponsibility": true, "livesWithChild": true })).await;
    assert_eq!(only_error(&p).0, "childId");
    // The review's next date is the case's; the visit proves "child seen alone".
    let case = w
        .ok(
            "query($id: ID!) { case(id: $id) { nextReviewOn visits { totalCount } } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(case["case"]["nextReviewOn"], days_ago(-120));
    assert_eq!(case["case"]["visits"]["totalCount"], 1);

    // bulkImport and the JSON Lines upload take them too.
    let items = json!([
        { "visit": { "externalId": ext("VI-3"), "caseExternalId": case_ext, "visitedOn": days_ago(4),
                     "childSeen": true, "childSeenAlone": true } },
        { "householdMember": { "externalId": ext("HM-2"), "childExternalId": ext("WHOLE1"),
                               "relationship": "GRANDPARENT", "hasParentalResponsibility": false, "livesWithChild": false } },
    ]);
    let p = w
        .ok(
            "mutation($i: BulkImportInput!) { bulkImport(input: $i) { created rejected items { kind result } } }",
            json!({ "i": { "items": items } }),
        )
        .await;
    assert_eq!(p["bulkImport"]["created"], 2, "{p:#}");
    assert_eq!(p["bulkImport"]["items"][0]["kind"], "VISIT");
    let line = json!({ "review": { "externalId": ext("RV-2"), "caseExternalId": case_ext, "kind": "PLAN",
                                   "heldOn": days_ago(1) } });
    let (status, results) = upload(&app, &w, "application/x-ndjson", format!("{line}\n")).await;
    assert_eq!(status, 200);
    assert_eq!(results[0]["result"], "CREATED", "{results:?}");
    assert_eq!(results[0]["kind"], "review");
}

const PARTY: &str = "party { id version strengths concerns acceptedOn householdMember { id } }";

/// The case's agreement versions: (number, status, [(member, accepted on)]).
async fn agreements(c: &Caller, case: &str) -> Vec<(i64, String, Vec<(String, Value)>)> {
    let data = c
        .ok(
            "query($id: ID!) { case(id: $id) { agreements { number status
               parties { acceptedOn householdMember { id } } } } }",
            json!({ "id": case }),
        )
        .await;
    let mut out: Vec<_> = data["case"]["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let parties = a["parties"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["householdMember"]["id"].as_str().unwrap().to_owned(),
                        p["acceptedOn"].clone(),
                    )
                })
                .collect();
            (
                a["number"].as_i64().unwrap(),
                a["status"].as_str().unwrap().to_owned(),
                parties,
            )
        })
        .collect();
    out.sort_by_key(|a| a.0);
    out
}

#[tokio::test]
async fn agreement_parties_sync_by_identifier() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = crate::support::synced_case(&w, "AGR1", 200, "C2").await;
    let mother = w
        .ok(
            "query($id: ID!) { child(id: $id) { householdMembers { id } } }",
            json!({ "id": f.child }),
        )
        .await["child"]["householdMembers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let party = |value: &str, member: Value, extra: Value| {
        let mut input = json!({ "externalId": ext(value), "caseExternalId": ext("CASE-AGR1") });
        let o = input.as_object_mut().unwrap();
        o.extend(member.as_object().unwrap().clone());
        o.extend(extra.as_object().unwrap().clone());
        input
    };
    let by_id = json!({ "householdMemberId": mother });
    // Before the goals stage there is no agreement to be a party to: refused, nothing stored.
    let p = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party("AP-M", by_id.clone(), json!({})),
    )
    .await;
    assert_eq!(only_error(&p).1, "WRONG_STAGE", "{p:#}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM parental_agreement").await,
        0
    );
    crate::support::complete_required(&w, &f.case).await;
    crate::support::decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "decidedOn": days_ago(30) }),
    )
    .await;
    crate::support::complete_required(&w, &f.case).await;
    crate::support::classify(&w, &m, &f.case, "RC1", "MEDIUM", 20).await;
    crate::support::sign_off(&m, &f.case, 20).await;
    crate::support::decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(20) }),
    )
    .await;

    // The first party starts the draft; the father (by the vendor's identifier) joins it signed.
    let created = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party(
            "AP-M",
            by_id.clone(),
            json!({ "strengths": "Warm with the child." }),
        ),
    )
    .await;
    assert_eq!(created["result"], "CREATED", "{created:#}");
    let father = upsert(
        &w,
        "householdMemberUpsert",
        "householdMember { id }",
        json!({
        "externalId": ext("HM-F"), "childExternalId": ext("AGR1"), "relationship": "FATHER",
        "hasParentalResponsibility": true, "livesWithChild": false }),
    )
    .await["householdMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_ext = json!({ "householdMemberExternalId": ext("HM-F") });
    let signed = json!({ "acceptedOn": days_ago(2) });
    let f1 = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party("AP-F", by_ext.clone(), signed.clone()),
    )
    .await;
    assert_eq!(f1["result"], "CREATED", "{f1:#}");
    assert_eq!(f1["party"]["acceptedOn"], days_ago(2));
    let again = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party("AP-F", by_ext.clone(), signed.clone()),
    )
    .await;
    assert_eq!(
        (again["result"].as_str(), &again["party"]["version"]),
        (Some("UNCHANGED"), &f1["party"]["version"])
    );
    assert_eq!(
        agreements(&w, &f.case).await,
        vec![(
            1,
            "DRAFT".to_owned(),
            vec![
                (mother.clone(), Value::Null),
                (father.clone(), json!(days_ago(2)))
            ]
        )]
    );

    // The mother's signature arrives from the vendor; the worker adds the goal and agrees it.
    let v = created["party"]["version"].as_i64().unwrap();
    let p = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party(
            "AP-M",
            by_id.clone(),
            json!({ "acceptedOn": days_ago(1), "expectedVersion": v }),
        ),
    )
    .await;
    assert_eq!(p["result"], "UPDATED", "{p:#}");
    assert_eq!(
        p["party"]["strengths"], "Warm with the child.",
        "not sent, kept"
    );
    let draft = w
        .ok(
            "query($id: ID!) { case(id: $id) { agreements { id } } }",
            json!({ "id": f.case }),
        )
        .await["case"]["agreements"][0]["id"]
        .clone();
    w.must(
        "goalAdd",
        "goal { id }",
        json!({ "agreementId": draft, "householdMemberId": mother,
        "description": "G.", "targetDate": days_ago(-30) }),
    )
    .await;
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": draft, "agreedOn": days_ago(1) }),
    )
    .await;

    // In force: what it already says changes nothing; a signature is what it was.
    let p = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party(
            "AP-M",
            by_id.clone(),
            json!({ "strengths": "Warm with the child.", "acceptedOn": days_ago(1) }),
        ),
    )
    .await;
    assert_eq!(p["result"], "UNCHANGED", "{p:#}");
    // A changed party is a new version, to be agreed again: parties carried over unsigned, goal
    // carried over, and the identifier follows the mother's party to it.
    let p = upsert(
        &w,
        "agreementPartyUpsert",
        PARTY,
        party(
            "AP-M",
            by_id.clone(),
            json!({ "concerns": "Missed two contact sessions." }),
        ),
    )
    .await;
    assert_eq!(p["result"], "UPDATED", "{p:#}");
    assert_ne!(p["party"]["id"], created["party"]["id"]);
    assert_eq!(
        (
            p["party"]["strengths"].as_str(),
            p["party"]["acceptedOn"].as_str()
        ),
        (Some("Warm with the child."), None)
    );
    let versions = agreements(&w, &f.case).await;
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(
        (versions[1].0, versions[1].1.as_str(), versions[1].2.len()),
        (2, "DRAFT", 2)
    );
    let q = "{ agreementPartyByExternalId(system: \"LCS\", value: \"AP-M\") { id } }";
    assert_eq!(
        w.ok(q, json!({})).await["agreementPartyByExternalId"]["id"],
        p["party"]["id"]
    );

    // Another LA's identical identifier names nothing of ours and reaches nothing.
    let other = app.caller("202", &["social_worker"]);
    assert_eq!(
        other.ok(q, json!({})).await["agreementPartyByExternalId"],
        Value::Null
    );
    let foreign = upsert(
        &other,
        "agreementPartyUpsert",
        PARTY,
        party("AP-M", by_id.clone(), json!({})),
    )
    .await;
    assert_eq!(only_error(&foreign).1, "NOT_FOUND", "{foreign:#}");

    // Bad data is refused whole, naming the field; nothing is stored.
    let (parties, ids) = (
        app.scalar("SELECT COUNT(*) FROM agreement_party").await,
        app.scalar("SELECT COUNT(*) FROM external_identifier").await,
    );
    let neighbour = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child,
        "relationship": "OTHER", "hasParentalResponsibility": false, "livesWithChild": false }),
        )
        .await["householdMember"]["id"]
        .clone();
    let bad = [
        (
            party("AP-N", json!({ "householdMemberId": neighbour }), json!({})),
            "householdMemberId",
            "INVALID",
        ),
        (
            party(
                "AP-X",
                by_id.clone(),
                json!({ "strengths": "x".repeat(20_001) }),
            ),
            "strengths",
            "INVALID",
        ),
        (
            party("AP-X", by_id.clone(), json!({ "acceptedOn": days_ago(-3) })),
            "acceptedOn",
            "INVALID_DATE",
        ),
        // A party never becomes another person's or moves to another case.
        (
            party("AP-F", by_id.clone(), json!({})),
            "householdMemberId",
            "INVALID",
        ),
        (
            party(
                "AP-F",
                json!({ "householdMemberExternalId": ext("HM-NONE") }),
                json!({}),
            ),
            "householdMemberExternalId",
            "NOT_FOUND",
        ),
        (
            party("AP-F", by_ext.clone(), json!({ "expectedVersion": 99 })),
            "expectedVersion",
            "CONFLICT",
        ),
    ];
    for (i, (input, field, code)) in bad.into_iter().enumerate() {
        let p = upsert(&w, "agreementPartyUpsert", PARTY, input).await;
        let (f, c, _) = only_error(&p);
        assert_eq!((c.as_str(), f.as_str()), (code, field), "row {i}: {p:#}");
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM agreement_party").await,
        parties
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM external_identifier").await,
        ids
    );

    // bulkImport and the JSON Lines upload take them too: the father signs the new draft.
    let item = json!({ "agreementParty": party("AP-F", by_ext.clone(), json!({ "acceptedOn": days_ago(0) })) });
    let p = w
        .ok(
            "mutation($i: BulkImportInput!) { bulkImport(input: $i) { updated items { kind result } } }",
            json!({ "i": { "items": [item] } }),
        )
        .await;
    assert_eq!(
        p["bulkImport"]["items"][0],
        json!({ "kind": "AGREEMENT_PARTY", "result": "UPDATED" }),
        "{p:#}"
    );
    let line =
        json!({ "agreementParty": party("AP-M", by_id, json!({ "acceptedOn": days_ago(0) })) });
    let (status, results) = upload(&app, &w, "application/x-ndjson", format!("{line}\n")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (results[0]["kind"].as_str(), results[0]["result"].as_str()),
        (Some("agreementParty"), Some("UPDATED")),
        "{results:?}"
    );
    let versions = agreements(&w, &f.case).await;
    assert!(
        versions[1]
            .2
            .iter()
            .all(|(_, on)| *on == json!(days_ago(0))),
        "{versions:?}"
    );
    // What the vendor did is the audit trail's, as the worker's mutations are.
    assert!(app.scalar("SELECT COUNT(*) FROM audit_event WHERE record_type = 'agreement_party' AND action <> 'READ'").await >= 6);
}
