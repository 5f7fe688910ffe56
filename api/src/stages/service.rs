//! The process, written: stage entry with its checklist, decisions D1–D3, approvals, risk
//! classifications, the return home and closure. Each loads the case's snapshot, asks the rules
//! in [`crate::framework`], then writes; every change to a case goes through
//! [`cases::save_case`](crate::cases::store::save_case) so concurrent changes conflict.

use chrono::{NaiveDate, Utc};
use entities::{
    care_episode, checklist_item, decision, reunification_case as case, risk_classification,
    stage_progress,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::auth::Role;
use crate::cases::store as cases;
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::dates::today;
use crate::domain::{
    ApprovalStatus, CaseStatus, ClassificationKind, ClosureReason, DecisionKind, DecisionOutcome,
    ReturnType, RiskLevel, Stage, YesNoUnknown,
};
use crate::domain::{optional_text, text};
use crate::error::{ApiError, ApiResult, OptionExt, UserErrorCode};
use crate::framework::closure::{self, Close};
use crate::framework::decisions::{self, Decide};
use crate::framework::process::Next;
use crate::framework::{checklist, goals, risk, snapshot};
use crate::ids::{CaseId, ChecklistItemId, ClassificationId, DecisionId};
use crate::outcomes::service as outcomes;
use crate::stamp::Stamped as _;
use crate::tenancy::service as tenancy;

/// Enters a stage: completes the previous stage, records the entry, and copies the LA's checklist.
pub async fn start_stage(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case_id: i64,
    stage: Stage,
    on: NaiveDate,
) -> ApiResult<()> {
    finish_stages(txn, actor, case_id, on).await?;
    let now = Utc::now();
    stage_progress::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case_id),
        stage: Set(stage),
        entered_on: Set(on),
        completed_on: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert_by(txn, actor, EventType::StageEntered)
    .await?;
    for item in tenancy::checklist_template(txn, actor.la_id, stage).await? {
        checklist_item::ActiveModel {
            la_id: Set(actor.la_id),
            case_id: Set(case_id),
            stage: Set(stage),
            key: Set(item.key),
            label: Set(item.label),
            required: Set(item.required),
            position: Set(item.position),
            completed_on: Set(None),
            completed_by: Set(None),
            note: Set(None),
            derived_from: Set(item.derived_from),
            evidence: Set(None),
            ..Default::default()
        }
        .created(actor)
        .insert_by(txn, actor, None)
        .await?;
    }
    super::derived::sync_derived(txn, actor, case_id).await
}

async fn finish_stages(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case_id: i64,
    on: NaiveDate,
) -> ApiResult<()> {
    let open = stage_progress::Entity::find()
        .filter(stage_progress::Column::LaId.eq(actor.la_id))
        .filter(stage_progress::Column::CaseId.eq(case_id))
        .filter(stage_progress::Column::CompletedOn.is_null())
        .all(txn)
        .await?;
    for stage in open {
        let mut am: stage_progress::ActiveModel = stage.into();
        am.completed_on = Set(Some(on));
        am.update_by(txn, actor, EventType::StageCompleted).await?;
    }
    Ok(())
}

// ----- checklist -----

/// Which checklist item: by its ID, or by its case, stage (the current one by default) and key.
#[derive(Debug, Clone)]
pub enum ItemRef {
    /// The item's ID.
    Id(ChecklistItemId),
    /// The case's item of a stage with a template key.
    Key {
        /// The case.
        case: CaseId,
        /// The stage; the case's current one when `None`.
        stage: Option<Stage>,
        /// The template key.
        key: String,
    },
}

/// Marks a checklist item completed (or not completed).
pub async fn complete_item(
    db: &impl Db,
    actor: &Acting,
    item: ItemRef,
    completed: bool,
    completed_on: Option<NaiveDate>,
    note: Option<String>,
    expected_version: Option<i32>,
) -> ApiResult<checklist_item::Model> {
    if let Some(n) = &note {
        text(n, "note", 5000)?;
    }
    let on = completed_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let (s, item) = match item {
        ItemRef::Id(id) => {
            let item = crate::db::find_in_la::<checklist_item::Entity>(&txn, actor.la_id, id.0)
                .await?
                .or_user_not_found(&["itemId"], "checklist item")?;
            let s = snapshot::for_change(&txn, actor, CaseId(item.case_id), None).await?;
            (s, item)
        }
        ItemRef::Key { case, stage, key } => {
            let s = snapshot::for_change(&txn, actor, case, None).await?;
            let stage = match stage {
                Some(stage) => stage,
                None => s.stage(),
            };
            let item = s
                .checklist_of(stage)
                .find(|i| i.key == key)
                .cloned()
                .or_user_not_found(&["key"], "checklist item of this stage with this key")?;
            (s, item)
        }
    };
    ApiError::check_version(expected_version, item.version)?;
    checklist::complete(&s, &item, completed, on)?;
    let version = item.version;
    let mut am: checklist_item::ActiveModel = item.into();
    am.completed_on = Set(completed.then_some(on));
    am.completed_by = Set(completed.then_some(actor.actor_id));
    if note.is_some() {
        am.note = Set(note);
    }
    let am = am.changed(actor, version);
    let saved = am
        .update_by(&txn, actor, EventType::ChecklistItemUpdated)
        .await?;
    cases::touch(&txn, actor, &s.case).await?;
    txn.commit().await?;
    Ok(saved)
}

// ----- decisions -----

/// A decision to record.
#[derive(Debug, Clone)]
pub struct RecordDecision {
    /// The case.
    pub case_id: CaseId,
    /// D1, D2 or D3.
    pub kind: DecisionKind,
    /// Yes, no or deferred.
    pub outcome: DecisionOutcome,
    /// Why.
    pub rationale: String,
    /// When (defaults to today).
    pub decided_on: Option<NaiveDate>,
    /// D3 = yes: the planned return date.
    pub planned_return_on: Option<NaiveDate>,
    /// A "no": the alternative permanence plan (Annex A code).
    pub alternative_plan: Option<String>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Records D1, D2 or D3 and moves the case on as the framework says.
pub async fn record_decision(
    db: &impl Db,
    actor: &Acting,
    cmd: RecordDecision,
) -> ApiResult<(decision::Model, case::Model)> {
    text(&cmd.rationale, "rationale", 20_000)?;
    let decided_on = cmd.decided_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    let plan = decisions::record(
        &s,
        (&actor.actor).into(),
        &Decide {
            kind: cmd.kind,
            outcome: cmd.outcome,
            decided_on,
            planned_return_on: cmd.planned_return_on,
            alternative_plan: cmd.alternative_plan.as_deref(),
        },
    )?;
    let case = &s.case;
    let recorded = decision::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        kind: Set(cmd.kind),
        outcome: Set(cmd.outcome),
        rationale: Set(cmd.rationale.trim().to_owned()),
        decided_on: Set(decided_on),
        decided_by: Set(Some(actor.actor_id)),
        approval_status: Set(plan.approval),
        approved_by: Set(None),
        approver_role: Set(plan.approver.map(|r| r.as_claim().to_owned())),
        approved_on: Set(None),
        planned_return_on: Set(cmd.planned_return_on),
        alternative_plan: Set(plan.alternative_plan.clone()),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::DecisionRecorded)
    .await?;
    let saved = match plan.next {
        Next::Enter(stage) => {
            let saved =
                cases::save_case(&txn, actor, case, None, |am| am.stage = Set(stage)).await?;
            start_stage(&txn, actor, case.id, stage, decided_on).await?;
            saved
        }
        Next::CloseNotPursued => {
            close_in(
                &txn,
                actor,
                case,
                ClosureReason::NotPursued,
                decided_on,
                plan.alternative_plan,
                None,
                None,
            )
            .await?
        }
        Next::Stay => cases::touch(&txn, actor, case).await?,
    };
    txn.commit().await?;
    Ok((recorded, saved))
}

/// Approves a decision awaiting approval (D3 by a nominated officer other than its recorder).
pub async fn approve_decision(
    db: &impl Db,
    actor: &Acting,
    id: DecisionId,
    approved_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<decision::Model> {
    let on = approved_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let found = crate::db::find_in_la::<decision::Entity>(&txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["decisionId"], "decision")?;
    ApiError::check_version(expected_version, found.version)?;
    let s = snapshot::for_change(&txn, actor, CaseId(found.case_id), None).await?;
    decisions::approve(&s, (&actor.actor).into(), &found, on)?;
    let version = found.version;
    let mut am: decision::ActiveModel = found.into();
    am.approval_status = Set(ApprovalStatus::Approved);
    am.approved_by = Set(Some(actor.actor_id));
    am.approved_on = Set(Some(on));
    let am = am.changed(actor, version);
    let saved = am
        .update_by(&txn, actor, EventType::DecisionApproved)
        .await?;
    cases::touch(&txn, actor, &s.case).await?;
    txn.commit().await?;
    Ok(saved)
}

// ----- risk classification -----

/// A proposed classification.
#[derive(Debug, Clone)]
pub struct ProposeClassification {
    /// The case.
    pub case_id: CaseId,
    /// RC1, RC2 or RC3.
    pub kind: ClassificationKind,
    /// Proposed level.
    pub level: RiskLevel,
    /// Why.
    pub rationale: String,
    /// Date of the classification (defaults to today).
    pub classified_on: Option<NaiveDate>,
}

/// Proposes a risk classification in the stage it belongs to.
pub async fn propose_classification(
    db: &impl Db,
    actor: &Acting,
    cmd: ProposeClassification,
) -> ApiResult<risk_classification::Model> {
    text(&cmd.rationale, "rationale", 20_000)?;
    let on = cmd.classified_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, cmd.case_id, None).await?;
    risk::propose(&s, (&actor.actor).into(), cmd.kind, on)?;
    let saved = risk_classification::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(s.case.id),
        kind: Set(cmd.kind),
        level: Set(cmd.level.rank()),
        rationale: Set(cmd.rationale.trim().to_owned()),
        classified_on: Set(on),
        proposed_by: Set(Some(actor.actor_id)),
        agreed_by: Set(None),
        agreed_on: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::ClassificationProposed)
    .await?;
    cases::touch(&txn, actor, &s.case).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A team manager (or nominated officer) signs off the Return Home Assessment: the case is in
/// ASSESSMENT and the stage's required practice actions are done. Once only; D2 needs it.
pub async fn sign_off_assessment(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    signed_off_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<stage_progress::Model> {
    let on = signed_off_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, case_id, expected_version).await?;
    decisions::sign_off(&s, (&actor.actor).into(), on)?;
    let progress = s.stage_row(Stage::Assessment).cloned().or_not_found()?;
    let mut am: stage_progress::ActiveModel = progress.into();
    am.signed_off_by = Set(Some(actor.actor_id));
    am.signed_off_on = Set(Some(on));
    let saved = am
        .update_by(&txn, actor, EventType::AssessmentSignedOff)
        .await?;
    cases::touch(&txn, actor, &s.case).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A team manager (or nominated officer) other than its proposer agrees a proposed
/// classification; the case takes its level.
pub async fn agree_classification(
    db: &impl Db,
    actor: &Acting,
    id: ClassificationId,
    agreed_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<(risk_classification::Model, case::Model)> {
    let on = agreed_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let found = crate::db::find_in_la::<risk_classification::Entity>(&txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["classificationId"], "risk classification")?;
    ApiError::check_version(expected_version, found.version)?;
    let s = snapshot::for_change(&txn, actor, CaseId(found.case_id), None).await?;
    risk::agree(&s, (&actor.actor).into(), &found, on)?;
    let level = found.level;
    let version = found.version;
    let mut am: risk_classification::ActiveModel = found.into();
    am.agreed_by = Set(Some(actor.actor_id));
    am.agreed_on = Set(Some(on));
    let am = am.changed(actor, version);
    let saved = am
        .update_by(&txn, actor, EventType::ClassificationAgreed)
        .await?;
    let case = cases::save_case(&txn, actor, &s.case, EventType::CaseChanged, |am| {
        am.risk_level = Set(Some(level))
    })
    .await?;
    txn.commit().await?;
    Ok((saved, case))
}

// ----- stage 2 → 3 -----

/// Ends stage 2 (goals, agreement and services), which ends with goals met and sustained rather
/// than a decision.
pub async fn complete_goals_stage(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    completed_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    let on = completed_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, case_id, expected_version).await?;
    goals::complete_stage(&s, on)?;
    let saved = cases::save_case(&txn, actor, &s.case, None, |am| {
        am.stage = Set(Stage::ReturnDecision)
    })
    .await?;
    start_stage(&txn, actor, s.case.id, Stage::ReturnDecision, on).await?;
    txn.commit().await?;
    Ok(saved)
}

// ----- return home -----

/// A return home to record.
#[derive(Debug, Clone)]
pub struct RecordReturn {
    /// The case.
    pub case_id: CaseId,
    /// Date the child went home.
    pub returned_on: NaiveDate,
    /// The child went home without a D3 = yes.
    pub unplanned: bool,
    /// The episode of care ends (E4A/E4B/E13); false keeps the child looked after, placed with
    /// parents (P1).
    pub ends_care: bool,
    /// The child went to relatives or friends who do not hold parental responsibility (E13).
    pub without_parental_responsibility: bool,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Records the child's return home: planned after an approved D3 = yes, or unplanned from any
/// earlier stage. The case enters stage 4; the episodes say what happened as the 903 does (see
/// [`closure::return_episode`]).
pub async fn record_return(
    db: &impl Db,
    actor: &Acting,
    cmd: RecordReturn,
) -> ApiResult<case::Model> {
    let on = cmd.returned_on;
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    let return_type = closure::record_return(&s, on, cmd.unplanned)?;
    let change = closure::return_episode(
        &s,
        return_type,
        cmd.ends_care,
        cmd.without_parental_responsibility,
    )?;
    let episode = s.episode()?.clone();
    let episode_id = match change {
        closure::ReturnEpisode::Ends(reason) => {
            crate::children::service::end_episode(&txn, actor, episode, on, reason).await?;
            None
        }
        closure::ReturnEpisode::PlacedWithParents => Some(
            crate::children::service::place_with_parents(&txn, actor, &s.child, episode, on)
                .await?,
        ),
    };
    let saved = enter_return(&txn, actor, &s, on, return_type, episode_id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// The case's side of a return on `on`: stage 4, the return's type on the case and its outcome,
/// and (placed with parents) the new episode the case now follows.
async fn enter_return(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    s: &snapshot::CaseSnapshot,
    on: NaiveDate,
    return_type: ReturnType,
    episode_id: Option<i64>,
) -> ApiResult<case::Model> {
    let saved = cases::save_case(txn, actor, &s.case, EventType::ReturnRecorded, |am| {
        am.stage = Set(Stage::ReturnAndSupport);
        am.return_type = Set(Some(return_type));
        if let Some(id) = episode_id {
            am.episode_id = Set(id);
        }
    })
    .await?;
    outcomes::upsert(txn, actor, s.case.id, |am| {
        am.return_on = Set(Some(on));
        am.return_type = Set(Some(return_type));
    })
    .await?;
    start_stage(txn, actor, s.case.id, Stage::ReturnAndSupport, on).await?;
    Ok(saved)
}

/// The return an episode the case-management system ended says (E4A, E4B or E13): the child's
/// active case that follows the episode moves into stage 4 as `returnRecord` would (see [`closure::synced_return`]), the
/// episode kept as it was sent. Its event names the sync operation that caused it.
pub async fn return_from_episode(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    episode: &care_episode::Model,
) -> ApiResult<()> {
    let (Some(on), Some(reason)) = (episode.ended_on, episode.reason_ceased.as_deref()) else {
        return Ok(());
    };
    if !closure::RETURN_REASONS.contains(&reason) {
        return Ok(());
    }
    // The child's active case that follows this episode (an older episode sent late moves nothing).
    let Some(active) = cases::active_of_child(txn, actor, episode.child_id)
        .await?
        .filter(|c| c.episode_id == episode.id)
    else {
        return Ok(());
    };
    let s = snapshot::for_change(txn, actor, CaseId(active.id), None).await?;
    let Some(return_type) = closure::synced_return(&s, reason, on) else {
        return Ok(());
    };
    let return_type = return_type.map_err(|e| match e {
        ApiError::User(errors) => {
            let why: Vec<String> = errors.iter().map(|u| u.message.clone()).collect();
            ApiError::user(
                errors.first().map_or(UserErrorCode::Invalid, |u| u.code),
                &["endedOn"],
                format!(
                    "ending the episode {reason} records the child's return home on the open case, \
                     which refuses it: {}",
                    why.join("; ")
                ),
            )
        }
        other => other,
    })?;
    enter_return(txn, actor, &s, on, return_type, None).await?;
    Ok(())
}

// ----- closure -----

/// A closure to record.
#[derive(Debug, Clone)]
pub struct CloseCase {
    /// The case.
    pub case_id: CaseId,
    /// Why it closes.
    pub reason: ClosureReason,
    /// Date (defaults to today).
    pub closed_on: Option<NaiveDate>,
    /// Why, in words (optional but for OTHER and MOVED_LA).
    pub rationale: Option<String>,
    /// For a breakdown: when the child re-entered care.
    pub reentered_care_on: Option<NaiveDate>,
    /// For "not pursued": the alternative permanence plan.
    pub alternative_plan: Option<String>,
    /// Whether the child was maltreated after the return.
    pub maltreatment: Option<YesNoUnknown>,
    /// A team manager's reason to close as stable without RC3 or the full support.
    pub override_reason: Option<String>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Closes a case with its outcome.
pub async fn close_case(db: &impl Db, actor: &Acting, cmd: CloseCase) -> ApiResult<case::Model> {
    let rationale = optional_text(cmd.rationale.as_deref(), "rationale", 20_000)?;
    let override_reason = cmd
        .override_reason
        .as_deref()
        .map(|r| text(r, "overrideReason", 20_000))
        .transpose()?;
    let on = cmd.closed_on.unwrap_or_else(today);
    let txn = db.begin().await?;
    let s = snapshot::for_change(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    let plan = closure::close(
        &s,
        (&actor.actor).into(),
        &Close {
            reason: cmd.reason,
            closed_on: on,
            rationale: Some(rationale.as_str()),
            reentered_care_on: cmd.reentered_care_on,
            alternative_plan: cmd.alternative_plan.as_deref(),
            override_reason: override_reason.as_deref(),
        },
    )?;
    // A team manager's override is the closure's approval, with its reason.
    let rationale = match &override_reason {
        Some(reason) if rationale.is_empty() => format!("Override: {reason}"),
        Some(reason) => format!("{rationale}\n\nOverride: {reason}"),
        None => rationale,
    };
    decision::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(s.case.id),
        kind: Set(DecisionKind::Closure),
        outcome: Set(DecisionOutcome::Yes),
        rationale: Set(rationale),
        decided_on: Set(on),
        decided_by: Set(Some(actor.actor_id)),
        approval_status: Set(if plan.overridden {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::NotRequired
        }),
        approved_by: Set(plan.overridden.then_some(actor.actor_id)),
        approver_role: Set(plan
            .overridden
            .then(|| Role::TeamManager.as_claim().to_owned())),
        approved_on: Set(plan.overridden.then_some(on)),
        alternative_plan: Set(plan.alternative_plan.clone()),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::DecisionRecorded)
    .await?;
    let saved = close_in(
        &txn,
        actor,
        &s.case,
        cmd.reason,
        on,
        plan.alternative_plan,
        plan.reentered_care_on,
        cmd.maltreatment,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Closes the case in the caller's transaction and records the outcome.
#[allow(
    clippy::too_many_arguments,
    reason = "one call site per closure path; a struct adds nothing"
)]
async fn close_in(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case: &case::Model,
    reason: ClosureReason,
    on: NaiveDate,
    plan: Option<String>,
    reentered: Option<NaiveDate>,
    maltreatment: Option<YesNoUnknown>,
) -> ApiResult<case::Model> {
    finish_stages(txn, actor, case.id, on).await?;
    outcomes::upsert(txn, actor, case.id, |am| {
        am.closure_reason = Set(Some(reason));
        am.closed_on = Set(Some(on));
        if reentered.is_some() {
            am.reentered_care_on = Set(reentered);
        }
        if let Some(m) = maltreatment {
            am.maltreatment = Set(Some(m));
        }
    })
    .await?;
    cases::save_case(txn, actor, case, EventType::CaseClosed, |am| {
        am.status = Set(CaseStatus::Closed);
        am.closed_on = Set(Some(on));
        if plan.is_some() {
            am.alternative_plan = Set(plan);
        }
    })
    .await
}
