//! Opening, allocating, finding and listing cases; the version-checked save every case change uses.

use chrono::NaiveDate;
use entities::{actor, reunification_case as case};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::children::service as children;
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::{CaseStatus, RiskLevel, Stage};
use crate::error::{ApiError, ApiResult, OptionExt, UserErrorCode};
use crate::ids::{ActorId, CaseId, ChildId, EpisodeId};
use crate::pagination::Page;
use crate::stages::service as stages;
use crate::stamp::Stamped as _;

/// A new case.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The child.
    pub child_id: ChildId,
    /// The episode of care the case belongs to.
    pub episode_id: EpisodeId,
    /// The allocated social worker (defaults to the caller when they are one).
    pub worker_id: Option<ActorId>,
    /// The team.
    pub team: Option<String>,
    /// Date the case was opened (defaults to today).
    pub opened_on: Option<NaiveDate>,
}

pub use crate::domain::dates::{not_future, today};

fn validate_team(team: &Option<String>) -> ApiResult<()> {
    match team {
        Some(t) if t.trim().is_empty() || t.chars().count() > 100 => Err(ApiError::user(
            UserErrorCode::Invalid,
            &["team"],
            "a team name is 1 to 100 characters",
        )),
        _ => Ok(()),
    }
}

async fn check_worker(db: &impl ConnectionTrait, actor: &Acting, id: ActorId) -> ApiResult<()> {
    crate::db::find_in_la::<actor::Entity>(db, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["allocatedWorkerId"], "worker")
        .map(|_| ())
}

/// Opens a case at stage 0 (identification) for a child with an open episode.
pub async fn open_case(db: &impl Db, actor: &Acting, cmd: NewCase) -> ApiResult<case::Model> {
    validate_team(&cmd.team)?;
    let opened_on = cmd.opened_on.unwrap_or_else(today);
    let child = children::get_child(db, actor, cmd.child_id)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    let episode = children::get_episode(db, actor, cmd.episode_id)
        .await?
        .filter(|e| e.child_id == child.id)
        .or_user_not_found(&["episodeId"], "episode of this child")?;
    let worker = match cmd.worker_id {
        Some(w) => {
            check_worker(db, actor, w).await?;
            Some(w.0)
        }
        None => actor
            .has_role(crate::auth::Role::SocialWorker)
            .then_some(actor.actor_id),
    };
    let txn = db.begin().await?;
    let previous = case::Entity::find()
        .filter(case::Column::LaId.eq(actor.la_id))
        .filter(case::Column::ChildId.eq(child.id))
        .all(&txn)
        .await?;
    let attempt = crate::framework::process::open_case(&episode, &previous, opened_on, today())?;
    let created = case::ActiveModel {
        la_id: Set(actor.la_id),
        child_id: Set(child.id),
        episode_id: Set(episode.id),
        attempt_number: Set(attempt),
        worker_id: Set(worker),
        team: Set(cmd.team.map(|t| t.trim().to_owned())),
        stage: Set(Stage::Identification),
        status: Set(CaseStatus::Active),
        return_type: Set(None),
        alternative_plan: Set(None),
        risk_level: Set(None),
        opened_on: Set(opened_on),
        closed_on: Set(None),
        next_review_on: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::CaseOpened)
    .await?;
    stages::start_stage(&txn, actor, created.id, Stage::Identification, opened_on).await?;
    txn.commit().await?;
    Ok(created)
}

pub use super::store::{active_of_child, get_case, load_active, load_for_change, save_case, touch};

/// Changes the allocated worker and team.
pub async fn assign(
    db: &impl Db,
    actor: &Acting,
    id: CaseId,
    expected_version: Option<i32>,
    worker: Option<ActorId>,
    team: Option<String>,
) -> ApiResult<case::Model> {
    validate_team(&team)?;
    let case = load_active(db, actor, id, expected_version).await?;
    if let Some(w) = worker {
        check_worker(db, actor, w).await?;
    }
    let txn = db.begin().await?;
    let saved = save_case(&txn, actor, &case, EventType::CaseChanged, |am| {
        if let Some(w) = worker {
            am.worker_id = Set(Some(w.0));
        }
        if let Some(t) = team {
            am.team = Set(Some(t.trim().to_owned()));
        }
    })
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Filter for case lists.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Any of these stages.
    pub stages: Option<Vec<Stage>>,
    /// This status.
    pub status: Option<CaseStatus>,
    /// Allocated to this worker.
    pub worker_id: Option<ActorId>,
    /// In this team.
    pub team: Option<String>,
    /// Latest agreed risk level is one of these.
    pub risk_levels: Option<Vec<RiskLevel>>,
    /// Next review date has passed (true) or not (false).
    pub overdue: Option<bool>,
    /// Cases of this child.
    pub child_id: Option<ChildId>,
}

/// Ordering of case lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOrder {
    /// By when the record was created.
    Created,
    /// By the date the case was opened.
    OpenedOn,
}

fn filter_condition(actor: &Acting, f: &CaseFilter) -> Condition {
    let mut c = Condition::all().add(case::Column::LaId.eq(actor.la_id));
    if let Some(stages) = &f.stages {
        c = c.add(case::Column::Stage.is_in(stages.iter().copied()));
    }
    if let Some(s) = f.status {
        c = c.add(case::Column::Status.eq(s));
    }
    if let Some(w) = f.worker_id {
        c = c.add(case::Column::WorkerId.eq(w.0));
    }
    if let Some(t) = &f.team {
        c = c.add(case::Column::Team.eq(t.as_str()));
    }
    if let Some(levels) = &f.risk_levels {
        c = c.add(case::Column::RiskLevel.is_in(levels.iter().map(|l| l.rank())));
    }
    if let Some(child) = f.child_id {
        c = c.add(case::Column::ChildId.eq(child.0));
    }
    match f.overdue {
        Some(true) => {
            c = c
                .add(case::Column::Status.eq(CaseStatus::Active))
                .add(case::Column::NextReviewOn.lt(today()))
        }
        Some(false) => {
            c = c.add(
                Condition::any()
                    .add(case::Column::NextReviewOn.is_null())
                    .add(case::Column::NextReviewOn.gte(today()))
                    .add(case::Column::Status.ne(CaseStatus::Active)),
            )
        }
        None => {}
    }
    c
}

/// A page of cases: rows, total count, and whether more exist beyond the page.
pub async fn list_cases(
    db: &impl Db,
    actor: &Acting,
    filter: &CaseFilter,
    order: CaseOrder,
    descending: bool,
    page: &Page,
) -> ApiResult<(Vec<case::Model>, i64, bool)> {
    let cond = filter_condition(actor, filter);
    let total = case::Entity::find().filter(cond.clone()).count(db).await? as i64;
    let mut q = case::Entity::find().filter(cond);
    // Reading backwards flips the direction; the page is reversed again below.
    let desc = descending != page.backward;
    if let Some(cursor) = &page.cursor {
        let bad = || ApiError::BadInput("invalid cursor".to_owned());
        let (key, id) = cursor.split_once('|').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let after_id = if desc {
            case::Column::Id.lt(id)
        } else {
            case::Column::Id.gt(id)
        };
        match order {
            CaseOrder::Created => q = q.filter(after_id),
            CaseOrder::OpenedOn => {
                let d = NaiveDate::parse_from_str(key, "%Y-%m-%d").map_err(|_| bad())?;
                let past = if desc {
                    case::Column::OpenedOn.lt(d)
                } else {
                    case::Column::OpenedOn.gt(d)
                };
                q = q.filter(
                    Condition::any().add(past).add(
                        Condition::all()
                            .add(case::Column::OpenedOn.eq(d))
                            .add(after_id),
                    ),
                );
            }
        }
    }
    let dir = if desc {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    if order == CaseOrder::OpenedOn {
        q = q.order_by(case::Column::OpenedOn, dir.clone());
    }
    q = q.order_by(case::Column::Id, dir);
    let mut rows = q.limit(page.limit + 1).all(db).await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.backward {
        rows.reverse();
    }
    Ok((rows, total, more))
}

/// The cursor of a case in a list ordered by `order`.
pub fn cursor_of(c: &case::Model, order: CaseOrder) -> String {
    match order {
        CaseOrder::Created => format!("-|{}", c.id),
        CaseOrder::OpenedOn => format!("{}|{}", c.opened_on.format("%Y-%m-%d"), c.id),
    }
}
