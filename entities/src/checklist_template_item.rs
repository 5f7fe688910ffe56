//! The `checklist_template_item` table: an authority's checklist item template for a stage.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{Evidence, Stage};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "checklist_template_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub stage: Stage,
    pub key: String,
    pub label: String,
    pub required: bool,
    pub position: i32,
    pub active: bool,
    pub derived_from: Option<Evidence>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
