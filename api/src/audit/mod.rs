//! The audit trail: who read or changed which record of a child, when, how, and with what outcome.
//!
//! Changes are written by [`AuditedWrite`] and [`changed`] in the transaction (or savepoint)
//! of the change itself, so a rolled-back change leaves no audit row and an audit row cannot
//! outlive its change. Reads, refusals and misses are collected on the request's [`Trail`] and
//! written by [`flush`] in the request's transaction just before it commits; if that write fails,
//! the request fails. Rows hold identifiers and field names, never values.

pub mod acting;
pub mod fields;
pub mod record;
pub mod resolvers;
pub mod service;
pub mod trail;
pub mod types;

pub use record::{Action, Outcome, Record};
pub use trail::{Mark, Trail};

use std::collections::HashSet;
use std::str::FromStr as _;
use trail::take;

use chrono::Utc;
use entities::audit_event;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, ModelTrait, QueryFilter as _, Set, Value,
};

use crate::audit::acting::Acting;

use crate::domain::EventType;
use crate::error::{ApiError, ApiResult};

/// Stamp columns, never reported as changed fields.
const STAMPS: &[&str] = &[
    "id",
    "la_id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
];

/// The columns an active model sets (its changed fields), without the stamp columns.
pub fn set_fields<A: ActiveModelTrait>(am: &A) -> Vec<&'static str> {
    <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| am.get(*c).is_set())
        .map(|c| c.as_str())
        .filter(|name| !STAMPS.contains(name))
        .collect()
}

/// The columns a new record is given a value in (not those it is created without: a visit
/// recorded without observations does not name `observations`), stamps excepted.
pub fn held_fields<A: ActiveModelTrait>(am: &A) -> Vec<&'static str> {
    <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| match am.get(*c) {
            sea_orm::ActiveValue::Set(v) => v != v.as_null(),
            _ => false,
        })
        .map(|c| c.as_str())
        .filter(|name| !STAMPS.contains(name))
        .collect()
}

/// Forgets the columns an active model sets to the value `current` already holds, so that only
/// real changes are written, audited and announced (a change to nothing is no change).
pub fn unset_unchanged<A: ActiveModelTrait>(
    am: &mut A,
    current: &<A::Entity as EntityTrait>::Model,
) {
    for c in <A::Entity as EntityTrait>::Column::iter() {
        if let sea_orm::ActiveValue::Set(v) = am.get(c)
            && v == current.get(c)
        {
            am.not_set(c);
        }
    }
}

/// Inserts (`Create`) or updates (`Update`) a row and writes its audit row naming the fields set,
/// in the caller's transaction.
async fn write<A>(
    db: &impl ConnectionTrait,
    actor: &Acting,
    am: A,
    action: Action,
    event: Option<EventType>,
) -> ApiResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let fields = if action == Action::Create {
        held_fields(&am)
    } else {
        set_fields(&am)
    };
    let model = if action == Action::Create {
        am.insert(db).await?
    } else {
        update_checked(db, am).await?
    };
    changed(db, actor, action, Record::of(&model), &fields, event).await?;
    Ok(model)
}

/// Updates a row whose `version` is being moved on (see `Stamped::changed`) only if it still has
/// the version the change was made from: `UPDATE … WHERE id = … AND version = …`. A row someone
/// else changed in the meantime (a concurrent request that committed first) is a `CONFLICT` user
/// error naming its current version, never a silent overwrite. Rows without a version, or whose
/// version is not being changed, are updated by key alone.
async fn update_checked<A>(
    db: &impl ConnectionTrait,
    am: A,
) -> ApiResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let version = <A::Entity as EntityTrait>::Column::from_str("version").ok();
    let next = version.and_then(|column| match am.get(column) {
        sea_orm::ActiveValue::Set(Value::Int(Some(v))) => Some((column, v)),
        _ => None,
    });
    let Some((column, next)) = next else {
        return Ok(am.update(db).await?);
    };
    let mut key = sea_orm::Condition::all();
    for pk in <A::Entity as EntityTrait>::PrimaryKey::iter() {
        let pk = sea_orm::PrimaryKeyToColumn::into_column(pk);
        match am.get(pk).into_value() {
            Some(value) => key = key.add(sea_orm::ColumnTrait::eq(&pk, value)),
            None => return Err(ApiError::internal("an update without its key")),
        }
    }
    let updated = <A::Entity as EntityTrait>::update_many()
        .set(am)
        .filter(key.clone())
        .filter(sea_orm::ColumnTrait::eq(&column, next - 1))
        .exec_with_returning(db)
        .await?;
    if let Some(model) = updated.into_iter().next() {
        return Ok(model);
    }
    let now = <A::Entity as EntityTrait>::find()
        .filter(key)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    match now.get(column) {
        Value::Int(Some(current)) => Err(ApiError::stale(current)),
        _ => Err(ApiError::internal("a version that is not a number")),
    }
}

/// Writes the audit row of a change made some other way (a version-checked `UPDATE … WHERE`),
/// and notes `event`, the domain event the change is (`None` for a change that is not one: see
/// [`EventType`]), to be stored with the request's other events.
pub async fn changed(
    db: &impl ConnectionTrait,
    actor: &Acting,
    action: Action,
    record: Record,
    fields: &[&str],
    event: impl Into<Option<EventType>>,
) -> ApiResult<()> {
    let event = event.into();
    if let Ok(mut w) = actor.trail.written.lock() {
        w.insert((record.kind.clone(), record.id));
    }
    if let Some(event_type) = event
        && let Ok(mut events) = actor.trail.events.lock()
    {
        events.push(crate::events::PendingEvent {
            event_type,
            record: record.clone(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            operation: actor.trail.operation(),
        });
    }
    let fields = (!fields.is_empty()).then(|| fields.join(","));
    let change = row(
        actor,
        &actor.trail.operation(),
        action,
        Outcome::Allowed,
        Some(&record),
        fields,
    );
    if actor
        .trail
        .deferred
        .load(std::sync::atomic::Ordering::SeqCst)
        && let Ok(mut held) = actor.trail.changes.lock()
    {
        held.push(change);
        return Ok(());
    }
    change.insert(db).await?;
    Ok(())
}

/// Writes an `EXPORT` or other one-off audit row at once, in the caller's transaction.
pub async fn record_now(
    db: &impl ConnectionTrait,
    actor: &Acting,
    action: Action,
    record: Record,
) -> ApiResult<()> {
    changed(db, actor, action, record, &[], None).await
}

fn row(
    actor: &Acting,
    operation: &str,
    action: Action,
    outcome: Outcome,
    record: Option<&Record>,
    fields: Option<String>,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        la_id: Set(actor.la_id),
        occurred_at: Set(Utc::now()),
        actor_id: Set(Some(actor.actor_id)),
        subject: Set(actor.subject.clone()),
        client_id: Set(actor.client_id.clone()),
        roles: Set(actor
            .roles
            .iter()
            .map(|r| r.as_claim())
            .collect::<Vec<_>>()
            .join(",")),
        operation: Set(operation.chars().take(100).collect()),
        action: Set(action),
        outcome: Set(outcome),
        record_type: Set(record.map(|r| r.kind.clone())),
        record_id: Set(record.map(|r| r.id)),
        case_id: Set(record.and_then(|r| r.case_id)),
        child_id: Set(record.and_then(|r| r.child_id)),
        fields: Set(fields),
        request_id: Set(actor.trail.request_id.clone()),
        trace_id: Set(actor.trail.trace_id.clone()),
        ..Default::default()
    }
}

/// Writes the request's held change rows (see [`Trail::defer_changes`]) and its pending reads,
/// refusals and misses: one row per record and outcome, none for a record the request itself
/// changed (its change row says more).
pub async fn flush(db: &impl ConnectionTrait, actor: &Acting) -> ApiResult<()> {
    let pending = take(&actor.trail.pending);
    let changes = take(&actor.trail.changes);
    let written = actor
        .trail
        .written
        .lock()
        .map(|w| w.clone())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let reads = pending
        .into_iter()
        .filter(|e| {
            let key = e.record.as_ref().map(|r| (r.kind.clone(), r.id));
            if e.action == Action::Read
                && e.outcome == Outcome::Allowed
                && key.as_ref().is_some_and(|k| written.contains(k))
            {
                return false;
            }
            // One row per record and outcome; refusals (no record) once per operation.
            let op = if key.is_none() {
                e.operation.clone()
            } else {
                String::new()
            };
            seen.insert((key, e.outcome, op))
        })
        .map(|e| {
            row(
                actor,
                &e.operation,
                e.action,
                e.outcome,
                e.record.as_ref(),
                None,
            )
        });
    let rows: Vec<audit_event::ActiveModel> = changes.into_iter().chain(reads).collect();
    for chunk in rows.chunks(500) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Writes that leave their audit row and name the domain event they are:
/// `am.insert_by(&txn, actor, EventType::GoalAdded)`, `am.update_by(&txn, actor, None)` (a write
/// that is no event of a case or child). No write can leave its event out.
pub trait AuditedWrite: ActiveModelTrait + ActiveModelBehavior + Send
where
    <Self::Entity as EntityTrait>::Model: IntoActiveModel<Self>,
{
    /// Inserts the row and its `CREATE` audit row; the insert is the domain event `event`.
    fn insert_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Acting,
        event: impl Into<Option<EventType>>,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        write(db, actor, self, Action::Create, event.into())
    }

    /// Inserts the row when it has no id yet, updates it otherwise; audited either way, and the
    /// domain event `event` either way.
    fn save_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Acting,
        event: impl Into<Option<EventType>>,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        let event = event.into();
        let new = <Self::Entity as EntityTrait>::Column::from_str("id")
            .map(|c| matches!(self.get(c), sea_orm::ActiveValue::NotSet))
            .unwrap_or(true);
        async move {
            let action = if new { Action::Create } else { Action::Update };
            write(db, actor, self, action, event).await
        }
    }

    /// Updates the row and writes its `UPDATE` audit row; the update is the domain event `event`.
    fn update_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Acting,
        event: impl Into<Option<EventType>>,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        write(db, actor, self, Action::Update, event.into())
    }
}

impl<A> AuditedWrite for A
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
}
