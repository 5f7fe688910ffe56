//! Insight queries: parse, guard, call, map.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::aggregates::{
    self as agg, AGE_BANDS, CaseCount, DecisionCount, DecisionTime, Dimension, FollowUp,
    FrameworkUse, GoalCount, Presentation, Query, ReturnCount, RiskLevelCount, RiskMovement,
    ServiceCount, StageTime,
};
use super::calculator::{CostSet, Estimate};
use super::service;
use super::worklists::{self, WorkItem, WorkItemKind};
use crate::cases::types::Case;
use crate::context::ContextExt;
use crate::domain::reference::LEGAL_STATUS;
use crate::domain::{CaseStatus, ReturnType, RiskLevel, Stage};
use crate::error::{ApiError, ApiResult, UserErrorCode};
use crate::ids::{ActorId, DecisionId, GoalId};
use crate::pagination::{Conn, Page, page_of};
use crate::scalars::Date;

/// Insight queries.
#[derive(Default)]
pub struct InsightQuery;

/// Inputs of the cost-and-savings calculator. What is omitted comes from the LA: its returns
/// and breakdown rate as its records measure them, its unit costs
/// (`LocalAuthority.unitCosts`), then the published set.
#[derive(InputObject)]
pub struct SavingsInput {
    /// Children returning home per year from families with high support needs (default: the
    /// LA's returns home in the last 12 months whose family's highest service need level was
    /// high; all three default together).
    pub high_need_returns: Option<f64>,
    /// … with medium support needs.
    pub medium_need_returns: Option<f64>,
    /// … with low support needs (default: low, or no services recorded).
    pub low_need_returns: Option<f64>,
    /// Share of returns that break down now, 0 to 1 (for example 0.47). Default: the LA's
    /// re-entry to care within 12 months of children's last return home, over every child whose
    /// 12 months have passed.
    pub breakdown_rate: Option<f64>,
    /// Share of returns that would break down with support, 0 to 1.
    pub target_rate: f64,
    /// The published unit costs to use where neither the input nor the LA gives one (default the
    /// 2024 set).
    pub cost_set: Option<CostSet>,
    /// Cost of one child re-entering care, in pounds.
    pub reentry_cost: Option<f64>,
    /// Support cost per family with high needs, in pounds (the set's average when omitted).
    pub high_need_support_cost: Option<f64>,
    /// … medium needs.
    pub medium_need_support_cost: Option<f64>,
    /// … low needs (2024: from £1,644 over six months).
    pub low_need_support_cost: Option<f64>,
}

/// Which cases the aggregates count. Every list narrows to the values given; omitted means all.
#[derive(InputObject, Default)]
pub struct InsightFilter {
    /// First day of the period (inclusive). Each aggregate says which of its dates must fall in
    /// the period.
    pub from: Option<Date>,
    /// Last day of the period (inclusive).
    pub to: Option<Date>,
    /// Teams (`NONE` for unallocated cases).
    pub teams: Option<Vec<String>>,
    /// Allocated workers (`Me.id` values; `NONE` for unallocated cases).
    pub worker_ids: Option<Vec<ID>>,
    /// Legal statuses (SSDA903 codes) of the case's episode of care.
    pub legal_statuses: Option<Vec<String>>,
    /// Age bands at the case's opening: `UNDER_1`, `1_TO_4`, `5_TO_9`, `10_TO_15`, `16_AND_OVER`.
    pub age_bands: Option<Vec<String>>,
    /// Levels of the latest agreed risk classification.
    pub risk_levels: Option<Vec<RiskLevel>>,
    /// Planned or unplanned returns.
    pub return_types: Option<Vec<ReturnType>>,
    /// Attempt numbers (1 = the child's first reunification case).
    pub attempts: Option<Vec<i32>>,
    /// Current stages.
    pub stages: Option<Vec<Stage>>,
    /// Statuses.
    pub statuses: Option<Vec<CaseStatus>>,
}

impl InsightFilter {
    fn into_query(self, group_by: Vec<Dimension>, as_of: chrono::NaiveDate) -> ApiResult<Query> {
        let bad = |field: &str, message: &str| {
            Err(ApiError::user(
                UserErrorCode::Invalid,
                &["filter", field],
                message,
            ))
        };
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from.0 > to.0
        {
            return bad("to", "the period ends before it starts");
        }
        if let Some(bands) = &self.age_bands
            && let Some(b) = bands.iter().find(|b| !AGE_BANDS.contains(&b.as_str()))
        {
            return bad("ageBands", &format!("{b} is not an age band"));
        }
        if let Some(codes) = &self.legal_statuses
            && let Some(c) = codes.iter().find(|c| LEGAL_STATUS.find(c).is_none())
        {
            return bad(
                "legalStatuses",
                &format!("{c} is not an SSDA903 legal status"),
            );
        }
        if let Some(ids) = &self.worker_ids
            && let Some(id) = ids
                .iter()
                .find(|id| id.as_str() != "NONE" && ActorId::from_input(id, &[]).is_err())
        {
            return bad(
                "workerIds",
                &format!("{} is neither a worker's ID nor NONE", id.as_str()),
            );
        }
        // An empty list would match nothing: say so rather than answer with nothing.
        let empty = [
            ("teams", self.teams.as_ref().map(Vec::len)),
            ("legalStatuses", self.legal_statuses.as_ref().map(Vec::len)),
            ("ageBands", self.age_bands.as_ref().map(Vec::len)),
            ("riskLevels", self.risk_levels.as_ref().map(Vec::len)),
            ("returnTypes", self.return_types.as_ref().map(Vec::len)),
            ("attempts", self.attempts.as_ref().map(Vec::len)),
            ("stages", self.stages.as_ref().map(Vec::len)),
            ("statuses", self.statuses.as_ref().map(Vec::len)),
            ("workerIds", self.worker_ids.as_ref().map(Vec::len)),
        ];
        if let Some((field, _)) = empty.iter().find(|(_, n)| *n == Some(0)) {
            return bad(field, "give at least one value, or leave the filter out");
        }
        let mut only = Vec::new();
        let mut add = |dim, values: Option<Vec<String>>| {
            if let Some(v) = values {
                only.push((dim, v));
            }
        };
        add(Dimension::Team, self.teams);
        add(
            Dimension::Worker,
            self.worker_ids
                .map(|v| v.into_iter().map(|id| id.to_string()).collect()),
        );
        add(Dimension::LegalStatus, self.legal_statuses);
        add(Dimension::AgeBand, self.age_bands);
        add(
            Dimension::RiskLevel,
            self.risk_levels
                .map(|v| v.into_iter().map(|l| l.rank().to_string()).collect()),
        );
        add(
            Dimension::ReturnType,
            self.return_types
                .map(|v| v.into_iter().map(|t| t.as_str().to_owned()).collect()),
        );
        add(
            Dimension::Attempt,
            self.attempts
                .map(|v| v.into_iter().map(|a| a.to_string()).collect()),
        );
        add(
            Dimension::Stage,
            self.stages
                .map(|v| v.into_iter().map(|s| s.as_str().to_owned()).collect()),
        );
        add(
            Dimension::Status,
            self.statuses
                .map(|v| v.into_iter().map(|s| s.as_str().to_owned()).collect()),
        );
        let mut dims = Vec::new();
        for d in group_by {
            if !dims.contains(&d) {
                dims.push(d);
            }
        }
        Ok(Query {
            from: self.from.map(|d| d.0),
            to: self.to.map(|d| d.0),
            only,
            group_by: dims,
            as_of,
        })
    }
}

/// The aggregates over one filter and grouping (see `insight`).
pub struct Insight {
    facts: Arc<Vec<super::facts::CaseFacts>>,
    query: Query,
    shown: Presentation,
}

#[Object]
/// The aggregates of the caller's LA over one filter and grouping. Callers who see aggregates
/// only (data analysts) get counts below 5 withheld (`suppressed`), and the rates, medians and
/// quartiles made from them; `roundToNearest10` rounds every count shown (rates use exact
/// counts). Each list holds one entry per group (and per breakdown the aggregate names), in key
/// order; groups with nothing to count are absent.
impl Insight {
    /// The date the figures are taken on.
    async fn as_of(&self) -> Date {
        Date(self.query.as_of)
    }
    /// Cases open at any time in the period (opened on or before its end and not closed before
    /// its start), in each group. Group by `STAGE` and `STATUS` for cases by stage and status.
    /// `YEAR` is the year the case opened.
    async fn cases(&self) -> Vec<CaseCount> {
        agg::cases(&self.query, self.shown, &self.facts)
    }
    /// Days from entering each stage to completing it, for stages completed in the period: median
    /// and quartiles (linear interpolation, as Excel's PERCENTILE.INC). `YEAR`: the year the
    /// stage was completed.
    async fn stage_times(&self) -> Result<Vec<StageTime>> {
        Ok(agg::stage_times(&self.query, self.shown, &self.facts)?)
    }
    /// Days from the start of the episode of care (SSDA903 DECOM) to the case's first D1, first
    /// D2 and first D3, for those decisions made in the period. `YEAR`: the year of the decision.
    async fn decision_times(&self) -> Result<Vec<DecisionTime>> {
        Ok(agg::decision_times(&self.query, self.shown, &self.facts)?)
    }
    /// Every decision made in the period (D1, D2, D3 and closure; a deferred D1 and the later D1
    /// both count) by kind and outcome, with those still awaiting approval.
    async fn decisions(&self) -> Result<Vec<DecisionCount>> {
        Ok(agg::decisions(&self.query, self.shown, &self.facts)?)
    }
    /// Cases by the level of their latest agreed RC1, RC2 and RC3, for classifications agreed in
    /// the period. Proposed classifications not yet agreed are not counted.
    async fn risk_levels(&self) -> Result<Vec<RiskLevelCount>> {
        Ok(agg::risk_levels(&self.query, self.shown, &self.facts)?)
    }
    /// How risk moved from RC1 to RC2 and from RC2 to RC3 (the latest agreed of each), counted
    /// in the period the later classification was agreed.
    async fn risk_movement(&self) -> Result<Vec<RiskMovement>> {
        Ok(agg::risk_movement(&self.query, self.shown, &self.facts)?)
    }
    /// Goals (not withdrawn) whose original target date falls in the period and has passed by
    /// the as-of date, and how many were met on time: status met, and rated green without a
    /// break since on or before the original target date (more time given does not make a late
    /// goal on time).
    async fn goals(&self) -> Result<Vec<GoalCount>> {
        Ok(agg::goals(&self.query, self.shown, &self.facts)?)
    }
    /// Services that ran at some time in the period (declined ones never ran) by type and need
    /// level: services, and families (cases) with at least one. `YEAR`: the year the service
    /// started.
    async fn services(&self) -> Result<Vec<ServiceCount>> {
        Ok(agg::services(&self.query, self.shown, &self.facts)?)
    }
    /// Families whose child went home in the period (planned or unplanned, ending care or placed
    /// with parents) supported for at least 6 and at least 12 months after the return: a service
    /// (not declined) running until then or still running. A family counts once its window has
    /// ended by the as-of date, or earlier if support already reaches it.
    async fn support_duration(&self) -> Result<Vec<FollowUp>> {
        Ok(agg::support_duration(&self.query, self.shown, &self.facts)?)
    }
    /// Children returning home in the period as the SSDA903 counts them: an episode of care
    /// ceasing E4A (planned) or E4B (unplanned), and for a child who went home more than once in
    /// the period only the last. A return that leaves the child looked after, placed with parents
    /// (P1), is not a return home and is not counted; a child who left care to relatives or
    /// friends without parental responsibility (E13) is counted apart (`toRelativesOrFriends`).
    async fn returns(&self) -> Vec<ReturnCount> {
        agg::returns(&self.query, self.shown, &self.facts)
    }
    /// The children of `returns` still at home 3, 6 and 12 months after their (last) return in
    /// the period: counted once the window has ended by the as-of date; still at home when no
    /// new period of care began within it.
    async fn still_home(&self) -> Vec<FollowUp> {
        agg::still_home(&self.query, self.shown, &self.facts)
    }
    /// The children of `returns` who re-entered care (a later new period of care for the same
    /// child) within 3 and 12 months of their return: counted once the window has ended, or as
    /// soon as they re-entered within it. A return in one year and a re-entry in the next count
    /// in the year of the return.
    async fn reentries(&self) -> Vec<FollowUp> {
        agg::reentries(&self.query, self.shown, &self.facts)
    }
    /// How fully the framework was used: for cases open at any time in the period, each stage's
    /// checklist of practice actions over every case that reached it, and the share completed.
    async fn framework_use(&self) -> Result<Vec<FrameworkUse>> {
        Ok(agg::framework_use(&self.query, self.shown, &self.facts)?)
    }
}

/// Which work items: every list narrows; overdue items are always included.
#[derive(InputObject)]
pub struct WorklistFilter {
    /// Cases allocated to these workers (`Me.id` values).
    pub worker_ids: Option<Vec<ID>>,
    /// Cases allocated to the caller (with `workerIds`: as well as theirs).
    #[graphql(default = false)]
    pub mine: bool,
    /// Cases of these teams.
    pub teams: Option<Vec<String>>,
    /// These kinds of item.
    pub kinds: Option<Vec<WorkItemKind>>,
    /// Items due within this many days from today as well as those overdue (0–365).
    #[graphql(default = 14)]
    pub within_days: i32,
}

impl Default for WorklistFilter {
    fn default() -> Self {
        Self {
            worker_ids: None,
            mine: false,
            teams: None,
            kinds: None,
            within_days: 14,
        }
    }
}

/// Something due or overdue on a case.
pub struct WorkItemNode(WorkItem);

/// Something due or overdue on an active case.
#[Object(name = "WorkItem")]
impl WorkItemNode {
    /// What is due.
    async fn kind(&self) -> WorkItemKind {
        self.0.kind
    }
    /// When it is (or was) due.
    async fn due_on(&self) -> Date {
        Date(self.0.due_on)
    }
    /// Days past due (0 on the day; negative: days still to go).
    async fn days_overdue(&self) -> i64 {
        (crate::cases::service::today() - self.0.due_on).num_days()
    }
    /// Whether the due date has passed.
    async fn overdue(&self) -> bool {
        self.0.due_on < crate::cases::service::today()
    }
    /// The case.
    async fn case(&self, ctx: &Context<'_>) -> Case {
        Case(ctx.seen(self.0.case.clone()))
    }
    /// The record the item is about: the goal (`GOAL_TARGET`), decision (`APPROVAL_AWAITED`,
    /// `DEFERRED_DECISION`), classification (`CLASSIFICATION_AWAITING_AGREEMENT`) or visit
    /// (`CHILD_NOT_SEEN_ALONE`).
    async fn record_id(&self) -> Option<ID> {
        self.0.record.map(|(table, id)| match table {
            "goal" => GoalId(id).to_global(),
            "risk_classification" => crate::ids::ClassificationId(id).to_global(),
            "visit" => crate::ids::VisitId(id).to_global(),
            _ => DecisionId(id).to_global(),
        })
    }
}

#[Object]
impl InsightQuery {
    /// What is due or overdue on the LA's cases, most urgent first: by due date (the most
    /// overdue first), then kind in the order of `WorkItemKind`. Items (see `WorkItemKind`): a
    /// decision awaiting approval; the next review date; RC3 six months after the return; support
    /// ending before the LA's `supportMonths`; a goal's target date; a classification awaiting
    /// agreement; an assessment awaiting sign-off; a deferred D1/D2 four weeks on; a planned
    /// return date not yet met; 3/6/12-month follow-ups nobody (and no episode) has answered,
    /// closed cases included; a visit at the LA's `visitFrequencyWeeks` after the last; a last
    /// visit that did not see the child alone. Filter by worker (`workerIds`, `mine`) and team
    /// for a worker's or a team's list.
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn worklist(
        &self,
        ctx: &Context<'_>,
        filter: Option<WorklistFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<WorkItemNode>> {
        let actor = ctx.reader()?;
        let page = Page::new(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        if !(0..=365).contains(&f.within_days) {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["filter", "withinDays"],
                "between 0 and 365 days",
            )
            .into());
        }
        let mut workers = f
            .worker_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| ActorId::from_input(id, &["filter", "workerIds"]).map(|a| a.0))
                    .collect::<ApiResult<Vec<i64>>>()
            })
            .transpose()?;
        if f.mine {
            workers.get_or_insert_with(Vec::new).push(actor.actor_id);
        }
        let filter = worklists::WorklistFilter {
            workers,
            teams: f.teams,
            kinds: f.kinds,
            due_by: crate::cases::service::today() + chrono::Duration::days(f.within_days.into()),
        };
        let db = ctx.db()?;
        let la = crate::tenancy::service::get(db, actor.la_id).await?;
        let settings = crate::tenancy::service::settings(&la);
        let items = worklists::worklist(db, actor, &filter, &settings).await?;
        let nodes = items.into_iter().map(WorkItemNode).collect();
        Ok(page_of(nodes, |n: &WorkItemNode| n.0.key(), &page)?)
    }

    /// The aggregates of the caller's LA, with the definitions of the statutory returns (see
    /// each field of `Insight`). Needs scope `aggregates:read`; data analysts see small counts
    /// withheld. `asOf` (default today) is the date follow-up windows must have ended by.
    async fn insight(
        &self,
        ctx: &Context<'_>,
        filter: Option<InsightFilter>,
        group_by: Option<Vec<Dimension>>,
        #[graphql(default = false)] round_to_nearest_10: bool,
        as_of: Option<Date>,
    ) -> Result<Insight> {
        let actor = ctx.analyst()?;
        let as_of = as_of.map_or_else(crate::cases::service::today, |d| d.0);
        let query = filter
            .unwrap_or_default()
            .into_query(group_by.unwrap_or_default(), as_of)?;
        let facts = service::facts(ctx.db()?, actor).await?;
        Ok(Insight {
            facts: Arc::new(facts),
            query,
            shown: Presentation {
                suppress: actor.require_read().is_err(),
                round_to_10: round_to_nearest_10,
            },
        })
    }

    /// The cost-and-savings calculator (NSPCC, after Holmes 2014 and Sussex 2024): the cost of
    /// supporting every returning family, the cost of the failed returns avoided at the target
    /// breakdown rate, the net saving, and the fall in breakdowns at which support pays for
    /// itself (`breakEvenReduction` = support cost ÷ (returns × cost of a re-entry)). Inputs
    /// left out come from the LA's records and settings (`fromRecords` names those measured).
    /// Needs scope `aggregates:read`.
    async fn reunification_savings(
        &self,
        ctx: &Context<'_>,
        input: SavingsInput,
    ) -> Result<Estimate> {
        let actor = ctx.analyst()?;
        let request = service::SavingsRequest {
            returns: [
                input.high_need_returns,
                input.medium_need_returns,
                input.low_need_returns,
            ],
            breakdown_rate: input.breakdown_rate,
            target_rate: input.target_rate,
            cost_set: input.cost_set,
            reentry_cost: input.reentry_cost,
            support_cost: [
                input.high_need_support_cost,
                input.medium_need_support_cost,
                input.low_need_support_cost,
            ],
        };
        Ok(service::savings(ctx.db()?, actor, request).await?)
    }
}
