//! The development signing key, kept in the database so `serve` and `token` share it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder as _, Set};

use super::jwks::VerifyingKey;
use super::{Claims, DEV_ISSUER};
use crate::error::{ApiError, ApiResult};

/// The development signing key, kept in the database so `serve` and `token` share it.
pub struct DevKey {
    kid: String,
    signing: SigningKey,
}

impl DevKey {
    /// Loads the development key, creating it on first use. Callers that may race (instances
    /// starting together, `reunify token`) hold the start-up lock; should a database hold more
    /// than one key all the same, every instance takes the oldest.
    pub async fn load_or_create(db: &DatabaseConnection) -> ApiResult<Self> {
        use entities::development_key;
        let oldest = development_key::Entity::find()
            .order_by_asc(development_key::Column::Id)
            .one(db)
            .await?;
        if let Some(row) = oldest {
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

    /// The key that verifies this key's tokens.
    pub fn verifying_key(&self) -> ApiResult<VerifyingKey> {
        let x = URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_bytes());
        VerifyingKey::ed25519(self.kid.clone(), &x)
            .ok_or_else(|| ApiError::internal("development key is not a valid Ed25519 key"))
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
