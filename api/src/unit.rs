//! The unit of work: one tenant transaction for a request (or one batch of an upload), and the
//! invariant the product rests on — *the change, its audit rows, its events and what is projected
//! from them commit together; then, and only then, subscribers are told*. [`Unit::finish`] is the
//! one place that writes a request's audit trail and events: every writer (the GraphQL request,
//! a subscription's reads, an export's gate, an upload's batches, the demo seed) goes through it.
//!
//! What is kept in step with the event log (the aggregates' case facts, the webhook queue) is a
//! [`Projection`] the assembly registers, so nothing on this floor calls a feature.

use std::sync::Arc;
use std::time::Duration;

use entities::case_event;
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use crate::audit::acting::Acting;
use crate::error::{ApiError, ApiResult};
use crate::events::PendingEvent;
use crate::live::bus::{Bus, Notice};

/// Something kept in step with the event log, in the transaction that writes the events.
#[async_trait::async_trait]
pub trait Projection: Send + Sync {
    /// Before the events are stored (and before the LA's event lock is taken), with the events
    /// about to be written.
    async fn before(
        &self,
        _tx: &DatabaseTransaction,
        _la_id: i64,
        _events: &[PendingEvent],
    ) -> ApiResult<()> {
        Ok(())
    }

    /// After they are stored, with the rows written (their positions known).
    async fn after(
        &self,
        _tx: &DatabaseTransaction,
        _la_id: i64,
        _written: &[case_event::Model],
    ) -> ApiResult<()> {
        Ok(())
    }
}

/// Where a unit's results go: the projections it runs, and the bus it tells after commit (none
/// where nobody can be listening yet, as when the demo is seeded before the server starts).
#[derive(Clone, Default)]
pub struct Outlets {
    projections: Arc<[Arc<dyn Projection>]>,
    bus: Option<Bus>,
}

impl Outlets {
    /// The projections, in the order they run; no bus.
    pub fn new(projections: Vec<Arc<dyn Projection>>) -> Self {
        Self {
            projections: projections.into(),
            bus: None,
        }
    }

    /// The same, telling `bus` of every commit that wrote events.
    pub fn with_bus(mut self, bus: Bus) -> Self {
        self.bus = Some(bus);
        self
    }
}

/// What a finished unit committed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Committed {
    /// The position of the last event written, if any.
    pub position: Option<i64>,
    /// How many events were written.
    pub events: usize,
}

/// One tenant transaction and what must commit with it.
pub struct Unit {
    tx: Arc<DatabaseTransaction>,
}

impl Unit {
    /// Begins the transaction with `la_id` as its tenant (see [`crate::db::begin_tenant`]).
    pub async fn begin(
        pool: &DatabaseConnection,
        la_id: i64,
        statement_timeout: Duration,
    ) -> ApiResult<Unit> {
        let tx = crate::db::begin_tenant(pool, la_id, statement_timeout).await?;
        Ok(Unit { tx: Arc::new(tx) })
    }

    /// The transaction, shared with whatever works in it (the schema's resolvers, DataLoaders).
    pub fn tx(&self) -> &Arc<DatabaseTransaction> {
        &self.tx
    }

    /// Rolls back: nothing the unit did is kept, nobody is told.
    pub async fn abandon(self) {
        if let Some(tx) = reclaim(self.tx).await {
            let _ = tx.rollback().await;
        }
    }

    /// Writes the actor's audit rows, runs the projections, stores the events, commits, and then
    /// tells the bus. If any of it fails nothing is kept (the transaction is dropped, rolling
    /// back) and the error is returned.
    pub async fn finish(self, actor: &Acting, outlets: &Outlets) -> ApiResult<Committed> {
        let tx = reclaim(self.tx)
            .await
            .ok_or_else(|| ApiError::internal("the unit's transaction is still in use"))?;
        crate::audit::flush(&tx, actor).await?;
        // The events last: on PostgreSQL the LA's event lock is then held for the commit alone.
        let pending = actor.trail.take_events();
        let mut committed = Committed::default();
        if !pending.is_empty() {
            for p in outlets.projections.iter() {
                p.before(&tx, actor.la_id, &pending).await?;
            }
            let written = crate::events::service::store(&tx, actor, pending).await?;
            for p in outlets.projections.iter() {
                p.after(&tx, actor.la_id, &written).await?;
            }
            committed = Committed {
                position: written.last().map(|e| e.id),
                events: written.len(),
            };
        }
        tx.commit().await?;
        if let Some(bus) = &outlets.bus
            && (committed.position.is_some() || actor.trail.nudged())
        {
            bus.publish(Notice {
                la_id: actor.la_id,
                position: committed.position.unwrap_or(0),
            });
        }
        Ok(committed)
    }
}

/// Takes back sole ownership of a shared transaction once its users are done with it. A
/// DataLoader task may still be dropping its handle for a moment after its last answer.
async fn reclaim(mut tx: Arc<DatabaseTransaction>) -> Option<DatabaseTransaction> {
    for _ in 0..1000 {
        match Arc::try_unwrap(tx) {
            Ok(t) => return Some(t),
            Err(shared) => tx = shared,
        }
        tokio::task::yield_now().await;
    }
    None
}
