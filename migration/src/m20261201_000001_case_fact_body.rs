//! `case_fact` in its second shape: the columns SQL filters on (team, worker, stage, status) and
//! one `body`, the JSON of everything the aggregates read. Reading the facts of every LA is the
//! cross-LA figures' hot path, and one column per row decodes several times faster than the 27 of
//! the first shape. The table is derived data: it is recreated empty and `reunify migrate`
//! rebuilds it (the definition version says which rows are current).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_create_case_fact::{create_table, first_shape};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "case_fact";

fn second_shape() -> Vec<ColumnDef> {
    vec![
        big_pk_auto("id"),
        big_integer("la_id"),
        big_integer("case_id").unique_key().to_owned(),
        big_integer("child_id"),
        integer("definition"),
        string_len_null("team", 100),
        big_integer_null("worker_id"),
        string_len("stage", 30),
        string_len("status", 20),
        text("body"),
        timestamp_with_time_zone("refreshed_at"),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await?;
        create_table(manager, second_shape()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await?;
        create_table(manager, first_shape()).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
