//! Segment → datagram bytes: the daemon header, a newline, one compact JSON document, never more
//! than [`MAX_DATAGRAM_BYTES`]. serde_json writes the document into one buffer that the encoder
//! reuses for every datagram, behind the header it keeps there.
//!
//! A document that does not fit is reduced, in this order, until it fits: metadata is dropped;
//! stack frames are cut (each exception's `truncated` counts what was left out); exceptions past
//! the first few are dropped; long strings are shortened; annotations and links are dropped; the
//! `http`, `aws`, `sql`, `service` and `user` details are dropped. A
//! reduced document carries the annotation `xray_bridge_reduced = true` (searchable in the X-Ray
//! console) and the metadata namespace `xray_bridge` listing the steps and the original size. A
//! document that still does not fit is not sent, and the caller counts it.

use std::borrow::Cow;

#[cfg(test)]
mod property;

use crate::segment::{AttributeValue, Segment, MAX_DATAGRAM_BYTES};

/// The daemon protocol header, with the newline that ends it.
pub(crate) const DAEMON_HEADER: &[u8] = b"{\"format\":\"json\",\"version\":1}\n";

/// Annotation set on every reduced document.
pub(crate) const REDUCED_ANNOTATION: &str = "xray_bridge_reduced";
/// Metadata namespace describing a reduction.
pub(crate) const REDUCED_METADATA_NAMESPACE: &str = "xray_bridge";

/// A reduction step: its name (as listed in the marker) and what it does.
type Step = (&'static str, fn(&mut Segment<'_>) -> bool);

const STEPS: &[Step] = &[
    ("metadata", |s| s.drop_metadata()),
    ("stack_frames", |s| s.limit_stack_frames(64)),
    ("stack_frames", |s| s.limit_stack_frames(8)),
    ("stack_frames", |s| s.limit_stack_frames(0)),
    ("exceptions", |s| s.limit_exceptions(16)),
    ("exceptions", |s| s.limit_exceptions(1)),
    ("strings", |s| s.shorten_strings(4096)),
    ("strings", |s| s.shorten_strings(1024)),
    ("strings", |s| s.shorten_strings(200)),
    ("annotations_and_links", |s| s.drop_annotations_and_links()),
    ("details", |s| s.drop_details()),
];

/// How a document was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoded {
    /// As translated.
    Whole,
    /// Reduced to fit (and marked).
    Reduced,
}

/// The document cannot be made to fit in one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Writes documents into one reused buffer that already holds the daemon header.
#[derive(Debug)]
pub(crate) struct Encoder {
    buffer: Vec<u8>,
    limit: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::with_limit(MAX_DATAGRAM_BYTES)
    }
}

impl Encoder {
    /// An encoder whose datagrams never exceed `limit` bytes.
    pub(crate) fn with_limit(limit: usize) -> Self {
        let mut buffer = Vec::with_capacity(4096);
        buffer.extend_from_slice(DAEMON_HEADER);
        Encoder { buffer, limit }
    }

    /// The datagram for `segment`, reducing it first when it does not fit.
    pub(crate) fn encode(&mut self, segment: &mut Segment<'_>) -> Result<(&[u8], Encoded), TooLarge> {
        if self.write(segment) {
            return Ok((&self.buffer, Encoded::Whole));
        }
        let original_bytes = self.buffer.len();
        let mut applied: Vec<&'static str> = Vec::new();
        for (name, step) in STEPS {
            if !step(segment) {
                continue;
            }
            if applied.last() != Some(name) {
                applied.push(name);
            }
            mark(segment, &applied, original_bytes);
            if self.write(segment) {
                return Ok((&self.buffer, Encoded::Reduced));
            }
        }
        Err(TooLarge)
    }

    /// The last datagram [`Encoder::encode`] returned.
    pub(crate) fn last(&self) -> &[u8] {
        &self.buffer
    }

    /// Writes header + document; true when the result is within the limit and valid.
    fn write(&mut self, segment: &Segment<'_>) -> bool {
        self.buffer.truncate(DAEMON_HEADER.len());
        serde_json::to_writer(&mut self.buffer, segment).is_ok() && self.buffer.len() <= self.limit
    }
}

/// Records on the document that it was reduced, by which steps, and from what size.
fn mark(segment: &mut Segment<'_>, steps: &[&'static str], original_bytes: usize) {
    segment
        .annotations
        .insert(Cow::Borrowed(REDUCED_ANNOTATION), AttributeValue::Bool(true));
    let marker = serde_json::json!({ "reduced": steps, "original_bytes": original_bytes });
    let namespaces = &mut segment.metadata.namespaces;
    match namespaces
        .iter_mut()
        .find(|(name, _)| name == REDUCED_METADATA_NAMESPACE)
    {
        Some(entry) => entry.1 = marker,
        None => namespaces.push((Cow::Borrowed(REDUCED_METADATA_NAMESPACE), marker)),
    }
}
