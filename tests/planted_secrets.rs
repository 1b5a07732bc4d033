//! Secrets planted in every input a span can take — request headers, URL userinfo, query
//! strings, connection strings, span fields, error and exception messages — in the scenarios the
//! suite runs (the HTTP layers, a Lambda invocation, every golden vector), and every datagram
//! received scanned for them: none may appear.

mod support;

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::routing::get;
use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{service_fn, LambdaEvent};
use opentelemetry::trace::Event;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::SpanExporter;
use serde_json::{json, Value as Json};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::http::{TraceLayer, TraceMiddleware};
use xray_bridge::XrayExporter;

/// Every planted secret carries this, so that one search finds them all.
const MARK: &str = "PLANTED";

/// A secret that names where it was planted.
fn secret(place: &str) -> String {
    format!("{MARK}-{place}")
}

/// Fails, naming the place, if any datagram holds a planted secret; returns how many were read.
fn scan(datagrams: &[Vec<u8>]) -> usize {
    for datagram in datagrams {
        let text = String::from_utf8_lossy(datagram);
        if let Some(at) = text.find(MARK) {
            let end = text[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '-'))
                .map_or(text.len(), |i| at + i);
            panic!("{} left the process in {text}", &text[at..end]);
        }
    }
    datagrams.len()
}

/// An upstream whose handler logs an error that quotes a URL with a token, and records a
/// database call whose connection string holds a password and a span field named `password`.
async fn serve() -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/orders/{id}",
            get(|| async {
                let query = tracing::info_span!(
                    "SELECT orders",
                    otel.kind = "client",
                    db.system = "postgresql",
                    db.name = "orders",
                    db.connection_string = %format!("postgresql://app:{}@db.internal:5432", secret("dbpassword")),
                    password = %secret("spanfield"),
                    user.api_key = %secret("apikeyfield"),
                );
                query.in_scope(|| {
                    tracing::error!(
                        error = %format!("callback https://hooks.example.com/x?access_token={} failed", secret("logged")),
                        "callback failed"
                    );
                });
                "order"
            }),
        )
        .layer(TraceLayer::server());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    address
}

#[tokio::test]
async fn no_planted_secret_leaves_through_the_http_layers() {
    let daemon = support::Daemon::start();
    let (provider, _guard) = support::tracing_to(daemon.address(), "orders-api");
    let server = serve().await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build();
    let url = format!(
        "http://user:{}@{server}/orders/7?expand=items&token={}&Signature={}",
        secret("userinfo"),
        secret("token"),
        secret("signature")
    );
    let response = client
        .get(&url)
        .header("authorization", format!("Bearer {}", secret("authorization")))
        .header("cookie", format!("session={}", secret("cookie")))
        .header("x-api-key", secret("xapikey"))
        .send()
        .instrument(tracing::info_span!("checkout"))
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "order");
    // A call that fails: reqwest's error message quotes the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let failed = client
        .get(format!(
            "http://u:{}@{closed}/pay?api_key={}",
            secret("failuserinfo"),
            secret("failkey")
        ))
        .send()
        .instrument(tracing::info_span!("pay"))
        .await;
    assert!(failed.is_err());
    provider.force_flush().unwrap();
    let datagrams = daemon.receive_for(Duration::from_millis(300));
    let documents: Vec<Json> = datagrams.iter().map(|d| support::document(d)).collect();
    let names: Vec<&str> = documents
        .iter()
        .flat_map(support::flatten)
        .filter_map(|d| d["name"].as_str())
        .collect();
    for name in ["orders-api", "orders@db.internal", "checkout", "pay"] {
        assert!(
            names.iter().any(|n| n.contains(name)),
            "{name} arrived: {names:?}"
        );
    }
    assert!(scan(&datagrams) >= 3);
}

#[test]
fn no_planted_secret_leaves_a_lambda_invocation() {
    let daemon = support::Daemon::start();
    let (layer, xray) = xray_bridge::builder()
        .with_service_name("orders")
        .with_lambda_mode(true)
        .with_exporter(XrayExporter::builder().with_daemon_address(daemon.address().to_string()))
        .build_layer()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        let mut handler = xray.lambda_layer().layer(service_fn(|_: LambdaEvent<Json>| async {
            tracing::info_span!("fetch", url.full = %format!("https://u:{}@api.example.com/x?id_token={}", secret("lambdauser"), secret("lambdatoken")))
                .in_scope(|| {});
            Err::<Json, lambda_runtime::Error>(
                format!("upstream https://api.example.com/x?token={} refused", secret("lambdaerror")).into(),
            )
        }));
        let mut context = lambda_runtime::Context::default();
        context.xray_trace_id =
            Some("Root=1-5759e988-bd862e3fe1be46a994272796;Parent=83995c3f42cd8ad1;Sampled=1".to_owned());
        let event = LambdaEvent::new(json!({"password": secret("payload")}), context);
        assert!(futures_executor::block_on(handler.call(event)).is_err());
    });
    let datagrams = daemon.receive(2);
    assert_eq!(scan(&datagrams), 2);
}

/// Secrets added to a golden vector's span: in its URLs, a connection string, captured headers,
/// a field named for a secret, and an exception message quoting a URL.
fn plant(span: &mut opentelemetry_sdk::trace::SpanData, name: &str) {
    for attribute in &mut span.attributes {
        if let Value::String(text) = &attribute.value {
            let text = text.as_str();
            if text.contains("://") {
                let planted = text.replacen("://", &format!("://u:{}@", secret(name)), 1);
                let separator = if planted.contains('?') { '&' } else { '?' };
                attribute.value = Value::from(format!("{planted}{separator}sig={}", secret(name)));
            }
        }
    }
    span.attributes.extend([
        KeyValue::new(
            "db.connection_string",
            format!("Server=h;User Id=u;Password={};", secret(name)),
        ),
        KeyValue::new(
            "http.request.header.authorization",
            Value::Array(Array::String(vec![StringValue::from(format!(
                "Bearer {}",
                secret(name)
            ))])),
        ),
        KeyValue::new("client_secret", secret(name)),
    ]);
    span.events.events.push(Event::new(
        "exception",
        std::time::SystemTime::now(),
        vec![
            KeyValue::new("exception.type", "IoError"),
            KeyValue::new(
                "exception.message",
                format!(
                    "GET https://api.example.com/x?X-Amz-Credential={} failed",
                    secret(name)
                ),
            ),
        ],
        0,
    ));
}

#[test]
fn no_planted_secret_leaves_through_the_golden_scenarios() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden");
    let mut files: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut scanned = 0;
    for file in &files {
        let vector: Json = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        let daemon = support::Daemon::start();
        let mut exporter = XrayExporter::builder()
            .with_daemon_address(daemon.address().to_string())
            .with_index_all_attributes(true)
            .build()
            .unwrap();
        exporter.set_resource(&support::resource(&vector["resource"]));
        let mut span = support::span(&vector["span"]);
        let name: String = file
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        plant(&mut span, &name);
        futures_executor::block_on(exporter.export(vec![span])).unwrap();
        scanned += scan(&daemon.receive_for(Duration::from_millis(100)));
    }
    assert!(
        scanned >= files.len(),
        "{scanned} datagrams from {} vectors",
        files.len()
    );
}
