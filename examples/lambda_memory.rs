//! What tracing costs a Lambda function in memory: the peak resident set (VmHWM, from
//! `/proc/self/status`; Linux only) of 1,000 invocations of 10 spans each (the handler's
//! subsegment and 9 spans inside it), through `xray.lambda_layer()` around a `lambda_runtime`
//! handler service called directly with `LambdaEvent`s, sending to a loopback UDP socket a
//! thread drains; less the same program with the same handler and no tracing installed.
//!
//! ```text
//! cargo run --release --example lambda_memory --features lambda
//! ```
//!
//! Each variant runs in a process of its own (this program started again with `traced` or
//! `plain`), so that neither inherits the other's peak.

use std::net::UdpSocket;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{service_fn, Context, Error, LambdaEvent};
use serde_json::{json, Value};

const INVOCATIONS: u64 = 1_000;
const SPANS_INSIDE: u64 = 9;

/// Peak resident set so far, in kB.
fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The function: nine spans, one after the other, inside the invocation.
async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    for step in 0..SPANS_INSIDE {
        let span = tracing::info_span!("step", step, order = 7, table = "orders");
        let _entered = span.enter();
        tracing::info!(step, "working");
    }
    Ok(json!({ "request": event.context.request_id }))
}

fn invocation(index: u64) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = format!("req-{index}");
    context.xray_trace_id = Some(format!(
        "Root=1-5759e988-{index:024x};Parent=83995c3f42cd8ad1;Sampled=1"
    ));
    LambdaEvent::new(json!({ "order": index }), context)
}

/// Runs the invocations, traced or not; prints `VmHWM <kB> datagrams <n>`.
fn run(traced: bool) -> Result<(), Error> {
    let daemon = UdpSocket::bind("127.0.0.1:0")?;
    let address = daemon.local_addr()?;
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 65_536];
        while daemon.recv(&mut buffer).is_ok() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let expected = if traced {
        let xray = xray_bridge::builder()
            .with_service_name("orders")
            .with_lambda_mode(true)
            .with_exporter(xray_bridge::XrayExporter::builder().with_daemon_address(address.to_string()))
            .install()?;
        let mut handler = xray.lambda_layer().layer(service_fn(handle));
        for index in 0..INVOCATIONS {
            futures_executor::block_on(handler.call(invocation(index)))?;
        }
        let stats = xray.stats();
        stats.spans_sent
    } else {
        let mut handler = service_fn(handle);
        for index in 0..INVOCATIONS {
            futures_executor::block_on(handler.call(invocation(index)))?;
        }
        0
    };
    // Every datagram was sent before its invocation returned; let the drain catch up.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = u64::MAX;
    while traced && seen != received.load(Ordering::Relaxed) && Instant::now() < deadline {
        seen = received.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "VmHWM {} spans_sent {expected} datagrams {}",
        vm_hwm_kb(),
        received.load(Ordering::Relaxed)
    );
    Ok(())
}

/// The peak of this program started again with `variant`.
fn peak(variant: &str) -> Result<(u64, String), Error> {
    let output = Command::new(std::env::current_exe()?).arg(variant).output()?;
    let text = String::from_utf8(output.stdout)?;
    let line = text
        .lines()
        .find(|l| l.starts_with("VmHWM "))
        .ok_or_else(|| format!("{variant}: no figure in {text:?}"))?
        .to_owned();
    let kb = line.split_whitespace().nth(1).unwrap_or("0").parse()?;
    Ok((kb, line))
}

fn main() -> Result<(), Error> {
    match std::env::args().nth(1).as_deref() {
        Some("traced") => return run(true),
        Some("plain") => return run(false),
        _ => {}
    }
    let (plain, plain_line) = peak("plain")?;
    let (traced, traced_line) = peak("traced")?;
    println!("plain:  {plain_line}");
    println!("traced: {traced_line}");
    println!(
        "tracing adds {} kB of peak resident set ({INVOCATIONS} invocations x {} spans)",
        traced.saturating_sub(plain),
        SPANS_INSIDE + 1
    );
    Ok(())
}
