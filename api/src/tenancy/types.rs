//! GraphQL types for the caller and their local authority.

use async_graphql::{Context, ID, Object, Result};
use entities::local_authority;

use crate::auth::Role;
use crate::context::ContextExt;
use crate::ids::{ActorId, LocalAuthorityId};

/// A local authority using Reunify (a tenant).
pub struct LocalAuthority(pub local_authority::Model);

/// A local authority using Reunify (a tenant).
#[Object]
impl LocalAuthority {
    /// Global ID.
    pub async fn id(&self) -> ID {
        LocalAuthorityId(self.0.id).to_global()
    }
    /// DfE 3-digit LA code.
    async fn dfe_code(&self) -> &str {
        &self.0.dfe_code
    }
    /// ONS (GSS) code.
    async fn ons_code(&self) -> &str {
        &self.0.ons_code
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The LA's labels for the four risk levels, lowest (LOW) first.
    async fn risk_level_labels(&self) -> Vec<String> {
        super::service::settings(&self.0).risk_level_labels.to_vec()
    }
    /// Months risk must stay Medium or Low before D3 = yes after a High classification; null when the LA has no such policy.
    async fn sustained_risk_months(&self) -> Option<u32> {
        super::service::settings(&self.0).sustained_risk_months
    }
}

/// The caller.
pub struct Me {
    actor_id: i64,
    roles: Vec<Role>,
    scopes: Vec<String>,
    la: local_authority::Model,
}

/// The caller.
#[Object]
impl Me {
    /// The caller's actor ID (use it to allocate cases).
    pub async fn id(&self) -> ID {
        ActorId(self.actor_id).to_global()
    }
    /// Roles from the token.
    async fn roles(&self) -> &[Role] {
        &self.roles
    }
    /// Scopes from the token.
    async fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// The caller's local authority.
    async fn local_authority(&self) -> LocalAuthority {
        LocalAuthority(self.la.clone())
    }
}

/// The `me` query.
#[derive(Default)]
pub struct TenancyQuery;

#[Object]
impl TenancyQuery {
    /// Who the caller is, for which LA, with which roles.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let actor = ctx.actor()?;
        let la = super::service::get(ctx.db()?, actor.la_id).await?;
        Ok(Me {
            actor_id: actor.actor_id,
            roles: actor.roles.clone(),
            scopes: actor.scopes.clone(),
            la,
        })
    }
}
