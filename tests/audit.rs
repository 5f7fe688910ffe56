//! The audit trail: every read of a child's record and every change leaves exactly one row, in the
//! same transaction; refusals and misses are recorded; rows name fields, never values; if the trail
//! cannot be written the request fails and keeps nothing; only LA administrators read it.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::support::{Caller, TestApp, open_case};

/// The audit rows of one request, as `(operation, action, outcome, record_type, fields)`.
async fn rows_of(app: &TestApp, rid: &str) -> Vec<(String, String, String, String, String)> {
    let sql = format!(
        "SELECT operation, action, outcome, COALESCE(record_type, ''), COALESCE(fields, '') \
         FROM audit_event WHERE request_id = '{rid}' ORDER BY id"
    );
    app.db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
                r.try_get_by_index(4).unwrap(),
            )
        })
        .collect()
}

fn row(
    op: &str,
    action: &str,
    outcome: &str,
    kind: &str,
) -> (String, String, String, String, String) {
    (
        op.into(),
        action.into(),
        outcome.into(),
        kind.into(),
        String::new(),
    )
}

async fn ok_rid(c: &Caller, query: &str, vars: Value) -> (String, Value) {
    let (status, rid, body) = c.send(query, vars).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    (rid, body["data"].clone())
}

#[tokio::test]
async fn every_access_to_a_childs_record_leaves_exactly_one_row() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "AUD1", 30).await;
    open_case(&w, "AUD2", 30).await;

    // One case with everything about it: one row for the case, one for its child.
    let detail = "query($id: ID!) { case(id: $id) { id stage child { laChildId }
        stages { checklist { key } } decisions { kind } } }";
    let (rid, _) = ok_rid(&w, detail, json!({ "id": f.case })).await;
    assert_eq!(
        rows_of(&app, &rid).await,
        vec![
            row("case", "READ", "ALLOWED", "reunification_case"),
            row("case", "READ", "ALLOWED", "child"),
        ]
    );

    // The same case asked for twice in one request is still one row.
    let twice = "query($id: ID!) { a: case(id: $id) { id } b: node(id: $id) { id } }";
    let (rid, _) = ok_rid(&w, twice, json!({ "id": f.case })).await;
    assert_eq!(rows_of(&app, &rid).await.len(), 1);

    // A list: one row per case and per child returned; totalCount alone reads no record.
    let (rid, data) = ok_rid(&w, "{ cases { nodes { id child { id } } } }", json!({})).await;
    assert_eq!(data["cases"]["nodes"].as_array().unwrap().len(), 2);
    let rows = rows_of(&app, &rid).await;
    assert_eq!(
        rows.iter().filter(|r| r.3 == "reunification_case").count(),
        2
    );
    assert_eq!(rows.iter().filter(|r| r.3 == "child").count(), 2);
    let (rid, _) = ok_rid(&w, "{ cases { totalCount } }", json!({})).await;
    assert!(rows_of(&app, &rid).await.is_empty());

    // Children and node(id) of a sub-record.
    let (rid, _) = ok_rid(&w, "{ children { nodes { id } } }", json!({})).await;
    assert_eq!(rows_of(&app, &rid).await.len(), 2);
    let (rid, _) = ok_rid(
        &w,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({ "id": f.episode }),
    )
    .await;
    assert_eq!(
        rows_of(&app, &rid).await,
        vec![row("node", "READ", "ALLOWED", "care_episode")]
    );
}

#[tokio::test]
async fn refusals_and_misses_are_recorded() {
    let app = TestApp::spawn().await;
    let f = open_case(&app.worker(), "AUD3", 30).await;

    // Another LA asking for this case: a miss in its own LA's trail, nothing in ours.
    let other = app.caller("202", &["social_worker"]);
    let (rid, data) = ok_rid(
        &other,
        "query($id: ID!) { case(id: $id) { id } }",
        json!({ "id": f.case }),
    )
    .await;
    assert_eq!(data["case"], json!(null));
    assert_eq!(
        rows_of(&app, &rid).await,
        vec![row("case", "READ", "NOT_FOUND", "reunification_case")]
    );
    let la_of_row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT l.dfe_code FROM audit_event a JOIN local_authority l ON l.id = a.la_id WHERE a.request_id = '{rid}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(la_of_row, "202");

    // A data analyst may not read child-level records: refused, and recorded as such.
    let analyst = app.caller("201", &["data_analyst"]);
    let (_, rid, body) = analyst
        .send(
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        rows_of(&app, &rid).await,
        vec![row("case", "READ", "DENIED", "")]
    );
}

#[tokio::test]
async fn a_change_leaves_one_row_naming_the_fields_not_their_values() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "AUD4", 30).await;
    let q = "mutation($input: CaseAssignInput!) { caseAssign(input: $input) { case { id team } userErrors { code } } }";
    let (rid, data) = ok_rid(
        &w,
        q,
        json!({ "input": { "caseId": f.case, "team": "Secret team name" } }),
    )
    .await;
    assert_eq!(data["caseAssign"]["case"]["team"], "Secret team name");
    let rows = rows_of(&app, &rid).await;
    assert_eq!(
        rows,
        vec![(
            "caseAssign".into(),
            "UPDATE".into(),
            "ALLOWED".into(),
            "reunification_case".into(),
            "team".into()
        )]
    );
    // No value of the change is kept in the trail.
    let leaked = app
        .scalar("SELECT count(*) FROM audit_event WHERE fields LIKE '%Secret%' OR operation LIKE '%Secret%'")
        .await;
    assert_eq!(leaked, 0);

    // A refused change (user errors) changes nothing and leaves no change row.
    let (rid, data) = ok_rid(&w, q, json!({ "input": { "caseId": f.case, "team": "" } })).await;
    assert_eq!(data["caseAssign"]["userErrors"][0]["code"], "INVALID");
    assert!(rows_of(&app, &rid).await.iter().all(|r| r.1 != "UPDATE"));

    // Two changes in one request, the second refused: the first's row is written (with the
    // request's others, at its end), the second's is rolled back with its change.
    let (rid, data) = ok_rid(
        &w,
        "mutation($ok: CaseAssignInput!, $bad: CaseAssignInput!) {
            a: caseAssign(input: $ok) { case { team } userErrors { code } }
            b: caseAssign(input: $bad) { case { team } userErrors { code } } }",
        json!({ "ok": { "caseId": f.case, "team": "East" }, "bad": { "caseId": f.case, "team": "" } }),
    )
    .await;
    assert_eq!(data["a"]["case"]["team"], "East");
    assert_eq!(data["b"]["userErrors"][0]["code"], "INVALID");
    let updates: Vec<_> = rows_of(&app, &rid)
        .await
        .into_iter()
        .filter(|r| r.1 == "UPDATE")
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");

    // Creating a child names the fields it set.
    let (rid, _) = ok_rid(
        &w,
        "mutation($input: ChildCreateInput!) { childCreate(input: $input) { child { id } userErrors { code } } }",
        json!({ "input": { "laChildId": "AUD5", "dateOfBirth": "2016-02-03", "sex": "M", "ethnicity": "WBRI" } }),
    )
    .await;
    let rows = rows_of(&app, &rid).await;
    let child_row = rows.iter().find(|r| r.3 == "child").unwrap();
    assert_eq!(
        (child_row.1.as_str(), child_row.2.as_str()),
        ("CREATE", "ALLOWED")
    );
    assert!(child_row.4.contains("date_of_birth") && child_row.4.contains("la_child_id"));
    assert!(!child_row.4.contains("2016"));
}

#[tokio::test]
async fn when_the_trail_cannot_be_written_the_request_fails_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "AUD6", 30).await;
    app.db
        .execute_unprepared("DROP TABLE audit_event")
        .await
        .unwrap();

    let (status, _, body) = w
        .send(
            "query($id: ID!) { case(id: $id) { id team } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(status, 500, "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
    assert!(
        body.get("data").is_none(),
        "no record may leave unaudited: {body:#}"
    );

    let (_, _, body) = w
        .send(
            "mutation($input: CaseAssignInput!) { caseAssign(input: $input) { case { id } userErrors { code } } }",
            json!({ "input": { "caseId": f.case, "team": "South" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL",
        "{body:#}"
    );
    assert!(
        body["data"].is_null() || body["data"]["caseAssign"].is_null(),
        "{body:#}"
    );
    let team = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT team FROM reunification_case",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(
        team, "North",
        "the change must not outlive its missing audit row"
    );
}

#[tokio::test]
async fn only_la_administrators_read_the_trail_filtered_by_child_person_and_date() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "AUD7", 30).await;
    let g = open_case(&w, "AUD8", 30).await;
    w.ok(
        "query($id: ID!) { case(id: $id) { id } }",
        json!({ "id": f.case }),
    )
    .await;
    let query = "query($filter: AuditEventFilter, $first: Int, $after: String) {
        auditEvents(filter: $filter, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor }
            nodes { sequence operation action outcome recordType caseId childId subject fields actorId }
        } }";

    for role in [
        "social_worker",
        "team_manager",
        "data_analyst",
        "vendor_system",
    ] {
        let body = app.caller("201", &[role]).gql(query, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{role}"
        );
    }
    let admin = app.caller("201", &["la_admin"]);
    let all = admin.ok(query, json!({ "first": 100 })).await["auditEvents"].clone();
    assert!(all["totalCount"].as_i64().unwrap() >= 4);
    let seqs: Vec<i64> = all["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sequence"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|p| p[0] > p[1]),
        "newest first: {seqs:?}"
    );

    // By child: every row is about that child or its case, and the other child's rows are absent.
    let by_child = admin
        .ok(
            query,
            json!({ "filter": { "childId": f.child }, "first": 100 }),
        )
        .await["auditEvents"]["nodes"]
        .clone();
    let nodes = by_child.as_array().unwrap();
    assert!(!nodes.is_empty());
    for n in nodes {
        assert!(
            n["childId"] == json!(f.child) || n["caseId"] == json!(f.case),
            "{n}"
        );
        assert_ne!(n["caseId"], json!(g.case));
    }
    assert!(
        nodes
            .iter()
            .any(|n| n["action"] == "READ" && n["recordType"] == "reunification_case")
    );
    assert!(
        nodes
            .iter()
            .any(|n| n["action"] == "CREATE" && n["recordType"] == "child")
    );

    // By person, and by date.
    let subject = nodes[0]["subject"].as_str().unwrap().to_owned();
    let actor = nodes[0]["actorId"].clone();
    let by_subject = admin
        .ok(
            query,
            json!({ "filter": { "subject": subject }, "first": 100 }),
        )
        .await["auditEvents"]["totalCount"]
        .clone();
    let by_actor = admin
        .ok(
            query,
            json!({ "filter": { "actorId": actor }, "first": 100 }),
        )
        .await["auditEvents"]["totalCount"]
        .clone();
    assert_eq!(by_subject, by_actor);
    assert!(by_subject.as_i64().unwrap() > 0);
    let future = admin
        .ok(
            query,
            json!({ "filter": { "from": "2999-01-01T00:00:00Z" } }),
        )
        .await["auditEvents"]["totalCount"]
        .clone();
    assert_eq!(future, 0);
    let bad = admin
        .gql(
            query,
            json!({ "filter": { "from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Paging walks the whole trail without repeats.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page =
            admin.ok(query, json!({ "first": 3, "after": after })).await["auditEvents"].clone();
        seen.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["sequence"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(seen.len(), dedup.len());
    assert!(seen.len() as i64 >= all["totalCount"].as_i64().unwrap());
}
