//! The `support_service` table: a support service provided as part of a case's support plan.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{NeedLevel, ServiceStatus, ServiceType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "support_service")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub case_id: i64,
    pub service_type: ServiceType,
    pub provider: String,
    pub need_level: NeedLevel,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub frequency: Option<String>,
    pub status: ServiceStatus,
    pub cost_pence: Option<i64>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i64>,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
