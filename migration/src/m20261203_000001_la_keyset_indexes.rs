//! Keyset pages of an LA's cases and children by id: `(la_id, id)` indexes, so a page is read
//! from the LA's first row whatever the number of LAs. Before, the page walked the primary key and
//! filtered by LA, skipping every earlier LA's rows (measured by `reunify-bench reference` on the
//! last of 100 LAs).

use sea_orm_migration::prelude::*;

use crate::tables;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        tables::create_indexes(
            manager,
            "reunification_case",
            &[("ix_reunification_case_la_id_id", &["la_id", "id"])],
        )
        .await?;
        tables::create_indexes(manager, "child", &[("ix_child_la_id_id", &["la_id", "id"])]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, name) in [
            ("reunification_case", "ix_reunification_case_la_id_id"),
            ("child", "ix_child_la_id_id"),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
