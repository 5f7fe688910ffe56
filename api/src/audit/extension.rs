//! The one place a GraphQL field's work meets the audit trail:
//! - every root mutation field runs in a savepoint of the request's transaction and is named on
//!   the trail; a field that fails or returns `userErrors` is rolled back whole, with its audit
//!   rows (written or held) and its events: a refused mutation changes nothing, and on PostgreSQL
//!   a failed statement cannot poison the rest of the request;
//! - every field answered with `FORBIDDEN` — whoever refused it (a scope check, a framework role
//!   rule, a machine client's grant) — leaves a `DENIED` row for its operation (the root field),
//!   so no refusal can be produced without being audited.

use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{ExtensionContext, NextResolve, ResolveInfo};
use async_graphql::{QueryPathNode, QueryPathSegment, ServerError, ServerResult, Value};
use sea_orm::TransactionTrait as _;

use crate::audit::Action;
use crate::context::RequestData;
use crate::error::internal_server_error;

/// One request's audit state for its fields: whether it is a mutation (root fields resolve
/// before their children). The schema's one extension ([`crate::schema`]) calls
/// [`FieldAudit::resolve`] for every field.
#[derive(Default)]
pub struct FieldAudit {
    mutation: AtomicBool,
}

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

/// The root field a field runs under (the operation the audit trail names).
fn root_field<'a>(name: &'a str, path: &'a QueryPathNode<'a>) -> &'a str {
    let mut name = name;
    let mut node = Some(path);
    while let Some(n) = node {
        if let QueryPathSegment::Name(s) = n.segment {
            name = s;
        }
        node = n.parent;
    }
    name
}

impl FieldAudit {
    /// Resolves one field: a root mutation field in its savepoint, and any field answered
    /// `FORBIDDEN` audited as refused. A nested field that succeeds costs nothing more than
    /// resolving it.
    pub async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root_mutation = info.path_node.parent.is_none() && info.parent_type == "Mutation";
        let (name, path) = (info.name, info.path_node);
        let result = if root_mutation {
            self.mutation.store(true, Ordering::Relaxed);
            in_savepoint(ctx, info, next).await
        } else {
            next.run(ctx, info).await
        };
        if let Err(err) = &result {
            self.refused(ctx, err, root_field(name, path));
        }
        result
    }

    /// Audits a refusal (`FORBIDDEN`) of `operation`.
    fn refused(&self, ctx: &ExtensionContext<'_>, err: &ServerError, operation: &str) {
        let actor = ctx.data_opt::<RequestData>().and_then(|r| r.actor.as_ref());
        if let Some(actor) = actor
            && is_refusal(err)
        {
            let action = if self.mutation.load(Ordering::Relaxed) {
                Action::Update
            } else {
                Action::Read
            };
            actor.trail.denied(operation, action);
        }
    }
}

/// Runs a root mutation field in a savepoint of the request's transaction, named on the trail;
/// rolled back whole, with its held audit rows and events, when it fails or answers `userErrors`.
async fn in_savepoint(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let request = ctx.data_opt::<RequestData>();
    let (Some(tx), Some(actor)) = (
        request.and_then(|r| r.tx.as_ref()),
        request.and_then(|r| r.actor.as_ref()),
    ) else {
        return next.run(ctx, info).await;
    };
    actor.trail.set_operation(info.name);
    let mark = actor.trail.mark();
    let savepoint = tx.begin().await.map_err(internal_server_error)?;
    let result = next.run(ctx, info).await;
    let outcome = if result.is_err() || has_user_errors(result.as_ref().unwrap_or(&None)) {
        actor.trail.rollback(mark);
        savepoint.rollback().await
    } else {
        savepoint.commit().await
    };
    outcome.map_err(internal_server_error)?;
    result
}
