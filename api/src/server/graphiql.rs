//! GraphiQL (development mode only), served from the binary: the page, its script, and the pinned
//! GraphiQL, React and graphql-ws builds of `api/assets/graphiql` (see its README). Nothing the
//! page loads comes from anywhere else, and its Content-Security-Policy says so to the browser.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What the page may load and connect to: this server, nothing else. GraphiQL sets inline styles
/// and its fonts and icons are `data:` URLs.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The assets under `/graphiql/`: name, media type, bytes. Their names carry their versions, so
/// a browser may keep them.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql-4.0.3.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql-4.0.3.min.js"),
    ),
    (
        "graphiql-4.0.3.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql-4.0.3.min.css"),
    ),
    (
        "react-18.3.1.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-18.3.1.min.js"),
    ),
    (
        "react-dom-18.3.1.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom-18.3.1.min.js"),
    ),
    (
        "graphql-ws-5.16.2.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphql-ws-5.16.2.min.js"),
    ),
    (
        "reunify.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/reunify.js"),
    ),
];

/// `GET /`: the GraphiQL page.
pub(super) async fn page() -> Response {
    let mut resp = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../assets/graphiql/index.html"),
    )
        .into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /graphiql/{file}`: one of the page's assets, or 404.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, media, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Our own script has no version in its name: it is revalidated, the pinned builds are kept.
    let cache = if file == "reunify.js" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    (
        [
            (header::CONTENT_TYPE, *media),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        *bytes,
    )
        .into_response()
}
