//! GraphQL types for stages, checklist items, decisions and risk classifications.

use async_graphql::{Context, ID, Object, Result};
use entities::{checklist_item, decision, risk_classification, stage_progress};

use super::loaders::ChecklistOf;
use crate::context::load_all;
use crate::domain::{
    ApprovalStatus, ClassificationKind, DecisionKind, DecisionOutcome, RiskLevel, Stage,
};
use crate::ids::{ChecklistItemId, ClassificationId, DecisionId, StageId};
use crate::scalars::Date;
use crate::tenancy::types::{Actor, load_actor};

/// A stage the case has entered, with its checklist of practice actions.
pub struct CaseStage(pub stage_progress::Model);

impl CaseStage {
    /// The case's checklist items of this stage.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<checklist_item::Model>> {
        Ok(load_all(ctx, ChecklistOf(self.0.case_id), |m| m)
            .await?
            .into_iter()
            .filter(|i| i.stage == self.0.stage)
            .collect())
    }
}

/// A stage the case has entered, with its checklist of practice actions.
#[Object]
impl CaseStage {
    /// Global ID.
    pub async fn id(&self) -> ID {
        StageId(self.0.id).to_global()
    }
    /// Which stage.
    async fn stage(&self) -> Result<Stage> {
        Ok(self.0.stage)
    }
    /// Date the case entered the stage.
    async fn entered_on(&self) -> Date {
        self.0.entered_on.into()
    }
    /// Date the case left the stage; null while current.
    async fn completed_on(&self) -> Option<Date> {
        self.0.completed_on.map(Date)
    }
    /// Who signed the stage's work off (the ASSESSMENT: a team manager); null until then.
    async fn signed_off_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.signed_off_by).await
    }
    /// When the stage's work was signed off.
    async fn signed_off_on(&self) -> Option<Date> {
        self.0.signed_off_on.map(Date)
    }
    /// The LA's practice actions for this stage, as they stood when the case entered it.
    async fn checklist(&self, ctx: &Context<'_>) -> Result<Vec<ChecklistItem>> {
        Ok(self
            .items(ctx)
            .await?
            .into_iter()
            .map(ChecklistItem)
            .collect())
    }
    /// Share of this stage's practice actions completed, from 0 to 1 (1 when the stage has none).
    async fn completeness(&self, ctx: &Context<'_>) -> Result<f64> {
        let items = self.items(ctx).await?;
        if items.is_empty() {
            return Ok(1.0);
        }
        let done = items.iter().filter(|i| i.completed_on.is_some()).count();
        Ok(done as f64 / items.len() as f64)
    }
    /// Share of this stage's practice actions completed by the record that proves them, from 0
    /// to 1 (`completeness` less this is the self-reported share: actions ticked by hand).
    async fn evidenced_completeness(&self, ctx: &Context<'_>) -> Result<f64> {
        let items = self.items(ctx).await?;
        if items.is_empty() {
            return Ok(0.0);
        }
        let done = items
            .iter()
            .filter(|i| i.completed_on.is_some() && i.evidence.is_some())
            .count();
        Ok(done as f64 / items.len() as f64)
    }
}

/// A practice action of a stage.
pub struct ChecklistItem(pub checklist_item::Model);

/// A practice action of a stage.
#[Object]
impl ChecklistItem {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ChecklistItemId(self.0.id).to_global()
    }
    /// The stage the action belongs to.
    async fn stage(&self) -> Result<Stage> {
        Ok(self.0.stage)
    }
    /// Stable key of the action, e.g. `analytical_chronology`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// What the action is.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Whether the stage's decision waits for this action.
    async fn required(&self) -> bool {
        self.0.required
    }
    /// Whether the action is done.
    async fn completed(&self) -> bool {
        self.0.completed_on.is_some()
    }
    /// When it was done.
    async fn completed_on(&self) -> Option<Date> {
        self.0.completed_on.map(Date)
    }
    /// Who ticked it (null for an action a record completed).
    async fn completed_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.completed_by).await
    }
    /// The record that proves the action, when it is derived: it completes itself when the record
    /// exists and is not ticked by hand (`DERIVED_FROM_RECORD`).
    async fn derived_from(&self) -> Result<Option<crate::domain::Evidence>> {
        Ok(self.0.derived_from)
    }
    /// Which record completed it (table and row ids), when a record did.
    async fn evidence(&self) -> Option<&str> {
        self.0.evidence.as_deref()
    }
    /// Whether a record, rather than a tick, completed it.
    async fn evidenced(&self) -> bool {
        self.0.completed_on.is_some() && self.0.evidence.is_some()
    }
    /// Optional note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A decision of the framework (D1, D2, D3) or the closure of the case.
pub struct Decision(pub decision::Model);

/// A decision of the framework (D1, D2, D3) or the closure of the case.
#[Object]
impl Decision {
    /// Global ID.
    pub async fn id(&self) -> ID {
        DecisionId(self.0.id).to_global()
    }
    /// Which decision.
    async fn kind(&self) -> Result<DecisionKind> {
        Ok(self.0.kind)
    }
    /// Yes, no or deferred (closures are always yes).
    async fn outcome(&self) -> Result<DecisionOutcome> {
        Ok(self.0.outcome)
    }
    /// Why.
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }
    /// Date of the decision.
    async fn decided_on(&self) -> Date {
        self.0.decided_on.into()
    }
    /// Who recorded it.
    async fn decided_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.decided_by).await
    }
    /// Where the decision stands in its approval.
    async fn approval_status(&self) -> Result<ApprovalStatus> {
        Ok(self.0.approval_status)
    }
    /// The role whose approval is needed (e.g. `nominated_officer`), if any.
    async fn approver_role(&self) -> Option<&str> {
        self.0.approver_role.as_deref()
    }
    /// Record version; pass it as `expectedVersion` to `decisionApprove`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Who approved it.
    async fn approved_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.approved_by).await
    }
    /// When it was approved.
    async fn approved_on(&self) -> Option<Date> {
        self.0.approved_on.map(Date)
    }
    /// D3 = yes: the planned date of the return.
    async fn planned_return_on(&self) -> Option<Date> {
        self.0.planned_return_on.map(Date)
    }
    /// A "no": the alternative permanence plan (Annex A code, e.g. `LTFOST18`).
    async fn alternative_plan(&self) -> Option<&str> {
        self.0.alternative_plan.as_deref()
    }
}

/// A risk classification (RC1, RC2, RC3): proposed by a practitioner, agreed by a team manager.
pub struct RiskClassification(pub risk_classification::Model);

/// A risk classification (RC1, RC2, RC3): proposed by a practitioner, agreed by a team manager.
#[Object]
impl RiskClassification {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ClassificationId(self.0.id).to_global()
    }
    /// Which classification.
    async fn kind(&self) -> Result<ClassificationKind> {
        Ok(self.0.kind)
    }
    /// The level.
    async fn level(&self) -> Result<RiskLevel> {
        Ok(RiskLevel::from_rank(self.0.level)
            .ok_or_else(|| crate::error::ApiError::internal("a risk level out of range"))?)
    }
    /// The LA's label for the level.
    async fn level_label(&self, ctx: &Context<'_>) -> Result<String> {
        crate::tenancy::loaders::risk_label(
            ctx,
            RiskLevel::from_rank(self.0.level)
                .ok_or_else(|| crate::error::ApiError::internal("a risk level out of range"))?,
        )
        .await
    }
    /// Why.
    async fn rationale(&self) -> &str {
        &self.0.rationale
    }
    /// Record version; pass it as `expectedVersion` to `riskClassificationAgree`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Date of the classification.
    async fn classified_on(&self) -> Date {
        self.0.classified_on.into()
    }
    /// Who proposed it.
    async fn proposed_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.proposed_by).await
    }
    /// Whether a team manager has agreed it.
    async fn agreed(&self) -> bool {
        self.0.agreed_on.is_some()
    }
    /// Who agreed it.
    async fn agreed_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.agreed_by).await
    }
    /// When it was agreed.
    async fn agreed_on(&self) -> Option<Date> {
        self.0.agreed_on.map(Date)
    }
}
