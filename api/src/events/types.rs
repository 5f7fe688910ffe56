//! GraphQL type of an event of the log.

use async_graphql::{ID, Object, Result};
use entities::case_event;

use crate::domain::EventType;
use crate::ids::{ActorId, CaseId, ChildId};

/// Something that happened to a case or a child: its position in the LA's event log, what
/// happened, to which record, by whom and when. Identifiers and field names only; re-read the
/// record for its content.
pub struct CaseEvent(pub case_event::Model);

/// Something that happened to a case or a child: its position in the LA's event log, what
/// happened, to which record, by whom and when. Identifiers and field names only; re-read the
/// record for its content.
#[Object]
impl CaseEvent {
    /// The event's position in the LA's log, a decimal integer that only grows: resume a
    /// subscription after it, or de-duplicate webhook deliveries by it.
    async fn position(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What happened.
    #[graphql(name = "type")]
    async fn event_type(&self) -> Result<EventType> {
        Ok(self.0.event_type)
    }
    /// When it was recorded.
    async fn occurred_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.occurred_at
    }
    /// The case (a `Case` ID); null for an event of a child outside any case.
    async fn case_id(&self) -> Option<ID> {
        self.0.case_id.map(|i| CaseId(i).to_global())
    }
    /// The child (a `Child` ID), where the record names one.
    async fn child_id(&self) -> Option<ID> {
        self.0.child_id.map(|i| ChildId(i).to_global())
    }
    /// The kind of record written (its table, e.g. `decision`).
    async fn record_type(&self) -> &str {
        &self.0.record_type
    }
    /// The record written (its global ID, as `node(id:)` takes it).
    async fn record_id(&self) -> ID {
        crate::ids::global_of_row(&self.0.record_type, self.0.record_id)
    }
    /// Names of the fields set (never their values).
    async fn fields(&self) -> Vec<&str> {
        self.0
            .fields
            .as_deref()
            .map(|f| f.split(',').collect())
            .unwrap_or_default()
    }
    /// The actor (an `Actor` ID) whose request caused it.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|a| ActorId(a).to_global())
    }
    /// The mutation that caused it.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
}
