//! Where this crate deliberately differs from the reference exporter (README, "Differences from
//! the reference"): each difference, checked through the public exporter.

mod support;

use opentelemetry::trace::{Event, SpanKind};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use serde_json::{json, Value as Json};
use xray_bridge::XrayExporter;

fn span(name: &str, kind: SpanKind, attributes: Vec<KeyValue>, events: Vec<Event>) -> SpanData {
    support::test_span(name, kind, true, attributes, events)
}

fn exception(kind: &str, message: &str, stacktrace: Value) -> Event {
    Event::new(
        "exception",
        std::time::SystemTime::now(),
        vec![
            KeyValue::new("exception.type", kind.to_owned()),
            KeyValue::new("exception.message", message.to_owned()),
            KeyValue::new("exception.stacktrace", stacktrace),
        ],
        0,
    )
}

/// Exports `span` under a resource with `telemetry.sdk.language = language`.
fn export(language: &str, span: SpanData) -> Json {
    let daemon = support::Daemon::start();
    let mut exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    exporter.set_resource(
        &Resource::builder_empty()
            .with_attribute(KeyValue::new("telemetry.sdk.language", language.to_owned()))
            .build(),
    );
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    support::document(&daemon.receive(1)[0])
}

fn without_ids(mut exceptions: Json) -> Json {
    for exception in exceptions.as_array_mut().unwrap() {
        let object = exception.as_object_mut().unwrap();
        assert_eq!(object.remove("id").unwrap().as_str().unwrap().len(), 16);
        object.remove("cause");
    }
    exceptions
}

#[test]
fn nodejs_stacks_are_parsed_like_javascript() {
    let trace = "TypeError: boom\n    at handler (/app/index.js:12:5)\n    at process (node:internal/x:3:1)";
    let document = export(
        "nodejs",
        span(
            "call",
            SpanKind::Internal,
            vec![],
            vec![exception("TypeError", "boom", trace.into())],
        ),
    );
    assert_eq!(
        document["cause"]["exceptions"][0]["stack"],
        json!([
            {"path": "/app/index.js", "line": 12, "label": "handler "},
            {"path": "node", "line": 0, "label": "process "}
        ])
    );
}

#[test]
fn rust_backtraces_are_parsed_into_frames() {
    let trace = "   0: orders::db::query\n             at ./src/db.rs:42:9\n   1: orders::handler\n             at ./src/handler.rs:17:5\n   2: std::rt::lang_start";
    let document = export(
        "rust",
        span(
            "call",
            SpanKind::Internal,
            vec![],
            vec![exception("DbError", "timeout", trace.into())],
        ),
    );
    assert_eq!(
        document["cause"]["exceptions"][0]["stack"],
        json!([
            {"path": "./src/db.rs", "line": 42, "label": "orders::db::query"},
            {"path": "./src/handler.rs", "line": 17, "label": "orders::handler"},
            {"path": "", "line": 0, "label": "std::rt::lang_start"}
        ])
    );
}

#[test]
fn an_error_source_chain_becomes_chained_exceptions() {
    let chain = Value::Array(Array::String(vec![
        StringValue::from("database unavailable"),
        StringValue::from("connection refused"),
    ]));
    let document = export(
        "rust",
        span(
            "call",
            SpanKind::Client,
            vec![],
            vec![exception("", "order lookup failed", chain)],
        ),
    );
    let exceptions = &document["cause"]["exceptions"];
    assert_eq!(exceptions[0]["cause"], exceptions[1]["id"]);
    assert_eq!(exceptions[1]["cause"], exceptions[2]["id"]);
    assert_eq!(
        without_ids(exceptions.clone()),
        json!([
            {"message": "order lookup failed", "type": "", "remote": true},
            {"message": "database unavailable", "remote": true},
            {"message": "connection refused", "remote": true}
        ])
    );
}

#[test]
fn malformed_java_stacks_do_not_panic() {
    let trace = "java.lang.Error: x\n\tat a.b(C.java:1)\nCaused by: java.io.IOException:";
    let document = export(
        "java",
        span(
            "call",
            SpanKind::Internal,
            vec![],
            vec![exception("java.lang.Error", "x", trace.into())],
        ),
    );
    let exceptions = without_ids(document["cause"]["exceptions"].clone());
    assert_eq!(
        exceptions[1],
        json!({"type": "java.io.IOException", "message": "", "remote": false})
    );
}

#[test]
fn integer_attributes_recorded_as_strings_are_read() {
    let attributes = vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", "503"),
    ];
    let document = export("rust", span("GET /", SpanKind::Server, attributes, vec![]));
    assert_eq!(document["http"]["response"]["status"], 503);
    assert_eq!(document["fault"], true);
}

#[test]
fn long_names_are_cut_at_a_character_boundary() {
    let name = "ü".repeat(150);
    let document = export("rust", span(&name, SpanKind::Internal, vec![], vec![]));
    assert_eq!(document["name"].as_str().unwrap(), "ü".repeat(100));
}

#[test]
fn an_empty_local_service_name_is_treated_as_absent() {
    let attributes = vec![
        KeyValue::new("aws.span.kind", "LOCAL_ROOT"),
        KeyValue::new("aws.local.service", ""),
        KeyValue::new("aws.remote.service", "payments"),
    ];
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    let span = span("charge", SpanKind::Client, attributes, vec![]);
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let datagram = support::document(&daemon.receive(1)[0]);
    let documents = support::flatten(&datagram);
    assert_eq!(documents[1]["name"], "payments");
    assert_eq!(
        documents[0]["name"], "charge",
        "falls back to the span name, never null"
    );
}

#[test]
fn duplicate_annotation_keys_keep_the_last_value() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(["a@b", "a#b"])
        .build()
        .unwrap();
    let attributes = vec![KeyValue::new("a@b", 1), KeyValue::new("a#b", 2)];
    futures_executor::block_on(exporter.export(vec![span("x", SpanKind::Internal, attributes, vec![])]))
        .unwrap();
    let document = support::document(&daemon.receive(1)[0]);
    assert_eq!(document["annotations"], json!({"a_b": 2}));
}

#[test]
fn credentials_never_reach_a_document() {
    let attributes = vec![
        KeyValue::new("db.system", "postgresql"),
        KeyValue::new("db.name", "orders"),
        KeyValue::new(
            "db.connection_string",
            "postgresql://app:hunter2@db.internal:5432",
        ),
        KeyValue::new("url.full", "https://user:secret@api.example.com/pay"),
    ];
    let document = export(
        "rust",
        span("INSERT orders", SpanKind::Client, attributes, vec![]),
    );
    assert_eq!(
        document["sql"]["connection_string"],
        "postgresql://db.internal:5432/orders"
    );
    assert_eq!(document["http"]["request"]["url"], "https://api.example.com/pay");
    assert!(!document.to_string().contains("hunter2") && !document.to_string().contains("secret"));
}

#[test]
fn a_null_metadata_namespace_stays_a_string_in_default() {
    let document = export(
        "java",
        span(
            "job",
            SpanKind::Internal,
            vec![
                KeyValue::new("aws.xray.metadata.custom", "null"),
                KeyValue::new("aws.xray.metadata.orders", "{\"count\": 2}"),
            ],
            vec![],
        ),
    );
    assert_eq!(
        document["metadata"],
        json!({"default": {"aws.xray.metadata.custom": "null"}, "orders": {"count": 2}})
    );
}
