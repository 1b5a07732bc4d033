//! Load for tests and benchmarks: the pipeline `build_layer()` builds, the spans a server's
//! requests make (offered steadily, or flooded from several threads), and a receiver: a socket
//! on 127.0.0.1:0 with the kernel's default receive buffer or a chosen one, drained by a thread
//! that counts datagrams, bytes and, when asked, the documents in them (embedded subsegments
//! included: each has one `start_time`).
#![allow(dead_code)] // each user takes part of it

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::{ExportStats, XrayExporter, XrayGuard};

/// The pipeline `build_layer()` builds with its defaults, sending to `daemon`.
pub fn pipeline(daemon: SocketAddr) -> (tracing::Dispatch, XrayGuard) {
    let (layer, xray) = xray_bridge::builder()
        .with_service_name("delivery")
        .with_lambda_mode(false)
        .with_exporter(XrayExporter::builder().with_daemon_address(daemon.to_string()))
        .build_layer()
        .expect("pipeline");
    (
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
        xray,
    )
}

/// One request: a server span and one child.
pub fn request(i: u64) {
    let _server = tracing::info_span!("GET /orders", otel.kind = "server", request = i).entered();
    tracing::info_span!("load order").in_scope(|| {});
}

/// Requests offered steadily, `spans_per_second` spans (two a request) for `seconds`, sleeping
/// to the schedule every millisecond's worth as a server's threads would free the core; the
/// spans offered.
pub fn offer_requests(dispatch: &tracing::Dispatch, spans_per_second: u64, seconds: u64) -> u64 {
    let requests = spans_per_second / 2 * seconds;
    let per_request = Duration::from_secs_f64(2.0 / spans_per_second as f64);
    let step = (spans_per_second / 2000).max(1);
    tracing::dispatcher::with_default(dispatch, || {
        let start = Instant::now();
        for i in 0..requests {
            request(i);
            if i % step == step - 1 {
                let due = start + per_request * (i as u32 + 1);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        }
    });
    requests * 2
}

/// `threads` threads each ending `per_thread` spans as fast as they can.
pub fn flood(dispatch: &tracing::Dispatch, threads: u64, per_thread: u64) {
    std::thread::scope(|scope| {
        for thread in 0..threads {
            scope.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    for i in 0..per_thread {
                        tracing::info_span!("job", otel.kind = "server", thread, i).in_scope(|| {});
                    }
                })
            });
        }
    });
}

/// Every loss counter, added up.
pub fn lost(stats: &ExportStats) -> u64 {
    stats.spans_refused
        + stats.spans_send_failed
        + stats.spans_dropped_queue_full
        + stats.spans_dropped_too_large
        + stats.spans_dropped_invalid_trace_id
        + stats.spans_dropped_at_shutdown
}

/// The draining socket.
pub struct Receiver {
    /// Where to send.
    pub address: SocketAddr,
    received: Arc<AtomicU64>,
    documents: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    last: Arc<Mutex<Instant>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    /// `buffer`: the `SO_RCVBUF` to ask for (Linux doubles it), else the kernel's default.
    pub fn start(buffer: Option<usize>) -> Self {
        Receiver::spawn(buffer, false)
    }

    /// [`Receiver::start`], also counting the documents in each datagram (a scan of every byte:
    /// too slow for an unoptimised build to keep up with a load).
    pub fn counting_documents(buffer: Option<usize>) -> Self {
        Receiver::spawn(buffer, true)
    }

    fn spawn(buffer: Option<usize>, count_documents: bool) -> Self {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).expect("socket");
        if let Some(size) = buffer {
            socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
        }
        let loopback: SocketAddr = "127.0.0.1:0".parse().expect("address");
        socket.bind(&loopback.into()).expect("bind");
        let socket: UdpSocket = socket.into();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let address = socket.local_addr().expect("local address");
        let received = Arc::new(AtomicU64::new(0));
        let documents = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let last = Arc::new(Mutex::new(Instant::now()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, spans, total, at, stopped) = (
            received.clone(),
            documents.clone(),
            bytes.clone(),
            last.clone(),
            stop.clone(),
        );
        let thread = std::thread::spawn(move || {
            let mut datagram = vec![0u8; 65_536];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut datagram) {
                    count.fetch_add(1, Ordering::Relaxed);
                    if count_documents {
                        spans.fetch_add(start_times(&datagram[..n]), Ordering::Relaxed);
                    }
                    total.fetch_add(n as u64, Ordering::Relaxed);
                    *at.lock().expect("lock") = Instant::now();
                }
            }
        });
        Receiver {
            address,
            received,
            documents,
            bytes,
            last,
            stop,
            thread: Some(thread),
        }
    }

    /// The datagrams this socket's kernel buffer had to drop (Linux: `/proc/net/udp`).
    pub fn kernel_drops(&self) -> u64 {
        let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp");
        let local = format!("0100007F:{:04X}", self.address.port());
        table
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.get(1) == Some(&local.as_str()))
            .and_then(|fields| fields.last()?.parse().ok())
            .expect("the receiver's socket is listed")
    }

    /// Mean size of the datagrams received so far.
    pub fn average_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed) / self.received.load(Ordering::Relaxed).max(1)
    }

    /// Waits until nothing has arrived for half a second, then stops.
    pub fn finish(&mut self) -> Received {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let last = *self.last.lock().expect("lock");
            if last.elapsed() > Duration::from_millis(500) {
                let kernel_drops = self.kernel_drops();
                self.stop.store(true, Ordering::Relaxed);
                if let Some(thread) = self.thread.take() {
                    thread.join().expect("receiver thread");
                }
                return Received {
                    datagrams: self.received.load(Ordering::Relaxed),
                    documents: self.documents.load(Ordering::Relaxed),
                    kernel_drops,
                    last,
                };
            }
        }
    }
}

/// What a [`Receiver`] got.
pub struct Received {
    /// Datagrams received.
    pub datagrams: u64,
    /// Documents in them, embedded subsegments included: the spans that arrived (counted by
    /// [`Receiver::counting_documents`] only).
    pub documents: u64,
    /// Datagrams its kernel buffer dropped.
    pub kernel_drops: u64,
    /// When the last one arrived.
    pub last: Instant,
}

/// How many documents a datagram holds.
fn start_times(datagram: &[u8]) -> u64 {
    const KEY: &[u8] = b"\"start_time\":";
    datagram.windows(KEY.len()).filter(|w| *w == KEY).count() as u64
}
