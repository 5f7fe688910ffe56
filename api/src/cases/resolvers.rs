//! Queries and mutations for cases: parse, guard, call one service function, map.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use super::service::{self, CaseFilter as Filter, CaseOrder, NewCase};
use super::types::Case;
use crate::context::ContextExt;
use crate::domain::{CaseStatus, RiskLevel, Stage};
use crate::error::ApiError;
use crate::ids::{ActorId, CaseId, ChildId, EpisodeId};
use crate::pagination::{Conn, Page, connection, returns_nodes};
use crate::payload::run;
use crate::scalars::Date;

/// Filter for `cases`. Every given condition must hold.
#[derive(InputObject, Default)]
pub struct CaseFilter {
    /// In any of these stages.
    pub stages: Option<Vec<Stage>>,
    /// With this status.
    pub status: Option<CaseStatus>,
    /// Allocated to this worker (an `Actor` ID).
    pub allocated_worker_id: Option<ID>,
    /// In this team.
    pub team: Option<String>,
    /// Latest agreed risk level is any of these.
    pub risk_levels: Option<Vec<RiskLevel>>,
    /// Next review date passed on an active case (true), or not (false).
    pub overdue: Option<bool>,
    /// Cases of this child.
    pub child_id: Option<ID>,
}

/// Field to order cases by.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum CaseOrderField {
    /// When the record was created.
    CreatedAt,
    /// The date the case was opened.
    OpenedOn,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum OrderDirection {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// How to order cases.
#[derive(InputObject)]
pub struct CaseOrderBy {
    /// The field.
    pub field: CaseOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

fn parse_filter(f: CaseFilter) -> Result<Filter, ApiError> {
    let bad = |field: &str| {
        ApiError::BadInput(format!(
            "filter.{field} is not a valid ID of the right type"
        ))
    };
    if f.stages.as_ref().is_some_and(Vec::is_empty)
        || f.risk_levels.as_ref().is_some_and(Vec::is_empty)
    {
        return Err(ApiError::BadInput(
            "an empty list in a filter matches nothing; leave it out instead".to_owned(),
        ));
    }
    if f.overdue == Some(true) && f.status == Some(CaseStatus::Closed) {
        return Err(ApiError::BadInput(
            "closed cases are never overdue".to_owned(),
        ));
    }
    Ok(Filter {
        stages: f.stages,
        status: f.status,
        worker_id: f
            .allocated_worker_id
            .map(|id| ActorId::parse(&id).ok_or_else(|| bad("allocatedWorkerId")))
            .transpose()?,
        team: f.team,
        risk_levels: f.risk_levels,
        overdue: f.overdue,
        child_id: f
            .child_id
            .map(|id| ChildId::parse(&id).ok_or_else(|| bad("childId")))
            .transpose()?,
    })
}

/// Queries about cases.
#[derive(Default)]
pub struct CasesQuery;

#[Object]
impl CasesQuery {
    /// A case of the caller's LA with everything about it; null when there is none with this ID.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Case>> {
        let actor = ctx.reader()?;
        let Some(id) = CaseId::parse(&id) else {
            return Ok(None);
        };
        let found = service::get_case(ctx.db()?, actor, id).await?;
        if found.is_none() {
            ctx.missed("reunification_case", id.0);
        }
        Ok(found.map(|m| Case(ctx.seen(m))))
    }

    /// The caller's LA's cases, filtered and ordered (default: oldest record first).
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilter>,
        order_by: Option<CaseOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Case>> {
        let actor = ctx.reader()?;
        let page = Page::new(first, after, last, before)?;
        let filter = parse_filter(filter.unwrap_or_default())?;
        let (order, desc) = match order_by {
            Some(o) => (
                match o.field {
                    CaseOrderField::CreatedAt => CaseOrder::Created,
                    CaseOrderField::OpenedOn => CaseOrder::OpenedOn,
                },
                o.direction == OrderDirection::Desc,
            ),
            None => (CaseOrder::Created, false),
        };
        let (rows, total, more) =
            service::list_cases(ctx.db()?, actor, &filter, order, desc, &page).await?;
        let returned = returns_nodes(ctx);
        Ok(connection(
            rows,
            total,
            more,
            &page,
            |m| service::cursor_of(m, order),
            |m| Case(if returned { ctx.seen(m) } else { m }),
        ))
    }
}

/// Input of `caseOpen`.
#[derive(InputObject)]
pub struct CaseOpenInput {
    /// The child.
    pub child_id: ID,
    /// The child's open episode of care.
    pub episode_id: ID,
    /// The allocated social worker (an `Actor` ID); defaults to the caller when they are a social worker.
    pub allocated_worker_id: Option<ID>,
    /// The team (1–100 characters).
    pub team: Option<String>,
    /// Date the case opened; defaults to today.
    pub opened_on: Option<Date>,
}

crate::payload!(
    /// Result of `caseOpen`.
    CaseOpenPayload {
        /// The new case, at stage IDENTIFICATION.
        case: Case
    }
);

/// Input of `caseAssign`.
#[derive(InputObject)]
pub struct CaseAssignInput {
    /// The case.
    pub case_id: ID,
    /// The case version the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
    /// The new allocated worker (an `Actor` ID).
    pub allocated_worker_id: Option<ID>,
    /// The new team.
    pub team: Option<String>,
}

crate::payload!(
    /// Result of `caseAssign`.
    CaseAssignPayload {
        /// The case.
        case: Case
    }
);

/// Mutations on cases.
#[derive(Default)]
pub struct CasesMutation;

#[Object]
impl CasesMutation {
    /// Opens a reunification case (stage IDENTIFICATION) for a child with an open episode of care.
    async fn case_open(&self, ctx: &Context<'_>, input: CaseOpenInput) -> Result<CaseOpenPayload> {
        run(async {
            let cmd = NewCase {
                child_id: ChildId::from_input(&input.child_id, &["childId"])?,
                episode_id: EpisodeId::from_input(&input.episode_id, &["episodeId"])?,
                worker_id: input
                    .allocated_worker_id
                    .map(|id| ActorId::from_input(&id, &["allocatedWorkerId"]))
                    .transpose()?,
                team: input.team,
                opened_on: input.opened_on.map(|d| d.0),
            };
            Ok(CaseOpenPayload::ok(Case(
                service::open_case(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Changes the allocated worker and/or team of a case.
    async fn case_assign(
        &self,
        ctx: &Context<'_>,
        input: CaseAssignInput,
    ) -> Result<CaseAssignPayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let worker = input
                .allocated_worker_id
                .map(|id| ActorId::from_input(&id, &["allocatedWorkerId"]))
                .transpose()?;
            let case = service::assign(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.expected_version,
                worker,
                input.team,
            )
            .await?;
            Ok(CaseAssignPayload::ok(Case(case)))
        })
        .await
    }
}
