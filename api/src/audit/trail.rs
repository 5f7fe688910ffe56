//! The audit state of one request: what it read, was refused and missed, the change rows it
//! holds, and the events it caused, until its unit of work writes them.

use std::collections::HashSet;
use std::sync::Mutex;

use entities::audit_event;

use super::record::{Action, Outcome, Record};

/// One pending audit row of a request.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) action: Action,
    pub(super) outcome: Outcome,
    pub(super) operation: String,
    pub(super) record: Option<Record>,
}

/// The audit state of one request: its identifiers, the operation being run, and the reads,
/// refusals and misses still to be written.
#[derive(Debug, Default)]
pub struct Trail {
    /// The request id sent back to the caller in `extensions.requestId`.
    pub request_id: String,
    /// The W3C trace id of the request.
    pub trace_id: String,
    pub(super) operation: Mutex<String>,
    pub(super) pending: Mutex<Vec<Entry>>,
    pub(super) written: Mutex<HashSet<(String, i64)>>,
    pub(super) events: Mutex<Vec<crate::events::PendingEvent>>,
    pub(super) nudged: std::sync::atomic::AtomicBool,
    /// Change rows held for [`super::flush`] (see [`Trail::defer_changes`]).
    pub(super) changes: Mutex<Vec<audit_event::ActiveModel>>,
    pub(super) deferred: std::sync::atomic::AtomicBool,
}

/// How far a request had got: its events and held change rows (see [`Trail::mark`]).
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    /// Events caused so far.
    pub events: usize,
    pub(super) changes: usize,
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

    pub(super) fn operation(&self) -> String {
        self.operation.lock().map(|o| o.clone()).unwrap_or_default()
    }

    pub(super) fn push(&self, entry: Entry) {
        if let Ok(mut p) = self.pending.lock() {
            p.push(entry);
        }
    }

    /// Asks for the LA's background work (webhook deliveries) to look again once the request
    /// commits, though it caused no event.
    pub fn nudge(&self) {
        self.nudged.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the request has nothing for a unit of work to write or announce: no reads,
    /// refusals or misses to audit, no held change rows, no events, no nudge.
    pub fn is_empty(&self) -> bool {
        let empty = |n: Option<usize>| n == Some(0);
        empty(self.pending.lock().ok().map(|p| p.len()))
            && empty(self.changes.lock().ok().map(|c| c.len()))
            && empty(self.events.lock().ok().map(|e| e.len()))
            && !self.nudged()
    }

    /// Whether the request asked for a nudge.
    pub fn nudged(&self) -> bool {
        self.nudged.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Holds the request's change rows until [`super::flush`] writes them with its reads, in one
    /// statement, instead of one `INSERT` per change. Only for a request whose transaction always
    /// ends with [`super::flush`] before it commits (the GraphQL endpoint's).
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
pub(super) fn take<T>(list: &Mutex<Vec<T>>) -> Vec<T> {
    list.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}
