//! Faults: a daemon that is not listening (every loss counted, export never fails, delivery
//! resumes as soon as it is back) and a shutdown while spans are still on their way.

mod support;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceState};
use opentelemetry_sdk::trace::{SpanData, SpanExporter, SpanProcessor};
use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::{XrayExporter, XraySpanProcessor};

fn span(n: u64) -> SpanData {
    let mut span = support::test_span(
        &format!("job-{n}"),
        SpanKind::Server,
        false,
        Vec::new(),
        Vec::new(),
    );
    span.span_context = SpanContext::new(
        span.span_context.trace_id(),
        SpanId::from(n + 1),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    span
}

#[test]
fn a_closed_port_is_counted_and_the_next_spans_arrive() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let exporter = XrayExporter::builder()
        .with_daemon_address(format!("127.0.0.1:{port}"))
        .build()
        .unwrap();

    let batch: Vec<_> = (0..6).map(span).collect();
    futures_executor::block_on(exporter.export(batch)).expect("export never fails");
    let stats = exporter.stats();
    // Nothing listens: every datagram is refused, and none counts as sent.
    assert_eq!(
        (stats.spans_ended, stats.spans_refused, stats.spans_sent),
        (6, 6, 0),
        "{stats:?}"
    );
    assert_eq!(
        (stats.datagrams_refused, stats.datagrams_sent),
        (6, 0),
        "{stats:?}"
    );

    let daemon = match UdpSocket::bind(("127.0.0.1", port)) {
        Ok(socket) => socket,
        Err(_) => return, // another process took the port in between: nothing to check
    };
    daemon
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let batch: Vec<_> = (10..13).map(span).collect();
    futures_executor::block_on(exporter.export(batch)).expect("export never fails");
    let mut names = Vec::new();
    let mut buffer = [0u8; 65_536];
    for _ in 0..3 {
        let n = daemon.recv(&mut buffer).expect("all three delivered");
        names.push(
            support::document(&buffer[..n])["name"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(names, ["job-10", "job-11", "job-12"]);
}

#[test]
fn after_shutdown_spans_are_counted_not_sent() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    exporter.shutdown().unwrap();
    assert!(futures_executor::block_on(exporter.export(vec![span(1), span(2)])).is_err());
    assert_eq!(exporter.stats().spans_dropped_at_shutdown, 2);
    assert!(daemon
        .receive_for(std::time::Duration::from_millis(100))
        .is_empty());
}

#[test]
fn a_daemon_that_starts_later_gets_the_next_spans_within_milliseconds() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (layer, xray) = xray_bridge::builder()
        .with_service_name("patient")
        .with_lambda_mode(false)
        .with_exporter(XrayExporter::builder().with_daemon_address(format!("127.0.0.1:{port}")))
        .build_layer()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let job = || tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("job").in_scope(|| {}));
    for _ in 0..5 {
        job();
    }
    xray.flush().unwrap();
    let stats = xray.stats();
    assert_eq!((stats.spans_refused, stats.spans_sent), (5, 0), "{stats:?}");

    let Ok(daemon) = UdpSocket::bind(("127.0.0.1", port)) else {
        return; // another process took the port in between: nothing to check
    };
    daemon.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    job();
    let mut buffer = [0u8; 65_536];
    let n = daemon
        .recv(&mut buffer)
        .expect("sent within 50 ms, without a flush");
    let document = support::document(&buffer[..n]);
    assert_eq!(document["name"], "patient");
    assert_eq!(document["subsegments"][0]["name"], "job");
    xray.flush().unwrap();
    let stats = xray.stats();
    assert_eq!(
        (stats.spans_ended, stats.spans_refused, stats.spans_sent),
        (6, 5, 1),
        "{stats:?}"
    );
}

#[test]
fn shutdown_with_spans_in_flight_returns_within_its_bound() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    let stats = exporter.stats_handle();
    let processor = XraySpanProcessor::builder(exporter)
        .with_queue_size(20_000)
        .build()
        .unwrap();
    for n in 0..20_000 {
        processor.on_end(span(n));
    }
    let started = Instant::now();
    let result = processor.shutdown_with_timeout(Duration::from_millis(10));
    let took = started.elapsed();
    assert!(took < Duration::from_millis(200), "shutdown took {took:?}");
    let after = stats.snapshot();
    assert!(result.is_err(), "the time ran out: {after:?}");
    assert!(after.spans_dropped_at_shutdown > 0, "{after:?}");
    assert_eq!(
        after.spans_ended,
        after.spans_sent + after.spans_dropped_at_shutdown,
        "every span accounted for: {after:?}"
    );
    processor.on_end(span(1));
    let late = stats.snapshot();
    assert_eq!(
        (late.spans_ended, late.spans_dropped_at_shutdown),
        (after.spans_ended + 1, after.spans_dropped_at_shutdown + 1)
    );
}

#[test]
fn shutdown_without_a_time_limit_and_flush_after_shutdown_return_at_once() {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    let processor = XraySpanProcessor::builder(exporter).build().unwrap();
    processor.on_end(span(1));
    let started = Instant::now();
    processor.shutdown_with_timeout(Duration::MAX).unwrap();
    assert!(processor.force_flush().is_err(), "already shut down");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(daemon.receive(1).len(), 1);
}
