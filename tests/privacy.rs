//! What the documents never carry: credentials and secret query values, wherever a span put
//! them, and SQL statements when asked; and names and annotations X-Ray would reject.

mod support;

use opentelemetry::trace::{Event, SpanKind, Status};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{json, Value as Json};
use xray_bridge::{QueryStrings, XrayExporter, XrayExporterBuilder};

/// The documents `spans` become through an exporter built by `builder`, embedded ones flattened.
fn documents(builder: XrayExporterBuilder, spans: Vec<SpanData>) -> Vec<Json> {
    let daemon = support::Daemon::start();
    let exporter = builder
        .with_daemon_address(daemon.address().to_string())
        .build()
        .unwrap();
    let count = spans.len();
    futures_executor::block_on(exporter.export(spans)).unwrap();
    daemon.documents(count)
}

fn client(name: &str, attributes: Vec<KeyValue>) -> SpanData {
    support::test_span(name, SpanKind::Client, true, attributes, Vec::new())
}

fn exception(message: &str) -> Event {
    Event::new(
        "exception",
        std::time::SystemTime::now(),
        vec![
            KeyValue::new("exception.type", "reqwest::Error(connect)"),
            KeyValue::new("exception.message", message.to_owned()),
        ],
        0,
    )
}

#[test]
fn secret_query_values_are_redacted_in_urls_messages_and_metadata() {
    let mut failed = client(
        "GET api.example.com",
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new(
                "url.full",
                "https://u:pw@api.example.com/pay?order=7&token=tok-1&Signature=sig-2",
            ),
            KeyValue::new("url.query", "order=7&api_key=key-3"),
            KeyValue::new(
                "callback",
                "https://hooks.example.com/x?access_token=tok-4 then more",
            ),
        ],
    );
    failed.status = Status::error("error sending request for url (https://api.example.com/pay?token=tok-5)");
    failed.events.events.push(exception(
        "error sending request for url (https://api.example.com/pay?id_token=tok-6)",
    ));
    let server = support::test_span(
        "GET /pay",
        SpanKind::Server,
        false,
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.scheme", "https"),
            KeyValue::new("server.address", "api.example.com"),
            KeyValue::new("url.path", "/pay"),
            KeyValue::new("url.query", "order=7&api_key=key-3"),
        ],
        Vec::new(),
    );
    let documents = documents(XrayExporter::builder(), vec![failed, server]);
    let document = documents.iter().find(|d| d.get("cause").is_some()).unwrap();
    let served = documents.iter().find(|d| d.get("cause").is_none()).unwrap();
    assert_eq!(
        served["http"]["request"]["url"],
        "https://api.example.com/pay?order=7&api_key=REDACTED"
    );
    assert_eq!(
        document["http"]["request"]["url"],
        "https://api.example.com/pay?order=7&token=REDACTED&Signature=REDACTED"
    );
    assert_eq!(
        document["metadata"]["default"]["callback"],
        "https://hooks.example.com/x?access_token=REDACTED then more"
    );
    assert_eq!(
        support::exceptions(document),
        json!([{
            "type": "reqwest::Error(connect)",
            "remote": true,
            "message": "error sending request for url (https://api.example.com/pay?id_token=REDACTED)"
        }])
    );
    let text = Json::Array(documents.clone()).to_string();
    for secret in ["pw@", "tok-1", "sig-2", "key-3", "tok-4", "tok-5", "tok-6"] {
        assert!(!text.contains(secret), "{secret} left the process: {text}");
    }
}

#[test]
fn query_strings_can_be_left_out_or_kept() {
    let span = || {
        client(
            "GET api.example.com",
            vec![KeyValue::new(
                "url.full",
                "https://u:pw@api.example.com/pay?order=7&token=tok-1#top",
            )],
        )
    };
    let url = |queries| {
        documents(XrayExporter::builder().with_query_strings(queries), vec![span()])[0]["http"]["request"]
            ["url"]
            .clone()
    };
    assert_eq!(url(QueryStrings::Omit), "https://api.example.com/pay#top");
    assert_eq!(
        url(QueryStrings::Keep),
        "https://api.example.com/pay?order=7&token=tok-1#top",
        "credentials go whatever queries do"
    );
}

#[test]
fn no_connection_string_form_carries_its_password() {
    let spans = [
        ("mongodb", "mongodb://u:PASS-1@h:27017/db"),
        ("redis", "redis://:PASS-2@cache:6379"),
        ("postgresql", "postgresql://u:PASS/3@db.internal:5432"),
        ("mssql", "Server=db;Database=orders;User Id=u;Password=PASS-4;"),
        ("", "Data Source=h;Pwd=PASS-5"),
    ]
    .into_iter()
    .map(|(system, connection)| {
        let mut attributes = vec![
            KeyValue::new("db.connection_string", connection),
            KeyValue::new("db.name", "orders"),
        ];
        if !system.is_empty() {
            attributes.push(KeyValue::new("db.system", system));
        }
        client(&format!("query {system}"), attributes)
    })
    .collect();
    let documents = documents(
        XrayExporter::builder().with_indexed_attributes(["db.connection_string"]),
        spans,
    );
    let text = Json::Array(documents.clone()).to_string();
    for secret in ["PASS-1", "PASS-2", "PASS/3", "PASS-4", "PASS-5"] {
        assert!(!text.contains(secret), "{secret} left the process: {text}");
    }
    let sql = |system: &str| {
        let document = documents
            .iter()
            .find(|d| d["sql"]["database_type"] == system)
            .unwrap();
        document["sql"]["connection_string"].clone()
    };
    assert_eq!(sql("postgresql"), "postgresql://db.internal:5432/orders");
    let mssql = documents
        .iter()
        .find(|d| d["sql"]["database_type"] == "mssql")
        .unwrap();
    assert_eq!(
        mssql["sql"]["connection_string"], "Server=db;Database=orders;User Id=u;Password=REDACTED;",
        "a key-value string keeps its form, without a `/orders` appended"
    );
    let mongo = documents
        .iter()
        .find(|d| d["annotations"]["db.connection_string"] == "mongodb://h:27017/db");
    assert!(
        mongo.is_some(),
        "not SQL: in annotations, without the password: {text}"
    );
}

#[test]
fn sql_statements_can_be_left_out() {
    let span = || {
        client(
            "orders",
            vec![
                KeyValue::new("db.system", "postgresql"),
                KeyValue::new(
                    "db.statement",
                    "SELECT * FROM cards WHERE pan = '4111111111111111'",
                ),
            ],
        )
    };
    let mongo = || {
        client(
            "orders",
            vec![
                KeyValue::new("db.system", "mongodb"),
                KeyValue::new("db.query.text", "{\"pan\": \"4111111111111111\"}"),
            ],
        )
    };
    let kept = documents(XrayExporter::builder(), vec![span()]);
    assert_eq!(
        kept[0]["sql"]["sanitized_query"], "SELECT * FROM cards WHERE pan = '4111111111111111'",
        "on by default, as in the reference"
    );
    let left_out = documents(
        XrayExporter::builder().with_sql_statements(false),
        vec![span(), mongo()],
    );
    let text = Json::Array(left_out.clone()).to_string();
    assert!(!text.contains("4111111111111111"), "{text}");
    assert_eq!(left_out[0]["sql"]["database_type"], "postgresql");
}

#[test]
fn names_from_any_attribute_are_ones_x_ray_accepts() {
    let long = "p".repeat(300);
    let spans = vec![
        client(
            "call",
            vec![KeyValue::new("peer.service", format!("{long}\"quoted\"\n"))],
        ),
        client("call", vec![KeyValue::new("peer.service", "pay\"ments\u{7}(v2)")]),
        client("call", vec![KeyValue::new("http.host", "host<script>")]),
        client(
            "call",
            vec![
                KeyValue::new("db.name", "orders;drop"),
                KeyValue::new("db.system", "mysql"),
            ],
        ),
        client("call", vec![KeyValue::new("aws.remote.service", "AWS::S3 [eu]")]),
    ];
    let names: Vec<Json> = documents(XrayExporter::builder(), spans)
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("p".repeat(200)),
            json!("paymentsv2"),
            json!("hostscript"),
            json!("ordersdrop"),
            json!("AWS::S3 eu")
        ]
    );
}

#[test]
fn annotations_stay_within_x_rays_limits_and_the_rest_is_metadata() {
    let mut attributes: Vec<KeyValue> = (0..60).map(|i| KeyValue::new(format!("a{i:02}"), i)).collect();
    attributes.push(KeyValue::new("k".repeat(600), "long key"));
    attributes.push(KeyValue::new("text", "v".repeat(1500)));
    let span = client("call", attributes);
    let document = &documents(
        XrayExporter::builder().with_index_all_attributes(true),
        vec![span],
    )[0];
    let annotations = document["annotations"].as_object().unwrap();
    assert_eq!(annotations.len(), 49);
    assert!(annotations.keys().all(|k| k.chars().count() <= 500));
    assert!(annotations
        .values()
        .all(|v| v.as_str().is_none_or(|s| s.chars().count() <= 1000)));
    let metadata = document["metadata"]["default"].as_object().unwrap();
    assert_eq!(annotations.len() + metadata.len(), 62, "nothing lost: {document}");
}

#[test]
fn a_name_keeps_letters_of_unicode_category_l_only() {
    // U+24B6 (a circled letter, a symbol) and U+0345 (a combining mark) are alphabetic in
    // Rust's sense but not letters in X-Ray's.
    let span = client(
        "call",
        vec![KeyValue::new(
            "peer.service",
            "\u{24B6}d\u{f6}main\u{345} \u{65e5}\u{672c}",
        )],
    );
    assert_eq!(
        documents(XrayExporter::builder(), vec![span])[0]["name"],
        "d\u{f6}main \u{65e5}\u{672c}"
    );
}
