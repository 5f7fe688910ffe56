//! The caller (`me`), and the LA's configuration: settings and the checklist template.

use async_graphql::{Context, InputObject, Object, Result};

use super::service::{self, SettingsChange, TemplateItem};
use super::types::{ChecklistTemplateItem, LocalAuthority, Me};
use crate::context::ContextExt;
use crate::domain::Stage;
use crate::payload::run;

/// Queries about the caller and their LA.
#[derive(Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// Who the caller is, for which LA, with which roles.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let actor = ctx.actor()?;
        let la = service::get(ctx.db()?, actor.la_id).await?;
        Ok(Me {
            actor_id: actor.actor_id,
            roles: actor.roles.clone(),
            scopes: actor.scopes.clone(),
            la,
        })
    }

    /// The LA's active checklist template for a stage, in order.
    async fn checklist_template(
        &self,
        ctx: &Context<'_>,
        stage: Stage,
    ) -> Result<Vec<ChecklistTemplateItem>> {
        let actor = ctx.actor()?;
        let items = service::checklist_template(ctx.db()?, actor.la_id, stage).await?;
        Ok(items.into_iter().map(ChecklistTemplateItem).collect())
    }
}

/// Input of `localAuthoritySettingsUpdate`. Only the fields given change.
#[derive(InputObject)]
pub struct LocalAuthoritySettingsUpdateInput {
    /// The LA record version the caller last saw.
    pub expected_version: Option<i32>,
    /// Four labels for the risk levels, lowest first (1–50 characters each).
    pub risk_level_labels: Option<Vec<String>>,
    /// Months risk must have stayed Medium or Low before D3 = yes when the child was ever classified High (1–36).
    pub sustained_risk_months: Option<u32>,
    /// True turns the sustained-risk policy off.
    #[graphql(default = false)]
    pub clear_sustained_risk_policy: bool,
    /// Working days looked after from which D3 = yes needs nominated-officer approval (0–20: an
    /// LA may lower the statutory 20, never raise it).
    pub d3_approval_working_days: Option<i64>,
    /// Months of support after a return home the LA requires (6–24).
    pub support_months: Option<u32>,
    /// Weeks a goal must have held green (or be met) before stage 2 ends and before D3 = yes (0–52).
    pub goal_sustained_weeks: Option<u32>,
    /// Weeks between visits after a return home, for the worklist's visit due (1–12; 6 by
    /// default, the statutory most for a child placed with parents).
    pub visit_frequency_weeks: Option<u32>,
    /// The LA's unit costs for the savings calculator; replaces the previous ones whole (omit a
    /// cost to use the published one).
    pub unit_costs: Option<UnitCostsInput>,
}

/// An LA's unit costs, in pounds.
#[derive(InputObject)]
pub struct UnitCostsInput {
    /// Cost of one child re-entering care.
    pub reentry: Option<f64>,
    /// Support per family with high needs.
    pub high_need_support: Option<f64>,
    /// … medium needs.
    pub medium_need_support: Option<f64>,
    /// … low needs.
    pub low_need_support: Option<f64>,
}

crate::payload!(
    /// Result of `localAuthoritySettingsUpdate`.
    LocalAuthoritySettingsUpdatePayload {
        /// The LA.
        local_authority: LocalAuthority
    }
);

/// Input of `checklistTemplateItemUpsert`.
#[derive(InputObject)]
pub struct ChecklistTemplateItemUpsertInput {
    /// The stage.
    pub stage: Stage,
    /// Stable key (1–64 letters, digits, underscores); an existing key is changed.
    pub key: String,
    /// What the action is (1–300 characters).
    pub label: String,
    /// Whether the stage's "yes" waits for it.
    pub required: bool,
    /// Order within the stage; defaults to last.
    pub position: Option<i32>,
    /// False retires the action for cases entering the stage from now on.
    #[graphql(default = true)]
    pub active: bool,
    /// The record that proves the action: the case's item then completes itself when the record
    /// exists and is not ticked by hand. Omit for an action workers tick.
    pub derived_from: Option<crate::domain::Evidence>,
    /// The version of an existing item the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `checklistTemplateItemUpsert`.
    ChecklistTemplateItemUpsertPayload {
        /// The template item.
        item: ChecklistTemplateItem
    }
);

/// LA configuration mutations (LA administrators).
#[derive(Default)]
pub struct TenancyMutation;

#[Object]
impl TenancyMutation {
    /// Changes the LA's risk-level labels and policies.
    async fn local_authority_settings_update(
        &self,
        ctx: &Context<'_>,
        input: LocalAuthoritySettingsUpdateInput,
    ) -> Result<LocalAuthoritySettingsUpdatePayload> {
        run(async {
            let actor = ctx.admin()?;
            let change = SettingsChange {
                risk_level_labels: input.risk_level_labels,
                sustained_risk_months: if input.clear_sustained_risk_policy {
                    Some(None)
                } else {
                    input.sustained_risk_months.map(Some)
                },
                d3_approval_working_days: input.d3_approval_working_days,
                support_months: input.support_months,
                goal_sustained_weeks: input.goal_sustained_weeks,
                visit_frequency_weeks: input.visit_frequency_weeks,
                unit_costs: input.unit_costs.map(|c| service::UnitCosts {
                    reentry: c.reentry,
                    high_need_support: c.high_need_support,
                    medium_need_support: c.medium_need_support,
                    low_need_support: c.low_need_support,
                }),
            };
            let la =
                service::update_settings(ctx.db()?, actor, input.expected_version, change).await?;
            Ok(LocalAuthoritySettingsUpdatePayload::ok(LocalAuthority(la)))
        })
        .await
    }

    /// Adds or changes an action of the LA's checklist template. Cases already in the stage keep
    /// the checklist they entered with.
    async fn checklist_template_item_upsert(
        &self,
        ctx: &Context<'_>,
        input: ChecklistTemplateItemUpsertInput,
    ) -> Result<ChecklistTemplateItemUpsertPayload> {
        run(async {
            let actor = ctx.admin()?;
            let item = TemplateItem {
                stage: input.stage,
                key: input.key,
                label: input.label,
                required: input.required,
                position: input.position,
                active: input.active,
                derived_from: input.derived_from,
                expected_version: input.expected_version,
            };
            let saved = service::upsert_template_item(ctx.db()?, actor, item).await?;
            Ok(ChecklistTemplateItemUpsertPayload::ok(
                ChecklistTemplateItem(saved),
            ))
        })
        .await
    }
}
