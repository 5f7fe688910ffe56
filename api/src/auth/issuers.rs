//! The trusted token issuers, as configured in `REUNIFY_ISSUERS_FILE` (TOML, one `[[issuer]]`
//! table each), and how a verified token's claims become a [`Principal`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use jsonwebtoken::AlgorithmFamily;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::role::Role;
use crate::error::{ApiError, ApiResult};

/// The one answer every rejected token gets: nothing about why reaches the caller.
pub(super) const BAD_TOKEN: ApiError = ApiError::Unauthenticated("invalid or expired bearer token");

/// The issuers file: `[[issuer]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuersFile {
    #[serde(default)]
    issuer: Vec<IssuerConfig>,
}

/// One trusted issuer (an LA's identity provider, or the authorisation server of machine clients).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// OpenID Connect discovery document; its `jwks_uri` (and `introspection_endpoint`) are used.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// JSON Web Key Set URL (instead of discovery).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// JSON Web Key Set file (instead of a URL; keys never re-fetched).
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Accepted `aud` values; `REUNIFY_TOKEN_AUDIENCE` when omitted.
    #[serde(default)]
    pub audience: Vec<String>,
    /// Accepted signature algorithms (asymmetric only).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<Algorithm>,
    /// Every token of this issuer acts for this LA (DfE code): an LA's own identity provider.
    #[serde(default)]
    pub la: Option<String>,
    /// The claim that names the token's LA (DfE code): a shared identity provider.
    #[serde(default)]
    pub la_claim: Option<String>,
    /// With `la_claim`: the only LAs this issuer may speak for (all when empty).
    #[serde(default)]
    pub allowed_las: Vec<String>,
    /// Machine clients by client id (`client_id` or `azp`): their LA, roles and grants.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientConfig>,
    /// The claim that holds the caller's roles (an array, or a space-separated string).
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// The issuer's role names → Reunify roles (`social_worker`, …); unmapped names are taken as
    /// Reunify role names.
    #[serde(default)]
    pub role_map: BTreeMap<String, String>,
    /// Refuse tokens without `nbf` (always checked when present).
    #[serde(default)]
    pub require_nbf: bool,
    /// Opaque tokens are checked at this issuer's token introspection endpoint (RFC 7662).
    #[serde(default)]
    pub introspection: Option<IntrospectionConfig>,
}

/// Introspection of opaque tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionConfig {
    /// The endpoint; the discovery document's `introspection_endpoint` when omitted.
    #[serde(default)]
    pub url: Option<String>,
    /// Reunify's client id at the authorisation server.
    pub client_id: String,
    /// The environment variable holding Reunify's client secret (never the secret itself).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Or a file holding it (a mounted secret); relative to the issuers file.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// How long an active answer is reused (never past the token's `exp`), in seconds.
    #[serde(default = "default_introspection_cache")]
    pub cache_seconds: u64,
}

/// A machine client of an issuer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The LA (DfE code) the client acts for.
    pub la: String,
    /// Its roles; `vendor_system` when omitted.
    #[serde(default = "default_client_roles")]
    pub roles: Vec<String>,
    /// The mutations it may call (GraphQL field names); none when omitted (read-only).
    #[serde(default)]
    pub mutations: BTreeSet<String>,
}

fn default_algorithms() -> Vec<Algorithm> {
    vec![
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::PS256,
        Algorithm::EdDSA,
    ]
}

fn default_roles_claim() -> String {
    "roles".to_owned()
}

fn default_introspection_cache() -> u64 {
    60
}

fn default_client_roles() -> Vec<String> {
    vec![Role::VendorSystem.as_claim().to_owned()]
}

/// Reads and checks an issuers file; `audience` fills issuers that name none.
pub fn load_file(path: &Path, audience: &str) -> Result<Vec<IssuerConfig>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let file: IssuersFile = toml::from_str(&text).map_err(|e| e.message().to_owned())?;
    let mut issuers = file.issuer;
    for issuer in &mut issuers {
        if issuer.audience.is_empty() {
            issuer.audience = vec![audience.to_owned()];
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let relative = |p: &mut Option<PathBuf>| {
            if let Some(file) = p.as_mut()
                && file.is_relative()
            {
                *file = dir.join(&*file);
            }
        };
        relative(&mut issuer.jwks_file);
        if let Some(i) = issuer.introspection.as_mut() {
            relative(&mut i.client_secret_file);
        }
        issuer
            .check()
            .map_err(|e| format!("issuer `{}`: {e}", issuer.issuer))?;
    }
    let mut seen = BTreeSet::new();
    for issuer in &issuers {
        if !seen.insert(&issuer.issuer) {
            return Err(format!("issuer `{}` is configured twice", issuer.issuer));
        }
    }
    Ok(issuers)
}

impl IssuerConfig {
    /// A single issuer from the `REUNIFY_JWKS_FILE` + `REUNIFY_TOKEN_ISSUER` shorthand: LA from
    /// the `la` claim.
    pub fn shorthand(issuer: String, jwks_file: PathBuf, audience: &str) -> Self {
        Self {
            issuer,
            discovery_url: None,
            jwks_url: None,
            jwks_file: Some(jwks_file),
            audience: vec![audience.to_owned()],
            algorithms: default_algorithms(),
            la: None,
            la_claim: Some("la".to_owned()),
            allowed_las: Vec::new(),
            clients: BTreeMap::new(),
            roles_claim: default_roles_claim(),
            role_map: BTreeMap::new(),
            require_nbf: false,
            introspection: None,
        }
    }

    /// Checks what serde cannot: one key source, safe algorithms, one way to find the LA.
    pub fn check(&self) -> Result<(), String> {
        let sources = [
            self.discovery_url.is_some(),
            self.jwks_url.is_some(),
            self.jwks_file.is_some(),
        ]
        .into_iter()
        .filter(|s| *s)
        .count();
        if sources > 1 {
            return Err("set only one of discovery_url, jwks_url and jwks_file".to_owned());
        }
        if sources == 0 && self.introspection.is_none() {
            return Err(
                "set discovery_url, jwks_url or jwks_file (or introspection for opaque tokens)"
                    .to_owned(),
            );
        }
        for url in [&self.discovery_url, &self.jwks_url].into_iter().flatten() {
            check_url(url)?;
        }
        if let Some(i) = &self.introspection {
            if i.client_secret_env.is_some() && i.client_secret_file.is_some() {
                return Err("set client_secret_env or client_secret_file, not both".to_owned());
            }
            match &i.url {
                Some(url) => check_url(url)?,
                None if self.discovery_url.is_none() => {
                    return Err("introspection needs a url (or a discovery_url)".to_owned());
                }
                None => {}
            }
        }
        if self.algorithms.is_empty() {
            return Err("algorithms must name at least one algorithm".to_owned());
        }
        if let Some(a) = self
            .algorithms
            .iter()
            .find(|a| a.family() == AlgorithmFamily::Hmac)
        {
            return Err(format!(
                "algorithm {a:?} is a shared-secret algorithm; only public-key algorithms are accepted"
            ));
        }
        if self.audience.iter().any(|a| a.trim().is_empty()) {
            return Err("audience must not be empty".to_owned());
        }
        if self.la.is_some() && self.la_claim.is_some() {
            return Err("set la or la_claim, not both".to_owned());
        }
        if self.la.is_none() && self.la_claim.is_none() && self.clients.is_empty() {
            return Err("set la, la_claim or clients: every token must map to one LA".to_owned());
        }
        if !self.allowed_las.is_empty() && self.la_claim.is_none() {
            return Err("allowed_las only applies with la_claim".to_owned());
        }
        for (from, to) in &self.role_map {
            if Role::from_claim(to).is_none() {
                return Err(format!("role_map: `{from}` maps to unknown role `{to}`"));
            }
        }
        for (id, client) in &self.clients {
            if let Some(r) = client.roles.iter().find(|r| Role::from_claim(r).is_none()) {
                return Err(format!("client `{id}`: unknown role `{r}`"));
            }
        }
        Ok(())
    }

    /// The principal a verified token's claims stand for. The LA comes only from this
    /// configuration or from a signed claim the configuration names.
    pub fn principal(&self, claims: &Map<String, Value>) -> ApiResult<Principal> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let client_id = text("client_id").or_else(|| text("azp"));
        let subject = text("sub")
            .or_else(|| text("username"))
            .or_else(|| client_id.clone())
            .filter(|s| !s.is_empty())
            .ok_or(BAD_TOKEN)?;
        let claimed_la = self.la_claim.as_deref().and_then(text);
        let scopes = scopes(claims);
        let expires_at = claims.get("exp").and_then(Value::as_i64);
        if let Some(client) = client_id.as_deref().and_then(|c| self.clients.get(c)) {
            // A mapped machine client: LA, roles and grants come from the configuration.
            if claimed_la.as_ref().is_some_and(|la| *la != client.la) {
                return Err(BAD_TOKEN);
            }
            return Ok(Principal {
                la_code: client.la.clone(),
                subject,
                client_id,
                roles: client
                    .roles
                    .iter()
                    .filter_map(|r| Role::from_claim(r))
                    .collect(),
                scopes,
                mutations: Some(Arc::new(client.mutations.clone())),
                expires_at,
            });
        }
        let la_code = match (&self.la, claimed_la) {
            (Some(la), _) => la.clone(),
            (None, Some(la)) if self.allowed_las.is_empty() || self.allowed_las.contains(&la) => la,
            _ => return Err(BAD_TOKEN),
        };
        let roles = self.roles(claims.get(&self.roles_claim));
        // A machine client not in the client map has no write grants (deny by default).
        let mutations = roles
            .contains(&Role::VendorSystem)
            .then(|| Arc::new(BTreeSet::new()));
        Ok(Principal {
            la_code,
            subject,
            client_id,
            roles,
            scopes,
            mutations,
            expires_at,
        })
    }

    fn roles(&self, claim: Option<&Value>) -> Vec<Role> {
        let names: Vec<&str> = match claim {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => s.split_whitespace().collect(),
            _ => Vec::new(),
        };
        let mut roles = Vec::new();
        for name in names {
            let mapped = self.role_map.get(name).map_or(name, String::as_str);
            if let Some(role) = Role::from_claim(mapped)
                && !roles.contains(&role)
            {
                roles.push(role);
            }
        }
        roles
    }
}

fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(format!("`{url}` is not an http(s) URL"))
    }
}

/// Scopes from `scope` (space-separated, RFC 9068) or `scp` (an array or a string).
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Who a verified token stands for, before the LA and actor rows are looked up.
#[derive(Debug, Clone)]
pub struct Principal {
    /// DfE code of the LA.
    pub la_code: String,
    /// The token's subject.
    pub subject: String,
    /// The OAuth client, when the token names one.
    pub client_id: Option<String>,
    /// Known roles.
    pub roles: Vec<Role>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// The mutations a machine client may call; `None` when its roles alone decide.
    pub mutations: Option<Arc<BTreeSet<String>>>,
    /// When the token expires (seconds since the epoch), if it says.
    pub expires_at: Option<i64>,
}
