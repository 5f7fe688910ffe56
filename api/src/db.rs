//! Database access: the pool, and the tenant transaction every request of an LA runs in.
//!
//! On PostgreSQL each table that holds LA data has row-level security enabled and forced: a row is
//! visible, and may be written, only when its `la_id` equals the transaction's tenant, which
//! [`begin_tenant`] sets with `set_config('reunify.la_id', …, true)`. No tenant set means no rows.
//! On SQLite (single LA, development) the application's own `la_id` filters are the only guard.

use std::time::Duration;

use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, PrimaryKeyTrait, QueryFilter as _, RuntimeErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

/// What a service needs of a database handle: statements and (nested) transactions. Implemented
/// by the pool, a transaction and a savepoint alike.
pub trait Db: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> + Sync {}

impl<T: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction> + Sync> Db for T {}

/// The PostgreSQL setting that names the tenant (the LA's row id) of the current transaction.
pub const TENANT_SETTING: &str = "reunify.la_id";

/// Begins a transaction for one LA. On PostgreSQL it sets the tenant and the statement timeout for
/// this transaction only; on SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
/// concurrent requests queue instead of failing when one of them later writes.
pub async fn begin_tenant(
    pool: &DatabaseConnection,
    la_id: i64,
    statement_timeout: Duration,
) -> Result<DatabaseTransaction, DbErr> {
    match pool.get_database_backend() {
        DbBackend::Sqlite => {
            pool.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
        }
        _ => {
            let txn = pool.begin().await?;
            set_tenant(&txn, la_id, Some(statement_timeout)).await?;
            Ok(txn)
        }
    }
}

/// Begins a transaction for one LA that only reads: on SQLite a deferred one (it takes no lock and
/// never waits for writers); on PostgreSQL as [`begin_tenant`].
pub async fn begin_tenant_read(
    pool: &DatabaseConnection,
    la_id: i64,
    statement_timeout: Duration,
) -> Result<DatabaseTransaction, DbErr> {
    match pool.get_database_backend() {
        DbBackend::Sqlite => pool.begin().await,
        _ => begin_tenant(pool, la_id, statement_timeout).await,
    }
}

/// Sets the tenant (and optionally the statement timeout) of the current transaction on
/// PostgreSQL; does nothing on SQLite.
///
/// It also asks for generic plans of the transaction's prepared statements. Every statement the
/// service sends is keyed by its LA and record ids, for which one plan is right whatever the
/// values; left to choose, PostgreSQL kept planning them afresh on every execution (a fifth of its
/// CPU under `goalReview` in `perf`), and forcing the generic plan took 22–25% off the database's
/// CPU per mutation and 10–17% per `case(id)` (bench/README.md).
///
/// And it prices a random page read as what it is for a working set in memory (`random_page_cost`
/// 1.1, the usual setting for SSDs, where PostgreSQL's default of 4 assumes spinning disks). A
/// generic plan cannot see how many ids a loader's `= ANY($n)` holds, and at the default it chose
/// sequential scans of whole tables for one case's rows: 16 of them in `case(id)`'s batch, which
/// took 1.2 ms; priced so, it uses the indexes and takes 0.43 ms (bench/README.md, issue 21).
pub async fn set_tenant(
    txn: &impl ConnectionTrait,
    la_id: i64,
    statement_timeout: Option<Duration>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    if backend == DbBackend::Sqlite {
        return Ok(());
    }
    let timeout = statement_timeout.map(|t| t.as_millis().to_string());
    txn.query_one_raw(Statement::from_sql_and_values(
        backend,
        "SELECT set_config($1, $2, true), set_config('plan_cache_mode', 'force_generic_plan', true), \
         set_config('random_page_cost', '1.1', true), CASE WHEN $3::text IS NULL THEN NULL ELSE set_config('statement_timeout', $3, true) END",
        [
            TENANT_SETTING.into(),
            la_id.to_string().into(),
            timeout.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Whether a database error is a wait that ran out: PostgreSQL's statement timeout (SQLSTATE
/// 57014) or SQLite's busy timeout (the database stayed locked).
pub fn is_timeout(e: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = e else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| matches!(code.as_ref(), "57014" | "5" | "517"))
}

/// The row of `E` (a table with `id` and `la_id`) with this id in the LA; `None` when there is
/// none, or it is another LA's (which looks the same).
pub async fn find_in_la<E>(
    db: &impl ConnectionTrait,
    la_id: i64,
    id: i64,
) -> crate::error::ApiResult<Option<E::Model>>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let Ok(la) = <E::Column as std::str::FromStr>::from_str("la_id") else {
        return Err(crate::error::ApiError::internal("a table without la_id"));
    };
    Ok(E::find_by_id(id).filter(la.eq(la_id)).one(db).await?)
}

/// The advisory lock every instance takes for its start-up writes (migrations, the development
/// key, the demo LA). Advisory lock keys are per database; this one is "reunify" in ASCII.
pub const STARTUP_LOCK: i64 = 0x0072_6575_6e69_6679;

/// Held while an instance does what must happen once however many start together — migrations,
/// the development key, the demo LA — so replicas, the migration Job and `reunify token` can start
/// at the same moment on one PostgreSQL database: the first does the work, the others wait and
/// then find it done. A session-level advisory lock on a connection of its own, so it is released
/// with [`StartupLock::release`], or by PostgreSQL when the process dies. On SQLite (one instance)
/// there is nothing to take.
pub struct StartupLock {
    held: Option<(
        DatabaseConnection,
        sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>,
    )>,
}

impl StartupLock {
    /// Takes the lock on the database at `url`, waiting for another instance that holds it.
    pub async fn acquire(url: &str, variable: &str) -> anyhow::Result<Self> {
        if !url.starts_with("postgres") {
            return Ok(Self { held: None });
        }
        let mut options = sea_orm::ConnectOptions::new(url.to_owned());
        options
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let pool = sea_orm::Database::connect(options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {variable}: {e}"))?;
        let mut conn = pool
            .get_postgres_connection_pool()
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {variable}: {e}"))?;
        let taken: bool = sea_orm::sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(STARTUP_LOCK)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("taking the start-up lock: {e}"))?;
        if !taken {
            tracing::info!("another instance is starting on this database; waiting for it");
            sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(STARTUP_LOCK)
                .execute(&mut *conn)
                .await
                .map_err(|e| anyhow::anyhow!("taking the start-up lock: {e}"))?;
        }
        Ok(Self {
            held: Some((pool, conn)),
        })
    }

    /// Lets the next instance go on.
    pub async fn release(self) -> anyhow::Result<()> {
        let Some((pool, mut conn)) = self.held else {
            return Ok(());
        };
        sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(STARTUP_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("releasing the start-up lock: {e}"))?;
        drop(conn);
        pool.close()
            .await
            .map_err(|e| anyhow::anyhow!("closing the start-up lock's connection: {e}"))
    }
}
