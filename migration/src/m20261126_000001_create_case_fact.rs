//! `case_fact`: one row per reunification case holding what the aggregates read, kept current in
//! the transaction of every write that touches the case (see `api::insight::facts`). It is derived
//! data: dropping and rebuilding it loses nothing. Dates are kept, never ages or durations that go
//! stale; the list-shaped facts (stages, decisions, classifications, goals, services, checklist)
//! are compact JSON arrays.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{rls, tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "case_fact";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, first_shape()).await?;
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

/// The first shape of the table: the list columns as JSON text.
pub(crate) fn first_shape() -> Vec<ColumnDef> {
    vec![
        big_pk_auto("id"),
        big_integer("la_id"),
        big_integer("case_id").unique_key().to_owned(),
        big_integer("child_id"),
        integer("definition"),
        string_len_null("team", 100),
        big_integer_null("worker_id"),
        integer("attempt_number"),
        string_len("stage", 30),
        string_len("status", 20),
        date("opened_on"),
        date_null("closed_on"),
        date("care_started_on"),
        string_len("legal_status", 10),
        integer("age_at_open"),
        integer_null("risk_level"),
        string_len_null("return_type", 20),
        date_null("return_on"),
        string_len_null("exit_reason", 10),
        date_null("reentered_on"),
        string_len_null("closure_reason", 30),
        text("stages"),
        text("decisions"),
        text("classifications"),
        text("goals"),
        text("services"),
        text("checklist"),
        timestamp_with_time_zone("refreshed_at"),
    ]
}

/// Creates the table with `columns`, its keys, indexes and row-level security.
pub(crate) async fn create_table(
    manager: &SchemaManager<'_>,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    let mut table = Table::create();
    table.table(TABLE);
    for column in columns {
        table.col(column);
    }
    manager
        .create_table(
            table
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
    rls::protect(manager, TABLE, rls::Access::ReadWrite).await
}
