//! Shared test support: a UDP socket that plays the X-Ray daemon, and spans built from the
//! golden-vector JSON format.
#![allow(dead_code)] // each test file uses part of this module

pub mod fuzz_export;
pub mod xray_rules;

use std::borrow::Cow;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;
use serde_json::Value as Json;

/// A tracing pipeline for the calling thread that exports every span to `daemon` as it ends:
/// X-Ray ids, `XrayParentBasedSampler::new(AlwaysOn)`, this crate's lean layer, and the global
/// propagator set to W3C plus X-Ray.
pub fn tracing_to(
    daemon: SocketAddr,
    service_name: &str,
) -> (
    opentelemetry_sdk::trace::SdkTracerProvider,
    tracing::subscriber::DefaultGuard,
) {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;
    opentelemetry::global::set_text_map_propagator(xray_bridge::XrayPropagator::with_trace_context());
    let exporter = xray_bridge::XrayExporter::builder()
        .with_daemon_address(daemon.to_string())
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_id_generator(xray_bridge::XrayIdGenerator::default())
        .with_sampler(xray_bridge::XrayParentBasedSampler::new(
            opentelemetry_sdk::trace::Sampler::AlwaysOn,
        ))
        .with_resource(
            Resource::builder_empty()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build();
    let layer = xray_bridge::tracing_layer(provider.tracer("test"));
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    (provider, guard)
}

/// The daemon header every datagram starts with.
pub const HEADER: &[u8] = b"{\"format\":\"json\",\"version\":1}\n";

/// A UDP socket on 127.0.0.1 that receives what the exporter sends.
pub struct Daemon {
    socket: UdpSocket,
}

impl Daemon {
    /// Binds 127.0.0.1:0.
    pub fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        Daemon { socket }
    }

    /// The address to give the exporter.
    pub fn address(&self) -> SocketAddr {
        self.socket.local_addr().expect("local addr")
    }

    /// Receives exactly `count` datagrams, failing after 5 s.
    pub fn receive(&self, count: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut received = Vec::new();
        let mut buffer = vec![0u8; 70_000];
        while received.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "only {} of {count} datagrams arrived",
                received.len()
            );
            self.socket.set_read_timeout(Some(left)).expect("timeout");
            if let Ok(n) = self.socket.recv(&mut buffer) {
                received.push(buffer[..n].to_vec());
            }
        }
        received
    }

    /// Receives datagrams until they hold `count` documents (subsegments embedded in their
    /// parent's document count one each), failing after 5 s; every document, depth first.
    pub fn documents(&self, count: usize) -> Vec<Json> {
        let mut documents = Vec::new();
        while documents.len() < count {
            let datagram = document(&self.receive(1)[0]);
            documents.extend(flatten(&datagram).into_iter().cloned());
        }
        documents
    }

    /// Every datagram already received, without waiting.
    pub fn drain(&self) -> Vec<Vec<u8>> {
        self.socket.set_nonblocking(true).expect("non-blocking");
        let mut received = Vec::new();
        let mut buffer = vec![0u8; 70_000];
        while let Ok(n) = self.socket.recv(&mut buffer) {
            received.push(buffer[..n].to_vec());
        }
        self.socket.set_nonblocking(false).expect("blocking");
        received
    }

    /// Every datagram that arrives within `wait`.
    pub fn receive_for(&self, wait: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + wait;
        let mut received = Vec::new();
        let mut buffer = vec![0u8; 70_000];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return received;
            }
            self.socket.set_read_timeout(Some(left)).expect("timeout");
            if let Ok(n) = self.socket.recv(&mut buffer) {
                received.push(buffer[..n].to_vec());
            }
        }
    }
}

/// Checks the datagram's framing and size and returns its document.
pub fn document(datagram: &[u8]) -> Json {
    assert!(datagram.len() <= 64_000, "datagram of {} bytes", datagram.len());
    assert!(datagram.starts_with(HEADER), "missing daemon header");
    serde_json::from_slice(&datagram[HEADER.len()..]).expect("valid JSON document")
}

/// `document` and every subsegment embedded in it, depth first.
pub fn flatten(document: &Json) -> Vec<&Json> {
    let mut all = vec![document];
    for embedded in document["subsegments"].as_array().into_iter().flatten() {
        all.extend(flatten(embedded));
    }
    all
}

/// Converts a golden-vector attribute; `None` for the kinds OpenTelemetry for Rust has no
/// value for (maps and empty values).
pub fn key_value(key: &str, value: &Json) -> Option<KeyValue> {
    let value = match value {
        Json::String(s) => Value::String(s.clone().into()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) if n.is_i64() && !n.to_string().contains(['.', 'e', 'E']) => Value::I64(n.as_i64()?),
        Json::Number(n) => Value::F64(n.as_f64()?),
        Json::Array(items) => Value::Array(array(items)?),
        Json::Object(_) | Json::Null => return None,
    };
    Some(KeyValue::new(key.to_owned(), value))
}

fn array(items: &[Json]) -> Option<Array> {
    Some(match items.first() {
        None | Some(Json::String(_)) => Array::String(
            items
                .iter()
                .map(|i| StringValue::from(i.as_str().unwrap_or("").to_owned()))
                .collect(),
        ),
        Some(Json::Bool(_)) => Array::Bool(items.iter().filter_map(Json::as_bool).collect()),
        Some(Json::Number(n)) if n.is_i64() => Array::I64(items.iter().filter_map(Json::as_i64).collect()),
        Some(Json::Number(_)) => Array::F64(items.iter().filter_map(Json::as_f64).collect()),
        _ => return None,
    })
}

/// Attributes of a golden-vector object, in order.
pub fn attributes(object: &Json) -> Vec<KeyValue> {
    object
        .as_object()
        .map(|map| map.iter().filter_map(|(k, v)| key_value(k, v)).collect())
        .unwrap_or_default()
}

/// A resource with the attributes of a golden-vector object.
pub fn resource(object: &Json) -> Resource {
    Resource::builder_empty()
        .with_attributes(attributes(object))
        .build()
}

fn time(nanos: &Json) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos.as_u64().expect("unix nanos"))
}

/// A finished span in trace `6553f100…0d13` with id `53995c3f42cd8ad8` and, when `child`,
/// parent `70de5b6f19ff9a0a`; times are now, status unset.
pub fn test_span(
    name: &str,
    kind: SpanKind,
    child: bool,
    attributes: Vec<KeyValue>,
    events: Vec<Event>,
) -> SpanData {
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    let now = SystemTime::now();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(0x6553_f100_5c8e_3a1f_9bd5_c2e4_a7b6_0d13_u128),
            SpanId::from(0x5399_5c3f_42cd_8ad8_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: if child {
            SpanId::from(0x70de_5b6f_19ff_9a0a_u64)
        } else {
            SpanId::INVALID
        },
        parent_span_is_remote: false,
        span_kind: kind,
        name: Cow::Owned(name.to_owned()),
        start_time: now,
        end_time: now,
        attributes,
        dropped_attributes_count: 0,
        events: span_events,
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: Default::default(),
    }
}

/// The span of a golden vector.
pub fn span(span: &Json) -> SpanData {
    let trace_id = TraceId::from_hex(span["trace_id"].as_str().unwrap()).unwrap();
    let context = |trace: TraceId, id: &Json| {
        SpanContext::new(
            trace,
            SpanId::from_hex(id.as_str().unwrap()).unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        )
    };
    let kind = match span["kind"].as_str().unwrap() {
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };
    let status = match span["status"]["code"].as_str() {
        Some("error") => Status::error(span["status"]["message"].as_str().unwrap_or("").to_owned()),
        Some("ok") => Status::Ok,
        _ => Status::Unset,
    };
    let mut events = SpanEvents::default();
    for event in span["events"].as_array().unwrap() {
        events.events.push(Event::new(
            event["name"].as_str().unwrap().to_owned(),
            time(&event["time_unix_nano"]),
            attributes(&event["attributes"]),
            0,
        ));
    }
    let mut links = SpanLinks::default();
    for link in span["links"].as_array().unwrap() {
        let trace = TraceId::from_hex(link["trace_id"].as_str().unwrap()).unwrap();
        links.links.push(Link::new(
            context(trace, &link["span_id"]),
            attributes(&link["attributes"]),
            0,
        ));
    }
    SpanData {
        span_context: context(trace_id, &span["span_id"]),
        parent_span_id: span["parent_span_id"]
            .as_str()
            .map(|p| SpanId::from_hex(p).unwrap())
            .unwrap_or(SpanId::INVALID),
        parent_span_is_remote: false,
        span_kind: kind,
        name: Cow::Owned(span["name"].as_str().unwrap().to_owned()),
        start_time: time(&span["start_unix_nano"]),
        end_time: time(&span["end_unix_nano"]),
        attributes: attributes(&span["attributes"]),
        dropped_attributes_count: 0,
        events,
        links,
        status,
        instrumentation_scope: Default::default(),
    }
}

/// The exceptions of `document`'s cause without their random ids, after checking that each id
/// is 16 hex digits and each exception's `cause` is the next one's id.
pub fn exceptions(document: &Json) -> Json {
    let mut exceptions = document["cause"]["exceptions"].clone();
    let list = exceptions.as_array_mut().expect("a cause with exceptions");
    let ids: Vec<Json> = list.iter().map(|e| e["id"].clone()).collect();
    for (i, exception) in list.iter_mut().enumerate() {
        let object = exception.as_object_mut().unwrap();
        let id = object.remove("id").unwrap();
        assert_eq!(id.as_str().unwrap().len(), 16, "16 hex digits: {id}");
        match ids.get(i + 1) {
            Some(next) => assert_eq!(object.remove("cause").as_ref(), Some(next), "chained"),
            None => assert_eq!(object.get("cause"), None),
        }
    }
    exceptions
}

/// `builder()`'s layer and guard for service `service` outside Lambda, sending to `daemon`.
pub fn pipeline_to<S>(daemon: &Daemon, service: &str) -> (xray_bridge::XrayLayer<S>, xray_bridge::XrayGuard)
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span> + Send + Sync,
{
    xray_bridge::builder()
        .with_service_name(service)
        .with_lambda_mode(false)
        .with_exporter(xray_bridge::XrayExporter::builder().with_daemon_address(daemon.address().to_string()))
        .build_layer()
        .unwrap()
}
