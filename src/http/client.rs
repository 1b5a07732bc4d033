//! [`XrayClientLayer`]: a client span per outgoing request, its context sent along.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{inject_context, spans};

/// A tower layer for HTTP clients (hyper-util's client, any `Service<http::Request<B>>`): each
/// request gets a client span, named after the peer host, whose context is written into the
/// request's `X-Amzn-Trace-Id` (through the global propagator); the response status sets the
/// subsegment's error, throttle and fault flags.
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
    S::Error: std::fmt::Display,
    R: Body,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let uri = request.uri();
        let span = spans::client_span(request.method(), &uri.to_string(), uri.host(), uri.port_u16());
        inject_context(&span.context(), request.headers_mut());
        let inner = span.in_scope(|| self.inner.call(request));
        ResponseFuture { inner, span }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`XrayClient`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
    E: std::fmt::Display,
    R: Body,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        match &result {
            Ok(response) => spans::record_response(this.span, response),
            Err(error) => spans::record_failure(this.span, error),
        }
        Poll::Ready(result)
    }
}
