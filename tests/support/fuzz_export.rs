//! The fuzz harnesses, shared by the fuzz targets (`fuzz/`, through `#[path]`) and by the
//! replay of their corpora (`tests/fuzz_corpus.rs`).
//!
//! [`export`] turns arbitrary bytes into an exporter configuration, a resource and a batch of
//! 1–4 spans (every attribute key the translator reads, every OpenTelemetry value type,
//! exception events in every stack style, links, statuses, kinds, parents), exports the batch
//! through a real [`XrayExporter`] to a UDP socket on 127.0.0.1 and checks what arrives:
//! every datagram passes [`super::xray_rules::check_datagram`], the datagrams counted sent are
//! the ones that arrived, and every span is accounted for exactly once, lost only for a reason
//! the input gives. [`header`] and [`daemon_address`] are the parsers' properties.
//!
//! Each harness panics on a violation, with the reason.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arbitrary::{Arbitrary, Result, Unstructured};
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use opentelemetry_sdk::Resource;
use xray_bridge::{DaemonAddress, TraceHeader, XrayExporter, XrayPropagator};

use super::xray_rules;

/// Every span attribute key the translator reads (src/translate), and a few it does not.
pub const SPAN_KEYS: &[&str] = &[
    "http.method",
    "http.request.method",
    "http.client_ip",
    "client.address",
    "http.user_agent",
    "user_agent.original",
    "http.status_code",
    "http.response.status_code",
    "http.url",
    "url.full",
    "http.scheme",
    "url.scheme",
    "http.host",
    "http.target",
    "http.server_name",
    "net.host.port",
    "net.host.name",
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
    "http.response.body.size",
    "http.response_content_length",
    "aws.operation",
    "rpc.method",
    "aws.account_id",
    "aws.region",
    "aws.request_id",
    "aws.requestId",
    "aws.queue_url",
    "aws.queue.url",
    "aws.table_name",
    "aws.table.name",
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
    "aws.remote.operation",
    "remoteTarget",
    "K8s.RemoteNamespace",
    "aws.span.kind",
    "aws.xray.metadata.default",
    "aws.xray.metadata.custom",
    "aws.xray.metadata.AWS.sdk",
    "aws.xray.metadata.",
    "otel.status_code",
    "otel.status_description",
    "otel.resource.service.name",
    "telemetry.sdk.language",
    "exception.type",
    "exception.message",
    "plain",
    "tenant",
    "",
    "weird key\u{0}",
    "é",
    "a@b",
];

/// Every resource attribute key the translator reads.
pub const RESOURCE_KEYS: &[&str] = &[
    "service.name",
    "service.version",
    "service.namespace",
    "service.instance.id",
    "cloud.provider",
    "cloud.platform",
    "cloud.region",
    "cloud.account.id",
    "cloud.availability_zone",
    "host.id",
    "host.type",
    "host.image.id",
    "host.name",
    "container.id",
    "container.name",
    "container.image.tag",
    "k8s.cluster.name",
    "k8s.pod.name",
    "aws.ecs.cluster.arn",
    "aws.ecs.container.arn",
    "aws.ecs.launchtype",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.log.group.names",
    "aws.log.group.arns",
    "telemetry.sdk.language",
    "telemetry.sdk.name",
    "telemetry.sdk.version",
    "telemetry.auto.version",
    "telemetry.distro.version",
    "faas.name",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
    "deployment.environment",
    "custom.key",
    "",
];

/// Values the translator compares against, and hostile text.
pub const TEXTS: &[&str] = &[
    "",
    "aws-api",
    "LOCAL_ROOT",
    "postgresql",
    "jdbc:mysql://u:p@db:3306/x",
    "RECEIVED",
    "SENT",
    "200",
    "429",
    "503",
    "-1",
    "abc",
    "{\"a\":1}",
    "{\"a\":{\"b\":[1,2]}}",
    "null",
    "[1,2]",
    "http://[::1]:80/x?y#z",
    "https://user:pw@example.com:8443/p/a?q=1",
    "::1",
    "10.0.0.1",
    "10.0.0.1, 10.0.0.2",
    "AWS.SDK.DynamoDb",
    "AWS::S3",
    "DynamoDB",
    "\u{1F600}",
    "\"\\\n\t",
    "h2:mem:",
    "://",
    "a:b:c:d:e:f:g:h",
    "GET",
    "aws",
    "gcp",
    "aws_ec2",
    "aws_ecs",
    "aws_eks",
    "aws_elastic_beanstalk",
    "aws_lambda",
    "aws_app_runner",
    "EC2",
    "FARGATE",
    "java",
    "python",
    "javascript",
    "nodejs",
    "webjs",
    "go",
    "dotnet",
    "php",
    "rust",
    "ruby",
    "opentelemetry",
    "1.2.3",
    "12345",
    "arn:aws:logs:us-east-1:123456789012:log-group:g:*",
    "my-group",
    "Ⓐ\u{301}\u{2028}\u{85}\u{a0}\u{feff}",
    "<script>",
    "default",
    "DEFAULT",
    "true",
    "1e400",
    "SELECT * FROM t WHERE password = 'hunter2'",
    "Authorization: Bearer abc",
];

/// Stack traces of every supported style (src/translate/stack), to be cut and spliced.
pub const STACKS: &[&str] = &[
    // Java (and PHP)
    "java.lang.IllegalStateException: state\n\tat a.B.c(B.java:626)\n\tat java.base/x.Y.z(Native Method)\n\tSuppressed: R: s\n\t\tat R.close(R.java:26)\n\t... 1 more\nCaused by: java.lang.IllegalArgumentException: bad\nargument\n\tat x.Y.w(Y.java)\nCaused by: E:",
    // Python
    "Traceback (most recent call last):\n  File \"bar.py\", line 10, in greet_many\n    greet(person)\nValueError: bad value\nwith more\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"main.py\", line 14, in <module>\n    x()\nTypeError: must be str, not int",
    // JavaScript / Node.js
    "TypeError: Cannot read property 'value' of null\n    at speedy (/home/g/file.js:6:11)\n    at Object.<anonymous> (/home/g/file.js:10:1)\n    at node.js:906:3\n    at Array.forEach (native)\n    at native",
    // .NET
    "System.InvalidOperationException: outer\r\n ---> System.FormatException: bad format\r\n   at System.Number.Throw(ParsingStatus status)\r\n   at My.IntParser.Parse(String s) in C:\\apps\\IntParser.cs:line 11\r\n   --- End of inner exception stack trace ---\r\n   at My.Program.Main(String[] args) in /src/Program.cs:line 12\r\n   at Broken.Frame(String s",
    // Go
    "goroutine 19 [running]:\ngo.opentelemetry.io/otel/sdk/trace.recordStackTrace(0x0, 0x0)\n\totel/sdk/trace/span.go:323 +0x9b\ntesting.tRunner(0xc000102900)\n\tC:/go/src/testing/testing.go:1193 +0x1a3\ngoroutine 26 [running]:\nmain.worker(...)\n\t???\ncreated by testing.(*T).Run in goroutine 1\n\t/usr/local/go/src/testing/testing.go:1238 +0x63c",
    // Rust backtrace (std and anyhow)
    "Error: boom\nstack backtrace:\n   0: orders::db::query\n             at ./src/db.rs:42:9\n   1: orders::handler::{{closure}}\n             at /home/u/src/handler.rs:17:5\n   2: std::rt::lang_start\n   3:     0x55d3c6e0a1b2 - main\n             at C:\\src\\main.rs:3",
    "boom\n\nCaused by:\n    0: disk full\n\nStack backtrace:\n   0: app::main\n             at src/main.rs:1:1\n",
    // Multi-byte characters next to every delimiter.
    "é: ü\n\tat é/ü(é:1é)\n  File é,é line 1,é in é\nCaused by: é:é\n    at é (é:2:é)\n   0: é\n      at é:3:é\n",
];

/// The most bytes one input may add by repeating text (oversize documents), so that each run
/// stays quick.
const AMPLIFY_BUDGET: usize = 400_000;

/// The receive buffer asked for.
const RECEIVE_BUFFER_BYTES: usize = 4 << 20;

/// How long to wait for the datagrams counted as sent.
const RECEIVE_WAIT: Duration = Duration::from_secs(5);

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    amplified: usize,
}

impl<'a> Gen<'a, '_> {
    fn pick<'t>(&mut self, items: &[&'t str]) -> Result<&'t str> {
        Ok(*self.u.choose(items)?)
    }

    fn ratio(&mut self, n: u8, d: u8) -> Result<bool> {
        self.u.ratio(n, d)
    }

    /// A short arbitrary string.
    fn short(&mut self) -> Result<String> {
        let len = self.u.int_in_range(0..=24)?;
        let mut s = String::new();
        for _ in 0..len {
            let c = match self.u.int_in_range(0..=5)? {
                0 => char::from(self.u.int_in_range(0x20..=0x7e)?),
                1 => char::from(self.u.int_in_range(0..=0x1f)?),
                2 => *self
                    .u
                    .choose(&['é', 'Ⓐ', '\u{301}', '\u{2028}', '٣', '\u{1F600}', '\\', '\u{a0}'])?,
                _ => char::arbitrary(self.u)?,
            };
            s.push(c);
        }
        Ok(s)
    }

    /// Text: a known value, an arbitrary one, a stack trace, or one of them repeated.
    fn text(&mut self) -> Result<String> {
        let mut text = match self.u.int_in_range(0..=9)? {
            0..=4 => self.pick(TEXTS)?.to_owned(),
            5 => self.pick(STACKS)?.to_owned(),
            _ => self.short()?,
        };
        if self.ratio(1, 12)? {
            let times = *self.u.choose(&[2usize, 7, 60, 300, 1100, 6000, 70_000])?;
            let times = times.min(AMPLIFY_BUDGET.saturating_sub(self.amplified) / text.len().max(1));
            self.amplified += text.len() * times;
            text = text.repeat(times.max(1));
        }
        Ok(text)
    }

    /// A stack trace: one of every style, cut, spliced with another or with arbitrary text.
    fn stack(&mut self) -> Result<String> {
        let mut stack = self.pick(STACKS)?.to_owned();
        for _ in 0..self.u.int_in_range(0..=3)? {
            let at = floor_boundary(&stack, self.u.int_in_range(0..=stack.len())?);
            match self.u.int_in_range(0..=3)? {
                0 => stack.truncate(at),
                1 => {
                    let other = self.pick(STACKS)?;
                    let from = floor_boundary(other, self.u.int_in_range(0..=other.len())?);
                    stack.insert_str(at, &other[from..]);
                }
                2 => {
                    let piece = self.short()?;
                    stack.insert_str(at, &piece);
                }
                _ => {
                    let end = floor_boundary(&stack, self.u.int_in_range(at..=stack.len())?);
                    stack.replace_range(at..end, "");
                }
            }
        }
        if self.ratio(1, 16)? {
            let times = 5000.min(AMPLIFY_BUDGET.saturating_sub(self.amplified) / stack.len().max(1));
            self.amplified += stack.len() * times;
            stack = stack.repeat(times.max(1));
        }
        Ok(stack)
    }

    fn float(&mut self) -> Result<f64> {
        Ok(match self.u.int_in_range(0..=7)? {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::MAX,
            5 => 5.0,
            _ => f64::arbitrary(self.u)?,
        })
    }

    fn int(&mut self) -> Result<i64> {
        Ok(match self.u.int_in_range(0..=5)? {
            0 => i64::MIN,
            1 => i64::MAX,
            2 => *self
                .u
                .choose(&[200, 404, 429, 500, 503, 0, -1, 99, 600, 1_000_000])?,
            _ => i64::arbitrary(self.u)?,
        })
    }

    /// A value of any OpenTelemetry type.
    fn value(&mut self) -> Result<Value> {
        let len = self.u.int_in_range(0..=4)?;
        Ok(match self.u.int_in_range(0..=9)? {
            0 => Value::Bool(bool::arbitrary(self.u)?),
            1 => Value::I64(self.int()?),
            2 => Value::F64(self.float()?),
            3 => Value::Array(Array::Bool(
                (0..len).map(|_| bool::arbitrary(self.u)).collect::<Result<_>>()?,
            )),
            4 => Value::Array(Array::I64((0..len).map(|_| self.int()).collect::<Result<_>>()?)),
            5 => Value::Array(Array::F64((0..len).map(|_| self.float()).collect::<Result<_>>()?)),
            6 => Value::Array(Array::String(
                (0..len)
                    .map(|_| self.text().map(StringValue::from))
                    .collect::<Result<_>>()?,
            )),
            _ => Value::String(self.text()?.into()),
        })
    }

    fn key(&mut self, keys: &[&str]) -> Result<String> {
        Ok(match self.u.int_in_range(0..=9)? {
            0 => self.short()?,
            1 if self.ratio(1, 4)? => "k".repeat(self.u.int_in_range(490..=520)?),
            _ => self.pick(keys)?.to_owned(),
        })
    }

    fn attributes(&mut self, keys: &[&str], max: usize) -> Result<Vec<KeyValue>> {
        let mut count = self.u.int_in_range(0..=max)?;
        if self.ratio(1, 32)? {
            count += 60; // more than X-Ray's 50 annotations
        }
        (0..count)
            .map(|_| Ok(KeyValue::new(self.key(keys)?, self.value()?)))
            .collect()
    }

    fn trace_id(&mut self, now: u32) -> Result<TraceId> {
        let epoch = match self.u.int_in_range(0..=6)? {
            0 => u32::arbitrary(self.u)?,
            1 => now.wrapping_sub(10 * 24 * 3600),
            2 => now.wrapping_sub(29 * 24 * 3600),
            3 => now.wrapping_add(3600),
            4 => 0,
            _ => now,
        };
        let random = u128::arbitrary(self.u)? & ((1u128 << 96) - 1);
        Ok(TraceId::from((u128::from(epoch) << 96) | random))
    }

    fn time(&mut self, base: SystemTime) -> Result<SystemTime> {
        Ok(match self.u.int_in_range(0..=5)? {
            0 => UNIX_EPOCH,
            1 => UNIX_EPOCH + Duration::from_nanos(u64::arbitrary(self.u)?),
            2 => base
                .checked_sub(Duration::from_millis(u64::from(u32::arbitrary(self.u)?)))
                .unwrap_or(base),
            _ => base + Duration::from_micros(u64::from(u16::arbitrary(self.u)?)),
        })
    }

    fn status(&mut self) -> Result<Status> {
        Ok(match self.u.int_in_range(0..=2)? {
            0 => Status::Unset,
            1 => Status::Ok,
            _ => Status::error(self.text()?),
        })
    }

    fn kind(&mut self) -> Result<SpanKind> {
        Ok(self
            .u
            .choose(&[
                SpanKind::Internal,
                SpanKind::Server,
                SpanKind::Client,
                SpanKind::Producer,
                SpanKind::Consumer,
            ])?
            .clone())
    }

    fn event(&mut self, start: SystemTime) -> Result<Event> {
        let time = self.time(start)?;
        let (name, attributes) = match self.u.int_in_range(0..=5)? {
            0..=2 => {
                let mut attributes = Vec::new();
                for key in ["exception.type", "exception.message", "exception.stacktrace"] {
                    if self.ratio(4, 5)? {
                        let value = match (key, self.u.int_in_range(0..=5)?) {
                            (_, 0) => self.value()?,
                            ("exception.stacktrace", _) => Value::String(self.stack()?.into()),
                            _ => Value::String(self.text()?.into()),
                        };
                        attributes.push(KeyValue::new(key, value));
                    }
                }
                if self.ratio(1, 3)? {
                    attributes.push(KeyValue::new("exception.escaped", bool::arbitrary(self.u)?));
                }
                ("exception".to_owned(), attributes)
            }
            3 => {
                let mut attributes = vec![KeyValue::new("aws.http.error_message", self.value()?)];
                if self.ratio(3, 4)? {
                    attributes.push(KeyValue::new("http.response.status_code", self.value()?));
                }
                ("HTTP request failure".to_owned(), attributes)
            }
            _ => (self.short()?, self.attributes(SPAN_KEYS, 3)?),
        };
        Ok(Event::new(name, time, attributes, 0))
    }
}

/// The largest char boundary of `s` at or before `at`.
fn floor_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

/// What the harness built from the bytes.
pub struct Input {
    pub builder: xray_bridge::XrayExporterBuilder,
    pub validation: bool,
    pub resource: Resource,
    pub batch: Vec<SpanData>,
}

/// The exporter configuration, the resource and the batch that `data` describes.
pub fn build_input(data: &[u8], daemon: SocketAddr) -> Result<Input> {
    let mut u = Unstructured::new(data);
    let mut g = Gen {
        u: &mut u,
        amplified: 0,
    };
    let now_time = SystemTime::now();
    let now = now_time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);

    let validation = g.ratio(1, 4)?;
    let mut indexed = Vec::new();
    for _ in 0..g.u.int_in_range(0..=5)? {
        indexed.push(match g.u.int_in_range(0..=3)? {
            0 => format!("otel.resource.{}", g.pick(RESOURCE_KEYS)?),
            1 => g.short()?,
            _ => g.pick(SPAN_KEYS)?.to_owned(),
        });
    }
    let mut builder = XrayExporter::builder()
        .with_daemon_address(daemon.to_string())
        .with_indexed_attributes(indexed)
        .with_index_all_attributes(g.ratio(1, 4)?)
        .with_trace_id_validation(validation)
        .with_dots_in_annotation_keys(!g.ratio(1, 4)?)
        .with_lambda_mode(g.ratio(1, 6)?);
    if g.ratio(1, 8)? {
        builder = builder.with_segment_name(g.text()?);
    }
    if g.ratio(1, 6)? {
        let groups: Vec<String> = (0..g.u.int_in_range(1..=2)?)
            .map(|_| g.text())
            .collect::<Result<_>>()?;
        builder = builder.with_aws_log_groups(groups);
    }

    let mut resource = g.attributes(RESOURCE_KEYS, 8)?;
    if g.ratio(1, 2)? {
        let language = g.pick(&[
            "java",
            "php",
            "python",
            "javascript",
            "nodejs",
            "webjs",
            "go",
            "dotnet",
            "rust",
            "ruby",
        ])?;
        resource.push(KeyValue::new("telemetry.sdk.language", language));
    }
    let resource = Resource::builder_empty().with_attributes(resource).build();

    let count = g.u.int_in_range(1..=4)?;
    let shared_trace = g.trace_id(now)?;
    // Span ids are unique (X-Ray requires ids unique in the trace; only the invalid id may
    // repeat), so that a duplicate is the exporter's doing, not the input's.
    let mut ids: Vec<SpanId> = Vec::with_capacity(count);
    for i in 0..count {
        let id = match g.u.int_in_range(0..=15)? {
            0 => 0,
            _ => u64::arbitrary(g.u)?,
        };
        let mut id = SpanId::from(id);
        while id != SpanId::INVALID && ids.contains(&id) {
            id = SpanId::from(u64::from_be_bytes(id.to_bytes()).wrapping_add(i as u64 + 1));
        }
        ids.push(id);
    }
    let mut batch = Vec::with_capacity(count);
    for (i, id) in ids.iter().enumerate() {
        let trace = if g.ratio(3, 4)? {
            shared_trace
        } else {
            g.trace_id(now)?
        };
        let (parent, remote) = match g.u.int_in_range(0..=5)? {
            0 | 1 => (SpanId::INVALID, false),
            2 => (SpanId::from(u64::arbitrary(g.u)?), false),
            3 => (SpanId::from(u64::arbitrary(g.u)?), true),
            _ => (
                ids[(i + g.u.int_in_range(1..=count)?) % count],
                bool::arbitrary(g.u)?,
            ),
        };
        let flags = if g.ratio(7, 8)? {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let state = if g.ratio(1, 8)? {
            TraceState::from_key_value([("awsxray", "p=1")]).unwrap_or_default()
        } else {
            TraceState::default()
        };
        let start = g.time(now_time)?;
        let end = g.time(start)?;
        let mut attributes = g.attributes(SPAN_KEYS, 10)?;
        if g.ratio(1, 4)? {
            let keys: Vec<StringValue> = (0..g.u.int_in_range(0..=4)?)
                .map(|_| g.key(SPAN_KEYS).map(StringValue::from))
                .collect::<Result<_>>()?;
            attributes.push(KeyValue::new(
                "aws.xray.annotations",
                Value::Array(Array::String(keys)),
            ));
        }
        let mut events = SpanEvents::default();
        for _ in 0..g.u.int_in_range(0..=3)? {
            events.events.push(g.event(start)?);
        }
        let mut links = SpanLinks::default();
        for _ in 0..g.u.int_in_range(0..=2)? {
            let context = SpanContext::new(
                g.trace_id(now)?,
                SpanId::from(u64::arbitrary(g.u)?),
                TraceFlags::SAMPLED,
                bool::arbitrary(g.u)?,
                TraceState::default(),
            );
            let attributes = g.attributes(SPAN_KEYS, 3)?;
            links.links.push(Link::new(context, attributes, 0));
        }
        let name = match g.u.int_in_range(0..=3)? {
            0 => g.short()?,
            _ => g.text()?,
        };
        batch.push(SpanData {
            span_context: SpanContext::new(trace, *id, flags, false, state),
            parent_span_id: parent,
            parent_span_is_remote: remote,
            span_kind: g.kind()?,
            name: Cow::Owned(name),
            start_time: start,
            end_time: end,
            attributes,
            dropped_attributes_count: 0,
            events,
            links,
            status: g.status()?,
            instrumentation_scope: Default::default(),
        });
    }
    Ok(Input {
        builder,
        validation,
        resource,
        batch,
    })
}

/// Whether X-Ray's time window (validation on) rejects `trace_id` at `now`: the exporter's
/// documented window, the last 28 days to 5 minutes ahead.
fn outside_window(trace_id: TraceId, now: u32) -> bool {
    let epoch = u32::from_be_bytes(trace_id.to_bytes()[..4].try_into().expect("4 bytes"));
    let age = i64::from(now) - i64::from(epoch);
    !(-300..=28 * 24 * 3600).contains(&age)
}

/// A loopback socket drained by a thread of its own, made once per harness thread and kept for
/// every input (a thread and a socket per input made the export target slow).
struct Receiver {
    address: SocketAddr,
    datagrams: mpsc::Receiver<Vec<u8>>,
    /// Sends the marker that ends each input's datagrams.
    barrier: UdpSocket,
    sequence: std::cell::Cell<u64>,
}

thread_local! {
    static RECEIVER: Receiver = Receiver::start();
}

impl Receiver {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback");
        // Room for a whole batch (up to eight 64 kB datagrams, paced for a reader that keeps
        // up) even while this thread waits for a core: the kernel caps it at net.core.rmem_max.
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RECEIVE_BUFFER_BYTES);
        let address = socket.local_addr().expect("local address");
        let (tx, datagrams) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = vec![0u8; 70_000];
            while let Ok(n) = socket.recv(&mut buffer) {
                if tx.send(buffer[..n].to_vec()).is_err() {
                    return;
                }
            }
        });
        Receiver {
            address,
            datagrams,
            barrier: UdpSocket::bind("127.0.0.1:0").expect("bind loopback"),
            sequence: std::cell::Cell::new(0),
        }
    }

    /// `count` datagrams (fewer if they do not come within the wait), then any extra that came
    /// before this input's end marker.
    fn collect(&self, count: u64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let deadline = Instant::now() + RECEIVE_WAIT;
        let mut received = Vec::new();
        while (received.len() as u64) < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.datagrams.recv_timeout(left) {
                Ok(datagram) => received.push(datagram),
                Err(_) => break,
            }
        }
        self.sequence.set(self.sequence.get() + 1);
        let marker = format!("\0end {}", self.sequence.get()).into_bytes();
        self.barrier
            .send_to(&marker, self.address)
            .expect("send the end marker");
        let mut extra = Vec::new();
        while let Ok(datagram) = self.datagrams.recv_timeout(RECEIVE_WAIT) {
            if datagram == marker {
                break;
            }
            extra.push(datagram);
        }
        (received, extra)
    }
}

/// The export harness: builds the input from `data` (nothing when the bytes run out before a
/// batch is complete), exports it and checks every datagram and the account of every span.
pub fn export(data: &[u8]) {
    RECEIVER.with(|receiver| export_to(data, receiver));
}

fn export_to(data: &[u8], receiver: &Receiver) {
    let Ok(input) = build_input(data, receiver.address) else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let mut exporter = input.builder.build().expect("an exporter for 127.0.0.1");
    exporter.set_resource(&input.resource);
    let n = input.batch.len() as u64;
    let invalid_expected: u64 = input
        .batch
        .iter()
        .filter(|span| {
            input.validation
                && (outside_window(span.span_context.trace_id(), now)
                    || span
                        .links
                        .iter()
                        .any(|l| outside_window(l.span_context.trace_id(), now)))
        })
        .count() as u64;
    let ids: Vec<String> = input
        .batch
        .iter()
        .map(|s| s.span_context.span_id().to_string())
        .collect();
    let distinct_ids = ids.iter().collect::<HashSet<_>>().len() == ids.len()
        && input
            .batch
            .iter()
            .all(|s| s.span_context.span_id() != SpanId::INVALID);

    futures_executor::block_on(exporter.export(input.batch)).expect("export never fails");
    let stats = exporter.stats();
    let (datagrams, extra) = receiver.collect(stats.datagrams_sent);

    let context = format!("{stats:?}");
    for (i, datagram) in datagrams.iter().enumerate() {
        if let Err(rule) = xray_rules::check_datagram(datagram) {
            let text = String::from_utf8_lossy(datagram);
            let shown: String = text.chars().take(3000).collect();
            panic!("datagram {i} breaks an X-Ray rule: {rule}\n{shown}");
        }
    }
    assert_eq!(
        datagrams.len() as u64,
        stats.datagrams_sent,
        "datagrams counted sent did not arrive: {context}"
    );
    assert!(
        extra.is_empty(),
        "{} datagrams beyond those counted: {context}",
        extra.len()
    );
    assert_eq!(
        stats.spans_ended, n,
        "every span handed over is counted ended: {context}"
    );
    assert_eq!(stats.spans_queued, 0, "{context}");
    let accounted = stats.spans_sent
        + stats.spans_refused
        + stats.spans_send_failed
        + stats.spans_dropped_queue_full
        + stats.spans_dropped_too_large
        + stats.spans_dropped_invalid_trace_id
        + stats.spans_dropped_at_shutdown;
    assert_eq!(
        accounted, n,
        "every span is accounted for exactly once: {context}"
    );
    assert_eq!(
        stats.spans_dropped_invalid_trace_id, invalid_expected,
        "spans dropped for their trace id: exactly those outside the window, with validation on: {context}"
    );
    assert_eq!(
        stats.spans_refused + stats.spans_send_failed,
        0,
        "a listening loopback socket: {context}"
    );
    assert_eq!(
        stats.datagrams_refused + stats.datagrams_send_failed,
        0,
        "{context}"
    );
    assert_eq!(
        stats.spans_dropped_queue_full + stats.spans_dropped_at_shutdown,
        0,
        "{context}"
    );
    assert_eq!(
        stats.spans_dropped_too_large, 0,
        "every document can be reduced to fit: {context}"
    );
    if distinct_ids {
        let mut arrived = HashSet::new();
        for datagram in &datagrams {
            let document: serde_json::Value =
                serde_json::from_slice(&datagram[xray_rules::DATAGRAM_HEADER.len()..]).expect("checked");
            collect_ids(&document, &mut arrived);
        }
        let found = ids.iter().filter(|id| arrived.contains(id.as_str())).count() as u64;
        assert!(
            found >= stats.spans_sent,
            "{} spans counted sent but only {found} of their ids arrived: {context}",
            stats.spans_sent
        );
    }
}

fn collect_ids(document: &serde_json::Value, out: &mut HashSet<String>) {
    if let Some(id) = document["id"].as_str() {
        out.insert(id.to_owned());
    }
    for sub in document["subsegments"].as_array().into_iter().flatten() {
        collect_ids(sub, out);
    }
}

/// A map carrier for the propagator.
struct Carrier(std::collections::HashMap<String, String>);

impl Extractor for Carrier {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

impl opentelemetry::propagation::Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// The header harness: `TraceHeader::parse` never panics; what it writes parses back to the
/// same header and writes the same text again; the propagator's extract → inject → extract is
/// stable (same context, same header).
pub fn header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(header) = TraceHeader::parse(&text) {
        let written = header.to_string();
        let again = TraceHeader::parse(&written)
            .unwrap_or_else(|| panic!("{written:?} (written from {text:?}) does not parse"));
        assert_eq!(again, header, "{text:?} → {written:?} parses to another header");
        assert_eq!(again.to_string(), written, "writing is not stable for {text:?}");
        let mut out = String::new();
        header.write(&mut out);
        assert_eq!(out, written, "write and Display differ");
    }
    let propagator = XrayPropagator::default();
    let mut carrier = Carrier(Default::default());
    carrier
        .0
        .insert("x-amzn-trace-id".into(), text.clone().into_owned());
    let first = propagator.extract(&carrier);
    let mut injected = Carrier(Default::default());
    propagator.inject_context(&first, &mut injected);
    let second = propagator.extract(&injected);
    let (a, b) = (
        first.span().span_context().clone(),
        second.span().span_context().clone(),
    );
    assert_eq!(
        a, b,
        "extract → inject → extract changed the context of {text:?} ({:?})",
        injected.0
    );
    let mut reinjected = Carrier(Default::default());
    propagator.inject_context(&second, &mut reinjected);
    assert_eq!(injected.0, reinjected.0, "injection is not stable for {text:?}");
    if let Some(value) = injected.0.get("x-amzn-trace-id") {
        assert!(
            TraceHeader::parse(value).is_some(),
            "the propagator injected a header that does not parse: {value:?}"
        );
    }
}

/// Whether parsing `value` as a daemon address would resolve a host name (anything but IP
/// literals): such inputs must only be parsed where no resolver can be reached.
pub fn resolves_names(value: &str) -> bool {
    value.split_whitespace().any(|part| {
        let part = part
            .strip_prefix("udp:")
            .or_else(|| part.strip_prefix("tcp:"))
            .unwrap_or(part);
        part.parse::<SocketAddr>().is_err()
            && part
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
    })
}

/// The daemon address harness: parsing never panics, and an accepted address has non-zero
/// UDP and TCP ports. With `allow_resolution` false, inputs that would resolve a host name are
/// skipped (returns false).
pub fn daemon_address(data: &[u8], allow_resolution: bool) -> bool {
    let text = String::from_utf8_lossy(data);
    if !allow_resolution && resolves_names(&text) {
        return false;
    }
    if let Ok(address) = text.parse::<DaemonAddress>() {
        assert_ne!(address.udp().port(), 0, "{text:?} was accepted with UDP port 0");
        assert_ne!(address.tcp().port(), 0, "{text:?} was accepted with TCP port 0");
    }
    true
}
