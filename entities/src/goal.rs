//! The `goal` table: a goal in a parental agreement.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{GoalStatus, Rating};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "goal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub agreement_id: i64,
    pub household_member_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub steps: String,
    pub responsible: String,
    #[sea_orm(column_type = "Text")]
    pub support_offered: String,
    pub target_date: Date,
    pub status: GoalStatus,
    pub latest_rating: Option<Rating>,
    pub latest_review_on: Option<Date>,
    pub sustained_since: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
