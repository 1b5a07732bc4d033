//! The `cause` block: exceptions and their stack frames.

use std::borrow::Cow;

use serde::Serialize;

use super::{SegmentId, MAX_DATAGRAM_BYTES};

/// The frame limits of the reduction's `stack_frames` steps, in the order they are tried.
pub(crate) const STACK_FRAME_LIMITS: [usize; 3] = [64, 8, 0];

/// Fewest bytes a stack frame takes in a document: `{"path":"","line":0,"label":""}` and a comma.
pub(crate) const MIN_FRAME_BYTES: usize = 32;

/// A document holding this many stack frames in all cannot fit in one datagram, whatever else it
/// holds: translation never materialises more (see [`LeftOut`]).
pub(crate) const FRAMES_THAT_CANNOT_FIT: usize = MAX_DATAGRAM_BYTES.div_ceil(MIN_FRAME_BYTES);

/// Fewest bytes an exception takes in a document: `{"id":"0123456789abcdef"}` and a comma.
pub(crate) const MIN_EXCEPTION_BYTES: usize = 26;

/// A document holding this many exceptions cannot fit in one datagram: translation keeps no more.
pub(crate) const EXCEPTIONS_THAT_CANNOT_FIT: usize = MAX_DATAGRAM_BYTES.div_ceil(MIN_EXCEPTION_BYTES);

/// `cause`: what went wrong.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Cause<'a> {
    /// The exceptions, outermost first; chained causes follow the exception they caused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception<'a>>,
    /// What translation left out because the document could not have been sent with it.
    #[serde(skip)]
    pub left_out: LeftOut,
}

/// What translation already left out of a [`Cause`], doing at once what the encoder's reduction
/// would certainly have done, so that a span with millions of stack frames never materialises
/// them. The encoder replays its steps from there (the document is the same as when it reduces
/// the whole one), but the original size it reports is then a lower bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeftOut {
    /// Each exception keeps at most this many frames (one of [`STACK_FRAME_LIMITS`]), the rest
    /// counted in `truncated`: the reduction's `stack_frames` steps down to this limit are done,
    /// and the document could not fit before they were.
    pub frames_limit: Option<usize>,
    /// Exceptions past the first [`EXCEPTIONS_THAT_CANNOT_FIT`] not kept (nor their frames):
    /// the reduction's `exceptions` step keeps far fewer, and the document could not fit before.
    /// At least this many; with any, every stack is cut to nothing (`frames_limit` 0).
    pub exceptions: usize,
}

impl LeftOut {
    /// True when translation left nothing out.
    pub(crate) fn is_none(&self) -> bool {
        self.frames_limit.is_none() && self.exceptions == 0
    }

    /// The fewest bytes what was left out would have taken in `cause`: each frame counted in
    /// `truncated` (only translation has cut any yet) and each exception left out, at their
    /// smallest.
    pub(crate) fn bytes_at_least(&self, cause: &Cause<'_>) -> usize {
        let frames: usize = cause.exceptions.iter().filter_map(|e| e.truncated).sum();
        frames * MIN_FRAME_BYTES + self.exceptions * MIN_EXCEPTION_BYTES
    }
}

impl Cause<'_> {
    /// Keeps at most `max` stack frames per exception, counting the rest in `truncated`.
    pub(crate) fn limit_stack_frames(&mut self, max: usize) -> bool {
        let mut changed = false;
        for exception in &mut self.exceptions {
            if let Some(stack) = exception.stack.as_mut().filter(|s| s.len() > max) {
                *exception.truncated.get_or_insert(0) += stack.len() - max;
                stack.truncate(max);
                changed = true;
            }
        }
        changed
    }
}

/// One exception.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Exception<'a> {
    /// A random id, unique in the document.
    pub id: SegmentId,
    /// Message (may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Cow<'a, str>>,
    /// Type (may be empty).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub exception_type: Option<Cow<'a, str>>,
    /// `true` when a downstream service raised it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<bool>,
    /// Number of stack frames left out of `stack`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<usize>,
    /// Id of the exception that caused this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<SegmentId>,
    /// Stack frames, innermost first; absent when nothing was parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Vec<StackFrame<'a>>>,
}

impl<'a> Exception<'a> {
    /// An exception with only an id.
    pub(crate) fn new(id: SegmentId) -> Self {
        Exception {
            id,
            message: None,
            exception_type: None,
            remote: None,
            truncated: None,
            cause: None,
            stack: None,
        }
    }
}

/// One stack frame.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct StackFrame<'a> {
    /// Source file path.
    pub path: Cow<'a, str>,
    /// Line number (0 when unknown).
    pub line: i64,
    /// Function or method.
    pub label: Cow<'a, str>,
}
