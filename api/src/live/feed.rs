//! The shared feed of recent events, per LA: one read of the table per LA per notice serves every
//! subscriber of that LA, instead of one read (and one transaction) per subscriber. It is filled
//! only through tenant transactions of the LA and served only to subscribers of the same LA.
//! Subscribers behind what it holds (a replay) read the table directly.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entities::{case_event, reunification_case as case};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db;
use crate::error::ApiResult;

/// Events kept per LA.
const KEEP: usize = 10_000;
/// Rows read per refresh.
const READ: u64 = 1_000;
/// A wake-up without a newer notice refreshes at most this often.
const IDLE_REFRESH: Duration = Duration::from_secs(1);

/// What the feed holds for one LA: every event with `floor < id ≤ known_to`.
struct LaFeed {
    events: VecDeque<Arc<case_event::Model>>,
    floor: i64,
    known_to: i64,
    refreshed: Instant,
}

/// Recent events of every LA with subscribers in this process.
pub struct Feed {
    db: DatabaseConnection,
    statement_timeout: Duration,
    las: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Option<LaFeed>>>>>,
}

impl Feed {
    /// An empty feed over the pool.
    pub fn new(db: DatabaseConnection, statement_timeout: Duration) -> Self {
        Self {
            db,
            statement_timeout,
            las: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, la: i64) -> Arc<tokio::sync::Mutex<Option<LaFeed>>> {
        match self.las.lock() {
            Ok(mut las) => las.entry(la).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// Reads events of `la` after `after` from the table, in a tenant transaction.
    async fn read(&self, la: i64, after: i64, limit: u64) -> ApiResult<Vec<case_event::Model>> {
        let txn = db::begin_tenant_read(&self.db, la, self.statement_timeout).await?;
        let rows = case_event::Entity::find()
            .filter(case_event::Column::LaId.eq(la))
            .filter(case_event::Column::Id.gt(after))
            .order_by_asc(case_event::Column::Id)
            .limit(limit)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(rows)
    }

    async fn head(&self, la: i64) -> ApiResult<i64> {
        let txn = db::begin_tenant_read(&self.db, la, self.statement_timeout).await?;
        let head: Option<i64> = case_event::Entity::find()
            .select_only()
            .column_as(case_event::Column::Id.max(), "head")
            .filter(case_event::Column::LaId.eq(la))
            .into_tuple::<Option<i64>>()
            .one(&txn)
            .await?
            .flatten();
        txn.commit().await?;
        Ok(head.unwrap_or(0))
    }

    /// The LA's latest position, as of now.
    pub async fn latest(&self, la: i64) -> ApiResult<i64> {
        let (_, _, known) = self.after(la, i64::MAX, i64::MAX, 0).await?;
        Ok(known)
    }

    /// Up to `limit` events of `la` after `after`, oldest first, whether more follow, and the
    /// latest position known. `target` is the newest position the caller has been told of: the
    /// feed reads the table when it knows less (and, without one, at most once a second).
    pub async fn after(
        &self,
        la: i64,
        after: i64,
        target: i64,
        limit: usize,
    ) -> ApiResult<(Vec<Arc<case_event::Model>>, bool, i64)> {
        let slot = self.slot(la);
        let mut guard = slot.lock().await;
        let feed = match guard.as_mut() {
            Some(f) => f,
            None => {
                let head = self.head(la).await?;
                guard.insert(LaFeed {
                    events: VecDeque::new(),
                    floor: head,
                    known_to: head,
                    refreshed: Instant::now(),
                })
            }
        };
        let stale = feed.known_to < target
            || (after >= feed.known_to && feed.refreshed.elapsed() >= IDLE_REFRESH);
        if stale {
            loop {
                let rows = self.read(la, feed.known_to, READ).await?;
                let full = rows.len() as u64 == READ;
                if let Some(last) = rows.last() {
                    feed.known_to = last.id;
                }
                feed.events.extend(rows.into_iter().map(Arc::new));
                while feed.events.len() > KEEP {
                    if let Some(old) = feed.events.pop_front() {
                        feed.floor = old.id;
                    }
                }
                if !full {
                    break;
                }
            }
            feed.refreshed = Instant::now();
        }
        let known = feed.known_to;
        if after < feed.floor {
            // Older than what is held: a replay reads the table itself.
            drop(guard);
            let rows = self.read(la, after, limit as u64 + 1).await?;
            let more = rows.len() > limit;
            let rows = rows.into_iter().take(limit).map(Arc::new).collect();
            return Ok((rows, more, known));
        }
        let start = feed.events.partition_point(|e| e.id <= after);
        let rows: Vec<_> = feed
            .events
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect();
        let more = feed.events.len() - start > limit;
        Ok((rows, more, known))
    }

    /// The team of each of the cases, as it stands (for the `teams` filter).
    pub async fn teams(&self, la: i64, cases: Vec<i64>) -> ApiResult<HashMap<i64, Option<String>>> {
        if cases.is_empty() {
            return Ok(HashMap::new());
        }
        let txn = db::begin_tenant_read(&self.db, la, self.statement_timeout).await?;
        let teams = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .column(case::Column::Team)
            .filter(case::Column::LaId.eq(la))
            .filter(case::Column::Id.is_in(cases))
            .into_tuple::<(i64, Option<String>)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        txn.commit().await?;
        Ok(teams)
    }
}
