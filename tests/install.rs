//! `install()` as a program uses it, each case in a process of its own (it sets globals): what
//! reaches a loopback daemon and what the program prints, whatever `RUST_LOG` says, with
//! nothing listening, and when the guard is dropped too early or never explicitly shut down.
//!
//! Each `child_*` test is the program; the test above it runs it (this same binary, with the
//! daemon's address in `AWS_XRAY_DAEMON_ADDRESS`) and checks from outside.

mod support;

use std::net::UdpSocket;
use std::process::{Command, Output};
use std::time::Duration;

/// Runs the ignored test `child` in a new process with `env` (and the marker that lets it run).
fn run(child: &str, env: &[(&str, String)]) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", child, "--ignored", "--nocapture", "--test-threads=1"])
        .env("XRAY_BRIDGE_TEST_CHILD", "1")
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("child runs");
    assert!(
        output.status.success(),
        "{child} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// True in a child started by [`run`]; a plain `cargo test -- --ignored` skips the children.
#[allow(clippy::disallowed_methods)] // the test's own marker, not a setting of the crate
fn in_child() -> bool {
    std::env::var_os("XRAY_BRIDGE_TEST_CHILD").is_some()
}

/// The names of every document received, embedded subsegments included, sorted.
fn names(datagrams: &[Vec<u8>]) -> Vec<String> {
    let documents: Vec<_> = datagrams.iter().map(|d| support::document(d)).collect();
    let mut names: Vec<String> = documents
        .iter()
        .flat_map(support::flatten)
        .map(|document| document["name"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    names
}

/// Twenty INFO request spans, each with a DEBUG child, and a warning.
fn requests() {
    for i in 0..20 {
        let _request = tracing::info_span!("GET /orders", otel.kind = "server", i).entered();
        tracing::debug_span!("cache lookup").in_scope(|| {});
    }
    tracing::warn!("the program's own warning");
}

#[test]
#[ignore = "run by the test above it"]
fn child_installs_and_shuts_down() {
    if !in_child() {
        return;
    }
    let xray = xray_bridge::builder()
        .with_service_name("orders-api")
        .with_log_output(true)
        .install()
        .unwrap();
    requests();
    xray.shutdown().unwrap();
}

#[test]
fn rust_log_decides_the_printed_logs_only() {
    for rust_log in ["warn", "nonsense_level_xyz", "error"] {
        let daemon = support::Daemon::start();
        let output = run(
            "child_installs_and_shuts_down",
            &[
                ("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string()),
                ("RUST_LOG", rust_log.to_owned()),
            ],
        );
        let received = daemon.receive_for(Duration::from_millis(500));
        assert_eq!(
            names(&received),
            vec!["orders-api".to_owned(); 20],
            "every INFO span arrives with RUST_LOG={rust_log}, no DEBUG one"
        );
        let printed = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            printed.contains("the program's own warning"),
            rust_log == "warn",
            "RUST_LOG={rust_log} decides what is printed: {printed}"
        );
    }
}

#[test]
fn the_x_ray_filter_has_its_own_variable() {
    let daemon = support::Daemon::start();
    run(
        "child_installs_and_shuts_down",
        &[
            ("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string()),
            ("XRAY_BRIDGE_FILTER", "debug".to_owned()),
            ("RUST_LOG", "error".to_owned()),
        ],
    );
    let received = names(&daemon.receive_for(Duration::from_millis(500)));
    assert_eq!(
        received.len(),
        40,
        "requests and their DEBUG children: {received:?}"
    );
    assert_eq!(received.iter().filter(|n| *n == "cache lookup").count(), 20);
}

#[test]
fn aws_xray_tracing_name_names_the_segments() {
    let daemon = support::Daemon::start();
    run(
        "child_installs_and_shuts_down",
        &[
            ("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string()),
            ("AWS_XRAY_TRACING_NAME", "orders (prod)".to_owned()),
        ],
    );
    let received = daemon.receive_for(Duration::from_millis(500));
    assert_eq!(
        names(&received),
        vec!["orders prod".to_owned(); 20],
        "named, and sanitised as X-Ray requires"
    );
}

#[test]
#[ignore = "run by the test above it"]
fn child_sends_to_nothing() {
    if !in_child() {
        return;
    }
    let xray = xray_bridge::builder()
        .with_service_name("lonely")
        .install()
        .unwrap();
    requests();
    xray.flush().unwrap();
    let stats = xray.stats();
    assert_eq!(
        (stats.spans_ended, stats.spans_refused, stats.spans_sent),
        (20, 20, 0),
        "{stats:?}"
    );
    xray.shutdown().unwrap();
}

#[test]
fn a_missing_daemon_is_said_on_standard_error() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let output = run(
        "child_sends_to_nothing",
        &[("AWS_XRAY_DAEMON_ADDRESS", address.clone())],
    );
    let said = String::from_utf8_lossy(&output.stderr);
    let warning =
        format!("the X-Ray daemon's address {address} refused a datagram: is the daemon running there?");
    assert_eq!(said.matches(&warning).count(), 1, "said once: {said}");
}

#[test]
#[ignore = "run by the test above it"]
fn child_drops_the_guard_at_once() {
    if !in_child() {
        return;
    }
    let _ = xray_bridge::builder()
        .with_service_name("hasty")
        .install()
        .unwrap();
    requests();
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn let_underscore_install_still_exports_and_says_so() {
    let daemon = support::Daemon::start();
    let output = run(
        "child_drops_the_guard_at_once",
        &[("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string())],
    );
    assert_eq!(daemon.receive(20).len(), 20);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("spans still end after the XrayGuard was dropped"),
        "the mistake is said: {said}"
    );
}

#[test]
#[ignore = "run by the test above it"]
fn child_ends_main_with_the_guard() {
    if !in_child() {
        return;
    }
    let _xray = xray_bridge::builder()
        .with_service_name("tidy")
        .install()
        .unwrap();
    requests();
    // No shutdown: the guard drops at the end of the scope, as at the end of `main`.
}

#[test]
fn the_guard_flushes_when_main_ends() {
    let daemon = support::Daemon::start();
    let output = run(
        "child_ends_main_with_the_guard",
        &[("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string())],
    );
    assert_eq!(daemon.receive(20).len(), 20);
    assert!(
        output.stderr.is_empty(),
        "nothing to warn about: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "run by the test above it"]
fn child_sets_everything_in_code() {
    if !in_child() {
        return;
    }
    let xray = xray_bridge::builder()
        .with_service_name("orders-api")
        .with_xray_filter("debug")
        .with_log_filter("error")
        .with_log_output(true)
        .with_exporter(xray_bridge::XrayExporter::builder().with_segment_name("from-code"))
        .install()
        .unwrap();
    requests();
    xray.shutdown().unwrap();
}

#[test]
fn settings_in_code_beat_the_environment() {
    let daemon = support::Daemon::start();
    let output = run(
        "child_sets_everything_in_code",
        &[
            ("AWS_XRAY_DAEMON_ADDRESS", daemon.address().to_string()),
            ("XRAY_BRIDGE_FILTER", "warn".to_owned()),
            ("AWS_XRAY_TRACING_NAME", "from-env".to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    );
    let received = names(&daemon.receive_for(Duration::from_millis(500)));
    let mut expected = vec!["cache lookup".to_owned(); 20];
    expected.extend(vec!["from-code".to_owned(); 20]);
    assert_eq!(received, expected, "with_xray_filter and with_segment_name won");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        !printed.contains("the program's own warning"),
        "with_log_filter won: {printed}"
    );
}

#[test]
#[ignore = "run by the tests below it"]
fn child_prints_one_line() {
    if !in_child() {
        return;
    }
    let xray = xray_bridge::builder()
        .with_service_name("printed")
        .with_log_output(true)
        .install()
        .unwrap();
    tracing::info!("the program's own line");
    xray.shutdown().unwrap();
}

/// The child's printed log lines (the test harness's own lines left out) and its standard error.
fn printed(env: &[(&str, &str)]) -> (Vec<String>, String) {
    let env: Vec<_> = env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    let output = run("child_prints_one_line", &env);
    let logs = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(" INFO ") || line.contains(" WARN "))
        .map(str::to_owned)
        .collect();
    (logs, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A daemon address where nothing listens; the child sends no span.
const NOBODY: (&str, &str) = ("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:9");

#[test]
fn log_output_prints_the_programs_lines_and_not_opentelemetrys_own() {
    let (logs, stderr) = printed(&[NOBODY]);
    assert_eq!(logs.len(), 1, "no \"Global tracer provider is set\": {logs:?}");
    assert!(
        logs[0].ends_with(" INFO install: the program's own line"),
        "{logs:?}"
    );
    assert_eq!(stderr, "");
    let (logs, _) = printed(&[NOBODY, ("RUST_LOG", "info,opentelemetry=info")]);
    assert!(
        logs.iter()
            .any(|line| line.contains("Global tracer provider is set")),
        "asked for by name: {logs:?}"
    );
}

#[test]
fn log_output_prints_with_the_pipeline_disabled() {
    let (logs, stderr) = printed(&[("AWS_XRAY_SDK_ENABLED", "false")]);
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].ends_with(" INFO install: the program's own line"),
        "{logs:?}"
    );
    assert_eq!(stderr, "");
}

#[test]
fn a_switch_that_is_neither_true_nor_false_is_warned_about() {
    let (logs, stderr) = printed(&[NOBODY, ("AWS_XRAY_SDK_ENABLED", "nonsense")]);
    assert_eq!(
        stderr,
        "xray-bridge warning: AWS_XRAY_SDK_ENABLED=\"nonsense\" is neither \"true\" nor \"false\" and is ignored\n"
    );
    assert_eq!(logs.len(), 1, "still installed: {logs:?}");
}

#[test]
fn an_empty_daemon_address_is_warned_about() {
    let (_, stderr) = printed(&[("AWS_XRAY_DAEMON_ADDRESS", " ")]);
    assert_eq!(
        stderr,
        "xray-bridge warning: AWS_XRAY_DAEMON_ADDRESS is set but empty; sending to the default 127.0.0.1:2000\n"
    );
}
