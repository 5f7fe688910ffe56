//! Typed access to what every resolver needs: the request's transaction, the caller and the
//! request's loaders.

use std::sync::Arc;

use async_graphql::{Context, QueryPathSegment};
use sea_orm::{DatabaseConnection, DatabaseTransaction, ModelTrait};

use crate::audit::Record;
use crate::audit::acting::Acting;
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::loaders::Loaders;

/// Shared state the schema carries.
#[derive(Clone)]
pub struct AppData {
    /// The database pool (requests use their own transaction; see [`RequestData`]).
    pub db: DatabaseConnection,
    /// Recent events per LA, shared by the subscriptions.
    pub feed: Arc<crate::live::feed::Feed>,
}

/// Per-request state: the caller (if authenticated), the request's transaction, fresh DataLoaders.
pub struct RequestData {
    /// The authenticated caller; `None` for anonymous requests.
    pub actor: Option<Acting>,
    /// The transaction the whole request runs in, with the caller's LA as its tenant.
    pub tx: Option<Arc<DatabaseTransaction>>,
    /// DataLoaders scoped to the caller's LA; `None` for anonymous requests.
    pub loaders: Option<Loaders>,
}

impl RequestData {
    /// An authenticated caller's data for an operation that reads no record (see
    /// `server::graphql`): no transaction, no loaders; a resolver that asks for either is a
    /// wiring fault (`INTERNAL`).
    pub fn without_records(actor: &Acting) -> Self {
        Self {
            actor: Some(actor.clone()),
            tx: None,
            loaders: None,
        }
    }

    /// An authenticated caller's data: the transaction it runs in and fresh loaders over it.
    pub fn authenticated(actor: &Acting, tx: &Arc<DatabaseTransaction>) -> Self {
        Self {
            actor: Some(actor.clone()),
            tx: Some(tx.clone()),
            loaders: Some(Loaders::new(tx.clone(), actor.la_id)),
        }
    }
}

/// Typed accessors on the GraphQL context; a wiring mistake is `INTERNAL`, never a panic.
pub trait ContextExt {
    /// The request's transaction (tenant set to the caller's LA).
    fn db(&self) -> ApiResult<&DatabaseTransaction>;
    /// The authenticated caller, or `UNAUTHENTICATED`.
    fn actor(&self) -> ApiResult<&Acting>;
    /// The caller, having checked they may read child-level records.
    fn reader(&self) -> ApiResult<&Acting>;
    /// The caller, having checked they may change records.
    fn writer(&self) -> ApiResult<&Acting>;
    /// The caller, having checked they administer the LA.
    fn admin(&self) -> ApiResult<&Acting>;
    /// The caller, having checked they may read aggregates.
    fn analyst(&self) -> ApiResult<&Acting>;
    /// The request's DataLoaders.
    fn loaders(&self) -> ApiResult<&Loaders>;
    /// The root field this resolver runs under (the operation, for the audit trail).
    fn operation(&self) -> &str;
    /// Notes in the audit trail that a record is being returned to the caller; returns it.
    fn seen<M: ModelTrait>(&self, model: M) -> M;
    /// Notes in the audit trail that a record asked for is not there.
    fn missed(&self, kind: &str, id: i64);
}

impl ContextExt for Context<'_> {
    fn db(&self) -> ApiResult<&DatabaseTransaction> {
        self.actor()?;
        self.data_opt::<RequestData>()
            .and_then(|r| r.tx.as_deref())
            .ok_or_else(|| ApiError::internal("no transaction in context"))
    }
    fn actor(&self) -> ApiResult<&Acting> {
        self.data_opt::<RequestData>()
            .and_then(|r| r.actor.as_ref())
            .ok_or(ApiError::Unauthenticated("a bearer token is required"))
    }
    fn reader(&self) -> ApiResult<&Acting> {
        guarded(self, Actor::require_read)
    }
    fn writer(&self) -> ApiResult<&Acting> {
        guarded(self, Actor::require_write)
    }
    fn admin(&self) -> ApiResult<&Acting> {
        // Say what was refused: the field, read or called.
        let verb = if is_mutation(self) { "call" } else { "read" };
        let to = format!("{verb} {}", self.field().name());
        guarded(self, |actor| actor.require_admin(&to))
    }
    fn analyst(&self) -> ApiResult<&Acting> {
        guarded(self, Actor::require_aggregates)
    }
    fn loaders(&self) -> ApiResult<&Loaders> {
        self.actor()?;
        self.data_opt::<RequestData>()
            .and_then(|r| r.loaders.as_ref())
            .ok_or_else(|| ApiError::internal("no loaders in context"))
    }
    fn operation(&self) -> &str {
        let mut name = "";
        let mut node = self.path_node.as_ref();
        while let Some(n) = node {
            if let QueryPathSegment::Name(s) = n.segment {
                name = s;
            }
            node = n.parent;
        }
        name
    }
    fn seen<M: ModelTrait>(&self, model: M) -> M {
        if let Ok(actor) = self.actor() {
            actor.trail.read(self.operation(), Record::of(&model));
        }
        model
    }
    fn missed(&self, kind: &str, id: i64) {
        if let Ok(actor) = self.actor() {
            actor
                .trail
                .not_found(self.operation(), Record::bare(kind, id));
        }
    }
}

/// Whether the request is a mutation.
fn is_mutation(ctx: &Context<'_>) -> bool {
    ctx.query_env.operation.node.ty == async_graphql::parser::types::OperationType::Mutation
}

/// The caller, having passed `check` (a refusal is audited where every `FORBIDDEN` is: in
/// [`crate::audit::fields`]).
fn guarded<'a>(
    ctx: &'a Context<'_>,
    check: impl FnOnce(&Actor) -> ApiResult<()>,
) -> ApiResult<&'a Acting> {
    let actor = ctx.actor()?;
    check(actor)?;
    if is_mutation(ctx) {
        actor.require_granted(ctx.operation())?;
    }
    Ok(actor)
}

/// Loads the rows under one key through the request's loader, wrapping each in its GraphQL type.
pub async fn load_all<K: crate::loaders::Keyed, T>(
    ctx: &async_graphql::Context<'_>,
    key: K,
    wrap: impl Fn(K::Model) -> T,
) -> async_graphql::Result<Vec<T>> {
    let rows = ctx
        .loaders()?
        .db
        .load_one(key.part())
        .await
        .map_err(ApiError::from)?;
    let mut out = Vec::new();
    for row in rows.unwrap_or_default() {
        let model = row
            .downcast_ref::<K::Model>()
            .ok_or_else(|| ApiError::internal("a loaded row of another type"))?;
        out.push(wrap(model.clone()));
    }
    Ok(out)
}

/// Loads the one row under a key (if any) through the request's loader, wrapped.
pub async fn load_first<K: crate::loaders::Keyed, T>(
    ctx: &async_graphql::Context<'_>,
    key: K,
    wrap: impl Fn(K::Model) -> T,
) -> async_graphql::Result<Option<T>> {
    Ok(load_all(ctx, key, wrap).await?.into_iter().next())
}
