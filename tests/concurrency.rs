//! Optimistic concurrency: a change made from a version someone else has since moved on is a
//! `CONFLICT` naming the current version, never a silent overwrite.

use serde_json::json;

use crate::support::{TestApp, open_case};

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
    let actor = api::auth::Actor::system(la, actor_id, "test", vec![], &[]);
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
        .update_by(&tx, &actor)
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
        .update_by(&tx, &actor)
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
