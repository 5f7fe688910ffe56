//! `Idempotency-Key` on mutations: a client that retries a mutation with the same key and the
//! same body gets the first response again, byte for byte, and the mutation runs once.
//!
//! The key is claimed by inserting its row in the mutation's own transaction, and the response is
//! stored in that transaction before it commits: the mutation and its stored response are kept
//! together or not at all (a mutation that fails with a fault keeps nothing, so a retry runs
//! it). A duplicate sent while the first is still running waits on the unique key until the
//! first commits, then replays its response; past the statement timeout it gets `CONFLICT`.
//! Keys are kept per LA and client for [`KEEP_HOURS`] hours.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use base64::Engine as _;
use chrono::Utc;
use entities::idempotency_key::{self as row, Entity as Keys};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TryInsertResult};
use sha2::{Digest as _, Sha256};

use crate::audit::acting::Acting;
use crate::error::{ApiError, ApiResult};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header on a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key and its response are kept.
pub const KEEP_HOURS: i64 = 24;
/// The longest key accepted.
pub const MAX_LEN: usize = 255;

/// A key sent with a request, and the hash of the request's body.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key as sent.
    pub value: String,
    /// SHA-256 of the body, base64url.
    pub hash: String,
}

impl Key {
    /// The key of a request: `Ok(None)` without the header; an error message when the header is
    /// not 1 to 255 visible ASCII characters.
    pub fn from_header(
        header: Option<&axum::http::HeaderValue>,
        body: &[u8],
    ) -> Result<Option<Key>, String> {
        let Some(header) = header else {
            return Ok(None);
        };
        let value = header
            .to_str()
            .ok()
            .filter(|v| {
                !v.is_empty() && v.len() <= MAX_LEN && v.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                format!("Idempotency-Key must be 1 to {MAX_LEN} visible ASCII characters")
            })?;
        Ok(Some(Key {
            value: value.to_owned(),
            hash: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(body)),
        }))
    }
}

/// Whether the operation a request runs is a mutation (keys apply to mutations only; a query
/// with a key runs as usual). A document that does not parse is not: it fails on its own.
pub fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let ty = match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty == Some(OperationType::Mutation)
}

/// What a claimed key says about the request.
#[derive(Debug)]
pub enum Claim {
    /// The key is new (or expired): run the mutation, then [`store`] its response.
    Fresh(i64),
    /// The key was used with this body: its response, to send again.
    Replay(String),
    /// The key was used with another body.
    Reused,
    /// The key's first request is still running.
    Running,
}

/// The client a key belongs to: the OAuth client, or the token's subject.
fn client(actor: &Acting) -> &str {
    actor.client_id.as_deref().unwrap_or(&actor.subject)
}

fn of<'a>(actor: &'a Acting, key: &'a Key) -> impl sea_orm::sea_query::IntoCondition + 'a {
    sea_orm::Condition::all()
        .add(row::Column::LaId.eq(actor.la_id))
        .add(row::Column::Client.eq(client(actor)))
        .add(row::Column::Key.eq(key.value.as_str()))
}

/// Claims `key` in the request's transaction `db` (tenant: the caller's LA).
pub async fn claim(db: &impl ConnectionTrait, actor: &Acting, key: &Key) -> ApiResult<Claim> {
    let now = Utc::now();
    // The client's expired keys go (an expired key is as good as new).
    Keys::delete_many()
        .filter(row::Column::LaId.eq(actor.la_id))
        .filter(row::Column::Client.eq(client(actor)))
        .filter(row::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    let inserted = Keys::insert(row::ActiveModel {
        la_id: Set(actor.la_id),
        client: Set(client(actor).to_owned()),
        key: Set(key.value.clone()),
        request_hash: Set(key.hash.clone()),
        response: Set(String::new()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::hours(KEEP_HOURS)),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([row::Column::LaId, row::Column::Client, row::Column::Key])
    .exec_without_returning(db)
    .await;
    // Without RETURNING a conflict shows as no row inserted.
    let fresh = match inserted {
        Ok(TryInsertResult::Inserted(n)) => n > 0,
        Ok(TryInsertResult::Conflicted | TryInsertResult::Empty) => false,
        // Waiting on a first request that is still running outlasted the statement timeout.
        Err(e) if crate::db::is_timeout(&e) => return Ok(Claim::Running),
        Err(e) => return Err(e.into()),
    };
    let Some(found) = Keys::find().filter(of(actor, key)).one(db).await? else {
        return Err(ApiError::internal("an idempotency key vanished"));
    };
    Ok(if found.request_hash != key.hash {
        Claim::Reused
    } else if fresh {
        Claim::Fresh(found.id)
    } else if found.response.is_empty() {
        Claim::Running
    } else {
        Claim::Replay(found.response)
    })
}

/// Deletes the LA's expired keys (and the responses stored with them); returns how many.
pub async fn sweep(db: &impl ConnectionTrait, la_id: i64) -> ApiResult<u64> {
    Ok(Keys::delete_many()
        .filter(row::Column::LaId.eq(la_id))
        .filter(row::Column::ExpiresAt.lt(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Stores the response of a [`Claim::Fresh`] key, in the same transaction.
pub async fn store(db: &impl ConnectionTrait, id: i64, response: &str) -> ApiResult<()> {
    Keys::update_many()
        .col_expr(row::Column::Response, response.into())
        .filter(row::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
