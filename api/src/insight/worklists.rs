//! Worklists: what is due or overdue on the LA's cases, most urgent first. What is due on a
//! case is the framework's to say ([`crate::framework::due`]); this loads the cases' snapshots
//! (the active ones, and the closed ones whose follow-ups may be open) and keeps what the
//! filter asks for.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use entities::reunification_case as case;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::audit::acting::Acting;
use crate::domain::CaseStatus;
use crate::error::ApiResult;
pub use crate::framework::due::WorkItemKind;
use crate::framework::{due, snapshot};
use crate::tenancy::service::LaSettings;

/// One thing due on a case.
#[derive(Debug, Clone)]
pub struct WorkItem {
    /// What.
    pub kind: WorkItemKind,
    /// When.
    pub due_on: NaiveDate,
    /// The case.
    pub case: case::Model,
    /// The record it concerns (`(table, id)`), if any.
    pub record: Option<(&'static str, i64)>,
}

impl WorkItem {
    /// The sort key, which is also the cursor: due date, then kind, then case and record.
    pub fn key(&self) -> String {
        format!(
            "{}|{:02}|{:019}|{:019}",
            self.due_on,
            self.kind as u8,
            self.case.id,
            self.record.map_or(0, |r| r.1)
        )
    }
}

/// Which items.
#[derive(Debug, Clone, Default)]
pub struct WorklistFilter {
    /// Cases allocated to these workers (actor row ids).
    pub workers: Option<Vec<i64>>,
    /// Cases of these teams.
    pub teams: Option<Vec<String>>,
    /// These kinds only.
    pub kinds: Option<Vec<WorkItemKind>>,
    /// Items due on or before this date.
    pub due_by: NaiveDate,
}

/// Closed cases whose follow-ups the worklist still shows: closed within this many days.
const FOLLOW_UP_DAYS: i64 = 730;

/// Cases loaded at once.
const CHUNK: usize = 200;

/// The items of the caller's LA due by `filter.due_by`, most urgent (earliest due) first.
pub async fn worklist(
    db: &impl ConnectionTrait,
    actor: &Acting,
    filter: &WorklistFilter,
    settings: &LaSettings,
) -> ApiResult<Vec<WorkItem>> {
    let la = actor.la_id;
    let today = crate::cases::service::today();
    let mut query = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::LaId.eq(la))
        .filter(
            Condition::any()
                .add(case::Column::Status.eq(CaseStatus::Active))
                .add(case::Column::ClosedOn.gte(today - Duration::days(FOLLOW_UP_DAYS))),
        );
    if let Some(workers) = &filter.workers {
        query = query.filter(case::Column::WorkerId.is_in(workers.iter().copied()));
    }
    if let Some(teams) = &filter.teams {
        query = query.filter(case::Column::Team.is_in(teams.iter().cloned()));
    }
    let ids: Vec<i64> = query.into_tuple::<i64>().all(db).await?;
    let wanted: Option<BTreeSet<WorkItemKind>> =
        filter.kinds.as_ref().map(|k| k.iter().copied().collect());
    let mut items = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        for s in snapshot::load_many(db, la, chunk, settings).await? {
            for d in due::items(&s)? {
                if d.due_on <= filter.due_by && wanted.as_ref().is_none_or(|w| w.contains(&d.kind))
                {
                    items.push(WorkItem {
                        kind: d.kind,
                        due_on: d.due_on,
                        case: s.case.clone(),
                        record: d.record,
                    });
                }
            }
        }
    }
    items.sort_by_cached_key(WorkItem::key);
    Ok(items)
}
