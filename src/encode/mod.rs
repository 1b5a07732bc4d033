//! Segment → datagram bytes: the daemon header, a newline, one compact JSON document, never more
//! than [`MAX_DATAGRAM_BYTES`]. serde_json writes the document into one buffer that the encoder
//! reuses for every datagram, behind the header it keeps there.
//!
//! A document that does not fit is reduced, in this order, until it fits: metadata is dropped;
//! strings longer than 4,096 bytes are shortened; stack frames are cut (each exception's
//! `truncated` counts what was left out); exceptions past the first few are dropped; strings are
//! shortened further (1,024, then 200 bytes); annotations and links are dropped; the `http`,
//! `aws`, `sql`, `service` and `user` details are dropped. A shortened string is every string of
//! the document, keys included, whatever field holds it (a user agent as much as a URL, a
//! statement or an annotation value): its longest prefix within the length less three bytes
//! that ends at a character boundary, then `…`. A reduced document carries the annotation
//! `xray_bridge_reduced = true` (searchable in the X-Ray console) and the metadata namespace
//! `xray_bridge` listing the steps (`reduced`) and the original size (`original_bytes`). A
//! document that still does not fit is not sent, and the caller counts it.
//!
//! The work is bounded whatever the span holds. Translation never materialises more stack frames
//! or exceptions than a datagram could hold ([`crate::segment::LeftOut`]): past that the
//! reduction's `stack_frames` steps (or its `exceptions` step) are certain, and translation takes
//! them as it parses, counting the frames in `truncated`; the encoder replays the steps from
//! there, and the document sent is the one the whole span would have been reduced to. The buffer
//! never holds more than one datagram: the first attempt counts what lies past the limit without
//! storing it, later attempts stop at the limit. `original_bytes` is exact, except when
//! translation left something out: it is then a lower bound (each left-out frame and exception
//! counted at its smallest size) and the marker says so with `original_bytes_at_least: true`.

use std::borrow::Cow;
use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

#[cfg(test)]
mod bounded;
#[cfg(test)]
mod property;

use crate::segment::{AttributeValue, Segment, MAX_DATAGRAM_BYTES, STACK_FRAME_LIMITS};

/// The daemon protocol header, with the newline that ends it.
pub(crate) const DAEMON_HEADER: &[u8] = b"{\"format\":\"json\",\"version\":1}\n";

/// Annotation set on every reduced document.
pub(crate) const REDUCED_ANNOTATION: &str = "xray_bridge_reduced";
/// Metadata namespace describing a reduction.
pub(crate) const REDUCED_METADATA_NAMESPACE: &str = "xray_bridge";

/// The text that ends a shortened string.
pub(crate) const ELLIPSIS: &str = "\u{2026}";

/// A reduction step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Drop all metadata.
    Metadata,
    /// Write every string longer than this many bytes shortened to it, ending in [`ELLIPSIS`].
    Strings(usize),
    /// Keep at most this many stack frames per exception, counting the rest in `truncated`.
    StackFrames(usize),
    /// Keep the first this many exceptions.
    Exceptions(usize),
    /// Drop annotations and links.
    AnnotationsAndLinks,
    /// Drop the `http`, `aws`, `sql`, `service` and `user` details.
    Details,
}

impl Step {
    /// The step's name, as listed in the marker.
    fn name(self) -> &'static str {
        match self {
            Step::Metadata => "metadata",
            Step::Strings(_) => "strings",
            Step::StackFrames(_) => "stack_frames",
            Step::Exceptions(_) => "exceptions",
            Step::AnnotationsAndLinks => "annotations_and_links",
            Step::Details => "details",
        }
    }
}

/// The reduction, in order. Strings longer than 4 kB are shortened before any stack frame,
/// exception or block goes: a document that is too large because of one long user agent, URL,
/// statement or message keeps everything else.
const STEPS: &[Step] = &[
    Step::Metadata,
    Step::Strings(4096),
    Step::StackFrames(STACK_FRAME_LIMITS[0]),
    Step::StackFrames(STACK_FRAME_LIMITS[1]),
    Step::StackFrames(STACK_FRAME_LIMITS[2]),
    Step::Exceptions(16),
    Step::Exceptions(1),
    Step::Strings(1024),
    Step::Strings(200),
    Step::AnnotationsAndLinks,
    Step::Details,
];

/// How a document was encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoded {
    /// As translated.
    Whole,
    /// Reduced to fit (and marked).
    Reduced,
}

/// The document cannot be made to fit in one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Writes documents into one reused buffer that already holds the daemon header.
#[derive(Debug)]
pub(crate) struct Encoder {
    buffer: Vec<u8>,
    limit: usize,
    /// Strings longer than this are written shortened (set by the `strings` steps).
    strings: Option<usize>,
    /// Bytes serialised (written, counted or checked) by the last [`Encoder::encode`].
    #[cfg_attr(not(test), allow(dead_code))]
    serialised: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::with_limit(MAX_DATAGRAM_BYTES)
    }
}

impl Encoder {
    /// An encoder whose datagrams never exceed `limit` bytes.
    pub(crate) fn with_limit(limit: usize) -> Self {
        let mut buffer = Vec::with_capacity(4096);
        buffer.extend_from_slice(DAEMON_HEADER);
        Encoder {
            buffer,
            limit,
            strings: None,
            serialised: 0,
        }
    }

    /// The datagram for `segment`, reducing it first when it does not fit.
    ///
    /// Work and memory are bounded: the buffer never holds more than the limit (a larger
    /// document is counted, not stored, to learn its size), every later attempt stops at the
    /// limit, and the steps translation already took ([`crate::segment::LeftOut`]) are replayed
    /// without writing the documents they could not fit in.
    pub(crate) fn encode(&mut self, segment: &mut Segment<'_>) -> Result<(&[u8], Encoded), TooLarge> {
        self.serialised = 0;
        self.strings = None;
        let left_out = segment.cause.as_ref().map(|c| c.left_out).unwrap_or_default();
        let (fits, mut original_bytes) = self.write(segment, true);
        if fits && left_out.is_none() {
            return Ok((&self.buffer, Encoded::Whole));
        }
        if let Some(cause) = segment.cause.as_ref().filter(|_| !left_out.is_none()) {
            // What translation left out could not have fitted in a datagram.
            original_bytes = (original_bytes + left_out.bytes_at_least(cause)).max(MAX_DATAGRAM_BYTES + 1);
        }
        // Translation already cut the stacks to this step's limit: no document before it fits.
        let done_by_translation = left_out
            .frames_limit
            .and_then(|limit| STEPS.iter().position(|s| *s == Step::StackFrames(limit)));
        let mut applied: Vec<&'static str> = Vec::new();
        for (index, step) in STEPS.iter().enumerate() {
            let done = done_by_translation.is_some_and(|last| index <= last);
            let changed = self.apply(*step, segment);
            if !(changed || done && matches!(step, Step::StackFrames(_))) {
                continue;
            }
            if applied.last() != Some(&step.name()) {
                applied.push(step.name());
            }
            if done_by_translation.is_some_and(|last| index < last) {
                continue;
            }
            mark(segment, &applied, original_bytes, left_out.is_none());
            if self.write(segment, false).0 {
                return Ok((&self.buffer, Encoded::Reduced));
            }
        }
        Err(TooLarge)
    }

    /// The last datagram [`Encoder::encode`] returned.
    pub(crate) fn last(&self) -> &[u8] {
        &self.buffer
    }

    /// Bytes the last [`Encoder::encode`] serialised, in all its passes.
    #[cfg(test)]
    pub(crate) fn serialised(&self) -> usize {
        self.serialised
    }

    /// `segment` as the last [`Encoder::encode`] wrote it, without the header and the limit.
    #[cfg(test)]
    pub(crate) fn as_sent(&self, segment: &Segment<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        match self.strings {
            None => serde_json::to_writer(&mut out, segment),
            Some(max) => segment.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                Shorten::new(max),
            )),
        }
        .expect("a document serialises");
        out
    }

    /// Applies `step`; true when it changed the document.
    fn apply(&mut self, step: Step, segment: &mut Segment<'_>) -> bool {
        match step {
            Step::Metadata => segment.drop_metadata(),
            Step::Strings(max) => {
                if self.strings.is_some_and(|current| current <= max) {
                    return false;
                }
                let mut counter = Counter(0);
                let longer = has_longer_string(segment, max, &mut counter);
                self.serialised += counter.0;
                if longer {
                    self.strings = Some(max);
                }
                longer
            }
            Step::StackFrames(max) => segment.limit_stack_frames(max),
            Step::Exceptions(max) => segment.limit_exceptions(max),
            Step::AnnotationsAndLinks => segment.drop_annotations_and_links(),
            Step::Details => segment.drop_details(),
        }
    }

    /// Writes header + document, strings shortened when a `strings` step says so. True when
    /// the result is within the limit and valid; with `count`, also the size the whole datagram
    /// has (counted past the limit, not stored), else that size as far as it was written.
    fn write(&mut self, segment: &Segment<'_>, count: bool) -> (bool, usize) {
        self.buffer.truncate(DAEMON_HEADER.len());
        let mut out = Capped {
            total: self.buffer.len(),
            buffer: &mut self.buffer,
            limit: self.limit,
            count,
            over: false,
        };
        let written = match self.strings {
            None => serde_json::to_writer(&mut out, segment),
            Some(max) => segment.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                Shorten::new(max),
            )),
        };
        let (total, over) = (out.total, out.over);
        self.serialised += total - DAEMON_HEADER.len();
        (written.is_ok() && !over, total)
    }
}

/// The encoder's buffer, never filled past `limit`: past it, writing fails, or with `count`,
/// the bytes are only counted.
struct Capped<'b> {
    buffer: &'b mut Vec<u8>,
    limit: usize,
    count: bool,
    /// Bytes written or counted, the header included.
    total: usize,
    /// Something did not fit.
    over: bool,
}

impl io::Write for Capped<'_> {
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.write(data).map(|_| ())
    }

    #[inline]
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.total += data.len();
        if !self.over && self.buffer.len() + data.len() <= self.limit {
            self.buffer.extend_from_slice(data);
        } else if self.count {
            self.over = true;
        } else {
            self.over = true;
            return Err(io::ErrorKind::WriteZero.into());
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts what is written to it.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0 += data.len();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether `segment` holds a string (value or key, anywhere) longer than `max` bytes. Stops at
/// the first one.
fn has_longer_string(segment: &Segment<'_>, max: usize, out: &mut Counter) -> bool {
    let mut finder = Longest {
        max,
        length: 0,
        found: false,
        in_key: false,
    };
    let _ = segment.serialize(&mut serde_json::Serializer::with_formatter(out, &mut finder));
    finder.found
}

/// A JSON formatter that fails at the first string value longer than `max` bytes (keys are
/// never shortened, see [`Shorten`]).
struct Longest {
    max: usize,
    length: usize,
    found: bool,
    in_key: bool,
}

impl Longest {
    fn add(&mut self, bytes: usize) -> io::Result<()> {
        if self.in_key {
            return Ok(());
        }
        self.length += bytes;
        if self.length > self.max {
            self.found = true;
            return Err(io::ErrorKind::Other.into());
        }
        Ok(())
    }
}

impl Formatter for &mut Longest {
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.in_key = true;
        CompactFormatter.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.length = 0;
        writer.write_all(b"\"")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, _: &mut W, fragment: &str) -> io::Result<()> {
        self.add(fragment.len())
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, _: &mut W, _: CharEscape) -> io::Result<()> {
        self.add(1)
    }
}

/// A JSON formatter that writes every string value longer than `max` bytes as its longest
/// prefix of at most `max - 3` bytes that ends at a character boundary, followed by
/// [`ELLIPSIS`] (so at most `max` bytes before escaping). Strings of at most `max` bytes are
/// written whole, and so are object keys: an annotation key must keep X-Ray's character set
/// (no `…`), and every key is either bounded (annotation keys: 500 characters) or in a part an
/// earlier or later step drops (metadata, link attributes).
struct Shorten {
    max: usize,
    /// `max` less the ellipsis: what a shortened string keeps.
    keep: usize,
    /// Bytes of the current string seen so far.
    used: usize,
    /// The escaped bytes past the last character that ends within `keep`, held until the
    /// string turns out to fit in `max` whole (then written) or not (then dropped).
    held: Vec<u8>,
    /// The current string is longer than `max`.
    over: bool,
    /// An object key is being written: it is written whole.
    in_key: bool,
}

impl Shorten {
    fn new(max: usize) -> Self {
        Shorten {
            max,
            keep: max.saturating_sub(ELLIPSIS.len()),
            used: 0,
            held: Vec::new(),
            over: false,
            in_key: false,
        }
    }

    /// Holds `escaped`, the form of `bytes` bytes of the string past `keep`.
    fn hold(&mut self, escaped: &[u8], bytes: usize) {
        if self.used + bytes > self.max {
            self.over = true;
            self.held.clear();
        } else {
            self.held.extend_from_slice(escaped);
            self.used += bytes;
        }
    }
}

impl Formatter for Shorten {
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.in_key = true;
        CompactFormatter.begin_object_key(writer, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.used = 0;
        self.held.clear();
        self.over = false;
        writer.write_all(b"\"")
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.over {
            writer.write_all(ELLIPSIS.as_bytes())?;
        } else {
            writer.write_all(&self.held)?;
        }
        writer.write_all(b"\"")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.in_key {
            return writer.write_all(fragment.as_bytes());
        }
        if self.over || fragment.is_empty() {
            return Ok(());
        }
        let room = self.keep.saturating_sub(self.used);
        let direct = if fragment.len() <= room {
            fragment.len()
        } else {
            (0..=room)
                .rev()
                .find(|i| fragment.is_char_boundary(*i))
                .unwrap_or(0)
        };
        let (now, rest) = fragment.split_at(direct);
        writer.write_all(now.as_bytes())?;
        self.used += direct;
        if !rest.is_empty() {
            self.hold(rest.as_bytes(), rest.len());
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.in_key {
            return CompactFormatter.write_char_escape(writer, escape);
        }
        if self.over {
            return Ok(());
        }
        if self.used < self.keep {
            self.used += 1;
            return CompactFormatter.write_char_escape(writer, escape);
        }
        let mut escaped = Vec::with_capacity(6);
        CompactFormatter.write_char_escape(&mut escaped, escape)?;
        self.hold(&escaped, 1);
        Ok(())
    }
}

/// Records on the document that it was reduced, by which steps, and from what size (a lower
/// bound when translation had already left out what could not be sent).
fn mark(segment: &mut Segment<'_>, steps: &[&'static str], original_bytes: usize, exact: bool) {
    segment
        .annotations
        .insert(Cow::Borrowed(REDUCED_ANNOTATION), AttributeValue::Bool(true));
    let mut marker = serde_json::json!({ "reduced": steps, "original_bytes": original_bytes });
    if !exact {
        marker["original_bytes_at_least"] = serde_json::Value::Bool(true);
    }
    let namespaces = &mut segment.metadata.namespaces;
    match namespaces
        .iter_mut()
        .find(|(name, _)| name == REDUCED_METADATA_NAMESPACE)
    {
        Some(entry) => entry.1 = marker,
        None => namespaces.push((Cow::Borrowed(REDUCED_METADATA_NAMESPACE), marker)),
    }
}
