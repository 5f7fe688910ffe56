//! Live updates through a real WebSocket client speaking `graphql-transport-ws`: events arrive as
//! they commit, a resumed subscription misses nothing and repeats nothing, another LA hears
//! nothing, the protocol's rules hold, and (on PostgreSQL) a second instance delivers events the
//! first one committed.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::support::{TestApp, complete_required, decide, open_case};

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client.
pub(crate) struct Ws(Stream);

/// What a wait for the next message found.
#[derive(Debug)]
enum Got {
    Message(Value),
    Closed(u16),
    Nothing,
}

impl Ws {
    async fn connect(base: &str) -> Ws {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Ws(stream)
    }

    /// Connects and completes the handshake with a bearer token.
    pub(crate) async fn init(base: &str, token: &str) -> Ws {
        let mut ws = Ws::connect(base).await;
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(ws.next().await["type"], "connection_ack");
        ws
    }

    async fn send(&mut self, message: Value) {
        self.0
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    pub(crate) async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    async fn wait(&mut self, within: Duration) -> Got {
        loop {
            match tokio::time::timeout(within, self.0.next()).await {
                Err(_) => return Got::Nothing,
                Ok(None) | Ok(Some(Err(_))) => return Got::Closed(0),
                Ok(Some(Ok(Message::Text(t)))) => {
                    return Got::Message(serde_json::from_str(t.as_str()).unwrap());
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Got::Closed(frame.map_or(0, |f| f.code.into()));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next protocol message (within 5 s).
    pub(crate) async fn next(&mut self) -> Value {
        match self.wait(Duration::from_secs(5)).await {
            Got::Message(v) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The close code the server ends with (within 5 s).
    pub(crate) async fn closed(&mut self) -> u16 {
        match self.wait(Duration::from_secs(5)).await {
            Got::Closed(code) => code,
            other => panic!("expected a close, got {other:?}"),
        }
    }

    /// The next `n` events of subscription `id`.
    async fn events(&mut self, id: &str, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        while out.len() < n {
            let m = self.next().await;
            assert_eq!(m["type"], "next", "{m}");
            assert_eq!(m["id"], id);
            out.push(m["payload"]["data"]["caseEvents"].clone());
        }
        out
    }

    /// Nothing arrives for a while.
    async fn quiet(&mut self, for_: Duration) {
        match self.wait(for_).await {
            Got::Nothing => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }
}

const EVENTS: &str =
    "subscription($after: ID) { caseEvents(after: $after) { position type caseId } }";

async fn positions_after(app: &TestApp, after: i64) -> Vec<i64> {
    use sea_orm::{ConnectionTrait as _, Statement};
    app.db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("SELECT id FROM case_event WHERE id > {after} ORDER BY id"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .collect()
}

fn position(e: &Value) -> i64 {
    e["position"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn events_arrive_live_and_a_resumed_subscription_misses_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let mut ws = Ws::init(&app.base, &w.token).await;
    ws.subscribe("1", EVENTS, json!({})).await;
    // Let the subscription take its starting position before anything happens.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let f = open_case(&w, "LIVE1", 30).await;
    let first = ws.events("1", 4).await;
    let types: Vec<&str> = first.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "CHILD_CREATED",
            "EPISODE_OPENED",
            "CASE_OPENED",
            "STAGE_ENTERED"
        ]
    );
    assert_eq!(first[2]["caseId"], f.case);
    let last_seen = position(&first[3]);
    drop(ws);

    // While nobody listens, more happens.
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    let missed = positions_after(&app, last_seen).await;
    assert!(missed.len() >= 4, "{missed:?}");

    // Resuming from the last position replays exactly what was missed, in order, then goes live.
    let mut ws = Ws::init(&app.base, &w.token).await;
    ws.subscribe("r", EVENTS, json!({ "after": last_seen.to_string() }))
        .await;
    let replayed: Vec<i64> = ws
        .events("r", missed.len())
        .await
        .iter()
        .map(position)
        .collect();
    assert_eq!(replayed, missed);
    app.caller("201", &["social_worker"])
        .must(
            "caseAssign",
            "case { id }",
            json!({ "caseId": f.case, "team": "East" }),
        )
        .await;
    let live = ws.events("r", 1).await;
    assert_eq!(live[0]["type"], "CASE_CHANGED");
    assert!(position(&live[0]) > *missed.last().unwrap());
    ws.quiet(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn another_la_hears_nothing_and_cannot_follow_a_case() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let other = app.caller("202", &["social_worker"]);
    let mut mine = Ws::init(&app.base, &w.token).await;
    let mut theirs = Ws::init(&app.base, &other.token).await;
    mine.subscribe("1", EVENTS, json!({})).await;
    theirs.subscribe("1", EVENTS, json!({ "after": "0" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let f = open_case(&w, "LIVE2", 30).await;
    mine.events("1", 4).await;
    theirs.quiet(Duration::from_millis(800)).await;

    // Following another LA's case ends with NOT_FOUND, as a query would find nothing.
    theirs
        .subscribe(
            "2",
            "subscription($id: ID!) { caseUpdated(id: $id) { id } }",
            json!({ "id": f.case }),
        )
        .await;
    let m = theirs.next().await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["id"], "2");
    assert_eq!(m["payload"][0]["extensions"]["code"], "NOT_FOUND");
    // A data analyst may not follow child-level records at all.
    let mut analyst = Ws::init(&app.base, &app.caller("201", &["data_analyst"]).token).await;
    analyst.subscribe("1", EVENTS, json!({})).await;
    let m = analyst.next().await;
    assert_eq!(m["type"], "error");
    assert_eq!(m["payload"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn case_updated_sends_the_case_then_each_change() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "LIVE3", 30).await;
    let mut ws = Ws::init(&app.base, &w.token).await;
    ws.subscribe(
        "c",
        "subscription($id: ID!) { caseUpdated(id: $id) { id stage team version } }",
        json!({ "id": f.case }),
    )
    .await;
    let now = ws.next().await;
    assert_eq!(now["type"], "next", "{now}");
    assert_eq!(
        now["payload"]["data"]["caseUpdated"]["stage"],
        "IDENTIFICATION"
    );
    complete_required(&w, &f.case).await;
    decide(&w, &f.case, "D1", "YES", json!({})).await;
    // Each committed change sends the case as it then stands; the last shows the new stage.
    let mut stage = Value::Null;
    while stage != "ASSESSMENT" {
        let m = ws.next().await;
        assert_eq!(m["type"], "next", "{m}");
        stage = m["payload"]["data"]["caseUpdated"]["stage"].clone();
    }
    // Another case's changes send nothing.
    open_case(&w, "LIVE4", 30).await;
    ws.quiet(Duration::from_millis(500)).await;
    // complete from the client ends it.
    ws.send(json!({ "type": "complete", "id": "c" })).await;
    app.worker()
        .must(
            "caseAssign",
            "case { id }",
            json!({ "caseId": f.case, "team": "West" }),
        )
        .await;
    ws.quiet(Duration::from_millis(500)).await;
}

async fn subscribe_ok(ws: &mut Ws, id: &str) {
    ws.subscribe(id, EVENTS, json!({})).await;
}

#[tokio::test]
async fn the_protocol_rules_hold() {
    let app = TestApp::spawn_with(|c| {
        c.ws_init_timeout_ms = 300;
        c.max_subscriptions_per_socket = 2;
    })
    .await;
    let token = app.worker().token;

    // No connection_init in time: 4408.
    let mut ws = Ws::connect(&app.base).await;
    assert_eq!(ws.closed().await, 4408);
    // A bad token: 4403; none at all: 4403.
    let mut ws = Ws::connect(&app.base).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } }))
        .await;
    assert_eq!(ws.closed().await, 4403);
    let mut ws = Ws::connect(&app.base).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed().await, 4403);
    // Subscribing before the acknowledgement: 4401.
    let mut ws = Ws::connect(&app.base).await;
    subscribe_ok(&mut ws, "1").await;
    assert_eq!(ws.closed().await, 4401);
    // Not the protocol: 4400.
    let mut ws = Ws::connect(&app.base).await;
    ws.send(json!({ "type": "hello" })).await;
    assert_eq!(ws.closed().await, 4400);
    // A second connection_init: 4429.
    let mut ws = Ws::init(&app.base, &token).await;
    ws.send(json!({ "type": "connection_init", "payload": { "token": token } }))
        .await;
    assert_eq!(ws.closed().await, 4429);

    // ping → pong; an id in use: 4409.
    let mut ws = Ws::init(&app.base, &token).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.next().await["type"], "pong");
    subscribe_ok(&mut ws, "a").await;
    subscribe_ok(&mut ws, "a").await;
    assert_eq!(ws.closed().await, 4409);

    // Past the cap on subscriptions per socket: an error for that one, the others go on.
    let mut ws = Ws::init(&app.base, &token).await;
    subscribe_ok(&mut ws, "a").await;
    subscribe_ok(&mut ws, "b").await;
    subscribe_ok(&mut ws, "c").await;
    let m = ws.next().await;
    assert_eq!(
        (m["type"].as_str(), m["id"].as_str()),
        (Some("error"), Some("c"))
    );
    // A query over the socket answers once and completes; a mutation is refused.
    ws.send(json!({ "type": "complete", "id": "b" })).await;
    ws.subscribe("q", "{ me { roles } }", json!({})).await;
    let m = ws.next().await;
    assert_eq!(m["type"], "next");
    assert_eq!(
        m["payload"]["data"]["me"]["roles"],
        json!(["SOCIAL_WORKER"])
    );
    assert_eq!(ws.next().await, json!({ "type": "complete", "id": "q" }));
    ws.subscribe(
        "m",
        "mutation { caseAssign(input: { caseId: \"x\" }) { case { id } } }",
        json!({}),
    )
    .await;
    let m = ws.next().await;
    assert_eq!(m["type"], "error");
    assert_eq!(m["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let app = TestApp::spawn().await;
    let server = api::server::build(app.config()).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let mut ws = Ws::init(&base, &app.worker().token).await;
    subscribe_ok(&mut ws, "1").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    assert_eq!(ws.closed().await, 1001);
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_second_instance_delivers_events_the_first_committed() {
    let app = TestApp::spawn().await;
    if !app.postgres {
        eprintln!("fan-out across instances needs PostgreSQL (LISTEN/NOTIFY): skipped on SQLite");
        return;
    }
    let second = api::server::build(app.config()).await.unwrap();
    let base = format!("http://{}", second.local_addr().unwrap());
    tokio::spawn(second.run());
    let w = app.worker();
    let mut ws = Ws::init(&base, &w.token).await;
    subscribe_ok(&mut ws, "1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The change is made through the first instance.
    let f = open_case(&w, "LIVE5", 30).await;
    let got = ws.events("1", 4).await;
    assert_eq!(got[2]["caseId"], f.case);
}

#[tokio::test]
async fn a_slow_subscriber_stalls_nobody_and_loses_nothing() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let mut slow = Ws::init(&app.base, &w.token).await;
    let mut quick = Ws::init(&app.base, &w.token).await;
    slow.subscribe("s", EVENTS, json!({})).await;
    quick.subscribe("q", EVENTS, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Many changes while the slow one reads nothing at all.
    let f = open_case(&w, "SLOW1", 30).await;
    for i in 0..60 {
        w.must(
            "caseAssign",
            "case { id }",
            json!({ "caseId": f.case, "team": format!("Team {i}") }),
        )
        .await;
    }
    let total = app.scalar("SELECT COUNT(*) FROM case_event").await as usize;
    let quick_got: Vec<i64> = quick
        .events("q", total)
        .await
        .iter()
        .map(position)
        .collect();
    // The slow one, reading at last, gets every event once, in order.
    let slow_got: Vec<i64> = slow.events("s", total).await.iter().map(position).collect();
    assert_eq!(slow_got, quick_got);
    assert!(slow_got.windows(2).all(|p| p[0] < p[1]));
    slow.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_filter_narrows_events_to_cases_types_and_teams() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "FILT1", 30).await;
    let g = open_case(&w, "FILT2", 30).await;
    w.must(
        "caseAssign",
        "case { id }",
        json!({ "caseId": g.case, "team": "South" }),
    )
    .await;
    let filtered = |filter: Value| json!({ "after": "0", "filter": filter });
    const FILTERED: &str = "subscription($after: ID, $filter: CaseEventFilter) { \
        caseEvents(after: $after, filter: $filter) { position type caseId } }";
    let mut ws = Ws::init(&app.base, &w.token).await;
    // One case: its four events (opened, stage entered; the child's own events have no case).
    ws.subscribe("c", FILTERED, filtered(json!({ "caseIds": [f.case] })))
        .await;
    let got = ws.events("c", 2).await;
    assert!(got.iter().all(|e| e["caseId"] == f.case), "{got:?}");
    // One type, across cases.
    ws.subscribe("t", FILTERED, filtered(json!({ "types": ["CASE_OPENED"] })))
        .await;
    let mut opened = Vec::new();
    for _ in 0..2 {
        let m = ws.next().await;
        if m["id"] == "t" {
            opened.push(m["payload"]["data"]["caseEvents"]["caseId"].clone());
        }
    }
    // One team: only the case now allocated to South.
    ws.subscribe("s", FILTERED, filtered(json!({ "teams": ["South"] })))
        .await;
    let mut south = Vec::new();
    loop {
        match ws.wait(Duration::from_millis(700)).await {
            Got::Message(m) if m["id"] == "t" => {
                opened.push(m["payload"]["data"]["caseEvents"]["caseId"].clone())
            }
            Got::Message(m) if m["id"] == "s" => {
                south.push(m["payload"]["data"]["caseEvents"]["caseId"].clone())
            }
            Got::Message(m) => panic!("unexpected {m}"),
            _ => break,
        }
    }
    assert_eq!(opened, [f.case.clone(), g.case.clone()].map(Value::from));
    assert!(
        !south.is_empty() && south.iter().all(|c| *c == g.case),
        "{south:?}"
    );
}
