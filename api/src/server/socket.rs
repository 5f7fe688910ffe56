//! `GET /graphql`: a WebSocket upgrade (graphql-transport-ws) or a query over GET.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use tracing::Instrument as _;

use super::caller::Peer;
use super::errors::{error_response, request_id};
use super::graphql::{GetParams, graphql_get};
use super::state::AppState;
use crate::error::ErrorCode;

/// `GET /graphql`: a WebSocket upgrade (`graphql-transport-ws`) or a GraphQL-over-HTTP query.
pub(super) async fn graphql_get_or_ws(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequestParts as _;
    let (mut parts, _) = request.into_parts();
    let Ok(peer) = Peer::from_request_parts(&mut parts, &state).await;
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        let rid = request_id();
        let span = crate::telemetry::request_span(&parts.headers, &rid);
        let trace_id = crate::telemetry::trace_id(&span, &parts.headers);
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(ws) => {
                let live = state.live.clone();
                // Small buffers: most sockets sit idle, and a client's messages are small (a larger
                // one is read in more than one go). 1 KiB rather than 4: 3 KiB less per open socket.
                ws.protocols([crate::live::ws::PROTOCOL])
                    .read_buffer_size(1024)
                    .write_buffer_size(0)
                    .max_message_size(state.max_ws_message)
                    .max_frame_size(state.max_ws_message)
                    .on_upgrade(move |socket| {
                        crate::live::ws::session(socket, live, rid, trace_id).instrument(span)
                    })
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let params = match Query::<GetParams>::try_from_uri(&parts.uri) {
        Ok(q) => q,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the query string is not a GraphQL request",
                &request_id(),
            );
        }
    };
    graphql_get(State(state), peer, parts.headers, params).await
}
