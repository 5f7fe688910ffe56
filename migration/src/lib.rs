//! Schema migrations: `migration::Migrator::up(&db, None)` brings a database up to date.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_core_tables;
mod m20261124_000001_create_audit_event;
mod m20261124_000002_row_level_security;
mod m20261125_000001_child_retention;
mod m20261125_000002_stage_sign_off;
mod m20261125_000003_create_case_event;
mod m20261125_000004_create_webhooks;
mod m20261126_000001_create_case_fact;
mod m20261201_000001_case_fact_body;
mod m20261202_000001_create_idempotency_key;
mod m20261203_000001_la_keyset_indexes;
mod m20261204_000001_agreement_without_acceptance;
mod m20261204_000002_derived_checklist;
mod m20261204_000003_ssda903_fields;
mod m20261207_000001_audit_event_cheaper_row;
mod m20261208_000001_create_rate_bucket;
pub mod rls;
mod tables;

/// Every migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_core_tables::Migration),
            Box::new(m20261124_000001_create_audit_event::Migration),
            Box::new(m20261124_000002_row_level_security::Migration),
            Box::new(m20261125_000001_child_retention::Migration),
            Box::new(m20261125_000002_stage_sign_off::Migration),
            Box::new(m20261125_000003_create_case_event::Migration),
            Box::new(m20261125_000004_create_webhooks::Migration),
            Box::new(m20261126_000001_create_case_fact::Migration),
            Box::new(m20261201_000001_case_fact_body::Migration),
            Box::new(m20261202_000001_create_idempotency_key::Migration),
            Box::new(m20261203_000001_la_keyset_indexes::Migration),
            Box::new(m20261204_000001_agreement_without_acceptance::Migration),
            Box::new(m20261204_000002_derived_checklist::Migration),
            Box::new(m20261204_000003_ssda903_fields::Migration),
            Box::new(m20261207_000001_audit_event_cheaper_row::Migration),
            Box::new(m20261208_000001_create_rate_bucket::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{Database, DatabaseConnection, DbBackend, Statement};

    const TABLES: usize = 32;

    async fn query_strings(db: &DatabaseConnection, sql: &str) -> Result<Vec<String>, DbErr> {
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        rows.iter().map(|row| row.try_get_by_index(0)).collect()
    }

    /// Our tables (not SeaORM's bookkeeping table).
    async fn user_tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
        let sql = match db.get_database_backend() {
            DbBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
            }
            _ => {
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                 AND tablename <> 'seaql_migrations' ORDER BY tablename"
            }
        };
        query_strings(db, sql).await
    }

    /// The `id` columns really are 64-bit auto-increment primary keys.
    async fn check_ids(db: &DatabaseConnection) -> Result<(), DbErr> {
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                let sql = query_strings(
                    db,
                    "SELECT sql FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'",
                )
                .await?;
                assert_eq!(sql.len(), TABLES);
                for create in sql {
                    assert!(
                        create.contains(r#""id" integer NOT NULL PRIMARY KEY AUTOINCREMENT"#),
                        "{create}"
                    );
                }
            }
            _ => {
                let bad = query_strings(
                    db,
                    "SELECT table_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND column_name = 'id' \
                     AND table_name <> 'seaql_migrations' \
                     AND (data_type <> 'bigint' OR is_identity <> 'YES')",
                )
                .await?;
                assert!(bad.is_empty(), "{bad:?}");
            }
        }
        Ok(())
    }

    /// Defaults, auto-increment, unique indexes and foreign keys behave.
    async fn smoke(db: &DatabaseConnection) -> Result<(), DbErr> {
        db.execute_unprepared(
            "INSERT INTO local_authority (dfe_code, ons_code, name, settings, created_at, updated_at) \
             VALUES ('999', 'E99999999', 'Test LA', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        .await?;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, version FROM local_authority WHERE dfe_code = '999'",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("inserted local_authority not found".into()))?;
        let id: i64 = row.try_get_by_index(0)?;
        let version: i32 = row.try_get_by_index(1)?;
        assert_eq!((id, version), (1, 1));

        let duplicate = db
            .execute_unprepared(
                "INSERT INTO local_authority (dfe_code, ons_code, name, settings, created_at, updated_at) \
                 VALUES ('999', 'E99999998', 'Dup LA', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            )
            .await;
        assert!(
            duplicate.is_err(),
            "ux_local_authority_dfe_code not enforced"
        );

        let child = |la_id: i64| {
            format!(
                "INSERT INTO child (la_id, la_child_id, date_of_birth, sex, ethnicity, created_at, updated_at) \
                 VALUES ({la_id}, 'C1', '2015-04-01', '1', 'WBRI', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        };
        db.execute_unprepared(&child(id)).await?;
        assert!(
            db.execute_unprepared(&child(id + 1000)).await.is_err(),
            "fk_child_la_id not enforced"
        );
        assert!(
            db.execute_unprepared(&child(id)).await.is_err(),
            "ux_child_la_id_la_child_id not enforced"
        );

        db.execute_unprepared("DELETE FROM child").await?;
        db.execute_unprepared("DELETE FROM local_authority").await?;
        Ok(())
    }

    /// Children recorded before the retention migration get their 75th birthday (29 February
    /// becomes 1 March).
    async fn retention_backfill(db: &DatabaseConnection) -> Result<(), DbErr> {
        Migrator::up(db, Some(3)).await?;
        db.execute_unprepared(
            "INSERT INTO local_authority (dfe_code, ons_code, name, settings, created_at, updated_at) \
             VALUES ('999', 'E99999999', 'Test LA', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
             INSERT INTO child (la_id, la_child_id, date_of_birth, sex, ethnicity, created_at, updated_at) \
             SELECT id, 'C1', '2012-02-29', 'F', 'WBRI', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP \
             FROM local_authority;",
        )
        .await?;
        Migrator::up(db, None).await?;
        let kept = query_strings(
            db,
            "SELECT CAST(retain_until AS TEXT) || CASE WHEN legal_hold THEN ' held' ELSE '' END \
             FROM child",
        )
        .await?;
        assert_eq!(kept, ["2087-03-01"]);
        db.execute_unprepared("DELETE FROM child; DELETE FROM local_authority;")
            .await?;
        Migrator::down(db, None).await
    }

    /// up, down, up again, checking the schema each way.
    async fn round_trip(db: &DatabaseConnection) -> Result<(), DbErr> {
        retention_backfill(db).await?;
        Migrator::up(db, None).await?;
        assert_eq!(user_tables(db).await?.len(), TABLES);
        check_ids(db).await?;
        smoke(db).await?;

        Migrator::down(db, None).await?;
        assert_eq!(user_tables(db).await?, Vec::<String>::new());

        Migrator::up(db, None).await?;
        assert_eq!(user_tables(db).await?.len(), TABLES);
        check_ids(db).await?;
        smoke(db).await?;
        Ok(())
    }

    #[tokio::test]
    async fn sqlite_up_down_up() -> Result<(), DbErr> {
        let db = Database::connect("sqlite::memory:").await?;
        round_trip(&db).await
    }

    /// Runs only when `TEST_DATABASE_URL` points at a PostgreSQL server; uses
    /// a fresh `mig_test_<pid>` database and drops it afterwards.
    #[tokio::test]
    async fn postgres_up_down_up() -> Result<(), DbErr> {
        let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("TEST_DATABASE_URL not set: skipping the PostgreSQL migration test");
            return Ok(());
        };
        let name = format!("mig_test_{}", std::process::id());
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = match base.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split_once('/').map_or(rest, |(host, _)| host);
                format!("{scheme}://{host}")
            }
            None => return Err(DbErr::Custom(format!("bad TEST_DATABASE_URL {admin_url}"))),
        };
        let url = format!("{server}/{name}{query}");

        let admin = Database::connect(&admin_url).await?;
        admin
            .execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{name}""#))
            .await?;
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await?;

        let result = async {
            let db = Database::connect(&url).await?;
            let result = round_trip(&db).await;
            db.close().await?;
            result
        }
        .await;

        admin
            .execute_unprepared(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
            .await?;
        admin.close().await?;
        result
    }
}
