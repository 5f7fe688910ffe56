//! Pieces every migration that adds a table of LA data repeats: the `la_id` foreign key, its
//! indexes, and append-only triggers on SQLite (PostgreSQL uses grants; see [`crate::rls`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// The foreign key `fk_<table>_la_id` → `local_authority(id)`, ON DELETE RESTRICT.
pub fn la_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_la_id"))
        .from(table, "la_id")
        .to("local_authority", "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// Creates the named indexes of `table`, each over its columns in order.
pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    table: &'static str,
    indexes: &[(&'static str, &[&'static str])],
) -> Result<(), DbErr> {
    for (name, cols) in indexes {
        let mut index = Index::create();
        index.name(*name).table(table);
        for col in *cols {
            index.col(*col);
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

/// On SQLite: triggers that refuse `UPDATE` and `DELETE` on `table`. Does nothing on PostgreSQL,
/// where the application role is simply granted neither.
pub async fn sqlite_append_only(
    manager: &SchemaManager<'_>,
    table: &'static str,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for op in ["UPDATE", "DELETE"] {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_{} BEFORE {op} ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
                op.to_ascii_lowercase()
            ))
            .await?;
    }
    Ok(())
}
