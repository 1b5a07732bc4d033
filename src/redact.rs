//! Secrets never leave the process: credentials in URLs and connection strings, and the values
//! of sensitive query parameters, are removed from text before it is written.
//!
//! - A URL's `user:password@` is removed, however the password is written (percent-encoded or
//!   not, with `/`, `?` or `@` in it).
//! - `Password=…`, `Pwd=…` and `Passwd=…` pairs of key-value connection strings (ADO.NET, ODBC,
//!   JDBC properties) keep their key and lose their value.
//! - Query strings follow [`QueryStrings`]: by default the values of the parameters in
//!   [`SENSITIVE_PARAMETERS`] become `REDACTED`.
//!
//! [`text`] finds every URL inside a longer text (an error message, a log line) and treats each.

use std::borrow::Cow;

/// What happens to URL query strings in the documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryStrings {
    /// The values of sensitive parameters (`token`, `api_key`, `Signature`, `X-Amz-Credential`,
    /// ...) become `REDACTED`; the others are kept.
    #[default]
    RedactSensitive,
    /// Query strings are left out of every URL.
    Omit,
    /// Query strings are kept as they are. Credentials in URLs are still removed.
    Keep,
}

/// What replaces a secret.
pub(crate) const REDACTED: &str = "REDACTED";

/// Query parameters whose values are secrets, compared without regard to case: OpenTelemetry's
/// list for signed URLs, the AWS SigV4 query parameters, and common credential names.
pub(crate) const SENSITIVE_PARAMETERS: &[&str] = &[
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "password",
    "passwd",
    "pwd",
    "secret",
    "code",
];

/// Keys of key-value connection strings whose values are secrets.
const SECRET_KEYS: &[&str] = &["password", "pwd", "passwd"];

/// `url` without the `user:password@` part of its authority.
pub(crate) fn without_credentials(url: &str) -> Cow<'_, str> {
    match url.find("://") {
        Some(i) => match userinfo_end(&url[i + 3..]) {
            Some(end) => Cow::Owned(format!("{}{}", &url[..i + 3], &url[i + 3 + end..])),
            None => Cow::Borrowed(url),
        },
        None => Cow::Borrowed(url),
    }
}

/// `url` (absolute, or a path with a query) without credentials, its query string treated as
/// `queries` says.
pub(crate) fn url(url: &str, queries: QueryStrings) -> Cow<'_, str> {
    match without_credentials(url) {
        Cow::Borrowed(url) => query(url, queries),
        Cow::Owned(url) => Cow::Owned(query(&url, queries).into_owned()),
    }
}

/// A query string on its own (`url.query`, without the `?`), treated as `queries` says.
pub(crate) fn query_string(query: &str, queries: QueryStrings) -> Cow<'_, str> {
    match queries {
        QueryStrings::Keep => Cow::Borrowed(query),
        QueryStrings::Omit => Cow::Borrowed(""),
        QueryStrings::RedactSensitive => redact_parameters(query),
    }
}

/// `text` with every URL in it treated by [`url`], every secret pair of a key-value connection
/// string emptied, and, when the whole text is a path with a query, that query treated too.
pub(crate) fn text(text: &str, queries: QueryStrings) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if text.contains("://") {
        out = Cow::Owned(urls_in(text, queries));
    }
    if text.starts_with('/') && text.contains('?') {
        out = Cow::Owned(query(&out, queries).into_owned());
    }
    let values = if out.as_bytes().contains(&b'=') {
        secret_values(&out)
    } else {
        Vec::new()
    };
    if !values.is_empty() {
        out = Cow::Owned(secret_pairs_emptied(&out, &values));
    }
    match out {
        Cow::Owned(owned) if owned == text => Cow::Borrowed(text),
        other => other,
    }
}

/// Where the userinfo of `rest` (what follows `scheme://`) ends, after its `@`; `None` when there
/// is none.
///
/// The authority ends at the first `/`, `?` or `#`; an `@` in it ends the userinfo. Without one,
/// a password holding an unencoded `/`, `?` or `#` still shows: the authority then has a `:`
/// followed by something that is not a port number, and an `@` comes later.
fn userinfo_end(rest: &str) -> Option<usize> {
    let token_end = rest
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let rest = &rest[..token_end];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some(at) = rest[..authority_end].rfind('@') {
        return Some(at + 1);
    }
    let (_, after_colon) = rest[..authority_end].split_once(':')?;
    let is_port = !after_colon.is_empty() && after_colon.bytes().all(|b| b.is_ascii_digit());
    if is_port {
        return None;
    }
    rest[authority_end..].find('@').map(|at| authority_end + at + 1)
}

/// `url` with its query string (between `?` and `#`) treated as `queries` says.
fn query(url: &str, queries: QueryStrings) -> Cow<'_, str> {
    let Some(start) = url.find('?') else {
        return Cow::Borrowed(url);
    };
    let end = url[start..].find('#').map_or(url.len(), |i| start + i);
    let treated = query_string(&url[start + 1..end], queries);
    if matches!(treated, Cow::Borrowed(q) if q.len() == end - start - 1) {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    if !treated.is_empty() {
        out.push('?');
        out.push_str(&treated);
    }
    out.push_str(&url[end..]);
    Cow::Owned(out)
}

/// `name=value&...` with the values of sensitive parameters replaced by [`REDACTED`].
fn redact_parameters(query: &str) -> Cow<'_, str> {
    let sensitive = |pair: &str| {
        pair.split_once('=').is_some_and(|(name, value)| {
            value != REDACTED
                && SENSITIVE_PARAMETERS
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(name.trim()))
        })
    };
    if !query.split(['&', ';']).any(sensitive) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    loop {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let pair = &rest[..end];
        match pair.split_once('=') {
            Some((name, _)) if sensitive(pair) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
        if end == rest.len() {
            break;
        }
        out.push_str(&rest[end..=end]);
        rest = &rest[end + 1..];
    }
    Cow::Owned(out)
}

/// `text` with every `scheme://...` in it (up to a blank, a quote, a parenthesis, a brace or `>`) treated by
/// [`url`].
fn urls_in(text: &str, queries: QueryStrings) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("://") {
        let marker = search + found;
        let start = text[..marker]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = text[marker..]
            .find(|c: char| c.is_whitespace() || "\"'`<>(){}".contains(c))
            .map_or(text.len(), |i| marker + i);
        out.push_str(&text[done..start]);
        out.push_str(&url(&text[start..end], queries));
        done = end;
        search = end.max(marker + 3);
    }
    out.push_str(&text[done..]);
    out
}

/// The secret pairs of `text` (`password=`, `pwd=` or `passwd=`, any case, blanks allowed
/// before `=`), each as where its value starts and ends (at the next `;`), in one pass.
fn secret_values(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    // The word being read, and the last complete word (for `Pwd = x`).
    let (mut word_start, mut last_word) = (0, (0, 0));
    let mut i = 0;
    while i < bytes.len() {
        let (c, width) = match bytes[i] {
            b if b.is_ascii() => (char::from(b), 1),
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c, c.len_utf8())
            }
        };
        if c == '=' {
            let key = if word_start < i {
                (word_start, i)
            } else {
                last_word
            };
            let is_secret = SECRET_KEYS
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&text[key.0..key.1]));
            if is_secret {
                let value_end = text[i + 1..].find(';').map_or(text.len(), |j| i + 1 + j);
                if text[i + 1..value_end].trim() != REDACTED {
                    found.push((i + 1, value_end));
                }
                i = value_end;
                word_start = i;
                last_word = (i, i);
                continue;
            }
            word_start = i + 1;
            last_word = (i + 1, i + 1);
        } else if matches!(c, ';' | '&' | '?') || c.is_whitespace() {
            if word_start < i {
                last_word = (word_start, i);
            }
            if !c.is_whitespace() {
                last_word = (i + width, i + width);
            }
            word_start = i + width;
        }
        i += width;
    }
    found
}

/// `text` with the value of every secret pair replaced by [`REDACTED`].
fn secret_pairs_emptied(text: &str, values: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for &(start, end) in values {
        out.push_str(&text[done..start]);
        out.push_str(REDACTED);
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: QueryStrings = QueryStrings::RedactSensitive;

    #[test]
    fn strips_credentials_from_urls() {
        assert_eq!(
            without_credentials("https://user:secret@api.example.com/x?y=1"),
            "https://api.example.com/x?y=1"
        );
        assert_eq!(
            without_credentials("https://token@api.example.com"),
            "https://api.example.com"
        );
        assert_eq!(
            without_credentials("https://api.example.com/a@b"),
            "https://api.example.com/a@b"
        );
        assert_eq!(
            without_credentials("https://api.example.com:8443/a@b"),
            "https://api.example.com:8443/a@b"
        );
        assert_eq!(without_credentials("/relative"), "/relative");
    }

    #[test]
    fn a_password_written_carelessly_is_still_removed() {
        for (raw, clean) in [
            ("mongodb://u:PASS/WORD@h/db", "mongodb://h/db"),
            ("mongodb://u:PA?SS@h/db", "mongodb://h/db"),
            ("mongodb://u:PA#SS@h/db", "mongodb://h/db"),
            ("postgres://u:p%40ss%2Fx@h:5432/db", "postgres://h:5432/db"),
            ("jdbc:mysql://u:pw@h:3306/db", "jdbc:mysql://h:3306/db"),
        ] {
            assert_eq!(without_credentials(raw), clean, "{raw}");
        }
    }

    #[test]
    fn sensitive_query_values_are_redacted_and_the_rest_kept() {
        assert_eq!(
            url("https://h/p?id=7&token=abc&Signature=xyz#frag", DEFAULT),
            "https://h/p?id=7&token=REDACTED&Signature=REDACTED#frag"
        );
        assert_eq!(url("/p?API_KEY=abc", DEFAULT), "/p?API_KEY=REDACTED");
        assert_eq!(
            url("http://[::1]:8080/p?token=abc", DEFAULT),
            "http://[::1]:8080/p?token=REDACTED"
        );
        assert_eq!(
            text("see http://[::1]:8080/p?token=abc", DEFAULT),
            "see http://[::1]:8080/p?token=REDACTED"
        );
        assert_eq!(url("https://h/p?id=7", DEFAULT), "https://h/p?id=7");
        assert_eq!(
            url("https://h/p?token=abc#x", QueryStrings::Omit),
            "https://h/p#x"
        );
        assert_eq!(
            url("https://u:p@h/p?token=abc", QueryStrings::Keep),
            "https://h/p?token=abc"
        );
        assert_eq!(query_string("a=1&code=xyz", DEFAULT), "a=1&code=REDACTED");
    }

    #[test]
    fn urls_inside_text_and_connection_string_secrets_are_redacted() {
        assert_eq!(
            text(
                "error sending request for url (https://u:pw@h/p?token=abc): refused",
                DEFAULT
            ),
            "error sending request for url (https://h/p?token=REDACTED): refused"
        );
        assert_eq!(
            text("Server=h;Database=d;User Id=u;Password=s3cr3t;Pwd = x", DEFAULT),
            "Server=h;Database=d;User Id=u;Password=REDACTED;Pwd =REDACTED"
        );
        assert_eq!(text("/orders?token=abc", DEFAULT), "/orders?token=REDACTED");
        assert_eq!(
            text("😀://x\u{2028}password=p", DEFAULT),
            "😀://x\u{2028}password=REDACTED"
        );
        assert_eq!(text("a=1 pwd=x", DEFAULT), "a=1 pwd=REDACTED");
        assert!(matches!(text("nothing to see", DEFAULT), Cow::Borrowed(_)));
        assert!(matches!(text("https://h/p?id=1", DEFAULT), Cow::Borrowed(_)));
    }

    #[test]
    fn a_long_text_is_redacted_in_linear_time() {
        // One pass: a megabyte of `a=` pairs would take minutes if each `=` scanned backwards.
        let long = "a=".repeat(500_000);
        let started = std::time::Instant::now();
        assert!(matches!(text(&long, DEFAULT), Cow::Borrowed(_)));
        let planted = format!("{long};password=x");
        assert!(text(&planted, DEFAULT).ends_with(";password=REDACTED"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
