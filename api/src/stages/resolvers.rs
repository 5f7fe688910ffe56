//! Mutations that move a case through the framework: checklist, decisions, approvals,
//! classifications, stage completion, the return home and closure.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::service::{
    self, CloseCase, ItemRef, ProposeClassification, RecordDecision, RecordReturn,
};
use super::types::{CaseStage, ChecklistItem, Decision, RiskClassification};
use crate::cases::types::Case;
use crate::context::ContextExt;
use crate::domain::{
    ClassificationKind, ClosureReason, DecisionKind, DecisionOutcome, RiskLevel, Stage,
    YesNoUnknown,
};
use crate::error::{ApiError, UserErrorCode};
use crate::ids::{CaseId, ChecklistItemId, ClassificationId, DecisionId};
use crate::payload::run;
use crate::scalars::Date;

/// Input of `checklistItemComplete`.
#[derive(InputObject)]
pub struct ChecklistItemCompleteInput {
    /// The checklist item; or give `caseId` and `key` instead (no need to read the item's ID
    /// again after each stage change).
    pub item_id: Option<ID>,
    /// With `key`: the case whose item it is.
    pub case_id: Option<ID>,
    /// With `caseId` and `key`: the stage of the item; defaults to the case's current stage.
    pub stage: Option<Stage>,
    /// With `caseId`: the item's key in the LA's checklist template.
    pub key: Option<String>,
    /// True to mark it done (default), false to mark it not done.
    #[graphql(default = true)]
    pub completed: bool,
    /// When it was done; defaults to today.
    pub completed_on: Option<Date>,
    /// Optional note (at most 5,000 characters).
    pub note: Option<String>,
    /// The version of the item the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `assessmentSignOff`.
#[derive(InputObject)]
pub struct AssessmentSignOffInput {
    /// The case, in ASSESSMENT with the stage's required practice actions done.
    pub case_id: ID,
    /// Date of the sign-off (defaults to today; not before the stage began, not in the future).
    pub signed_off_on: Option<Date>,
    /// The version of the case the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `assessmentSignOff`.
    AssessmentSignOffPayload {
        /// The ASSESSMENT stage, now signed off.
        stage: CaseStage
    }
);

crate::payload!(
    /// Result of `checklistItemComplete`.
    ChecklistItemCompletePayload {
        /// The item.
        item: ChecklistItem
    }
);

/// Input of `decisionRecord`.
#[derive(InputObject)]
pub struct DecisionRecordInput {
    /// The case.
    pub case_id: ID,
    /// D1 (in IDENTIFICATION), D2 (in ASSESSMENT, after an agreed RC1) or D3 (in RETURN_DECISION, after an agreed RC2).
    pub kind: DecisionKind,
    /// Yes moves the case on; no closes it as not pursued; deferred (D1, D2) keeps it where it is.
    pub outcome: DecisionOutcome,
    /// Why (1–20,000 characters).
    pub rationale: String,
    /// Date of the decision; defaults to today.
    pub decided_on: Option<Date>,
    /// D3 = yes: the planned date of the return.
    pub planned_return_on: Option<Date>,
    /// Required with "no": the alternative permanence plan (Annex A code other than a return, e.g. `LTFOST18`).
    pub alternative_plan: Option<String>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Result of `decisionRecord`.
#[derive(SimpleObject)]
pub struct DecisionRecordPayload {
    /// The decision.
    pub decision: Option<Decision>,
    /// The case after the decision.
    pub case: Option<Case>,
    /// What was wrong with the input or broke a rule; empty on success.
    pub user_errors: Vec<crate::error::UserError>,
}

impl crate::payload::Payload for DecisionRecordPayload {
    fn from_errors(errors: Vec<crate::error::UserError>) -> Self {
        Self {
            decision: None,
            case: None,
            user_errors: errors,
        }
    }
}

/// Input of `decisionApprove`.
#[derive(InputObject)]
pub struct DecisionApproveInput {
    /// The decision awaiting approval.
    pub decision_id: ID,
    /// Date of approval; defaults to today.
    pub approved_on: Option<Date>,
    /// The version of the decision the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `decisionApprove`.
    DecisionApprovePayload {
        /// The approved decision.
        decision: Decision
    }
);

/// Input of `riskClassificationPropose`.
#[derive(InputObject)]
pub struct RiskClassificationProposeInput {
    /// The case.
    pub case_id: ID,
    /// RC1 (ASSESSMENT), RC2 (RETURN_DECISION) or RC3 (RETURN_AND_SUPPORT).
    pub kind: ClassificationKind,
    /// The proposed level.
    pub level: RiskLevel,
    /// Why (1–20,000 characters).
    pub rationale: String,
    /// Date of the classification; defaults to today.
    pub classified_on: Option<Date>,
}

crate::payload!(
    /// Result of `riskClassificationPropose`.
    RiskClassificationProposePayload {
        /// The proposed classification.
        classification: RiskClassification
    }
);

/// Input of `riskClassificationAgree`.
#[derive(InputObject)]
pub struct RiskClassificationAgreeInput {
    /// The proposed classification.
    pub classification_id: ID,
    /// Date of agreement; defaults to today.
    pub agreed_on: Option<Date>,
    /// The version of the classification the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `riskClassificationAgree`.
    RiskClassificationAgreePayload {
        /// The agreed classification.
        classification: RiskClassification
    }
);

/// Input of `goalsStageComplete`.
#[derive(InputObject)]
pub struct GoalsStageCompleteInput {
    /// The case (in GOALS_AND_SERVICES).
    pub case_id: ID,
    /// Date; defaults to today.
    pub completed_on: Option<Date>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `goalsStageComplete` and `returnRecord`.
    CaseChangePayload {
        /// The case.
        case: Case
    }
);

/// Input of `returnRecord`.
#[derive(InputObject)]
pub struct ReturnRecordInput {
    /// The case.
    pub case_id: ID,
    /// Date the child went home.
    pub returned_on: Date,
    /// True when the child went home without a D3 = yes (ran home, placement broke down, a parent
    /// removed a child accommodated under section 20). Recorded as E4B.
    #[graphql(default = false)]
    pub unplanned: bool,
    /// True (default) when the episode of care ends (E4A/E4B, or E13); false when the child stays
    /// looked after, placed with parents: the episode then ends X1 and a new one begins in P1
    /// (a care order is needed: a child accommodated under section 20 who goes home leaves care).
    #[graphql(default = true)]
    pub ends_care: bool,
    /// True when the child went to relatives or friends who do not hold parental responsibility
    /// (the episode ends E13).
    #[graphql(default = false)]
    pub without_parental_responsibility: bool,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Input of `caseClose`.
#[derive(InputObject)]
pub struct CaseCloseInput {
    /// The case.
    pub case_id: ID,
    /// Why it closes.
    pub reason: ClosureReason,
    /// Why, in words (at most 20,000 characters; needed for OTHER and MOVED_LA).
    pub rationale: Option<String>,
    /// Date; defaults to today.
    pub closed_on: Option<Date>,
    /// Required for BROKE_DOWN: when the child re-entered care.
    pub reentered_care_on: Option<Date>,
    /// Required for NOT_PURSUED: the alternative permanence plan (Annex A code).
    pub alternative_plan: Option<String>,
    /// Whether the child was maltreated after the return.
    pub maltreatment_after_return: Option<YesNoUnknown>,
    /// STABLE_AT_HOME only, by a team manager or nominated officer: why the case closes as stable
    /// without an agreed RC3 or support covering the LA's support months (recorded on the closure).
    pub override_reason: Option<String>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Mutations that move a case through the framework.
#[derive(Default)]
pub struct StagesMutation;

#[Object]
impl StagesMutation {
    /// Marks a practice action of a stage done (or not done).
    async fn checklist_item_complete(
        &self,
        ctx: &Context<'_>,
        input: ChecklistItemCompleteInput,
    ) -> Result<ChecklistItemCompletePayload> {
        run(async {
            let item = match (&input.item_id, &input.case_id, &input.key) {
                (Some(id), None, None) if input.stage.is_none() => {
                    ItemRef::Id(ChecklistItemId::from_input(id, &["itemId"])?)
                }
                (None, Some(case), Some(key)) => ItemRef::Key {
                    case: CaseId::from_input(case, &["caseId"])?,
                    stage: input.stage,
                    key: key.clone(),
                },
                _ => {
                    return Err(ApiError::user(
                        UserErrorCode::Invalid,
                        &[],
                        "give itemId, or caseId and key (and optionally stage)",
                    ));
                }
            };
            let item = service::complete_item(
                ctx.db()?,
                ctx.writer()?,
                item,
                input.completed,
                input.completed_on.map(|d| d.0),
                input.note,
                input.expected_version,
            )
            .await?;
            Ok(ChecklistItemCompletePayload::ok(ChecklistItem(item)))
        })
        .await
    }

    /// Records D1, D2 or D3 and moves the case on: yes enters the next stage (D3 = yes awaits the
    /// return), no closes the case as not pursued, deferred keeps it in its stage.
    async fn decision_record(
        &self,
        ctx: &Context<'_>,
        input: DecisionRecordInput,
    ) -> Result<DecisionRecordPayload> {
        run(async {
            let cmd = RecordDecision {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                kind: input.kind,
                outcome: input.outcome,
                rationale: input.rationale,
                decided_on: input.decided_on.map(|d| d.0),
                planned_return_on: input.planned_return_on.map(|d| d.0),
                alternative_plan: input.alternative_plan,
                expected_version: input.expected_version,
            };
            let (decision, case) = service::record_decision(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(DecisionRecordPayload {
                decision: Some(Decision(decision)),
                case: Some(Case(case)),
                user_errors: vec![],
            })
        })
        .await
    }

    /// Approves a decision awaiting approval (D3 for a child looked after the LA's
    /// `d3ApprovalWorkingDays` or more): a nominated officer other than the decision's recorder.
    async fn decision_approve(
        &self,
        ctx: &Context<'_>,
        input: DecisionApproveInput,
    ) -> Result<DecisionApprovePayload> {
        run(async {
            let id = DecisionId::from_input(&input.decision_id, &["decisionId"])?;
            let d = service::approve_decision(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.approved_on.map(|d| d.0),
                input.expected_version,
            )
            .await?;
            Ok(DecisionApprovePayload::ok(Decision(d)))
        })
        .await
    }

    /// Proposes a risk classification in the stage it belongs to.
    async fn risk_classification_propose(
        &self,
        ctx: &Context<'_>,
        input: RiskClassificationProposeInput,
    ) -> Result<RiskClassificationProposePayload> {
        run(async {
            let cmd = ProposeClassification {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                kind: input.kind,
                level: input.level,
                rationale: input.rationale,
                classified_on: input.classified_on.map(|d| d.0),
            };
            let c = service::propose_classification(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(RiskClassificationProposePayload::ok(RiskClassification(c)))
        })
        .await
    }

    /// Signs off the Return Home Assessment (team manager or nominated officer), once.
    async fn assessment_sign_off(
        &self,
        ctx: &Context<'_>,
        input: AssessmentSignOffInput,
    ) -> Result<AssessmentSignOffPayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let stage = service::sign_off_assessment(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.signed_off_on.map(|d| d.0),
                input.expected_version,
            )
            .await?;
            Ok(AssessmentSignOffPayload::ok(CaseStage(stage)))
        })
        .await
    }

    /// Agrees a proposed risk classification (team manager); the case takes its level.
    async fn risk_classification_agree(
        &self,
        ctx: &Context<'_>,
        input: RiskClassificationAgreeInput,
    ) -> Result<RiskClassificationAgreePayload> {
        run(async {
            let id = ClassificationId::from_input(&input.classification_id, &["classificationId"])?;
            let (c, _) = service::agree_classification(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.agreed_on.map(|d| d.0),
                input.expected_version,
            )
            .await?;
            Ok(RiskClassificationAgreePayload::ok(RiskClassification(c)))
        })
        .await
    }

    /// Ends stage GOALS_AND_SERVICES (goals met and sustained) and enters RETURN_DECISION. Needs an
    /// agreed parental agreement with at least one goal and the stage's required practice actions.
    async fn goals_stage_complete(
        &self,
        ctx: &Context<'_>,
        input: GoalsStageCompleteInput,
    ) -> Result<CaseChangePayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let case = service::complete_goals_stage(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.completed_on.map(|d| d.0),
                input.expected_version,
            )
            .await?;
            Ok(CaseChangePayload::ok(Case(case)))
        })
        .await
    }

    /// Records the child's return home. Planned: after an approved D3 = yes (E4A). Unplanned: from
    /// any earlier stage (E4B). The case enters RETURN_AND_SUPPORT.
    async fn return_record(
        &self,
        ctx: &Context<'_>,
        input: ReturnRecordInput,
    ) -> Result<CaseChangePayload> {
        run(async {
            let cmd = RecordReturn {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                returned_on: input.returned_on.0,
                unplanned: input.unplanned,
                ends_care: input.ends_care,
                without_parental_responsibility: input.without_parental_responsibility,
                expected_version: input.expected_version,
            };
            Ok(CaseChangePayload::ok(Case(
                service::record_return(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Closes a case with its outcome (every closure records one).
    async fn case_close(
        &self,
        ctx: &Context<'_>,
        input: CaseCloseInput,
    ) -> Result<CaseChangePayload> {
        run(async {
            let cmd = CloseCase {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                reason: input.reason,
                closed_on: input.closed_on.map(|d| d.0),
                rationale: input.rationale,
                reentered_care_on: input.reentered_care_on.map(|d| d.0),
                alternative_plan: input.alternative_plan,
                maltreatment: input.maltreatment_after_return,
                override_reason: input.override_reason,
                expected_version: input.expected_version,
            };
            Ok(CaseChangePayload::ok(Case(
                service::close_case(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }
}
