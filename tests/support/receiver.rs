//! A receiver for load tests and benchmarks: a socket on 127.0.0.1:0, with the kernel's default
//! receive buffer or a chosen one, drained by a thread that counts datagrams, bytes and, when
//! asked, the documents in them (embedded subsegments included: each has one `start_time`).
#![allow(dead_code)] // each user takes part of it

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
