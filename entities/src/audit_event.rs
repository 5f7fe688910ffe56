//! The `audit_event` table: the append-only audit trail of reads and changes.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{Action, Outcome};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    pub occurred_at: DateTimeUtc,
    pub actor_id: Option<i64>,
    pub subject: String,
    pub client_id: Option<String>,
    pub roles: String,
    pub operation: String,
    pub action: Action,
    pub outcome: Outcome,
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
    pub case_id: Option<i64>,
    pub child_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub fields: Option<String>,
    pub request_id: String,
    pub trace_id: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
