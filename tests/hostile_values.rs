//! Values that must not break the document: non-finite and huge numbers, control characters,
//! quotes, invalid-looking Unicode, and names X-Ray would reject.

mod support;

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::SpanExporter;
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
    let name = "weird\u{0}name\n(with) <brackets>, commas; and \u{1F600}";
    let mut span = support::test_span(name, SpanKind::Internal, false, attributes, Vec::new());
    span.start_time = std::time::SystemTime::UNIX_EPOCH;
    span.end_time = std::time::SystemTime::UNIX_EPOCH - std::time::Duration::from_secs(1);
    span.status = Status::error("bad\u{0}thing");
    futures_executor::block_on(exporter.export(vec![span])).unwrap();
    let datagram = support::document(&daemon.receive(1)[0]);
    // A root Internal span: the service's segment, with the span's subsegment inside.
    let document = support::flatten(&datagram)[1];
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
    // X-Ray accepts only finite numbers as annotation values: NaN stays, in metadata.
    assert_eq!(document["annotations"], json!({"text_annotation": "a\u{1}b"}));
    assert_eq!(metadata["nan_annotation"], json!(null));
    assert_eq!(document["http"]["response"]["status"], 0);
    assert_eq!(document["cause"]["exceptions"][0]["message"], "bad\u{0}thing");
    assert_eq!(document["start_time"], 0.0);
    assert_eq!(document["end_time"], 0.0);
}
