//! The GraphQL outcome type.

use async_graphql::{Context, ID, Object, Result};
use entities::outcome;

use crate::cases::loaders::CaseKey;
use crate::children::loaders::EpisodesOf;
use crate::context::{load_all, load_first};
use crate::domain::{ClosureReason, ReturnType, YesNoUnknown};
use crate::framework::outcomes;
use crate::ids::OutcomeId;
use crate::scalars::Date;

/// What happened: the return home, whether it lasted, and why the case closed.
pub struct Outcome(pub outcome::Model);

impl Outcome {
    /// What the child's care episodes say about the return, when they can.
    async fn episode_view(&self, ctx: &Context<'_>) -> Result<Option<outcomes::EpisodeView>> {
        let Some(returned_on) = self.0.return_on else {
            return Ok(None);
        };
        let Some(case) = load_first(ctx, CaseKey(self.0.case_id), |c| c).await? else {
            return Ok(None);
        };
        let episodes = load_all(ctx, EpisodesOf(case.child_id), |e| e).await?;
        Ok(outcomes::episode_view(returned_on, &episodes))
    }

    /// The episodes' answer for `months`, else the one recorded.
    async fn home_at(
        &self,
        ctx: &Context<'_>,
        months: u32,
        recorded: Option<bool>,
    ) -> Result<Option<bool>> {
        let view = self.episode_view(ctx).await?;
        Ok(outcomes::home_at(view, months, crate::cases::service::today()).or(recorded))
    }
}

/// What happened: the return home, whether it lasted, and why the case closed.
#[Object]
impl Outcome {
    /// Global ID.
    pub async fn id(&self) -> ID {
        OutcomeId(self.0.id).to_global()
    }
    /// Date the child went home; null if they did not.
    async fn returned_on(&self) -> Option<Date> {
        self.0.return_on.map(Date)
    }
    /// Planned (E4A) or unplanned (E4B) return.
    async fn return_type(&self) -> Result<Option<ReturnType>> {
        Ok(self.0.return_type)
    }
    /// Still at home 3 months after the return: from the care episodes when they can say (the
    /// return ended an episode: a later one is a re-entry), else as recorded; null until known.
    async fn home_at_3_months(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        self.home_at(ctx, 3, self.0.home_at_3_months).await
    }
    /// Still at home 6 months after the return (as `homeAt3Months`).
    async fn home_at_6_months(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        self.home_at(ctx, 6, self.0.home_at_6_months).await
    }
    /// Still at home 12 months after the return (as `homeAt3Months`).
    async fn home_at_12_months(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        self.home_at(ctx, 12, self.0.home_at_12_months).await
    }
    /// Date the child re-entered care (a new period of care), if they did: from the care
    /// episodes when they say, else as recorded.
    async fn reentered_care_on(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        let view = self.episode_view(ctx).await?;
        Ok(view
            .and_then(|v| v.reentered_on)
            .or(self.0.reentered_care_on)
            .map(Date))
    }
    /// Whether the child was maltreated after the return.
    async fn maltreatment_after_return(&self) -> Result<Option<YesNoUnknown>> {
        Ok(self.0.maltreatment)
    }
    /// Why the case closed; null while open.
    async fn closure_reason(&self) -> Result<Option<ClosureReason>> {
        Ok(self.0.closure_reason)
    }
    /// Date the case closed.
    async fn closed_on(&self) -> Option<Date> {
        self.0.closed_on.map(Date)
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
