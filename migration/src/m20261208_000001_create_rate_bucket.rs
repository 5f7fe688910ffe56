//! `rate_bucket`: the rate limit's buckets, shared by every instance on one PostgreSQL database,
//! so a caller gets the configured limit once, not once per replica.
//!
//! A row per caller who has spent points lately: what its bucket held (`tokens`) when it was last
//! drawn on (`refreshed_at`). The caller is a SHA-256 of the limiter's key (LA and client, or an
//! anonymous address), never the key itself. An instance draws a few points at a time through
//! `reunify_rate_take(caller, burst, per_second, want)` — one statement that refills the bucket by
//! the time passed, grants what it holds up to `want`, and says what is left — and spends them
//! locally, so a request costs a round trip only when its instance's share runs out. The table
//! is `UNLOGGED`: a bucket is worth seconds, writes to it cost no WAL, and a crash leaves it empty
//! (every caller's bucket full), which is what a restart gives a single instance too. Rows of
//! buckets that are full again are deleted by every instance's sweeper.
//!
//! SQLite (one instance) has the same table, unused: its limiter is in memory.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "rate_bucket";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(big_pk_auto("id"))
                    .col(string_len("caller", 64).unique_key())
                    .col(double("tokens"))
                    .col(timestamp_with_time_zone("refreshed_at"))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE rate_bucket SET UNLOGGED;
                 CREATE FUNCTION reunify_rate_take(
                     p_caller text, p_burst double precision, p_per_second double precision,
                     p_want integer, OUT granted integer, OUT left_over double precision)
                     LANGUAGE plpgsql AS $$
                 DECLARE
                     held double precision;
                 BEGIN
                     SELECT LEAST(p_burst, tokens + GREATEST(0, EXTRACT(EPOCH FROM
                                clock_timestamp() - refreshed_at)) * p_per_second)
                         INTO held FROM rate_bucket WHERE caller = p_caller FOR UPDATE;
                     IF NOT FOUND THEN
                         INSERT INTO rate_bucket (caller, tokens, refreshed_at)
                             VALUES (p_caller, p_burst, clock_timestamp())
                             ON CONFLICT (caller) DO NOTHING;
                         SELECT LEAST(p_burst, tokens + GREATEST(0, EXTRACT(EPOCH FROM
                                    clock_timestamp() - refreshed_at)) * p_per_second)
                             INTO held FROM rate_bucket WHERE caller = p_caller FOR UPDATE;
                     END IF;
                     granted := GREATEST(0, LEAST(p_want, FLOOR(held)))::integer;
                     left_over := held - granted;
                     UPDATE rate_bucket SET tokens = left_over, refreshed_at = clock_timestamp()
                         WHERE caller = p_caller;
                 END $$;
                 GRANT SELECT, INSERT, UPDATE, DELETE ON rate_bucket TO {role};
                 GRANT USAGE, SELECT ON SEQUENCE rate_bucket_id_seq TO {role};
                 GRANT EXECUTE ON FUNCTION
                     reunify_rate_take(text, double precision, double precision, integer)
                     TO {role};",
                role = crate::rls::APP_ROLE
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "DROP FUNCTION IF EXISTS reunify_rate_take(text, double precision, double precision, integer)",
            )
            .await?;
        }
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
