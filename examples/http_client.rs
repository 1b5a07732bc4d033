//! A traced HTTP client: one segment for the job, one subsegment per call, and the
//! `X-Amzn-Trace-Id` header sent with each call so the server continues the trace.
//!
//! ```sh
//! cargo run --example axum_server --features axum,reqwest &     # or any server
//! cargo run --example http_client --features reqwest -- http://127.0.0.1:3000/orders/42
//! ```
//! Documents go to `AWS_XRAY_DAEMON_ADDRESS` (default 127.0.0.1:2000).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use xray_bridge::http::TraceMiddleware;
use xray_bridge::{XrayExporter, XrayIdGenerator, XrayPropagator, XraySpanProcessor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:3000/orders/42".into());
    opentelemetry::global::set_text_map_propagator(XrayPropagator::default());
    let exporter = XrayExporter::builder().build()?;
    let stats = exporter.stats_handle();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(XraySpanProcessor::builder(exporter).build()?)
        .with_id_generator(XrayIdGenerator::default())
        .with_resource(Resource::builder().with_service_name("order-poller").build())
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("order-poller")))
        .init();

    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build();
    let job = tracing::info_span!("poll orders");
    let outcome: Result<String, reqwest_middleware::Error> =
        async { Ok(client.get(&url).send().await?.text().await?) }
            .instrument(job)
            .await;
    match outcome {
        Ok(body) => println!("{url} answered: {}", body.trim()),
        Err(error) => println!("{url} failed: {error}"),
    }
    provider.shutdown()?;
    println!("{:?}", stats.snapshot());
    Ok(())
}
