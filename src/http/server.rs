//! [`XrayServerLayer`]: a server span per request, continuing the caller's trace.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::traced::{Side, TracedResponse};
use super::{extract, spans};

/// A tower layer for HTTP servers (axum, hyper, tonic's HTTP): for each request it reads
/// `X-Amzn-Trace-Id` (through the global propagator), opens a server span under it and records
/// the response status and size, so 4xx, 429 and 5xx responses become error, throttle and fault;
/// an error from the inner service is a 500 with its cause, typed by the error's type.
///
/// The span is a `tracing` span: with no subscriber (or tracing filtered out) the service still
/// answers, at no cost beyond a disabled span.
///
/// ```no_run
/// # #[cfg(feature = "axum")] {
/// let app: axum::Router = axum::Router::new()
///     .route("/orders/{id}", axum::routing::get(|| async { "ok" }))
///     .layer(xray_bridge::http::XrayServerLayer::default());
/// # }
/// ```
/// With the `axum` feature, spans are named by the matched route (`GET /orders/{id}`) and the
/// peer address comes from `ConnectInfo` when the server provides it.
#[derive(Clone, Copy, Debug, Default)]
pub struct XrayServerLayer {
    _private: (),
}

impl<S> Layer<S> for XrayServerLayer {
    type Service = XrayServer<S>;

    fn layer(&self, inner: S) -> XrayServer<S> {
        XrayServer { inner }
    }
}

/// The service made by [`XrayServerLayer`].
#[derive(Clone, Debug)]
pub struct XrayServer<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for XrayServer<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Error: std::fmt::Display + 'static,
    R: Body,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = TracedResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let span = spans::server_span(
            request.method(),
            request.uri(),
            request.headers(),
            route(&request),
        );
        if let Some(peer) = peer_address(&request) {
            span.record("network.peer.address", tracing::field::display(peer));
        }
        // Fails only when tracing is off for this span; the request is served either way.
        let _ = span.set_parent(extract(request.headers()));
        let inner = span.in_scope(|| self.inner.call(request));
        TracedResponse::new(inner, span, Side::Server)
    }
}

#[cfg(feature = "axum")]
fn route<B>(request: &Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str())
}

#[cfg(not(feature = "axum"))]
fn route<B>(_request: &Request<B>) -> Option<&str> {
    None
}

#[cfg(feature = "axum")]
fn peer_address<B>(request: &Request<B>) -> Option<std::net::IpAddr> {
    let info = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?;
    Some(info.0.ip())
}

#[cfg(not(feature = "axum"))]
fn peer_address<B>(request: &Request<B>) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<std::net::SocketAddr>()
        .map(|addr| addr.ip())
}
