//! What a subscription reads on each wake-up: the events after its cursor, or whether its case
//! changed. Runs in the subscription's tenant transaction of that wake-up, so LA isolation and
//! row-level security apply exactly as for queries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use entities::{case_event, reunification_case as case};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::auth::Actor;
use crate::db::Db;
use crate::domain::EventType;
use crate::error::ApiResult;

/// Events read per wake-up; a full batch means more wait and the subscription reads again at once.
pub const BATCH: u64 = 200;

/// Where a subscription stands: the last position it has looked at (delivered or filtered out).
#[derive(Debug, Default)]
pub struct Cursor {
    started: AtomicBool,
    after: AtomicI64,
    more: AtomicBool,
}

impl Cursor {
    /// The last position looked at.
    pub fn after(&self) -> i64 {
        self.after.load(Ordering::SeqCst)
    }

    /// Whether a full batch was read (more may wait).
    pub fn more(&self) -> bool {
        self.more.load(Ordering::SeqCst)
    }

    /// On the first wake-up only: starts the cursor at `at` and returns true.
    pub fn start(&self, at: i64) -> bool {
        if self.started.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.after.store(at, Ordering::SeqCst);
        true
    }
}

/// The LA's latest position (0 before its first event).
pub async fn head(db: &impl Db, actor: &Actor) -> ApiResult<i64> {
    Ok(case_event::Entity::find()
        .select_only()
        .column_as(case_event::Column::Id.max(), "head")
        .filter(case_event::Column::LaId.eq(actor.la_id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// Which events a subscriber wants; empty lists mean "all".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only these cases.
    pub case_ids: Vec<i64>,
    /// Only these kinds of event.
    pub types: Vec<EventType>,
    /// Only cases of these teams (as the case stands when the event is read).
    pub teams: Vec<String>,
}

/// The next events after the cursor that pass the filter, oldest first; moves the cursor past
/// everything read.
pub async fn next_events(
    db: &impl Db,
    actor: &Actor,
    filter: &EventFilter,
    cursor: &Cursor,
) -> ApiResult<Vec<case_event::Model>> {
    let mut rows = case_event::Entity::find()
        .filter(case_event::Column::LaId.eq(actor.la_id))
        .filter(case_event::Column::Id.gt(cursor.after()))
        .order_by_asc(case_event::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    cursor
        .more
        .store(rows.len() as u64 == BATCH, Ordering::SeqCst);
    if let Some(last) = rows.last() {
        cursor.after.store(last.id, Ordering::SeqCst);
    }
    let teams: HashMap<i64, Option<String>> = if filter.teams.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<i64> = rows.iter().filter_map(|e| e.case_id).collect();
        case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .column(case::Column::Team)
            .filter(case::Column::LaId.eq(actor.la_id))
            .filter(case::Column::Id.is_in(ids))
            .into_tuple::<(i64, Option<String>)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    rows.retain(|e| {
        (filter.case_ids.is_empty() || e.case_id.is_some_and(|c| filter.case_ids.contains(&c)))
            && (filter.types.is_empty() || filter.types.iter().any(|t| t.as_str() == e.event_type))
            && (filter.teams.is_empty()
                || e.case_id
                    .and_then(|c| teams.get(&c).cloned().flatten())
                    .is_some_and(|t| filter.teams.contains(&t)))
    });
    Ok(rows)
}

/// Whether the case has events after the cursor; moves the cursor to the LA's head.
pub async fn case_changed(
    db: &impl Db,
    actor: &Actor,
    case_id: i64,
    cursor: &Cursor,
) -> ApiResult<bool> {
    let after = cursor.after();
    let head = head(db, actor).await?;
    if head <= after {
        return Ok(false);
    }
    let changed = case_event::Entity::find()
        .filter(case_event::Column::LaId.eq(actor.la_id))
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Id.gt(after))
        .filter(case_event::Column::Id.lte(head))
        .count(db)
        .await?
        > 0;
    cursor.after.store(head, Ordering::SeqCst);
    Ok(changed)
}
