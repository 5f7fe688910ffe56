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
    /// Their strengths (optional; at most 20,000 characters).
    pub strengths: Option<String>,
    /// The concerns about them (optional; at most 20,000 characters).
    pub concerns: Option<String>,
    /// When they accepted (signed) this version, if they have: recorded with it, as
    /// `agreementPartyAccept` would.
    pub accepted_on: Option<Date>,
}

/// Input of `agreementCreate`.
#[derive(InputObject)]
pub struct AgreementCreateInput {
    /// The case (in GOALS_AND_SERVICES or later).
    pub case_id: ID,
    /// The parties (at least one, each named once); omitted, they are carried over from the latest version.
    pub parties: Option<Vec<AgreementPartyInput>>,
    /// Goals of this version, added with it (as `goalAdd` would; for a party, or the household).
    pub goals: Option<Vec<GoalInput>>,
    /// Agree the version in the same call, as `agreementAgree` would (acceptance as given in
    /// `parties`, or `withoutAcceptanceReason`).
    pub agree: Option<AgreementAgreeNowInput>,
}

/// A goal: with `goalAdd`, or in `agreementCreate`'s list.
#[derive(InputObject)]
pub struct GoalInput {
    /// The parent the goal is for (a party to the agreement version); omit for the household.
    pub household_member_id: Option<ID>,
    /// What must change.
    pub description: String,
    /// The steps (optional).
    pub steps: Option<String>,
    /// Who is responsible (optional; at most 200 characters).
    pub responsible: Option<String>,
    /// The support offered (optional).
    pub support_offered: Option<String>,
    /// By when.
    pub target_date: Date,
}

/// Agreeing a version in the call that drafts it.
#[derive(InputObject)]
pub struct AgreementAgreeNowInput {
    /// Date it comes into force; defaults to today.
    pub agreed_on: Option<Date>,
    /// Why it comes into force without every party with parental responsibility accepting.
    pub without_acceptance_reason: Option<String>,
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
    /// The goal.
    #[graphql(flatten)]
    pub goal: GoalInput,
}

impl GoalInput {
    /// The goal for `agreement`; a bad member ID is named at `path` + `householdMemberId`.
    fn into_new(self, agreement: AgreementId, path: &[&str]) -> crate::error::ApiResult<NewGoal> {
        let field: Vec<&str> = path.iter().copied().chain(["householdMemberId"]).collect();
        Ok(NewGoal {
            agreement,
            member: self
                .household_member_id
                .map(|id| HouseholdMemberId::from_input(&id, &field))
                .transpose()?,
            description: self.description,
            steps: self.steps,
            responsible: self.responsible,
            support_offered: self.support_offered,
            target_date: self.target_date.0,
        })
    }
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
    /// What was seen (optional).
    pub note: Option<String>,
    /// The evidence (optional: observed change sustained over time, not attendance at a course).
    pub evidence: Option<String>,
    /// Date of the review (not before the latest one); defaults to today.
    pub reviewed_on: Option<Date>,
}

/// Input of `goalReviewRound`: one review meeting's ratings of several goals.
#[derive(InputObject)]
pub struct GoalReviewRoundInput {
    /// Date of the round (not before any goal's latest review); defaults to today.
    pub reviewed_on: Option<Date>,
    /// Each goal's rating (at least one).
    pub reviews: Vec<GoalRatingInput>,
}

/// One goal's rating in a review round.
#[derive(InputObject)]
pub struct GoalRatingInput {
    /// The goal (not one of a superseded version).
    pub goal_id: ID,
    /// Red, amber or green.
    pub rating: Rating,
    /// What was seen (optional).
    pub note: Option<String>,
    /// The evidence (optional).
    pub evidence: Option<String>,
}

crate::payload!(
    /// Result of `goalReviewRound`.
    GoalReviewRoundPayload {
        /// The goals, in the order given.
        goals: Vec<Goal>
    }
);

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
            let mut acceptances = Vec::new();
            let parties = match input.parties {
                Some(list) => Some(
                    list.into_iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let idx = i.to_string();
                            let member = HouseholdMemberId::from_input(
                                &p.household_member_id,
                                &["parties", &idx, "householdMemberId"],
                            )?;
                            if let Some(on) = p.accepted_on {
                                acceptances.push((member, on.0));
                            }
                            Ok(NewParty {
                                member,
                                strengths: p.strengths,
                                concerns: p.concerns,
                            })
                        })
                        .collect::<crate::error::ApiResult<Vec<_>>>()?,
                ),
                None => None,
            };
            let goals = input
                .goals
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, g)| g.into_new(AgreementId(0), &["goals", &i.to_string()]))
                .collect::<crate::error::ApiResult<Vec<_>>>()?;
            let cmd = service::DraftAgreement {
                case_id,
                parties,
                acceptances,
                goals,
                agree: input
                    .agree
                    .map(|a| (a.agreed_on.map(|d| d.0), a.without_acceptance_reason)),
            };
            let a = service::draft_agreement(ctx.db()?, ctx.writer()?, cmd).await?;
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
            let agreement = AgreementId::from_input(&input.agreement_id, &["agreementId"])?;
            let cmd = input.goal.into_new(agreement, &[])?;
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

    /// Reviews several goals in one round (each written, audited and evented as `goalReview`
    /// would; all or none).
    async fn goal_review_round(
        &self,
        ctx: &Context<'_>,
        input: GoalReviewRoundInput,
    ) -> Result<GoalReviewRoundPayload> {
        run(async {
            let on = input.reviewed_on.map(|d| d.0);
            let reviews = input
                .reviews
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    Ok(ReviewGoal {
                        goal: GoalId::from_input(
                            &r.goal_id,
                            &["reviews", &i.to_string(), "goalId"],
                        )?,
                        rating: r.rating,
                        note: r.note,
                        evidence: r.evidence,
                        reviewed_on: on,
                    })
                })
                .collect::<crate::error::ApiResult<Vec<_>>>()?;
            let goals = service::review_round(ctx.db()?, ctx.writer()?, reviews).await?;
            Ok(GoalReviewRoundPayload::ok(
                goals.into_iter().map(Goal).collect::<Vec<_>>(),
            ))
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
