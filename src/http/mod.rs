//! `X-Amzn-Trace-Id` on `http::HeaderMap`s, and spans for HTTP servers and clients.
//!
//! [`inject`] and [`extract`] use the global text-map propagator (set it to
//! [`crate::XrayPropagator`], alone or with W3C trace context). The layers below create the
//! spans themselves:
//!
//! - [`XrayServerLayer`] (feature `tower`): one server span per request, continuing the
//!   caller's trace; works with axum and hyper.
//! - [`XrayClientLayer`] (feature `tower`) and [`XrayMiddleware`] (feature `reqwest`): one
//!   client span per outgoing request, its context sent in the request's header.
//!
//! Privacy: no request or response header value is recorded except the user agent and the
//! first `X-Forwarded-For` address; `user:password@` is removed from every recorded URL.

#[cfg(feature = "tower")]
mod client;
#[cfg(feature = "reqwest")]
mod reqwest;
#[cfg(feature = "tower")]
mod server;
#[cfg(any(feature = "tower", feature = "reqwest"))]
mod spans;

use opentelemetry::global;
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};

#[cfg(feature = "tower")]
pub use client::{XrayClient, XrayClientLayer};
#[cfg(feature = "reqwest")]
pub use reqwest::XrayMiddleware;
#[cfg(feature = "tower")]
pub use server::{XrayServer, XrayServerLayer};

/// Writes the current context (the entered span's, with `tracing-opentelemetry`) into `headers`.
pub fn inject(headers: &mut http::HeaderMap) {
    inject_context(&Context::current(), headers);
}

/// Writes `cx` into `headers`.
pub fn inject_context(cx: &Context, headers: &mut http::HeaderMap) {
    global::get_text_map_propagator(|propagator| propagator.inject_context(cx, &mut HeaderInjector(headers)));
}

/// The caller's context from `headers`; a missing or malformed header gives a context without
/// a parent, so the request starts a new trace.
pub fn extract(headers: &http::HeaderMap) -> Context {
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers))
    })
}
