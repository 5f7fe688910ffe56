//! The `stage_progress` table: when a case entered and completed each stage.

use sea_orm::entity::prelude::*;

use crate::vocabulary::Stage;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "stage_progress")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub stage: Stage,
    pub entered_on: Date,
    pub completed_on: Option<Date>,
    pub signed_off_by: Option<i64>,
    pub signed_off_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
