//! An order-taking function behind API Gateway (proxy integration), traced in AWS X-Ray.
//!
//! `POST /orders` with `{"sku": "...", "quantity": n}`: the order is written to PostgreSQL, an
//! `OrderPlaced` event is published to SNS, and stock is reserved through a downstream HTTP
//! service (`INVENTORY_URL`, default `http://inventory.internal/reservations`) called with
//! reqwest and [`XrayMiddleware`], which sends `X-Amzn-Trace-Id` so that service joins the trace.
//! The database and SNS calls are simulated (no AWS SDK needed); with real clients, run their
//! calls inside the same spans. Answers are API Gateway proxy responses: 201, 400 for a bad
//! body, 502 when the inventory service fails or cannot be reached.
//!
//! Build and deploy with [cargo-lambda](https://www.cargo-lambda.info). **Active tracing** must
//! be on for the function (`--tracing active`; its role needs `xray:PutTraceSegments`), else
//! Lambda starts no trace and nothing is sent:
//!
//! ```text
//! cargo lambda build --release --example lambda_orders --features lambda,reqwest
//! cargo lambda deploy --binary-name lambda_orders --tracing active \
//!     --env-var INVENTORY_URL=http://inventory.internal/reservations orders
//! ```
//!
//! In X-Ray, under the function's segment (`AWS::Lambda::Function`, recorded by Lambda itself),
//! each invocation shows a `## handler` subsegment annotated with `ColdStart` and `Service`
//! (and `order_id`), holding three subsegments: `orders@orders-db.internal` (namespace `remote`,
//! a `sql` block with the statement), `SNS` (namespace `aws`, operation `Publish`, region) and
//! `inventory.internal` (namespace `remote`, the `http` block; a 5xx answer marks it as fault).

// clippy.toml keeps environment reads inside the crate's config module; an example reads its
// own settings like any application would.
#![allow(clippy::disallowed_methods)]

use std::time::Duration;

use lambda_runtime::tower::Layer;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use xray_bridge::http::XrayMiddleware;
use xray_bridge::XrayExporter;

const DB_ENDPOINT: &str = "postgresql://orders-db.internal:5432";
const TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:123456789012:order-events";

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
        .exporter(XrayExporter::builder().with_indexed_attributes(["order_id"]))
        .install()?;
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let app = App {
        inventory: ClientBuilder::new(client).with(XrayMiddleware::default()).build(),
        inventory_url: env("INVENTORY_URL", "http://inventory.internal/reservations"),
        region: env("AWS_REGION", "eu-west-1"),
    };
    let handler = xray.lambda_layer().layer(service_fn(|event| handle(&app, event)));
    lambda_runtime::run(handler).await
}

async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let body = event.payload["body"].as_str().unwrap_or_default();
    let Ok(order) = serde_json::from_str::<NewOrder>(body) else {
        return Ok(response(
            400,
            json!({"message": "expected {\"sku\": ..., \"quantity\": ...}"}),
        ));
    };
    let order_id = event.context.request_id;
    // The current span is the layer's `## handler`: its fields are fixed, so the attribute is set
    // on its OpenTelemetry span (an annotation, through `with_indexed_attributes`).
    tracing::Span::current().set_attribute("order_id", order_id.clone());

    let insert = tracing::info_span!(
        "INSERT orders",
        otel.kind = "client",
        db.system = "postgresql",
        db.name = "orders",
        db.statement = "INSERT INTO orders (id, sku, quantity) VALUES ($1, $2, $3)",
        db.connection_string = DB_ENDPOINT,
    );
    tokio::time::sleep(Duration::from_millis(4))
        .instrument(insert)
        .await;

    let publish = tracing::info_span!(
        "SNS.Publish",
        otel.kind = "client",
        rpc.system = "aws-api",
        rpc.service = "SNS",
        rpc.method = "Publish",
        aws.region = app.region.as_str(),
        messaging.destination.name = TOPIC_ARN,
    );
    tokio::time::sleep(Duration::from_millis(2))
        .instrument(publish)
        .await;

    let reservation = json!({"order_id": order_id, "sku": order.sku, "quantity": order.quantity});
    let sent = app
        .inventory
        .post(&app.inventory_url)
        .header("content-type", "application/json")
        .body(reservation.to_string())
        .send()
        .await;
    // The remote subsegment already records the status, or the error as its cause. `install()`
    // sets no log output, so what CloudWatch Logs should show goes to stderr.
    Ok(match sent {
        Ok(answer) if answer.status().is_success() => response(201, json!({"order_id": order_id})),
        Ok(answer) => {
            eprintln!("order {order_id}: inventory answered {}", answer.status());
            response(
                502,
                json!({"message": "stock could not be reserved", "order_id": order_id}),
            )
        }
        Err(error) => {
            eprintln!("order {order_id}: inventory service unreachable: {error}");
            response(
                502,
                json!({"message": "inventory service unavailable", "order_id": order_id}),
            )
        }
    })
}

/// An API Gateway proxy integration response.
fn response(status: u16, body: Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    })
}
