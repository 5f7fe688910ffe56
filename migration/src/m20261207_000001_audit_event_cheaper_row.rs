//! A cheaper audit row on PostgreSQL, where every read writes one per record it returns (a page of
//! 50 cases, 50 rows): the row no longer checks its LA by foreign key, and the time index is a
//! BRIN over `occurred_at` instead of a B-tree over `(la_id, occurred_at)`.
//!
//! - The foreign key ran a trigger for every row inserted, and each of them locked the LA's row
//!   (`FOR KEY SHARE`): every reading request of an LA queued its transaction on that one row
//!   (a multixact once two overlapped), and wrote WAL for it, though a read changes nothing. An
//!   audit row's LA is the caller's, set by the server from the verified token and held to the
//!   transaction's tenant by row-level security (`WITH CHECK`); an LA is never deleted.
//! - The trail is appended in time order, so a block range index answers a time window as well as
//!   a B-tree (every query is also held to one LA, by its `(la_id, id)` index and row-level
//!   security) and costs next to nothing per row.
//!
//! Measured with `pgbench` on an `audit_event`-shaped table, 50 rows per transaction, 8 clients:
//! foreign key and six indexes 743–1,035 transactions/s, without the foreign key 1,189–1,226, with
//! the BRIN as well see bench/README.md. SQLite (development, one LA, one writer) is unchanged.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE audit_event DROP CONSTRAINT IF EXISTS fk_audit_event_la_id;
                 DROP INDEX IF EXISTS ix_audit_event_la_id_occurred_at;
                 CREATE INDEX IF NOT EXISTS ix_audit_event_occurred_at_brin
                     ON audit_event USING brin (occurred_at);",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "DROP INDEX IF EXISTS ix_audit_event_occurred_at_brin;
                 CREATE INDEX IF NOT EXISTS ix_audit_event_la_id_occurred_at
                     ON audit_event (la_id, occurred_at);
                 ALTER TABLE audit_event ADD CONSTRAINT fk_audit_event_la_id
                     FOREIGN KEY (la_id) REFERENCES local_authority (id) ON DELETE RESTRICT;",
            )
            .await?;
        Ok(())
    }
}
