//! Content negotiation: which of the media types a response can take the client's `Accept`
//! header prefers (RFC 9110 §12.5.1: the most specific range that matches a type gives its
//! quality; `q=0` is "not acceptable").

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The GraphQL-over-HTTP response type.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
/// The OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text";

/// How a client accepts one media type: the quality of the most specific range that matches it,
/// and whether that range names the type itself (not `type/*` or `*/*`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Acceptance {
    q: f32,
    named: bool,
}

fn acceptance(accept: &str, media: &str) -> Acceptance {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    // (specificity, q) of the best match so far: 2 the type itself, 1 `kind/*`, 0 `*/*`.
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let specificity = if name == media {
            2
        } else if name.strip_suffix("/*") == Some(kind) {
            1
        } else if name == "*/*" {
            0
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .and_then(|(_, v)| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(
        Acceptance {
            q: 0.0,
            named: false,
        },
        |(s, q)| Acceptance { q, named: s == 2 },
    )
}

/// Whether the client asked for `preferred` by name, at least as much as for `usual` (which is
/// what it gets otherwise — with no `Accept`, with `*/*`, or asking for neither).
fn asks_for(headers: &HeaderMap, preferred: &str, usual: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let wanted = acceptance(accept, preferred);
    wanted.named && wanted.q > 0.0 && wanted.q >= acceptance(accept, usual).q
}

/// Whether a GraphQL answer goes as `application/graphql-response+json` (with the spec's status
/// codes) rather than `application/json` (the legacy type, and the default).
pub(super) fn graphql_response(headers: &HeaderMap) -> bool {
    asks_for(headers, GRAPHQL_RESPONSE, "application/json")
}

/// The type a GraphQL answer is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    /// `application/json`: every answer that ran or failed as GraphQL is 200.
    Json,
    /// `application/graphql-response+json`, with the GraphQL-over-HTTP status codes.
    GraphqlResponse,
}

impl Media {
    /// The type the client asked for.
    pub(super) fn of(headers: &HeaderMap) -> Media {
        if graphql_response(headers) {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    /// The `Content-Type` of an answer.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }

    /// One operation's answer. As `application/graphql-response+json`, a request that failed
    /// before anything ran — it did not parse, validate, or its variables did not coerce: errors,
    /// no data, none at a field — is 400 and has no `data` entry.
    pub(super) fn answer(self, response: async_graphql::Response) -> Response {
        if self == Media::Json || crate::schema::ran(&response) {
            return self.send(StatusCode::OK, &response);
        }
        match serde_json::to_value(&response) {
            Ok(mut value) => {
                if let Some(answer) = value.as_object_mut() {
                    answer.remove("data");
                }
                self.send(StatusCode::BAD_REQUEST, &value)
            }
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }

    /// A batch's answers (200 whatever each holds).
    pub(super) fn answer_batch(self, batch: async_graphql::BatchResponse) -> Response {
        self.send(StatusCode::OK, &batch)
    }

    fn send(self, status: StatusCode, body: &impl serde::Serialize) -> Response {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                let mut resp = (status, bytes).into_response();
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type()),
                );
                resp
            }
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Whether `/metrics` answers in the Prometheus text format (0.0.4) rather than OpenMetrics (the
/// default, and what Prometheus asks for first).
pub(super) fn prometheus_text(headers: &HeaderMap) -> bool {
    asks_for(headers, "text/plain", OPENMETRICS) && !asks_for(headers, OPENMETRICS, "text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn graphql_response_only_when_named_and_not_outranked() {
        let cases: &[(Option<&str>, bool)] = &[
            (None, false),
            (Some("*/*"), false),
            (Some("application/json"), false),
            (Some("application/*"), false),
            (Some("application/graphql-response+json"), true),
            (Some("Application/GraphQL-Response+JSON"), true),
            (
                Some("application/graphql-response+json, application/json"),
                true,
            ),
            (
                Some("application/json, application/graphql-response+json"),
                true,
            ),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                true,
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                false,
            ),
            (Some("application/graphql-response+json;q=0"), false),
            (
                Some("application/graphql-response+json;charset=utf-8"),
                true,
            ),
            (Some("text/html"), false),
        ];
        for (accept, want) in cases {
            assert_eq!(graphql_response(&with(*accept)), *want, "{accept:?}");
        }
    }

    #[test]
    fn metrics_text_format_when_asked_for_it() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        let cases: &[(Option<&str>, bool)] = &[
            (None, false),
            (Some("*/*"), false),
            (Some(prometheus), false),
            (Some("text/plain;version=0.0.4"), true),
            (Some("text/plain; version=0.0.4; charset=utf-8"), true),
            (Some("text/*"), false),
            (Some("text/plain, application/openmetrics-text"), false),
            (Some("text/plain, application/openmetrics-text;q=0.5"), true),
        ];
        for (accept, want) in cases {
            assert_eq!(prometheus_text(&with(*accept)), *want, "{accept:?}");
        }
    }
}
