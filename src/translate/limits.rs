//! X-Ray's documented field limits, applied to every document whatever filled it: a segment
//! that breaks one is rejected whole by the service, so the trace would lose it.
//!
//! - `name`: at most 200 bytes of letters, digits, space and `_ . : / % & # = + - @`, whether
//!   it came from the span name, `service.name`, `peer.service`, `aws.remote.service`, `db.name`,
//!   `http.host` or anything else (the reference sanitises the span-name fallback only).
//! - Annotations: keys of at most 500 characters (never empty), string values of at most 1,000
//!   characters, finite numbers, and at most [`MAX_ANNOTATIONS`] per document; what does not fit
//!   moves to the `default` metadata namespace rather than being lost.

use std::borrow::Cow;

use super::naming::sanitize;
use crate::segment::{AttributeValue, Segment};

/// Longest annotation key X-Ray accepts, in characters.
const MAX_ANNOTATION_KEY_CHARS: usize = 500;
/// Longest annotation string value X-Ray accepts, in characters.
const MAX_ANNOTATION_VALUE_CHARS: usize = 1000;
/// Most annotations a document carries: X-Ray accepts 50 per trace, and the encoder may add
/// its reduction marker.
pub(crate) const MAX_ANNOTATIONS: usize = 49;

/// Brings `segment` within X-Ray's limits.
pub(super) fn apply<'a>(segment: &mut Segment<'a>) {
    segment.name = match std::mem::take(&mut segment.name) {
        Cow::Borrowed(name) => sanitize(name),
        Cow::Owned(name) => match sanitize(&name) {
            Cow::Borrowed(kept) if kept.len() == name.len() => Cow::Owned(name),
            changed => Cow::Owned(changed.into_owned()),
        },
    };
    let within = |(key, value): &(Cow<'_, str>, AttributeValue<'_>)| {
        !key.is_empty()
            && key.len() <= MAX_ANNOTATION_KEY_CHARS
            && match value {
                AttributeValue::Str(text) => text.len() <= MAX_ANNOTATION_VALUE_CHARS,
                AttributeValue::Float(f) => f.is_finite(),
                _ => true,
            }
    };
    if segment.annotations.0.len() <= MAX_ANNOTATIONS && segment.annotations.0.iter().all(within) {
        return;
    }
    let annotations = std::mem::take(&mut segment.annotations.0);
    for (mut key, mut value) in annotations {
        if key.is_empty() {
            key = Cow::Borrowed("_");
        }
        cut_chars(&mut key, MAX_ANNOTATION_KEY_CHARS);
        if let AttributeValue::Str(text) = &mut value {
            cut_chars(text, MAX_ANNOTATION_VALUE_CHARS);
        }
        let finite = !matches!(value, AttributeValue::Float(f) if !f.is_finite());
        if finite && segment.annotations.0.len() < MAX_ANNOTATIONS {
            segment.annotations.insert(key, value);
        } else {
            segment.metadata.default.insert(key, value);
        }
    }
}

/// Cuts `text` to its first `max` characters.
fn cut_chars(text: &mut Cow<'_, str>, max: usize) {
    if let Some((end, _)) = text.char_indices().nth(max) {
        match text {
            Cow::Borrowed(s) => *s = &s[..end],
            Cow::Owned(s) => s.truncate(end),
        }
    }
}
