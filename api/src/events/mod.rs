//! The event log: every change a request makes to a case or child is a domain event (case
//! opened, stage entered, decision recorded, …). Each write names its event where it is written
//! (`am.insert_by(&txn, actor, EventType::GoalAdded)`; see [`crate::audit::AuditedWrite`]), and
//! the event is collected on the request's trail as the change is written and
//! stored just before the request commits, in the same transaction, with a position that grows in
//! commit order within each LA. It is the case timeline (`Case.events`) and what subscriptions and
//! webhooks deliver.

pub mod service;
pub mod types;

use crate::audit::record::Record;
use crate::domain::EventType;

/// An event a request has caused and not yet stored.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    /// What happened.
    pub event_type: EventType,
    /// The record written, with its case and child.
    pub record: Record,
    /// Names of the fields set.
    pub fields: Vec<String>,
    /// The root field (mutation) that caused it.
    pub operation: String,
}
