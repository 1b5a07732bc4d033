//! The pipeline `install()` builds, measured on the application's thread:
//!
//! - `span/*`: one `info_span!` entered and closed, in CPU time of the application's thread
//!   (the sending and receiving threads compete for the same two cores, so wall time would
//!   measure the scheduler): `span/xray_bridge` is the pipeline `build_layer()` builds (lean
//!   tracing-opentelemetry settings, its X-Ray filter, X-Ray ids and sampler,
//!   `XraySpanProcessor`, the real exporter sending to a drained loopback socket), against
//!   tracing-opentelemetry's default layer with the SDK's batch processor and a discarding
//!   exporter, and with this crate's exporter. Target: xray-bridge ≤ 0.8× default.
//!   `span/layer_only/*` compares the two layers alone, each span handed synchronously to a
//!   discarding exporter; `span/xray_bridge_layer/discard` is this crate's layer with the SDK's
//!   batch processor and a discarding exporter.
//! - `lambda/install`: building the whole pipeline in Lambda mode. Target ≤ 1 ms.
//! - `lambda/invocation_10_spans`: a handler span with 10 children in Lambda mode, each sent as
//!   it ends, then the flush. Target ≤ 150 µs.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Registry;
use xray_bridge::XrayExporter;

/// CPU time of the measuring thread.
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = cpu_time::ThreadTime;
    type Value = Duration;

    fn start(&self) -> Self::Intermediate {
        cpu_time::ThreadTime::now()
    }
    fn end(&self, started: Self::Intermediate) -> Self::Value {
        started.elapsed()
    }
    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }
    fn zero(&self) -> Self::Value {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Self::Value) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats CPU nanoseconds as criterion formats wall time.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns (cpu)"),
            t if t < 1e6 => (1e-3, "µs (cpu)"),
            _ => (1e-6, "ms (cpu)"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(&self, _typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let elements = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n as f64,
            _ => 1.0,
        };
        values.iter_mut().for_each(|v| *v = elements * 1e9 / *v);
        "elem/s (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// An exporter that drops everything: the floor for the SDK's own cost.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

/// A loopback socket drained by a thread until the returned flag is set.
fn drained_socket() -> (String, Arc<AtomicBool>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let address = socket.local_addr().expect("address").to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 65_536];
        while !stopped.load(Ordering::Relaxed) {
            let _ = socket.recv(&mut buffer);
        }
    });
    (address, stop)
}

fn exporter_to(address: &str) -> xray_bridge::XrayExporterBuilder {
    XrayExporter::builder().with_daemon_address(address)
}

fn span_cost(c: &mut Criterion<ThreadCpu>) {
    let (address, stop) = drained_socket();
    let mut group = c.benchmark_group("span");

    let (layer, xray) = xray_bridge::builder()
        .with_service_name("bench")
        .with_lambda_mode(false)
        .with_exporter(exporter_to(&address))
        .build_layer()
        .expect("pipeline");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("xray_bridge", |b| {
            b.iter(|| tracing::info_span!("work", order.id = 7).in_scope(|| {}))
        });
    });
    drop(xray);

    // The layers alone: each span handed synchronously to a discarding exporter, no other
    // thread competing for the two cores.
    for (name, lean) in [
        ("layer_only/xray_bridge", true),
        ("layer_only/tracing_opentelemetry_default", false),
    ] {
        let provider = SdkTracerProvider::builder().with_simple_exporter(Discard).build();
        let tracer = provider.tracer("bench");
        let measure = |group: &mut criterion::BenchmarkGroup<_>| {
            group.bench_function(name, |b| {
                b.iter(|| tracing::info_span!("work", order.id = 7).in_scope(|| {}))
            });
        };
        if lean {
            let subscriber = tracing_subscriber::registry().with(xray_bridge::tracing_layer(tracer));
            tracing::subscriber::with_default(subscriber, || measure(&mut group));
        } else {
            let subscriber =
                tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
            tracing::subscriber::with_default(subscriber, || measure(&mut group));
        }
    }

    // The same layer and provider settings as install(), with the discarding exporter.
    let provider = SdkTracerProvider::builder()
        .with_id_generator(xray_bridge::XrayIdGenerator::default())
        .with_sampler(xray_bridge::XrayParentBasedSampler::new(
            opentelemetry_sdk::trace::Sampler::AlwaysOn,
        ))
        .with_batch_exporter(Discard)
        .build();
    let subscriber =
        tracing_subscriber::registry().with(xray_bridge::tracing_layer(provider.tracer("bench")));
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("xray_bridge_layer/discard", |b| {
            b.iter(|| tracing::info_span!("work", order.id = 7).in_scope(|| {}))
        });
    });
    provider.shutdown().ok();

    for (name, provider) in [
        (
            "tracing_opentelemetry_default/discard",
            SdkTracerProvider::builder().with_batch_exporter(Discard).build(),
        ),
        (
            "tracing_opentelemetry_default/xray_exporter",
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter_to(&address).build().expect("exporter"))
                .build(),
        ),
    ] {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function(name, |b| {
                b.iter(|| tracing::info_span!("work", order.id = 7).in_scope(|| {}))
            });
        });
        provider.shutdown().ok();
    }
    group.finish();
    stop.store(true, Ordering::Relaxed);
}

fn lambda(c: &mut Criterion) {
    let (address, stop) = drained_socket();
    let mut group = c.benchmark_group("lambda");
    group.bench_function("install", |b| {
        b.iter_with_large_drop(|| {
            xray_bridge::builder()
                .with_lambda_mode(true)
                .with_exporter(exporter_to(&address))
                .build_layer::<Registry>()
                .expect("pipeline")
        })
    });

    let (layer, xray) = xray_bridge::builder()
        .with_service_name("bench")
        .with_lambda_mode(true)
        .with_exporter(exporter_to(&address))
        .build_layer()
        .expect("pipeline");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        group.bench_function("invocation_10_spans", |b| {
            b.iter(|| {
                tracing::info_span!("## handler").in_scope(|| {
                    for step in 0..10 {
                        tracing::info_span!("step", step).in_scope(|| {});
                    }
                });
                xray.flush().expect("flush");
            })
        });
    });
    group.finish();
    stop.store(true, Ordering::Relaxed);
}

criterion_group! {
    name = spans;
    config = Criterion::default()
        .with_measurement(ThreadCpu)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = span_cost
}
criterion_group! {
    name = lambdas;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = lambda
}
criterion_main!(spans, lambdas);
