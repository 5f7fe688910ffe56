//! Rules for children, household members and episodes: validation against the statutory codes,
//! identifier check characters, date logic, and LA scoping.

use chrono::{NaiveDate, Utc};
use entities::{care_episode, child, external_identifier, household_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use crate::audit::AuditedWrite as _;
use crate::auth::Actor;
use crate::db::Db;
use crate::domain::reference::{
    CATEGORY_OF_NEED, ETHNICITY, LEGAL_STATUS, PLACEMENT_TYPE, REASON_CEASED, SEX, UPN_UNKNOWN,
};
use crate::domain::{Relationship, identifiers};
use crate::error::{ApiError, ApiResult, OptionExt, Problems, ResultExt, UserErrorCode};
use crate::ids::{ChildId, EpisodeId};
use crate::pagination::{Page, page_by_id};
use crate::stamp::Stamped as _;

/// `owner_kind` of a child's external identifiers.
pub const CHILD_OWNER: &str = "child";

/// An external system's identifier for a record.
#[derive(Debug, Clone)]
pub struct ExternalId {
    /// The system, e.g. `LCS` or `MOSAIC`.
    pub system: String,
    /// Its identifier for the record.
    pub value: String,
}

/// A new child, as given (validated by [`create_child`]).
#[derive(Debug, Clone)]
pub struct NewChild {
    /// LA child ID.
    pub la_child_id: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Sex code.
    pub sex: String,
    /// Ethnicity code.
    pub ethnicity: String,
    /// UPN, if known.
    pub upn: Option<String>,
    /// Reason the UPN is unknown.
    pub upn_unknown_reason: Option<String>,
    /// NHS number, if known.
    pub nhs_number: Option<String>,
    /// External identifiers.
    pub external_ids: Vec<ExternalId>,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Checks a statutory code and records the failure against `field`.
fn code(
    p: &mut Problems,
    list: &crate::domain::reference::CodeList,
    value: &str,
    on: NaiveDate,
    field: &str,
) {
    if let Err(message) = list.check(value, on) {
        p.push(UserErrorCode::InvalidCode, &[field], message);
    }
}

fn validate_child(cmd: &mut NewChild) -> ApiResult<()> {
    let mut p = Problems::default();
    let today = today();
    match identifiers::la_child_id(&cmd.la_child_id) {
        Ok(v) => cmd.la_child_id = v,
        Err(m) => p.push(UserErrorCode::InvalidIdentifier, &["laChildId"], m),
    }
    if cmd.date_of_birth > today {
        p.push(
            UserErrorCode::InvalidDate,
            &["dateOfBirth"],
            "the date of birth is in the future",
        );
    } else if crate::domain::dates::age_on(cmd.date_of_birth, today) >= 25 {
        p.push(
            UserErrorCode::InvalidDate,
            &["dateOfBirth"],
            "the child would be 25 or older",
        );
    }
    code(&mut p, &SEX, &cmd.sex, today, "sex");
    code(&mut p, &ETHNICITY, &cmd.ethnicity, today, "ethnicity");
    if let Some(upn) = &cmd.upn {
        match identifiers::upn(upn) {
            Ok(v) => cmd.upn = Some(v),
            Err(m) => p.push(UserErrorCode::InvalidIdentifier, &["upn"], m),
        }
        if cmd.upn_unknown_reason.is_some() {
            p.push(
                UserErrorCode::Invalid,
                &["upnUnknownReason"],
                "give a UPN or a reason it is unknown, not both",
            );
        }
    }
    if let Some(reason) = &cmd.upn_unknown_reason {
        code(&mut p, &UPN_UNKNOWN, reason, today, "upnUnknownReason");
    }
    if let Some(nhs) = &cmd.nhs_number {
        match identifiers::nhs_number(nhs) {
            Ok(v) => cmd.nhs_number = Some(v),
            Err(m) => p.push(UserErrorCode::InvalidIdentifier, &["nhsNumber"], m),
        }
    }
    for (i, ext) in cmd.external_ids.iter().enumerate() {
        let idx = i.to_string();
        if ext.system.trim().is_empty() || ext.system.len() > 64 {
            p.push(
                UserErrorCode::Invalid,
                &["externalIds", &idx, "system"],
                "a system name is 1 to 64 characters",
            );
        }
        if ext.value.trim().is_empty() || ext.value.len() > 128 {
            p.push(
                UserErrorCode::Invalid,
                &["externalIds", &idx, "value"],
                "an identifier is 1 to 128 characters",
            );
        }
    }
    p.finish()
}

/// Sets a child's own fields as given, and the retention date they imply.
fn set_fields(am: &mut child::ActiveModel, cmd: &NewChild, died_on: Option<NaiveDate>) {
    am.la_child_id = Set(cmd.la_child_id.clone());
    am.date_of_birth = Set(cmd.date_of_birth);
    am.sex = Set(cmd.sex.clone());
    am.ethnicity = Set(cmd.ethnicity.clone());
    am.upn = Set(cmd.upn.clone());
    am.upn_unknown_reason = Set(cmd.upn_unknown_reason.clone());
    am.nhs_number = Set(cmd.nhs_number.clone());
    am.retain_until = Set(Some(crate::retention::retain_until(
        cmd.date_of_birth,
        died_on,
    )));
}

fn duplicate_la_child_id() -> ApiError {
    ApiError::user(
        UserErrorCode::Duplicate,
        &["laChildId"],
        "a child with this LA child ID already exists",
    )
}

/// Creates a child in the caller's LA with its external identifiers.
pub async fn create_child(
    db: &impl Db,
    actor: &Actor,
    mut cmd: NewChild,
) -> ApiResult<child::Model> {
    validate_child(&mut cmd)?;
    let now = Utc::now();
    let txn = db.begin().await?;
    let mut am = child::ActiveModel {
        la_id: Set(actor.la_id),
        legal_hold: Set(false),
        ..Default::default()
    };
    set_fields(&mut am, &cmd, None);
    let created = am
        .created(actor)
        .insert_by(&txn, actor)
        .await
        .on_unique(duplicate_la_child_id)?;
    for (i, ext) in cmd.external_ids.into_iter().enumerate() {
        external_identifier::ActiveModel {
            la_id: Set(actor.la_id),
            owner_kind: Set(CHILD_OWNER.to_owned()),
            owner_id: Set(created.id),
            system: Set(ext.system.trim().to_owned()),
            value: Set(ext.value.trim().to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert_by(&txn, actor)
        .await
        .on_unique(|| {
            ApiError::user(
                UserErrorCode::Duplicate,
                &["externalIds", &i.to_string(), "value"],
                "this system's identifier is already used by another record",
            )
        })?;
    }
    txn.commit().await?;
    Ok(created)
}

/// What an upsert did.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UpsertResult {
    /// No record had the external identifier: one was created with it.
    Created,
    /// The record with the external identifier was changed.
    Updated,
    /// The record with the external identifier already held what was sent.
    Unchanged,
}

/// The record of `owner_kind` in the caller's LA that `ext` identifies.
pub async fn owner_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    owner_kind: &str,
    ext: &ExternalId,
) -> ApiResult<Option<i64>> {
    Ok(external_identifier::Entity::find()
        .select_only()
        .column(external_identifier::Column::OwnerId)
        .filter(external_identifier::Column::LaId.eq(actor.la_id))
        .filter(external_identifier::Column::OwnerKind.eq(owner_kind))
        .filter(external_identifier::Column::System.eq(ext.system.trim()))
        .filter(external_identifier::Column::Value.eq(ext.value.trim()))
        .into_tuple::<i64>()
        .one(db)
        .await?)
}

/// Creates the child `ext` identifies, or brings its record to what is given (only when it
/// differs, and only from `expected_version` when given). `cmd.external_ids` must be `[ext]`.
pub async fn upsert_child(
    db: &impl Db,
    actor: &Actor,
    mut cmd: NewChild,
    expected_version: Option<i32>,
) -> ApiResult<(child::Model, UpsertResult)> {
    validate_child(&mut cmd)?;
    let Some(ext) = cmd.external_ids.first().cloned() else {
        return Err(ApiError::internal(
            "an upsert without its external identifier",
        ));
    };
    let txn = db.begin().await?;
    let Some(id) = owner_of(&txn, actor, CHILD_OWNER, &ext).await? else {
        let created = create_child(&txn, actor, cmd).await?;
        txn.commit().await?;
        return Ok((created, UpsertResult::Created));
    };
    let current = child::Entity::find_by_id(id)
        .filter(child::Column::LaId.eq(actor.la_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::internal("an external identifier without its child"))?;
    ApiError::check_version(expected_version, current.version)?;
    let same = current.la_child_id == cmd.la_child_id
        && current.date_of_birth == cmd.date_of_birth
        && current.sex == cmd.sex
        && current.ethnicity == cmd.ethnicity
        && current.upn == cmd.upn
        && current.upn_unknown_reason == cmd.upn_unknown_reason
        && current.nhs_number == cmd.nhs_number;
    if same {
        txn.commit().await?;
        return Ok((current, UpsertResult::Unchanged));
    }
    let (version, died_on) = (current.version, current.died_on);
    let mut am: child::ActiveModel = current.into();
    set_fields(&mut am, &cmd, died_on);
    let saved = am
        .changed(actor, version)
        .update_by(&txn, actor)
        .await
        .on_unique(duplicate_la_child_id)?;
    txn.commit().await?;
    Ok((saved, UpsertResult::Updated))
}

/// The child of the caller's LA that an external system's identifier names.
pub async fn child_by_external_id(
    db: &impl ConnectionTrait,
    actor: &Actor,
    ext: &ExternalId,
) -> ApiResult<Option<child::Model>> {
    let Some(id) = owner_of(db, actor, CHILD_OWNER, ext).await? else {
        return Ok(None);
    };
    get_child(db, actor, ChildId(id)).await
}

/// A child of the caller's LA.
pub async fn get_child(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: ChildId,
) -> ApiResult<Option<child::Model>> {
    Ok(child::Entity::find_by_id(id.0)
        .filter(child::Column::LaId.eq(actor.la_id))
        .one(db)
        .await?)
}

/// A page of the caller's LA's children, by id, optionally matching an LA child ID.
pub async fn list_children(
    db: &impl Db,
    actor: &Actor,
    la_child_id: Option<String>,
    page: &Page,
) -> ApiResult<(Vec<child::Model>, i64, bool)> {
    let mut q = child::Entity::find().filter(child::Column::LaId.eq(actor.la_id));
    if let Some(id) = la_child_id {
        q = q.filter(child::Column::LaChildId.eq(id));
    }
    let total = q.clone().count(db).await? as i64;
    let (rows, more) = page_by_id(db, q, child::Column::Id, page, false).await?;
    Ok((rows, total, more))
}

/// A new household member.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// The child.
    pub child_id: ChildId,
    /// Relationship to the child.
    pub relationship: Relationship,
    /// How the person is referred to in the case (a role label, not a legal name).
    pub label: Option<String>,
    /// Holds parental responsibility.
    pub has_parental_responsibility: bool,
    /// Lives in the household the child would return to.
    pub lives_with_child: bool,
}

/// Adds a household member or member of the family network.
pub async fn add_member(
    db: &impl Db,
    actor: &Actor,
    cmd: NewMember,
) -> ApiResult<household_member::Model> {
    if let Some(label) = &cmd.label
        && label.chars().count() > 100
    {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["label"],
            "a label is at most 100 characters",
        ));
    }
    get_child(db, actor, cmd.child_id)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    household_member::ActiveModel {
        la_id: Set(actor.la_id),
        child_id: Set(cmd.child_id.0),
        relationship: Set(cmd.relationship.as_str().to_owned()),
        label: Set(cmd.label),
        has_parental_responsibility: Set(cmd.has_parental_responsibility),
        lives_with_child: Set(cmd.lives_with_child),
        ..Default::default()
    }
    .created(actor)
    .insert_by(db, actor)
    .await
}

/// A new episode of care.
#[derive(Debug, Clone)]
pub struct NewEpisode {
    /// The child.
    pub child_id: ChildId,
    /// Date the child started to be looked after in this episode.
    pub started_on: NaiveDate,
    /// SSDA903 legal status.
    pub legal_status: String,
    /// SSDA903 category of need.
    pub category_of_need: String,
    /// SSDA903 placement type.
    pub placement_type: String,
}

/// Opens an episode of care, checking codes against the collection year of its start.
pub async fn open_episode(
    db: &impl Db,
    actor: &Actor,
    cmd: NewEpisode,
) -> ApiResult<care_episode::Model> {
    let child = get_child(db, actor, cmd.child_id)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    let mut p = Problems::default();
    if cmd.started_on > today() {
        p.push(
            UserErrorCode::InvalidDate,
            &["startedOn"],
            "the episode cannot start in the future",
        );
    }
    if cmd.started_on < child.date_of_birth {
        p.push(
            UserErrorCode::InvalidDate,
            &["startedOn"],
            "the episode cannot start before the child's birth",
        );
    }
    code(
        &mut p,
        &LEGAL_STATUS,
        &cmd.legal_status,
        cmd.started_on,
        "legalStatus",
    );
    code(
        &mut p,
        &PLACEMENT_TYPE,
        &cmd.placement_type,
        cmd.started_on,
        "placementType",
    );
    match CATEGORY_OF_NEED.check(&cmd.category_of_need, cmd.started_on) {
        Ok(row) if row.get("ssda903") == "true" => {}
        Ok(_) => p.push(
            UserErrorCode::InvalidCode,
            &["categoryOfNeed"],
            format!("{} is not used in the SSDA903 return", cmd.category_of_need),
        ),
        Err(m) => p.push(UserErrorCode::InvalidCode, &["categoryOfNeed"], m),
    }
    if cmd.placement_type.starts_with('T') {
        p.push(
            UserErrorCode::InvalidCode,
            &["placementType"],
            "a period of care cannot start on a temporary (T) placement",
        );
    }
    p.finish()?;
    let open = care_episode::Entity::find()
        .filter(care_episode::Column::LaId.eq(actor.la_id))
        .filter(care_episode::Column::ChildId.eq(child.id))
        .filter(care_episode::Column::EndedOn.is_null())
        .count(db)
        .await?;
    if open > 0 {
        return Err(ApiError::user(
            UserErrorCode::Duplicate,
            &["childId"],
            "the child already has an open episode of care",
        ));
    }
    care_episode::ActiveModel {
        la_id: Set(actor.la_id),
        child_id: Set(child.id),
        started_on: Set(cmd.started_on),
        legal_status: Set(cmd.legal_status),
        category_of_need: Set(cmd.category_of_need),
        placement_type: Set(cmd.placement_type),
        ended_on: Set(None),
        reason_ceased: Set(None),
        ..Default::default()
    }
    .created(actor)
    .insert_by(db, actor)
    .await
}

/// An episode of the caller's LA.
pub async fn get_episode(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: EpisodeId,
) -> ApiResult<Option<care_episode::Model>> {
    Ok(care_episode::Entity::find_by_id(id.0)
        .filter(care_episode::Column::LaId.eq(actor.la_id))
        .one(db)
        .await?)
}

/// Ends an episode (in the caller's transaction), checking the reason code and date.
pub async fn end_episode(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    episode: care_episode::Model,
    ended_on: NaiveDate,
    reason: &str,
) -> ApiResult<care_episode::Model> {
    if let Err(m) = REASON_CEASED.check(reason, ended_on) {
        return Err(ApiError::user(
            UserErrorCode::InvalidCode,
            &["reasonCeased"],
            m,
        ));
    }
    if ended_on < episode.started_on {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["returnedOn"],
            "the episode cannot end before it started",
        ));
    }
    let version = episode.version;
    let mut am: care_episode::ActiveModel = episode.into();
    am.ended_on = Set(Some(ended_on));
    am.reason_ceased = Set(Some(reason.to_owned()));
    let am = am.changed(actor, version);
    am.update_by(txn, actor).await
}
