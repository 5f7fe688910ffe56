//! The reason a parental agreement was agreed without every party with parental responsibility
//! having accepted it (the framework asks for acceptance, or a recorded reason to proceed).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("parental_agreement")
                    .add_column(text_null("without_acceptance_reason"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("parental_agreement")
                    .drop_column("without_acceptance_reason")
                    .to_owned(),
            )
            .await
    }
}
