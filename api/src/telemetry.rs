//! Logs and traces. Logs go to stderr (readable in development, JSON in production); traces go to
//! an OpenTelemetry collector over OTLP/HTTP when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, and nowhere otherwise. Spans and events carry
//! identifiers only (request, LA, actor, operation name), never variables, query text or tokens.

use axum::http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt as _};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{Config, LogFormat, Mode};

/// The service name traces carry unless `OTEL_SERVICE_NAME` says otherwise.
const SERVICE_NAME: &str = "reunify";

/// The OTLP trace pipeline the `OTEL_*` variables describe; `None` when no endpoint is set or
/// `OTEL_SDK_DISABLED=true`. Build it outside the async runtime (its HTTP client blocks).
pub fn provider_from_env() -> anyhow::Result<Option<SdkTracerProvider>> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if disabled
        || !(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if !set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    Ok(Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    ))
}

/// The layer that turns `tracing` spans into OpenTelemetry spans of `provider`.
pub fn layer<S>(provider: &SdkTracerProvider) -> OpenTelemetryLayer<S, SdkTracer>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer(SERVICE_NAME))
}

/// Installs the process's subscriber: stderr logs in the mode's format filtered by `RUST_LOG`
/// (default `level`), and the trace layer (spans at `info` and above) when a pipeline is given.
pub fn init(config: &Config, provider: Option<&SdkTracerProvider>, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let format = config.log_format.unwrap_or(match config.mode {
        Mode::Development => LogFormat::Pretty,
        Mode::Production => LogFormat::Json,
    });
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // `RUST_LOG` filters the logs only: spans still reach the collector at `info`.
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![match format {
        LogFormat::Json => fmt.json().with_filter(filter).boxed(),
        LogFormat::Pretty => fmt.with_filter(filter).boxed(),
    }];
    if let Some(provider) = provider {
        layers.push(
            layer(provider)
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
                .boxed(),
        );
    }
    tracing_subscriber::registry().with(layers).init();
}

/// The span of one GraphQL HTTP request, continuing the caller's trace when it sent a valid W3C
/// `traceparent`.
pub fn request_span(headers: &HeaderMap, request_id: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "graphql request",
        otel.kind = "server",
        request.id = %request_id,
        la.id = tracing::field::Empty,
        actor.id = tracing::field::Empty,
        graphql.operations = tracing::field::Empty,
        errors = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderCarrier(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// The trace id of a request: its span's when traces are exported, otherwise the caller's
/// `traceparent`'s, otherwise a new one. Audit rows and error logs carry it.
pub fn trace_id(span: &tracing::Span, headers: &HeaderMap) -> String {
    let context = span.context();
    let exported = context.span().span_context().clone();
    if exported.is_valid() {
        return exported.trace_id().to_string();
    }
    let given = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('-').nth(1))
        .filter(|t| {
            t.len() == 32
                && t.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                && t.bytes().any(|b| b != b'0')
        });
    match given {
        Some(t) => t.to_owned(),
        None => {
            let mut bytes = [0u8; 16];
            let _ = getrandom::fill(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

struct HeaderCarrier<'a>(&'a HeaderMap);

impl opentelemetry::propagation::Extractor for HeaderCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

tokio::task_local! {
    static TRACE_ID: String;
}

/// Runs `work` with `trace_id` as the current request's trace id (see [`current_trace_id`]).
pub async fn with_trace_id<F: std::future::Future>(trace_id: String, work: F) -> F::Output {
    TRACE_ID.scope(trace_id, work).await
}

/// The trace id of the request being served, for error bodies; `None` outside one.
pub fn current_trace_id() -> Option<String> {
    TRACE_ID
        .try_with(Clone::clone)
        .ok()
        .filter(|t| !t.is_empty())
}
