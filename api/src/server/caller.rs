//! Who is calling: the bearer token (or its absence, rate-limited by address) and the network peer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::errors::error_response;
use super::state::AppState;
use crate::audit::Trail;
use crate::audit::acting::Acting;
use crate::error::ErrorCode;
use crate::ratelimit::Verdict;

/// The caller's network address: the connection's peer or, behind `REUNIFY_TRUSTED_PROXIES`
/// reverse proxies, the address the outermost trusted one saw (counted from the right of
/// `X-Forwarded-For`, so a client cannot choose its own).
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer(std::net::IpAddr);

impl axum::extract::FromRequestParts<AppState> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let connected = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if state.trusted_proxies == 0 {
            return Ok(Peer(connected));
        }
        let forwarded: Vec<std::net::IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let from_right = forwarded.len().checked_sub(state.trusted_proxies);
        Ok(Peer(
            from_right
                .and_then(|i| forwarded.get(i).copied())
                .unwrap_or(connected),
        ))
    }
}

/// The answer to a request without valid credentials: 401 `UNAUTHENTICATED` with the RFC 6750
/// challenge, or 429 `RATE_LIMITED` once its address has sent too many.
pub(super) fn unauthenticated(
    state: &AppState,
    peer: Peer,
    challenge: &'static str,
    message: &str,
    rid: &str,
) -> Response {
    let verdict = state
        .anonymous
        .charge_here(&format!("anonymous:{}", peer.0), 1);
    let mut resp = match verdict {
        Verdict::Limited { retry_after, .. } => {
            state.metrics.rate_limited.inc();
            error_response(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                &format!("too many requests without valid credentials; retry in {retry_after} s"),
                rid,
            )
        }
        Verdict::Allowed { .. } => error_response(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            message,
            rid,
        ),
    };
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    verdict.write_headers(resp.headers_mut());
    resp
}

/// Resolves the `Authorization` header to the caller, or answers the request: every request
/// without valid credentials gets 401 (see [`unauthenticated`]).
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
    rid: &str,
    trace_id: String,
) -> Result<Acting, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated(
            state,
            peer,
            "Bearer",
            "a bearer token is required (Authorization: Bearer <token>)",
            rid,
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let invalid =
        |msg: &str| unauthenticated(state, peer, "Bearer error=\"invalid_token\"", msg, rid);
    let Some(token) = token else {
        return Err(invalid("the Authorization header must be `Bearer <token>`"));
    };
    let trail = Arc::new(Trail::new(rid.to_owned(), trace_id, ""));
    match state.auth.authenticate(token).await {
        Ok(actor) => Ok(Acting::new(actor, trail)),
        Err(crate::error::ApiError::Unauthenticated(m)) => Err(invalid(m)),
        Err(crate::error::ApiError::Forbidden(m)) => Err(error_response(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            &m,
            rid,
        )),
        Err(other) => {
            other.log();
            Err(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error",
                rid,
            ))
        }
    }
}
