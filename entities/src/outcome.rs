//! The `outcome` table: the outcome of a case (at most one per case).

use sea_orm::entity::prelude::*;

use crate::vocabulary::{ClosureReason, ReturnType, YesNoUnknown};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "outcome")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    #[sea_orm(unique)]
    pub case_id: i64,
    pub return_on: Option<Date>,
    pub return_type: Option<ReturnType>,
    pub home_at_3_months: Option<bool>,
    pub home_at_6_months: Option<bool>,
    pub home_at_12_months: Option<bool>,
    pub reentered_care_on: Option<Date>,
    pub maltreatment: Option<YesNoUnknown>,
    pub closure_reason: Option<ClosureReason>,
    pub closed_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
