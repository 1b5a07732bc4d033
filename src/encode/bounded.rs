//! The work of encoding a pathological span is bounded: translation materialises no more stack
//! frames than could ever be sent, and the encoder serialises a small multiple of one datagram.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;

use super::{Encoded, Encoder, DAEMON_HEADER};
use crate::segment::{
    AsciiId, Exception, StackFrame, EXCEPTIONS_THAT_CANNOT_FIT, FRAMES_THAT_CANNOT_FIT, MAX_DATAGRAM_BYTES,
};
use crate::translate::{translate, ResourceInfo, TranslateConfig};

/// A failed span with `events` exception events, each with the same Java trace of `frames` frames.
fn span(events: usize, frames: usize) -> SpanData {
    let mut trace = String::from("java.lang.StackOverflowError: deep\n");
    for i in 0..frames {
        trace.push_str(&format!(
            "\tat com.example.Recursion.descend(Recursion.java:{i})\n"
        ));
    }
    let trace: Arc<str> = trace.into();
    let mut span_events = SpanEvents::default();
    span_events.events = (0..events)
        .map(|i| {
            Event::new(
                "exception",
                SystemTime::now(),
                vec![
                    KeyValue::new("exception.type", "java.lang.StackOverflowError"),
                    KeyValue::new("exception.message", format!("deep {i}")),
                    KeyValue::new("exception.stacktrace", StringValue::from(Arc::clone(&trace))),
                ],
                0,
            )
        })
        .collect();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(0x6553_f100_5c8e_3a1f_9bd5_c2e4_a7b6_0d13_u128),
            SpanId::from(0x5399_5c3f_42cd_8ad8_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(0x70de_5b6f_19ff_9a0a_u64),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: Cow::Borrowed("big"),
        start_time: SystemTime::now(),
        end_time: SystemTime::now(),
        attributes: vec![KeyValue::new("payload", "some metadata")],
        dropped_attributes_count: 0,
        events: span_events,
        links: SpanLinks::default(),
        status: Status::error("failed"),
        instrumentation_scope: Default::default(),
    }
}

fn java() -> ResourceInfo {
    let resource = Resource::builder_empty()
        .with_attribute(KeyValue::new("telemetry.sdk.language", "java"))
        .build();
    ResourceInfo::new(&resource, &[])
}

fn frames(exception: &Exception<'_>) -> usize {
    exception.stack.as_ref().map_or(0, Vec::len)
}

#[test]
fn the_least_a_frame_and_an_exception_take_is_what_the_bounds_assume() {
    let frame = serde_json::to_vec(&StackFrame::default()).unwrap();
    assert_eq!(frame.len() + 1, crate::segment::MIN_FRAME_BYTES);
    let exception = serde_json::to_vec(&Exception::new(AsciiId(*b"0123456789abcdef"))).unwrap();
    assert_eq!(exception.len() + 1, crate::segment::MIN_EXCEPTION_BYTES);
    assert!(FRAMES_THAT_CANNOT_FIT * (frame.len() + 1) >= MAX_DATAGRAM_BYTES);
    assert!(EXCEPTIONS_THAT_CANNOT_FIT * (exception.len() + 1) >= MAX_DATAGRAM_BYTES);
}

/// 128 exceptions of 20,000 frames: once a 167 MB document (2.56 million frames) serialised whole
/// before its reduction began.
#[test]
fn a_span_of_128_exceptions_of_20_000_frames_is_encoded_in_bounded_work() {
    let span = span(128, 20_000);
    let (resource, config) = (java(), TranslateConfig::new(Vec::new(), false, false, false));
    let mut documents = Vec::new();
    translate(&span, &resource, &config, 0, &mut documents).unwrap();
    let document = &mut documents[0];
    let cause = document.cause.as_ref().unwrap();
    assert_eq!(cause.exceptions.len(), 128);
    let materialised: usize = cause.exceptions.iter().map(frames).sum();
    assert!(
        materialised < FRAMES_THAT_CANNOT_FIT,
        "{materialised} frames materialised"
    );
    for exception in &cause.exceptions {
        assert_eq!(frames(exception) + exception.truncated.unwrap(), 20_000);
    }
    assert!(!cause.left_out.is_none());

    let mut encoder = Encoder::default();
    let (datagram, how) = encoder.encode(document).unwrap();
    assert_eq!(how, Encoded::Reduced);
    assert!(datagram.len() <= MAX_DATAGRAM_BYTES);
    let json: serde_json::Value = serde_json::from_slice(&datagram[DAEMON_HEADER.len()..]).unwrap();
    assert_eq!(
        json["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["metadata", "stack_frames"])
    );
    assert_eq!(json["metadata"]["xray_bridge"]["original_bytes_at_least"], true);
    let exceptions = json["cause"]["exceptions"].as_array().unwrap();
    assert_eq!(exceptions.len(), 128);
    assert_eq!(exceptions[127]["truncated"], 20_000);
    assert_eq!(exceptions[127]["message"], "deep 127");
    // Every pass of the encoder together: the translated document counted once, the attempts.
    let serialised = encoder.serialised();
    assert!(serialised < 8 * 64_000, "{serialised} bytes serialised");
    assert!(encoder.buffer.capacity() <= 2 * MAX_DATAGRAM_BYTES);
}

/// The steps translation took are replayed in order: with its 5,000 frames the document could not
/// fit before its metadata was dropped, and the frames cut; cut to 64 frames while parsing, it
/// could, and is still reduced by both steps.
#[test]
fn a_stack_cut_while_parsing_is_reduced_as_the_whole_one_would_be() {
    let span = span(1, 5_000);
    let (resource, config) = (java(), TranslateConfig::new(Vec::new(), false, false, false));
    let mut documents = Vec::new();
    translate(&span, &resource, &config, 0, &mut documents).unwrap();
    let document = &mut documents[0];
    let exception = &document.cause.as_ref().unwrap().exceptions[0];
    assert_eq!((frames(exception), exception.truncated), (64, Some(4_936)));
    let mut encoder = Encoder::default();
    let (datagram, how) = encoder.encode(document).unwrap();
    assert_eq!(how, Encoded::Reduced);
    let json: serde_json::Value = serde_json::from_slice(&datagram[DAEMON_HEADER.len()..]).unwrap();
    assert_eq!(
        json["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["metadata", "stack_frames"])
    );
    assert!(json["metadata"].get("default").is_none());
    assert_eq!(
        json["cause"]["exceptions"][0]["stack"].as_array().unwrap().len(),
        64
    );
    assert_eq!(json["cause"]["exceptions"][0]["truncated"], 4_936);
}

/// Past the exceptions any document can hold, the rest are not kept, nor any frame.
#[test]
fn ten_thousand_exceptions_keep_no_more_than_could_fit() {
    let span = span(10_000, 10);
    let (resource, config) = (java(), TranslateConfig::new(Vec::new(), false, false, false));
    let mut documents = Vec::new();
    translate(&span, &resource, &config, 0, &mut documents).unwrap();
    let cause = documents[0].cause.as_ref().unwrap();
    assert_eq!(cause.exceptions.len(), EXCEPTIONS_THAT_CANNOT_FIT);
    assert!(cause.left_out.exceptions >= 10_000 - EXCEPTIONS_THAT_CANNOT_FIT);
    assert!(cause
        .exceptions
        .iter()
        .all(|e| frames(e) == 0 && e.truncated == Some(10)));
    let mut encoder = Encoder::default();
    let (datagram, _) = encoder.encode(&mut documents[0]).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&datagram[DAEMON_HEADER.len()..]).unwrap();
    assert_eq!(
        json["metadata"]["xray_bridge"]["reduced"],
        serde_json::json!(["metadata", "stack_frames", "exceptions"])
    );
    assert_eq!(json["cause"]["exceptions"].as_array().unwrap().len(), 16);
}

/// The datagram's document without what legitimately differs between a span reduced from its
/// whole document and from what translation kept: the original size.
fn sent(encoder: &mut Encoder, document: &mut crate::segment::Segment<'_>) -> serde_json::Value {
    let (datagram, how) = encoder.encode(document).unwrap();
    assert_eq!(how, Encoded::Reduced);
    let mut json: serde_json::Value = serde_json::from_slice(&datagram[DAEMON_HEADER.len()..]).unwrap();
    let marker = json["metadata"]["xray_bridge"].as_object_mut().unwrap();
    marker.remove("original_bytes");
    marker.remove("original_bytes_at_least");
    json
}

/// For spans on both sides of each bound, the document sent is the one the encoder makes of the
/// whole document, every frame materialised (built here by hand, with the same exception ids).
#[test]
fn what_translation_leaves_out_changes_nothing_that_is_sent() {
    for (events, frames_each) in [
        (1, 5_000),
        (3, 700),
        (40, 60),
        (128, 2_000),
        (300, 7),
        (3_000, 3),
        (2, 1_999),
    ] {
        let span = span(events, frames_each);
        let (resource, config) = (java(), TranslateConfig::new(Vec::new(), false, false, false));
        let mut documents = Vec::new();
        translate(&span, &resource, &config, 0, &mut documents).unwrap();
        let mut bounded = documents.remove(0);
        let mut whole = bounded.clone();
        let cause = whole.cause.as_mut().unwrap();
        cause.left_out = Default::default();
        let template = cause.exceptions[0].clone();
        cause.exceptions.resize(events, template);
        for (index, exception) in cause.exceptions.iter_mut().enumerate() {
            exception.message = Some(Cow::Owned(format!("deep {index}")));
            exception.truncated = None;
            exception.stack = Some(
                (0..frames_each)
                    .map(|line| StackFrame {
                        path: Cow::Borrowed("Recursion.java"),
                        line: line as i64,
                        label: Cow::Borrowed("com.example.Recursion.descend"),
                    })
                    .collect(),
            );
        }
        let expected = sent(&mut Encoder::default(), &mut whole);
        assert_eq!(
            sent(&mut Encoder::default(), &mut bounded),
            expected,
            "{events} x {frames_each}"
        );
    }
}
