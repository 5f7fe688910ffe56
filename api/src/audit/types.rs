//! GraphQL types of the audit trail.

use async_graphql::{ID, Object};
use entities::audit_event;

use super::{Action, Outcome};
use crate::ids::ActorId;

/// One entry of the audit trail: who did what to which record, when, and how it ended. Holds
/// identifiers and field names, never the values of a record.
pub struct AuditEvent(pub audit_event::Model);

/// One entry of the audit trail: who did what to which record, when, and how it ended. Holds
/// identifiers and field names, never the values of a record.
#[Object]
impl AuditEvent {
    /// Position in the LA's trail (increasing).
    async fn sequence(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When it happened.
    async fn occurred_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.occurred_at
    }
    /// The actor (an `Actor` ID) who acted.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|a| ActorId(a).to_global())
    }
    /// The subject of the caller's token.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The OAuth client the caller's token was issued to, when it named one.
    async fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }
    /// The caller's roles (claim values, comma-separated).
    async fn roles(&self) -> Vec<&str> {
        self.0.roles.split(',').filter(|r| !r.is_empty()).collect()
    }
    /// The GraphQL root field (or command) that did it.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// What was done.
    async fn action(&self) -> Option<Action> {
        Some(self.0.action)
    }
    /// How it ended.
    async fn outcome(&self) -> Option<Outcome> {
        Some(self.0.outcome)
    }
    /// The kind of record (its table, e.g. `reunification_case`); null for a refused operation.
    async fn record_type(&self) -> Option<&str> {
        self.0.record_type.as_deref()
    }
    /// The record (its global ID, as `node(id:)` takes it); null for a refused operation.
    async fn record_id(&self) -> Option<ID> {
        let kind = self.0.record_type.as_deref()?;
        self.0.record_id.map(|i| crate::ids::global_of_row(kind, i))
    }
    /// The case the record belongs to (a `Case` ID), where it has one.
    async fn case_id(&self) -> Option<ID> {
        self.0.case_id.map(|i| crate::ids::CaseId(i).to_global())
    }
    /// The child the record is about (a `Child` ID), where it names one.
    async fn child_id(&self) -> Option<ID> {
        self.0.child_id.map(|i| crate::ids::ChildId(i).to_global())
    }
    /// Names of the fields created or changed (never their values).
    async fn fields(&self) -> Vec<&str> {
        self.0
            .fields
            .as_deref()
            .map(|f| f.split(',').collect())
            .unwrap_or_default()
    }
    /// The request id returned to the caller in `extensions.requestId` / `x-request-id`.
    async fn request_id(&self) -> &str {
        &self.0.request_id
    }
    /// The W3C trace id of the request.
    async fn trace_id(&self) -> &str {
        &self.0.trace_id
    }
}
