//! Rules for children, household members and episodes: validation against the statutory codes,
//! identifier check characters, date logic, and LA scoping.

use chrono::{NaiveDate, Utc};
use entities::{care_episode, child, external_identifier, household_member};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::children::ssda903::{ChildDetails, EpisodeDetails};
use crate::db::Db;
use crate::domain::EventType;
use crate::domain::reference::{
    CATEGORY_OF_NEED, ETHNICITY, LEGAL_STATUS, PLACEMENT_TYPE, REASON_CEASED, SEX, UPN_UNKNOWN,
};
use crate::domain::{Relationship, identifiers};
use crate::error::{ApiError, ApiResult, OptionExt, Problems, ResultExt, UserErrorCode};
use crate::ids::{ChildId, EpisodeId};
use crate::pagination::{Page, page_by_id};
use crate::stamp::Stamped as _;

pub use crate::ids::owner::{CASE as CASE_OWNER, CHILD as CHILD_OWNER, EPISODE as EPISODE_OWNER};

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
    /// The 903 fields beyond the framework's.
    pub details: ChildDetails,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Checks a statutory code and records the failure against `field`; whether it passed.
fn code(
    p: &mut Problems,
    list: &crate::domain::reference::CodeList,
    value: &str,
    on: NaiveDate,
    field: &str,
) -> bool {
    match list.check(value, on) {
        Ok(_) => true,
        Err(message) => {
            p.push(UserErrorCode::InvalidCode, &[field], message);
            false
        }
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
        check_external_id(&mut p, ext, &["externalIds", &i.to_string()]);
    }
    cmd.details.check(&mut p, &cmd.sex, cmd.date_of_birth);
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
    cmd.details.set(am);
    am.retain_until = Set(Some(crate::retention::policy::retain_until(
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
pub async fn create_child(db: &impl Db, actor: &Acting, cmd: NewChild) -> ApiResult<child::Model> {
    create_child_with(db, actor, cmd, Vec::new()).await
}

/// Creates a child with its household members (their `child_id` is set here), in one
/// transaction; a member's error names its place (`householdMembers.1.label`).
pub async fn create_child_with(
    db: &impl Db,
    actor: &Acting,
    mut cmd: NewChild,
    members: Vec<NewMember>,
) -> ApiResult<child::Model> {
    validate_child(&mut cmd)?;
    let txn = db.begin().await?;
    let created = insert_child(&txn, actor, &cmd).await?;
    ApiError::each_at(members, "householdMembers", |mut m| {
        m.child_id = ChildId(created.id);
        add_member(&txn, actor, m)
    })
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Inserts a validated child with its external identifiers (in the caller's transaction).
async fn insert_child(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    cmd: &NewChild,
) -> ApiResult<child::Model> {
    let mut am = child::ActiveModel {
        la_id: Set(actor.la_id),
        legal_hold: Set(false),
        ..Default::default()
    };
    set_fields(&mut am, cmd, None);
    let created = am
        .created(actor)
        .insert_by(txn, actor, EventType::ChildCreated)
        .await
        .on_unique(duplicate_la_child_id)?;
    for (i, ext) in cmd.external_ids.iter().enumerate() {
        attach_external_id(
            txn,
            actor,
            CHILD_OWNER,
            created.id,
            ext,
            &["externalIds", &i.to_string()],
        )
        .await?;
    }
    Ok(created)
}

/// Checks an external identifier's form, recording failures under `path`.
pub fn check_external_id(p: &mut Problems, ext: &ExternalId, path: &[&str]) {
    let at = |leaf: &'static str| [path, &[leaf]].concat();
    if ext.system.trim().is_empty() || ext.system.len() > 64 {
        p.push(
            UserErrorCode::Invalid,
            &at("system"),
            "a system name is 1 to 64 characters",
        );
    }
    if ext.value.trim().is_empty() || ext.value.len() > 128 {
        p.push(
            UserErrorCode::Invalid,
            &at("value"),
            "an identifier is 1 to 128 characters",
        );
    }
}

/// Records that `ext` names the record `owner_kind`/`owner_id`; `DUPLICATE` at `path` when the
/// system's identifier already names another record of that kind in the LA.
pub async fn attach_external_id(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    owner_kind: &str,
    owner_id: i64,
    ext: &ExternalId,
    path: &[&str],
) -> ApiResult<()> {
    external_identifier::ActiveModel {
        la_id: Set(actor.la_id),
        owner_kind: Set(owner_kind.to_owned()),
        owner_id: Set(owner_id),
        system: Set(ext.system.trim().to_owned()),
        value: Set(ext.value.trim().to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert_by(txn, actor, None)
    .await
    .on_unique(|| {
        ApiError::user(
            UserErrorCode::Duplicate,
            &[path, &["value"]].concat(),
            "this system's identifier is already used by another record",
        )
    })?;
    Ok(())
}

pub use crate::payload::UpsertResult;

/// The record of `owner_kind` in the caller's LA that `ext` identifies.
pub async fn owner_of(
    db: &impl ConnectionTrait,
    actor: &Acting,
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
    actor: &Acting,
    mut cmd: NewChild,
    expected_version: Option<i32>,
) -> ApiResult<(child::Model, UpsertResult)> {
    // The one identifier is the input's `externalId`, not `externalIds.0`.
    validate_child(&mut cmd).map_err(|e| match e {
        ApiError::User(errors) => ApiError::User(
            errors
                .into_iter()
                .map(|mut u| {
                    if let Some(f) = &mut u.field
                        && f.get(1).is_some_and(|s| s == "externalIds")
                        && f.len() > 2
                    {
                        f.splice(1..3, ["externalId".to_owned()]);
                    }
                    u
                })
                .collect(),
        ),
        other => other,
    })?;
    let Some(ext) = cmd.external_ids.first().cloned() else {
        return Err(ApiError::internal(
            "an upsert without its external identifier",
        ));
    };
    let txn = db.begin().await?;
    let Some(id) = owner_of(&txn, actor, CHILD_OWNER, &ext).await? else {
        // Validated above: inserted without checking it again.
        let created = insert_child(&txn, actor, &cmd).await?;
        txn.commit().await?;
        return Ok((created, UpsertResult::Created));
    };
    let current = crate::db::find_in_la::<child::Entity>(&txn, actor.la_id, id)
        .await?
        .ok_or_else(|| ApiError::internal("an external identifier without its child"))?;
    ApiError::check_version(expected_version, current.version)?;
    let same = current.la_child_id == cmd.la_child_id
        && current.date_of_birth == cmd.date_of_birth
        && current.sex == cmd.sex
        && current.ethnicity == cmd.ethnicity
        && current.upn == cmd.upn
        && current.upn_unknown_reason == cmd.upn_unknown_reason
        && current.nhs_number == cmd.nhs_number
        && ChildDetails::of(&current) == cmd.details;
    if same {
        txn.commit().await?;
        return Ok((current, UpsertResult::Unchanged));
    }
    let (version, died_on) = (current.version, current.died_on);
    let mut am: child::ActiveModel = current.into();
    set_fields(&mut am, &cmd, died_on);
    let saved = am
        .changed(actor, version)
        .update_by(&txn, actor, EventType::ChildChanged)
        .await
        .on_unique(duplicate_la_child_id)?;
    txn.commit().await?;
    Ok((saved, UpsertResult::Updated))
}

/// The child of the caller's LA that an external system's identifier names.
pub async fn child_by_external_id(
    db: &impl ConnectionTrait,
    actor: &Acting,
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
    actor: &Acting,
    id: ChildId,
) -> ApiResult<Option<child::Model>> {
    crate::db::find_in_la::<child::Entity>(db, actor.la_id, id.0).await
}

/// A page of the caller's LA's children, by id, optionally matching an LA child ID.
pub async fn list_children(
    db: &impl Db,
    actor: &Acting,
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

impl NewMember {
    fn checked(self) -> ApiResult<Self> {
        if let Some(label) = &self.label
            && label.chars().count() > 100
        {
            return Err(ApiError::user(
                UserErrorCode::Invalid,
                &["label"],
                "a label is at most 100 characters",
            ));
        }
        Ok(self)
    }

    fn set(self, am: &mut household_member::ActiveModel) {
        am.relationship = Set(self.relationship);
        am.label = Set(self.label);
        am.has_parental_responsibility = Set(self.has_parental_responsibility);
        am.lives_with_child = Set(self.lives_with_child);
    }
}

/// Adds a household member or member of the family network.
pub async fn add_member(
    db: &impl Db,
    actor: &Acting,
    cmd: NewMember,
) -> ApiResult<household_member::Model> {
    let cmd = cmd.checked()?;
    let child_id = cmd.child_id.0;
    get_child(db, actor, cmd.child_id)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    let mut am = household_member::ActiveModel {
        la_id: Set(actor.la_id),
        child_id: Set(child_id),
        ..Default::default()
    };
    cmd.set(&mut am);
    let member = am
        .created(actor)
        .insert_by(db, actor, EventType::HouseholdMemberAdded)
        .await?;
    // A new member is not yet assessed: the household's derived actions follow.
    crate::stages::derived::sync_derived_of_child(db, actor, child_id).await?;
    Ok(member)
}

/// Brings a household member of the same child to `cmd` (a sync), from `expected` when given;
/// whether anything changed.
pub async fn replace_member(
    db: &impl ConnectionTrait,
    actor: &Acting,
    current: household_member::Model,
    cmd: NewMember,
    expected: Option<i32>,
) -> ApiResult<(household_member::Model, bool)> {
    let cmd = cmd.checked()?;
    ApiError::check_version(expected, current.version)?;
    let Some(saved) = crate::stamp::update_changed::<household_member::ActiveModel>(
        db,
        actor,
        &current,
        current.version,
        EventType::HouseholdMemberChanged,
        |am| cmd.set(am),
    )
    .await?
    else {
        return Ok((current, false));
    };
    crate::stages::derived::sync_derived_of_child(db, actor, saved.child_id).await?;
    Ok((saved, true))
}

/// An episode's own fields, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeFields {
    /// Date the child started to be looked after in this episode.
    pub started_on: NaiveDate,
    /// SSDA903 legal status.
    pub legal_status: String,
    /// SSDA903 category of need.
    pub category_of_need: String,
    /// SSDA903 placement type.
    pub placement_type: String,
    /// Date the episode ended, if it has.
    pub ended_on: Option<NaiveDate>,
    /// SSDA903 reason the episode ceased, if it has.
    pub reason_ceased: Option<String>,
    /// The 903 fields beyond the framework's.
    pub details: EpisodeDetails,
}

impl EpisodeFields {
    /// Whether `episode` already holds these fields.
    pub fn held_by(&self, episode: &care_episode::Model) -> bool {
        episode.started_on == self.started_on
            && episode.legal_status == self.legal_status
            && episode.category_of_need == self.category_of_need
            && episode.placement_type == self.placement_type
            && episode.ended_on == self.ended_on
            && episode.reason_ceased == self.reason_ceased
            && EpisodeDetails::of(episode) == self.details
    }

    /// Sets them on an episode.
    pub fn set(self, am: &mut care_episode::ActiveModel) {
        am.started_on = Set(self.started_on);
        am.legal_status = Set(self.legal_status);
        am.category_of_need = Set(self.category_of_need);
        am.placement_type = Set(self.placement_type);
        am.ended_on = Set(self.ended_on);
        am.reason_ceased = Set(self.reason_ceased);
        self.details.set(am);
    }
}

/// A new episode of care.
#[derive(Debug, Clone)]
pub struct NewEpisode {
    /// The child.
    pub child_id: ChildId,
    /// Its fields.
    pub fields: EpisodeFields,
}

/// Placement types a child must have reached an age to start in (SSDA903 rules 370, 371, 373 and
/// 374): code, minimum age on the start date, rule, what the placement is.
const PLACEMENT_MIN_AGE: [(&str, i32, &str, &str); 5] = [
    ("S1", 4, "373", "a placement in a school"),
    ("P3", 14, "374", "residential employment"),
    ("P2", 15, "370", "independent living"),
    ("H5", 16, "371", "semi-independent living"),
    ("K3", 16, "371", "supported accommodation"),
];

/// The SSDA903 rules that concern one episode of `child`: codes valid in the collection year of
/// the start (and of the end, for the reason ceased), no start before birth or in the future, the
/// end date and reason ceased together or not at all, no end before the start, placement age
/// limits, and no period of care starting or ending on a temporary placement.
pub fn validate_episode(child: &child::Model, e: &EpisodeFields) -> ApiResult<()> {
    let mut p = Problems::default();
    if e.started_on > today() {
        p.push(
            UserErrorCode::InvalidDate,
            &["startedOn"],
            "the episode cannot start in the future",
        );
    }
    if e.started_on < child.date_of_birth {
        p.push(
            UserErrorCode::InvalidDate,
            &["startedOn"],
            "the episode cannot start before the child's birth",
        );
    }
    code(
        &mut p,
        &LEGAL_STATUS,
        &e.legal_status,
        e.started_on,
        "legalStatus",
    );
    let placement_known = code(
        &mut p,
        &PLACEMENT_TYPE,
        &e.placement_type,
        e.started_on,
        "placementType",
    );
    match CATEGORY_OF_NEED.check(&e.category_of_need, e.started_on) {
        Ok(row) if row.get("ssda903") == "true" => {}
        Ok(_) => p.push(
            UserErrorCode::InvalidCode,
            &["categoryOfNeed"],
            format!("{} is not used in the SSDA903 return", e.category_of_need),
        ),
        Err(m) => p.push(UserErrorCode::InvalidCode, &["categoryOfNeed"], m),
    }
    e.details.check(
        &mut p,
        &e.placement_type,
        e.started_on,
        e.reason_ceased.as_deref(),
    );
    let temporary = e.placement_type.starts_with('T');
    if temporary && e.details.starts_period() {
        p.push(
            UserErrorCode::InvalidCode,
            &["placementType"],
            "a period of care cannot start on a temporary (T) placement (SSDA903 rule 380)",
        );
    }
    let age = crate::domain::dates::age_on(child.date_of_birth, e.started_on);
    if let Some((code, min, rule, what)) = PLACEMENT_MIN_AGE
        .iter()
        .find(|(code, ..)| *code == e.placement_type)
        && placement_known
        && age < *min
    {
        p.push(
            UserErrorCode::InvalidCode,
            &["placementType"],
            format!(
                "a child placed in {what} ({code}) must be at least {min} on the start date, \
                 this child was {age} (SSDA903 rule {rule})"
            ),
        );
    }
    match (e.ended_on, &e.reason_ceased) {
        (None, None) => {}
        (Some(_), None) => p.push(
            UserErrorCode::Invalid,
            &["reasonCeased"],
            "an episode with an end date needs the reason it ceased (SSDA903: both or neither)",
        ),
        (None, Some(_)) => p.push(
            UserErrorCode::Invalid,
            &["endedOn"],
            "an episode with a reason ceased needs its end date (SSDA903: both or neither)",
        ),
        (Some(end), Some(reason)) => {
            if end < e.started_on {
                p.push(
                    UserErrorCode::InvalidDate,
                    &["endedOn"],
                    "the episode cannot end before it started (SSDA903: end not before start)",
                );
            }
            if end > today() {
                p.push(
                    UserErrorCode::InvalidDate,
                    &["endedOn"],
                    "the episode cannot end in the future",
                );
            }
            code(&mut p, &REASON_CEASED, reason, end, "reasonCeased");
            if temporary && reason != "X1" {
                p.push(
                    UserErrorCode::InvalidCode,
                    &["placementType"],
                    "a period of care cannot end on a temporary (T) placement (SSDA903 rule 381)",
                );
            }
        }
    }
    p.finish()
}

/// The child's open episode other than `except`, if any.
pub async fn other_open_episode(
    db: &impl ConnectionTrait,
    actor: &Acting,
    child_id: i64,
    except: Option<i64>,
) -> ApiResult<bool> {
    let mut q = care_episode::Entity::find()
        .filter(care_episode::Column::LaId.eq(actor.la_id))
        .filter(care_episode::Column::ChildId.eq(child_id))
        .filter(care_episode::Column::EndedOn.is_null());
    if let Some(id) = except {
        q = q.filter(care_episode::Column::Id.ne(id));
    }
    Ok(q.count(db).await? > 0)
}

/// The refusal of a second open episode.
pub fn already_open() -> ApiError {
    ApiError::user(
        UserErrorCode::Duplicate,
        &["childId"],
        "the child already has an open episode of care",
    )
}

/// Records an episode of care (open, or already ended), checking the SSDA903 rules for one
/// episode; at most one episode of a child is open at a time.
pub async fn open_episode(
    db: &impl Db,
    actor: &Acting,
    cmd: NewEpisode,
) -> ApiResult<care_episode::Model> {
    let child = get_child(db, actor, cmd.child_id)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    validate_episode(&child, &cmd.fields)?;
    insert_episode(db, actor, &child, cmd.fields).await
}

/// Inserts an episode of `child` whose fields have been validated, unless it would be the child's
/// second open episode.
pub async fn insert_episode(
    db: &impl ConnectionTrait,
    actor: &Acting,
    child: &child::Model,
    fields: EpisodeFields,
) -> ApiResult<care_episode::Model> {
    if fields.ended_on.is_none() && other_open_episode(db, actor, child.id, None).await? {
        return Err(already_open());
    }
    let mut am = care_episode::ActiveModel {
        la_id: Set(actor.la_id),
        child_id: Set(child.id),
        ..Default::default()
    };
    fields.set(&mut am);
    am.created(actor)
        .insert_by(db, actor, EventType::EpisodeOpened)
        .await
}

/// An episode of the caller's LA.
pub async fn get_episode(
    db: &impl ConnectionTrait,
    actor: &Acting,
    id: EpisodeId,
) -> ApiResult<Option<care_episode::Model>> {
    crate::db::find_in_la::<care_episode::Entity>(db, actor.la_id, id.0).await
}

/// A child looked after under a care order goes home, placed with parents (903): the episode
/// ends `X1` on `on` because the placement changed (`CARPL`, the care plan) and a new episode
/// begins that day in `P1` — the same legal status and category of need, `RNE` `P`, provider
/// `PR0`, the placement at the home's postcode. On the episode's first day the placement is
/// changed in place instead (an episode cannot end the day it began). Returns the episode the
/// child is now in.
pub async fn place_with_parents(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    child: &child::Model,
    episode: care_episode::Model,
    on: NaiveDate,
) -> ApiResult<i64> {
    let placed = |mut d: EpisodeDetails| {
        d.placement_provider = Some("PR0".to_owned());
        d.placement_postcode = d.home_postcode.clone();
        d.urn = None;
        d
    };
    if on == episode.started_on {
        let (id, version) = (episode.id, episode.version);
        let details = placed(EpisodeDetails::of(&episode));
        let mut am: care_episode::ActiveModel = episode.into();
        am.placement_type = Set("P1".to_owned());
        details.set(&mut am);
        am.changed(actor, version)
            .update_by(txn, actor, EventType::EpisodeChanged)
            .await?;
        return Ok(id);
    }
    let fields = EpisodeFields {
        started_on: on,
        legal_status: episode.legal_status.clone(),
        category_of_need: episode.category_of_need.clone(),
        placement_type: "P1".to_owned(),
        ended_on: None,
        reason_ceased: None,
        details: EpisodeDetails {
            reason_new_episode: Some("P".to_owned()),
            reason_place_change: None,
            ..placed(EpisodeDetails::of(&episode))
        },
    };
    validate_episode(child, &fields).map_err(|e| e.nested(&["endsCare"]))?;
    let version = episode.version;
    let mut am: care_episode::ActiveModel = episode.into();
    am.ended_on = Set(Some(on));
    am.reason_ceased = Set(Some("X1".to_owned()));
    am.reason_place_change = Set(Some("CARPL".to_owned()));
    am.changed(actor, version)
        .update_by(txn, actor, EventType::EpisodeChanged)
        .await?;
    Ok(insert_episode(txn, actor, child, fields).await?.id)
}

/// Ends an episode (in the caller's transaction), checking the reason code and date.
pub async fn end_episode(
    txn: &impl ConnectionTrait,
    actor: &Acting,
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
    am.update_by(txn, actor, EventType::EpisodeChanged).await
}
