//! What a subscription reads on each wake-up: the events after its cursor, or whether its case
//! changed, from the LA's shared [`Feed`] (filled through tenant transactions of that LA only, so
//! LA isolation and row-level security apply exactly as for queries).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use entities::case_event;

use super::feed::Feed;
use crate::audit::acting::Acting;
use crate::domain::EventType;
use crate::error::ApiResult;

/// Events read per wake-up; a full batch means more wait and the subscription reads again at once.
pub const BATCH: usize = 200;

/// Where a subscription stands: the last position it has looked at (delivered or filtered out).
#[derive(Debug, Default)]
pub struct Cursor {
    started: AtomicBool,
    after: AtomicI64,
    target: AtomicI64,
    more: AtomicBool,
}

impl Cursor {
    /// The last position looked at.
    pub fn after(&self) -> i64 {
        self.after.load(Ordering::SeqCst)
    }

    /// The newest position the subscription has been told of.
    pub fn target(&self) -> i64 {
        self.target.load(Ordering::SeqCst)
    }

    /// Notes a newer position the subscription has been told of.
    pub fn aim(&self, position: i64) {
        self.target.fetch_max(position, Ordering::SeqCst);
    }

    /// Whether a full batch was read (more may wait).
    pub fn more(&self) -> bool {
        self.more.load(Ordering::SeqCst)
    }

    /// Whether the subscription has not started yet (its first wake-up).
    pub fn is_new(&self) -> bool {
        !self.started.load(Ordering::SeqCst)
    }

    /// On the first wake-up only: starts the cursor at `at` (the first read then asks the feed
    /// for everything committed so far) and returns true.
    pub fn start(&self, at: i64) -> bool {
        if self.started.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.after.store(at, Ordering::SeqCst);
        self.target.store(i64::MAX, Ordering::SeqCst);
        true
    }

    /// After a read: nothing newer than `latest` is owed.
    fn settle(&self, latest: i64) {
        self.target.fetch_min(latest, Ordering::SeqCst);
    }
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
    feed: &Feed,
    actor: &Acting,
    filter: &EventFilter,
    cursor: &Cursor,
) -> ApiResult<Vec<Arc<case_event::Model>>> {
    let (mut rows, more, latest) = feed
        .after(actor.la_id, cursor.after(), cursor.target(), BATCH)
        .await?;
    cursor.settle(latest);
    cursor.more.store(more, Ordering::SeqCst);
    if let Some(last) = rows.last() {
        cursor.after.store(last.id, Ordering::SeqCst);
    }
    let teams = if filter.teams.is_empty() {
        HashMap::new()
    } else {
        let ids = rows.iter().filter_map(|e| e.case_id).collect();
        feed.teams(actor.la_id, ids).await?
    };
    rows.retain(|e| {
        (filter.case_ids.is_empty() || e.case_id.is_some_and(|c| filter.case_ids.contains(&c)))
            && (filter.types.is_empty() || filter.types.contains(&e.event_type))
            && (filter.teams.is_empty()
                || e.case_id
                    .and_then(|c| teams.get(&c).cloned().flatten())
                    .is_some_and(|t| filter.teams.contains(&t)))
    });
    Ok(rows)
}

/// Whether the case has events after the cursor; moves the cursor to the latest position.
pub async fn case_changed(
    feed: &Feed,
    actor: &Acting,
    case_id: i64,
    cursor: &Cursor,
) -> ApiResult<bool> {
    let mut changed = false;
    loop {
        let (rows, more, latest) = feed
            .after(actor.la_id, cursor.after(), cursor.target(), BATCH)
            .await?;
        cursor.settle(latest);
        changed |= rows.iter().any(|e| e.case_id == Some(case_id));
        let next = rows.last().map_or(latest, |e| e.id);
        cursor
            .after
            .store(next.max(cursor.after()), Ordering::SeqCst);
        if !more {
            return Ok(changed);
        }
    }
}
