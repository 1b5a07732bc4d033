//! Values that must not break the document: non-finite and huge numbers, control characters,
//! quotes, invalid-looking Unicode, and names X-Ray would reject.

mod support;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::json;
use xray_bridge::XrayExporter;

#[test]
fn odd_numbers_and_strings_still_give_valid_json() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(["nan_annotation", "text\"annotation"])
        .build()
        .unwrap();
    let attributes = vec![
        KeyValue::new("nan", f64::NAN),
        KeyValue::new("infinity", f64::INFINITY),
        KeyValue::new("minus_infinity", f64::NEG_INFINITY),
        KeyValue::new("max", i64::MAX),
        KeyValue::new("min", i64::MIN),
        KeyValue::new("tiny", f64::MIN_POSITIVE),
        KeyValue::new("floats", Value::Array(Array::F64(vec![1.5, f64::NAN]))),
        KeyValue::new(
            "control",
            "nul\u{0}bell\u{7}\r\n\t\"quote\" back\\slash \u{2028} </script>",
        ),
        KeyValue::new("nan_annotation", f64::NAN),
        KeyValue::new("text\"annotation", "a\u{1}b"),
        KeyValue::new("http.response.status_code", "not a number"),
    ];
    let span = SpanData {
        span_context: SpanContext::new(
            TraceId::from(0x6553_f100_5c8e_3a1f_9bd5_c2e4_a7b6_0d13_u128),
            SpanId::from(7),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "weird\u{0}name\n(with) <brackets>, commas; and \u{1F600}".into(),
        start_time: std::time::SystemTime::UNIX_EPOCH,
        end_time: std::time::SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(1),
        attributes,
        dropped_attributes_count: 0,
        events: Default::default(),
        links: Default::default(),
        status: Status::error("bad\u{0}thing"),
        instrumentation_scope: Default::default(),
    };
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let document = support::document(&daemon.receive(1)[0]);
    assert_eq!(document["name"], "weirdnamewith brackets commas and ");
    let metadata = &document["metadata"]["default"];
    assert_eq!(metadata["nan"], json!(null));
    assert_eq!(metadata["infinity"], json!(null));
    assert_eq!(metadata["minus_infinity"], json!(null));
    assert_eq!(metadata["max"], json!(i64::MAX));
    assert_eq!(metadata["min"], json!(i64::MIN));
    assert_eq!(metadata["tiny"], json!(f64::MIN_POSITIVE));
    assert_eq!(metadata["floats"], json!([1.5, null]));
    assert_eq!(
        metadata["control"],
        "nul\u{0}bell\u{7}\r\n\t\"quote\" back\\slash \u{2028} </script>"
    );
    assert_eq!(
        document["annotations"],
        json!({"nan_annotation": null, "text_annotation": "a\u{1}b"})
    );
    assert_eq!(document["http"]["response"]["status"], 0);
    assert_eq!(document["cause"]["exceptions"][0]["message"], "bad\u{0}thing");
    assert_eq!(document["start_time"], 0.0);
    assert_eq!(document["end_time"], 0.0);
}
