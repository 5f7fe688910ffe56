//! GraphQL types for cases.

use async_graphql::{Context, ID, Object, Result};
use entities::reunification_case as case;

use crate::assessments::loaders::{ChildViewsOf, FactorsOf};
use crate::assessments::types::{AssessmentFactor, ChildView};
use crate::children::loaders::{ChildKey, EpisodeKey, ExternalIdsOfCase};
use crate::children::types::{CareEpisode, Child, ExternalIdentifier};
use crate::context::ContextExt as _;
use crate::context::{load_all, load_first};
use crate::domain::AgreementStatus;
use crate::domain::{CaseStatus, ReturnType, RiskLevel, Stage};
use crate::error::OptionExt;
use crate::goals::loaders::AgreementsOf;
use crate::goals::types::{Goal, ParentalAgreement, goals_of};
use crate::ids::CaseId;
use crate::outcomes::loaders::OutcomeOf;
use crate::outcomes::types::Outcome;
use crate::pagination::{Conn, Page, page_of};
use crate::scalars::Date;
use crate::stages::loaders::{ClassificationsOf, DecisionsOf, StagesOf};
use crate::stages::types::{CaseStage, Decision, RiskClassification};
use crate::support_plans::loaders::{ServicesOf, SupportPlanOf};
use crate::support_plans::types::{SupportPlan, SupportService};
use crate::tenancy::types::{Actor, load_actor};
use crate::visits::loaders::{ReviewsOf, VisitsOf};
use crate::visits::types::{Review, Visit};

/// One attempt to return one child home, taken through the framework's stages.
pub struct Case(pub case::Model);

/// One attempt to return one child home, taken through the framework's stages.
#[Object]
impl Case {
    /// Global ID.
    pub async fn id(&self) -> ID {
        CaseId(self.0.id).to_global()
    }
    /// The child.
    async fn child(&self, ctx: &Context<'_>) -> Result<Child> {
        Ok(
            load_first(ctx, ChildKey(self.0.child_id), |m| Child(ctx.seen(m)))
                .await?
                .or_not_found()?,
        )
    }
    /// The episode of care the case belongs to.
    async fn episode(&self, ctx: &Context<'_>) -> Result<CareEpisode> {
        Ok(load_first(ctx, EpisodeKey(self.0.episode_id), CareEpisode)
            .await?
            .or_not_found()?)
    }
    /// Identifiers other systems use for this case.
    async fn external_ids(&self, ctx: &Context<'_>) -> Result<Vec<ExternalIdentifier>> {
        load_all(ctx, ExternalIdsOfCase(self.0.id), ExternalIdentifier::from).await
    }
    /// Which attempt at reunification this is for the child (1 for the first; a previous failed return is a risk factor).
    async fn attempt_number(&self) -> i32 {
        self.0.attempt_number
    }
    /// The allocated social worker.
    async fn allocated_worker(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.worker_id).await
    }
    /// The team.
    async fn team(&self) -> Option<&str> {
        self.0.team.as_deref()
    }
    /// The current stage (the last one entered, for a closed case).
    async fn stage(&self) -> Result<Stage> {
        Ok(self.0.stage)
    }
    /// Active or closed.
    async fn status(&self) -> Result<CaseStatus> {
        Ok(self.0.status)
    }
    /// Planned or unplanned, once the child has gone home.
    async fn return_type(&self) -> Result<Option<ReturnType>> {
        Ok(self.0.return_type)
    }
    /// The alternative permanence plan (Annex A code) when reunification was not pursued.
    async fn alternative_plan(&self) -> Option<&str> {
        self.0.alternative_plan.as_deref()
    }
    /// The level of the latest agreed risk classification.
    async fn risk_level(&self) -> Result<Option<RiskLevel>> {
        Ok(self
            .0
            .risk_level
            .map(|r| {
                RiskLevel::from_rank(r)
                    .ok_or_else(|| crate::error::ApiError::internal("a risk level out of range"))
            })
            .transpose()?)
    }
    /// Date the case was opened.
    async fn opened_on(&self) -> Date {
        self.0.opened_on.into()
    }
    /// Date the case closed.
    async fn closed_on(&self) -> Option<Date> {
        self.0.closed_on.map(Date)
    }
    /// Date of the next review of the plan, if set.
    async fn next_review_on(&self) -> Option<Date> {
        self.0.next_review_on.map(Date)
    }
    /// Whether the next review date has passed on an active case.
    async fn overdue(&self) -> bool {
        crate::framework::due::review_overdue(&self.0, super::service::today())
    }
    /// The stages entered so far, in order, with their checklists.
    async fn stages(&self, ctx: &Context<'_>) -> Result<Vec<CaseStage>> {
        load_all(ctx, StagesOf(self.0.id), CaseStage).await
    }
    /// Decisions D1–D3 and the closure, in order of recording.
    async fn decisions(&self, ctx: &Context<'_>) -> Result<Vec<Decision>> {
        load_all(ctx, DecisionsOf(self.0.id), Decision).await
    }
    /// Risk classifications RC1–RC3 (proposed and agreed), in order of recording.
    async fn risk_classifications(&self, ctx: &Context<'_>) -> Result<Vec<RiskClassification>> {
        load_all(ctx, ClassificationsOf(self.0.id), RiskClassification).await
    }
    /// Risk and protective factors about the child and household members.
    async fn factors(&self, ctx: &Context<'_>) -> Result<Vec<AssessmentFactor>> {
        load_all(ctx, FactorsOf(self.0.id), AssessmentFactor).await
    }
    /// The child's wishes and feelings, oldest first.
    async fn child_views(&self, ctx: &Context<'_>) -> Result<Vec<ChildView>> {
        load_all(ctx, ChildViewsOf(self.0.id), ChildView).await
    }
    /// The parental agreement: the version in force, else the latest draft; null before there is one.
    async fn agreement(&self, ctx: &Context<'_>) -> Result<Option<ParentalAgreement>> {
        let versions = load_all(ctx, AgreementsOf(self.0.id), |m| m).await?;
        Ok(current_agreement(versions).map(ParentalAgreement))
    }
    /// Every version of the parental agreement, oldest first.
    async fn agreements(&self, ctx: &Context<'_>) -> Result<Vec<ParentalAgreement>> {
        load_all(ctx, AgreementsOf(self.0.id), ParentalAgreement).await
    }
    /// The goals of the current agreement.
    async fn goals(&self, ctx: &Context<'_>) -> Result<Vec<Goal>> {
        let versions = load_all(ctx, AgreementsOf(self.0.id), |m| m).await?;
        match current_agreement(versions) {
            Some(a) => goals_of(ctx, a.id).await,
            None => Ok(Vec::new()),
        }
    }
    /// The support plan; null until one is written.
    async fn support_plan(&self, ctx: &Context<'_>) -> Result<Option<SupportPlan>> {
        load_first(ctx, SupportPlanOf(self.0.id), SupportPlan).await
    }
    /// Services for the child and family, by start date.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<SupportService>> {
        load_all(ctx, ServicesOf(self.0.id), SupportService).await
    }
    /// Visits, in order of recording.
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn visits(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Visit>> {
        let page = Page::new(first, after, last, before)?;
        let items = load_all(ctx, VisitsOf(self.0.id), Visit).await?;
        Ok(page_of(items, |v| v.0.id, &page)?)
    }
    /// Review meetings, oldest first.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        load_all(ctx, ReviewsOf(self.0.id), Review).await
    }
    /// The outcome: return, still home at 3/6/12 months, re-entry, closure. Null until the child
    /// goes home or the case closes.
    async fn outcome(&self, ctx: &Context<'_>) -> Result<Option<Outcome>> {
        load_first(ctx, OutcomeOf(self.0.id), Outcome).await
    }
    /// The case's timeline: every event of the case, oldest first (positions increase).
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<crate::events::types::CaseEvent>> {
        use crate::context::ContextExt as _;
        let page = Page::new(first, after, last, before)?;
        let (rows, total, more) = crate::events::service::for_case(
            ctx.db()?,
            ctx.reader()?,
            crate::ids::CaseId(self.0.id),
            &page,
        )
        .await?;
        Ok(crate::pagination::connection(
            rows,
            total,
            more,
            &page,
            |e| e.id.to_string(),
            crate::events::types::CaseEvent,
        ))
    }
    /// Record version; pass it as `expectedVersion` to make a change only if nobody else has.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// The agreement in force, else the latest draft.
fn current_agreement(
    versions: Vec<entities::parental_agreement::Model>,
) -> Option<entities::parental_agreement::Model> {
    let mut active = None;
    let mut draft = None;
    for a in versions {
        if a.status == AgreementStatus::Active {
            active = Some(a);
        } else if a.status == AgreementStatus::Draft {
            draft = Some(a);
        }
    }
    active.or(draft)
}
