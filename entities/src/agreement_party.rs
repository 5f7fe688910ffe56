//! The `agreement_party` table: a household member who is a party to a parental agreement.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "agreement_party")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub agreement_id: i64,
    pub household_member_id: i64,
    #[sea_orm(column_type = "Text")]
    pub strengths: String,
    #[sea_orm(column_type = "Text")]
    pub concerns: String,
    pub accepted_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
