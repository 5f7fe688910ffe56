//! Bearer JWTs → [`Actor`]: who is calling, for which local authority, with which roles and scopes.

pub mod introspection;
pub mod issuers;
pub mod jwks;
pub mod keys;
pub mod role;
pub mod verifier;

pub use role::Role;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::tenancy;

/// Issuer of development-mode tokens.
pub const DEV_ISSUER: &str = "reunify-development";

/// The claims Reunify reads from an access token.
#[derive(Debug, Serialize, Deserialize, Clone)]
pub struct Claims {
    /// Subject: the user or client.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// DfE code of the local authority the caller acts for.
    pub la: String,
    /// Domain roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// The OAuth client the token was issued to (RFC 9068 `client_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The authorised party (OpenID Connect `azp`), read when `client_id` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
}

/// Who is calling: the authenticated identity behind a request (the request's audit trail is
/// not part of it; see [`crate::audit::acting::Acting`]).
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller's local authority (tenant) row id.
    pub la_id: i64,
    /// The caller's row in `actor`.
    pub actor_id: i64,
    /// The token's subject.
    pub subject: String,
    /// The OAuth client the token was issued to, when the token names one.
    pub client_id: Option<String>,
    /// Roles from the token.
    pub roles: Vec<Role>,
    /// Scopes from the token.
    pub scopes: Vec<String>,
    /// The mutations a machine client is granted; `None` when its roles alone decide.
    pub mutations: Option<Arc<BTreeSet<String>>>,
    /// When the token expires (seconds since the epoch), if it says: a WebSocket closes then.
    pub expires_at: Option<i64>,
}

impl Actor {
    /// An actor acting outside an HTTP request (seeding, commands, tests).
    pub fn system(
        la_id: i64,
        actor_id: i64,
        subject: &str,
        roles: Vec<Role>,
        scopes: &[&str],
    ) -> Self {
        Self {
            la_id,
            actor_id,
            subject: subject.to_owned(),
            client_id: None,
            roles,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            mutations: None,
            expires_at: None,
        }
    }

    /// Whether the caller holds a role.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Child-level records may be read: `cases:read` and a role other than data analyst alone.
    pub fn require_read(&self) -> ApiResult<()> {
        if self.has_scope("cases:read") && self.roles.iter().any(|r| *r != Role::DataAnalyst) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this caller may not read child-level records".into(),
            ))
        }
    }

    /// Aggregates (never child-level records) may be read: scope `aggregates:read`.
    pub fn require_aggregates(&self) -> ApiResult<()> {
        if self.has_scope("aggregates:read") {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this caller may not read aggregates (scope aggregates:read)".into(),
            ))
        }
    }

    /// The caller administers the LA (scope `admin` and role `la_admin`), or `FORBIDDEN` saying
    /// what was refused: `to` as in "may read webhookDeliveries".
    pub fn require_admin(&self, to: &str) -> ApiResult<()> {
        if self.has_scope("admin") && self.has_role(Role::LaAdmin) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                format!("only an LA administrator (role la_admin with scope admin) may {to}")
                    .into(),
            ))
        }
    }

    /// A machine client calls only the mutations its client configuration grants it.
    pub fn require_granted(&self, mutation: &str) -> ApiResult<()> {
        match &self.mutations {
            Some(granted) if !granted.contains(mutation) => Err(ApiError::Forbidden(
                "this client is not granted this mutation".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Child-level records may be changed: `cases:write` and a practitioner or system role.
    pub fn require_write(&self) -> ApiResult<()> {
        let writer = self.roles.iter().any(|r| {
            matches!(
                r,
                Role::SocialWorker
                    | Role::TeamManager
                    | Role::NominatedOfficer
                    | Role::FamilySupport
                    | Role::LaAdmin
                    | Role::VendorSystem
            )
        });
        if self.has_scope("cases:write") && writer {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this caller may not change records".into(),
            ))
        }
    }
}

/// (LA code, subject) → (LA id, actor id).
type ActorCache = HashMap<(String, String), (i64, i64)>;

/// How long a verified token is taken on trust without checking its signature again, at most
/// (and never past its expiry): a signing key withdrawn from an issuer's key set stops being
/// accepted within this time, as the key set's own refresh allows.
const VERIFIED_FOR_SECONDS: i64 = 60;

/// Most verified tokens held at once; past it, the expired go, then everything.
const VERIFIED_CAPACITY: usize = 10_000;

/// Tokens already verified: the SHA-256 of the token (never the token) → the actor it stands for
/// and until when (seconds since the epoch) it may be taken without verifying it again.
#[derive(Default)]
struct Verified {
    tokens: HashMap<[u8; 32], (Actor, i64)>,
}

impl Verified {
    fn get(&self, digest: &[u8; 32], now: i64) -> Option<Actor> {
        self.tokens
            .get(digest)
            .filter(|(_, until)| now < *until)
            .map(|(actor, _)| actor.clone())
    }

    fn put(&mut self, digest: [u8; 32], actor: &Actor, now: i64) {
        let until = actor.expires_at.map_or(now + VERIFIED_FOR_SECONDS, |exp| {
            exp.min(now + VERIFIED_FOR_SECONDS)
        });
        if until <= now {
            return;
        }
        if self.tokens.len() >= VERIFIED_CAPACITY {
            self.tokens.retain(|_, (_, u)| now < *u);
            if self.tokens.len() >= VERIFIED_CAPACITY {
                self.tokens.clear();
            }
        }
        self.tokens.insert(digest, (actor.clone(), until));
    }
}

/// Verifies bearer tokens and resolves them to actors, caching LA and actor rows, and the actor
/// of each token already verified (see [`VERIFIED_FOR_SECONDS`]): a caller's every request after
/// its first costs a hash and a lookup, not a signature check, and no database round trip.
#[derive(Clone)]
pub struct Authenticator {
    verifier: Arc<verifier::Verifier>,
    db: DatabaseConnection,
    statement_timeout: Duration,
    actors: Arc<RwLock<ActorCache>>,
    verified: Arc<RwLock<Verified>>,
}

impl Authenticator {
    /// An authenticator over the trusted issuers.
    pub fn new(
        verifier: Arc<verifier::Verifier>,
        db: DatabaseConnection,
        statement_timeout: Duration,
    ) -> Self {
        Self {
            verifier,
            db,
            statement_timeout,
            actors: Arc::default(),
            verified: Arc::default(),
        }
    }

    /// Whether the signing keys of every issuer that needs them are loaded.
    pub fn keys_loaded(&self) -> bool {
        self.verifier.keys_loaded()
    }

    /// Verifies a bearer token and returns the actor it stands for: a JWT from the tokens already
    /// verified when it is one of them, else by verifying it. (An opaque token is asked of its
    /// introspection endpoint, whose answers are cached for as long as its issuer's
    /// configuration says.)
    pub async fn authenticate(&self, token: &str) -> ApiResult<Actor> {
        use sha2::Digest as _;
        if !verifier::is_jwt(token) {
            return self.resolve(token).await;
        }
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Some(actor) = self.verified.read().ok().and_then(|v| v.get(&digest, now)) {
            return Ok(actor);
        }
        let actor = self.resolve(token).await?;
        if let Ok(mut v) = self.verified.write() {
            v.put(digest, &actor, now);
        }
        Ok(actor)
    }

    /// Verifies a bearer token and resolves it to its actor, registering the actor on first
    /// sight.
    async fn resolve(&self, token: &str) -> ApiResult<Actor> {
        let principal = self.verifier.verify(token).await?;
        if principal.roles.is_empty() {
            return Err(ApiError::Forbidden(
                "the token carries no known role".into(),
            ));
        }
        let key = (principal.la_code.clone(), principal.subject.clone());
        let cached = self.actors.read().ok().and_then(|m| m.get(&key).copied());
        let (la_id, actor_id) = match cached {
            Some(ids) => ids,
            None => {
                let la = tenancy::directory::find_by_code(&self.db, &principal.la_code)
                    .await?
                    .ok_or(ApiError::Unauthenticated(
                        "the token's local authority is not registered with this service",
                    ))?;
                let kind = if principal.roles.contains(&Role::VendorSystem) {
                    "client"
                } else {
                    "user"
                };
                let role_names: Vec<String> = principal
                    .roles
                    .iter()
                    .map(|r| r.as_claim().to_owned())
                    .collect();
                let txn = crate::db::begin_tenant(&self.db, la.id, self.statement_timeout).await?;
                let actor_id = tenancy::directory::ensure_actor(
                    &txn,
                    la.id,
                    &principal.subject,
                    kind,
                    &role_names,
                )
                .await?;
                txn.commit().await?;
                if let Ok(mut m) = self.actors.write() {
                    m.insert(key, (la.id, actor_id));
                }
                (la.id, actor_id)
            }
        };
        Ok(Actor {
            la_id,
            actor_id,
            subject: principal.subject,
            client_id: principal.client_id,
            roles: principal.roles,
            scopes: principal.scopes,
            mutations: principal.mutations,
            expires_at: principal.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(expires_at: Option<i64>) -> Actor {
        Actor {
            expires_at,
            ..Actor::system(1, 2, "sw-1", vec![Role::SocialWorker], &["cases:read"])
        }
    }

    #[test]
    fn a_verified_token_is_taken_until_its_expiry_and_never_past_a_minute() {
        let now = 1_000_000;
        let mut v = Verified::default();
        v.put([1; 32], &actor(Some(now + 10)), now);
        v.put([2; 32], &actor(Some(now + 3600)), now);
        v.put([3; 32], &actor(None), now);
        v.put([4; 32], &actor(Some(now)), now);
        assert!(v.get(&[1; 32], now + 9).is_some());
        assert!(v.get(&[1; 32], now + 10).is_none(), "not at its expiry");
        assert!(v.get(&[2; 32], now + VERIFIED_FOR_SECONDS - 1).is_some());
        assert!(v.get(&[2; 32], now + VERIFIED_FOR_SECONDS).is_none());
        assert!(v.get(&[3; 32], now + VERIFIED_FOR_SECONDS).is_none());
        assert!(
            v.get(&[4; 32], now).is_none(),
            "an expired token is not kept"
        );
        assert!(v.get(&[5; 32], now).is_none(), "nor one never verified");
        let got = v
            .get(&[1; 32], now)
            .map(|a| (a.la_id, a.actor_id, a.subject));
        assert_eq!(got, Some((1, 2, "sw-1".to_owned())));
    }

    #[test]
    fn the_verified_tokens_stay_within_their_capacity() {
        let now = 1_000_000;
        let mut v = Verified::default();
        for i in 0..VERIFIED_CAPACITY + 5 {
            let mut digest = [0; 32];
            digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
            v.put(digest, &actor(Some(now + 30)), now);
        }
        assert!(v.tokens.len() <= VERIFIED_CAPACITY);
        assert!(!v.tokens.is_empty());
    }
}
