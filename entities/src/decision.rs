//! The `decision` table: a decision on a case, with its approval.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{ApprovalStatus, DecisionKind, DecisionOutcome};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "decision")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub kind: DecisionKind,
    pub outcome: DecisionOutcome,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    pub decided_on: Date,
    pub decided_by: Option<i64>,
    pub approval_status: ApprovalStatus,
    pub approved_by: Option<i64>,
    pub approver_role: Option<String>,
    pub approved_on: Option<Date>,
    pub planned_return_on: Option<Date>,
    pub alternative_plan: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
