//! The last word before a document is written: no credential or secret query value in any text
//! of it, wherever the translation put it (URLs, names, messages, the `sql` block,
//! annotations, metadata, link attributes), no value of an attribute named for a secret
//! (`password`, `token`, `authorization`, ...), and no SQL statement when statements are off.

use std::borrow::Cow;

use crate::redact::{self, QueryStrings};
use crate::segment::{AttributeValue, Pairs, Segment};

/// Attribute keys that hold a statement's text.
const STATEMENT_KEYS: &[&str] = &["db.statement", "db.query.text"];

/// Attribute keys whose value is a query string without its `?`.
const QUERY_KEYS: &[&str] = &["url.query"];

/// Last parts of attribute keys (after the last `.`, any case, `-` read as `_`) whose values are
/// secrets: `password = %pw` in a span, or a captured `http.request.header.authorization`.
const SECRET_KEY_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "authorization",
    "proxy_authorization",
    "cookie",
    "set_cookie",
    "private_key",
    "x_api_key",
];

/// Whether the values of attribute `key` are secrets.
fn is_secret_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    SECRET_KEY_NAMES.iter().any(|name| {
        name.len() == last.len()
            && name
                .bytes()
                .zip(last.bytes())
                .all(|(n, l)| n == l.to_ascii_lowercase() || (n == b'_' && l == b'-'))
    })
}

/// What the privacy pass does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Privacy {
    /// What happens to query strings.
    pub(crate) query_strings: QueryStrings,
    /// SQL statements (`db.statement`, `db.query.text`) are left out.
    pub(crate) omit_statements: bool,
}

/// Applies `privacy` to every text of `segment`.
pub(super) fn apply(segment: &mut Segment<'_>, privacy: Privacy) {
    let queries = privacy.query_strings;
    let clean = |text: &mut Cow<'_, str>| {
        if let Cow::Owned(redacted) = redact::text(text, queries) {
            *text = Cow::Owned(redacted);
        }
    };
    clean(&mut segment.name);
    if let Some(url) = segment.http.as_mut().and_then(|h| h.request.url.as_mut()) {
        // One URL from end to end (an IPv6 host, brackets in the path), absolute or a path.
        if let Cow::Owned(redacted) = redact::url(url, queries) {
            *url = Cow::Owned(redacted);
        }
    }
    for exception in segment.cause.iter_mut().flat_map(|c| c.exceptions.iter_mut()) {
        for text in [&mut exception.message, &mut exception.exception_type]
            .into_iter()
            .flatten()
        {
            clean(text);
        }
    }
    if let Some(sql) = &mut segment.sql {
        if privacy.omit_statements {
            sql.sanitized_query = None;
        }
        for text in [&mut sql.url, &mut sql.connection_string, &mut sql.sanitized_query]
            .into_iter()
            .flatten()
        {
            clean(text);
        }
    }
    pairs(&mut segment.annotations, privacy);
    pairs(&mut segment.metadata.default, privacy);
    for (_, value) in &mut segment.metadata.namespaces {
        json(value, queries);
    }
    for link in &mut segment.links {
        pairs(&mut link.attributes, privacy);
    }
}

/// Every value of `pairs`, statements removed when asked.
fn pairs(pairs: &mut Pairs<'_>, privacy: Privacy) {
    if privacy.omit_statements {
        pairs.0.retain(|(key, _)| !STATEMENT_KEYS.contains(&key.as_ref()));
    }
    for (key, value) in &mut pairs.0 {
        if is_secret_key(key) {
            *value = AttributeValue::Str(Cow::Borrowed(redact::REDACTED));
            continue;
        }
        if QUERY_KEYS.contains(&key.as_ref()) {
            if let AttributeValue::Str(text) = value {
                if let Cow::Owned(redacted) = redact::query_string(text, privacy.query_strings) {
                    *text = Cow::Owned(redacted);
                }
            }
        }
        attribute(value, privacy.query_strings);
    }
}

/// One value: a string, the strings of an array, or the strings inside JSON.
fn attribute(value: &mut AttributeValue<'_>, queries: QueryStrings) {
    match value {
        AttributeValue::Str(text) => {
            if let Cow::Owned(redacted) = redact::text(text, queries) {
                *text = Cow::Owned(redacted);
            }
        }
        AttributeValue::Strs(items) => {
            if items
                .iter()
                .any(|item| matches!(redact::text(item, queries), Cow::Owned(_)))
            {
                let items = items
                    .iter()
                    .map(|item| serde_json::Value::String(redact::text(item, queries).into_owned()))
                    .collect();
                *value = AttributeValue::Json(serde_json::Value::Array(items));
            }
        }
        AttributeValue::Json(json_value) => json(json_value, queries),
        AttributeValue::Bool(_)
        | AttributeValue::Int(_)
        | AttributeValue::Float(_)
        | AttributeValue::Bools(_)
        | AttributeValue::Ints(_)
        | AttributeValue::Floats(_) => {}
    }
}

/// Every string inside `value`, keys included.
fn json(value: &mut serde_json::Value, queries: QueryStrings) {
    match value {
        serde_json::Value::String(text) => {
            if let Cow::Owned(redacted) = redact::text(text, queries) {
                *text = redacted;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| json(item, queries)),
        serde_json::Value::Object(members) => {
            let needs_rename = members
                .keys()
                .any(|key| matches!(redact::text(key, queries), Cow::Owned(_)));
            if needs_rename {
                let taken = std::mem::take(members);
                for (key, member) in taken {
                    members.insert(redact::text(&key, queries).into_owned(), member);
                }
            }
            for (key, member) in members.iter_mut() {
                if is_secret_key(key) {
                    *member = serde_json::Value::String(redact::REDACTED.to_owned());
                } else {
                    json(member, queries);
                }
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}
