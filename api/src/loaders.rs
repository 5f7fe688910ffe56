//! The per-request DataLoader: one batching loader scoped to the caller's LA, to which each
//! feature adds `Loader<Key>` impls in its own `loaders.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use sea_orm::{DatabaseTransaction, DbErr};

use crate::error::ApiError;

/// A loader error; cloneable because one batch answers many fields.
#[derive(Clone, Debug)]
pub struct LoadError(pub Arc<String>);

impl From<DbErr> for LoadError {
    fn from(e: DbErr) -> Self {
        LoadError(Arc::new(format!("database: {e}")))
    }
}

impl From<ApiError> for LoadError {
    fn from(e: ApiError) -> Self {
        LoadError(Arc::new(format!("{e:?}")))
    }
}

impl From<Arc<LoadError>> for ApiError {
    fn from(e: Arc<LoadError>) -> Self {
        ApiError::internal(e.0.to_string())
    }
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> Self {
        ApiError::internal(e.0.to_string())
    }
}

/// Loads rows of the caller's LA only.
pub struct DbLoader {
    /// The request's transaction.
    pub db: Arc<DatabaseTransaction>,
    /// The caller's LA: every batch is filtered by it.
    pub la_id: i64,
}

/// Result type of a batch.
pub type Batch<K, V> = Result<HashMap<K, V>, LoadError>;

/// The request's loaders.
pub struct Loaders {
    /// The LA-scoped batching loader.
    pub db: DataLoader<DbLoader, HashMapCache>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: Arc<DatabaseTransaction>, la_id: i64) -> Self {
        // The cache lives for one request only, so one caller never sees rows loaded for another.
        Self {
            // A batch runs in a task of its own, inside the span of the field that asked first.
            db: DataLoader::with_cache(
                DbLoader { db, la_id },
                |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
                HashMapCache::default(),
            ),
        }
    }
}

/// Groups rows into vectors by a key, keeping the query's order.
pub fn group<K: std::hash::Hash + Eq, V>(
    rows: Vec<V>,
    key: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Declares a key type that loads all rows of `$entity` whose `$col` (field `$field`) is one of the keys,
/// in the LA of the caller, ordered by `$order`.
#[macro_export]
macro_rules! many_loader {
    ($(#[$m:meta])* $key:ident, $entity:ident, $col:ident, $field:ident, $order:ident) => {
        $(#[$m])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl async_graphql::dataloader::Loader<$key> for $crate::loaders::DbLoader {
            type Value = Vec<entities::$entity::Model>;
            type Error = $crate::loaders::LoadError;

            async fn load(&self, keys: &[$key]) -> $crate::loaders::Batch<$key, Self::Value> {
                use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = entities::$entity::Entity::find()
                    .filter(entities::$entity::Column::LaId.eq(self.la_id))
                    .filter(entities::$entity::Column::$col.is_in(ids))
                    .order_by_asc(entities::$entity::Column::$order)
                    .order_by_asc(entities::$entity::Column::Id)
                    .all(self.db.as_ref())
                    .await?;
                Ok($crate::loaders::group(rows, |r| $key(r.$field)))
            }
        }
    };
}

/// Loads the rows under one key through the request's loader, wrapping each in its GraphQL type.
pub async fn load_all<K, M, T>(
    ctx: &async_graphql::Context<'_>,
    key: K,
    wrap: impl Fn(M) -> T,
) -> async_graphql::Result<Vec<T>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    M: Send + Sync + Clone + 'static,
    DbLoader: async_graphql::dataloader::Loader<K, Value = Vec<M>, Error = LoadError>,
{
    use crate::context::ContextExt as _;
    let rows = ctx
        .loaders()?
        .db
        .load_one(key)
        .await
        .map_err(ApiError::from)?;
    Ok(rows.unwrap_or_default().into_iter().map(wrap).collect())
}

/// Loads the one row under a key (if any) through the request's loader, wrapped.
pub async fn load_first<K, M, T>(
    ctx: &async_graphql::Context<'_>,
    key: K,
    wrap: impl Fn(M) -> T,
) -> async_graphql::Result<Option<T>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    M: Send + Sync + Clone + 'static,
    DbLoader: async_graphql::dataloader::Loader<K, Value = Vec<M>, Error = LoadError>,
{
    Ok(load_all(ctx, key, wrap).await?.into_iter().next())
}
