//! Sampling with X-Ray's parent semantics.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

use crate::propagator::SamplingUndecided;

/// A sampler that follows the caller's X-Ray decision and asks `root` otherwise.
///
/// - a parent marked sampled (`Sampled=1`, or a sampled local parent) → record and sample;
/// - a parent marked not sampled (`Sampled=0`) → drop;
/// - a remote parent that left the decision open (`Sampled=?` or no `Sampled`), or no parent →
///   `root` decides.
///
/// OpenTelemetry's `Sampler::ParentBased` would drop the undecided case, since the remote
/// context is not marked sampled; with `X-Amzn-Trace-Id` that is what API Gateway and ALB send
/// most often.
///
/// ```
/// use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
///
/// let provider = SdkTracerProvider::builder()
///     .with_sampler(xray_bridge::XrayParentBasedSampler::new(Sampler::TraceIdRatioBased(0.05)))
///     .build();
/// ```
#[derive(Clone, Debug)]
pub struct XrayParentBasedSampler {
    root: Box<dyn ShouldSample>,
}

impl XrayParentBasedSampler {
    /// X-Ray parent semantics over `root`, which decides for new and undecided traces.
    pub fn new(root: impl ShouldSample + 'static) -> Self {
        XrayParentBasedSampler { root: Box::new(root) }
    }
}

impl ShouldSample for XrayParentBasedSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let parent = parent_context.filter(|cx| cx.has_active_span());
        let Some(cx) = parent else {
            return self
                .root
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        };
        let span = cx.span();
        let parent_span = span.span_context();
        let trace_state = parent_span.trace_state().clone();
        let undecided = parent_span.is_remote() && cx.get::<SamplingUndecided>().is_some();
        if undecided || !parent_span.is_valid() {
            let mut result =
                self.root
                    .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
            if result.trace_state == TraceState::NONE {
                result.trace_state = trace_state;
            }
            return result;
        }
        let decision = if parent_span.is_sampled() {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state,
        }
    }
}
