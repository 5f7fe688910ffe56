//! The GraphQL outcome type.

use async_graphql::{ID, Object, Result};
use entities::outcome;

use crate::domain::{ClosureReason, ReturnType, YesNoUnknown};
use crate::ids::OutcomeId;
use crate::scalars::Date;

/// What happened: the return home, whether it lasted, and why the case closed.
pub struct Outcome(pub outcome::Model);

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
        Ok(self
            .0
            .return_type
            .as_deref()
            .map(ReturnType::from_db)
            .transpose()?)
    }
    /// Still at home 3 months after the return; null until known.
    async fn home_at_3_months(&self) -> Option<bool> {
        self.0.home_at_3_months
    }
    /// Still at home 6 months after the return; null until known.
    async fn home_at_6_months(&self) -> Option<bool> {
        self.0.home_at_6_months
    }
    /// Still at home 12 months after the return; null until known.
    async fn home_at_12_months(&self) -> Option<bool> {
        self.0.home_at_12_months
    }
    /// Date the child re-entered care (a new period of care), if they did.
    async fn reentered_care_on(&self) -> Option<Date> {
        self.0.reentered_care_on.map(Date)
    }
    /// Whether the child was maltreated after the return.
    async fn maltreatment_after_return(&self) -> Result<Option<YesNoUnknown>> {
        Ok(self
            .0
            .maltreatment
            .as_deref()
            .map(YesNoUnknown::from_db)
            .transpose()?)
    }
    /// Why the case closed; null while open.
    async fn closure_reason(&self) -> Result<Option<ClosureReason>> {
        Ok(self
            .0
            .closure_reason
            .as_deref()
            .map(ClosureReason::from_db)
            .transpose()?)
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
