//! The audit trail: who read or changed which record of a child, when, how, and with what outcome.
//!
//! Changes are written by [`AuditedWrite`] and [`changed`] in the transaction (or savepoint)
//! of the change itself, so a rolled-back change leaves no audit row and an audit row cannot
//! outlive its change. Reads, refusals and misses are collected on the request's [`Trail`] and
//! written by [`flush`] in the request's transaction just before it commits; if that write fails,
//! the request fails. Rows hold identifiers and field names, never values.

pub mod extension;
pub mod resolvers;
pub mod service;
pub mod types;

use std::collections::HashSet;
use std::str::FromStr as _;
use std::sync::Mutex;

use chrono::Utc;
use entities::audit_event;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, EntityName, EntityTrait, IdenStatic,
    IntoActiveModel, Iterable, ModelTrait, QueryFilter as _, Set, Value,
};

use crate::auth::Actor;

use crate::error::{ApiError, ApiResult};

/// What was done to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "AuditAction")]
pub enum Action {
    /// The record was returned to the caller.
    Read,
    /// The record was created.
    Create,
    /// The record was changed.
    Update,
    /// The record was removed (retention purge).
    Delete,
    /// Everything held about a child was exported (subject access).
    Export,
    /// Two records of the same child were merged into one.
    Merge,
}

/// How the attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "AuditOutcome")]
pub enum Outcome {
    /// The caller was allowed and the record was there.
    Allowed,
    /// The caller's roles or scopes do not allow the operation.
    Denied,
    /// No such record in the caller's LA (a record of another LA looks the same).
    NotFound,
}

impl Action {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "READ",
            Action::Create => "CREATE",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
            Action::Export => "EXPORT",
            Action::Merge => "MERGE",
        }
    }
    /// Parses the stored form.
    pub fn from_db(s: &str) -> Option<Self> {
        [
            Action::Read,
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Export,
            Action::Merge,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

impl Outcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "ALLOWED",
            Outcome::Denied => "DENIED",
            Outcome::NotFound => "NOT_FOUND",
        }
    }
    /// Parses the stored form.
    pub fn from_db(s: &str) -> Option<Self> {
        [Outcome::Allowed, Outcome::Denied, Outcome::NotFound]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// Which record: its table, id, and the case and child it belongs to (where it has them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The table, e.g. `reunification_case`.
    pub kind: String,
    /// The row id.
    pub id: i64,
    /// The case it belongs to.
    pub case_id: Option<i64>,
    /// The child it is about.
    pub child_id: Option<i64>,
}

fn as_i64(v: Value) -> Option<i64> {
    match v {
        Value::BigInt(v) => v,
        Value::Int(v) => v.map(i64::from),
        _ => None,
    }
}

/// The value of a column named `name`, if the entity has one.
fn column<M: ModelTrait>(m: &M, name: &str) -> Option<i64> {
    <M::Entity as EntityTrait>::Column::from_str(name)
        .ok()
        .and_then(|c| as_i64(m.get(c)))
}

impl Record {
    /// The record a row stands for.
    pub fn of<M: ModelTrait>(m: &M) -> Self {
        let kind = <M::Entity as Default>::default().table_name().to_owned();
        let id = column(m, "id").unwrap_or_default();
        let case_id = if kind == "reunification_case" {
            Some(id)
        } else {
            column(m, "case_id")
        };
        let child_id = if kind == "child" {
            Some(id)
        } else {
            column(m, "child_id")
        };
        Record {
            kind,
            id,
            case_id,
            child_id,
        }
    }

    /// A record known by table and id only (for example one that was not found).
    pub fn bare(kind: &str, id: i64) -> Self {
        Record {
            kind: kind.to_owned(),
            id,
            case_id: (kind == "reunification_case").then_some(id),
            child_id: (kind == "child").then_some(id),
        }
    }
}

/// One pending audit row of a request.
#[derive(Debug, Clone)]
struct Entry {
    action: Action,
    outcome: Outcome,
    operation: String,
    record: Option<Record>,
}

/// The audit state of one request: its identifiers, the operation being run, and the reads,
/// refusals and misses still to be written.
#[derive(Debug, Default)]
pub struct Trail {
    /// The request id sent back to the caller in `extensions.requestId`.
    pub request_id: String,
    /// The W3C trace id of the request.
    pub trace_id: String,
    operation: Mutex<String>,
    pending: Mutex<Vec<Entry>>,
    written: Mutex<HashSet<(String, i64)>>,
    events: Mutex<Vec<crate::events::PendingEvent>>,
    nudged: std::sync::atomic::AtomicBool,
    /// Change rows held for [`flush`] (see [`Trail::defer_changes`]).
    changes: Mutex<Vec<audit_event::ActiveModel>>,
    deferred: std::sync::atomic::AtomicBool,
}

/// How far a request had got: its events and held change rows (see [`Trail::mark`]).
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    /// Events caused so far.
    pub events: usize,
    changes: usize,
}

impl Trail {
    /// A trail for a request.
    pub fn new(request_id: String, trace_id: String, operation: &str) -> Self {
        Self {
            request_id,
            trace_id,
            operation: Mutex::new(operation.to_owned()),
            ..Default::default()
        }
    }

    /// Names the operation (the root field) that the following changes belong to.
    pub fn set_operation(&self, name: &str) {
        if let Ok(mut op) = self.operation.lock() {
            name.clone_into(&mut op);
        }
    }

    fn operation(&self) -> String {
        self.operation.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn push(&self, entry: Entry) {
        if let Ok(mut p) = self.pending.lock() {
            p.push(entry);
        }
    }

    /// Asks for the LA's background work (webhook deliveries) to look again once the request
    /// commits, though it caused no event.
    pub fn nudge(&self) {
        self.nudged.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the request asked for a nudge.
    pub fn nudged(&self) -> bool {
        self.nudged.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Holds the request's change rows until [`flush`] writes them with its reads, in one
    /// statement, instead of one `INSERT` per change. Only for a request whose transaction always
    /// ends with [`flush`] before it commits (the GraphQL endpoint's).
    pub fn defer_changes(&self) {
        self.deferred
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How far the request has got (a mark to roll back to).
    pub fn mark(&self) -> Mark {
        Mark {
            events: self.events.lock().map(|e| e.len()).unwrap_or_default(),
            changes: self.changes.lock().map(|c| c.len()).unwrap_or_default(),
        }
    }

    /// Forgets the events and held change rows since `mark` (their changes were rolled back).
    pub fn rollback(&self, mark: Mark) {
        if let Ok(mut e) = self.events.lock() {
            e.truncate(mark.events);
        }
        if let Ok(mut c) = self.changes.lock() {
            c.truncate(mark.changes);
        }
    }

    /// Takes the events still to be stored.
    pub fn take_events(&self) -> Vec<crate::events::PendingEvent> {
        take(&self.events)
    }

    /// Notes that a record was returned to the caller by `operation`.
    pub fn read(&self, operation: &str, record: Record) {
        self.push(Entry {
            action: Action::Read,
            outcome: Outcome::Allowed,
            operation: operation.to_owned(),
            record: Some(record),
        });
    }

    /// Notes that `operation` was refused to the caller.
    pub fn denied(&self, operation: &str, action: Action) {
        self.push(Entry {
            action,
            outcome: Outcome::Denied,
            operation: operation.to_owned(),
            record: None,
        });
    }

    /// Notes that `operation` asked for a record that is not there (or is another LA's).
    pub fn not_found(&self, operation: &str, record: Record) {
        self.push(Entry {
            action: Action::Read,
            outcome: Outcome::NotFound,
            operation: operation.to_owned(),
            record: Some(record),
        });
    }
}

/// Empties a list of the trail, returning what it held.
fn take<T>(list: &Mutex<Vec<T>>) -> Vec<T> {
    list.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

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
    actor: &Actor,
    am: A,
    action: Action,
) -> ApiResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let fields = set_fields(&am);
    let model = if action == Action::Create {
        am.insert(db).await?
    } else {
        update_checked(db, am).await?
    };
    changed(db, actor, action, Record::of(&model), &fields).await?;
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

/// Writes the audit row of a change made some other way (a version-checked `UPDATE … WHERE`).
pub async fn changed(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: Action,
    record: Record,
    fields: &[&str],
) -> ApiResult<()> {
    if let Ok(mut w) = actor.trail.written.lock() {
        w.insert((record.kind.clone(), record.id));
    }
    if let Some(event_type) = crate::events::classify(&record.kind, action, fields)
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
    actor: &Actor,
    action: Action,
    record: Record,
) -> ApiResult<()> {
    changed(db, actor, action, record, &[]).await
}

fn row(
    actor: &Actor,
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
        action: Set(action.as_str().to_owned()),
        outcome: Set(outcome.as_str().to_owned()),
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
pub async fn flush(db: &impl ConnectionTrait, actor: &Actor) -> ApiResult<()> {
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

/// Writes that leave their audit row: `am.insert_by(&txn, actor)` and `am.update_by(&txn, actor)`.
pub trait AuditedWrite: ActiveModelTrait + ActiveModelBehavior + Send
where
    <Self::Entity as EntityTrait>::Model: IntoActiveModel<Self>,
{
    /// Inserts the row and its `CREATE` audit row.
    fn insert_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Actor,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        write(db, actor, self, Action::Create)
    }

    /// Inserts the row when it has no id yet, updates it otherwise; audited either way.
    fn save_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Actor,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        let new = <Self::Entity as EntityTrait>::Column::from_str("id")
            .map(|c| matches!(self.get(c), sea_orm::ActiveValue::NotSet))
            .unwrap_or(true);
        async move {
            if new {
                write(db, actor, self, Action::Create).await
            } else {
                write(db, actor, self, Action::Update).await
            }
        }
    }

    /// Updates the row and writes its `UPDATE` audit row.
    fn update_by(
        self,
        db: &impl ConnectionTrait,
        actor: &Actor,
    ) -> impl Future<Output = ApiResult<<Self::Entity as EntityTrait>::Model>> + Send {
        write(db, actor, self, Action::Update)
    }
}

impl<A> AuditedWrite for A
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
}
