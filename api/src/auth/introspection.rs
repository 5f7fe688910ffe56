//! Opaque access tokens, checked at the issuer's token introspection endpoint (RFC 7662) with the
//! `oauth2` crate, Reunify authenticating as a confidential client. Active answers are cached by
//! the token's SHA-256 (never the token itself) for a short time, never past the token's `exp`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields,
    IntrospectionUrl, StandardRevocableToken, StandardTokenIntrospectionResponse,
    TokenIntrospectionResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The fields of an introspection answer beyond RFC 7662's (the LA claim, roles, …).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Extra {
    #[serde(flatten)]
    fields: Map<String, Value>,
}

impl ExtraTokenFields for Extra {}

type Answer = StandardTokenIntrospectionResponse<Extra, BasicTokenType>;

type Client = oauth2::Client<
    BasicErrorResponse,
    BasicTokenResponse,
    Answer,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
>;

/// A token's SHA-256: the cache key (the token itself is never kept).
type Digest = [u8; 32];

/// An active answer's claims and until when they may be reused.
type Cached = (Instant, Map<String, Value>);

/// Largest number of cached answers; the cache is emptied when it fills.
const CACHE_CAPACITY: usize = 10_000;

/// Introspects tokens at one endpoint.
pub struct Introspector {
    client: Client,
    cache_for: Duration,
    cache: Mutex<HashMap<Digest, Cached>>,
}

impl Introspector {
    /// An introspector for `url`, authenticating with the client id and secret.
    pub fn new(
        url: &str,
        client_id: &str,
        secret: Option<String>,
        cache_for: Duration,
    ) -> Result<Self, String> {
        let url = IntrospectionUrl::new(url.to_owned()).map_err(|e| e.to_string())?;
        let mut client =
            oauth2::Client::new(ClientId::new(client_id.to_owned())).set_introspection_url(url);
        if let Some(secret) = secret {
            client = client.set_client_secret(ClientSecret::new(secret));
        }
        Ok(Self {
            client,
            cache_for,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The claims of an active token (RFC 7662 fields and the issuer's extra ones, as in a JWT),
    /// or `None` when the endpoint says it is not active or cannot be asked.
    pub async fn introspect(
        &self,
        http: &reqwest::Client,
        token: &str,
    ) -> Option<Map<String, Value>> {
        let digest: Digest = Sha256::digest(token.as_bytes()).into();
        let now = Instant::now();
        if let Ok(cache) = self.cache.lock()
            && let Some((until, claims)) = cache.get(&digest)
            && *until > now
        {
            return Some(claims.clone());
        }
        let token = AccessToken::new(token.to_owned());
        let answer = match self
            .client
            .introspect(&token)
            .set_token_type_hint("access_token")
            .request_async(http)
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(error = %describe(&error), "token introspection failed");
                return None;
            }
        };
        if !answer.active() {
            return None;
        }
        let claims = claims_of(&answer);
        let expires_in = answer.exp().map(|exp| {
            (exp - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        });
        let keep = expires_in.map_or(self.cache_for, |e| e.min(self.cache_for));
        if !keep.is_zero()
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(digest, (now + keep, claims.clone()));
        }
        Some(claims)
    }
}

/// The answer as a claims map, the way a JWT would carry it.
fn claims_of(answer: &Answer) -> Map<String, Value> {
    let mut claims = answer.extra_fields().fields.clone();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(v) = value {
            claims.insert(name.to_owned(), v);
        }
    };
    put("sub", answer.sub().map(Value::from));
    put("username", answer.username().map(Value::from));
    put("iss", answer.iss().map(Value::from));
    put(
        "client_id",
        answer.client_id().map(|c| Value::from(c.as_str())),
    );
    put(
        "aud",
        answer.aud().map(|a| {
            Value::from(
                a.iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            )
        }),
    );
    put(
        "scope",
        answer
            .scopes()
            .map(|s| Value::from(s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))),
    );
    put("exp", answer.exp().map(|t| Value::from(t.timestamp())));
    put("nbf", answer.nbf().map(|t| Value::from(t.timestamp())));
    claims
}

fn describe<E: std::error::Error, T: oauth2::ErrorResponse>(
    error: &oauth2::RequestTokenError<E, T>,
) -> String {
    match error {
        oauth2::RequestTokenError::ServerResponse(r) => format!("the endpoint refused: {r}"),
        oauth2::RequestTokenError::Request(_) => "the endpoint could not be reached".to_owned(),
        oauth2::RequestTokenError::Parse(_, _) => {
            "the answer is not an introspection response".to_owned()
        }
        oauth2::RequestTokenError::Other(m) => m.clone(),
    }
}
