//! `AWS_XRAY_DAEMON_ADDRESS` forms: what parses, what it resolves to, and the error otherwise.

use std::net::SocketAddr;

use xray_bridge::{BuildErrorKind, DaemonAddress, XrayExporter};

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn accepts_every_documented_form() {
    let table: &[(&str, &str, &str)] = &[
        ("127.0.0.1:2000", "127.0.0.1:2000", "127.0.0.1:2000"),
        ("  127.0.0.1:3000  ", "127.0.0.1:3000", "127.0.0.1:3000"),
        (
            "tcp:127.0.0.1:2001 udp:127.0.0.1:2002",
            "127.0.0.1:2002",
            "127.0.0.1:2001",
        ),
        (
            "udp:127.0.0.1:2002 tcp:127.0.0.1:2001",
            "127.0.0.1:2002",
            "127.0.0.1:2001",
        ),
        (
            "udp:127.0.0.1:2002\ttcp:127.0.0.1:2001",
            "127.0.0.1:2002",
            "127.0.0.1:2001",
        ),
        ("[::1]:2000", "[::1]:2000", "[::1]:2000"),
        ("tcp:[::1]:2001 udp:[::1]:2002", "[::1]:2002", "[::1]:2001"),
    ];
    for (text, udp, tcp) in table {
        let parsed: DaemonAddress = text.parse().unwrap();
        assert_eq!((parsed.udp(), parsed.tcp()), (addr(udp), addr(tcp)), "{text}");
    }
}

#[test]
fn resolves_host_names_when_parsed() {
    let parsed: DaemonAddress = "localhost:2000".parse().unwrap();
    assert!(parsed.udp().ip().is_loopback(), "{parsed:?}");
    assert_eq!(parsed.udp().port(), 2000);
}

#[test]
fn rejects_bad_values_naming_the_method_and_the_value() {
    let bad = [
        "",
        "2000",
        "127.0.0.1",
        "127.0.0.1:http",
        "127.0.0.1:70000",
        "127.0.0.1:0",
        ":2000",
        "udp:127.0.0.1:2000",
        "tcp:127.0.0.1:2000 tcp:127.0.0.1:2001",
        "udp:127.0.0.1:2000 tcp:127.0.0.1",
        "a:1 b:2 c:3",
        "no-such-host.invalid:2000",
    ];
    for text in bad {
        let err = XrayExporter::builder()
            .with_daemon_address(text)
            .build()
            .unwrap_err();
        let message = err.to_string();
        assert_eq!(err.kind(), BuildErrorKind::InvalidValue, "{text}: {err:?}");
        assert_eq!(err.origin(), Some("with_daemon_address"));
        assert_eq!(err.value(), Some(text));
        assert!(message.contains("with_daemon_address"), "{message}");
        assert!(message.contains(&format!("{text:?}")), "{message}");
    }
}

#[test]
fn a_bad_address_in_code_fails_the_build_naming_the_method() {
    let err = XrayExporter::builder()
        .with_daemon_address("daemon")
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid with_daemon_address value \"daemon\": \"daemon\" has no port (expected host:port)"
    );
}

#[test]
fn a_build_error_returned_from_main_prints_as_its_sentence() {
    // `fn main() -> Result<(), BuildError>` prints `Error: {err:?}`.
    let err = XrayExporter::builder()
        .with_daemon_address("daemon")
        .build()
        .unwrap_err();
    assert_eq!(format!("{err:?}"), err.to_string());
    assert_eq!(
        format!("{err:?}"),
        r#"invalid with_daemon_address value "daemon": "daemon" has no port (expected host:port)"#
    );
}
