//! The `http` block from old (≤ v1.20) and stable HTTP semantic conventions.

use std::borrow::Cow;
use std::net::IpAddr;

use opentelemetry::trace::{Event, SpanKind};
use opentelemetry::Value;

use super::attributes::{as_int, as_str, Attributes, KeySet, Known};
use crate::redact::without_credentials;
use crate::segment::{Http, HttpRequest, HttpResponse};

/// Every key the HTTP stage consumes, whether or not it writes an `http` block.
pub(super) const HTTP_KEYS: KeySet = KeySet::of(&[
    Known::HttpMethod,
    Known::HttpRequestMethod,
    Known::HttpClientIp,
    Known::ClientAddress,
    Known::HttpUserAgent,
    Known::UserAgentOriginal,
    Known::HttpStatusCode,
    Known::HttpResponseStatusCode,
    Known::HttpUrl,
    Known::UrlFull,
    Known::HttpScheme,
    Known::UrlScheme,
    Known::HttpHost,
    Known::HttpTarget,
    Known::HttpServerName,
    Known::NetHostPort,
    Known::HostName,
    Known::NetHostName,
    Known::NetPeerName,
    Known::ServerAddress,
    Known::NetPeerPort,
    Known::ServerPort,
    Known::NetPeerIp,
    Known::NetworkPeerAddress,
    Known::UrlPath,
    Known::UrlQuery,
    Known::MessageType,
    Known::MessagingPayloadSize,
    Known::HttpResponseBodySize,
    Known::HttpResponseContentLength,
]);

/// What the in-order walk over the attributes found.
#[derive(Default)]
struct Found<'a> {
    has_http: bool,
    has_host_info: bool,
    peer_address_seen: bool,
    method: Option<&'a str>,
    client_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    status: Option<i64>,
    full_url: Option<&'a str>,
    scheme: Option<&'a str>,
    target: Option<&'a str>,
    host_port: Option<Cow<'a, str>>,
}

/// The `http` block, or `None` when the span carries no HTTP attribute.
pub(super) fn http_block<'a>(
    attrs: &Attributes<'a>,
    kind: &SpanKind,
    events: &'a [Event],
) -> Option<Http<'a>> {
    let found = walk(attrs);
    if !found.has_http {
        return None;
    }
    let url = match found.full_url {
        Some(full) => Some(without_credentials(full)),
        None if found.has_host_info => Some(Cow::Owned(assemble_url(attrs, kind, &found))),
        None => None,
    };
    let x_forwarded_for = (found.client_ip.is_some() && !found.peer_address_seen).then_some(true);
    Some(Http {
        request: HttpRequest {
            method: found.method,
            url,
            user_agent: found.user_agent,
            client_ip: found.client_ip,
            x_forwarded_for,
        },
        response: HttpResponse {
            status: found.status,
            content_length: content_length(attrs, events),
        },
    })
}

/// Walks the attributes in insertion order: for keys sharing a slot the last one wins, and
/// `net.peer.ip` / `network.peer.address` fill the client address only if it is still empty.
fn walk<'a>(attrs: &Attributes<'a>) -> Found<'a> {
    let mut found = Found::default();
    for (index, kv) in attrs.list.iter().enumerate() {
        let Some(key) = attrs.known_at(index) else {
            continue;
        };
        let text = as_str(&kv.value);
        match key {
            Known::HttpMethod | Known::HttpRequestMethod => {
                found.has_http = true;
                found.method = text;
            }
            Known::HttpClientIp => {
                found.has_http = true;
                found.client_ip = text;
            }
            Known::ClientAddress => {
                if let Some(ip) = text.filter(|t| is_ip(t)) {
                    found.client_ip = Some(ip);
                }
            }
            Known::HttpUserAgent | Known::UserAgentOriginal => {
                found.has_http = true;
                found.user_agent = text;
            }
            Known::HttpStatusCode | Known::HttpResponseStatusCode => {
                found.has_http = true;
                found.status = Some(as_int(&kv.value).unwrap_or(0));
            }
            Known::HttpUrl | Known::UrlFull => {
                found.has_http = true;
                found.has_host_info = true;
                found.full_url = text;
            }
            Known::HttpScheme | Known::UrlScheme => {
                found.has_http = true;
                found.scheme = text;
            }
            Known::HttpHost | Known::HttpServerName => {
                found.has_http = true;
                found.has_host_info = true;
            }
            Known::HttpTarget => {
                found.has_http = true;
                found.target = text;
            }
            Known::NetHostPort => {
                found.has_http = true;
                found.host_port = port_text(&kv.value);
            }
            Known::HostName | Known::NetHostName | Known::NetPeerName | Known::ServerAddress => {
                found.has_host_info = true;
            }
            Known::NetPeerIp => {
                found.has_host_info = true;
                found.peer_address_seen = true;
                if found.client_ip.is_none() {
                    found.client_ip = text;
                }
            }
            Known::NetworkPeerAddress => {
                found.has_host_info = true;
                if let Some(ip) = text.filter(|t| is_ip(t)) {
                    found.peer_address_seen = true;
                    if found.client_ip.is_none() {
                        found.client_ip = Some(ip);
                    }
                }
            }
            Known::UrlPath
            | Known::UrlQuery
            | Known::HttpResponseBodySize
            | Known::HttpResponseContentLength => found.has_http = true,
            _ => {}
        }
    }
    found
}

fn is_ip(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok()
}

/// A port given as a string or an integer.
fn port_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::I64(i) => Some(Cow::Owned(i.to_string())),
        _ => None,
    }
}

/// `scheme://host[:port]` + target, or + path and query, from the parts of the URL.
fn assemble_url(attrs: &Attributes<'_>, kind: &SpanKind, found: &Found<'_>) -> String {
    let scheme = found.scheme.unwrap_or("http");
    let first = |keys: &[Known]| keys.iter().find_map(|k| attrs.str(*k));
    let http_host = attrs.str(Known::HttpHost);
    let (host, port) = if matches!(kind, SpanKind::Server) {
        let host = http_host.or_else(|| {
            first(&[
                Known::HttpServerName,
                Known::NetHostName,
                Known::HostName,
                Known::ServerAddress,
            ])
        });
        let port = match http_host {
            Some(_) => None,
            None => found
                .host_port
                .clone()
                .or_else(|| attrs.get(Known::ServerPort).and_then(port_text)),
        };
        (host, port)
    } else {
        let host = http_host.or_else(|| first(&[Known::NetPeerName, Known::NetPeerIp, Known::ServerAddress]));
        let port = match http_host {
            Some(_) => None,
            None => attrs.get(Known::NetPeerPort).and_then(port_text),
        };
        (host, port)
    };
    let mut url = String::with_capacity(64);
    url.push_str(scheme);
    url.push_str("://");
    url.push_str(host.unwrap_or(""));
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        let default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
        if !default_port {
            url.push(':');
            url.push_str(&port);
        }
    }
    match found.target {
        Some(target) => url.push_str(target),
        None => {
            url.push_str(attrs.str(Known::UrlPath).unwrap_or("/"));
            if let Some(query) = attrs.str(Known::UrlQuery) {
                if !query.starts_with('?') {
                    url.push('?');
                }
                url.push_str(query);
            }
        }
    }
    url
}

/// The response body size (`http.response.body.size` or `http.response_content_length`, which
/// the reference does not read: a deliberate improvement), else the received message size from
/// the span's attributes, else from the first event that has it.
fn content_length(attrs: &Attributes<'_>, events: &[Event]) -> i64 {
    if let Some(size) = attrs
        .last_of(Known::HttpResponseBodySize, Known::HttpResponseContentLength)
        .and_then(as_int)
    {
        return size;
    }
    let received = |message_type: Option<&Value>, size: Option<&Value>| match (message_type, size) {
        (Some(Value::String(t)), Some(Value::I64(n))) if t.as_str() == "RECEIVED" => Some(*n),
        _ => None,
    };
    received(
        attrs.get(Known::MessageType),
        attrs.get(Known::MessagingPayloadSize),
    )
    .or_else(|| {
        events.iter().find_map(|event| {
            let get = |name: &str| {
                event
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == name)
                    .map(|kv| &kv.value)
            };
            received(get("message.type"), get("messaging.message_payload_size_bytes"))
        })
    })
    .unwrap_or(0)
}
