//! Every `X-Amzn-Trace-Id` vector of the project's spec (tests/fixtures/header_vectors.json):
//! what the tolerant parsing rule says about validity, trace id, parent and sampling, then the
//! same header through `XrayPropagator` and a local span, and back out.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};
use serde_json::Value as Json;
use xray_bridge::Sampled;
use xray_bridge::{TraceHeader, XrayParentBasedSampler, XrayPropagator};

fn vectors() -> Vec<Json> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/header_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn xray_trace_id(root: &[u8; 16]) -> String {
    format!("1-{}-{}", hex(&root[..4]), hex(&root[4..]))
}

fn expected_sampled(vector: &Json) -> Sampled {
    match &vector["sampled"] {
        Json::Bool(true) => Sampled::Yes,
        Json::Bool(false) => Sampled::No,
        Json::String(s) if s == "?" => Sampled::Requested,
        _ => Sampled::Unknown,
    }
}

#[test]
fn every_vector_parses_as_the_rule_says() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 25);
    for vector in &vectors {
        let raw = vector["header"].as_str().unwrap();
        let parsed = TraceHeader::parse(raw);
        assert_eq!(
            parsed.is_some(),
            vector["valid"].as_bool().unwrap(),
            "validity of {raw:?}"
        );
        let Some(header) = parsed else { continue };
        assert_eq!(
            xray_trace_id(&header.root()),
            vector["trace_id"].as_str().unwrap(),
            "{raw:?}"
        );
        assert_eq!(
            header.parent().map(|p| hex(&p)).as_deref(),
            vector["parent_id"].as_str(),
            "{raw:?}"
        );
        assert_eq!(header.sampled(), expected_sampled(vector), "{raw:?}");
        let extra: Vec<(String, String)> = vector["extra"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let got: Vec<(String, String)> = header
            .extra()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, extra, "{raw:?}");
    }
}

/// Extracts `raw`, starts a local server span under it, and injects that span's context.
fn through_a_local_span(raw: &str) -> (Option<(String, String, bool)>, Option<String>) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .with_sampler(XrayParentBasedSampler::new(Sampler::AlwaysOn))
        .build();
    let tracer = provider.tracer("vectors");
    let propagator = XrayPropagator::default();
    let carrier = HashMap::from([("x-amzn-trace-id".to_owned(), raw.to_owned())]);
    let parent = propagator.extract_with_context(&Context::new(), &carrier);
    let span = tracer
        .span_builder("request")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);
    let mut out = HashMap::new();
    propagator.inject_context(&cx, &mut out);
    let local = cx.span().span_context().clone();
    cx.span().end();
    let finished = exporter.get_finished_spans().unwrap();
    let exported = finished.first().map(|s| {
        (
            format!("{:032x}", s.span_context.trace_id()),
            format!("{:016x}", s.parent_span_id),
            local.is_sampled(),
        )
    });
    (exported, out.remove("x-amzn-trace-id"))
}

#[test]
fn every_vector_continues_through_a_local_span() {
    for vector in &vectors() {
        let raw = vector["header"].as_str().unwrap();
        let (exported, injected) = through_a_local_span(raw);
        let injected = injected.expect("a sampled local span is always injected");
        let out = TraceHeader::parse(&injected).expect("what we inject parses");
        assert_eq!(
            out.sampled(),
            if vector["sampled"] == false {
                Sampled::No
            } else {
                Sampled::Yes
            },
            "{raw:?}"
        );
        assert!(!injected.contains("Self="), "Self is never forwarded: {injected}");
        if vector["valid"] == false {
            // A malformed header starts a clean trace.
            assert_ne!(
                Some(xray_trace_id(&out.root())),
                vector["trace_id"].as_str().map(str::to_owned)
            );
            continue;
        }
        assert_eq!(
            xray_trace_id(&out.root()),
            vector["trace_id"].as_str().unwrap(),
            "same trace: {raw:?}"
        );
        let extra: Vec<(&str, &str)> = vector["extra"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap())).collect())
            .unwrap_or_default();
        assert_eq!(out.extra(), extra, "extra fields forwarded: {raw:?}");
        match exported {
            Some((_, parent, _)) => {
                let expected = vector["parent_id"].as_str();
                if let Some(expected) = expected {
                    assert_eq!(parent, expected, "{raw:?}");
                }
            }
            None => assert_eq!(vector["sampled"], false, "only Sampled=0 drops: {raw:?}"),
        }
    }
}

#[test]
fn undecided_requests_are_decided_here_and_the_decision_is_sent_on() {
    let root_only = "Root=1-67891233-abcdef012345678912345678";
    let (exported, injected) = through_a_local_span(root_only);
    assert!(exported.is_some(), "the local sampler (AlwaysOn) samples it");
    assert!(injected.unwrap().ends_with(";Sampled=1"));

    let propagator = XrayPropagator::default();
    let carrier = HashMap::from([("x-amzn-trace-id".to_owned(), format!("{root_only};Sampled=?"))]);
    let passed_on = propagator.extract(&carrier);
    let mut out = HashMap::new();
    propagator.inject_context(&passed_on, &mut out);
    assert_eq!(
        out["x-amzn-trace-id"],
        format!("{root_only};Sampled=?"),
        "no local decision: still requested"
    );
}
