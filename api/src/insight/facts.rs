//! `case_fact`: one row per case with what the aggregates read, rebuilt in the transaction of
//! every write that touches the case (from the request's events, just before they are stored), so
//! aggregates read one narrow table instead of eleven and are never behind the records. `reunify
//! migrate` builds the rows that are missing or were built with older definitions.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use entities::{case_fact, local_authority, reunification_case as case};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait as _, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::domain::dates::age_on;
use crate::domain::{
    ApprovalStatus, CaseStatus, ClassificationKind, ClosureReason, DecisionKind, DecisionOutcome,
    GoalStatus, NeedLevel, ReturnType, ServiceStatus, ServiceType, Stage,
};
use crate::error::{ApiError, ApiResult};
use crate::events::PendingEvent;
use crate::framework::{CaseSnapshot, snapshot};

/// The version of the definitions below; rows built with an older one are rebuilt on migrate.
/// 2: dates stored as day numbers, codes read straight into their types.
/// 3: the facts in one JSON body.
/// 4: checklists count the actions a record completed apart from those ticked by hand.
/// 5: the allocated worker.
pub const DEFINITION: i32 = 5;

/// The records whose changes can change a case's facts (visits, views, factors and the like
/// cannot).
const RELEVANT: &[&str] = &[
    "reunification_case",
    "care_episode",
    "child",
    "outcome",
    "stage_progress",
    "decision",
    "risk_classification",
    "goal",
    "goal_revision",
    "support_service",
    "checklist_item",
];

/// Dates in the facts' body: stored as day numbers (days from 1 January of year 1, as
/// `NaiveDate::num_days_from_ce`), which read back far faster than text; `YYYY-MM-DD` is read too.
mod day {
    use chrono::{Datelike as _, NaiveDate};
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    /// Reads a day number or `YYYY-MM-DD` (a visitor, not an untagged enum: this runs for every
    /// date of every fact row read).
    struct Day;

    impl Visitor<'_> for Day {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a day number or a YYYY-MM-DD date")
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<NaiveDate, E> {
            i32::try_from(n)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| E::custom("not a date"))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<NaiveDate, E> {
            self.visit_i64(i64::try_from(n).map_err(|_| E::custom("not a date"))?)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<NaiveDate, E> {
            s.parse().map_err(|_| E::custom("not a date"))
        }
    }

    /// As [`Day`], or null.
    struct MaybeDay;

    impl<'de> Visitor<'de> for MaybeDay {
        type Value = Option<NaiveDate>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a date or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Day).map(Some)
        }
    }

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(d.num_days_from_ce())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        d.deserialize_any(Day)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
            d.deserialize_option(MaybeDay)
        }
    }
}

/// A stage the case entered: `(stage, entered on, completed on)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageFact(
    pub Stage,
    #[serde(with = "day")] pub NaiveDate,
    #[serde(with = "day::option")] pub Option<NaiveDate>,
);

/// A decision: `(kind, outcome, decided on, approval status)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFact(
    pub DecisionKind,
    pub DecisionOutcome,
    #[serde(with = "day")] pub NaiveDate,
    pub ApprovalStatus,
);

/// An agreed risk classification: `(kind, level 1–4, agreed on)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationFact(
    pub ClassificationKind,
    pub i32,
    #[serde(with = "day")] pub NaiveDate,
);

/// A goal: `(original target date, current target date, status, green since)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalFact(
    #[serde(with = "day")] pub NaiveDate,
    #[serde(with = "day")] pub NaiveDate,
    pub GoalStatus,
    #[serde(with = "day::option")] pub Option<NaiveDate>,
);

/// A service: `(type, need level, starts on, ends on, status)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFact(
    pub ServiceType,
    pub NeedLevel,
    #[serde(with = "day")] pub NaiveDate,
    #[serde(with = "day::option")] pub Option<NaiveDate>,
    pub ServiceStatus,
);

/// A stage's checklist: `(stage, items completed, items, of the completed: by a record)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistFact(pub Stage, pub i64, pub i64, #[serde(default)] pub i64);

/// What the aggregates know about one case, stored as the JSON `body` of its `case_fact` row
/// (one column to read per case: the cross-LA figures read every LA's rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseFacts {
    /// The case.
    pub case_id: i64,
    /// Its child.
    pub child_id: i64,
    /// Its team, if allocated.
    pub team: Option<String>,
    /// Its allocated worker (actor row id), if any.
    #[serde(default)]
    pub worker_id: Option<i64>,
    /// The child's reunification attempt this case is (1 for the first).
    pub attempt_number: i32,
    /// Its current stage.
    pub stage: Stage,
    /// Its status.
    pub status: CaseStatus,
    /// When it opened.
    #[serde(with = "day")]
    pub opened_on: NaiveDate,
    /// When it closed.
    #[serde(with = "day::option")]
    pub closed_on: Option<NaiveDate>,
    /// When the episode of care it belongs to began.
    #[serde(with = "day")]
    pub care_started_on: NaiveDate,
    /// The episode's legal status (SSDA903 code).
    pub legal_status: String,
    /// The child's age in whole years when the case opened.
    pub age_at_open: i32,
    /// The latest agreed risk level (1–4).
    pub risk_level: Option<i32>,
    /// `PLANNED` or `UNPLANNED` once the child went home.
    pub return_type: Option<ReturnType>,
    /// The day the child went home.
    #[serde(with = "day::option")]
    pub return_on: Option<NaiveDate>,
    /// The SSDA903 reason the episode ceased, when it ended on the day of the return.
    pub exit_reason: Option<String>,
    /// The first day back in care after the return.
    #[serde(with = "day::option")]
    pub reentered_on: Option<NaiveDate>,
    /// Why the case closed.
    pub closure_reason: Option<ClosureReason>,
    /// The stages the case entered.
    pub stages: Vec<StageFact>,
    /// Its decisions.
    pub decisions: Vec<DecisionFact>,
    /// Its agreed classifications.
    pub classifications: Vec<ClassificationFact>,
    /// Its goals.
    pub goals: Vec<GoalFact>,
    /// Its services.
    pub services: Vec<ServiceFact>,
    /// Its checklists, per stage.
    pub checklist: Vec<ChecklistFact>,
}

impl CaseFacts {
    /// Reads a row's body; a body that does not parse is a defect, reported as such.
    pub fn read(body: &str) -> ApiResult<Self> {
        serde_json::from_str(body).map_err(|_| ApiError::internal("a case fact does not parse"))
    }
}

/// An LA's facts. Only the body is selected, and read by position: this is the cross-LA
/// figures' hot path.
pub async fn load(db: &impl ConnectionTrait, la_id: i64) -> ApiResult<Vec<CaseFacts>> {
    let statement = case_fact::Entity::find()
        .select_only()
        .column(case_fact::Column::Body)
        .filter(case_fact::Column::LaId.eq(la_id))
        .build(db.get_database_backend());
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|r| CaseFacts::read(&r.try_get_by_index::<String>(0)?))
        .collect()
}

/// The aggregates' case facts, kept in step with the events of every unit of work.
pub struct FactsProjection;

#[async_trait::async_trait]
impl crate::unit::Projection for FactsProjection {
    async fn before(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        la_id: i64,
        events: &[PendingEvent],
    ) -> ApiResult<()> {
        refresh_for(tx, la_id, events).await
    }
}

/// Rebuilds the facts of the cases the request's events touched (and of every case of a child
/// whose own records changed), in the request's transaction.
pub async fn refresh_for(
    db: &impl ConnectionTrait,
    la_id: i64,
    events: &[PendingEvent],
) -> ApiResult<()> {
    let relevant = events
        .iter()
        .filter(|e| RELEVANT.contains(&e.record.kind.as_str()));
    let mut cases = BTreeSet::new();
    let mut children = BTreeSet::new();
    for e in relevant {
        match (e.record.case_id, e.record.child_id) {
            (Some(c), _) => {
                cases.insert(c);
            }
            (None, Some(child)) => {
                children.insert(child);
            }
            (None, None) => {}
        }
    }
    if cases.is_empty() && children.is_empty() {
        return Ok(());
    }
    for chunk in children.into_iter().collect::<Vec<_>>().chunks(CHUNK) {
        let of_children = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::LaId.eq(la_id))
            .filter(case::Column::ChildId.is_in(chunk.iter().copied()))
            .into_tuple::<i64>()
            .all(db)
            .await?;
        cases.extend(of_children);
    }
    rebuild(db, la_id, &cases.into_iter().collect::<Vec<_>>()).await
}

const CHUNK: usize = 500;

/// Deletes and rebuilds the facts of `case_ids` of one LA (the tenant of `db`'s transaction).
pub async fn rebuild(db: &impl ConnectionTrait, la_id: i64, case_ids: &[i64]) -> ApiResult<()> {
    for chunk in case_ids.chunks(CHUNK) {
        let rows = build(db, la_id, chunk).await?;
        case_fact::Entity::delete_many()
            .filter(case_fact::Column::LaId.eq(la_id))
            .filter(case_fact::Column::CaseId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
        if !rows.is_empty() {
            case_fact::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(())
}

/// Builds every missing or out-of-date fact row, LA by LA, each in its own tenant transaction.
/// Run after migrations; returns how many cases were built.
pub async fn backfill(pool: &DatabaseConnection) -> ApiResult<usize> {
    let las = local_authority::Entity::find()
        .select_only()
        .column(local_authority::Column::Id)
        .into_tuple::<i64>()
        .all(pool)
        .await?;
    let mut built = 0;
    for la in las {
        let txn = pool.begin().await?;
        crate::db::set_tenant(&txn, la, None).await?;
        let current: BTreeSet<i64> = case_fact::Entity::find()
            .select_only()
            .column(case_fact::Column::CaseId)
            .filter(case_fact::Column::LaId.eq(la))
            .filter(case_fact::Column::Definition.eq(DEFINITION))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let missing: Vec<i64> = case::Entity::find()
            .select_only()
            .column(case::Column::Id)
            .filter(case::Column::LaId.eq(la))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .filter(|id| !current.contains(id))
            .collect();
        rebuild(&txn, la, &missing).await?;
        txn.commit().await?;
        built += missing.len();
    }
    Ok(built)
}

/// Builds the fact rows of `ids` (at most a chunk) from the cases' snapshots: the same load the
/// framework's rules read, so the aggregates and the rules see one case.
async fn build(
    db: &impl ConnectionTrait,
    la: i64,
    ids: &[i64],
) -> ApiResult<Vec<case_fact::ActiveModel>> {
    let settings = crate::tenancy::service::settings(&crate::tenancy::service::get(db, la).await?);
    let now = Utc::now();
    let mut rows = Vec::with_capacity(ids.len());
    for s in snapshot::load_many(db, la, ids, &settings).await? {
        let facts = facts_of(&s)?;
        let c = &s.case;
        rows.push(case_fact::ActiveModel {
            la_id: Set(la),
            case_id: Set(c.id),
            child_id: Set(c.child_id),
            definition: Set(DEFINITION),
            team: Set(c.team.clone()),
            worker_id: Set(c.worker_id),
            stage: Set(c.stage),
            status: Set(c.status),
            body: Set(serde_json::to_string(&facts)
                .map_err(|_| ApiError::internal("a case fact does not serialise"))?),
            refreshed_at: Set(now),
            ..Default::default()
        });
    }
    Ok(rows)
}

/// What the aggregates know about one case, from its snapshot.
pub fn facts_of(s: &CaseSnapshot) -> ApiResult<CaseFacts> {
    let c = &s.case;
    let episode = s.episode()?;
    let out = s.outcome.as_ref();
    let return_on = out.and_then(|o| o.return_on);
    // A return home under SSDA903 is the episode ending E4A/E4B on the day the child went home.
    let exit_reason = match (return_on, episode.ended_on) {
        (Some(r), Some(ended)) if r == ended => episode.reason_ceased.clone(),
        _ => None,
    };
    // A re-entry is a later new period of care for the same child (or the date recorded when
    // the case closed as broken down), whichever is first.
    let reentered_on = return_on.and_then(|r| {
        s.episodes
            .iter()
            .filter(|e| e.id != episode.id && e.started_on >= r)
            .map(|e| e.started_on)
            .chain(out.and_then(|o| o.reentered_care_on))
            .min()
    });
    let stages = s
        .stages
        .iter()
        .map(|st| Ok(StageFact(st.stage, st.entered_on, st.completed_on)))
        .collect::<ApiResult<_>>()?;
    let decisions = s
        .decisions
        .iter()
        .map(|d| {
            Ok(DecisionFact(
                d.kind,
                d.outcome,
                d.decided_on,
                d.approval_status,
            ))
        })
        .collect::<ApiResult<_>>()?;
    let classifications = s
        .classifications
        .iter()
        .filter_map(|r| {
            r.agreed_on
                .map(|on| Ok(ClassificationFact(r.kind, r.level, on)))
        })
        .collect::<ApiResult<_>>()?;
    let goals = s
        .goals
        .iter()
        .map(|g| {
            // A goal's original target date: the one its first revision replaced.
            let original = s
                .goal_revisions
                .iter()
                .find(|r| r.goal_id == g.id)
                .map_or(g.target_date, |r| r.previous_target_date);
            Ok(GoalFact(
                original,
                g.target_date,
                g.status,
                g.sustained_since,
            ))
        })
        .collect::<ApiResult<_>>()?;
    let services = s
        .services
        .iter()
        .map(|sv| {
            Ok(ServiceFact(
                sv.service_type,
                sv.need_level,
                sv.starts_on,
                sv.ends_on,
                sv.status,
            ))
        })
        .collect::<ApiResult<_>>()?;
    let mut checklist: Vec<ChecklistFact> = Vec::new();
    for item in &s.checklist {
        let done = i64::from(item.completed_on.is_some());
        let evidenced = i64::from(item.completed_on.is_some() && item.evidence.is_some());
        let stage = item.stage;
        match checklist.iter_mut().find(|f| f.0 == stage) {
            Some(f) => {
                f.1 += done;
                f.2 += 1;
                f.3 += evidenced;
            }
            None => checklist.push(ChecklistFact(stage, done, 1, evidenced)),
        }
    }
    Ok(CaseFacts {
        case_id: c.id,
        child_id: c.child_id,
        team: c.team.clone(),
        worker_id: c.worker_id,
        attempt_number: c.attempt_number,
        stage: c.stage,
        status: c.status,
        opened_on: c.opened_on,
        closed_on: c.closed_on,
        care_started_on: episode.started_on,
        legal_status: episode.legal_status.clone(),
        age_at_open: age_on(s.child.date_of_birth, c.opened_on),
        risk_level: c.risk_level,
        return_type: c.return_type,
        return_on,
        exit_reason,
        reentered_on,
        closure_reason: out.and_then(|o| o.closure_reason),
        stages,
        decisions,
        classifications,
        goals,
        services,
        checklist,
    })
}
