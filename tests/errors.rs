//! Rust errors become X-Ray exceptions: `#[instrument(err)]`, an event's `error` field (as
//! `&dyn Error`, `%err` or `?err`) at any level, each a `cause` with a meaningful exception
//! type, the message and the `source()` chain, through the pipeline `build_layer()` builds and
//! a UDP socket on 127.0.0.1.

mod support;

use std::error::Error;
use std::fmt;

use serde_json::{json, Value as Json};
use tracing_subscriber::layer::SubscriberExt;

/// Runs `spans` through the pipeline and returns the document of the span named `name`.
fn document_of(name: &str, spans: impl FnOnce()) -> Json {
    let daemon = support::Daemon::start();
    let (layer, xray) = support::pipeline_to(&daemon, "billing");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, spans);
    xray.flush().unwrap();
    // The service's segment, with the span inside (the segment carries the span's flags and
    // cause too).
    let documents = daemon.documents(2);
    documents
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {documents:?}"))
        .clone()
}

/// The span's flags and that nothing about the error landed in metadata.
fn flags(document: &Json) -> (Json, Json, Json) {
    assert_eq!(document.get("metadata"), None, "{document}");
    (
        document["fault"].clone(),
        document["error"].clone(),
        document["throttle"].clone(),
    )
}

#[derive(Debug)]
struct PaymentDeclined;

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment declined")
    }
}

impl Error for PaymentDeclined {}

#[tracing::instrument(err, skip_all)]
fn charge() -> Result<(), PaymentDeclined> {
    Err(PaymentDeclined)
}

#[tracing::instrument(err(Debug))]
fn parse_quantity(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

/// An error with a source that has a source of its own.
#[derive(Debug)]
struct StartupError {
    source: ConfigError,
}

#[derive(Debug)]
struct ConfigError {
    path: &'static str,
    source: std::io::Error,
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("startup failed")
    }
}

impl Error for StartupError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}", self.path)
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn startup_error() -> StartupError {
    StartupError {
        source: ConfigError {
            path: "orders.toml",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        },
    }
}

#[test]
fn instrument_err_is_a_cause_typed_by_the_function_that_failed() {
    let document = document_of("charge", || {
        let _ = charge();
    });
    assert_eq!(flags(&document), (json!(true), json!(false), json!(false)));
    assert_eq!(
        support::exceptions(&document),
        json!([{"message": "payment declined", "type": "charge error", "remote": false}])
    );
}

#[test]
fn instrument_err_debug_is_a_cause_with_the_debug_text() {
    let document = document_of("parse_quantity", || {
        let _ = parse_quantity("seven");
    });
    assert_eq!(document["fault"], true);
    assert_eq!(
        support::exceptions(&document),
        json!([{"message": "ParseIntError { kind: InvalidDigit }", "type": "ParseIntError", "remote": false}])
    );
}

#[test]
fn an_error_field_is_a_cause_with_its_type_message_and_sources() {
    let document = document_of("start", || {
        tracing::info_span!("start").in_scope(|| {
            let err = startup_error();
            tracing::error!(error = &err as &dyn Error, "cannot start");
        });
    });
    assert_eq!(flags(&document), (json!(true), json!(false), json!(false)));
    assert_eq!(
        support::exceptions(&document),
        json!([
            {"message": "startup failed", "type": "StartupError", "remote": false},
            {"message": "cannot read orders.toml", "type": "ConfigError", "remote": false},
            {"message": "no such file", "type": "std::io::Error(NotFound)", "remote": false}
        ])
    );
}

#[test]
fn display_and_debug_error_fields_are_causes_typed_by_their_text() {
    let displayed = document_of("refund", || {
        tracing::info_span!("refund").in_scope(|| {
            tracing::error!(error = %PaymentDeclined, "refund failed");
        });
    });
    assert_eq!(
        support::exceptions(&displayed),
        json!([{"message": "payment declined", "type": "refund error", "remote": false}]),
        "prose is no type: the span names it"
    );
    let debugged = document_of("refund", || {
        tracing::info_span!("refund").in_scope(|| {
            tracing::error!(error = ?startup_error().source, "refund failed");
        });
    });
    assert_eq!(
        support::exceptions(&debugged),
        json!([{
            "message": "ConfigError { path: \"orders.toml\", source: Custom { kind: NotFound, error: \"no such file\" } }",
            "type": "ConfigError",
            "remote": false
        }])
    );
}

#[test]
fn an_error_logged_below_error_level_is_a_cause_without_fault() {
    let document = document_of("sync", || {
        tracing::info_span!("sync").in_scope(|| {
            let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream slow");
            tracing::warn!(error = &err as &dyn Error, "retrying");
        });
    });
    assert_eq!(
        flags(&document),
        (json!(false), json!(false), json!(false)),
        "no fault: the span did not fail (exceptions on a span whose status is unset set no flag)"
    );
    assert_eq!(
        support::exceptions(&document),
        json!([{"message": "upstream slow", "type": "std::io::Error(TimedOut)", "remote": false}])
    );
}
