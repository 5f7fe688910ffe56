//! The one place a GraphQL field's work meets the audit trail:
//! - every root mutation field runs in a savepoint of the request's transaction and is named on
//!   the trail; a field that fails or returns `userErrors` is rolled back whole, with its audit
//!   rows (written or held) and its events: a refused mutation changes nothing, and on PostgreSQL
//!   a failed statement cannot poison the rest of the request;
//! - every field answered with `FORBIDDEN` — whoever refused it (a scope check, a framework role
//!   rule, a machine client's grant) — leaves a `DENIED` row for its operation (the root field),
//!   so no refusal can be produced without being audited.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{QueryPathSegment, ServerError, ServerResult, Value};
use sea_orm::TransactionTrait as _;

use crate::audit::Action;
use crate::context::RequestData;
use crate::error::internal_server_error;

/// The extension factory to register on the schema.
pub struct FieldAudit;

impl ExtensionFactory for FieldAudit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldAuditExtension::default())
    }
}

/// One request's state: whether it is a mutation (root fields resolve before their children).
#[derive(Default)]
struct FieldAuditExtension {
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
fn root_field<'a>(info: &ResolveInfo<'a>) -> &'a str {
    let mut name = info.name;
    let mut node = Some(info.path_node);
    while let Some(n) = node {
        if let QueryPathSegment::Name(s) = n.segment {
            name = s;
        }
        node = n.parent;
    }
    name
}

#[async_trait::async_trait]
impl Extension for FieldAuditExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root = info.path_node.parent.is_none();
        if root && info.parent_type == "Mutation" {
            self.mutation.store(true, Ordering::Relaxed);
        }
        let request = ctx.data_opt::<RequestData>();
        let actor = request.and_then(|r| r.actor.as_ref());
        let operation = root_field(&info);
        let result = match (request.and_then(|r| r.tx.as_ref()), actor) {
            (Some(tx), Some(actor)) if root && info.parent_type == "Mutation" => {
                actor.trail.set_operation(info.name);
                let mark = actor.trail.mark();
                let savepoint = tx.begin().await.map_err(internal_server_error)?;
                let result = next.run(ctx, info).await;
                let outcome =
                    if result.is_err() || has_user_errors(result.as_ref().unwrap_or(&None)) {
                        actor.trail.rollback(mark);
                        savepoint.rollback().await
                    } else {
                        savepoint.commit().await
                    };
                outcome.map_err(internal_server_error)?;
                result
            }
            _ => next.run(ctx, info).await,
        };
        if let (Err(err), Some(actor)) = (&result, actor)
            && is_refusal(err)
        {
            let action = if self.mutation.load(Ordering::Relaxed) {
                Action::Update
            } else {
                Action::Read
            };
            actor.trail.denied(operation, action);
        }
        result
    }
}
