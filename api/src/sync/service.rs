//! Keeping Reunify in step with a case-management system: episodes and cases created or updated
//! by the sending system's identifier, looked up by it, and two records of one child merged.

use chrono::NaiveDate;
use entities::{
    care_episode, child, external_identifier, household_member, reunification_case as case,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::audit::acting::Acting;
use crate::audit::{self, AuditedWrite as _};
use crate::cases::service::{self as cases, NewCase};
use crate::children::service::{
    self as children, CASE_OWNER, CHILD_OWNER, EPISODE_OWNER, EpisodeFields, ExternalId,
    UpsertResult,
};
use crate::db::Db;
use crate::domain::CaseStatus;
use crate::domain::EventType;
use crate::error::{ApiError, ApiResult, OptionExt, Problems, UserErrorCode};
use crate::ids::{ActorId, ChildId, EpisodeId};
use crate::stages::service as stages;
use crate::stamp::Stamped as _;

/// A record named by Reunify's ID or by a sending system's identifier.
#[derive(Debug, Clone)]
pub enum Ref<I> {
    /// Reunify's ID.
    Id(I),
    /// Another system's identifier.
    External(ExternalId),
}

impl<I> Ref<I> {
    /// Exactly one of `id` and `external` (named `id_field` and `external_field` in messages).
    pub fn one_of(
        id: Option<ApiResult<I>>,
        external: Option<ExternalId>,
        id_field: &str,
        external_field: &str,
    ) -> ApiResult<Self> {
        match (id, external) {
            (Some(id), None) => Ok(Ref::Id(id?)),
            (None, Some(ext)) => Ok(Ref::External(ext)),
            _ => Err(ApiError::user(
                UserErrorCode::Invalid,
                &[id_field],
                format!("give `{id_field}` or `{external_field}` (one of them)"),
            )),
        }
    }
}

/// The child a reference names.
pub(super) async fn resolve_child(
    db: &impl ConnectionTrait,
    actor: &Acting,
    r: &Ref<ChildId>,
) -> ApiResult<child::Model> {
    match r {
        Ref::Id(id) => children::get_child(db, actor, *id)
            .await?
            .or_user_not_found(&["childId"], "child"),
        Ref::External(ext) => children::child_by_external_id(db, actor, ext)
            .await?
            .or_user_not_found(&["childExternalId"], "child with this identifier"),
    }
}

/// The case a reference names.
pub(super) async fn resolve_case(
    db: &impl ConnectionTrait,
    actor: &Acting,
    r: &Ref<crate::ids::CaseId>,
) -> ApiResult<case::Model> {
    match r {
        Ref::Id(id) => cases::get_case(db, actor, *id)
            .await?
            .or_user_not_found(&["caseId"], "case"),
        Ref::External(ext) => case_by_external_id(db, actor, ext)
            .await?
            .or_user_not_found(&["caseExternalId"], "case with this identifier"),
    }
}

/// The episode a reference names.
async fn resolve_episode(
    db: &impl ConnectionTrait,
    actor: &Acting,
    r: &Ref<EpisodeId>,
) -> ApiResult<care_episode::Model> {
    match r {
        Ref::Id(id) => children::get_episode(db, actor, *id)
            .await?
            .or_user_not_found(&["episodeId"], "episode"),
        Ref::External(ext) => episode_by_external_id(db, actor, ext)
            .await?
            .or_user_not_found(&["episodeExternalId"], "episode with this identifier"),
    }
}

pub(super) fn check_external_id(ext: &ExternalId) -> ApiResult<()> {
    let mut p = Problems::default();
    children::check_external_id(&mut p, ext, &["externalId"]);
    p.finish()
}

/// An episode as the sending system holds it.
#[derive(Debug, Clone)]
pub struct EpisodeUpsert {
    /// The sending system's identifier for the episode.
    pub external_id: ExternalId,
    /// The child.
    pub child: Ref<ChildId>,
    /// The episode's fields.
    pub fields: EpisodeFields,
}

/// Creates the episode `external_id` names, or brings it to what is given (only when it differs,
/// and only from `expected_version` when given). The SSDA903 rules for one episode apply either way.
pub async fn upsert_episode(
    db: &impl Db,
    actor: &Acting,
    cmd: EpisodeUpsert,
    expected_version: Option<i32>,
) -> ApiResult<(care_episode::Model, UpsertResult)> {
    check_external_id(&cmd.external_id)?;
    let txn = db.begin().await?;
    let child = resolve_child(&txn, actor, &cmd.child).await?;
    children::validate_episode(&child, &cmd.fields)?;
    let Some(current) = episode_by_external_id(&txn, actor, &cmd.external_id).await? else {
        let created = children::insert_episode(&txn, actor, &child, cmd.fields).await?;
        // Boxed: a case's whole snapshot is a large future to hold inline in every upsert's.
        Box::pin(stages::return_from_episode(&txn, actor, &created)).await?;
        let id = created.id;
        return identified(txn, actor, (EPISODE_OWNER, id), &cmd.external_id, created).await;
    };
    if current.child_id != child.id {
        return Err(moved("childId", "episode", "child"));
    }
    ApiError::check_version(expected_version, current.version)?;
    if cmd.fields.held_by(&current) {
        txn.commit().await?;
        return Ok((current, UpsertResult::Unchanged));
    }
    if cmd.fields.ended_on.is_none()
        && children::other_open_episode(&txn, actor, child.id, Some(current.id)).await?
    {
        return Err(children::already_open());
    }
    let (version, ended) = (current.version, current.reason_ceased.clone());
    let mut am: care_episode::ActiveModel = current.into();
    cmd.fields.set(&mut am);
    let saved = am
        .changed(actor, version)
        .update_by(&txn, actor, EventType::EpisodeChanged)
        .await?;
    if saved.reason_ceased != ended {
        Box::pin(stages::return_from_episode(&txn, actor, &saved)).await?;
    }
    txn.commit().await?;
    Ok((saved, UpsertResult::Updated))
}

/// Gives the record an upsert created (`owner`: its kind and id) the identifier it was sent
/// with, and commits.
async fn identified<M>(
    txn: DatabaseTransaction,
    actor: &Acting,
    (kind, id): (&str, i64),
    ext: &ExternalId,
    created: M,
) -> ApiResult<(M, UpsertResult)> {
    children::attach_external_id(&txn, actor, kind, id, ext, &["externalId"]).await?;
    txn.commit().await?;
    Ok((created, UpsertResult::Created))
}

pub(super) fn moved(field: &str, record: &str, owner: &str) -> ApiError {
    ApiError::user(
        UserErrorCode::Invalid,
        &[field],
        format!(
            "the {record} with this identifier belongs to another {owner}; it cannot move \
             (merge the two children if they are the same child)"
        ),
    )
}

/// A case as the sending system holds it.
#[derive(Debug, Clone)]
pub struct CaseUpsert {
    /// The sending system's identifier for the case.
    pub external_id: ExternalId,
    /// The child.
    pub child: Ref<ChildId>,
    /// The child's episode of care the case belongs to.
    pub episode: Ref<EpisodeId>,
    /// The allocated social worker.
    pub worker_id: Option<ActorId>,
    /// The team.
    pub team: Option<String>,
    /// Date the case opened (defaults to today on creation).
    pub opened_on: Option<NaiveDate>,
}

/// Opens the case `external_id` names (at stage IDENTIFICATION), or brings its allocation (worker
/// and team) to what is given. The practice work of a case (stages, decisions, goals) is done in
/// Reunify: a sync cannot move a case to another child or episode, or change when it opened.
pub async fn upsert_case(
    db: &impl Db,
    actor: &Acting,
    cmd: CaseUpsert,
    expected_version: Option<i32>,
) -> ApiResult<(case::Model, UpsertResult)> {
    check_external_id(&cmd.external_id)?;
    let txn = db.begin().await?;
    let child = resolve_child(&txn, actor, &cmd.child).await?;
    let episode = resolve_episode(&txn, actor, &cmd.episode).await?;
    let Some(current) = case_by_external_id(&txn, actor, &cmd.external_id).await? else {
        let new = NewCase {
            child_id: ChildId(child.id),
            episode_id: EpisodeId(episode.id),
            worker_id: cmd.worker_id,
            team: cmd.team,
            opened_on: cmd.opened_on,
        };
        let created = cases::open_case(&txn, actor, new).await?;
        let id = created.id;
        return identified(txn, actor, (CASE_OWNER, id), &cmd.external_id, created).await;
    };
    if current.child_id != child.id {
        return Err(moved("childId", "case", "child"));
    }
    if current.episode_id != episode.id {
        return Err(moved("episodeId", "case", "episode"));
    }
    if cmd.opened_on.is_some_and(|d| d != current.opened_on) {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["openedOn"],
            "a case's opening date cannot change once it is open",
        ));
    }
    ApiError::check_version(expected_version, current.version)?;
    let team = cmd.team.as_deref().map(str::trim);
    let same_worker = cmd.worker_id.is_none_or(|w| current.worker_id == Some(w.0));
    let same_team = team.is_none_or(|t| current.team.as_deref() == Some(t));
    if same_worker && same_team {
        txn.commit().await?;
        return Ok((current, UpsertResult::Unchanged));
    }
    let id = crate::ids::CaseId(current.id);
    let saved = cases::assign(
        &txn,
        actor,
        id,
        Some(current.version),
        cmd.worker_id,
        cmd.team,
    )
    .await?;
    txn.commit().await?;
    Ok((saved, UpsertResult::Updated))
}

/// The episode of the caller's LA that an external system's identifier names.
pub async fn episode_by_external_id(
    db: &impl ConnectionTrait,
    actor: &Acting,
    ext: &ExternalId,
) -> ApiResult<Option<care_episode::Model>> {
    match children::owner_of(db, actor, EPISODE_OWNER, ext).await? {
        Some(id) => children::get_episode(db, actor, EpisodeId(id)).await,
        None => Ok(None),
    }
}

/// The case of the caller's LA that an external system's identifier names.
pub async fn case_by_external_id(
    db: &impl ConnectionTrait,
    actor: &Acting,
    ext: &ExternalId,
) -> ApiResult<Option<case::Model>> {
    match children::owner_of(db, actor, CASE_OWNER, ext).await? {
        Some(id) => cases::get_case(db, actor, crate::ids::CaseId(id)).await,
        None => Ok(None),
    }
}

/// Two records of the caller's LA found to be the same child: `duplicate` is merged into `keep`.
#[derive(Debug, Clone, Copy)]
pub struct Merge {
    /// The record that stays.
    pub keep: ChildId,
    /// Its version the caller last saw.
    pub keep_version: Option<i32>,
    /// The record merged into it and then removed.
    pub duplicate: ChildId,
    /// Its version the caller last saw.
    pub duplicate_version: Option<i32>,
}

/// Merges `duplicate` into `keep`: its household members, episodes, cases and external
/// identifiers move to `keep` (the cases renumbered as attempts by their opening date), `keep`
/// takes the NHS number and UPN it lacks and any legal hold, and the duplicate's record is
/// removed. Refused while both records have an open episode or an active case (one of them must
/// be ended first). Audited as `MERGE` of the kept record (naming the duplicate) and `DELETE` of
/// the duplicate (naming the kept record), with every moved row's own change.
pub async fn merge_children(db: &impl Db, actor: &Acting, cmd: Merge) -> ApiResult<child::Model> {
    if cmd.keep == cmd.duplicate {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["duplicateId"],
            "a child cannot be merged with itself",
        ));
    }
    let txn = db.begin().await?;
    let keep = children::get_child(&txn, actor, cmd.keep)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    let dup = children::get_child(&txn, actor, cmd.duplicate)
        .await?
        .or_user_not_found(&["duplicateId"], "child")?;
    ApiError::check_version(cmd.keep_version, keep.version)?;
    if cmd.duplicate_version.is_some_and(|v| v != dup.version) {
        return Err(ApiError::user(
            UserErrorCode::Conflict,
            &["duplicateExpectedVersion"],
            format!(
                "the duplicate was changed by someone else; its current version is {}",
                dup.version
            ),
        ));
    }
    let episodes = care_episode::Entity::find()
        .filter(care_episode::Column::LaId.eq(actor.la_id))
        .filter(care_episode::Column::ChildId.is_in([keep.id, dup.id]))
        .all(&txn)
        .await?;
    let open = |id| {
        episodes
            .iter()
            .any(|e| e.child_id == id && e.ended_on.is_none())
    };
    if open(keep.id) && open(dup.id) {
        return Err(ApiError::user(
            UserErrorCode::Duplicate,
            &["duplicateId"],
            "both records have an open episode of care; end the duplicate's first",
        ));
    }
    let all_cases = case::Entity::find()
        .filter(case::Column::LaId.eq(actor.la_id))
        .filter(case::Column::ChildId.is_in([keep.id, dup.id]))
        .order_by_asc(case::Column::OpenedOn)
        .order_by_asc(case::Column::Id)
        .all(&txn)
        .await?;
    let active = |id| {
        all_cases
            .iter()
            .any(|c| c.child_id == id && c.status == CaseStatus::Active)
    };
    if active(keep.id) && active(dup.id) {
        return Err(ApiError::user(
            UserErrorCode::Duplicate,
            &["duplicateId"],
            "both records have an active reunification case; close the duplicate's first",
        ));
    }
    for e in episodes.into_iter().filter(|e| e.child_id == dup.id) {
        let version = e.version;
        let mut am: care_episode::ActiveModel = e.into();
        am.child_id = Set(keep.id);
        am.changed(actor, version)
            .update_by(&txn, actor, EventType::EpisodeChanged)
            .await?;
    }
    for (n, c) in all_cases.into_iter().enumerate() {
        let attempt = n as i32 + 1;
        if c.child_id == keep.id && c.attempt_number == attempt {
            continue;
        }
        let version = c.version;
        let mut am: case::ActiveModel = c.into();
        am.child_id = Set(keep.id);
        am.attempt_number = Set(attempt);
        am.changed(actor, version)
            .update_by(&txn, actor, EventType::CaseChanged)
            .await?;
    }
    let members = household_member::Entity::find()
        .filter(household_member::Column::LaId.eq(actor.la_id))
        .filter(household_member::Column::ChildId.eq(dup.id))
        .all(&txn)
        .await?;
    for m in members {
        let version = m.version;
        let mut am: household_member::ActiveModel = m.into();
        am.child_id = Set(keep.id);
        am.changed(actor, version)
            .update_by(&txn, actor, EventType::HouseholdMemberChanged)
            .await?;
    }
    let identifiers = external_identifier::Entity::find()
        .filter(external_identifier::Column::LaId.eq(actor.la_id))
        .filter(external_identifier::Column::OwnerKind.eq(CHILD_OWNER))
        .filter(external_identifier::Column::OwnerId.eq(dup.id))
        .all(&txn)
        .await?;
    for x in identifiers {
        let mut am: external_identifier::ActiveModel = x.into();
        am.owner_id = Set(keep.id);
        am.update_by(&txn, actor, None).await?;
    }
    let version = keep.version;
    let mut am: child::ActiveModel = keep.clone().into();
    if keep.nhs_number.is_none() && dup.nhs_number.is_some() {
        am.nhs_number = Set(dup.nhs_number.clone());
    }
    if keep.upn.is_none() && dup.upn.is_some() {
        am.upn = Set(dup.upn.clone());
        am.upn_unknown_reason = Set(None);
    }
    if dup.legal_hold && !keep.legal_hold {
        am.legal_hold = Set(true);
    }
    let kept = if audit::set_fields(&am).is_empty() {
        keep
    } else {
        am.changed(actor, version)
            .update_by(&txn, actor, EventType::ChildChanged)
            .await?
    };
    child::Entity::delete_by_id(dup.id).exec(&txn).await?;
    let from = format!("merged_from:{}", dup.id);
    let into = format!("merged_into:{}", kept.id);
    audit::changed(
        &txn,
        actor,
        audit::Action::Merge,
        audit::Record::of(&kept),
        &[&from],
        EventType::ChildMerged,
    )
    .await?;
    audit::changed(
        &txn,
        actor,
        audit::Action::Delete,
        audit::Record::of(&dup),
        &[&into],
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(kept)
}
