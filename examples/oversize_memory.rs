//! Measures what exporting one pathological span costs: 128 `exception` events, each with a
//! Java stack trace of 20,000 frames (one shared 1.3 MB string). Prints the peak resident set
//! the export adds (VmHWM from `/proc/self/status`, reset through `/proc/self/clear_refs` once
//! the span is built; Linux only) and its wall time.
//!
//! ```text
//! cargo run --release --example oversize_memory
//! ```

use std::borrow::Cow;
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;

const EVENTS: usize = 128;
const FRAMES: usize = 20_000;

/// Peak resident set so far, in kB.
fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn span() -> SpanData {
    let mut trace = String::from("java.lang.StackOverflowError: deep\n");
    for i in 0..FRAMES {
        trace.push_str(&format!(
            "\tat com.example.Recursion.descend(Recursion.java:{i})\n"
        ));
    }
    let trace: Arc<str> = trace.into();
    let mut events = SpanEvents::default();
    events.events = (0..EVENTS)
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
    let now = SystemTime::now();
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
        start_time: now,
        end_time: now,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::error("failed"),
        instrumentation_scope: Default::default(),
    }
}

fn main() {
    let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
    let mut exporter = xray_bridge::XrayExporter::builder()
        .with_daemon_address(daemon.local_addr().unwrap().to_string())
        .build()
        .expect("exporter");
    exporter.set_resource(
        &Resource::builder_empty()
            .with_attribute(KeyValue::new("telemetry.sdk.language", "java"))
            .build(),
    );
    let span = span();
    // Resets VmHWM to the current resident set (Linux 4.0 and later), so that the peak measured
    // is the export's, not that of building the span.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = vm_hwm_kb();
    let started = Instant::now();
    futures_executor::block_on(exporter.export(vec![span])).expect("export");
    let elapsed = started.elapsed();
    let after = vm_hwm_kb();
    let mut buffer = vec![0u8; 70_000];
    let length = daemon.recv(&mut buffer).expect("one datagram");
    let stats = exporter.stats();
    println!(
        "{EVENTS} exceptions x {FRAMES} frames: peak RSS +{} kB (VmHWM {before} -> {after} kB), {:.3} s; \
         datagram {length} bytes, documents_reduced {}, spans_dropped_too_large {}",
        after.saturating_sub(before),
        elapsed.as_secs_f64(),
        stats.documents_reduced,
        stats.spans_dropped_too_large,
    );
    let body = buffer[..length]
        .splitn(2, |b| *b == b'\n')
        .nth(1)
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(body).expect("a JSON document");
    println!("marker: {}", json["metadata"]["xray_bridge"]);
}
