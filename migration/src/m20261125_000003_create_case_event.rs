//! Creates `case_event`, the append-only event log: one row per domain event (case opened, stage
//! entered, decision recorded, …) written in the same transaction as the change. Its `id` is the
//! event's position: within an LA, positions commit in increasing order (the service takes a
//! per-LA lock before writing events), so "everything after position P" never skips one. It holds
//! identifiers and changed field names only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{rls, tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("case_event")
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(big_integer_null("case_id"))
                    .col(big_integer_null("child_id"))
                    .col(string_len("event_type", 40))
                    .col(string_len("record_type", 50))
                    .col(big_integer("record_id"))
                    .col(text_null("fields"))
                    .col(big_integer_null("actor_id"))
                    .col(string_len("operation", 100))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(string_len("request_id", 64))
                    .foreign_key(&mut tables::la_fk("case_event"))
                    .to_owned(),
            )
            .await?;
        tables::create_indexes(
            manager,
            "case_event",
            &[
                ("ix_case_event_la_id_id", &["la_id", "id"]),
                ("ix_case_event_la_id_case_id", &["la_id", "case_id", "id"]),
            ],
        )
        .await?;
        rls::protect(manager, "case_event", rls::Access::AppendOnly).await?;
        tables::sqlite_append_only(manager, "case_event").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("case_event").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
