//! Insight queries: parse, guard, call, map.

use async_graphql::{Context, InputObject, Object, Result};

use super::calculator::{self, CostSet, Estimate, Inputs};
use crate::context::ContextExt;
use crate::error::{ApiError, UserErrorCode};

/// Insight queries.
#[derive(Default)]
pub struct InsightQuery;

/// Inputs of the cost-and-savings calculator.
#[derive(InputObject)]
pub struct SavingsInput {
    /// Children returning home per year from families with high support needs.
    pub high_need_returns: f64,
    /// … with medium support needs.
    pub medium_need_returns: f64,
    /// … with low support needs.
    pub low_need_returns: f64,
    /// Share of returns that break down now, 0 to 1 (for example 0.47).
    pub breakdown_rate: f64,
    /// Share of returns that would break down with support, 0 to 1.
    pub target_rate: f64,
    /// The published unit costs to use where none are given (default the 2024 set).
    pub cost_set: Option<CostSet>,
    /// Cost of one child re-entering care, in pounds.
    pub reentry_cost: Option<f64>,
    /// Support cost per family with high needs, in pounds (the set's average when omitted).
    pub high_need_support_cost: Option<f64>,
    /// … medium needs.
    pub medium_need_support_cost: Option<f64>,
    /// … low needs (2024: from £1,644 over six months).
    pub low_need_support_cost: Option<f64>,
}

#[Object]
impl InsightQuery {
    /// The cost-and-savings calculator (NSPCC, after Holmes 2014 and Sussex 2024): the cost of
    /// supporting every returning family, the cost of the failed returns avoided at the target
    /// breakdown rate, the net saving, and the fall in breakdowns at which support pays for
    /// itself (`breakEvenReduction` = support cost ÷ (returns × cost of a re-entry)). Needs scope
    /// `aggregates:read`.
    async fn reunification_savings(
        &self,
        ctx: &Context<'_>,
        input: SavingsInput,
    ) -> Result<Estimate> {
        ctx.analyst()?;
        let inputs = Inputs {
            returns: [
                input.high_need_returns,
                input.medium_need_returns,
                input.low_need_returns,
            ],
            support_cost: [
                input.high_need_support_cost,
                input.medium_need_support_cost,
                input.low_need_support_cost,
            ],
            reentry_cost: input.reentry_cost,
            cost_set: input.cost_set.unwrap_or(CostSet::Published2024),
            breakdown_rate: input.breakdown_rate,
            target_rate: input.target_rate,
        };
        calculator::calculate(&inputs).map_err(|(field, message)| {
            ApiError::user(UserErrorCode::Invalid, &["input", field], message).into()
        })
    }
}
