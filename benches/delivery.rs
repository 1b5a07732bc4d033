//! Delivery under load: how many spans reach a receiver with the kernel's default socket buffer
//! (what the X-Ray daemon gets: it sets none of its own), and how fast the pipeline drains.
//!
//! `cargo bench --bench delivery` runs every measurement in a process of its own, through
//! `build_layer()` with its defaults (the pipeline `install()` builds, minus the globals):
//!
//! - `loss`: requests with one child span each (two spans, two datagrams) offered steadily at
//!   2,000, 5,000, 20,000 and 50,000 spans/s for 10 s, into a receiver thread that drains a
//!   socket with the default buffer. Prints spans offered, datagrams received, the loss and the
//!   exporter's counters.
//! - `bursts`: 20 bursts of 1,000 spans ended back to back, 100 ms apart, into the same
//!   default-buffer receiver: what the queue and the pacing do with a backlog.
//! - `drain`: one thread ends 400,000 spans as fast as it can into a receiver with an 8 MB buffer;
//!   prints the spans received per second (the drain rate) and the counters. Run twice: with
//!   the default queue (most spans are dropped there, and counted), and with
//!   `OTEL_BSP_MAX_QUEUE_SIZE=400000`, so that the drain rate is the sending thread's alone.
//! - `flood`: four threads end 250,000 spans each as fast as they can (default queue, 8 MB
//!   receiver); prints every counter and checks the accounting identity.
//!
//! `cargo bench --bench delivery -- loss 20000 10` (or `bursts 1000 20`, `drain 400000`,
//! `flood 250000`) runs one measurement.

#[path = "../tests/support/load.rs"]
mod load;

use std::process::Command;
use std::time::{Duration, Instant};

use load::Receiver;

fn loss(spans_per_second: u64, seconds: u64) {
    let mut receiver = Receiver::counting_documents(None);
    let (dispatch, xray) = load::pipeline(receiver.address);
    let offered = load::offer_requests(&dispatch, spans_per_second, seconds);
    xray.flush().ok();
    let received = receiver.finish();
    println!(
        "loss rate={spans_per_second}/s seconds={seconds} offered={offered} received={} datagrams={} kernel_drops={} loss={:.2}% stats={:?}",
        received.documents,
        received.datagrams,
        received.kernel_drops,
        100.0 * (offered.saturating_sub(received.documents)) as f64 / offered as f64,
        xray.stats()
    );
}

fn bursts(size: u64, count: u64) {
    let mut receiver = Receiver::counting_documents(None);
    let (dispatch, xray) = load::pipeline(receiver.address);
    tracing::dispatcher::with_default(&dispatch, || {
        for burst in 0..count {
            for i in 0..size {
                tracing::info_span!("work", otel.kind = "server", request = burst * size + i).in_scope(|| {});
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    xray.flush().ok();
    let received = receiver.finish();
    println!(
        "bursts size={size} count={count} offered={} received={} kernel_drops={} stats={:?}",
        size * count,
        received.documents,
        received.kernel_drops,
        xray.stats()
    );
}

fn drain(spans: u64) {
    let mut receiver = Receiver::counting_documents(Some(4 << 20));
    let (dispatch, xray) = load::pipeline(receiver.address);
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..spans {
            tracing::info_span!("work", otel.kind = "server", request = i).in_scope(|| {});
        }
    });
    let produced = start.elapsed();
    // A large backlog takes longer than a flush waits: wait for the receiver instead.
    xray.flush().ok();
    let received = receiver.finish();
    let elapsed = received.last.duration_since(start).as_secs_f64();
    println!(
        "drain spans={spans} produced_in={:.2}s received={} average_bytes={} drain_rate={:.0}/s stats={:?}",
        produced.as_secs_f64(),
        received.documents,
        receiver.average_bytes(),
        received.documents as f64 / elapsed,
        xray.stats()
    );
}

fn flood(per_thread: u64) {
    let mut receiver = Receiver::counting_documents(Some(4 << 20));
    let (dispatch, xray) = load::pipeline(receiver.address);
    let start = Instant::now();
    load::flood(&dispatch, 4, per_thread);
    let produced = start.elapsed();
    xray.flush().ok();
    let received = receiver.finish();
    let s = xray.stats();
    let lost = load::lost(&s);
    println!(
        "flood threads=4 spans={} produced_in={:.2}s ended={} sent={} dropped_queue_full={} other_losses={} queued={} \
         identity_holds={} received={} kernel_drops={} received_plus_drops_equals_sent={}",
        4 * per_thread,
        produced.as_secs_f64(),
        s.spans_ended,
        s.spans_sent,
        s.spans_dropped_queue_full,
        lost - s.spans_dropped_queue_full,
        s.spans_queued,
        s.spans_ended == s.spans_sent + lost + s.spans_queued,
        received.documents,
        received.kernel_drops,
        received.datagrams + received.kernel_drops == s.datagrams_sent,
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let number = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("loss") => loss(number(1, 20_000), number(2, 10)),
        Some("bursts") => bursts(number(1, 1_000), number(2, 20)),
        Some("drain") => drain(number(1, 400_000)),
        Some("flood") => flood(number(1, 250_000)),
        _ => {
            let me = std::env::current_exe().expect("own path");
            let run = |args: &[&str], queue: Option<&str>| {
                let mut command = Command::new(&me);
                command.args(args);
                if let Some(spans) = queue {
                    command.env("OTEL_BSP_MAX_QUEUE_SIZE", spans);
                }
                assert!(command.status().expect("run").success(), "{args:?} failed");
            };
            for rate in ["2000", "5000", "20000", "50000"] {
                run(&["loss", rate, "10"], None);
            }
            run(&["bursts", "1000", "20"], None);
            run(&["drain", "400000"], None);
            run(&["drain", "400000"], Some("400000"));
            run(&["flood", "250000"], None);
        }
    }
}
