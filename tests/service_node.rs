//! A root span that does not serve a request (`info_span!`, the `tracing` default) is the
//! service on the service map: a segment named after the service, with the span as its
//! subsegment in the timeline.

mod support;

use opentelemetry_sdk::trace::SpanExporter;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::XrayExporter;

#[test]
fn an_internal_root_span_is_the_service_with_the_span_inside() {
    let daemon = support::Daemon::start();
    let (layer, xray) = support::pipeline_to(&daemon, "billing");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("handle checkout").in_scope(|| {
            tracing::info_span!("load cart").in_scope(|| {});
        });
    });
    xray.flush().unwrap();
    // The child may leave in an earlier batch than its parent, and then travels on its own.
    let mut documents = daemon.documents(3);
    documents.sort_by_key(|d| d["name"].to_string());
    let names: Vec<_> = documents
        .iter()
        .map(|d| (d["name"].clone(), d["type"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            (json!("billing"), json!(null)),
            (json!("handle checkout"), json!("subsegment")),
            (json!("load cart"), json!("subsegment")),
        ],
        "the service's segment, the span, its child"
    );
    assert_eq!(
        documents[0]["subsegments"][0]["name"], "handle checkout",
        "the span travels inside its service's segment"
    );
    let (service, span) = (&documents[0], &documents[1]);
    assert_eq!(span["parent_id"], service["id"]);
    assert_eq!(documents[2]["parent_id"], span["id"]);
    assert_eq!(
        (&service["start_time"], &service["end_time"]),
        (&span["start_time"], &span["end_time"])
    );
    assert_eq!(service.get("parent_id"), None);
    assert_eq!(xray.stats().spans_sent, 2);
}

#[test]
fn a_tracing_name_renames_the_service_segment_only() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_segment_name("nightly-report")
        .build()
        .unwrap();
    let span = support::test_span(
        "export rows",
        opentelemetry::trace::SpanKind::Internal,
        false,
        vec![],
        vec![],
    );
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let datagram = support::document(&daemon.receive(1)[0]);
    let documents = support::flatten(&datagram);
    assert_eq!(documents[0]["name"], "nightly-report");
    assert_eq!(documents[1]["name"], "export rows");
}
