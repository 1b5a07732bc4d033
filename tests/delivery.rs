//! Delivery under load, measured at a receiver on 127.0.0.1 that drains its socket on another
//! thread, with the kernel's default receive buffer (the X-Ray daemon sets none of its own):
//! steady load arrives whole, and under a flood every span is accounted for exactly.

#[path = "support/receiver.rs"]
mod receiver;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use receiver::Receiver;

use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::{ExportStats, XrayExporter, XrayGuard};

/// The tests measure load: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn pipeline(receiver: &Receiver) -> (tracing::Dispatch, XrayGuard) {
    let (layer, xray) = xray_bridge::builder()
        .service_name("delivery")
        .with_lambda_mode(false)
        .exporter(XrayExporter::builder().with_daemon_address(receiver.address.to_string()))
        .build_layer()
        .unwrap();
    (
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
        xray,
    )
}

/// Requests with one child span each, `spans_per_second` spans offered for `seconds`.
fn offer_steadily(dispatch: &tracing::Dispatch, spans_per_second: u64, seconds: u64) -> u64 {
    let requests = spans_per_second / 2 * seconds;
    let per_request = Duration::from_secs_f64(2.0 / spans_per_second as f64);
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..requests {
            let _request = tracing::info_span!("GET /orders", otel.kind = "server", i).entered();
            tracing::info_span!("load order").in_scope(|| {});
            drop(_request);
            if i % 10 == 9 {
                let due = start + per_request * (i as u32 + 1);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        }
    });
    requests * 2
}

/// Every span ended is sent or lost for a counted reason, once nothing is queued.
fn assert_accounted(stats: &ExportStats) {
    let lost = stats.spans_refused
        + stats.spans_send_failed
        + stats.spans_dropped_queue_full
        + stats.spans_dropped_too_large
        + stats.spans_dropped_invalid_trace_id
        + stats.spans_dropped_at_shutdown;
    assert_eq!(stats.spans_queued, 0, "{stats:?}");
    assert_eq!(stats.spans_ended, stats.spans_sent + lost, "{stats:?}");
}

#[test]
fn steady_load_arrives_whole_at_a_default_buffer() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for spans_per_second in [2_000, 20_000] {
        let mut receiver = Receiver::start(None);
        let (dispatch, xray) = pipeline(&receiver);
        let offered = offer_steadily(&dispatch, spans_per_second, 10);
        xray.flush().unwrap();
        let stats = xray.stats();
        let received = receiver.finish();
        assert_eq!(
            (received.datagrams, received.kernel_drops),
            (stats.datagrams_sent, 0),
            "at {spans_per_second} spans/s: {stats:?}"
        );
        // A request's child mostly travels inside the request's document.
        assert!(stats.datagrams_sent < offered * 6 / 10, "{stats:?}");
        assert_eq!(
            (stats.spans_ended, stats.spans_sent),
            (offered, offered),
            "{stats:?}"
        );
    }
}

#[test]
fn a_flood_from_four_threads_is_accounted_for_exactly() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut receiver = Receiver::start(Some(4 << 20));
    let (dispatch, xray) = pipeline(&receiver);
    let per_thread = 25_000;
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let dispatch = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..per_thread {
                        tracing::info_span!("job", otel.kind = "server", thread, i).in_scope(|| {});
                    }
                })
            });
        }
    });
    xray.flush().unwrap();
    let stats = xray.stats();
    assert_eq!(stats.spans_ended, 4 * per_thread, "{stats:?}");
    assert!(
        stats.spans_dropped_queue_full > 0,
        "the flood overflowed the queue: {stats:?}"
    );
    assert_accounted(&stats);
    // What the crate says it sent arrived, or the receiver's own kernel buffer dropped it.
    let received = receiver.finish();
    assert_eq!(
        received.datagrams + received.kernel_drops,
        stats.datagrams_sent,
        "{stats:?}"
    );
    assert_eq!(stats.datagrams_sent, stats.spans_sent, "{stats:?}");
}
