//! Parses `exception.stacktrace` text into X-Ray stack frames and chained causes, following the
//! rules of AWS's collector exporter (`awsxrayexporter`, `cause.go`), plus Rust backtraces.

use std::borrow::Cow;

use crate::segment::StackFrame;

/// The stack-trace grammar, chosen by the resource attribute `telemetry.sdk.language`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StackLanguage {
    /// Java and PHP: `\tat label(path:line)` frames, `Caused by:` chains.
    Java,
    /// Python tracebacks, read bottom-up, with `During handling ...` chains.
    Python,
    /// V8 stacks: `    at label (path:line:column)`.
    JavaScript,
    /// .NET: `at label in path:line N`.
    DotNet,
    /// Go goroutine dumps: a call line, then a `path:line` line.
    Go,
    /// `std::backtrace::Backtrace` Display text.
    Rust,
}

impl StackLanguage {
    /// From the resource attribute `telemetry.sdk.language`, matched exactly.
    pub(crate) fn from_sdk_language(language: &str) -> Option<StackLanguage> {
        match language {
            "java" | "php" => Some(StackLanguage::Java),
            "python" => Some(StackLanguage::Python),
            // The reference pinned by the golden vectors leaves `nodejs` (what OpenTelemetry JS
            // reports) unparsed, its issue #45356; newer upstream builds parse `nodejs` and
            // `webjs` as JavaScript, and so does this crate.
            "javascript" | "nodejs" | "webjs" => Some(StackLanguage::JavaScript),
            "dotnet" => Some(StackLanguage::DotNet),
            "go" => Some(StackLanguage::Go),
            // Differs from the reference, which has no Rust parser.
            "rust" => Some(StackLanguage::Rust),
            _ => None,
        }
    }
}

/// One exception found in a stack trace.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParsedException<'a> {
    /// For chained causes: the type and message parsed from the text. For the first entry: both
    /// empty (the event's own exception.type / exception.message win).
    pub exception_type: Cow<'a, str>,
    /// The message parsed from the text (empty for the first entry).
    pub message: Cow<'a, str>,
    /// Frames; None when no frame was found for this exception (the reference then leaves
    /// `stack` absent).
    pub stack: Option<Vec<StackFrame<'a>>>,
    /// Frames found but not kept, past [`Budget::per_exception`] or [`Budget::frames`].
    pub truncated: usize,
}

/// What one parse may materialise. Frames past a limit are counted in `truncated` (the stack is
/// then present, maybe empty), exceptions past the limit are left out with their frames; the
/// text is read to its end either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Frames kept per exception.
    pub per_exception: usize,
    /// Frames kept in all; the first frame past it (within `per_exception`) sets `frames_exceeded`.
    pub frames: usize,
    /// Exceptions kept in all, the first entry included.
    pub exceptions: usize,
    /// A frame was counted rather than kept because `frames` ran out.
    pub frames_exceeded: bool,
    /// Exceptions left out because `exceptions` ran out.
    pub exceptions_left_out: usize,
}

impl Budget {
    /// No limit.
    pub(crate) const UNLIMITED: Budget = Budget {
        per_exception: usize::MAX,
        frames: usize::MAX,
        exceptions: usize::MAX,
        frames_exceeded: false,
        exceptions_left_out: 0,
    };
}

/// The exceptions of one parse and what it may still materialise.
struct Parsed<'a> {
    exceptions: Vec<ParsedException<'a>>,
    budget: Budget,
    /// An exception was left out: its frames (and anything after it) are not attributed.
    discarding: bool,
}

impl<'a> Parsed<'a> {
    /// Starts a chained cause, unless the exception budget has run out.
    fn push(&mut self, exception: ParsedException<'a>) {
        if self.discarding || self.exceptions.len() >= self.budget.exceptions {
            self.budget.exceptions_left_out += 1;
            self.discarding = true;
        } else {
            self.exceptions.push(exception);
        }
    }
}

/// Parses `text`. Always returns at least one entry: entry 0 carries the frames of the event's own
/// exception; each later entry is a chained cause of the entry before it (Java "Caused by:", Python
/// "During handling of the above exception, another exception occurred:"), in the order the
/// reference produces them.
#[cfg(test)]
pub(crate) fn parse(language: StackLanguage, text: &str) -> Vec<ParsedException<'_>> {
    let mut budget = Budget::UNLIMITED;
    parse_bounded(language, text, &mut budget)
}

/// [`parse`] materialising no more than `budget` allows, and recording in it what ran out.
pub(crate) fn parse_bounded<'a>(
    language: StackLanguage,
    text: &'a str,
    budget: &mut Budget,
) -> Vec<ParsedException<'a>> {
    let mut out = Parsed {
        exceptions: vec![exception("", Cow::Borrowed(""))],
        budget: *budget,
        discarding: false,
    };
    match language {
        StackLanguage::Java => java(text, &mut out),
        StackLanguage::Python => python(text, &mut out),
        StackLanguage::JavaScript => javascript(text, &mut out),
        StackLanguage::DotNet => dotnet(text, &mut out),
        StackLanguage::Go => go(text, &mut out),
        StackLanguage::Rust => rust(text, &mut out),
    }
    *budget = out.budget;
    out.exceptions
}

/// An exception with no frames yet.
fn exception<'a>(exception_type: impl Into<Cow<'a, str>>, message: Cow<'a, str>) -> ParsedException<'a> {
    ParsedException {
        exception_type: exception_type.into(),
        message,
        stack: None,
        truncated: 0,
    }
}

/// A stack frame.
fn frame<'a>(path: impl Into<Cow<'a, str>>, line: i64, label: &'a str) -> StackFrame<'a> {
    StackFrame {
        path: path.into(),
        line,
        label: Cow::Borrowed(label),
    }
}

/// Appends `frame` to the newest exception, creating its stack on the first frame; past the
/// budget, counts it instead.
fn push_frame<'a>(out: &mut Parsed<'a>, frame: StackFrame<'a>) {
    if out.discarding {
        return;
    }
    let Some(last) = out.exceptions.last_mut() else {
        return;
    };
    let stack = last.stack.get_or_insert_with(Vec::new);
    if stack.len() >= out.budget.per_exception {
        last.truncated += 1;
    } else if out.budget.frames == 0 {
        out.budget.frames_exceeded = true;
        last.truncated += 1;
    } else {
        out.budget.frames -= 1;
        stack.push(frame);
    }
}

/// Lines as Go's `textproto.Reader.ReadLine` returns them: split on `\n`, a `\r` dropped only
/// right before a `\n`, and no empty last line after a final `\n`.
fn reader_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n').map(|l| {
        l.strip_suffix('\n')
            .map_or(l, |l| l.strip_suffix('\r').unwrap_or(l))
    })
}

/// Go's `strconv.Atoi` with its error ignored: an optional sign and ASCII digits, anything else 0;
/// out-of-range values clamp to the `i64` limits, as Go returns them alongside `ErrRange`.
fn atoi(s: &str) -> i64 {
    let (negative, digits) = match s.as_bytes().split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s.as_bytes()),
    };
    let limit = if negative { i64::MIN } else { i64::MAX };
    if digits.is_empty() {
        return 0;
    }
    let mut value: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return 0;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            // Go stops at the first overflow, before looking at any later byte.
            None => return limit,
        }
    }
    let value = i128::from(value);
    i64::try_from(if negative { -value } else { value }).unwrap_or(limit)
}

/// `s[start..end]` by bytes, as Go slices strings. A char cut at either end leaves bytes that Go's
/// JSON encoder writes as one U+FFFD each, so they become U+FFFD here; bounds are clamped.
fn byte_slice(s: &str, start: usize, end: usize) -> Cow<'_, str> {
    let end = end.min(s.len());
    let start = start.min(end);
    if let Some(exact) = s.get(start..end) {
        return Cow::Borrowed(exact);
    }
    let (mut first, mut last) = (start, end);
    while !s.is_char_boundary(first) {
        first += 1;
    }
    while !s.is_char_boundary(last) {
        last -= 1;
    }
    if first > last {
        return Cow::Owned("\u{FFFD}".repeat(end - start));
    }
    let mut out = "\u{FFFD}".repeat(first - start);
    out.push_str(s.get(first..last).unwrap_or(""));
    out.push_str(&"\u{FFFD}".repeat(end - last));
    Cow::Owned(out)
}

/// Splits `type: message` at the first `:`, skipping the byte after it (meant to be a space) as
/// the reference does. None without a colon.
fn colon_split(s: &str) -> Option<(&str, Cow<'_, str>)> {
    let colon = s.find(':')?;
    // Differs from the reference, which panics when the colon is the last character: the clamp in
    // `byte_slice` makes the message "".
    Some((s.get(..colon).unwrap_or(""), byte_slice(s, colon + 2, s.len())))
}

/// Java and PHP: skip the header; `\tat label(path:line)` frames; `Caused by: type: message`
/// starts a chained cause whose message runs on (joined with no separator) to the next frame.
fn java<'a>(text: &'a str, out: &mut Parsed<'a>) {
    let mut lines = reader_lines(text).skip(1).peekable();
    while let Some(line) = lines.next() {
        if let Some(frame) = java_frame(line) {
            push_frame(out, frame);
        } else if let Some(rest) = line.strip_prefix("Caused by: ") {
            let (cause_type, mut message) = colon_split(rest).unwrap_or((rest, Cow::Borrowed("")));
            while let Some(more) = lines.next_if(|l| java_frame(l).is_none()) {
                if !more.is_empty() {
                    message.to_mut().push_str(more);
                }
            }
            out.push(exception(cause_type, message));
        }
        // Anything else (`... N more`, `Suppressed:` blocks, malformed frames) is ignored.
    }
}

/// A well-formed Java frame: `\tat label(location)` with the line ending in `)`.
fn java_frame(line: &str) -> Option<StackFrame<'_>> {
    let (label, location) = line.strip_prefix("\tat ")?.strip_suffix(')')?.split_once('(')?;
    // Drop a class-loader or module prefix (`java.base/`).
    let label = label.split_once('/').map_or(label, |(_, rest)| rest);
    let (path, number) = location
        .split_once(':')
        .map_or((location, 0), |(p, n)| (p, atoi(n)));
    Some(frame(path, number, label))
}

/// The line that starts a Python chained cause.
const PYTHON_DURING: &str = "During handling of the above exception, another exception occurred:";

/// Python: lines read bottom-up from the second-to-last (frames come out innermost first); each
/// `During handling ...` line starts a chained cause whose `type: message` sits above it.
fn python<'a>(text: &'a str, out: &mut Parsed<'a>) {
    // As in the reference, split on `\n` only: a `\r` stays in the line.
    let lines: Vec<&'a str> = text.split('\n').collect();
    let Some(mut index) = lines.len().checked_sub(2) else {
        return;
    };
    loop {
        let line = lines.get(index).copied().unwrap_or("");
        if line.starts_with("  File ") {
            if let Some(frame) = python_frame(line) {
                push_frame(out, frame);
            }
        } else if line.starts_with(PYTHON_DURING) {
            let above = lines.get(..index).unwrap_or_default();
            let Some(file) = above.iter().rposition(|l| l.starts_with("  File ")) else {
                return;
            };
            // The message block runs from two lines below that File line to two lines above this
            // one. Differs from the reference, which panics when those bounds cross: stop here.
            let Some(block) = lines.get(file + 2..index.saturating_sub(1)) else {
                return;
            };
            let parts = match block {
                [one] => colon_split(one).map(|(t, m)| (Cow::Borrowed(t), m)),
                _ => {
                    let joined = block.join("\n");
                    colon_split(&joined).map(|(t, m)| (Cow::Owned(t.to_owned()), Cow::Owned(m.into_owned())))
                }
            };
            let Some((cause_type, message)) = parts else {
                return;
            };
            out.push(exception(cause_type, message));
            index = file;
            continue;
        }
        match index.checked_sub(1) {
            Some(previous) => index = previous,
            None => return,
        }
    }
}

/// A Python `  File "path", line N, in label` line: exactly three comma-separated parts.
fn python_frame(line: &str) -> Option<StackFrame<'_>> {
    let mut parts = line.split(',');
    let (Some(file), Some(number), Some(label), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // The path lies between `  File "` (8 bytes) and the last byte. Differs from the reference,
    // which panics when the part is shorter than 9 bytes: the path is then "".
    let path = if file.len() > 8 {
        byte_slice(file, 8, file.len() - 1)
    } else {
        Cow::Borrowed("")
    };
    let number = number.strip_prefix(" line ").map_or(0, atoi);
    let label = label.strip_prefix(" in ").unwrap_or("");
    Some(frame(path, number, label))
}

/// JavaScript (V8): skip the header; `    at label (location)` or `    at location` frames, the
/// location being `path:line:column`. No chaining.
fn javascript<'a>(text: &'a str, out: &mut Parsed<'a>) {
    for line in reader_lines(text).skip(1) {
        let Some(rest) = line.strip_prefix("    at ") else {
            continue;
        };
        // The label keeps the space before `(`, as in the reference.
        let (label, location) = match rest.strip_suffix(')').and_then(|r| r.split_once('(')) {
            Some(parts) => parts,
            None if rest.contains('(') => ("", ""),
            None => ("", rest),
        };
        let (path, number) = match location.split_once(':') {
            Some((path, after)) => after
                .split_once(':')
                .map_or((location, 0), |(n, _)| (path, atoi(n))),
            None if location.contains("native") => ("native", 0),
            None => (location, 0),
        };
        if !(path.is_empty() && label.is_empty() && number == 0) {
            push_frame(out, frame(path, number, label));
        }
    }
}

/// .NET: skip the header; trimmed `at label in path:line N` frames, or `at label(...)` without a
/// location. Inner-exception markers are ignored, so inner frames merge into one exception.
fn dotnet<'a>(text: &'a str, out: &mut Parsed<'a>) {
    for line in reader_lines(text).skip(1) {
        let line = line.trim();
        if !line.starts_with("at ") {
            continue;
        }
        let mut parts = line.split(" in ");
        let head = parts.next().unwrap_or("");
        if let Some(location) = parts.next() {
            // Differs from the reference, which panics on `at in ...` (head `at`): label "".
            let label = head.get(3..).unwrap_or("");
            let (path, number) = match location.rsplit_once(':') {
                // Differs from the reference, which panics when the text is exactly `line`: 0.
                Some((path, n)) if n.starts_with("line") => (path, n.get(5..).map_or(0, atoi)),
                Some((path, n)) => (path, atoi(n)),
                None => (location, 0),
            };
            push_frame(out, frame(path, number, label));
        } else if let Some(end) = line.rfind(')') {
            push_frame(out, frame("", 0, line.get(3..=end).unwrap_or("")));
        }
    }
}

/// Go: skip the header; then a call line (the label, arguments included) and a location line,
/// repeated. `goroutine N [running]:` headers are skipped; `created by X` lines are labels too.
fn go<'a>(text: &'a str, out: &mut Parsed<'a>) {
    let mut lines = reader_lines(text).skip(1);
    let Some(mut line) = lines.next() else { return };
    let (mut path, mut number) = ("", 0);
    loop {
        if is_goroutine_header(line) {
            line = lines.next().unwrap_or("");
        }
        // Without a `path:line` on the next line, both carry over from the previous frame.
        if let Some((p, n)) = go_location(lines.next().unwrap_or("")) {
            (path, number) = (p, n);
        }
        push_frame(out, frame(path, number, line));
        match lines.next() {
            Some(next) => line = next,
            None => return,
        }
    }
}

/// Whether `line` matches the reference's `^goroutine.*\brunning\b.*:$` (ASCII word boundaries).
fn is_goroutine_header(line: &str) -> bool {
    let bytes = line.as_bytes();
    let word = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    line.starts_with("goroutine")
        && line.ends_with(':')
        && line
            .match_indices("running")
            .any(|(i, _)| i >= 9 && !word(i.checked_sub(1)) && !word(Some(i + 7)))
}

/// The first match of the reference's `([^:\s]+):(\d+)` (RE2 `\s` is `[\t\n\f\r ]`).
fn go_location(line: &str) -> Option<(&str, i64)> {
    let mut start = 0;
    for (i, b) in line.bytes().enumerate() {
        if b == b':' && i > start {
            let digits = line.get(i + 1..).unwrap_or("");
            let count = digits.bytes().take_while(u8::is_ascii_digit).count();
            if count > 0 {
                return Some((
                    line.get(start..i).unwrap_or(""),
                    atoi(digits.get(..count).unwrap_or("")),
                ));
            }
        }
        if matches!(b, b':' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
            start = i + 1;
        }
    }
    None
}

/// Rust `std::backtrace::Backtrace` Display text (not in the reference): each `N: label` line is
/// a frame, located by an immediately following `at path:line:column` line. No chaining.
fn rust<'a>(text: &'a str, out: &mut Parsed<'a>) {
    let mut pending: Option<&'a str> = None;
    let mut in_causes = false;
    for line in text.lines().map(str::trim) {
        if let (Some(label), Some(location)) = (pending, line.strip_prefix("at ")) {
            let (path, number) = rust_location(location);
            push_frame(out, frame(path, number, label));
            pending = None;
            continue;
        }
        if let Some(label) = pending.take() {
            push_frame(out, frame("", 0, label));
        }
        if line == "Caused by:" {
            // anyhow's `{:?}` lists its causes as `N: message` lines before the backtrace.
            in_causes = true;
        } else if line.eq_ignore_ascii_case("stack backtrace:") {
            in_causes = false;
        } else if !in_causes {
            pending = rust_frame_label(line);
        }
    }
    if let Some(label) = pending {
        push_frame(out, frame("", 0, label));
    }
}

/// The label of a `N: label` line; the `0x… - ` address that `{:#}` adds is dropped.
fn rust_frame_label(line: &str) -> Option<&str> {
    let (index, label) = line.split_once(':')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(label.is_empty() || label.starts_with(' ')) {
        return None;
    }
    let label = label.trim_start();
    let address = label.strip_prefix("0x").and_then(|rest| rest.split_once(" - "));
    match address {
        Some((hex, name)) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => Some(name),
        _ => Some(label),
    }
}

/// `path:line:column` (or `path:line`) into path and line; anything else is a bare path.
fn rust_location(location: &str) -> (&str, i64) {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match location.rsplit_once(':') {
        Some((head, last)) if numeric(last) => match head.rsplit_once(':') {
            Some((path, line)) if numeric(line) => (path, atoi(line)),
            _ => (head, atoi(last)),
        },
        _ => (location, 0),
    }
}

#[cfg(test)]
mod tests;
