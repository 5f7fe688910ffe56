//! The outcome follow-up mutation.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, FollowUp};
use super::types::Outcome;
use crate::context::ContextExt;
use crate::domain::YesNoUnknown;
use crate::ids::CaseId;
use crate::payload::run;
use crate::scalars::Date;

/// Input of `outcomeFollowUp`. Only the fields given change.
#[derive(InputObject)]
pub struct OutcomeFollowUpInput {
    /// The case.
    pub case_id: ID,
    /// Still at home 3 months after the return (only once 3 months have passed).
    pub home_at_3_months: Option<bool>,
    /// Still at home 6 months after the return.
    pub home_at_6_months: Option<bool>,
    /// Still at home 12 months after the return.
    pub home_at_12_months: Option<bool>,
    /// Date the child re-entered care.
    pub reentered_care_on: Option<Date>,
    /// Maltreatment after the return.
    pub maltreatment_after_return: Option<YesNoUnknown>,
    /// The version of the outcome the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `outcomeFollowUp`.
    OutcomeFollowUpPayload {
        /// The outcome.
        outcome: Outcome
    }
);

/// Outcome mutations.
#[derive(Default)]
pub struct OutcomesMutation;

#[Object]
impl OutcomesMutation {
    /// Records whether a returned child is still at home at 3, 6 and 12 months, re-entry and
    /// maltreatment. Allowed after closure.
    async fn outcome_follow_up(
        &self,
        ctx: &Context<'_>,
        input: OutcomeFollowUpInput,
    ) -> Result<OutcomeFollowUpPayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let f = FollowUp {
                case_id: Some(id),
                home_at_3_months: input.home_at_3_months,
                home_at_6_months: input.home_at_6_months,
                home_at_12_months: input.home_at_12_months,
                reentered_care_on: input.reentered_care_on.map(|d| d.0),
                maltreatment: input.maltreatment_after_return,
                expected_version: input.expected_version,
            };
            let saved = service::follow_up(ctx.db()?, ctx.writer()?, id, f).await?;
            Ok(OutcomeFollowUpPayload::ok(Outcome(saved)))
        })
        .await
    }
}
