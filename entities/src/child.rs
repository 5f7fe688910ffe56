//! The `child` table: a looked-after child known to an authority.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "child")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub la_child_id: String,
    pub date_of_birth: Date,
    pub sex: String,
    pub ethnicity: String,
    pub upn: Option<String>,
    pub upn_unknown_reason: Option<String>,
    pub nhs_number: Option<String>,
    pub died_on: Option<Date>,
    pub legal_hold: bool,
    pub retain_until: Option<Date>,
    pub is_mother: Option<bool>,
    pub mother_child_dob: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
