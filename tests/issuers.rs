//! Several trusted issuers, as an LA's platform team configures them: an LA identity provider found
//! by OpenID Connect discovery (ES256, LA fixed, its own role names, opaque tokens introspected) and
//! a machine-client authorisation server with a JWKS URL (RS256, client id → LA map, mutation
//! grants). Both are served by a local fake identity provider on 127.0.0.1:0 that counts requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::TestApp;

const ES256_KEY: &[u8] = include_bytes!("fixtures/idp-es256.test-key.pem");
const RS256_KEY: &[u8] = include_bytes!("fixtures/idp-rs256.test-key.pem");
const RS256_PUBLIC: &[u8] = include_bytes!("fixtures/idp-rs256.test-pub.pem");
const SECRET: &str = "synthetic-introspection-secret";

/// A fake identity provider: discovery, a JWKS that can be rotated, and RFC 7662 introspection.
#[derive(Default)]
struct Idp {
    base: Mutex<String>,
    jwks: Mutex<Value>,
    jwks_hits: AtomicU64,
    introspections: AtomicU64,
    active: Mutex<HashMap<String, Value>>,
    authorization: Mutex<Option<String>>,
}

impl Idp {
    async fn start(jwks: Value) -> Arc<Idp> {
        let idp = Arc::new(Idp {
            jwks: Mutex::new(jwks),
            ..Default::default()
        });
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(idp): State<Arc<Idp>>| async move {
                    let base = idp.base.lock().unwrap().clone();
                    Json(json!({
                        "issuer": base,
                        "jwks_uri": format!("{base}/jwks"),
                        "introspection_endpoint": format!("{base}/introspect"),
                    }))
                }),
            )
            .route(
                "/jwks",
                get(|State(idp): State<Arc<Idp>>| async move {
                    idp.jwks_hits.fetch_add(1, Ordering::SeqCst);
                    Json(idp.jwks.lock().unwrap().clone())
                }),
            )
            .route(
                "/introspect",
                post(
                    |State(idp): State<Arc<Idp>>,
                     headers: HeaderMap,
                     Form(form): Form<HashMap<String, String>>| async move {
                        idp.introspections.fetch_add(1, Ordering::SeqCst);
                        *idp.authorization.lock().unwrap() = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned);
                        let token = form.get("token").cloned().unwrap_or_default();
                        let answer = idp.active.lock().unwrap().get(&token).cloned();
                        Json(answer.unwrap_or_else(|| json!({ "active": false })))
                    },
                ),
            )
            .with_state(idp.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        *idp.base.lock().unwrap() = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        idp
    }

    fn base(&self) -> String {
        self.base.lock().unwrap().clone()
    }
}

fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, alg).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    serde_json::to_value(jwk).unwrap()
}

fn sign(key: &EncodingKey, alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

struct Setup {
    app: TestApp,
    la_idp: Arc<Idp>,
    clients: Arc<Idp>,
    es: EncodingKey,
    rs: EncodingKey,
    _dir: tempfile::TempDir,
}

impl Setup {
    /// Claims of the LA identity provider (LA 201 by configuration, roles by its own names).
    fn la_claims(&self, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        let mut c = json!({
            "iss": self.la_idp.base(), "aud": "reunify-api", "sub": "idp-user-1",
            "exp": now() + 600, "iat": now(), "groups": ["CSC Social Workers"],
            "scope": "cases:read cases:write",
        });
        change(c.as_object_mut().unwrap());
        c
    }

    /// Claims of a client-credentials token of the machine-client server.
    fn client_claims(&self, client: &str) -> Value {
        json!({
            "iss": self.clients.base(), "aud": ["reunify", "other-api"], "sub": client,
            "client_id": client, "exp": now() + 600, "nbf": now() - 5,
            "scope": "cases:read cases:write",
        })
    }
}

async fn setup(cooldown_seconds: u64) -> Setup {
    let es = EncodingKey::from_ec_pem(ES256_KEY).unwrap();
    let rs = EncodingKey::from_rsa_pem(RS256_KEY).unwrap();
    let la_idp = Idp::start(json!({ "keys": [jwk(&es, Algorithm::ES256, "la-1")] })).await;
    // An odd key in the set (a shared secret) is skipped, not fatal.
    let clients = Idp::start(json!({ "keys": [
        { "kty": "oct", "k": "c2VjcmV0", "kid": "odd" },
        jwk(&rs, Algorithm::RS256, "cl-1"),
    ] }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), format!("{SECRET}\n")).unwrap();
    let file = dir.path().join("issuers.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[[issuer]]
issuer = "{la}"
discovery_url = "{la}/.well-known/openid-configuration"
audience = ["reunify-api"]
algorithms = ["ES256"]
la = "201"
roles_claim = "groups"
role_map = {{ "CSC Social Workers" = "social_worker", "CSC Managers" = "team_manager" }}

[issuer.introspection]
client_id = "reunify"
client_secret_file = "secret"

[[issuer]]
issuer = "{cl}"
jwks_url = "{cl}/jwks"
algorithms = ["RS256"]

[issuer.clients.lcs-201]
la = "201"
mutations = ["childCreate"]
"#,
            la = la_idp.base(),
            cl = clients.base(),
        ),
    )
    .unwrap();
    let app = TestApp::spawn_with(|c| {
        c.issuers_file = Some(file.clone());
        c.jwks_cooldown_seconds = cooldown_seconds;
    })
    .await;
    Setup {
        app,
        la_idp,
        clients,
        es,
        rs,
        _dir: dir,
    }
}

const ME: &str = "{ me { localAuthority { dfeCode } roles } }";

async fn status(app: &TestApp, token: &str) -> (u16, Value) {
    let (status, _, body) = app.with_token(token).send(ME, json!({})).await;
    (status, body)
}

async fn refused(app: &TestApp, token: &str, why: &str) {
    let (status, body) = status(app, token).await;
    assert_eq!(status, 401, "{why}: {body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{why}"
    );
    assert!(body["data"].is_null(), "{why}: no data");
}

#[tokio::test]
async fn each_issuer_speaks_only_for_its_la_with_its_keys_algorithms_and_audience() {
    let s = setup(60).await;
    let app = &s.app;

    // The LA's identity provider: LA from configuration, roles through its role map.
    let token = sign(&s.es, Algorithm::ES256, "la-1", &s.la_claims(|_| {}));
    let (code, body) = status(app, &token).await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["data"]["me"]["localAuthority"]["dfeCode"], "201");
    assert_eq!(body["data"]["me"]["roles"], json!(["SOCIAL_WORKER"]));
    // A claim naming another LA does not move the tenant: the configuration decides.
    let token = sign(
        &s.es,
        Algorithm::ES256,
        "la-1",
        &s.la_claims(|c| {
            c.insert("la".into(), json!("202"));
        }),
    );
    assert_eq!(
        status(app, &token).await.1["data"]["me"]["localAuthority"]["dfeCode"],
        "201"
    );

    // A mapped machine client: LA 201, vendor system, only the granted mutation.
    let vendor = app.with_token(&sign(
        &s.rs,
        Algorithm::RS256,
        "cl-1",
        &s.client_claims("lcs-201"),
    ));
    let me = vendor.ok(ME, json!({})).await;
    assert_eq!(me["me"]["localAuthority"]["dfeCode"], "201");
    assert_eq!(me["me"]["roles"], json!(["VENDOR_SYSTEM"]));
    let child = vendor
        .must(
            "childCreate",
            "child { id }",
            json!({ "laChildId": "ISS001", "dateOfBirth": "2016-05-01", "sex": "F", "ethnicity": "WBRI" }),
        )
        .await;
    assert!(child["child"]["id"].is_string());
    let refused_write = vendor
        .gql(
            "mutation($input: EpisodeOpenInput!) { episodeOpen(input: $input) { episode { id } } }",
            json!({ "input": { "childId": child["child"]["id"], "startedOn": "2026-01-05",
                    "legalStatus": "C2", "categoryOfNeed": "N1", "placementType": "U6" } }),
        )
        .await;
    s.app
        .assert_refusal_audited(&refused_write, "episodeOpen")
        .await;
    let episodes = s.app.scalar("SELECT COUNT(*) FROM care_episode").await;
    assert_eq!(episodes, 0, "the refused mutation wrote nothing");

    // Everything else is refused.
    let cases: [(&str, String); 9] = [
        (
            "a client the map does not know",
            sign(&s.rs, Algorithm::RS256, "cl-1", &s.client_claims("lcs-999")),
        ),
        (
            "issuer A's claims signed with issuer B's key",
            sign(&s.rs, Algorithm::RS256, "cl-1", &s.la_claims(|_| {})),
        ),
        (
            "an algorithm the issuer does not allow (RS256 at an ES256 issuer)",
            sign(&s.rs, Algorithm::RS256, "la-1", &s.la_claims(|_| {})),
        ),
        (
            "HS256 signed with the issuer's RSA public key",
            sign(
                &EncodingKey::from_secret(RS256_PUBLIC),
                Algorithm::HS256,
                "cl-1",
                &s.client_claims("lcs-201"),
            ),
        ),
        (
            "the wrong audience",
            sign(
                &s.es,
                Algorithm::ES256,
                "la-1",
                &s.la_claims(|c| {
                    c.insert("aud".into(), json!("reunify"));
                }),
            ),
        ),
        (
            "expired beyond the leeway",
            sign(
                &s.es,
                Algorithm::ES256,
                "la-1",
                &s.la_claims(|c| {
                    c.insert("exp".into(), json!(now() - 120));
                }),
            ),
        ),
        (
            "not yet valid",
            sign(
                &s.es,
                Algorithm::ES256,
                "la-1",
                &s.la_claims(|c| {
                    c.insert("nbf".into(), json!(now() + 600));
                }),
            ),
        ),
        (
            "no expiry",
            sign(
                &s.es,
                Algorithm::ES256,
                "la-1",
                &s.la_claims(|c| {
                    c.remove("exp");
                }),
            ),
        ),
        (
            "an issuer nobody configured",
            sign(
                &s.es,
                Algorithm::ES256,
                "la-1",
                &s.la_claims(|c| {
                    c.insert("iss".into(), json!("https://idp.invalid"));
                }),
            ),
        ),
    ];
    for (why, token) in cases {
        refused(app, &token, why).await;
    }
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_key_set_again_at_most_once_per_cooldown() {
    let s = setup(1).await;
    let app = &s.app;
    // Both key sets were fetched once at start.
    assert_eq!(s.clients.jwks_hits.load(Ordering::SeqCst), 1);
    assert_eq!(s.la_idp.jwks_hits.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The server rotates: a new key id appears; a token with it is accepted after one fetch.
    s.clients.jwks.lock().unwrap()["keys"]
        .as_array_mut()
        .unwrap()
        .push(jwk(&s.rs, Algorithm::RS256, "cl-2"));
    let rotated = sign(&s.rs, Algorithm::RS256, "cl-2", &s.client_claims("lcs-201"));
    assert_eq!(status(app, &rotated).await.0, 200);
    assert_eq!(s.clients.jwks_hits.load(Ordering::SeqCst), 2);

    // A burst of unknown key ids within the cool-down fetches nothing more.
    let ghost = sign(
        &s.rs,
        Algorithm::RS256,
        "ghost",
        &s.client_claims("lcs-201"),
    );
    for _ in 0..5 {
        refused(app, &ghost, "an unknown kid").await;
    }
    assert_eq!(s.clients.jwks_hits.load(Ordering::SeqCst), 2);
    // Known keys keep working without fetching.
    assert_eq!(status(app, &rotated).await.0, 200);
    assert_eq!(s.clients.jwks_hits.load(Ordering::SeqCst), 2);

    // After the cool-down, one more fetch.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    refused(app, &ghost, "an unknown kid").await;
    refused(app, &ghost, "an unknown kid").await;
    assert_eq!(s.clients.jwks_hits.load(Ordering::SeqCst), 3);
    // The other issuer was never asked again.
    assert_eq!(s.la_idp.jwks_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn opaque_tokens_are_checked_by_introspection_and_active_answers_cached() {
    let s = setup(60).await;
    let app = &s.app;
    let iss = s.la_idp.base();
    {
        let mut active = s.la_idp.active.lock().unwrap();
        active.insert(
            "opaque-manager".into(),
            json!({
                "active": true, "iss": iss, "aud": "reunify-api", "sub": "idp-user-2",
                "exp": now() + 300, "scope": "cases:read cases:write aggregates:read",
                "groups": ["CSC Managers"], "token_type": "Bearer",
            }),
        );
        active.insert(
            "opaque-foreign".into(),
            json!({ "active": true, "iss": "https://other.invalid", "sub": "x",
                    "exp": now() + 300, "groups": ["CSC Managers"] }),
        );
        active.insert(
            "opaque-expired".into(),
            json!({ "active": true, "iss": iss, "sub": "x", "exp": now() - 300,
                    "groups": ["CSC Managers"] }),
        );
    }
    let (code, body) = status(app, "opaque-manager").await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["data"]["me"]["localAuthority"]["dfeCode"], "201");
    assert_eq!(body["data"]["me"]["roles"], json!(["TEAM_MANAGER"]));
    // Reunify authenticated itself to the endpoint as a confidential client.
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("reunify:{SECRET}"))
    );
    assert_eq!(
        s.la_idp.authorization.lock().unwrap().as_deref(),
        Some(basic.as_str())
    );
    // The active answer is reused.
    assert_eq!(status(app, "opaque-manager").await.0, 200);
    assert_eq!(s.la_idp.introspections.load(Ordering::SeqCst), 1);

    refused(app, "opaque-unknown", "an inactive token").await;
    refused(
        app,
        "opaque-foreign",
        "an active answer naming another issuer",
    )
    .await;
    refused(app, "opaque-expired", "an active answer past its exp").await;
    // Inactive answers are not cached: a token the server later activates works.
    s.la_idp.active.lock().unwrap().insert(
        "opaque-unknown".into(),
        json!({ "active": true, "iss": iss, "sub": "idp-user-3", "exp": now() + 300,
                "scope": "cases:read", "groups": ["CSC Social Workers"] }),
    );
    assert_eq!(status(app, "opaque-unknown").await.0, 200);
}

#[tokio::test]
async fn a_bad_issuers_file_stops_the_server_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "issuer = \"https://a.example\"\njwks_url = \"https://a.example/jwks\"\nla = \"201\"\nalgorithms = [\"HS256\"]",
            "shared-secret",
        ),
        (
            "issuer = \"https://a.example\"\njwks_url = \"https://a.example/jwks\"",
            "every token must map to one LA",
        ),
        (
            "issuer = \"https://a.example\"\njwks_url = \"https://a.example/jwks\"\nla = \"201\"\nla_claim = \"la\"",
            "not both",
        ),
        (
            "issuer = \"https://a.example\"\nla = \"201\"",
            "discovery_url, jwks_url or jwks_file",
        ),
        (
            "issuer = \"https://a.example\"\njwks_url = \"https://a.example/jwks\"\nla = \"201\"\nrole_map = { admins = \"root\" }",
            "unknown role",
        ),
        (
            "issuer = \"https://a.example\"\njwks_url = \"https://a.example/jwks\"\nla = \"201\"\nalgorithm = [\"RS256\"]",
            "unknown field",
        ),
    ];
    for (n, (body, expected)) in cases.into_iter().enumerate() {
        let file = dir.path().join(format!("issuers-{n}.toml"));
        std::fs::write(&file, format!("[[issuer]]\n{body}\n")).unwrap();
        let mut config = api::config::Config::for_database(&format!(
            "sqlite://{}?mode=rwc",
            dir.path().join(format!("db-{n}.db")).display()
        ));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.issuers_file = Some(file);
        let error = match api::server::build(config).await {
            Ok(_) => panic!("issuers file {n} was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            error.contains("REUNIFY_ISSUERS_FILE") && error.contains(expected),
            "{n}: {error}"
        );
    }
}
