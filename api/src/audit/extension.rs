//! Runs each root mutation field in a savepoint of the request's transaction and names it on the
//! audit trail. A field that fails or returns `userErrors` is rolled back whole, with its audit
//! rows (written or held) and its events: a refused mutation changes nothing, and on PostgreSQL a failed statement
//! cannot poison the rest of the request.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use sea_orm::TransactionTrait as _;

use crate::context::RequestData;
use crate::error::internal_server_error;

/// The extension factory to register on the schema.
pub struct MutationSavepoints;

impl ExtensionFactory for MutationSavepoints {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(MutationSavepointsExtension)
    }
}

struct MutationSavepointsExtension;

/// Whether a resolved payload carries user errors.
fn has_user_errors(value: &Option<Value>) -> bool {
    match value {
        Some(Value::Object(fields)) => fields
            .get("userErrors")
            .is_some_and(|e| matches!(e, Value::List(l) if !l.is_empty())),
        _ => false,
    }
}

#[async_trait::async_trait]
impl Extension for MutationSavepointsExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root_mutation = info.path_node.parent.is_none() && info.parent_type == "Mutation";
        let request = ctx.data_opt::<RequestData>();
        let (Some(tx), Some(actor), true) = (
            request.and_then(|r| r.tx.as_ref()),
            request.and_then(|r| r.actor.as_ref()),
            root_mutation,
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
}
