//! # xray-bridge
//!
//! Makes programs instrumented with [`tracing`](https://docs.rs/tracing) or OpenTelemetry show
//! up in AWS X-Ray: spans become X-Ray segment documents, translated field by field the way AWS's
//! own collector does it, and are sent to the X-Ray daemon (or the CloudWatch agent, or a
//! collector) over its UDP protocol.
//!
//! ## Quickstart
//!
//! ```no_run
//! #[tracing::instrument]
//! fn handle_order(id: u64) { /* a subsegment, under the request's segment */ }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Sends to AWS_XRAY_DAEMON_ADDRESS, else 127.0.0.1:2000.
//!     let xray = xray_bridge::builder().with_service_name("orders-api").install()?;
//!     tracing::info_span!("POST /orders", otel.kind = "server").in_scope(|| handle_order(7));
//!     xray.shutdown()?;
//!     Ok(())
//! }
//! ```
//!
//! [`builder()`] → [`XrayBuilder::install`] sets the global `tracing` subscriber, propagator and
//! tracer provider; [`XrayBuilder::build_layer`] gives the layer to add to a subscriber of your
//! own. On EC2, ECS and EKS, the `ec2`, `ecs` and `eks` features describe the host in each
//! segment (`origin`, `aws.ec2`, ...); in AWS Lambda, see the `lambda` module (feature `lambda`).
//!
//! ## The exporter alone
//!
//! ```no_run
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let exporter = xray_bridge::XrayExporter::builder()
//!     .with_indexed_attributes(["tenant"])
//!     .build()?;
//! let provider = SdkTracerProvider::builder()
//!     .with_span_processor(xray_bridge::XraySpanProcessor::builder(exporter).build()?)
//!     .with_id_generator(xray_bridge::XrayIdGenerator::default())
//!     .build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(xray_bridge::tracing_layer(provider.tracer("orders-api")));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _request = tracing::info_span!("GET /orders", otel.kind = "server").entered();
//! });
//! provider.shutdown().ok();
//! # Ok::<(), xray_bridge::BuildError>(())
//! ```
//!
//! ## What ends up where
//!
//! Every `Server` or `Consumer` span, and every span without a parent, is a **segment**; other
//! spans are **subsegments** of their parent. A root span that serves no request (an
//! `info_span!` job or command) is a segment named after the service with the span inside it as
//! a subsegment, so that the service, not each job, is the node on the service map. HTTP, database, AWS SDK and exception attributes fill the
//! `http`, `sql`, `aws` and `cause` blocks; attributes named in
//! [`XrayExporterBuilder::with_indexed_attributes`] become annotations, the rest metadata.
//! The README lists every rule and where this crate deliberately differs from the reference.
//!
//! ## X-Amzn-Trace-Id in and out
//!
//! [`XrayPropagator`] reads and writes the header (tolerantly: spaces, any key order, `Root`
//! without `Parent`, `Sampled=?`), [`XrayParentBasedSampler::new`] gives X-Ray's parent
//! semantics, and the `http` module (features `http`, `tower`, `axum`, `reqwest`) puts a span
//! and the header on every request a server receives or a client sends.
//!
//! ## Never hurting the host
//!
//! No datagram exceeds 64,000 bytes: a larger document is reduced and marked (the README's
//! "Never hurting the host program" lists the steps).
//! Sends never block. Nothing is dropped silently: [`XrayExporter::stats`] (and
//! [`XrayGuard::stats`]) count every span
//! and datagram, and the exporter's own warnings go to the `tracing` target
//! [`INTERNAL_LOG_TARGET`], at most once a minute per kind, and are never exported.
//!
//! Every environment variable, its default and the builder method that overrides it are listed
//! in the README's "Configuration". MSRV: Rust 1.85.
#![deny(missing_docs)]
#![warn(unreachable_pub, missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod config;
mod encode;
mod error;
#[cfg(feature = "layer")]
mod error_events;
mod exception;
mod exporter;
mod id;
#[cfg(feature = "lambda")]
pub mod lambda;
mod segment;
mod stats;
mod translate;

mod embed;
mod emitter;
mod header;
#[cfg(feature = "http")]
pub mod http;
mod outbox;
mod pacer;
mod processor;
mod propagator;
mod redact;
pub mod resource;
mod sampling;
#[cfg(feature = "layer")]
mod setup;

pub use emitter::DaemonAddress;
pub use error::{BuildError, BuildErrorKind};
pub use exporter::{XrayExporter, XrayExporterBuilder};
pub use header::{Sampled, TraceHeader};
pub use id::XrayIdGenerator;
pub use processor::{XraySpanProcessor, XraySpanProcessorBuilder};
pub use propagator::{XrayPropagator, TRACE_HEADER};
pub use redact::QueryStrings;
pub use sampling::XrayParentBasedSampler;
#[cfg(feature = "layer")]
pub use setup::{builder, tracing_layer, XrayBuilder, XrayGuard, XrayLayer};
pub use stats::{ExportStats, StatsHandle, INTERNAL_LOG_TARGET};

/// Every snippet of the README, compiled (and run unless marked `no_run`) by the doctests, so
/// none can rot.
#[cfg(all(doctest, feature = "axum", feature = "reqwest", feature = "lambda"))]
#[doc = include_str!("../README.md")]
struct ReadmeSnippets;
