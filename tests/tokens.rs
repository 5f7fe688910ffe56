//! Bad bearer tokens: each is refused with `UNAUTHENTICATED` (HTTP 401) and no data.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::TestApp;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for a social worker of LA 201; each bad token changes one thing.
fn claims() -> Value {
    json!({
        "sub": "battery", "iss": "reunify-development", "aud": "reunify",
        "exp": now() + 600, "nbf": now() - 10, "iat": now() - 10,
        "la": "201", "roles": ["social_worker"], "scope": "cases:read cases:write",
    })
}

fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut c = claims();
    change(c.as_object_mut().unwrap());
    c
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

#[tokio::test]
async fn every_bad_token_is_unauthenticated_and_sees_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key();
    let good = key.sign(&claims()).unwrap();
    // The valid token works, so each refusal below is down to what was changed.
    let ok = app
        .with_token(&good)
        .gql("{ cases { totalCount } }", json!({}))
        .await;
    assert_eq!(ok["data"]["cases"]["totalCount"], 0, "{ok:#}");

    let public = key.public_key();
    let hs_with_public_key = |secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret)).unwrap()
    };
    let other_key = {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let der = signing.to_pkcs8_der().unwrap();
        EncodingKey::from_ed_der(der.as_bytes())
    };
    let signed_by_other = |kid: &str| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims(), &other_key).unwrap()
    };
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let forged = with(|c| {
            c.insert("la".into(), json!("202"));
        });
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(forged.to_string()),
            parts[2]
        )
    };
    let none_header = json!({ "alg": "none", "typ": "JWT", "kid": key.kid() });

    let battery: Vec<(&str, String)> = vec![
        (
            "expired",
            key.sign(&with(|c| {
                c.insert("exp".into(), json!(now() - 120));
            }))
            .unwrap(),
        ),
        (
            "not yet valid",
            key.sign(&with(|c| {
                c.insert("nbf".into(), json!(now() + 600));
            }))
            .unwrap(),
        ),
        (
            "wrong issuer",
            key.sign(&with(|c| {
                c.insert("iss".into(), json!("https://evil.example"));
            }))
            .unwrap(),
        ),
        (
            "wrong audience",
            key.sign(&with(|c| {
                c.insert("aud".into(), json!("someone-else"));
            }))
            .unwrap(),
        ),
        (
            "no expiry",
            key.sign(&with(|c| {
                c.remove("exp");
            }))
            .unwrap(),
        ),
        (
            "no audience",
            key.sign(&with(|c| {
                c.remove("aud");
            }))
            .unwrap(),
        ),
        (
            "no issuer",
            key.sign(&with(|c| {
                c.remove("iss");
            }))
            .unwrap(),
        ),
        (
            "string exp",
            key.sign(&with(|c| {
                c.insert("exp".into(), json!((now() + 600).to_string()));
            }))
            .unwrap(),
        ),
        ("alg none", unsigned(&none_header, &claims(), "")),
        (
            "alg none with a signature",
            unsigned(&none_header, &claims(), good.split('.').nth(2).unwrap()),
        ),
        (
            "HS256 signed with the raw public key",
            hs_with_public_key(&public),
        ),
        (
            "HS256 signed with the base64 public key",
            hs_with_public_key(B64.encode(public).as_bytes()),
        ),
        ("unknown kid", signed_by_other("not-a-known-key")),
        ("right kid, wrong key", signed_by_other(key.kid())),
        ("tampered payload", tampered),
        (
            "unknown LA",
            key.sign(&with(|c| {
                c.insert("la".into(), json!("998"));
            }))
            .unwrap(),
        ),
        ("not a JWT", "opaque-token-without-introspection".to_owned()),
        ("empty", String::new()),
    ];
    for (what, token) in battery {
        let resp = app
            .http()
            .post(format!("{}/graphql", app.base))
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({ "query": "{ cases { totalCount nodes { id } } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{what}");
        assert!(
            resp.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{what}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}: {body:#}"
        );
        assert!(body.get("data").is_none(), "{what}: {body:#}");
    }
}
