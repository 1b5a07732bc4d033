//! [`TraceMiddleware`] for `reqwest-middleware`.

use http::Extensions;
use reqwest_middleware::{Middleware, Next};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{inject_context, spans};
use crate::exception::Described;
use crate::redact::without_credentials;

/// A `reqwest-middleware` middleware: each request gets a client span, named after the peer
/// host, whose context is written into the request's `X-Amzn-Trace-Id` (through the global
/// propagator); the response status sets the subsegment's error, throttle and fault flags, and a
/// call that gets no response is a fault with its cause, typed by the error's kind
/// (`reqwest::Error(connect)`, `reqwest::Error(timeout)`, ...) with its `source()` chain.
///
/// ```no_run
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(xray_bridge::http::TraceMiddleware::default())
///     .build();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceMiddleware {
    _private: (),
}

#[async_trait::async_trait]
impl Middleware for TraceMiddleware {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let url = request.url();
        let span = spans::client_span(
            request.method(),
            url.as_str(),
            url.host_str(),
            url.port_or_known_default(),
        );
        inject_context(&span.context(), request.headers_mut());
        let result = next.run(request, extensions).instrument(span.clone()).await;
        match &result {
            Ok(response) => spans::record_status(
                &span,
                response.status(),
                response.headers(),
                response.content_length(),
            ),
            Err(error) => {
                spans::record_failure(&span, error);
                let mut described = Described::of_error(error, "HTTP client request");
                if let Some(url) = error.url() {
                    described.redact(url.as_str(), &without_credentials(url.as_str()));
                }
                described.record(&span);
            }
        }
        result
    }
}
