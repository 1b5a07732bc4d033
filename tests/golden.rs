//! Every golden vector of the translation reference (tests/fixtures/golden, copied from the
//! project's spec): the span goes through a real `XrayExporter` to a UDP socket on 127.0.0.1,
//! and each received document must equal the expected one field by field.

mod support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use opentelemetry_sdk::trace::SpanExporter;
use serde_json::Value as Json;
use xray_bridge::XrayExporter;

/// Where this crate deliberately differs from the reference, per vector: (file prefix, JSON
/// pointer into the array of expected documents, the value this crate writes (None = absent), why).
const DIFFERENCES: &[(&str, &str, Option<&str>, &str)] = &[(
    "22-",
    "/0/cause/exceptions/0/stack",
    Some(
        r#"[{"path":"/home/gbusey/file.js","line":6,"label":"speedy "},
            {"path":"/home/gbusey/file.js","line":5,"label":"makeFaster "},
            {"path":"/home/gbusey/file.js","line":10,"label":"Object.<anonymous> "},
            {"path":"node.js","line":906,"label":""},
            {"path":"native","line":0,"label":"Array.forEach "},
            {"path":"native","line":0,"label":""}]"#,
    ),
    "OpenTelemetry JS reports telemetry.sdk.language = nodejs; its stacks are parsed like javascript \
     (the reference leaves them unparsed, its issue #45356)",
)];

/// Input attributes OpenTelemetry for Rust cannot express (maps, empty values); the
/// corresponding expected entries are removed before comparing.
fn unrepresentable_keys(object: &Json) -> Vec<String> {
    object
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(k, v)| support::key_value(k, v).is_none())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn exporter_for(config: &Json, daemon: &support::Daemon) -> XrayExporter {
    let list = |key: &str| -> Vec<String> {
        config[key]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(list("indexed_attributes"))
        .with_index_all_attributes(config["index_all_attributes"].as_bool().unwrap_or(false))
        .with_aws_log_groups(list("aws_log_groups"))
        .with_trace_id_validation(!config["skip_timestamp_validation"].as_bool().unwrap_or(true))
        .with_dots_in_annotation_keys(config["allow_dot"].as_bool().unwrap_or(true))
        .build()
        .expect("exporter")
}

/// Compares `actual` with `expected`: same keys, `$hex16` matchers, `$eq:<pointer>` (equal to
/// the received value at that pointer of `root`), numbers within 1e-6.
fn compare(expected: &Json, actual: &Json, root: &Json, path: &str, failures: &mut Vec<String>) {
    match (expected, actual) {
        (Json::String(m), _) if m == "$hex16" => {
            let ok = actual.as_str().is_some_and(|s| {
                s.len() == 16
                    && s.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            });
            if !ok {
                failures.push(format!("{path}: expected 16 hex digits, got {actual}"));
            }
        }
        (Json::String(m), _) if m.starts_with("$eq:") => {
            let target = root.pointer(&m[4..]);
            if target != Some(actual) {
                failures.push(format!("{path}: expected {m} = {target:?}, got {actual}"));
            }
        }
        (Json::Object(e), Json::Object(a)) => {
            for (key, ev) in e {
                match a.get(key) {
                    Some(av) => compare(ev, av, root, &format!("{path}/{key}"), failures),
                    None => failures.push(format!("{path}/{key}: missing, expected {ev}")),
                }
            }
            for (key, av) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                failures.push(format!("{path}/{key}: unexpected {av}"));
            }
        }
        (Json::Array(e), Json::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, root, &format!("{path}/{i}"), failures);
            }
        }
        (Json::Number(e), Json::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap_or(f64::NAN), a.as_f64().unwrap_or(f64::NAN));
            if (e - a).abs() > 1e-6 {
                failures.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        _ if expected == actual => {}
        _ => failures.push(format!("{path}: expected {expected}, got {actual}")),
    }
}

#[test]
fn every_golden_vector_matches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden");
    let mut files: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 28, "golden vectors present");
    let mut report = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let vector: Json = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        let daemon = support::Daemon::start();
        let mut exporter = exporter_for(&vector["config"], &daemon);
        exporter.set_resource(&support::resource(&vector["resource"]));
        let span = support::span(&vector["span"]);
        futures_executor::block_on(exporter.export(vec![span])).expect("export never fails");

        let mut expected = match (&vector["expected"], &vector["expected_documents"]) {
            (Json::Null, Json::Array(docs)) => Json::Array(docs.clone()),
            (Json::Null, _) => Json::Array(vec![]),
            (doc, _) => Json::Array(vec![doc.clone()]),
        };
        let documents: Vec<Json> = if expected.as_array().unwrap().is_empty() {
            assert!(vector["expected_error"].is_string(), "{name}: no expectation");
            let stray = daemon.receive_for(Duration::from_millis(200));
            assert!(stray.is_empty(), "{name}: a rejected span was sent");
            assert_eq!(
                exporter.stats().spans_dropped_invalid_trace_id,
                1,
                "{name}: drop counted"
            );
            continue;
        } else {
            let count = expected.as_array().unwrap().len();
            daemon
                .receive(count)
                .iter()
                .map(|d| support::document(d))
                .collect()
        };
        for key in unrepresentable_keys(&vector["resource"]) {
            for doc in expected.as_array_mut().unwrap() {
                for section in ["metadata", "annotations"] {
                    if let Some(map) = doc
                        .pointer_mut(&format!("/{section}/default"))
                        .and_then(Json::as_object_mut)
                    {
                        map.remove(&format!("otel.resource.{key}"));
                    }
                    if let Some(map) = doc.get_mut(section).and_then(Json::as_object_mut) {
                        map.remove(&format!("otel.resource.{key}"));
                        map.remove(&format!("otel_resource_{}", key.replace('.', "_")));
                    }
                }
            }
        }
        for (prefix, pointer, ours, _why) in DIFFERENCES {
            if name.starts_with(prefix) {
                let (parent, leaf) = pointer.rsplit_once('/').unwrap();
                let parent = expected
                    .pointer_mut(parent)
                    .and_then(Json::as_object_mut)
                    .unwrap();
                match ours {
                    Some(value) => parent.insert(leaf.to_owned(), serde_json::from_str(value).unwrap()),
                    None => parent.remove(leaf),
                };
            }
        }
        let actual = Json::Array(documents);
        let mut failures = Vec::new();
        if vector["expected_documents"].is_array() {
            compare(&expected, &actual, &actual, "", &mut failures);
        } else {
            compare(&expected[0], &actual[0], &actual[0], "", &mut failures);
        }
        if !failures.is_empty() {
            report.push(format!(
                "{name}:\n  {}\n  actual: {actual}",
                failures.join("\n  ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} vectors differ:\n{}",
        report.len(),
        report.join("\n")
    );
}
