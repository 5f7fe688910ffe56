//! GraphQL types for the support plan and its services.

use async_graphql::{ID, Object, Result};
use entities::{support_plan, support_service};

use crate::domain::{NeedLevel, ServiceStatus, ServiceType};
use crate::ids::{ServiceId, SupportPlanId};
use crate::scalars::Date;

/// The case's support plan: what happens if things go wrong, and who the child can turn to.
pub struct SupportPlan(pub support_plan::Model);

/// The case's support plan: what happens if things go wrong, and who the child can turn to.
#[Object]
impl SupportPlan {
    /// Global ID.
    pub async fn id(&self) -> ID {
        SupportPlanId(self.0.id).to_global()
    }
    /// The contingency plan (what happens if, say, a parent drinks again).
    async fn contingency_plan(&self) -> Option<&str> {
        self.0.contingency_plan.as_deref()
    }
    /// The child's trusted adult (a role or relationship, not a contact record).
    async fn trusted_adult(&self) -> Option<&str> {
        self.0.trusted_adult.as_deref()
    }
    /// Record version; pass it as `expectedVersion` to `supportPlanUpdate`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A service for the child or family, before or after the return.
pub struct SupportService(pub support_service::Model);

/// A service for the child or family, before or after the return.
#[Object]
impl SupportService {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ServiceId(self.0.id).to_global()
    }
    /// Type of service.
    async fn service_type(&self) -> Result<ServiceType> {
        Ok(self.0.service_type)
    }
    /// Provider.
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    /// The family's need level for this service.
    async fn need_level(&self) -> Result<NeedLevel> {
        Ok(self.0.need_level)
    }
    /// Start date.
    async fn starts_on(&self) -> Date {
        self.0.starts_on.into()
    }
    /// End date, if known.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }
    /// How often, e.g. "weekly".
    async fn frequency(&self) -> Option<&str> {
        self.0.frequency.as_deref()
    }
    /// Planned, active, ended or declined.
    async fn status(&self) -> Result<ServiceStatus> {
        Ok(self.0.status)
    }
    /// Cost in pence, where known.
    async fn cost_pence(&self) -> Option<i64> {
        self.0.cost_pence
    }
    /// Whole calendar months from the start to the end date, or to today while it runs (0 before it starts).
    async fn months(&self) -> i32 {
        let end = self.0.ends_on.unwrap_or_else(crate::cases::service::today);
        super::service::whole_months(self.0.starts_on, end)
    }
    /// Record version; pass it as `expectedVersion` to `serviceUpdate`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
