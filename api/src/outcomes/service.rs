//! Writing outcomes: created with the return or the closure, followed up at 3, 6 and 12 months.

use chrono::NaiveDate;
use entities::outcome;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::cases::store as cases;
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::YesNoUnknown;
use crate::error::{ApiError, ApiResult};
use crate::ids::CaseId;
use crate::stamp::Stamped as _;

/// Creates or changes the outcome row of a case in the caller's transaction.
pub async fn upsert(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case_id: i64,
    change: impl FnOnce(&mut outcome::ActiveModel),
) -> ApiResult<outcome::Model> {
    let existing = outcome::Entity::find()
        .filter(outcome::Column::CaseId.eq(case_id))
        .filter(outcome::Column::LaId.eq(actor.la_id))
        .one(txn)
        .await?;
    let mut am = match existing {
        Some(m) => {
            let version = m.version;
            outcome::ActiveModel::from(m).changed(actor, version)
        }
        None => outcome::ActiveModel {
            la_id: Set(actor.la_id),
            case_id: Set(case_id),
            ..Default::default()
        }
        .created(actor),
    };
    change(&mut am);
    am.save_by(txn, actor, EventType::OutcomeRecorded).await
}

/// Follow-up of an outcome after the return.
#[derive(Debug, Clone, Default)]
pub struct FollowUp {
    /// The case.
    pub case_id: Option<CaseId>,
    /// Still at home 3 months after the return.
    pub home_at_3_months: Option<bool>,
    /// Still at home 6 months after the return.
    pub home_at_6_months: Option<bool>,
    /// Still at home 12 months after the return.
    pub home_at_12_months: Option<bool>,
    /// Date the child re-entered care, if they did.
    pub reentered_care_on: Option<NaiveDate>,
    /// Maltreatment after the return.
    pub maltreatment: Option<YesNoUnknown>,
    /// The outcome's version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Records follow-up facts about a returned child; allowed after the case closed, because the
/// 6- and 12-month checks often come later.
pub async fn follow_up(
    db: &impl Db,
    actor: &Acting,
    id: CaseId,
    f: FollowUp,
) -> ApiResult<outcome::Model> {
    let txn = db.begin().await?;
    let snap = crate::framework::snapshot::for_change(&txn, actor, id, None).await?;
    if let Some(o) = &snap.outcome {
        ApiError::check_version(f.expected_version, o.version)?;
    }
    crate::framework::outcomes::check_follow_up(
        &snap,
        &crate::framework::outcomes::Answers {
            home_at: [f.home_at_3_months, f.home_at_6_months, f.home_at_12_months],
            reentered_on: f.reentered_care_on,
        },
    )?;
    let case = snap.case;
    let saved = upsert(&txn, actor, case.id, |am| {
        if let Some(v) = f.home_at_3_months {
            am.home_at_3_months = Set(Some(v));
        }
        if let Some(v) = f.home_at_6_months {
            am.home_at_6_months = Set(Some(v));
        }
        if let Some(v) = f.home_at_12_months {
            am.home_at_12_months = Set(Some(v));
        }
        if let Some(d) = f.reentered_care_on {
            am.reentered_care_on = Set(Some(d));
        }
        if let Some(m) = f.maltreatment {
            am.maltreatment = Set(Some(m));
        }
    })
    .await?;
    cases::touch(&txn, actor, &case).await?;
    txn.commit().await?;
    Ok(saved)
}
