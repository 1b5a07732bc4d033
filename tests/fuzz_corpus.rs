//! Replays every committed fuzz input (fuzz/corpus/<target>/ and the fixed crashes in
//! fuzz/artifacts/<target>/) through the same harnesses the fuzz targets run
//! (tests/support/fuzz_export.rs), and checks the X-Ray rules validator itself.

mod support;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::json;
use support::{fuzz_export, xray_rules};

/// Every file of fuzz/corpus/<target> and fuzz/artifacts/<target>.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = root.join("corpus").join(target);
    assert!(corpus.is_dir(), "{} is missing", corpus.display());
    let mut files = Vec::new();
    for dir in [corpus, root.join("artifacts").join(target)] {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no inputs for {target}");
    files
}

/// Runs `harness` on every input of `target`, reporting every input that fails.
fn replay(target: &str, harness: impl Fn(&[u8])) {
    let mut failures = Vec::new();
    for path in inputs(target) {
        let data = fs::read(&path).expect("read input");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| harness(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn header_corpus() {
    replay("header", fuzz_export::header);
}

#[test]
fn daemon_address_corpus() {
    // Host names are never resolved here (the fuzz target runs in a network namespace).
    replay("daemon_address", |data| {
        fuzz_export::daemon_address(data, false);
    });
}

#[test]
fn export_corpus() {
    replay("export", fuzz_export::export);
}

fn valid_segment() -> serde_json::Value {
    json!({
        "name": "orders api_1.0:/%&#=+\\-@ é٣",
        "id": "53995c3f42cd8ad8",
        "trace_id": "1-6553f100-5c8e3a1f9bd5c2e4a7b60d13",
        "start_time": 1700000000.5,
        "end_time": 1700000001,
        "fault": false,
        "http": {"request": {"method": "GET", "url": "http://x/"}, "response": {"status": 200, "content_length": 0}},
        "cause": {"exceptions": [
            {"id": "0123456789abcdef", "type": "E", "message": "m", "remote": true, "cause": "fedcba9876543210",
             "stack": [{"path": "a.rs", "line": 1, "label": "f"}]},
            {"id": "fedcba9876543210", "truncated": 3}
        ]},
        "aws": {"xray": {"sdk": "opentelemetry for rust", "auto_instrumentation": false},
                "ec2": {"instance_id": null}, "table_names": ["a"]},
        "annotations": {"tenant_1.x": "t", "n": 1.5, "b": true},
        "metadata": {"default": {"k": [1, null]}, "ns": {}},
        "links": [{"trace_id": "1-6553f100-5c8e3a1f9bd5c2e4a7b60d13", "id": "0123456789abcdef", "attributes": {}}],
        "subsegments": [{"name": "db", "id": "70de5b6f19ff9a0a", "start_time": 1.0, "in_progress": true,
                         "namespace": "remote", "sql": {"url": "u", "preparation": "call"}}]
    })
}

#[test]
fn the_validator_accepts_a_valid_document_and_rejects_each_broken_rule() {
    xray_rules::check(&valid_segment()).expect("valid");
    let broken: &[(&str, serde_json::Value)] = &[
        ("/name", json!("a,b")),
        ("/name", json!("x".repeat(201))),
        ("/name", json!("")),
        ("/name", json!("Ⓐ")),
        ("/id", json!("53995C3F42CD8AD8")),
        ("/trace_id", json!("1-6553f100-5c8e3a1f9bd5c2e4a7b60d1")),
        ("/start_time", json!("1")),
        ("/end_time", json!(null)),
        ("/fault", json!(1)),
        ("/namespace", json!("local")),
        ("/type", json!("subsegment")),
        ("/http/response/status", json!(200.5)),
        ("/http/request/x_forwarded_for", json!("true")),
        ("/cause/exceptions/0/id", json!("0123")),
        ("/cause/exceptions/0/cause", json!("x")),
        ("/cause/exceptions/1/id", json!("0123456789abcdef")),
        ("/cause/exceptions/0/stack/0/line", json!("1")),
        ("/annotations/bad-key", json!(1)),
        ("/annotations/null", json!(null)),
        ("/annotations/long", json!("x".repeat(1001))),
        ("/annotations/", json!(1)),
        ("/metadata/ns", json!(1)),
        ("/aws/table_name", json!(1)),
        ("/aws/xray/auto_instrumentation", json!("no")),
        ("/sql", json!({"preparation": "prepared"})),
        ("/links/0/id", json!("z")),
        ("/subsegments/0/name", json!("a;b")),
        ("/subsegments/0/id", json!("53995c3f42cd8ad8")),
        ("/subsegments/0/parent_id", json!("0123456789abcdef")),
        (
            "/subsegments/0/trace_id",
            json!("1-6553f100-5c8e3a1f9bd5c2e4a7b60d14"),
        ),
        ("/unknown", json!(1)),
    ];
    for (pointer, value) in broken {
        let mut document = valid_segment();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let target = document.pointer_mut(parent).unwrap();
        target
            .as_object_mut()
            .unwrap()
            .insert(key.to_owned(), value.clone());
        assert!(
            xray_rules::check(&document).is_err(),
            "{pointer} = {value} was accepted"
        );
    }
    let mut many = valid_segment();
    many["annotations"] = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
    assert!(xray_rules::check(&many).is_err(), "51 annotations were accepted");
    let mut datagram = xray_rules::DATAGRAM_HEADER.to_vec();
    datagram.extend(serde_json::to_vec(&valid_segment()).unwrap());
    xray_rules::check_datagram(&datagram).expect("valid datagram");
    assert!(xray_rules::check_datagram(&datagram[1..]).is_err(), "no header");
    datagram.resize(64_001, b' ');
    assert!(xray_rules::check_datagram(&datagram).is_err(), "oversize");
}

#[test]
fn only_ip_literals_are_parsed_without_a_namespace() {
    assert!(!fuzz_export::resolves_names("127.0.0.1:2000"));
    assert!(!fuzz_export::resolves_names("tcp:[::1]:1 udp:127.0.0.1:2"));
    assert!(!fuzz_export::resolves_names("daemon"));
    assert!(fuzz_export::resolves_names("localhost:2000"));
    assert!(fuzz_export::resolves_names("tcp:127.0.0.1:1 udp:[host]:2"));
}
