//! Rules for the support plan and its services.

use chrono::{Datelike as _, Months, NaiveDate};
use entities::{support_plan, support_service};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::cases::service as cases;
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::text;
use crate::domain::{NeedLevel, ServiceStatus, ServiceType};
use crate::error::{ApiError, ApiResult, OptionExt, UserErrorCode};
use crate::ids::{CaseId, ServiceId};
use crate::stamp::Stamped as _;

/// Creates or changes the case's support plan.
pub async fn update_plan(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    contingency_plan: Option<String>,
    trusted_adult: Option<String>,
    expected_version: Option<i32>,
) -> ApiResult<support_plan::Model> {
    let contingency = contingency_plan
        .as_deref()
        .map(|t| text(t, "contingencyPlan", 20_000))
        .transpose()?;
    let trusted = trusted_adult
        .as_deref()
        .map(|t| text(t, "trustedAdult", 200))
        .transpose()?;
    if contingency.is_none() && trusted.is_none() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &[],
            "give a contingency plan or a trusted adult",
        ));
    }
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, case_id, None).await?;
    let existing = support_plan::Entity::find()
        .filter(support_plan::Column::CaseId.eq(case.id))
        .filter(support_plan::Column::LaId.eq(actor.la_id))
        .one(&txn)
        .await?;
    let mut am = match existing {
        Some(plan) => {
            if let Some(v) = expected_version
                && v != plan.version
            {
                return Err(ApiError::stale(plan.version));
            }
            let version = plan.version;
            support_plan::ActiveModel::from(plan).changed(actor, version)
        }
        None => support_plan::ActiveModel {
            la_id: Set(actor.la_id),
            case_id: Set(case.id),
            contingency_plan: Set(None),
            trusted_adult: Set(None),
            ..Default::default()
        }
        .created(actor),
    };
    if contingency.is_some() {
        am.contingency_plan = Set(contingency);
    }
    if trusted.is_some() {
        am.trusted_adult = Set(trusted);
    }
    let saved = am
        .save_by(&txn, actor, EventType::SupportPlanUpdated)
        .await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Whole calendar months from `start` to `end` (0 when `end` precedes `start`): the largest `n`
/// such that `start` plus `n` months (clamped to the month's last day) is not after `end`.
/// Arithmetic rather than a loop, so a far-future end date costs nothing.
pub fn whole_months(start: NaiveDate, end: NaiveDate) -> i32 {
    if end <= start {
        return 0;
    }
    let span = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32;
    let Ok(n) = u32::try_from(span) else {
        return 0;
    };
    match start.checked_add_months(Months::new(n)) {
        Some(d) if d <= end => span,
        _ => span - 1,
    }
}

/// A new service.
#[derive(Debug, Clone)]
pub struct NewService {
    /// The case.
    pub case_id: CaseId,
    /// Type.
    pub service_type: ServiceType,
    /// Provider.
    pub provider: String,
    /// Need level.
    pub need_level: NeedLevel,
    /// Start.
    pub starts_on: NaiveDate,
    /// End, if known.
    pub ends_on: Option<NaiveDate>,
    /// Frequency, e.g. "weekly".
    pub frequency: Option<String>,
    /// Status.
    pub status: ServiceStatus,
    /// Cost in pence, if known.
    pub cost_pence: Option<i64>,
}

fn check_dates_and_cost(
    starts: NaiveDate,
    ends: Option<NaiveDate>,
    cost: Option<i64>,
) -> ApiResult<()> {
    if ends.is_some_and(|e| e < starts) {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["endsOn"],
            "a service cannot end before it starts",
        ));
    }
    if cost.is_some_and(|c| c < 0) {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["costPence"],
            "a cost cannot be negative",
        ));
    }
    Ok(())
}

impl NewService {
    /// The service as it is stored: provider 1–200 characters, frequency 1–100, not ending
    /// before it starts, no negative cost.
    fn checked(mut self) -> ApiResult<Self> {
        self.provider = text(&self.provider, "provider", 200)?;
        self.frequency = self
            .frequency
            .as_deref()
            .map(|f| text(f, "frequency", 100))
            .transpose()?;
        check_dates_and_cost(self.starts_on, self.ends_on, self.cost_pence)?;
        Ok(self)
    }

    fn set(self, am: &mut support_service::ActiveModel) {
        am.service_type = Set(self.service_type);
        am.provider = Set(self.provider);
        am.need_level = Set(self.need_level);
        am.starts_on = Set(self.starts_on);
        am.ends_on = Set(self.ends_on);
        am.frequency = Set(self.frequency);
        am.status = Set(self.status);
        am.cost_pence = Set(self.cost_pence);
    }
}

/// Adds a service to the case's support plan.
pub async fn add_service(
    db: &impl Db,
    actor: &Acting,
    cmd: NewService,
) -> ApiResult<support_service::Model> {
    let cmd = cmd.checked()?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, None).await?;
    let mut am = support_service::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        ..Default::default()
    };
    cmd.set(&mut am);
    let saved = am
        .created(actor)
        .insert_by(&txn, actor, EventType::ServiceAdded)
        .await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Brings a service of the same case to `cmd` (a sync), from `expected` when given: as added,
/// and only what differs; whether anything changed.
pub async fn replace_service(
    db: &impl Db,
    actor: &Acting,
    current: support_service::Model,
    cmd: NewService,
    expected: Option<i32>,
) -> ApiResult<(support_service::Model, bool)> {
    let cmd = cmd.checked()?;
    ApiError::check_version(expected, current.version)?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, None).await?;
    let Some(saved) = crate::stamp::update_changed::<support_service::ActiveModel>(
        &txn,
        actor,
        &current,
        current.version,
        EventType::ServiceChanged,
        |am| cmd.set(am),
    )
    .await?
    else {
        txn.commit().await?;
        return Ok((current, false));
    };
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok((saved, true))
}

/// Changes to a service; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ServiceChange {
    /// New status.
    pub status: Option<ServiceStatus>,
    /// New end date.
    pub ends_on: Option<NaiveDate>,
    /// New frequency.
    pub frequency: Option<String>,
    /// New cost.
    pub cost_pence: Option<i64>,
}

/// Changes a service (version-checked).
pub async fn update_service(
    db: &impl Db,
    actor: &Acting,
    id: ServiceId,
    expected_version: i32,
    change: ServiceChange,
) -> ApiResult<support_service::Model> {
    let frequency = change
        .frequency
        .as_deref()
        .map(|f| text(f, "frequency", 100))
        .transpose()?;
    if change.status.is_none()
        && change.ends_on.is_none()
        && frequency.is_none()
        && change.cost_pence.is_none()
    {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &[],
            "give a status, end date, frequency or cost to change",
        ));
    }
    let txn = db.begin().await?;
    let service = crate::db::find_in_la::<support_service::Entity>(&txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["serviceId"], "support service")?;
    let case = cases::load_active(&txn, actor, CaseId(service.case_id), None).await?;
    if expected_version != service.version {
        return Err(ApiError::stale(service.version));
    }
    check_dates_and_cost(
        service.starts_on,
        change.ends_on.or(service.ends_on),
        change.cost_pence,
    )?;
    let version = service.version;
    let mut am = support_service::ActiveModel::from(service).changed(actor, version);
    if let Some(s) = change.status {
        am.status = Set(s);
    }
    if let Some(e) = change.ends_on {
        am.ends_on = Set(Some(e));
    }
    if frequency.is_some() {
        am.frequency = Set(frequency);
    }
    if let Some(c) = change.cost_pence {
        am.cost_pence = Set(Some(c));
    }
    let saved = am.update_by(&txn, actor, EventType::ServiceChanged).await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn whole_months_count_calendar_months() {
        assert_eq!(whole_months(d(2026, 1, 15), d(2026, 1, 15)), 0);
        assert_eq!(whole_months(d(2026, 1, 15), d(2026, 2, 14)), 0);
        assert_eq!(whole_months(d(2026, 1, 15), d(2026, 2, 15)), 1);
        assert_eq!(whole_months(d(2026, 1, 15), d(2027, 1, 14)), 11);
        assert_eq!(whole_months(d(2026, 1, 15), d(2027, 1, 15)), 12);
        // 31 January plus one month is clamped to 28 February.
        assert_eq!(whole_months(d(2026, 1, 31), d(2026, 2, 28)), 1);
        assert_eq!(whole_months(d(2026, 1, 31), d(2026, 2, 27)), 0);
        assert_eq!(whole_months(d(2026, 3, 1), d(2026, 1, 1)), 0);
        // The far end of the calendar neither loops nor overflows.
        assert!(whole_months(d(2026, 1, 1), NaiveDate::MAX) > 3_000_000);
    }
}
