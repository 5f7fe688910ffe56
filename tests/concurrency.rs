//! Optimistic concurrency: a change made from a version someone else has since moved on is a
//! `CONFLICT` naming the current version, never a silent overwrite.

use serde_json::json;

use crate::support::{TestApp, complete_required, decide, open_case};

#[tokio::test]
async fn fifty_updates_from_one_version_have_one_winner() {
    let app = TestApp::spawn_with(|c| c.database_pool_size = 20).await;
    let w = app.worker();
    let f = open_case(&w, "OCC1", 10).await;
    let version = w
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Case { version } } }",
            json!({ "id": f.case }),
        )
        .await["node"]["version"]
        .as_i64()
        .unwrap();
    let q = "mutation($input: CaseAssignInput!) { caseAssign(input: $input) { \
             case { team version } userErrors { field message code } } }";
    let replies = futures_util::future::join_all((0..50).map(|i| {
        let w = w.clone();
        let input =
            json!({ "caseId": f.case, "team": format!("Team {i}"), "expectedVersion": version });
        async move { w.ok(q, json!({ "input": input })).await["caseAssign"].clone() }
    }))
    .await;
    let winners: Vec<_> = replies
        .iter()
        .filter(|r| r["userErrors"] == json!([]))
        .collect();
    assert_eq!(winners.len(), 1, "{replies:#?}");
    assert_eq!(winners[0]["case"]["version"], version + 1);
    for loser in replies.iter().filter(|r| r["userErrors"] != json!([])) {
        let e = &loser["userErrors"][0];
        assert_eq!(e["code"], "CONFLICT");
        assert_eq!(e["field"], json!(["input", "expectedVersion"]));
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!("its current version is {}", version + 1)),
            "{e}"
        );
    }
    let team = w
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Case { team version } } }",
            json!({ "id": f.case }),
        )
        .await;
    assert_eq!(team["node"]["team"], winners[0]["case"]["team"]);
}

/// Every versioned update is `UPDATE … WHERE version = <the version it was made from>`: a change
/// built from a row read before someone else's committed change is refused, whichever service
/// makes it.
#[tokio::test]
async fn a_change_from_a_stale_read_is_refused() {
    use api::audit::AuditedWrite as _;
    use api::stamp::Stamped as _;
    use sea_orm::{ActiveValue::Set, EntityTrait as _, TransactionTrait as _};

    let app = TestApp::spawn().await;
    let w = app.worker();
    open_case(&w, "OCC2", 10).await;
    let la = app
        .scalar("SELECT id FROM local_authority WHERE dfe_code = '201'")
        .await;
    let actor_id = app.scalar("SELECT MIN(id) FROM actor").await;
    let actor = api::audit::acting::Acting::system(la, actor_id, "test", vec![], &[]);
    let stale = entities::child::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    // Someone else changes the child first.
    let tx = app.db.begin().await.unwrap();
    let mut am: entities::child::ActiveModel = stale.clone().into();
    am.ethnicity = Set("WIRI".into());
    let first = am
        .changed(&actor, stale.version)
        .update_by(&tx, &actor, api::domain::EventType::ChildChanged)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(first.version, stale.version + 1);

    // A change made from the earlier read is a conflict, and leaves the first change standing.
    let tx = app.db.begin().await.unwrap();
    let mut am: entities::child::ActiveModel = stale.clone().into();
    am.ethnicity = Set("WBRI".into());
    let err = am
        .changed(&actor, stale.version)
        .update_by(&tx, &actor, api::domain::EventType::ChildChanged)
        .await
        .unwrap_err();
    tx.rollback().await.unwrap();
    let message = format!("{err:?}");
    assert!(message.contains("Conflict"), "{message}");
    assert!(
        message.contains(&format!("its current version is {}", stale.version + 1)),
        "{message}"
    );
    let now = entities::child::Entity::find_by_id(stale.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (now.ethnicity.as_str(), now.version),
        ("WIRI", stale.version + 1)
    );
}

/// The mutations that change one record take the version the caller saw: a stale one is a
/// `CONFLICT` naming the current version, and nothing changes.
#[tokio::test]
async fn a_stale_expected_version_changes_nothing() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    let f = open_case(&w, "OCC3", 10).await;
    let item = w
        .ok(
            "query($id: ID!) { case(id: $id) { stages { checklist { id version completedOn } } } }",
            json!({ "id": f.case }),
        )
        .await["case"]["stages"][0]["checklist"][1]
        .clone();
    let version = item["version"].as_i64().unwrap();
    let p = w
        .refused(
            "checklistItemComplete",
            "item { id }",
            json!({ "itemId": item["id"], "expectedVersion": version + 7 }),
            "CONFLICT",
        )
        .await;
    assert!(
        p["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("its current version is {version}"))
    );
    let done = w
        .must(
            "checklistItemComplete",
            "item { version completedOn }",
            json!({ "itemId": item["id"], "expectedVersion": version }),
        )
        .await;
    assert_eq!(done["item"]["version"], version + 1);
    assert!(done["item"]["completedOn"].is_string());

    // A classification agreed from a stale version stays proposed.
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    let rc = w
        .must(
            "riskClassificationPropose",
            "classification { id version }",
            json!({ "caseId": f.case, "kind": "RC1", "level": "LOW", "rationale": "Synthetic." }),
        )
        .await["classification"]
        .clone();
    m.refused(
        "riskClassificationAgree",
        "classification { id }",
        json!({ "classificationId": rc["id"], "expectedVersion": rc["version"].as_i64().unwrap() - 1 }),
        "CONFLICT",
    )
    .await;
    let agreed = m
        .must(
            "riskClassificationAgree",
            "classification { agreedOn version }",
            json!({ "classificationId": rc["id"], "expectedVersion": rc["version"] }),
        )
        .await;
    assert!(agreed["classification"]["agreedOn"].is_string());

    // A webhook disabled from a stale version stays active.
    let admin = app.caller("201", &["la_admin"]);
    let hook = admin
        .must(
            "webhookRegister",
            "webhook { id version active }",
            json!({ "url": "http://127.0.0.1:9/hook", "secret": "synthetic-webhook-secret-0123456789" }),
        )
        .await["webhook"]
        .clone();
    admin
        .refused(
            "webhookDisable",
            "webhook { active }",
            json!({ "webhookId": hook["id"], "expectedVersion": hook["version"].as_i64().unwrap() + 1 }),
            "CONFLICT",
        )
        .await;
    let off = admin
        .must(
            "webhookDisable",
            "webhook { active version }",
            json!({ "webhookId": hook["id"], "expectedVersion": hook["version"] }),
        )
        .await;
    assert_eq!(off["webhook"]["active"], false);
}

#[tokio::test]
async fn a_change_to_a_cases_records_moves_the_cases_version() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "TOUCH1", 100).await;
    let version = |c: &crate::support::Caller| {
        let c = c.clone();
        let case = f.case.clone();
        async move {
            c.ok(
                "query($id: ID!) { case(id: $id) { version } }",
                json!({ "id": case }),
            )
            .await["case"]["version"]
                .as_i64()
                .unwrap()
        }
    };
    let before = version(&w).await;
    // A service added to the case is a change to the case: its version moves on…
    w.must(
        "serviceAdd",
        "service { id }",
        json!({ "caseId": f.case, "serviceType": "PARENTING_SUPPORT", "provider": "P",
                "needLevel": "LOW", "startsOn": crate::support::days_ago(1), "status": "ACTIVE" }),
    )
    .await;
    assert_eq!(version(&w).await, before + 1);
    // …so a writer who read the case before it conflicts, and changes nothing.
    w.refused(
        "caseAssign",
        "case { version }",
        json!({ "caseId": f.case, "team": "South", "expectedVersion": before }),
        "CONFLICT",
    )
    .await;
    assert_eq!(version(&w).await, before + 1);
}
