//! GraphQL types for the parental agreement, goals, reviews and revisions.

use async_graphql::{Context, ID, Object, Result};
use entities::{agreement_party, goal, goal_review, goal_revision, parental_agreement};

use super::loaders::{GoalsOfAgreement, PartiesOf, ReviewsOfGoal, RevisionsOfGoal};
use crate::children::types::HouseholdMember;
use crate::children::types::load_member;
use crate::context::load_all;
use crate::domain::{AgreementStatus, GoalStatus, Rating};
use crate::ids::{AgreementId, AgreementPartyId, GoalId, GoalReviewId};
use crate::scalars::Date;
use crate::tenancy::types::{Actor, load_actor};

/// Goals of an agreement version.
pub async fn goals_of(ctx: &Context<'_>, agreement_id: i64) -> Result<Vec<Goal>> {
    load_all(ctx, GoalsOfAgreement(agreement_id), Goal).await
}

/// One version of the written agreement between the LA and the parents.
pub struct ParentalAgreement(pub parental_agreement::Model);

/// One version of the written agreement between the LA and the parents.
#[Object]
impl ParentalAgreement {
    /// Global ID.
    pub async fn id(&self) -> ID {
        AgreementId(self.0.id).to_global()
    }
    /// Version number, from 1.
    async fn number(&self) -> i32 {
        self.0.number
    }
    /// Draft, in force (ACTIVE) or superseded.
    async fn status(&self) -> Result<AgreementStatus> {
        Ok(self.0.status)
    }
    /// Date the version came into force.
    async fn agreed_on(&self) -> Option<Date> {
        self.0.agreed_on.map(Date)
    }
    /// The parents or carers party to it, with their strengths and the concerns.
    async fn parties(&self, ctx: &Context<'_>) -> Result<Vec<AgreementParty>> {
        load_all(ctx, PartiesOf(self.0.id), AgreementParty).await
    }
    /// The goals of this version.
    async fn goals(&self, ctx: &Context<'_>) -> Result<Vec<Goal>> {
        goals_of(ctx, self.0.id).await
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A parent or carer party to an agreement.
pub struct AgreementParty(pub agreement_party::Model);

/// A parent or carer party to an agreement.
#[Object]
impl AgreementParty {
    /// Global ID.
    pub async fn id(&self) -> ID {
        AgreementPartyId(self.0.id).to_global()
    }
    /// Record version; pass it as `expectedVersion` to `agreementPartyAccept`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The person.
    async fn household_member(&self, ctx: &Context<'_>) -> Result<Option<HouseholdMember>> {
        load_member(ctx, Some(self.0.household_member_id)).await
    }
    /// Their strengths.
    async fn strengths(&self) -> &str {
        &self.0.strengths
    }
    /// The concerns about them.
    async fn concerns(&self) -> &str {
        &self.0.concerns
    }
    /// When they accepted (signed) the agreement; null until they do.
    async fn accepted_on(&self) -> Option<Date> {
        self.0.accepted_on.map(Date)
    }
}

/// What must change, the steps, who is responsible and by when, and how it is going.
pub struct Goal(pub goal::Model);

/// What must change, the steps, who is responsible and by when, and how it is going.
#[Object]
impl Goal {
    /// Global ID.
    pub async fn id(&self) -> ID {
        GoalId(self.0.id).to_global()
    }
    /// The parent the goal is for; null when it is for the household.
    async fn household_member(&self, ctx: &Context<'_>) -> Result<Option<HouseholdMember>> {
        load_member(ctx, self.0.household_member_id).await
    }
    /// What must change.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The steps.
    async fn steps(&self) -> &str {
        &self.0.steps
    }
    /// Who is responsible.
    async fn responsible(&self) -> &str {
        &self.0.responsible
    }
    /// The support offered.
    async fn support_offered(&self) -> &str {
        &self.0.support_offered
    }
    /// By when.
    async fn target_date(&self) -> Date {
        self.0.target_date.into()
    }
    /// Active, met, not met or withdrawn.
    async fn status(&self) -> Result<GoalStatus> {
        Ok(self.0.status)
    }
    /// The rating at the latest review.
    async fn latest_rating(&self) -> Result<Option<Rating>> {
        Ok(self.0.latest_rating)
    }
    /// Date of the latest review.
    async fn latest_review_on(&self) -> Option<Date> {
        self.0.latest_review_on.map(Date)
    }
    /// Since when the goal has been rated green at every review; null when not green now.
    async fn sustained_since(&self) -> Option<Date> {
        self.0.sustained_since.map(Date)
    }
    /// Whether the target date has passed and the goal is not met: true for an ACTIVE or NOT_MET
    /// goal past its target date; never for a MET or WITHDRAWN one.
    async fn overdue(&self) -> bool {
        self.0.status != GoalStatus::Met
            && self.0.status != GoalStatus::Withdrawn
            && self.0.target_date < crate::cases::service::today()
    }
    /// Every review, oldest first.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<GoalReview>> {
        load_all(ctx, ReviewsOfGoal(self.0.id), GoalReview).await
    }
    /// Every revision (more time, new wording, status), oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<GoalRevision>> {
        load_all(ctx, RevisionsOfGoal(self.0.id), GoalRevision).await
    }
    /// Record version; pass it as `expectedVersion` to `goalRevise`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A review of a goal: red, amber or green, with a note and the evidence.
pub struct GoalReview(pub goal_review::Model);

/// A review of a goal: red, amber or green, with a note and the evidence.
#[Object]
impl GoalReview {
    /// Global ID.
    pub async fn id(&self) -> ID {
        GoalReviewId(self.0.id).to_global()
    }
    /// Date of the review.
    async fn reviewed_on(&self) -> Date {
        self.0.reviewed_on.into()
    }
    /// The rating.
    async fn rating(&self) -> Result<Rating> {
        Ok(self.0.rating)
    }
    /// What was seen.
    async fn note(&self) -> &str {
        &self.0.note
    }
    /// The evidence.
    async fn evidence(&self) -> &str {
        &self.0.evidence
    }
    /// Who reviewed it.
    async fn reviewed_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.created_by).await
    }
}

/// A recorded change to a goal.
pub struct GoalRevision(pub goal_revision::Model);

/// A recorded change to a goal.
#[Object]
impl GoalRevision {
    /// Date of the revision.
    async fn revised_on(&self) -> Date {
        self.0.revised_on.into()
    }
    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Target date before.
    async fn previous_target_date(&self) -> Date {
        self.0.previous_target_date.into()
    }
    /// Target date after.
    async fn new_target_date(&self) -> Date {
        self.0.new_target_date.into()
    }
    /// The wording before, when it changed.
    async fn previous_description(&self) -> Option<&str> {
        self.0.previous_description.as_deref()
    }
}
