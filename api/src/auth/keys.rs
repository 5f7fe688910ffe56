//! Signing and verification keys: the development key kept in the database, and production JWKS.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use super::{Claims, DEV_ISSUER};
use crate::error::{ApiError, ApiResult};

/// Leeway for clock skew when checking `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 30;

/// A key that verifies tokens.
struct VerifyingKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithm: Algorithm,
}

/// The keys that verify bearer tokens, with the expected issuer and audience.
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
}

impl KeySet {
    /// A key set from a JSON Web Key Set document.
    pub fn from_jwks(jwks_json: &str, issuer: String, audience: String) -> Result<Self, String> {
        let set: JwkSet =
            serde_json::from_str(jwks_json).map_err(|e| format!("not a JSON Web Key Set: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(p) => match p.curve {
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => Algorithm::ES256,
                },
                AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
                // Shared secrets (and anything unknown) are never accepted from a key set.
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable key: {e}"))?;
            keys.push(VerifyingKey {
                kid: jwk.common.key_id.clone(),
                key,
                algorithm,
            });
        }
        if keys.is_empty() {
            return Err("the key set holds no usable public key".to_owned());
        }
        Ok(Self {
            keys,
            issuer,
            audience,
        })
    }

    /// Verifies a token's signature and claims.
    pub fn verify(&self, token: &str) -> ApiResult<Claims> {
        const BAD: ApiError = ApiError::Unauthenticated("invalid or expired bearer token");
        let header = jsonwebtoken::decode_header(token).map_err(|_| BAD)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.algorithm == header.alg && (header.kid.is_none() || k.kid == header.kid))
            .ok_or(BAD)?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|_| BAD)
    }
}

/// The development signing key, kept in the database so `serve` and `token` share it.
pub struct DevKey {
    kid: String,
    signing: SigningKey,
}

impl DevKey {
    /// Loads the development key, creating it on first use.
    pub async fn load_or_create(db: &DatabaseConnection) -> ApiResult<Self> {
        use entities::development_key;
        if let Some(row) = development_key::Entity::find().one(db).await? {
            let bytes = STANDARD
                .decode(row.secret.as_bytes())
                .map_err(|_| ApiError::internal("development key is not base64"))?;
            let seed: [u8; 32] = bytes
                .try_into()
                .map_err(|_| ApiError::internal("development key has the wrong length"))?;
            return Ok(Self {
                kid: row.kid,
                signing: SigningKey::from_bytes(&seed),
            });
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
        let mut kid_bytes = [0u8; 8];
        getrandom::fill(&mut kid_bytes)
            .map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
        let kid = format!("dev-{}", URL_SAFE_NO_PAD.encode(kid_bytes));
        development_key::ActiveModel {
            kid: Set(kid.clone()),
            secret: Set(STANDARD.encode(seed)),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(Self {
            kid,
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// The key id (`kid`) of the development key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The key set that verifies this key's tokens.
    pub fn key_set(&self, audience: String) -> ApiResult<KeySet> {
        let x = URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_bytes());
        let key = DecodingKey::from_ed_components(&x)
            .map_err(|e| ApiError::internal(format!("development key: {e}")))?;
        Ok(KeySet {
            keys: vec![VerifyingKey {
                kid: Some(self.kid.clone()),
                key,
                algorithm: Algorithm::EdDSA,
            }],
            issuer: DEV_ISSUER.to_owned(),
            audience,
        })
    }

    /// Signs a token for the given LA, subject and roles.
    pub fn mint(
        &self,
        audience: &str,
        la: &str,
        subject: &str,
        roles: &[String],
        scopes: &[String],
        ttl_minutes: i64,
    ) -> ApiResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: DEV_ISSUER.to_owned(),
            aud: audience.to_owned(),
            exp: now + ttl_minutes * 60,
            nbf: now,
            iat: now,
            la: la.to_owned(),
            roles: roles.to_vec(),
            scope: scopes.join(" "),
            client_id: None,
            azp: None,
        };
        self.sign(&claims)
    }

    /// Signs any set of claims with the development key (tests use it to forge bad tokens).
    pub fn sign(&self, claims: &impl serde::Serialize) -> ApiResult<String> {
        let der = self
            .signing
            .to_pkcs8_der()
            .map_err(|e| ApiError::internal(format!("development key: {e}")))?;
        let key = EncodingKey::from_ed_der(der.as_bytes());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &key)
            .map_err(|e| ApiError::internal(format!("signing token: {e}")))
    }
}
