//! The `cause` block: exceptions and their stack frames.

use std::borrow::Cow;

use serde::Serialize;

use super::SegmentId;

/// `cause`: what went wrong.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Cause<'a> {
    /// The exceptions, outermost first; chained causes follow the exception they caused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception<'a>>,
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
