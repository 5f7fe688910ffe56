//! The `case_fact` table: what the aggregates read about one case, derived from its records and
//! kept current in the transaction of every write that touches them.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "case_fact")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    #[sea_orm(unique)]
    pub case_id: i64,
    pub child_id: i64,
    /// The version of the definitions the row was built with; older rows are rebuilt on migrate.
    pub definition: i32,
    pub team: Option<String>,
    pub worker_id: Option<i64>,
    pub attempt_number: i32,
    pub stage: String,
    pub status: String,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
    pub care_started_on: Date,
    pub legal_status: String,
    pub age_at_open: i32,
    pub risk_level: Option<i32>,
    pub return_type: Option<String>,
    pub return_on: Option<Date>,
    pub exit_reason: Option<String>,
    pub reentered_on: Option<Date>,
    pub closure_reason: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub stages: String,
    #[sea_orm(column_type = "Text")]
    pub decisions: String,
    #[sea_orm(column_type = "Text")]
    pub classifications: String,
    #[sea_orm(column_type = "Text")]
    pub goals: String,
    #[sea_orm(column_type = "Text")]
    pub services: String,
    #[sea_orm(column_type = "Text")]
    pub checklist: String,
    pub refreshed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
