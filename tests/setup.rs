//! `build_layer()` beside a `fmt` layer, flushing on drop, the internal-log filter and the
//! disable switch; without touching global state except where a test says so.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::XrayExporter;

/// A `fmt` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn build_layer_composes_with_fmt_and_spans_leave_within_milliseconds() {
    let daemon = support::Daemon::start();
    let (layer, xray) = support::pipeline_to(&daemon, "composed");
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let _job = tracing::info_span!("nightly report", otel.kind = "server").entered();
        tracing::info!("report written");
        let _internal =
            tracing::info_span!(target: "xray_bridge::internal", "exporter bookkeeping").entered();
    });
    assert!(String::from_utf8_lossy(&logs.0.lock().unwrap()).contains("report written"));
    let documents: Vec<_> = daemon
        .receive_for(Duration::from_millis(300))
        .iter()
        .map(|d| support::document(d))
        .collect();
    assert_eq!(
        documents.len(),
        1,
        "the span left without a flush, and only the application's: {documents:?}"
    );
    assert_eq!(documents[0]["name"], "composed");
    let stats = xray.stats();
    assert_eq!((stats.spans_ended, stats.spans_sent), (1, 1), "{stats:?}");
}

#[test]
fn a_dropped_guard_does_not_stop_the_pipeline() {
    let daemon = support::Daemon::start();
    // The misuse `let (layer, _) = ...` drops the guard at once.
    let (layer, _) = support::pipeline_to(&daemon, "unguarded");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            tracing::info_span!("job", otel.kind = "server").in_scope(|| {});
        }
    });
    assert_eq!(daemon.receive(3).len(), 3, "every span still arrives");
}

#[test]
fn a_disabled_pipeline_installs_nothing() {
    let xray = xray_bridge::builder().with_enabled(false).install().unwrap();
    assert!(!xray.is_enabled());
    // (`has_been_set` would also count the scoped subscribers of other tests.)
    let global_is_none = tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    assert!(global_is_none, "no global subscriber");
    assert_eq!(xray.stats(), xray_bridge::ExportStats::default());
    xray.flush().unwrap();
}

#[cfg(feature = "http")]
#[test]
fn without_a_global_propagator_the_http_helpers_still_use_x_ray() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    let remote = SpanContext::new(
        TraceId::from(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793_u128),
        SpanId::from(0x5399_5c3f_42cd_8ad8_u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let mut headers = http::HeaderMap::new();
    xray_bridge::http::inject_context(
        &opentelemetry::Context::new().with_remote_span_context(remote),
        &mut headers,
    );
    assert_eq!(
        headers["x-amzn-trace-id"],
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    );
    let back = xray_bridge::http::extract(&headers);
    assert_eq!(
        back.span().span_context().span_id(),
        SpanId::from(0x5399_5c3f_42cd_8ad8_u64)
    );
}

#[test]
fn a_resource_of_your_own_joins_the_detected_one() {
    let daemon = support::Daemon::start();
    let resource = opentelemetry_sdk::Resource::builder_empty()
        .with_service_name("from-resource")
        .with_attribute(opentelemetry::KeyValue::new("service.version", "1.4.2"))
        .build();
    let (layer, xray) = xray_bridge::builder()
        .with_resource(resource)
        .with_lambda_mode(false)
        .with_exporter(XrayExporter::builder().with_daemon_address(daemon.address().to_string()))
        .build_layer()
        .unwrap();
    assert_eq!(xray.service_name(), Some("from-resource"));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info_span!("GET /orders", otel.kind = "server").in_scope(|| {});
    });
    xray.flush().unwrap();
    let documents = daemon.documents(1);
    assert_eq!(documents[0]["name"], "from-resource");
    assert_eq!(documents[0]["service"]["version"], "1.4.2");
}
