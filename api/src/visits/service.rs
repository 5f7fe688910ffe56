//! Recording visits and review meetings; a review sets the case's next review date.

use chrono::NaiveDate;
use entities::{reunification_case as case, review, visit};
use sea_orm::{ConnectionTrait, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::cases::service::{self as cases, not_future};
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::ReviewKind;
use crate::domain::text;
use crate::error::{ApiError, ApiResult, UserErrorCode};
use crate::ids::CaseId;
use crate::stamp::Stamped as _;

async fn active_case(
    txn: &impl ConnectionTrait,
    actor: &Acting,
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

impl NewVisit {
    /// The visit as it is stored: not in the future, seen alone only if seen, observations
    /// trimmed (1 to 20,000 characters).
    fn checked(mut self) -> ApiResult<Self> {
        self.visited_on = not_future(self.visited_on, "visitedOn")?;
        if self.child_seen_alone && !self.child_seen {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["childSeenAlone"],
                "a child seen alone was seen",
            ));
        }
        self.observations = self
            .observations
            .as_deref()
            .map(|o| text(o, "observations", 20_000))
            .transpose()?;
        Ok(self)
    }

    fn set(self, am: &mut visit::ActiveModel) {
        am.visited_on = Set(self.visited_on);
        am.child_seen = Set(self.child_seen);
        am.child_seen_alone = Set(self.child_seen_alone);
        am.observations = Set(self.observations);
    }
}

/// Records a visit.
pub async fn record_visit(db: &impl Db, actor: &Acting, cmd: NewVisit) -> ApiResult<visit::Model> {
    let cmd = cmd.checked()?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, cmd.visited_on, "visitedOn").await?;
    let mut am = visit::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        ..Default::default()
    };
    cmd.set(&mut am);
    let saved = am
        .created(actor)
        .insert_by(&txn, actor, EventType::VisitRecorded)
        .await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Brings a visit of the same case to `cmd` (a sync), from `expected` when given: as recorded,
/// and only what differs; whether anything changed.
pub async fn replace_visit(
    db: &impl Db,
    actor: &Acting,
    current: visit::Model,
    cmd: NewVisit,
    expected: Option<i32>,
) -> ApiResult<(visit::Model, bool)> {
    let cmd = cmd.checked()?;
    ApiError::check_version(expected, current.version)?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, cmd.visited_on, "visitedOn").await?;
    let Some(saved) = crate::stamp::update_changed::<visit::ActiveModel>(
        &txn,
        actor,
        &current,
        current.version,
        EventType::VisitRecorded,
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

impl NewReview {
    /// The review as it is stored: not in the future, the next one not before it, decisions
    /// trimmed (1 to 20,000 characters).
    fn checked(mut self) -> ApiResult<Self> {
        self.held_on = not_future(self.held_on, "heldOn")?;
        if self.next_review_on.is_some_and(|n| n < self.held_on) {
            return Err(ApiError::user(
                UserErrorCode::InvalidDate,
                &["nextReviewOn"],
                "the next review cannot precede this one",
            ));
        }
        self.decisions = self
            .decisions
            .as_deref()
            .map(|d| text(d, "decisions", 20_000))
            .transpose()?;
        Ok(self)
    }

    fn set(self, am: &mut review::ActiveModel) {
        am.kind = Set(self.kind);
        am.held_on = Set(self.held_on);
        am.decisions = Set(self.decisions);
        am.next_review_on = Set(self.next_review_on);
    }
}

/// The case's next review date after a review that sets `next`.
async fn move_next_review(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case: &case::Model,
    next: Option<NaiveDate>,
) -> ApiResult<()> {
    cases::save_case(txn, actor, case, EventType::CaseChanged, |am| {
        if next.is_some() {
            am.next_review_on = Set(next);
        }
    })
    .await?;
    crate::stages::derived::sync_derived(txn, actor, case.id).await
}

/// Records a review meeting; its next review date becomes the case's.
pub async fn record_review(
    db: &impl Db,
    actor: &Acting,
    cmd: NewReview,
) -> ApiResult<review::Model> {
    let cmd = cmd.checked()?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, cmd.held_on, "heldOn").await?;
    let next = cmd.next_review_on;
    let mut am = review::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        ..Default::default()
    };
    cmd.set(&mut am);
    let saved = am
        .created(actor)
        .insert_by(&txn, actor, EventType::ReviewRecorded)
        .await?;
    move_next_review(&txn, actor, &case, next).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Brings a review of the same case to `cmd` (a sync), from `expected` when given: as recorded,
/// and only what differs; whether anything changed.
pub async fn replace_review(
    db: &impl Db,
    actor: &Acting,
    current: review::Model,
    cmd: NewReview,
    expected: Option<i32>,
) -> ApiResult<(review::Model, bool)> {
    let cmd = cmd.checked()?;
    ApiError::check_version(expected, current.version)?;
    let txn = db.begin().await?;
    let case = active_case(&txn, actor, cmd.case_id, cmd.held_on, "heldOn").await?;
    let next = cmd.next_review_on;
    let Some(saved) = crate::stamp::update_changed::<review::ActiveModel>(
        &txn,
        actor,
        &current,
        current.version,
        EventType::ReviewRecorded,
        |am| cmd.set(am),
    )
    .await?
    else {
        txn.commit().await?;
        return Ok((current, false));
    };
    move_next_review(&txn, actor, &case, next).await?;
    txn.commit().await?;
    Ok((saved, true))
}
