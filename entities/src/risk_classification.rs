//! The `risk_classification` table: a risk classification proposed (and perhaps agreed) on a case.

use sea_orm::entity::prelude::*;

use crate::vocabulary::ClassificationKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "risk_classification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub kind: ClassificationKind,
    pub level: i32,
    #[sea_orm(column_type = "Text")]
    pub rationale: String,
    pub classified_on: Date,
    pub proposed_by: Option<i64>,
    pub agreed_by: Option<i64>,
    pub agreed_on: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
