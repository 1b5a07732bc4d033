//! [`XrayClientLayer`]: a client span per outgoing request, its context sent along.

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::traced::{Side, TracedResponse};
use super::{inject_context, spans};

/// A tower layer for HTTP clients (hyper-util's client, any `Service<http::Request<B>>`): each
/// request gets a client span, named after the peer host, whose context is written into the
/// request's `X-Amzn-Trace-Id` (through the global propagator); the response status sets the
/// subsegment's error, throttle and fault flags, and an error from the inner service is a fault
/// with its cause, typed by the error's type.
#[derive(Clone, Copy, Debug, Default)]
pub struct XrayClientLayer {
    _private: (),
}

impl<S> Layer<S> for XrayClientLayer {
    type Service = XrayClient<S>;

    fn layer(&self, inner: S) -> XrayClient<S> {
        XrayClient { inner }
    }
}

/// The service made by [`XrayClientLayer`].
#[derive(Clone, Debug)]
pub struct XrayClient<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for XrayClient<S>
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
        let uri = request.uri();
        let span = spans::client_span(request.method(), &uri.to_string(), uri.host(), uri.port_u16());
        inject_context(&span.context(), request.headers_mut());
        let inner = span.in_scope(|| self.inner.call(request));
        TracedResponse::new(inner, span, Side::Client)
    }
}
