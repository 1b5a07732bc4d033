//! Export cost per span: three exporters sending the same spans to a loopback UDP "daemon".
//!
//! Two span shapes, each a batch of 40 client spans with a parent: `small` (two plain
//! attributes; xray_bridge sends a 468 B datagram) and `rich` (http, AWS SDK, 3 annotations,
//! 5 more attributes in metadata; 964 B). Forty rich datagrams are what `xray_bridge` sends as
//! one burst: it paces longer batches for the daemon's socket buffer, and this benchmark
//! measures the cost of sending, not those waits. Before each batch the benchmark sleeps 1 ms
//! (untimed, for every series alike), as a paced sender would. Each batch goes through:
//!
//! - `floor`: a pre-built document with the fields `xray_bridge` sends for that shape (borrowed
//!   `Serialize` structs), written by serde_json into a reused buffer behind the daemon header and
//!   sent on a connected non-blocking socket, once per span: encoding and sending alone.
//! - `xray_bridge`: [`xray_bridge::XrayExporter`], the 3 annotation keys indexed.
//! - `opentelemetry_aws`: opentelemetry-aws's `XrayExporter` over its `XrayDaemonClient`; its
//!   `SegmentTranslator` indexes the same 3 keys and puts the other attributes in metadata.
//!
//! Two more series index every attribute on both sides (`*_index_all`): the configuration in
//! which the project's performance anchors measured opentelemetry-aws.
//!
//! Every series takes the batch by value (cloned outside the timing, after the pause), so
//! dropping it is timed for all three; the datagrams go to 127.0.0.1, drained by a receiver thread. Throughput is
//! per span.
//!
//! Targets, on the rich span: `xray_bridge / floor <= 1.2` and
//! `opentelemetry_aws / xray_bridge >= 1.8`.

use std::borrow::Cow;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, Throughput};
use futures_executor::block_on;
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceFlags, TraceState};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_aws::xray_exporter::daemon_client::XrayDaemonClient;
use opentelemetry_aws::xray_exporter::{SegmentTranslator, XrayExporter as AwsExporter};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;
use serde::{Serialize, Serializer};

const BATCH: usize = 40;
const INDEXED: [&str; 3] = ["app.tenant", "app.order_id", "app.cache_hit"];
const HEADER: &[u8] = b"{\"format\":\"json\",\"version\":1}\n";
const SMALL_METADATA: [(&str, V); 2] = [("cache.key", V::S("orders:4711")), ("cache.hit", V::B(true))];
const RICH_ANNOTATIONS: [(&str, V); 3] = [
    ("app.tenant", V::S("acme-corp")),
    ("app.order_id", V::I(4_711)),
    ("app.cache_hit", V::B(false)),
];
const RICH_METADATA: [(&str, V); 8] = [
    ("rpc.system", V::S("aws-api")),
    ("rpc.service", V::S("DynamoDB")),
    ("aws.dynamodb.table_names", V::L(&["orders"])),
    ("app.retries", V::I(0)),
    ("app.consistent", V::B(true)),
    ("app.items", V::I(1)),
    ("app.cold", V::B(false)),
    ("app.shard", V::S("s3")),
];

/// The batch, after the pause a paced sender takes between bursts.
fn pause_then(spans: &[SpanData]) -> Vec<SpanData> {
    std::thread::sleep(Duration::from_millis(1));
    spans.to_vec()
}

/// A loopback socket drained by a thread until the flag is set; the thread counts datagrams.
fn receiver() -> (SocketAddr, Arc<AtomicBool>, JoinHandle<u64>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    let timeout = Duration::from_millis(50);
    socket.set_read_timeout(Some(timeout)).expect("read timeout");
    let addr = socket.local_addr().expect("receiver address");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let (mut buf, mut received) = (vec![0u8; 65_536], 0);
        while !stopped.load(Ordering::Relaxed) {
            received += u64::from(socket.recv(&mut buf).is_ok());
        }
        received
    });
    (addr, stop, thread)
}

/// The span attribute that a floor table entry stands for.
fn attribute(&(key, value): &(&'static str, V<'static>)) -> KeyValue {
    let value = match value {
        V::S(s) => Value::from(s),
        V::I(i) => Value::from(i),
        V::B(b) => Value::from(b),
        V::L(l) => Value::Array(Array::String(l.iter().map(|s| StringValue::from(*s)).collect())),
    };
    KeyValue::new(key, value)
}

fn rich_attributes() -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new("http.request.method", "POST"),
        KeyValue::new("url.full", "https://dynamodb.eu-west-1.amazonaws.com/"),
        KeyValue::new("http.response.status_code", 200i64),
        KeyValue::new("server.address", "dynamodb.eu-west-1.amazonaws.com"),
        KeyValue::new("user_agent.original", "aws-sdk-rust/1.3.9 os/linux"),
        KeyValue::new("rpc.method", "GetItem"),
        KeyValue::new("aws.region", "eu-west-1"),
        KeyValue::new("aws.request_id", "Q8E5T1K0JBV4S6MGC2R7N3H9PLAUFDOW"),
    ];
    // The rest: 3 annotations, and rpc.system, rpc.service, the table names and 5 more in metadata.
    attributes.extend(RICH_ANNOTATIONS.iter().chain(&RICH_METADATA).map(attribute));
    attributes
}

/// 512 client spans with parents, each in its own trace, whose id starts with the epoch now
/// (opentelemetry-aws drops older trace ids, and root non-server spans).
fn batch(name: &'static str, attributes: fn() -> Vec<KeyValue>) -> Vec<SpanData> {
    let now = SystemTime::now();
    let epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let mut span = |i: usize| {
        // Distinct, never-zero ids; the trace id's first 32 bits are the epoch.
        let n = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let trace = (u128::from(epoch as u32) << 96) | (u128::from(n) << 32) | i as u128;
        let flags = TraceFlags::SAMPLED;
        let context = SpanContext::new(trace.into(), n.into(), flags, false, TraceState::NONE);
        SpanData {
            span_context: context,
            parent_span_id: (n ^ 0xFFFF).into(),
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: Cow::Borrowed(name),
            start_time: now - Duration::from_micros(1_250),
            end_time: now,
            attributes: attributes(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("bench").build(),
        }
    };
    (0..BATCH).map(&mut span).collect()
}

fn resource() -> Resource {
    let sdk = [
        ("name", "opentelemetry"),
        ("language", "rust"),
        ("version", "0.33.1"),
    ];
    let sdk = sdk.map(|(key, value)| KeyValue::new(format!("telemetry.sdk.{key}"), value));
    Resource::builder_empty()
        .with_service_name("orders-api")
        .with_attributes(sdk)
        .build()
}

#[derive(Clone, Copy, Serialize)]
struct Doc<'a> {
    name: &'a str,
    id: &'a str,
    start_time: f64,
    trace_id: &'a str,
    end_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<Http<'a>>,
    fault: bool,
    error: bool,
    throttle: bool,
    aws: Aws<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Pairs<'a>>,
    metadata: Metadata<'a>,
    namespace: &'a str,
    parent_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Clone, Copy, Serialize)]
struct Http<'a> {
    request: Request<'a>,
    response: Response,
}

#[derive(Clone, Copy, Serialize)]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    user_agent: &'a str,
}

#[derive(Clone, Copy, Serialize)]
struct Response {
    status: u16,
    content_length: u64,
}

#[derive(Clone, Copy, Default, Serialize)]
struct Aws<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_name: Option<&'a str>,
    xray: Xray<'a>,
}

#[derive(Clone, Copy, Default, Serialize)]
struct Xray<'a> {
    sdk: &'a str,
    sdk_version: &'a str,
    auto_instrumentation: bool,
}

#[derive(Clone, Copy, Serialize)]
struct Metadata<'a> {
    default: Pairs<'a>,
}

#[derive(Clone, Copy, Serialize)]
#[serde(untagged)]
enum V<'a> {
    S(&'a str),
    I(i64),
    B(bool),
    L(&'a [&'a str]),
}

/// A JSON object whose keys keep their order.
#[derive(Clone, Copy)]
struct Pairs<'a>(&'a [(&'a str, V<'a>)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn main() {
    let (addr, stop, receiver) = receiver();
    let floor = UdpSocket::bind("127.0.0.1:0").expect("bind floor socket");
    floor.connect(addr).expect("connect floor socket");
    floor.set_nonblocking(true).expect("non-blocking floor socket");
    let mut buf = HEADER.to_vec();
    let mut bridge = xray_bridge::XrayExporter::builder()
        .with_daemon_address(addr.to_string())
        .with_indexed_attributes(INDEXED)
        .build()
        .expect("xray_bridge exporter");
    bridge.set_resource(&resource());
    let indexed = INDEXED.map(String::from);
    let translator = SegmentTranslator::new()
        .with_indexed_attrs(indexed)
        .metadata_all_attrs();
    let client = XrayDaemonClient::new(addr).expect("opentelemetry-aws client");
    let mut aws = AwsExporter::new(client).with_translator(translator);
    aws.set_resource(&resource());
    // The configuration the project's performance anchors measured opentelemetry-aws with:
    // every attribute indexed, on both sides.
    let mut bridge_all = xray_bridge::XrayExporter::builder()
        .with_daemon_address(addr.to_string())
        .with_index_all_attributes(true)
        .build()
        .expect("xray_bridge exporter");
    bridge_all.set_resource(&resource());
    let client = XrayDaemonClient::new(addr).expect("opentelemetry-aws client");
    let mut aws_all = AwsExporter::new(client).with_translator(SegmentTranslator::new().index_all_attrs());
    aws_all.set_resource(&resource());
    let mut aws_failures = 0u64;

    let (small, rich) = (
        batch("cache.get", || SMALL_METADATA.iter().map(attribute).collect()),
        batch("DynamoDB.GetItem", rich_attributes),
    );
    // Microsecond timestamps, as xray_bridge writes them.
    let secs = |t: SystemTime| (t.duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as f64) / 1e6;
    let context = &rich[0].span_context;
    let trace = format!("{:032x}", context.trace_id());
    let trace_id = format!("1-{}-{}", &trace[..8], &trace[8..]);
    let (id, parent_id) = (context.span_id().to_string(), rich[0].parent_span_id.to_string());
    let xray = Xray {
        sdk: "opentelemetry for rust",
        sdk_version: "0.33.1",
        auto_instrumentation: false,
    };
    let rich_doc = Doc {
        name: "DynamoDB",
        id: &id,
        start_time: secs(rich[0].start_time),
        trace_id: &trace_id,
        end_time: secs(rich[0].end_time),
        http: Some(Http {
            request: Request {
                method: "POST",
                url: "https://dynamodb.eu-west-1.amazonaws.com/",
                user_agent: "aws-sdk-rust/1.3.9 os/linux",
            },
            response: Response {
                status: 200,
                content_length: 0,
            },
        }),
        fault: false,
        error: false,
        throttle: false,
        aws: Aws {
            operation: Some("GetItem"),
            region: Some("eu-west-1"),
            request_id: Some("Q8E5T1K0JBV4S6MGC2R7N3H9PLAUFDOW"),
            table_name: Some("orders"),
            xray,
        },
        annotations: Some(Pairs(&RICH_ANNOTATIONS)),
        metadata: Metadata {
            default: Pairs(&RICH_METADATA),
        },
        namespace: "aws",
        parent_id: &parent_id,
        kind: "subsegment",
    };
    let small_doc = Doc {
        name: "cache.get",
        http: None,
        aws: Aws {
            xray,
            ..Aws::default()
        },
        annotations: None,
        metadata: Metadata {
            default: Pairs(&SMALL_METADATA),
        },
        namespace: "remote",
        ..rich_doc
    };

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for (shape, spans, doc) in [("small", &small, &small_doc), ("rich", &rich, &rich_doc)] {
        let mut group = criterion.benchmark_group(format!("export/{shape}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function("floor", |b| {
            let send = |batch: Vec<SpanData>| {
                for _ in &batch {
                    buf.truncate(HEADER.len());
                    serde_json::to_writer(&mut buf, doc).expect("serialise");
                    floor.send(&buf).ok();
                }
            };
            b.iter_batched(|| pause_then(spans), send, BatchSize::PerIteration)
        });
        group.bench_function("xray_bridge", |b| {
            let export = |batch| block_on(bridge.export(batch));
            b.iter_batched(|| pause_then(spans), export, BatchSize::PerIteration)
        });
        group.bench_function("opentelemetry_aws", |b| {
            let export = |batch| aws_failures += u64::from(block_on(aws.export(batch)).is_err());
            b.iter_batched(|| pause_then(spans), export, BatchSize::PerIteration)
        });
        group.bench_function("xray_bridge_index_all", |b| {
            let export = |batch| block_on(bridge_all.export(batch));
            b.iter_batched(|| pause_then(spans), export, BatchSize::PerIteration)
        });
        group.bench_function("opentelemetry_aws_index_all", |b| {
            let export = |batch| aws_failures += u64::from(block_on(aws_all.export(batch)).is_err());
            b.iter_batched(|| pause_then(spans), export, BatchSize::PerIteration)
        });
        group.finish();
    }
    criterion.final_summary();
    stop.store(true, Ordering::Relaxed);
    let received = receiver.join().expect("receiver thread");
    let bridge = bridge.stats();
    println!("receiver: {received} datagrams; xray_bridge: {bridge:?}; opentelemetry_aws: {aws_failures} failed exports");
}
