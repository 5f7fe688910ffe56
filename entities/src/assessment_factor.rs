//! The `assessment_factor` table: a strength or concern recorded about the child or a household member.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{FactorCategory, FactorKind, FactorStatus};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "assessment_factor")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub household_member_id: Option<i64>,
    pub kind: FactorKind,
    pub category: FactorCategory,
    pub status: Option<FactorStatus>,
    #[sea_orm(column_type = "Text")]
    pub evidence: String,
    pub recorded_on: Date,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
