//! Storing a request's events, and reading the log.

use std::collections::HashMap;

use chrono::Utc;
use entities::{case_event, reunification_case as case};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};

use super::PendingEvent;
use crate::audit::acting::Acting;
use crate::db::Db;
use crate::error::ApiResult;
use crate::ids::CaseId;
use crate::pagination::{Page, page_by_id};

/// The PostgreSQL `NOTIFY` channel: each committed batch of events sends `<la id>:<position>`.
pub const CHANNEL: &str = "reunify_events";

/// Stores a request's events in its transaction and returns the rows written, in position order
/// (see [`crate::unit::Unit::finish`], the one caller outside tests). On PostgreSQL a per-LA
/// transaction lock is taken first and held to commit, so an LA's events commit in position order
/// (a reader of "after P" never misses a later-committing lower position), and a `NOTIFY`
/// carrying only the position is sent at commit. Called just before the request commits, after
/// every other write, so the lock is held for the commit alone.
pub async fn store(
    db: &impl ConnectionTrait,
    actor: &Acting,
    pending: Vec<PendingEvent>,
) -> ApiResult<Vec<case_event::Model>> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext('reunify.case_event'), $1::int)",
            [actor.la_id.into()],
        ))
        .await?;
    }
    // Records of a case name the case only: the child comes from the case.
    let cases: Vec<i64> = pending
        .iter()
        .filter(|e| e.record.child_id.is_none())
        .filter_map(|e| e.record.case_id)
        .collect();
    let children: HashMap<i64, i64> = if cases.is_empty() {
        HashMap::new()
    } else {
        case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .column(case::Column::ChildId)
            .filter(case::Column::LaId.eq(actor.la_id))
            .filter(case::Column::Id.is_in(cases))
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let now = Utc::now();
    let rows: Vec<case_event::ActiveModel> = pending
        .into_iter()
        .map(|e| case_event::ActiveModel {
            la_id: Set(actor.la_id),
            case_id: Set(e.record.case_id),
            child_id: Set(e
                .record
                .child_id
                .or_else(|| e.record.case_id.and_then(|c| children.get(&c).copied()))),
            event_type: Set(e.event_type),
            record_type: Set(e.record.kind),
            record_id: Set(e.record.id),
            fields: Set((!e.fields.is_empty()).then(|| e.fields.join(","))),
            actor_id: Set(Some(actor.actor_id)),
            operation: Set(e.operation.chars().take(100).collect()),
            occurred_at: Set(now),
            request_id: Set(actor.trail.request_id.clone()),
            ..Default::default()
        })
        .collect();
    // On PostgreSQL the rows come back from the insert itself; on SQLite (no round trips to
    // save) what is past the LA's last position before the insert is ours, as nobody else
    // writes while the request holds the database's write lock.
    let written = if postgres {
        let mut written = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(500) {
            written.extend(
                case_event::Entity::insert_many(chunk.to_vec())
                    .exec_with_returning(db)
                    .await?,
            );
        }
        written.sort_by_key(|e| e.id);
        written
    } else {
        let before = case_event::Entity::find()
            .select_only()
            .column_as(case_event::Column::Id.max(), "last")
            .filter(case_event::Column::LaId.eq(actor.la_id))
            .into_tuple::<Option<i64>>()
            .one(db)
            .await?
            .flatten()
            .unwrap_or(0);
        for chunk in rows.chunks(500) {
            case_event::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await?;
        }
        case_event::Entity::find()
            .filter(case_event::Column::LaId.eq(actor.la_id))
            .filter(case_event::Column::Id.gt(before))
            .order_by_asc(case_event::Column::Id)
            .all(db)
            .await?
    };
    if postgres && let Some(position) = written.last().map(|e| e.id) {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), format!("{}:{position}", actor.la_id).into()],
        ))
        .await?;
    }
    Ok(written)
}

/// A page of one case's events, oldest first; `(rows, total, more)`.
pub async fn for_case(
    db: &impl Db,
    actor: &Acting,
    case: CaseId,
    page: &Page,
) -> ApiResult<(Vec<case_event::Model>, i64, bool)> {
    let query = case_event::Entity::find()
        .filter(case_event::Column::LaId.eq(actor.la_id))
        .filter(case_event::Column::CaseId.eq(case.0));
    let total = query.clone().count(db).await? as i64;
    let (rows, more) = page_by_id(db, query, case_event::Column::Id, page, false).await?;
    Ok((rows, total, more))
}
