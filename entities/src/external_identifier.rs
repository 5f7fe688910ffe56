//! The `external_identifier` table: an identifier for a row in another system (owner_kind + owner_id).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "external_identifier")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub system: String,
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
