//! The REST endpoints beside GraphQL: the CSV and JSON Lines exports and the JSON Lines import,
//! each behind the same gate (token, rate limit, right, audit).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::caller::{Peer, authenticate};
use super::errors::{error_response, request_id};
use super::graphql::within;
use super::state::AppState;
use crate::audit::acting::Acting;
use crate::audit::{self};
use crate::auth::Actor;
use crate::db;
use crate::error::ErrorCode;
use crate::ratelimit::Verdict;
use crate::unit::Unit;

/// The gate of an export: a bearer token, the rate limit, the caller's right to it (a refusal is
/// audited), and an `EXPORT` audit row naming the export, committed before any data is sent.
pub(super) async fn export_gate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    name: &str,
    allowed: impl FnOnce(&Actor) -> crate::error::ApiResult<()>,
) -> Result<Acting, Response> {
    gate(
        state,
        headers,
        peer,
        rid,
        name,
        Some(audit::Action::Export),
        allowed,
    )
    .await
}

/// Authenticates a request to an endpoint other than `/graphql`, charges its rate limit and checks
/// `allowed`; a refusal is audited as `Denied`, and (when `action` is given) the allowed request
/// as `action` on the LA.
pub(super) async fn gate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    name: &str,
    action: Option<audit::Action>,
    allowed: impl FnOnce(&Actor) -> crate::error::ApiResult<()>,
) -> Result<Acting, Response> {
    let span = tracing::Span::current();
    let trace_id = crate::telemetry::current_trace_id()
        .unwrap_or_else(|| crate::telemetry::trace_id(&span, headers));
    let actor = authenticate(state, headers, peer, rid, trace_id).await?;
    let caller = format!(
        "{}:{}",
        actor.la_id,
        actor.client_id.as_deref().unwrap_or(&actor.subject)
    );
    if let limited @ Verdict::Limited { retry_after, .. } = state.rate.charge(&caller, 1).await {
        state.metrics.rate_limited.inc();
        let mut resp = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            &format!("too many requests; retry in {retry_after} s"),
            rid,
        );
        limited.write_headers(resp.headers_mut());
        return Err(resp);
    }
    actor.trail.set_operation(name);
    let refusal = allowed(&actor).err();
    if refusal.is_some() {
        actor
            .trail
            .denied(name, action.unwrap_or(audit::Action::Update));
    }
    let internal = || {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
            rid,
        )
    };
    let written = async {
        let unit = Unit::begin(&state.db, actor.la_id, state.statement_timeout).await?;
        if let (None, Some(action)) = (&refusal, action) {
            let la = audit::Record::bare("local_authority", actor.la_id);
            audit::changed(&**unit.tx(), &actor, action, la, &[name], None).await?;
        }
        unit.finish(&actor, &state.outlets).await
    }
    .await;
    if let Err(e) = written {
        e.log();
        return Err(internal());
    }
    match refusal {
        Some(crate::error::ApiError::Forbidden(m)) => Err(error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            &m,
            rid,
        )),
        Some(other) => {
            other.log();
            Err(internal())
        }
        None => Ok(actor),
    }
}

/// A streamed export's response.
pub(super) fn streamed<S>(content_type: &'static str, file: &str, rid: &str, body: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let mut resp = axum::body::Body::from_stream(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(rid) {
        h.insert("x-request-id", v);
    }
    resp
}

/// `GET /exports/episodes.csv`: the LA's reunification cases with their episodes of care, in
/// SSDA903 column names and codes (team managers, nominated officers and LA admins).
pub(super) async fn export_episodes(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let actor = match export_gate(&state, &headers, peer, &rid, "exportEpisodes", |a| {
            crate::insight::export::may_export_records(a)
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let tx = match db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await
        {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error.detail = %e, "cannot begin the export transaction");
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let body =
            crate::insight::export::episodes_csv(tx, actor.la_id, crate::insight::export::PAGE);
        streamed(
            "text/csv; charset=utf-8",
            "reunify-episodes.csv",
            &rid,
            body,
        )
    };
    within(span, &copy, work).await
}

/// Query parameters of the SSDA903 exports.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ReturnParams {
    /// The collection year, `2026-27`; the current one by default.
    year: Option<String>,
}

/// `GET /exports/ssda903/{header,episodes}.csv?year=`: the Header or Episodes table of the LA's
/// 903 return; any other file is `NOT_FOUND`.
pub(super) async fn export_903_table(
    State(state): State<AppState>,
    Path(file): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<ReturnParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    use crate::insight::ssda903::Table;
    let table = match file.as_str() {
        "header.csv" => Table::Header,
        "episodes.csv" => Table::Episodes,
        _ => {
            return error_response(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "no such endpoint",
                &request_id(),
            );
        }
    };
    export_903(state, peer, headers, params, table).await
}

/// One table of the 903 return, for those who may export child-level records.
async fn export_903(
    state: AppState,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<ReturnParams>, axum::extract::rejection::QueryRejection>,
    table: crate::insight::ssda903::Table,
) -> Response {
    use crate::insight::ssda903::{Table, Year};
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let bad =
            |m: &str| error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, m, &rid);
        let Ok(Query(params)) = params else {
            return bad("the query string does not parse (only `year`, e.g. 2026-27)");
        };
        let year = match params.year.as_deref().map(Year::parse) {
            None => Year::holding(crate::cases::service::today()),
            Some(Ok(y)) => y,
            Some(Err(m)) => return bad(&m),
        };
        let (name, file) = match table {
            Table::Header => ("exportSsda903Header", "ssda903-header.csv"),
            Table::Episodes => ("exportSsda903Episodes", "ssda903-episodes.csv"),
        };
        let actor = match export_gate(&state, &headers, peer, &rid, name, |a| {
            crate::insight::export::may_export_records(a)
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let tx = match db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await
        {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error.detail = %e, "cannot begin the export transaction");
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let body = crate::insight::ssda903::table_csv(tx, actor.la_id, year, table);
        streamed("text/csv; charset=utf-8", file, &rid, body)
    };
    within(span, &copy, work).await
}

/// `POST /imports`: children, episodes and cases as JSON Lines (each line one record, as
/// `bulkImport` takes an item), for initial loads of tens of thousands. Answers JSON Lines: a
/// result per record, then a summary. Upserts are idempotent, so an upload that stopped on a fault
/// is sent again whole.
pub(super) async fn import_upload(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim);
        if !matches!(
            content_type,
            Some("application/x-ndjson" | "application/jsonl" | "application/json-lines")
        ) {
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::BadUserInput,
                "send the records as JSON Lines, with Content-Type: application/x-ndjson",
                &rid,
            );
        }
        let actor = match gate(&state, &headers, peer, &rid, "bulkImport", None, |a| {
            a.require_write()?;
            a.require_granted("bulkImport")
        })
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let upload = crate::sync::import::upload(
            &state.db,
            &actor,
            state.statement_timeout,
            &body,
            &state.outlets,
        );
        match upload.await {
            Ok(results) => {
                let mut resp = crate::sync::import::render(&results).into_response();
                let h = resp.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if let Ok(v) = HeaderValue::from_str(&rid) {
                    h.insert("x-request-id", v);
                }
                resp
            }
            Err(stopped) => {
                let (status, code) = match &stopped.error {
                    crate::error::ApiError::Database(e) if db::is_timeout(e) => {
                        (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Timeout)
                    }
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
                };
                stopped.error.log();
                let message = format!(
                    "the import stopped after committing its first {} lines; send the file again \
                     (records already stored come back UNCHANGED)",
                    stopped.committed_lines
                );
                error_response(status, code, &message, &rid)
            }
        }
    };
    within(span, &copy, work).await
}

/// Query parameters of `GET /exports/insight.jsonl`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct InsightParams {
    from: Option<String>,
    to: Option<String>,
    as_of: Option<String>,
    /// Comma-separated dimensions, e.g. `YEAR,TEAM`.
    group_by: Option<String>,
    round_to_nearest_10: Option<bool>,
}

/// `GET /exports/insight.jsonl?from=&to=&asOf=&groupBy=&roundToNearest10=`: every aggregate as
/// JSON Lines (scope `aggregates:read`; small counts withheld from data analysts).
pub(super) async fn export_insight(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    params: Result<Query<InsightParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id();
    let span = crate::telemetry::request_span(&headers, &rid);
    let copy = headers.clone();
    let work = async move {
        let bad =
            |m: &str| error_response(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, m, &rid);
        let Ok(Query(params)) = params else {
            return bad("the query string does not parse");
        };
        let query = match crate::insight::export::parse_query(
            params.from.as_deref(),
            params.to.as_deref(),
            params.as_of.as_deref(),
            params.group_by.as_deref(),
        ) {
            Ok(q) => q,
            Err(m) => return bad(&m),
        };
        let actor = match export_gate(
            &state,
            &headers,
            peer,
            &rid,
            "exportInsight",
            Actor::require_aggregates,
        )
        .await
        {
            Ok(a) => a,
            Err(resp) => return resp,
        };
        let facts = async {
            let tx = db::begin_tenant_read(&state.db, actor.la_id, state.statement_timeout).await?;
            let facts = crate::insight::service::facts(&tx, &actor).await?;
            tx.commit().await?;
            Ok::<_, crate::error::ApiError>(facts)
        }
        .await;
        let facts = match facts {
            Ok(f) => f,
            Err(e) => {
                e.log();
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                    &rid,
                );
            }
        };
        let shown = crate::insight::aggregates::Presentation {
            suppress: actor.require_read().is_err(),
            round_to_10: params.round_to_nearest_10.unwrap_or(false),
        };
        let body = crate::insight::export::insight_jsonl(facts, query, shown);
        streamed("application/jsonl", "reunify-insight.jsonl", &rid, body)
    };
    within(span, &copy, work).await
}
