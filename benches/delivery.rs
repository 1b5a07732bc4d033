//! Delivery under load: how many spans reach a receiver with the kernel's default socket buffer
//! (what the X-Ray daemon gets: it sets none of its own), and how fast the pipeline drains.
//!
//! `cargo bench --bench delivery` runs every measurement in a process of its own, through
//! `build_layer()` with its defaults (the pipeline `install()` builds, minus the globals):
//!
//! - `loss`: requests with one child span each (two spans, two datagrams) offered steadily at
//!   2,000, 5,000, 20,000 and 50,000 spans/s for 10 s, into a receiver thread that drains a
//!   socket with the default buffer. Prints spans offered, datagrams received, the loss and the
//!   exporter's counters.
//! - `bursts`: 20 bursts of 1,000 spans ended back to back, 100 ms apart, into the same
//!   default-buffer receiver: what the queue and the pacing do with a backlog.
//! - `drain`: one thread ends 400,000 spans as fast as it can into a receiver with an 8 MB buffer;
//!   prints the spans received per second (the drain rate) and the counters.
//!
//! `cargo bench --bench delivery -- loss 20000 10` (or `drain 400000`) runs one measurement.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing_subscriber::layer::SubscriberExt;

/// A receiver thread counting datagrams on 127.0.0.1:0; `buffer` sets `SO_RCVBUF` (else the
/// kernel's default).
struct Receiver {
    address: SocketAddr,
    received: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    last: Arc<std::sync::Mutex<Instant>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn start(buffer: Option<usize>) -> Self {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).expect("socket");
        if let Some(size) = buffer {
            socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
        }
        let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
        socket.bind(&any.into()).expect("bind");
        let socket: UdpSocket = socket.into();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let address = socket.local_addr().expect("local address");
        let received = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let last = Arc::new(std::sync::Mutex::new(Instant::now()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, total, at, stopped) = (received.clone(), bytes.clone(), last.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut datagram = vec![0u8; 65_536];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut datagram) {
                    count.fetch_add(1, Ordering::Relaxed);
                    total.fetch_add(n as u64, Ordering::Relaxed);
                    *at.lock().expect("lock") = Instant::now();
                }
            }
        });
        Receiver {
            address,
            received,
            bytes,
            last,
            stop,
        }
    }

    /// Waits until nothing has arrived for half a second; the count and the last arrival.
    fn average_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed) / self.received.load(Ordering::Relaxed).max(1)
    }

    fn settle(&self) -> (u64, Instant) {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let last = *self.last.lock().expect("lock");
            if last.elapsed() > Duration::from_millis(500) {
                self.stop.store(true, Ordering::Relaxed);
                return (self.received.load(Ordering::Relaxed), last);
            }
        }
    }
}

fn pipeline(receiver: &Receiver) -> (impl tracing::Subscriber + Send + Sync, xray_bridge::XrayGuard) {
    let (layer, xray) = xray_bridge::builder()
        .service_name("delivery")
        .with_lambda_mode(false)
        .exporter(xray_bridge::XrayExporter::builder().with_daemon_address(receiver.address.to_string()))
        .build_layer()
        .expect("pipeline");
    (tracing_subscriber::registry().with(layer), xray)
}

/// One request: a server span with the usual HTTP fields and one child.
fn request(i: u64) {
    let server = tracing::info_span!(
        "GET /orders/{id}",
        otel.kind = "server",
        http.request.method = "GET",
        url.path = "/orders/42",
        http.route = "/orders/{id}",
        http.response.status_code = 200,
        request = i
    );
    let _entered = server.enter();
    tracing::info_span!("load order", order.id = 42).in_scope(|| {});
}

fn loss(spans_per_second: u64, seconds: u64) {
    let receiver = Receiver::start(None);
    let (subscriber, xray) = pipeline(&receiver);
    let requests = spans_per_second / 2 * seconds;
    let per_request = Duration::from_secs_f64(2.0 / spans_per_second as f64);
    // Sleep to the schedule every ~2 ms of requests, as a server's threads would free the core.
    let step = (spans_per_second / 1000).max(1);
    tracing::subscriber::with_default(subscriber, || {
        let start = Instant::now();
        for i in 0..requests {
            request(i);
            if i % step == 0 {
                let due = start + per_request * (i as u32 + 1);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        }
    });
    xray.flush().ok();
    let (received, _) = receiver.settle();
    let offered = requests * 2;
    println!(
        "loss rate={spans_per_second}/s seconds={seconds} offered={offered} received={received} loss={:.2}% stats={:?}",
        100.0 * (offered.saturating_sub(received)) as f64 / offered as f64,
        xray.stats()
    );
    drop(xray);
}

fn bursts(size: u64, count: u64) {
    let receiver = Receiver::start(None);
    let (subscriber, xray) = pipeline(&receiver);
    tracing::subscriber::with_default(subscriber, || {
        for burst in 0..count {
            for i in 0..size {
                tracing::info_span!("work", otel.kind = "server", request = burst * size + i).in_scope(|| {});
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    xray.flush().ok();
    let (received, _) = receiver.settle();
    let stats = xray.stats();
    let offered = size * count;
    println!(
        "bursts size={size} count={count} offered={offered} received={received} \
         lost_in_kernel={} stats={stats:?}",
        stats.spans_sent.saturating_sub(received),
    );
    drop(xray);
}

fn drain(spans: u64) {
    let receiver = Receiver::start(Some(4 << 20));
    let (subscriber, xray) = pipeline(&receiver);
    let start = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..spans {
            tracing::info_span!("work", otel.kind = "server", request = i).in_scope(|| {});
        }
    });
    let produced = start.elapsed();
    xray.flush().ok();
    let (received, last) = receiver.settle();
    let elapsed = last.duration_since(start).as_secs_f64();
    println!(
        "drain spans={spans} produced_in={:.2}s received={received} average_bytes={} drain_rate={:.0}/s stats={:?}",
        produced.as_secs_f64(),
        receiver.average_bytes(),
        received as f64 / elapsed,
        xray.stats()
    );
    drop(xray);
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let number = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("loss") => loss(number(1, 20_000), number(2, 10)),
        Some("drain") => drain(number(1, 400_000)),
        Some("bursts") => bursts(number(1, 1_000), number(2, 20)),
        _ => {
            let me = std::env::current_exe().expect("own path");
            let mut runs: Vec<Vec<String>> = [2_000u64, 5_000, 20_000, 50_000]
                .iter()
                .map(|rate| vec!["loss".into(), rate.to_string(), "10".into()])
                .collect();
            runs.push(vec!["bursts".into(), "1000".into(), "20".into()]);
            runs.push(vec!["drain".into(), "400000".into()]);
            for run in runs {
                let status = Command::new(&me).args(&run).status().expect("run");
                assert!(status.success(), "{run:?} failed");
            }
        }
    }
}
