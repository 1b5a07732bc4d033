//! `X-Amzn-Trace-Id` on `http::HeaderMap`s, and spans for HTTP servers and clients.
//!
//! [`inject`] and [`extract`] use the global text-map propagator (`install()` sets it to X-Ray
//! and W3C trace context); while none is set they use those two anyway. The layers below create
//! the spans themselves:
//!
//! - [`TraceLayer::server`] (feature `tower`): one server span per request, continuing the
//!   caller's trace; works with axum and hyper.
//! - [`TraceLayer::client`] (feature `tower`) and [`TraceMiddleware`] (feature `reqwest`): one
//!   client span per outgoing request, its context sent in the request's header.
//!
//! Privacy: no request or response header value is recorded except the user agent and the
//! first `X-Forwarded-For` address; `user:password@` is removed from every recorded URL.

#[cfg(feature = "tower")]
mod layer;
#[cfg(feature = "reqwest")]
mod reqwest;
#[cfg(any(feature = "tower", feature = "reqwest"))]
mod spans;
#[cfg(feature = "tower")]
mod traced;

use std::sync::OnceLock;

use opentelemetry::global;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

use crate::XrayPropagator;

#[cfg(feature = "tower")]
pub use layer::{TraceLayer, Traced};
#[cfg(feature = "reqwest")]
pub use reqwest::TraceMiddleware;
#[cfg(feature = "tower")]
pub use traced::TracedResponse;

/// Writes the current context (the entered span's, with `tracing-opentelemetry`) into `headers`.
pub fn inject(headers: &mut http::HeaderMap) {
    inject_context(&Context::current(), headers);
}

/// Writes `cx` into `headers`.
pub fn inject_context(cx: &Context, headers: &mut http::HeaderMap) {
    with_propagator(|propagator| propagator.inject_context(cx, &mut HeaderInjector(headers)));
}

/// The caller's context from `headers`; a missing or malformed header gives a context without
/// a parent, so the request starts a new trace.
pub fn extract(headers: &http::HeaderMap) -> Context {
    with_propagator(|propagator| propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers)))
}

/// Runs `f` with the global propagator or, while none is set (OpenTelemetry's default reads and
/// writes no header), with X-Ray and W3C trace context, so the header is never silently lost.
fn with_propagator<T>(mut f: impl FnMut(&dyn TextMapPropagator) -> T) -> T {
    static FALLBACK: OnceLock<TextMapCompositePropagator> = OnceLock::new();
    global::get_text_map_propagator(|global| {
        if global.fields().next().is_some() {
            f(global)
        } else {
            f(FALLBACK.get_or_init(XrayPropagator::with_trace_context))
        }
    })
}
