//! The `checklist_item` table: a checklist item on a case, copied from the authority's template.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{Evidence, Stage};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "checklist_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub stage: Stage,
    pub key: String,
    pub label: String,
    pub required: bool,
    pub position: i32,
    pub completed_on: Option<Date>,
    pub completed_by: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub derived_from: Option<Evidence>,
    pub evidence: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
