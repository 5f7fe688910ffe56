//! Rules for the parental agreement: versions, parties, goals, reviews and revisions.

use chrono::NaiveDate;
use entities::{
    agreement_party, goal, goal_review, goal_revision, household_member, parental_agreement,
    reunification_case as case,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::cases::service::{self as cases, not_future};
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::{AgreementStatus, GoalStatus, Rating, Stage, optional_text, text};
use crate::error::{ApiError, ApiResult, OptionExt, ResultExt, UserErrorCode};
use crate::framework::agreement as rules_agreement;
use crate::framework::goals as rules;
use crate::framework::process::require_stage_at_least;
use crate::framework::snapshot;
use crate::ids::{AgreementId, AgreementPartyId, CaseId, GoalId, HouseholdMemberId};
use crate::stamp::Stamped as _;

/// Loads a case for agreement work: active and at stage 2 or later.
async fn agreement_case(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    id: CaseId,
) -> ApiResult<case::Model> {
    let case = cases::load_active(txn, actor, id, None).await?;
    require_stage_at_least(
        case.stage,
        Stage::GoalsAndServices,
        "the parental agreement",
    )?;
    Ok(case)
}

/// A household member of the case's child.
pub async fn member_of(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    id: HouseholdMemberId,
    child_id: i64,
    field: &[&str],
) -> ApiResult<household_member::Model> {
    household_member::Entity::find_by_id(id.0)
        .filter(household_member::Column::LaId.eq(actor.la_id))
        .filter(household_member::Column::ChildId.eq(child_id))
        .one(txn)
        .await?
        .or_user_not_found(field, "household member of this child")
}

/// [`text`] for a field nested in a list of the input, e.g. `parties.0.strengths`.
/// Optional narrative at an input path: at most 20,000 characters.
fn optional_at(value: Option<&str>, path: &[&str]) -> ApiResult<String> {
    optional_text(value, "", 20_000).map_err(|_| {
        ApiError::user(
            UserErrorCode::Invalid,
            path,
            "give at most 20000 characters",
        )
    })
}

/// A parental agreement version of the caller's LA.
pub async fn get_agreement(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    id: AgreementId,
) -> ApiResult<parental_agreement::Model> {
    crate::db::find_in_la::<parental_agreement::Entity>(txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["agreementId"], "parental agreement")
}

async fn get_goal(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    id: GoalId,
) -> ApiResult<goal::Model> {
    crate::db::find_in_la::<goal::Entity>(txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["goalId"], "goal")
}

/// A goal of a superseded version is history: its active copy lives in the newer version.
async fn require_current(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    g: &goal::Model,
) -> ApiResult<()> {
    let agreement = get_agreement(txn, actor, AgreementId(g.agreement_id)).await?;
    rules_agreement::require_current(&agreement, "goalId")
}

/// A party to a new agreement.
#[derive(Debug, Clone)]
pub struct NewParty {
    /// The parent or carer.
    pub member: HouseholdMemberId,
    /// Their strengths (optional).
    pub strengths: Option<String>,
    /// The concerns about them (optional).
    pub concerns: Option<String>,
}

/// Starts a new draft version of the agreement. Parties (when not given) and active goals are
/// carried over from the latest version.
pub async fn create_agreement(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    parties: Option<Vec<NewParty>>,
) -> ApiResult<parental_agreement::Model> {
    let txn = db.begin().await?;
    let case = agreement_case(&txn, actor, case_id).await?;
    let previous = parental_agreement::Entity::find()
        .filter(parental_agreement::Column::LaId.eq(actor.la_id))
        .filter(parental_agreement::Column::CaseId.eq(case.id))
        .order_by_desc(parental_agreement::Column::Number)
        .one(&txn)
        .await?;
    rules_agreement::may_draft(previous.as_ref())?;
    let parties = match parties {
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, p) in list.into_iter().enumerate() {
                let idx = i.to_string();
                let m = member_of(
                    &txn,
                    actor,
                    p.member,
                    case.child_id,
                    &["parties", &idx, "householdMemberId"],
                )
                .await?;
                let earlier: Vec<i64> = out.iter().map(|(id, _, _)| *id).collect();
                rules_agreement::check_party(&m, &earlier, &["parties", &idx])?;
                out.push((
                    m.id,
                    optional_at(p.strengths.as_deref(), &["parties", &idx, "strengths"])?,
                    optional_at(p.concerns.as_deref(), &["parties", &idx, "concerns"])?,
                ));
            }
            out
        }
        None => match &previous {
            Some(prev) => agreement_party::Entity::find()
                .filter(agreement_party::Column::LaId.eq(actor.la_id))
                .filter(agreement_party::Column::AgreementId.eq(prev.id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|p| (p.household_member_id, p.strengths, p.concerns))
                .collect(),
            None => Vec::new(),
        },
    };
    if parties.is_empty() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["parties"],
            "an agreement has at least one parent or carer",
        ));
    }
    let created = parental_agreement::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        number: Set(previous.as_ref().map_or(1, |p| p.number + 1)),
        status: Set(AgreementStatus::Draft),
        agreed_on: Set(None),
        without_acceptance_reason: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::AgreementCreated)
    .await?;
    for (member, strengths, concerns) in parties {
        agreement_party::ActiveModel {
            la_id: Set(actor.la_id),
            agreement_id: Set(created.id),
            household_member_id: Set(member),
            strengths: Set(strengths),
            concerns: Set(concerns),
            accepted_on: Set(None),
            ..Default::default()
        }
        .created(actor)
        .insert_by(&txn, actor, EventType::AgreementPartyUpdated)
        .await
        .on_unique(|| {
            ApiError::user(
                UserErrorCode::Duplicate,
                &["parties"],
                "a person is named twice",
            )
        })?;
    }
    if let Some(prev) = previous {
        let carried = goal::Entity::find()
            .filter(goal::Column::LaId.eq(actor.la_id))
            .filter(goal::Column::AgreementId.eq(prev.id))
            .filter(goal::Column::Status.eq(GoalStatus::Active))
            .all(&txn)
            .await?;
        for g in carried {
            let old_id = g.id;
            let mut am: goal::ActiveModel = g.into();
            am.id = sea_orm::ActiveValue::NotSet;
            am.agreement_id = Set(created.id);
            let copy = am
                .created(actor)
                .insert_by(&txn, actor, EventType::GoalAdded)
                .await?;
            copy_history(&txn, actor, old_id, copy.id).await?;
        }
    }
    cases::touch(&txn, actor, &case).await?;
    txn.commit().await?;
    Ok(created)
}

/// Copies a carried-over goal's reviews and revisions to its copy in the new version, so its
/// `reviews` agree with its `latestRating` and `sustainedSince`. Who recorded them and when is kept.
async fn copy_history(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    from: i64,
    to: i64,
) -> ApiResult<()> {
    for r in goal_review::Entity::find()
        .filter(goal_review::Column::LaId.eq(actor.la_id))
        .filter(goal_review::Column::GoalId.eq(from))
        .order_by_asc(goal_review::Column::Id)
        .all(txn)
        .await?
    {
        let mut am: goal_review::ActiveModel = r.into();
        am.id = sea_orm::ActiveValue::NotSet;
        am.goal_id = Set(to);
        am.insert_by(txn, actor, EventType::GoalReviewed).await?;
    }
    for r in goal_revision::Entity::find()
        .filter(goal_revision::Column::LaId.eq(actor.la_id))
        .filter(goal_revision::Column::GoalId.eq(from))
        .order_by_asc(goal_revision::Column::Id)
        .all(txn)
        .await?
    {
        let mut am: goal_revision::ActiveModel = r.into();
        am.id = sea_orm::ActiveValue::NotSet;
        am.goal_id = Set(to);
        am.insert_by(txn, actor, EventType::GoalRevised).await?;
    }
    Ok(())
}

/// Agrees a draft: it comes into force and the version in force before it is superseded. Every
/// party with parental responsibility has accepted it, or `without_acceptance` says why not.
pub async fn agree_agreement(
    db: &impl Db,
    actor: &Acting,
    id: AgreementId,
    agreed_on: Option<NaiveDate>,
    without_acceptance: Option<String>,
    expected_version: Option<i32>,
) -> ApiResult<parental_agreement::Model> {
    let on = agreed_on.unwrap_or_else(cases::today);
    let without_acceptance = without_acceptance
        .as_deref()
        .map(|r| text(r, "withoutAcceptanceReason", 20_000))
        .transpose()?;
    let txn = db.begin().await?;
    let agreement = get_agreement(&txn, actor, id).await?;
    ApiError::check_version(expected_version, agreement.version)?;
    let s = snapshot::for_change(&txn, actor, CaseId(agreement.case_id), None).await?;
    crate::framework::agreement::agree(&s, &agreement, on, without_acceptance.as_deref())?;
    for old in s
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Active)
    {
        let version = old.version;
        let mut am = parental_agreement::ActiveModel::from(old.clone()).changed(actor, version);
        am.status = Set(AgreementStatus::Superseded);
        am.update_by(&txn, actor, EventType::AgreementChanged)
            .await?;
    }
    let version = agreement.version;
    let mut am = parental_agreement::ActiveModel::from(agreement).changed(actor, version);
    am.status = Set(AgreementStatus::Active);
    am.agreed_on = Set(Some(on));
    am.without_acceptance_reason = Set(without_acceptance);
    let saved = am
        .update_by(&txn, actor, EventType::AgreementChanged)
        .await?;
    cases::touch(&txn, actor, &s.case).await?;
    crate::stages::derived::sync_derived(&txn, actor, s.case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A new agreement version with what the worker does in the same sitting: parties' acceptance,
/// its goals, and (optionally) agreeing it.
#[derive(Debug, Clone)]
pub struct DraftAgreement {
    /// The case.
    pub case_id: CaseId,
    /// The parties (carried over from the latest version when `None`).
    pub parties: Option<Vec<NewParty>>,
    /// Parties who accepted (signed) it, and when.
    pub acceptances: Vec<(HouseholdMemberId, NaiveDate)>,
    /// Its goals (their `agreement` is set here).
    pub goals: Vec<NewGoal>,
    /// Agree it now: the date, and the reason to proceed without every acceptance.
    pub agree: Option<(Option<NaiveDate>, Option<String>)>,
}

/// Drafts an agreement version with its parties' acceptance and its goals, and agrees it when
/// asked, in one transaction: each record written, audited and evented as its own mutation
/// would, and all of them or none.
pub async fn draft_agreement(
    db: &impl Db,
    actor: &Acting,
    cmd: DraftAgreement,
) -> ApiResult<parental_agreement::Model> {
    let txn = db.begin().await?;
    let draft = create_agreement(&txn, actor, cmd.case_id, cmd.parties).await?;
    for (i, (member, on)) in cmd.acceptances.into_iter().enumerate() {
        let idx = i.to_string();
        let party = agreement_party::Entity::find()
            .filter(agreement_party::Column::LaId.eq(actor.la_id))
            .filter(agreement_party::Column::AgreementId.eq(draft.id))
            .filter(agreement_party::Column::HouseholdMemberId.eq(member.0))
            .one(&txn)
            .await?
            .or_user_not_found(&["parties", &idx, "householdMemberId"], "party")?;
        accept_party(&txn, actor, AgreementPartyId(party.id), Some(on), None)
            .await
            .map_err(|e| e.nested(&["parties", &idx]))?;
    }
    ApiError::each_at(cmd.goals, "goals", |mut goal| {
        goal.agreement = AgreementId(draft.id);
        add_goal(&txn, actor, goal)
    })
    .await?;
    let saved = match cmd.agree {
        Some((on, without)) => {
            agree_agreement(&txn, actor, AgreementId(draft.id), on, without, None)
                .await
                .map_err(|e| e.nested(&["agree"]))?
        }
        None => get_agreement(&txn, actor, AgreementId(draft.id)).await?,
    };
    txn.commit().await?;
    Ok(saved)
}

/// Records a parent's acceptance (signature) of the agreement.
pub async fn accept_party(
    db: &impl Db,
    actor: &Acting,
    id: AgreementPartyId,
    accepted_on: Option<NaiveDate>,
    expected_version: Option<i32>,
) -> ApiResult<agreement_party::Model> {
    let on = not_future(accepted_on.unwrap_or_else(cases::today), "acceptedOn")?;
    let txn = db.begin().await?;
    let party = crate::db::find_in_la::<agreement_party::Entity>(&txn, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["partyId"], "agreement party")?;
    ApiError::check_version(expected_version, party.version)?;
    let agreement = get_agreement(&txn, actor, AgreementId(party.agreement_id)).await?;
    let case = agreement_case(&txn, actor, CaseId(agreement.case_id)).await?;
    rules_agreement::require_current(&agreement, "partyId")?;
    let version = party.version;
    let mut am = agreement_party::ActiveModel::from(party).changed(actor, version);
    am.accepted_on = Set(Some(on));
    let saved = am
        .update_by(&txn, actor, EventType::AgreementPartyUpdated)
        .await?;
    cases::touch(&txn, actor, &case).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A new goal.
#[derive(Debug, Clone)]
pub struct NewGoal {
    /// The agreement version (draft or in force).
    pub agreement: AgreementId,
    /// The parent the goal is for (none: for the household).
    pub member: Option<HouseholdMemberId>,
    /// What must change.
    pub description: String,
    /// The steps (optional).
    pub steps: Option<String>,
    /// Who is responsible (optional).
    pub responsible: Option<String>,
    /// The support offered (optional).
    pub support_offered: Option<String>,
    /// By when.
    pub target_date: NaiveDate,
}

/// Adds a goal to a draft or the agreement in force.
pub async fn add_goal(db: &impl Db, actor: &Acting, cmd: NewGoal) -> ApiResult<goal::Model> {
    let description = text(&cmd.description, "description", 20_000)?;
    let steps = optional_text(cmd.steps.as_deref(), "steps", 20_000)?;
    let responsible = optional_text(cmd.responsible.as_deref(), "responsible", 200)?;
    let support = optional_text(cmd.support_offered.as_deref(), "supportOffered", 20_000)?;
    let txn = db.begin().await?;
    let agreement = get_agreement(&txn, actor, cmd.agreement).await?;
    let case = agreement_case(&txn, actor, CaseId(agreement.case_id)).await?;
    rules_agreement::require_current(&agreement, "agreementId")?;
    rules_agreement::check_target(cmd.target_date, case.opened_on, "targetDate")?;
    let member = match cmd.member {
        Some(m) => {
            let m = member_of(&txn, actor, m, case.child_id, &["householdMemberId"]).await?;
            let party = agreement_party::Entity::find()
                .filter(agreement_party::Column::LaId.eq(actor.la_id))
                .filter(agreement_party::Column::AgreementId.eq(agreement.id))
                .filter(agreement_party::Column::HouseholdMemberId.eq(m.id))
                .one(&txn)
                .await?;
            rules_agreement::check_goal_member(party.is_some())?;
            Some(m.id)
        }
        None => None,
    };
    let created = goal::ActiveModel {
        la_id: Set(actor.la_id),
        case_id: Set(case.id),
        agreement_id: Set(agreement.id),
        household_member_id: Set(member),
        description: Set(description),
        steps: Set(steps),
        responsible: Set(responsible),
        support_offered: Set(support),
        target_date: Set(cmd.target_date),
        status: Set(GoalStatus::Active),
        latest_rating: Set(None),
        latest_review_on: Set(None),
        sustained_since: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(&txn, actor, EventType::GoalAdded)
    .await?;
    cases::touch(&txn, actor, &case).await?;
    txn.commit().await?;
    Ok(created)
}

/// A review of a goal.
#[derive(Debug, Clone)]
pub struct ReviewGoal {
    /// The goal.
    pub goal: GoalId,
    /// Red, amber or green.
    pub rating: Rating,
    /// What was seen (optional).
    pub note: Option<String>,
    /// The evidence (optional).
    pub evidence: Option<String>,
    /// When (defaults to today).
    pub reviewed_on: Option<NaiveDate>,
}

/// Reviews a goal; tracks how long it has held green.
pub async fn review_goal(db: &impl Db, actor: &Acting, cmd: ReviewGoal) -> ApiResult<goal::Model> {
    let note = optional_text(cmd.note.as_deref(), "note", 20_000)?;
    let evidence = optional_text(cmd.evidence.as_deref(), "evidence", 20_000)?;
    let on = not_future(cmd.reviewed_on.unwrap_or_else(cases::today), "reviewedOn")?;
    let txn = db.begin().await?;
    let g = get_goal(&txn, actor, cmd.goal).await?;
    let case = agreement_case(&txn, actor, CaseId(g.case_id)).await?;
    require_current(&txn, actor, &g).await?;
    rules::check_review_date(g.latest_review_on, on)?;
    if on < case.opened_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["reviewedOn"],
            "the review precedes the case",
        ));
    }
    goal_review::ActiveModel {
        la_id: Set(actor.la_id),
        goal_id: Set(g.id),
        case_id: Set(g.case_id),
        reviewed_on: Set(on),
        rating: Set(cmd.rating),
        note: Set(note),
        evidence: Set(evidence),
        created_at: Set(chrono::Utc::now()),
        created_by: Set(Some(actor.actor_id)),
        ..Default::default()
    }
    .insert_by(&txn, actor, EventType::GoalReviewed)
    .await?;
    let previous = g.latest_rating;
    let since = rules::sustained_since(previous, g.sustained_since, cmd.rating, on);
    let version = g.version;
    let mut am = goal::ActiveModel::from(g).changed(actor, version);
    am.latest_rating = Set(Some(cmd.rating));
    am.latest_review_on = Set(Some(on));
    am.sustained_since = Set(since);
    let saved = am.update_by(&txn, actor, EventType::GoalRevised).await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Reviews several goals in one sitting (a review round), in one transaction: each review
/// written, audited and evented as `goalReview` would, and all of them or none.
pub async fn review_round(
    db: &impl Db,
    actor: &Acting,
    reviews: Vec<ReviewGoal>,
) -> ApiResult<Vec<goal::Model>> {
    if reviews.is_empty() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["reviews"],
            "give at least one goal's review",
        ));
    }
    let txn = db.begin().await?;
    let out = ApiError::each_at(reviews, "reviews", |r| review_goal(&txn, actor, r)).await?;
    txn.commit().await?;
    Ok(out)
}

/// A revision of a goal.
#[derive(Debug, Clone)]
pub struct ReviseGoal {
    /// The goal.
    pub goal: GoalId,
    /// Why.
    pub reason: String,
    /// More time.
    pub new_target_date: Option<NaiveDate>,
    /// A reworded goal.
    pub new_description: Option<String>,
    /// A new status.
    pub status: Option<GoalStatus>,
    /// The goal version the caller last saw.
    pub expected_version: Option<i32>,
}

/// Revises a goal (more time, new wording, or a new status), keeping the history.
pub async fn revise_goal(db: &impl Db, actor: &Acting, cmd: ReviseGoal) -> ApiResult<goal::Model> {
    let reason = text(&cmd.reason, "reason", 20_000)?;
    let description = cmd
        .new_description
        .as_deref()
        .map(|d| text(d, "newDescription", 20_000))
        .transpose()?;
    if cmd.new_target_date.is_none() && description.is_none() && cmd.status.is_none() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &[],
            "give a new target date, description or status",
        ));
    }
    let txn = db.begin().await?;
    let g = get_goal(&txn, actor, cmd.goal).await?;
    if let Some(v) = cmd.expected_version
        && v != g.version
    {
        return Err(ApiError::stale(g.version));
    }
    let case = agreement_case(&txn, actor, CaseId(g.case_id)).await?;
    require_current(&txn, actor, &g).await?;
    rules::check_status_change(&g, cmd.status)?;
    if let Some(d) = cmd.new_target_date {
        rules_agreement::check_target(d, case.opened_on, "newTargetDate")?;
    }
    goal_revision::ActiveModel {
        la_id: Set(actor.la_id),
        goal_id: Set(g.id),
        revised_on: Set(cases::today()),
        reason: Set(reason),
        previous_target_date: Set(g.target_date),
        new_target_date: Set(cmd.new_target_date.unwrap_or(g.target_date)),
        previous_description: Set(description.as_ref().map(|_| g.description.clone())),
        created_at: Set(chrono::Utc::now()),
        created_by: Set(Some(actor.actor_id)),
        ..Default::default()
    }
    .insert_by(&txn, actor, EventType::GoalRevised)
    .await?;
    let version = g.version;
    let mut am = goal::ActiveModel::from(g).changed(actor, version);
    if let Some(d) = cmd.new_target_date {
        am.target_date = Set(d);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(s) = cmd.status {
        am.status = Set(s);
    }
    let saved = am.update_by(&txn, actor, EventType::GoalRevised).await?;
    cases::touch(&txn, actor, &case).await?;
    crate::stages::derived::sync_derived(&txn, actor, case.id).await?;
    txn.commit().await?;
    Ok(saved)
}

/// A party as a case-management system holds it; what is `None` was not sent and stays as
/// recorded (a recorded acceptance is never withdrawn by a sync).
#[derive(Debug, Clone, Default)]
pub struct SyncedParty {
    /// Their strengths.
    pub strengths: Option<String>,
    /// The concerns about them.
    pub concerns: Option<String>,
    /// When they accepted (signed) the agreement.
    pub accepted_on: Option<NaiveDate>,
}

/// Brings `member`'s party on the case's current agreement version to what a case-management
/// system holds, where [`rules_agreement::synced_party`] says it goes: the open draft (named or
/// added there), the version in force (acceptance recorded), or a new draft carrying over the
/// version in force's parties with this one as sent. Returns the party and whether anything
/// was written.
pub async fn sync_party(
    db: &impl Db,
    actor: &Acting,
    case_id: CaseId,
    member: HouseholdMemberId,
    sent: SyncedParty,
) -> ApiResult<(agreement_party::Model, bool)> {
    let strengths = sent
        .strengths
        .map(|s| optional_at(Some(&s), &["strengths"]))
        .transpose()?;
    let concerns = sent
        .concerns
        .map(|s| optional_at(Some(&s), &["concerns"]))
        .transpose()?;
    let accepted_on = sent
        .accepted_on
        .map(|on| not_future(on, "acceptedOn"))
        .transpose()?;
    let txn = db.begin().await?;
    let case = agreement_case(&txn, actor, case_id).await?;
    let m = member_of(&txn, actor, member, case.child_id, &["householdMemberId"]).await?;
    let current = parental_agreement::Entity::find()
        .filter(parental_agreement::Column::LaId.eq(actor.la_id))
        .filter(parental_agreement::Column::CaseId.eq(case.id))
        .filter(parental_agreement::Column::Status.ne(AgreementStatus::Superseded))
        .all(&txn)
        .await?;
    let version = |status: AgreementStatus| current.iter().find(|a| a.status == status);
    let (draft, in_force) = (
        version(AgreementStatus::Draft),
        version(AgreementStatus::Active),
    );
    let in_force_parties = match in_force {
        Some(a) => parties_of(&txn, actor, a.id).await?,
        None => Vec::new(),
    };
    let named = in_force_parties
        .iter()
        .find(|p| p.household_member_id == m.id);
    let target = rules_agreement::synced_party(
        draft.is_some(),
        named,
        strengths.as_deref(),
        concerns.as_deref(),
    );
    let (party, mut changed) = match (target, draft) {
        (rules_agreement::SyncedParty::InForce, _) => (named.cloned().or_not_found()?, false),
        (rules_agreement::SyncedParty::Draft, Some(d)) => {
            let parties = parties_of(&txn, actor, d.id).await?;
            let named: Vec<i64> = parties.iter().map(|p| p.household_member_id).collect();
            match parties.into_iter().find(|p| p.household_member_id == m.id) {
                Some(p) => restate_party(&txn, actor, p, strengths, concerns).await?,
                None => {
                    rules_agreement::check_party(&m, &named, &[])?;
                    let added = agreement_party::ActiveModel {
                        la_id: Set(actor.la_id),
                        agreement_id: Set(d.id),
                        household_member_id: Set(m.id),
                        strengths: Set(strengths.unwrap_or_default()),
                        concerns: Set(concerns.unwrap_or_default()),
                        accepted_on: Set(None),
                        ..Default::default()
                    }
                    .created(actor)
                    .insert_by(&txn, actor, EventType::AgreementPartyUpdated)
                    .await?;
                    (added, true)
                }
            }
        }
        _ => {
            rules_agreement::check_party(&m, &[], &[])?;
            let mut list: Vec<NewParty> = in_force_parties
                .iter()
                .filter(|p| p.household_member_id != m.id)
                .map(|p| NewParty {
                    member: HouseholdMemberId(p.household_member_id),
                    strengths: Some(p.strengths.clone()),
                    concerns: Some(p.concerns.clone()),
                })
                .collect();
            list.push(NewParty {
                member: HouseholdMemberId(m.id),
                strengths: strengths.or_else(|| named.map(|p| p.strengths.clone())),
                concerns: concerns.or_else(|| named.map(|p| p.concerns.clone())),
            });
            let new = Box::pin(create_agreement(&txn, actor, CaseId(case.id), Some(list))).await?;
            let party = parties_of(&txn, actor, new.id)
                .await?
                .into_iter()
                .find(|p| p.household_member_id == m.id)
                .or_not_found()?;
            (party, true)
        }
    };
    let party = match accepted_on {
        Some(on) if party.accepted_on != Some(on) => {
            changed = true;
            accept_party(&txn, actor, AgreementPartyId(party.id), Some(on), None).await?
        }
        _ => party,
    };
    txn.commit().await?;
    Ok((party, changed))
}

/// The parties of an agreement version.
async fn parties_of(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    agreement: i64,
) -> ApiResult<Vec<agreement_party::Model>> {
    Ok(agreement_party::Entity::find()
        .filter(agreement_party::Column::LaId.eq(actor.la_id))
        .filter(agreement_party::Column::AgreementId.eq(agreement))
        .order_by_asc(agreement_party::Column::Id)
        .all(txn)
        .await?)
}

/// A draft's party with the strengths and concerns sent (what was not sent is kept).
async fn restate_party(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    party: agreement_party::Model,
    strengths: Option<String>,
    concerns: Option<String>,
) -> ApiResult<(agreement_party::Model, bool)> {
    let saved = crate::stamp::update_changed::<agreement_party::ActiveModel>(
        txn,
        actor,
        &party,
        party.version,
        EventType::AgreementPartyUpdated,
        |am| {
            if let Some(s) = strengths {
                am.strengths = Set(s);
            }
            if let Some(c) = concerns {
                am.concerns = Set(c);
            }
        },
    )
    .await?;
    Ok(match saved {
        Some(p) => (p, true),
        None => (party, false),
    })
}
