//! Subsegments that travel inside their parent's document.
//!
//! When a span and its children leave in the same batch (a request and the work it did,
//! typically: children end just before their parent), the children's documents are embedded in
//! the parent's `subsegments` array, as the X-Ray SDKs send a segment: one datagram per request
//! instead of one per span. That halves what a request costs the daemon's socket buffer at
//! least, and the trace arrives whole or not at all. An embedded subsegment keeps its `type`,
//! `trace_id` and `parent_id` (the X-Ray SDK for Python sends them the same way); a child that
//! does not fit in its parent's datagram is sent on its own, as every span is otherwise.

use std::collections::HashMap;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;

use crate::segment::Segment;

/// How deep subsegments nest inside one datagram; deeper ones are sent on their own (which
/// also bounds the recursion that packs a family).
pub(crate) const MAX_NESTING: usize = 32;

/// The key that holds embedded subsegments.
const SUBSEGMENTS: &[u8] = b",\"subsegments\":[";

/// Who travels inside whom, among the spans of one batch (by index).
#[derive(Debug)]
pub(crate) struct Family {
    embedded: Vec<bool>,
    first_child: Vec<Option<usize>>,
    next_sibling: Vec<Option<usize>>,
}

impl Family {
    /// The family of `batch`, where `role(i)` says what span `i`'s document may do. A child
    /// travels inside its parent only when the parent comes later in the batch (it ended
    /// later, as parents do), which also rules out cycles in malformed input.
    pub(crate) fn of(batch: &[SpanData], role: impl Fn(usize) -> Role) -> Self {
        let count = batch.len();
        let mut family = Family {
            embedded: vec![false; count],
            first_child: vec![None; count],
            next_sibling: vec![None; count],
        };
        if count < 2 {
            return family;
        }
        let holders: HashMap<(SpanId, TraceId), usize> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| role(*i) != Role::Alone)
            .map(|(i, span)| ((span.span_context.span_id(), span.span_context.trace_id()), i))
            .collect();
        // Children end before their parents: walking backwards keeps each parent's children in
        // the order they ended, and meets every parent (and its depth) before its children.
        let mut depth = vec![0; count];
        for (i, span) in batch.iter().enumerate().rev() {
            if role(i) != Role::Child || span.parent_span_is_remote {
                continue;
            }
            let key = (span.parent_span_id, span.span_context.trace_id());
            let parent = holders
                .get(&key)
                .filter(|&&parent| parent > i && depth[parent] + 1 < MAX_NESTING);
            if let Some(&parent) = parent {
                depth[i] = depth[parent] + 1;
                family.embedded[i] = true;
                family.next_sibling[i] = family.first_child[parent];
                family.first_child[parent] = Some(i);
            }
        }
        family
    }

    /// Whether span `i` travels inside another's document.
    pub(crate) fn is_embedded(&self, i: usize) -> bool {
        self.embedded[i]
    }

    /// Whether span `i` holds others.
    pub(crate) fn has_children(&self, i: usize) -> bool {
        self.first_child[i].is_some()
    }

    /// The spans that travel inside span `i`'s document.
    pub(crate) fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.first_child[i], |&child| self.next_sibling[child])
    }
}

/// What a span's document may do in a [`Family`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Neither hold nor be held (in progress, rejected, two documents not one inside the
    /// other).
    Alone,
    /// Hold children only (a segment).
    Parent,
    /// Hold children, or travel inside its parent (a subsegment).
    Child,
}

/// Whether a span's documents are its subsegment and the segment around it (the second the
/// parent of the first), which travel as one datagram with the first inside the second.
pub(crate) fn is_wrapped(documents: &[Segment<'_>]) -> bool {
    match documents {
        [inner, outer] => !inner.in_progress && !outer.in_progress && inner.parent_id == Some(outer.id),
        _ => false,
    }
}

/// The bytes `child` adds to `parent` when nested after `nested` earlier children.
pub(crate) fn added_bytes(child: &[u8], nested: usize) -> usize {
    if nested == 0 {
        SUBSEGMENTS.len() + child.len() + 1
    } else {
        1 + child.len()
    }
}

/// Puts the JSON object `child` into the `subsegments` array of the JSON object `parent`,
/// which already holds `nested` children there.
pub(crate) fn nest(parent: &mut Vec<u8>, child: &[u8], nested: usize) {
    if nested == 0 {
        parent.pop(); // the closing `}`
        parent.extend_from_slice(SUBSEGMENTS);
    } else {
        parent.truncate(parent.len() - 2); // the closing `]}`
        parent.push(b',');
    }
    parent.extend_from_slice(child);
    parent.extend_from_slice(b"]}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_go_into_the_subsegments_array_in_order() {
        let mut parent = br#"{"name":"api","id":"1"}"#.to_vec();
        let before = parent.len();
        let first = br#"{"name":"a"}"#;
        nest(&mut parent, first, 0);
        assert_eq!(parent.len(), before + added_bytes(first, 0));
        let second = br#"{"name":"b","subsegments":[{"name":"c"}]}"#;
        nest(&mut parent, second, 1);
        assert_eq!(
            std::str::from_utf8(&parent).unwrap(),
            r#"{"name":"api","id":"1","subsegments":[{"name":"a"},{"name":"b","subsegments":[{"name":"c"}]}]}"#
        );
        assert_eq!(
            parent.len(),
            before + added_bytes(first, 0) + added_bytes(second, 1)
        );
    }
}
