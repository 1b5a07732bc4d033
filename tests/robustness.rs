//! Never hurt the host: thousands of generated spans — every known attribute key with every
//! kind of value, odd events, links, statuses, kinds and resources — go through the exporter
//! without a panic, and every datagram that comes out is valid JSON within 64,000 bytes.

mod support;

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use xray_bridge::XrayExporter;

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "http.method",
    "http.request.method",
    "http.client_ip",
    "client.address",
    "http.user_agent",
    "http.status_code",
    "http.response.status_code",
    "http.url",
    "url.full",
    "http.scheme",
    "http.host",
    "http.target",
    "http.server_name",
    "net.host.port",
    "host.name",
    "net.peer.name",
    "server.address",
    "net.peer.port",
    "server.port",
    "net.peer.ip",
    "network.peer.address",
    "url.path",
    "url.query",
    "message.type",
    "messaging.message_payload_size_bytes",
    "http.status_text",
    "aws.operation",
    "rpc.method",
    "aws.account_id",
    "aws.region",
    "aws.request_id",
    "aws.queue_url",
    "aws.table_name",
    "messaging.url",
    "aws.dynamodb.table_names",
    "aws.service",
    "rpc.service",
    "rpc.system",
    "peer.service",
    "db.connection_string",
    "db.system",
    "db.name",
    "db.statement",
    "db.user",
    "aws.xray.inprogress",
    "enduser.id",
    "aws.xray.annotations",
    "aws.local.service",
    "aws.remote.service",
    "aws.span.kind",
    "aws.xray.metadata.default",
    "aws.xray.metadata.custom",
    "http.response.body.size",
    "plain",
    "",
    "weird key\u{0}",
    "é",
];

const TEXTS: &[&str] = &[
    "",
    "aws-api",
    "LOCAL_ROOT",
    "postgresql",
    "jdbc:mysql://u:p@db:3306",
    "RECEIVED",
    "200",
    "-1",
    "abc",
    "{\"a\":1}",
    "null",
    "[1,2]",
    "http://[::1]:80/x?y",
    "::1",
    "10.0.0.1",
    "AWS.SDK.DynamoDb",
    "\u{1F600}",
    "\"\\\n\t",
    "h2:mem:",
    "://",
    "a:b:c:d:e:f:g:h",
];

fn value(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => Value::Bool(rng.below(2) == 0),
        1 => Value::I64(rng.next() as i64),
        2 => Value::I64(rng.below(700) as i64),
        3 => Value::F64(f64::from_bits(rng.next())),
        4 => Value::Array(Array::String(
            (0..rng.below(4))
                .map(|_| StringValue::from(rng.pick(TEXTS).to_owned()))
                .collect(),
        )),
        5 => Value::Array(Array::I64(vec![rng.next() as i64])),
        6 => Value::String("x".repeat(rng.below(3) * 30_000).into()),
        _ => Value::String(rng.pick(TEXTS).to_owned().into()),
    }
}

fn stack(rng: &mut Rng) -> String {
    let lines = [
        "\tat a.B.c(B.java:1)",
        "Caused by: X:",
        "  File \"x.py\", line 3, in f",
        "During handling of the above exception, another exception occurred:",
        "    at f (/x.js:1:2)",
        "   at A.B() in C:\\x.cs:line",
        "goroutine 1 [running]:",
        "main.f(0x1)",
        "\t/x.go:3 +0x1",
        "   0: app::main",
        "             at ./src/main.rs:1:2",
        "",
        "(",
        ")",
        ":",
    ];
    (0..rng.below(12))
        .map(|_| lines[rng.below(lines.len())])
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn generated_spans_never_panic_and_always_fit() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let daemon = support::Daemon::start();
    let mut checked = 0;
    for round in 0..40 {
        let languages = [
            "java",
            "python",
            "javascript",
            "nodejs",
            "dotnet",
            "go",
            "rust",
            "cobol",
        ];
        let mut exporter = XrayExporter::builder()
            .with_daemon_address(daemon.address().to_string())
            .with_indexed_attributes(KEYS.iter().filter(|_| rng.below(3) == 0).map(|k| k.to_string()))
            .with_index_all_attributes(round % 5 == 0)
            .with_trace_id_validation(round % 7 == 0)
            .with_dots_in_annotation_keys(round % 2 == 0)
            .build()
            .unwrap();
        let resource: Vec<KeyValue> = (0..rng.below(8))
            .map(|_| {
                let key = [
                    "cloud.provider",
                    "cloud.platform",
                    "host.id",
                    "k8s.cluster.name",
                    "aws.log.group.arns",
                    "service.version",
                    "aws.ecs.launchtype",
                    "service.instance.id",
                ];
                KeyValue::new(key[rng.below(key.len())], value(&mut rng))
            })
            .chain([KeyValue::new(
                "telemetry.sdk.language",
                languages[round % languages.len()],
            )])
            .collect();
        exporter.set_resource(&Resource::builder_empty().with_attributes(resource).build());
        for i in 0..50 {
            let span = {
                let attributes = (0..rng.below(20))
                    .map(|_| KeyValue::new(rng.pick(KEYS).to_owned(), value(&mut rng)))
                    .collect();
                let events = (0..rng.below(4))
                    .map(|_| {
                        let name = ["exception", "HTTP request failure", "other"][rng.below(3)];
                        let attributes = vec![
                            KeyValue::new("exception.type", rng.pick(TEXTS).to_owned()),
                            KeyValue::new("exception.message", value(&mut rng)),
                            KeyValue::new(
                                "exception.stacktrace",
                                if rng.below(2) == 0 {
                                    Value::from(stack(&mut rng))
                                } else {
                                    value(&mut rng)
                                },
                            ),
                            KeyValue::new("http.response.status_code", value(&mut rng)),
                            KeyValue::new("aws.http.error_message", rng.pick(TEXTS).to_owned()),
                        ];
                        Event::new(name, std::time::SystemTime::now(), attributes, 0)
                    })
                    .collect();
                let kinds = [
                    SpanKind::Server,
                    SpanKind::Client,
                    SpanKind::Producer,
                    SpanKind::Consumer,
                    SpanKind::Internal,
                ];
                let mut span = support::test_span(
                    rng.pick(TEXTS),
                    kinds[rng.below(5)].clone(),
                    rng.below(2) == 0,
                    attributes,
                    events,
                );
                span.span_context = SpanContext::new(
                    TraceId::from(u128::from(rng.next()) << 64 | i),
                    SpanId::from(rng.next() | 1),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::NONE,
                );
                span.status = [
                    Status::Unset,
                    Status::Ok,
                    Status::error(rng.pick(TEXTS).to_owned()),
                ][rng.below(3)]
                .clone();
                if rng.below(4) == 0 {
                    let linked = SpanContext::new(
                        TraceId::from(rng.next() as u128),
                        SpanId::from(7),
                        TraceFlags::SAMPLED,
                        false,
                        TraceState::NONE,
                    );
                    span.links
                        .links
                        .push(Link::new(linked, vec![KeyValue::new("k", value(&mut rng))], 0));
                }
                span
            };
            // One span per export, drained at once: the receive buffer holds only a few large datagrams.
            futures_executor::block_on(exporter.export(vec![span])).expect("export never fails");
            for datagram in daemon.drain() {
                support::document(&datagram); // framing, size and JSON validity
                checked += 1;
            }
        }
        let stats = exporter.stats();
        assert_eq!(stats.spans_dropped_too_large, 0, "{stats:?}");
    }
    assert!(checked > 1500, "only {checked} datagrams checked");
}
