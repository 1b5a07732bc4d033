//! OpenTelemetry span → X-Ray documents, following AWS's collector exporter field by field
//! (`awsxrayexporter`; the rules are summarised in the crate's README).
//!
//! [`translate`] is pure: one span, the digested resource and the configuration in, one or two
//! documents out. Each stage reads the attributes and marks what it consumed; whatever is left
//! becomes annotations or metadata.

mod attributes;
mod aws;
mod cause;
mod http;
mod limits;
mod metadata;
mod naming;
mod privacy;
mod resource;
mod sql;
mod stack;

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

use crate::id::{is_placeholder_parent, random_span_id, segment_id, trace_id_epoch, xray_trace_id};
use crate::segment::{AsciiId, DocumentType, Link, Namespace, Pairs, Segment};
use attributes::{classify, Attributes, KeySet, Known};
pub(crate) use privacy::Privacy;
pub(crate) use resource::ResourceInfo;

/// How spans are translated: the reference exporter's settings.
#[derive(Clone, Debug)]
pub(crate) struct TranslateConfig {
    /// Attributes that become annotations (`indexed_attributes`).
    pub(crate) indexed_attributes: Vec<String>,
    /// Every scalar attribute becomes an annotation (`index_all_attributes`).
    pub(crate) index_all_attributes: bool,
    /// Reject trace ids whose epoch is not within the last 28 days (or 5 minutes ahead).
    pub(crate) validate_trace_ids: bool,
    /// Keep `.` in annotation keys (the reference's `allow_dot`).
    pub(crate) dots_in_annotation_keys: bool,
    /// The known keys among `indexed_attributes`: put back after the stages consumed them.
    indexed_known: KeySet,
    /// Name of every segment, when set (`AWS_XRAY_TRACING_NAME`); sanitised with every name.
    segment_name: Option<String>,
    /// Inside AWS Lambda: every span with a parent is a subsegment, whatever its kind (Lambda
    /// itself records the function's segment).
    pub(crate) subsegments_only: bool,
    /// What is redacted or left out of every text.
    pub(crate) privacy: Privacy,
}

impl TranslateConfig {
    /// A configuration with the given settings.
    pub(crate) fn new(
        indexed_attributes: Vec<String>,
        index_all_attributes: bool,
        validate_trace_ids: bool,
        dots_in_annotation_keys: bool,
    ) -> Self {
        let indexed_known = indexed_attributes
            .iter()
            .filter_map(|key| classify(key))
            .fold(KeySet::default(), KeySet::with);
        TranslateConfig {
            indexed_attributes,
            index_all_attributes,
            validate_trace_ids,
            dots_in_annotation_keys,
            indexed_known,
            segment_name: None,
            subsegments_only: false,
            privacy: Privacy::default(),
        }
    }

    /// Names every segment `name` (the X-Ray SDKs' `AWS_XRAY_TRACING_NAME`), sanitised as X-Ray
    /// requires; subsegments keep their own names.
    pub(crate) fn set_segment_name(&mut self, name: Option<&str>) {
        self.segment_name = name.map(str::to_owned);
    }
}

/// Why a span produced no document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// The span's (or a link's) trace id is outside X-Ray's time window and validation is on.
    InvalidTraceId,
}

/// The span with every key it held under these names removed, for a local root's service segment.
const REMOTE_KEYS: KeySet = KeySet::of(&[
    Known::AwsRemoteService,
    Known::AwsRemoteOperation,
    Known::RemoteTarget,
    Known::K8sRemoteNamespace,
]);

const TRACE_ID_MAX_AGE_SECONDS: i64 = 28 * 24 * 60 * 60;
const TRACE_ID_MAX_AHEAD_SECONDS: i64 = 5 * 60;

/// Translates `span` into one document, or two (the span's subsegment, then the segment of the
/// service around it, its parent) for a root span that does not serve a request and for a
/// Client/Producer/Consumer span marked `aws.span.kind = LOCAL_ROOT`.
pub(crate) fn translate<'a>(
    span: &'a SpanData,
    resource: &'a ResourceInfo,
    config: &'a TranslateConfig,
    now_epoch_seconds: u32,
    out: &mut Vec<Segment<'a>>,
) -> Result<(), Rejected> {
    let first = out.len();
    translate_span(span, resource, config, now_epoch_seconds, out)?;
    for document in &mut out[first..] {
        if let (Some(name), DocumentType::Segment) = (&config.segment_name, document.document_type) {
            document.name = Cow::Borrowed(name);
        }
        privacy::apply(document, config.privacy);
        limits::apply(document);
    }
    Ok(())
}

fn translate_span<'a>(
    span: &'a SpanData,
    resource: &'a ResourceInfo,
    config: &'a TranslateConfig,
    now_epoch_seconds: u32,
    out: &mut Vec<Segment<'a>>,
) -> Result<(), Rejected> {
    let ctx = Context {
        span,
        resource,
        config,
        now_epoch_seconds,
    };
    let mut attrs = Attributes::scan(&span.attributes);
    // X-Ray needs ids unique in the trace: a span without a valid id (never one from the SDK)
    // gets a random one rather than `0000000000000000`, which two such spans would share.
    let own_id = Some(span.span_context.span_id())
        .filter(|id| *id != SpanId::INVALID)
        .unwrap_or_else(random_span_id);
    let parent = parent_id(span);
    let local_root = attrs.str(Known::AwsSpanKind) == Some("LOCAL_ROOT");
    let serves = matches!(span.span_kind, SpanKind::Server | SpanKind::Consumer);
    if !local_root {
        if parent == SpanId::INVALID && !serves {
            return ctx.split_root(&mut attrs, own_id, out);
        }
        out.push(ctx.build(&mut attrs, own_id, parent, false)?);
        return Ok(());
    }
    if matches!(span.span_kind, SpanKind::Server | SpanKind::Internal) {
        let mut segment = ctx.build(&mut attrs, own_id, parent, true)?;
        segment.document_type = DocumentType::Segment;
        segment.namespace = None;
        out.push(segment);
        return Ok(());
    }

    let service_id = random_span_id();
    let mut dependency = ctx.build(&mut attrs, own_id, service_id, true)?;
    dependency.document_type = DocumentType::Subsegment;
    dependency.namespace.get_or_insert(Namespace::Remote);
    if let Some(remote) = attrs.str(Known::AwsRemoteService) {
        let remote = if naming::is_aws_sdk(&attrs) {
            naming::trim_aws_sdk_prefix(remote)
        } else {
            remote
        };
        if !remote.is_empty() {
            dependency.name = Cow::Borrowed(remote);
        }
    }
    let consumer = matches!(span.span_kind, SpanKind::Consumer);
    if consumer {
        dependency.links.clear();
    }

    attrs.remove(REMOTE_KEYS);
    let mut service = ctx.build(&mut attrs, service_id, parent, true)?;
    if let Some(local) = attrs.str(Known::AwsLocalService).filter(|s| !s.is_empty()) {
        service.name = Cow::Borrowed(local);
    }
    service.keep_for_service_segment();
    if !consumer {
        service.links.clear();
    }
    out.push(dependency);
    out.push(service);
    Ok(())
}

impl Segment<'_> {
    /// What stays of a span's document on the segment that stands for the service around it:
    /// timing, outcome, annotations and the resource's metadata; no `http`, no request-level
    /// `aws` fields, no namespace.
    fn keep_for_service_segment(&mut self) {
        self.http = None;
        if let Some(aws) = &mut self.aws {
            aws.operation = None;
            aws.account_id = None;
            aws.region = None;
            aws.request_id = None;
            aws.queue_url = None;
            aws.table_name = None;
            aws.table_names = None;
        }
        self.metadata
            .default
            .0
            .retain(|(key, _)| key.starts_with("otel.resource."));
        for (_, namespace) in &mut self.metadata.namespaces {
            if let serde_json::Value::Object(members) = namespace {
                members.retain(|key, _| key.starts_with("otel.resource."));
            }
        }
        self.document_type = DocumentType::Segment;
        self.namespace = None;
    }
}

/// The span's parent; none when it is the placeholder the propagator gives a header that had a
/// `Root` but no `Parent` (the span is then the local root of a continued trace).
fn parent_id(span: &SpanData) -> SpanId {
    let trace_id = span.span_context.trace_id();
    if is_placeholder_parent(trace_id, span.parent_span_id, span.parent_span_is_remote) {
        SpanId::INVALID
    } else {
        span.parent_span_id
    }
}

/// Everything one span's translation reads.
struct Context<'a> {
    span: &'a SpanData,
    resource: &'a ResourceInfo,
    config: &'a TranslateConfig,
    now_epoch_seconds: u32,
}

impl<'a> Context<'a> {
    /// The reference's core builder: one document for the span, as if it had `id` and `parent`.
    fn build(
        &self,
        attrs: &mut Attributes<'a>,
        id: SpanId,
        parent: SpanId,
        local_root: bool,
    ) -> Result<Segment<'a>, Rejected> {
        let span = self.span;
        attrs.consumed = KeySet::default();
        let trace_id = self.trace_id(span.span_context.trace_id())?;
        let links = span
            .links
            .links
            .iter()
            .map(|link| {
                Ok(Link {
                    trace_id: self.trace_id(link.span_context.trace_id())?,
                    id: AsciiId(segment_id(link.span_context.span_id())),
                    attributes: Pairs(
                        link.attributes
                            .iter()
                            .map(|kv| {
                                (
                                    Cow::Borrowed(kv.key.as_str()),
                                    metadata::attribute_value(&kv.value),
                                )
                            })
                            .collect(),
                    ),
                })
            })
            .collect::<Result<Vec<_>, Rejected>>()?;

        let kind = &span.span_kind;
        let has_parent = parent != SpanId::INVALID;
        let subsegment = has_parent
            && (self.config.subsegments_only || !matches!(kind, SpanKind::Server | SpanKind::Consumer));

        let mut in_progress = false;
        if let Some(Value::Bool(flag)) = attrs.get(Known::AwsXrayInprogress) {
            in_progress = *flag;
            attrs.consumed = attrs.consumed.with(Known::AwsXrayInprogress);
        }

        let http = http::http_block(attrs, kind, &span.events.events);
        attrs.consumed = attrs.consumed.union(http::HTTP_KEYS);

        let aws_sdk = naming::is_aws_sdk(attrs);
        let failure = cause::failure(
            attrs,
            &span.status,
            &span.events.events,
            kind,
            self.resource.language,
            aws_sdk,
        );
        if failure.status_text_consumed {
            attrs.consumed = attrs.consumed.with(Known::HttpStatusText);
        }

        let aws = aws::aws_block(attrs, self.resource);
        attrs.consumed = attrs.consumed.union(aws::AWS_KEYS);

        let sql = sql::sql_block(attrs, &span.name);
        if sql.is_some() {
            attrs.consumed = attrs.consumed.union(sql::SQL_KEYS);
        }

        attrs.consumed = attrs.consumed.without(self.config.indexed_known);
        let user = attrs.str(Known::EnduserId).filter(|u| !u.is_empty());
        attrs.consumed = attrs.consumed.with(Known::EnduserId);
        if let Some(Value::Array(_)) = attrs.get(Known::AwsXrayAnnotations) {
            attrs.consumed = attrs.consumed.with(Known::AwsXrayAnnotations);
        }

        let naming = naming::name(
            attrs,
            &span.name,
            kind,
            local_root,
            self.resource.service_name.as_deref(),
        );
        let mut segment = Segment::new(
            naming.name,
            AsciiId(segment_id(id)),
            trace_id,
            epoch_seconds(span.start_time),
        );
        metadata::annotations_and_metadata(
            attrs,
            (!subsegment).then_some(self.resource),
            self.config,
            &mut segment.annotations,
            &mut segment.metadata,
        );
        segment.namespace = naming::namespace(attrs, kind, naming.from_aws_service);
        segment.service = self.resource.service();
        segment.origin = self.resource.origin;
        segment.user = user;
        segment.links = links;
        segment.end_time = (!in_progress).then(|| epoch_seconds(span.end_time));
        segment.in_progress = in_progress;
        segment.http = http;
        segment.fault = failure.fault;
        segment.error = failure.error;
        segment.throttle = failure.throttle;
        segment.cause = failure.cause;
        segment.aws = aws;
        segment.parent_id = has_parent.then(|| AsciiId(segment_id(parent)));
        segment.document_type = if subsegment {
            DocumentType::Subsegment
        } else {
            DocumentType::Segment
        };
        segment.sql = sql;
        Ok(segment)
    }

    /// A root span that does not serve a request (the `tracing` default kind, Internal, or a
    /// Client or Producer): a segment named after the service, which is the node on the service
    /// map, with the span itself as its subsegment, which keeps the span's name in the timeline.
    /// The reference makes such a span a segment named after the span, so every background job
    /// or command would be a service of its own.
    fn split_root(
        &self,
        attrs: &mut Attributes<'a>,
        own_id: SpanId,
        out: &mut Vec<Segment<'a>>,
    ) -> Result<(), Rejected> {
        let service_id = random_span_id();
        let dependency = self.build(attrs, own_id, service_id, false)?;
        let mut service = self.build(attrs, service_id, SpanId::INVALID, false)?;
        if let Some(name) = self
            .resource
            .service_name
            .as_deref()
            .filter(|name| !name.is_empty())
        {
            service.name = Cow::Borrowed(name);
        }
        service.keep_for_service_segment();
        service.links.clear();
        out.push(dependency);
        out.push(service);
        Ok(())
    }

    /// The X-Ray form of `trace_id`, checked against X-Ray's time window when validation is on.
    fn trace_id(&self, trace_id: TraceId) -> Result<crate::segment::TraceId, Rejected> {
        if self.config.validate_trace_ids {
            let age = i64::from(self.now_epoch_seconds) - i64::from(trace_id_epoch(trace_id));
            if !(-TRACE_ID_MAX_AHEAD_SECONDS..=TRACE_ID_MAX_AGE_SECONDS).contains(&age) {
                return Err(Rejected::InvalidTraceId);
            }
        }
        Ok(AsciiId(xray_trace_id(trace_id)))
    }
}

/// Epoch seconds with microsecond precision (0 for times before 1970).
fn epoch_seconds(time: SystemTime) -> f64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() as f64 + f64::from(since.subsec_micros()) / 1e6
}
