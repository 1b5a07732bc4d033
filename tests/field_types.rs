//! What type a `tracing` field has when it reaches X-Ray.
//!
//! tracing-opentelemetry 0.34 records unsigned integers through `tracing`'s default
//! (`Visit::record_u64` falls back to `record_debug`), so a `u32` argument of an `#[instrument]`
//! function arrives as the text `"3"`. This pins that behaviour, which the README documents, and
//! the way around it: record the value as a signed integer.

mod support;

use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use xray_bridge::XrayExporter;

#[tracing::instrument]
fn charge(cents: u32, retries: i32) {}

#[tracing::instrument(skip(cents), fields(cents = i64::from(cents)))]
fn charge_as_signed(cents: u32) {}

#[test]
fn an_unsigned_argument_arrives_as_text_unless_recorded_as_signed() {
    let daemon = support::Daemon::start();
    let (layer, xray) = xray_bridge::builder()
        .with_service_name("payments")
        .with_lambda_mode(false)
        .with_exporter(
            XrayExporter::builder()
                .with_daemon_address(daemon.address().to_string())
                .with_indexed_attributes(["cents", "retries"]),
        )
        .build_layer()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        charge(3, 2);
        charge_as_signed(3);
    });
    xray.flush().unwrap();
    let documents = daemon.documents(4);
    let annotations = |name: &str| {
        documents
            .iter()
            .find(|d| d["name"] == name)
            .map(|d| d["annotations"].clone())
            .unwrap_or_else(|| panic!("no {name} in {documents:?}"))
    };
    assert_eq!(annotations("charge"), json!({"cents": "3", "retries": 2}));
    assert_eq!(annotations("charge_as_signed"), json!({"cents": 3}));
}
