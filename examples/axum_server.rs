//! An axum service traced into X-Ray: every request becomes a segment that continues the
//! caller's `X-Amzn-Trace-Id` (or W3C `traceparent`), and the call it makes downstream becomes a
//! subsegment whose header the next service continues.
//!
//! ```sh
//! cargo run --example axum_server --features axum,reqwest     # listens on 127.0.0.1:3000
//! curl -H 'X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' localhost:3000/orders/42
//! ```
//! Documents go to `AWS_XRAY_DAEMON_ADDRESS` (default 127.0.0.1:2000): run the X-Ray daemon or
//! the CloudWatch agent there.

use axum::extract::Path;
use axum::routing::get;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer as _;
use xray_bridge::http::{TraceLayer, TraceMiddleware};
use xray_bridge::{XrayExporter, XrayIdGenerator, XrayParentBasedSampler, XrayPropagator, XraySpanProcessor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    opentelemetry::global::set_text_map_propagator(XrayPropagator::with_trace_context());
    let provider = SdkTracerProvider::builder()
        .with_span_processor(XraySpanProcessor::builder(XrayExporter::builder().build()?).build()?)
        .with_id_generator(XrayIdGenerator::default())
        .with_sampler(XrayParentBasedSampler::new(Sampler::AlwaysOn))
        .with_resource(Resource::builder().with_service_name("orders-api").build())
        .build();
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("orders-api")))
        // RUST_LOG filters the printed logs only, not what reaches X-Ray.
        .with(tracing_subscriber::fmt::layer().with_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        ))
        .init();

    let app = axum::Router::new()
        .route("/orders/{id}", get(order))
        .layer(TraceLayer::server());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    provider.shutdown()?;
    Ok(())
}

/// Looks the order up in a downstream inventory service (a traced HTTP call).
#[tracing::instrument]
async fn order(Path(id): Path<u32>) -> String {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build();
    let stock = match client.get("http://127.0.0.1:3001/stock").send().await {
        Ok(response) => response.status().to_string(),
        Err(error) => format!("inventory unavailable ({error})"),
    };
    format!("order {id}: stock {stock}\n")
}
