//! Documents larger than one datagram: every datagram stays within 64,000 bytes, is valid JSON,
//! and a reduced document says so (annotation and metadata marker); nothing vanishes uncounted.

mod support;

use opentelemetry::trace::{Event, SpanKind, Status};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use serde_json::Value as Json;
use xray_bridge::XrayExporter;

fn span(name: &str, attributes: Vec<KeyValue>, events: Vec<Event>) -> SpanData {
    let mut span = support::test_span(name, SpanKind::Internal, true, attributes, events);
    span.status = Status::error("failed");
    span
}

/// Exports `span` with a Java resource and returns its one document, checked for size and marker.
fn export_reduced(span: SpanData, indexed: &[&str]) -> (Json, xray_bridge::ExportStats) {
    let daemon = support::Daemon::start();
    let mut exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(indexed.iter().copied())
        .build()
        .unwrap();
    exporter.set_resource(
        &Resource::builder_empty()
            .with_attribute(KeyValue::new("telemetry.sdk.language", "java"))
            .build(),
    );
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let datagrams = daemon.receive(1);
    let document = support::document(&datagrams[0]);
    assert_eq!(
        document["annotations"]["xray_bridge_reduced"], true,
        "marked: {document}"
    );
    assert!(
        document["metadata"]["xray_bridge"]["original_bytes"]
            .as_u64()
            .unwrap()
            > 64_000
    );
    assert_eq!(document["name"], "big", "identity kept");
    assert_eq!(document["id"], "53995c3f42cd8ad8");
    assert_eq!(document["trace_id"], "1-6553f100-5c8e3a1f9bd5c2e4a7b60d13");
    assert_eq!(document["parent_id"], "70de5b6f19ff9a0a");
    assert_eq!(document["fault"], true);
    let stats = exporter.stats();
    assert_eq!(
        (
            stats.datagrams_sent,
            stats.documents_reduced,
            stats.spans_dropped_too_large
        ),
        (1, 1, 0)
    );
    (document, stats)
}

#[test]
fn a_one_megabyte_attribute_is_dropped_with_the_metadata() {
    let huge = "x".repeat(1 << 20);
    let (document, _) = export_reduced(span("big", vec![KeyValue::new("payload", huge)], vec![]), &[]);
    assert_eq!(
        document["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["metadata"])
    );
    assert!(document["metadata"].get("default").is_none());
}

#[test]
fn a_one_megabyte_annotation_is_cut_to_x_rays_limit() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(["tenant"])
        .build()
        .unwrap();
    let huge = "é".repeat(1 << 19);
    let span = span("big", vec![KeyValue::new("tenant", huge)], vec![]);
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let document = support::document(&daemon.receive(1)[0]);
    // X-Ray accepts annotation values of at most 1,000 characters: the value is cut there,
    // which makes the document small enough to need no reduction.
    assert_eq!(document["annotations"]["tenant"], "é".repeat(1000));
    assert_eq!(document["annotations"].get("xray_bridge_reduced"), None);
    assert_eq!(exporter.stats().documents_reduced, 0);
}

#[test]
fn ten_thousand_exception_events_keep_the_first_exceptions() {
    let events = (0..10_000)
        .map(|i| {
            Event::new(
                "exception",
                std::time::SystemTime::now(),
                vec![
                    KeyValue::new("exception.type", "IoError"),
                    KeyValue::new("exception.message", format!("attempt {i} failed")),
                ],
                0,
            )
        })
        .collect();
    let (document, _) = export_reduced(span("big", vec![], events), &[]);
    let exceptions = document["cause"]["exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 16);
    assert_eq!(exceptions[0]["message"], "attempt 0 failed");
}

#[test]
fn a_five_thousand_frame_stack_is_truncated_and_counted() {
    let mut trace = String::from("java.lang.StackOverflowError: deep\n");
    for i in 0..5_000 {
        trace.push_str(&format!(
            "\tat com.example.Recursion.descend(Recursion.java:{i})\n"
        ));
    }
    let event = Event::new(
        "exception",
        std::time::SystemTime::now(),
        vec![
            KeyValue::new("exception.type", "java.lang.StackOverflowError"),
            KeyValue::new("exception.message", "deep"),
            KeyValue::new("exception.stacktrace", trace),
        ],
        0,
    );
    let (document, _) = export_reduced(span("big", vec![], vec![event]), &[]);
    let exception = &document["cause"]["exceptions"][0];
    let frames = exception["stack"].as_array().unwrap();
    assert!(!frames.is_empty() && frames.len() < 5_000);
    assert_eq!(
        frames.len() as u64 + exception["truncated"].as_u64().unwrap(),
        5_000
    );
    assert_eq!(frames[0]["label"], "com.example.Recursion.descend");
    assert_eq!(frames[0]["line"], 0);
}

#[test]
fn a_name_longer_than_a_datagram_is_cut() {
    let name = "n".repeat(100_000);
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    futures_executor::block_on(exporter.export(vec![span(&name, vec![], vec![])])).unwrap();
    let document = support::document(&daemon.receive(1)[0]);
    assert!(document["name"].as_str().unwrap().len() <= 200);
    assert_eq!(exporter.stats().spans_dropped_too_large, 0);
}

#[test]
fn a_huge_user_agent_is_shortened_not_dropped() {
    let agent = format!("Mozilla/5.0 {}", "é".repeat(150_000));
    let attributes = vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("url.full", "https://example.com/orders?id=7"),
        KeyValue::new("user_agent.original", agent.clone()),
        KeyValue::new("http.response.status_code", 200),
    ];
    let (document, _) = export_reduced(span("big", attributes, vec![]), &[]);
    // The longest prefix of at most 4,093 bytes ending at a character boundary, then `…`.
    let kept = format!("Mozilla/5.0 {}", "é".repeat((4_093 - 12) / 2));
    assert_eq!(
        document["http"],
        serde_json::json!({
            "request": {
                "method": "GET",
                "url": "https://example.com/orders?id=7",
                "user_agent": format!("{kept}…"),
            },
            "response": { "status": 200, "content_length": 0 },
        })
    );
    assert_eq!(
        document["http"]["request"]["user_agent"].as_str().unwrap().len(),
        4_095
    );
    assert_eq!(
        document["annotations"],
        serde_json::json!({ "xray_bridge_reduced": true })
    );
    assert_eq!(
        document["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["strings"])
    );
    assert_eq!(
        document["metadata"]["xray_bridge"]["original_bytes"]
            .as_u64()
            .unwrap() as usize,
        // The whole document held the agent, two bytes a character.
        document.to_string().len() + agent.len() - 4_095 + 30 - marker_bytes(&document),
    );
}

/// Bytes the reduction marker adds to a document (the annotation and the metadata namespace).
fn marker_bytes(document: &Json) -> usize {
    let mut unmarked = document.clone();
    unmarked["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("xray_bridge_reduced");
    unmarked.as_object_mut().unwrap().remove("metadata");
    if unmarked["annotations"].as_object().unwrap().is_empty() {
        unmarked.as_object_mut().unwrap().remove("annotations");
    }
    document.to_string().len() - unmarked.to_string().len()
}

#[test]
fn a_huge_statement_keeps_the_sql_block_and_the_stack() {
    let statement = format!("SELECT * FROM orders WHERE id IN ({})", "1,".repeat(200_000));
    let mut trace = String::from("java.sql.SQLException: too long\n");
    for i in 0..100 {
        trace.push_str(&format!("\tat com.example.Dao.query(Dao.java:{i})\n"));
    }
    let event = Event::new(
        "exception",
        std::time::SystemTime::now(),
        vec![
            KeyValue::new("exception.type", "java.sql.SQLException"),
            KeyValue::new("exception.message", "too long"),
            KeyValue::new("exception.stacktrace", trace),
        ],
        0,
    );
    let attributes = vec![
        KeyValue::new("db.system", "postgresql"),
        KeyValue::new("db.statement", statement),
    ];
    let mut span = span("big", attributes, vec![event]);
    span.span_kind = SpanKind::Client;
    let (document, _) = export_reduced(span, &[]);
    let query = document["sql"]["sanitized_query"].as_str().unwrap();
    assert!(query.starts_with("SELECT * FROM orders WHERE id IN (1,1,"));
    assert!(query.ends_with('…') && query.len() <= 4_096, "{}", query.len());
    assert_eq!(document["sql"]["database_type"], "postgresql");
    assert_eq!(
        document["cause"]["exceptions"][0]["stack"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    assert_eq!(
        document["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["strings"])
    );
}
