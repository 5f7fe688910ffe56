//! An issuer's public keys: read from a file once, or fetched from its JWKS (directly or through
//! OpenID Connect discovery), cached, and re-fetched when a token names a key the cache lacks (at
//! most once per cool-down) or when the cache is older than its maximum age.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;

/// A public key that verifies tokens of one algorithm family.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    key: DecodingKey,
    /// The JWK's own `alg`, when it names one.
    alg: Option<Algorithm>,
    curve: Option<EllipticCurve>,
}

impl VerifyingKey {
    /// A key from a JWK; `None` for what never verifies a token here: shared secrets (`oct`),
    /// encryption keys, and key types this service does not know.
    pub fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
            return None;
        }
        let curve = match &jwk.algorithm {
            AlgorithmParameters::EllipticCurve(p) => Some(p.curve.clone()),
            AlgorithmParameters::RSA(_) | AlgorithmParameters::OctetKeyPair(_) => None,
            _ => return None,
        };
        let alg = match jwk.common.key_algorithm {
            // `KeyAlgorithm` also names encryption algorithms; only signature ones parse.
            Some(a) => Some(
                serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().and_then(|s| s.parse::<Algorithm>().ok()))?,
            ),
            None => None,
        };
        let key = DecodingKey::from_jwk(jwk).ok()?;
        if key.family() == AlgorithmFamily::Hmac {
            return None;
        }
        Some(Self {
            kid: jwk.common.key_id.clone(),
            key,
            alg,
            curve,
        })
    }

    /// An Ed25519 key (the development key).
    pub fn ed25519(kid: String, x: &str) -> Option<Self> {
        Some(Self {
            kid: Some(kid),
            key: DecodingKey::from_ed_components(x).ok()?,
            alg: Some(Algorithm::EdDSA),
            curve: None,
        })
    }

    /// The decoding key.
    pub fn key(&self) -> &DecodingKey {
        &self.key
    }

    /// Whether this key may verify a token signed with `alg`: same family, the JWK's own `alg`
    /// (when set) equal, and for ECDSA the matching curve.
    fn accepts(&self, alg: Algorithm) -> bool {
        let curve_ok = match alg {
            Algorithm::ES256 => self.curve == Some(EllipticCurve::P256),
            Algorithm::ES384 => self.curve == Some(EllipticCurve::P384),
            _ => true,
        };
        self.key.family() == alg.family() && self.alg.is_none_or(|a| a == alg) && curve_ok
    }
}

/// Parses a JSON Web Key Set, keeping the keys that can verify tokens (one odd key does not spoil
/// the set).
pub fn parse_set(json: &[u8]) -> Result<Vec<VerifyingKey>, String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet =
        serde_json::from_slice(json).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
    let keys: Vec<VerifyingKey> = set
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .filter_map(|jwk| VerifyingKey::from_jwk(&jwk))
        .collect();
    if keys.is_empty() {
        return Err("the key set holds no usable public signing key".to_owned());
    }
    Ok(keys)
}

/// What an OpenID Connect discovery document tells us.
#[derive(Debug, Deserialize)]
pub struct Discovery {
    issuer: String,
    jwks_uri: Option<String>,
    /// RFC 8414 `introspection_endpoint`.
    pub introspection_endpoint: Option<String>,
}

/// Fetches a discovery document and checks that it speaks for `issuer` (OIDC Discovery §4.3).
pub async fn discover(
    http: &reqwest::Client,
    url: &str,
    issuer: &str,
) -> Result<Discovery, String> {
    let doc: Discovery = fetch(http, url).await.and_then(|b| {
        serde_json::from_slice(&b).map_err(|e| format!("not a discovery document: {e}"))
    })?;
    if doc.issuer != issuer {
        return Err("the discovery document names another issuer".to_owned());
    }
    Ok(doc)
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {}", without_url(&e)))?;
    let response = response
        .error_for_status()
        .map_err(|e| format!("answered {}", e.status().map_or(0, |s| s.as_u16())))?;
    response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| format!("reading the answer failed: {}", without_url(&e)))
}

fn without_url(e: &reqwest::Error) -> String {
    let mut kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "error"
    }
    .to_owned();
    if let Some(s) = e.status() {
        kind.push_str(&format!(" ({s})"));
    }
    kind
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Fixed keys (a file, or the development key).
    Fixed,
    /// A JWKS URL.
    Url(String),
    /// An OpenID Connect discovery document naming the JWKS URL; the issuer it must name.
    Discovery {
        /// The discovery document.
        url: String,
        /// The issuer it must speak for.
        issuer: String,
    },
}

/// Timing of key fetches.
#[derive(Debug, Clone, Copy)]
pub struct FetchPolicy {
    /// Least time between two fetches of one issuer's keys.
    pub cooldown: Duration,
    /// Keys older than this are fetched again on the next token.
    pub max_age: Duration,
}

/// One issuer's keys, cached.
pub struct KeyCache {
    source: KeySource,
    policy: FetchPolicy,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    /// When the keys were last fetched (or a fetch last tried); one fetch at a time.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyCache {
    /// A cache over fixed keys.
    pub fn fixed(keys: Vec<VerifyingKey>) -> Self {
        Self::new(
            KeySource::Fixed,
            keys,
            FetchPolicy {
                cooldown: Duration::MAX,
                max_age: Duration::MAX,
            },
        )
    }

    /// A cache that fetches its keys from `source`.
    pub fn remote(source: KeySource, policy: FetchPolicy) -> Self {
        Self::new(source, Vec::new(), policy)
    }

    fn new(source: KeySource, keys: Vec<VerifyingKey>, policy: FetchPolicy) -> Self {
        Self {
            source,
            policy,
            keys: RwLock::new(Arc::new(keys)),
            fetched: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether the cache holds at least one key.
    pub fn has_keys(&self) -> bool {
        self.keys.read().is_ok_and(|k| !k.is_empty())
    }

    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Option<VerifyingKey> {
        let keys = self.keys.read().ok()?.clone();
        let mut matching = keys.iter().filter(|k| k.accepts(alg));
        match kid {
            Some(kid) => matching.find(|k| k.kid.as_deref() == Some(kid)).cloned(),
            // A token without `kid` is accepted only when exactly one key could have signed it.
            None => {
                let first = matching.next()?;
                matching.next().is_none().then(|| first.clone())
            }
        }
    }

    /// The key for a token's `kid` and `alg`, fetching the key set again when it lacks the key
    /// (or has grown old) and the cool-down allows.
    pub async fn find(
        &self,
        http: &reqwest::Client,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Option<VerifyingKey> {
        if matches!(self.source, KeySource::Fixed) {
            return self.lookup(kid, alg);
        }
        let found = self.lookup(kid, alg);
        {
            let fetched = self.fetched.lock().await;
            let stale = fetched.is_none_or(|t| t.elapsed() >= self.policy.max_age);
            if found.is_some() && !stale {
                return found;
            }
        }
        self.refresh(http).await;
        self.lookup(kid, alg)
    }

    /// Fetches the key set unless another fetch happened within the cool-down. A failed fetch
    /// keeps the keys already held.
    pub async fn refresh(&self, http: &reqwest::Client) {
        let mut fetched = self.fetched.lock().await;
        if fetched.is_some_and(|t| t.elapsed() < self.policy.cooldown) {
            return;
        }
        *fetched = Some(Instant::now());
        let result = match &self.source {
            KeySource::Fixed => return,
            KeySource::Url(url) => fetch(http, url).await,
            KeySource::Discovery { url, issuer } => match discover(http, url, issuer).await {
                Ok(Discovery {
                    jwks_uri: Some(jwks),
                    ..
                }) => fetch(http, &jwks).await,
                Ok(_) => Err("the discovery document has no jwks_uri".to_owned()),
                Err(e) => Err(e),
            },
        };
        match result.and_then(|body| parse_set(&body)) {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "token signing keys fetched");
                if let Ok(mut held) = self.keys.write() {
                    *held = Arc::new(keys);
                }
            }
            Err(error) => tracing::warn!(%error, "fetching token signing keys failed"),
        }
    }
}
