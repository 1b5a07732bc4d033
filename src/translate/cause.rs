//! `fault` / `error` / `throttle` from the HTTP status and the span status, and `cause` from
//! exception events.

use std::borrow::Cow;
use std::time::UNIX_EPOCH;

use opentelemetry::trace::{Event, SpanKind, Status};
use opentelemetry::{Array, Value};

use super::attributes::{as_int, as_str, Attributes, Known};
use super::stack::{self, StackLanguage};
use crate::exception::{EXCEPTION_EVENT, SOURCE_MESSAGES, SOURCE_TYPES};
use crate::id::random_segment_id;
use crate::segment::{AsciiId, Cause, Exception};

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
    let mut exceptions = Vec::new();
    let mut has_events = false;
    for event in events {
        if event.name == EXCEPTION_EVENT {
            has_events = true;
            push_exception_event(&mut exceptions, event, remote, language);
        } else if aws_sdk && event.name == "HTTP request failure" {
            has_events = true;
            exceptions.extend(http_failure(event));
        }
    }
    if has_events {
        failure.cause = Some(Cause { exceptions });
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
    out: &mut Vec<Exception<'a>>,
    event: &'a Event,
    remote: bool,
    language: Option<StackLanguage>,
) {
    let text = |name| event_attribute(event, name).and_then(as_str).unwrap_or("");
    let mut first = Exception::new(AsciiId(random_segment_id()));
    first.exception_type = Some(Cow::Borrowed(text("exception.type")));
    first.message = Some(Cow::Borrowed(text("exception.message")));
    first.remote = Some(remote);
    let first_index = out.len();
    out.push(first);
    match event_attribute(event, "exception.stacktrace") {
        Some(Value::String(trace)) if !trace.as_str().is_empty() => {
            let Some(language) = language else { return };
            let mut parsed = stack::parse(language, trace.as_str()).into_iter();
            if let Some(own) = parsed.next() {
                out[first_index].stack = own.stack;
            }
            for cause in parsed {
                let mut exception = Exception::new(AsciiId(random_segment_id()));
                exception.exception_type = Some(cause.exception_type);
                exception.message = Some(cause.message);
                exception.remote = Some(remote);
                exception.stack = cause.stack;
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
fn chain<'a>(out: &mut Vec<Exception<'a>>, exception: Exception<'a>) {
    if let Some(previous) = out.last_mut() {
        previous.cause = Some(exception.id);
    }
    out.push(exception);
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
