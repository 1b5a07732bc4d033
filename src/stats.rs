//! What became of every span: counters kept with atomics, read as an [`ExportStats`] snapshot,
//! and the warnings that say so.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `tracing` target of the exporter's own log events. Events under it are never turned into
/// spans by this crate's pipeline; filter it out of any layer that exports.
pub const INTERNAL_LOG_TARGET: &str = "xray_bridge::internal";

/// A snapshot of one pipeline's counters since it was built.
///
/// Every span that ends is accounted for exactly once. Once the pipeline is idle (after
/// [`crate::XrayGuard::flush`], or with nothing queued):
///
/// ```text
/// spans_ended = spans_sent
///             + spans_refused + spans_send_failed
///             + spans_dropped_queue_full + spans_dropped_too_large
///             + spans_dropped_invalid_trace_id + spans_dropped_at_shutdown
/// ```
///
/// and, while spans are on their way, `spans_queued` holds those still waiting in the queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Sampled spans that ended and reached this crate: in [`crate::XraySpanProcessor`], or in
    /// [`crate::XrayExporter`] when another processor feeds it (that processor's own drops are
    /// then invisible here).
    pub spans_ended: u64,
    /// Spans whose every datagram the kernel accepted and no one refused.
    pub spans_sent: u64,
    /// Spans waiting in the processor's queue right now.
    pub spans_queued: u64,
    /// Spans whose datagram the daemon's address refused (nothing listening on the port, host
    /// unreachable), as the network reported it back to the socket.
    pub spans_refused: u64,
    /// Spans whose datagram the socket did not take (buffer full, network down, ...).
    pub spans_send_failed: u64,
    /// Spans dropped because the processor's queue was full (they ended faster than they could
    /// be sent).
    pub spans_dropped_queue_full: u64,
    /// Spans whose document could not be reduced to fit in one datagram.
    pub spans_dropped_too_large: u64,
    /// Spans dropped because their trace id is outside X-Ray's window (validation on).
    pub spans_dropped_invalid_trace_id: u64,
    /// Spans that ended after shutdown, or were still queued when shutdown's time ran out.
    pub spans_dropped_at_shutdown: u64,
    /// Datagrams the kernel accepted and no one refused.
    pub datagrams_sent: u64,
    /// Datagrams the daemon's address refused (reported back by the network).
    pub datagrams_refused: u64,
    /// Datagrams the socket did not take.
    pub datagrams_send_failed: u64,
    /// Documents that were too large and were reduced (and marked) to fit.
    pub documents_reduced: u64,
}

/// A cheap, cloneable handle that reads the counters of one pipeline.
#[derive(Clone, Debug)]
pub struct StatsHandle(pub(crate) Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    pub fn snapshot(&self) -> ExportStats {
        self.0.snapshot()
    }
}

/// What became of a span that did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loss {
    Refused,
    SendFailed,
    QueueFull,
    TooLarge,
    InvalidTraceId,
    AtShutdown,
}

/// Kinds of trouble that are said (at most once a minute each) as well as counted.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Trouble {
    Loss(Loss),
    /// Spans still ending after the guard was dropped.
    GuardDropped,
}

impl Trouble {
    fn index(self) -> usize {
        match self {
            Trouble::Loss(loss) => loss as usize,
            Trouble::GuardDropped => 6,
        }
    }
}

const TROUBLE_KINDS: usize = 7;
const LOG_INTERVAL_SECONDS: u64 = 60;

/// Starts a new cache line in a `#[repr(C)]` struct (a zero-sized field with this alignment):
/// what the application's threads write must not share a line with what the sending thread
/// writes, or every write on one core stalls the other.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct NewLine;

/// The live counters: first those the application's threads write, then the sending thread's.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Counters {
    pub(crate) spans_ended: AtomicU64,
    pub(crate) spans_queued: AtomicU64,
    dropped_queue_full: AtomicU64,
    _sender: NewLine,
    pub(crate) spans_sent: AtomicU64,
    /// Per [`Loss`] except [`Loss::QueueFull`].
    lost: [AtomicU64; 6],
    pub(crate) datagrams_sent: AtomicU64,
    pub(crate) datagrams_refused: AtomicU64,
    pub(crate) datagrams_send_failed: AtomicU64,
    pub(crate) documents_reduced: AtomicU64,
    /// The pipeline's guard was dropped while the pipeline goes on (spans ending now may be
    /// lost at exit).
    pub(crate) unguarded: AtomicBool,
    /// Per [`Trouble`]: epoch seconds + 1 of the last warning, 0 for never.
    last_said: [AtomicU64; TROUBLE_KINDS],
}

impl Counters {
    /// Adds `n` to `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` spans lost for `loss`; the total so far.
    pub(crate) fn lose(&self, loss: Loss, n: u64) -> u64 {
        self.lost(loss).fetch_add(n, Ordering::Relaxed) + n
    }

    fn lost(&self, loss: Loss) -> &AtomicU64 {
        match loss {
            Loss::QueueFull => &self.dropped_queue_full,
            other => &self.lost[other as usize],
        }
    }

    fn snapshot(&self) -> ExportStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let lost = |loss: Loss| read(self.lost(loss));
        ExportStats {
            spans_ended: read(&self.spans_ended),
            spans_sent: read(&self.spans_sent),
            spans_queued: read(&self.spans_queued),
            spans_refused: lost(Loss::Refused),
            spans_send_failed: lost(Loss::SendFailed),
            spans_dropped_queue_full: lost(Loss::QueueFull),
            spans_dropped_too_large: lost(Loss::TooLarge),
            spans_dropped_invalid_trace_id: lost(Loss::InvalidTraceId),
            spans_dropped_at_shutdown: lost(Loss::AtShutdown),
            datagrams_sent: read(&self.datagrams_sent),
            datagrams_refused: read(&self.datagrams_refused),
            datagrams_send_failed: read(&self.datagrams_send_failed),
            documents_reduced: read(&self.documents_reduced),
        }
    }

    /// Says `message` for `trouble` (see [`say`]) unless that kind was said within the last
    /// minute.
    pub(crate) fn warn(&self, trouble: Trouble, message: std::fmt::Arguments<'_>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 1;
        let last = &self.last_said[trouble.index()];
        let previous = last.load(Ordering::Relaxed);
        let due = previous == 0 || now >= previous + LOG_INTERVAL_SECONDS;
        if !due
            || last
                .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let repeat = "further ones are counted in the stats and said at most once a minute";
        say(format_args!("{message} ({repeat})"));
    }
}

/// Says a warning to the user: as a `tracing` warning under [`INTERNAL_LOG_TARGET`] when a
/// subscriber records it, else on standard error, so that it reaches the user either way.
pub(crate) fn say(message: std::fmt::Arguments<'_>) {
    if tracing::enabled!(target: INTERNAL_LOG_TARGET, tracing::Level::WARN) {
        tracing::warn!(target: INTERNAL_LOG_TARGET, "{message}");
    } else {
        eprintln!("xray-bridge warning: {message}");
    }
}
