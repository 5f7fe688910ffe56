//! The `case_event` table: the append-only log of domain events; `id` is the event's position.

use sea_orm::entity::prelude::*;

use crate::vocabulary::EventType;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "case_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: Option<i64>,
    pub child_id: Option<i64>,
    pub event_type: EventType,
    pub record_type: String,
    pub record_id: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub fields: Option<String>,
    pub actor_id: Option<i64>,
    pub operation: String,
    pub occurred_at: DateTimeUtc,
    pub request_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
