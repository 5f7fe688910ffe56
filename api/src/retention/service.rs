//! Legal holds, recording a death, the retention purge and the subject-access export.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use entities::{
    agreement_party, assessment_factor, audit_event, care_episode, case_fact, checklist_item,
    child, child_view, decision, external_identifier, goal, goal_review, goal_revision,
    household_member, local_authority, outcome, parental_agreement, reunification_case as case,
    review, risk_classification, stage_progress, support_plan, support_service, visit,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{Value, json};

use crate::audit::acting::Acting;
use crate::audit::{Action, AuditedWrite as _, Record};
use crate::cases::service::{not_future, today};
use crate::db::Db;
use crate::domain::EventType;
use crate::error::{ApiError, ApiResult, OptionExt as _, UserErrorCode};
use crate::ids::ChildId;
use crate::stamp::Stamped as _;

/// The subject the purge acts as in the audit trail.
pub const PURGE_SUBJECT: &str = "reunify:retention-purge";

async fn load_child(
    db: &impl Db,
    actor: &Acting,
    id: ChildId,
    expected_version: Option<i32>,
) -> ApiResult<child::Model> {
    let found = crate::db::find_in_la::<child::Entity>(db, actor.la_id, id.0)
        .await?
        .or_user_not_found(&["childId"], "child")?;
    if let Some(v) = expected_version
        && v != found.version
    {
        return Err(ApiError::stale(found.version));
    }
    Ok(found)
}

/// Places a child's record on legal hold (it outlives its retention date) or lifts the hold.
pub async fn set_legal_hold(
    db: &impl Db,
    actor: &Acting,
    id: ChildId,
    hold: bool,
    expected_version: Option<i32>,
) -> ApiResult<child::Model> {
    let txn = db.begin().await?;
    let found = load_child(&txn, actor, id, expected_version).await?;
    let version = found.version;
    let mut am: child::ActiveModel = found.into();
    am.legal_hold = Set(hold);
    let saved = am
        .changed(actor, version)
        .update_by(&txn, actor, EventType::ChildChanged)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Records that a child has died; the retention date follows.
pub async fn record_death(
    db: &impl Db,
    actor: &Acting,
    id: ChildId,
    died_on: NaiveDate,
    expected_version: Option<i32>,
) -> ApiResult<child::Model> {
    let died_on = not_future(died_on, "diedOn")?;
    let txn = db.begin().await?;
    let found = load_child(&txn, actor, id, expected_version).await?;
    if died_on < found.date_of_birth {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["diedOn"],
            "the date of death precedes the date of birth",
        ));
    }
    let version = found.version;
    let born = found.date_of_birth;
    let mut am: child::ActiveModel = found.into();
    am.died_on = Set(Some(died_on));
    am.retain_until = Set(Some(super::policy::retain_until(born, Some(died_on))));
    let saved = am
        .changed(actor, version)
        .update_by(&txn, actor, EventType::ChildChanged)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// What a purge did in one LA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeCount {
    /// DfE code of the LA.
    pub la: String,
    /// Children whose records were removed (or would be, in a dry run).
    pub purged: usize,
    /// Children past their date but on legal hold, kept.
    pub held: usize,
}

/// Removes, in every LA, the records of children whose retention date is before `today` and who
/// are not on legal hold: the child, their household, episodes, cases and everything recorded in
/// them. Each removal leaves one audit row (`DELETE`, the tables emptied) in the same
/// transaction. Each LA runs in its own tenant transaction, so row-level security applies.
pub async fn purge(
    pool: &DatabaseConnection,
    statement_timeout: Duration,
    today: NaiveDate,
    dry_run: bool,
) -> ApiResult<Vec<PurgeCount>> {
    let las = local_authority::Entity::find()
        .order_by_asc(local_authority::Column::Id)
        .all(pool)
        .await?;
    let mut report = Vec::new();
    for la in las {
        let txn = crate::db::begin_tenant(pool, la.id, statement_timeout).await?;
        let due = |held: bool| {
            child::Entity::find()
                .select_only()
                .column(child::Column::Id)
                .filter(child::Column::LaId.eq(la.id))
                .filter(child::Column::RetainUntil.lt(today))
                .filter(child::Column::LegalHold.eq(held))
                .order_by_asc(child::Column::Id)
                .into_tuple::<i64>()
        };
        let purgeable = due(false).all(&txn).await?;
        let held = due(true).all(&txn).await?.len();
        if !dry_run && !purgeable.is_empty() {
            let actor_id =
                crate::tenancy::service::ensure_actor(&txn, la.id, PURGE_SUBJECT, "system", &[])
                    .await?;
            let actor = Acting::system(la.id, actor_id, PURGE_SUBJECT, Vec::new(), &[]);
            actor.trail.set_operation("retentionPurge");
            for id in &purgeable {
                remove_child(&txn, &actor, *id).await?;
            }
        }
        if !dry_run {
            // Stored responses of keys past their 24 hours go too.
            crate::idempotency::sweep(&txn, la.id).await?;
        }
        txn.commit().await?;
        report.push(PurgeCount {
            la: la.dfe_code,
            purged: purgeable.len(),
            held,
        });
    }
    Ok(report)
}

/// Calls `$m!(args…, table, column, ids)` for every table of a child's records but `child` and
/// `external_identifier`, leaves first (the order deletion needs): what ties each table's rows to
/// the child is its column and the ids given for it (the child, its cases, goals, agreements).
macro_rules! each_child_table {
    ($m:ident!($($a:expr),*); $one:expr, $cases:expr, $goals:expr, $agreements:expr) => {
        $m!($($a),*, goal_review, CaseId, $cases);
        $m!($($a),*, goal_revision, GoalId, $goals);
        $m!($($a),*, goal, CaseId, $cases);
        $m!($($a),*, agreement_party, AgreementId, $agreements);
        $m!($($a),*, parental_agreement, CaseId, $cases);
        $m!($($a),*, support_service, CaseId, $cases);
        $m!($($a),*, support_plan, CaseId, $cases);
        $m!($($a),*, assessment_factor, CaseId, $cases);
        $m!($($a),*, child_view, CaseId, $cases);
        $m!($($a),*, checklist_item, CaseId, $cases);
        $m!($($a),*, decision, CaseId, $cases);
        $m!($($a),*, risk_classification, CaseId, $cases);
        $m!($($a),*, stage_progress, CaseId, $cases);
        $m!($($a),*, visit, CaseId, $cases);
        $m!($($a),*, review, CaseId, $cases);
        $m!($($a),*, outcome, CaseId, $cases);
        $m!($($a),*, case, ChildId, $one);
        $m!($($a),*, household_member, ChildId, $one);
        $m!($($a),*, care_episode, ChildId, $one);
    };
}

/// Deletes the rows of `$table` whose `$column` is in `$ids`; notes the table when any went.
macro_rules! delete_in {
    ($txn:expr, $la:expr, $tables:expr, $table:ident, $column:ident, $ids:expr) => {{
        let done = $table::Entity::delete_many()
            .filter($table::Column::LaId.eq($la))
            .filter($table::Column::$column.is_in($ids.iter().copied()))
            .exec($txn)
            .await?;
        if done.rows_affected > 0 {
            $tables.push(sea_orm::EntityName::table_name(&$table::Entity));
        }
    }};
}

/// Ids of `$table` rows whose `$column` is in `$ids`.
macro_rules! ids_in {
    ($txn:expr, $la:expr, $table:ident, $column:ident, $ids:expr) => {
        $table::Entity::find()
            .select_only()
            .column($table::Column::Id)
            .filter($table::Column::LaId.eq($la))
            .filter($table::Column::$column.is_in($ids.iter().copied()))
            .into_tuple::<i64>()
            .all($txn)
            .await?
    };
}

/// The external identifiers of everything of a child's that a case-management system can name:
/// the child, its household, episodes and cases, and the cases' services, visits, reviews and
/// agreement parties.
async fn identified(
    db: &impl sea_orm::ConnectionTrait,
    la: i64,
    child_id: i64,
) -> ApiResult<Condition> {
    use crate::ids::owner::{CASE, CHILD, EPISODE, MEMBER, PARTY, REVIEW, SERVICE, VISIT};
    use external_identifier::Column::{OwnerId, OwnerKind};
    let one = [child_id];
    let cases = ids_in!(db, la, case, ChildId, one);
    let owners = [
        (CHILD, one.to_vec()),
        (EPISODE, ids_in!(db, la, care_episode, ChildId, one)),
        (MEMBER, ids_in!(db, la, household_member, ChildId, one)),
        (SERVICE, ids_in!(db, la, support_service, CaseId, cases)),
        (VISIT, ids_in!(db, la, visit, CaseId, cases)),
        (REVIEW, ids_in!(db, la, review, CaseId, cases)),
        (PARTY, {
            let agreements = ids_in!(db, la, parental_agreement, CaseId, cases);
            ids_in!(db, la, agreement_party, AgreementId, agreements)
        }),
        (CASE, cases),
    ];
    Ok(owners
        .into_iter()
        .fold(Condition::any(), |any, (kind, ids)| {
            any.add(
                Condition::all()
                    .add(OwnerKind.eq(kind))
                    .add(OwnerId.is_in(ids)),
            )
        }))
}

async fn remove_child(txn: &impl Db, actor: &Acting, child_id: i64) -> ApiResult<()> {
    let la = actor.la_id;
    let one = [child_id];
    let cases = ids_in!(txn, la, case, ChildId, one);
    let goals = ids_in!(txn, la, goal, CaseId, cases);
    // Read before the records go.
    let identifiers = identified(txn, la, child_id).await?;
    let agreements = ids_in!(txn, la, parental_agreement, CaseId, cases);
    let mut tables: Vec<&'static str> = Vec::new();
    delete_in!(txn, la, tables, case_fact, CaseId, cases);
    each_child_table!(delete_in!(txn, la, tables); one, cases, goals, agreements);
    let owned = external_identifier::Entity::delete_many()
        .filter(external_identifier::Column::LaId.eq(la))
        .filter(identifiers)
        .exec(txn)
        .await?;
    if owned.rows_affected > 0 {
        tables.push("external_identifier");
    }
    delete_in!(txn, la, tables, child, Id, one);
    crate::audit::changed(
        txn,
        actor,
        Action::Delete,
        Record::bare("child", child_id),
        &tables,
        None,
    )
    .await
}

/// Rows of `$table` whose `$column` is in `$ids`, as JSON, under the table's name.
macro_rules! export_in {
    ($txn:expr, $la:expr, $out:expr, $table:ident, $column:ident, $ids:expr) => {{
        let rows = $table::Entity::find()
            .filter($table::Column::LaId.eq($la))
            .filter($table::Column::$column.is_in($ids.iter().copied()))
            .order_by_asc($table::Column::Id)
            .all($txn)
            .await?;
        $out.insert(
            sea_orm::EntityName::table_name(&$table::Entity),
            serde_json::to_value(rows).map_err(|e| ApiError::internal(e.to_string()))?,
        );
    }};
}

/// Everything held about one child of the caller's LA, as one JSON document: the child's record,
/// identifiers, household, episodes, cases and every record of them, and the audit trail of who
/// read or changed any of it. `None` when the LA has no such child. The export itself is audited.
pub async fn export(db: &impl Db, actor: &Acting, id: ChildId) -> ApiResult<Option<Value>> {
    let la = actor.la_id;
    let Some(found) = child::Entity::find_by_id(id.0)
        .filter(child::Column::LaId.eq(la))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let one = [found.id];
    let cases = ids_in!(db, la, case, ChildId, one);
    let goals = ids_in!(db, la, goal, CaseId, cases);
    let agreements = ids_in!(db, la, parental_agreement, CaseId, cases);
    let mut records: BTreeMap<&'static str, Value> = BTreeMap::new();
    each_child_table!(export_in!(db, la, records); one, cases, goals, agreements);
    let identifiers = external_identifier::Entity::find()
        .filter(external_identifier::Column::LaId.eq(la))
        .filter(identified(db, la, found.id).await?)
        .order_by_asc(external_identifier::Column::Id)
        .all(db)
        .await?;
    let audit = audit_event::Entity::find()
        .filter(audit_event::Column::LaId.eq(la))
        .filter(
            sea_orm::Condition::any()
                .add(audit_event::Column::ChildId.eq(found.id))
                .add(audit_event::Column::CaseId.is_in(cases)),
        )
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    let la_code = local_authority::Entity::find_by_id(la)
        .one(db)
        .await?
        .map(|l| l.dfe_code);
    crate::audit::record_now(db, actor, Action::Export, Record::of(&found)).await?;
    let doc = json!({
        "format": "reunify-subject-access/1",
        "exportedAt": Utc::now(),
        "exportedOn": today(),
        "localAuthority": la_code,
        "child": found,
        "externalIdentifiers": identifiers,
        "records": records,
        "auditTrail": audit,
    });
    Ok(Some(doc))
}
