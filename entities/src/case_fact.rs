//! The `case_fact` table: what the aggregates read about one case, derived from its records and
//! kept current in the transaction of every write that touches them. The columns are what SQL
//! filters on; `body` is the JSON of the facts themselves (see `api::insight::facts`).

use sea_orm::entity::prelude::*;

use crate::vocabulary::{CaseStatus, Stage};
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
    pub stage: Stage,
    pub status: CaseStatus,
    /// The facts, as JSON.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub refreshed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
