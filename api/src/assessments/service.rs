//! Recording risk and protective factors and the child's views, in any active stage.

use chrono::NaiveDate;
use entities::{assessment_factor, child_view};
use sea_orm::Set;

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::cases::service::{self as cases, not_future};
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::text;
use crate::domain::{FactorCategory, FactorKind, FactorStatus};
use crate::error::{ApiError, ApiResult, UserErrorCode};
use crate::goals::service::member_of;
use crate::ids::{CaseId, HouseholdMemberId};
use crate::stamp::Stamped as _;

/// A factor to record.
#[derive(Debug, Clone)]
pub struct NewFactor {
    /// The case.
    pub case_id: CaseId,
    /// The person it is about; none for the child.
    pub member: Option<HouseholdMemberId>,
    /// Risk or protective.
    pub kind: FactorKind,
    /// Category.
    pub category: FactorCategory,
    /// For a risk: current, historical or resolved.
    pub status: Option<FactorStatus>,
    /// The evidence.
    pub evidence: String,
    /// When (defaults to today).
    pub recorded_on: Option<NaiveDate>,
}

/// Records several factors in one transaction (a person's risk and protective factors together);
/// a factor's error names its place (`factors.1.category`).
pub async fn record_factors(
    db: &impl Db,
    actor: &Acting,
    cmds: Vec<NewFactor>,
) -> ApiResult<Vec<assessment_factor::Model>> {
    if cmds.is_empty() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["factors"],
            "give at least one factor",
        ));
    }
    let txn = db.begin().await?;
    let out = ApiError::each_at(cmds, "factors", |cmd| record_factor(&txn, actor, cmd)).await?;
    txn.commit().await?;
    Ok(out)
}

/// Records a risk or protective factor about the child or a household member.
pub async fn record_factor(
    db: &impl Db,
    actor: &Acting,
    cmd: NewFactor,
) -> ApiResult<assessment_factor::Model> {
    if cmd.category.kind().is_some_and(|k| k != cmd.kind) {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["category"],
            format!(
                "{} is not a {} factor",
                cmd.category.as_str(),
                cmd.kind.as_str().to_lowercase()
            ),
        ));
    }
    match (cmd.kind, cmd.status) {
        (FactorKind::Risk, None) => {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["status"],
                "a risk factor is current, historical or resolved",
            ));
        }
        (FactorKind::Protective, Some(_)) => {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["status"],
                "a protective factor has no status",
            ));
        }
        _ => {}
    }
    let evidence = text(&cmd.evidence, "evidence", 20_000)?;
    let on = not_future(cmd.recorded_on.unwrap_or_else(cases::today), "recordedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, None).await?;
    let member = match cmd.member {
        Some(m) => Some(
            member_of(&txn, actor, m, case.child_id, &["householdMemberId"])
                .await?
                .id,
        ),
        None => None,
    };
    let saved = assessment_factor::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        household_member_id: Set(member),
        kind: Set(cmd.kind),
        category: Set(cmd.category),
        status: Set(cmd.status),
        evidence: Set(evidence),
        recorded_on: Set(on),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::FactorRecorded)
    .await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records the child's wishes and feelings.
pub async fn record_view(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    recorded_on: Option<NaiveDate>,
    in_own_words: bool,
    content: &str,
) -> ApiResult<child_view::Model> {
    let content = text(content, "content", 20_000)?;
    let on = not_future(recorded_on.unwrap_or_else(cases::today), "recordedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, case_id, None).await?;
    let saved = child_view::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        recorded_on: Set(on),
        in_own_words: Set(in_own_words),
        content: Set(content),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::ChildViewRecorded)
    .await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}
