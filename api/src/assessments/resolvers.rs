//! Mutations recording what is assessed.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, NewFactor};
use super::types::{AssessmentFactor, ChildView};
use crate::context::ContextExt;
use crate::domain::{FactorCategory, FactorKind, FactorStatus};
use crate::ids::{CaseId, HouseholdMemberId};
use crate::payload::run;
use crate::scalars::Date;

/// Input of `assessmentFactorRecord`.
#[derive(InputObject)]
pub struct AssessmentFactorRecordInput {
    /// The case.
    pub case_id: ID,
    /// The household member it is about; omit when it is about the child.
    pub household_member_id: Option<ID>,
    /// Risk or protective.
    pub kind: FactorKind,
    /// Category (must fit the kind; OTHER fits both).
    pub category: FactorCategory,
    /// Required for a risk factor, absent for a protective one.
    pub status: Option<FactorStatus>,
    /// The evidence (1–20,000 characters).
    pub evidence: String,
    /// Date; defaults to today.
    pub recorded_on: Option<Date>,
}

/// Input of `assessmentFactorsRecord`: one person's risk and protective factors, together.
#[derive(InputObject)]
pub struct AssessmentFactorsRecordInput {
    /// The case.
    pub case_id: ID,
    /// The household member they are about; omit when they are about the child.
    pub household_member_id: Option<ID>,
    /// Date of all of them; defaults to today.
    pub recorded_on: Option<Date>,
    /// The factors (at least one).
    pub factors: Vec<FactorInput>,
}

/// One factor given with `assessmentFactorsRecord`.
#[derive(InputObject)]
pub struct FactorInput {
    /// Risk or protective.
    pub kind: FactorKind,
    /// Category (must fit the kind; OTHER fits both).
    pub category: FactorCategory,
    /// Required for a risk factor, absent for a protective one.
    pub status: Option<FactorStatus>,
    /// The evidence (1–20,000 characters).
    pub evidence: String,
}

crate::payload!(
    /// Result of `assessmentFactorsRecord`.
    AssessmentFactorsRecordPayload {
        /// The factors, in the order given.
        factors: Vec<AssessmentFactor>
    }
);

crate::payload!(
    /// Result of `assessmentFactorRecord`.
    AssessmentFactorRecordPayload {
        /// The factor.
        factor: AssessmentFactor
    }
);

/// Input of `childViewRecord`.
#[derive(InputObject)]
pub struct ChildViewRecordInput {
    /// The case.
    pub case_id: ID,
    /// Date; defaults to today.
    pub recorded_on: Option<Date>,
    /// Whether `content` is the child's own words.
    pub in_own_words: bool,
    /// What the child said or conveyed (1–20,000 characters).
    pub content: String,
}

crate::payload!(
    /// Result of `childViewRecord`.
    ChildViewRecordPayload {
        /// The record.
        child_view: ChildView
    }
);

/// Assessment mutations.
#[derive(Default)]
pub struct AssessmentsMutation;

#[Object]
impl AssessmentsMutation {
    /// Records a risk or protective factor about the child or a household member.
    async fn assessment_factor_record(
        &self,
        ctx: &Context<'_>,
        input: AssessmentFactorRecordInput,
    ) -> Result<AssessmentFactorRecordPayload> {
        run(async {
            let cmd = NewFactor {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                member: input
                    .household_member_id
                    .map(|id| HouseholdMemberId::from_input(&id, &["householdMemberId"]))
                    .transpose()?,
                kind: input.kind,
                category: input.category,
                status: input.status,
                evidence: input.evidence,
                recorded_on: input.recorded_on.map(|d| d.0),
            };
            let f = service::record_factor(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(AssessmentFactorRecordPayload::ok(AssessmentFactor(f)))
        })
        .await
    }

    /// Records one person's risk and protective factors together (each written, audited and
    /// evented as `assessmentFactorRecord` would; all or none).
    async fn assessment_factors_record(
        &self,
        ctx: &Context<'_>,
        input: AssessmentFactorsRecordInput,
    ) -> Result<AssessmentFactorsRecordPayload> {
        run(async {
            let case_id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let member = input
                .household_member_id
                .map(|id| HouseholdMemberId::from_input(&id, &["householdMemberId"]))
                .transpose()?;
            let on = input.recorded_on.map(|d| d.0);
            let cmds = input
                .factors
                .into_iter()
                .map(|f| NewFactor {
                    case_id,
                    member,
                    kind: f.kind,
                    category: f.category,
                    status: f.status,
                    evidence: f.evidence,
                    recorded_on: on,
                })
                .collect();
            let saved = service::record_factors(ctx.db()?, ctx.writer()?, cmds).await?;
            Ok(AssessmentFactorsRecordPayload::ok(
                saved.into_iter().map(AssessmentFactor).collect::<Vec<_>>(),
            ))
        })
        .await
    }

    /// Records the child's wishes and feelings.
    async fn child_view_record(
        &self,
        ctx: &Context<'_>,
        input: ChildViewRecordInput,
    ) -> Result<ChildViewRecordPayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let v = service::record_view(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.recorded_on.map(|d| d.0),
                input.in_own_words,
                &input.content,
            )
            .await?;
            Ok(ChildViewRecordPayload::ok(ChildView(v)))
        })
        .await
    }
}
