//! An LA's policy settings and its row: what the framework's rules and the worklists read.

use entities::local_authority;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};

use crate::error::{ApiResult, OptionExt};

/// An LA's policy settings, stored as JSON on the LA row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LaSettings {
    /// Labels of the four risk levels, lowest first.
    pub risk_level_labels: [String; 4],
    /// When set: a child ever classified High or above must have stayed Medium or Low for this many
    /// months before D3 = yes.
    pub sustained_risk_months: Option<u32>,
    /// Working days looked after from which D3 needs nominated-officer approval.
    pub d3_approval_working_days: i64,
    /// Months of support after a return home the LA requires (the framework's minimum is 6;
    /// many LAs require 12): worklists flag support ending sooner.
    pub support_months: u32,
    /// Weeks a goal must have held green (or be met) before stage 2 ends and before D3 = yes.
    pub goal_sustained_weeks: u32,
    /// Weeks between visits after a return home (the worklist's visit due).
    pub visit_frequency_weeks: u32,
    /// The LA's own unit costs for the savings calculator (pounds); the published set's where
    /// absent.
    pub unit_costs: UnitCosts,
}

/// An LA's unit costs for the cost-and-savings calculator, in pounds; each `None` falls back to
/// the published set chosen.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct UnitCosts {
    /// Cost of one child re-entering care.
    pub reentry: Option<f64>,
    /// Support per family with high needs.
    pub high_need_support: Option<f64>,
    /// … medium needs.
    pub medium_need_support: Option<f64>,
    /// … low needs.
    pub low_need_support: Option<f64>,
}

impl Default for LaSettings {
    fn default() -> Self {
        Self {
            risk_level_labels: ["Low", "Medium", "High", "Very high"].map(str::to_owned),
            sustained_risk_months: None,
            d3_approval_working_days: 20,
            support_months: 6,
            goal_sustained_weeks: 12,
            visit_frequency_weeks: 6,
            unit_costs: UnitCosts::default(),
        }
    }
}

/// Reads an LA's settings (defaults for anything missing).
pub fn settings(la: &local_authority::Model) -> LaSettings {
    serde_json::from_value(la.settings.clone()).unwrap_or_default()
}

/// The LA by id.
pub async fn get(db: &impl ConnectionTrait, la_id: i64) -> ApiResult<local_authority::Model> {
    local_authority::Entity::find_by_id(la_id)
        .one(db)
        .await?
        .or_not_found()
}
