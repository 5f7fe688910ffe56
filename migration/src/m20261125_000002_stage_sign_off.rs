//! A team manager's sign-off of a stage's work (the Return Home Assessment): who and when, on
//! `stage_progress`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            big_integer_null("signed_off_by"),
            date_null("signed_off_on"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("stage_progress")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["signed_off_on", "signed_off_by"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("stage_progress")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
