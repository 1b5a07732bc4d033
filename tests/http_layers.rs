//! The HTTP layers end to end on loopback: a reqwest client with `TraceMiddleware` calls an axum
//! server with `TraceLayer::server()`; both export through `XrayExporter` to a UDP socket.

mod support;

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{json, Value as Json};
use tracing::Instrument;
use xray_bridge::http::{TraceLayer, TraceMiddleware};

/// A tracing pipeline for this thread, exporting each span as it ends.
struct Pipeline {
    daemon: support::Daemon,
    provider: opentelemetry_sdk::trace::SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Pipeline {
    fn start() -> Self {
        let daemon = support::Daemon::start();
        let (provider, guard) = support::tracing_to(daemon.address(), "orders-api");
        Pipeline {
            daemon,
            provider,
            _guard: guard,
        }
    }

    fn documents(&self, count: usize) -> Vec<Json> {
        self.provider.force_flush().unwrap();
        self.daemon.documents(count)
    }
}

async fn serve() -> SocketAddr {
    let app = axum::Router::new()
        .route("/orders/{id}", get(|| async { "order" }))
        .route("/limited", get(|| async { StatusCode::TOO_MANY_REQUESTS }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/broken", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .layer(TraceLayer::server());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    address
}

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build()
}

fn by_name<'a>(documents: &'a [Json], name: &str) -> &'a Json {
    documents
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {documents:?}"))
}

#[tokio::test]
async fn a_call_links_client_subsegment_and_server_segment() {
    let pipeline = Pipeline::start();
    let server = serve().await;
    let url = format!("http://user:secret@{server}/orders/7?expand=items");
    let response = client()
        .get(&url)
        .header("authorization", "Bearer top-secret")
        .header("cookie", "session=top-secret")
        .header("user-agent", "checkout/1.0")
        .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
        .send()
        .instrument(tracing::info_span!("checkout"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let documents = pipeline.documents(4);
    let text = serde_json::to_string(&documents).unwrap();
    assert!(
        !text.contains("top-secret") && !text.contains("secret@"),
        "no credentials: {text}"
    );

    // The caller's root span is its service's segment, with the span as a subsegment.
    let caller = documents
        .iter()
        .find(|d| d["name"] == "orders-api" && d["http"].is_null())
        .expect("the caller's segment");
    let root = by_name(&documents, "checkout");
    let client = by_name(&documents, "127.0.0.1");
    let server_doc = documents
        .iter()
        .find(|d| d["name"] == "orders-api" && d["http"].is_object())
        .expect("the server's segment");
    let trace_id = &root["trace_id"];
    assert!(documents.iter().all(|d| &d["trace_id"] == trace_id));
    assert_eq!(
        (caller["name"].clone(), caller.get("type")),
        (json!("orders-api"), None)
    );
    assert_eq!(root["parent_id"], caller["id"]);
    assert_eq!(client["parent_id"], root["id"]);
    assert_eq!(
        server_doc["parent_id"], client["id"],
        "the server continues the client's subsegment"
    );
    assert_eq!(client["namespace"], "remote");
    assert_eq!(client["type"], "subsegment");
    assert_eq!(
        client["http"],
        json!({"request": {"method": "GET", "url": format!("http://{server}/orders/7?expand=items")},
               "response": {"status": 200, "content_length": 5}})
    );
    assert_eq!(server_doc.get("type"), None);
    assert_eq!(
        server_doc["http"],
        json!({"request": {"method": "GET", "url": format!("http://{server}/orders/7?expand=items"),
                           "user_agent": "checkout/1.0", "client_ip": "203.0.113.9"},
               "response": {"status": 200, "content_length": 5}})
    );
    assert_eq!(server_doc["metadata"]["default"]["http.route"], "/orders/{id}");
    assert_eq!(
        (server_doc["fault"].clone(), server_doc["error"].clone()),
        (json!(false), json!(false))
    );
}

#[tokio::test]
async fn statuses_become_error_throttle_and_fault() {
    let pipeline = Pipeline::start();
    let server = serve().await;
    for path in ["missing", "limited", "broken"] {
        client()
            .get(format!("http://{server}/{path}"))
            .send()
            .await
            .unwrap();
    }
    let documents = pipeline.documents(9);
    let flags = |status: i64| -> Vec<(Json, Json, Json)> {
        documents
            .iter()
            .filter(|d| d["http"]["response"]["status"] == status)
            .map(|d| (d["error"].clone(), d["throttle"].clone(), d["fault"].clone()))
            .collect()
    };
    assert_eq!(flags(404), vec![(json!(true), json!(false), json!(false)); 2]);
    assert_eq!(flags(429), vec![(json!(true), json!(true), json!(false)); 2]);
    assert_eq!(flags(500), vec![(json!(false), json!(false), json!(true)); 2]);
}

#[tokio::test]
async fn incoming_headers_are_continued_or_start_clean_traces() {
    let pipeline = Pipeline::start();
    let server = serve().await;
    let plain = reqwest::Client::new();
    let cases = [
        ("x-amzn-trace-id", "Root=1-67891233-abcdef012345678912345678"),
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        (
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=1",
        ),
        (
            "x-amzn-trace-id",
            "Root=garbage;Parent=53995c3f42cd8ad8;Sampled=1",
        ),
    ];
    for (header, value) in cases {
        plain
            .get(format!("http://{server}/orders/1"))
            .header(header, value)
            .send()
            .await
            .unwrap();
    }
    let documents = pipeline.documents(4);
    let get = |i: usize, key: &str| documents[i].get(key).cloned();
    assert_eq!(
        get(0, "trace_id"),
        Some(json!("1-67891233-abcdef012345678912345678"))
    );
    assert_eq!(
        get(0, "parent_id"),
        None,
        "Root only: a local root in the caller's trace"
    );
    assert_eq!(
        get(1, "trace_id"),
        Some(json!("1-4bf92f35-77b34da6a3ce929d0e0e4736"))
    );
    assert_eq!(get(1, "parent_id"), Some(json!("00f067aa0ba902b7")));
    assert_eq!(
        get(2, "trace_id"),
        Some(json!("1-5759e988-bd862e3fe1be46a994272793"))
    );
    assert_eq!(get(2, "parent_id"), Some(json!("53995c3f42cd8ad8")));
    assert_ne!(
        get(3, "trace_id"),
        Some(json!("1-5759e988-bd862e3fe1be46a994272793"))
    );
    assert_eq!(
        get(3, "parent_id"),
        None,
        "a malformed header starts a clean trace"
    );
}

#[tokio::test]
async fn unsampled_requests_export_nothing_and_servers_answer_without_tracing() {
    let pipeline = Pipeline::start();
    let server = serve().await;
    let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0";
    let response = reqwest::Client::new()
        .get(format!("http://{server}/orders/1"))
        .header("x-amzn-trace-id", header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    pipeline.provider.force_flush().unwrap();
    assert!(pipeline
        .daemon
        .receive_for(std::time::Duration::from_millis(200))
        .is_empty());
    drop(pipeline);

    // No subscriber at all: the layer still serves.
    let response = reqwest::get(format!("http://{server}/orders/2")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "order");
}

/// What a service fails with: a message and an I/O error as its source.
#[derive(Debug)]
struct UpstreamDown {
    source: std::io::Error,
}

impl std::fmt::Display for UpstreamDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("inventory service unavailable")
    }
}

impl std::error::Error for UpstreamDown {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn upstream_down() -> UpstreamDown {
    UpstreamDown {
        source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
    }
}

/// A tower service that always fails with `error()`.
#[derive(Clone)]
struct Failing<E>(fn() -> E);

impl<E> tower_service::Service<axum::http::Request<String>> for Failing<E> {
    type Response = axum::http::Response<String>;
    type Error = E;
    type Future = std::future::Ready<Result<Self::Response, E>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), E>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: axum::http::Request<String>) -> Self::Future {
        std::future::ready(Err((self.0)()))
    }
}

fn request(uri: &str) -> axum::http::Request<String> {
    axum::http::Request::get(uri).body(String::new()).unwrap()
}

#[tokio::test]
async fn a_failed_call_is_a_cause_typed_by_its_kind_with_its_sources() {
    let pipeline = Pipeline::start();
    // A port nobody listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = client()
        .get(format!("http://user:secret@{closed}/orders/7"))
        .send()
        .instrument(tracing::info_span!("checkout"))
        .await
        .unwrap_err();
    assert!(error.is_connect());
    let documents = pipeline.documents(3);
    let text = serde_json::to_string(&documents).unwrap();
    assert!(!text.contains("secret"), "no credentials: {text}");
    let call = by_name(&documents, "127.0.0.1");
    assert_eq!(
        (&call["fault"], &call["error"], &call["throttle"]),
        (&json!(true), &json!(false), &json!(false)),
        "no response: a fault"
    );
    assert_eq!(
        call["http"],
        json!({"request": {"method": "GET", "url": format!("http://{closed}/orders/7")},
               "response": {"content_length": 0}})
    );
    assert_eq!(
        support::exceptions(call),
        json!([
            {"message": format!("error sending request for url (http://{closed}/orders/7)"),
             "type": "reqwest::Error(connect)", "remote": true},
            {"message": "client error (Connect)", "type": "hyper_util::client::legacy::Error", "remote": true},
            {"message": "tcp connect error", "type": "ConnectError", "remote": true},
            {"message": "Connection refused (os error 111)", "type": "std::io::Error(ConnectionRefused)",
             "remote": true}
        ])
    );
}

#[tokio::test]
async fn a_service_error_is_a_500_with_its_cause() {
    use tower_layer::Layer as _;
    use tower_service::Service as _;
    let pipeline = Pipeline::start();
    let boxed = || -> Box<dyn std::error::Error + Send + Sync> { Box::new(upstream_down()) };
    let mut server = TraceLayer::server().layer(Failing(boxed));
    server
        .call(request("http://shop.example.com/orders/7"))
        .await
        .unwrap_err();
    let documents = pipeline.documents(1);
    let segment = &documents[0];
    assert_eq!(segment["name"], "orders-api");
    assert_eq!(
        segment["http"]["response"],
        json!({"status": 500, "content_length": 0})
    );
    assert_eq!(
        (&segment["fault"], &segment["error"], &segment["throttle"]),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(
        support::exceptions(segment),
        json!([
            {"message": "inventory service unavailable", "type": "UpstreamDown", "remote": false},
            {"message": "refused", "type": "std::io::Error(ConnectionRefused)", "remote": false}
        ]),
        "a boxed error (tower's BoxError): the type its Debug text names, and its sources"
    );
}

#[tokio::test]
async fn a_client_error_is_a_cause_typed_by_the_error() {
    use tower_layer::Layer as _;
    use tower_service::Service as _;
    let pipeline = Pipeline::start();
    let mut client = xray_bridge::http::TraceLayer::client().layer(Failing(upstream_down));
    let checkout = tracing::info_span!("checkout");
    let call = checkout.in_scope(|| client.call(request("http://inventory.internal/stock/7")));
    call.instrument(checkout).await.unwrap_err();
    let documents = pipeline.documents(3);
    let call = by_name(&documents, "inventory.internal");
    assert_eq!(call["parent_id"], by_name(&documents, "checkout")["id"]);
    assert_eq!(
        (&call["fault"], &call["error"], &call["throttle"]),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(
        support::exceptions(call),
        json!([{"message": "inventory service unavailable", "type": "http_layers::UpstreamDown", "remote": true}]),
        "the service's error type"
    );
}
