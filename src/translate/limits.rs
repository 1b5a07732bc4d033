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

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::segment::{AttributeValue, Segment, MAX_NAME_BYTES};

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

/// Keeps the characters X-Ray accepts in a name (letters of Unicode category L, ASCII digits,
/// space and `_ . : / % & # = + - @`) and cuts the result to 200 bytes at a character boundary.
/// An empty result becomes `span`.
///
/// The reference cuts at byte 200 even inside a character; this crate never splits one.
pub(super) fn sanitize(span_name: &str) -> Cow<'_, str> {
    let letter = |c: char| {
        c.is_ascii_alphabetic()
            || (!c.is_ascii() && c.general_category_group() == GeneralCategoryGroup::Letter)
    };
    let allowed = |c: char| c == ' ' || c.is_ascii_digit() || letter(c) || "_.:/%&#=+-@".contains(c);
    let mut name = if span_name.chars().all(allowed) {
        Cow::Borrowed(span_name)
    } else {
        Cow::Owned(span_name.chars().filter(|c| allowed(*c)).collect())
    };
    if name.len() > MAX_NAME_BYTES {
        let cut = (0..=MAX_NAME_BYTES)
            .rev()
            .find(|i| name.is_char_boundary(*i))
            .unwrap_or(0);
        match &mut name {
            Cow::Borrowed(s) => *s = &s[..cut],
            Cow::Owned(s) => s.truncate(cut),
        }
    }
    if name.is_empty() {
        Cow::Borrowed("span")
    } else {
        name
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_span_names_like_the_reference() {
        assert_eq!(
            sanitize("EP @ test_15.testing-dömain.org#GO"),
            "EP @ test_15.testing-dömain.org#GO"
        );
        assert_eq!(sanitize("<>"), "span");
        assert_eq!(sanitize("host,1433"), "host1433");
        assert_eq!(sanitize("a\tb(c)"), "abc");
    }

    #[test]
    fn cuts_long_names_at_a_character_boundary() {
        let long = "é".repeat(150); // 300 bytes
        let cut = sanitize(&long);
        assert_eq!(cut.len(), 200);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
