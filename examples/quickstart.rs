//! Quickstart: a `tracing`-instrumented service whose spans show up in AWS X-Ray.
//!
//! Three `POST /orders` requests run through a custom authorizer and a business handler that
//! queries PostgreSQL, publishes to SNS and charges a third-party payments API; the last request
//! fails because the payments API answers 503. `xray_bridge::builder()` builds the pipeline:
//! spans go through [`xray_bridge::XraySpanProcessor`] to [`xray_bridge::XrayExporter`], which
//! sends each request's documents as one UDP datagram (subsegments inside their segment).
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Without `AWS_XRAY_DAEMON_ADDRESS` the example needs no AWS account: it receives the datagrams
//! itself on a local UDP port and prints every document, a per-node summary and the exporter's
//! counters. To send to a real X-Ray daemon (or CloudWatch agent) instead, point it there; the
//! daemon, not this program, needs AWS credentials:
//!
//! ```text
//! AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 cargo run --example quickstart
//! ```

// clippy.toml keeps environment reads inside the crate's config module; an example reads its
// own settings like any application would.
#![allow(clippy::disallowed_methods)]

use std::error::Error;
use std::io::IsTerminal;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use tracing::field::Empty;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// One incoming request: who sends it and how the payments provider will answer.
struct Order {
    id: &'static str,
    tenant: &'static str,
    client_ip: &'static str,
    total_cents: i64,
    payment_status: i64,
    /// Extra milliseconds of simulated latency, so the summary's avg and max differ.
    jitter_ms: u64,
}

#[rustfmt::skip]
const ORDERS: &[Order] = &[
    Order { id: "ord-1001", tenant: "acme", client_ip: "203.0.113.7", total_cents: 4_990, payment_status: 201, jitter_ms: 0 },
    Order { id: "ord-1002", tenant: "globex", client_ip: "198.51.100.23", total_cents: 12_500, payment_status: 201, jitter_ms: 3 },
    Order { id: "ord-1003", tenant: "initech", client_ip: "192.0.2.44", total_cents: 830, payment_status: 503, jitter_ms: 1 },
];

fn main() -> Result<(), Box<dyn Error>> {
    // A real daemon if one is configured, else a local stand-in that prints what it receives.
    let (address, receiver) = match std::env::var("AWS_XRAY_DAEMON_ADDRESS") {
        Ok(address) if !address.trim().is_empty() => (address, None),
        _ => {
            let receiver = Receiver::start()?;
            (receiver.address.to_string(), Some(receiver))
        }
    };

    // The pipeline install() sets up, as a layer beside a stderr log layer for warnings.
    println!("sending X-Ray documents to {address}");
    let exporter = xray_bridge::XrayExporter::builder()
        .with_daemon_address(address)
        .with_indexed_attributes(["tenant"]);
    let (xray_layer, xray) = xray_bridge::builder()
        .with_service_name("orders-api")
        .with_lambda_mode(false)
        .with_exporter(exporter)
        .build_layer()?;
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(LevelFilter::WARN);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(xray_layer).with(log))?;

    for order in ORDERS {
        handle_request(order);
    }

    // Flushes: every span has left before this returns.
    let stats = xray.stats_handle();
    xray.shutdown()?;
    let snapshot = || stats.as_ref().map(|s| s.snapshot()).unwrap_or_default();
    let sent = snapshot().datagrams_sent;

    if let Some(receiver) = receiver {
        let mut documents = receiver.collect(sent, Duration::from_secs(2))?;
        documents.sort_by(|a, b| start_time(&a.1).total_cmp(&start_time(&b.1)));
        for (bytes, document) in &documents {
            println!(
                "\n--- {bytes} bytes ---\n{}",
                serde_json::to_string_pretty(document)?
            );
        }
        print_summary(&documents);
        if (documents.len() as u64) < sent {
            println!(
                "\nonly {} of {sent} datagrams arrived within 2 s",
                documents.len()
            );
        }
    }
    println!("\nexporter stats: {:#?}", snapshot());
    Ok(())
}

/// `POST /orders`: the server span, its authorizer and its business handler.
fn handle_request(order: &Order) {
    let request = tracing::info_span!(
        "POST /orders",
        otel.kind = "server",
        http.request.method = "POST",
        url.scheme = "https",
        server.address = "api.example.com",
        url.path = "/orders",
        client.address = order.client_ip,
        user_agent.original = "orders-cli/2.3",
        tenant = order.tenant,
        http.response.status_code = Empty,
    );
    let _entered = request.enter();
    authorize(order);
    let status = match create_order(order) {
        Ok(()) => 201,
        Err(_) => 502,
    };
    request.record("http.response.status_code", status);
}

/// The custom authorizer: an internal span with its decision.
fn authorize(order: &Order) {
    let span = tracing::info_span!("authorize", authorizer = "jwt", decision = Empty);
    let _entered = span.enter();
    thread::sleep(Duration::from_millis(1 + order.jitter_ms));
    span.record("decision", "allow");
}

/// The business handler: database, SNS, payments; fails when the payment fails.
fn create_order(order: &Order) -> Result<(), String> {
    let span = tracing::info_span!(
        "create_order",
        order.id = order.id,
        order.total_cents = order.total_cents,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    let _entered = span.enter();
    insert_order(order);
    publish_order_created(order);
    let result = charge(order);
    if let Err(reason) = &result {
        span.record("otel.status_code", "error");
        span.record("otel.status_description", reason.as_str());
    }
    result
}

/// PostgreSQL: becomes a `sql` subsegment named `<db.name>@<host>`.
fn insert_order(order: &Order) {
    let _span = tracing::info_span!(
        "INSERT orders",
        otel.kind = "client",
        db.system = "postgresql",
        db.name = "orders",
        db.user = "orders_app",
        db.connection_string = "postgresql://db.internal:5432",
        db.statement = "INSERT INTO orders (id, tenant, total_cents) VALUES ($1, $2, $3)",
    )
    .entered();
    thread::sleep(Duration::from_millis(3 + order.jitter_ms));
}

/// An AWS SDK call: becomes an `aws`-namespace subsegment named after the service.
fn publish_order_created(order: &Order) {
    let span = tracing::info_span!(
        "SNS.Publish",
        otel.kind = "client",
        rpc.system = "aws-api",
        rpc.service = "SNS",
        rpc.method = "Publish",
        aws.region = "eu-west-1",
        messaging.system = "aws_sns",
        messaging.operation = "publish",
        messaging.destination.name = "order-events",
        aws.sns.topic.arn = "arn:aws:sns:eu-west-1:123456789012:order-events",
        http.request.method = "POST",
        url.full = "https://sns.eu-west-1.amazonaws.com/",
        http.response.status_code = Empty,
        aws.request_id = Empty,
    );
    let _entered = span.enter();
    thread::sleep(Duration::from_millis(4 + order.jitter_ms));
    span.record("http.response.status_code", 200);
    span.record("aws.request_id", format!("f3a1c2d4-{}", order.id).as_str());
}

/// A third-party HTTP API: becomes a `remote` subsegment with an `http` block.
fn charge(order: &Order) -> Result<(), String> {
    let span = tracing::info_span!(
        "POST",
        otel.kind = "client",
        peer.service = "payments-provider",
        http.request.method = "POST",
        url.full = "https://api.payments.example/v1/charges",
        server.address = "api.payments.example",
        http.response.status_code = Empty,
    );
    let _entered = span.enter();
    thread::sleep(Duration::from_millis(6 + 2 * order.jitter_ms));
    span.record("http.response.status_code", order.payment_status);
    if order.payment_status >= 500 {
        let reason = format!("payments provider answered {}", order.payment_status);
        // An `error` field without a message becomes an OpenTelemetry exception event.
        tracing::error!(error = %reason);
        return Err(reason);
    }
    Ok(())
}

/// Stands in for the X-Ray daemon: a UDP socket read by a thread until told to stop.
struct Receiver {
    address: SocketAddr,
    datagrams: mpsc::Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Receiver {
    fn start() -> std::io::Result<Receiver> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let address = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, datagrams) = mpsc::channel();
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut buffer = vec![0u8; 65_536];
            while !stopping.load(Ordering::Relaxed) {
                // Timeouts (and any other error) just go round again to check the stop flag.
                if let Ok(len) = socket.recv(&mut buffer) {
                    if sender.send(buffer[..len].to_vec()).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Receiver {
            address,
            datagrams,
            stop,
            thread,
        })
    }

    /// Waits for `expected` datagrams (or `timeout`), stops the thread and parses them:
    /// (datagram size, document).
    fn collect(self, expected: u64, timeout: Duration) -> Result<Vec<(usize, Value)>, Box<dyn Error>> {
        let deadline = Instant::now() + timeout;
        let mut raw = Vec::new();
        while (raw.len() as u64) < expected {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.datagrams.recv_timeout(left) {
                Ok(datagram) => raw.push(datagram),
                Err(_) => break,
            }
        }
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| "the receiver thread panicked")?;
        raw.extend(self.datagrams.try_iter());

        let mut documents = Vec::with_capacity(raw.len());
        for datagram in raw {
            // The daemon protocol: a JSON header line, then the document.
            let newline = datagram.iter().position(|b| *b == b'\n').ok_or("no header")?;
            let (header, body) = datagram.split_at(newline);
            if header != br#"{"format":"json","version":1}"# {
                return Err(format!("unexpected header {}", String::from_utf8_lossy(header)).into());
            }
            documents.push((datagram.len(), serde_json::from_slice(body)?));
        }
        Ok(documents)
    }
}

fn start_time(document: &Value) -> f64 {
    document["start_time"].as_f64().unwrap_or(0.0)
}

/// Per node: how often it appears, how often it failed, and how long it took.
#[derive(Default)]
struct Node {
    count: u32,
    errors: u32,
    faults: u32,
    throttles: u32,
    total_ms: f64,
    max_ms: f64,
}

fn print_summary(documents: &[(usize, Value)]) {
    let mut nodes: Vec<(String, Node)> = Vec::new();
    let mut all = Vec::new();
    for (_, document) in documents {
        with_embedded(document, &mut all);
    }
    for document in all {
        let label = node_label(document);
        let index = nodes.iter().position(|(l, _)| *l == label).unwrap_or_else(|| {
            nodes.push((label, Node::default()));
            nodes.len() - 1
        });
        let node = &mut nodes[index].1;
        let flag = |name: &str| u32::from(document[name].as_bool().unwrap_or(false));
        let ms = (document["end_time"].as_f64().unwrap_or(0.0) - start_time(document)) * 1000.0;
        node.count += 1;
        node.errors += flag("error");
        node.faults += flag("fault");
        node.throttles += flag("throttle");
        node.total_ms += ms;
        node.max_ms = node.max_ms.max(ms);
    }

    println!(
        "\n{:<40} {:>5} {:>6} {:>6} {:>9} {:>8} {:>8}",
        "node", "count", "errors", "faults", "throttles", "avg ms", "max ms"
    );
    for (label, node) in &nodes {
        println!(
            "{label:<40} {:>5} {:>6} {:>6} {:>9} {:>8.1} {:>8.1}",
            node.count,
            node.errors,
            node.faults,
            node.throttles,
            node.total_ms / f64::from(node.count),
            node.max_ms,
        );
    }
}

/// `document` and the subsegments that travel inside it, depth first.
fn with_embedded<'a>(document: &'a Value, all: &mut Vec<&'a Value>) {
    all.push(document);
    for embedded in document["subsegments"].as_array().into_iter().flatten() {
        with_embedded(embedded, all);
    }
}

/// `name (segment)`, or `name (namespace[, sql])` for subsegments.
fn node_label(document: &Value) -> String {
    let name = document["name"].as_str().unwrap_or("?");
    let mut kinds = Vec::new();
    if document.get("type").is_none() {
        kinds.push("segment");
    } else {
        kinds.push(document["namespace"].as_str().unwrap_or("subsegment"));
    }
    if document.get("sql").is_some() {
        kinds.push("sql");
    }
    format!("{name} ({})", kinds.join(", "))
}
