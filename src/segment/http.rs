//! The `http` block.

use std::borrow::Cow;

use serde::Serialize;

/// `http`: the request a segment served or a subsegment made, and its response.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Http<'a> {
    /// The request.
    pub request: HttpRequest<'a>,
    /// The response.
    pub response: HttpResponse,
}

/// `http.request`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct HttpRequest<'a> {
    /// Method, e.g. `GET`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<&'a str>,
    /// Full URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Cow<'a, str>>,
    /// User agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<&'a str>,
    /// Client address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<&'a str>,
    /// `true` when `client_ip` came from `X-Forwarded-For` rather than the peer address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_forwarded_for: Option<bool>,
}

/// `http.response`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct HttpResponse {
    /// Status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Body length in bytes (0 when unknown).
    pub content_length: i64,
}
