//! Derived checklist items kept in step with the records that prove them.

use entities::{checklist_item, reunification_case as case};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::domain::CaseStatus;
use crate::domain::EventType;
use crate::error::ApiResult;
use crate::framework::{checklist, snapshot};
use crate::stamp::Stamped as _;
use crate::tenancy::settings as tenancy;

/// Brings the case's derived checklist items in step with its records: an item a record now
/// proves is completed with that record as its evidence (by nobody: `completed_by` stays empty);
/// one whose record is gone reopens while its stage is open. Called by every service that writes
/// a record some action can be derived from, in its transaction.
pub async fn sync_derived(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    case_id: i64,
) -> ApiResult<()> {
    let la = tenancy::get(txn, actor.la_id).await?;
    let Some(s) = snapshot::load(txn, actor.la_id, case_id, tenancy::settings(&la)).await? else {
        return Ok(());
    };
    for change in checklist::derived_changes(&s)? {
        let Some(item) = s.checklist.iter().find(|i| i.id == change.item_id) else {
            continue;
        };
        let version = item.version;
        let mut am: checklist_item::ActiveModel = item.clone().into();
        am.completed_on = Set(change.proof.as_ref().map(|p| p.on));
        am.completed_by = Set(None);
        am.evidence = Set(change.proof.map(|p| p.record));
        am.changed(actor, version)
            .update_by(txn, actor, EventType::ChecklistItemUpdated)
            .await?;
    }
    Ok(())
}

/// [`sync_derived`] for every active case of a child (after a change to the household).
pub async fn sync_derived_of_child(
    txn: &impl ConnectionTrait,
    actor: &Acting,
    child_id: i64,
) -> ApiResult<()> {
    let active = case::Entity::find()
        .filter(case::Column::LaId.eq(actor.la_id))
        .filter(case::Column::ChildId.eq(child_id))
        .filter(case::Column::Status.eq(CaseStatus::Active))
        .all(txn)
        .await?;
    for c in active {
        sync_derived(txn, actor, c.id).await?;
    }
    Ok(())
}
