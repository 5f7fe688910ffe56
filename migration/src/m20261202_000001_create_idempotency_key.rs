//! `idempotency_key`: the `Idempotency-Key` of each mutation a client sent, with a hash of the
//! request and the response it got, kept at least 24 hours so a retry replays the response instead
//! of running the mutation again. The row is written in the mutation's own transaction: the
//! mutation and its stored response are kept together or not at all, and a concurrent duplicate
//! waits on the unique key until the first commits.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{rls, tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "idempotency_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(string_len("client", 300))
                    .col(string_len("key", 255))
                    .col(string_len("request_hash", 64))
                    .col(text("response"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut tables::la_fk(TABLE))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_idempotency_key")
                    .table(TABLE)
                    .col("la_id")
                    .col("client")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        tables::create_indexes(
            manager,
            TABLE,
            &[("ix_idempotency_key_expiry", &["la_id", "expires_at"])],
        )
        .await?;
        rls::protect(manager, TABLE, rls::Access::ReadWrite).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
