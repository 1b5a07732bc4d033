//! [`Described`]: an error, its type and its `source()` chain, as `exception` event attributes.

use std::error::Error;

use opentelemetry::{Array, KeyValue, StringValue, Value};

#[cfg(any(feature = "lambda", feature = "tower", feature = "reqwest"))]
use super::EXCEPTION_EVENT;
use super::{SOURCE_MESSAGES, SOURCE_TYPES};

/// The type of a source nothing else tells the type of.
const UNKNOWN_SOURCE: &str = "dyn Error";

/// An error as exceptions: its type and message, then its sources'.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Described {
    exception_type: String,
    message: String,
    /// (type, message) of each source, outermost first.
    sources: Vec<(String, String)>,
}

impl Described {
    /// An error value and its `source()` chain; `span_name` names the fallback type.
    pub(crate) fn of_error(error: &(dyn Error + 'static), span_name: &str) -> Self {
        let error = unwrap_transparent(error);
        let mut sources = Vec::new();
        let mut next = error.source();
        while let Some(source) = next {
            let source = unwrap_transparent(source);
            let source_type = known_type(source)
                .or_else(|| debug_type(&format!("{source:?}")).map(str::to_owned))
                .unwrap_or_else(|| UNKNOWN_SOURCE.to_owned());
            sources.push((source_type, source.to_string()));
            next = source.source();
        }
        Described {
            exception_type: known_type(error)
                .or_else(|| debug_type(&format!("{error:?}")).map(str::to_owned))
                .unwrap_or_else(|| fallback_type(span_name)),
            message: error.to_string(),
            sources,
        }
    }

    /// An error of a type the caller knows: what the type tells, its name otherwise, and the
    /// source chain when the value is a boxed or known error.
    #[cfg(any(feature = "lambda", feature = "tower"))]
    pub(crate) fn of_value<E: std::fmt::Display + 'static>(error: &E, span_name: &str) -> Self {
        let any = error as &dyn std::any::Any;
        if let Some(boxed) = any.downcast_ref::<Box<dyn Error + Send + Sync>>() {
            return Described::of_error(&**boxed, span_name);
        }
        if let Some(boxed) = any.downcast_ref::<Box<dyn Error + Send>>() {
            return Described::of_error(&**boxed, span_name);
        }
        if let Some(boxed) = any.downcast_ref::<Box<dyn Error>>() {
            return Described::of_error(&**boxed, span_name);
        }
        if let Some(error) = known_error(any) {
            return Described::of_error(error, span_name);
        }
        Described {
            exception_type: std::any::type_name::<E>().to_owned(),
            message: error.to_string(),
            sources: Vec::new(),
        }
    }

    /// An error known only by its text (`Display` or `Debug`).
    #[cfg(feature = "layer")]
    pub(crate) fn of_text(text: String, span_name: &str) -> Self {
        Described {
            exception_type: debug_type(&text).map_or_else(|| fallback_type(span_name), str::to_owned),
            message: text,
            sources: Vec::new(),
        }
    }

    /// A panic: type `panic`, the payload's message.
    #[cfg(feature = "lambda")]
    pub(crate) fn of_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_owned());
        Described {
            exception_type: "panic".to_owned(),
            message,
            sources: Vec::new(),
        }
    }

    /// The message.
    #[cfg(feature = "lambda")]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// Replaces `url` by `redacted` in every message (credentials in a URL an error quotes).
    #[cfg(feature = "reqwest")]
    pub(crate) fn redact(&mut self, url: &str, redacted: &str) {
        if url == redacted {
            return;
        }
        self.message = self.message.replace(url, redacted);
        for (_, message) in &mut self.sources {
            *message = message.replace(url, redacted);
        }
    }

    /// The attributes of the `exception` event.
    pub(crate) fn attributes(self) -> Vec<KeyValue> {
        let mut attributes = vec![
            KeyValue::new("exception.type", self.exception_type),
            KeyValue::new("exception.message", self.message),
        ];
        if !self.sources.is_empty() {
            let (types, messages): (Vec<StringValue>, Vec<StringValue>) = self
                .sources
                .into_iter()
                .map(|(t, m)| (StringValue::from(t), StringValue::from(m)))
                .unzip();
            attributes.push(KeyValue::new(SOURCE_TYPES, Value::Array(Array::String(types))));
            attributes.push(KeyValue::new(
                SOURCE_MESSAGES,
                Value::Array(Array::String(messages)),
            ));
        }
        attributes
    }

    /// Adds the `exception` event to `span`.
    #[cfg(any(feature = "lambda", feature = "tower", feature = "reqwest"))]
    pub(crate) fn record(self, span: &tracing::Span) {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        span.add_event(EXCEPTION_EVENT, self.attributes());
    }
}

/// `<span name> error`.
fn fallback_type(span_name: &str) -> String {
    format!("{span_name} error")
}

/// The error a transparent wrapper stands for (its `Display` and `source()` are the inner
/// error's, its `Debug` names only the wrapper's variant).
fn unwrap_transparent<'a>(error: &'a (dyn Error + 'static)) -> &'a (dyn Error + 'static) {
    #[cfg(feature = "reqwest")]
    if let Some(wrapper) = error.downcast_ref::<reqwest_middleware::Error>() {
        return match wrapper {
            reqwest_middleware::Error::Reqwest(inner) => inner,
            reqwest_middleware::Error::Middleware(inner) => &**inner,
        };
    }
    error
}

/// A value of one of the error types [`known_type`] knows, as an error.
#[cfg(any(feature = "lambda", feature = "tower"))]
fn known_error(any: &dyn std::any::Any) -> Option<&(dyn Error + 'static)> {
    if let Some(error) = any.downcast_ref::<std::io::Error>() {
        return Some(error);
    }
    #[cfg(feature = "reqwest")]
    if let Some(error) = any.downcast_ref::<reqwest::Error>() {
        return Some(error);
    }
    #[cfg(feature = "reqwest")]
    if let Some(error) = any.downcast_ref::<reqwest_middleware::Error>() {
        return Some(error);
    }
    None
}

/// The type of the errors whose type and kind the crate knows.
fn known_type(error: &(dyn Error + 'static)) -> Option<String> {
    if let Some(error) = error.downcast_ref::<std::io::Error>() {
        return Some(format!("std::io::Error({:?})", error.kind()));
    }
    #[cfg(feature = "reqwest")]
    if let Some(error) = error.downcast_ref::<reqwest::Error>() {
        return Some(reqwest_type(error));
    }
    None
}

/// `reqwest::Error(<kind>)`.
#[cfg(feature = "reqwest")]
fn reqwest_type(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_request() {
        "request"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_status() {
        "status"
    } else if error.is_builder() {
        "builder"
    } else {
        return "reqwest::Error".to_owned();
    };
    format!("reqwest::Error({kind})")
}

/// The type a `Debug` text starts with: a Rust path whose last segment starts with a capital
/// letter, followed by nothing, ` {` or `(` (`ParseIntError { kind: InvalidDigit }`,
/// `Custom("x")`, `NotFound`). `None` for prose and quoted strings.
fn debug_type(text: &str) -> Option<&str> {
    let mut end = 0;
    let mut last_segment;
    loop {
        let rest = &text[end..];
        let length = rest
            .char_indices()
            .take_while(|&(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
            .count();
        if length == 0 {
            return None;
        }
        last_segment = end;
        end += length;
        if text[end..].starts_with("::") {
            end += 2;
        } else {
            break;
        }
    }
    let capital = text[last_segment..].starts_with(|c: char| c.is_ascii_uppercase());
    let rest = &text[end..];
    let delimited = rest.is_empty() || rest.starts_with(" {") || rest.starts_with('(');
    (capital && delimited).then(|| &text[..end])
}

#[cfg(test)]
mod tests {
    use std::fmt::Display;

    use super::*;

    #[test]
    fn a_debug_text_is_typed_by_the_type_it_starts_with() {
        assert_eq!(
            debug_type("ParseIntError { kind: InvalidDigit }"),
            Some("ParseIntError")
        );
        assert_eq!(debug_type("Custom(\"x\")"), Some("Custom"));
        assert_eq!(debug_type("NotFound"), Some("NotFound"));
        assert_eq!(
            debug_type("hyper_util::client::legacy::Error(Connect, x)"),
            Some("hyper_util::client::legacy::Error")
        );
        assert_eq!(debug_type("invalid digit found in string"), None);
        assert_eq!(debug_type("Payment declined by the bank"), None);
        assert_eq!(debug_type("\"payment declined\""), None);
        assert_eq!(debug_type("lowercase(1)"), None);
        assert_eq!(debug_type(""), None);
        assert_eq!(debug_type("Trailing::"), None);
    }

    #[test]
    fn io_errors_are_typed_by_their_kind_and_sources_follow() {
        #[derive(Debug)]
        struct Config(std::io::Error);
        impl Display for Config {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("config unreadable")
            }
        }
        impl Error for Config {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = Config(std::io::Error::new(std::io::ErrorKind::NotFound, "no file"));
        assert_eq!(
            Described::of_error(&error, "load"),
            Described {
                exception_type: "Config".into(),
                message: "config unreadable".into(),
                sources: vec![("std::io::Error(NotFound)".into(), "no file".into())],
            }
        );
    }

    #[cfg(any(feature = "lambda", feature = "tower"))]
    #[test]
    fn a_value_is_typed_by_its_type_or_the_boxed_error_inside() {
        let boxed: Box<dyn Error + Send + Sync> = "declined".into();
        assert_eq!(
            Described::of_value(&boxed, "## handler"),
            Described {
                exception_type: "## handler error".into(),
                message: "declined".into(),
                sources: vec![],
            }
        );
        assert_eq!(
            Described::of_value(&std::fmt::Error, "x").exception_type,
            "core::fmt::Error"
        );
    }
}
