//! The `goal_review` table: an append-only progress review of a goal.

use sea_orm::entity::prelude::*;

use crate::vocabulary::Rating;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "goal_review")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub goal_id: i64,
    pub case_id: i64,
    pub reviewed_on: Date,
    pub rating: Rating,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
