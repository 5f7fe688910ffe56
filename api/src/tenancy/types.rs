//! GraphQL types for the caller, their local authority and the people who act in it.

use async_graphql::{Context, ID, Object, Result};
use entities::{actor, local_authority};

use super::loaders::ActorKey;
use crate::context::load_first;

use crate::auth::Role;
use crate::ids::{ActorId, LocalAuthorityId};

/// A local authority using Reunify (a tenant).
pub struct LocalAuthority(pub local_authority::Model);

/// A local authority using Reunify (a tenant).
#[Object]
impl LocalAuthority {
    /// Global ID.
    pub async fn id(&self) -> ID {
        LocalAuthorityId(self.0.id).to_global()
    }
    /// DfE 3-digit LA code.
    async fn dfe_code(&self) -> &str {
        &self.0.dfe_code
    }
    /// ONS (GSS) code.
    async fn ons_code(&self) -> &str {
        &self.0.ons_code
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The LA's labels for the four risk levels, lowest (LOW) first.
    async fn risk_level_labels(&self) -> Vec<String> {
        super::service::settings(&self.0).risk_level_labels.to_vec()
    }
    /// Working days looked after from which D3 = yes needs nominated-officer approval (20 by default, the statutory most).
    async fn d3_approval_working_days(&self) -> i64 {
        super::service::settings(&self.0).d3_approval_working_days
    }
    /// Months risk must stay Medium or Low before D3 = yes after a High classification; null when the LA has no such policy.
    async fn sustained_risk_months(&self) -> Option<u32> {
        super::service::settings(&self.0).sustained_risk_months
    }
    /// Months of support after a return home the LA requires (6 by default); worklists flag
    /// support ending sooner.
    async fn support_months(&self) -> u32 {
        super::service::settings(&self.0).support_months
    }
    /// Weeks a goal must have held green (or be met) before stage 2 ends and before D3 = yes (12
    /// by default).
    async fn goal_sustained_weeks(&self) -> u32 {
        super::service::settings(&self.0).goal_sustained_weeks
    }
    /// Weeks between visits after a return home (6 by default): the worklist's visit due.
    async fn visit_frequency_weeks(&self) -> u32 {
        super::service::settings(&self.0).visit_frequency_weeks
    }
    /// The LA's unit costs for the savings calculator, in pounds (null: the published figure).
    async fn unit_costs(&self) -> UnitCosts {
        UnitCosts(super::service::settings(&self.0).unit_costs)
    }
}

/// An LA's unit costs for the savings calculator, in pounds; null where the published figure
/// applies.
pub struct UnitCosts(pub super::service::UnitCosts);

/// An LA's unit costs for the savings calculator, in pounds; null where the published figure
/// applies.
#[Object]
impl UnitCosts {
    /// Cost of one child re-entering care.
    async fn reentry(&self) -> Option<f64> {
        self.0.reentry
    }
    /// Support per family with high needs.
    async fn high_need_support(&self) -> Option<f64> {
        self.0.high_need_support
    }
    /// … medium needs.
    async fn medium_need_support(&self) -> Option<f64> {
        self.0.medium_need_support
    }
    /// … low needs.
    async fn low_need_support(&self) -> Option<f64> {
        self.0.low_need_support
    }
}

/// The caller.
pub struct Me {
    /// The caller's actor row.
    pub actor_id: i64,
    /// Roles.
    pub roles: Vec<Role>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// The LA.
    pub la: local_authority::Model,
}

/// The caller.
#[Object]
impl Me {
    /// The caller's actor ID (use it to allocate cases).
    pub async fn id(&self) -> ID {
        ActorId(self.actor_id).to_global()
    }
    /// Roles from the token.
    async fn roles(&self) -> &[Role] {
        &self.roles
    }
    /// Scopes from the token.
    async fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// The caller's local authority.
    async fn local_authority(&self) -> LocalAuthority {
        LocalAuthority(self.la.clone())
    }
}

/// An action of the LA's checklist template: what each case entering the stage must (or may) do.
pub struct ChecklistTemplateItem(pub entities::checklist_template_item::Model);

/// An action of the LA's checklist template: what each case entering the stage must (or may) do.
#[Object]
impl ChecklistTemplateItem {
    /// The stage.
    async fn stage(&self) -> async_graphql::Result<crate::domain::Stage> {
        Ok(self.0.stage)
    }
    /// Stable key.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// What the action is.
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Whether the stage's "yes" waits for it.
    async fn required(&self) -> bool {
        self.0.required
    }
    /// Order within the stage.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The record that proves the action, when it is derived rather than ticked.
    async fn derived_from(&self) -> async_graphql::Result<Option<crate::domain::Evidence>> {
        Ok(self.0.derived_from)
    }
    /// False when retired.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A user or machine client of the LA who has acted in Reunify. Identified by ID only.
pub struct Actor(pub actor::Model);

/// A user or machine client of the LA who has acted in Reunify. Identified by ID only.
#[Object]
impl Actor {
    /// Global ID (use it to allocate a worker).
    pub async fn id(&self) -> ID {
        ActorId(self.0.id).to_global()
    }
    /// `user` or `client`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
}

/// Loads an optional actor by row id.
pub async fn load_actor(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Actor>> {
    let Some(id) = id else { return Ok(None) };
    load_first(ctx, ActorKey(id), Actor).await
}
