//! PostgreSQL only: LA isolation in the database. Every table that holds LA data gets row-level
//! security, enabled and forced, with a policy that admits only rows of the transaction's tenant
//! (`reunify.la_id`, set per transaction by the service); no tenant set means no rows. The service
//! connects as a member of the `reunify_app` role, which owns nothing and may only read and write
//! rows (and only append to `audit_event`). SQLite (single LA, development) relies on the
//! application's filters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::rls;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables of LA data (each has `la_id`), read and written by the service.
const TENANT_TABLES: &[&str] = &[
    "actor",
    "agreement_party",
    "assessment_factor",
    "care_episode",
    "checklist_item",
    "checklist_template_item",
    "child",
    "child_view",
    "decision",
    "external_identifier",
    "goal",
    "goal_review",
    "goal_revision",
    "household_member",
    "outcome",
    "parental_agreement",
    "reunification_case",
    "review",
    "risk_classification",
    "stage_progress",
    "support_plan",
    "support_service",
    "visit",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(&rls::setup_sql()).await?;
        for table in TENANT_TABLES {
            db.execute_unprepared(&rls::tenant_table_sql(table, rls::Access::ReadWrite))
                .await?;
        }
        db.execute_unprepared(&rls::tenant_table_sql(
            "audit_event",
            rls::Access::AppendOnly,
        ))
        .await?;
        // The registry of LAs: any caller may look an LA up (a token names its LA before the
        // tenant is known) or register one; only the LA itself may change its row.
        db.execute_unprepared(&format!(
            "GRANT SELECT, INSERT, UPDATE ON local_authority TO {role};
             ALTER TABLE local_authority ENABLE ROW LEVEL SECURITY;
             ALTER TABLE local_authority FORCE ROW LEVEL SECURITY;
             CREATE POLICY la_lookup ON local_authority FOR SELECT USING (true);
             CREATE POLICY la_register ON local_authority FOR INSERT WITH CHECK (true);
             CREATE POLICY la_own ON local_authority FOR UPDATE
                 USING (id = reunify_tenant()) WITH CHECK (id = reunify_tenant());
             GRANT SELECT, INSERT ON development_key TO {role};
             GRANT SELECT ON seaql_migrations TO {role};",
            role = rls::APP_ROLE
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TENANT_TABLES.iter().chain(&["audit_event"]) {
            db.execute_unprepared(&rls::drop_tenant_table_sql(table))
                .await?;
        }
        db.execute_unprepared(&format!(
            "DROP POLICY IF EXISTS la_lookup ON local_authority;
             DROP POLICY IF EXISTS la_register ON local_authority;
             DROP POLICY IF EXISTS la_own ON local_authority;
             ALTER TABLE local_authority NO FORCE ROW LEVEL SECURITY;
             ALTER TABLE local_authority DISABLE ROW LEVEL SECURITY;
             REVOKE ALL ON local_authority, development_key, seaql_migrations FROM {role};
             REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role};
             REVOKE USAGE ON SCHEMA public FROM {role};
             DROP FUNCTION IF EXISTS reunify_tenant();",
            role = rls::APP_ROLE
        ))
        .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
