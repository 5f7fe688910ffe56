//! The SSDA903 fields of a child and an episode that Reunify did not hold, so that an LA whose
//! case-management system sends them gets a complete 903 return: the child's `MOTHER` and `MC_DOB`,
//! and the episode's `RNE`, `PLACE_PROVIDER`, `REASON_PLACE_CHANGE`, `HOME_POST`, `PL_POST` and
//! `URN`. All optional (null: not supplied).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column, kind): one `ALTER TABLE` each, as SQLite takes them.
const COLUMNS: [(&str, &str, Kind); 8] = [
    ("child", "is_mother", Kind::Bool),
    ("child", "mother_child_dob", Kind::Date),
    ("care_episode", "reason_new_episode", Kind::Text),
    ("care_episode", "placement_provider", Kind::Text),
    ("care_episode", "reason_place_change", Kind::Text),
    ("care_episode", "home_postcode", Kind::Text),
    ("care_episode", "placement_postcode", Kind::Text),
    ("care_episode", "urn", Kind::Text),
];

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Date,
    Text,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, kind) in COLUMNS {
            let def = match kind {
                Kind::Bool => boolean_null(column),
                Kind::Date => date_null(column),
                Kind::Text => text_null(column),
            };
            manager
                .alter_table(Table::alter().table(table).add_column(def).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, _) in COLUMNS.iter().rev() {
            manager
                .alter_table(Table::alter().table(*table).drop_column(*column).to_owned())
                .await?;
        }
        Ok(())
    }
}
