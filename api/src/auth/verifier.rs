//! Bearer token → [`Principal`]: a JWT is routed by its (unverified) `iss` to the one configured
//! issuer of that name, whose keys, algorithms and audience then decide; an opaque token goes to
//! the introspection endpoints configured, in order.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::introspection::Introspector;
use super::issuers::{BAD_TOKEN, IssuerConfig, Principal};
use super::jwks::{FetchPolicy, KeyCache, KeySource, VerifyingKey, discover, parse_set};
use crate::error::ApiResult;

/// Leeway for clock skew when checking `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// How long an identity provider may take to answer a key or introspection request.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// A configured issuer with its keys and introspection endpoint.
pub struct Issuer {
    config: IssuerConfig,
    keys: Option<KeyCache>,
    introspection: tokio::sync::OnceCell<Introspector>,
    /// Development issuer: its machine clients are not limited to granted mutations.
    development: bool,
}

impl Issuer {
    /// An issuer from its configuration (file keys are read now; remote keys on first use).
    pub fn new(config: IssuerConfig, policy: FetchPolicy) -> Result<Self, String> {
        let keys = if let Some(path) = &config.jwks_file {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("jwks_file {}: cannot read: {e}", path.display()))?;
            Some(KeyCache::fixed(
                parse_set(&bytes).map_err(|e| format!("jwks_file {}: {e}", path.display()))?,
            ))
        } else if let Some(url) = &config.jwks_url {
            Some(KeyCache::remote(KeySource::Url(url.clone()), policy))
        } else {
            config.discovery_url.as_ref().map(|url| {
                KeyCache::remote(
                    KeySource::Discovery {
                        url: url.clone(),
                        issuer: config.issuer.clone(),
                    },
                    policy,
                )
            })
        };
        Ok(Self {
            config,
            keys,
            introspection: tokio::sync::OnceCell::new(),
            development: false,
        })
    }

    /// The development issuer: one fixed Ed25519 key, LA from the `la` claim, `nbf` required.
    pub fn development(issuer: &str, audience: &str, key: VerifyingKey) -> Self {
        let mut config = IssuerConfig::shorthand(issuer.to_owned(), Default::default(), audience);
        config.jwks_file = None;
        config.algorithms = vec![Algorithm::EdDSA];
        config.require_nbf = true;
        Self {
            config,
            keys: Some(KeyCache::fixed(vec![key])),
            introspection: tokio::sync::OnceCell::new(),
            development: true,
        }
    }

    /// The introspector, built on first use (its URL may come from discovery).
    async fn introspector(&self, http: &reqwest::Client) -> Option<&Introspector> {
        let settings = self.config.introspection.as_ref()?;
        let built = self
            .introspection
            .get_or_try_init(|| async {
                let url = match (&settings.url, &self.config.discovery_url) {
                    (Some(url), _) => url.clone(),
                    (None, Some(d)) => discover(http, d, &self.config.issuer)
                        .await?
                        .introspection_endpoint
                        .ok_or("the discovery document has no introspection_endpoint")?,
                    (None, None) => return Err("no introspection endpoint".to_owned()),
                };
                let secret = match (&settings.client_secret_env, &settings.client_secret_file) {
                    (Some(var), _) => Some(
                        std::env::var(var)
                            .map_err(|_| format!("{var} (client_secret_env) is not set"))?,
                    ),
                    (None, Some(file)) => Some(
                        std::fs::read_to_string(file)
                            .map_err(|e| format!("client_secret_file: cannot read: {e}"))?
                            .trim()
                            .to_owned(),
                    ),
                    (None, None) => None,
                };
                Introspector::new(
                    &url,
                    &settings.client_id,
                    secret,
                    Duration::from_secs(settings.cache_seconds),
                )
            })
            .await;
        match built {
            Ok(i) => Some(i),
            Err(error) => {
                tracing::warn!(%error, "token introspection is unavailable");
                None
            }
        }
    }

    fn principal(&self, claims: &Map<String, Value>) -> ApiResult<Principal> {
        let mut principal = self.config.principal(claims)?;
        if self.development {
            principal.mutations = None;
        }
        Ok(principal)
    }

    /// Checks an introspection answer the way a JWT's claims are checked: issuer, audience,
    /// expiry and not-before (each when the answer carries it), and the LA mapping.
    fn accept_introspected(&self, claims: &Map<String, Value>) -> ApiResult<Principal> {
        if claims
            .get("iss")
            .is_some_and(|iss| iss.as_str() != Some(&self.config.issuer))
        {
            return Err(BAD_TOKEN);
        }
        if let Some(aud) = claims.get("aud") {
            let named = |a: &Value| {
                a.as_str()
                    .is_some_and(|a| self.config.audience.iter().any(|x| x == a))
            };
            let ok = match aud {
                Value::Array(items) => items.iter().any(named),
                other => named(other),
            };
            if !ok {
                return Err(BAD_TOKEN);
            }
        }
        let now = chrono::Utc::now().timestamp();
        let leeway = LEEWAY_SECONDS as i64;
        if claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp + leeway <= now)
            || claims
                .get("nbf")
                .and_then(Value::as_i64)
                .is_some_and(|nbf| nbf - leeway > now)
        {
            return Err(BAD_TOKEN);
        }
        self.principal(claims)
    }
}

/// Whether a bearer token has a JWT's shape (three dot-separated parts); anything else is opaque.
pub fn is_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// All trusted issuers.
pub struct Verifier {
    issuers: Vec<Issuer>,
    http: reqwest::Client,
}

impl Verifier {
    /// A verifier over issuers. Key sets and introspection endpoints are reached with an HTTP
    /// client that follows no redirects and gives up after a few seconds.
    pub fn new(issuers: Vec<Issuer>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self { issuers, http })
    }

    /// Fetches every remote key set once (at start; failures are logged, and retried on use).
    pub async fn prefetch(&self) {
        for issuer in &self.issuers {
            if let Some(keys) = &issuer.keys {
                keys.refresh(&self.http).await;
            }
        }
    }

    /// Whether every issuer that verifies signatures holds keys (those that only introspect
    /// need none).
    pub fn keys_loaded(&self) -> bool {
        self.issuers
            .iter()
            .filter_map(|i| i.keys.as_ref())
            .all(|k| k.has_keys())
    }

    /// Verifies a bearer token.
    pub async fn verify(&self, token: &str) -> ApiResult<Principal> {
        if is_jwt(token) {
            self.verify_jwt(token).await
        } else {
            self.introspect(token).await
        }
    }

    async fn verify_jwt(&self, token: &str) -> ApiResult<Principal> {
        #[derive(Deserialize)]
        struct Unverified {
            iss: String,
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| BAD_TOKEN)?;
        // Only to choose the issuer whose keys decide; nothing else is read before verification.
        let iss = jsonwebtoken::dangerous::insecure_decode_claims::<Unverified>(token)
            .map_err(|_| BAD_TOKEN)?
            .iss;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.config.issuer == iss)
            .ok_or(BAD_TOKEN)?;
        if !issuer.config.algorithms.contains(&header.alg) {
            return Err(BAD_TOKEN);
        }
        let key = issuer
            .keys
            .as_ref()
            .ok_or(BAD_TOKEN)?
            .find(&self.http, header.kid.as_deref(), header.alg)
            .await
            .ok_or(BAD_TOKEN)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&issuer.config.issuer]);
        validation.set_audience(&issuer.config.audience);
        let mut required = vec!["exp", "iss", "aud", "sub"];
        if issuer.config.require_nbf {
            required.push("nbf");
        }
        validation.set_required_spec_claims(&required);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key.key(), &validation)
            .map_err(|_| BAD_TOKEN)?
            .claims;
        issuer.principal(&claims)
    }

    async fn introspect(&self, token: &str) -> ApiResult<Principal> {
        if token.is_empty() || token.len() > 4096 {
            return Err(BAD_TOKEN);
        }
        for issuer in &self.issuers {
            let Some(introspector) = issuer.introspector(&self.http).await else {
                continue;
            };
            if let Some(claims) = introspector.introspect(&self.http, token).await {
                return issuer.accept_introspected(&claims);
            }
        }
        Err(BAD_TOKEN)
    }
}
