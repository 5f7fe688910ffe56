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
    /// The visit.
    #[graphql(flatten)]
    pub visit: VisitFields,
}

/// A visit's own fields (`visitRecord`, `visitUpsert`).
#[derive(InputObject)]
pub struct VisitFields {
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
    /// The review.
    #[graphql(flatten)]
    pub review: ReviewFields,
}

/// A review meeting's own fields (`reviewRecord`, `reviewUpsert`).
#[derive(InputObject)]
pub struct ReviewFields {
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

impl VisitFields {
    /// The visit to record on `case_id`.
    pub fn into_cmd(self, case_id: CaseId) -> NewVisit {
        NewVisit {
            case_id,
            visited_on: self.visited_on.0,
            child_seen: self.child_seen,
            child_seen_alone: self.child_seen_alone,
            observations: self.observations,
        }
    }
}

impl ReviewFields {
    /// The review to record on `case_id`.
    pub fn into_cmd(self, case_id: CaseId) -> NewReview {
        NewReview {
            case_id,
            kind: self.kind,
            held_on: self.held_on.0,
            decisions: self.decisions,
            next_review_on: self.next_review_on.map(|d| d.0),
        }
    }
}

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
            let cmd = input
                .visit
                .into_cmd(CaseId::from_input(&input.case_id, &["caseId"])?);
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
            let cmd = input
                .review
                .into_cmd(CaseId::from_input(&input.case_id, &["caseId"])?);
            Ok(ReviewRecordPayload::ok(Review(
                service::record_review(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }
}
