//! A daemon that is not listening: every loss is counted, export never fails, and spans are
//! delivered again as soon as the daemon is back.

mod support;

use std::net::UdpSocket;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceState};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use xray_bridge::XrayExporter;

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
    assert!(stats.send_errors >= 2, "refusals counted: {stats:?}");
    assert_eq!(stats.spans_exported, 6, "{stats:?}");

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
    assert_eq!(exporter.stats().spans_dropped_after_shutdown, 2);
    assert!(daemon
        .receive_for(std::time::Duration::from_millis(100))
        .is_empty());
}
