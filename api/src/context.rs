//! Typed access to what every resolver needs: the database, the caller and the request's loaders.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::loaders::Loaders;

/// Shared state the schema carries.
#[derive(Clone)]
pub struct AppData {
    /// The database pool.
    pub db: DatabaseConnection,
}

/// Per-request state: the caller (if authenticated) and fresh DataLoaders.
pub struct RequestData {
    /// The authenticated caller; `None` for anonymous requests.
    pub actor: Option<Actor>,
    /// DataLoaders scoped to the caller's LA; `None` for anonymous requests.
    pub loaders: Option<Loaders>,
}

/// Typed accessors on the GraphQL context; a wiring mistake is `INTERNAL`, never a panic.
pub trait ContextExt {
    /// The database pool.
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    /// The authenticated caller, or `UNAUTHENTICATED`.
    fn actor(&self) -> ApiResult<&Actor>;
    /// The caller, having checked they may read child-level records.
    fn reader(&self) -> ApiResult<&Actor>;
    /// The caller, having checked they may change records.
    fn writer(&self) -> ApiResult<&Actor>;
    /// The request's DataLoaders.
    fn loaders(&self) -> ApiResult<&Loaders>;
}

impl ContextExt for Context<'_> {
    fn db(&self) -> ApiResult<&DatabaseConnection> {
        self.data::<AppData>()
            .map(|d| &d.db)
            .map_err(|_| ApiError::internal("no database in context"))
    }
    fn actor(&self) -> ApiResult<&Actor> {
        self.data_opt::<RequestData>()
            .and_then(|r| r.actor.as_ref())
            .ok_or(ApiError::Unauthenticated("a bearer token is required"))
    }
    fn reader(&self) -> ApiResult<&Actor> {
        let actor = self.actor()?;
        actor.require_read()?;
        Ok(actor)
    }
    fn writer(&self) -> ApiResult<&Actor> {
        let actor = self.actor()?;
        actor.require_write()?;
        Ok(actor)
    }
    fn loaders(&self) -> ApiResult<&Loaders> {
        self.actor()?;
        self.data_opt::<RequestData>()
            .and_then(|r| r.loaders.as_ref())
            .ok_or_else(|| ApiError::internal("no loaders in context"))
    }
}
