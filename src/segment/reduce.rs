//! Ways to make a document smaller, used by the encoder when a document would not fit in one
//! datagram. Each returns whether it changed anything.

use std::borrow::Cow;

use super::{AttributeValue, Segment};

impl Segment<'_> {
    /// Drops all metadata.
    pub(crate) fn drop_metadata(&mut self) -> bool {
        let had = !self.metadata.is_empty();
        self.metadata = Default::default();
        had
    }

    /// Keeps at most `max` stack frames per exception, counting the rest in `truncated`.
    pub(crate) fn limit_stack_frames(&mut self, max: usize) -> bool {
        let mut changed = false;
        for exception in self.cause.iter_mut().flat_map(|c| c.exceptions.iter_mut()) {
            if let Some(stack) = exception.stack.as_mut().filter(|s| s.len() > max) {
                *exception.truncated.get_or_insert(0) += stack.len() - max;
                stack.truncate(max);
                changed = true;
            }
        }
        changed
    }

    /// Keeps the first `max` exceptions; a kept exception whose cause was dropped loses the link.
    pub(crate) fn limit_exceptions(&mut self, max: usize) -> bool {
        let Some(cause) = self.cause.as_mut().filter(|c| c.exceptions.len() > max) else {
            return false;
        };
        cause.exceptions.truncate(max);
        let kept: Vec<_> = cause.exceptions.iter().map(|e| e.id).collect();
        for exception in &mut cause.exceptions {
            if exception.cause.is_some_and(|id| !kept.contains(&id)) {
                exception.cause = None;
            }
        }
        true
    }

    /// Cuts every free-text string (name, URL, messages, frames, annotation values, SQL) to at
    /// most `max` bytes, at a character boundary, ending it with `…`.
    pub(crate) fn shorten_strings(&mut self, max: usize) -> bool {
        let mut changed = shorten(&mut self.name, max);
        if let Some(http) = &mut self.http {
            if let Some(url) = &mut http.request.url {
                changed |= shorten(url, max);
            }
        }
        for exception in self.cause.iter_mut().flat_map(|c| c.exceptions.iter_mut()) {
            for text in [&mut exception.message, &mut exception.exception_type]
                .into_iter()
                .flatten()
            {
                changed |= shorten(text, max);
            }
            for frame in exception.stack.iter_mut().flatten() {
                changed |= shorten(&mut frame.path, max);
                changed |= shorten(&mut frame.label, max);
            }
        }
        for (key, value) in &mut self.annotations.0 {
            changed |= shorten(key, max);
            if let AttributeValue::Str(text) = value {
                changed |= shorten(text, max);
            }
        }
        if let Some(sql) = &mut self.sql {
            for text in [&mut sql.sanitized_query, &mut sql.connection_string]
                .into_iter()
                .flatten()
            {
                changed |= shorten(text, max);
            }
        }
        changed
    }

    /// Drops the `http`, `aws`, `sql`, `service` and `user` details.
    pub(crate) fn drop_details(&mut self) -> bool {
        let had = self.http.is_some() || self.aws.is_some() || self.sql.is_some();
        self.http = None;
        self.aws = None;
        self.sql = None;
        self.service = None;
        self.user = None;
        had
    }

    /// Drops annotations and links.
    pub(crate) fn drop_annotations_and_links(&mut self) -> bool {
        let had = !self.annotations.is_empty() || !self.links.is_empty();
        self.annotations.0.clear();
        self.links.clear();
        had
    }
}

const ELLIPSIS: &str = "…";

fn shorten(text: &mut Cow<'_, str>, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let keep = max.saturating_sub(ELLIPSIS.len());
    let cut = (0..=keep).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let mut short = String::with_capacity(cut + ELLIPSIS.len());
    short.push_str(&text[..cut]);
    short.push_str(ELLIPSIS);
    *text = Cow::Owned(short);
    true
}
