//! [`XrayPropagator`]: `X-Amzn-Trace-Id` in and out of OpenTelemetry contexts.
//!
//! Extraction follows the tolerant parsing of [`TraceHeader::parse`]. What OpenTelemetry has no
//! place for travels with the context:
//!
//! - `Sampled=?` or no `Sampled` leaves the decision to this service's sampler: the remote
//!   context is not marked sampled, and carries a marker that [`crate::XrayParentBasedSampler`] reads to ask
//!   its root sampler. (OpenTelemetry's own `ParentBased` sampler would treat such a parent as
//!   "not sampled" and drop the whole request: use `XrayParentBasedSampler::new`.)
//! - A `Root` without `Parent` (what ALB and API Gateway send) continues the same trace: the
//!   remote parent gets a placeholder id derived from the trace id, which the exporter
//!   recognises and leaves out, so the local root segment has that trace id and no `parent_id`.
//! - Other fields (`Lineage`, custom keys) ride in the span context's trace state under the key
//!   `awsxray` and are written back on injection. `Self` is never forwarded.
//!
//! Injection writes `Root`, `Parent` (the current span), `Sampled=1|0` (the decision taken;
//! `?` only when passing on a request nobody decided yet) and the extra fields.

use std::borrow::Cow;

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;

use crate::header::{Sampled, TraceHeader};
use crate::id::{is_placeholder_parent, placeholder_parent_id};

/// The header name, lower-case as HTTP/2 requires (lookups are case-insensitive).
pub const TRACE_HEADER: &str = "x-amzn-trace-id";

/// The trace-state key under which extra header fields travel.
pub(crate) const TRACE_STATE_KEY: &str = "awsxray";

/// Longest encoded extra-fields value kept (W3C trace-state values are at most 256 characters).
const MAX_EXTRA_BYTES: usize = 256;

/// Marks an extracted remote context whose caller did not decide whether to sample (`Sampled=?`
/// or no `Sampled`), which OpenTelemetry's trace flags cannot say. Set by
/// [`XrayPropagator`]'s extraction; read by [`crate::XrayParentBasedSampler`], which asks its
/// root sampler for such a parent, and by injection, which passes `Sampled=?` on while nobody
/// has decided.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SamplingUndecided;

/// Reads and writes the `X-Amzn-Trace-Id` header.
///
/// Register it globally, alone or beside W3C trace context
/// ([`XrayPropagator::with_trace_context`], what `install()` registers):
///
/// ```
/// opentelemetry::global::set_text_map_propagator(xray_bridge::XrayPropagator::with_trace_context());
/// ```
/// With both, a request carrying only `traceparent` continues its W3C trace (the exporter
/// accepts any trace id), and one carrying `X-Amzn-Trace-Id` continues the X-Ray trace.
#[derive(Clone, Debug, Default)]
pub struct XrayPropagator {
    _private: (),
}

impl XrayPropagator {
    /// W3C trace context (`traceparent`, `tracestate`) and X-Ray (`X-Amzn-Trace-Id`) together:
    /// both headers are read and written.
    pub fn with_trace_context() -> TextMapCompositePropagator {
        TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(XrayPropagator::default()),
        ])
    }
}

impl TextMapPropagator for XrayPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let trace_id = context.trace_id();
        let parent = Some(context.span_id())
            .filter(|id| !is_placeholder_parent(trace_id, *id, context.is_remote()))
            .map(SpanId::to_bytes);
        let sampled = if context.is_remote() && cx.get::<SamplingUndecided>().is_some() {
            Sampled::Requested
        } else if context.is_sampled() {
            Sampled::Yes
        } else {
            Sampled::No
        };
        let extra_text = context.trace_state().get(TRACE_STATE_KEY).map(decode_extra);
        let extra = extra_text.as_deref().map(parse_extra).unwrap_or_default();
        let header = TraceHeader {
            root: trace_id.to_bytes(),
            parent,
            sampled,
            extra,
        };
        let mut value = String::with_capacity(80);
        header.write(&mut value);
        injector.set(TRACE_HEADER, value);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(header) = extractor.get(TRACE_HEADER).and_then(TraceHeader::parse) else {
            return cx.clone();
        };
        let trace_id = TraceId::from_bytes(header.root);
        let parent = header
            .parent
            .map_or_else(|| placeholder_parent_id(trace_id), SpanId::from_bytes);
        let flags = if header.sampled == Sampled::Yes {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let state = if header.extra.is_empty() {
            TraceState::NONE
        } else {
            let encoded = encode_extra(&header.extra);
            Some(encoded)
                .filter(|e| e.len() <= MAX_EXTRA_BYTES)
                .and_then(|e| TraceState::from_key_value([(TRACE_STATE_KEY, e)]).ok())
                .unwrap_or(TraceState::NONE)
        };
        let remote = SpanContext::new(trace_id, parent, flags, true, state);
        let cx = cx.with_remote_span_context(remote);
        match header.sampled {
            Sampled::Requested | Sampled::Unknown => cx.with_value(SamplingUndecided),
            Sampled::Yes | Sampled::No => cx,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        static NAMES: std::sync::OnceLock<[String; 1]> = std::sync::OnceLock::new();
        FieldIter::new(NAMES.get_or_init(|| [TRACE_HEADER.to_owned()]))
    }
}

/// `Key=Value;Key=Value` with `%`, `,` and `=` percent-encoded: a valid trace-state value.
fn encode_extra(extra: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (index, (key, value)) in extra.iter().enumerate() {
        if index > 0 {
            out.push(';');
        }
        for (i, part) in [key, value].iter().enumerate() {
            if i == 1 {
                out.push_str("%3D");
            }
            for c in part.chars() {
                match c {
                    '%' => out.push_str("%25"),
                    ',' => out.push_str("%2C"),
                    '=' => out.push_str("%3D"),
                    c => out.push(c),
                }
            }
        }
    }
    out
}

/// The inverse of [`encode_extra`]: `Key=Value;Key=Value`.
fn decode_extra(encoded: &str) -> Cow<'_, str> {
    if !encoded.contains('%') {
        return Cow::Borrowed(encoded);
    }
    Cow::Owned(
        encoded
            .replace("%3D", "=")
            .replace("%2C", ",")
            .replace("%25", "%"),
    )
}

fn parse_extra(text: &str) -> Vec<(&str, &str)> {
    text.split(';').filter_map(|part| part.split_once('=')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_survive_trace_state_encoding() {
        let extra = [("Lineage", "32767:e65a2c4d:255"), ("Odd", "a=b,c%d")];
        let encoded = encode_extra(&extra);
        assert!(
            TraceState::from_key_value([(TRACE_STATE_KEY, encoded.as_str())]).is_ok(),
            "{encoded}"
        );
        assert_eq!(parse_extra(&decode_extra(&encoded)), extra);
    }
}
