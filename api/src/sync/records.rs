//! The rest of what a case-management system holds, kept in step by its identifiers: household
//! members, support services, visits, reviews and agreement parties. Each is created the first time its identifier
//! is sent, with the rules of the worker's mutation (`householdMemberAdd`, `serviceAdd`,
//! `visitRecord`, `reviewRecord`); brought to what is sent afterwards (only what differs, and
//! only from `expectedVersion` when given); never moved to another child or case.

use entities::{
    agreement_party, external_identifier, household_member, review, support_service, visit,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::service::{Ref, check_external_id, moved, resolve_case, resolve_child};
use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::children::service::{self as children, ExternalId, NewMember, UpsertResult};
use crate::db::Db;
use crate::error::{ApiError, ApiResult, OptionExt as _};
use crate::goals::service::{self as goals, SyncedParty};
use crate::ids::{AgreementId, CaseId, ChildId, HouseholdMemberId};
use crate::support_plans::service::{self as support, NewService};
use crate::visits::service::{self as visits, NewReview, NewVisit};

pub use crate::ids::owner::{
    MEMBER as MEMBER_OWNER, PARTY as PARTY_OWNER, REVIEW as REVIEW_OWNER, SERVICE as SERVICE_OWNER,
    VISIT as VISIT_OWNER,
};

/// The row of `E` (a table with `id` and `la_id`) in the caller's LA that `ext` names.
pub async fn by_external_id<E>(
    db: &impl ConnectionTrait,
    actor: &Acting,
    owner: &str,
    ext: &ExternalId,
) -> ApiResult<Option<E::Model>>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    match children::owner_of(db, actor, owner, ext).await? {
        Some(id) => crate::db::find_in_la::<E>(db, actor.la_id, id).await,
        None => Ok(None),
    }
}

/// The one shape of every upsert: in one transaction, the record `ext` names is brought to
/// what was sent by `update` (which says whether anything changed), or created by `create`
/// and given the identifier.
async fn upsert<E>(
    db: &impl Db,
    actor: &Acting,
    owner: &str,
    ext: &ExternalId,
    create: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<E::Model>,
    update: impl AsyncFnOnce(&DatabaseTransaction, E::Model) -> ApiResult<(E::Model, bool)>,
    id_of: fn(&E::Model) -> i64,
) -> ApiResult<(E::Model, UpsertResult)>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    check_external_id(ext)?;
    let txn = db.begin().await?;
    let outcome = match by_external_id::<E>(&txn, actor, owner, ext).await? {
        None => {
            let created = create(&txn).await?;
            children::attach_external_id(&txn, actor, owner, id_of(&created), ext, &["externalId"])
                .await?;
            (created, UpsertResult::Created)
        }
        Some(current) => match update(&txn, current).await? {
            (m, true) => (m, UpsertResult::Updated),
            (m, false) => (m, UpsertResult::Unchanged),
        },
    };
    txn.commit().await?;
    Ok(outcome)
}

/// A household member as the sending system holds it.
pub async fn upsert_member(
    db: &impl Db,
    actor: &Acting,
    ext: &ExternalId,
    child: Ref<ChildId>,
    member: impl FnOnce(ChildId) -> NewMember,
    expected: Option<i32>,
) -> ApiResult<(household_member::Model, UpsertResult)> {
    let child = ChildId(resolve_child(db, actor, &child).await?.id);
    let cmd = member(child);
    upsert::<household_member::Entity>(
        db,
        actor,
        MEMBER_OWNER,
        ext,
        async |txn| children::add_member(txn, actor, cmd.clone()).await,
        async |txn, current| {
            if current.child_id != child.0 {
                return Err(moved("childId", "household member", "child"));
            }
            children::replace_member(txn, actor, current, cmd.clone(), expected).await
        },
        |m| m.id,
    )
    .await
}

/// A support service as the sending system holds it.
pub async fn upsert_service(
    db: &impl Db,
    actor: &Acting,
    ext: &ExternalId,
    case: Ref<CaseId>,
    service: impl FnOnce(CaseId) -> NewService,
    expected: Option<i32>,
) -> ApiResult<(support_service::Model, UpsertResult)> {
    let case = CaseId(resolve_case(db, actor, &case).await?.id);
    let cmd = service(case);
    upsert::<support_service::Entity>(
        db,
        actor,
        SERVICE_OWNER,
        ext,
        async |txn| support::add_service(txn, actor, cmd.clone()).await,
        async |txn, current| {
            if current.case_id != case.0 {
                return Err(moved("caseId", "service", "case"));
            }
            support::replace_service(txn, actor, current, cmd.clone(), expected).await
        },
        |m| m.id,
    )
    .await
}

/// A visit as the sending system holds it.
pub async fn upsert_visit(
    db: &impl Db,
    actor: &Acting,
    ext: &ExternalId,
    case: Ref<CaseId>,
    visit: impl FnOnce(CaseId) -> NewVisit,
    expected: Option<i32>,
) -> ApiResult<(visit::Model, UpsertResult)> {
    let case = CaseId(resolve_case(db, actor, &case).await?.id);
    let cmd = visit(case);
    upsert::<visit::Entity>(
        db,
        actor,
        VISIT_OWNER,
        ext,
        async |txn| visits::record_visit(txn, actor, cmd.clone()).await,
        async |txn, current| {
            if current.case_id != case.0 {
                return Err(moved("caseId", "visit", "case"));
            }
            visits::replace_visit(txn, actor, current, cmd.clone(), expected).await
        },
        |m| m.id,
    )
    .await
}

/// A review meeting as the sending system holds it.
pub async fn upsert_review(
    db: &impl Db,
    actor: &Acting,
    ext: &ExternalId,
    case: Ref<CaseId>,
    review: impl FnOnce(CaseId) -> NewReview,
    expected: Option<i32>,
) -> ApiResult<(review::Model, UpsertResult)> {
    let case = CaseId(resolve_case(db, actor, &case).await?.id);
    let cmd = review(case);
    upsert::<review::Entity>(
        db,
        actor,
        REVIEW_OWNER,
        ext,
        async |txn| visits::record_review(txn, actor, cmd.clone()).await,
        async |txn, current| {
            if current.case_id != case.0 {
                return Err(moved("caseId", "review", "case"));
            }
            visits::replace_review(txn, actor, current, cmd.clone(), expected).await
        },
        |m| m.id,
    )
    .await
}

/// A parent's or carer's part in the case's parental agreement as the sending system holds it
/// (where [`goals::sync_party`] puts it). The identifier names the person's party on the current
/// version: when a new version carries the party over, the identifier follows it. A party never
/// moves to another case or person.
pub async fn upsert_party(
    db: &impl Db,
    actor: &Acting,
    ext: &ExternalId,
    case: Ref<CaseId>,
    member: Ref<HouseholdMemberId>,
    sent: SyncedParty,
    expected: Option<i32>,
) -> ApiResult<(agreement_party::Model, UpsertResult)> {
    check_external_id(ext)?;
    let txn = db.begin().await?;
    let case = resolve_case(&txn, actor, &case).await?;
    let member = match member {
        Ref::Id(id) => id,
        Ref::External(m) => {
            by_external_id::<household_member::Entity>(&txn, actor, MEMBER_OWNER, &m)
                .await?
                .filter(|m| m.child_id == case.child_id)
                .map(|m| HouseholdMemberId(m.id))
                .or_user_not_found(
                    &["householdMemberExternalId"],
                    "household member of this child",
                )?
        }
    };
    let existing = by_external_id::<agreement_party::Entity>(&txn, actor, PARTY_OWNER, ext).await?;
    if let Some(p) = &existing {
        ApiError::check_version(expected, p.version)?;
        let agreement = goals::get_agreement(&txn, actor, AgreementId(p.agreement_id)).await?;
        if agreement.case_id != case.id {
            return Err(moved("caseId", "agreement party", "case"));
        }
        if p.household_member_id != member.0 {
            return Err(moved("householdMemberId", "agreement party", "person"));
        }
    }
    let (party, changed) = Box::pin(goals::sync_party(
        &txn,
        actor,
        CaseId(case.id),
        member,
        sent,
    ))
    .await?;
    let result = match existing {
        None => {
            children::attach_external_id(&txn, actor, PARTY_OWNER, party.id, ext, &["externalId"])
                .await?;
            UpsertResult::Created
        }
        Some(p) if p.id != party.id => {
            let named = external_identifier::Entity::find()
                .filter(external_identifier::Column::LaId.eq(actor.la_id))
                .filter(external_identifier::Column::OwnerKind.eq(PARTY_OWNER))
                .filter(external_identifier::Column::OwnerId.eq(p.id))
                .filter(external_identifier::Column::System.eq(ext.system.trim()))
                .filter(external_identifier::Column::Value.eq(ext.value.trim()))
                .one(&txn)
                .await?
                .or_not_found()?;
            let mut am: external_identifier::ActiveModel = named.into();
            am.owner_id = Set(party.id);
            am.update_by(&txn, actor, None).await?;
            UpsertResult::Updated
        }
        Some(_) if changed => UpsertResult::Updated,
        Some(_) => UpsertResult::Unchanged,
    };
    txn.commit().await?;
    Ok((party, result))
}
