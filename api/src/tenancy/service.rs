//! Registering LAs, reading their settings, and recording the actors who act for them.

use chrono::Utc;
use entities::{checklist_template_item, local_authority};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::checklist_defaults::DEFAULT_CHECKLIST;
use crate::db::Db;
use crate::domain::Stage;
use crate::error::{ApiError, ApiResult};

pub use super::directory::{ensure_actor, find_by_code};
pub use super::settings::{LaSettings, UnitCosts, get, settings};

/// How many LAs are registered.
pub async fn count_registered(db: &impl ConnectionTrait) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait as _;
    Ok(local_authority::Entity::find().count(db).await?)
}

/// Registers an LA (idempotent by DfE code) with default settings and the default checklist.
/// Known English LAs take their name and ONS code from the reference list.
pub async fn register(
    db: &impl Db,
    dfe_code: &str,
    name: Option<&str>,
    settings: LaSettings,
) -> ApiResult<local_authority::Model> {
    if let Some(existing) = find_by_code(db, dfe_code).await? {
        return Ok(existing);
    }
    if dfe_code.len() != 3 || !dfe_code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadInput("a DfE LA code is 3 digits".to_owned()));
    }
    let reference = crate::domain::reference::local_authority(dfe_code);
    let name = name
        .map(str::to_owned)
        .or_else(|| reference.map(|r| r.label.clone()))
        .unwrap_or_else(|| format!("Local authority {dfe_code}"));
    let ons = reference
        .map(|r| r.get("ons_code").to_owned())
        .unwrap_or_default();
    let now = Utc::now();
    let txn = db.begin().await?;
    let la = local_authority::ActiveModel {
        dfe_code: Set(dfe_code.to_owned()),
        ons_code: Set(ons),
        name: Set(name),
        settings: Set(serde_json::to_value(settings)
            .map_err(|e| ApiError::internal(format!("settings: {e}")))?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::db::set_tenant(&txn, la.id, None).await?;
    for (position, (stage, key, label, required, derived)) in DEFAULT_CHECKLIST.iter().enumerate() {
        checklist_template_item::ActiveModel {
            la_id: Set(la.id),
            stage: Set(*stage),
            key: Set((*key).to_owned()),
            label: Set((*label).to_owned()),
            required: Set(*required),
            derived_from: Set(*derived),
            position: Set(position as i32),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(la)
}

/// The LA's active checklist template for a stage, in order.
pub async fn checklist_template(
    db: &impl ConnectionTrait,
    la_id: i64,
    stage: Stage,
) -> ApiResult<Vec<checklist_template_item::Model>> {
    Ok(checklist_template_item::Entity::find()
        .filter(checklist_template_item::Column::LaId.eq(la_id))
        .filter(checklist_template_item::Column::Stage.eq(stage))
        .filter(checklist_template_item::Column::Active.eq(true))
        .order_by_asc(checklist_template_item::Column::Position)
        .all(db)
        .await?)
}

/// Changes to an LA's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// New labels of the four risk levels.
    pub risk_level_labels: Option<Vec<String>>,
    /// New sustained-risk policy: `Some(None)` turns it off.
    pub sustained_risk_months: Option<Option<u32>>,
    /// New approval threshold in working days.
    pub d3_approval_working_days: Option<i64>,
    /// New months of support required after a return.
    pub support_months: Option<u32>,
    /// New weeks a goal must have held green.
    pub goal_sustained_weeks: Option<u32>,
    /// New weeks between visits after a return.
    pub visit_frequency_weeks: Option<u32>,
    /// New unit costs (replacing the old ones whole).
    pub unit_costs: Option<UnitCosts>,
}

/// Updates the caller's LA settings (version-checked).
pub async fn update_settings(
    db: &impl Db,
    actor: &crate::audit::acting::Acting,
    expected_version: Option<i32>,
    change: SettingsChange,
) -> ApiResult<local_authority::Model> {
    let la_id = actor.la_id;
    use crate::error::UserErrorCode;
    let la = get(db, la_id).await?;
    if let Some(v) = expected_version
        && v != la.version
    {
        return Err(ApiError::stale(la.version));
    }
    let mut s = settings(&la);
    if let Some(labels) = change.risk_level_labels {
        let ok = labels.len() == 4
            && labels
                .iter()
                .all(|l| (1..=50).contains(&l.trim().chars().count()));
        if !ok {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["riskLevelLabels"],
                "give four labels of 1 to 50 characters, lowest level first",
            ));
        }
        s.risk_level_labels = [0, 1, 2, 3].map(|i| labels[i].trim().to_owned());
    }
    if let Some(months) = change.sustained_risk_months {
        if months.is_some_and(|m| !(1..=36).contains(&m)) {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["sustainedRiskMonths"],
                "between 1 and 36 months, or null for no policy",
            ));
        }
        s.sustained_risk_months = months;
    }
    if let Some(days) = change.d3_approval_working_days {
        crate::framework::decisions::check_d3_threshold(days)?;
        s.d3_approval_working_days = days;
    }
    if let Some(weeks) = change.goal_sustained_weeks {
        if weeks > 52 {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["goalSustainedWeeks"],
                "between 0 and 52 weeks",
            ));
        }
        s.goal_sustained_weeks = weeks;
    }
    if let Some(weeks) = change.visit_frequency_weeks {
        if !(1..=12).contains(&weeks) {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["visitFrequencyWeeks"],
                "between 1 and 12 weeks",
            ));
        }
        s.visit_frequency_weeks = weeks;
    }
    if let Some(months) = change.support_months {
        if !(6..=24).contains(&months) {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["supportMonths"],
                "between 6 (the framework's minimum) and 24 months",
            ));
        }
        s.support_months = months;
    }
    if let Some(costs) = change.unit_costs {
        let named = [
            (costs.reentry, "reentry"),
            (costs.high_need_support, "highNeedSupport"),
            (costs.medium_need_support, "mediumNeedSupport"),
            (costs.low_need_support, "lowNeedSupport"),
        ];
        for (cost, field) in named {
            if cost.is_some_and(|c| !(c.is_finite() && c > 0.0 && c < 10_000_000.0)) {
                return Err(ApiError::user(
                    UserErrorCode::Invalid,
                    &["unitCosts", field],
                    "a cost in pounds above 0 and below 10,000,000",
                ));
            }
        }
        s.unit_costs = costs;
    }
    let value =
        serde_json::to_value(s).map_err(|e| ApiError::internal(format!("settings: {e}")))?;
    let version = la.version;
    let mut am: local_authority::ActiveModel = la.into();
    am.settings = Set(value);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let result = local_authority::Entity::update_many()
        .set(am)
        .filter(local_authority::Column::Id.eq(la_id))
        .filter(local_authority::Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::stale(get(db, la_id).await?.version));
    }
    let record = crate::audit::Record::bare("local_authority", la_id);
    crate::audit::changed(
        db,
        actor,
        crate::audit::Action::Update,
        record,
        &["settings"],
        None,
    )
    .await?;
    get(db, la_id).await
}

/// A checklist action to add or change in the LA's template.
#[derive(Debug, Clone)]
pub struct TemplateItem {
    /// Stage.
    pub stage: Stage,
    /// Stable key (letters, digits, underscores).
    pub key: String,
    /// What the action is.
    pub label: String,
    /// Whether the stage's "yes" waits for it.
    pub required: bool,
    /// Order within the stage (defaults to last).
    pub position: Option<i32>,
    /// False retires the action for cases entering the stage from now on.
    pub active: bool,
    /// The record that proves the action (it then completes itself and is not ticked by hand).
    pub derived_from: Option<crate::domain::Evidence>,
    /// The version of an existing item the caller last saw.
    pub expected_version: Option<i32>,
}

/// Adds or changes an action of the LA's checklist template. Cases already in the stage keep the
/// checklist they entered with.
pub async fn upsert_template_item(
    db: &impl Db,
    actor: &crate::audit::acting::Acting,
    item: TemplateItem,
) -> ApiResult<checklist_template_item::Model> {
    use crate::audit::AuditedWrite as _;
    let (la_id, actor_id) = (actor.la_id, actor.actor_id);
    use crate::error::UserErrorCode;
    let key = item.key.trim().to_owned();
    if key.is_empty()
        || key.len() > 64
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["key"],
            "a key is 1 to 64 letters, digits and underscores",
        ));
    }
    let label = item.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > 300 {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["label"],
            "a label is 1 to 300 characters",
        ));
    }
    let now = Utc::now();
    let existing = checklist_template_item::Entity::find()
        .filter(checklist_template_item::Column::LaId.eq(la_id))
        .filter(checklist_template_item::Column::Stage.eq(item.stage))
        .filter(checklist_template_item::Column::Key.eq(key.as_str()))
        .one(db)
        .await?;
    let position = match item.position {
        Some(p) => p,
        None => checklist_template(db, la_id, item.stage)
            .await?
            .iter()
            .map(|i| i.position + 1)
            .max()
            .unwrap_or(0),
    };
    if let Some(row) = &existing {
        ApiError::check_version(item.expected_version, row.version)?;
    }
    let new = existing.is_none();
    let am = match existing {
        Some(row) => {
            let version = row.version;
            let mut am: checklist_template_item::ActiveModel = row.into();
            am.version = Set(version + 1);
            am
        }
        None => checklist_template_item::ActiveModel {
            la_id: Set(la_id),
            stage: Set(item.stage),
            key: Set(key),
            version: Set(1),
            created_at: Set(now),
            created_by: Set(Some(actor_id)),
            ..Default::default()
        },
    };
    let mut am = am;
    am.label = Set(label);
    am.required = Set(item.required);
    am.position = Set(position);
    am.active = Set(item.active);
    am.derived_from = Set(item.derived_from);
    am.updated_at = Set(now);
    am.updated_by = Set(Some(actor_id));
    if new {
        am.insert_by(db, actor, None).await
    } else {
        am.update_by(db, actor, None).await
    }
}
