//! Error answers: the JSON body every error carries, its stable code and the request id.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::ErrorCode;

pub(super) fn request_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Gives an error answer made outside the handlers — axum's 405 for a method an endpoint does not
/// take, a body limit's 413, an unknown path's 404 — the JSON error body, `extensions.code` and
/// request id that every error answer carries (API.md), keeping its `Allow` header.
pub(super) async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/json")
                || ct.starts_with("application/graphql-response+json")
        });
    if json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this endpoint accepts",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::BadUserInput,
            "this endpoint does not take this method (see the Allow header)",
        ),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such endpoint"),
        s if s.is_client_error() => (ErrorCode::BadUserInput, "the request is malformed"),
        _ => (ErrorCode::Internal, "internal error"),
    };
    let rid = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(request_id, str::to_owned);
    let mut out = error_response(status, code, message, &rid);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// A response carrying only top-level errors, with the given HTTP status.
pub(super) fn error_response(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    request_id: &str,
) -> Response {
    let mut extensions = serde_json::json!({ "code": code, "requestId": request_id });
    if let Some(trace) = crate::telemetry::current_trace_id() {
        extensions["traceId"] = trace.into();
    }
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": extensions }] });
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Gives every error of a response its stable code and the request id.
pub(super) fn decorate(response: &mut async_graphql::Response, rid: &str) {
    for err in &mut response.errors {
        let code = library_error_code(&err.message);
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", code.as_str());
        }
        ext.set("requestId", rid.to_owned());
        if let Some(trace) = crate::telemetry::current_trace_id() {
            ext.set("traceId", trace);
        }
    }
}

/// The stable code of an error: its own, or the library's.
pub(super) fn error_code(e: &async_graphql::ServerError) -> String {
    match e.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(c)) => c.clone(),
        _ => library_error_code(&e.message).as_str().to_owned(),
    }
}

/// The stable code of an error raised by async-graphql itself (parse, validation, limits).
pub(super) fn library_error_code(message: &str) -> ErrorCode {
    const LIMITS: [&str; 4] = [
        "Query is too complex",
        "Query is nested too deep",
        "The recursion depth of the query cannot be greater than",
        "The number of directives on the field",
    ];
    if LIMITS.iter().any(|l| message.starts_with(l)) {
        ErrorCode::QueryTooComplex
    } else {
        ErrorCode::BadUserInput
    }
}
