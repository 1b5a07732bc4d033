//! The spans the HTTP layers open, and what they record when the response arrives.

use http::{HeaderMap, Method, StatusCode};
use tracing::field::Empty;
use tracing::Span;

use crate::redact::without_credentials;

/// Target of the HTTP layers' spans.
pub(crate) const TARGET: &str = "xray_bridge::http";

#[cfg(feature = "tower")]
/// A server span for a request: method, full URL, user agent, client address.
pub(crate) fn server_span(
    method: &Method,
    uri: &http::Uri,
    headers: &HeaderMap,
    route: Option<&str>,
) -> Span {
    let name = format!("{method} {}", route.unwrap_or_else(|| uri.path()));
    let span = tracing::info_span!(
        target: TARGET,
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = %method,
        url.full = %full_url(uri, headers),
        http.route = route,
        user_agent.original = Empty,
        client.address = Empty,
        network.peer.address = Empty,
        http.response.status_code = Empty,
        http.response.body.size = Empty,
    );
    if let Some(agent) = header(headers, http::header::USER_AGENT) {
        span.record("user_agent.original", agent);
    }
    if let Some(forwarded) = header(headers, "x-forwarded-for").and_then(|v| v.split(',').next()) {
        span.record("client.address", forwarded.trim());
    }
    span
}

/// A client span for an outgoing request, named by the peer host.
pub(crate) fn client_span(method: &Method, url: &str, host: Option<&str>, port: Option<u16>) -> Span {
    let host = host.unwrap_or("");
    tracing::info_span!(
        target: TARGET,
        "HTTP client request",
        otel.name = %format!("{method} {host}"),
        otel.kind = "client",
        http.request.method = %method,
        url.full = %without_credentials(url),
        server.address = host,
        server.port = port,
        net.peer.name = host,
        http.response.status_code = Empty,
        http.response.body.size = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

#[cfg(feature = "tower")]
/// Records the response's status and, when known, its body size.
pub(crate) fn record_response<B: http_body::Body>(span: &Span, response: &http::Response<B>) {
    record_status(
        span,
        response.status(),
        response.headers(),
        response.body().size_hint().exact(),
    );
}

/// Records a status, and the body size from `Content-Length` or `exact_size`.
pub(crate) fn record_status(span: &Span, status: StatusCode, headers: &HeaderMap, exact_size: Option<u64>) {
    span.record("http.response.status_code", i64::from(status.as_u16()));
    let length = header(headers, http::header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok())
        .or(exact_size);
    if let Some(length) = length.and_then(|l| i64::try_from(l).ok()) {
        span.record("http.response.body.size", length);
    }
}

/// Records a request that got no response.
pub(crate) fn record_failure(span: &Span, error: &dyn std::fmt::Display) {
    span.record("otel.status_code", "error");
    span.record("otel.status_description", tracing::field::display(error));
}

#[cfg(feature = "tower")]
/// `scheme://host/path?query` of a request as the server saw it.
fn full_url(uri: &http::Uri, headers: &HeaderMap) -> String {
    if uri.scheme().is_some() && uri.authority().is_some() {
        return without_credentials(&uri.to_string()).into_owned();
    }
    let scheme = header(headers, "x-forwarded-proto").unwrap_or("http");
    let host = header(headers, http::header::HOST).unwrap_or("");
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("{scheme}://{host}{path}")
}

fn header(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
