//! X-Ray identifiers: `1-<8 hex epoch>-<24 hex>` trace ids and 16-hex segment ids, from and to
//! OpenTelemetry's ids.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Generates trace ids whose first 32 bits are the current epoch seconds, as X-Ray expects.
///
/// The remaining 96 bits and all span ids are random. Install it with
/// `SdkTracerProvider::builder().with_id_generator(XrayIdGenerator::default())`.
#[derive(Debug, Default)]
pub struct XrayIdGenerator {
    random: RandomIdGenerator,
}

impl IdGenerator for XrayIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        let mut bytes = self.random.new_trace_id().to_bytes();
        bytes[..4].copy_from_slice(&now_epoch_seconds().to_be_bytes());
        TraceId::from_bytes(bytes)
    }

    fn new_span_id(&self) -> SpanId {
        self.random.new_span_id()
    }
}

/// Seconds since the Unix epoch, truncated to 32 bits (0 before 1970).
pub(crate) fn now_epoch_seconds() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

fn write_hex(out: &mut [u8], bytes: &[u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[(byte >> 4) as usize];
        pair[1] = HEX[(byte & 0x0f) as usize];
    }
}

/// The X-Ray form of any OpenTelemetry trace id: `1-` + bytes 0–3 + `-` + bytes 4–15, in hex.
pub(crate) fn xray_trace_id(trace_id: TraceId) -> [u8; 35] {
    let bytes = trace_id.to_bytes();
    let mut out = [0u8; 35];
    out[0] = b'1';
    out[1] = b'-';
    write_hex(&mut out[2..10], &bytes[..4]);
    out[10] = b'-';
    write_hex(&mut out[11..35], &bytes[4..]);
    out
}

/// The epoch seconds held in the first 32 bits of a trace id.
pub(crate) fn trace_id_epoch(trace_id: TraceId) -> u32 {
    let bytes = trace_id.to_bytes();
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The stand-in parent id of a remote context that had a trace id but no parent (an
/// `X-Amzn-Trace-Id` with `Root` only): OpenTelemetry has no valid remote context without a
/// parent. The propagator gives it on extraction; [`is_placeholder_parent`] is how the
/// propagator (on injection: no `Parent` is sent on) and the exporter (no `parent_id`: the span
/// is the local root of a continued trace) recognise it. Derived from the trace id; never zero.
pub(crate) fn placeholder_parent_id(trace_id: TraceId) -> SpanId {
    let bytes = trace_id.to_bytes();
    let mut id = [0u8; 8];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = bytes[i] ^ bytes[i + 8] ^ 0x5a;
    }
    if id == [0; 8] {
        id[7] = 1;
    }
    SpanId::from_bytes(id)
}

/// Whether `parent`, a parent of trace `trace_id`, is the [`placeholder_parent_id`] of a
/// `Root`-only header rather than a real span.
pub(crate) fn is_placeholder_parent(trace_id: TraceId, parent: SpanId, remote: bool) -> bool {
    remote && parent == placeholder_parent_id(trace_id)
}

/// A span id as 16 lowercase hex digits.
pub(crate) fn segment_id(span_id: SpanId) -> [u8; 16] {
    let mut out = [0u8; 16];
    write_hex(&mut out, &span_id.to_bytes());
    out
}

/// A fresh random span id (synthetic segments).
pub(crate) fn random_span_id() -> SpanId {
    RandomIdGenerator::default().new_span_id()
}

/// A fresh random 16-hex id (exception ids).
pub(crate) fn random_segment_id() -> [u8; 16] {
    segment_id(random_span_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_trace_ids_as_xray() {
        let id = TraceId::from_hex("6553f1005c8e3a1f9bd5c2e4a7b60d13").unwrap();
        assert_eq!(&xray_trace_id(id), b"1-6553f100-5c8e3a1f9bd5c2e4a7b60d13");
        assert_eq!(trace_id_epoch(id), 0x6553_f100);
        let span = SpanId::from_hex("53995c3f42cd8ad8").unwrap();
        assert_eq!(&segment_id(span), b"53995c3f42cd8ad8");
    }

    #[test]
    fn generated_trace_ids_start_with_the_current_epoch() {
        let before = now_epoch_seconds();
        let id = XrayIdGenerator::default().new_trace_id();
        let epoch = trace_id_epoch(id);
        assert!(epoch >= before && epoch <= now_epoch_seconds());
        assert_ne!(id, XrayIdGenerator::default().new_trace_id());
    }
}
