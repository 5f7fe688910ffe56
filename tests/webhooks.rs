//! Webhooks delivered to a local receiver: signed, in order per case, retried after failures,
//! logged, replayable, and never lost across a restart; registration is for LA administrators and
//! refuses private addresses where they are not allowed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Caller, TestApp, complete_required, decide, open_case};

const SECRET: &str = "synthetic-webhook-secret-0123456789";

/// A receiver that records every request and fails the first `failures` with 500.
#[derive(Default)]
struct Receiver {
    failures: AtomicUsize,
    received: Mutex<Vec<(HeaderMap, Bytes, u16)>>,
}

impl Receiver {
    async fn start(failures: usize) -> (Arc<Receiver>, String) {
        let receiver = Arc::new(Receiver {
            failures: AtomicUsize::new(failures),
            ..Default::default()
        });
        let app = Router::new()
            .route(
                "/hook",
                post(
                    |State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes| async move {
                        let fail = r
                            .failures
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        let status = if fail { 500 } else { 200 };
                        r.received.lock().unwrap().push((headers, body, status));
                        StatusCode::from_u16(status).unwrap()
                    },
                ),
            )
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    /// The events accepted (2xx), in arrival order, each checked against its signature.
    fn accepted(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, status)| *status == 200)
            .map(|(headers, body, _)| {
                let ts = headers["reunify-timestamp"].to_str().unwrap();
                let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(format!("{ts}.").as_bytes());
                mac.update(body);
                let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
                assert_eq!(headers["reunify-signature"].to_str().unwrap(), expected);
                let event: Value = serde_json::from_slice(body).unwrap();
                assert_eq!(headers["reunify-event-id"].to_str().unwrap(), event["id"]);
                event
            })
            .collect()
    }

    /// Waits until `n` events have been accepted (10 s at most).
    async fn until(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let got = self.accepted();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} of {n} events delivered", self.accepted().len());
    }
}

async fn register(admin: &Caller, url: &str) -> Value {
    admin
        .must(
            "webhookRegister",
            "webhook { id url active eventTypes }",
            json!({ "url": url, "secret": SECRET }),
        )
        .await["webhook"]
        .clone()
}

/// Per case, the positions in the order they arrived.
fn per_case(events: &[Value]) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for e in events {
        let key = e["caseId"]
            .as_str()
            .or(e["childId"].as_str())
            .unwrap_or("")
            .to_owned();
        out.entry(key)
            .or_default()
            .push(e["id"].as_str().unwrap().parse().unwrap());
    }
    out
}

#[tokio::test]
async fn deliveries_are_signed_in_order_per_case_retried_logged_and_replayable() {
    let app = TestApp::spawn_with(|c| c.webhook_retry_base_ms = 50).await;
    let (receiver, url) = Receiver::start(2).await;
    let admin = app.caller("201", &["la_admin"]);
    // Only an LA administrator registers.
    let refused = app
        .worker()
        .gql(
            "mutation($i: WebhookRegisterInput!) { webhookRegister(input: $i) { webhook { id } } }",
            json!({ "i": { "url": url, "secret": SECRET } }),
        )
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let hook = register(&admin, &url).await;
    assert_eq!(hook["active"], true);

    let w = app.worker();
    let f = open_case(&w, "HOOK1", 30).await;
    let g = open_case(&w, "HOOK2", 30).await;
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    let total = app.scalar("SELECT COUNT(*) FROM case_event").await as usize;
    let got = receiver.until(total).await;
    assert_eq!(got.len(), total, "each event once");
    // Ordered within each case (and each child's own events); the two cases interleave freely.
    for (key, positions) in per_case(&got) {
        assert!(
            positions.windows(2).all(|p| p[0] < p[1]),
            "{key}: {positions:?}"
        );
    }
    assert!(got.iter().any(|e| e["caseId"] == g.case));
    assert_eq!(got[0]["localAuthority"], "201");
    // Two failures were retried.
    assert_eq!(receiver.received.lock().unwrap().len(), total + 2);

    // The delivery log shows every delivery, one of them after three attempts. The sender
    // records a delivery after the receiver has answered, so the last may lag its arrival.
    let delivered = |log: &Value| {
        log["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "DELIVERED" && d["lastStatus"] == 200)
    };
    let mut log = Value::Null;
    for _ in 0..100 {
        log = admin
            .ok(
                "query($id: ID!) { webhookDeliveries(webhookId: $id, first: 100) { totalCount nodes { id status attempts lastStatus eventPosition } } }",
                json!({ "id": hook["id"] }),
            )
            .await["webhookDeliveries"]
            .clone();
        if delivered(&log) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(log["totalCount"], total);
    assert!(delivered(&log), "{log:#}");
    let nodes = log["nodes"].as_array().unwrap();
    let attempts: i64 = nodes.iter().map(|d| d["attempts"].as_i64().unwrap()).sum();
    assert_eq!(attempts as usize, total + 2);

    // A delivery can be sent again; the receiver de-duplicates by its event id.
    let again = &nodes[0];
    admin
        .must(
            "webhookDeliveryReplay",
            "delivery { status }",
            json!({ "deliveryId": again["id"] }),
        )
        .await;
    let got = receiver.until(total + 1).await;
    assert_eq!(got.last().unwrap()["id"], again["eventPosition"]);

    // A disabled webhook gets nothing more.
    admin
        .must(
            "webhookDisable",
            "webhook { active }",
            json!({ "webhookId": hook["id"] }),
        )
        .await;
    decide(&w, &g.case, "D1", "DEFERRED", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.accepted().len(), total + 1);
}

#[tokio::test]
async fn queued_deliveries_survive_a_restart_of_the_sender() {
    // The test app commits events but sends nothing; instances started beside it send.
    let app = TestApp::spawn_with(|c| c.webhook_dispatch = false).await;
    let (receiver, url) = Receiver::start(usize::MAX).await;
    register(&app.caller("201", &["la_admin"]), &url).await;

    let mut config = app.config();
    config.webhook_retry_base_ms = 50;
    let first = api::server::build(config.clone()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(first.run_until(async {
        let _ = stopped.await;
    }));
    open_case(&app.worker(), "HOOK3", 30).await;
    let total = app.scalar("SELECT COUNT(*) FROM case_event").await as usize;
    // The receiver is down: attempts fail and stay queued.
    for _ in 0..100 {
        if receiver.received.lock().unwrap().len() >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(receiver.accepted().is_empty());
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let pending = app
        .scalar("SELECT COUNT(*) FROM webhook_delivery WHERE status = 'PENDING'")
        .await as usize;
    assert_eq!(pending, total);

    // The receiver recovers and a new instance starts: everything queued arrives.
    receiver.failures.store(0, Ordering::SeqCst);
    let second = api::server::build(config).await.unwrap();
    tokio::spawn(second.run());
    let got = receiver.until(total).await;
    assert_eq!(got.len(), total);
}

#[tokio::test]
async fn private_addresses_are_refused_where_not_allowed() {
    let app = TestApp::spawn_with(|c| c.webhook_allow_private = Some(false)).await;
    let admin = app.caller("201", &["la_admin"]);
    let too_long = format!("https://hooks.example.org/{}", "a".repeat(2100));
    for url in [
        "http://127.0.0.1:9/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "ftp://example.org/hook",
        "not a url",
        too_long.as_str(),
    ] {
        admin
            .refused(
                "webhookRegister",
                "webhook { id }",
                json!({ "url": url, "secret": SECRET }),
                "INVALID",
            )
            .await;
    }
    admin
        .refused(
            "webhookRegister",
            "webhook { id }",
            json!({ "url": "https://hooks.example.org/reunify", "secret": "short" }),
            "INVALID",
        )
        .await;
    // A name that resolves to a private address (this machine's own name, which its hosts file
    // points at itself) is refused at registration, as the literal address is.
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let resolved: Vec<std::net::IpAddr> = tokio::net::lookup_host((name.as_str(), 443))
        .await
        .unwrap()
        .map(|a| a.ip())
        .collect();
    assert!(
        resolved
            .iter()
            .any(|ip| ip.is_loopback() || matches!(ip, std::net::IpAddr::V4(v4) if v4.is_private())),
        "this test needs the machine's name to resolve to a private address: {name} → {resolved:?}"
    );
    let refused = admin
        .refused(
            "webhookRegister",
            "webhook { id }",
            json!({ "url": format!("https://{name}/hook"), "secret": SECRET }),
            "INVALID",
        )
        .await;
    assert!(
        refused.to_string().contains("resolves to a private"),
        "{refused:#}"
    );
    // A name that does not resolve is refused too, saying so.
    let refused = admin
        .refused(
            "webhookRegister",
            "webhook { id }",
            json!({ "url": "https://no-such-host.invalid/hook", "secret": SECRET }),
            "INVALID",
        )
        .await;
    assert!(
        refused.to_string().contains("does not resolve"),
        "{refused:#}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM webhook").await, 0);
}

/// A caller who is not an LA administrator is told what was refused: reading the deliveries, not
/// a change to the configuration.
#[tokio::test]
async fn a_social_worker_is_told_which_read_was_refused() {
    let app = TestApp::spawn().await;
    let worker = app.worker();
    let body = worker
        .gql(
            "query($id: ID!) { webhookDeliveries(webhookId: $id, first: 10) { totalCount } }",
            json!({ "id": "V2ViaG9vazox" }),
        )
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{body:#}");
    assert_eq!(
        error["message"],
        "only an LA administrator (role la_admin with scope admin) may read webhookDeliveries",
    );
    let body = worker
        .gql(
            "mutation($i: WebhookRegisterInput!) { webhookRegister(input: $i) { webhook { id } } }",
            json!({ "i": { "url": "https://hooks.example.org/x", "secret": SECRET } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "only an LA administrator (role la_admin with scope admin) may call webhookRegister",
        "{body:#}"
    );
}
