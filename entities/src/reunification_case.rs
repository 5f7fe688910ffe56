//! The `reunification_case` table: one attempt to return a child home from care.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{CaseStatus, ReturnType, Stage};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "reunification_case")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub child_id: i64,
    pub episode_id: i64,
    pub attempt_number: i32,
    pub worker_id: Option<i64>,
    pub team: Option<String>,
    pub stage: Stage,
    pub status: CaseStatus,
    pub return_type: Option<ReturnType>,
    pub alternative_plan: Option<String>,
    pub risk_level: Option<i32>,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    pub next_review_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
