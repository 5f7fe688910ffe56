//! The one place a GraphQL field's work meets the audit trail:
//! - every root mutation field runs in a savepoint of the request's transaction and is named on
//!   the trail ([`in_savepoint`], which the schema's mutation root calls for each of its fields);
//!   a field that fails or returns `userErrors` is rolled back whole, with its audit rows (written
//!   or held) and its events: a refused mutation changes nothing, and on PostgreSQL a failed
//!   statement cannot poison the rest of the request;
//! - every field answered with `FORBIDDEN` — whoever refused it (a scope check, a framework role
//!   rule, a machine client's grant) — leaves a `DENIED` row for its operation (the root field):
//!   [`refusals`] reads them off every answer the schema gives, before its unit of work commits,
//!   so no refusal can be produced without being audited.

use async_graphql::{Context, PathSegment, ServerError, ServerResult, Value};
use sea_orm::TransactionTrait as _;

use crate::audit::Action;
use crate::audit::trail::Trail;
use crate::context::RequestData;
use crate::error::internal_server_error;

/// Whether a resolved payload carries user errors.
fn has_user_errors(value: &Option<Value>) -> bool {
    match value {
        Some(Value::Object(fields)) => fields
            .get("userErrors")
            .is_some_and(|e| matches!(e, Value::List(l) if !l.is_empty())),
        _ => false,
    }
}

/// Whether an error is an authorisation refusal.
fn is_refusal(err: &ServerError) -> bool {
    crate::error::ErrorCode::Forbidden.is_on(err.extensions.as_ref())
}

/// Runs a root mutation field (`resolve`, the field of `ctx`) in a savepoint of the request's
/// transaction, named on the trail; rolled back whole, with its held audit rows and its events,
/// when it fails or answers `userErrors`.
pub async fn in_savepoint(
    ctx: &Context<'_>,
    resolve: impl Future<Output = ServerResult<Option<Value>>>,
) -> ServerResult<Option<Value>> {
    let request = ctx.data_opt::<RequestData>();
    let (Some(tx), Some(actor)) = (
        request.and_then(|r| r.tx.as_ref()),
        request.and_then(|r| r.actor.as_ref()),
    ) else {
        return resolve.await;
    };
    actor.trail.set_operation(ctx.item.node.name.node.as_str());
    let mark = actor.trail.mark();
    let savepoint = tx.begin().await.map_err(internal_server_error)?;
    let result = resolve.await;
    let outcome = if result.is_err() || has_user_errors(result.as_ref().unwrap_or(&None)) {
        actor.trail.rollback(mark);
        savepoint.rollback().await
    } else {
        savepoint.commit().await
    };
    outcome.map_err(internal_server_error)?;
    result
}

/// Notes on the trail every refusal (`FORBIDDEN`) among an answer's errors, for its operation:
/// the root field the error's path starts at. `mutation`: the operation was a mutation (the
/// refusal was of a change).
pub fn refusals(trail: &Trail, errors: &[ServerError], mutation: bool) {
    let action = if mutation {
        Action::Update
    } else {
        Action::Read
    };
    for err in errors.iter().filter(|e| is_refusal(e)) {
        if let Some(PathSegment::Field(root)) = err.path.first() {
            trail.denied(root, action);
        }
    }
}
