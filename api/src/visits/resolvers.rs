//! Mutations recording visits and reviews.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, NewReview, NewVisit};
use super::types::{Review, Visit};
use crate::context::ContextExt;
use crate::domain::ReviewKind;
use crate::ids::CaseId;
use crate::payload::run;
use crate::scalars::Date;

/// Input of `visitRecord`.
#[derive(InputObject)]
pub struct VisitRecordInput {
    /// The case.
    pub case_id: ID,
    /// Date of the visit.
    pub visited_on: Date,
    /// Whether the child was seen.
    pub child_seen: bool,
    /// Whether the child was seen alone (implies seen).
    pub child_seen_alone: bool,
    /// What was observed (1–20,000 characters).
    pub observations: Option<String>,
}

crate::payload!(
    /// Result of `visitRecord`.
    VisitRecordPayload {
        /// The visit.
        visit: Visit
    }
);

/// Input of `reviewRecord`.
#[derive(InputObject)]
pub struct ReviewRecordInput {
    /// The case.
    pub case_id: ID,
    /// Kind of review.
    pub kind: ReviewKind,
    /// Date held.
    pub held_on: Date,
    /// What was decided (1–20,000 characters).
    pub decisions: Option<String>,
    /// When the next review is due; becomes the case's `nextReviewOn`.
    pub next_review_on: Option<Date>,
}

crate::payload!(
    /// Result of `reviewRecord`.
    ReviewRecordPayload {
        /// The review.
        review: Review
    }
);

/// Visit and review mutations.
#[derive(Default)]
pub struct VisitsMutation;

#[Object]
impl VisitsMutation {
    /// Records a visit to the child.
    async fn visit_record(
        &self,
        ctx: &Context<'_>,
        input: VisitRecordInput,
    ) -> Result<VisitRecordPayload> {
        run(async {
            let cmd = NewVisit {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                visited_on: input.visited_on.0,
                child_seen: input.child_seen,
                child_seen_alone: input.child_seen_alone,
                observations: input.observations,
            };
            Ok(VisitRecordPayload::ok(Visit(
                service::record_visit(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Records a review meeting and sets the case's next review date.
    async fn review_record(
        &self,
        ctx: &Context<'_>,
        input: ReviewRecordInput,
    ) -> Result<ReviewRecordPayload> {
        run(async {
            let cmd = NewReview {
                case_id: CaseId::from_input(&input.case_id, &["caseId"])?,
                kind: input.kind,
                held_on: input.held_on.0,
                decisions: input.decisions,
                next_review_on: input.next_review_on.map(|d| d.0),
            };
            Ok(ReviewRecordPayload::ok(Review(
                service::record_review(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }
}
