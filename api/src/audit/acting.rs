//! An actor acting in one request: who is calling ([`Actor`], an identity that outlives the
//! request) and the request's audit [`Trail`] (what this request read, changed and caused).
//! Services take an `&Acting`; what only asks who is calling (role and scope checks) reads the
//! [`Actor`] through it.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::{Actor, Role};

use super::trail::Trail;

/// An [`Actor`] acting in one request, with that request's audit trail.
#[derive(Debug, Clone)]
pub struct Acting {
    /// Who is calling.
    pub actor: Actor,
    /// The request's audit trail, shared by everything the request runs.
    pub trail: Arc<Trail>,
}

impl Acting {
    /// `actor` acting in the request whose trail is `trail`.
    pub fn new(actor: Actor, trail: Arc<Trail>) -> Self {
        Self { actor, trail }
    }

    /// An actor acting outside an HTTP request (seeding, commands, tests), with a trail of its
    /// own whose operation is `subject`.
    pub fn system(
        la_id: i64,
        actor_id: i64,
        subject: &str,
        roles: Vec<Role>,
        scopes: &[&str],
    ) -> Self {
        Self::new(
            Actor::system(la_id, actor_id, subject, roles, scopes),
            Arc::new(Trail::new(String::new(), String::new(), subject)),
        )
    }
}

/// An acting actor is its actor for every question of who is calling (`acting.la_id`, role
/// checks).
impl Deref for Acting {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}
