//! Mutations on the support plan and its services.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, NewService, ServiceChange};
use super::types::{SupportPlan, SupportService};
use crate::context::ContextExt;
use crate::domain::{NeedLevel, ServiceStatus, ServiceType};
use crate::ids::{CaseId, ServiceId};
use crate::payload::run;
use crate::scalars::Date;

/// Input of `supportPlanUpdate`. Only the fields given change; give at least one.
#[derive(InputObject)]
pub struct SupportPlanUpdateInput {
    /// The case.
    pub case_id: ID,
    /// The contingency plan (1–20,000 characters).
    pub contingency_plan: Option<String>,
    /// The child's trusted adult (1–200 characters).
    pub trusted_adult: Option<String>,
    /// The plan version the caller last saw.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `supportPlanUpdate`.
    SupportPlanUpdatePayload {
        /// The plan.
        support_plan: SupportPlan
    }
);

/// Input of `serviceAdd`.
#[derive(InputObject)]
pub struct ServiceAddInput {
    /// The case.
    pub case_id: ID,
    /// The service.
    #[graphql(flatten)]
    pub service: ServiceFields,
}

/// A service's own fields (`serviceAdd`, `supportServiceUpsert`).
#[derive(InputObject)]
pub struct ServiceFields {
    /// Type of service.
    pub service_type: ServiceType,
    /// Provider (1–200 characters).
    pub provider: String,
    /// Need level.
    pub need_level: NeedLevel,
    /// Start date.
    pub starts_on: Date,
    /// End date (not before the start).
    pub ends_on: Option<Date>,
    /// How often (1–100 characters).
    pub frequency: Option<String>,
    /// Status; defaults to PLANNED.
    #[graphql(default_with = "ServiceStatus::Planned")]
    pub status: ServiceStatus,
    /// Cost in pence (not negative).
    pub cost_pence: Option<i64>,
}

impl ServiceFields {
    /// The service to add to `case_id`.
    pub fn into_cmd(self, case_id: CaseId) -> NewService {
        NewService {
            case_id,
            service_type: self.service_type,
            provider: self.provider,
            need_level: self.need_level,
            starts_on: self.starts_on.0,
            ends_on: self.ends_on.map(|d| d.0),
            frequency: self.frequency,
            status: self.status,
            cost_pence: self.cost_pence,
        }
    }
}

/// Input of `serviceUpdate`. Only the fields given change; give at least one.
#[derive(InputObject)]
pub struct ServiceUpdateInput {
    /// The service.
    pub service_id: ID,
    /// The service version the caller last saw.
    pub expected_version: i32,
    /// New status.
    pub status: Option<ServiceStatus>,
    /// New end date.
    pub ends_on: Option<Date>,
    /// New frequency.
    pub frequency: Option<String>,
    /// New cost in pence.
    pub cost_pence: Option<i64>,
}

crate::payload!(
    /// Result of `serviceAdd` and `serviceUpdate`.
    ServicePayload {
        /// The service.
        service: SupportService
    }
);

/// Support plan mutations.
#[derive(Default)]
pub struct SupportPlansMutation;

#[Object]
impl SupportPlansMutation {
    /// Creates or changes the case's support plan.
    async fn support_plan_update(
        &self,
        ctx: &Context<'_>,
        input: SupportPlanUpdateInput,
    ) -> Result<SupportPlanUpdatePayload> {
        run(async {
            let id = CaseId::from_input(&input.case_id, &["caseId"])?;
            let plan = service::update_plan(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.contingency_plan,
                input.trusted_adult,
                input.expected_version,
            )
            .await?;
            Ok(SupportPlanUpdatePayload::ok(SupportPlan(plan)))
        })
        .await
    }

    /// Adds a service for the child or family.
    async fn service_add(
        &self,
        ctx: &Context<'_>,
        input: ServiceAddInput,
    ) -> Result<ServicePayload> {
        run(async {
            let cmd = input
                .service
                .into_cmd(CaseId::from_input(&input.case_id, &["caseId"])?);
            Ok(ServicePayload::ok(SupportService(
                service::add_service(ctx.db()?, ctx.writer()?, cmd).await?,
            )))
        })
        .await
    }

    /// Changes a service (status, end date, frequency, cost).
    async fn service_update(
        &self,
        ctx: &Context<'_>,
        input: ServiceUpdateInput,
    ) -> Result<ServicePayload> {
        run(async {
            let id = ServiceId::from_input(&input.service_id, &["serviceId"])?;
            let change = ServiceChange {
                status: input.status,
                ends_on: input.ends_on.map(|d| d.0),
                frequency: input.frequency,
                cost_pence: input.cost_pence,
            };
            let s = service::update_service(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.expected_version,
                change,
            )
            .await?;
            Ok(ServicePayload::ok(SupportService(s)))
        })
        .await
    }
}
