//! `auditEvents`: the LA's audit trail, for LA administrators only.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, AuditFilter};
use super::types::AuditEvent;
use crate::context::ContextExt;
use crate::error::ApiError;
use crate::ids::{ActorId, ChildId};
use crate::pagination::{Conn, Page, connection};

/// Filter for `auditEvents`. Every given condition must hold.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Events about this child (a `Child` ID): the child's record and every record of its cases.
    pub child_id: Option<ID>,
    /// Events caused by this person or client (an `Actor` ID).
    pub actor_id: Option<ID>,
    /// Events caused by this token subject.
    pub subject: Option<String>,
    /// At or after this instant.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this instant.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// Queries of the audit trail.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The LA's audit trail, newest first (LA administrators only).
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let actor = ctx.admin()?;
        let page = Page::new(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let bad = |what: &str| ApiError::BadInput(format!("`{what}` is not an ID of that type"));
        let filter = AuditFilter {
            child_id: f
                .child_id
                .map(|id| {
                    ChildId::parse(&id)
                        .map(|c| c.0)
                        .ok_or_else(|| bad("childId"))
                })
                .transpose()?,
            actor_id: f
                .actor_id
                .map(|id| {
                    ActorId::parse(&id)
                        .map(|a| a.0)
                        .ok_or_else(|| bad("actorId"))
                })
                .transpose()?,
            subject: f.subject,
            from: f.from,
            to: f.to,
        };
        let (rows, total, more) = service::list(ctx.db()?, actor, &filter, &page).await?;
        Ok(connection(
            rows,
            total,
            more,
            &page,
            |m| m.id.to_string(),
            AuditEvent,
        ))
    }
}
