//! An order-taking function behind API Gateway (proxy integration), traced in AWS X-Ray.
//!
//! `POST /orders` with `{"sku": "...", "quantity": n}`: the order is written to PostgreSQL, an
//! `OrderPlaced` event is published to SNS, and stock is reserved through a downstream HTTP
//! service (`INVENTORY_URL`, default `http://inventory.internal/reservations`) called with
//! reqwest and [`TraceMiddleware`], which sends `X-Amzn-Trace-Id` so that service joins the trace.
//! The database and SNS calls are simulated (no AWS SDK needed); real clients would be called
//! inside the same spans. Answers: 201, 400 (bad body), 502 (inventory failed or unreachable).
//!
//! Build and deploy with [cargo-lambda](https://www.cargo-lambda.info). **Active tracing** must
//! be on for the function (`--tracing active`; its role needs `xray:PutTraceSegments`), else
//! Lambda starts no trace and nothing is sent. (reqwest has no TLS here; for `https://`, enable
//! one of its TLS features, e.g. `rustls`, in your own Cargo.toml.)
//!
//! ```text
//! cargo lambda build --release --example lambda_orders --features lambda,reqwest
//! cargo lambda deploy --binary-name lambda_orders --tracing active \
//!     --env-var INVENTORY_URL=http://inventory.internal/reservations orders
//! ```
//!
//! In X-Ray, under the function's segment (`AWS::Lambda::Function`, recorded by Lambda itself),
//! each invocation shows a `## handler` subsegment annotated with `ColdStart`, `Service` and
//! `order_id`, holding `orders@orders-db.internal` (namespace `remote`, a `sql` block with the
//! statement), `SNS` (namespace `aws`, operation `Publish`, region) and `inventory.internal`
//! (namespace `remote`, an `http` block; a 5xx answer or a failed connection is a fault).

// clippy.toml keeps environment reads inside the crate's config module; an example reads its
// own settings like any application would.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use lambda_runtime::tower::Layer;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::sleep;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use xray_bridge::http::TraceMiddleware;
use xray_bridge::XrayExporter;

#[derive(Deserialize)]
struct NewOrder {
    sku: String,
    quantity: u32,
}

/// What every invocation shares, built once per execution environment.
struct App {
    inventory: ClientWithMiddleware,
    inventory_url: String,
    region: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let xray = xray_bridge::builder()
        .with_exporter(XrayExporter::builder().with_indexed_attributes(["order_id"]))
        .install()?;
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let app = App {
        inventory: ClientBuilder::new(client)
            .with(TraceMiddleware::default())
            .build(),
        inventory_url: env("INVENTORY_URL", "http://inventory.internal/reservations"),
        region: env("AWS_REGION", "eu-west-1"),
    };
    let handler = xray.lambda_layer().layer(service_fn(|event| handle(&app, event)));
    lambda_runtime::run(handler).await
}

async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let body = event.payload["body"].as_str().unwrap_or_default();
    let Ok(order) = serde_json::from_str::<NewOrder>(body) else {
        return Ok(response(400, json!({"message": "expected sku and quantity"})));
    };
    let order_id = event.context.request_id;
    // The current span is the layer's `## handler`, whose fields are fixed: the attribute goes on
    // its OpenTelemetry span (and becomes an annotation through `with_indexed_attributes`).
    tracing::Span::current().set_attribute("order_id", order_id.clone());

    let insert = tracing::info_span!(
        "INSERT orders",
        otel.kind = "client",
        db.system = "postgresql",
        db.name = "orders",
        db.statement = "INSERT INTO orders (id, sku, quantity) VALUES ($1, $2, $3)",
        db.connection_string = "postgresql://orders-db.internal:5432", // recorded as is: no password
    );
    sleep(Duration::from_millis(4)).instrument(insert).await;

    let publish = tracing::info_span!(
        "SNS.Publish",
        otel.kind = "client",
        rpc.system = "aws-api",
        rpc.service = "SNS",
        rpc.method = "Publish",
        aws.region = app.region.as_str(),
    );
    sleep(Duration::from_millis(2)).instrument(publish).await;

    let reservation = json!({"order_id": order_id, "sku": order.sku, "quantity": order.quantity});
    let request = app
        .inventory
        .post(&app.inventory_url)
        .body(reservation.to_string());
    let failure = match request.header("content-type", "application/json").send().await {
        Ok(answer) if answer.status().is_success() => None,
        Ok(answer) => Some(format!("inventory answered {}", answer.status())),
        Err(error) => Some(format!("inventory unreachable: {error}")),
    };
    // The inventory subsegment already records the status, or the error as its cause; the
    // details go to CloudWatch Logs through stderr (`install()` sets up no log output).
    if let Some(reason) = &failure {
        eprintln!("order {order_id}: {reason}");
        return Ok(response(502, json!({"message": "stock could not be reserved"})));
    }
    Ok(response(201, json!({"order_id": order_id})))
}

/// An API Gateway proxy integration response.
fn response(status: u16, body: Value) -> Value {
    let headers = json!({"content-type": "application/json"});
    json!({"statusCode": status, "headers": headers, "body": body.to_string()})
}
