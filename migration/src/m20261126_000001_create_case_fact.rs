//! `case_fact`: one row per reunification case holding what the aggregates read, kept current in
//! the transaction of every write that touches the case (see `api::insight::facts`). It is derived
//! data: dropping and rebuilding it loses nothing. Dates are kept, never ages or durations that go
//! stale; the list-shaped facts (stages, decisions, classifications, goals, services, checklist)
//! are compact JSON arrays.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::{rls, tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "case_fact";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(big_integer("case_id").unique_key())
                    .col(big_integer("child_id"))
                    .col(integer("definition"))
                    .col(string_len_null("team", 100))
                    .col(big_integer_null("worker_id"))
                    .col(integer("attempt_number"))
                    .col(string_len("stage", 30))
                    .col(string_len("status", 20))
                    .col(date("opened_on"))
                    .col(date_null("closed_on"))
                    .col(date("care_started_on"))
                    .col(string_len("legal_status", 10))
                    .col(integer("age_at_open"))
                    .col(integer_null("risk_level"))
                    .col(string_len_null("return_type", 20))
                    .col(date_null("return_on"))
                    .col(string_len_null("exit_reason", 10))
                    .col(date_null("reentered_on"))
                    .col(string_len_null("closure_reason", 30))
                    .col(text("stages"))
                    .col(text("decisions"))
                    .col(text("classifications"))
                    .col(text("goals"))
                    .col(text("services"))
                    .col(text("checklist"))
                    .col(timestamp_with_time_zone("refreshed_at"))
                    .foreign_key(&mut tables::la_fk(TABLE))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_fact_case_id")
                            .from(TABLE, "case_id")
                            .to("reunification_case", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        tables::create_indexes(
            manager,
            TABLE,
            &[
                ("ix_case_fact_la_id", &["la_id", "case_id"]),
                ("ix_case_fact_child", &["la_id", "child_id"]),
            ],
        )
        .await?;
        // Worklists read due dates straight from the records: index the ones they filter on.
        tables::create_indexes(
            manager,
            "goal",
            &[("ix_goal_due", &["la_id", "status", "target_date"])],
        )
        .await?;
        tables::create_indexes(
            manager,
            "reunification_case",
            &[("ix_case_review_due", &["la_id", "status", "next_review_on"])],
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(&rls::tenant_table_sql(TABLE, rls::Access::ReadWrite))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, index) in [
            ("goal", "ix_goal_due"),
            ("reunification_case", "ix_case_review_due"),
        ] {
            manager
                .drop_index(Index::drop().name(index).table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
