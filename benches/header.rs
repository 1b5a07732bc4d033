//! `X-Amzn-Trace-Id` cost: parsing and formatting the header alone, and a whole extract and
//! inject through `XrayPropagator` (which adds OpenTelemetry's context and carrier costs).

use std::collections::HashMap;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::Context;
use xray_bridge::{TraceHeader, XrayPropagator};

const TYPICAL: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
const WITH_LINEAGE: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=1; Lineage=a87bd80c:1|68fd508a:5";

fn header(c: &mut Criterion) {
    let mut group = c.benchmark_group("header");
    group.bench_function("parse/typical", |b| {
        b.iter(|| TraceHeader::parse(black_box(TYPICAL)))
    });
    group.bench_function("parse/lineage", |b| {
        b.iter(|| TraceHeader::parse(black_box(WITH_LINEAGE)))
    });
    let parsed = TraceHeader::parse(TYPICAL).expect("valid");
    let mut out = String::with_capacity(128);
    group.bench_function("format/typical", |b| {
        b.iter(|| {
            out.clear();
            black_box(&parsed).write(&mut out);
        })
    });
    group.finish();

    let propagator = XrayPropagator::default();
    let mut group = c.benchmark_group("propagator");
    for (name, value) in [("typical", TYPICAL), ("lineage", WITH_LINEAGE)] {
        let carrier = HashMap::from([("x-amzn-trace-id".to_owned(), value.to_owned())]);
        group.bench_function(format!("extract/{name}"), |b| {
            b.iter(|| propagator.extract(black_box(&carrier)))
        });
        let cx = propagator.extract_with_context(&Context::new(), &carrier);
        let mut out = HashMap::with_capacity(1);
        group.bench_function(format!("inject/{name}"), |b| {
            b.iter(|| propagator.inject_context(black_box(&cx), &mut out))
        });
    }
    group.finish();
}

criterion_group!(benches, header);
criterion_main!(benches);
