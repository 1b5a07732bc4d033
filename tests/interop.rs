//! Interoperability with the real AWS X-Ray SDKs, on loopback, with one UDP socket playing the
//! daemon for everyone: a Node service (npm `aws-xray-sdk-core` 3.12) calls our axum server,
//! which calls a Python service (PyPI `aws-xray-sdk` 2.15) through our reqwest client.
//!
//! The SDKs are installed on first use under the target directory (npm, and a Python venv),
//! so `cargo test` needs nothing installed by hand beyond Node 20 and Python 3.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use xray_bridge::http::{TraceLayer, TraceMiddleware};

const NODE_SDK: &str = "aws-xray-sdk-core@3.12.0";
const PYTHON_SDK: &str = "aws-xray-sdk==2.15.0";

/// Where the SDKs live: installed once, reused by later runs.
fn sdks() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xray-sdks");
        let run = |command: &mut std::process::Command| {
            let status = command
                .status()
                .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
            assert!(status.success(), "{command:?} failed");
        };
        if !dir.join("node/node_modules/aws-xray-sdk-core").exists() {
            std::fs::create_dir_all(dir.join("node")).unwrap();
            run(std::process::Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                ])
                .arg(dir.join("node"))
                .arg(NODE_SDK));
        }
        if !dir.join("venv/installed").exists() {
            run(std::process::Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(dir.join("venv")));
            run(std::process::Command::new(dir.join("venv/bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PYTHON_SDK,
            ]));
            std::fs::write(dir.join("venv/installed"), PYTHON_SDK).unwrap();
        }
        dir
    })
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// The Python service, listening; its stdout lines.
async fn start_python(daemon: SocketAddr) -> (Child, SocketAddr, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(sdks().join("venv/bin/python"))
        .arg(fixture("python_service.py"))
        .env("AWS_XRAY_DAEMON_ADDRESS", daemon.to_string())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the Python service");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let port: u16 = first.strip_prefix("PORT ").expect("PORT line").parse().unwrap();
    (child, SocketAddr::from(([127, 0, 0, 1], port)), lines)
}

/// Runs the Node caller against `url`.
async fn run_node(daemon: SocketAddr, url: &str, sampled: bool) {
    let output = Command::new("node")
        .arg(fixture("node_caller.js"))
        .arg(url)
        .arg(if sampled { "sampled" } else { "unsampled" })
        .env("NODE_PATH", sdks().join("node/node_modules"))
        .env("AWS_XRAY_DAEMON_ADDRESS", daemon.to_string())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "node: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "STATUS 200");
}

/// Our service: `/chain` calls the Python service; spans go to `daemon`.
async fn start_ours(
    daemon: SocketAddr,
    python: SocketAddr,
) -> (SocketAddr, SdkTracerProvider, tracing::subscriber::DefaultGuard) {
    let (provider, guard) = support::tracing_to(daemon, "rust-service");
    let app = axum::Router::new()
        .route(
            "/chain",
            get(|State(python): State<SocketAddr>| async move {
                let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                    .with(TraceMiddleware::default())
                    .build();
                // Secrets planted in the call: none may appear in our documents.
                let url = format!("http://u:PLANTED-userinfo@{python}/work?token=PLANTED-token");
                let response = client.get(url).send().await.unwrap();
                response.text().await.unwrap()
            }),
        )
        .layer(TraceLayer::server())
        .with_state(python);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, provider, guard)
}

fn documents(daemon: &support::Daemon, wait: Duration) -> Vec<Json> {
    daemon
        .receive_for(wait)
        .iter()
        .map(|d| support::document(d))
        .collect()
}

fn named<'a>(documents: &'a [Json], name: &str) -> Vec<&'a Json> {
    documents.iter().filter(|d| d["name"] == name).collect()
}

#[tokio::test]
async fn node_calls_us_and_we_call_python_in_one_trace() {
    sdks();
    let daemon = support::Daemon::start();
    let (_python, python_address, mut python_lines) = start_python(daemon.address()).await;
    let (ours, provider, _guard) = start_ours(daemon.address(), python_address).await;

    run_node(daemon.address(), &format!("http://{ours}/chain"), true).await;
    provider.force_flush().unwrap();
    let header = python_lines.next_line().await.unwrap().unwrap();
    let documents = documents(&daemon, Duration::from_secs(2));

    let node = named(&documents, "node-caller")[0];
    let node_call = &node["subsegments"][0];
    let our_segment = named(&documents, "rust-service")[0];
    let our_call = named(&documents, "127.0.0.1")[0];
    let python = named(&documents, "python-service")[0];
    let trace_id = &node["trace_id"];

    // (a) Node → us: our segment continues Node's trace under the subsegment that made the call.
    assert_eq!(&our_segment["trace_id"], trace_id);
    assert_eq!(
        our_segment["parent_id"], node_call["id"],
        "parent is Node's HTTP subsegment"
    );
    // (b) us → Python: Python's segment continues ours under our client subsegment.
    assert_eq!(our_call["parent_id"], our_segment["id"]);
    assert_eq!(&python["trace_id"], trace_id);
    assert_eq!(
        python["parent_id"], our_call["id"],
        "parent is our client subsegment"
    );
    assert!(header.contains(";Sampled=1"), "{header}");
    assert_eq!(documents.len(), 4, "{documents:?}");
    for ours in [our_segment, our_call] {
        assert!(
            !ours.to_string().contains("PLANTED"),
            "a planted secret in {ours}"
        );
    }
    assert_eq!(
        our_call["http"]["request"]["url"],
        format!("http://{python_address}/work?token=REDACTED")
    );
}

#[tokio::test]
async fn an_unsampled_request_through_both_yields_nothing_from_us() {
    sdks();
    let daemon = support::Daemon::start();
    let (_python, python_address, mut python_lines) = start_python(daemon.address()).await;
    let (ours, provider, _guard) = start_ours(daemon.address(), python_address).await;

    run_node(daemon.address(), &format!("http://{ours}/chain"), false).await;
    provider.force_flush().unwrap();
    let header = python_lines.next_line().await.unwrap().unwrap();
    let documents = documents(&daemon, Duration::from_millis(500));

    assert!(
        header.ends_with(";Sampled=0"),
        "the decision travels on: {header}"
    );
    assert!(named(&documents, "rust-service").is_empty() && named(&documents, "127.0.0.1").is_empty());
    assert!(
        documents.is_empty(),
        "nobody records an unsampled request: {documents:?}"
    );
}
