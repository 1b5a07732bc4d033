//! From `tracing` spans through tracing-opentelemetry and the SDK's batch processor to a real
//! UDP socket on 127.0.0.1: every document is checked field by field.

mod support;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use serde_json::{json, Value as Json};
use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::{XrayExporter, XrayIdGenerator};

#[derive(Debug)]
struct PaymentDeclined;

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment declined")
    }
}

impl std::error::Error for PaymentDeclined {}

#[tracing::instrument(err)]
fn charge(amount: i64) -> Result<(), PaymentDeclined> {
    Err(PaymentDeclined)
}

/// Runs one request's spans and returns the documents keyed by name.
fn export_one_request() -> Vec<Json> {
    let daemon = support::Daemon::start();
    let exporter = XrayExporter::builder()
        .with_daemon_address(daemon.address().to_string())
        .with_indexed_attributes(["tenant"])
        .build()
        .unwrap();
    let stats = exporter.stats_handle();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(XrayIdGenerator::default())
        .with_resource(
            Resource::builder_empty()
                .with_service_name("orders-api")
                .with_attribute(opentelemetry::KeyValue::new("cloud.provider", "aws"))
                .with_attribute(opentelemetry::KeyValue::new("cloud.platform", "aws_ec2"))
                .with_attribute(opentelemetry::KeyValue::new("host.id", "i-0abc"))
                .build(),
        )
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("end-to-end"))
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "POST /orders",
            otel.kind = "server",
            http.request.method = "POST",
            url.full = "https://shop.example.com/orders?id=7",
            user_agent.original = "curl/8.5.0",
            http.response.status_code = tracing::field::Empty,
            tenant = "acme",
        );
        let _request = request.enter();
        {
            let _query = tracing::info_span!(
                "SELECT orders",
                otel.kind = "client",
                db.system = "postgresql",
                db.name = "orders",
                db.user = "app",
                db.statement = "SELECT * FROM orders WHERE id = $1",
                db.connection_string = "postgresql://db.internal:5432",
            )
            .entered();
        }
        {
            let _publish = tracing::info_span!(
                "SNS.Publish",
                otel.kind = "client",
                rpc.system = "aws-api",
                rpc.service = "SNS",
                rpc.method = "Publish",
                aws.region = "eu-west-1",
            )
            .entered();
        }
        let _ = charge(42);
        request.record("http.response.status_code", 502);
    });
    provider.shutdown().expect("flush");
    // The request left in one batch: its subsegments travel inside its segment.
    let received = daemon.receive(1);
    let stats = stats.snapshot();
    assert_eq!((stats.datagrams_sent, stats.spans_sent), (1, 4), "{stats:?}");
    assert!(
        daemon
            .receive_for(std::time::Duration::from_millis(100))
            .is_empty(),
        "no extra datagram"
    );
    assert!(received[0].starts_with(b"{\"format\":\"json\",\"version\":1}\n"));
    let mut segment = support::document(&received[0]);
    let mut documents: Vec<Json> = support::flatten(&segment).into_iter().skip(1).cloned().collect();
    segment.as_object_mut().unwrap().remove("subsegments");
    documents.push(segment);
    documents
}

/// Replaces the run-dependent values (ids, times) after checking their shape and relations.
fn normalise(document: &mut Json, root_id: &str, trace_id: &str) {
    let start = document["start_time"].as_f64().unwrap();
    let end = document["end_time"].as_f64().unwrap();
    assert!(start > 1.7e9 && start <= end, "{document}");
    assert_eq!(document["trace_id"], trace_id);
    let object = document.as_object_mut().unwrap();
    assert_eq!(object.remove("id").unwrap().as_str().unwrap().len(), 16);
    object.remove("start_time");
    object.remove("end_time");
    object.remove("trace_id");
    if let Some(parent) = object.get("parent_id") {
        assert_eq!(parent, root_id);
        object.insert("parent_id".into(), json!("<root>"));
    }
    if let Some(exceptions) = object
        .get_mut("cause")
        .and_then(|c| c["exceptions"].as_array_mut())
    {
        for exception in exceptions {
            assert_eq!(
                exception
                    .as_object_mut()
                    .unwrap()
                    .remove("id")
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .len(),
                16
            );
        }
    }
}

#[test]
fn tracing_spans_arrive_as_segments_and_subsegments() {
    let mut documents = export_one_request();
    let root = documents
        .iter()
        .find(|d| d.get("parent_id").is_none())
        .expect("a segment")
        .clone();
    let root_id = root["id"].as_str().unwrap().to_owned();
    let trace_id = root["trace_id"].as_str().unwrap().to_owned();
    let epoch = u32::from_str_radix(&trace_id[2..10], 16).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    assert!(
        now - epoch < 60,
        "X-Ray trace id carries the current epoch: {trace_id}"
    );
    for document in &mut documents {
        normalise(document, &root_id, &trace_id);
    }
    documents.sort_by_key(|d| d["name"].as_str().unwrap().to_owned());
    let aws = json!({"xray": {"auto_instrumentation": false},
        "ec2": {"instance_id": "i-0abc", "availability_zone": null, "instance_size": null, "ami_id": null}});
    let expected = json!([
        {
            "name": "SNS", "namespace": "aws", "type": "subsegment", "parent_id": "<root>",
            "origin": "AWS::EC2::Instance",
            "fault": false, "error": false, "throttle": false,
            "aws": {"operation": "Publish", "region": "eu-west-1",
                    "xray": {"auto_instrumentation": false},
                    "ec2": {"instance_id": "i-0abc", "availability_zone": null, "instance_size": null, "ami_id": null}},
            "metadata": {"default": {"rpc.service": "SNS", "rpc.system": "aws-api"}}
        },
        {
            "name": "charge", "type": "subsegment", "parent_id": "<root>",
            "origin": "AWS::EC2::Instance",
            "fault": true, "error": false, "throttle": false, "aws": aws,
            "cause": {"exceptions": [{"message": "payment declined", "type": "", "remote": false}]},
            "metadata": {"default": {"amount": 42}}
        },
        {
            "name": "orders-api", "origin": "AWS::EC2::Instance",
            "fault": true, "error": false, "throttle": false, "aws": aws,
            "http": {"request": {"method": "POST", "url": "https://shop.example.com/orders?id=7",
                                 "user_agent": "curl/8.5.0"},
                     "response": {"status": 502, "content_length": 0}},
            "annotations": {"tenant": "acme"},
            "metadata": {"default": {
                "otel.resource.service.name": "orders-api",
                "otel.resource.cloud.provider": "aws",
                "otel.resource.cloud.platform": "aws_ec2",
                "otel.resource.host.id": "i-0abc"
            }}
        },
        {
            "name": "orders@db.internal", "namespace": "remote", "type": "subsegment", "parent_id": "<root>",
            "origin": "AWS::EC2::Instance",
            "fault": false, "error": false, "throttle": false, "aws": aws,
            "sql": {"url": "SELECT orders", "connection_string": "postgresql://db.internal:5432/orders",
                    "sanitized_query": "SELECT * FROM orders WHERE id = $1", "database_type": "postgresql",
                    "user": "app"}
        }
    ]);
    assert_eq!(Json::Array(documents), expected);
}

/// Real datagrams captured from the Node and Python X-Ray SDKs (tests/fixtures/sdk_datagrams):
/// this crate's framing is byte-for-byte theirs, and its documents use the same field names.
#[test]
fn datagrams_are_framed_like_the_x_ray_sdks() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk_datagrams");
    let mut captured = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let datagram = std::fs::read(&path).unwrap();
        let (header, body) = datagram.split_at(datagram.iter().position(|b| *b == b'\n').unwrap() + 1);
        assert_eq!(header, support::HEADER, "{}", path.display());
        let document: Json = serde_json::from_slice(body).unwrap();
        for field in ["name", "id", "trace_id", "start_time"] {
            assert!(document.get(field).is_some(), "{} has {field}", path.display());
        }
        captured += 1;
    }
    assert_eq!(captured, 13);
    for ours in export_one_request() {
        for field in ["name", "id", "trace_id", "start_time", "end_time"] {
            assert!(ours.get(field).is_some(), "ours has {field}: {ours}");
        }
    }
}
