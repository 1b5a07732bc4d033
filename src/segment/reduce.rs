//! Ways to make a document smaller, used by the encoder when a document would not fit in one
//! datagram. Each returns whether it changed anything. Long strings are shortened by the encoder
//! as it writes them (every string of the document, whatever its type), not here.

use super::Segment;

impl Segment<'_> {
    /// Drops all metadata.
    pub(crate) fn drop_metadata(&mut self) -> bool {
        let had = !self.metadata.is_empty();
        self.metadata = Default::default();
        had
    }

    /// Keeps at most `max` stack frames per exception, counting the rest in `truncated`.
    pub(crate) fn limit_stack_frames(&mut self, max: usize) -> bool {
        self.cause.as_mut().is_some_and(|c| c.limit_stack_frames(max))
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
