//! The `goal_revision` table: an append-only change to a goal's target date or description.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "goal_revision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub goal_id: i64,
    pub revised_on: Date,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub previous_target_date: Date,
    pub new_target_date: Date,
    #[sea_orm(column_type = "Text", nullable)]
    pub previous_description: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
