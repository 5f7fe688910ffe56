//! Creates `audit_event`, the append-only audit trail: who read or changed which record, when, with
//! which outcome. It holds identifiers and field names, never the values of personal data.

use sea_orm_migration::{prelude::*, schema::*};

use crate::tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_event")
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(timestamp_with_time_zone("occurred_at"))
                    .col(big_integer_null("actor_id"))
                    .col(string_len("subject", 255))
                    .col(string_len_null("client_id", 255))
                    .col(string_len("roles", 255))
                    .col(string_len("operation", 100))
                    .col(string_len("action", 20))
                    .col(string_len("outcome", 20))
                    .col(string_len_null("record_type", 50))
                    .col(big_integer_null("record_id"))
                    .col(big_integer_null("case_id"))
                    .col(big_integer_null("child_id"))
                    .col(text_null("fields"))
                    .col(string_len("request_id", 64))
                    .col(string_len("trace_id", 64))
                    .foreign_key(&mut tables::la_fk("audit_event"))
                    .to_owned(),
            )
            .await?;
        tables::create_indexes(
            manager,
            "audit_event",
            &[
                ("ix_audit_event_la_id_id", &["la_id", "id"]),
                (
                    "ix_audit_event_la_id_child_id",
                    &["la_id", "child_id", "id"],
                ),
                ("ix_audit_event_la_id_case_id", &["la_id", "case_id", "id"]),
                ("ix_audit_event_la_id_subject", &["la_id", "subject", "id"]),
                (
                    "ix_audit_event_la_id_occurred_at",
                    &["la_id", "occurred_at"],
                ),
            ],
        )
        .await?;
        // Append-only: on PostgreSQL the application role is granted no UPDATE or DELETE.
        tables::sqlite_append_only(manager, "audit_event").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_event").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
