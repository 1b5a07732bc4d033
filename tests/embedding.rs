//! Subsegments that leave in the same batch as their parent travel inside its document: one
//! datagram per request, nested as the spans were, each counted; what does not fit, or has no
//! parent in the batch, is sent on its own.

mod support;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceState};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::Value as Json;
use xray_bridge::XrayExporter;

/// A span `id` under `parent` (0: a root) in the test trace.
fn span(name: &str, id: u64, parent: u64, kind: SpanKind, attributes: Vec<KeyValue>) -> SpanData {
    let mut span = support::test_span(name, kind, false, attributes, Vec::new());
    span.span_context = SpanContext::new(
        span.span_context.trace_id(),
        SpanId::from(id),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    span.parent_span_id = SpanId::from(parent);
    span
}

fn exporter(daemon: &support::Daemon) -> XrayExporter {
    XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap()
}

/// Name and nested children of a document, for comparing shapes.
fn shape(document: &Json) -> Json {
    let children: Vec<Json> = document["subsegments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(shape)
        .collect();
    if children.is_empty() {
        document["name"].clone()
    } else {
        serde_json::json!({ document["name"].as_str().unwrap(): children })
    }
}

#[test]
fn a_request_and_its_children_leave_as_one_datagram() {
    let daemon = support::Daemon::start();
    let exporter = exporter(&daemon);
    // In the order spans end: children first.
    let batch = vec![
        span("cache", 3, 2, SpanKind::Internal, vec![]),
        span("load", 2, 1, SpanKind::Internal, vec![]),
        span(
            "db",
            4,
            1,
            SpanKind::Client,
            vec![KeyValue::new("peer.service", "orders-db")],
        ),
        span("GET /orders", 1, 0, SpanKind::Server, vec![]),
    ];
    futures_executor::block_on(exporter.export(batch)).unwrap();
    let received = daemon.receive(1);
    let document = support::document(&received[0]);
    assert_eq!(
        shape(&document),
        serde_json::json!({ "GET /orders": [{ "load": ["cache"] }, "orders-db"] })
    );
    for embedded in support::flatten(&document).into_iter().skip(1) {
        assert_eq!(embedded["type"], "subsegment");
        assert_eq!(embedded["trace_id"], document["trace_id"]);
        assert!(embedded["parent_id"].is_string(), "{embedded}");
    }
    let cache = &document["subsegments"][0]["subsegments"][0];
    assert_eq!(cache["parent_id"], document["subsegments"][0]["id"]);
    let stats = exporter.stats();
    assert_eq!(
        (stats.spans_ended, stats.spans_sent, stats.datagrams_sent),
        (4, 4, 1),
        "{stats:?}"
    );
    assert!(daemon
        .receive_for(std::time::Duration::from_millis(100))
        .is_empty());
}

#[test]
fn a_child_that_does_not_fit_beside_its_parent_goes_alone() {
    let daemon = support::Daemon::start();
    let exporter = exporter(&daemon);
    let big = |n: usize| vec![KeyValue::new("blob", "x".repeat(n))];
    let batch = vec![
        span("small child", 3, 1, SpanKind::Internal, vec![]),
        span("big child", 2, 1, SpanKind::Internal, big(40_000)),
        span("parent", 1, 0, SpanKind::Server, big(30_000)),
    ];
    futures_executor::block_on(exporter.export(batch)).unwrap();
    let documents: Vec<Json> = daemon.receive(2).iter().map(|d| support::document(d)).collect();
    let shapes: Vec<Json> = documents.iter().map(shape).collect();
    assert!(shapes.contains(&serde_json::json!("big child")), "{shapes:?}");
    assert!(
        shapes.contains(&serde_json::json!({ "parent": ["small child"] })),
        "{shapes:?}"
    );
    let stats = exporter.stats();
    assert_eq!(
        (stats.spans_sent, stats.datagrams_sent, stats.documents_reduced),
        (3, 2, 0),
        "{stats:?}"
    );
}

#[test]
fn segments_and_spans_whose_parent_is_elsewhere_go_alone() {
    let daemon = support::Daemon::start();
    let exporter = exporter(&daemon);
    let batch = vec![
        // A Server span under a local parent is a segment of its own, never embedded.
        span("inner server", 2, 1, SpanKind::Server, vec![]),
        // Its parent is in another batch.
        span("orphan", 5, 9, SpanKind::Internal, vec![]),
        span("outer", 1, 0, SpanKind::Server, vec![]),
    ];
    futures_executor::block_on(exporter.export(batch)).unwrap();
    let mut names: Vec<Json> = daemon
        .receive(3)
        .iter()
        .map(|d| shape(&support::document(d)))
        .collect();
    names.sort_by_key(|n| n.to_string());
    assert_eq!(
        names,
        [serde_json::json!("inner server"), "orphan".into(), "outer".into()]
    );
}

#[test]
fn malformed_families_never_hang_or_lose_a_span() {
    let daemon = support::Daemon::start();
    let exporter = exporter(&daemon);
    let batch = vec![
        // Each the other's parent.
        span("a", 1, 2, SpanKind::Internal, vec![]),
        span("b", 2, 1, SpanKind::Internal, vec![]),
        // Its own parent.
        span("c", 3, 3, SpanKind::Internal, vec![]),
        // A parent that ended before its child.
        span("d", 4, 0, SpanKind::Server, vec![]),
        span("e", 5, 4, SpanKind::Internal, vec![]),
    ];
    futures_executor::block_on(exporter.export(batch)).unwrap();
    let documents: Vec<Json> = daemon
        .receive_for(std::time::Duration::from_millis(300))
        .iter()
        .map(|d| support::document(d))
        .collect();
    let mut names: Vec<String> = documents
        .iter()
        .flat_map(support::flatten)
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert_eq!(exporter.stats().spans_sent, 5);
}

#[test]
fn a_refused_family_counts_every_span_in_it() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let exporter = XrayExporter::builder()
        .with_daemon_address(address.to_string())
        .build()
        .unwrap();
    let batch = vec![
        span("child", 2, 1, SpanKind::Internal, vec![]),
        span("parent", 1, 0, SpanKind::Server, vec![]),
    ];
    futures_executor::block_on(exporter.export(batch)).unwrap();
    let stats = exporter.stats();
    assert_eq!(
        (
            stats.spans_ended,
            stats.spans_refused,
            stats.spans_sent,
            stats.datagrams_refused
        ),
        (2, 2, 0, 1),
        "{stats:?}"
    );
}
