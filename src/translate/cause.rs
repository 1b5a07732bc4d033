//! `fault` / `error` / `throttle` from the HTTP status and the span status, and `cause` from
//! exception events.

use std::borrow::Cow;
use std::time::UNIX_EPOCH;

use opentelemetry::trace::{Event, SpanKind, Status};
use opentelemetry::{Array, Value};

use super::attributes::{as_int, as_str, Attributes, Known};
use super::stack::{self, Budget, StackLanguage};
use crate::exception::{EXCEPTION_EVENT, SOURCE_MESSAGES, SOURCE_TYPES};
use crate::id::random_segment_id;
use crate::segment::{
    AsciiId, Cause, Exception, LeftOut, EXCEPTIONS_THAT_CANNOT_FIT, FRAMES_THAT_CANNOT_FIT,
    STACK_FRAME_LIMITS,
};

/// The three flags and the cause of a document.
pub(super) struct Failure<'a> {
    pub(super) fault: bool,
    pub(super) error: bool,
    pub(super) throttle: bool,
    pub(super) cause: Option<Cause<'a>>,
    /// True when `http.status_text` was used (and so consumed) as the cause's message.
    pub(super) status_text_consumed: bool,
}

/// Flags and cause for a span.
pub(super) fn failure<'a>(
    attrs: &Attributes<'a>,
    status: &'a Status,
    events: &'a [Event],
    kind: &SpanKind,
    language: Option<StackLanguage>,
    aws_sdk: bool,
) -> Failure<'a> {
    let is_error = matches!(status, Status::Error { .. });
    let code = attrs
        .get(Known::HttpStatusCode)
        .or_else(|| attrs.get(Known::HttpResponseStatusCode))
        .map(|v| as_int(v).unwrap_or(0));
    let (fault, error, throttle) = match code {
        Some(code @ 400..=499) => (false, true, code == 429),
        Some(500..=599) => (true, false, false),
        _ => (is_error, false, false),
    };
    let mut failure = Failure {
        fault,
        error,
        throttle,
        cause: None,
        status_text_consumed: false,
    };
    let remote = matches!(kind, SpanKind::Client | SpanKind::Producer);
    let mut exceptions = Bounded::default();
    let mut has_events = false;
    for event in events {
        if event.name == EXCEPTION_EVENT {
            has_events = true;
            push_exception_event(&mut exceptions, event, remote, language);
        } else if aws_sdk && event.name == "HTTP request failure" {
            has_events = true;
            if let Some(exception) = http_failure(event) {
                exceptions.push(exception);
            }
        }
    }
    if has_events {
        failure.cause = Some(exceptions.into_cause());
    } else if let Status::Error { description } = status {
        failure.status_text_consumed = true;
        let message = Some(description.as_ref())
            .filter(|d| !d.is_empty())
            .or_else(|| attrs.str(Known::HttpStatusText))
            .filter(|m| !m.is_empty());
        if let Some(message) = message {
            let mut exception = Exception::new(AsciiId(random_segment_id()));
            exception.message = Some(Cow::Borrowed(message));
            exception.exception_type = Some(Cow::Borrowed(""));
            failure.cause = Some(Cause {
                exceptions: vec![exception],
                ..Cause::default()
            });
        }
    }
    failure
}

fn event_attribute<'a>(event: &'a Event, name: &str) -> Option<&'a Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == name)
        .map(|kv| &kv.value)
}

/// The exception of an `exception` event, then the causes its stack trace names.
fn push_exception_event<'a>(
    out: &mut Bounded<'a>,
    event: &'a Event,
    remote: bool,
    language: Option<StackLanguage>,
) {
    let text = |name| event_attribute(event, name).and_then(as_str).unwrap_or("");
    let mut first = Exception::new(AsciiId(random_segment_id()));
    first.exception_type = Some(Cow::Borrowed(text("exception.type")));
    first.message = Some(Cow::Borrowed(text("exception.message")));
    first.remote = Some(remote);
    if !out.push(first) {
        return;
    }
    let first_index = out.exceptions.len() - 1;
    match event_attribute(event, "exception.stacktrace") {
        Some(Value::String(trace)) if !trace.as_str().is_empty() => {
            let Some(language) = language else { return };
            let mut parsed = out.parse(language, trace.as_str()).into_iter();
            if let Some(own) = parsed.next() {
                let first = &mut out.exceptions[first_index];
                first.stack = own.stack;
                first.truncated = (own.truncated > 0).then_some(own.truncated);
            }
            for cause in parsed {
                let mut exception = Exception::new(AsciiId(random_segment_id()));
                exception.exception_type = Some(cause.exception_type);
                exception.message = Some(cause.message);
                exception.remote = Some(remote);
                exception.stack = cause.stack;
                exception.truncated = (cause.truncated > 0).then_some(cause.truncated);
                chain(out, exception);
            }
        }
        // tracing-opentelemetry records an error's `source()` chain as a string array: each
        // source becomes a chained exception (a Rust-specific improvement over the reference).
        Some(Value::Array(Array::String(sources))) => {
            for source in sources {
                let mut exception = Exception::new(AsciiId(random_segment_id()));
                exception.message = Some(Cow::Borrowed(source.as_str()));
                exception.remote = Some(remote);
                chain(out, exception);
            }
        }
        _ => {}
    }
    // This crate's `exception` events (src/exception.rs) carry an error's `source()` chain
    // with the type of each source: each becomes a chained exception.
    if let Some(Value::Array(Array::String(messages))) = event_attribute(event, SOURCE_MESSAGES) {
        let types = match event_attribute(event, SOURCE_TYPES) {
            Some(Value::Array(Array::String(types))) => types.as_slice(),
            _ => &[],
        };
        for (i, message) in messages.iter().enumerate() {
            let mut exception = Exception::new(AsciiId(random_segment_id()));
            exception.exception_type = Some(Cow::Borrowed(types.get(i).map_or("dyn Error", |t| t.as_str())));
            exception.message = Some(Cow::Borrowed(message.as_str()));
            exception.remote = Some(remote);
            chain(out, exception);
        }
    }
}

/// Appends `exception` as the cause of the last exception of `out`.
fn chain<'a>(out: &mut Bounded<'a>, exception: Exception<'a>) {
    if !out.has_room() {
        out.leave_out_exceptions();
        return;
    }
    if let Some(previous) = out.exceptions.last_mut() {
        previous.cause = Some(exception.id);
    }
    out.push(exception);
}

/// The exceptions of a span, kept within what could ever be sent: never more than
/// [`EXCEPTIONS_THAT_CANNOT_FIT`] exceptions, nor more than [`FRAMES_THAT_CANNOT_FIT`] frames in
/// all. Past either, the document cannot fit in a datagram and the encoder's reduction would
/// certainly take its `stack_frames` steps (down to a limit where fewer frames remain) or its
/// `exceptions` step: those are done here instead, as the frames are parsed, and recorded in
/// [`LeftOut`] for the encoder to replay its steps from.
#[derive(Default)]
struct Bounded<'a> {
    exceptions: Vec<Exception<'a>>,
    /// Frames kept in `exceptions`.
    frames: usize,
    left_out: LeftOut,
}

impl<'a> Bounded<'a> {
    /// Whether one more exception is kept.
    fn has_room(&self) -> bool {
        self.left_out.exceptions == 0 && self.exceptions.len() < EXCEPTIONS_THAT_CANNOT_FIT
    }

    /// Appends `exception` unless the exceptions are full; false when it was left out.
    fn push(&mut self, exception: Exception<'a>) -> bool {
        if !self.has_room() {
            self.leave_out_exceptions();
            return false;
        }
        self.frames += exception.stack.as_ref().map_or(0, Vec::len);
        self.exceptions.push(exception);
        true
    }

    /// `text` parsed within what is left, tightening the frame limit (and parsing again) when
    /// the document turns out to hold too many frames.
    fn parse<'t>(&mut self, language: StackLanguage, text: &'t str) -> Vec<stack::ParsedException<'t>> {
        loop {
            let mut budget = Budget {
                per_exception: self.left_out.frames_limit.unwrap_or(usize::MAX),
                frames: (FRAMES_THAT_CANNOT_FIT - 1).saturating_sub(self.frames),
                // The first entry belongs to the exception already pushed.
                exceptions: (EXCEPTIONS_THAT_CANNOT_FIT + 1).saturating_sub(self.exceptions.len()),
                ..Budget::UNLIMITED
            };
            let parsed = stack::parse_bounded(language, text, &mut budget);
            if budget.frames_exceeded && self.tighten() {
                continue;
            }
            if budget.exceptions_left_out > 0 && self.left_out.frames_limit != Some(0) {
                // With exceptions left out, every stack is cut to nothing: parsed again so.
                self.cut_frames(0);
                continue;
            }
            self.left_out.exceptions += budget.exceptions_left_out;
            self.frames += parsed
                .iter()
                .map(|p| p.stack.as_ref().map_or(0, Vec::len))
                .sum::<usize>();
            return parsed;
        }
    }

    /// Moves to the next frame limit and cuts the kept exceptions to it; false at the last.
    fn tighten(&mut self) -> bool {
        let next = match self.left_out.frames_limit {
            None => STACK_FRAME_LIMITS.first(),
            Some(limit) => STACK_FRAME_LIMITS.iter().find(|l| **l < limit),
        };
        let Some(&limit) = next else {
            return false;
        };
        self.cut_frames(limit);
        true
    }

    /// Cuts every kept stack to `limit` frames, the rest counted in `truncated`.
    fn cut_frames(&mut self, limit: usize) {
        self.left_out.frames_limit = Some(limit);
        let mut cause = Cause {
            exceptions: std::mem::take(&mut self.exceptions),
            ..Cause::default()
        };
        cause.limit_stack_frames(limit);
        self.exceptions = cause.exceptions;
        for stack in self.exceptions.iter_mut().filter_map(|e| e.stack.as_mut()) {
            stack.shrink_to_fit();
        }
        self.frames = self
            .exceptions
            .iter()
            .map(|e| e.stack.as_ref().map_or(0, Vec::len))
            .sum();
    }

    /// Leaves one exception out. With that many exceptions the reduction certainly cuts every
    /// stack to nothing, then drops exceptions: the first is done here.
    fn leave_out_exceptions(&mut self) {
        if self.left_out.exceptions == 0 {
            self.cut_frames(0);
        }
        self.left_out.exceptions += 1;
    }

    fn into_cause(self) -> Cause<'a> {
        let mut left_out = self.left_out;
        // A limit under which nothing was cut changed nothing.
        if !self.exceptions.iter().any(|e| e.truncated.is_some()) {
            left_out.frames_limit = None;
        }
        Cause {
            exceptions: self.exceptions,
            left_out,
        }
    }
}

/// An AWS SDK `HTTP request failure` event: `<status>@<event time>@<error message>`.
fn http_failure(event: &Event) -> Option<Exception<'static>> {
    let status = match event_attribute(event, "http.response.status_code")? {
        Value::String(s) => s.as_str().to_owned(),
        other => other.to_string(),
    };
    let message = event_attribute(event, "aws.http.error_message")?.as_str();
    let since_epoch = event.timestamp.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut exception = Exception::new(AsciiId(random_segment_id()));
    exception.exception_type = Some(Cow::Borrowed("aws.http.error.event"));
    exception.remote = Some(true);
    exception.message = Some(Cow::Owned(format!(
        "{status}@{}.{:06}@{message}",
        since_epoch.as_secs(),
        since_epoch.subsec_micros()
    )));
    Some(exception)
}
