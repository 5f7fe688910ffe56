//! The case store: finding a case of the caller's LA and saving a change to it, version-checked
//! and audited. The floor every feature's service stands on.

use entities::reunification_case as case;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::audit::acting::Acting;
use crate::domain::{CaseStatus, EventType};
use crate::error::{ApiError, ApiResult, OptionExt};
use crate::ids::CaseId;
use crate::stamp::Stamped as _;

/// A case of the caller's LA.
pub async fn get_case(
    db: &impl ConnectionTrait,
    actor: &Acting,
    id: CaseId,
) -> ApiResult<Option<case::Model>> {
    crate::db::find_in_la::<case::Entity>(db, actor.la_id, id.0).await
}

/// Loads a case for a change: it must exist in the caller's LA, match `expected_version` when
/// given, and (unless `allow_closed`) be active.
pub async fn load_for_change(
    db: &impl ConnectionTrait,
    actor: &Acting,
    id: CaseId,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    let case = get_case(db, actor, id)
        .await?
        .or_user_not_found(&["caseId"], "case")?;
    if let Some(v) = expected_version
        && v != case.version
    {
        return Err(ApiError::stale(case.version));
    }
    Ok(case)
}

/// The child's active case, if it has one (a child has at most one).
pub async fn active_of_child(
    db: &impl ConnectionTrait,
    actor: &Acting,
    child_id: i64,
) -> ApiResult<Option<case::Model>> {
    Ok(case::Entity::find()
        .filter(case::Column::LaId.eq(actor.la_id))
        .filter(case::Column::ChildId.eq(child_id))
        .filter(case::Column::Status.eq(CaseStatus::Active))
        .one(db)
        .await?)
}

/// Loads a case for a change, as [`load_for_change`], and requires it to be active.
pub async fn load_active(
    db: &impl ConnectionTrait,
    actor: &Acting,
    id: CaseId,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    let case = load_for_change(db, actor, id, expected_version).await?;
    crate::framework::process::require_active(case.status)?;
    Ok(case)
}

/// Saves changes to a case as the domain event `event` (`None` where the change has its own event
/// on another record, as a stage moving on), bumping its version; fails with `CONFLICT` when
/// someone else changed it since it was read. A change that sets nothing new writes nothing, keeps
/// the version and is no event.
pub async fn save_case(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    current: &case::Model,
    event: impl Into<Option<EventType>>,
    change: impl FnOnce(&mut case::ActiveModel),
) -> ApiResult<case::Model> {
    let mut am: case::ActiveModel = current.clone().into();
    change(&mut am);
    crate::audit::unset_unchanged(&mut am, current);
    let fields = crate::audit::set_fields(&am);
    if fields.is_empty() {
        return Ok(current.clone());
    }
    let saved = bump(txn, actor, current, am).await?;
    let record = crate::audit::Record::of(&saved);
    let action = crate::audit::Action::Update;
    crate::audit::changed(txn, actor, action, record, &fields, event.into()).await?;
    Ok(saved)
}

/// Moves the case's version on for a change to one of its records (a goal, a service, a visit,
/// an agreement, …), so that a writer holding an older version of the case conflicts; fails with
/// `CONFLICT` when someone else changed the case since it was read. The change is audited and
/// announced on its own record: the touch writes neither.
pub async fn touch(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    current: &case::Model,
) -> ApiResult<case::Model> {
    bump(txn, actor, current, current.clone().into()).await
}

/// Writes `am` over `current` with the next version, if `current` is still the stored version.
async fn bump(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    current: &case::Model,
    am: case::ActiveModel,
) -> ApiResult<case::Model> {
    let am = am.changed(actor, current.version);
    let result = case::Entity::update_many()
        .set(am)
        .filter(case::Column::Id.eq(current.id))
        .filter(case::Column::LaId.eq(actor.la_id))
        .filter(case::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    let now = case::Entity::find_by_id(current.id)
        .one(txn)
        .await?
        .or_not_found()?;
    if result.rows_affected == 0 {
        return Err(ApiError::stale(now.version));
    }
    Ok(now)
}
