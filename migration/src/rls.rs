//! SQL for PostgreSQL row-level security, shared by every migration that adds a table of LA data.

/// The role the service's login role is a member of. It owns no table.
pub const APP_ROLE: &str = "reunify_app";

/// What the application role may do with a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read, insert, update and delete rows of its tenant.
    ReadWrite,
    /// Read and insert rows of its tenant; never change or remove one.
    AppendOnly,
}

/// Creates the application role (when missing), the `reunify_tenant()` function the policies use,
/// and the schema and sequence grants.
pub fn setup_sql() -> String {
    format!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                 CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
             END IF;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
         END $$;
         CREATE OR REPLACE FUNCTION reunify_tenant() RETURNS bigint
             LANGUAGE sql STABLE PARALLEL SAFE
             AS $$ SELECT NULLIF(current_setting('reunify.la_id', true), '')::bigint $$;
         GRANT EXECUTE ON FUNCTION reunify_tenant() TO {APP_ROLE};
         GRANT USAGE ON SCHEMA public TO {APP_ROLE};
         GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};"
    )
}

/// Grants the application role `access` to `table` (and its `id` sequence) and confines every row operation to the
/// transaction's tenant: row-level security enabled and forced (so the owner is bound too).
pub fn tenant_table_sql(table: &str, access: Access) -> String {
    let grant = match access {
        Access::ReadWrite => "SELECT, INSERT, UPDATE, DELETE",
        Access::AppendOnly => "SELECT, INSERT",
    };
    format!(
        "GRANT {grant} ON {table} TO {APP_ROLE};
         GRANT USAGE, SELECT ON SEQUENCE {table}_id_seq TO {APP_ROLE};
         ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
             USING (la_id = reunify_tenant()) WITH CHECK (la_id = reunify_tenant());"
    )
}

/// Undoes [`tenant_table_sql`].
pub fn drop_tenant_table_sql(table: &str) -> String {
    format!(
        "DROP POLICY IF EXISTS tenant_isolation ON {table};
         ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
         ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
         REVOKE ALL ON {table} FROM {APP_ROLE};"
    )
}

/// On PostgreSQL, puts a new table of LA data under row-level security with `access` for the
/// application role ([`tenant_table_sql`]); nothing on SQLite, which has no roles.
pub async fn protect(
    manager: &sea_orm_migration::SchemaManager<'_>,
    table: &str,
    access: Access,
) -> Result<(), sea_orm_migration::DbErr> {
    use sea_orm_migration::sea_orm::{ConnectionTrait as _, DbBackend};
    if manager.get_database_backend() == DbBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&tenant_table_sql(table, access))
            .await?;
    }
    Ok(())
}
