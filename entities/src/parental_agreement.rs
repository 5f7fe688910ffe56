//! The `parental_agreement` table: a numbered parental agreement on a case.

use sea_orm::entity::prelude::*;

use crate::vocabulary::AgreementStatus;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "parental_agreement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub number: i32,
    pub status: AgreementStatus,
    pub agreed_on: Option<Date>,
    pub without_acceptance_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
