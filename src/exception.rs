//! Rust errors as X-Ray exceptions: the `cause` of a document, with a meaningful exception
//! `type`, the error's message and one exception per error of its `source()` chain.
//!
//! [`Described`] is an error as the attributes of an OpenTelemetry `exception` event. The
//! crate's Lambda and HTTP layers record the errors they see with it, and so does the layer
//! that turns `tracing` events with an `error` field into exceptions (`error_events.rs`).
//!
//! The exception's type is, in order: what the concrete type tells (`std::io::Error(NotFound)`,
//! `reqwest::Error(connect)`, or the type's name where the crate's own layers know it), the
//! leading type name of the error's `Debug` text (`ParseIntError { kind: InvalidDigit }` →
//! `ParseIntError`), else `<span name> error`; sources whose type nothing tells are typed
//! `dyn Error`. The chain travels in two string-array attributes of the event,
//! [`SOURCE_TYPES`] and [`SOURCE_MESSAGES`].

#[cfg(any(feature = "layer", feature = "lambda", feature = "tower", feature = "reqwest"))]
mod described;

#[cfg(any(feature = "layer", feature = "lambda", feature = "tower", feature = "reqwest"))]
pub(crate) use described::Described;

/// Name of the OpenTelemetry event that carries an exception.
pub(crate) const EXCEPTION_EVENT: &str = "exception";

/// Event attribute: the types of the error's sources, outermost first (a string array).
pub(crate) const SOURCE_TYPES: &str = "xray_bridge.exception.source_types";

/// Event attribute: the messages of the error's sources, outermost first (a string array, as
/// long as [`SOURCE_TYPES`]).
pub(crate) const SOURCE_MESSAGES: &str = "xray_bridge.exception.source_messages";
