//! Delivery under load, measured at a receiver on 127.0.0.1 that drains its socket on another
//! thread, with the kernel's default receive buffer (the X-Ray daemon sets none of its own):
//! steady load arrives whole, and under a flood every span is accounted for exactly.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::{ExportStats, XrayExporter, XrayGuard};

/// The tests measure load: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A socket on 127.0.0.1:0 drained by a thread that counts datagrams.
struct Receiver {
    address: SocketAddr,
    port: u16,
    received: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// `buffer`: the `SO_RCVBUF` to ask for, else the kernel's default.
    fn start(buffer: Option<usize>) -> Self {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        if let Some(size) = buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let loopback: SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&loopback.into()).unwrap();
        let socket: UdpSocket = socket.into();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let address = socket.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut datagram = vec![0u8; 65_536];
            while !stopped.load(Ordering::Relaxed) {
                if socket.recv(&mut datagram).is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Receiver {
            address,
            port: address.port(),
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// The datagrams this socket's kernel buffer had to drop (Linux: `/proc/net/udp`).
    fn kernel_drops(&self) -> u64 {
        let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp");
        let local = format!("0100007F:{:04X}", self.port);
        table
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.get(1) == Some(&local.as_str()))
            .and_then(|fields| fields.last()?.parse().ok())
            .expect("the receiver's socket is listed")
    }

    /// Waits until nothing more arrives, then stops; the count.
    fn finish(mut self) -> u64 {
        let mut last = self.received.load(Ordering::Relaxed);
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let now = self.received.load(Ordering::Relaxed);
            if now == last {
                break;
            }
            last = now;
        }
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        last
    }
}

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
        let receiver = Receiver::start(None);
        let (dispatch, xray) = pipeline(&receiver);
        let offered = offer_steadily(&dispatch, spans_per_second, 10);
        xray.flush().unwrap();
        let stats = xray.stats();
        let drops = receiver.kernel_drops();
        let received = receiver.finish();
        assert_eq!(
            (received, drops),
            (offered, 0),
            "at {spans_per_second} spans/s: {stats:?}"
        );
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
    let receiver = Receiver::start(Some(4 << 20));
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
    let drops = receiver.kernel_drops();
    let received = receiver.finish();
    assert_eq!(received + drops, stats.datagrams_sent, "{stats:?}");
    assert_eq!(stats.datagrams_sent, stats.spans_sent, "{stats:?}");
}
