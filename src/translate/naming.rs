//! The document's name (the reference's precedence of attributes) and namespace.

use std::borrow::Cow;

use opentelemetry::trace::SpanKind;

use super::attributes::{Attributes, Known};
use crate::redact::without_credentials;
use crate::segment::Namespace;

/// The name of a document and whether it came from the legacy `aws.service` attribute.
pub(super) struct Naming<'a> {
    pub(super) name: Cow<'a, str>,
    pub(super) from_aws_service: bool,
}

/// Whether the span was made by an AWS SDK instrumentation (`rpc.system = aws-api`).
pub(super) fn is_aws_sdk(attrs: &Attributes<'_>) -> bool {
    attrs.str(Known::RpcSystem) == Some("aws-api")
}

/// Strips the `AWS.SDK.` or `AWS::` prefix that AWS SDK instrumentations put on service names.
pub(super) fn trim_aws_sdk_prefix(name: &str) -> &str {
    name.strip_prefix("AWS.SDK.")
        .or_else(|| name.strip_prefix("AWS::"))
        .unwrap_or(name)
}

/// The name, by the reference's precedence (`limits` then brings it within X-Ray's rules).
pub(super) fn name<'a>(
    attrs: &Attributes<'a>,
    span_name: &'a str,
    kind: &SpanKind,
    local_root: bool,
    service_name: Option<&'a str>,
) -> Naming<'a> {
    let mut name: Cow<'a, str> = Cow::Borrowed("");
    let serves = matches!(kind, SpanKind::Server) || (matches!(kind, SpanKind::Consumer) && local_root);
    if serves || (matches!(kind, SpanKind::Internal) && local_root) {
        if let Some(local) = attrs.str(Known::AwsLocalService) {
            name = Cow::Borrowed(local);
        }
    }
    if matches!(kind, SpanKind::Client | SpanKind::Producer | SpanKind::Consumer) {
        if let Some(remote) = attrs.str(Known::AwsRemoteService) {
            name = Cow::Borrowed(if is_aws_sdk(attrs) {
                trim_aws_sdk_prefix(remote)
            } else {
                remote
            });
        }
    }
    fill(&mut name, || attrs.str(Known::PeerService).map(Cow::Borrowed));
    let from_aws_service =
        fill(&mut name, || attrs.str(Known::AwsService).map(Cow::Borrowed)) && !name.is_empty();
    fill(&mut name, || database_name(attrs));
    fill(&mut name, || service_name.filter(|_| serves).map(Cow::Borrowed));
    fill(&mut name, || attrs.str(Known::RpcService).map(Cow::Borrowed));
    fill(&mut name, || attrs.str(Known::HttpHost).map(Cow::Borrowed));
    fill(&mut name, || attrs.str(Known::NetPeerName).map(Cow::Borrowed));
    if name.is_empty() {
        // Sanitised with every other name, in `limits`.
        name = Cow::Borrowed(span_name);
    }
    Naming {
        name,
        from_aws_service,
    }
}

/// Sets `name` from `value` if `name` is still empty; true when it did.
fn fill<'a>(name: &mut Cow<'a, str>, value: impl FnOnce() -> Option<Cow<'a, str>>) -> bool {
    if !name.is_empty() {
        return false;
    }
    match value() {
        Some(value) => {
            *name = value;
            true
        }
        None => false,
    }
}

/// `db.name`, plus `@host` when `db.connection_string` (without `jdbc:`) is a URL with a host.
fn database_name<'a>(attrs: &Attributes<'a>) -> Option<Cow<'a, str>> {
    let db_name = attrs.str(Known::DbName)?;
    let host = attrs
        .str(Known::DbConnectionString)
        .map(|conn| without_credentials(conn.strip_prefix("jdbc:").unwrap_or(conn)))
        .and_then(|conn| url_host(&conn).map(str::to_owned));
    Some(match host {
        Some(host) => Cow::Owned(format!("{db_name}@{host}")),
        None => Cow::Borrowed(db_name),
    })
}

/// The host of `scheme://[user@]host[:port][/...]`, without brackets; `None` when there is none.
fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    (!host.is_empty()).then_some(host)
}

/// `aws` for AWS SDK calls, `remote` for other outgoing calls, else none.
pub(super) fn namespace(
    attrs: &Attributes<'_>,
    kind: &SpanKind,
    from_aws_service: bool,
) -> Option<Namespace> {
    if is_aws_sdk(attrs) || from_aws_service {
        Some(Namespace::Aws)
    } else if matches!(kind, SpanKind::Client | SpanKind::Producer) {
        Some(Namespace::Remote)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_database_hosts() {
        assert_eq!(
            url_host("mysql://db.dev.example.com:3306"),
            Some("db.dev.example.com")
        );
        assert_eq!(url_host("postgresql://u:p@[::1]:5432/x"), Some("::1"));
        assert_eq!(url_host("h2:mem:"), None);
    }
}
