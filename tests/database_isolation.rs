//! LA isolation in the database itself: on PostgreSQL every table of LA data has row-level security
//! enabled and forced, and the service's role sees and changes only its tenant's rows even when the
//! application's own filters are bypassed. On SQLite (one LA) production refuses a second LA.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde_json::json;

use crate::support::{TestApp, count, open_case};

async fn strings(db: &impl ConnectionTrait, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn la_id(app: &TestApp, code: &str) -> i64 {
    api::tenancy::service::find_by_code(&app.db, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A pool of exactly one connection as the service's role, so tenants alternate on one session.
async fn one_connection(app: &TestApp) -> DatabaseConnection {
    let mut options = ConnectOptions::new(app.app_url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Database::connect(options).await.unwrap()
}

#[tokio::test]
async fn every_table_of_la_data_has_forced_row_level_security() {
    let app = TestApp::spawn().await;
    if !app.postgres {
        eprintln!("SQLite: row-level security is a PostgreSQL feature; skipped");
        return;
    }
    // Tables that hold no LA data, each with its reason.
    let exempt = [
        "seaql_migrations", // migration bookkeeping
        "development_key",  // the development-mode signing key; not LA data
        "rate_bucket",      // the shared rate limit, keyed by a hash of the caller; not LA data
    ];
    let tables = strings(
        &app.db,
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .await;
    assert!(tables.len() >= 27, "{tables:?}");
    for table in tables.iter().filter(|t| !exempt.contains(&t.as_str())) {
        let sql = format!(
            "SELECT (c.relrowsecurity AND c.relforcerowsecurity)::int::bigint * \
             (SELECT count(*) FROM pg_policies p WHERE p.schemaname = current_schema() \
              AND p.tablename = c.relname) FROM pg_class c \
             WHERE c.relname = '{table}' AND c.relnamespace = current_schema()::regnamespace"
        );
        assert!(
            count(&app.db, &sql).await > 0,
            "table {table} lacks forced row-level security or a policy"
        );
    }
    // Every table with an `la_id` column is covered by the loop above (none is exempt).
    let with_la = strings(
        &app.db,
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'la_id'",
    )
    .await;
    assert!(with_la.iter().all(|t| !exempt.contains(&t.as_str())));
    // The service's role owns nothing and cannot bypass row-level security.
    let role = count(
        &app.app_db,
        "SELECT (rolsuper OR rolbypassrls)::int::bigint FROM pg_roles WHERE rolname = current_user",
    )
    .await;
    assert_eq!(role, 0, "the application role must not bypass RLS");
    let owned = count(
        &app.app_db,
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() \
         AND tableowner = current_user",
    )
    .await;
    assert_eq!(owned, 0, "the application role must own no table");
}

#[tokio::test]
async fn the_database_refuses_other_las_rows_even_without_the_application_filter() {
    let app = TestApp::spawn().await;
    if !app.postgres {
        eprintln!("SQLite: row-level security is a PostgreSQL feature; skipped");
        return;
    }
    let a = open_case(&app.caller("201", &["social_worker"]), "RLSA1", 30).await;
    let _b = open_case(&app.caller("202", &["social_worker"]), "RLSB1", 30).await;
    let (la_a, la_b) = (la_id(&app, "201").await, la_id(&app, "202").await);
    let db = one_connection(&app).await;

    // No tenant: no rows at all.
    for table in [
        "child",
        "reunification_case",
        "care_episode",
        "audit_event",
        "actor",
    ] {
        assert_eq!(
            count(&db, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }

    for round in 0..6 {
        let (mine, theirs) = if round % 2 == 0 {
            (la_a, la_b)
        } else {
            (la_b, la_a)
        };
        let txn = api::db::begin_tenant(&db, mine, Duration::from_secs(5))
            .await
            .unwrap();
        // Reads: every row visible belongs to the tenant; asking for the other LA by id finds nothing.
        assert_eq!(
            count(&txn, "SELECT count(*) FROM reunification_case").await,
            1
        );
        assert_eq!(
            count(
                &txn,
                &format!("SELECT count(*) FROM child WHERE la_id = {theirs}")
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &txn,
                &format!("SELECT count(*) FROM child WHERE la_id <> {mine}")
            )
            .await,
            0
        );
        // Updates and deletes of the other LA's rows touch nothing.
        let updated = txn
            .execute_unprepared(&format!(
                "UPDATE reunification_case SET team = 'Hijacked' WHERE la_id = {theirs}"
            ))
            .await
            .unwrap();
        assert_eq!(updated.rows_affected(), 0);
        let deleted = txn
            .execute_unprepared(&format!("DELETE FROM care_episode WHERE la_id = {theirs}"))
            .await
            .unwrap();
        assert_eq!(deleted.rows_affected(), 0);
        // Moving one's own row to the other LA is refused.
        let savepoint = sea_orm::TransactionTrait::begin(&txn).await.unwrap();
        let moved = savepoint
            .execute_unprepared(&format!(
                "UPDATE child SET la_id = {theirs} WHERE la_id = {mine}"
            ))
            .await;
        assert!(moved.is_err(), "moving a row to another LA must fail");
        savepoint.rollback().await.unwrap();
        // Inserting a row for the other LA is refused.
        let savepoint = sea_orm::TransactionTrait::begin(&txn).await.unwrap();
        let inserted = savepoint
            .execute_unprepared(&format!(
                "INSERT INTO child (la_id, la_child_id, date_of_birth, sex, ethnicity, version, \
                 created_at, updated_at) VALUES ({theirs}, 'X{round}', '2015-01-01', 'M', 'WBRI', 1, \
                 now(), now())"
            ))
            .await;
        assert!(inserted.is_err(), "inserting into another LA must fail");
        savepoint.rollback().await.unwrap();
        txn.commit().await.unwrap();
        // After the transaction the tenant is gone again on the same connection.
        assert_eq!(
            count(&db, "SELECT count(*) FROM reunification_case").await,
            0
        );
    }
    // Nothing of the other LA was changed.
    let team = app
        .caller("201", &["social_worker"])
        .ok(
            "query($id: ID!) { case(id: $id) { team } }",
            json!({ "id": a.case }),
        )
        .await;
    assert_eq!(team["case"]["team"], "North");
}

#[tokio::test]
async fn the_audit_trail_is_append_only_for_the_service() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "APP1", 30).await;
    w.ok(
        "query($id: ID!) { case(id: $id) { id } }",
        json!({ "id": f.case }),
    )
    .await;
    let la = la_id(&app, "201").await;
    let rows = count(&app.db, "SELECT count(*) FROM audit_event").await;
    assert!(rows > 0);
    let db = if app.postgres {
        one_connection(&app).await
    } else {
        app.db.clone()
    };
    for sql in [
        "UPDATE audit_event SET operation = 'rewritten'",
        "DELETE FROM audit_event",
    ] {
        let txn = api::db::begin_tenant(&db, la, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(
            txn.execute_unprepared(sql).await.is_err(),
            "{sql} must be refused"
        );
        txn.rollback().await.unwrap();
    }
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM audit_event").await,
        rows
    );
}

#[tokio::test]
async fn one_connection_alternating_between_las_keeps_them_apart() {
    let app = TestApp::spawn_with(|c| c.database_pool_size = 1).await;
    let (a, b) = (
        app.caller("201", &["social_worker"]),
        app.caller("202", &["social_worker"]),
    );
    let fa = open_case(&a, "ALT1", 30).await;
    let fb = open_case(&b, "ALT2", 30).await;
    let list = "{ cases { totalCount nodes { id child { laChildId } } } }";
    for _ in 0..5 {
        for (caller, mine, theirs, child) in [(&a, &fa, &fb, "ALT1"), (&b, &fb, &fa, "ALT2")] {
            let data = caller.ok(list, json!({})).await;
            assert_eq!(data["cases"]["totalCount"], 1);
            assert_eq!(data["cases"]["nodes"][0]["id"], json!(mine.case));
            assert_eq!(data["cases"]["nodes"][0]["child"]["laChildId"], child);
            let other = caller
                .ok(
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": theirs.case }),
                )
                .await;
            assert_eq!(other["node"], json!(null));
        }
    }
}

#[tokio::test]
async fn production_on_sqlite_refuses_more_than_one_la() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("two.db").display());
    let mut config = api::config::Config::for_database(&url);
    config.listen = "127.0.0.1:0".parse().unwrap();
    api::server::migrate(&config).await.unwrap();
    let db = api::server::connect(&config, Default::default())
        .await
        .unwrap();
    api::tenancy::service::register(&db, "201", None, Default::default())
        .await
        .unwrap();
    config.mode = api::config::Mode::Production;
    config.jwks_file = Some(dir.path().join("jwks.json"));
    config.token_issuer = Some("https://idp.example".to_owned());
    // One LA: the refusal is not what stops it (the missing key file is).
    let one = api::server::build(config.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(!one.contains("PostgreSQL"), "{one}");
    api::tenancy::service::register(&db, "202", None, Default::default())
        .await
        .unwrap();
    let two = api::server::build(config).await.err().unwrap().to_string();
    assert!(two.contains("more than one LA needs PostgreSQL"), "{two}");
}
