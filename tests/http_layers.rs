//! The HTTP layers end to end on loopback: a reqwest client with `XrayMiddleware` calls an axum
//! server with `XrayServerLayer`; both export through `XrayExporter` to a UDP socket.

mod support;

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{json, Value as Json};
use tracing::Instrument;
use xray_bridge::http::{XrayMiddleware, XrayServerLayer};

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
        .layer(XrayServerLayer::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    address
}

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(XrayMiddleware::default())
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
