//! Nothing personal leaves in logs: a canary planted in every free-text and identifying field of a
//! case, and in a bearer token, never appears in what the server logs, at any level down to debug,
//! including when requests fail.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::support::{TestApp, complete_required, decide, open_case};

/// What this test process logs (JSON lines, down to debug) and the spans it exports, through the
/// same trace layer the binary installs when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
struct Capture {
    logs: Arc<Mutex<Vec<u8>>>,
    spans: InMemorySpanExporter,
    provider: SdkTracerProvider,
}

fn captured() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let spans = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(move || Sink(sink.clone()));
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("debug"))
            .with(fmt)
            .with(api::telemetry::layer(&provider));
        let _ = tracing::subscriber::set_global_default(subscriber);
        Capture {
            logs,
            spans,
            provider,
        }
    })
}

/// Every exported span as text: name, attributes, events and their attributes.
fn exported(capture: &Capture) -> (String, Vec<SpanData>) {
    capture.provider.force_flush().unwrap();
    let spans = capture.spans.get_finished_spans().unwrap();
    let mut text = String::new();
    for span in &spans {
        text.push_str(&format!("{} {:?}\n", span.name, span.attributes));
        for event in span.events.iter() {
            text.push_str(&format!("  {} {:?}\n", event.name, event.attributes));
        }
    }
    (text, spans)
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_canary_reaches_the_logs_or_the_exported_spans() {
    let capture = captured();
    let logs = &capture.logs;
    let app = TestApp::spawn().await;
    let canary = "CANARYq7Zx";
    let w = app.caller("201", &["social_worker"]);
    let f = open_case(&w, "CANARYQ7ZX1", 40).await;
    w.must(
        "caseAssign",
        "case { id }",
        json!({ "caseId": f.case, "team": format!("Team {canary}") }),
    )
    .await;
    let member = w
        .must(
            "householdMemberAdd",
            "householdMember { id }",
            json!({ "childId": f.child, "relationship": "MOTHER", "label": format!("Mum {canary}"),
                    "hasParentalResponsibility": true, "livesWithChild": true }),
        )
        .await["householdMember"]["id"]
        .clone();
    w.must(
        "childViewRecord",
        "childView { id }",
        json!({ "caseId": f.case, "content": format!("I want to go home {canary}"), "inOwnWords": true }),
    )
    .await;
    w.must(
        "assessmentFactorRecord",
        "factor { id }",
        json!({ "caseId": f.case, "householdMemberId": member, "kind": "RISK", "category": "ALCOHOL_MISUSE",
                "status": "CURRENT", "evidence": format!("Evidence {canary}") }),
    )
    .await;
    complete_required(&w, &f.case).await;
    decide(
        &w,
        &f.case,
        "D1",
        "YES",
        json!({ "rationale": format!("Because {canary}") }),
    )
    .await;
    // Reads, a miss, refusals, bad input and a duplicate: the paths that log.
    w.ok("query($id: ID!) { case(id: $id) { team child { laChildId householdMembers { label } } childViews { content } factors { evidence } decisions { rationale } } }", json!({ "id": f.case })).await;
    w.gql(
        "{ cases(filter: { team: \"CANARYq7Zx\" }) { totalCount } }",
        json!({}),
    )
    .await;
    w.gql("query { case(id: \"CANARYq7Zx\") { id } }", json!({}))
        .await;
    w.gql("{ cas CANARYq7Zx }", json!({})).await;
    w.mutate(
        "childCreate",
        "child { id }",
        json!({ "laChildId": "CANARYQ7ZX1", "dateOfBirth": "2015-06-01", "sex": "F", "ethnicity": "WBRI" }),
    )
    .await;
    app.caller("201", &["data_analyst"])
        .gql(
            "query($id: ID!) { case(id: $id) { team } }",
            json!({ "id": f.case }),
        )
        .await;
    // A bad token carrying the canary, and a good token (which must not be logged either).
    app.with_token(&format!("eyJhbGciOiJub25lIn0.{canary}.x"))
        .gql("{ me { id } }", json!({}))
        .await;

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(!text.is_empty(), "the capture must see the server's logs");
    assert!(
        text.contains("graphql request"),
        "the capture must hold the request log lines"
    );
    for needle in [canary, "CANARYQ7ZX", &w.token] {
        assert!(!text.contains(needle), "`{needle}` leaked into the logs");
    }
    assert!(!text.to_lowercase().contains(&canary.to_lowercase()));

    // Audit rows carry the trace id of the exported request span (a request's span ends just
    // after its answer is sent, so give the last ones a moment).
    let audited: Vec<String> = {
        use sea_orm::{ConnectionTrait as _, Statement};
        app.db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT DISTINCT trace_id FROM audit_event WHERE trace_id <> ''",
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect()
    };
    assert!(!audited.is_empty());
    let exported_request = |spans: &[SpanData], trace: &str| {
        spans
            .iter()
            .any(|s| s.name == "graphql request" && s.span_context.trace_id().to_string() == trace)
    };
    let mut waited = 0;
    let (spans_text, spans) = loop {
        let (text, spans) = exported(capture);
        if audited.iter().all(|t| exported_request(&spans, t)) || waited >= 50 {
            break (text, spans);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    };
    for trace in &audited {
        assert!(
            exported_request(&spans, trace),
            "audit trace id {trace} has no exported request span"
        );
    }

    // The spans a collector would receive: one per request and operation, identifiers only.
    assert!(
        spans.iter().any(|s| s.name == "graphql operation"),
        "the operation spans are exported: {spans_text}"
    );
    for needle in [canary, "CANARYQ7ZX", &w.token] {
        assert!(
            !spans_text.to_lowercase().contains(&needle.to_lowercase()),
            "`{needle}` leaked into the exported spans"
        );
    }
}
