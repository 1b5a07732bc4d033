//! Property tests of the encoder on arbitrary documents: what it writes is the daemon header
//! followed by exactly the bytes serde_json writes for the document (as reduced, when it had to
//! be), within the limit; documents nested with [`embed::nest`] are the bytes serde_json writes
//! for the whole tree; and every document parses back to its own `serde_json::to_value`. The
//! encoder calls serde_json itself: what these pin down is the rest, the one buffer cut back to
//! the header for every document, the reductions and the limit, the nesting, and what the crate
//! writes for values JSON cannot hold (non-finite floats become `null`).
//!
//! The wire model borrows its text (`&'a str`, `&'a [T]`), so generated strings and slices are
//! leaked to live as long as the test: 256 small cases, a few megabytes at most.

use std::borrow::Cow;

use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{Number, Value};

use super::{has_longer_string, Counter, Encoded, Encoder, Shorten, DAEMON_HEADER, ELLIPSIS};
use crate::embed;
use crate::segment::{
    AsciiId, AttributeValue, Aws, Cause, CloudWatchLogs, DocumentType, Ec2, Ecs, Eks, ElasticBeanstalk,
    Exception, Http, HttpRequest, HttpResponse, Link, Metadata, Namespace, Pairs, Segment, SegmentId,
    Service, Sql, StackFrame, TraceId, XraySdk, MAX_DATAGRAM_BYTES,
};

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Mostly plain ASCII, with control characters, the characters JSON escapes, DEL, non-ASCII
/// (two-, three- and four-byte UTF-8, the line separators JavaScript minds) and any `char`.
fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('\0', '\x1f'),
        2 => prop_oneof![Just('"'), Just('\\'), Just('/'), Just('\u{7f}'), Just(' ')],
        1 => prop_oneof![Just('é'), Just('✓'), Just('😀'), Just('\u{2028}'), Just('\u{fffd}')],
        1 => any::<char>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    vec(character(), 0..24).prop_map(String::from_iter)
}

fn borrowed() -> impl Strategy<Value = &'static str> {
    text().prop_map(leak)
}

fn cow() -> impl Strategy<Value = Cow<'static, str>> {
    text().prop_map(Cow::Owned)
}

/// Any `f64` (NaN and infinities included, which the crate writes as `null`), epoch seconds,
/// and the edge cases of shortest round-trip formatting.
fn float() -> impl Strategy<Value = f64> {
    let edges = [
        1e300,
        -1e300,
        -0.0,
        0.0,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        0.1,
        1e21,
        1e-7,
        9_007_199_254_740_993.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    prop_oneof![
        3 => any::<f64>(),
        2 => 1.0e9..2.0e9f64,
        2 => proptest::sample::select(edges.to_vec()),
    ]
}

/// JSON-ish values: every kind, nested up to three levels.
fn json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((text(), inner), 0..4).prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
    .boxed()
}

/// What X-Ray accepts as an annotation value: booleans, integers, floats, strings.
fn scalar() -> BoxedStrategy<AttributeValue<'static>> {
    prop_oneof![
        any::<bool>().prop_map(AttributeValue::Bool),
        any::<i64>().prop_map(AttributeValue::Int),
        float().prop_map(AttributeValue::Float),
        cow().prop_map(AttributeValue::Str),
    ]
    .boxed()
}

/// Every kind of attribute value.
fn attribute() -> BoxedStrategy<AttributeValue<'static>> {
    prop_oneof![
        4 => scalar(),
        1 => vec(any::<bool>(), 0..4).prop_map(|items| AttributeValue::Bools(Vec::leak(items))),
        1 => vec(any::<i64>(), 0..4).prop_map(|items| AttributeValue::Ints(Vec::leak(items))),
        1 => vec(float(), 0..4).prop_map(|items| AttributeValue::Floats(Vec::leak(items))),
        1 => vec(borrowed(), 0..4).prop_map(AttributeValue::Strs),
        1 => json().prop_map(AttributeValue::Json),
    ]
    .boxed()
}

/// Keys are unique, as [`Pairs::insert`] keeps them.
fn pairs(value: impl Strategy<Value = AttributeValue<'static>>) -> impl Strategy<Value = Pairs<'static>> {
    vec((cow(), value), 0..6).prop_map(|entries| {
        let mut pairs = Pairs::default();
        for (key, value) in entries {
            pairs.insert(key, value);
        }
        pairs
    })
}

fn metadata() -> BoxedStrategy<Metadata<'static>> {
    (pairs(attribute()), vec((cow(), json()), 0..3))
        .prop_map(|(default, entries)| {
            let mut namespaces: Vec<(Cow<'static, str>, Value)> = Vec::new();
            for (name, value) in entries {
                if name != "default" && namespaces.iter().all(|(seen, _)| *seen != name) {
                    namespaces.push((name, value));
                }
            }
            Metadata { default, namespaces }
        })
        .boxed()
}

fn segment_id() -> impl Strategy<Value = SegmentId> {
    any::<[u8; 8]>().prop_map(|bytes| {
        let mut id = [0; 16];
        for (i, byte) in bytes.iter().enumerate() {
            id[2 * i] = HEX[usize::from(byte >> 4)];
            id[2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        AsciiId(id)
    })
}

fn trace_id() -> impl Strategy<Value = TraceId> {
    (segment_id(), segment_id(), segment_id()).prop_map(|(a, b, c)| {
        let mut id = [b'-'; 35];
        id[0] = b'1';
        id[2..10].copy_from_slice(&a.0[..8]);
        id[11..27].copy_from_slice(&b.0);
        id[27..].copy_from_slice(&c.0[..8]);
        AsciiId(id)
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn http() -> BoxedStrategy<Http<'static>> {
    let request = (
        of(borrowed()),
        of(cow()),
        of(borrowed()),
        of(borrowed()),
        of(any::<bool>()),
    );
    (request, of(any::<i64>()), any::<i64>())
        .prop_map(
            |((method, url, user_agent, client_ip, x_forwarded_for), status, content_length)| Http {
                request: HttpRequest {
                    method,
                    url,
                    user_agent,
                    client_ip,
                    x_forwarded_for,
                },
                response: HttpResponse {
                    status,
                    content_length,
                },
            },
        )
        .boxed()
}

fn cause() -> BoxedStrategy<Cause<'static>> {
    let frame = (cow(), any::<i64>(), cow()).prop_map(|(path, line, label)| StackFrame { path, line, label });
    let exception = (
        segment_id(),
        of(cow()),
        of(cow()),
        of(any::<bool>()),
        of(any::<usize>()),
        of(segment_id()),
        of(vec(frame, 0..4)),
    )
        .prop_map(
            |(id, message, exception_type, remote, truncated, cause, stack)| Exception {
                id,
                message,
                exception_type,
                remote,
                truncated,
                cause,
                stack,
            },
        );
    vec(exception, 0..3)
        .prop_map(|exceptions| Cause {
            exceptions,
            ..Cause::default()
        })
        .boxed()
}

fn aws() -> BoxedStrategy<Aws<'static>> {
    let s = || of(borrowed());
    let call = (s(), s(), s(), s(), s(), s(), of(vec(borrowed(), 0..3)));
    let ec2 = (s(), s(), s(), s()).prop_map(|(instance_id, availability_zone, instance_size, ami_id)| Ec2 {
        instance_id,
        availability_zone,
        instance_size,
        ami_id,
    });
    let ecs = ((s(), s(), s(), s()), (s(), s(), s(), s())).prop_map(
        |(
            (container, container_id, availability_zone, container_arn),
            (cluster_arn, task_arn, task_family, launch_type),
        )| {
            Ecs {
                container,
                container_id,
                availability_zone,
                container_arn,
                cluster_arn,
                task_arn,
                task_family,
                launch_type,
            }
        },
    );
    let eks = (s(), s(), s()).prop_map(|(cluster_name, pod, container_id)| Eks {
        cluster_name,
        pod,
        container_id,
    });
    let beanstalk =
        (s(), s(), of(any::<i64>())).prop_map(|(environment_name, version_label, deployment_id)| {
            ElasticBeanstalk {
                environment_name,
                version_label,
                deployment_id,
            }
        });
    let logs = (borrowed(), s()).prop_map(|(log_group, arn)| CloudWatchLogs { log_group, arn });
    let xray = (of(cow()), s(), any::<bool>()).prop_map(|(sdk, sdk_version, auto_instrumentation)| XraySdk {
        sdk,
        sdk_version,
        auto_instrumentation,
    });
    let resource = (of(ec2), of(ecs), of(eks), of(beanstalk), vec(logs, 0..2), xray);
    (call, resource)
        .prop_map(
            |(
                (account_id, operation, region, request_id, queue_url, table_name, table_names),
                (ec2, ecs, eks, elastic_beanstalk, cloudwatch_logs, xray),
            )| Aws {
                account_id,
                operation,
                region,
                request_id,
                queue_url,
                table_name,
                table_names,
                ec2,
                ecs,
                eks,
                elastic_beanstalk,
                cloudwatch_logs,
                xray,
            },
        )
        .boxed()
}

fn sql() -> BoxedStrategy<Sql<'static>> {
    (of(cow()), of(cow()), of(cow()), of(borrowed()), of(borrowed()))
        .prop_map(
            |(url, connection_string, sanitized_query, database_type, user)| Sql {
                url,
                connection_string,
                sanitized_query,
                database_type,
                user,
            },
        )
        .boxed()
}

fn link() -> BoxedStrategy<Link<'static>> {
    (trace_id(), segment_id(), pairs(attribute()))
        .prop_map(|(trace_id, id, attributes)| Link {
            trace_id,
            id,
            attributes,
        })
        .boxed()
}

/// A document with every field present or absent, every value kind, arbitrary text.
fn segment() -> BoxedStrategy<Segment<'static>> {
    let required = (cow(), segment_id(), trace_id(), float());
    let context = (
        of(borrowed()),
        of(borrowed()),
        of(borrowed()),
        vec(link(), 0..2),
        of(float()),
        any::<bool>(),
        of(segment_id()),
        prop_oneof![Just(DocumentType::Segment), Just(DocumentType::Subsegment)],
        of(prop_oneof![Just(Namespace::Aws), Just(Namespace::Remote)]),
    );
    let details = (
        of(http()),
        any::<[bool; 3]>(),
        of(cause()),
        of(aws()),
        pairs(scalar()),
        metadata(),
        of(sql()),
    );
    (required, context, details)
        .prop_map(
            |(
                (name, id, trace_id, start_time),
                (version, origin, user, links, end_time, in_progress, parent_id, document_type, namespace),
                (http, [fault, error, throttle], cause, aws, annotations, metadata, sql),
            )| {
                let mut segment = Segment::new(name, id, trace_id, start_time);
                segment.service = version.map(|version| Service { version });
                segment.origin = origin;
                segment.user = user;
                segment.links = links;
                segment.end_time = end_time;
                segment.in_progress = in_progress;
                segment.http = http;
                (segment.fault, segment.error, segment.throttle) = (fault, error, throttle);
                segment.cause = cause;
                segment.aws = aws;
                segment.annotations = annotations;
                segment.metadata = metadata;
                segment.namespace = namespace;
                segment.parent_id = parent_id;
                segment.document_type = document_type;
                segment.sql = sql;
                segment
            },
        )
        .boxed()
}

/// A limit the document usually fits in, and sometimes one that forces reductions.
fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(MAX_DATAGRAM_BYTES), 1 => 200usize..3000]
}

/// A document and the subsegments that travel inside it, nested two levels deep at most.
#[derive(Clone, Debug)]
struct Tree {
    segment: Segment<'static>,
    children: Vec<Tree>,
}

fn tree() -> BoxedStrategy<Tree> {
    let leaf = segment().prop_map(|segment| Tree {
        segment,
        children: Vec::new(),
    });
    leaf.prop_recursive(2, 8, 3, |inner| {
        (segment(), vec(inner, 0..3)).prop_map(|(segment, children)| Tree { segment, children })
    })
    .boxed()
}

/// The tree's JSON as the encoder writes it, children spliced in by [`embed::nest`].
fn spliced(tree: &mut Tree, encoder: &mut Encoder) -> Result<Vec<u8>, TestCaseError> {
    let (datagram, how) = encoder
        .encode(&mut tree.segment)
        .map_err(|_| TestCaseError::fail("a generated document does not fit in a datagram"))?;
    prop_assert_eq!(how, Encoded::Whole);
    let mut json = datagram[DAEMON_HEADER.len()..].to_vec();
    for (nested, child) in tree.children.iter_mut().enumerate() {
        let child = spliced(child, encoder)?;
        let before = json.len();
        embed::nest(&mut json, &child, nested);
        prop_assert_eq!(json.len(), before + embed::added_bytes(&child, nested));
    }
    Ok(json)
}

/// The tree as a JSON value: each document's `to_value`, its children under `subsegments`.
fn tree_value(tree: &Tree) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(&tree.segment)?;
    if !tree.children.is_empty() {
        let children = tree.children.iter().map(tree_value).collect::<Result<_, _>>()?;
        if let Value::Object(fields) = &mut value {
            fields.insert("subsegments".into(), Value::Array(children));
        }
    }
    Ok(value)
}

/// The shortening the `strings` steps stand for, on the string itself: the longest prefix of at
/// most `max - 3` bytes ending at a character boundary, then `…`.
fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(ELLIPSIS.len());
    let cut = (0..=keep).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    Cow::Owned(format!("{}{ELLIPSIS}", &text[..cut]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The formatter writes each string value as serde_json writes [`shorten`] of it, and keys
    /// whole.
    #[test]
    fn shortening_is_shorten(texts in vec(vec(character(), 0..40).prop_map(String::from_iter), 1..4), max in 3usize..48) {
        let entry = |key: String, value: String| Value::Object(std::iter::once((key, Value::String(value))).collect());
        let value: Value = texts.iter().map(|t| entry(t.clone(), t.clone())).collect();
        let mut written = Vec::new();
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut written, Shorten::new(max)))?;
        let expected: Value = texts
            .iter()
            .map(|t| entry(t.clone(), shorten(t, max).into_owned()))
            .collect();
        prop_assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&expected)?);
    }

    /// The check that decides whether a `strings` step changes anything.
    #[test]
    fn a_longer_string_is_found(segment in segment(), max in 0usize..40) {
        let whole: Value = serde_json::to_value(&segment)?;
        fn longest(value: &Value) -> usize {
            match value {
                Value::String(s) => s.len(),
                Value::Array(items) => items.iter().map(longest).max().unwrap_or(0),
                Value::Object(fields) => fields.values().map(longest).max().unwrap_or(0),
                _ => 0,
            }
        }
        prop_assert_eq!(has_longer_string(&segment, max, &mut Counter(0)), longest(&whole) > max);
    }

    #[test]
    fn encoder_writes_the_header_then_serde_json_bytes(mut segment in segment(), limit in limit()) {
        let whole = serde_json::to_vec(&segment)?;
        let mut encoder = Encoder::with_limit(limit);
        match encoder.encode(&mut segment) {
            Ok((datagram, how)) => {
                prop_assert!(datagram.len() <= limit);
                prop_assert_eq!(&datagram[..DAEMON_HEADER.len()], DAEMON_HEADER);
                let json = datagram[DAEMON_HEADER.len()..].to_vec();
                // `segment` is the document as sent: reduced in place when it had to be (its long
                // strings written shortened, which `shortening_is_shorten` pins down).
                let sent = encoder.as_sent(&segment);
                prop_assert_eq!(&json, &sent);
                prop_assert_eq!(how == Encoded::Whole, json == whole);
                let parsed: Value = serde_json::from_slice(&json)?;
                if encoder.strings.is_none() {
                    prop_assert_eq!(parsed, serde_json::to_value(&segment)?);
                }
            }
            Err(_) => prop_assert!(DAEMON_HEADER.len() + whole.len() > limit),
        }
    }

    #[test]
    fn nested_documents_are_serde_json_of_the_tree(mut tree in tree()) {
        let json = spliced(&mut tree, &mut Encoder::default())?;
        let expected = tree_value(&tree)?;
        prop_assert_eq!(&json, &serde_json::to_vec(&expected)?);
        let parsed: Value = serde_json::from_slice(&json)?;
        prop_assert_eq!(parsed, expected);
    }
}
