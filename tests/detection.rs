//! Host detection never holds up start-up for more than its one-second budget: an ECS task
//! metadata endpoint (on loopback) that accepts connections and never answers.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use tracing_subscriber::Registry;
use xray_bridge::XrayExporter;

#[test]
fn a_metadata_endpoint_that_never_answers_costs_at_most_the_budget() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v4/container", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    // The detector reads its endpoint only from the environment; this binary holds one test.
    #[allow(clippy::disallowed_methods)]
    std::env::set_var("ECS_CONTAINER_METADATA_URI_V4", &endpoint);

    let started = Instant::now();
    let (_layer, xray) = xray_bridge::builder()
        .with_lambda_mode(false)
        .with_exporter(XrayExporter::builder().with_daemon_address("127.0.0.1:2000"))
        .build_layer::<Registry>()
        .expect("builds without the metadata");
    let took = started.elapsed();
    assert!(xray.is_enabled());
    assert!(took < Duration::from_millis(2500), "start-up waited {took:?}");
}
