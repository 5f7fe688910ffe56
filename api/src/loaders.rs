//! The per-request DataLoader: one batching loader scoped to the caller's LA, to which each
//! feature adds `Loader<Key>` impls in its own `loaders.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    FromQueryResult as _, IdenStatic, QueryFilter, QueryOrder, QueryResult, QueryTrait as _,
    Statement,
};

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
        // On SQLite a request holds the one write lock from its start (see `db::begin_tenant`),
        // so a batch's wait for more keys is every other request's wait too; and a statement
        // costs no round trip there. A batch still takes every key asked for in the same turn.
        let delay = match db.get_database_backend() {
            DbBackend::Sqlite => std::time::Duration::ZERO,
            _ => std::time::Duration::from_millis(1),
        };
        // The cache lives for one request only, so one caller never sees rows loaded for another.
        Self {
            // A batch runs in a task of its own, inside the span of the field that asked first.
            db: DataLoader::with_cache(
                DbLoader { db, la_id },
                |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
                HashMapCache::default(),
            )
            .delay(delay),
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

/// A row loaded through [`Part`], typed by the key that asked for it (see [`Keyed`]).
pub type Row = Arc<dyn std::any::Any + Send + Sync>;

/// One kind of batched lookup: the rows of one table whose `column` is one of the keys (and,
/// optionally, whose `fixed` column holds one value), in the caller's LA, ordered by `order`, then
/// id. Declared with [`many_loader!`]; every part is loaded through the one key type [`PartKey`],
/// so on PostgreSQL all the parts a level of the query asks for come back in one statement.
pub struct Rows<E: EntityTrait> {
    /// The keyed column.
    pub column: E::Column,
    /// The ordering column (then `id`).
    pub order: E::Column,
    /// The LA column.
    pub la: E::Column,
    /// The id column.
    pub id: E::Column,
    /// A further column that must hold one value (`owner_kind = 'child'`), if any.
    pub fixed: Option<(E::Column, &'static str)>,
    /// The key a row is found under.
    pub key: fn(&E::Model) -> i64,
}

/// What [`DbLoader`] needs of a [`Rows`], whatever its entity.
pub trait Part: Send + Sync + 'static {
    /// `SELECT <n> AS p, key AS k, the row as JSON AS j, its rank AS r` for the keys in
    /// parameter `$param` (a `bigint[]` literal; `$1` is the LA).
    fn branch(&self, n: usize, param: usize) -> String;
    /// A row from its JSON (PostgreSQL's `row_to_json`).
    fn decode(&self, json: &str) -> Result<(i64, Row), LoadError>;
    /// The typed query for the rows of some keys (any backend).
    fn select(&self, backend: DbBackend, la_id: i64, keys: Vec<i64>) -> Statement;
    /// A row of [`Part::select`]'s result.
    fn read_row(&self, row: &QueryResult) -> Result<(i64, Row), LoadError>;
}

impl<E> Part for Rows<E>
where
    E: EntityTrait + Sync,
    E::Column: Sync,
    E::Model: serde::de::DeserializeOwned + Send + Sync,
{
    fn branch(&self, n: usize, param: usize) -> String {
        let fixed = self
            .fixed
            .map(|(c, v)| format!(" AND t.\"{}\" = '{v}'", c.as_str()))
            .unwrap_or_default();
        format!(
            "SELECT {n} AS p, t.\"{col}\" AS k, row_to_json(t)::text AS j, \
             row_number() OVER (ORDER BY t.\"{order}\", t.\"{id}\") AS r \
             FROM \"{table}\" t WHERE t.\"{la}\" = $1 AND t.\"{col}\" = ANY(${param}::bigint[]){fixed}",
            col = self.column.as_str(),
            order = self.order.as_str(),
            id = self.id.as_str(),
            la = self.la.as_str(),
            table = E::default().table_name(),
        )
    }

    fn decode(&self, json: &str) -> Result<(i64, Row), LoadError> {
        let model: E::Model = serde_json::from_str(json)
            .map_err(|e| LoadError(Arc::new(format!("decoding a row: {e}"))))?;
        Ok(((self.key)(&model), Arc::new(model)))
    }

    fn select(&self, backend: DbBackend, la_id: i64, keys: Vec<i64>) -> Statement {
        let mut query = E::find()
            .filter(self.la.eq(la_id))
            .filter(self.column.is_in(keys));
        if let Some((column, value)) = self.fixed {
            query = query.filter(column.eq(value));
        }
        query
            .order_by_asc(self.order)
            .order_by_asc(self.id)
            .build(backend)
    }

    fn read_row(&self, row: &QueryResult) -> Result<(i64, Row), LoadError> {
        let model = E::Model::from_query_result(row, "")?;
        Ok(((self.key)(&model), Arc::new(model)))
    }
}

/// The key every [`Part`] is loaded under: which part, and the key value.
#[derive(Copy, Clone)]
pub struct PartKey {
    part: &'static dyn Part,
    key: i64,
}

impl PartKey {
    /// The key `key` of `part`.
    pub fn new(part: &'static dyn Part, key: i64) -> Self {
        Self { part, key }
    }

    /// The identity of the part (a `static`'s address).
    fn address(&self) -> usize {
        std::ptr::from_ref(self.part).cast::<()>() as usize
    }
}

impl PartialEq for PartKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.address() == other.address()
    }
}

impl Eq for PartKey {}

impl std::hash::Hash for PartKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.address().hash(state);
        self.key.hash(state);
    }
}

impl async_graphql::dataloader::Loader<PartKey> for DbLoader {
    type Value = Vec<Row>;
    type Error = LoadError;

    async fn load(&self, keys: &[PartKey]) -> Batch<PartKey, Vec<Row>> {
        fetch(self.db.as_ref(), self.la_id, keys).await
    }
}

/// The rows of every key in LA `la_id`, in each part's order: one statement for them all on
/// PostgreSQL (a `UNION ALL` of the parts asked for, each row as JSON); one typed query per part
/// on SQLite, where a statement costs no round trip. Used by the request's loader and by any
/// service that reads many tables of the same records at once.
pub async fn fetch(
    db: &impl ConnectionTrait,
    la_id: i64,
    keys: &[PartKey],
) -> Batch<PartKey, Vec<Row>> {
    let parts = grouped(keys);
    let mut found: HashMap<PartKey, Vec<Row>> = HashMap::new();
    let backend = db.get_database_backend();
    if parts.len() > 1 && backend == DbBackend::Postgres {
        let rows = db.query_all_raw(union_of(la_id, &parts)).await?;
        for row in rows {
            let (n, json): (i32, String) = (row.try_get_by_index(0)?, row.try_get_by_index(2)?);
            let Some((part, _, _)) = usize::try_from(n).ok().and_then(|n| parts.get(n)) else {
                return Err(LoadError(Arc::new(format!("a row of unknown part {n}"))));
            };
            let (key, value) = part.decode(&json)?;
            found
                .entry(PartKey { part: *part, key })
                .or_default()
                .push(value);
        }
    } else {
        for (part, _, ids) in parts {
            for row in db.query_all_raw(part.select(backend, la_id, ids)).await? {
                let (key, value) = part.read_row(&row)?;
                found.entry(PartKey { part, key }).or_default().push(value);
            }
        }
    }
    Ok(found)
}

/// The rows [`fetch`] found under `key`, typed.
pub fn rows_of<K: Keyed>(
    found: &HashMap<PartKey, Vec<Row>>,
    key: K,
) -> impl Iterator<Item = &K::Model> {
    found
        .get(&key.part())
        .into_iter()
        .flatten()
        .filter_map(|row| row.downcast_ref::<K::Model>())
}

/// The parts of a batch with their keys, in a fixed order (by the part's address): one text for
/// one set of parts, whatever the number of keys or the order they were asked in, so that the
/// connection's prepared statement (and its plan) is reused.
fn grouped(keys: &[PartKey]) -> Vec<(&'static dyn Part, usize, Vec<i64>)> {
    let mut parts: Vec<(&'static dyn Part, usize, Vec<i64>)> = Vec::new();
    for k in keys {
        match parts.iter_mut().find(|(_, a, _)| *a == k.address()) {
            Some((_, _, ids)) => ids.push(k.key),
            None => parts.push((k.part, k.address(), vec![k.key])),
        }
    }
    parts.sort_by_key(|(_, address, _)| *address);
    parts
}

/// The one PostgreSQL statement that loads the rows of every part of a batch.
fn union_of(la_id: i64, parts: &[(&'static dyn Part, usize, Vec<i64>)]) -> Statement {
    let mut values: Vec<sea_orm::Value> = vec![la_id.into()];
    let mut branches = Vec::new();
    for (n, (part, _, ids)) in parts.iter().enumerate() {
        branches.push(part.branch(n, values.len() + 1));
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        values.push(format!("{{{}}}", ids.join(",")).into());
    }
    let sql = format!(
        "SELECT p, k, j FROM ({}) u ORDER BY p, r",
        branches.join(" UNION ALL ")
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The statements [`fetch`] sends for these keys (for the benchmark's query plans).
pub fn batch_statements(backend: DbBackend, la_id: i64, keys: &[PartKey]) -> Vec<Statement> {
    let parts = grouped(keys);
    if parts.len() > 1 && backend == DbBackend::Postgres {
        return vec![union_of(la_id, &parts)];
    }
    parts
        .into_iter()
        .map(|(part, _, ids)| part.select(backend, la_id, ids))
        .collect()
}

/// A typed key of the request's loader: the [`Part`] it reads and the model its rows are.
pub trait Keyed: Send + Sync + 'static {
    /// The model of the rows.
    type Model: Clone + Send + Sync + 'static;
    /// The part and key to load.
    fn part(&self) -> PartKey;
}

/// Declares a key type that loads all rows of `$entity` whose `$col` (field `$field`) is one of
/// the keys, in the LA of the caller, ordered by `$order` (then id) — and, given `$fixed = $value`,
/// whose `$fixed` column holds `$value`.
#[macro_export]
macro_rules! many_loader {
    ($(#[$m:meta])* $key:ident, $entity:ident, $col:ident, $field:ident, $order:ident) => {
        $crate::many_loader!($(#[$m])* $key, $entity, $col, $field, $order, None);
    };
    ($(#[$m:meta])* $key:ident, $entity:ident, $col:ident, $field:ident, $order:ident,
     $fixed:ident = $value:expr) => {
        $crate::many_loader!($(#[$m])* $key, $entity, $col, $field, $order,
            Some((entities::$entity::Column::$fixed, $value)));
    };
    ($(#[$m:meta])* $key:ident, $entity:ident, $col:ident, $field:ident, $order:ident, $filter:expr) => {
        $(#[$m])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl $crate::loaders::Keyed for $key {
            type Model = entities::$entity::Model;
            fn part(&self) -> $crate::loaders::PartKey {
                static PART: $crate::loaders::Rows<entities::$entity::Entity> =
                    $crate::loaders::Rows {
                        column: entities::$entity::Column::$col,
                        order: entities::$entity::Column::$order,
                        la: entities::$entity::Column::LaId,
                        id: entities::$entity::Column::Id,
                        fixed: $filter,
                        key: |r| r.$field,
                    };
                $crate::loaders::PartKey::new(&PART, self.0)
            }
        }
    };
}
