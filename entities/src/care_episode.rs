//! The `care_episode` table: a period of care (SSDA903 episode) for a child.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "care_episode")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub child_id: i64,
    pub started_on: Date,
    pub legal_status: String,
    pub category_of_need: String,
    pub placement_type: String,
    pub ended_on: Option<Date>,
    pub reason_ceased: Option<String>,
    pub reason_new_episode: Option<String>,
    pub placement_provider: Option<String>,
    pub reason_place_change: Option<String>,
    pub home_postcode: Option<String>,
    pub placement_postcode: Option<String>,
    pub urn: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
