//! The process rules: stage entry with its checklist, decisions D1–D3 and their gates, approvals,
//! risk classifications, the return home and closure. Every change to a case goes through
//! [`cases::save_case`](crate::cases::service::save_case) so concurrent changes conflict.

use chrono::{NaiveDate, Utc};
use entities::{
    care_episode, checklist_item, decision, goal, parental_agreement, reunification_case as case,
    risk_classification, stage_progress,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::transitions::{self, Next};
use crate::audit::AuditedWrite as _;
use crate::auth::{Actor, Role};
use crate::cases::service::{self as cases, not_future};
use crate::db::Db;
use crate::domain::reference::PERMANENCE_PLAN;
use crate::domain::text;
use crate::domain::{
    AgreementStatus, ApprovalStatus, CaseStatus, ClassificationKind, ClosureReason, DecisionKind,
    DecisionOutcome, ReturnType, RiskLevel, Stage, YesNoUnknown, dates,
};
use crate::error::{ApiError, ApiResult, OptionExt, UserErrorCode};
use crate::ids::{CaseId, ChecklistItemId, ClassificationId, DecisionId};
use crate::outcomes::service as outcomes;
use crate::stamp::Stamped as _;
use crate::tenancy::service as tenancy;

/// Enters a stage: completes the previous stage, records the entry, and copies the LA's checklist.
pub async fn start_stage(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    case_id: i64,
    stage: Stage,
    on: NaiveDate,
) -> ApiResult<()> {
    finish_stages(txn, actor, case_id, on).await?;
    let now = Utc::now();
    stage_progress::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case_id),
        stage: Set(stage.as_str().to_owned()),
        entered_on: Set(on),
        completed_on: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert_by(txn, actor)
    .await?;
    for item in tenancy::checklist_template(txn, actor.la_id, stage).await? {
        checklist_item::ActiveModel {
            la_id: Set(actor.la_id),
            case_id: Set(case_id),
            stage: Set(stage.as_str().to_owned()),
            key: Set(item.key),
            label: Set(item.label),
            required: Set(item.required),
            position: Set(item.position),
            completed_on: Set(None),
            completed_by: Set(None),
            note: Set(None),
            ..Default::default()
        }
        .created(actor)
        .insert_by(txn, actor)
        .await?;
    }
    Ok(())
}

async fn finish_stages(
    txn: &impl ConnectionTrait,
    actor: &Actor,
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
        am.update_by(txn, actor).await?;
    }
    Ok(())
}

/// Fails with `CHECKLIST_INCOMPLETE` naming the required actions of `stage` not yet completed.
async fn require_checklist(
    txn: &impl ConnectionTrait,
    case_id: i64,
    stage: Stage,
) -> ApiResult<()> {
    let missing: Vec<String> = checklist_item::Entity::find()
        .filter(checklist_item::Column::CaseId.eq(case_id))
        .filter(checklist_item::Column::Stage.eq(stage.as_str()))
        .filter(checklist_item::Column::Required.eq(true))
        .filter(checklist_item::Column::CompletedOn.is_null())
        .order_by_asc(checklist_item::Column::Position)
        .all(txn)
        .await?
        .into_iter()
        .map(|i| i.key)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::ChecklistIncomplete,
            &["caseId"],
            format!(
                "required practice actions of this stage are not completed: {}",
                missing.join(", ")
            ),
        ))
    }
}

fn stage(c: &case::Model) -> ApiResult<Stage> {
    Stage::from_db(&c.stage)
}

fn alternative_plan(plan: Option<&str>) -> ApiResult<String> {
    let Some(plan) = plan else {
        return Err(ApiError::user(
            UserErrorCode::AlternativePlanRequired,
            &["alternativePlan"],
            "not pursuing reunification needs the alternative permanence plan",
        ));
    };
    match PERMANENCE_PLAN.find(plan) {
        Some(row) if row.get("birth_family") != "return" => Ok(plan.to_owned()),
        Some(_) => Err(ApiError::user(
            UserErrorCode::InvalidCode,
            &["alternativePlan"],
            "the alternative plan cannot be a return to the birth family",
        )),
        None => Err(ApiError::user(
            UserErrorCode::InvalidCode,
            &["alternativePlan"],
            format!("{plan} is not a known permanence plan"),
        )),
    }
}

// ----- checklist -----

/// Marks a checklist item completed (or not completed).
pub async fn complete_item(
    db: &impl Db,
    actor: &Actor,
    id: ChecklistItemId,
    completed: bool,
    completed_on: Option<NaiveDate>,
    note: Option<String>,
    expected_version: Option<i32>,
) -> ApiResult<checklist_item::Model> {
    if let Some(n) = &note {
        text(n, "note", 5000)?;
    }
    let on = not_future(completed_on.unwrap_or_else(cases::today), "completedOn")?;
    let item = checklist_item::Entity::find_by_id(id.0)
        .filter(checklist_item::Column::LaId.eq(actor.la_id))
        .one(db)
        .await?
        .or_user_not_found(&["itemId"], "checklist item")?;
    ApiError::check_version(expected_version, item.version)?;
    let case = cases::load_active(db, actor, CaseId(item.case_id), None).await?;
    let txn = db.begin().await?;
    let version = item.version;
    let mut am: checklist_item::ActiveModel = item.into();
    am.completed_on = Set(completed.then_some(on));
    am.completed_by = Set(completed.then_some(actor.actor_id));
    if note.is_some() {
        am.note = Set(note);
    }
    let am = am.changed(actor, version);
    let saved = am.update_by(&txn, actor).await?;
    cases::save_case(&txn, actor, &case, |_| {}).await?;
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

/// Whether risk has stayed Medium or Low long enough (the LA's sustained-risk policy) by `on`.
pub fn risk_sustained(agreed: &[(NaiveDate, RiskLevel)], months: u32, on: NaiveDate) -> bool {
    let high = |l: &RiskLevel| *l >= RiskLevel::High;
    if !agreed.iter().any(|(_, l)| high(l)) {
        return true;
    }
    let mut sorted = agreed.to_vec();
    sorted.sort();
    let Some(last_high) = sorted.iter().rposition(|(_, l)| high(l)) else {
        return true;
    };
    match sorted.get(last_high + 1) {
        Some((since, _)) => dates::add_months(*since, months) <= on,
        None => false,
    }
}

async fn agreed_classifications(
    txn: &impl ConnectionTrait,
    case_id: i64,
) -> ApiResult<Vec<risk_classification::Model>> {
    Ok(risk_classification::Entity::find()
        .filter(risk_classification::Column::CaseId.eq(case_id))
        .filter(risk_classification::Column::AgreedOn.is_not_null())
        .order_by_asc(risk_classification::Column::ClassifiedOn)
        .all(txn)
        .await?)
}

/// Records D1, D2 or D3 and moves the case on as the framework says.
pub async fn record_decision(
    db: &impl Db,
    actor: &Actor,
    cmd: RecordDecision,
) -> ApiResult<(decision::Model, case::Model)> {
    text(&cmd.rationale, "rationale", 20_000)?;
    let next = transitions::after_decision(cmd.kind, cmd.outcome)?;
    let decided_on = not_future(cmd.decided_on.unwrap_or_else(cases::today), "decidedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    let expected_stage = transitions::stage_of_decision(cmd.kind).or_not_found()?;
    transitions::require_stage(stage(&case)?, expected_stage, cmd.kind.as_str())?;
    if decided_on < case.opened_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["decidedOn"],
            "the decision cannot precede the case",
        ));
    }
    let plan = match next {
        Next::CloseNotPursued => Some(alternative_plan(cmd.alternative_plan.as_deref())?),
        _ => None,
    };
    if cmd.planned_return_on.is_some()
        && !(cmd.kind == DecisionKind::D3 && cmd.outcome == DecisionOutcome::Yes)
    {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["plannedReturnOn"],
            "only a D3 = yes has a planned return date",
        ));
    }
    if let Some(rc) = transitions::classification_before(cmd.kind) {
        let agreed = agreed_classifications(&txn, case.id).await?;
        if !agreed.iter().any(|c| c.kind == rc.as_str()) {
            return Err(ApiError::user(
                UserErrorCode::RiskClassificationRequired,
                &["caseId"],
                format!(
                    "{} needs an agreed {} first",
                    cmd.kind.as_str(),
                    rc.as_str()
                ),
            ));
        }
    }
    let mut approval = ApprovalStatus::NotRequired;
    if cmd.outcome == DecisionOutcome::Yes {
        require_checklist(&txn, case.id, expected_stage).await?;
    }
    if cmd.kind == DecisionKind::D3 && cmd.outcome == DecisionOutcome::Yes {
        let earlier = decision::Entity::find()
            .filter(decision::Column::CaseId.eq(case.id))
            .filter(decision::Column::Kind.eq(DecisionKind::D3.as_str()))
            .filter(decision::Column::Outcome.eq(DecisionOutcome::Yes.as_str()))
            .count(&txn)
            .await?;
        if earlier > 0 {
            return Err(ApiError::user(
                UserErrorCode::AlreadyRecorded,
                &["kind"],
                "D3 = yes is already recorded; record the return, or a D3 = no to change course",
            ));
        }
        if let Some(planned) = cmd.planned_return_on
            && planned < decided_on
        {
            return Err(ApiError::user(
                UserErrorCode::InvalidDate,
                &["plannedReturnOn"],
                "the planned return precedes the decision",
            ));
        }
        let la = tenancy::get(&txn, actor.la_id).await?;
        let settings = tenancy::settings(&la);
        if let Some(months) = settings.sustained_risk_months {
            let agreed = agreed_classifications(&txn, case.id).await?;
            let levels: Vec<(NaiveDate, RiskLevel)> = agreed
                .iter()
                .map(|c| Ok((c.classified_on, RiskLevel::from_rank(c.level)?)))
                .collect::<ApiResult<_>>()?;
            if !risk_sustained(&levels, months, decided_on) {
                return Err(ApiError::user(
                    UserErrorCode::RiskNotSustained,
                    &["outcome"],
                    format!(
                        "the child was classified High or above; risk must have stayed Medium or Low for {months} months before D3 = yes"
                    ),
                ));
            }
        }
        let episode = care_episode::Entity::find_by_id(case.episode_id)
            .one(&txn)
            .await?
            .or_not_found()?;
        if dates::working_days_between(episode.started_on, decided_on)
            >= settings.d3_approval_working_days
        {
            approval = if actor.has_role(Role::NominatedOfficer) {
                ApprovalStatus::Approved
            } else {
                ApprovalStatus::Pending
            };
        }
    }
    let approved = approval == ApprovalStatus::Approved;
    let recorded = decision::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        kind: Set(cmd.kind.as_str().to_owned()),
        outcome: Set(cmd.outcome.as_str().to_owned()),
        rationale: Set(cmd.rationale.trim().to_owned()),
        decided_on: Set(decided_on),
        decided_by: Set(Some(actor.actor_id)),
        approval_status: Set(approval.as_str().to_owned()),
        approved_by: Set(approved.then_some(actor.actor_id)),
        approver_role: Set((approval != ApprovalStatus::NotRequired)
            .then(|| Role::NominatedOfficer.as_claim().to_owned())),
        approved_on: Set(approved.then_some(decided_on)),
        planned_return_on: Set(cmd.planned_return_on),
        alternative_plan: Set(plan.clone()),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor)
    .await?;
    let saved = match next {
        Next::Enter(stage) => {
            let saved = cases::save_case(&txn, actor, &case, |am| {
                am.stage = Set(stage.as_str().to_owned())
            })
            .await?;
            start_stage(&txn, actor, case.id, stage, decided_on).await?;
            saved
        }
        Next::CloseNotPursued => {
            close_in(
                &txn,
                actor,
                &case,
                ClosureReason::NotPursued,
                decided_on,
                plan,
                None,
                None,
            )
            .await?
        }
        Next::Stay => cases::save_case(&txn, actor, &case, |_| {}).await?,
    };
    txn.commit().await?;
    Ok((recorded, saved))
}

/// Approves a decision awaiting approval (D3 by a nominated officer).
pub async fn approve_decision(
    db: &impl Db,
    actor: &Actor,
    id: DecisionId,
    approved_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<decision::Model> {
    let on = not_future(approved_on.unwrap_or_else(cases::today), "approvedOn")?;
    let txn = db.begin().await?;
    let found = decision::Entity::find_by_id(id.0)
        .filter(decision::Column::LaId.eq(actor.la_id))
        .one(&txn)
        .await?
        .or_user_not_found(&["decisionId"], "decision")?;
    ApiError::check_version(expected_version, found.version)?;
    if found.approval_status != ApprovalStatus::Pending.as_str() {
        return Err(ApiError::user(
            UserErrorCode::ApprovalRequired,
            &["decisionId"],
            "this decision is not awaiting approval",
        ));
    }
    let role = found
        .approver_role
        .as_deref()
        .and_then(Role::from_claim)
        .unwrap_or(Role::NominatedOfficer);
    if !actor.has_role(role) {
        return Err(ApiError::Forbidden(
            "only the approving role may approve this decision",
        ));
    }
    if on < found.decided_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["approvedOn"],
            "approval cannot precede the decision",
        ));
    }
    let case = cases::load_active(&txn, actor, CaseId(found.case_id), None).await?;
    let version = found.version;
    let mut am: decision::ActiveModel = found.into();
    am.approval_status = Set(ApprovalStatus::Approved.as_str().to_owned());
    am.approved_by = Set(Some(actor.actor_id));
    am.approved_on = Set(Some(on));
    let am = am.changed(actor, version);
    let saved = am.update_by(&txn, actor).await?;
    cases::save_case(&txn, actor, &case, |_| {}).await?;
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
    actor: &Actor,
    cmd: ProposeClassification,
) -> ApiResult<risk_classification::Model> {
    text(&cmd.rationale, "rationale", 20_000)?;
    let on = not_future(
        cmd.classified_on.unwrap_or_else(cases::today),
        "classifiedOn",
    )?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, None).await?;
    transitions::require_stage(
        stage(&case)?,
        transitions::stage_of_classification(cmd.kind),
        cmd.kind.as_str(),
    )?;
    let agreed = agreed_classifications(&txn, case.id).await?;
    if agreed.iter().any(|c| c.kind == cmd.kind.as_str()) {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["kind"],
            format!("{} is already agreed", cmd.kind.as_str()),
        ));
    }
    let saved = risk_classification::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        kind: Set(cmd.kind.as_str().to_owned()),
        level: Set(cmd.level.rank()),
        rationale: Set(cmd.rationale.trim().to_owned()),
        classified_on: Set(on),
        proposed_by: Set(Some(actor.actor_id)),
        agreed_by: Set(None),
        agreed_on: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor)
    .await?;
    cases::save_case(&txn, actor, &case, |_| {}).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A team manager (or nominated officer) signs off the Return Home Assessment: the case is in
/// ASSESSMENT and the stage's required practice actions are done. Once only.
pub async fn sign_off_assessment(
    db: &impl Db,
    actor: &Actor,
    case_id: CaseId,
    signed_off_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<stage_progress::Model> {
    if !actor.has_role(Role::TeamManager) && !actor.has_role(Role::NominatedOfficer) {
        return Err(ApiError::Forbidden(
            "only a team manager may sign off an assessment",
        ));
    }
    let on = not_future(signed_off_on.unwrap_or_else(cases::today), "signedOffOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, case_id, expected_version).await?;
    if stage(&case)? != Stage::Assessment {
        return Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["caseId"],
            "the assessment is signed off while the case is in ASSESSMENT",
        ));
    }
    require_checklist(&txn, case.id, Stage::Assessment).await?;
    let progress = stage_progress::Entity::find()
        .filter(stage_progress::Column::LaId.eq(actor.la_id))
        .filter(stage_progress::Column::CaseId.eq(case.id))
        .filter(stage_progress::Column::Stage.eq(Stage::Assessment.as_str()))
        .one(&txn)
        .await?
        .or_not_found()?;
    if progress.signed_off_on.is_some() {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["caseId"],
            "the assessment is already signed off",
        ));
    }
    if on < progress.entered_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["signedOffOn"],
            "the sign-off cannot precede the assessment",
        ));
    }
    let mut am: stage_progress::ActiveModel = progress.into();
    am.signed_off_by = Set(Some(actor.actor_id));
    am.signed_off_on = Set(Some(on));
    let saved = am.update_by(&txn, actor).await?;
    cases::save_case(&txn, actor, &case, |_| {}).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A team manager (or nominated officer) agrees a proposed classification; the case takes its level.
pub async fn agree_classification(
    db: &impl Db,
    actor: &Actor,
    id: ClassificationId,
    agreed_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<(risk_classification::Model, case::Model)> {
    if !actor.has_role(Role::TeamManager) && !actor.has_role(Role::NominatedOfficer) {
        return Err(ApiError::Forbidden(
            "only a team manager may agree a risk classification",
        ));
    }
    let on = not_future(agreed_on.unwrap_or_else(cases::today), "agreedOn")?;
    let txn = db.begin().await?;
    let found = risk_classification::Entity::find_by_id(id.0)
        .filter(risk_classification::Column::LaId.eq(actor.la_id))
        .one(&txn)
        .await?
        .or_user_not_found(&["classificationId"], "risk classification")?;
    ApiError::check_version(expected_version, found.version)?;
    let case = cases::load_active(&txn, actor, CaseId(found.case_id), None).await?;
    let agreed = agreed_classifications(&txn, case.id).await?;
    if agreed.iter().any(|c| c.kind == found.kind) {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["classificationId"],
            format!("{} is already agreed", found.kind),
        ));
    }
    if on < found.classified_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["agreedOn"],
            "agreement cannot precede the classification",
        ));
    }
    let level = found.level;
    let version = found.version;
    let mut am: risk_classification::ActiveModel = found.into();
    am.agreed_by = Set(Some(actor.actor_id));
    am.agreed_on = Set(Some(on));
    let am = am.changed(actor, version);
    let saved = am.update_by(&txn, actor).await?;
    let case = cases::save_case(&txn, actor, &case, |am| am.risk_level = Set(Some(level))).await?;
    txn.commit().await?;
    Ok((saved, case))
}

// ----- stage 2 → 3 -----

/// Ends stage 2 (goals, agreement and services), which ends with goals met rather than a decision.
pub async fn complete_goals_stage(
    db: &impl Db,
    actor: &Actor,
    case_id: CaseId,
    completed_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    let on = not_future(completed_on.unwrap_or_else(cases::today), "completedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, case_id, expected_version).await?;
    transitions::require_stage(
        stage(&case)?,
        Stage::GoalsAndServices,
        "completing goals and services",
    )?;
    let agreement = parental_agreement::Entity::find()
        .filter(parental_agreement::Column::CaseId.eq(case.id))
        .filter(parental_agreement::Column::Status.eq(AgreementStatus::Active.as_str()))
        .one(&txn)
        .await?;
    let goals = match &agreement {
        Some(a) => {
            goal::Entity::find()
                .filter(goal::Column::AgreementId.eq(a.id))
                .count(&txn)
                .await?
        }
        None => 0,
    };
    if goals == 0 {
        return Err(ApiError::user(
            UserErrorCode::AgreementRequired,
            &["caseId"],
            "an agreed parental agreement with at least one goal is needed first",
        ));
    }
    require_checklist(&txn, case.id, Stage::GoalsAndServices).await?;
    let saved = cases::save_case(&txn, actor, &case, |am| {
        am.stage = Set(Stage::ReturnDecision.as_str().to_owned())
    })
    .await?;
    start_stage(&txn, actor, case.id, Stage::ReturnDecision, on).await?;
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
    /// The episode of care ends (E4A/E4B); false keeps the child looked after, placed with parents (P1).
    pub ends_care: bool,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Records the child's return home: planned after an approved D3 = yes, or unplanned from any
/// earlier stage. The case enters stage 4.
pub async fn record_return(
    db: &impl Db,
    actor: &Actor,
    cmd: RecordReturn,
) -> ApiResult<case::Model> {
    let on = not_future(cmd.returned_on, "returnedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    let current = stage(&case)?;
    if current == Stage::ReturnAndSupport {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["caseId"],
            "the return home is already recorded",
        ));
    }
    if on < case.opened_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["returnedOn"],
            "the return cannot precede the case",
        ));
    }
    if !cmd.unplanned {
        transitions::require_stage(current, Stage::ReturnDecision, "a planned return")?;
        let d3 = decision::Entity::find()
            .filter(decision::Column::CaseId.eq(case.id))
            .filter(decision::Column::Kind.eq(DecisionKind::D3.as_str()))
            .filter(decision::Column::Outcome.eq(DecisionOutcome::Yes.as_str()))
            .one(&txn)
            .await?;
        match d3 {
            None => {
                return Err(ApiError::user(
                    UserErrorCode::DecisionRequired,
                    &["caseId"],
                    "a planned return needs D3 = yes; record an unplanned return if the child went home without one",
                ));
            }
            Some(d) if d.approval_status == ApprovalStatus::Pending.as_str() => {
                return Err(ApiError::user(
                    UserErrorCode::DecisionRequired,
                    &["caseId"],
                    "D3 is awaiting nominated-officer approval",
                ));
            }
            Some(d) if on < d.decided_on => {
                return Err(ApiError::user(
                    UserErrorCode::InvalidDate,
                    &["returnedOn"],
                    "the return cannot precede D3",
                ));
            }
            Some(_) => {}
        }
    }
    let return_type = if cmd.unplanned {
        ReturnType::Unplanned
    } else {
        ReturnType::Planned
    };
    let episode = care_episode::Entity::find_by_id(case.episode_id)
        .one(&txn)
        .await?
        .or_not_found()?;
    if cmd.ends_care {
        let reason = if cmd.unplanned { "E4B" } else { "E4A" };
        crate::children::service::end_episode(&txn, actor, episode, on, reason).await?;
    } else {
        let version = episode.version;
        let mut am: care_episode::ActiveModel = episode.into();
        am.placement_type = Set("P1".to_owned());
        let am = am.changed(actor, version);
        am.update_by(&txn, actor).await?;
    }
    let saved = cases::save_case(&txn, actor, &case, |am| {
        am.stage = Set(Stage::ReturnAndSupport.as_str().to_owned());
        am.return_type = Set(Some(return_type.as_str().to_owned()));
    })
    .await?;
    start_stage(&txn, actor, case.id, Stage::ReturnAndSupport, on).await?;
    outcomes::upsert(&txn, actor, case.id, |am| {
        am.return_on = Set(Some(on));
        am.return_type = Set(Some(return_type.as_str().to_owned()));
    })
    .await?;
    txn.commit().await?;
    Ok(saved)
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
    /// Why, in words.
    pub rationale: String,
    /// For a breakdown: when the child re-entered care.
    pub reentered_care_on: Option<NaiveDate>,
    /// For "not pursued": the alternative permanence plan.
    pub alternative_plan: Option<String>,
    /// Whether the child was maltreated after the return.
    pub maltreatment: Option<YesNoUnknown>,
    /// The case version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Closes a case with its outcome.
pub async fn close_case(db: &impl Db, actor: &Actor, cmd: CloseCase) -> ApiResult<case::Model> {
    text(&cmd.rationale, "rationale", 20_000)?;
    let on = not_future(cmd.closed_on.unwrap_or_else(cases::today), "closedOn")?;
    let txn = db.begin().await?;
    let case = cases::load_active(&txn, actor, cmd.case_id, cmd.expected_version).await?;
    if on < case.opened_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["closedOn"],
            "the closure cannot precede the case",
        ));
    }
    let current = stage(&case)?;
    let returned = current == Stage::ReturnAndSupport;
    let mut plan = None;
    match cmd.reason {
        ClosureReason::NotPursued => {
            if returned {
                return Err(ApiError::user(
                    UserErrorCode::WrongStage,
                    &["reason"],
                    "the child has already returned home",
                ));
            }
            plan = Some(alternative_plan(cmd.alternative_plan.as_deref())?);
        }
        ClosureReason::StableAtHome => {
            transitions::require_stage(
                current,
                Stage::ReturnAndSupport,
                "closing as stable at home",
            )?;
            require_checklist(&txn, case.id, Stage::ReturnAndSupport).await?;
        }
        ClosureReason::BrokeDown => {
            transitions::require_stage(current, Stage::ReturnAndSupport, "closing as broken down")?;
            if cmd.reentered_care_on.is_none() {
                return Err(ApiError::user(
                    UserErrorCode::OutcomeRequired,
                    &["reenteredCareOn"],
                    "a breakdown needs the date the child re-entered care",
                ));
            }
        }
        ClosureReason::Reached18 | ClosureReason::MovedLa | ClosureReason::Other => {}
    }
    if let Some(d) = cmd.reentered_care_on {
        not_future(d, "reenteredCareOn")?;
        if !returned {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["reenteredCareOn"],
                "only a child who went home can re-enter care",
            ));
        }
    }
    decision::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        kind: Set(DecisionKind::Closure.as_str().to_owned()),
        outcome: Set(DecisionOutcome::Yes.as_str().to_owned()),
        rationale: Set(cmd.rationale.trim().to_owned()),
        decided_on: Set(on),
        decided_by: Set(Some(actor.actor_id)),
        approval_status: Set(ApprovalStatus::NotRequired.as_str().to_owned()),
        alternative_plan: Set(plan.clone()),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor)
    .await?;
    let saved = close_in(
        &txn,
        actor,
        &case,
        cmd.reason,
        on,
        plan,
        cmd.reentered_care_on,
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
    actor: &Actor,
    case: &case::Model,
    reason: ClosureReason,
    on: NaiveDate,
    plan: Option<String>,
    reentered: Option<NaiveDate>,
    maltreatment: Option<YesNoUnknown>,
) -> ApiResult<case::Model> {
    finish_stages(txn, actor, case.id, on).await?;
    outcomes::upsert(txn, actor, case.id, |am| {
        am.closure_reason = Set(Some(reason.as_str().to_owned()));
        am.closed_on = Set(Some(on));
        if reentered.is_some() {
            am.reentered_care_on = Set(reentered);
        }
        if let Some(m) = maltreatment {
            am.maltreatment = Set(Some(m.as_str().to_owned()));
        }
    })
    .await?;
    cases::save_case(txn, actor, case, |am| {
        am.status = Set(CaseStatus::Closed.as_str().to_owned());
        am.closed_on = Set(Some(on));
        if plan.is_some() {
            am.alternative_plan = Set(plan);
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn sustained_risk_policy() {
        let low_only = [(d(2025, 1, 1), RiskLevel::Medium)];
        assert!(risk_sustained(&low_only, 6, d(2025, 1, 2)));
        let high_then_medium = [
            (d(2025, 1, 1), RiskLevel::High),
            (d(2025, 3, 1), RiskLevel::Medium),
        ];
        assert!(!risk_sustained(&high_then_medium, 6, d(2025, 8, 31)));
        assert!(risk_sustained(&high_then_medium, 6, d(2025, 9, 1)));
        let still_high = [
            (d(2025, 1, 1), RiskLevel::Medium),
            (d(2025, 3, 1), RiskLevel::VeryHigh),
        ];
        assert!(!risk_sustained(&still_high, 6, d(2026, 3, 1)));
    }
}
