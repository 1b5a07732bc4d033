//! The X-Ray segment document, as written on the wire.
//!
//! These types borrow from the span they describe (`&str`, `Cow` where a value is rewritten) and
//! know nothing of OpenTelemetry or of I/O: [`crate::encode`] turns them into bytes. Field names
//! and nesting follow the X-Ray segment document schema; absent values are omitted.

mod aws;
mod cause;
mod http;
mod reduce;
mod value;

use std::borrow::Cow;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

pub(crate) use aws::{Aws, CloudWatchLogs, Ec2, Ecs, Eks, ElasticBeanstalk, XraySdk};
pub(crate) use cause::{
    Cause, Exception, LeftOut, StackFrame, EXCEPTIONS_THAT_CANNOT_FIT, FRAMES_THAT_CANNOT_FIT,
    STACK_FRAME_LIMITS,
};
#[cfg(test)]
pub(crate) use cause::{MIN_EXCEPTION_BYTES, MIN_FRAME_BYTES};
pub(crate) use http::{Http, HttpRequest, HttpResponse};
pub(crate) use value::{AttributeValue, Pairs};

/// Largest UDP datagram the daemon accepts from this crate, header included.
///
/// The kernel refuses IPv4 datagrams over 65,507 bytes and AWS documents a 64 kB document limit;
/// this crate keeps every datagram at or under 64,000 bytes.
pub(crate) const MAX_DATAGRAM_BYTES: usize = 64_000;

/// Longest segment name X-Ray accepts, in bytes as this crate counts them.
pub(crate) const MAX_NAME_BYTES: usize = 200;

/// An ASCII identifier held inline: 16 hex digits for segment ids, 35 characters for trace ids.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsciiId<const N: usize>(pub [u8; N]);

impl<const N: usize> AsciiId<N> {
    /// The identifier as text (empty if the bytes are not ASCII, which the constructors prevent).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Debug for AsciiId<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> Serialize for AsciiId<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A 16-hex-digit segment, subsegment or exception id.
pub(crate) type SegmentId = AsciiId<16>;
/// An X-Ray trace id, `1-` + 8 hex digits + `-` + 24 hex digits.
pub(crate) type TraceId = AsciiId<35>;

/// Whether a document is a segment or an independent subsegment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DocumentType {
    /// A segment: the work of one service for one request.
    Segment,
    /// An independent subsegment, sent on its own with `trace_id` and `parent_id`.
    Subsegment,
}

/// `namespace` of a subsegment: what kind of downstream call it records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Namespace {
    /// A call to an AWS service through an AWS SDK.
    Aws,
    /// Any other downstream call.
    Remote,
}

/// `service`: the version of the application that produced the segment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Service<'a> {
    /// `service.version` (or the container image tag).
    pub version: &'a str,
}

/// A span link: `{trace_id, id, attributes?}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Link<'a> {
    /// The linked span's trace id.
    pub trace_id: TraceId,
    /// The linked span's id.
    pub id: SegmentId,
    /// The link's attributes, as plain JSON.
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    pub attributes: Pairs<'a>,
}

/// `sql`: a call to a SQL database.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Sql<'a> {
    /// The reference writes the span name here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Cow<'a, str>>,
    /// Connection string plus `/` + database name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<Cow<'a, str>>,
    /// The statement, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanitized_query: Option<Cow<'a, str>>,
    /// `db.system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_type: Option<&'a str>,
    /// `db.user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
}

/// Metadata: the `default` namespace plus named namespaces holding arbitrary JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Metadata<'a> {
    /// `metadata.default`: key → value.
    pub default: Pairs<'a>,
    /// Other namespaces: name → JSON value (usually an object).
    pub namespaces: Vec<(Cow<'a, str>, serde_json::Value)>,
}

impl Metadata<'_> {
    /// True when nothing would be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.default.is_empty() && self.namespaces.is_empty()
    }
}

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let has_default = !self.default.is_empty();
        let mut map = serializer.serialize_map(Some(self.namespaces.len() + has_default as usize))?;
        if has_default {
            map.serialize_entry("default", &self.default)?;
        }
        for (name, value) in &self.namespaces {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// One X-Ray document: a segment or an independent subsegment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Segment<'a> {
    /// Segment name: the service (segments) or the downstream resource (subsegments).
    pub name: Cow<'a, str>,
    /// The span id.
    pub id: SegmentId,
    /// Epoch seconds, microsecond precision.
    pub start_time: f64,
    /// Application version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service<'a>>,
    /// The AWS resource type the application runs on, e.g. `AWS::EC2::Instance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'static str>,
    /// `enduser.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Span links.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link<'a>>,
    /// The X-Ray trace id.
    pub trace_id: TraceId,
    /// Epoch seconds; absent while in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// `true` for a document sent before the span ended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_progress: bool,
    /// HTTP request and response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Http<'a>>,
    /// A server error (5xx) or a failed span.
    pub fault: bool,
    /// A client error (4xx).
    pub error: bool,
    /// Throttled (429).
    pub throttle: bool,
    /// Exceptions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause<'a>>,
    /// AWS resource and call details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<Aws<'a>>,
    /// Indexed, searchable key-value pairs (scalars only).
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    pub annotations: Pairs<'a>,
    /// Everything else, not indexed.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata<'a>,
    /// `aws` or `remote` for downstream calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Namespace>,
    /// The parent segment or subsegment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<SegmentId>,
    /// `"subsegment"` for independent subsegments; absent on segments.
    #[serde(
        rename = "type",
        skip_serializing_if = "is_segment",
        serialize_with = "write_type"
    )]
    pub document_type: DocumentType,
    /// SQL query details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<Sql<'a>>,
}

fn is_segment(t: &DocumentType) -> bool {
    *t == DocumentType::Segment
}

fn write_type<S: Serializer>(_: &DocumentType, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("subsegment")
}

impl<'a> Segment<'a> {
    /// A document with the required fields set and everything else absent.
    pub(crate) fn new(name: Cow<'a, str>, id: SegmentId, trace_id: TraceId, start_time: f64) -> Self {
        Segment {
            name,
            id,
            start_time,
            service: None,
            origin: None,
            user: None,
            links: Vec::new(),
            trace_id,
            end_time: None,
            in_progress: false,
            http: None,
            fault: false,
            error: false,
            throttle: false,
            cause: None,
            aws: None,
            annotations: Pairs::default(),
            metadata: Metadata::default(),
            namespace: None,
            parent_id: None,
            document_type: DocumentType::Segment,
            sql: None,
        }
    }
}
