//! The `rate_bucket` table: the rate limit's buckets, shared by every instance on one PostgreSQL
//! database (unused on SQLite, where the limiter is in memory). Written only through the
//! `reunify_rate_take` function; see the migration that creates it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "rate_bucket")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The SHA-256 (hex) of the limiter's key for the caller, never the key itself.
    #[sea_orm(unique)]
    pub caller: String,
    /// Points the bucket held at `refreshed_at`.
    #[sea_orm(column_type = "Double")]
    pub tokens: f64,
    pub refreshed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
