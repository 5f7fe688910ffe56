//! The framework's judgement, in one place: every rule of the Reunification Practice Framework as
//! a pure function over a [`CaseSnapshot`], returning what to write or a refusal with its code.
//! Services load the snapshot, ask these rules, then write; nothing else decides. [`table`] lists
//! the rules for people (`reunify rules`, the README's process section).

pub mod agreement;
pub mod checklist;
pub mod closure;
pub mod decisions;
pub mod due;
pub mod goals;
pub mod outcomes;
pub mod process;
pub mod risk;
pub mod roles;
pub mod snapshot;
pub mod table;

pub use snapshot::CaseSnapshot;

use crate::auth::{Actor, Role};

/// Who is acting, as the rules see it: a person (or client) and the roles their token holds.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The actor row id (what `decided_by`, `proposed_by` and the like store).
    pub id: i64,
    /// The token's roles.
    pub roles: &'a [Role],
}

impl<'a> From<&'a Actor> for Caller<'a> {
    fn from(a: &'a Actor) -> Self {
        Caller {
            id: a.actor_id,
            roles: &a.roles,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture;
