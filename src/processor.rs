//! [`XraySpanProcessor`]: hands each ended span to the exporter within about a millisecond,
//! from a bounded queue that never blocks the application, and counts every span it cannot take.
//!
//! The SDK's batch processor waits until 512 spans are queued (or five seconds have passed)
//! and then sends them back to back: more datagrams than the X-Ray daemon's socket buffer holds
//! (the kernel's default, 212,992 bytes, about 166 documents), so a third of them were lost at
//! any rate; and when its queue is full it drops spans without a trace. This processor's thread
//! wakes every millisecond while spans arrive, so a steady 20,000 spans/s leaves as bursts of
//! about 20, and the exporter paces longer backlogs. It sleeps while nothing arrives.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter as _, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config;
use crate::error::BuildError;
use crate::outbox::Pacing;
use crate::stats::{Counters, Loss, NewLine, Trouble};
use crate::XrayExporter;

/// Spans the queue holds by default (the SDK batch processor's default too).
const DEFAULT_QUEUE_SIZE: usize = 2048;
/// The largest queue: its slots (about 360 bytes each) are allocated when it is built.
const MAX_QUEUE_SIZE: usize = 1 << 20;
/// How long the thread waits for more spans before it sends what arrived.
const TICK: Duration = Duration::from_millis(1);
/// Spans handed to the exporter at a time.
const CHUNK: usize = 64;
/// How long a backlog may last before it counts as sustained (see [`Overload`]).
const SUSTAINED: Duration = Duration::from_millis(50);
/// How long the sending thread, at shutdown, waits for spans still on their way into the queue.
const SWEEP_LIMIT: Duration = Duration::from_millis(50);
/// How long [`SpanProcessor::force_flush`] waits at most.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// A span processor for [`XrayExporter`]: a bounded queue and a thread that sends each span
/// within about a millisecond of its end, paced for the daemon's socket buffer.
///
/// ```no_run
/// use opentelemetry_sdk::trace::SdkTracerProvider;
///
/// let exporter = xray_bridge::XrayExporter::builder().build()?;
/// let stats = exporter.stats_handle();
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(xray_bridge::XraySpanProcessor::builder(exporter).build()?)
///     .with_id_generator(xray_bridge::XrayIdGenerator::default())
///     .build();
/// // ... later: every span ended is in one of the counters
/// println!("{:?}", stats.snapshot());
/// # Ok::<(), xray_bridge::BuildError>(())
/// ```
///
/// `on_end` never blocks: when the queue is full the span is dropped and counted
/// (`spans_dropped_queue_full`). Spans that end after shutdown are counted too.
#[derive(Debug)]
pub struct XraySpanProcessor {
    shared: Arc<Shared>,
    delivery: Delivery,
}

#[derive(Debug)]
enum Delivery {
    /// Each span is sent on the thread that ends it (Lambda).
    Immediate,
    /// Spans go through the queue to the sending thread.
    Queued {
        queue: SyncSender<SpanData>,
        thread: Thread,
        worker: Mutex<Option<JoinHandle<()>>>,
        capacity: usize,
    },
}

/// Builds an [`XraySpanProcessor`].
#[derive(Debug)]
#[must_use = "call build()"]
pub struct XraySpanProcessorBuilder {
    exporter: XrayExporter,
    queue_size: Option<usize>,
    immediate: bool,
}

impl XraySpanProcessorBuilder {
    /// The most spans the queue holds (default 2048). Beats `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub fn with_queue_size(mut self, spans: usize) -> Self {
        self.queue_size = Some(spans);
        self
    }

    /// Lambda mode: each span is sent on the thread that ends it, unpaced, so that every
    /// document is on the socket before the invocation returns and Lambda freezes the
    /// environment. Off by default; [`builder()`](crate::builder) turns it on inside Lambda.
    pub fn with_lambda_mode(mut self, immediate: bool) -> Self {
        self.immediate = immediate;
        self
    }

    /// Starts the sending thread.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`](crate::BuildErrorKind::InvalidValue) for a queue size (from code or
    /// `OTEL_BSP_MAX_QUEUE_SIZE`) out of range; [`Thread`](crate::BuildErrorKind::Thread) when
    /// the thread cannot start.
    pub fn build(self) -> Result<XraySpanProcessor, BuildError> {
        let environment = config::var(config::OTEL_BSP_MAX_QUEUE_SIZE);
        self.build_with(environment.as_deref())
    }

    fn build_with(self, environment: Option<&str>) -> Result<XraySpanProcessor, BuildError> {
        let usable = |spans: &usize| (1..=MAX_QUEUE_SIZE).contains(spans);
        let capacity = match (self.queue_size, environment) {
            (Some(spans), _) if usable(&spans) => spans,
            (Some(spans), _) => return Err(invalid("with_queue_size", &spans.to_string())),
            (None, Some(value)) => match value.trim().parse::<usize>() {
                Ok(spans) if usable(&spans) => spans,
                _ => return Err(invalid(config::OTEL_BSP_MAX_QUEUE_SIZE, value)),
            },
            (None, None) => DEFAULT_QUEUE_SIZE,
        };
        let shared = Arc::new(Shared {
            counters: Arc::clone(self.exporter.counters()),
            exporter: Mutex::new(self.exporter),
            _sender: NewLine,
            idle: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            abandon: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            offered: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            waiters: AtomicUsize::new(0),
            progress: Mutex::new(()),
            progressed: Condvar::new(),
        });
        if self.immediate {
            return Ok(XraySpanProcessor {
                shared,
                delivery: Delivery::Immediate,
            });
        }
        let (queue, receiver) = mpsc::sync_channel(capacity);
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("xray-bridge".into())
            .spawn(move || worker_shared.run(receiver))
            .map_err(BuildError::thread)?;
        Ok(XraySpanProcessor {
            shared,
            delivery: Delivery::Queued {
                queue,
                thread: worker.thread().clone(),
                worker: Mutex::new(Some(worker)),
                capacity,
            },
        })
    }
}

/// `timeout` from now; a timeout too long to add is a day.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(24 * 60 * 60))
}

fn invalid(source: &'static str, value: &str) -> BuildError {
    BuildError::invalid_value(
        source,
        value,
        format!("the queue size must be a whole number of spans from 1 to {MAX_QUEUE_SIZE}"),
    )
}

impl XraySpanProcessor {
    /// A builder for a processor around `exporter`.
    pub fn builder(exporter: XrayExporter) -> XraySpanProcessorBuilder {
        XraySpanProcessorBuilder {
            exporter,
            queue_size: None,
            immediate: false,
        }
    }

    /// Wakes the sending thread and waits until every span offered to the queue so far is
    /// accounted for.
    fn drain(&self, deadline: Instant) -> bool {
        let target = self.shared.offered.load(Ordering::SeqCst);
        if let Delivery::Queued { thread, .. } = &self.delivery {
            thread.unpark();
        }
        self.shared.wait_for(target, deadline)
    }
}

/// Pacing spreads a burst so that a receiver with the default socket buffer keeps up. A
/// backlog that lasts longer than [`SUSTAINED`] is no burst: spans end faster than the paced
/// rate, and pacing would only move the loss from the receiver's buffer to the queue. So the
/// thread then sends as fast as it can until the backlog is gone, and a receiver with a larger
/// buffer gets everything the thread can send.
#[derive(Debug, Default)]
struct Overload {
    /// Since when more than a chunk has been waiting.
    backlog_since: Option<Instant>,
}

impl Overload {
    fn pacing(&mut self, counters: &Counters) -> Pacing {
        let waiting = counters.spans_queued.load(Ordering::Relaxed);
        if waiting <= CHUNK as u64 {
            self.backlog_since = None;
            return Pacing::Paced;
        }
        match self.backlog_since {
            Some(since) if since.elapsed() > SUSTAINED => Pacing::Unpaced,
            Some(_) => Pacing::Paced,
            None => {
                self.backlog_since = Some(Instant::now());
                Pacing::Paced
            }
        }
    }
}

/// What the application's threads and the sending thread share: first what the application's
/// threads write or read on every span, then the sending thread's.
#[derive(Debug)]
#[repr(C)]
struct Shared {
    counters: Arc<Counters>,
    /// Shutdown has begun: spans that end now are dropped (and counted).
    stopping: AtomicBool,
    /// The sending thread is parked with nothing queued: the next span must wake it.
    idle: AtomicBool,
    /// Spans offered to the queue since the start (taken or not).
    offered: AtomicU64,
    _sender: NewLine,
    exporter: Mutex<XrayExporter>,
    /// Shutdown's time ran out: the spans still queued are dropped (and counted).
    abandon: AtomicBool,
    /// The sending thread has returned.
    finished: AtomicBool,
    /// Spans offered to the queue and accounted for since the start: taken and sent (or
    /// dropped at shutdown), or refused by a full queue.
    processed: AtomicU64,
    /// Threads waiting in [`Shared::wait_for`].
    waiters: AtomicUsize,
    progress: Mutex<()>,
    progressed: Condvar,
}

impl Shared {
    /// The sending thread: takes what is queued, sends it, and sleeps a tick while spans keep
    /// arriving, or until woken when none do.
    fn run(&self, receiver: Receiver<SpanData>) {
        // Nothing the export path does may itself become telemetry (no feedback loop).
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut overload = Overload::default();
        loop {
            let mut took_any = false;
            loop {
                while chunk.len() < CHUNK {
                    match receiver.try_recv() {
                        Ok(span) => chunk.push(span),
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                if chunk.is_empty() {
                    break;
                }
                took_any = true;
                self.send(&chunk, overload.pacing(&self.counters));
                chunk.clear();
            }
            if self.stopping.load(Ordering::SeqCst) && !took_any {
                break;
            }
            if took_any {
                std::thread::park_timeout(TICK);
            } else {
                self.idle.store(true, Ordering::SeqCst);
                if self.stopping.load(Ordering::SeqCst) {
                    // Back to the top, to end.
                } else if self.counters.spans_queued.load(Ordering::SeqCst) == 0 {
                    std::thread::park();
                } else {
                    // A span is on its way into the queue (its thread may have been
                    // descheduled): wait a tick rather than spin.
                    std::thread::park_timeout(TICK);
                }
                self.idle.store(false, Ordering::SeqCst);
            }
        }
        // A span whose `on_end` passed the shutdown check just before shutdown began may still
        // be on its way into the queue: it was counted as queued first, so sweep until none is.
        let give_up = Instant::now() + SWEEP_LIMIT;
        loop {
            let left = receiver.try_iter().count() as u64;
            if left > 0 {
                self.counters.spans_queued.fetch_sub(left, Ordering::SeqCst);
                self.drop_at_shutdown(left);
                self.accounted(left);
            }
            if self.counters.spans_queued.load(Ordering::SeqCst) == 0 || Instant::now() > give_up {
                break;
            }
            std::thread::yield_now();
        }
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Sends (or, once shutdown's time is up, drops) spans taken from the queue.
    fn send(&self, chunk: &[SpanData], pacing: Pacing) {
        let taken = chunk.len() as u64;
        self.counters.spans_queued.fetch_sub(taken, Ordering::SeqCst);
        if self.abandon.load(Ordering::SeqCst) {
            self.counters.lose(Loss::AtShutdown, taken);
        } else {
            self.exporter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .send_batch(chunk, pacing);
        }
        self.accounted(taken);
    }

    /// Counts `spans` offered to the queue as accounted for, and wakes flushes waiting on them.
    fn accounted(&self, spans: u64) {
        self.processed.fetch_add(spans, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
            self.progressed.notify_all();
        }
    }

    /// Waits until `target` spans have been accounted for, or `deadline`.
    fn wait_for(&self, target: u64, deadline: Instant) -> bool {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        let reached = loop {
            if self.processed.load(Ordering::SeqCst) >= target {
                break true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            progress = self
                .progressed
                .wait_timeout(progress, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        drop(progress);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        reached
    }

    fn drop_at_shutdown(&self, spans: u64) {
        self.counters.lose(Loss::AtShutdown, spans);
        self.counters.warn(
            Trouble::Loss(Loss::AtShutdown),
            format_args!("spans that ended after the X-Ray pipeline's shutdown were dropped"),
        );
    }
}

impl SpanProcessor for XraySpanProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        let shared = &*self.shared;
        Counters::add(&shared.counters.spans_ended, 1);
        let queued = matches!(self.delivery, Delivery::Queued { .. });
        if queued {
            // Counted as queued before the shutdown check, so that shutdown can wait for every
            // span that passed it (and so that the sending thread never counts one out first).
            shared.counters.spans_queued.fetch_add(1, Ordering::SeqCst);
        }
        if shared.stopping.load(Ordering::SeqCst) {
            if queued {
                shared.counters.spans_queued.fetch_sub(1, Ordering::SeqCst);
            }
            shared.drop_at_shutdown(1);
            return;
        }
        if shared.counters.unguarded.load(Ordering::Relaxed) {
            shared.counters.warn(
                Trouble::GuardDropped,
                format_args!(
                    "spans still end after the XrayGuard was dropped: they are exported, but those \
                     ending just before the process exits may be lost; keep the guard until the \
                     end of main (`let xray = ...install()?;`) and call `xray.shutdown()`"
                ),
            );
        }
        let Delivery::Queued {
            queue,
            thread,
            capacity,
            ..
        } = &self.delivery
        else {
            let _suppressed = Context::enter_telemetry_suppressed_scope();
            shared
                .exporter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .send_batch(std::slice::from_ref(&span), Pacing::Unpaced);
            return;
        };
        // Offered before it is in the queue: a flush that follows this span's end waits for it.
        shared.offered.fetch_add(1, Ordering::SeqCst);
        match queue.try_send(span) {
            Ok(()) => {
                // A plain read first: the swap (a write to a line the sending thread also
                // writes) only when that thread is parked.
                if shared.idle.load(Ordering::SeqCst) && shared.idle.swap(false, Ordering::SeqCst) {
                    thread.unpark();
                }
            }
            Err(full_or_gone) => {
                shared.counters.spans_queued.fetch_sub(1, Ordering::SeqCst);
                shared.accounted(1);
                match full_or_gone {
                    TrySendError::Full(_) => {
                        // In a flood every span lands here: look at the clock for the warning
                        // only every 1024th.
                        if shared.counters.lose(Loss::QueueFull, 1) % 1024 == 1 {
                            shared.counters.warn(
                                Trouble::Loss(Loss::QueueFull),
                                format_args!(
                                    "spans were dropped: the export queue ({capacity} spans) is full, \
                                     they end faster than they can be sent"
                                ),
                            );
                        }
                    }
                    TrySendError::Disconnected(_) => shared.drop_at_shutdown(1),
                }
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        if self.shared.stopping.load(Ordering::SeqCst) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        if self.drain(deadline_after(FLUSH_TIMEOUT)) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(FLUSH_TIMEOUT))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let shared = &*self.shared;
        if shared.stopping.swap(true, Ordering::SeqCst) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let deadline = deadline_after(timeout);
        let Delivery::Queued { thread, worker, .. } = &self.delivery else {
            return Ok(());
        };
        let drained = self.drain(deadline);
        if !drained {
            shared.abandon.store(true, Ordering::SeqCst);
        }
        thread.unpark();
        let handle = worker.lock().unwrap_or_else(PoisonError::into_inner).take();
        // Join only a thread that has returned (or is about to): shutdown never waits on a
        // send in progress past its deadline.
        let grace = Instant::now() + Duration::from_millis(100);
        while !shared.finished.load(Ordering::SeqCst) && Instant::now() < deadline.max(grace) {
            thread.unpark();
            std::thread::sleep(Duration::from_millis(1));
        }
        if let (true, Some(handle)) = (shared.finished.load(Ordering::SeqCst), handle) {
            let _ = handle.join();
        }
        if drained {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(timeout))
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.shared
            .exporter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_resource(resource);
    }
}

impl Drop for XraySpanProcessor {
    fn drop(&mut self) {
        if !self.shared.stopping.load(Ordering::SeqCst) {
            let _ = self.shutdown_with_timeout(Duration::from_secs(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> XraySpanProcessorBuilder {
        let exporter = XrayExporter::builder()
            .with_daemon_address("127.0.0.1:2000")
            .build()
            .expect("exporter");
        XraySpanProcessor::builder(exporter)
    }

    fn capacity(processor: &XraySpanProcessor) -> usize {
        match &processor.delivery {
            Delivery::Queued { capacity, .. } => *capacity,
            Delivery::Immediate => 0,
        }
    }

    #[test]
    fn the_queue_size_comes_from_code_then_the_environment_then_the_default() {
        let sized =
            |b: XraySpanProcessorBuilder, env: Option<&str>| capacity(&b.build_with(env).expect("builds"));
        assert_eq!(sized(builder().with_queue_size(10), Some("20")), 10);
        assert_eq!(sized(builder(), Some("20")), 20);
        assert_eq!(sized(builder(), None), DEFAULT_QUEUE_SIZE);
    }

    #[test]
    fn a_bad_queue_size_is_a_build_error_naming_it() {
        let err = builder().build_with(Some("lots")).expect_err("rejected");
        assert_eq!(
            err.to_string(),
            "invalid OTEL_BSP_MAX_QUEUE_SIZE value \"lots\": the queue size must be a whole number of spans from 1 to 1048576"
        );
        let err = builder()
            .with_queue_size(0)
            .build_with(None)
            .expect_err("rejected");
        assert!(
            err.to_string().starts_with("invalid with_queue_size value \"0\""),
            "{err}"
        );
        let huge = usize::MAX.to_string();
        let err = builder()
            .build_with(Some(&huge))
            .expect_err("rejected, not allocated");
        assert!(
            err.to_string().starts_with("invalid OTEL_BSP_MAX_QUEUE_SIZE"),
            "{err}"
        );
    }
}
