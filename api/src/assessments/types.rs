//! GraphQL types for assessment factors and the child's views.

use async_graphql::{Context, ID, Object, Result};
use entities::{assessment_factor, child_view};

use crate::children::types::HouseholdMember;
use crate::children::types::load_member;
use crate::domain::{FactorCategory, FactorKind, FactorStatus};
use crate::ids::{ChildViewId, FactorId};
use crate::scalars::Date;
use crate::tenancy::types::{Actor, load_actor};

/// A risk or protective factor about the child or a household member.
pub struct AssessmentFactor(pub assessment_factor::Model);

/// A risk or protective factor about the child or a household member.
#[Object]
impl AssessmentFactor {
    /// Global ID.
    pub async fn id(&self) -> ID {
        FactorId(self.0.id).to_global()
    }
    /// The person it is about; null when it is about the child.
    async fn household_member(&self, ctx: &Context<'_>) -> Result<Option<HouseholdMember>> {
        load_member(ctx, self.0.household_member_id).await
    }
    /// Risk or protective.
    async fn kind(&self) -> Result<FactorKind> {
        Ok(self.0.kind)
    }
    /// Category.
    async fn category(&self) -> Result<FactorCategory> {
        Ok(self.0.category)
    }
    /// For a risk factor: current, historical or resolved.
    async fn status(&self) -> Result<Option<FactorStatus>> {
        Ok(self.0.status)
    }
    /// The evidence.
    async fn evidence(&self) -> &str {
        &self.0.evidence
    }
    /// Date recorded.
    async fn recorded_on(&self) -> Date {
        self.0.recorded_on.into()
    }
    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.created_by).await
    }
}

/// The child's wishes and feelings, in their own words where possible.
pub struct ChildView(pub child_view::Model);

/// The child's wishes and feelings, in their own words where possible.
#[Object]
impl ChildView {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ChildViewId(self.0.id).to_global()
    }
    /// Date recorded.
    async fn recorded_on(&self) -> Date {
        self.0.recorded_on.into()
    }
    /// Whether `content` is the child's own words.
    async fn in_own_words(&self) -> bool {
        self.0.in_own_words
    }
    /// What the child said or conveyed.
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// Who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.created_by).await
    }
}
