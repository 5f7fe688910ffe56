//! Recording visits and review meetings; a review sets the case's next review date.

use chrono::NaiveDate;
use entities::{reunification_case as case, review, visit};
use sea_orm::{ConnectionTrait, Set};

use crate::audit::AuditedWrite as _;
use crate::auth::Actor;
use crate::cases::service::{self as cases, not_future};
use crate::db::Db;
use crate::domain::ReviewKind;
use crate::domain::text;
use crate::error::{ApiError, ApiResult, UserErrorCode};
use crate::ids::CaseId;
use crate::stamp::Stamped as _;

async fn active_case(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: CaseId,
    on: NaiveDate,
    field: &str,
) -> ApiResult<case::Model> {
    let case = cases::load_active(txn, actor, id, None).await?;
    crate::framework::process::date_within(on, case.opened_on, cases::today(), field, "the case")?;
    Ok(case)
}

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit {
    /// The case.
    pub case_id: CaseId,
    /// Date of the visit.
    pub visited_on: NaiveDate,
    /// Whether the child was seen.
    pub child_seen: bool,
    /// Whether the child was seen alone.
    pub child_seen_alone: bool,
    /// What was observed.
    pub observations: Option<String>,
}

/// Records a visit.
pub async fn record_visit(db: &impl Db, actor: &Actor, cmd: NewVisit) -> ApiResult<visit::Model> {
    let on = not_future(cmd.visited_on, "visitedOn")?;
    if cmd.child_seen_alone && !cmd.child_seen {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["childSeenAlone"],
            "a child seen alone was seen",
        ));
    }
    let observations = cmd
        .observations
        .as_deref()
        .map(|o| text(o, "observations", 20_000))
        .transpose()?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, on, "visitedOn").await?;
    let saved = visit::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        visited_on: Set(on),
        child_seen: Set(cmd.child_seen),
        child_seen_alone: Set(cmd.child_seen_alone),
        observations: Set(observations),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor)
    .await?;
    cases::save_case(&txn, actor, &case, |_| {}).await?;
    crate::stages::service::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A review meeting to record.
#[derive(Debug, Clone)]
pub struct NewReview {
    /// The case.
    pub case_id: CaseId,
    /// Kind of review.
    pub kind: ReviewKind,
    /// Date held.
    pub held_on: NaiveDate,
    /// What was decided.
    pub decisions: Option<String>,
    /// When the next review is due.
    pub next_review_on: Option<NaiveDate>,
}

/// Records a review meeting; its next review date becomes the case's.
pub async fn record_review(
    db: &impl Db,
    actor: &Actor,
    cmd: NewReview,
) -> ApiResult<review::Model> {
    let on = not_future(cmd.held_on, "heldOn")?;
    if cmd.next_review_on.is_some_and(|n| n < on) {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["nextReviewOn"],
            "the next review cannot precede this one",
        ));
    }
    let decisions = cmd
        .decisions
        .as_deref()
        .map(|d| text(d, "decisions", 20_000))
        .transpose()?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, on, "heldOn").await?;
    let saved = review::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        kind: Set(cmd.kind.as_str().to_owned()),
        held_on: Set(on),
        decisions: Set(decisions),
        next_review_on: Set(cmd.next_review_on),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor)
    .await?;
    let next = cmd.next_review_on;
    cases::save_case(&txn, actor, &case, |am| {
        if next.is_some() {
            am.next_review_on = Set(next);
        }
    })
    .await?;
    crate::stages::service::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}
