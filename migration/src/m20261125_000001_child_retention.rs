//! Data protection duties on `child`: the date the record may be destroyed (`retain_until`: the
//! 75th birthday, or 15 years after death for a child who died before 18), the date of death, and
//! a legal hold that keeps the record past its date. Existing rows get their 75th birthday.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            date_null("died_on"),
            boolean("legal_hold").default(false).take(),
            date_null("retain_until"),
        ] {
            manager
                .alter_table(Table::alter().table("child").add_column(column).to_owned())
                .await?;
        }
        let db = manager.get_connection();
        match manager.get_database_backend() {
            // The 75th birthday; 29 February becomes 1 March (never a day early).
            DbBackend::Postgres => {
                // Row-level security is forced on `child` and a migration sets no tenant: lift it
                // for the backfill only, inside this migration's transaction.
                db.execute_unprepared(
                    "ALTER TABLE child NO FORCE ROW LEVEL SECURITY;
                     UPDATE child SET retain_until = (date_of_birth + interval '75 years'
                         + CASE WHEN to_char(date_of_birth, 'MM-DD') = '02-29'
                                THEN interval '1 day' ELSE interval '0 days' END)::date;
                     ALTER TABLE child FORCE ROW LEVEL SECURITY;",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "UPDATE child SET retain_until = date(date_of_birth, '+75 years')",
                )
                .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_child_la_id_retain_until")
                    .table("child")
                    .col("la_id")
                    .col("retain_until")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_child_la_id_retain_until")
                    .table("child")
                    .to_owned(),
            )
            .await?;
        for column in ["retain_until", "legal_hold", "died_on"] {
            manager
                .alter_table(Table::alter().table("child").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
