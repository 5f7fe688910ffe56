//! The GraphQL HTTP pipeline: parse, authenticate, rate-limit, run each operation as a unit of work
//! within the deadline, answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use async_graphql::BatchRequest;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use tracing::Instrument as _;

use super::caller::{Peer, authenticate};
use super::errors::{decorate, error_code, error_response, request_id};
use super::negotiate::Media;
use super::state::{ABANDONED, AppState, COMMITTING, Failure, RUNNING};
use crate::audit::acting::Acting;
use crate::context::RequestData;
use crate::error::ErrorCode;
use crate::idempotency;
use crate::metrics::OperationSlot;
use crate::ratelimit::Verdict;
use crate::unit::Unit;

/// Runs one GraphQL operation. An authenticated operation runs in one transaction with the
/// caller's LA as its tenant; its audit rows are written in that transaction before it commits,
/// and if they cannot be written the operation fails and nothing it did is kept.
pub(super) async fn run_one(
    state: &AppState,
    actor: &Acting,
    request: async_graphql::Request,
    key: Option<&idempotency::Key>,
    rid: &str,
    progress: &AtomicU8,
) -> Result<Answer, Failure> {
    let started = std::time::Instant::now();
    let slot = OperationSlot::named(request.operation_name.clone());
    let observed = |response: &async_graphql::Response| {
        let code = response
            .errors
            .first()
            .map_or_else(|| "OK".to_owned(), error_code);
        state
            .metrics
            .operation(&slot.label(), &code, started.elapsed());
    };
    let key = key.filter(|_| idempotency::is_mutation(&request));
    // The unit ends with the audit rows before it commits: its change rows can wait for it.
    actor.trail.defer_changes();
    // Named by type and root fields once it validates (see `metrics::Observe`), never by the
    // client's free text.
    let span = tracing::info_span!(
        "graphql operation",
        graphql.operation.type = tracing::field::Empty,
        graphql.operation.fields = tracing::field::Empty,
    );
    if key.is_none() && reads_no_record(&request) {
        // Nothing to read, so no transaction: no database round trip at all, unless the
        // operation left something to audit after all.
        let response = state
            .schema
            .execute(
                request.data(RequestData::without_records(actor)),
                actor,
                Some(&slot),
            )
            .instrument(span)
            .await;
        observed(&response);
        if !to_commit(progress) {
            return Err(Failure);
        }
        if !actor.trail.is_empty() {
            let _turn = writer_turn(state).await;
            let unit = begin(state, actor).await?;
            finish(state, actor, unit).await?;
        }
        return Ok(Answer::Graphql(response));
    }
    let waiting = state.metrics.waiting();
    // Held to the end of the request (after its commit).
    let _turn = writer_turn(state).await;
    let unit = begin(state, actor).await?;
    drop(waiting);
    let claimed = match key {
        None => None,
        Some(key) => match idempotency::claim(&**unit.tx(), actor, key).await {
            Ok(idempotency::Claim::Fresh(id)) => Some(id),
            Ok(other) => {
                unit.abandon().await;
                return Ok(Answer::from_claim(other));
            }
            Err(e) => {
                e.log();
                unit.abandon().await;
                return Err(Failure);
            }
        },
    };
    let data = RequestData::authenticated(actor, unit.tx());
    let mut response = state
        .schema
        .execute(request.data(data), actor, Some(&slot))
        .instrument(span)
        .await;
    observed(&response);
    if !to_commit(progress) {
        // The caller was told TIMEOUT: keep nothing.
        unit.abandon().await;
        return Err(Failure);
    }
    // A keyed mutation's response is stored with what it did, as the bytes sent.
    let stored = match claimed {
        None => None,
        Some(id) => {
            decorate(&mut response, rid);
            let body = serde_json::to_string(&response).map_err(|e| {
                tracing::error!(error.detail = %e, "cannot serialise a response");
                Failure
            })?;
            if let Err(e) = idempotency::store(&**unit.tx(), id, &body).await {
                e.log();
                return Err(Failure);
            }
            Some(body)
        }
    };
    finish(state, actor, unit).await?;
    Ok(match stored {
        Some(body) => Answer::Stored {
            body,
            replayed: false,
        },
        None => Answer::Graphql(response),
    })
}

/// Whether an operation reads no record: every root field of the operation run is `__typename`,
/// `__schema` or `__type`. Anything else (a fragment at the root included) is taken to read.
fn reads_no_record(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::Selection;
    // Every introspection field starts with `__`: a query without one reads (no parse needed).
    if !request.query.contains("__") {
        return false;
    }
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let Some(op) = crate::document::operation(&doc, request.operation_name.as_deref()) else {
        return false;
    };
    op.node
        .selection_set
        .node
        .items
        .iter()
        .all(|s| match &s.node {
            Selection::Field(f) => matches!(
                f.node.name.node.as_str(),
                "__typename" | "__schema" | "__type"
            ),
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => false,
        })
}

/// Moves the request on to its commit; false if its time ran out first (the caller was told
/// TIMEOUT, so nothing may be kept).
fn to_commit(progress: &AtomicU8) -> bool {
    progress
        .compare_exchange(RUNNING, COMMITTING, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

/// The SQLite writer's turn (SQLite has one writer at a time), held to the end of the request;
/// none on PostgreSQL.
async fn writer_turn(state: &AppState) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    match &state.sqlite_writer {
        Some(writer) => Some(writer.lock().await),
        None => None,
    }
}

async fn begin(state: &AppState, actor: &Acting) -> Result<Unit, Failure> {
    Unit::begin(&state.db, actor.la_id, state.statement_timeout)
        .await
        .map_err(|e| {
            e.log();
            Failure
        })
}

async fn finish(state: &AppState, actor: &Acting, unit: Unit) -> Result<(), Failure> {
    let committed = unit.finish(actor, &state.outlets).await.map_err(|e| {
        e.log();
        Failure
    })?;
    state.metrics.events.inc_by(committed.events as u64);
    Ok(())
}

/// What one operation answers.
pub(super) enum Answer {
    /// A response to serialise.
    Graphql(async_graphql::Response),
    /// A keyed mutation's response, as stored: sent as it is.
    Stored { body: String, replayed: bool },
    /// A keyed request refused before it ran.
    Refused {
        status: StatusCode,
        code: ErrorCode,
        message: &'static str,
    },
}

impl Answer {
    fn from_claim(claim: idempotency::Claim) -> Answer {
        match claim {
            idempotency::Claim::Replay(body) => Answer::Stored {
                body,
                replayed: true,
            },
            idempotency::Claim::Reused => Answer::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: ErrorCode::IdempotencyKeyReused,
                message: "this Idempotency-Key was used with a different request; use a new key",
            },
            idempotency::Claim::Running | idempotency::Claim::Fresh(_) => Answer::Refused {
                status: StatusCode::CONFLICT,
                code: ErrorCode::Conflict,
                message: "the first request with this Idempotency-Key is still running; retry later",
            },
        }
    }
}

/// Runs a request (one operation, or a batch of at most `REUNIFY_MAX_BATCH`) within the deadline,
/// answering in `media`.
pub(super) async fn execute(
    state: AppState,
    actor: Acting,
    batch: BatchRequest,
    key: Option<idempotency::Key>,
    rid: String,
    media: Media,
) -> Response {
    let requests = match batch {
        BatchRequest::Single(r) => vec![r],
        BatchRequest::Batch(_) if key.is_some() => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "an Idempotency-Key applies to one operation: send a batch without one",
                &rid,
            );
        }
        BatchRequest::Batch(rs) if rs.is_empty() || rs.len() > state.max_batch => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!(
                    "a batch holds 1 to {} operations; this one holds {}",
                    state.max_batch,
                    rs.len()
                ),
                &rid,
            );
        }
        BatchRequest::Batch(rs) => rs,
    };
    let single = requests.len() == 1;
    let count = requests.len();
    let (actor_la, actor_id) = (actor.la_id, actor.actor_id);
    let verdict = {
        let caller = format!(
            "{}:{}",
            actor.la_id,
            actor.client_id.as_deref().unwrap_or(&actor.subject)
        );
        state.rate.charge(&caller, requests.len() as u32).await
    };
    if let limited @ Verdict::Limited { retry_after, .. } = verdict {
        state.metrics.rate_limited.inc();
        let mut resp = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &format!("too many requests; retry in {retry_after} s"),
            &rid,
        );
        limited.write_headers(resp.headers_mut());
        return resp;
    }
    // The work runs in a task of its own: a transaction must never be dropped mid-statement (by a
    // deadline, or a client that hangs up). Past the deadline the caller is answered at once and
    // the task, finding itself abandoned, rolls back instead of committing.
    let progress = Arc::new(AtomicU8::new(RUNNING));
    let timeout = state.request_timeout;
    let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
    let mut work = tokio::spawn({
        let progress = progress.clone();
        let rid = rid.clone();
        let work = async move {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                progress.store(RUNNING, Ordering::SeqCst);
                let answer =
                    run_one(&state, &actor, request, key.as_ref(), &rid, &progress).await?;
                responses.push(answer);
            }
            Ok::<_, Failure>(responses)
        };
        crate::telemetry::with_trace_id(trace_id, work).in_current_span()
    });
    let outcome = match tokio::time::timeout(timeout, &mut work).await {
        Ok(done) => Some(done),
        // Past the deadline: abandon the work unless it is already committing, then let it finish.
        Err(_) => {
            match progress.compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => None,
                Err(_) => Some(work.await),
            }
        }
    };
    let responses = match outcome {
        Some(Ok(Ok(responses))) => responses,
        Some(Ok(Err(Failure)) | Err(_)) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
                &rid,
            );
        }
        None => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Timeout,
                "the request took longer than allowed and was abandoned; nothing it did was kept",
                &rid,
            );
        }
    };
    let mut error_count = 0;
    let mut graphql = Vec::with_capacity(responses.len());
    let mut raw = None;
    for answer in responses {
        match answer {
            Answer::Graphql(mut response) => {
                error_count += response.errors.len();
                decorate(&mut response, &rid);
                graphql.push(response);
            }
            Answer::Stored { body, replayed } => raw = Some((body, replayed)),
            Answer::Refused {
                status,
                code,
                message,
            } => return error_response(status, code, message, &rid),
        }
    }
    let mut resp = if let Some((body, replayed)) = raw {
        let mut resp = ([(header::CONTENT_TYPE, media.content_type())], body).into_response();
        if replayed {
            resp.headers_mut()
                .insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
        }
        resp
    } else if single {
        media.answer(graphql.remove(0))
    } else {
        media.answer_batch(async_graphql::BatchResponse::Batch(graphql))
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    verdict.write_headers(resp.headers_mut());
    // Identifiers only: never names, free text, variables or tokens.
    let span = tracing::Span::current();
    span.record("la.id", actor_la);
    span.record("actor.id", actor_id);
    span.record("graphql.operations", count);
    span.record("errors", error_count);
    tracing::info!(
        request.id = %rid,
        la.id = actor_la,
        actor.id = actor_id,
        operations = count,
        errors = error_count,
        "graphql request"
    );
    resp
}

pub(super) async fn graphql_post(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = request_id();
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "Content-Type must be application/json",
            &rid,
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a valid GraphQL request",
                &rid,
            );
        }
    };
    // A request's `query` is required: async-graphql takes a missing one for an empty document.
    if batch.iter().any(|r| r.query.is_empty()) && !every_query_named(&body) {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the body is not a GraphQL request: every operation needs a `query` string",
            &rid,
        );
    }
    let key = match idempotency::Key::from_header(headers.get(idempotency::HEADER), &body) {
        Ok(key) => key,
        Err(message) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &message,
                &rid,
            );
        }
    };
    traced(state, headers, peer, batch, key, rid).await
}

/// Whether every request of a JSON body (an object, or an array of them) names its `query`; only
/// asked when one of them has an empty one.
fn every_query_named(body: &[u8]) -> bool {
    let names = |v: &serde_json::Value| v.get("query").is_some_and(serde_json::Value::is_string);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(requests)) => requests.iter().all(names),
        Ok(request) => names(&request),
        Err(_) => false,
    }
}

/// Authenticates and executes a parsed request inside the request's span.
pub(super) async fn traced(
    state: AppState,
    headers: HeaderMap,
    peer: Peer,
    batch: BatchRequest,
    key: Option<idempotency::Key>,
    rid: String,
) -> Response {
    let span = crate::telemetry::request_span(&headers, &rid);
    let media = Media::of(&headers);
    let copy = headers.clone();
    let work = async move {
        let trace_id = crate::telemetry::current_trace_id().unwrap_or_default();
        let actor = match authenticate(&state, &headers, peer, &rid, trace_id).await {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        execute(state, actor, batch, key, rid, media).await
    };
    within(span, &copy, work).await
}

/// Runs a handler's work in its request span, with the request's trace id known to every error
/// body it answers.
pub(super) async fn within(
    span: tracing::Span,
    headers: &HeaderMap,
    work: impl Future<Output = Response>,
) -> Response {
    let trace_id = crate::telemetry::trace_id(&span, headers);
    crate::telemetry::with_trace_id(trace_id, work.instrument(span)).await
}

#[derive(serde::Deserialize)]
pub(super) struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

pub(super) async fn graphql_get(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let rid = request_id();
    let Some(query) = params.query else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "missing `query`",
            &rid,
        );
    };
    let Ok(doc) = async_graphql::parser::parse_query(&query) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the query does not parse",
            &rid,
        );
    };
    let is_query = doc.operations.iter().all(|(name, op)| {
        let selected = params
            .operation_name
            .as_deref()
            .is_none_or(|n| name.is_some_and(|x| x.as_str() == n));
        !selected || op.node.ty == async_graphql::parser::types::OperationType::Query
    });
    if !is_query {
        let mut resp = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "only queries may be sent with GET; use POST",
            &rid,
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "`variables` is not JSON",
                    &rid,
                );
            }
        }
    }
    traced(
        state,
        headers,
        peer,
        BatchRequest::Single(request),
        None,
        rid,
    )
    .await
}
