//! GraphQL types for visits and review meetings.

use async_graphql::{Context, ID, Object, Result};
use entities::{review, visit};

use crate::domain::ReviewKind;
use crate::ids::{ReviewId, VisitId};
use crate::scalars::Date;
use crate::tenancy::types::{Actor, load_actor};

/// A visit to the child.
pub struct Visit(pub visit::Model);

/// A visit to the child.
#[Object]
impl Visit {
    /// Global ID.
    pub async fn id(&self) -> ID {
        VisitId(self.0.id).to_global()
    }
    /// Record version (a sync's `expectedVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Date of the visit.
    async fn visited_on(&self) -> Date {
        self.0.visited_on.into()
    }
    /// Whether the child was seen.
    async fn child_seen(&self) -> bool {
        self.0.child_seen
    }
    /// Whether the child was seen alone.
    async fn child_seen_alone(&self) -> bool {
        self.0.child_seen_alone
    }
    /// What was observed.
    async fn observations(&self) -> Option<&str> {
        self.0.observations.as_deref()
    }
    /// Who visited.
    async fn visited_by(&self, ctx: &Context<'_>) -> Result<Option<Actor>> {
        load_actor(ctx, self.0.created_by).await
    }
}

/// A review meeting of the plan or the agreement, or a looked-after review.
pub struct Review(pub review::Model);

/// A review meeting of the plan or the agreement, or a looked-after review.
#[Object]
impl Review {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ReviewId(self.0.id).to_global()
    }
    /// Record version (a sync's `expectedVersion`).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Kind of review.
    async fn kind(&self) -> Result<ReviewKind> {
        Ok(self.0.kind)
    }
    /// Date held.
    async fn held_on(&self) -> Date {
        self.0.held_on.into()
    }
    /// What was decided.
    async fn decisions(&self) -> Option<&str> {
        self.0.decisions.as_deref()
    }
    /// When the next review is due.
    async fn next_review_on(&self) -> Option<Date> {
        self.0.next_review_on.map(Date)
    }
}
