//! The real `lambda_runtime` against a Lambda Runtime API served by this test on 127.0.0.1:
//! three invocations (sampled, sampled with a handler error, `Sampled=0`), each checked when
//! its response is posted, with the X-Ray documents captured by a UDP socket on loopback. Then
//! the handler service alone, called directly: handler errors and panics as causes.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use lambda_runtime::tower::Layer;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;

/// What the Runtime API saw when an invocation's result arrived.
struct Posted {
    request_id: String,
    outcome: &'static str,
    /// Datagrams on the daemon socket at that moment.
    documents: Vec<Json>,
}

/// Invocations still to hand out: request id, `Lambda-Runtime-Trace-Id`, payload.
type Pending = Arc<Mutex<VecDeque<(String, &'static str, Json)>>>;

#[derive(Clone)]
struct RuntimeApi {
    invocations: Pending,
    daemon: Arc<support::Daemon>,
    posted: mpsc::UnboundedSender<Posted>,
}

async fn next(State(api): State<RuntimeApi>) -> impl IntoResponse {
    let Some((request_id, trace, payload)) = api.invocations.lock().unwrap().pop_front() else {
        return std::future::pending().await;
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "lambda-runtime-aws-request-id",
        HeaderValue::from_str(&request_id).unwrap(),
    );
    headers.insert(
        "lambda-runtime-deadline-ms",
        HeaderValue::from_static("4102444800000"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:eu-west-1:123456789012:function:orders"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static(trace));
    (headers, payload.to_string())
}

async fn result(
    State(api): State<RuntimeApi>,
    Path((request_id, outcome)): Path<(String, String)>,
) -> &'static str {
    let documents = api.daemon.drain().iter().map(|d| support::document(d)).collect();
    let outcome = if outcome == "response" {
        "response"
    } else {
        "error"
    };
    api.posted
        .send(Posted {
            request_id,
            outcome,
            documents,
        })
        .unwrap();
    "{}"
}

/// The function: two child spans, and a failure when asked.
async fn handle(event: LambdaEvent<Json>) -> Result<Json, Error> {
    {
        let _load = tracing::info_span!("load order", order.id = 7).entered();
    }
    {
        let _publish = tracing::info_span!(
            "SNS.Publish",
            otel.kind = "client",
            rpc.system = "aws-api",
            rpc.service = "SNS",
            rpc.method = "Publish"
        )
        .entered();
    }
    if event.payload["fail"] == true {
        return Err("payment declined".into());
    }
    Ok(json!({"ok": true}))
}

const TRACE_1: &str =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=10:1234abcd:3";
const TRACE_2: &str = "Root=1-5759e988-bd862e3fe1be46a994272794;Parent=63995c3f42cd8ad9;Sampled=1";
const TRACE_3: &str = "Root=1-5759e988-bd862e3fe1be46a994272795;Parent=73995c3f42cd8ad0;Sampled=0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_is_sent_before_its_response_is_posted() {
    let daemon = Arc::new(support::Daemon::start());
    let (posted_tx, mut posted) = mpsc::unbounded_channel();
    let api = RuntimeApi {
        invocations: Arc::new(Mutex::new(VecDeque::from([
            ("req-1".to_owned(), TRACE_1, json!({"fail": false})),
            ("req-2".to_owned(), TRACE_2, json!({"fail": true})),
            ("req-3".to_owned(), TRACE_3, json!({"fail": false})),
        ]))),
        daemon: Arc::clone(&daemon),
        posted: posted_tx,
    };
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{outcome}", post(result))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let runtime_api = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // What Lambda sets for a function. `lambda_runtime` reads its configuration only from the
    // environment; the other tests of this binary give every setting they use in code.
    #[allow(clippy::disallowed_methods)]
    for (name, value) in [
        ("AWS_LAMBDA_FUNCTION_NAME", "orders".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string()),
        // A filter that names only the function's own target: the invocation span must pass anyway.
        ("RUST_LOG", "lambda=info".to_owned()),
    ] {
        std::env::set_var(name, value);
    }

    let xray = xray_bridge::builder().install().expect("install in Lambda mode");
    assert_eq!(
        xray.service_name(),
        Some("orders"),
        "the function name by default"
    );
    let handler = xray.lambda_layer().layer(service_fn(handle));
    let runtime = tokio::spawn(lambda_runtime::run(handler));

    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(
            tokio::time::timeout(Duration::from_secs(10), posted.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    runtime.abort();

    // Invocation 1: three subsegments, all on the socket before the response was posted.
    assert_eq!(
        (seen[0].request_id.as_str(), seen[0].outcome),
        ("req-1", "response")
    );
    let documents = &seen[0].documents;
    assert_eq!(documents.len(), 3, "{documents:#?}");
    let handler_doc = documents
        .iter()
        .find(|d| d["name"] == "## handler")
        .expect("handler subsegment");
    assert_eq!(handler_doc["type"], "subsegment");
    assert_eq!(handler_doc["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
    assert_eq!(
        handler_doc["parent_id"], "53995c3f42cd8ad8",
        "under the function's segment"
    );
    assert_eq!(
        handler_doc["annotations"],
        json!({"ColdStart": true, "Service": "orders"})
    );
    assert_eq!(handler_doc["metadata"]["default"]["faas.invocation_id"], "req-1");
    for child in documents.iter().filter(|d| d["name"] != "## handler") {
        assert_eq!(child["type"], "subsegment");
        assert_eq!(child["trace_id"], handler_doc["trace_id"]);
        assert_eq!(child["parent_id"], handler_doc["id"]);
    }
    assert!(
        documents.iter().all(|d| d.get("origin").is_none()),
        "Lambda records the function itself"
    );
    let sns = documents
        .iter()
        .find(|d| d["name"] == "SNS")
        .expect("SNS subsegment");
    assert_eq!(
        (sns["namespace"].as_str(), sns["aws"]["operation"].as_str()),
        (Some("aws"), Some("Publish"))
    );
    assert_eq!(
        sns["aws"]["cloudwatch_logs"],
        json!([{"log_group": "/aws/lambda/orders"}])
    );

    // Invocation 2: not a cold start; the handler error is a fault with its cause.
    assert_eq!((seen[1].request_id.as_str(), seen[1].outcome), ("req-2", "error"));
    let documents = &seen[1].documents;
    assert_eq!(documents.len(), 3, "{documents:#?}");
    let handler_doc = documents.iter().find(|d| d["name"] == "## handler").unwrap();
    assert_eq!(handler_doc["parent_id"], "63995c3f42cd8ad9");
    assert_eq!(handler_doc["annotations"]["ColdStart"], false);
    assert_eq!(handler_doc["fault"], true);
    assert_eq!(
        handler_doc["cause"]["exceptions"][0]["message"],
        "payment declined"
    );
    assert_eq!(
        handler_doc["cause"]["exceptions"][0]["type"], "## handler error",
        "a boxed string names no type: the subsegment does"
    );

    // Invocation 3: Sampled=0, nothing at all.
    assert_eq!(
        (seen[2].request_id.as_str(), seen[2].outcome),
        ("req-3", "response")
    );
    assert!(seen[2].documents.is_empty(), "{:#?}", seen[2].documents);
    assert!(daemon.drain().is_empty());
    assert_eq!(
        xray.stats().datagrams_send_failed + xray.stats().datagrams_refused,
        0
    );
}

/// The pipeline in Lambda mode, sending to `daemon`, for the calling thread.
fn lambda_pipeline(daemon: &support::Daemon) -> (tracing::Dispatch, xray_bridge::XrayGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    let (layer, xray) = xray_bridge::builder()
        .with_service_name("orders")
        .with_lambda_mode(true)
        .with_exporter(xray_bridge::XrayExporter::builder().with_daemon_address(daemon.address().to_string()))
        .build_layer()
        .unwrap();
    (
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
        xray,
    )
}

/// An invocation in trace `…2796` under the function's segment `83995c3f42cd8ad1`.
fn invocation() -> LambdaEvent<Json> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "req-9".to_owned();
    context.xray_trace_id =
        Some("Root=1-5759e988-bd862e3fe1be46a994272796;Parent=83995c3f42cd8ad1;Sampled=1".to_owned());
    LambdaEvent::new(json!({}), context)
}

/// The handler's subsegment, checked for what every failed invocation has: its parent and the
/// fault flag.
fn failed_handler(document: Json) -> Json {
    assert_eq!(document["name"], "## handler");
    assert_eq!(document["trace_id"], "1-5759e988-bd862e3fe1be46a994272796");
    assert_eq!(document["parent_id"], "83995c3f42cd8ad1");
    assert_eq!(
        (&document["fault"], &document["error"], &document["throttle"]),
        (&json!(true), &json!(false), &json!(false))
    );
    document
}

#[derive(Debug)]
struct PaymentDeclined {
    order: u32,
    source: std::io::Error,
}

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment declined for order {}", self.order)
    }
}

impl std::error::Error for PaymentDeclined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn declined() -> PaymentDeclined {
    PaymentDeclined {
        order: 7,
        source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, "bank hung up"),
    }
}

#[test]
fn a_handler_error_is_a_cause_typed_by_the_error() {
    use lambda_runtime::tower::Service;
    let daemon = support::Daemon::start();
    let (dispatch, xray) = lambda_pipeline(&daemon);
    tracing::dispatcher::with_default(&dispatch, || {
        // The error's own type.
        let mut typed = xray
            .lambda_layer()
            .layer(service_fn(|_: LambdaEvent<Json>| async {
                Err::<Json, _>(declined())
            }));
        assert!(futures_executor::block_on(typed.call(invocation())).is_err());
        // `lambda_runtime::Error` (a boxed error, what `?` makes): the type inside, its sources.
        let mut boxed = xray
            .lambda_layer()
            .layer(service_fn(|_: LambdaEvent<Json>| async {
                Err::<Json, Error>(declined().into())
            }));
        assert!(futures_executor::block_on(boxed.call(invocation())).is_err());
    });
    let documents = daemon.documents(2);
    assert_eq!(
        support::exceptions(&failed_handler(documents[0].clone())),
        json!([{"message": "payment declined for order 7", "type": "lambda::PaymentDeclined", "remote": false}])
    );
    assert_eq!(
        support::exceptions(&failed_handler(documents[1].clone())),
        json!([
            {"message": "payment declined for order 7", "type": "PaymentDeclined", "remote": false},
            {"message": "bank hung up", "type": "std::io::Error(ConnectionReset)", "remote": false}
        ])
    );
}

#[test]
fn a_handler_panic_is_a_cause_and_is_resumed() {
    use lambda_runtime::tower::Service;
    let daemon = support::Daemon::start();
    let (dispatch, xray) = lambda_pipeline(&daemon);
    let mut handler = xray
        .lambda_layer()
        .layer(service_fn(|event: LambdaEvent<Json>| async move {
            if event.payload.is_object() {
                panic!("inventory corrupted");
            }
            Ok::<Json, Error>(event.payload)
        }));
    let outcome = tracing::dispatcher::with_default(&dispatch, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures_executor::block_on(handler.call(invocation()))
        }))
    });
    let payload = outcome.expect_err("the panic goes on unwinding");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"inventory corrupted"));
    // Sent before the panic went on: already on the socket.
    let sent: Vec<Json> = daemon.drain().iter().map(|d| support::document(d)).collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(
        support::exceptions(&failed_handler(sent[0].clone())),
        json!([{"message": "inventory corrupted", "type": "panic", "remote": false}])
    );
}
