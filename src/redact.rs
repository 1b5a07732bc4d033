//! Credentials never leave the process: `user:password@` is removed from every recorded URL.

use std::borrow::Cow;

/// `url` without the `user:password@` part of its authority.
pub(crate) fn without_credentials(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &url[..scheme_end], &url[scheme_end + at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

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
        assert_eq!(without_credentials("/relative"), "/relative");
    }
}
