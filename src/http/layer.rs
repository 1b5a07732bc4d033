//! [`TraceLayer`]: one span per HTTP request for tower services, on either side of the call.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::traced::{Side, TracedResponse};
use super::{extract, inject_context, spans};

/// A tower layer that gives each HTTP request a span and carries `X-Amzn-Trace-Id` (through
/// the global propagator): [`TraceLayer::server`] for servers (axum, hyper, tonic's HTTP),
/// [`TraceLayer::client`] for clients (hyper-util's client, any `Service<http::Request<B>>`).
///
/// The response status and size are recorded, so 4xx, 429 and 5xx responses become error,
/// throttle and fault. The span is a `tracing` span: with no subscriber (or tracing filtered
/// out) the service still answers, at no cost beyond a disabled span.
///
/// ```no_run
/// # #[cfg(feature = "axum")] {
/// let app: axum::Router = axum::Router::new()
///     .route("/orders/{id}", axum::routing::get(|| async { "ok" }))
///     .layer(xray_bridge::http::TraceLayer::server());
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TraceLayer {
    side: Side,
}

impl TraceLayer {
    /// For a server: each request gets a `Server` span continuing the caller's trace (a
    /// missing or malformed header starts a new one). With the `axum` feature, spans are named
    /// by the matched route (`GET /orders/{id}`) and the peer address comes from `ConnectInfo`
    /// when the server provides it. An error from the inner service is a 500 with its cause,
    /// typed by the error's type.
    pub fn server() -> Self {
        TraceLayer { side: Side::Server }
    }

    /// For a client: each request gets a `Client` span, named after the peer host, whose
    /// context is written into the request's header. An error from the inner service (no
    /// response came) is a fault with its cause, typed by the error's type.
    pub fn client() -> Self {
        TraceLayer { side: Side::Client }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Traced<S> {
        Traced {
            inner,
            side: self.side,
        }
    }
}

/// The service made by [`TraceLayer`].
#[derive(Clone, Debug)]
pub struct Traced<S> {
    inner: S,
    side: Side,
}

impl<S, B, R> Service<Request<B>> for Traced<S>
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

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let span = match self.side {
            Side::Server => server_span(&request),
            Side::Client => client_span(&mut request),
        };
        let inner = span.in_scope(|| self.inner.call(request));
        TracedResponse::new(inner, span, self.side)
    }
}

/// The span of a request received, under the caller's context.
fn server_span<B>(request: &Request<B>) -> Span {
    let span = spans::server_span(request.method(), request.uri(), request.headers(), route(request));
    if let Some(peer) = peer_address(request) {
        span.record("network.peer.address", tracing::field::display(peer));
    }
    // Fails only when tracing is off for this span; the request is served either way.
    let _ = span.set_parent(extract(request.headers()));
    span
}

/// The span of a request sent, its context written into the request's header.
fn client_span<B>(request: &mut Request<B>) -> Span {
    let uri = request.uri();
    let span = spans::client_span(request.method(), &uri.to_string(), uri.host(), uri.port_u16());
    inject_context(&span.context(), request.headers_mut());
    span
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
