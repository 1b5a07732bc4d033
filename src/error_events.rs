//! `tracing` events with an `error` field as OpenTelemetry `exception` events, while the error
//! value is still at hand: `tracing::error!(error = &err as &dyn std::error::Error, ...)`,
//! `error = %err`, `error = ?err`, and the events of `#[instrument(err)]`. Part of the layer
//! [`crate::XrayBuilder::install`], [`crate::XrayBuilder::build_layer`] and
//! [`crate::tracing_layer`] build.

use std::error::Error;
use std::sync::OnceLock;

use opentelemetry::trace::TraceContextExt as _;
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::exception::{Described, EXCEPTION_EVENT};

/// A `tracing` layer that records an OpenTelemetry `exception` event on the span of every
/// event with an `error` field, while the error value is still at hand.
///
/// Place it beside tracing-opentelemetry's layer, inside the same filter, with that layer's
/// own error-to-exception mapping off (as [`crate::tracing_layer`] does), or errors are
/// recorded twice. It writes nothing to events without an `error` field, and nothing when the
/// event is outside any span.
#[derive(Debug, Default)]
pub(crate) struct ExceptionLayer {
    dispatch: OnceLock<WeakDispatch>,
}

impl ExceptionLayer {
    /// A new layer.
    pub(crate) fn new() -> Self {
        ExceptionLayer::default()
    }
}

impl<S> Layer<S> for ExceptionLayer
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().fields().field("error").is_none() {
            return;
        }
        let span = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| event.is_contextual().then(|| ctx.lookup_current()).flatten());
        let Some(span) = span else { return };
        let mut visitor = ErrorField {
            span_name: span.name(),
            found: None,
        };
        event.record(&mut visitor);
        let Some(described) = visitor.found else { return };
        let id = span.id();
        drop(span);
        // The thread's default dispatcher is unavailable while it dispatches this event: the
        // context is looked up through the dispatcher this layer was registered with.
        let Some(dispatch) = self.dispatch.get().and_then(WeakDispatch::upgrade) else {
            return;
        };
        if let Some(cx) = tracing_opentelemetry::get_otel_context(&id, &dispatch) {
            cx.span().add_event(EXCEPTION_EVENT, described.attributes());
        }
    }
}

/// Finds the `error` field of an event.
struct ErrorField<'a> {
    span_name: &'a str,
    found: Option<Described>,
}

impl Visit for ErrorField<'_> {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if field.name() == "error" {
            self.found = Some(Described::of_error(value, self.span_name));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "error" {
            self.found = Some(Described::of_text(value.to_owned(), self.span_name));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `error = %err`, `error = ?err` and `#[instrument(err)]` (which records one of those).
        if field.name() == "error" {
            self.found = Some(Described::of_text(format!("{value:?}"), self.span_name));
        }
    }
}
