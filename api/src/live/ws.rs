//! The `graphql-transport-ws` protocol on `/graphql`, in full: `connection_init` with the bearer
//! token (4403 when refused, 4408 when it does not come in time, 4429 when repeated), `ping`/`pong`,
//! `subscribe` (4401 before the acknowledgement, 4409 for an id in use, an `error` past the cap on
//! subscriptions per socket), `next`, `error`, `complete` both ways, 4400 for a message that is not
//! the protocol's, and 1001 when the server shuts down. A subscription's token is checked for
//! expiry before each wake-up (4403 once it has expired).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Variables;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::AbortHandle;

use super::bus::Bus;
use super::service::Cursor;
use crate::audit::Trail;
use crate::audit::acting::Acting;
use crate::auth::Authenticator;
use crate::context::RequestData;
use crate::error::{ApiError, ErrorCode};
use crate::schema::AppSchema;
use crate::unit::Unit;

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// A subscription re-reads at least this often even without a notice (a safety net only).
const RECHECK: Duration = Duration::from_secs(15);

/// What the sessions share.
pub struct Live {
    /// The schema.
    pub schema: AppSchema,
    /// Verifies the token of `connection_init`.
    pub auth: Authenticator,
    /// The pool.
    pub db: sea_orm::DatabaseConnection,
    /// Per-transaction statement timeout.
    pub statement_timeout: Duration,
    /// Event notices.
    pub bus: Bus,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// Most subscriptions open on one socket.
    pub max_subscriptions: usize,
    /// The server's metrics (open sockets and subscriptions).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// What a unit of work keeps in step and tells (a subscription's reads write audit rows).
    pub outlets: crate::unit::Outlets,
}

/// Keeps a gauge moved by what one socket holds, and takes it back when the socket ends.
struct Held {
    gauge: prometheus_client::metrics::gauge::Gauge,
    n: i64,
}

impl Held {
    fn new(gauge: &prometheus_client::metrics::gauge::Gauge, n: i64) -> Self {
        gauge.inc_by(n);
        Self {
            gauge: gauge.clone(),
            n,
        }
    }
    fn set(&mut self, n: usize) {
        let n = n as i64;
        self.gauge.inc_by(n - self.n);
        self.n = n;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.gauge.dec_by(self.n);
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        #[allow(
            dead_code,
            reason = "the protocol allows a payload on ping and pong; it is read and ignored"
        )]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(
            dead_code,
            reason = "the protocol allows a payload on ping and pong; it is read and ignored"
        )]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct SubscribePayload {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
}

/// What subscription tasks send to their session.
enum Outgoing {
    Text(String),
    /// The subscription ended by itself (after an `error`, or the server closing it).
    Ended(String),
    Close(u16, &'static str),
}

fn text(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_owned().into(),
    }))
}

/// The bearer token of a `connection_init` payload: `authorization` ("Bearer …", any case of the
/// key) or `token`.
fn token_of(payload: &Option<Value>) -> Option<String> {
    let object = payload.as_ref()?.as_object()?;
    let auth = object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.as_str())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
        });
    auth.or_else(|| object.get("token").and_then(Value::as_str))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Serves one socket until either side closes it.
pub async fn session(socket: WebSocket, live: Arc<Live>, request_id: String, trace_id: String) {
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(256);
    let mut actor: Option<Acting> = None;
    let mut initialised = false;
    let mut subscriptions: HashMap<String, AbortHandle> = HashMap::new();
    let _socket = Held::new(&live.metrics.websockets, 1);
    let mut running = Held::new(&live.metrics.subscriptions, 0);
    let mut shutdown = live.shutdown.clone();
    let init_deadline = tokio::time::sleep(live.init_timeout);
    tokio::pin!(init_deadline);
    let closing = loop {
        running.set(subscriptions.len());
        let reply = tokio::select! {
            _ = &mut init_deadline, if !initialised => {
                break close(4408, "Connection initialisation timeout");
            }
            _ = shutdown.changed() => break close(1001, "server shutting down"),
            out = out_rx.recv() => match out {
                Some(Outgoing::Text(t)) => Message::Text(t.into()),
                Some(Outgoing::Ended(id)) => {
                    subscriptions.remove(&id);
                    continue;
                }
                Some(Outgoing::Close(code, reason)) => break close(code, reason),
                None => continue,
            },
            frame = incoming.next() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let message = match serde_json::from_str::<ClientMessage>(t.as_str()) {
                        Ok(m) => m,
                        Err(_) => break close(4400, "Invalid message"),
                    };
                    match message {
                        ClientMessage::ConnectionInit { payload } => {
                            if initialised {
                                break close(4429, "Too many initialisation requests");
                            }
                            initialised = true;
                            let Some(token) = token_of(&payload) else {
                                break close(4403, "Forbidden");
                            };
                            let trail = Arc::new(Trail::new(request_id.clone(), trace_id.clone(), ""));
                            match Box::pin(live.auth.authenticate(&token)).await {
                                Ok(a) => {
                                    actor = Some(Acting::new(a, trail));
                                    text(json!({ "type": "connection_ack" }))
                                }
                                Err(_) => break close(4403, "Forbidden"),
                            }
                        }
                        ClientMessage::Ping { .. } => text(json!({ "type": "pong" })),
                        ClientMessage::Pong { .. } => continue,
                        ClientMessage::Subscribe { id, payload } => {
                            let Some(actor) = actor.as_ref() else {
                                break close(4401, "Unauthorized");
                            };
                            if subscriptions.contains_key(&id) {
                                break close(4409, "Subscriber for this id already exists");
                            }
                            if subscriptions.len() >= live.max_subscriptions {
                                text(json!({ "type": "error", "id": id, "payload": [{
                                    "message": format!("at most {} subscriptions per socket", live.max_subscriptions),
                                    "extensions": { "code": ErrorCode::RateLimited, "requestId": request_id, "traceId": trace_id },
                                }] }))
                            } else {
                                let task = tokio::spawn(run(
                                    live.clone(),
                                    actor.clone(),
                                    id.clone(),
                                    payload,
                                    out_tx.clone(),
                                ));
                                subscriptions.insert(id, task.abort_handle());
                                continue;
                            }
                        }
                        ClientMessage::Complete { id } => {
                            if let Some(task) = subscriptions.remove(&id) {
                                task.abort();
                            }
                            continue;
                        }
                    }
                }
                Some(Ok(Message::Binary(_))) => break close(4400, "Invalid message"),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Message::Close(None),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            },
        };
        if sink.send(reply).await.is_err() {
            break Message::Close(None);
        }
    };
    for task in subscriptions.values() {
        task.abort();
    }
    if !matches!(closing, Message::Close(None)) {
        let _ = sink.send(closing).await;
    }
    let _ = sink.close().await;
}

/// Runs one subscription: a wake-up at once, then one after each notice that concerns it.
async fn run(
    live: Arc<Live>,
    actor: Acting,
    id: String,
    payload: SubscribePayload,
    out: mpsc::Sender<Outgoing>,
) {
    use async_graphql::parser::types::OperationType;
    let cursor = Arc::new(Cursor::default());
    // Read off the document once, not at every wake-up.
    let events_only = events_only(&payload);
    let mut notices = live.bus.subscribe();
    let mut last_sent: Option<String> = None;
    let one_shot = match operation_type(&payload) {
        Some(OperationType::Mutation) => {
            let error = json!({ "type": "error", "id": id, "payload": [{
                "message": "send mutations with POST /graphql",
                "extensions": { "code": ErrorCode::BadUserInput, "requestId": actor.trail.request_id },
            }] });
            let _ = out.send(Outgoing::Text(error.to_string())).await;
            let _ = out.send(Outgoing::Ended(id)).await;
            return;
        }
        Some(OperationType::Subscription) => false,
        // A query (or a document that does not parse, answered with its errors) runs once.
        _ => true,
    };
    loop {
        if actor
            .expires_at
            .is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
        {
            let _ = out
                .send(Outgoing::Close(4403, "Forbidden: the token has expired"))
                .await;
            return;
        }
        // On the heap, for the wake-up only: held inline, a wake-up's state (the schema's whole
        // execution) would be part of every idle subscription's task for as long as it is open.
        let responses = match Box::pin(wake(&live, &actor, &payload, events_only, &cursor)).await {
            Ok(r) => r,
            Err(()) => vec![async_graphql::Response::from_errors(vec![
                async_graphql::ServerError::new("internal error", None),
            ])],
        };
        for response in responses {
            if response.is_err() {
                let errors: Vec<Value> = response
                    .errors
                    .iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
                        if v["extensions"]["code"].is_null() {
                            v["extensions"]["code"] = json!(ErrorCode::Internal);
                        }
                        v["extensions"]["requestId"] = json!(actor.trail.request_id);
                        v
                    })
                    .collect();
                let _ = out
                    .send(Outgoing::Text(
                        json!({ "type": "error", "id": id, "payload": errors }).to_string(),
                    ))
                    .await;
                let _ = out.send(Outgoing::Ended(id)).await;
                return;
            }
            let message = json!({ "type": "next", "id": id, "payload": response }).to_string();
            // A re-read that finds what was last sent (the case already showed a change whose
            // event arrives after) carries no news.
            if last_sent.as_ref() == Some(&message) {
                continue;
            }
            if out.send(Outgoing::Text(message.clone())).await.is_err() {
                return;
            }
            last_sent = Some(message);
        }
        if one_shot {
            let done = json!({ "type": "complete", "id": id });
            let _ = out.send(Outgoing::Text(done.to_string())).await;
            let _ = out.send(Outgoing::Ended(id)).await;
            return;
        }
        if cursor.more() {
            continue;
        }
        let recheck = tokio::time::sleep(RECHECK);
        tokio::pin!(recheck);
        loop {
            tokio::select! {
                notice = notices.recv() => match notice {
                    Ok(n) if n.concerns(actor.la_id, cursor.after()) => {
                        cursor.aim(n.position);
                        break;
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        cursor.aim(i64::MAX);
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = &mut recheck => break,
            }
        }
    }
}

/// The type of the operation a payload would run, when it parses.
fn operation_type(
    payload: &SubscribePayload,
) -> Option<async_graphql::parser::types::OperationType> {
    let doc = async_graphql::parser::parse_query(&payload.query).ok()?;
    doc.operations
        .iter()
        .find(|(name, _)| match &payload.operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        })
        .map(|(_, op)| op.node.ty)
}

/// One wake-up: the subscription's root field run once in a fresh tenant transaction, its reads
/// written to the audit trail before commit (none for `events_only`: see [`events_only`]).
async fn wake(
    live: &Live,
    actor: &Acting,
    payload: &SubscribePayload,
    events_only: bool,
    cursor: &Arc<Cursor>,
) -> Result<Vec<async_graphql::Response>, ()> {
    let build = |data: RequestData| {
        let mut request = async_graphql::Request::new(payload.query.clone())
            .data(data)
            .data(cursor.clone());
        if let Some(name) = &payload.operation_name {
            request = request.operation_name(name.clone());
        }
        if let Some(vars) = &payload.variables {
            request = request.variables(Variables::from_json(vars.clone()));
        }
        request
    };
    // `caseEvents` reads only the shared feed (which keeps its own tenant transactions) and reads
    // no child-level record: no transaction of its own.
    if events_only {
        let data = RequestData {
            actor: Some(actor.clone()),
            tx: None,
            loaders: None,
        };
        return Ok(live.schema.execute_all(build(data), actor).await);
    }
    let unit = Unit::begin(&live.db, actor.la_id, live.statement_timeout)
        .await
        .map_err(ApiError::log)?;
    let data = RequestData::authenticated(actor, unit.tx());
    let responses = live.schema.execute_all(build(data), actor).await;
    unit.finish(actor, &live.outlets)
        .await
        .map_err(ApiError::log)?;
    Ok(responses)
}

/// Whether a subscription selects `caseEvents` alone (and no fragment spread at its root).
fn events_only(payload: &SubscribePayload) -> bool {
    use async_graphql::parser::types::{OperationType, Selection};
    let Ok(doc) = async_graphql::parser::parse_query(&payload.query) else {
        return false;
    };
    let op = doc
        .operations
        .iter()
        .find(|(name, _)| match &payload.operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        });
    op.is_some_and(|(_, op)| {
        op.node.ty == OperationType::Subscription
            && op
                .node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| matches!(&s.node, Selection::Field(f) if f.node.name.node == "caseEvents"))
    })
}
