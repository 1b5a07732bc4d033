//! Delivery under load, measured at a receiver on 127.0.0.1 that drains its socket on another
//! thread, with the kernel's default receive buffer (the X-Ray daemon sets none of its own):
//! steady load arrives whole, and under a flood every span is accounted for exactly.

#[path = "support/load.rs"]
mod load;

use std::sync::Mutex;

use load::Receiver;

/// The tests measure load: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn steady_load_arrives_whole_at_a_default_buffer() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for spans_per_second in [2_000, 20_000] {
        let mut receiver = Receiver::start(None);
        let (dispatch, xray) = load::pipeline(receiver.address);
        let offered = load::offer_requests(&dispatch, spans_per_second, 10);
        xray.flush().unwrap();
        let stats = xray.stats();
        let received = receiver.finish();
        assert_eq!(
            (received.datagrams, received.kernel_drops),
            (stats.datagrams_sent, 0),
            "at {spans_per_second} spans/s: {stats:?}"
        );
        assert_eq!(
            (stats.spans_ended, stats.spans_sent),
            (offered, offered),
            "{stats:?}"
        );
        // A request's child mostly travels inside the request's document.
        assert!(stats.datagrams_sent < offered * 6 / 10, "{stats:?}");
    }
}

#[test]
fn a_flood_from_four_threads_is_accounted_for_exactly() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut receiver = Receiver::start(Some(4 << 20));
    let (dispatch, xray) = load::pipeline(receiver.address);
    load::flood(&dispatch, 4, 25_000);
    xray.flush().unwrap();
    let stats = xray.stats();
    assert_eq!(stats.spans_ended, 100_000, "{stats:?}");
    assert!(
        stats.spans_dropped_queue_full > 0,
        "the flood overflowed the queue: {stats:?}"
    );
    assert_eq!(stats.spans_queued, 0, "{stats:?}");
    assert_eq!(
        stats.spans_ended,
        stats.spans_sent + load::lost(&stats),
        "{stats:?}"
    );
    // What the crate says it sent arrived, or the receiver's own kernel buffer dropped it.
    let received = receiver.finish();
    assert_eq!(
        received.datagrams + received.kernel_drops,
        stats.datagrams_sent,
        "{stats:?}"
    );
    assert_eq!(stats.datagrams_sent, stats.spans_sent, "{stats:?}");
}
