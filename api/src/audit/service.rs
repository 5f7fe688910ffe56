//! Reading the audit trail: the LA's events, newest first, filtered by child, person and date.

use chrono::{DateTime, Utc};
use entities::{audit_event, reunification_case as case};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::audit::acting::Acting;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{Page, page_by_id};

/// Which audit events to list. Every given condition must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events about this child (the child's record, or any record of the child's cases).
    pub child_id: Option<i64>,
    /// Events caused by this token subject.
    pub subject: Option<String>,
    /// Events caused by this actor row.
    pub actor_id: Option<i64>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the caller's LA's audit events, newest first; `(rows, total, more)`.
pub async fn list(
    db: &impl Db,
    actor: &Acting,
    filter: &AuditFilter,
    page: &Page,
) -> ApiResult<(Vec<audit_event::Model>, i64, bool)> {
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(ApiError::BadInput("`from` must be before `to`".to_owned()));
    }
    let mut cond = Condition::all().add(audit_event::Column::LaId.eq(actor.la_id));
    if let Some(child) = filter.child_id {
        let cases: Vec<i64> = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::LaId.eq(actor.la_id))
            .filter(case::Column::ChildId.eq(child))
            .into_tuple()
            .all(db)
            .await?;
        cond = cond.add(
            Condition::any()
                .add(audit_event::Column::ChildId.eq(child))
                .add(audit_event::Column::CaseId.is_in(cases)),
        );
    }
    if let Some(s) = &filter.subject {
        cond = cond.add(audit_event::Column::Subject.eq(s.as_str()));
    }
    if let Some(a) = filter.actor_id {
        cond = cond.add(audit_event::Column::ActorId.eq(a));
    }
    if let Some(from) = filter.from {
        cond = cond.add(audit_event::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(audit_event::Column::OccurredAt.lt(to));
    }
    let total = audit_event::Entity::find()
        .filter(cond.clone())
        .count(db)
        .await? as i64;
    // Newest first.
    let query = audit_event::Entity::find().filter(cond);
    let (rows, more) = page_by_id(db, query, audit_event::Column::Id, page, true).await?;
    Ok((rows, total, more))
}
