//! The `idempotency_key` table: a client's `Idempotency-Key`, the hash of the request it came
//! with and the response it got, replayed to a retry until `expires_at`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Eq)]
#[sea_orm(table_name = "idempotency_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub la_id: i64,
    /// The client (its OAuth client id, or the token's subject).
    pub client: String,
    pub key: String,
    /// SHA-256 of the request body, base64url.
    pub request_hash: String,
    /// The response body as sent.
    #[sea_orm(column_type = "Text")]
    pub response: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
