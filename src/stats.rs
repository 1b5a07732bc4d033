//! What the exporter did: counters kept with atomics, read as an [`ExportStats`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `tracing` target of the exporter's own log events. Events under it are never turned into
/// spans by this crate's pipeline; filter it out of any layer that exports.
pub const INTERNAL_LOG_TARGET: &str = "xray_bridge::internal";

/// A snapshot of the exporter's counters since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Spans that became at least one document handed to the socket.
    pub spans_exported: u64,
    /// Datagrams the socket accepted. One that a closed daemon port refuses afterwards is
    /// counted here and, once the socket reports it, in `send_errors` too.
    pub documents_sent: u64,
    /// Documents that were too large and were reduced (and marked) to fit.
    pub documents_reduced: u64,
    /// Spans dropped because their trace id is outside X-Ray's window (validation on).
    pub spans_dropped_invalid_trace_id: u64,
    /// Documents that could not be reduced enough to fit in one datagram.
    pub documents_dropped_too_large: u64,
    /// Spans handed to the exporter after it was shut down.
    pub spans_dropped_after_shutdown: u64,
    /// Datagrams lost on the way: refused by the socket (buffer full, network unreachable, ...)
    /// or, as the socket reports later, by a closed daemon port.
    pub send_errors: u64,
}

/// A cheap, cloneable handle that reads the counters of one exporter.
#[derive(Clone, Debug)]
pub struct StatsHandle(pub(crate) Arc<Counters>);

impl StatsHandle {
    /// The counters now.
    pub fn snapshot(&self) -> ExportStats {
        self.0.snapshot()
    }
}

/// Kinds of trouble that are logged (at most once a minute each) as well as counted.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Trouble {
    InvalidTraceId = 0,
    TooLarge = 1,
    SendFailed = 2,
    AfterShutdown = 3,
}

const LOG_INTERVAL_SECONDS: u64 = 60;

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) spans_exported: AtomicU64,
    pub(crate) documents_sent: AtomicU64,
    pub(crate) documents_reduced: AtomicU64,
    pub(crate) spans_dropped_invalid_trace_id: AtomicU64,
    pub(crate) documents_dropped_too_large: AtomicU64,
    pub(crate) spans_dropped_after_shutdown: AtomicU64,
    pub(crate) send_errors: AtomicU64,
    /// Per [`Trouble`]: epoch seconds + 1 of the last log line, 0 for never.
    last_logged: [AtomicU64; 4],
}

impl Counters {
    /// Adds `n` to `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ExportStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ExportStats {
            spans_exported: read(&self.spans_exported),
            documents_sent: read(&self.documents_sent),
            documents_reduced: read(&self.documents_reduced),
            spans_dropped_invalid_trace_id: read(&self.spans_dropped_invalid_trace_id),
            documents_dropped_too_large: read(&self.documents_dropped_too_large),
            spans_dropped_after_shutdown: read(&self.spans_dropped_after_shutdown),
            send_errors: read(&self.send_errors),
        }
    }

    /// Logs `message` for `trouble` unless that kind was logged within the last minute.
    pub(crate) fn log(&self, trouble: Trouble, message: std::fmt::Arguments<'_>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 1;
        let last = &self.last_logged[trouble as usize];
        let previous = last.load(Ordering::Relaxed);
        if (previous == 0 || now >= previous + LOG_INTERVAL_SECONDS)
            && last
                .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(target: INTERNAL_LOG_TARGET, "{message} (further {trouble:?} events are counted, logged at most once a minute)");
        }
    }
}
