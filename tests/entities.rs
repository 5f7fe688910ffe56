//! The entities are written by hand (each with its documentation, and the typed columns the
//! issue of typed storage asks for), so this test holds them to the migrations: on a freshly
//! migrated database — SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set — every table has
//! exactly its `Model`'s columns, each of the same kind and nullability, and every table but the
//! migrations' own bookkeeping has an entity.

use std::collections::BTreeMap;

use sea_orm::{
    ColumnTrait as _, ColumnType, ConnectionTrait, DbBackend, EntityTrait, IdenStatic as _,
    Iterable as _, Statement,
};

use crate::support::TestApp;

/// A column as the `Model` declares it or the database holds it: (kind, nullable).
type Columns = BTreeMap<String, (&'static str, bool)>;

/// The kind of a column type, as far as both backends can tell kinds apart.
fn kind_of_model(t: &ColumnType) -> &'static str {
    match t {
        ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => "int",
        ColumnType::BigInteger => "bigint",
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => "text",
        ColumnType::Boolean => "bool",
        ColumnType::Date => "date",
        ColumnType::DateTime | ColumnType::Timestamp | ColumnType::TimestampWithTimeZone => {
            "timestamp"
        }
        ColumnType::Json | ColumnType::JsonBinary => "json",
        ColumnType::Float | ColumnType::Double | ColumnType::Decimal(_) => "float",
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => "bytes",
        other => panic!("a column type this test does not know: {other:?}"),
    }
}

/// The kind of a column as the database reports its type.
fn kind_of_database(backend: DbBackend, ty: &str) -> &'static str {
    let ty = ty.to_ascii_lowercase();
    let t = ty.as_str();
    match (backend, t) {
        (_, "integer" | "int" | "int4" | "smallint") => "int",
        (_, "bigint" | "int8") => "bigint",
        (_, "text" | "character varying" | "character") => "text",
        (DbBackend::Sqlite, t) if t.starts_with("varchar") || t.starts_with("char") => "text",
        (_, "boolean" | "bool") => "bool",
        (_, "date" | "date_text") => "date",
        (_, "timestamp with time zone" | "timestamp without time zone") => "timestamp",
        (
            DbBackend::Sqlite,
            "timestamp_with_timezone_text" | "timestamp_text" | "datetime_text",
        ) => "timestamp",
        (_, "jsonb" | "json" | "json_text" | "jsonb_text") => "json",
        (_, "double precision" | "real" | "double" | "float" | "numeric") => "float",
        (_, "bytea" | "blob") => "bytes",
        (_, other) => panic!("a database type this test does not know: {other}"),
    }
}

fn model_columns<E: EntityTrait + Default>() -> (String, Columns) {
    let table = E::default().table_name().to_owned();
    let columns = E::Column::iter()
        .map(|c| {
            let def = c.def();
            (
                c.as_str().to_owned(),
                (kind_of_model(def.get_column_type()), def.is_null()),
            )
        })
        .collect();
    (table, columns)
}

async fn database_columns(db: &impl ConnectionTrait, table: &str) -> Columns {
    let backend = db.get_database_backend();
    let sql = match backend {
        // name, type, not null, primary key
        DbBackend::Sqlite => {
            format!("SELECT name, type, \"notnull\" OR pk FROM pragma_table_info('{table}')")
        }
        _ => format!(
            "SELECT column_name::text, data_type::text, is_nullable = 'NO' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let name: String = r.try_get_by_index(0).unwrap();
            let ty: String = r.try_get_by_index(1).unwrap();
            let not_null: bool = r.try_get_by_index(2).unwrap();
            (name, (kind_of_database(backend, &ty), !not_null))
        })
        .collect()
}

async fn tables(db: &impl ConnectionTrait) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name::text FROM information_schema.tables \
              WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

macro_rules! models {
    ($($m:ident),+ $(,)?) => {
        vec![$(model_columns::<entities::$m::Entity>()),+]
    };
}

#[tokio::test]
async fn every_entity_matches_its_migrated_table() {
    let app = TestApp::spawn().await;
    let models = models!(
        actor,
        agreement_party,
        assessment_factor,
        audit_event,
        care_episode,
        case_event,
        case_fact,
        checklist_item,
        checklist_template_item,
        child,
        child_view,
        decision,
        development_key,
        external_identifier,
        goal,
        goal_review,
        goal_revision,
        household_member,
        idempotency_key,
        local_authority,
        outcome,
        parental_agreement,
        rate_bucket,
        reunification_case,
        review,
        risk_classification,
        stage_progress,
        support_plan,
        support_service,
        visit,
        webhook,
        webhook_delivery,
    );
    let mut problems = Vec::new();
    for (table, model) in &models {
        let database = database_columns(&app.db, table).await;
        if database.is_empty() {
            problems.push(format!("{table}: no such table"));
            continue;
        }
        for (name, (kind, nullable)) in model {
            match database.get(name) {
                None => problems.push(format!("{table}.{name}: in the Model, not in the table")),
                Some(found) => {
                    // SQLite cannot tell a 32-bit integer from a 64-bit one.
                    let same_kind = found.0 == *kind
                        || (!app.postgres
                            && ["int", "bigint"].contains(&found.0)
                            && ["int", "bigint"].contains(kind));
                    if !same_kind || found.1 != *nullable {
                        problems.push(format!(
                            "{table}.{name}: Model {kind}{}, table {}{}",
                            if *nullable { " NULL" } else { "" },
                            found.0,
                            if found.1 { " NULL" } else { "" },
                        ));
                    }
                }
            }
        }
        for name in database.keys().filter(|n| !model.contains_key(*n)) {
            problems.push(format!("{table}.{name}: in the table, not in the Model"));
        }
    }
    let known: Vec<&str> = models.iter().map(|(t, _)| t.as_str()).collect();
    for table in tables(&app.db).await {
        if table != "seaql_migrations" && !known.contains(&table.as_str()) {
            problems.push(format!("{table}: a table without an entity"));
        }
    }
    assert!(
        problems.is_empty(),
        "the entities and the migrations disagree ({}):\n{}",
        if app.postgres { "PostgreSQL" } else { "SQLite" },
        problems.join("\n")
    );
    assert_eq!(models.len(), 32);
}
