//! Mutations on the parental agreement and its goals.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, NewGoal, NewParty, ReviewGoal, ReviseGoal};
use super::types::{AgreementParty, Goal, ParentalAgreement};
use crate::context::ContextExt;
use crate::domain::{GoalStatus, Rating};
use crate::ids::{AgreementId, AgreementPartyId, CaseId, GoalId, HouseholdMemberId};
use crate::payload::run;
use crate::scalars::Date;

/// A parent or carer in a new agreement.
#[derive(InputObject)]
pub struct AgreementPartyInput {
    /// The household member (holding parental responsibility or living with the child).
    pub household_member_id: ID,
    /// Their strengths (1–20,000 characters).
    pub strengths: String,
    /// The concerns about them (1–20,000 characters).
    pub concerns: String,
}

/// Input of `agreementCreate`.
#[derive(InputObject)]
pub struct AgreementCreateInput {
    /// The case (in GOALS_AND_SERVICES or later).
    pub case_id: ID,
    /// The parties (at least one, each named once); omitted, they are carried over from the latest version.
    pub parties: Option<Vec<AgreementPartyInput>>,
}

crate::payload!(
    /// Result of `agreementCreate` and `agreementAgree`.
    AgreementPayload {
        /// The agreement version.
        agreement: ParentalAgreement
    }
);

/// Input of `agreementAgree`.
#[derive(InputObject)]
pub struct AgreementAgreeInput {
    /// The draft version.
    pub agreement_id: ID,
    /// Date it comes into force (not before the case opened or the version in force was agreed); defaults to today.
    pub agreed_on: Option<Date>,
    /// Why the agreement comes into force without the acceptance of every party with parental
    /// responsibility (1–20,000 characters); without it, each must have accepted
    /// (`agreementPartyAccept`) or the answer is `ACCEPTANCE_REQUIRED`.
    pub without_acceptance_reason: Option<String>,
    /// The version of the agreement the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `agreementPartyAccept`.
#[derive(InputObject)]
pub struct AgreementPartyAcceptInput {
    /// The party.
    pub party_id: ID,
    /// Date of acceptance (signature); defaults to today.
    pub accepted_on: Option<Date>,
    /// The version of the party the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `agreementPartyAccept`.
    AgreementPartyAcceptPayload {
        /// The party.
        party: AgreementParty
    }
);

/// Input of `goalAdd`.
#[derive(InputObject)]
pub struct GoalAddInput {
    /// The agreement version (draft or in force).
    pub agreement_id: ID,
    /// The parent the goal is for (a party to this agreement version); omit for the household.
    pub household_member_id: Option<ID>,
    /// What must change.
    pub description: String,
    /// The steps.
    pub steps: String,
    /// Who is responsible (1–200 characters).
    pub responsible: String,
    /// The support offered.
    pub support_offered: String,
    /// By when.
    pub target_date: Date,
}

crate::payload!(
    /// Result of the goal mutations.
    GoalPayload {
        /// The goal.
        goal: Goal
    }
);

/// Input of `goalReview`.
#[derive(InputObject)]
pub struct GoalReviewInput {
    /// The goal (not one of a superseded version).
    pub goal_id: ID,
    /// Red, amber or green.
    pub rating: Rating,
    /// What was seen.
    pub note: String,
    /// The evidence (observed change sustained over time, not attendance at a course).
    pub evidence: String,
    /// Date of the review (not before the latest one); defaults to today.
    pub reviewed_on: Option<Date>,
}

/// Input of `goalRevise`.
#[derive(InputObject)]
pub struct GoalReviseInput {
    /// The goal (not one of a superseded version).
    pub goal_id: ID,
    /// Why (1–20,000 characters).
    pub reason: String,
    /// A new target date (more time).
    pub new_target_date: Option<Date>,
    /// New wording.
    pub new_description: Option<String>,
    /// A new status.
    pub status: Option<GoalStatus>,
    /// The goal version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Mutations on the parental agreement and goals.
#[derive(Default)]
pub struct GoalsMutation;

#[Object]
impl GoalsMutation {
    /// Starts a new draft version of the parental agreement (only when no draft is open). The latest
    /// version's ACTIVE goals are copied into it with their reviews and revisions.
    async fn agreement_create(
        &self,
        ctx: &Context<'_>,
        input: AgreementCreateInput,
    ) -> Result<AgreementPayload> {
        run(async {
            let case_id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let parties = match input.parties {
                Some(list) => Some(
                    list.into_iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let idx = i.to_string();
                            Ok(NewParty {
                                member: HouseholdMemberId::from_input(
                                    &p.household_member_id,
                                    &["parties", &idx, "householdMemberId"],
                                )?,
                                strengths: p.strengths,
                                concerns: p.concerns,
                            })
                        })
                        .collect::<crate::error::ApiResult<Vec<_>>>()?,
                ),
                None => None,
            };
            let a = service::create_agreement(ctx.db()?, ctx.writer()?, case_id, parties).await?;
            Ok(AgreementPayload::ok(ParentalAgreement(a)))
        })
        .await
    }

    /// Brings a draft into force; the version in force before it is superseded. Needs a goal, and
    /// the acceptance of every party with parental responsibility or `withoutAcceptanceReason`.
    async fn agreement_agree(
        &self,
        ctx: &Context<'_>,
        input: AgreementAgreeInput,
    ) -> Result<AgreementPayload> {
        run(async {
            let id = AgreementId::from_input(&input.agreement_id, &["agreementId"])?;
            let a = service::agree_agreement(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.agreed_on.map(|d| d.0),
                input.without_acceptance_reason,
                input.expected_version,
            )
            .await?;
            Ok(AgreementPayload::ok(ParentalAgreement(a)))
        })
        .await
    }

    /// Records a parent's acceptance (signature) of the agreement.
    async fn agreement_party_accept(
        &self,
        ctx: &Context<'_>,
        input: AgreementPartyAcceptInput,
    ) -> Result<AgreementPartyAcceptPayload> {
        run(async {
            let id = AgreementPartyId::from_input(&input.party_id, &["partyId"])?;
            let p = service::accept_party(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.accepted_on.map(|d| d.0),
                input.expected_version,
            )
            .await?;
            Ok(AgreementPartyAcceptPayload::ok(AgreementParty(p)))
        })
        .await
    }

    /// Adds a goal to a draft or to the agreement in force.
    async fn goal_add(&self, ctx: &Context<'_>, input: GoalAddInput) -> Result<GoalPayload> {
        run(async {
            let cmd = NewGoal {
                agreement: AgreementId::from_input(&input.agreement_id, &["agreementId"])?,
                member: input
                    .household_member_id
                    .map(|id| HouseholdMemberId::from_input(&id, &["householdMemberId"]))
                    .transpose()?,
                description: input.description,
                steps: input.steps,
                responsible: input.responsible,
                support_offered: input.support_offered,
                target_date: input.target_date.0,
            };
            Ok(GoalPayload::ok(Goal(
                service::add_goal(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Reviews a goal (red/amber/green); "sustained since" tracks how long it has held green.
    async fn goal_review(&self, ctx: &Context<'_>, input: GoalReviewInput) -> Result<GoalPayload> {
        run(async {
            let cmd = ReviewGoal {
                goal: GoalId::from_input(&input.goal_id, &["goalId"])?,
                rating: input.rating,
                note: input.note,
                evidence: input.evidence,
                reviewed_on: input.reviewed_on.map(|d| d.0),
            };
            Ok(GoalPayload::ok(Goal(
                service::review_goal(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Revises a goal (more time, new wording, or a new status) with a recorded reason.
    async fn goal_revise(&self, ctx: &Context<'_>, input: GoalReviseInput) -> Result<GoalPayload> {
        run(async {
            let cmd = ReviseGoal {
                goal: GoalId::from_input(&input.goal_id, &["goalId"])?,
                reason: input.reason,
                new_target_date: input.new_target_date.map(|d| d.0),
                new_description: input.new_description,
                status: input.status,
                expected_version: input.expected_version,
            };
            Ok(GoalPayload::ok(Goal(
                service::revise_goal(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }
}
